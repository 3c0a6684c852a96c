//! The raw facts periodic reports are computed from. The definitions of the
//! figures live in `oversight::reports` (and docs/reports.md); this module
//! only fetches rows in one scope (a region-code prefix).

use super::{Conn, StorageError};
use crate::domain::{CaseStatus, Category, RegionCode};
use sqlx::Row;

/// One case as a report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFact {
    /// Row id.
    pub id: i64,
    /// Category.
    pub category: Category,
    /// Region.
    pub region_code: RegionCode,
    /// Filing instant.
    pub submitted_at: i64,
    /// Status at the end of the report period: the `to_status` of its last
    /// status-changing timeline event before that instant.
    pub status_at_end: CaseStatus,
    /// Status at the start of the report period (= end of the previous one).
    pub status_at_start: Option<CaseStatus>,
    /// Accept deadline as stored.
    pub accept_deadline: Option<i64>,
    /// Resolve deadline as stored.
    pub resolve_deadline: Option<i64>,
}

/// A mediation outcome: a timeline event that moved a case to `resolved`
/// or `failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeEvent {
    /// The case.
    pub case_id: i64,
    /// When.
    pub at: i64,
    /// `Resolved` or `Failed`.
    pub to_status: CaseStatus,
    /// The case's category.
    pub category: Category,
    /// The case's region.
    pub region_code: RegionCode,
}

fn corrupt(e: crate::domain::DomainError) -> StorageError {
    StorageError::Corrupt(e.to_string())
}

fn status_at(col: &str, bound: &str) -> String {
    format!(
        "(SELECT e.to_status FROM case_events e
          WHERE e.case_id = c.id AND e.to_status IS NOT NULL AND e.at < {bound}
          ORDER BY e.at DESC, e.id DESC LIMIT 1) AS {col}"
    )
}

/// Every case in scope filed before `end`, with its status at `start` and
/// at `end` (from the timeline).
pub async fn case_facts(
    conn: &mut Conn,
    region_prefix: &str,
    start: i64,
    end: i64,
) -> Result<Vec<CaseFact>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT c.id, c.category, c.region_code, c.submitted_at, c.accept_deadline,
                c.resolve_deadline, {}, {}
         FROM cases c
         WHERE c.submitted_at < $2 AND c.region_code LIKE $3
         ORDER BY c.id",
        status_at("status_at_start", "$1"),
        status_at("status_at_end", "$2"),
    ))
    .bind(start)
    .bind(end)
    .bind(format!("{region_prefix}%"))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let category: String = r.try_get("category")?;
            let region: String = r.try_get("region_code")?;
            let at_end: Option<String> = r.try_get("status_at_end")?;
            let at_start: Option<String> = r.try_get("status_at_start")?;
            let submitted_at: i64 = r.try_get("submitted_at")?;
            Ok(CaseFact {
                id: r.try_get("id")?,
                category: Category::parse(&category).map_err(corrupt)?,
                region_code: RegionCode::parse(&region).map_err(corrupt)?,
                submitted_at,
                // A case without any status event yet is as filed.
                status_at_end: at_end
                    .map(|s| CaseStatus::parse(&s))
                    .transpose()
                    .map_err(corrupt)?
                    .unwrap_or(CaseStatus::Submitted),
                status_at_start: match at_start {
                    Some(s) => Some(CaseStatus::parse(&s).map_err(corrupt)?),
                    None if submitted_at < start => Some(CaseStatus::Submitted),
                    None => None,
                },
                accept_deadline: r.try_get("accept_deadline")?,
                resolve_deadline: r.try_get("resolve_deadline")?,
            })
        })
        .collect()
}

/// Outcome events in `[from, to)` of cases in scope, ordered by case, then
/// time.
pub async fn outcome_events(
    conn: &mut Conn,
    region_prefix: &str,
    from: i64,
    to: i64,
) -> Result<Vec<OutcomeEvent>, StorageError> {
    let rows = sqlx::query(
        "SELECT e.case_id, e.at, e.to_status, c.category, c.region_code
         FROM case_events e JOIN cases c ON c.id = e.case_id
         WHERE e.to_status IN ('resolved', 'failed') AND e.at >= $1 AND e.at < $2
           AND c.region_code LIKE $3
         ORDER BY e.case_id, e.at, e.id",
    )
    .bind(from)
    .bind(to)
    .bind(format!("{region_prefix}%"))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("to_status")?;
            let category: String = r.try_get("category")?;
            let region: String = r.try_get("region_code")?;
            Ok(OutcomeEvent {
                case_id: r.try_get("case_id")?,
                at: r.try_get("at")?,
                to_status: CaseStatus::parse(&status).map_err(corrupt)?,
                category: Category::parse(&category).map_err(corrupt)?,
                region_code: RegionCode::parse(&region).map_err(corrupt)?,
            })
        })
        .collect()
}

/// Name, level and population of every county and township region under a
/// prefix (the areas a report breaks down by).
pub async fn area_regions(
    conn: &mut Conn,
    region_prefix: &str,
) -> Result<Vec<(RegionCode, String, Option<i64>)>, StorageError> {
    let rows = sqlx::query(
        "SELECT code, name, population FROM regions
         WHERE code LIKE $1 AND level IN ('county', 'township') ORDER BY code",
    )
    .bind(format!("{region_prefix}%"))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let code: String = r.try_get("code")?;
            Ok((
                RegionCode::parse(&code).map_err(corrupt)?,
                r.try_get("name")?,
                r.try_get("population")?,
            ))
        })
        .collect()
}
