//! The durable inbox: every Telegram update is stored here, unique by
//! `update_id`, before it is acknowledged to Telegram, and marked done in the
//! same transaction that commits its effects.
//!
//! The polling offset lives in `meta` (`telegram_poll_offset`) and moves in
//! the same transaction as the inbox rows it confirms, so after a restart the
//! next getUpdates confirms exactly what was stored.

use super::{Conn, StorageError};
use sqlx::Row;

const POLL_OFFSET_KEY: &str = "telegram_poll_offset";

/// Where an update stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    /// Stored, not yet applied.
    Pending,
    /// Applied (its effects committed).
    Done,
    /// Given up after repeated handler errors.
    Failed,
}

impl InboxStatus {
    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "pending" => Ok(Self::Pending),
            "done" => Ok(Self::Done),
            "failed" => Ok(Self::Failed),
            other => Err(StorageError::Corrupt(format!("inbox status {other}"))),
        }
    }
}

/// One stored update.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to, when it has one.
    pub chat_id: Option<i64>,
    /// The update exactly as Telegram sent it (JSON).
    pub payload: String,
    /// Where it stands.
    pub status: InboxStatus,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it was stored (ms).
    pub received_at: i64,
    /// When it may be tried again (ms; 0 = at once).
    pub next_attempt_at: i64,
}

fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name() == "PostgreSQL"
}

fn row_to_inbox(r: &sqlx::any::AnyRow) -> Result<InboxRow, StorageError> {
    let status: String = r.try_get("status")?;
    Ok(InboxRow {
        update_id: r.try_get("update_id")?,
        chat_id: r.try_get("chat_id")?,
        payload: r.try_get("payload")?,
        status: InboxStatus::parse(&status)?,
        attempts: r.try_get("attempts")?,
        received_at: r.try_get("received_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
    })
}

const COLUMNS: &str = "update_id, chat_id, payload, status, attempts, received_at, next_attempt_at";

/// Stores an update unless one with the same id is already stored (a
/// redelivery). Returns whether it was new.
pub async fn insert(
    conn: &mut Conn,
    update_id: i64,
    chat_id: Option<i64>,
    payload: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO inbox (update_id, chat_id, payload, status, attempts, received_at)
         VALUES ($1, $2, $3, 'pending', 0, $4)
         ON CONFLICT (update_id) DO NOTHING",
    )
    .bind(update_id)
    .bind(chat_id)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| super::classify(e, "inbox update"))?;
    Ok(done.rows_affected() == 1)
}

/// One update to store with [`insert_many`].
#[derive(Debug, Clone, Copy)]
pub struct NewUpdate<'a> {
    /// Telegram's update id.
    pub update_id: i64,
    /// The chat it belongs to, when it has one.
    pub chat_id: Option<i64>,
    /// The update as Telegram sent it (JSON).
    pub payload: &'a str,
}

