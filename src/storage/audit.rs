//! The audit log: who did what to which object, and when.

use super::{Conn, StorageError};
use sqlx::Row;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Row id.
    pub id: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// Who: `token:<name>`, `cli`, `mediator:<id>`, `system`.
    pub actor: String,
    /// What: `committee.create`, `case.read`, …
    pub action: String,
    /// The kind of object acted on.
    pub object_kind: String,
    /// Its id or code.
    pub object_id: String,
    /// Extra details as JSON text.
    pub details: String,
}

/// Appends an entry.
pub async fn record(
    conn: &mut Conn,
    at: i64,
    actor: &str,
    action: &str,
    object_kind: &str,
    object_id: &str,
    details: &serde_json::Value,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, object_kind, object_id, details)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(object_kind)
    .bind(object_id)
    .bind(details.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Entries newest first, before `before_id` when paging.
pub async fn list(
    conn: &mut Conn,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, object_kind, object_id, details FROM audit_log
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                object_kind: r.try_get("object_kind")?,
                object_id: r.try_get("object_id")?,
                details: r.try_get("details")?,
            })
        })
        .collect()
}
