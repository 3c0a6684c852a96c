//! Pieces for applying several units of work in one transaction, and the
//! durable-commit probe the load tool measures its floor with.
//!
//! Savepoints let one update's handler fail without undoing the other
//! updates of the same batch: its effects are rolled back to the savepoint
//! and the rest of the transaction stays usable (on PostgreSQL a failed
//! statement otherwise aborts the whole transaction).

use super::{Conn, StorageError};

/// Savepoint names are fixed identifiers chosen by the caller, never input.
fn checked(name: &str) -> Result<&str, StorageError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(name)
    } else {
        Err(StorageError::Corrupt(format!("savepoint name {name:?}")))
    }
}

/// `SAVEPOINT name`.
pub async fn savepoint(conn: &mut Conn, name: &str) -> Result<(), StorageError> {
    sqlx::query(&format!("SAVEPOINT {}", checked(name)?))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Undoes everything since `SAVEPOINT name` and forgets the savepoint; the
/// transaction goes on.
pub async fn rollback_to(conn: &mut Conn, name: &str) -> Result<(), StorageError> {
    let name = checked(name)?;
    sqlx::query(&format!("ROLLBACK TO SAVEPOINT {name}"))
        .execute(&mut *conn)
        .await?;
    release(conn, name).await
}

/// Keeps everything since `SAVEPOINT name` as part of the transaction.
pub async fn release(conn: &mut Conn, name: &str) -> Result<(), StorageError> {
    sqlx::query(&format!("RELEASE SAVEPOINT {}", checked(name)?))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates the probe table used to measure single-row durable commits
/// (outside the migrations: it is scratch space for measurements only).
pub async fn create_commit_probe(conn: &mut Conn) -> Result<(), StorageError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS commit_probe (id BIGINT PRIMARY KEY, at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts one probe row (the caller commits it on its own).
pub async fn insert_commit_probe(conn: &mut Conn, id: i64, at: i64) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO commit_probe (id, at) VALUES ($1, $2)")
        .bind(id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drops the probe table.
pub async fn drop_commit_probe(conn: &mut Conn) -> Result<(), StorageError> {
    sqlx::query("DROP TABLE IF EXISTS commit_probe")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
