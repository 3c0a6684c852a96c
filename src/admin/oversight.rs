//! Oversight in the admin API: early-warning alerts (list, detail with their
//! cases, close), periodic reports (JSON or CSV) and event-webhook
//! subscriptions with their delivery history.
//!
//! Alerts and reports carry no personal data (case numbers, categories,
//! regions and counts), so every role reads them; operators and admins may
//! close an alert. Webhook subscriptions are integration settings holding a
//! signing secret: admins only. The secret is shown once, on creation, and
//! masked everywhere else.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::{audit, iso, iso_opt, AdminState};
use crate::config::Secret;
use crate::domain::RegionCode;
use crate::oversight::reports::{self, Report, ReportKind};
use crate::oversight::webhooks::{self, EventType, SubscriptionInput, WebhookUrl};
use crate::oversight::OversightError;
use crate::secrets::Role;
use crate::storage::alerts::{self, AlertCase, AlertFilter, AlertRecord};
use crate::storage::webhooks::{self as hooks, DeliveryRecord, SubscriptionRecord};
use crate::storage::StorageError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

impl From<OversightError> for ApiError {
    fn from(e: OversightError) -> Self {
        match e {
            OversightError::Storage(s) => s.into(),
            OversightError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            OversightError::Invalid(field, message) => ApiError::invalid(field, message),
        }
    }
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(close_alert))
        .routes(routes!(get_report))
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

fn parse_cursor(c: Option<&str>) -> Result<Option<i64>, ApiError> {
    c.map(|c| {
        c.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ApiError::bad_request(Some("cursor"), "not a cursor from this API"))
    })
    .transpose()
}

fn parse_limit(l: Option<i64>) -> Result<i64, ApiError> {
    let limit = l.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be 1 to 200",
        ));
    }
    Ok(limit)
}

// ---------------------------------------------------------------- alerts

/// Which alerts to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` (default), `closed` or `all`.
    pub status: Option<String>,
    /// Region-code prefix: alerts raised by a case in this region.
    pub region: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// A point.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PointOut {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

/// An early-warning alert.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 3, "kind": "cluster", "status": "open", "categories": ["labor", "debt"],
    "region_code": "620722101201", "centre": {"lat": 38.6052, "lon": 100.8004}, "radius_km": 0.412,
    "case_count": 5, "party_total": 15, "first_case_at": "2026-11-11T01:00:00Z",
    "last_case_at": "2026-11-13T17:00:00Z", "created_at": "2026-11-13T17:00:00Z",
    "updated_at": "2026-11-13T17:00:00Z", "closed_at": null, "closed_by": null, "close_reason": ""}))]
pub struct AlertOut {
    /// Alert number.
    pub id: i64,
    /// `cluster`: related cases close in place and time; `mass_dispute`:
    /// one case with many parties.
    pub kind: String,
    /// `open` or `closed`.
    pub status: String,
    /// The related categories the alert is about.
    pub categories: Vec<String>,
    /// Region of the case that raised it.
    pub region_code: String,
    /// Mean of the member cases' points.
    pub centre: PointOut,
    /// Largest distance from the centre to a member case, km.
    pub radius_km: f64,
    /// Member cases.
    pub case_count: i64,
    /// People involved in all member cases.
    pub party_total: i64,
    /// Filing time of the first member case.
    pub first_case_at: String,
    /// Filing time of the latest member case.
    pub last_case_at: String,
    /// When raised.
    pub created_at: String,
    /// When it last changed (a case joined, or it was closed).
    pub updated_at: String,
    /// When closed.
    pub closed_at: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// Why it was closed.
    pub close_reason: String,
}

