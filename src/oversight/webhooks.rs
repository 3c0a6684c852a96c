//! Event webhooks (数据共享、信息互通): the other platforms of the mediation
//! network subscribe to case and alert events and receive signed JSON.
//!
//! [`emit`] writes one delivery row per matching subscription in the
//! caller's transaction (outbox pattern), so an event is queued if and only
//! if the change it reports commits. The [`Deliverer`] leases due rows,
//! POSTs them with
//!
//! * `X-Jiefen-Delivery: <delivery id>` (also in the body; receivers
//!   de-duplicate on it, delivery being at-least-once),
//! * `X-Jiefen-Event: <event type>`,
//! * `X-Jiefen-Signature: sha256=<hex HMAC-SHA256(secret, body)>`,
//!
//! treats any 2xx as delivered, and retries anything else (other statuses,
//! timeouts, refused connections) with exponential backoff until the
//! retry period (default 24 h) has passed, then marks the delivery failed.

use super::OversightError;
use crate::clock::{ms_to_datetime, SharedClock};
use crate::config::Secret;
use crate::storage::alerts;
use crate::storage::cases;
use crate::storage::webhooks::{self as store, ClaimedDelivery, NewDelivery};
use crate::storage::{Conn, Storage, StorageError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The events a subscription can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A resident filed a case.
    CaseFiled,
    /// A case was assigned to a committee (filing, reassignment, escalation).
    CaseAssigned,
    /// A mediator accepted a case.
    CaseAccepted,
    /// Mediation reached an agreement.
    CaseResolved,
    /// Mediation failed.
    CaseFailed,
    /// A case went up a level.
    CaseEscalated,
    /// A case was closed.
    CaseClosed,
    /// Early warning raised an alert.
    AlertRaised,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 8] = [
        EventType::CaseFiled,
        EventType::CaseAssigned,
        EventType::CaseAccepted,
        EventType::CaseResolved,
        EventType::CaseFailed,
        EventType::CaseEscalated,
        EventType::CaseClosed,
        EventType::AlertRaised,
    ];

    /// The stable code (`case_filed`, …).
    pub fn code(self) -> &'static str {
        match self {
            EventType::CaseFiled => "case_filed",
            EventType::CaseAssigned => "case_assigned",
            EventType::CaseAccepted => "case_accepted",
            EventType::CaseResolved => "case_resolved",
            EventType::CaseFailed => "case_failed",
            EventType::CaseEscalated => "case_escalated",
            EventType::CaseClosed => "case_closed",
            EventType::AlertRaised => "alert_raised",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Result<Self, OversightError> {
        Self::ALL
            .iter()
            .copied()
            .find(|e| e.code() == s.trim())
            .ok_or_else(|| {
                OversightError::Invalid(
                    "event_types",
                    format!(
                        "unknown event type '{s}'; expected one of {}",
                        Self::ALL.map(|e| e.code()).join(", ")
                    ),
                )
            })
    }
}

/// A receiver URL: `https://…`, or `http://` only to the local machine
/// (`127.0.0.1`, `localhost`, `[::1]`) for tests and local relays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Parses and checks a URL.
    pub fn parse(s: &str) -> Result<Self, OversightError> {
        let bad = |m: &str| OversightError::Invalid("url", m.to_owned());
        let u = url::Url::parse(s.trim()).map_err(|e| bad(&format!("not a URL: {e}")))?;
        let host = u.host_str().unwrap_or("");
        if host.is_empty() {
            return Err(bad("the URL has no host"));
        }
        match u.scheme() {
            "https" => {}
            "http" if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => {}
            _ => {
                return Err(bad(
                    "must be https:// (http:// only to 127.0.0.1 or localhost)",
                ))
            }
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(
                "credentials in the URL are not accepted; use the secret",
            ));
        }
        if s.len() > 2048 {
            return Err(bad("longer than 2048 characters"));
        }
        Ok(Self(u.to_string()))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new or replaced subscription, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionInput {
    /// Admin's label.
    pub name: String,
    /// Receiver.
    pub url: WebhookUrl,
    /// HMAC key; `None` to generate one (returned once by [`create_subscription`]).
    pub secret: Option<Secret>,
    /// Events wanted (at least one).
    pub event_types: Vec<EventType>,
    /// Whether payloads may carry personal data (description, names,
    /// phone, address, exact location).
    pub personal_data: bool,
    /// Active.
    pub active: bool,
}

