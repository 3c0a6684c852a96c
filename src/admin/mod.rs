//! The admin HTTP API: committees, mediators, regions, routing rules, cases,
//! statistics, audit log and tokens under `/api/v1`, plus `/healthz`,
//! `/readyz` and `/metrics`.
//!
//! Code tour:
//! - one module per resource, each with a `router()` of its routes; they are
//!   merged in [`api_routes`], which is also where the OpenAPI document comes
//!   from (utoipa-axum keeps a route and its documentation in one place, so
//!   the document lists exactly the routes served);
//! - [`error::ApiError`] is the one error type and JSON error shape;
//! - [`extract`] holds the bearer-token extractor ([`extract::Caller`]) and
//!   JSON/query/path extractors with JSON rejections.
//!
//! Alerts, reports and webhooks (issue 9) live in [`oversight`].
//!
//! Roles (issue 6): `admin` may do everything; `operator` reads everything
//! but tokens and the audit log, and may reassign, escalate and close cases;
//! `viewer` reads what the operator reads, with personal data masked (see
//! [`mask`]). Every write, and every read of personal data, writes an
//! audit-log row in the same transaction as the change.

pub mod audit;
pub mod cases;
pub mod committees;
pub mod error;
pub mod extract;
pub mod mask;
pub mod mediators;
pub mod oversight;
pub mod regions;
pub mod rules;
pub mod stats;
pub mod system;
pub mod tokens;

