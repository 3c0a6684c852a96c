//! The applier: turns stored updates into effects, several chats per
//! transaction (group commit).
//!
//! Every durable commit costs a disk flush, so under load one transaction
//! takes a batch: the lowest pending update of up to `batch_size` different
//! chats, locked. What handlers read about every chat of the batch (the
//! person's records, the dialogue, reachability) is read up front, one
//! statement per table ([`prefetch`]). Each update is mapped to an
//! [`Incoming`](crate::conversation::Incoming) and handed to the
//! [`UpdateHandler`]; the dialogues the handlers save are written in one
//! statement (each at the version it was read at), the messages they
//! return are queued in one insert, and the batch's updates are marked
//! done together, before the commit. A
//! handler error rolls the attempt back and the batch runs again with a
//! savepoint per update, so only the failing update is set back: its failed
//! attempt is recorded (retried with backoff; after a few attempts marked
//! failed so the chat moves on) and the other updates commit as usual. A handler
//! that panics takes the whole batch back, and its updates are then applied
//! one per transaction ([`Applier::apply_next`]), so the panic costs only
//! its own update an attempt. Nothing is acknowledged by the applier itself:
//! every effect of an update, and its `done` mark, commit together.
//!
//! When updates arrive one at a time a batch holds one update, so latency is
//! one commit; under load the batch grows while the previous one commits.
//!
//! Batches run concurrently on PostgreSQL (SQLite's single writer serialises
//! them); one chat's updates are applied in `update_id` order, also across
//! instances, because only the lowest pending update of a chat is ever taken
//! and it stays locked until its transaction ends. A batch takes and locks
//! its updates in one statement, skipping those another batch holds; so a
//! handler that blocks holds up the rest of its own batch (which commits
//! together), never another batch.

use crate::clock::SharedClock;
use crate::conversation::{Incoming, UpdateHandler};
use crate::outgoing::OutMessage;
use crate::storage::{
    batch, inbox, outbox, prefetch, reachability, Backend, Storage, StorageError, Tx,
};
use crate::telegram::sender::Handoff;
use crate::telegram::update::{self, Mapped};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the applier retries and how much it does at once.
#[derive(Debug, Clone)]
pub struct ApplierConfig {
    /// Chats applied at once (SQLite always uses one).
    pub concurrency: usize,
    /// Attempts before an update is marked failed.
    pub max_attempts: i64,
    /// First retry delay after a handler error (doubles each time).
    pub base_backoff: Duration,
    /// How often pending updates are looked for without a poke.
    pub sweep_interval: Duration,
    /// Updates (of different chats) applied in one transaction at most.
    pub batch_size: usize,
}

impl Default for ApplierConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_attempts: 5,
            base_backoff: Duration::from_secs(1),
            sweep_interval: Duration::from_secs(1),
            batch_size: 64,
        }
    }
}

/// Everything applying an update needs.
#[derive(Clone)]
pub struct Applier {
    storage: Storage,
    clock: SharedClock,
    handler: Arc<dyn UpdateHandler>,
    bot_username: Option<String>,
    outbox_notify: Arc<Notify>,
    handoff: Option<Handoff>,
    cfg: ApplierConfig,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").field("cfg", &self.cfg).finish()
    }
}

