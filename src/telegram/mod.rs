//! The Telegram transport: everything between the Bot API and the
//! conversation engine.
//!
//! * [`intake`]: long polling or webhook; every update is committed to the
//!   inbox before Telegram is told it arrived.
//! * [`applier`]: stored updates → [`UpdateHandler`] → outbox, one
//!   transaction per update, in order per chat.
//! * [`sender`]: outbox → Bot API within Telegram's limits, with retries,
//!   429 waits and 403 handling.
//! * [`update`]: reading raw updates; [`html`]: Telegram's HTML rules and
//!   message splitting; [`fake_api`]: a fake Bot API for tests.
//!
//! The application calls [`start`] once and merges the webhook router (when
//! there is one) into its HTTP server.

pub mod applier;
pub mod fake_api;
pub mod html;
pub mod intake;
pub mod sender;
pub mod update;

use crate::clock::SharedClock;
use crate::config::Secret;
use crate::conversation::UpdateHandler;
use crate::i18n::{t0, Lang};
use crate::storage::Storage;
use std::sync::Arc;
use teloxide::prelude::Requester;
use teloxide::types::BotCommand;
use teloxide::Bot;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use applier::ApplierConfig;
pub use sender::SenderConfig;

/// Where Telegram delivers updates in webhook mode.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The public HTTPS URL registered with setWebhook; its path is the
    /// route of [`TelegramRuntime::webhook_router`].
    pub url: url::Url,
    /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token`.
    pub secret: Secret,
}

/// What [`start`] needs.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// Bot API base URL (`https://api.telegram.org/`, or a fake in tests).
    pub api_url: url::Url,
    /// The bot token.
    pub token: Secret,
    /// Webhook mode when set; long polling otherwise.
    pub webhook: Option<WebhookSettings>,
    /// The chat that hears about unreachable mediators.
    pub admin_chat_id: Option<i64>,
    /// Seconds a getUpdates long poll may wait (polling mode).
    pub poll_timeout_secs: u64,
    /// Applier tuning.
    pub applier: ApplierConfig,
    /// Sender tuning.
    pub sender: SenderConfig,
    /// Where updates received are counted (`/metrics`).
    pub metrics: crate::metrics::Metrics,
}

impl TelegramSettings {
    /// Settings with default tuning.
    pub fn new(api_url: url::Url, token: Secret) -> Self {
        Self {
            api_url,
            token,
            webhook: None,
            admin_chat_id: None,
            poll_timeout_secs: 25,
            applier: ApplierConfig::default(),
            sender: SenderConfig::default(),
            metrics: crate::metrics::Metrics::default(),
        }
    }
}

/// Why the transport could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// setWebhook failed (webhook mode cannot receive anything without it).
    #[error("could not register the webhook: {0}")]
    Webhook(String),
    /// The polling client could not be built.
    #[error(transparent)]
    Intake(#[from] intake::IntakeError),
}

/// The running transport.
pub struct TelegramRuntime {
    /// Intake (polling mode only), applier and sender tasks. They end after
    /// the shutdown token is cancelled and in-flight work is finished.
    pub tasks: Vec<JoinHandle<()>>,
    /// The webhook route to merge into the HTTP server (webhook mode only).
    pub webhook_router: Option<axum::Router>,
    /// Poke after committing outbox rows outside the applier (e.g. a
    /// notification from an admin action) so they are sent at once.
    pub outbox_notify: Arc<Notify>,
    /// Poked by intake after storing updates.
    pub inbox_notify: Arc<Notify>,
    /// The bot's username from getMe, when Telegram answered.
    pub bot_username: Option<String>,
}

impl std::fmt::Debug for TelegramRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramRuntime")
            .field("tasks", &self.tasks.len())
            .field("webhook", &self.webhook_router.is_some())
            .field("bot_username", &self.bot_username)
            .finish()
    }
}