fn values(
    input: &SubscriptionInput,
    secret: Secret,
) -> Result<store::SubscriptionValues, OversightError> {
    if input.event_types.is_empty() {
        return Err(OversightError::Invalid(
            "event_types",
            "choose at least one event type".into(),
        ));
    }
    if secret.expose().len() < 16 || secret.expose().len() > 256 {
        return Err(OversightError::Invalid(
            "secret",
            "must be 16 to 256 characters".into(),
        ));
    }
    if input.name.chars().count() > 200 {
        return Err(OversightError::Invalid(
            "name",
            "at most 200 characters".into(),
        ));
    }
    let mut events: Vec<String> = vec![];
    for e in &input.event_types {
        if !events.iter().any(|x| x == e.code()) {
            events.push(e.code().to_owned());
        }
    }
    Ok(store::SubscriptionValues {
        name: input.name.trim().to_owned(),
        url: input.url.as_str().to_owned(),
        secret,
        event_types: events,
        personal_data: input.personal_data,
        active: input.active,
    })
}

/// Creates a subscription; returns its id and the secret (generated when
/// none was given — show it to the admin once).
pub async fn create_subscription(
    conn: &mut Conn,
    input: &SubscriptionInput,
    now: i64,
) -> Result<(i64, Secret), OversightError> {
    let secret = input
        .secret
        .clone()
        .unwrap_or_else(|| Secret::new(format!("whsec_{}", crate::secrets::random_secret(32))));
    let id = store::create(conn, &values(input, secret.clone())?, now).await?;
    Ok((id, secret))
}

/// Replaces a subscription; `secret: None` keeps the current one.
pub async fn update_subscription(
    conn: &mut Conn,
    id: i64,
    input: &SubscriptionInput,
    now: i64,
) -> Result<(), OversightError> {
    let current = store::get(conn, id)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("webhook {id}")))?;
    let secret = input.secret.clone().unwrap_or(current.secret);
    if !store::update(conn, id, &values(input, secret)?, now).await? {
        return Err(OversightError::NotFound(format!("webhook {id}")));
    }
    Ok(())
}

/// What happened, for [`emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEvent {
    /// Something happened to a case (row id); `EventType` must be a `case_*`.
    Case(EventType, i64),
    /// An alert was raised (alert id).
    AlertRaised(i64),
}

impl WebhookEvent {
    /// The event type.
    pub fn event_type(self) -> EventType {
        match self {
            WebhookEvent::Case(t, _) => t,
            WebhookEvent::AlertRaised(_) => EventType::AlertRaised,
        }
    }
}

/// How long failed deliveries are retried, by default.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// Queues the event for every active subscription that wants it, in the
/// caller's transaction, retried for [`DEFAULT_RETRY_PERIOD`]. Returns how
/// many deliveries were queued.
pub async fn emit(conn: &mut Conn, event: WebhookEvent, now: i64) -> Result<usize, OversightError> {
    emit_with_retry_period(conn, event, now, DEFAULT_RETRY_PERIOD).await
}

/// [`emit`] with a chosen retry period.
pub async fn emit_with_retry_period(
    conn: &mut Conn,
    event: WebhookEvent,
    now: i64,
    retry_period: Duration,
) -> Result<usize, OversightError> {
    let kind = event.event_type();
    let subs: Vec<_> = store::active(conn)
        .await?
        .into_iter()
        .filter(|s| s.event_types.iter().any(|e| e == kind.code()))
        .collect();
    if subs.is_empty() {
        return Ok(0);
    }
    let (public, personal) = match event {
        WebhookEvent::Case(_, id) => case_data(conn, id).await?,
        WebhookEvent::AlertRaised(id) => alert_data(conn, id).await?,
    };
    let subject = match event {
        WebhookEvent::Case(..) => "case",
        WebhookEvent::AlertRaised(_) => "alert",
    };
    let give_up_at =
        now.saturating_add(i64::try_from(retry_period.as_millis()).unwrap_or(i64::MAX));
    for s in &subs {
        let delivery_id = format!("dlv_{}", crate::secrets::random_secret(24));
        let mut data = public.clone();
        if s.personal_data {
            if let (Some(obj), serde_json::Value::Object(extra)) =
                (data.as_object_mut(), personal.clone())
            {
                obj.extend(extra);
            }
        }
        let body = serde_json::json!({
            "delivery_id": delivery_id,
            "event": kind.code(),
            "occurred_at": ms_to_datetime(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "personal_data": s.personal_data,
            subject: data,
        });
        let payload = body.to_string();
        store::enqueue(
            conn,
            &NewDelivery {
                delivery_id: &delivery_id,
                subscription_id: s.id,
                event_type: kind.code(),
                payload: &payload,
                due_at: now,
                give_up_at,
            },
        )
        .await?;
    }
    Ok(subs.len())
}

/// The case's public fields and, separately, its personal ones.
async fn case_data(
    conn: &mut Conn,
    id: i64,
) -> Result<(serde_json::Value, serde_json::Value), OversightError> {
    let c = cases::get(conn, id)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("case {id}")))?;
    let committee = match c.committee_id {
        Some(cid) => crate::storage::committees::get(conn, cid).await?.map(
            |k| serde_json::json!({ "id": k.id, "code": k.code, "name": k.name, "kind": k.kind }),
        ),
        None => None,
    };
    let public = serde_json::json!({
        "id": c.id,
        "number": c.number.as_str(),
        "category": c.category.code(),
        "status": c.status.code(),
        "region_code": c.region_code.as_str(),
        "party_count": c.party_count,
        "at_risk": c.at_risk,
        "submitted_at": ms_to_datetime(c.submitted_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "committee": committee,
    });
    let personal = serde_json::json!({
        "description": c.description,
        "other_party": c.other_party,
        "contact_phone": c.contact_phone,
        "address": c.address,
        "location": c.point.map(|p| serde_json::json!({ "lat": p.lat, "lon": p.lon })),
    });
    Ok((public, personal))
}

