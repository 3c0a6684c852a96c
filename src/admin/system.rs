//! `/healthz`, `/readyz`, `/metrics` and the OpenAPI document. None of
//! these needs a token: they carry no personal data and probes and
//! Prometheus scrapers hold no secrets.

use super::error::{ApiError, ErrorBody};
use super::AdminState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Liveness or readiness.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, description = "The process answers", body = Status)))]
async fn healthz() -> axum::Json<Status> {
    axum::Json(Status {
        status: "ok".into(),
    })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Status),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    ))]
async fn readyz(State(state): State<AdminState>) -> Response {
    match state.storage.ping().await {
        Ok(()) => axum::Json(Status {
            status: "ready".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(ErrorBody {
                    error: "not_ready".into(),
                    message: "the database does not answer".into(),
                    field: None,
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics in the text exposition format: updates received and
/// applied, handler latency, outbox depth, early-warning queue, send
/// outcomes, routing decisions and cases by status.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()),
    responses(
        (status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String,
         example = "# TYPE jiefen_outbox_pending gauge\njiefen_outbox_pending 0\n"),
        (status = 500, description = "The database could not be read", body = ErrorBody),
    ))]
async fn metrics(State(state): State<AdminState>) -> Result<Response, ApiError> {
    let text = state.metrics.scrape(&state.storage).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "The OpenAPI 3 document", body = Object,
               example = json!({"openapi": "3.1.0"}))))]
async fn openapi_json() -> Response {
    axum::Json(super::openapi()).into_response()
}
