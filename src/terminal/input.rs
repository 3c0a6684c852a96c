//! What a person types in the terminal chat, parsed.

use crate::conversation::{AttachmentKind, Event};

/// One line of input.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Nothing to do (an empty line or a `#` comment in a script).
    Nothing,
    /// Leave the chat.
    Quit,
    /// Show the terminal's own commands.
    Help,
    /// Become the resident again.
    AsResident,
    /// Become a mediator: by name or committee (empty: the mediator of the
    /// resident's latest case).
    AsMediator(String),
    /// List demo mediators.
    Mediators,
    /// Press button number N (1-based) of the latest message with buttons.
    Press(usize),
    /// Something the bot receives.
    Send(Event),
    /// Input the terminal could not understand, with a hint.
    Invalid(String),
}

/// Parses a line. Numbers press buttons only when `has_buttons` says the
/// chat's latest message has some; otherwise they are text (a party count).
pub fn parse_line(line: &str, has_buttons: bool) -> Line {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Line::Nothing;
    }
    if has_buttons {
        if let Ok(n) = line.parse::<usize>() {
            if n >= 1 {
                return Line::Press(n);
            }
        }
    }
    let Some(cmd) = line.strip_prefix('/') else {
        return Line::Send(Event::Text {
            text: line.to_owned(),
        });
    };
    let (name, args) = match cmd.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (cmd, ""),
    };
    match name {
        "quit" | "exit" => Line::Quit,
        "terminal" | "?" => Line::Help,
        "mediators" => Line::Mediators,
        "as" => {
            let (who, rest) = match args.split_once(char::is_whitespace) {
                Some((w, r)) => (w, r.trim()),
                None => (args, ""),
            };
            match who {
                "resident" => Line::AsResident,
                "mediator" => Line::AsMediator(rest.to_owned()),
                _ => Line::Invalid("/as resident | /as mediator NAME".into()),
            }
        }
        "location" => {
            let nums: Vec<f64> = args
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            match nums[..] {
                [lat, lon] => Line::Send(Event::Location { lat, lon }),
                _ => Line::Invalid("/location 38.60 100.80".into()),
            }
        }
        "contact" => {
            if args.is_empty() {
                Line::Invalid("/contact 13812345678".into())
            } else {
                Line::Send(Event::Contact {
                    phone: args.to_owned(),
                    contact_user_id: None,
                })
            }
        }
        "photo" | "document" | "voice" => {
            let kind = match name {
                "photo" => AttachmentKind::Photo,
                "document" => AttachmentKind::Document,
                _ => AttachmentKind::Voice,
            };
            Line::Send(Event::Attachment {
                kind,
                file_id: String::new(),
                file_unique_id: String::new(),
                caption: (!args.is_empty()).then(|| args.to_owned()),
            })
        }
        "sticker" => Line::Send(Event::Unsupported {
            what: "sticker".into(),
        }),
        _ => Line::Send(Event::Command {
            name: name.to_owned(),
            args: args.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_press_buttons_only_when_there_are_buttons() {
        assert_eq!(parse_line("2", true), Line::Press(2));
        assert_eq!(
            parse_line("2", false),
            Line::Send(Event::Text { text: "2".into() })
        );
    }

    #[test]
    fn share_stand_ins_and_identity_switches_parse() {
        assert_eq!(
            parse_line("/location 38.6, 100.8", true),
            Line::Send(Event::Location {
                lat: 38.6,
                lon: 100.8
            })
        );
        assert!(matches!(
            parse_line("/location north", false),
            Line::Invalid(_)
        ));
        assert_eq!(
            parse_line("/as mediator 王建国", false),
            Line::AsMediator("王建国".into())
        );
        assert_eq!(parse_line("/as resident", false), Line::AsResident);
        assert_eq!(
            parse_line("/start abc", false),
            Line::Send(Event::Command {
                name: "start".into(),
                args: "abc".into()
            })
        );
        assert_eq!(parse_line("# a comment", false), Line::Nothing);
    }
}
