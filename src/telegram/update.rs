//! Reading raw Telegram updates: which chat an update belongs to, and what a
//! person did, as a [`conversation::Incoming`](crate::conversation::Incoming).
//!
//! Updates are read from the raw JSON stored in the inbox rather than from
//! teloxide's types, so an update kind teloxide does not know still has a
//! chat (for ordering) and is answered as unsupported instead of being lost.

use crate::conversation::{AttachmentKind, ChatRef, Event, Incoming};
use serde_json::Value;

/// What the applier should do with an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Hand it to the conversation engine.
    Incoming(Incoming),
    /// The person blocked (`true`) or unblocked the bot in a private chat.
    Membership {
        /// The chat.
        chat_id: i64,
        /// Whether the bot is now blocked.
        blocked: bool,
    },
    /// Nothing to do (inline queries, poll answers, …).
    Ignore,
}

/// Keys under which an update carries a message-like object with a chat.
const MESSAGE_KEYS: [&str; 6] = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
];

/// Keys under which an update carries an object with a `chat` directly.
const CHAT_KEYS: [&str; 5] = [
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
];

/// The update's id, if it has one.
pub fn update_id(update: &Value) -> Option<i64> {
    update.get("update_id")?.as_i64()
}

/// The chat an update belongs to, if any: used to apply one chat's updates
/// in order.
pub fn chat_id(update: &Value) -> Option<i64> {
    for k in MESSAGE_KEYS.iter().chain(CHAT_KEYS.iter()) {
        if let Some(id) = update
            .get(*k)
            .and_then(|m| m.get("chat"))
            .and_then(|c| c.get("id"))
        {
            return id.as_i64();
        }
    }
    update
        .get("callback_query")
        .and_then(|q| q.get("message"))
        .and_then(|m| m.get("chat"))
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64)
}

fn chat_ref(msg: &Value) -> Option<ChatRef> {
    let chat = msg.get("chat")?;
    Some(ChatRef {
        id: chat.get("id")?.as_i64()?,
        private: chat.get("type").and_then(Value::as_str) == Some("private"),
    })
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// Maps a raw update to what the applier does with it. `bot_username`
/// (without `@`) lets `/cmd@otherbot` in a group be told apart from a
/// command for this bot; `received_at_ms` dates button presses, which
/// Telegram does not date.
pub fn map(update: &Value, bot_username: Option<&str>, received_at_ms: i64) -> Mapped {
    if let Some(q) = update.get("callback_query") {
        return map_callback(q, received_at_ms);
    }
    if let Some(m) = update.get("my_chat_member") {
        let private = m
            .get("chat")
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str)
            == Some("private");
        let chat = m
            .get("chat")
            .and_then(|c| c.get("id"))
            .and_then(Value::as_i64);
        let status = m
            .get("new_chat_member")
            .and_then(|c| c.get("status"))
            .and_then(Value::as_str);
        return match (private, chat, status) {
            (true, Some(chat_id), Some(s)) => Mapped::Membership {
                chat_id,
                blocked: s == "kicked",
            },
            _ => Mapped::Ignore,
        };
    }
    for (key, edited) in [
        ("message", false),
        ("edited_message", true),
        ("channel_post", false),
        ("edited_channel_post", true),
        ("business_message", false),
        ("edited_business_message", true),
    ] {
        if let Some(msg) = update.get(key) {
            return map_message(msg, edited, bot_username);
        }
    }
    Mapped::Ignore
}

fn map_callback(q: &Value, received_at_ms: i64) -> Mapped {
    let Some(msg) = q.get("message") else {
        // A button on an inline-mode message: no chat to talk to.
        return Mapped::Ignore;
    };
    let Some(chat) = chat_ref(msg) else {
        return Mapped::Ignore;
    };
    let from = q.get("from");
    let callback_id = str_field(q, "id").unwrap_or_default();
    let event = match str_field(q, "data") {
        Some(data) => Event::Button { callback_id, data },
        None => Event::Unsupported {
            what: "callback_without_data".into(),
        },
    };
    Mapped::Incoming(Incoming {
        chat,
        user_id: from
            .and_then(|f| f.get("id"))
            .and_then(Value::as_i64)
            .unwrap_or(chat.id),
        user_language: from.and_then(|f| str_field(f, "language_code")),
        message_id: msg
            .get("message_id")
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok()),
        date: received_at_ms / 1000,
        event,
    })
}

