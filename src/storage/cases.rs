//! Cases, their timeline and attachments.

use super::{classify, flag, get_flag, BindOptF64, Conn, StorageError};
use crate::domain::{CaseNumber, CaseStatus, Category, CommitteeId, GeoPoint, RegionCode};
use sqlx::Row;

/// A case as stored (the fields the resident and mediator sides use).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// Row id (never shown to people).
    pub id: i64,
    /// The number read aloud.
    pub number: CaseNumber,
    /// Who filed it.
    pub resident_id: Option<i64>,
    /// The resident's language when filing.
    pub language: String,
    /// Category.
    pub category: Category,
    /// What happened, as typed.
    pub description: String,
    /// The other party, as typed.
    pub other_party: String,
    /// People involved.
    pub party_count: i64,
    /// Shared location or picked region's centroid.
    pub point: Option<GeoPoint>,
    /// `shared`, `region` or `address`.
    pub location_source: String,
    /// Typed address, if any.
    pub address: String,
    /// Region it happened in.
    pub region_code: RegionCode,
    /// Anyone at risk of harm.
    pub at_risk: bool,
    /// Phone the resident left for contact.
    pub contact_phone: Option<String>,
    /// Lifecycle status.
    pub status: CaseStatus,
    /// Committee working it.
    pub committee_id: Option<CommitteeId>,
    /// Mediator who accepted it.
    pub mediator_id: Option<i64>,
    /// Rule that routed it.
    pub rule_id: Option<i64>,
    /// Filing instant.
    pub submitted_at: i64,
    /// Assignment instant.
    pub assigned_at: Option<i64>,
    /// Accept deadline.
    pub accept_deadline: Option<i64>,
    /// Resolve deadline.
    pub resolve_deadline: Option<i64>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A new case row (status `submitted`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewCaseRow {
    /// The number.
    pub number: CaseNumber,
    /// Who files it.
    pub resident_id: i64,
    /// Their language.
    pub language: String,
    /// Category.
    pub category: Category,
    /// What happened.
    pub description: String,
    /// The other party.
    pub other_party: String,
    /// People involved (≥ 1).
    pub party_count: i64,
    /// Location (shared or centroid).
    pub point: Option<GeoPoint>,
    /// `shared`, `region` or `address`.
    pub location_source: String,
    /// Typed address.
    pub address: String,
    /// Region.
    pub region_code: RegionCode,
    /// At risk.
    pub at_risk: bool,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Filing instant.
    pub now: i64,
}

const COLUMNS: &str =
    "id, case_number, resident_id, language, category, description, other_party, \
    party_count, lat, lon, location_source, address, region_code, at_risk, contact_phone, status, \
    committee_id, mediator_id, rule_id, submitted_at, assigned_at, accept_deadline, \
    resolve_deadline, version";

fn row_to_case(r: &sqlx::any::AnyRow) -> Result<CaseRecord, StorageError> {
    let corrupt = |e: crate::domain::DomainError| StorageError::Corrupt(e.to_string());
    let number: String = r.try_get("case_number")?;
    let category: String = r.try_get("category")?;
    let region: String = r.try_get("region_code")?;
    let status: String = r.try_get("status")?;
    let lat: Option<f64> = r.try_get("lat")?;
    let lon: Option<f64> = r.try_get("lon")?;
    Ok(CaseRecord {
        id: r.try_get("id")?,
        number: CaseNumber::parse(&number).map_err(corrupt)?,
        resident_id: r.try_get("resident_id")?,
        language: r.try_get("language")?,
        category: Category::parse(&category).map_err(corrupt)?,
        description: r.try_get("description")?,
        other_party: r.try_get("other_party")?,
        party_count: r.try_get("party_count")?,
        point: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
            _ => None,
        },
        location_source: r.try_get("location_source")?,
        address: r.try_get("address")?,
        region_code: RegionCode::parse(&region).map_err(corrupt)?,
        at_risk: get_flag(r, "at_risk")?,
        contact_phone: r.try_get("contact_phone")?,
        status: CaseStatus::parse(&status).map_err(corrupt)?,
        committee_id: r.try_get("committee_id")?,
        mediator_id: r.try_get("mediator_id")?,
        rule_id: r.try_get("rule_id")?,
        submitted_at: r.try_get("submitted_at")?,
        assigned_at: r.try_get("assigned_at")?,
        accept_deadline: r.try_get("accept_deadline")?,
        resolve_deadline: r.try_get("resolve_deadline")?,
        version: r.try_get("version")?,
    })
}

