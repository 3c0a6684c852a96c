//! Showing bot messages in a terminal: Telegram HTML to plain text, buttons
//! numbered so a person can press one by typing its number.

use crate::outgoing::{InlineKeyboard, Keyboard, ReplyKeyboard, ShareRequest};

/// Plain text from Telegram-style HTML: tags dropped, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(j) => rest = &rest[j + 1..],
                None => {
                    out.push_str(rest);
                    rest = "";
                }
            }
        } else {
            let entities = [
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&amp;", '&'),
                ("&quot;", '"'),
                ("&#39;", '\''),
            ];
            match entities.iter().find(|(e, _)| rest.starts_with(e)) {
                Some((e, ch)) => {
                    out.push(*ch);
                    rest = &rest[e.len()..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// A button as the terminal shows it, in the order numbers are given.
#[derive(Debug, Clone, PartialEq)]
pub enum ShownButton {
    /// An inline button sending callback data.
    Inline {
        /// Its label.
        label: String,
        /// Its data.
        data: String,
    },
    /// A reply-keyboard button: sends its label, or asks to share something.
    Reply {
        /// Its label.
        label: String,
        /// What it asks the phone to share.
        request: Option<ShareRequest>,
    },
}

impl ShownButton {
    /// The label.
    pub fn label(&self) -> &str {
        match self {
            ShownButton::Inline { label, .. } | ShownButton::Reply { label, .. } => label,
        }
    }
}

/// The buttons of a keyboard in reading order.
pub fn buttons(keyboard: &Keyboard) -> Vec<ShownButton> {
    match keyboard {
        Keyboard::Inline(k) => inline_buttons(k),
        Keyboard::Reply(ReplyKeyboard { rows, .. }) => rows
            .iter()
            .flatten()
            .map(|b| ShownButton::Reply {
                label: b.label.clone(),
                request: b.request,
            })
            .collect(),
        Keyboard::Remove => Vec::new(),
    }
}

/// The buttons of an inline keyboard in reading order.
pub fn inline_buttons(k: &InlineKeyboard) -> Vec<ShownButton> {
    k.rows
        .iter()
        .flatten()
        .map(|b| ShownButton::Inline {
            label: b.label.clone(),
            data: b.data.clone(),
        })
        .collect()
}

/// Buttons as numbered lines (`  [1] 同意`), with what a share button needs typed.
pub fn button_lines(buttons: &[ShownButton]) -> String {
    let mut out = String::new();
    for (i, b) in buttons.iter().enumerate() {
        let hint = match b {
            ShownButton::Reply {
                request: Some(ShareRequest::Location),
                ..
            } => "  (/location LAT LON)",
            ShownButton::Reply {
                request: Some(ShareRequest::Contact),
                ..
            } => "  (/contact PHONE)",
            _ => "",
        };
        out.push_str(&format!("  [{}] {}{}\n", i + 1, b.label(), hint));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outgoing::{InlineButton, ReplyButton};

    #[test]
    fn tags_are_dropped_and_entities_decoded() {
        assert_eq!(
            html_to_text("<b>案件编号</b>：&lt;1&gt; &amp; &quot;x&quot; & y"),
            "案件编号：<1> & \"x\" & y"
        );
    }

    #[test]
    fn buttons_are_numbered_in_reading_order_with_share_hints() {
        let k = Keyboard::Reply(ReplyKeyboard {
            rows: vec![
                vec![ReplyButton {
                    label: "发送位置".into(),
                    request: Some(ShareRequest::Location),
                }],
                vec![ReplyButton {
                    label: "跳过".into(),
                    request: None,
                }],
            ],
            one_time: true,
        });
        let lines = button_lines(&buttons(&k));
        assert_eq!(lines, "  [1] 发送位置  (/location LAT LON)\n  [2] 跳过\n");
        let inline = Keyboard::Inline(InlineKeyboard {
            rows: vec![vec![
                InlineButton::new("同意", "a"),
                InlineButton::new("不同意", "b"),
            ]],
        });
        assert_eq!(buttons(&inline)[1].label(), "不同意");
    }
}