fn map_message(msg: &Value, edited: bool, bot_username: Option<&str>) -> Mapped {
    let Some(chat) = chat_ref(msg) else {
        return Mapped::Ignore;
    };
    let from = msg.get("from");
    let user_id = from
        .and_then(|f| f.get("id"))
        .or_else(|| msg.get("sender_chat").and_then(|c| c.get("id")))
        .and_then(Value::as_i64)
        .unwrap_or(chat.id);
    let event = if edited {
        Event::Edited
    } else {
        message_event(msg, bot_username)
    };
    Mapped::Incoming(Incoming {
        chat,
        user_id,
        user_language: from.and_then(|f| str_field(f, "language_code")),
        message_id: msg
            .get("message_id")
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok()),
        date: msg.get("date").and_then(Value::as_i64).unwrap_or(0),
        event,
    })
}

/// Message kinds the engine does not take, named for the log.
const UNSUPPORTED_KINDS: [&str; 16] = [
    "sticker",
    "animation",
    "audio",
    "video_note",
    "poll",
    "dice",
    "game",
    "story",
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "pinned_message",
    "invoice",
    "successful_payment",
    "web_app_data",
];

fn message_event(msg: &Value, bot_username: Option<&str>) -> Event {
    if let Some(text) = msg.get("text").and_then(Value::as_str) {
        return text_event(text, bot_username);
    }
    if let Some(loc) = msg.get("location") {
        if let (Some(lat), Some(lon)) = (
            loc.get("latitude").and_then(Value::as_f64),
            loc.get("longitude").and_then(Value::as_f64),
        ) {
            return Event::Location { lat, lon };
        }
    }
    if let Some(c) = msg.get("contact") {
        return Event::Contact {
            phone: str_field(c, "phone_number").unwrap_or_default(),
            contact_user_id: c.get("user_id").and_then(Value::as_i64),
        };
    }
    let caption = str_field(msg, "caption");
    if let Some(sizes) = msg.get("photo").and_then(Value::as_array) {
        let largest = sizes.iter().max_by_key(|p| {
            let w = p.get("width").and_then(Value::as_i64).unwrap_or(0);
            let h = p.get("height").and_then(Value::as_i64).unwrap_or(0);
            let size = p.get("file_size").and_then(Value::as_i64).unwrap_or(0);
            (w * h, size)
        });
        if let Some(p) = largest {
            return attachment(AttachmentKind::Photo, p, caption);
        }
    }
    for (key, kind) in [
        ("document", AttachmentKind::Document),
        ("voice", AttachmentKind::Voice),
        ("video", AttachmentKind::Video),
    ] {
        if let Some(f) = msg.get(key) {
            return attachment(kind, f, caption);
        }
    }
    let what = UNSUPPORTED_KINDS
        .iter()
        .find(|k| msg.get(**k).is_some())
        .copied()
        .unwrap_or("other");
    Event::Unsupported { what: what.into() }
}

fn attachment(kind: AttachmentKind, f: &Value, caption: Option<String>) -> Event {
    Event::Attachment {
        kind,
        file_id: str_field(f, "file_id").unwrap_or_default(),
        file_unique_id: str_field(f, "file_unique_id").unwrap_or_default(),
        caption,
    }
}

