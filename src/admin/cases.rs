//! Cases: filtered list with cursor paging, detail with timeline and
//! attachments, and the admin transitions reassign, escalate and close.
//!
//! The list carries no personal data. The detail does: every detail read is
//! audited, and viewers see it masked (see [`super::mask`]). Each transition
//! writes the status change, the timeline event and the audit row in one
//! transaction, and respects the lifecycle (`CaseStatus::can_become`).

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::{audit, iso, iso_opt, mask, parse_instant, AdminState};
use crate::domain::{CaseNumber, CaseStatus, Category, GeoPoint, RegionCode};
use crate::routing::CaseFacts;
use crate::secrets::Role;
use crate::storage::admin_cases::{self, CaseFilter, CaseRecord, NewEvent};
use crate::storage::{self, Conn, StorageError};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Filters and paging of the case list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Statuses, comma-separated (`assigned,accepted`).
    pub status: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// Region-code prefix (`620722101` for one township).
    pub region: Option<String>,
    /// Committee id.
    pub committee_id: Option<i64>,
    /// Submitted at or after: `YYYY-MM-DD` (local time zone) or RFC 3339.
    pub from: Option<String>,
    /// Submitted before: `YYYY-MM-DD` (that whole day included) or RFC 3339.
    pub to: Option<String>,
    /// Only cases past their deadline now (true) or only those that are not (false):
    /// assigned past the accept deadline, or accepted/scheduled past the resolve deadline.
    pub overdue: Option<bool>,
    /// Only cases with this at-risk flag.
    pub at_risk: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// A case in a list (no personal data).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"case_number": "620722-2026-000123", "status": "assigned", "category": "labor",
    "region_code": "620722101201", "committee_id": 9, "at_risk": false, "party_count": 1,
    "submitted_at": "2026-11-20T02:00:00Z", "assigned_at": "2026-11-20T02:00:00Z", "accepted_at": null,
    "accept_deadline": "2026-11-21T02:00:00Z", "resolve_deadline": null, "overdue": true}))]
pub struct CaseSummary {
    /// The number read aloud.
    pub case_number: String,
    /// Status.
    pub status: String,
    /// Category code.
    pub category: String,
    /// Region code.
    pub region_code: String,
    /// The committee holding it.
    pub committee_id: Option<i64>,
    /// Anyone at risk of harm.
    pub at_risk: bool,
    /// People involved.
    pub party_count: i64,
    /// When filed.
    pub submitted_at: String,
    /// When assigned.
    pub assigned_at: Option<String>,
    /// When accepted.
    pub accepted_at: Option<String>,
    /// Accept by.
    pub accept_deadline: Option<String>,
    /// Resolve by.
    pub resolve_deadline: Option<String>,
    /// Past a deadline now.
    pub overdue: bool,
}

/// One page of cases, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CasePage {
    /// The cases.
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventOut {
    /// When.
    pub at: String,
    /// `resident`, `mediator`, `admin` or `system`.
    pub actor_kind: String,
    /// Which one.
    pub actor_id: String,
    /// What happened (`submitted`, `assigned`, `reassigned`, `escalated`, `closed`, …).
    pub kind: String,
    /// Status before.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: Option<String>,
    /// The committee concerned.
    pub committee_id: Option<i64>,
    /// Why (null for viewers).
    pub reason: Option<String>,
    /// Details such as a routing explanation (null for viewers).
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// One attachment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentOut {
    /// Id.
    pub id: i64,
    /// `photo`, `document`, `voice` or `video`.
    pub kind: String,
    /// When added.
    pub created_at: String,
    /// Telegram file id (null for viewers).
    pub file_id: Option<String>,
    /// Caption (null for viewers).
    pub caption: Option<String>,
}

