//! Test helpers for the Telegram transport: a small echo handler standing in
//! for the conversation engine, starting the transport against the fake Bot
//! API in either mode, and waiting for effects with a deadline.

use super::TestDb;
use jiefen::clock::{SharedClock, SystemClock};
use jiefen::config::Secret;
use jiefen::conversation::{Event, HandlerError, Incoming, UpdateHandler};
use jiefen::outgoing::{escape_html, OutMessage};
use jiefen::storage::Tx;
use jiefen::telegram::fake_api::FakeBotApi;
use jiefen::telegram::{self, TelegramRuntime, TelegramSettings, WebhookSettings};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// The webhook secret the tests use.
pub const WEBHOOK_SECRET: &str = "s3cret_for-tests";

/// Waits until `check` holds, polling, for at most 30 seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What the echo handler saw: one line per event, per chat, in the order
/// applied. Kept in the `conversations` table so it commits (or rolls back)
/// with the update, exactly like the real engine's state.
pub async fn seen(db: &TestDb, chat_id: i64) -> Vec<String> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM conversations WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(db.storage.pool())
            .await
            .expect("read conversation");
    state
        .map(|s| serde_json::from_str(&s).expect("state is a JSON list"))
        .unwrap_or_default()
}

/// A handler that records each event in the chat's conversation row and
/// answers "echo: <text>" (escaped), and answers button presses. It can be
/// told to hold one chat's updates at a gate, to fail, or to panic.
#[derive(Default)]
pub struct EchoHandler {
    /// Updates of this chat wait for a permit before doing anything.
    pub gate: Option<(i64, Arc<Semaphore>)>,
    /// Poked when an update reaches the gate.
    pub at_gate: Arc<Notify>,
    /// Whether an update reached the gate.
    pub reached_gate: Arc<AtomicBool>,
    /// Fail every update of this chat.
    pub fail_chat: Option<i64>,
}

/// How an event is written into the record.
pub fn describe(e: &Event) -> String {
    match e {
        Event::Text { text } => text.clone(),
        Event::Command { name, args } => format!("/{name} [{args}]"),
        Event::Button { data, .. } => format!("button {data}"),
        Event::Location { lat, lon } => format!("location {lat},{lon}"),
        Event::Contact {
            phone,
            contact_user_id,
        } => format!("contact {phone} {contact_user_id:?}"),
        Event::Attachment { kind, file_id, .. } => format!("{} {file_id}", kind.code()),
        Event::Edited => "edited".into(),
        Event::Unsupported { what } => format!("unsupported {what}"),
    }
}

#[async_trait::async_trait]
impl UpdateHandler for EchoHandler {
    async fn prepare_batch(
        &self,
        _tx: &mut Tx,
        _batch: &[&Incoming],
    ) -> Result<(), jiefen::storage::StorageError> {
        Ok(())
    }

    async fn handle(
        &self,
        tx: &mut Tx,
        incoming: &Incoming,
    ) -> Result<Vec<OutMessage>, HandlerError> {
        let chat = incoming.chat.id;
        if let Some((gated, sem)) = &self.gate {
            if *gated == chat {
                self.reached_gate.store(true, Ordering::SeqCst);
                self.at_gate.notify_waiters();
                let permit = sem
                    .acquire()
                    .await
                    .map_err(|_| HandlerError::Internal("gate closed".into()))?;
                permit.forget();
            }
        }
        if self.fail_chat == Some(chat) {
            return Err(HandlerError::Internal("told to fail".into()));
        }
        let line = describe(&incoming.event);
        let prev: Option<String> =
            sqlx::query_scalar("SELECT state FROM conversations WHERE chat_id = $1")
                .bind(chat)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| HandlerError::Internal(e.to_string()))?;
        let existed = prev.is_some();
        let mut list: Vec<String> = prev
            .map(|s| serde_json::from_str(&s).unwrap_or_default())
            .unwrap_or_default();
        list.push(line.clone());
        let state = serde_json::to_string(&list).unwrap_or_default();
        let sql = if existed {
            "UPDATE conversations SET state = $2, version = version + 1, updated_at = 0 WHERE chat_id = $1"
        } else {
            "INSERT INTO conversations (chat_id, state, version, updated_at) VALUES ($1, $2, 0, 0)"
        };
        sqlx::query(sql)
            .bind(chat)
            .bind(state)
            .execute(&mut **tx)
            .await
            .map_err(|e| HandlerError::Internal(e.to_string()))?;
        let mut out = Vec::new();
        if let Event::Button { callback_id, .. } = &incoming.event {
            out.push(OutMessage::answer(chat, callback_id.clone(), None));
        }
        out.push(OutMessage::text(
            chat,
            format!("echo: {}", escape_html(&line)),
        ));
        Ok(out)
    }
}

/// Intake mode for [`spawn_app`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// getUpdates.
    Polling,
    /// Telegram POSTs to our HTTP server.
    Webhook,
}

/// A running transport.
pub struct App {
    pub runtime: TelegramRuntime,
    pub shutdown: CancellationToken,
    /// The webhook URL (webhook mode).
    pub webhook_url: Option<url::Url>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Stops gracefully and waits for every task.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.runtime.join())
            .await
            .expect("transport stops within 30 s of shutdown");
        if let Some(s) = self.server {
            s.abort();
        }
    }

    /// Stops every task at once, as a crash would.
    pub async fn crash(self) {
        self.runtime.abort();
        for t in self.runtime.tasks {
            let _ = t.await;
        }
        if let Some(s) = self.server {
            s.abort();
            let _ = s.await;
        }
    }
}

/// Settings pointing at the fake, with quick sweeps for tests.
pub fn settings(fake: &FakeBotApi) -> TelegramSettings {
    let mut s = TelegramSettings::new(fake.url(), Secret::new(fake.token()));
    s.poll_timeout_secs = 2;
    s.applier.sweep_interval = Duration::from_millis(100);
    s.applier.base_backoff = Duration::from_millis(50);
    s.sender.sweep_interval = Duration::from_millis(100);
    s.sender.base_backoff = Duration::from_millis(50);
    s
}

/// Starts the transport against the fake (webhook mode serves the router on
/// a loopback port bound before setWebhook is called).
pub async fn spawn_app(
    db: &TestDb,
    fake: &FakeBotApi,
    mode: Mode,
    handler: Arc<dyn UpdateHandler>,
    tweak: impl FnOnce(&mut TelegramSettings),
) -> App {
    let mut s = settings(fake);
    let mut listener = None;
    let mut webhook_url = None;
    if mode == Mode::Webhook {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind webhook port");
        let url = url::Url::parse(&format!(
            "http://{}/telegram/webhook",
            l.local_addr().expect("address")
        ))
        .expect("webhook URL");
        s.webhook = Some(WebhookSettings {
            url: url.clone(),
            secret: Secret::new(WEBHOOK_SECRET),
        });
        listener = Some(l);
        webhook_url = Some(url);
    }
    tweak(&mut s);
    let clock: SharedClock = Arc::new(SystemClock);
    let shutdown = CancellationToken::new();
    let mut runtime = telegram::start(s, db.storage.clone(), clock, handler, shutdown.clone())
        .await
        .expect("transport starts");
    let server = match (listener, runtime.webhook_router.take()) {
        (Some(l), Some(router)) => Some(tokio::spawn(async move {
            let _ = axum::serve(l, router).await;
        })),
        _ => None,
    };
    App {
        runtime,
        shutdown,
        webhook_url,
        server,
    }
}
