//! Putting the parts together: the engine every adapter shares, and the
//! service `serve` runs.

use crate::clock::SharedClock;
use crate::config::PolicyConfig;
use crate::conversation::Engine;
use crate::lifecycle::Lifecycle;
use crate::routing::Router;
use std::sync::Arc;

/// The conversation engine with everything that reacts to its changes, as
/// both the Telegram bot and the terminal chat run it.
pub fn build_engine(
    router: Router,
    policy: PolicyConfig,
    clock: SharedClock,
    admin_chat_id: Option<i64>,
) -> Arc<Engine> {
    Arc::new(Engine::from_lifecycle(build_lifecycle(
        router,
        policy,
        clock,
        admin_chat_id,
    )))
}

/// The case service shared by the engine, the admin API and the sweeper
/// (its default assignment hook tells the committee's mediators).
pub fn build_lifecycle(
    router: Router,
    policy: PolicyConfig,
    clock: SharedClock,
    admin_chat_id: Option<i64>,
) -> Lifecycle {
    Lifecycle::new(router, policy, clock, admin_chat_id)
}

/// The running service: HTTP server, Telegram transport and jobs.
pub struct Running {
    /// Where the HTTP server (admin API, webhook, health, metrics) listens.
    pub addr: std::net::SocketAddr,
    /// The bot's username, when Telegram told it.
    pub bot_username: Option<String>,
    telegram: crate::telegram::TelegramRuntime,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).finish()
    }
}

impl Running {
    /// Waits until every part has stopped (after the shutdown token fired):
    /// the HTTP server drains its requests, the transport finishes the update
    /// in flight and the sender its send.
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.server.await;
        self.telegram.join().await;
        for j in self.jobs {
            let _ = j.await;
        }
        match served {
            Ok(r) => r.map_err(anyhow::Error::from),
            Err(e) => Err(anyhow::anyhow!("HTTP server task failed: {e}")),
        }
    }

    /// Poke after committing outbox rows outside a handler (for tools that
    /// queue notifications directly) so they are sent at once.
    pub fn outbox_notify(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.telegram.outbox_notify.clone()
    }

    /// Stops every Telegram task at once, as a crash would (for tests).
    pub fn abort(&self) {
        self.telegram.abort();
        self.server.abort();
        for j in &self.jobs {
            j.abort();
        }
    }
}

/// Starts everything `serve` runs on an open, migrated database. Binds the
/// HTTP listener before returning, so callers can use `addr` at once.
pub async fn start(
    storage: crate::storage::Storage,
    cfg: &crate::config::ServeConfig,
    clock: SharedClock,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Running> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(cfg.admin_listen)
        .await
        .with_context(|| format!("JIEFEN_ADMIN_LISTEN: cannot listen on {}", cfg.admin_listen))?;
    start_with_listener(listener, storage, cfg, clock, shutdown).await
}

