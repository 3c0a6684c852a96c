//! Cases as the admin API reads and changes them: filtered lists with
//! cursor paging, the timeline, and the three admin transitions (reassign,
//! escalate, close), each written as state change plus timeline event so the
//! caller can add its audit row in the same transaction.

use super::{classify, flag, get_flag, get_opt_flag, BindOptF64, Conn, StorageError};
use crate::domain::{CaseStatus, CommitteeId};
use sqlx::Row;

/// A case row with everything the admin API shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// Row id (never shown to people; used for paging and joins).
    pub id: i64,
    /// The number read aloud.
    pub case_number: String,
    /// Language of the resident.
    pub language: String,
    /// Category code.
    pub category: String,
    /// What happened (personal data).
    pub description: String,
    /// The other party (personal data).
    pub other_party: String,
    /// People involved.
    pub party_count: i64,
    /// Where it happened (personal data).
    pub lat: Option<f64>,
    /// Where it happened (personal data).
    pub lon: Option<f64>,
    /// `shared`, `region` or `address`.
    pub location_source: String,
    /// Typed address (personal data).
    pub address: String,
    /// Region code.
    pub region_code: String,
    /// Anyone at risk of harm.
    pub at_risk: bool,
    /// Resident's phone (personal data).
    pub contact_phone: Option<String>,
    /// Status code.
    pub status: String,
    /// The committee holding it.
    pub committee_id: Option<i64>,
    /// The mediator who accepted it.
    pub mediator_id: Option<i64>,
    /// The rule that routed it.
    pub rule_id: Option<i64>,
    /// Instants, ms.
    pub submitted_at: i64,
    /// When assigned.
    pub assigned_at: Option<i64>,
    /// When accepted.
    pub accepted_at: Option<i64>,
    /// When resolved.
    pub resolved_at: Option<i64>,
    /// When closed.
    pub closed_at: Option<i64>,
    /// Accept by.
    pub accept_deadline: Option<i64>,
    /// Resolve by.
    pub resolve_deadline: Option<i64>,
    /// Outcome code.
    pub outcome: Option<String>,
    /// Satisfaction 1–5.
    pub rating: Option<i64>,
    /// `full`, `partial`, `none`.
    pub fulfilment: Option<String>,
    /// Whether judicial confirmation was asked for.
    pub judicial_confirmation: Option<bool>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Last change, ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, case_number, language, category, description, other_party, party_count, \
    lat, lon, location_source, address, region_code, at_risk, contact_phone, status, committee_id, \
    mediator_id, rule_id, submitted_at, assigned_at, accepted_at, resolved_at, closed_at, \
    accept_deadline, resolve_deadline, outcome, rating, fulfilment, judicial_confirmation, version, \
    updated_at";