/// Takes the next sequence number of `county` in `year` (1 for the first
/// case). One statement, so two filings never get the same number.
pub async fn next_sequence(conn: &mut Conn, county: &str, year: i64) -> Result<i64, StorageError> {
    bump_sequence(conn, "VALUES ($1, $2, 1)", county, year).await
}

/// [`next_sequence`] in a PostgreSQL transaction of its own, outside the
/// filing's (see `Lifecycle::with_numbers_from`): one statement, committed
/// on its own. Its commit does not wait for the disk (`synchronous_commit`
/// is set off for that transaction only, by `set_config(…, true)` in the
/// statement itself), and that is safe: the filing that uses the number
/// commits after it, and PostgreSQL's log is flushed in order, so a case
/// that is durable has a durable counter past its number. A crash can only
/// lose numbers no durable case holds.
pub async fn next_sequence_apart(
    storage: &super::Storage,
    county: &str,
    year: i64,
) -> Result<i64, StorageError> {
    let mut conn = storage.acquire().await?;
    let first = "SELECT $1, $2, 1
         FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_wait WHERE true";
    bump_sequence(&mut conn, first, county, year).await
}

/// The counter's upsert, `first` giving the row of a county's first case.
async fn bump_sequence(
    conn: &mut Conn,
    first: &str,
    county: &str,
    year: i64,
) -> Result<i64, StorageError> {
    let seq: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO case_sequences (county_code, year, last_seq) {first}
         ON CONFLICT (county_code, year) DO UPDATE SET last_seq = case_sequences.last_seq + 1
         RETURNING last_seq"
    ))
    .bind(county)
    .bind(year)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "case sequence"))?;
    Ok(seq)
}

/// Inserts a new case in status `submitted` and returns its id.
pub async fn insert(conn: &mut Conn, c: &NewCaseRow) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (case_number, resident_id, language, category, description, other_party,
             party_count, lat, lon, location_source, address, region_code, at_risk, contact_phone,
             status, submitted_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'submitted', $15, $15)
         RETURNING id",
    )
    .bind(c.number.as_str())
    .bind(c.resident_id)
    .bind(&c.language)
    .bind(c.category.code())
    .bind(&c.description)
    .bind(&c.other_party)
    .bind(c.party_count)
    .bind_opt_f64(c.point.map(|p| p.lat))
    .bind_opt_f64(c.point.map(|p| p.lon))
    .bind(&c.location_source)
    .bind(&c.address)
    .bind(c.region_code.as_str())
    .bind(flag(c.at_risk))
    .bind(c.contact_phone.clone())
    .bind(c.now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, &format!("case {}", c.number)))?;
    Ok(id)
}

/// One case by id.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<CaseRecord>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_case).transpose()
}

/// The cases of `ids` that exist, in one statement per 500, by id.
pub async fn get_many(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, CaseRecord>, StorageError> {
    let head = format!("SELECT {COLUMNS} FROM cases WHERE id IN (");
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for r in super::fetch_for_ids(conn, &head, ids).await? {
        let case = row_to_case(&r)?;
        out.insert(case.id, case);
    }
    Ok(out)
}

/// One case by number.
pub async fn get_by_number(
    conn: &mut Conn,
    number: &CaseNumber,
) -> Result<Option<CaseRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cases WHERE case_number = $1"
    ))
    .bind(number.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_case).transpose()
}