/// Stores several updates with one statement per 100 (updates already
/// stored are skipped, as by [`insert`]). Returns how many were new.
pub async fn insert_many(
    conn: &mut Conn,
    updates: &[NewUpdate<'_>],
    now: i64,
) -> Result<u64, StorageError> {
    let mut new = 0;
    for chunk in updates.chunks(100) {
        // $1 is `now`; each row binds three more.
        let values = super::value_rows(chunk.len(), 3, 1, "$1, 'pending', 0");
        let sql = format!(
            "INSERT INTO inbox (update_id, chat_id, payload, received_at, status, attempts)
             VALUES {values}
             ON CONFLICT (update_id) DO NOTHING"
        );
        let mut q = sqlx::query(&sql).bind(now);
        for u in chunk {
            q = q.bind(u.update_id).bind(u.chat_id).bind(u.payload);
        }
        let done = q
            .execute(&mut *conn)
            .await
            .map_err(|e| super::classify(e, "inbox update"))?;
        new += done.rows_affected();
    }
    Ok(new)
}

/// The offset the next getUpdates should send (0 before the first update).
pub async fn poll_offset(conn: &mut Conn) -> Result<i64, StorageError> {
    super::meta_get(conn, POLL_OFFSET_KEY).await
}

/// Moves the polling offset forward to `next` (never backwards).
pub async fn advance_poll_offset(conn: &mut Conn, next: i64) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value =
             CASE WHEN excluded.value > meta.value THEN excluded.value ELSE meta.value END",
    )
    .bind(POLL_OFFSET_KEY)
    .bind(next)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Chats whose oldest pending update is due (not waiting out a retry
/// delay), oldest first. `None` stands for updates that belong to no chat.
pub async fn pending_chats(
    conn: &mut Conn,
    now: i64,
    limit: i64,
) -> Result<Vec<Option<i64>>, StorageError> {
    let rows = sqlx::query(
        "SELECT i.chat_id FROM inbox i
         WHERE i.status = 'pending' AND i.next_attempt_at <= $1
           AND NOT EXISTS (SELECT 1 FROM inbox j WHERE j.status = 'pending'
                           AND j.chat_id = i.chat_id AND j.update_id < i.update_id)
         ORDER BY i.update_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Option<i64>> = Vec::with_capacity(rows.len());
    for r in &rows {
        let chat: Option<i64> = r.try_get("chat_id")?;
        // Updates without a chat are not ordered; list them once.
        if !out.contains(&chat) {
            out.push(chat);
        }
    }
    Ok(out)
}

/// The lowest pending update of a chat, locked until the transaction ends
/// (PostgreSQL: another instance asking for the same chat waits, then finds
/// the row done and gets the next one only after this commit, so one chat's
/// updates are applied in order by whoever gets there; SQLite's single
/// writer gives the same guarantee).
pub async fn lock_next_for_chat(
    conn: &mut Conn,
    chat_id: Option<i64>,
) -> Result<Option<InboxRow>, StorageError> {
    let lock = if is_postgres(conn) { " FOR UPDATE" } else { "" };
    let row = match chat_id {
        Some(id) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM inbox WHERE chat_id = $1 AND status = 'pending'
                 ORDER BY update_id LIMIT 1{lock}"
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM inbox WHERE chat_id IS NULL AND status = 'pending'
                 ORDER BY update_id LIMIT 1{lock}"
            ))
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    row.as_ref().map(row_to_inbox).transpose()
}

/// Up to `limit` updates that may be applied now, oldest first: per chat
/// only the lowest pending one (so one chat's updates stay in order), none
/// waiting out a retry delay; locked until the transaction ends, in the
/// same statement. On PostgreSQL a row another instance (or batch) holds
/// is skipped rather than waited for: that one is applying it, and this
/// chat's next update stays ineligible until it commits, because the
/// earlier one is still pending here. On SQLite the caller's `BEGIN
/// IMMEDIATE` has excluded every other writer, so nothing needs locking.
pub async fn take_batch(
    conn: &mut Conn,
    now: i64,
    limit: i64,
) -> Result<Vec<InboxRow>, StorageError> {
    let lock = if is_postgres(conn) {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbox i
         WHERE i.status = 'pending' AND i.next_attempt_at <= $1
           AND NOT EXISTS (SELECT 1 FROM inbox j WHERE j.status = 'pending'
                           AND j.chat_id = i.chat_id AND j.update_id < i.update_id)
         ORDER BY i.update_id LIMIT $2{lock}"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_inbox).collect()
}

/// Marks updates applied (the caller holds them locked, so they are still
/// pending). One statement per 500.
pub async fn mark_done_many(
    conn: &mut Conn,
    update_ids: &[i64],
    now: i64,
) -> Result<(), StorageError> {
    super::execute_for_ids(
        conn,
        "UPDATE inbox SET status = 'done', applied_at = $1, error = NULL
         WHERE status = 'pending' AND update_id IN (",
        &[now],
        update_ids,
    )
    .await
}

/// Marks an update applied, only if it is still pending. Returns false when
/// someone else applied it first (the caller must roll back).
pub async fn mark_done(conn: &mut Conn, update_id: i64, now: i64) -> Result<bool, StorageError> {
    let r = sqlx::query(
        "UPDATE inbox SET status = 'done', applied_at = $2, error = NULL
         WHERE update_id = $1 AND status = 'pending'",
    )
    .bind(update_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failed attempt: the update is retried at `next_attempt_at`, or
/// marked failed once it has been tried `max_attempts` times. Returns the
/// new status.
pub async fn record_failure(
    conn: &mut Conn,
    update_id: i64,
    max_attempts: i64,
    next_attempt_at: i64,
    error: &str,
) -> Result<InboxStatus, StorageError> {
    let row = sqlx::query(
        "UPDATE inbox SET attempts = attempts + 1, next_attempt_at = $2, error = $3,
             status = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE 'pending' END
         WHERE update_id = $1 AND status = 'pending'
         RETURNING status",
    )
    .bind(update_id)
    .bind(next_attempt_at)
    .bind(error)
    .bind(max_attempts)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => InboxStatus::parse(&r.try_get::<String, _>("status")?),
        None => Ok(InboxStatus::Done),
    }
}

/// One stored update by id.
pub async fn get(conn: &mut Conn, update_id: i64) -> Result<Option<InboxRow>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM inbox WHERE update_id = $1"))
        .bind(update_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_inbox).transpose()
}

/// How many updates are in each state: (pending, done, failed).
pub async fn counts(conn: &mut Conn) -> Result<(i64, i64, i64), StorageError> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    let (mut p, mut d, mut f) = (0, 0, 0);
    for r in &rows {
        let n: i64 = r.try_get("n")?;
        match InboxStatus::parse(&r.try_get::<String, _>("status")?)? {
            InboxStatus::Pending => p = n,
            InboxStatus::Done => d = n,
            InboxStatus::Failed => f = n,
        }
    }
    Ok((p, d, f))
}
