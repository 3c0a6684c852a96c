//! Admin API tokens, stored as SHA-256 hashes of the random secret.

use super::{classify, Conn, StorageError};
use sqlx::Row;

/// A stored token (never the secret itself).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenRecord {
    /// Row id.
    pub id: i64,
    /// A name saying whose it is.
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// When created, ms.
    pub created_at: i64,
    /// When last used, ms.
    pub last_used_at: Option<i64>,
    /// When revoked, ms.
    pub revoked_at: Option<i64>,
}

fn row_to_token(r: &sqlx::any::AnyRow) -> Result<TokenRecord, StorageError> {
    Ok(TokenRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Stores a new token by its hash.
pub async fn insert(
    conn: &mut Conn,
    name: &str,
    role: &str,
    token_hash: &str,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO admin_tokens (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(name)
    .bind(role)
    .bind(token_hash)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "token"))?;
    Ok(id)
}

/// The live (not revoked) token with this hash.
pub async fn find_live(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<TokenRecord>, StorageError> {
    let row = sqlx::query(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM admin_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_token).transpose()
}

/// Notes that a token was used.
pub async fn touch(conn: &mut Conn, id: i64, now: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE admin_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every token, newest first.
pub async fn list(conn: &mut Conn) -> Result<Vec<TokenRecord>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY id DESC",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_token).collect()
}

/// Revokes a token; false when there was no live token with that id.
pub async fn revoke(conn: &mut Conn, id: i64, now: i64) -> Result<bool, StorageError> {
    let done =
        sqlx::query("UPDATE admin_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}
