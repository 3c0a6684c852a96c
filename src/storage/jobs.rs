//! Bookkeeping that makes a scheduled action happen once, even when several
//! instances run the same sweeper against one database.

use super::{Conn, StorageError};

/// Claims `key` (e.g. `accept-deadline:42:3`) inside the caller's
/// transaction. Returns true for exactly one caller per key; the action and
/// the claim commit together, so a crash before commit leaves the key free.
pub async fn claim_once(conn: &mut Conn, key: &str, now: i64) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO jobs_done (job_key, done_at) VALUES ($1, $2) ON CONFLICT (job_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets claims older than `before` (they are only needed while their
/// deadline could still be seen as due).
pub async fn forget_before(conn: &mut Conn, before: i64) -> Result<u64, StorageError> {
    let done = sqlx::query("DELETE FROM jobs_done WHERE done_at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
