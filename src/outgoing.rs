//! What the bot says: messages, keyboards and callback answers, independent
//! of Telegram. The conversation engine produces [`OutMessage`]s; the outbox
//! stores them as JSON; the Telegram sender and the terminal chat render them.
//!
//! Text is HTML in Telegram's subset (`<b>`, `<i>`, `<code>`); anything a
//! person typed must pass through [`escape_html`] before it is put in.

use serde::{Deserialize, Serialize};

/// Telegram refuses messages longer than this many characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Telegram refuses callback data longer than this many bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;

/// One thing to send to one chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutMessage {
    /// The chat it goes to.
    pub chat_id: i64,
    /// What to send.
    pub body: OutBody,
}

/// The kinds of things the bot sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutBody {
    /// A new message.
    Text {
        /// HTML text (escaped where it holds people's words).
        html: String,
        /// Buttons under it or a reply keyboard.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyboard: Option<Keyboard>,
    },
    /// Replaces the text (and inline buttons) of a message the bot sent.
    EditText {
        /// The message to edit.
        message_id: i32,
        /// New HTML text.
        html: String,
        /// New inline buttons; `None` removes them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyboard: Option<InlineKeyboard>,
    },
    /// Replaces only the inline buttons of a message (`None` removes them).
    EditKeyboard {
        /// The message to edit.
        message_id: i32,
        /// New inline buttons.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyboard: Option<InlineKeyboard>,
    },
    /// Stops the spinner on a pressed button, optionally with a short notice.
    AnswerCallback {
        /// Telegram's callback query id.
        callback_id: String,
        /// A short notice shown on the phone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// Whether the notice is a dialog the person must dismiss.
        #[serde(default)]
        alert: bool,
    },
}

/// Buttons attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Keyboard {
    /// Buttons under the message that send callback data.
    Inline(InlineKeyboard),
    /// Buttons replacing the phone's keyboard (location and contact requests).
    Reply(ReplyKeyboard),
    /// Removes a reply keyboard shown earlier.
    Remove,
}

/// Rows of inline buttons.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InlineKeyboard {
    /// Rows, top to bottom.
    pub rows: Vec<Vec<InlineButton>>,
}

/// One inline button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineButton {
    /// What the button says.
    pub label: String,
    /// What pressing it sends back (at most 64 bytes).
    pub data: String,
}

impl InlineButton {
    /// A button; data longer than Telegram allows is a programming error
    /// caught in tests, so it is cut at a character boundary rather than
    /// letting Telegram refuse the whole message.
    pub fn new(label: impl Into<String>, data: impl Into<String>) -> Self {
        let mut data = data.into();
        if data.len() > MAX_CALLBACK_BYTES {
            debug_assert!(false, "callback data over 64 bytes: {data}");
            let mut cut = MAX_CALLBACK_BYTES;
            while !data.is_char_boundary(cut) {
                cut -= 1;
            }
            data.truncate(cut);
        }
        Self {
            label: label.into(),
            data,
        }
    }
}

impl InlineKeyboard {
    /// A keyboard with one button per row.
    pub fn column(buttons: Vec<InlineButton>) -> Self {
        Self {
            rows: buttons.into_iter().map(|b| vec![b]).collect(),
        }
    }

    /// Appends a row.
    pub fn row(mut self, row: Vec<InlineButton>) -> Self {
        if !row.is_empty() {
            self.rows.push(row);
        }
        self
    }
}

/// A reply keyboard.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReplyKeyboard {
    /// Rows, top to bottom.
    pub rows: Vec<Vec<ReplyButton>>,
    /// Hide after one press.
    #[serde(default)]
    pub one_time: bool,
}

/// One reply-keyboard button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// What it says (and sends as text when it requests nothing).
    pub label: String,
    /// What it asks the phone to share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ShareRequest>,
}

/// What a reply button asks the phone to share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRequest {
    /// The current location.
    Location,
    /// The person's own phone number.
    Contact,
}

impl OutMessage {
    /// A plain message.
    pub fn text(chat_id: i64, html: impl Into<String>) -> Self {
        Self {
            chat_id,
            body: OutBody::Text {
                html: html.into(),
                keyboard: None,
            },
        }
    }

    /// A message with a keyboard.
    pub fn with_keyboard(chat_id: i64, html: impl Into<String>, keyboard: Keyboard) -> Self {
        Self {
            chat_id,
            body: OutBody::Text {
                html: html.into(),
                keyboard: Some(keyboard),
            },
        }
    }

    /// An answer to a pressed button.
    pub fn answer(chat_id: i64, callback_id: impl Into<String>, text: Option<String>) -> Self {
        Self {
            chat_id,
            body: OutBody::AnswerCallback {
                callback_id: callback_id.into(),
                text,
                alert: false,
            },
        }
    }
}

/// Escapes text for Telegram's HTML parse mode: `<`, `>`, `&` and `"`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_text_cannot_open_tags_or_entities() {
        assert_eq!(
            escape_html("<b>a & b</b> \"x\" *_`"),
            "&lt;b&gt;a &amp; b&lt;/b&gt; &quot;x&quot; *_`"
        );
    }

    #[test]
    fn messages_survive_a_json_round_trip() {
        let m = OutMessage::with_keyboard(
            7,
            "你好",
            Keyboard::Inline(InlineKeyboard::column(vec![InlineButton::new("是", "c:y")])),
        );
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<OutMessage>(&s).unwrap(), m);
    }
}