/// The alert's fields (no personal data: numbers and categories only).
async fn alert_data(
    conn: &mut Conn,
    id: i64,
) -> Result<(serde_json::Value, serde_json::Value), OversightError> {
    let a = alerts::get(conn, id)
        .await?
        .ok_or_else(|| OversightError::NotFound(format!("alert {id}")))?;
    let members = alerts::cases_of(conn, id).await?;
    let public = serde_json::json!({
        "id": a.id,
        "kind": a.kind,
        "categories": a.category_group.split('+').collect::<Vec<_>>(),
        "region_code": a.region_code.as_str(),
        "centre": { "lat": a.centre.lat, "lon": a.centre.lon },
        "radius_km": a.radius_km,
        "case_count": a.case_count,
        "party_total": a.party_total,
        "first_case_at": ms_to_datetime(a.first_case_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "last_case_at": ms_to_datetime(a.last_case_at).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "cases": members.iter().map(|m| serde_json::json!({
            "id": m.case_id, "number": m.number.as_str(), "category": m.category.code(),
            "status": m.status.code(),
        })).collect::<Vec<_>>(),
    });
    Ok((public, serde_json::json!({})))
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the signature header value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header in constant time (for receivers and tests).
pub fn verify_signature(secret: &str, body: &[u8], header: &str) -> bool {
    crate::secrets::constant_time_eq(signature(secret, body).as_bytes(), header.as_bytes())
}

/// Settings of the delivery worker.
#[derive(Debug, Clone, PartialEq)]
pub struct DelivererConfig {
    /// Wait before the first retry; doubles with each failure. Default 30 s.
    pub base_backoff: Duration,
    /// Longest wait between retries. Default 1 h.
    pub max_backoff: Duration,
    /// Timeout of one POST (connect and response). Default 10 s.
    pub request_timeout: Duration,
    /// How long a worker holds leased rows; longer than a request. Default 60 s.
    pub lease: Duration,
    /// Deliveries leased per round. Default 16.
    pub batch: i64,
    /// How often [`Deliverer::run`] looks for due deliveries. Default 2 s.
    pub poll_interval: Duration,
}

impl Default for DelivererConfig {
    fn default() -> Self {
        Self {
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            batch: 16,
            poll_interval: Duration::from_secs(2),
        }
    }
}

impl DelivererConfig {
    /// The wait after the `attempt`-th failure (1-based): base × 2^(n−1),
    /// capped.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.base_backoff
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.max_backoff)
    }
}

/// Why the worker could not build its HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// The worker that sends queued deliveries. Several may run, on one or many
/// instances: leases keep them from sending one row at the same time.
#[derive(Debug, Clone)]
pub struct Deliverer {
    storage: Storage,
    clock: SharedClock,
    config: DelivererConfig,
    http: reqwest::Client,
    worker: String,
}

enum Outcome {
    Delivered(i64),
    Failed(Option<i64>, String),
}