/// A resident's cases, newest first, at most `limit`.
pub async fn list_for_resident(
    conn: &mut Conn,
    resident_id: i64,
    limit: i64,
) -> Result<Vec<CaseRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM cases WHERE resident_id = $1 ORDER BY submitted_at DESC, id DESC
         LIMIT $2"
    ))
    .bind(resident_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_case).collect()
}

/// Moves a case to `to`, only if it is still in `from` (so two actors
/// racing on one case cannot both win). Returns whether it moved.
pub async fn transition(
    conn: &mut Conn,
    id: i64,
    from: crate::domain::CaseStatus,
    to: crate::domain::CaseStatus,
    now: i64,
) -> Result<bool, StorageError> {
    let closed_at = matches!(to, CaseStatus::Withdrawn | CaseStatus::Closed).then_some(now);
    let outcome = (to == CaseStatus::Withdrawn).then_some("withdrawn");
    let done = sqlx::query(
        "UPDATE cases SET status = $1, updated_at = $2, version = version + 1,
             closed_at = COALESCE($3, closed_at), outcome = COALESCE($4, outcome)
         WHERE id = $5 AND status = $6",
    )
    .bind(to.code())
    .bind(now)
    .bind(closed_at)
    .bind(outcome)
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case status"))?;
    Ok(done.rows_affected() == 1)
}

/// Records where routing sent a case: status `assigned` with committee,
/// rule and accept deadline, or `unrouted` when `committee_id` is `None`.
/// Only from `from`; returns the case as it stands afterwards, `None` when
/// it was no longer in `from`.
#[allow(clippy::too_many_arguments)]
pub async fn set_assignment(
    conn: &mut Conn,
    id: i64,
    from: CaseStatus,
    committee_id: Option<CommitteeId>,
    rule_id: Option<i64>,
    accept_deadline: Option<i64>,
    now: i64,
) -> Result<Option<CaseRecord>, StorageError> {
    let to = if committee_id.is_some() {
        CaseStatus::Assigned
    } else {
        CaseStatus::Unrouted
    };
    let row = sqlx::query(&format!(
        "UPDATE cases SET status = $1, committee_id = $2, rule_id = $3, accept_deadline = $4,
             assigned_at = CASE WHEN $2 IS NULL THEN assigned_at ELSE $5 END,
             mediator_id = NULL, updated_at = $5, version = version + 1
         WHERE id = $6 AND status = $7
         RETURNING {COLUMNS}"
    ))
    .bind(to.code())
    .bind(committee_id)
    .bind(rule_id)
    .bind(accept_deadline)
    .bind(now)
    .bind(id)
    .bind(from.code())
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| classify(e, "case assignment"))?;
    row.as_ref().map(row_to_case).transpose()
}

/// Who did something to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// The resident who filed it.
    Resident,
    /// A mediator.
    Mediator,
    /// An admin through the API.
    Admin,
    /// The system (routing, sweeper).
    System,
}

impl ActorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ActorKind::Resident => "resident",
            ActorKind::Mediator => "mediator",
            ActorKind::Admin => "admin",
            ActorKind::System => "system",
        }
    }
}

/// A timeline entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<'a> {
    /// The case.
    pub case_id: i64,
    /// When.
    pub at: i64,
    /// Who.
    pub actor_kind: ActorKind,
    /// Their id (resident or mediator row id, token name), or empty.
    pub actor_id: String,
    /// What: `filed`, `assigned`, `unrouted`, `info_added`, `withdrawn`, …
    pub kind: &'a str,
    /// Status before.
    pub from_status: Option<CaseStatus>,
    /// Status after.
    pub to_status: Option<CaseStatus>,
    /// Committee concerned.
    pub committee_id: Option<CommitteeId>,
    /// Why, as given.
    pub reason: String,
    /// Anything else, JSON.
    pub details: serde_json::Value,
}

/// A timeline entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    /// Row id.
    pub id: i64,
    /// When.
    pub at: i64,
    /// Who (kind code).
    pub actor_kind: String,
    /// Who (id).
    pub actor_id: String,
    /// What.
    pub kind: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: Option<String>,
    /// Committee concerned.
    pub committee_id: Option<CommitteeId>,
    /// Why.
    pub reason: String,
    /// Details JSON text.
    pub details: String,
}

