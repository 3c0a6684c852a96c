//! The dialogue with residents and mediators, independent of Telegram.
//!
//! An adapter (Telegram, the terminal chat) turns what a person did into an
//! [`Incoming`] event; the engine loads the stored dialogue state, decides,
//! and returns the new state's effects as [`OutMessage`]s, all inside the
//! caller's transaction, so the dialogue state, case rows, events and replies
//! commit together with "update done".

use crate::outgoing::OutMessage;
use crate::storage::{StorageError, Tx};
use serde::{Deserialize, Serialize};

/// The chat an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRef {
    /// Telegram chat id.
    pub id: i64,
    /// Whether it is a one-to-one chat with the bot (groups get one polite
    /// refusal and nothing is stored).
    pub private: bool,
}

/// One thing a person did, as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incoming {
    /// Where.
    pub chat: ChatRef,
    /// Who (Telegram user id).
    pub user_id: i64,
    /// Telegram's `language_code` of the user, when it sent one.
    pub user_language: Option<String>,
    /// The message this event belongs to: the person's message, or for a
    /// button the bot's message carrying it.
    pub message_id: Option<i32>,
    /// When Telegram says it happened (seconds since the epoch).
    pub date: i64,
    /// What happened.
    pub event: Event,
}

/// Kinds of attachment kept with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A photo (the largest size Telegram offers).
    Photo,
    /// A document or file.
    Document,
    /// A voice note.
    Voice,
    /// A video.
    Video,
}

impl AttachmentKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            AttachmentKind::Photo => "photo",
            AttachmentKind::Document => "document",
            AttachmentKind::Voice => "voice",
            AttachmentKind::Video => "video",
        }
    }
}

/// What a person did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Plain text.
    Text {
        /// The text as typed.
        text: String,
    },
    /// A command such as `/start abc` (`name` without the slash or `@bot`).
    Command {
        /// `start`, `mycases`, …
        name: String,
        /// Everything after the command, trimmed.
        args: String,
    },
    /// A pressed inline button.
    Button {
        /// Telegram's callback query id, to be answered.
        callback_id: String,
        /// The button's data.
        data: String,
    },
    /// A shared location.
    Location {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// A shared contact.
    Contact {
        /// The phone number as Telegram gives it.
        phone: String,
        /// Whose contact it is (a resident must share their own).
        contact_user_id: Option<i64>,
    },
    /// A photo, document, voice note or video.
    Attachment {
        /// Which kind.
        kind: AttachmentKind,
        /// Telegram's file id (to send it on).
        file_id: String,
        /// Telegram's stable file id.
        file_unique_id: String,
        /// Its caption, if any.
        caption: Option<String>,
    },
    /// A message was edited after sending (edits are not applied).
    Edited,
    /// Anything else (sticker, poll, dice, …), named for the log.
    Unsupported {
        /// What it was.
        what: String,
    },
}

/// Why handling an event failed (the update is retried; nothing commits).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Anything else that should not happen.
    #[error("{0}")]
    Internal(String),
}

/// Something that turns an event into effects inside a transaction. The
/// Telegram applier and the terminal chat call it; the conversation engine
/// implements it.
#[async_trait::async_trait]
pub trait UpdateHandler: Send + Sync {
    /// Handles one event. Writes its domain effects through `tx` and
    /// returns the messages to queue in the same transaction.
    async fn handle(
        &self,
        tx: &mut Tx,
        incoming: &Incoming,
    ) -> Result<Vec<OutMessage>, HandlerError>;

    /// Called once for a batch, inside its transaction and before its
    /// events are handled one by one, so that work every event does (a
    /// counter, a read) can be done for all of them in one statement.
    /// (No default: a handler that wraps another must pass it on.)
    async fn prepare_batch(&self, tx: &mut Tx, batch: &[&Incoming]) -> Result<(), StorageError>;
}

pub mod engine;
pub mod mediator;
pub mod state;

pub use engine::Engine;
pub use mediator::MediatorHook;
pub use state::{Dialogue, Draft, FailNext, State, Step};