impl Deliverer {
    /// A worker on `storage`.
    pub fn new(
        storage: Storage,
        clock: SharedClock,
        config: DelivererConfig,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            // A receiver's redirect must not send signed events elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jiefen-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            storage,
            clock,
            config,
            http,
            worker: format!("deliverer-{}", crate::secrets::random_secret(10)),
        })
    }

    /// Sends every delivery due at `now_ms` (one lease round) and returns how
    /// many were delivered.
    pub async fn deliver_due(&self, now_ms: i64) -> Result<usize, StorageError> {
        let lease_until = now_ms + i64::try_from(self.config.lease.as_millis()).unwrap_or(60_000);
        let mut tx = self.storage.begin().await?;
        let claimed = store::claim_due(
            &mut tx,
            self.storage.backend(),
            &self.worker,
            now_ms,
            lease_until,
            self.config.batch.max(1),
        )
        .await?;
        tx.commit().await.map_err(StorageError::Database)?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let outcomes = futures::future::join_all(claimed.iter().map(|d| self.post(d))).await;
        let mut delivered = 0;
        let mut tx = self.storage.begin().await?;
        for (d, outcome) in claimed.iter().zip(outcomes) {
            match outcome {
                Outcome::Delivered(status) => {
                    if store::mark_delivered(&mut tx, d.id, &self.worker, status, now_ms).await? {
                        delivered += 1;
                    }
                    tracing::info!(delivery = %d.delivery_id, event = %d.event_type, "webhook delivered");
                }
                Outcome::Failed(status, error) => {
                    let attempt = d.attempts + 1;
                    let wait =
                        i64::try_from(self.config.backoff(attempt).as_millis()).unwrap_or(i64::MAX);
                    let give_up = now_ms >= d.give_up_at;
                    let next = now_ms.saturating_add(wait).min(d.give_up_at.max(now_ms));
                    store::mark_attempt_failed(
                        &mut tx,
                        d.id,
                        &self.worker,
                        status,
                        &error,
                        next,
                        give_up,
                    )
                    .await?;
                    if give_up {
                        tracing::warn!(delivery = %d.delivery_id, attempts = attempt, %error, "webhook delivery given up");
                    } else {
                        tracing::info!(delivery = %d.delivery_id, attempts = attempt, %error, "webhook delivery will be retried");
                    }
                }
            }
        }
        tx.commit().await.map_err(StorageError::Database)?;
        Ok(delivered)
    }

    async fn post(&self, d: &ClaimedDelivery) -> Outcome {
        let body = d.payload.clone().into_bytes();
        let sig = signature(d.secret.expose(), &body);
        let res = self
            .http
            .post(&d.url)
            .header("Content-Type", "application/json")
            .header("X-Jiefen-Delivery", &d.delivery_id)
            .header("X-Jiefen-Event", &d.event_type)
            .header("X-Jiefen-Signature", sig)
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Outcome::Delivered(i64::from(r.status().as_u16())),
            Ok(r) => Outcome::Failed(
                Some(i64::from(r.status().as_u16())),
                format!("receiver answered {}", r.status()),
            ),
            // The error text names the URL and the cause, never the secret.
            Err(e) => Outcome::Failed(
                None,
                if e.is_timeout() {
                    "timed out".to_owned()
                } else {
                    format!("request failed: {}", e.without_url())
                },
            ),
        }
    }

    /// Delivers until `shutdown` is cancelled: a round whenever one finished
    /// with work, otherwise every poll interval.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let busy = match self.deliver_due(self.clock.now_ms()).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery round failed");
                    false
                }
            };
            if busy {
                if shutdown.is_cancelled() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        tracing::info!("webhook deliverer stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_local_http_urls_are_accepted() {
        assert!(WebhookUrl::parse("https://court.example.cn/hooks/jiefen").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/x").is_ok());
        assert!(WebhookUrl::parse("http://localhost/x").is_ok());
        for bad in [
            "http://court.example.cn/hook",
            "ftp://127.0.0.1/x",
            "not a url",
            "https://user:pw@example.cn/",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231 test case 2.
        let s = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_signature(
            "Jefe",
            b"what do ya want for nothing?",
            &s
        ));
        assert!(!verify_signature(
            "Jefe",
            b"what do ya want for nothing!",
            &s
        ));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = DelivererConfig::default();
        assert_eq!(c.backoff(1), Duration::from_secs(30));
        assert_eq!(c.backoff(2), Duration::from_secs(60));
        assert_eq!(c.backoff(4), Duration::from_secs(240));
        assert_eq!(c.backoff(50), Duration::from_secs(3600));
    }

    #[test]
    fn event_types_round_trip_and_unknown_ones_are_named() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.code()).unwrap(), e);
        }
        assert!(matches!(
            EventType::parse("case_eaten"),
            Err(OversightError::Invalid("event_types", _))
        ));
    }
}