impl TelegramRuntime {
    /// Waits for every task to stop (after the shutdown token is cancelled).
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Stops every task at once, as a crash would: nothing in flight is
    /// finished (uncommitted transactions roll back). For tests.
    pub fn abort(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The commands shown in Telegram's menu, with descriptions in `lang`.
pub fn bot_commands(lang: Lang) -> Vec<BotCommand> {
    ["start", "mycases", "language", "help", "cancel"]
        .iter()
        .map(|c| BotCommand::new(*c, t0(lang, &format!("bot-command-{c}"))))
        .collect()
}

/// Registers the command menu: zh-CN as the default and for `zh`, English
/// for `en`. (Telegram scopes commands by two-letter language code, so
/// zh-TW readers see the zh-CN menu; the bot itself answers them in zh-TW.)
pub async fn set_my_commands(bot: &Bot) -> Result<(), teloxide::RequestError> {
    bot.set_my_commands(bot_commands(Lang::ZhCn)).await?;
    let mut zh = bot.set_my_commands(bot_commands(Lang::ZhCn));
    zh.language_code = Some("zh".into());
    zh.await?;
    let mut en = bot.set_my_commands(bot_commands(Lang::En));
    en.language_code = Some("en".into());
    en.await?;
    Ok(())
}

/// Starts the transport: registers commands, sets up intake (setWebhook in
/// webhook mode; deleteWebhook and long polling otherwise), and spawns the
/// applier and the sender. Every task stops when `shutdown` is cancelled,
/// after finishing what it is doing. The webhook is never deleted on
/// shutdown, so one instance stopping does not cut off the others.
pub async fn start(
    settings: TelegramSettings,
    storage: Storage,
    clock: SharedClock,
    handler: Arc<dyn UpdateHandler>,
    shutdown: CancellationToken,
) -> Result<TelegramRuntime, TelegramError> {
    let bot = Bot::new(settings.token.expose()).set_api_url(settings.api_url.clone());
    let bot_username = match bot.get_me().await {
        Ok(me) => me.user.username.clone(),
        Err(e) => {
            tracing::warn!(error = %sender::describe_error(&e), "getMe failed; commands for other bots in groups are not told apart");
            None
        }
    };
    if let Err(e) = set_my_commands(&bot).await {
        tracing::warn!(error = %sender::describe_error(&e), "setMyCommands failed");
    }
    let inbox_notify = Arc::new(Notify::new());
    let outbox_notify = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    let webhook_router = match &settings.webhook {
        Some(w) => {
            let mut req = bot.set_webhook(w.url.clone());
            req.secret_token = Some(w.secret.expose().to_owned());
            req.drop_pending_updates = Some(false);
            req.await
                .map_err(|e| TelegramError::Webhook(e.to_string()))?;
            tracing::info!("webhook registered");
            Some(intake::webhook_router(
                w.url.path(),
                storage.clone(),
                clock.clone(),
                w.secret.clone(),
                inbox_notify.clone(),
                intake::WebhookMetrics(settings.metrics.clone()),
            ))
        }
        None => {
            let mut poller = intake::Poller::new(
                &settings.api_url,
                &settings.token,
                settings.poll_timeout_secs,
            )?;
            poller.metrics = settings.metrics.clone();
            let mut req = bot.delete_webhook();
            req.drop_pending_updates = Some(false);
            if let Err(e) = req.await {
                tracing::warn!(error = %sender::describe_error(&e), "deleteWebhook failed; polling will retry");
            }
            tasks.push(tokio::spawn(intake::run_polling(
                poller,
                storage.clone(),
                clock.clone(),
                inbox_notify.clone(),
                shutdown.clone(),
            )));
            None
        }
    };
    let sender = sender::Sender::new(
        &settings.api_url,
        &settings.token,
        storage.clone(),
        clock.clone(),
        settings.admin_chat_id,
        format!(
            "{}-{}",
            std::process::id(),
            crate::secrets::random_secret(8)
        ),
        settings.sender.clone(),
    );
    let applier = applier::Applier::new(
        storage,
        clock,
        handler,
        bot_username.clone(),
        outbox_notify.clone(),
        settings.applier.clone(),
    )
    .with_handoff(sender.handoff());
    tasks.push(tokio::spawn(
        applier.run(inbox_notify.clone(), shutdown.clone()),
    ));
    tasks.push(tokio::spawn(sender.run(outbox_notify.clone(), shutdown)));
    Ok(TelegramRuntime {
        tasks,
        webhook_router,
        outbox_notify,
        inbox_notify,
        bot_username,
    })
}
