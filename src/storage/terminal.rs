//! Small reads the terminal chat needs to play several people at once.

use super::{Conn, StorageError};

/// The Telegram user (and chat) id the terminal gives demo mediator `id`.
pub fn mediator_user_id(mediator_id: i64) -> i64 {
    20_000 + mediator_id
}

/// The committee holding the latest case of the resident with this
/// Telegram user id.
pub async fn latest_case_committee(
    conn: &mut Conn,
    telegram_user_id: i64,
) -> Result<Option<i64>, StorageError> {
    let id: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT c.committee_id FROM cases c JOIN residents r ON r.id = c.resident_id
         WHERE r.telegram_user_id = $1 ORDER BY c.id DESC LIMIT 1",
    )
    .bind(telegram_user_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id.flatten())
}

/// Chats other than `except` with pending outbox rows, and how many.
pub async fn pending_chats(conn: &mut Conn, except: i64) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT chat_id, COUNT(*) FROM outbox
         WHERE status = 'pending' AND chat_id <> $1 AND method <> 'answerCallbackQuery'
         GROUP BY chat_id ORDER BY chat_id",
    )
    .bind(except)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// How many mediators exist.
pub async fn mediator_count(conn: &mut Conn) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM mediators")
        .fetch_one(&mut *conn)
        .await?)
}
