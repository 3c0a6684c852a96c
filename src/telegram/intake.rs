//! Durable intake: updates reach the inbox before Telegram is told they
//! arrived.
//!
//! * Long polling: a batch from getUpdates is committed to the inbox (and the
//!   next offset with it) before the next getUpdates confirms it with
//!   `offset = last + 1`. After a restart the offset is read back from the
//!   database. teloxide's own polling listener confirms a batch before
//!   handling it, so getUpdates is called here directly (which also keeps
//!   the raw JSON, even of updates teloxide could not parse).
//! * Webhook: an axum route that checks Telegram's secret-token header in
//!   constant time, commits the update to the inbox, and only then answers
//!   200 (Telegram redelivers anything else). Telegram delivers over several
//!   connections at once; updates arriving together are committed in one
//!   transaction (group commit), and each request is answered only after
//!   the commit that holds its update.

use crate::clock::SharedClock;
use crate::config::Secret;
use crate::storage::{inbox, Storage, StorageError};
use crate::telegram::update;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

/// Why fetching or storing updates failed.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The database failed; nothing was confirmed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Telegram could not be reached or answered nonsense.
    #[error("getUpdates failed: {0}")]
    Http(String),
    /// Telegram refused (bad token, webhook still set, …).
    #[error("getUpdates refused: {code} {description}")]
    Refused {
        /// Telegram's error code.
        code: i64,
        /// Telegram's description.
        description: String,
    },
}

/// Stores a batch from getUpdates in one transaction, ignoring updates
/// already stored, and moves the polling offset past the batch. Returns how
/// many were new.
pub async fn store_batch(
    storage: &Storage,
    updates: &[Value],
    now: i64,
) -> Result<usize, StorageError> {
    let stored: Vec<(i64, Option<i64>, String)> = updates
        .iter()
        .filter_map(|u| {
            let id = update::update_id(u)?;
            Some((
                id,
                update::chat_id(u),
                serde_json::to_string(u).unwrap_or_default(),
            ))
        })
        .collect();
    let rows: Vec<inbox::NewUpdate<'_>> = stored
        .iter()
        .map(|(update_id, chat_id, payload)| inbox::NewUpdate {
            update_id: *update_id,
            chat_id: *chat_id,
            payload,
        })
        .collect();
    let mut tx = storage.begin().await?;
    let new = inbox::insert_many(&mut tx, &rows, now).await?;
    if let Some(last) = rows.iter().map(|r| r.update_id).max() {
        inbox::advance_poll_offset(&mut tx, last + 1).await?;
    }
    tx.commit().await?;
    Ok(new as usize)
}

/// Long polling against the Bot API.
#[derive(Debug, Clone)]
pub struct Poller {
    client: reqwest::Client,
    url: url::Url,
    delete_webhook_url: url::Url,
    /// Seconds getUpdates may hold the request open.
    pub timeout_secs: u64,
    /// Updates per batch (1–100).
    pub limit: u32,
    /// Where stored updates are counted (`/metrics`).
    pub metrics: crate::metrics::Metrics,
}

impl Poller {
    /// A poller for the bot `token` at `api_url` (e.g. `https://api.telegram.org/`).
    pub fn new(api_url: &url::Url, token: &Secret, timeout_secs: u64) -> Result<Self, IntakeError> {
        let method_url = |method: &str| -> Result<url::Url, IntakeError> {
            let mut url = api_url.clone();
            url.path_segments_mut()
                .map_err(|_| IntakeError::Http("API URL cannot be a base".into()))?
                .pop_if_empty()
                .push(&format!("bot{}", token.expose()))
                .push(method);
            Ok(url)
        };
        let url = method_url("getUpdates")?;
        let delete_webhook_url = method_url("deleteWebhook")?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // The long poll itself plus room for a slow answer.
            .timeout(Duration::from_secs(timeout_secs + 15))
            .build()
            .map_err(|e| IntakeError::Http(e.without_url().to_string()))?;
        Ok(Self {
            client,
            url,
            delete_webhook_url,
            timeout_secs,
            limit: 100,
            metrics: crate::metrics::Metrics::default(),
        })
    }

    /// One getUpdates call with `offset` (confirming everything below it).
    pub async fn fetch(&self, offset: i64) -> Result<Vec<Value>, IntakeError> {
        let body = serde_json::json!({
            "offset": offset,
            "timeout": self.timeout_secs,
            "limit": self.limit,
        });
        let resp = self
            .client
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            // Never log the URL: it holds the token.
            .map_err(|e| IntakeError::Http(e.without_url().to_string()))?;
        let v: Value = resp
            .json()
            .await
            .map_err(|e| IntakeError::Http(e.without_url().to_string()))?;
        if v.get("ok").and_then(Value::as_bool) != Some(true) {
            return Err(IntakeError::Refused {
                code: v.get("error_code").and_then(Value::as_i64).unwrap_or(0),
                description: v
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            });
        }
        match v.get("result") {
            Some(Value::Array(a)) => Ok(a.clone()),
            _ => Err(IntakeError::Http(
                "getUpdates answered without a result".into(),
            )),
        }
    }