/// A case with its timeline. For viewers (`masked: true`) the phone is
/// masked (`138****5678`) and description, other party, address, location,
/// event reasons and attachment files are null.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseDetail {
    /// Summary fields.
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// Whether personal data is masked.
    pub masked: bool,
    /// The resident's language.
    pub language: String,
    /// What happened.
    pub description: Option<String>,
    /// The other party.
    pub other_party: Option<String>,
    /// Typed address.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// `shared`, `region` or `address`.
    pub location_source: String,
    /// The resident's phone.
    pub contact_phone: Option<String>,
    /// The mediator who accepted it.
    pub mediator_id: Option<i64>,
    /// The rule that routed it.
    pub rule_id: Option<i64>,
    /// When resolved.
    pub resolved_at: Option<String>,
    /// When closed.
    pub closed_at: Option<String>,
    /// `agreement`, `arbitration`, `litigation`, `withdrawn`, `admin_closed`.
    pub outcome: Option<String>,
    /// Satisfaction 1–5.
    pub rating: Option<i64>,
    /// `full`, `partial`, `none`.
    pub fulfilment: Option<String>,
    /// Judicial confirmation asked for.
    pub judicial_confirmation: Option<bool>,
    /// The timeline, oldest first.
    pub timeline: Vec<EventOut>,
    /// Attachments, oldest first.
    pub attachments: Vec<AttachmentOut>,
}

/// Give the case to another committee.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"committee_id": 12, "reason": "当事人住所在洪水镇"}))]
pub struct ReassignIn {
    /// The committee (must exist and be active).
    pub committee_id: i64,
    /// Why, 1–500 characters (kept in the timeline).
    pub reason: String,
}

/// Escalate the case one level up the ladder.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "村调委会两次调解未果"}))]
pub struct EscalateIn {
    /// Why, 1–500 characters.
    pub reason: String,
}

/// Close the case.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "当事人已通过诉讼解决", "outcome": "litigation"}))]
pub struct CloseIn {
    /// Why, 1–500 characters.
    pub reason: String,
    /// `agreement`, `arbitration`, `litigation` or `admin_closed`; default
    /// `agreement` for a resolved case, `admin_closed` otherwise.
    #[serde(default)]
    pub outcome: Option<String>,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(reassign_case))
        .routes(routes!(escalate_case))
        .routes(routes!(close_case))
}

fn is_overdue(c: &CaseRecord, now: i64) -> bool {
    match c.status.as_str() {
        "assigned" => c.accept_deadline.is_some_and(|d| d < now),
        "accepted" | "scheduled" => c.resolve_deadline.is_some_and(|d| d < now),
        _ => false,
    }
}

fn summary(c: &CaseRecord, now: i64) -> CaseSummary {
    CaseSummary {
        case_number: c.case_number.clone(),
        status: c.status.clone(),
        category: c.category.clone(),
        region_code: c.region_code.clone(),
        committee_id: c.committee_id,
        at_risk: c.at_risk,
        party_count: c.party_count,
        submitted_at: iso(c.submitted_at),
        assigned_at: iso_opt(c.assigned_at),
        accepted_at: iso_opt(c.accepted_at),
        accept_deadline: iso_opt(c.accept_deadline),
        resolve_deadline: iso_opt(c.resolve_deadline),
        overdue: is_overdue(c, now),
    }
}

