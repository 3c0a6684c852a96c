//! The outbox sender: claims due outbox rows, sends them through teloxide,
//! and records what Telegram said.
//!
//! * Limits, process-wide: at most 30 messages a second overall and one a
//!   second per chat (with a margin, since Telegram measures on arrival);
//!   answers to button presses are not chat messages and never wait.
//! * 429: the row waits `retry_after` (not counted as a failed attempt); when
//!   several chats hit 429 together it is a global flood and everything waits.
//! * 403 (blocked, deactivated): the chat's pending rows are dropped, the
//!   resident or mediator is marked unreachable, and when it is a mediator
//!   the admin chat (if configured) is told.
//! * 400: the row failed for good (Telegram will never take it).
//! * 5xx, timeouts, network errors: retried with exponential backoff.
//!
//! Rows are sent straight after the commit that queued them and by a
//! periodic sweep otherwise. The applier claims the rows it has just
//! queued in its own transaction and hands them over ([`Handoff`]), so a
//! reply costs no transaction of the sender's; others poke the sender
//! through a [`Notify`] and it claims them itself. Delivery is
//! at-least-once: a crash between Telegram's answer and "sent" resends.
//! "Sent" marks are written in batches, at most one commit per
//! `sent_mark_interval`, so sending does not cost a disk flush per
//! message; a row whose mark is not yet committed stays claimed by this
//! instance, so nobody else sends it meanwhile. A chat's next message waits
//! for its predecessor's mark, but it would wait longer anyway: one message
//! a second per chat. The transaction of the marks also claims those
//! chats' next messages, so they need no scan of the outbox.

use crate::clock::SharedClock;
use crate::config::Secret;
use crate::i18n::{t, Lang};
use crate::outgoing::{escape_html, Keyboard, OutBody, OutMessage, ShareRequest};
use crate::storage::{outbox, outbox::OutboxRow, reachability, Storage, StorageError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::prelude::Requester;
use teloxide::types::{
    ButtonRequest, CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup,
    KeyboardButton, KeyboardMarkup, KeyboardRemove, MessageId, ParseMode, ReplyMarkup,
};
use teloxide::{ApiError, Bot, RequestError};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How the sender paces and retries.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Where send outcomes are counted (`/metrics`).
    pub metrics: crate::metrics::Metrics,
    /// Gap between two messages to one chat.
    pub per_chat_interval: Duration,
    /// Messages allowed per `global_window` overall.
    pub global_limit: u32,
    /// The window `global_limit` applies to.
    pub global_window: Duration,
    /// Sends in flight at once.
    pub max_in_flight: usize,
    /// How long a claimed row stays reserved for this instance.
    pub lease: Duration,
    /// How often due rows are looked for without a poke.
    pub sweep_interval: Duration,
    /// First retry delay after a 5xx or network error (doubles each time).
    pub base_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Failed attempts (5xx, network) after which a row is given up.
    pub max_attempts: i64,
    /// Shortest time between two commits of "sent" marks (well under the
    /// per-chat gap, so no chat's next message waits for its mark).
    pub sent_mark_interval: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            metrics: crate::metrics::Metrics::default(),
            // Telegram's limits are 1/s per chat and 30/s overall, measured
            // where requests arrive. Per chat a 10% margin absorbs network
            // jitter; overall 3% (a 1,000-chat fan-out takes 34.3 s against
            // the 33.3 s floor): sends leave on a fixed grid and a timer
            // fires late, never early, so only a send delayed 30 ms more
            // than the one 30 places after it could arrive too close.
            per_chat_interval: Duration::from_millis(1100),
            global_limit: 30,
            global_window: Duration::from_millis(1030),
            // Most sends in flight are waiting for their chat's slot; they
            // must not hold up other chats.
            max_in_flight: 4096,
            lease: Duration::from_secs(60),
            sweep_interval: Duration::from_secs(1),
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            max_attempts: 20,
            sent_mark_interval: Duration::from_millis(50),
        }
    }
}

/// The next rows handed over, or never when there is no handoff.
async fn recv_handed(
    handed: &mut Option<mpsc::UnboundedReceiver<Vec<OutboxRow>>>,
) -> Option<Vec<OutboxRow>> {
    match handed {
        Some(h) => h.recv().await,
        None => std::future::pending().await,
    }
}