use crate::clock::SharedClock;
use crate::config::PolicyConfig;
use crate::metrics::Metrics;
use crate::storage::{Conn, Storage, StorageError};
use axum::extract::DefaultBodyLimit;
use extract::Caller;
use std::sync::{Arc, OnceLock};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Bodies larger than this are refused with 413 (imports have their own,
/// larger limit: [`IMPORT_BODY_LIMIT`]).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The body limit of the bulk-import routes.
pub const IMPORT_BODY_LIMIT: usize = 5 * 1024 * 1024;

/// What every admin handler needs.
#[derive(Clone, Debug)]
pub struct AdminState {
    /// The database.
    pub storage: Storage,
    /// The router (for the dry-run and escalation).
    pub router: crate::routing::Router,
    /// The clock (a manual one in tests).
    pub clock: SharedClock,
    /// Deadlines and time zone.
    pub policy: Arc<PolicyConfig>,
    /// The bot's username without `@`, for mediator invite links; invites
    /// cannot be created without it.
    pub bot_username: Option<String>,
    /// The metrics registry served at `/metrics`.
    pub metrics: Metrics,
    /// The case service: reassign, escalate and close go through it so the
    /// resident and the mediators are told, as with any other transition.
    pub lifecycle: crate::lifecycle::Lifecycle,
    /// Poked after a commit that queued messages, so they go out at once.
    pub outbox_notify: Option<Arc<tokio::sync::Notify>>,
}

impl AdminState {
    /// Bundles the admin API's dependencies.
    pub fn new(
        storage: Storage,
        router: crate::routing::Router,
        clock: SharedClock,
        policy: PolicyConfig,
        bot_username: Option<String>,
        metrics: Metrics,
    ) -> Self {
        let (router_clone, policy_clone, clock_clone) =
            (router.clone(), policy.clone(), clock.clone());
        Self {
            storage,
            router,
            clock,
            policy: Arc::new(policy),
            bot_username: bot_username
                .map(|u| u.trim_start_matches('@').to_owned())
                .filter(|u| !u.is_empty()),
            metrics,
            lifecycle: crate::lifecycle::Lifecycle::new(
                router_clone,
                policy_clone,
                clock_clone,
                None,
            ),
            outbox_notify: None,
        }
    }

    /// Uses this case service (with the admin chat and hooks of the running
    /// service) instead of the default one.
    pub fn with_lifecycle(mut self, lifecycle: crate::lifecycle::Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Pokes `notify` after committing queued messages.
    pub fn with_outbox_notify(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.outbox_notify = Some(notify);
        self
    }

    /// Queues messages in the caller's transaction.
    pub(crate) async fn queue(
        &self,
        conn: &mut crate::storage::Conn,
        messages: &[crate::outgoing::OutMessage],
        case_id: Option<i64>,
        now: i64,
    ) -> Result<(), crate::storage::StorageError> {
        for m in messages {
            crate::storage::outbox::enqueue(conn, m, case_id, now).await?;
        }
        Ok(())
    }

    /// Tells the sender that new messages are waiting.
    pub(crate) fn poke_outbox(&self) {
        if let Some(n) = &self.outbox_notify {
            n.notify_one();
        }
    }

    /// Now, ms since the epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Writes one audit-log row for `caller`.
pub(crate) async fn audit(
    conn: &mut Conn,
    now: i64,
    caller: &Caller,
    action: &str,
    object_kind: &str,
    object_id: &str,
    details: serde_json::Value,
) -> Result<(), StorageError> {
    crate::storage::audit::record(
        conn,
        now,
        &caller.actor(),
        action,
        object_kind,
        object_id,
        &details,
    )
    .await
}

/// An instant as RFC 3339 in UTC (`2026-11-21T08:00:00Z`).
pub(crate) fn iso(ms: i64) -> String {
    crate::clock::ms_to_datetime(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An optional instant as RFC 3339.
pub(crate) fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso)
}

/// Parses a query-string instant: RFC 3339, or a date `YYYY-MM-DD` meaning
/// the start of that day in the configured time zone (the day after, for the
/// exclusive end of a range when `end` is true).
pub(crate) fn parse_instant(
    s: &str,
    field: &str,
    tz: chrono_tz::Tz,
    end: bool,
) -> Result<i64, error::ApiError> {
    use chrono::TimeZone;
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    let bad = || {
        error::ApiError::bad_request(
            Some(field),
            format!("'{s}' is not a date (YYYY-MM-DD) or an RFC 3339 time"),
        )
    };
    let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    let date = if end {
        date.succ_opt().ok_or_else(bad)?
    } else {
        date
    };
    let start = date.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    tz.from_local_datetime(&start)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(bad)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jiefen admin API",
        description = "Committees, mediators, regions, routing rules, cases, statistics, audit log and \
tokens of a county's people's-mediation network.\n\n\
Authentication: `Authorization: Bearer <token>`. Roles: `admin` (everything), `operator` (reads; \
reassign, escalate and close cases; no changes to rules, committees, mediators, regions or tokens; \
no tokens or audit log), `viewer` (the operator's reads, personal data masked: no resident phone, \
name, description, address or location, no mediator name or phone, no attachment file ids). \
A missing or invalid token is 401 without detail; a role that may not act is 403.\n\n\
Every error has the body `{\"error\": code, \"message\": text, \"field\": name?}`. Bodies are limited \
to 1 MiB (5 MiB for imports). Every write and every read of personal data is audited.",
        version = "1"
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(error::ErrorBody)),
    tags(
        (name = "system", description = "Health, readiness, metrics and this document"),
        (name = "regions", description = "Administrative regions"),
        (name = "committees", description = "Mediation committees"),
        (name = "mediators", description = "Mediators and their invite links"),
        (name = "routing", description = "Routing rules, validation and the dry-run"),
        (name = "cases", description = "Cases, their timeline and admin actions"),
        (name = "stats", description = "Statistics"),
        (name = "audit", description = "The audit log"),
        (name = "tokens", description = "Admin tokens"),
        (name = "alerts", description = "Early warning: clusters of related cases and likely mass disputes"),
        (name = "reports", description = "Daily, weekly and monthly reports (JSON or CSV)"),
        (name = "webhooks", description = "Signed event deliveries to other platforms"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token created with `jiefen token create` or POST /api/v1/tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every route with its documentation.
fn api_routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(regions::router())
        .merge(committees::router())
        .merge(mediators::router())
        .merge(rules::router())
        .merge(cases::router())
        .merge(stats::router())
        .merge(audit::router())
        .merge(tokens::router())
        .merge(oversight::router())
}

/// The OpenAPI 3 document of the admin API (built once).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api_routes().into_openapi())
}

/// The admin API router with its state applied. Merge other routes (the
/// Telegram webhook) into it with `Router::merge`; it has a JSON fallback
/// for unknown paths and methods.
pub fn router(state: AdminState) -> axum::Router {
    let (routes, _doc) = api_routes().split_for_parts();
    routes
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