async fn detail(
    conn: &mut Conn,
    c: CaseRecord,
    caller: &Caller,
    now: i64,
) -> ApiResult<CaseDetail> {
    let personal = caller.sees_personal_data();
    let keep = |s: &str| personal.then(|| s.to_owned());
    let events = admin_cases::events(conn, c.id).await?;
    let attachments = admin_cases::attachments(conn, c.id).await?;
    Ok(CaseDetail {
        summary: summary(&c, now),
        masked: !personal,
        language: c.language.clone(),
        description: keep(&c.description),
        other_party: keep(&c.other_party),
        address: keep(&c.address),
        lat: c.lat.filter(|_| personal),
        lon: c.lon.filter(|_| personal),
        location_source: c.location_source.clone(),
        contact_phone: c.contact_phone.as_deref().and_then(|p| {
            if personal {
                Some(p.to_owned())
            } else {
                mask::phone(p)
            }
        }),
        mediator_id: c.mediator_id,
        rule_id: c.rule_id,
        resolved_at: iso_opt(c.resolved_at),
        closed_at: iso_opt(c.closed_at),
        outcome: c.outcome.clone(),
        rating: c.rating,
        fulfilment: c.fulfilment.clone(),
        judicial_confirmation: c.judicial_confirmation,
        timeline: events
            .into_iter()
            .map(|e| EventOut {
                at: iso(e.at),
                actor_kind: e.actor_kind,
                actor_id: e.actor_id,
                kind: e.kind,
                from_status: e.from_status,
                to_status: e.to_status,
                committee_id: e.committee_id,
                reason: personal.then_some(e.reason),
                details: if personal {
                    serde_json::from_str(&e.details).ok()
                } else {
                    None
                },
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentOut {
                id: a.id,
                kind: a.kind,
                created_at: iso(a.created_at),
                file_id: personal.then_some(a.file_id),
                caption: personal.then_some(a.caption),
            })
            .collect(),
    })
}

async fn load(conn: &mut Conn, number: &str) -> ApiResult<CaseRecord> {
    let not_found = || ApiError::NotFound(format!("case {number} not found"));
    let n = CaseNumber::parse(number).map_err(|_| not_found())?;
    admin_cases::get_by_number(conn, n.as_str())
        .await?
        .ok_or_else(not_found)
}

fn status_of(c: &CaseRecord) -> ApiResult<CaseStatus> {
    CaseStatus::parse(&c.status)
        .map_err(|e| ApiError::Internal(format!("case {} has status {e}", c.case_number)))
}

fn check_reason(reason: &str) -> ApiResult<String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(ApiError::invalid(
            "reason",
            "reason must be 1 to 500 characters",
        ));
    }
    Ok(r.to_owned())
}

/// Lists cases, newest first, without personal data.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses(
        (status = 200, description = "One page of cases", body = CasePage),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_cases(
    State(state): State<AdminState>,
    _caller: Caller,
    Query(q): Query<CaseQuery>,
) -> ApiResult<axum::Json<CasePage>> {
    let tz = state.policy.timezone;
    let mut statuses = Vec::new();
    for s in q.status.iter().flat_map(|s| s.split(',')) {
        if s.trim().is_empty() {
            continue;
        }
        statuses.push(
            CaseStatus::parse(s).map_err(|e| ApiError::bad_request(Some("status"), e.message))?,
        );
    }
    let category = q
        .category
        .as_deref()
        .map(Category::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(Some("category"), e.message))?;
    let region = q
        .region
        .as_deref()
        .map(RegionCode::parse_prefix)
        .transpose()
        .map_err(|e| ApiError::bad_request(Some("region"), e.message))?;
    let from = q
        .from
        .as_deref()
        .map(|s| parse_instant(s, "from", tz, false))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|s| parse_instant(s, "to", tz, true))
            .transpose()?;
    let before_id = q
        .cursor
        .as_deref()
        .map(|c| {
            c.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::bad_request(Some("cursor"), "not a cursor from this API"))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be 1 to 200",
        ));
    }
    let filter = CaseFilter {
        statuses,
        category: category.map(|c| c.code().to_owned()),
        region_prefix: region,
        committee_id: q.committee_id,
        submitted_from: from,
        submitted_to: to,
        overdue: q.overdue,
        at_risk: q.at_risk,
    };
    let now = state.now();
    let mut conn = state.storage.acquire().await?;
    // One more than asked tells whether there is a next page.
    let mut rows = admin_cases::list(&mut conn, &filter, now, before_id, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|c| c.id.to_string())
    } else {
        None
    };
    Ok(axum::Json(CasePage {
        items: rows.iter().map(|c| summary(c, now)).collect(),
        next_cursor,
    }))
}

/// One case with its timeline and attachments. Audited as a read of
/// personal data; masked for viewers.
#[utoipa::path(get, path = "/api/v1/cases/{case_number}", tag = "cases",
    params(("case_number" = String, Path, description = "Case number", example = "620722-2026-000123")),
    responses(
        (status = 200, description = "The case", body = CaseDetail),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
    ))]
async fn get_case(
    State(state): State<AdminState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<axum::Json<CaseDetail>> {
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let c = load(&mut tx, &number).await?;
    audit(
        &mut tx,
        now,
        &caller,
        "case.read",
        "case",
        &c.case_number,
        serde_json::json!({ "masked": !caller.sees_personal_data() }),
    )
    .await?;
    let d = detail(&mut tx, c, &caller, now).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(d))
}