    /// Removes a webhook left over from webhook mode (getUpdates answers 409
    /// while one is set), keeping the updates Telegram holds.
    pub async fn delete_webhook(&self) -> Result<(), IntakeError> {
        let resp = self
            .client
            .post(self.delete_webhook_url.clone())
            .json(&serde_json::json!({"drop_pending_updates": false}))
            .send()
            .await
            .map_err(|e| IntakeError::Http(e.without_url().to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(IntakeError::Http(format!(
                "deleteWebhook answered {}",
                resp.status()
            )))
        }
    }

    /// Fetches one batch with the stored offset and commits it to the inbox.
    /// The batch is confirmed to Telegram only by the next call, which reads
    /// the offset this commit wrote. Returns how many updates were new.
    pub async fn poll_once(
        &self,
        storage: &Storage,
        clock: &SharedClock,
    ) -> Result<usize, IntakeError> {
        let offset = {
            let mut c = storage.acquire().await?;
            inbox::poll_offset(&mut c).await?
        };
        let updates = self.fetch(offset).await?;
        if updates.is_empty() {
            return Ok(0);
        }
        let new = store_batch(storage, &updates, clock.now_ms()).await?;
        for _ in 0..new {
            self.metrics.update_received();
        }
        Ok(new)
    }
}

/// Polls until `shutdown`, poking `applied` after every stored batch. Errors
/// are logged and retried with backoff; an interrupted getUpdates loses
/// nothing, because nothing it returned was confirmed yet.
pub async fn run_polling(
    poller: Poller,
    storage: Storage,
    clock: SharedClock,
    inbox_notify: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let result = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            r = poller.poll_once(&storage, &clock) => r,
        };
        match result {
            Ok(n) => {
                backoff = Duration::from_millis(500);
                if n > 0 {
                    tracing::debug!(new = n, "stored updates");
                    inbox_notify.notify_one();
                }
            }
            Err(e) => {
                if let IntakeError::Refused {
                    code: 409,
                    description,
                } = &e
                {
                    if description.contains("webhook") {
                        if let Err(e) = poller.delete_webhook().await {
                            tracing::warn!(error = %e, "could not delete the webhook");
                        }
                    }
                }
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "polling failed");
                tokio::select! {
                biased;
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    tracing::info!("polling stopped");
}

/// Updates stored by one webhook group commit at most.
const WEBHOOK_BATCH: usize = 256;

/// One webhook update waiting for the group commit.
struct Pending {
    update_id: i64,
    chat_id: Option<i64>,
    raw: String,
    stored: oneshot::Sender<bool>,
}

#[derive(Clone)]
struct WebhookState {
    secret: Secret,
    commits: mpsc::Sender<Pending>,
}

/// Counts updates stored by the webhook (`/metrics`).
#[derive(Clone, Default)]
pub struct WebhookMetrics(pub crate::metrics::Metrics);

/// The webhook route at `path`, to merge into the application's HTTP server.
/// Spawns the task that commits arriving updates; it ends when the router
/// is dropped.
pub fn webhook_router(
    path: &str,
    storage: Storage,
    clock: SharedClock,
    secret: Secret,
    inbox_notify: Arc<Notify>,
    metrics: WebhookMetrics,
) -> Router {
    let path = if path.is_empty() { "/" } else { path };
    let (commits, rx) = mpsc::channel(4 * WEBHOOK_BATCH);
    tokio::spawn(group_commit(rx, storage, clock, inbox_notify, metrics));
    Router::new().route(
        path,
        post(receive).with_state(WebhookState { secret, commits }),
    )
}

/// Takes every update waiting, stores them in one transaction, and tells
/// each request whether its update is durable.
async fn group_commit(
    mut rx: mpsc::Receiver<Pending>,
    storage: Storage,
    clock: SharedClock,
    inbox_notify: Arc<Notify>,
    metrics: WebhookMetrics,
) {
    let mut batch = Vec::with_capacity(WEBHOOK_BATCH);
    while rx.recv_many(&mut batch, WEBHOOK_BATCH).await > 0 {
        let stored = async {
            let rows: Vec<inbox::NewUpdate<'_>> = batch
                .iter()
                .map(|p| inbox::NewUpdate {
                    update_id: p.update_id,
                    chat_id: p.chat_id,
                    payload: &p.raw,
                })
                .collect();
            let mut tx = storage.begin().await?;
            let new = inbox::insert_many(&mut tx, &rows, clock.now_ms()).await?;
            tx.commit().await?;
            for _ in 0..new {
                metrics.0.update_received();
            }
            Ok::<_, StorageError>(())
        }
        .await;
        let ok = match stored {
            Ok(()) => {
                inbox_notify.notify_one();
                true
            }
            Err(e) => {
                // Telegram redelivers on anything but 200, so nothing is lost.
                tracing::error!(updates = batch.len(), error = %e, "could not store webhook updates");
                false
            }
        };
        for p in batch.drain(..) {
            let _ = p.stored.send(ok);
        }
    }
}

async fn receive(State(st): State<WebhookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or(b"");
    if !crate::secrets::constant_time_eq(given, st.secret.expose().as_bytes()) {
        tracing::warn!("webhook call with a wrong or missing secret token");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(update) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(id) = update::update_id(&update) else {
        return StatusCode::BAD_REQUEST;
    };
    let (stored, answer) = oneshot::channel();
    let pending = Pending {
        update_id: id,
        chat_id: update::chat_id(&update),
        // Keep the body exactly as Telegram sent it.
        raw: String::from_utf8_lossy(&body).into_owned(),
        stored,
    };
    if st.commits.send(pending).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match answer.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