/// [`start`] on a listener bound already (tests bind port 0 first to know
/// the webhook URL before Telegram is told about it).
pub async fn start_with_listener(
    listener: tokio::net::TcpListener,
    storage: crate::storage::Storage,
    cfg: &crate::config::ServeConfig,
    clock: SharedClock,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Running> {
    use anyhow::Context;

    let router = Router::load(&storage)
        .await
        .context("could not load committees and routing rules")?;
    let metrics = crate::metrics::Metrics::new();
    let lifecycle = build_lifecycle(
        router.clone(),
        cfg.policy.clone(),
        clock.clone(),
        cfg.admin_chat_id,
    )
    .with_metrics(metrics.clone())
    .with_numbers_from(&storage);
    let engine: Arc<dyn crate::conversation::UpdateHandler> = Arc::new(Metered {
        inner: Arc::new(Engine::from_lifecycle(lifecycle.clone())),
        metrics: metrics.clone(),
    });
    let addr = listener.local_addr()?;

    let mut settings =
        crate::telegram::TelegramSettings::new(cfg.telegram_api_url.clone(), cfg.bot_token.clone());
    settings.admin_chat_id = cfg.admin_chat_id;
    settings.metrics = metrics.clone();
    settings.sender.metrics = metrics.clone();
    settings.sender.global_limit = cfg.send_rate;
    if let (Some(url), Some(secret)) = (&cfg.webhook_url, &cfg.webhook_secret) {
        settings.webhook = Some(crate::telegram::WebhookSettings {
            url: url.clone(),
            secret: secret.clone(),
        });
    }
    let mut telegram = crate::telegram::start(
        settings,
        storage.clone(),
        clock.clone(),
        engine,
        shutdown.clone(),
    )
    .await
    .context("could not start the Telegram transport")?;

    let state = crate::admin::AdminState::new(
        storage.clone(),
        router,
        clock.clone(),
        cfg.policy.clone(),
        telegram.bot_username.clone(),
        metrics,
    )
    .with_lifecycle(lifecycle.clone())
    .with_outbox_notify(telegram.outbox_notify.clone());
    let mut app = crate::admin::router(state);
    if let Some(webhook) = telegram.webhook_router.take() {
        app = app.merge(webhook);
    }
    let graceful = shutdown.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(graceful.cancelled_owned())
            .await
    });
    let early_warning = lifecycle.early_warning_notify();
    let sweeper = crate::jobs::Sweeper::new(
        storage.clone(),
        lifecycle,
        Arc::new(crate::jobs::OutboxQueue),
    );
    let reports_to = cfg
        .admin_chat_id
        .map(|chat_id| crate::oversight::AdminChat {
            chat_id,
            lang: crate::i18n::Lang::parse(&cfg.policy.default_language).unwrap_or_default(),
            tz: cfg.policy.timezone,
        });
    let deliverer = crate::oversight::webhooks::Deliverer::new(
        storage.clone(),
        clock.clone(),
        crate::oversight::webhooks::DelivererConfig::default(),
    )
    .context("could not build the webhook client")?;
    let jobs = vec![
        tokio::spawn(crate::jobs::run_sweeper(
            sweeper,
            cfg.policy.clone(),
            storage.clone(),
            reports_to,
            clock.clone(),
            telegram.outbox_notify.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(deliverer.run(shutdown.clone())),
        tokio::spawn(crate::oversight::clusters::run_worker(
            storage.clone(),
            clock.clone(),
            reports_to,
            early_warning,
            telegram.outbox_notify.clone(),
            shutdown.clone(),
        )),
    ];
    tracing::info!(%addr, webhook = cfg.webhook_url.is_some(), "jiefen is serving");
    Ok(Running {
        addr,
        bot_username: telegram.bot_username.clone(),
        telegram,
        server,
        jobs,
    })
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
pub fn cancel_on_signal(shutdown: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        shutdown.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("shutting down");
        shutdown.cancel();
    });
}

/// Times every update the engine handles and counts the ones it applied,
/// for `/metrics`.
struct Metered {
    inner: Arc<dyn crate::conversation::UpdateHandler>,
    metrics: crate::metrics::Metrics,
}

#[async_trait::async_trait]
impl crate::conversation::UpdateHandler for Metered {
    async fn handle(
        &self,
        tx: &mut crate::storage::Tx,
        incoming: &crate::conversation::Incoming,
    ) -> Result<Vec<crate::outgoing::OutMessage>, crate::conversation::HandlerError> {
        let started = std::time::Instant::now();
        let result = self.inner.handle(tx, incoming).await;
        self.metrics.observe_handler(started.elapsed());
        if result.is_ok() {
            self.metrics.update_applied();
        }
        result
    }

    async fn prepare_batch(
        &self,
        tx: &mut crate::storage::Tx,
        batch: &[&crate::conversation::Incoming],
    ) -> Result<(), crate::storage::StorageError> {
        self.inner.prepare_batch(tx, batch).await
    }
}