/// `/start abc` → Command; `/mycases@thisbot` → Command; a command for
/// another bot (`/x@otherbot`) stays text.
fn text_event(text: &str, bot_username: Option<&str>) -> Event {
    if let Some(rest) = text.strip_prefix('/') {
        let (head, args) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let (name, target) = match head.split_once('@') {
            Some((n, t)) => (n, Some(t)),
            None => (head, None),
        };
        let for_us = match (target, bot_username) {
            (Some(t), Some(me)) => t.eq_ignore_ascii_case(me.trim_start_matches('@')),
            _ => true,
        };
        let valid = !name.is_empty()
            && name.len() <= 32
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && for_us {
            return Event::Command {
                name: name.to_ascii_lowercase(),
                args: args.to_owned(),
            };
        }
    }
    Event::Text {
        text: text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(extra: Value) -> Value {
        let mut m = json!({
            "message_id": 5, "date": 1700000000,
            "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": {"id": 42, "is_bot": false, "first_name": "A", "language_code": "zh-hans"}
        });
        if let (Some(m), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                m.insert(k.clone(), v.clone());
            }
        }
        json!({"update_id": 1, "message": m})
    }

    fn event(u: &Value) -> Event {
        match map(u, Some("jiefen_bot"), 0) {
            Mapped::Incoming(i) => i.event,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn commands_lose_the_slash_and_the_bot_name_and_keep_their_payload() {
        assert_eq!(
            event(&msg(json!({"text": "/start  inv_abc "}))),
            Event::Command {
                name: "start".into(),
                args: "inv_abc".into()
            }
        );
        assert_eq!(
            event(&msg(json!({"text": "/mycases@Jiefen_Bot"}))),
            Event::Command {
                name: "mycases".into(),
                args: String::new()
            }
        );
        assert_eq!(
            event(&msg(json!({"text": "/x@otherbot"}))),
            Event::Text {
                text: "/x@otherbot".into()
            }
        );
    }

    #[test]
    fn the_largest_photo_is_kept() {
        let u = msg(json!({"caption": "门口", "photo": [
            {"file_id": "s", "file_unique_id": "us", "width": 90, "height": 90},
            {"file_id": "l", "file_unique_id": "ul", "width": 1280, "height": 960},
            {"file_id": "m", "file_unique_id": "um", "width": 320, "height": 240}
        ]}));
        assert_eq!(
            event(&u),
            Event::Attachment {
                kind: AttachmentKind::Photo,
                file_id: "l".into(),
                file_unique_id: "ul".into(),
                caption: Some("门口".into())
            }
        );
    }

    #[test]
    fn stickers_are_unsupported_and_groups_are_not_private() {
        assert_eq!(
            event(&msg(json!({"sticker": {"file_id": "x"}}))),
            Event::Unsupported {
                what: "sticker".into()
            }
        );
        let mut u = msg(json!({"text": "hi"}));
        u["message"]["chat"] = json!({"id": -100, "type": "supergroup", "title": "g"});
        let Mapped::Incoming(i) = map(&u, None, 0) else {
            panic!()
        };
        assert!(!i.chat.private);
        assert_eq!(chat_id(&u), Some(-100));
    }

    #[test]
    fn a_button_press_names_the_message_that_carried_it() {
        let u = json!({"update_id": 3, "callback_query": {
            "id": "cb1", "from": {"id": 42, "is_bot": false, "first_name": "A"},
            "chat_instance": "1", "data": "c:y",
            "message": {"message_id": 77, "date": 1, "chat": {"id": 42, "type": "private"}}
        }});
        let Mapped::Incoming(i) = map(&u, None, 5_000) else {
            panic!()
        };
        assert_eq!(i.message_id, Some(77));
        assert_eq!(i.date, 5);
        assert_eq!(
            i.event,
            Event::Button {
                callback_id: "cb1".into(),
                data: "c:y".into()
            }
        );
        assert_eq!(chat_id(&u), Some(42));
    }

    #[test]
    fn blocking_the_bot_is_a_membership_change() {
        let u = json!({"update_id": 4, "my_chat_member": {
            "chat": {"id": 42, "type": "private"}, "from": {"id": 42},
            "date": 1, "old_chat_member": {"status": "member"},
            "new_chat_member": {"status": "kicked"}
        }});
        assert_eq!(
            map(&u, None, 0),
            Mapped::Membership {
                chat_id: 42,
                blocked: true
            }
        );
        assert_eq!(
            map(&json!({"update_id": 5, "poll_answer": {}}), None, 0),
            Mapped::Ignore
        );
    }
}
