//! Background jobs: the deadline sweeper, reminders, follow-ups and digests.
//!
//! Jobs run on every instance; each action claims a key in `jobs_done` in the
//! same transaction as its effects, so it happens once however many
//! instances sweep. Actions that would reach a person wait for working hours.

pub mod hours;
pub mod sweeper;

pub use hours::next_working_instant;
pub use sweeper::{MessageQueue, ReportOnly, SweepError, SweepReport, Sweeper};

use crate::clock::SharedClock;
use crate::outgoing::OutMessage;
use crate::storage::{Conn, StorageError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Queues the sweeper's messages in the durable outbox, in the transaction
/// of the action that produced them.
#[derive(Debug, Clone, Default)]
pub struct OutboxQueue;

#[async_trait::async_trait]
impl MessageQueue for OutboxQueue {
    async fn queue(
        &self,
        conn: &mut Conn,
        messages: &[OutMessage],
        now: i64,
    ) -> Result<(), StorageError> {
        for m in messages {
            crate::storage::outbox::enqueue(conn, m, None, now).await?;
        }
        Ok(())
    }
}

/// How often the sweeper looks for due deadlines.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Runs the sweeper every [`SWEEP_EVERY`] until `shutdown`, poking the
/// sender when a tick queued messages. A failed tick is logged and retried
/// at the next one: every action's claim commits with its effects, so
/// nothing is half done.
pub async fn run_sweeper(
    sweeper: Sweeper,
    retention: crate::config::PolicyConfig,
    storage: crate::storage::Storage,
    reports_to: Option<crate::oversight::AdminChat>,
    clock: SharedClock,
    outbox_notify: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = every.tick() => {}
        }
        match sweeper.tick(clock.now_ms()).await {
            Ok(report) => {
                if !report.messages.is_empty() {
                    outbox_notify.notify_one();
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "deadline sweep failed; retrying at the next tick")
            }
        }
        match apply_retention(&storage, &retention, clock.now_ms()).await {
            Ok(r) if r.cases > 0 || r.residents > 0 => tracing::info!(
                cases = r.cases,
                residents = r.residents,
                "personal data past the retention period removed"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "retention pass failed; retrying at the next tick")
            }
        }
        if let Some(admin) = reports_to {
            match send_reports(&storage, admin, clock.now_ms()).await {
                Ok(0) => {}
                Ok(_) => outbox_notify.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled reports failed; retrying at the next tick")
                }
            }
        }
    }
}

/// Queues the daily, weekly and monthly reports that are due for the admin
/// chat; each goes once (its `jobs_done` key commits with the messages).
pub async fn send_reports(
    storage: &crate::storage::Storage,
    admin: crate::oversight::AdminChat,
    now: i64,
) -> Result<usize, crate::oversight::OversightError> {
    let mut tx = storage.begin().await?;
    let messages = crate::oversight::reports::send_due_reports(
        &mut tx,
        now,
        crate::oversight::reports::ReportSchedule::default(),
        admin,
        None,
    )
    .await?;
    for m in &messages {
        crate::storage::outbox::enqueue(&mut tx, m, None, now).await?;
    }
    tx.commit()
        .await
        .map_err(crate::storage::StorageError::from)?;
    Ok(messages.len())
}

/// Once a day (the first tick of each local day), removes personal data
/// older than `policy.retention_days`; the day's claim commits with it.
pub async fn apply_retention(
    storage: &crate::storage::Storage,
    policy: &crate::config::PolicyConfig,
    now: i64,
) -> Result<crate::storage::retention::RetentionReport, StorageError> {
    let day = crate::clock::ms_to_datetime(now)
        .with_timezone(&policy.timezone)
        .date_naive();
    let mut tx = storage.begin().await?;
    if !crate::storage::jobs::claim_once(&mut tx, &format!("retention:{day}"), now).await? {
        return Ok(Default::default());
    }
    let cutoff = now - policy.retention_days * 86_400_000;
    let report = crate::storage::retention::pseudonymise_before(&mut tx, cutoff, now).await?;
    tx.commit().await?;
    Ok(report)
}