/// Gives the case to another committee: status `assigned`, no mediator, a
/// fresh accept deadline. Allowed from unrouted, assigned, accepted,
/// scheduled and failed. Admins and operators.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/reassign", tag = "cases", request_body = ReassignIn,
    params(("case_number" = String, Path, description = "Case number", example = "620722-2026-000123")),
    responses(
        (status = 200, description = "The case after the change", body = CaseDetail),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case's status does not allow it, or it changed meanwhile", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Unknown or inactive committee, or bad reason", body = ErrorBody),
    ))]
async fn reassign_case(
    State(state): State<AdminState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<ReassignIn>,
) -> ApiResult<axum::Json<CaseDetail>> {
    caller.require(&[Role::Admin, Role::Operator])?;
    let reason = check_reason(&input.reason)?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let c = load(&mut tx, &number).await?;
    let from = status_of(&c)?;
    if !from.can_become(CaseStatus::Assigned) {
        return Err(ApiError::Conflict(format!(
            "a {from} case cannot be reassigned"
        )));
    }
    match storage::committees::get(&mut tx, input.committee_id).await? {
        None => {
            return Err(ApiError::invalid(
                "committee_id",
                format!("committee {} does not exist", input.committee_id),
            ))
        }
        Some(k) if !k.active => {
            return Err(ApiError::invalid(
                "committee_id",
                format!("committee {} is inactive", k.code),
            ))
        }
        Some(_) => {}
    }
    let actor = caller.actor();
    let event = NewEvent {
        at: now,
        actor_kind: "admin",
        actor_id: &actor,
        kind: "reassigned",
        from_status: from,
        to_status: CaseStatus::Assigned,
        committee_id: Some(input.committee_id),
        reason: &reason,
        details: serde_json::json!({ "from_committee_id": c.committee_id }),
    };
    let deadline = now + state.policy.accept_hours * 3_600_000;
    admin_cases::assign(&mut tx, &c, input.committee_id, None, deadline, &event).await?;
    // notify: the resident (case reassigned to another committee) and the new
    // committee's mediators (new assignment) — hooked in by the lifecycle owner.
    audit(
        &mut tx,
        now,
        &caller,
        "case.reassign",
        "case",
        &c.case_number,
        serde_json::json!({ "from_committee_id": c.committee_id, "to_committee_id": input.committee_id }),
    )
    .await?;
    let after = load(&mut tx, &number).await?;
    let d = detail(&mut tx, after, &caller, now).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(d))
}

/// Escalates the case one level up the ladder (village → township → county
/// centre), skipping committees that declined it; the routing explanation
/// is kept in the timeline. Admins and operators.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/escalate", tag = "cases", request_body = EscalateIn,
    params(("case_number" = String, Path, description = "Case number", example = "620722-2026-000123")),
    responses(
        (status = 200, description = "The case after the change", body = CaseDetail),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The status does not allow it, the case has no committee, or no higher level is available", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad reason", body = ErrorBody),
    ))]