impl From<&AlertRecord> for AlertOut {
    fn from(a: &AlertRecord) -> Self {
        Self {
            id: a.id,
            kind: a.kind.code().to_owned(),
            status: if a.open { "open" } else { "closed" }.to_owned(),
            categories: a.category_group.split('+').map(str::to_owned).collect(),
            region_code: a.region_code.as_str().to_owned(),
            centre: PointOut {
                lat: a.centre.lat,
                lon: a.centre.lon,
            },
            radius_km: a.radius_km,
            case_count: a.case_count,
            party_total: a.party_total,
            first_case_at: iso(a.first_case_at),
            last_case_at: iso(a.last_case_at),
            created_at: iso(a.created_at),
            updated_at: iso(a.updated_at),
            closed_at: iso_opt(a.closed_at),
            closed_by: a.closed_by.clone(),
            close_reason: a.close_reason.clone(),
        }
    }
}

/// One page of alerts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertPage {
    /// Alerts, newest first.
    pub items: Vec<AlertOut>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A member case of an alert (no personal data).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertCaseOut {
    /// Case number.
    pub case_number: String,
    /// Category code.
    pub category: String,
    /// Status now.
    pub status: String,
    /// Region code.
    pub region_code: String,
    /// People involved.
    pub party_count: i64,
    /// When filed.
    pub submitted_at: String,
    /// When it joined the alert.
    pub joined_at: String,
}

impl From<&AlertCase> for AlertCaseOut {
    fn from(c: &AlertCase) -> Self {
        Self {
            case_number: c.number.as_str().to_owned(),
            category: c.category.code().to_owned(),
            status: c.status.code().to_owned(),
            region_code: c.region_code.as_str().to_owned(),
            party_count: c.party_count,
            submitted_at: iso(c.submitted_at),
            joined_at: iso(c.joined_at),
        }
    }
}

/// An alert with its cases.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertDetail {
    /// The alert.
    pub alert: AlertOut,
    /// Its cases, in filing order.
    pub cases: Vec<AlertCaseOut>,
}

/// Why an alert is closed.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "已约谈用工企业，工资已分期支付"}))]
pub struct CloseAlertIn {
    /// 1–500 characters.
    pub reason: String,
}

/// Early-warning alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses(
        (status = 200, description = "One page of alerts", body = AlertPage),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_alerts(
    State(state): State<AdminState>,
    _caller: Caller,
    Query(q): Query<AlertQuery>,
) -> ApiResult<axum::Json<AlertPage>> {
    let filter = match q.status.as_deref().map(str::trim) {
        None | Some("open") => AlertFilter::Open,
        Some("closed") => AlertFilter::Closed,
        Some("all") => AlertFilter::All,
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("status"),
                "status must be open, closed or all",
            ))
        }
    };
    let region = q
        .region
        .as_deref()
        .map(RegionCode::parse_prefix)
        .transpose()
        .map_err(|e| ApiError::bad_request(Some("region"), e.message))?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let limit = parse_limit(q.limit)?;
    let mut conn = state.storage.acquire().await?;
    let mut rows = alerts::list(&mut conn, filter, region.as_deref(), before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|a| a.id.to_string())
    } else {
        None
    };
    Ok(axum::Json(AlertPage {
        items: rows.iter().map(AlertOut::from).collect(),
        next_cursor,
    }))
}

async fn alert_detail(conn: &mut crate::storage::Conn, id: i64) -> Result<AlertDetail, ApiError> {
    let alert = alerts::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}")))?;
    let cases = alerts::cases_of(conn, id).await?;
    Ok(AlertDetail {
        alert: AlertOut::from(&alert),
        cases: cases.iter().map(AlertCaseOut::from).collect(),
    })
}

/// One alert with its cases.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertDetail),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
    ))]
async fn get_alert(
    State(state): State<AdminState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<AlertDetail>> {
    let mut conn = state.storage.acquire().await?;
    Ok(axum::Json(alert_detail(&mut conn, id).await?))
}

/// Closes an open alert (it has been looked into). Its cases do not raise a
/// cluster again; new cases nearby start a new one. Operators and admins.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/close", tag = "alerts", request_body = CloseAlertIn,
    params(("id" = i64, Path, description = "Alert id")),
    responses(
        (status = 200, description = "The alert after closing", body = AlertDetail),
        (status = 400, description = "Malformed JSON or bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad reason", body = ErrorBody),
    ))]
