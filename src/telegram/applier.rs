//! The applier: turns stored updates into effects, one transaction each.
//!
//! For each update: lock the lowest pending update of its chat, mark it done
//! (only if still pending), map it to an [`Incoming`](crate::conversation::Incoming),
//! call the [`UpdateHandler`], queue the messages it returns, commit. A
//! handler error rolls everything back and the update is retried with
//! backoff; after a few attempts it is marked failed so the chat moves on.
//!
//! Different chats are applied concurrently (on PostgreSQL; SQLite's single
//! writer serialises them); one chat's updates are applied in `update_id`
//! order, also across instances, because only the lowest pending update of a
//! chat is ever taken and it stays locked until its transaction ends.

use crate::clock::SharedClock;
use crate::conversation::UpdateHandler;
use crate::storage::{inbox, outbox, reachability, Backend, Storage, StorageError};
use crate::telegram::update::{self, Mapped};
use futures::FutureExt;
use std::collections::HashSet;
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
}

impl Default for ApplierConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_attempts: 5,
            base_backoff: Duration::from_secs(1),
            sweep_interval: Duration::from_secs(1),
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
    cfg: ApplierConfig,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").field("cfg", &self.cfg).finish()
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
            cfg,
        }
    }

    /// Applies until `shutdown`; then lets chats in progress finish the
    /// update they are on and stops.
    pub async fn run(self, inbox_notify: Arc<Notify>, shutdown: CancellationToken) {
        let mut busy: HashSet<Option<i64>> = HashSet::new();
        let mut tasks: JoinSet<Option<i64>> = JoinSet::new();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            while let Some(done) = tasks.try_join_next() {
                if let Ok(chat) = done {
                    busy.remove(&chat);
                }
            }
            if tasks.len() < self.cfg.concurrency {
                match self.due_chats().await {
                    Ok(chats) => {
                        for chat in chats {
                            if tasks.len() >= self.cfg.concurrency {
                                break;
                            }
                            if busy.insert(chat) {
                                let me = self.clone();
                                let stop = shutdown.clone();
                                tasks.spawn(async move {
                                    me.drain_chat(chat, stop).await;
                                    chat
                                });
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not list pending updates"),
                }
            }
            tokio::select! {
            biased;
                _ = shutdown.cancelled() => break,
                _ = inbox_notify.notified() => {}
                _ = tokio::time::sleep(self.cfg.sweep_interval) => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    match done {
                        Ok(chat) => { busy.remove(&chat); }
                        // A panicking task: its chat is retried on the next sweep.
                        Err(_) => busy.clear(),
                    }
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        tracing::info!("applier stopped");
    }

    async fn due_chats(&self) -> Result<Vec<Option<i64>>, StorageError> {
        let mut c = self.storage.acquire().await?;
        inbox::pending_chats(&mut c, self.clock.now_ms(), 64).await
    }

    async fn drain_chat(&self, chat: Option<i64>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.apply_next(chat).await {
                Ok(Step::Progress) => continue,
                Ok(Step::Idle) => break,
                Err(e) => {
                    tracing::warn!(chat_id = ?chat, error = %e, "could not apply an update");
                    break;
                }
            }
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
                for m in &messages {
                    outbox::enqueue(&mut tx, m, None, now).await?;
                }
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
        let delay = self
            .cfg
            .base_backoff
            .saturating_mul(2u32.saturating_pow(u32::try_from(row.attempts).unwrap_or(16).min(16)));
        let mut tx = self.storage.begin().await?;
        let status = inbox::record_failure(
            &mut tx,
            row.update_id,
            self.cfg.max_attempts,
            now + delay.as_millis() as i64,
            &error,
        )
        .await?;
        tx.commit().await?;
        if status == inbox::InboxStatus::Failed {
            tracing::error!(update_id = row.update_id, chat_id = ?row.chat_id, attempts = row.attempts + 1, "giving up on an update");
            Ok(Step::Progress)
        } else {
            tracing::warn!(update_id = row.update_id, chat_id = ?row.chat_id, attempts = row.attempts + 1, retry_in_ms = delay.as_millis() as u64, "handler failed; will retry");
            Ok(Step::Idle)
        }
    }
}
