//! Residents: the people who file cases, keyed by their Telegram user id.
//!
//! A row exists only once a person answered the privacy notice: with
//! `consent_at` when they agreed, with only `consent_declined_at` (and the
//! chat it came from) when they refused.

use super::{classify, get_flag, Conn, StorageError};
use sqlx::Row;

/// A resident as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentRecord {
    /// Row id.
    pub id: i64,
    /// Telegram user id.
    pub telegram_user_id: i64,
    /// Their private chat with the bot.
    pub chat_id: i64,
    /// Language code (`zh-CN`, `zh-TW`, `en`).
    pub language: String,
    /// When they agreed to the privacy notice.
    pub consent_at: Option<i64>,
    /// When they declined it.
    pub consent_declined_at: Option<i64>,
    /// Their own phone number, normalised, if they shared it.
    pub phone: Option<String>,
    /// Whether Telegram still delivers to them.
    pub reachable: bool,
    /// When the row was created.
    pub created_at: i64,
}

impl ResidentRecord {
    /// Whether the resident agreed and has not withdrawn that since.
    pub fn has_consented(&self) -> bool {
        self.consent_at.is_some()
    }
}

const COLUMNS: &str = "id, telegram_user_id, chat_id, language, consent_at, consent_declined_at, \
                       phone, reachable, created_at";

fn row_to_resident(r: &sqlx::any::AnyRow) -> Result<ResidentRecord, StorageError> {
    Ok(ResidentRecord {
        id: r.try_get("id")?,
        telegram_user_id: r.try_get("telegram_user_id")?,
        chat_id: r.try_get("chat_id")?,
        language: r.try_get("language")?,
        consent_at: r.try_get("consent_at")?,
        consent_declined_at: r.try_get("consent_declined_at")?,
        phone: r.try_get("phone")?,
        reachable: get_flag(r, "reachable")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The resident with this Telegram user id.
pub async fn get_by_user(
    conn: &mut Conn,
    telegram_user_id: i64,
) -> Result<Option<ResidentRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM residents WHERE telegram_user_id = $1"
    ))
    .bind(telegram_user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_resident).transpose()
}

/// The residents with these Telegram user ids (those that exist), in one
/// statement.
pub async fn by_users(conn: &mut Conn, users: &[i64]) -> Result<Vec<ResidentRecord>, StorageError> {
    let head = format!("SELECT {COLUMNS} FROM residents WHERE telegram_user_id IN (");
    super::fetch_for_ids(conn, &head, users)
        .await?
        .iter()
        .map(row_to_resident)
        .collect()
}

/// The resident with this row id.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<ResidentRecord>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM residents WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_resident).transpose()
}

/// Records that the person agreed to the privacy notice (creating the row
/// or clearing an earlier refusal) and returns the resident.
pub async fn record_consent(
    conn: &mut Conn,
    telegram_user_id: i64,
    chat_id: i64,
    language: &str,
    now: i64,
) -> Result<ResidentRecord, StorageError> {
    let row = sqlx::query(&format!(
        "INSERT INTO residents (telegram_user_id, chat_id, language, consent_at, created_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (telegram_user_id) DO UPDATE SET chat_id = excluded.chat_id,
           language = excluded.language, consent_at = excluded.consent_at,
           consent_declined_at = NULL, reachable = 1
         RETURNING {COLUMNS}"
    ))
    .bind(telegram_user_id)
    .bind(chat_id)
    .bind(language)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "resident"))?;
    row_to_resident(&row)
}

/// Records a refusal: only the refusal itself (who, when, in which
/// language) is kept, and any earlier consent is withdrawn.
pub async fn record_refusal(
    conn: &mut Conn,
    telegram_user_id: i64,
    chat_id: i64,
    language: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO residents (telegram_user_id, chat_id, language, consent_declined_at, created_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (telegram_user_id) DO UPDATE SET chat_id = excluded.chat_id,
           language = excluded.language, consent_at = NULL,
           consent_declined_at = excluded.consent_declined_at",
    )
    .bind(telegram_user_id)
    .bind(chat_id)
    .bind(language)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "resident"))?;
    Ok(())
}

/// Changes a resident's language.
pub async fn set_language(conn: &mut Conn, id: i64, language: &str) -> Result<(), StorageError> {
    sqlx::query("UPDATE residents SET language = $1 WHERE id = $2")
        .bind(language)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores the resident's own (normalised) phone number.
pub async fn set_phone(conn: &mut Conn, id: i64, phone: &str) -> Result<(), StorageError> {
    sqlx::query("UPDATE residents SET phone = $1 WHERE id = $2")
        .bind(phone)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
