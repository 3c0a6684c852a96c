//! Oversight: what the county needs beyond handling single cases.
//!
//! * [`clusters`]: early warning (研判预警) — related cases close together in
//!   place and time, and single cases that look like mass disputes, raise one
//!   alert each, grown as cases join; run by one worker after each filing commits.
//! * [`reports`]: daily, weekly and monthly reports (日报告、周专报、月分析研判)
//!   per county and township, as JSON, CSV and an admin-chat message.
//! * [`webhooks`]: signed event deliveries to the other platforms of the
//!   mediation network (数据共享、信息互通) through a durable queue.
//!
//! Every entry point that changes data takes the caller's `&mut Conn`, so its
//! rows commit (or roll back) with the change that caused them.

pub mod clusters;
pub mod reports;
pub mod webhooks;

use crate::i18n::Lang;
use crate::storage::StorageError;

/// Why an oversight operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OversightError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A case, alert or subscription that should exist does not.
    #[error("{0} not found")]
    NotFound(String),
    /// Input was refused (`field`, explanation).
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
}

/// Where messages for admins go: the admin chat, in the admin's language,
/// with times shown in the configured zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminChat {
    /// Telegram chat id of the admin chat.
    pub chat_id: i64,
    /// The language admins read.
    pub lang: Lang,
    /// Time zone for dates and times shown.
    pub tz: chrono_tz::Tz,
}

/// Formats an instant as local `YYYY-MM-DD HH:MM`.
pub(crate) fn local_time(ms: i64, tz: chrono_tz::Tz) -> String {
    crate::clock::ms_to_datetime(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
