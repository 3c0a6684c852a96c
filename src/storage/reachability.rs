//! Whether the bot can reach a person: a 403 ("bot was blocked by the
//! user") marks the resident or mediator with that chat unreachable; any
//! later update from the chat (they wrote again or unblocked the bot) marks
//! them reachable again.

use super::{Conn, StorageError};
use sqlx::Row;

/// A mediator who has just become unreachable (admins are told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachableMediator {
    /// Mediator id.
    pub id: i64,
    /// Their name (shown to admins only, never logged).
    pub name: String,
    /// Their committee's name.
    pub committee: String,
}

/// Marks everyone using `chat_id` unreachable. Returns the mediators that
/// were reachable until now (so an alert goes out once, not per message).
pub async fn mark_unreachable(
    conn: &mut Conn,
    chat_id: i64,
) -> Result<Vec<UnreachableMediator>, StorageError> {
    sqlx::query("UPDATE residents SET reachable = 0 WHERE chat_id = $1 AND reachable = 1")
        .bind(chat_id)
        .execute(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "UPDATE mediators SET reachable = 0 WHERE chat_id = $1 AND reachable = 1
         RETURNING id, name, committee_id",
    )
    .bind(chat_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let committee_id: i64 = r.try_get("committee_id")?;
        let committee: Option<String> =
            sqlx::query_scalar("SELECT name FROM committees WHERE id = $1")
                .bind(committee_id)
                .fetch_optional(&mut *conn)
                .await?;
        out.push(UnreachableMediator {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            committee: committee.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Marks everyone using `chat_id` reachable again.
pub async fn mark_reachable(conn: &mut Conn, chat_id: i64) -> Result<(), StorageError> {
    // Almost always already reachable: one look instead of two updates.
    let unreachable: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM residents WHERE chat_id = $1 AND reachable = 0)
              + (SELECT COUNT(*) FROM mediators WHERE chat_id = $1 AND reachable = 0)",
    )
    .bind(chat_id)
    .fetch_one(&mut *conn)
    .await?;
    if unreachable == 0 {
        return Ok(());
    }
    sqlx::query("UPDATE residents SET reachable = 1 WHERE chat_id = $1 AND reachable = 0")
        .bind(chat_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE mediators SET reachable = 1 WHERE chat_id = $1 AND reachable = 0")
        .bind(chat_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Of these chats, those where a resident or mediator is marked
/// unreachable, in one statement.
pub async fn unreachable_among(conn: &mut Conn, chats: &[i64]) -> Result<Vec<i64>, StorageError> {
    if chats.is_empty() {
        return Ok(vec![]);
    }
    let list = super::placeholder_list(chats.len(), 0);
    let sql = format!(
        "SELECT chat_id FROM residents WHERE reachable = 0 AND chat_id IN ({list})
         UNION SELECT chat_id FROM mediators WHERE reachable = 0 AND chat_id IN ({list})"
    );
    let mut q = sqlx::query(&sql);
    for c in chats {
        q = q.bind(*c);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>("chat_id").map_err(StorageError::from))
        .collect()
}

/// Whether the resident with this chat is reachable (`None`: no resident).
pub async fn resident_reachable(
    conn: &mut Conn,
    chat_id: i64,
) -> Result<Option<bool>, StorageError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT reachable FROM residents WHERE chat_id = $1")
        .bind(chat_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(v.map(|v| v != 0))
}

/// Whether the mediator with this chat is reachable (`None`: no mediator).
pub async fn mediator_reachable(
    conn: &mut Conn,
    chat_id: i64,
) -> Result<Option<bool>, StorageError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT reachable FROM mediators WHERE chat_id = $1")
        .bind(chat_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(v.map(|v| v != 0))
}