async fn close_alert(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<CloseAlertIn>,
) -> ApiResult<axum::Json<AlertDetail>> {
    caller.require(&[Role::Admin, Role::Operator])?;
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid(
            "reason",
            "reason must be 1 to 500 characters",
        ));
    }
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let existing = alerts::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}")))?;
    if !alerts::close(&mut tx, id, &caller.actor(), reason, now).await? {
        return Err(ApiError::Conflict(format!(
            "alert {} is already closed",
            existing.id
        )));
    }
    audit(
        &mut tx,
        now,
        &caller,
        "alert.close",
        "alert",
        &id.to_string(),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    let detail = alert_detail(&mut tx, id).await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(detail))
}

// --------------------------------------------------------------- reports

/// Which report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Any local date in the period (`YYYY-MM-DD`, configured time zone);
    /// default today (the period so far).
    pub date: Option<String>,
    /// A county (6 digits) or township (9 digits) code; default everything.
    pub region: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// A daily, weekly (Monday–Sunday) or monthly report: new cases, resolved,
/// failed, resolution rate 化解率, pending and overdue at period end, by
/// category and by area (township), leading categories and their change
/// against the previous period, open alerts, cases per 10,000 residents.
/// Each figure's definition is on its schema field and in docs/reports.md.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", tag = "reports", params(
        ("kind" = String, Path, description = "`daily`, `weekly` or `monthly`", example = "monthly"),
        ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (Report = "application/json"),
            (String = "text/csv", example = "section,key,name,new_cases,resolved,failed,resolution_rate,pending_at_end,overdue_at_end,previous_new_cases,open_alerts,population,cases_per_10k,period_start\ntotal,620722,民乐县,7,3,1,0.75,4,2,3,1,186000,0.38,2026-11-01\n"),
        )),
        (status = 400, description = "Bad date, region or format", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such kind of report", body = ErrorBody),
    ))]
async fn get_report(
    State(state): State<AdminState>,
    _caller: Caller,
    Path(kind): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let kind = ReportKind::parse(kind.trim())
        .ok_or_else(|| ApiError::NotFound("reports are daily, weekly or monthly".into()))?;
    let tz = state.policy.timezone;
    let date = match q.date.as_deref().map(str::trim) {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(Some("date"), format!("'{d}' is not a date (YYYY-MM-DD)"))
        })?,
        None => crate::clock::ms_to_datetime(state.now())
            .with_timezone(&tz)
            .date_naive(),
    };
    let region = q
        .region
        .as_deref()
        .map(|r| {
            RegionCode::parse(r)
                .ok()
                .filter(|c| c.as_str().len() <= 9)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        Some("region"),
                        "region must be a county (6 digits) or township (9 digits) code",
                    )
                })
        })
        .transpose()?;
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("format"),
                "format must be json or csv",
            ))
        }
    };
    let mut conn = state.storage.acquire().await?;
    let report = reports::build(&mut conn, kind, date, region.as_ref(), tz).await?;
    drop(conn);
    if csv {
        let name = format!(
            "jiefen-{}-{}{}.csv",
            kind.code(),
            report.period_start,
            region.as_ref().map(|r| format!("-{r}")).unwrap_or_default()
        );
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            report.to_csv(),
        )
            .into_response())
    } else {
        Ok(axum::Json(report.to_json()).into_response())
    }
}

// -------------------------------------------------------------- webhooks

/// A webhook subscription to create or replace.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "法院调解平台", "url": "https://court.example.cn/hooks/jiefen",
    "event_types": ["case_filed", "case_resolved", "case_failed"], "personal_data": false}))]