/// Appends a timeline entry.
pub async fn add_event(conn: &mut Conn, e: &NewEvent<'_>) -> Result<AddedEvent, StorageError> {
    let row = sqlx::query(
        "INSERT INTO case_events (case_id, at, actor_kind, actor_id, kind, from_status, to_status,
             committee_id, reason, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING id, (SELECT COUNT(*) FROM webhook_subscriptions
                        WHERE deleted_at IS NULL AND active = 1) AS webhooks",
    )
    .bind(e.case_id)
    .bind(e.at)
    .bind(e.actor_kind.code())
    .bind(&e.actor_id)
    .bind(e.kind)
    .bind(e.from_status.map(|s| s.code()))
    .bind(e.to_status.map(|s| s.code()))
    .bind(e.committee_id)
    .bind(&e.reason)
    .bind(e.details.to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(|err| classify(err, "case event"))?;
    Ok(AddedEvent {
        id: row.try_get("id")?,
        webhooks_active: row.try_get::<i64, _>("webhooks")? > 0,
    })
}

/// A timeline event just written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedEvent {
    /// Its id.
    pub id: i64,
    /// Whether any event webhook is subscribed (read by the same
    /// statement, so an event with nobody to tell costs no second one).
    pub webhooks_active: bool,
}

/// A case's timeline, oldest first.
pub async fn events(conn: &mut Conn, case_id: i64) -> Result<Vec<CaseEvent>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, at, actor_kind, actor_id, kind, from_status, to_status, committee_id, reason,
                details
         FROM case_events WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseEvent {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor_kind: r.try_get("actor_kind")?,
                actor_id: r.try_get("actor_id")?,
                kind: r.try_get("kind")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                committee_id: r.try_get("committee_id")?,
                reason: r.try_get("reason")?,
                details: r.try_get("details")?,
            })
        })
        .collect()
}

/// An attachment kept with a case.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentRecord {
    /// Row id.
    pub id: i64,
    /// `photo`, `document`, `voice`, `video`.
    pub kind: String,
    /// Telegram file id.
    pub file_id: String,
    /// Telegram's stable file id.
    pub file_unique_id: String,
    /// Caption.
    pub caption: String,
    /// When.
    pub created_at: i64,
}

/// Keeps an attachment with a case.
pub async fn add_attachment(
    conn: &mut Conn,
    case_id: i64,
    kind: &str,
    file_id: &str,
    file_unique_id: &str,
    caption: &str,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO case_attachments (case_id, kind, file_id, file_unique_id, caption, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(case_id)
    .bind(kind)
    .bind(file_id)
    .bind(file_unique_id)
    .bind(caption)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "case attachment"))?;
    Ok(id)
}

/// A case's attachments, oldest first.
pub async fn attachments(
    conn: &mut Conn,
    case_id: i64,
) -> Result<Vec<AttachmentRecord>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, kind, file_id, file_unique_id, caption, created_at
         FROM case_attachments WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttachmentRecord {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                file_id: r.try_get("file_id")?,
                file_unique_id: r.try_get("file_unique_id")?,
                caption: r.try_get("caption")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The chat and language of a linked, reachable mediator (for relaying a
/// resident's message); `None` when unlinked or unreachable.
pub async fn mediator_chat(
    conn: &mut Conn,
    mediator_id: i64,
) -> Result<Option<(i64, String)>, StorageError> {
    let row = sqlx::query(
        "SELECT chat_id, language, reachable FROM mediators WHERE id = $1 AND active = 1",
    )
    .bind(mediator_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let chat: Option<i64> = r.try_get("chat_id")?;
    let reachable = get_flag(&r, "reachable")?;
    Ok(match chat {
        Some(c) if reachable => Some((c, r.try_get("language")?)),
        _ => None,
    })
}
