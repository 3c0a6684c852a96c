//! Telegram's HTML parse mode: a tokenizer that accepts what Telegram accepts,
//! the visible length Telegram measures its 4096 limit on, and a splitter that
//! cuts long messages at line breaks without breaking a tag or an entity.
//!
//! The same parser backs the fake Bot API, so a message the splitter produces
//! is checked by the rules the sender will meet.

/// Tags Telegram's HTML mode understands.
const KNOWN_TAGS: [&str; 16] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
];

/// One piece of HTML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// `<b>`, `<a href="…">`: the tag name and the whole tag as written.
    Open {
        /// Lower-case tag name.
        name: String,
        /// The tag as written.
        raw: &'a str,
    },
    /// `</b>`.
    Close {
        /// Lower-case tag name.
        name: String,
        /// The tag as written.
        raw: &'a str,
    },
    /// One visible character, written as itself or as an entity (`&lt;`).
    Char {
        /// The character it shows.
        ch: char,
        /// How it is written.
        raw: &'a str,
    },
}

impl Token<'_> {
    fn raw(&self) -> &str {
        match self {
            Token::Open { raw, .. } | Token::Close { raw, .. } | Token::Char { raw, .. } => raw,
        }
    }
}

/// Why Telegram would refuse a text ("can't parse entities").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("can't parse entities: {0}")]
pub struct HtmlError(pub String);

/// Splits HTML into tags and visible characters, checking what Telegram
/// checks: every `<` starts a known, well-formed tag and tags nest properly.
pub fn tokenize(s: &str) -> Result<Vec<Token<'_>>, HtmlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < s.len() {
        let rest = &s[i..];
        if bytes[i] == b'<' {
            let Some(end) = rest.find('>') else {
                return Err(HtmlError(format!("Unclosed start tag at byte offset {i}")));
            };
            let raw = &rest[..=end];
            let inner = &raw[1..raw.len() - 1];
            let (closing, body) = match inner.strip_prefix('/') {
                Some(b) => (true, b),
                None => (false, inner),
            };
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
                .to_ascii_lowercase();
            if name.is_empty() || !KNOWN_TAGS.contains(&name.as_str()) {
                let what = if closing { "end" } else { "start" };
                return Err(HtmlError(format!(
                    "Unsupported {what} tag \"{name}\" at byte offset {i}"
                )));
            }
            if closing {
                match stack.pop() {
                    Some(open) if open == name => {}
                    Some(open) => {
                        return Err(HtmlError(format!(
                            "Unmatched end tag at byte offset {i}, expected \"</{open}>\", found \"</{name}>\""
                        )))
                    }
                    None => {
                        return Err(HtmlError(format!(
                            "Unexpected end tag at byte offset {i}"
                        )))
                    }
                }
                out.push(Token::Close { name, raw });
            } else {
                stack.push(name.clone());
                out.push(Token::Open { name, raw });
            }
            i += raw.len();
        } else if bytes[i] == b'&' {
            if let Some((ch, len)) = entity(rest) {
                out.push(Token::Char {
                    ch,
                    raw: &rest[..len],
                });
                i += len;
            } else {
                // Telegram shows an `&` that starts no known entity as itself.
                out.push(Token::Char { ch: '&', raw: "&" });
                i += 1;
            }
        } else {
            let ch = rest.chars().next().unwrap_or('\0');
            let len = ch.len_utf8();
            out.push(Token::Char {
                ch,
                raw: &rest[..len],
            });
            i += len;
        }
    }
    if let Some(open) = stack.pop() {
        return Err(HtmlError(format!(
            "Can't find end tag corresponding to start tag \"{open}\""
        )));
    }
    Ok(out)
}

/// A supported entity at the start of `s`: the character and its length.
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.find(';')?;
    if end > 12 {
        return None;
    }
    let name = &s[1..end];
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((ch, end + 1))
}

/// How long Telegram considers a text after parsing entities, in UTF-16
/// code units (what Telegram counts; never less than the character count).
pub fn visible_len(tokens: &[Token<'_>]) -> usize {
    tokens
        .iter()
        .map(|t| match t {
            Token::Char { ch, .. } => ch.len_utf16(),
            _ => 0,
        })
        .sum()
}

/// The text a reader sees, with tags removed and entities decoded.
pub fn visible_text(tokens: &[Token<'_>]) -> String {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Char { ch, .. } => Some(*ch),
            _ => None,
        })
        .collect()
}

