//! Statistics over cases for the admin API and the metrics endpoint.
//!
//! Every function reads; none writes. Periods are half-open `[from, to)` in
//! ms since the epoch, and `region` is a region-code prefix (empty: all).
//! The definitions of the derived numbers (化解率, medians, breaches) are
//! documented on the admin API's statistics endpoint; this module returns
//! the raw counts and durations they are computed from.

use super::{Conn, StorageError};
use sqlx::Row;

/// The period and region a statistic is taken over.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Start, inclusive, ms.
    pub from: i64,
    /// End, exclusive, ms.
    pub to: i64,
    /// Region-code prefix; empty for every region.
    pub region_prefix: String,
}

impl Scope {
    fn like(&self) -> String {
        format!("{}%", self.region_prefix)
    }
}

/// Outgoing messages not yet sent.
pub async fn outbox_depth(conn: &mut Conn) -> Result<i64, StorageError> {
    // Through the due range's index.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status || '' = 'pending'")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Filed cases the early-warning worker has not handled yet.
pub async fn early_warning_depth(conn: &mut Conn) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM early_warning_queue")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Every case by status, whatever its age.
pub async fn case_status_counts(conn: &mut Conn) -> Result<Vec<(String, i64)>, StorageError> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM cases GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
        .collect()
}

/// Cases submitted in the scope, grouped by `dimension`, largest group first.
/// `dimension` is one of `status`, `category`, `township` (the first nine
/// digits of the case's region code) and `committee` (its id, 0 for none).
pub async fn submitted_by(
    conn: &mut Conn,
    scope: &Scope,
    dimension: &str,
) -> Result<Vec<(String, i64)>, StorageError> {
    // The expression is chosen from a fixed list, never from input.
    let expr = match dimension {
        "status" => "status",
        "category" => "category",
        "township" => "SUBSTR(region_code, 1, 9)",
        _ => "CAST(COALESCE(committee_id, 0) AS TEXT)",
    };
    let rows = sqlx::query(&format!(
        "SELECT {expr} AS k, COUNT(*) AS n FROM cases
         WHERE submitted_at >= $1 AND submitted_at < $2 AND region_code LIKE $3
         GROUP BY {expr} ORDER BY n DESC, k"
    ))
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
        .collect()
}

/// Cases resolved (agreement reached) in the scope: `resolved_at` in the period.
pub async fn resolved_in(conn: &mut Conn, scope: &Scope) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases
         WHERE resolved_at >= $1 AND resolved_at < $2 AND region_code LIKE $3",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Cases whose mediation failed in the scope: a timeline event into
/// `failed` in the period, on a case that never reached agreement.
pub async fn failed_in(conn: &mut Conn, scope: &Scope) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT c.id) FROM cases c JOIN case_events e ON e.case_id = c.id
         WHERE e.to_status = 'failed' AND e.at >= $1 AND e.at < $2
           AND c.resolved_at IS NULL AND c.region_code LIKE $3",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Milliseconds from assignment to acceptance, for cases accepted in the scope.
pub async fn accept_durations(conn: &mut Conn, scope: &Scope) -> Result<Vec<i64>, StorageError> {
    let v: Vec<i64> = sqlx::query_scalar(
        "SELECT accepted_at - assigned_at FROM cases
         WHERE accepted_at >= $1 AND accepted_at < $2 AND assigned_at IS NOT NULL
           AND region_code LIKE $3",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_all(&mut *conn)
    .await?;
    Ok(v)
}

/// Milliseconds from submission to resolution, for cases resolved in the scope.
pub async fn resolve_durations(conn: &mut Conn, scope: &Scope) -> Result<Vec<i64>, StorageError> {
    let v: Vec<i64> = sqlx::query_scalar(
        "SELECT resolved_at - submitted_at FROM cases
         WHERE resolved_at >= $1 AND resolved_at < $2 AND region_code LIKE $3",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_all(&mut *conn)
    .await?;
    Ok(v)
}

/// Accept-deadline breaches: the deadline fell in the scope and before
/// `now`, and the case was not accepted by then (accepted late, or never
/// while it waited assigned).
pub async fn accept_breaches(
    conn: &mut Conn,
    scope: &Scope,
    now: i64,
) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases
         WHERE accept_deadline >= $1 AND accept_deadline < $2 AND accept_deadline < $4
           AND region_code LIKE $3
           AND ((accepted_at IS NOT NULL AND accepted_at > accept_deadline)
                OR (accepted_at IS NULL AND status = 'assigned'))",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Resolve-deadline breaches: the deadline fell in the scope and before
/// `now`, and the case was resolved after it or is still being worked on.
pub async fn resolve_breaches(
    conn: &mut Conn,
    scope: &Scope,
    now: i64,
) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases
         WHERE resolve_deadline >= $1 AND resolve_deadline < $2 AND resolve_deadline < $4
           AND region_code LIKE $3
           AND ((resolved_at IS NOT NULL AND resolved_at > resolve_deadline)
                OR (resolved_at IS NULL AND status IN ('assigned', 'accepted', 'scheduled')))",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Ratings (1–5) of cases resolved in the scope: `(rating, count)`.
pub async fn ratings(conn: &mut Conn, scope: &Scope) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT rating, COUNT(*) AS n FROM cases
         WHERE rating IS NOT NULL AND resolved_at >= $1 AND resolved_at < $2
           AND region_code LIKE $3
         GROUP BY rating ORDER BY rating",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("rating")?, r.try_get("n")?)))
        .collect()
}

/// Fulfilment answers (`full`, `partial`, `none`) of cases resolved in the
/// scope: `(answer, count)`.
pub async fn fulfilment(
    conn: &mut Conn,
    scope: &Scope,
) -> Result<Vec<(String, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT fulfilment, COUNT(*) AS n FROM cases
         WHERE fulfilment IS NOT NULL AND resolved_at >= $1 AND resolved_at < $2
           AND region_code LIKE $3
         GROUP BY fulfilment ORDER BY fulfilment",
    )
    .bind(scope.from)
    .bind(scope.to)
    .bind(scope.like())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("fulfilment")?, r.try_get("n")?)))
        .collect()
}