pub struct WebhookIn {
    /// A label, up to 200 characters.
    #[serde(default)]
    pub name: String,
    /// `https://…` (plain `http://` only to 127.0.0.1 or localhost).
    pub url: String,
    /// The HMAC-SHA256 signing key, 16–256 characters. On creation, omit it
    /// to have one generated; on replacement, omit it to keep the current one.
    pub secret: Option<String>,
    /// Any of `case_filed`, `case_assigned`, `case_accepted`,
    /// `case_resolved`, `case_failed`, `case_escalated`, `case_closed`,
    /// `alert_raised`; at least one.
    pub event_types: Vec<String>,
    /// Whether payloads may carry personal data (description, other party,
    /// contact phone, address, exact location). Default false.
    #[serde(default)]
    pub personal_data: bool,
    /// Paused subscriptions receive nothing new. Default true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A webhook subscription (its secret masked).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 1, "name": "法院调解平台", "url": "https://court.example.cn/hooks/jiefen",
    "secret": "whse…", "event_types": ["case_filed", "case_resolved"], "personal_data": false,
    "active": true, "created_at": "2026-11-21T08:00:00Z", "updated_at": "2026-11-21T08:00:00Z"}))]
pub struct WebhookOut {
    /// Id.
    pub id: i64,
    /// Label.
    pub name: String,
    /// Receiver.
    pub url: String,
    /// The first characters of the secret, masked.
    pub secret: String,
    /// Event types delivered.
    pub event_types: Vec<String>,
    /// Whether payloads carry personal data.
    pub personal_data: bool,
    /// Whether new events are queued for it.
    pub active: bool,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl From<&SubscriptionRecord> for WebhookOut {
    fn from(s: &SubscriptionRecord) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            url: s.url.clone(),
            secret: s.masked_secret(),
            event_types: s.event_types.clone(),
            personal_data: s.personal_data,
            active: s.active,
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
        }
    }
}

/// A new subscription with its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewWebhookOut {
    /// The subscription.
    pub webhook: WebhookOut,
    /// The signing secret: `X-Jiefen-Signature` is
    /// `sha256=<hex HMAC-SHA256(secret, body)>`.
    pub secret: String,
}

fn subscription_input(w: &WebhookIn) -> Result<SubscriptionInput, ApiError> {
    let url = WebhookUrl::parse(&w.url)?;
    let event_types = w
        .event_types
        .iter()
        .map(|e| EventType::parse(e))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubscriptionInput {
        name: w.name.clone(),
        url,
        secret: w.secret.as_deref().map(Secret::new),
        event_types,
        personal_data: w.personal_data,
        active: w.active,
    })
}

/// Every webhook subscription, secrets masked. Admin only.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "Subscriptions", body = Vec<WebhookOut>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn list_webhooks(
    State(state): State<AdminState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<WebhookOut>>> {
    caller.require_admin()?;
    let mut conn = state.storage.acquire().await?;
    let list = hooks::list(&mut conn).await?;
    Ok(axum::Json(list.iter().map(WebhookOut::from).collect()))
}

/// Registers an endpoint for events; returns the signing secret once.
/// Admin only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookIn,
    responses(
        (status = 201, description = "Created; the secret is in `secret`", body = NewWebhookOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad URL, secret or event types", body = ErrorBody),
    ))]