/// Paces sends process-wide. Each send reserves the earliest slot that
/// keeps both limits, so concurrent sends never overshoot.
#[derive(Debug)]
pub struct RateLimiter {
    cfg_per_chat: Duration,
    global_gap: Duration,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    /// Sends reserved overall, in the order of their slots; any two are at
    /// least the global gap apart.
    reserved: std::collections::BTreeSet<Instant>,
    chat_next: HashMap<i64, Instant>,
    paused_until: Option<Instant>,
    recent_429: VecDeque<(Instant, i64)>,
}

impl RateLimiter {
    /// A limiter for `cfg`.
    pub fn new(cfg: &SenderConfig) -> Self {
        Self {
            cfg_per_chat: cfg.per_chat_interval,
            global_gap: cfg.global_window / cfg.global_limit.max(1),
            state: Mutex::new(LimiterState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves a slot for one send to `chat_id` and returns when it may go.
    /// `chat_message` is false for callback answers, which only honour a
    /// global flood pause.
    pub fn reserve(&self, chat_id: i64, chat_message: bool) -> Instant {
        let now = Instant::now();
        let mut s = self.lock();
        let mut slot = now;
        if let Some(p) = s.paused_until {
            slot = slot.max(p);
        }
        if !chat_message {
            return slot;
        }
        if let Some(c) = s.chat_next.get(&chat_id) {
            slot = slot.max(*c);
        }
        // The earliest time from `slot` on that is a global gap away from
        // every other reserved send. A chat waiting for its own slot does
        // not move the others: only sends near its slot are affected.
        let gap = self.global_gap;
        let horizon = now.checked_sub(gap).unwrap_or(now);
        s.reserved = s.reserved.split_off(&horizon);
        loop {
            let lo = slot.checked_sub(gap).unwrap_or(slot);
            let clash = s
                .reserved
                .range((
                    std::ops::Bound::Excluded(lo),
                    std::ops::Bound::Excluded(slot + gap),
                ))
                .next_back()
                .copied();
            match clash {
                Some(r) => slot = r + gap,
                None => break,
            }
        }
        s.reserved.insert(slot);
        s.chat_next.insert(chat_id, slot + self.cfg_per_chat);
        // Forget chats whose gap has passed, so the map stays small.
        if s.chat_next.len() > 10_000 {
            s.chat_next.retain(|_, t| *t > now);
        }
        slot
    }

    /// Telegram said 429 for `chat_id`: that chat waits `retry_after`; when
    /// another chat got a 429 within the last second too, it is a global
    /// flood and every send waits.
    pub fn too_many_requests(&self, chat_id: i64, retry_after: Duration) {
        let now = Instant::now();
        let until = now + retry_after;
        let mut s = self.lock();
        let c = s.chat_next.entry(chat_id).or_insert(until);
        *c = (*c).max(until);
        while s
            .recent_429
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1))
        {
            s.recent_429.pop_front();
        }
        let global = s.recent_429.iter().any(|(_, c)| *c != chat_id);
        s.recent_429.push_back((now, chat_id));
        if global {
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        }
    }
}

/// Sends outbox rows through the Bot API.
pub struct Sender {
    bot: Bot,
    storage: Storage,
    clock: SharedClock,
    admin_chat_id: Option<i64>,
    instance: String,
    cfg: SenderConfig,
    limiter: Arc<RateLimiter>,
    /// Rows Telegram accepted (id, chat), for the "sent" marks.
    sent: mpsc::UnboundedSender<(i64, i64)>,
    sent_rx: Mutex<Option<mpsc::UnboundedReceiver<(i64, i64)>>>,
    handoff: mpsc::UnboundedSender<Vec<OutboxRow>>,
    handoff_rx: Mutex<Option<mpsc::UnboundedReceiver<Vec<OutboxRow>>>>,
}

/// How the applier hands the sender rows it claimed for it, in the
/// transaction that queued them.
#[derive(Debug, Clone)]
pub struct Handoff {
    instance: String,
    lease: Duration,
    rows: mpsc::UnboundedSender<Vec<OutboxRow>>,
}

impl Handoff {
    /// The name claims are made in (the sender's instance).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// How long a claim holds.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Gives claimed rows to the sender; gives them back when the sender
    /// has stopped (they must then be released).
    pub fn give(&self, rows: Vec<OutboxRow>) -> Result<(), Vec<OutboxRow>> {
        self.rows.send(rows).map_err(|e| e.0)
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("instance", &self.instance)
            .finish()
    }
}

/// What became of one send.
#[derive(Debug)]
enum Outcome {
    Sent,
    RetryAfter(Duration),
    Blocked(String),
    Refused(String),
    Transient(String),
}

impl Sender {
    /// A sender for the bot `token` at `api_url`. `instance` names this
    /// process in claims (unique per running instance).
    pub fn new(
        api_url: &url::Url,
        token: &Secret,
        storage: Storage,
        clock: SharedClock,
        admin_chat_id: Option<i64>,
        instance: String,
        cfg: SenderConfig,
    ) -> Self {
        let bot = Bot::new(token.expose()).set_api_url(api_url.clone());
        let limiter = Arc::new(RateLimiter::new(&cfg));
        let (sent, sent_rx) = mpsc::unbounded_channel();
        let (handoff, handoff_rx) = mpsc::unbounded_channel();
        Self {
            bot,
            storage,
            clock,
            admin_chat_id,
            instance,
            cfg,
            limiter,
            sent,
            sent_rx: Mutex::new(Some(sent_rx)),
            handoff,
            handoff_rx: Mutex::new(Some(handoff_rx)),
        }
    }