fn row_to_case(r: &sqlx::any::AnyRow) -> Result<CaseRecord, StorageError> {
    Ok(CaseRecord {
        id: r.try_get("id")?,
        case_number: r.try_get("case_number")?,
        language: r.try_get("language")?,
        category: r.try_get("category")?,
        description: r.try_get("description")?,
        other_party: r.try_get("other_party")?,
        party_count: r.try_get("party_count")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        location_source: r.try_get("location_source")?,
        address: r.try_get("address")?,
        region_code: r.try_get("region_code")?,
        at_risk: get_flag(r, "at_risk")?,
        contact_phone: r.try_get("contact_phone")?,
        status: r.try_get("status")?,
        committee_id: r.try_get("committee_id")?,
        mediator_id: r.try_get("mediator_id")?,
        rule_id: r.try_get("rule_id")?,
        submitted_at: r.try_get("submitted_at")?,
        assigned_at: r.try_get("assigned_at")?,
        accepted_at: r.try_get("accepted_at")?,
        resolved_at: r.try_get("resolved_at")?,
        closed_at: r.try_get("closed_at")?,
        accept_deadline: r.try_get("accept_deadline")?,
        resolve_deadline: r.try_get("resolve_deadline")?,
        outcome: r.try_get("outcome")?,
        rating: r.try_get("rating")?,
        fulfilment: r.try_get("fulfilment")?,
        judicial_confirmation: get_opt_flag(r, "judicial_confirmation")?,
        version: r.try_get("version")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Which cases a list shows. Unset fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Any of these statuses (empty: all).
    pub statuses: Vec<CaseStatus>,
    /// This category code.
    pub category: Option<String>,
    /// Region-code prefix.
    pub region_prefix: Option<String>,
    /// Held by this committee.
    pub committee_id: Option<CommitteeId>,
    /// Submitted at or after, ms.
    pub submitted_from: Option<i64>,
    /// Submitted before, ms.
    pub submitted_to: Option<i64>,
    /// Only cases past their accept or resolve deadline (true) or only
    /// cases that are not (false).
    pub overdue: Option<bool>,
    /// Only cases with this at-risk flag.
    pub at_risk: Option<bool>,
}

/// SQL for "past a deadline now": waiting for acceptance past the accept
/// deadline, or being worked on past the resolve deadline. `$1` is now.
pub const OVERDUE_SQL: &str = "((status = 'assigned' AND accept_deadline IS NOT NULL AND accept_deadline < $1)
      OR (status IN ('accepted', 'scheduled') AND resolve_deadline IS NOT NULL AND resolve_deadline < $1))";

/// Cases matching `filter`, newest first, with ids below `before_id`.
pub async fn list(
    conn: &mut Conn,
    filter: &CaseFilter,
    now: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<CaseRecord>, StorageError> {
    // Every condition is present with a "not set" escape so the statement
    // text is fixed and every value is bound.
    let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.code()).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM cases
         WHERE id < $2
           AND ($3 = '' OR (',' || $3 || ',') LIKE ('%,' || status || ',%'))
           AND ($4 = '' OR category = $4)
           AND region_code LIKE $5
           AND ($6 = 0 OR committee_id = $6)
           AND submitted_at >= $7 AND submitted_at < $8
           AND ($9 = 0 OR ($9 = 1 AND {OVERDUE_SQL}) OR ($9 = 2 AND NOT {OVERDUE_SQL}))
           AND ($10 = -1 OR at_risk = $10)
         ORDER BY id DESC LIMIT $11"
    );
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(statuses.join(","))
        .bind(filter.category.clone().unwrap_or_default())
        .bind(format!(
            "{}%",
            filter.region_prefix.clone().unwrap_or_default()
        ))
        .bind(filter.committee_id.unwrap_or(0))
        .bind(filter.submitted_from.unwrap_or(i64::MIN))
        .bind(filter.submitted_to.unwrap_or(i64::MAX))
        .bind(match filter.overdue {
            None => 0_i64,
            Some(true) => 1,
            Some(false) => 2,
        })
        .bind(filter.at_risk.map(flag).unwrap_or(-1))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row_to_case).collect()
}

/// One case by its number.
pub async fn get_by_number(
    conn: &mut Conn,
    case_number: &str,
) -> Result<Option<CaseRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cases WHERE case_number = $1"
    ))
    .bind(case_number)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_case).transpose()
}

/// The timeline of a case, oldest first (the same rows the lifecycle reads).
pub use super::cases::{events, CaseEvent};

/// One attachment of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// Row id.
    pub id: i64,
    /// `photo`, `document`, `voice`, `video`.
    pub kind: String,
    /// Telegram file id.
    pub file_id: String,
    /// Caption typed with it (personal data).
    pub caption: String,
    /// When, ms.
    pub created_at: i64,
}

/// The attachments of a case, oldest first.
pub async fn attachments(conn: &mut Conn, case_id: i64) -> Result<Vec<Attachment>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, kind, file_id, caption, created_at FROM case_attachments
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Attachment {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                file_id: r.try_get("file_id")?,
                caption: r.try_get("caption")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Committees that declined the case (escalation skips them).
pub async fn declined_committees(
    conn: &mut Conn,
    case_id: i64,
) -> Result<Vec<CommitteeId>, StorageError> {
    let v: Vec<i64> =
        sqlx::query_scalar("SELECT committee_id FROM case_declines WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(v)
}

/// A new timeline entry written by an admin transition.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// When, ms.
    pub at: i64,
    /// `admin` for the admin API.
    pub actor_kind: &'a str,
    /// The token's name.
    pub actor_id: &'a str,
    /// What happened.
    pub kind: &'a str,
    /// Status before.
    pub from_status: CaseStatus,
    /// Status after.
    pub to_status: CaseStatus,
    /// The committee concerned.
    pub committee_id: Option<CommitteeId>,
    /// Why.
    pub reason: &'a str,
    /// Extra details.
    pub details: serde_json::Value,
}

async fn insert_event(conn: &mut Conn, case_id: i64, e: &NewEvent<'_>) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor_kind, actor_id, kind, from_status, to_status,
                                  committee_id, reason, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(case_id)
    .bind(e.at)
    .bind(e.actor_kind)
    .bind(e.actor_id)
    .bind(e.kind)
    .bind(e.from_status.code())
    .bind(e.to_status.code())
    .bind(e.committee_id)
    .bind(e.reason)
    .bind(e.details.to_string())
    .execute(&mut *conn)
    .await
    .map_err(|err| classify(err, "case event"))?;
    Ok(())
}

/// Gives the case to `committee_id` (status `assigned`, no mediator yet, a
/// fresh accept deadline) and records `event`. `expected_version` guards
/// against a concurrent change: a moved version is [`StorageError::Stale`].
pub async fn assign(
    conn: &mut Conn,
    case: &CaseRecord,
    committee_id: CommitteeId,
    rule_id: Option<i64>,
    accept_deadline: i64,
    event: &NewEvent<'_>,
) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'assigned', committee_id = $3, mediator_id = NULL, rule_id = $4,
            assigned_at = $5, accepted_at = NULL, scheduled_at = NULL, scheduled_place = NULL,
            accept_deadline = $6, version = version + 1, updated_at = $5
         WHERE id = $1 AND version = $2",
    )
    .bind(case.id)
    .bind(case.version)
    .bind(committee_id)
    .bind(rule_id)
    .bind(event.at)
    .bind(accept_deadline)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "committee_id"))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Stale(format!("case {}", case.case_number)));
    }
    insert_event(conn, case.id, event).await
}