/// Splits HTML into parts whose visible length is at most `max` UTF-16
/// units. Cuts prefer a line break, then a space, and never fall inside a
/// tag or an entity; tags open at a cut are closed at the end of one part
/// and reopened at the start of the next, so every part is well-formed.
/// Malformed input is cut as plain characters (Telegram will refuse it
/// either way, but nothing is silently dropped).
pub fn split(html: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let tokens = match tokenize(html) {
        Ok(t) => t,
        Err(_) => html
            .char_indices()
            .map(|(i, ch)| Token::Char {
                ch,
                raw: &html[i..i + ch.len_utf8()],
            })
            .collect(),
    };
    if visible_len(&tokens) <= max {
        return vec![html.to_owned()];
    }
    let mut parts = Vec::new();
    // Tags open at the start of the current part (reopened in front of it).
    let mut open_at_start: Vec<(String, String)> = Vec::new();
    let mut start = 0;
    while start < tokens.len() {
        // Walk forward until the part is full, remembering the best cut.
        let mut stack = open_at_start.clone();
        let mut len = 0;
        let mut i = start;
        let mut newline_cut: Option<(usize, Vec<(String, String)>)> = None;
        let mut space_cut: Option<(usize, Vec<(String, String)>)> = None;
        let mut full = false;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Open { name, raw } => stack.push((name.clone(), (*raw).to_owned())),
                Token::Close { .. } => {
                    stack.pop();
                }
                Token::Char { ch, .. } => {
                    if len + ch.len_utf16() > max {
                        full = true;
                        break;
                    }
                    len += ch.len_utf16();
                    if *ch == '\n' {
                        newline_cut = Some((i + 1, stack.clone()));
                    } else if ch.is_whitespace() {
                        space_cut = Some((i + 1, stack.clone()));
                    }
                }
            }
            i += 1;
        }
        let (cut, stack_at_cut) = if !full {
            (tokens.len(), stack)
        } else {
            newline_cut
                .or(space_cut)
                .filter(|(c, _)| *c > start)
                .unwrap_or((i.max(start + 1), stack))
        };
        let mut part = String::new();
        for (_, raw) in &open_at_start {
            part.push_str(raw);
        }
        for t in &tokens[start..cut] {
            part.push_str(t.raw());
        }
        for (name, _) in stack_at_cut.iter().rev() {
            part.push_str("</");
            part.push_str(name);
            part.push('>');
        }
        let has_visible = tokens[start..cut]
            .iter()
            .any(|t| matches!(t, Token::Char { ch, .. } if !ch.is_whitespace()));
        if has_visible {
            parts.push(part);
        }
        open_at_start = stack_at_cut;
        start = cut;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_count_as_one_character_and_tags_as_none() {
        let t = tokenize("<b>a &lt; b</b> &amp; &#x4e2d;").unwrap();
        assert_eq!(visible_text(&t), "a < b & 中");
        assert_eq!(visible_len(&t), 9);
    }

    #[test]
    fn unknown_and_unbalanced_tags_are_refused_like_telegram() {
        assert!(tokenize("<foo>x</foo>").is_err());
        assert!(tokenize("<b>x").is_err());
        assert!(tokenize("<b><i>x</b></i>").is_err());
        assert!(tokenize("a < b").is_err());
        assert!(tokenize("a &unknown b").is_ok());
    }

    #[test]
    fn long_text_is_cut_at_line_breaks_and_keeps_tags_balanced() {
        let line = format!("<b>{}</b> &amp; 中文\n", "x".repeat(90));
        let html = line.repeat(100);
        let parts = split(&html, 4096);
        assert_eq!(parts.len(), 3);
        for p in &parts {
            let t = tokenize(p).expect("each part is well-formed");
            assert!(visible_len(&t) <= 4096);
        }
        let joined: String = parts
            .iter()
            .map(|p| visible_text(&tokenize(p).unwrap()))
            .collect();
        assert_eq!(joined, visible_text(&tokenize(&html).unwrap()));
    }

    #[test]
    fn a_tag_open_across_a_cut_is_closed_and_reopened() {
        let html = format!("<i>{}</i>", "字 ".repeat(3000));
        let parts = split(&html, 4096);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with("<i>") && parts[0].ends_with("</i>"));
        assert!(parts[1].starts_with("<i>") && parts[1].ends_with("</i>"));
        for p in &parts {
            assert!(tokenize(p).is_ok());
        }
    }

    #[test]
    fn text_without_breaks_is_cut_between_entities_not_inside_them() {
        let html = "&amp;".repeat(5000);
        let parts = split(&html, 4096);
        assert_eq!(parts.len(), 2);
        assert_eq!(visible_len(&tokenize(&parts[0]).unwrap()), 4096);
        assert!(parts.iter().all(|p| p.ends_with(';')));
    }
}