/// A refused dialogue save (`Stale`) as the error of the update it belongs
/// to (`Ok(Err)`), any other failure as the batch's (`Err`).
fn saved(r: Result<(), StorageError>) -> Result<Result<(), String>, StorageError> {
    match r {
        Ok(()) => Ok(Ok(())),
        Err(e @ StorageError::Stale(_)) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An update was applied (or given up on); there may be more.
    Progress,
    /// Nothing to do for this chat now.
    Idle,
}

impl Applier {
    /// An applier; `outbox_notify` is poked after each commit that queued
    /// messages, so the sender sends them at once.
    pub fn new(
        storage: Storage,
        clock: SharedClock,
        handler: Arc<dyn UpdateHandler>,
        bot_username: Option<String>,
        outbox_notify: Arc<Notify>,
        mut cfg: ApplierConfig,
    ) -> Self {
        if storage.backend() == Backend::Sqlite {
            cfg.concurrency = 1;
        }
        // Each chat in progress holds a connection for its transaction;
        // leave two for intake and the sender.
        let pool = storage.pool().options().get_max_connections() as usize;
        cfg.concurrency = cfg.concurrency.min(pool.saturating_sub(2)).max(1);
        Self {
            storage,
            clock,
            handler,
            bot_username,
            outbox_notify,
            handoff: None,
            cfg,
        }
    }

    /// Claims the replies of each batch for `handoff`'s sender in the
    /// batch's own transaction and hands them over after the commit, so
    /// they go out without a transaction of the sender's.
    pub fn with_handoff(mut self, handoff: Handoff) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// Applies until `shutdown`; then finishes the batch in progress and
    /// stops. Runs `concurrency` batch workers (one on SQLite).
    pub async fn run(self, inbox_notify: Arc<Notify>, shutdown: CancellationToken) {
        let mut workers = JoinSet::new();
        for _ in 0..self.cfg.concurrency {
            let me = self.clone();
            let notify = inbox_notify.clone();
            let stop = shutdown.clone();
            workers.spawn(async move { me.work(notify, stop).await });
        }
        while workers.join_next().await.is_some() {}
        tracing::info!("applier stopped");
    }

    async fn work(&self, inbox_notify: Arc<Notify>, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            // Register before looking, so a poke during the batch is kept.
            let poked = inbox_notify.notified();
            let wait = match self.apply_batch().await {
                // A full batch: there is probably more; go on at once, and
                // on PostgreSQL wake a sibling to share the backlog.
                Ok(n) if n >= self.cfg.batch_size => {
                    if self.cfg.concurrency > 1 {
                        inbox_notify.notify_one();
                    }
                    false
                }
                // Everything due was taken (or nothing could be): what
                // arrives later pokes, and the sweep finds retries.
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "could not apply a batch of updates");
                    true
                }
            };
            if wait {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => break,
                    _ = poked => {}
                    _ = tokio::time::sleep(self.cfg.sweep_interval) => {}
                }
            }
        }
    }

    /// Applies one batch: the lowest due update of up to `batch_size`
    /// chats, in one transaction. Returns how many updates it took
    /// (applied, skipped or failed an attempt).
    ///
    /// A batch first runs without savepoints (two statements less per
    /// update); if a handler fails, that attempt is rolled back whole and
    /// the batch runs again with a savepoint per update, so only the
    /// failing update is set back.
    pub async fn apply_batch(&self) -> Result<usize, StorageError> {
        match self.try_batch(false).await? {
            Some(n) => Ok(n),
            None => Ok(self.try_batch(true).await?.unwrap_or(0)),
        }
    }

    /// One attempt at a batch; `None` when a handler failed and `careful`
    /// was off (nothing was committed).
    async fn try_batch(&self, careful: bool) -> Result<Option<usize>, StorageError> {
        let mut tx = self.storage.begin().await?;
        // Every chat's dialogue is saved in one statement at the end
        // (with a savepoint per update, at the end of each update).
        tx.defer_dialogue_saves();
        let now = self.clock.now_ms();
        // The lowest due update of up to batch_size chats, locked (on
        // PostgreSQL, past those sibling workers and other instances hold).
        let locked = inbox::take_batch(&mut tx, now, self.cfg.batch_size as i64).await?;
        if locked.is_empty() {
            tx.rollback().await?;
            return Ok(Some(0));
        }
        let mapped: Vec<Option<Mapped>> = locked.iter().map(|r| self.map_row(r)).collect();
        // What the handlers will read about these chats, read at once.
        let (users, chats): (Vec<i64>, Vec<i64>) = mapped
            .iter()
            .filter_map(|m| match m {
                Some(Mapped::Incoming(i)) => Some((i.user_id, i.chat.id)),
                _ => None,
            })
            .unzip();
        prefetch::load(&mut tx, &users, &chats).await?;
        let incoming: Vec<&Incoming> = mapped
            .iter()
            .filter_map(|m| match m {
                Some(Mapped::Incoming(i)) => Some(i),
                _ => None,
            })
            .collect();
        self.handler.prepare_batch(&mut tx, &incoming).await?;
        drop(incoming);
        let mut rows = Vec::with_capacity(locked.len());
        let mut applied = Vec::with_capacity(locked.len());
        let mut replies: Vec<OutMessage> = Vec::new();
        let mut panicked = false;
        for (row, mapped) in locked.into_iter().zip(mapped) {
            if careful {
                batch::savepoint(&mut tx, "jiefen_update").await?;
            }
            let mut outcome = self.apply_row(&mut tx, &row, mapped).await?;
            if careful && matches!(outcome, RowOutcome::Applied { .. }) {
                if let Err(e) = saved(tx.flush_dialogue_saves().await)? {
                    outcome = RowOutcome::HandlerFailed(e);
                }
            }
            match outcome {
                RowOutcome::Applied { messages } => {
                    if careful {
                        batch::release(&mut tx, "jiefen_update").await?;
                    }
                    replies.extend(messages);
                    applied.push(row.update_id);
                }
                RowOutcome::HandlerFailed(_) if !careful => {
                    tx.rollback().await?;
                    return Ok(None);
                }
                RowOutcome::HandlerFailed(error) => {
                    batch::rollback_to(&mut tx, "jiefen_update").await?;
                    tx.discard_dialogue_saves();
                    self.record_failure(&mut tx, &row, now, &error).await?;
                }
                RowOutcome::Panicked => panicked = true,
            }
            rows.push(row);
            if panicked {
                break;
            }
        }
        if panicked {
            // The connection may be mid-statement: give up the whole batch
            // and apply its updates one per transaction.
            drop(tx);
            // Each row was its chat's lowest pending update, so applying
            // the next update of each chat applies exactly these rows.
            for row in &rows {
                self.apply_next(row.chat_id).await?;
            }
            return Ok(Some(rows.len()));
        }
        if let Err(e) = saved(tx.flush_dialogue_saves().await)? {
            // Someone else saved a dialogue of the batch since it was read:
            // as for a failed handler, the batch runs again with a
            // savepoint per update, so only that chat's update is set back.
            tracing::info!(error = %e, "a dialogue changed under the batch; applying it again");
            tx.rollback().await?;
            return Ok(None);
        }
        // Every reply of the batch in one insert, in the order the updates
        // were applied (so each chat's replies keep their order).
        let queued = outbox::enqueue_ids(&mut tx, &replies, None, now).await?;
        inbox::mark_done_many(&mut tx, &applied, now).await?;
        // Only this batch's own replies are claimed: a claim over the
        // oldest due rows would scan every reply waiting behind an earlier
        // message to its chat, which under load is most of the outbox.
        let claimed = match &self.handoff {
            Some(h) if !queued.is_empty() => {
                let lease_until = now + h.lease().as_millis() as i64;
                outbox::claim_ids(&mut tx, h.instance(), now, lease_until, &queued).await?
            }
            _ => vec![],
        };
        tx.commit().await?;
        tracing::debug!(
            updates = rows.len(),
            replies = queued.len(),
            "applied a batch"
        );
        // Without a handoff the sender looks for the replies itself. With
        // one, a reply left unclaimed waits behind an earlier message to
        // its chat, and the sender looks again when that one is marked sent.
        if !queued.is_empty() && self.handoff.is_none() {
            self.outbox_notify.notify_one();
        }
        if let (Some(h), false) = (&self.handoff, claimed.is_empty()) {
            if let Err(rows) = h.give(claimed) {
                self.release(rows).await;
            }
        }
        Ok(Some(rows.len()))
    }

    /// Hands back claimed rows the sender could not take (it has stopped),
    /// so they are due again at once rather than when their lease ends.
    async fn release(&self, rows: Vec<outbox::OutboxRow>) {
        let now = self.clock.now_ms();
        let r = async {
            let mut tx = self.storage.begin().await?;
            for row in &rows {
                outbox::reschedule(&mut tx, row.id, now, false, "sender stopped").await?;
            }
            tx.commit().await?;
            Ok::<_, StorageError>(())
        }
        .await;
        if let Err(e) = r {
            tracing::warn!(rows = rows.len(), error = %e, "could not release claimed replies");
        }
    }

    /// Records a failed attempt at `row` (retried after a backoff, or
    /// given up on) and logs it.
    async fn record_failure(
        &self,
        tx: &mut Tx,
        row: &inbox::InboxRow,
        now: i64,
        error: &str,
    ) -> Result<inbox::InboxStatus, StorageError> {
        let delay = self.backoff(row.attempts);
        let status = inbox::record_failure(
            tx,
            row.update_id,
            self.cfg.max_attempts,
            now + delay.as_millis() as i64,
            error,
        )
        .await?;
        log_failure(row, status, delay);
        Ok(status)
    }

    fn backoff(&self, attempts: i64) -> Duration {
        self.cfg
            .base_backoff
            .saturating_mul(2u32.saturating_pow(u32::try_from(attempts).unwrap_or(16).min(16)))
    }

    /// The stored update as an event (`None`: not JSON, skipped).
    fn map_row(&self, row: &inbox::InboxRow) -> Option<Mapped> {
        match serde_json::from_str::<serde_json::Value>(&row.payload) {
            Ok(raw) => Some(update::map(
                &raw,
                self.bot_username.as_deref(),
                row.received_at,
            )),
            Err(_) => {
                tracing::error!(
                    update_id = row.update_id,
                    "stored update is not JSON; skipped"
                );
                None
            }
        }
    }

    /// One update inside the batch's transaction (and the caller's
    /// savepoint, if any); the caller queues its replies and marks it done.
    async fn apply_row(
        &self,
        tx: &mut Tx,
        row: &inbox::InboxRow,
        mapped: Option<Mapped>,
    ) -> Result<RowOutcome, StorageError> {
        let incoming = match mapped {
            None | Some(Mapped::Ignore) => return Ok(RowOutcome::Applied { messages: vec![] }),
            Some(Mapped::Incoming(i)) => i,
            Some(Mapped::Membership { chat_id, blocked }) => {
                if blocked {
                    reachability::mark_unreachable(tx, chat_id).await?;
                } else {
                    reachability::mark_reachable(tx, chat_id).await?;
                }
                tracing::info!(
                    update_id = row.update_id,
                    chat_id,
                    blocked,
                    "bot membership changed"
                );
                return Ok(RowOutcome::Applied { messages: vec![] });
            }
        };
        if incoming.chat.private {
            // Someone who writes to the bot can be written to.
            prefetch::mark_reachable(tx, incoming.chat.id).await?;
        }
        let handled = AssertUnwindSafe(self.handler.handle(tx, &incoming))
            .catch_unwind()
            .await;
        match handled {
            Ok(Ok(messages)) => {
                tracing::debug!(
                    update_id = row.update_id,
                    chat_id = incoming.chat.id,
                    replies = messages.len(),
                    "applied"
                );
                Ok(RowOutcome::Applied { messages })
            }
            Ok(Err(e)) => Ok(RowOutcome::HandlerFailed(e.to_string())),
            Err(_) => Ok(RowOutcome::Panicked),
        }
    }

    /// Applies the lowest pending update of `chat`, if it is due.
    pub async fn apply_next(&self, chat: Option<i64>) -> Result<Step, StorageError> {
        let mut tx = self.storage.begin().await?;
        let Some(row) = inbox::lock_next_for_chat(&mut tx, chat).await? else {
            tx.rollback().await?;
            return Ok(Step::Idle);
        };
        let now = self.clock.now_ms();
        if row.next_attempt_at > now {
            tx.rollback().await?;
            return Ok(Step::Idle);
        }
        if !inbox::mark_done(&mut tx, row.update_id, now).await? {
            // Another instance applied it between our look and our lock.
            tx.rollback().await?;
            return Ok(Step::Progress);
        }
        let raw: serde_json::Value = match serde_json::from_str(&row.payload) {
            Ok(v) => v,
            Err(_) => {
                tracing::error!(
                    update_id = row.update_id,
                    "stored update is not JSON; skipped"
                );
                tx.commit().await?;
                return Ok(Step::Progress);
            }
        };
        let incoming = match update::map(&raw, self.bot_username.as_deref(), row.received_at) {
            Mapped::Incoming(i) => i,
            Mapped::Membership { chat_id, blocked } => {
                if blocked {
                    reachability::mark_unreachable(&mut tx, chat_id).await?;
                } else {
                    reachability::mark_reachable(&mut tx, chat_id).await?;
                }
                tx.commit().await?;
                tracing::info!(
                    update_id = row.update_id,
                    chat_id,
                    blocked,
                    "bot membership changed"
                );
                return Ok(Step::Progress);
            }
            Mapped::Ignore => {
                tx.commit().await?;
                return Ok(Step::Progress);
            }
        };
        if incoming.chat.private {
            // Someone who writes to the bot can be written to.
            reachability::mark_reachable(&mut tx, incoming.chat.id).await?;
        }
        let handled = AssertUnwindSafe(self.handler.handle(&mut tx, &incoming))
            .catch_unwind()
            .await;
        let error = match handled {
            Ok(Ok(messages)) => {
                outbox::enqueue_all(&mut tx, &messages, None, now).await?;
                tx.commit().await?;
                tracing::debug!(
                    update_id = row.update_id,
                    chat_id = incoming.chat.id,
                    replies = messages.len(),
                    "applied"
                );
                if !messages.is_empty() {
                    self.outbox_notify.notify_one();
                }
                return Ok(Step::Progress);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "handler panicked".to_owned(),
        };
        tx.rollback().await?;
        let mut tx = self.storage.begin().await?;
        let status = self.record_failure(&mut tx, &row, now, &error).await?;
        tx.commit().await?;
        if status == inbox::InboxStatus::Failed {
            Ok(Step::Progress)
        } else {
            Ok(Step::Idle)
        }
    }
}

/// What became of one update inside a batch.
enum RowOutcome {
    /// Applied (or skipped as not applicable), with the replies to queue.
    Applied { messages: Vec<OutMessage> },
    /// The handler returned an error: roll back to the savepoint.
    HandlerFailed(String),
    /// The handler panicked: abandon the batch.
    Panicked,
}

fn log_failure(row: &inbox::InboxRow, status: inbox::InboxStatus, delay: Duration) {
    if status == inbox::InboxStatus::Failed {
        tracing::error!(update_id = row.update_id, chat_id = ?row.chat_id, attempts = row.attempts + 1, "giving up on an update");
    } else {
        tracing::warn!(update_id = row.update_id, chat_id = ?row.chat_id, attempts = row.attempts + 1, retry_in_ms = delay.as_millis() as u64, "handler failed; will retry");
    }
}
