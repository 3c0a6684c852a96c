//! The audit log, newest first, paged by cursor. Admins only: it names who
//! looked at which case.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Query};
use super::{iso, AdminState};
use crate::storage;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<i64>,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 41, "at": "2026-11-21T08:00:00Z", "actor": "token:zhang#2",
    "action": "case.read", "object_kind": "case", "object_id": "620722-2026-000123", "details": {"masked": false}}))]
pub struct AuditOut {
    /// Id.
    pub id: i64,
    /// When.
    pub at: String,
    /// Who: `token:<name>#<id>`, `cli`, `mediator:<id>`, `system`.
    pub actor: String,
    /// What: `committee.create`, `case.read`, `case.reassign`, …
    pub action: String,
    /// The kind of object.
    pub object_kind: String,
    /// Its id, code or case number.
    pub object_id: String,
    /// Details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// One page of the audit log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    pub items: Vec<AuditOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Audit-log entries, newest first. Admin only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, description = "One page of entries", body = AuditPage),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn list_audit(
    State(state): State<AdminState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditPage>> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            Some("limit"),
            "limit must be 1 to 500",
        ));
    }
    let before = q
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
    let mut conn = state.storage.acquire().await?;
    let mut rows = storage::audit::list(&mut conn, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(axum::Json(AuditPage {
        items: rows
            .into_iter()
            .map(|e| AuditOut {
                id: e.id,
                at: iso(e.at),
                actor: e.actor,
                action: e.action,
                object_kind: e.object_kind,
                object_id: e.object_id,
                details: serde_json::from_str(&e.details).unwrap_or_default(),
            })
            .collect(),
        next_cursor,
    }))
}
