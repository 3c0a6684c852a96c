//! Mediators as the admin manages them, and their invite codes.
//!
//! A mediator row is created by an admin; the person links their Telegram
//! account later through a single-use invite whose code is stored only as a
//! SHA-256 hash.

use super::{classify, flag, get_flag, Conn, StorageError};
use crate::domain::CommitteeId;
use sqlx::Row;

/// A mediator as stored (Telegram ids are not exposed beyond `linked_at`).
#[derive(Debug, Clone, PartialEq)]
pub struct MediatorRecord {
    /// Row id.
    pub id: i64,
    /// The committee they work for.
    pub committee_id: CommitteeId,
    /// Full name.
    pub name: String,
    /// Normalised mobile number, when known.
    pub phone: Option<String>,
    /// Language code for messages to them.
    pub language: String,
    /// Whether they receive assignments.
    pub active: bool,
    /// False once Telegram refused a message (bot blocked).
    pub reachable: bool,
    /// When created, ms.
    pub created_at: i64,
    /// When they linked their Telegram account, ms.
    pub linked_at: Option<i64>,
}

/// Fields an admin sets.
#[derive(Debug, Clone, PartialEq)]
pub struct MediatorFields {
    /// The committee they work for.
    pub committee_id: CommitteeId,
    /// Full name.
    pub name: String,
    /// Normalised mobile number.
    pub phone: Option<String>,
    /// Language code.
    pub language: String,
    /// Whether they receive assignments.
    pub active: bool,
}

const COLUMNS: &str =
    "id, committee_id, name, phone, language, active, reachable, created_at, linked_at";

fn row_to_mediator(r: &sqlx::any::AnyRow) -> Result<MediatorRecord, StorageError> {
    Ok(MediatorRecord {
        id: r.try_get("id")?,
        committee_id: r.try_get("committee_id")?,
        name: r.try_get("name")?,
        phone: r.try_get("phone")?,
        language: r.try_get("language")?,
        active: get_flag(r, "active")?,
        reachable: get_flag(r, "reachable")?,
        created_at: r.try_get("created_at")?,
        linked_at: r.try_get("linked_at")?,
    })
}

/// Creates a mediator. An unknown committee is a [`StorageError::MissingReference`].
pub async fn insert(conn: &mut Conn, f: &MediatorFields, now: i64) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mediators (committee_id, name, phone, language, active, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(f.committee_id)
    .bind(&f.name)
    .bind(f.phone.clone())
    .bind(&f.language)
    .bind(flag(f.active))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "committee_id"))?;
    Ok(id)
}

/// Replaces the admin-set fields of mediator `id`.
pub async fn update(conn: &mut Conn, id: i64, f: &MediatorFields) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE mediators SET committee_id = $2, name = $3, phone = $4, language = $5, active = $6
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.committee_id)
    .bind(&f.name)
    .bind(f.phone.clone())
    .bind(&f.language)
    .bind(flag(f.active))
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "committee_id"))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound(format!("mediator {id}")));
    }
    Ok(())
}

/// One mediator.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<MediatorRecord>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM mediators WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_mediator).transpose()
}

/// Mediators, of one committee when given, ordered by id.
pub async fn list(
    conn: &mut Conn,
    committee_id: Option<CommitteeId>,
) -> Result<Vec<MediatorRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM mediators WHERE ($1 = 0 OR committee_id = $1) ORDER BY id"
    ))
    .bind(committee_id.unwrap_or(0))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_mediator).collect()
}

/// Whether any case names the mediator (then the row must stay for the
/// timeline, and is deactivated instead of deleted).
pub async fn is_referenced(conn: &mut Conn, id: i64) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE mediator_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// Turns a mediator on or off.
pub async fn set_active(conn: &mut Conn, id: i64, active: bool) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE mediators SET active = $2 WHERE id = $1")
        .bind(id)
        .bind(flag(active))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound(format!("mediator {id}")));
    }
    Ok(())
}

/// Deletes a mediator no case names, with their invites. False when there
/// was no such mediator.
pub async fn delete(conn: &mut Conn, id: i64) -> Result<bool, StorageError> {
    sqlx::query("DELETE FROM invites WHERE mediator_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM mediators WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| match classify(e, &format!("mediator {id}")) {
            StorageError::MissingReference(w) => StorageError::Conflict(format!("{w} (in use)")),
            other => other,
        })?;
    Ok(done.rows_affected() > 0)
}

/// Stores an invite by the hash of its code. Earlier unused invites of the
/// same mediator stop working, so only the newest link is live.
pub async fn insert_invite(
    conn: &mut Conn,
    mediator_id: i64,
    code_hash: &str,
    expires_at: i64,
    created_by: &str,
    now: i64,
) -> Result<i64, StorageError> {
    sqlx::query(
        "UPDATE invites SET expires_at = $2 WHERE mediator_id = $1 AND used_at IS NULL
           AND expires_at > $2",
    )
    .bind(mediator_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO invites (mediator_id, code_hash, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(mediator_id)
    .bind(code_hash)
    .bind(expires_at)
    .bind(created_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "invite"))?;
    Ok(id)
}