async fn create_webhook(
    State(state): State<AdminState>,
    caller: Caller,
    Json(input): Json<WebhookIn>,
) -> ApiResult<(StatusCode, axum::Json<NewWebhookOut>)> {
    caller.require_admin()?;
    let sub = subscription_input(&input)?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let (id, secret) = webhooks::create_subscription(&mut tx, &sub, now).await?;
    let stored = hooks::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("webhook {id} vanished")))?;
    audit(
        &mut tx,
        now,
        &caller,
        "webhook.create",
        "webhook",
        &id.to_string(),
        serde_json::json!({ "url": stored.url, "event_types": stored.event_types,
            "personal_data": stored.personal_data }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewWebhookOut {
            webhook: WebhookOut::from(&stored),
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// One subscription, secret masked. Admin only.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = WebhookOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ))]
async fn get_webhook(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<WebhookOut>> {
    caller.require_admin()?;
    let mut conn = state.storage.acquire().await?;
    let s = hooks::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    Ok(axum::Json(WebhookOut::from(&s)))
}

/// Replaces a subscription (omit `secret` to keep it). Admin only.
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookIn,
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription after the change", body = WebhookOut),
        (status = 400, description = "Malformed JSON or bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad URL, secret or event types", body = ErrorBody),
    ))]
async fn update_webhook(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<WebhookIn>,
) -> ApiResult<axum::Json<WebhookOut>> {
    caller.require_admin()?;
    let sub = subscription_input(&input)?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    webhooks::update_subscription(&mut tx, id, &sub, now).await?;
    let stored = hooks::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    audit(
        &mut tx,
        now,
        &caller,
        "webhook.update",
        "webhook",
        &id.to_string(),
        serde_json::json!({ "url": stored.url, "event_types": stored.event_types,
            "personal_data": stored.personal_data, "active": stored.active,
            "secret_changed": input.secret.is_some() }),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(axum::Json(WebhookOut::from(&stored)))
}

/// Deletes a subscription; its pending deliveries are cancelled, its
/// delivery history kept. Admin only.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ))]
async fn delete_webhook(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    if !hooks::delete(&mut tx, id, now).await? {
        return Err(ApiError::NotFound(format!("no webhook {id}")));
    }
    audit(
        &mut tx,
        now,
        &caller,
        "webhook.delete",
        "webhook",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await.map_err(StorageError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered`, `failed` or `cancelled`; default all.
    pub status: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// One delivery of an event to a subscription.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOut {
    /// The id sent to the receiver (`X-Jiefen-Delivery`).
    pub delivery_id: String,
    /// Event type.
    pub event_type: String,
    /// `pending` (waiting or being retried), `delivered`, `failed` (given up
    /// after the retry period) or `cancelled` (subscription deleted).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt, while pending.
    pub next_attempt_at: Option<String>,
    /// Retries stop after this.
    pub give_up_at: String,
    /// When the event was queued.
    pub created_at: String,
    /// When a 2xx was received.
    pub delivered_at: Option<String>,
    /// HTTP status of the last attempt.
    pub last_http_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The JSON body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl From<&DeliveryRecord> for DeliveryOut {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            delivery_id: d.delivery_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending").then(|| iso(d.next_attempt_at)),
            give_up_at: iso(d.give_up_at),
            created_at: iso(d.created_at),
            delivered_at: iso_opt(d.delivered_at),
            last_http_status: d.last_http_status,
            last_error: d.last_error.clone(),
            payload: d.payload.clone(),
        }
    }
}

/// One page of deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryPage {
    /// Deliveries, newest first.
    pub items: Vec<DeliveryOut>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A subscription's deliveries, newest first: what was sent, whether it
/// arrived, and the ones given up. Admin only; audited as a read of
/// personal data when the subscription receives it.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Subscription id"), DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = DeliveryPage),
        (status = 400, description = "Bad id or query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ))]
async fn list_deliveries(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<axum::Json<DeliveryPage>> {
    caller.require_admin()?;
    let status = match q.status.as_deref().map(str::trim) {
        None => None,
        Some(s @ ("pending" | "delivered" | "failed" | "cancelled")) => Some(s),
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("status"),
                "status must be pending, delivered, failed or cancelled",
            ))
        }
    };
    let before = parse_cursor(q.cursor.as_deref())?;
    let limit = parse_limit(q.limit)?;
    let now = state.now();
    let mut tx = state.storage.begin().await?;
    let sub = hooks::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))?;
    let mut rows = hooks::deliveries(&mut tx, id, status, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if sub.personal_data && !rows.is_empty() {
        audit(
            &mut tx,
            now,
            &caller,
            "webhook.deliveries.read",
            "webhook",
            &id.to_string(),
            serde_json::json!({ "deliveries": rows.len() }),
        )
        .await?;
    }
    tx.commit().await.map_err(StorageError::from)?;
    let next_cursor = if more {
        rows.last().map(|d| d.id.to_string())
    } else {
        None
    };
    Ok(axum::Json(DeliveryPage {
        items: rows.iter().map(DeliveryOut::from).collect(),
        next_cursor,
    }))
}