/// Closes the case with `outcome` and records `event`.
pub async fn close(
    conn: &mut Conn,
    case: &CaseRecord,
    outcome: &str,
    event: &NewEvent<'_>,
) -> Result<(), StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'closed', outcome = $3, closed_at = $4, version = version + 1,
            updated_at = $4
         WHERE id = $1 AND version = $2",
    )
    .bind(case.id)
    .bind(case.version)
    .bind(outcome)
    .bind(event.at)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "outcome"))?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Stale(format!("case {}", case.case_number)));
    }
    insert_event(conn, case.id, event).await
}

/// A case to insert directly, for test setup and data migration tools (the
/// resident's filing flow has its own storage functions).
#[derive(Debug, Clone)]
pub struct SeedCase {
    /// The number.
    pub case_number: String,
    /// Category code.
    pub category: String,
    /// What happened.
    pub description: String,
    /// The other party.
    pub other_party: String,
    /// People involved.
    pub party_count: i64,
    /// Where.
    pub lat: Option<f64>,
    /// Where.
    pub lon: Option<f64>,
    /// Typed address.
    pub address: String,
    /// Region code.
    pub region_code: String,
    /// At risk of harm.
    pub at_risk: bool,
    /// Resident's phone.
    pub contact_phone: Option<String>,
    /// Status code.
    pub status: CaseStatus,
    /// Committee holding it.
    pub committee_id: Option<i64>,
    /// Instants, ms.
    pub submitted_at: i64,
    /// When assigned.
    pub assigned_at: Option<i64>,
    /// When accepted.
    pub accepted_at: Option<i64>,
    /// When resolved.
    pub resolved_at: Option<i64>,
    /// Accept by.
    pub accept_deadline: Option<i64>,
    /// Resolve by.
    pub resolve_deadline: Option<i64>,
    /// Rating.
    pub rating: Option<i64>,
    /// Fulfilment code.
    pub fulfilment: Option<String>,
}

/// Inserts a case as given, with a `submitted` timeline event; returns its id.
pub async fn insert_seed_case(conn: &mut Conn, c: &SeedCase) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (case_number, category, description, other_party, party_count, lat, lon,
            location_source, address, region_code, at_risk, contact_phone, status, committee_id,
            submitted_at, assigned_at, accepted_at, resolved_at, accept_deadline, resolve_deadline,
            rating, fulfilment, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'address', $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $17, $18, $19, $20, $21, $14)
         RETURNING id",
    )
    .bind(&c.case_number)
    .bind(&c.category)
    .bind(&c.description)
    .bind(&c.other_party)
    .bind(c.party_count)
    .bind_opt_f64(c.lat)
    .bind_opt_f64(c.lon)
    .bind(&c.address)
    .bind(&c.region_code)
    .bind(flag(c.at_risk))
    .bind(c.contact_phone.clone())
    .bind(c.status.code())
    .bind(c.committee_id)
    .bind(c.submitted_at)
    .bind(c.assigned_at)
    .bind(c.accepted_at)
    .bind(c.resolved_at)
    .bind(c.accept_deadline)
    .bind(c.resolve_deadline)
    .bind(c.rating)
    .bind(c.fulfilment.clone())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, &format!("case {}", c.case_number)))?;
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor_kind, kind, to_status, committee_id)
         VALUES ($1, $2, 'resident', 'submitted', $3, $4)",
    )
    .bind(id)
    .bind(c.submitted_at)
    .bind(c.status.code())
    .bind(c.committee_id)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Records a timeline event on a case directly (test setup and tools).
pub async fn insert_seed_event(
    conn: &mut Conn,
    case_id: i64,
    event: &NewEvent<'_>,
) -> Result<(), StorageError> {
    insert_event(conn, case_id, event).await
}