    /// Where the applier hands over the rows it claims for this sender.
    pub fn handoff(&self) -> Handoff {
        Handoff {
            instance: self.instance.clone(),
            lease: self.cfg.lease,
            rows: self.handoff.clone(),
        }
    }

    /// Writes "sent" marks in batches until `done`, then writes the rest.
    /// With each batch of marks it claims the next message of those chats
    /// (it has just become the oldest pending one) and hands it to the
    /// send loop: a chat's next message needs no scan of the outbox.
    async fn record_sent(
        self: Arc<Self>,
        mut rx: mpsc::UnboundedReceiver<(i64, i64)>,
        done: CancellationToken,
    ) {
        let mut sent = Vec::new();
        loop {
            let closing = tokio::select! {
                biased;
                n = rx.recv_many(&mut sent, 1024) => n == 0,
                _ = done.cancelled() => true,
            };
            if closing {
                while let Ok(one) = rx.try_recv() {
                    sent.push(one);
                }
            }
            if !sent.is_empty() {
                // After the send loop has stopped nothing more is claimed.
                let next = self.mark_sent_batch(&sent, !closing).await;
                sent.clear();
                if !next.is_empty() {
                    self.hand_over(next).await;
                }
            }
            if closing {
                break;
            }
            // Let marks gather: one commit per interval at most.
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.sent_mark_interval) => {}
                _ = done.cancelled() => {}
            }
        }
    }

    /// Gives rows claimed for this sender to its send loop, or releases
    /// them when the loop has stopped.
    async fn hand_over(&self, rows: Vec<OutboxRow>) {
        let Err(back) = self.handoff.send(rows) else {
            return;
        };
        for row in back.0 {
            let r = self
                .release(&row, self.clock.now_ms(), false, "shutdown")
                .await;
            if let Err(e) = r {
                tracing::warn!(outbox_id = row.id, error = %e, "could not release outbox row");
            }
        }
    }

    /// Marks `sent` (id, chat) sent and, when `claim_next`, claims those
    /// chats' next messages in the same transaction; returns them.
    async fn mark_sent_batch(&self, sent: &[(i64, i64)], claim_next: bool) -> Vec<OutboxRow> {
        let ids: Vec<i64> = sent.iter().map(|(id, _)| *id).collect();
        let chats: Vec<i64> = sent.iter().map(|(_, chat)| *chat).collect();
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=5 {
            let r = async {
                let now = self.clock.now_ms();
                let mut tx = self.storage.begin().await?;
                outbox::mark_sent_many(&mut tx, &ids, now).await?;
                let next = if claim_next {
                    let lease_until = now + self.cfg.lease.as_millis() as i64;
                    outbox::claim_next_of_chats(&mut tx, &self.instance, now, lease_until, &chats)
                        .await?
                } else {
                    vec![]
                };
                tx.commit().await?;
                Ok::<_, StorageError>(next)
            }
            .await;
            match r {
                Ok(next) => {
                    tracing::debug!(rows = ids.len(), next = next.len(), "marked sent");
                    return next;
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(error = %e, attempt, "could not mark rows sent; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => {
                    // The leases run out and the rows are sent again:
                    // at-least-once.
                    tracing::error!(rows = ids.len(), error = %e, "could not mark rows sent");
                }
            }
        }
        vec![]
    }

    /// Sends until `shutdown`, then finishes sends in flight (a send still
    /// waiting for its slot is released for another instance or restart).
    pub async fn run(self, notify: Arc<Notify>, shutdown: CancellationToken) {
        let recorder_done = CancellationToken::new();
        let sent_rx = self
            .sent_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let mut handed = self
            .handoff_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let this = Arc::new(self);
        let recorder =
            sent_rx.map(|rx| tokio::spawn(this.clone().record_sent(rx, recorder_done.clone())));
        let mut in_flight: JoinSet<()> = JoinSet::new();
        // Whether to look for due rows before waiting again (not after
        // rows were handed over: nothing else became due).
        let mut look = true;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            while in_flight.try_join_next().is_some() {}
            let free = this.cfg.max_in_flight.saturating_sub(in_flight.len());
            if look && free > 0 {
                match this.claim(free as i64).await {
                    Ok(rows) => {
                        for row in rows {
                            let me = this.clone();
                            let stop = shutdown.clone();
                            in_flight.spawn(async move { me.send_row(row, stop).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not claim outbox rows"),
                }
            }
            look = true;
            tokio::select! {
            biased;
                _ = shutdown.cancelled() => break,
                Some(rows) = recv_handed(&mut handed) => {
                    // Claimed for us by the applier: send them as they are,
                    // and everything else that was handed over meanwhile.
                    let mut all = rows;
                    while let Some(Ok(more)) = handed.as_mut().map(|h| h.try_recv()) {
                        all.extend(more);
                    }
                    for row in all {
                        let me = this.clone();
                        let stop = shutdown.clone();
                        in_flight.spawn(async move { me.send_row(row, stop).await });
                    }
                    // No claim of our own this time: go straight back to waiting.
                    look = false;
                }
                _ = notify.notified() => {}
                _ = tokio::time::sleep(this.cfg.sweep_interval) => {}
                // A finished send only matters when every slot is taken:
                // otherwise the next poke or sweep claims soon enough, and
                // claiming after every send would scan the outbox per send.
                Some(_) = in_flight.join_next(), if in_flight.len() >= this.cfg.max_in_flight => {}
            }
        }
        // Rows handed over but not started: give them back at once.
        if let Some(mut h) = handed.take() {
            h.close();
            while let Ok(rows) = h.try_recv() {
                for row in rows {
                    let r = this
                        .release(&row, this.clock.now_ms(), false, "shutdown")
                        .await;
                    if let Err(e) = r {
                        tracing::warn!(outbox_id = row.id, error = %e, "could not release outbox row");
                    }
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
        recorder_done.cancel();
        if let Some(r) = recorder {
            let _ = r.await;
        }
        tracing::info!("sender stopped");
    }

    async fn claim(&self, limit: i64) -> Result<Vec<OutboxRow>, StorageError> {
        let now = self.clock.now_ms();
        let lease_until = now + self.cfg.lease.as_millis() as i64;
        let mut tx = self.storage.begin().await?;
        let rows = outbox::claim_due(&mut tx, &self.instance, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn send_row(&self, row: OutboxRow, shutdown: CancellationToken) {
        let chat_message = !matches!(row.body, OutBody::AnswerCallback { .. });
        let slot = self.limiter.reserve(row.chat_id, chat_message);
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(slot) => {}
            _ = shutdown.cancelled() => {
                // Not sent: hand the row back at once rather than hold the lease.
                let r = self.release(&row, self.clock.now_ms(), false, "shutdown").await;
                if let Err(e) = r {
                    tracing::warn!(outbox_id = row.id, error = %e, "could not release outbox row");
                }
                return;
            }
        }
        let outcome = self.deliver(&row).await;
        if let Err(e) = self.record(&row, outcome).await {
            // The lease runs out and the row is sent again: at-least-once.
            tracing::error!(outbox_id = row.id, error = %e, "could not record a send");
        }
    }

    async fn release(
        &self,
        row: &OutboxRow,
        at: i64,
        count: bool,
        why: &str,
    ) -> Result<(), StorageError> {
        let mut c = self.storage.begin().await?;
        outbox::reschedule(&mut c, row.id, at, count, why).await?;
        c.commit().await?;
        Ok(())
    }

    async fn record(&self, row: &OutboxRow, outcome: Outcome) -> Result<(), StorageError> {
        let now = self.clock.now_ms();
        self.cfg.metrics.send_outcome(match &outcome {
            Outcome::Sent => "sent",
            Outcome::RetryAfter(_) => "retry",
            Outcome::Blocked(_) => "dropped",
            Outcome::Refused(_) => "failed",
            Outcome::Transient(_) => "retry",
        });
        match outcome {
            Outcome::Sent => {
                if self.sent.send((row.id, row.chat_id)).is_err() {
                    // No recorder (run has ended): mark it on its own.
                    let mut tx = self.storage.begin().await?;
                    outbox::mark_sent(&mut tx, row.id, now).await?;
                    tx.commit().await?;
                }
                tracing::debug!(outbox_id = row.id, chat_id = row.chat_id, "sent");
            }
            Outcome::RetryAfter(d) => {
                self.limiter.too_many_requests(row.chat_id, d);
                tracing::info!(
                    outbox_id = row.id,
                    chat_id = row.chat_id,
                    retry_after_s = d.as_secs(),
                    "flood wait"
                );
                self.release(row, now + d.as_millis() as i64, false, "429 retry after")
                    .await?;
            }
            Outcome::Blocked(why) => {
                let mut tx = self.storage.begin().await?;
                let dropped = outbox::drop_pending_for_chat(&mut tx, row.chat_id, &why).await?;
                let mediators = reachability::mark_unreachable(&mut tx, row.chat_id).await?;
                if let Some(admin) = self.admin_chat_id.filter(|a| *a != row.chat_id) {
                    for m in &mediators {
                        let html = t(
                            Lang::ZhCn,
                            "bot-admin-mediator-unreachable",
                            &[
                                ("name", escape_html(&m.name).into()),
                                ("committee", escape_html(&m.committee).into()),
                                ("id", m.id.into()),
                            ],
                        );
                        outbox::enqueue(&mut tx, &OutMessage::text(admin, html), row.case_id, now)
                            .await?;
                    }
                }
                tx.commit().await?;
                tracing::warn!(
                    outbox_id = row.id,
                    chat_id = row.chat_id,
                    dropped,
                    mediators = mediators.len(),
                    "recipient blocked the bot; marked unreachable"
                );
            }
            Outcome::Refused(why) => {
                let mut tx = self.storage.begin().await?;
                outbox::mark_failed(&mut tx, row.id, &why).await?;
                tx.commit().await?;
                tracing::error!(outbox_id = row.id, chat_id = row.chat_id, method = %row.method, error = %why, "Telegram refused a message");
            }
            Outcome::Transient(why) => {
                let attempts = row.attempts + 1;
                if attempts >= self.cfg.max_attempts {
                    let mut tx = self.storage.begin().await?;
                    outbox::mark_failed(&mut tx, row.id, &why).await?;
                    tx.commit().await?;
                    tracing::error!(
                        outbox_id = row.id,
                        chat_id = row.chat_id,
                        attempts,
                        "giving up on a message"
                    );
                } else {
                    let exp = 2u32
                        .saturating_pow(u32::try_from(row.attempts).unwrap_or(u32::MAX).min(20));
                    let delay = self
                        .cfg
                        .base_backoff
                        .saturating_mul(exp)
                        .min(self.cfg.max_backoff);
                    tracing::warn!(
                        outbox_id = row.id,
                        chat_id = row.chat_id,
                        attempts,
                        retry_in_ms = delay.as_millis() as u64,
                        "send failed; will retry"
                    );
                    self.release(row, now + delay.as_millis() as i64, true, &why)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn deliver(&self, row: &OutboxRow) -> Outcome {
        let chat = ChatId(row.chat_id);
        let result = match &row.body {
            OutBody::Text { html, keyboard } => {
                let mut req = self.bot.send_message(chat, html.clone());
                req.parse_mode = Some(ParseMode::Html);
                req.reply_markup = keyboard.as_ref().map(reply_markup);
                req_result(req.await)
            }
            OutBody::EditText {
                message_id,
                html,
                keyboard,
            } => {
                let mut req =
                    self.bot
                        .edit_message_text(chat, MessageId(*message_id), html.clone());
                req.parse_mode = Some(ParseMode::Html);
                req.reply_markup = keyboard.as_ref().map(inline_markup);
                req_result(req.await)
            }
            OutBody::EditKeyboard {
                message_id,
                keyboard,
            } => {
                let mut req = self
                    .bot
                    .edit_message_reply_markup(chat, MessageId(*message_id));
                req.reply_markup = keyboard.as_ref().map(inline_markup);
                req_result(req.await)
            }
            OutBody::AnswerCallback {
                callback_id,
                text,
                alert,
            } => {
                let mut req = self
                    .bot
                    .answer_callback_query(CallbackQueryId(callback_id.clone()));
                req.text = text.clone();
                req.show_alert = Some(*alert);
                req_result(req.await)
            }
        };
        match result {
            Ok(()) => Outcome::Sent,
            Err(e) => classify(e),
        }
    }
}

fn req_result<T>(r: Result<T, RequestError>) -> Result<(), RequestError> {
    r.map(|_| ())
}

/// Sorts a Bot API error into what the sender does about it.
fn classify(e: RequestError) -> Outcome {
    match e {
        RequestError::RetryAfter(s) => {
            Outcome::RetryAfter(s.duration().max(Duration::from_secs(1)))
        }
        RequestError::Api(api) => {
            let desc = api.to_string();
            match api {
                // The edit asked for is already what the person sees.
                ApiError::MessageNotModified => Outcome::Sent,
                ApiError::BotBlocked
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::UserDeactivated
                | ApiError::CantInitiateConversation
                | ApiError::CantTalkWithBots => Outcome::Blocked(desc),
                _ if desc.starts_with("Forbidden") => Outcome::Blocked(desc),
                _ if desc.starts_with("Bad Request") => Outcome::Refused(desc),
                // Anything else (e.g. "Bad Gateway", "Internal Server Error").
                _ => Outcome::Transient(desc),
            }
        }
        RequestError::MigrateToChatId(_) => Outcome::Refused("chat migrated".into()),
        RequestError::Network(e) => Outcome::Transient(e.without_url_ref()),
        RequestError::InvalidJson { .. } => Outcome::Transient("invalid JSON from Telegram".into()),
        RequestError::Io(e) => Outcome::Transient(e.to_string()),
    }
}

/// A Bot API error as text safe for logs: network errors lose their URL,
/// which holds the bot token.
pub fn describe_error(e: &RequestError) -> String {
    match e {
        RequestError::Network(n) => n.without_url_ref(),
        other => other.to_string(),
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for Arc<reqwest::Error> {
    /// A network error's text without the URL, which holds the bot token.
    fn without_url_ref(&self) -> String {
        let kind = if self.is_timeout() {
            "timeout"
        } else if self.is_connect() {
            "connection failed"
        } else {
            "network error"
        };
        kind.to_owned()
    }
}

fn inline_markup(k: &crate::outgoing::InlineKeyboard) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(k.rows.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
            .collect::<Vec<_>>()
    }))
}

fn reply_markup(k: &Keyboard) -> ReplyMarkup {
    match k {
        Keyboard::Inline(i) => ReplyMarkup::InlineKeyboard(inline_markup(i)),
        Keyboard::Reply(r) => {
            let mut m = KeyboardMarkup::new(r.rows.iter().map(|row| {
                row.iter()
                    .map(|b| {
                        let btn = KeyboardButton::new(b.label.clone());
                        match b.request {
                            Some(ShareRequest::Location) => btn.request(ButtonRequest::Location),
                            Some(ShareRequest::Contact) => btn.request(ButtonRequest::Contact),
                            None => btn,
                        }
                    })
                    .collect::<Vec<_>>()
            }))
            .resize_keyboard();
            if r.one_time {
                m = m.one_time_keyboard();
            }
            ReplyMarkup::Keyboard(m)
        }
        Keyboard::Remove => ReplyMarkup::KeyboardRemove(KeyboardRemove::new()),
    }
}