async fn escalate_case(
    State(state): State<AdminState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<EscalateIn>,
) -> ApiResult<axum::Json<CaseDetail>> {
    caller.require(&[Role::Admin, Role::Operator])?;
    let reason = check_reason(&input.reason)?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let c = load(&mut tx, &number).await?;
    let from = status_of(&c)?;
    if !from.can_become(CaseStatus::Assigned) {
        return Err(ApiError::Conflict(format!(
            "a {from} case cannot be escalated"
        )));
    }
    let Some(from_committee) = c.committee_id else {
        return Err(ApiError::Conflict(
            "the case has no committee to escalate from; reassign it instead".into(),
        ));
    };
    let corrupt = |e: crate::domain::DomainError| {
        ApiError::Internal(format!("case {} holds {e}", c.case_number))
    };
    let region_code = RegionCode::parse(&c.region_code).map_err(corrupt)?;
    let point = match (c.lat, c.lon) {
        (Some(lat), Some(lon)) => GeoPoint { lat, lon },
        _ => super::rules::region_centroid(&mut tx, &region_code).await?,
    };
    let facts = CaseFacts {
        category: Category::parse(&c.category).map_err(corrupt)?,
        point,
        region_code,
        party_count: c.party_count,
        at_risk: c.at_risk,
    };
    let declined = admin_cases::declined_committees(&mut tx, c.id).await?;
    let Some(decision) = state
        .router
        .escalate(&mut tx, &facts, from_committee, &declined)
        .await?
    else {
        return Err(ApiError::Conflict(
            "no committee above this one can take the case".into(),
        ));
    };
    let Some(to) = decision.committee.as_ref() else {
        return Err(ApiError::Conflict(
            "no committee above this one can take the case".into(),
        ));
    };
    let actor = caller.actor();
    let event = NewEvent {
        at: now,
        actor_kind: "admin",
        actor_id: &actor,
        kind: "escalated",
        from_status: from,
        to_status: CaseStatus::Assigned,
        committee_id: Some(to.id),
        reason: &reason,
        details: serde_json::json!({
            "from_committee_id": from_committee,
            "explanation": decision.explanation,
        }),
    };
    let hours = decision.accept_hours.unwrap_or(state.policy.accept_hours);
    admin_cases::assign(&mut tx, &c, to.id, None, now + hours * 3_600_000, &event).await?;
    // notify: the resident (case escalated to a higher committee) and the new
    // committee's mediators (new assignment) — hooked in by the lifecycle owner.
    audit(
        &mut tx,
        now,
        &caller,
        "case.escalate",
        "case",
        &c.case_number,
        serde_json::json!({ "from_committee_id": from_committee, "to_committee_id": to.id }),
    )
    .await?;
    let after = load(&mut tx, &number).await?;
    let d = detail(&mut tx, after, &caller, now).await?;
    tx.commit().await.map_err(StorageError::from)?;
    state.metrics.routing_decision("escalation");
    Ok(axum::Json(d))
}

/// Closes the case with a reason. Allowed from unrouted, assigned,
/// accepted, scheduled, resolved and failed. Admins and operators.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/close", tag = "cases", request_body = CloseIn,
    params(("case_number" = String, Path, description = "Case number", example = "620722-2026-000123")),
    responses(
        (status = 200, description = "The case after the change", body = CaseDetail),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such case", body = ErrorBody),
        (status = 409, description = "The case's status does not allow it, or it changed meanwhile", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad reason or outcome", body = ErrorBody),
    ))]
async fn close_case(
    State(state): State<AdminState>,
    caller: Caller,
    Path(number): Path<String>,
    Json(input): Json<CloseIn>,
) -> ApiResult<axum::Json<CaseDetail>> {
    caller.require(&[Role::Admin, Role::Operator])?;
    let reason = check_reason(&input.reason)?;
    let outcome = match input.outcome.as_deref().map(str::trim) {
        None => None,
        Some(o @ ("agreement" | "arbitration" | "litigation" | "admin_closed")) => Some(o),
        Some(_) => {
            return Err(ApiError::invalid(
                "outcome",
                "expected agreement, arbitration, litigation or admin_closed",
            ))
        }
    };
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let c = load(&mut tx, &number).await?;
    let from = status_of(&c)?;
    if !from.can_become(CaseStatus::Closed) {
        return Err(ApiError::Conflict(format!(
            "a {from} case cannot be closed"
        )));
    }
    let outcome = outcome.unwrap_or(match from {
        CaseStatus::Resolved => "agreement",
        _ => c.outcome.as_deref().unwrap_or("admin_closed"),
    });
    let outcome = outcome.to_owned();
    let actor = caller.actor();
    let event = NewEvent {
        at: now,
        actor_kind: "admin",
        actor_id: &actor,
        kind: "closed",
        from_status: from,
        to_status: CaseStatus::Closed,
        committee_id: c.committee_id,
        reason: &reason,
        details: serde_json::json!({ "outcome": outcome }),
    };
    admin_cases::close(&mut tx, &c, &outcome, &event).await?;
    // notify: the resident (case closed, with the reason and what they can do
    // next) — hooked in by the lifecycle owner.
    audit(
        &mut tx,
        now,
        &caller,
        "case.close",
        "case",
        &c.case_number,
        serde_json::json!({ "from_status": from.code(), "outcome": outcome }),
    )
    .await?;
    let after = load(&mut tx, &number).await?;
    let d = detail(&mut tx, after, &caller, now).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(d))
}
