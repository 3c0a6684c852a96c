//! The deadline sweeper: missed accept deadlines (the committee counts as
//! declining; the case climbs the ladder), passed resolve deadlines (the
//! mediator is reminded, the admin chat alerted), meeting reminders the day
//! before, the fulfilment follow-up, and the admin chat's daily digest.
//!
//! Each action runs in its own transaction together with a claim in
//! `jobs_done` keyed by what it acts on (case, and the deadline's value, so
//! a new deadline is a new key): however many instances sweep, and however
//! often, a deadline is acted on once. Every action reaches a person, so
//! nothing happens outside working hours; the first tick inside them
//! catches up.

use super::next_working_instant;
use crate::clock::ms_to_datetime;
use crate::lifecycle::{Lifecycle, LifecycleError};
use crate::outgoing::OutMessage;
use crate::storage::mediator_desk as desk;
use crate::storage::{self, Conn, Storage, StorageError};
use chrono::{Duration, NaiveDateTime, TimeZone};
use std::sync::Arc;

/// Where the sweeper's messages go, inside the transaction of the action
/// that caused them. The service queues them in the durable outbox
/// (`storage::outbox::enqueue`); tests read them from the [`SweepReport`].
#[async_trait::async_trait]
pub trait MessageQueue: Send + Sync {
    /// Queues `messages` through `conn` (the action's transaction).
    async fn queue(
        &self,
        conn: &mut Conn,
        messages: &[OutMessage],
        now: i64,
    ) -> Result<(), StorageError>;
}

/// A queue that keeps nothing: the messages are only in the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReportOnly;

#[async_trait::async_trait]
impl MessageQueue for ReportOnly {
    async fn queue(
        &self,
        _conn: &mut Conn,
        _messages: &[OutMessage],
        _now: i64,
    ) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Why a sweep failed (the action's transaction rolled back; its claim with
/// it, so the next tick tries again).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A lifecycle step failed.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SweepReport {
    /// Cases moved on because nobody accepted them in time.
    pub accept_deadlines: usize,
    /// Cases past their resolve deadline (mediator reminded, admins alerted).
    pub resolve_overdue: usize,
    /// Meetings reminded of.
    pub meeting_reminders: usize,
    /// Fulfilment follow-ups asked.
    pub followups: usize,
    /// Daily digests sent.
    pub digests: usize,
    /// Whether the tick fell outside working hours (and so did nothing).
    pub outside_working_hours: bool,
    /// Every message the tick queued, in order.
    pub messages: Vec<OutMessage>,
}

/// The deadline sweeper. Call [`Sweeper::tick`] every ~30 seconds.
#[derive(Clone)]
pub struct Sweeper {
    storage: Storage,
    lifecycle: Lifecycle,
    queue: Arc<dyn MessageQueue>,
}

impl std::fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sweeper").finish_non_exhaustive()
    }
}

/// Which action a claim is for.
#[derive(Debug, Clone, Copy)]
enum Action {
    AcceptDeadline,
    ResolveOverdue,
    MeetingReminder,
    Followup,
}

impl Sweeper {
    /// A sweeper acting through `lifecycle` and queueing through `queue`.
    pub fn new(storage: Storage, lifecycle: Lifecycle, queue: Arc<dyn MessageQueue>) -> Self {
        Self {
            storage,
            lifecycle,
            queue,
        }
    }

    /// One sweep at `now_ms`.
    pub async fn tick(&self, now_ms: i64) -> Result<SweepReport, SweepError> {
        let policy = self.lifecycle.policy();
        let now = ms_to_datetime(now_ms);
        let mut report = SweepReport::default();
        if next_working_instant(now, policy.timezone, policy.working_hours) != now {
            report.outside_working_hours = true;
            return Ok(report);
        }

        let (accept, resolve, meetings, followups) = {
            let mut conn = self.storage.acquire().await?;
            (
                desk::accept_overdue(&mut conn, now_ms).await?,
                desk::resolve_overdue(&mut conn, now_ms).await?,
                desk::meetings_between(&mut conn, now_ms, now_ms + 2 * 86_400_000).await?,
                desk::followups_due(&mut conn, now_ms).await?,
            )
        };
        for (id, deadline) in accept {
            let key = format!("accept-deadline:{id}:{deadline}");
            if self
                .act(&key, now_ms, id, Action::AcceptDeadline, &mut report)
                .await?
            {
                report.accept_deadlines += 1;
            }
        }
        for (id, deadline) in resolve {
            let key = format!("resolve-overdue:{id}:{deadline}");
            if self
                .act(&key, now_ms, id, Action::ResolveOverdue, &mut report)
                .await?
            {
                report.resolve_overdue += 1;
            }
        }
        for (id, at) in meetings {
            if now_ms < self.reminder_due(at) {
                continue;
            }
            let key = format!("meeting-reminder:{id}:{at}");
            if self
                .act(&key, now_ms, id, Action::MeetingReminder, &mut report)
                .await?
            {
                report.meeting_reminders += 1;
            }
        }
        for id in followups {
            let key = format!("followup:{id}");
            if self
                .act(&key, now_ms, id, Action::Followup, &mut report)
                .await?
            {
                report.followups += 1;
            }
        }
        if self.digest(now_ms, &mut report).await? {
            report.digests += 1;
        }
        Ok(report)
    }

    /// When the reminder of a meeting at `at` is due: the start of working
    /// hours on the local day before.
    pub fn reminder_due(&self, at: i64) -> i64 {
        let policy = self.lifecycle.policy();
        let day = ms_to_datetime(at)
            .with_timezone(&policy.timezone)
            .date_naive()
            - Duration::days(1);
        let local = NaiveDateTime::new(day, policy.working_hours.start);
        policy
            .timezone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.timestamp_millis())
            .unwrap_or(at - 86_400_000)
    }

    /// Claims `key` and runs the action in one transaction. False when
    /// another tick or instance had claimed it.
    async fn act(
        &self,
        key: &str,
        now: i64,
        case_id: i64,
        action: Action,
        report: &mut SweepReport,
    ) -> Result<bool, SweepError> {
        let mut tx = self.storage.begin().await?;
        if !storage::jobs::claim_once(&mut tx, key, now).await? {
            return Ok(false);
        }
        let lc = &self.lifecycle;
        let messages = match action {
            Action::AcceptDeadline => lc.accept_deadline_missed(&mut tx, case_id).await?,
            Action::ResolveOverdue => lc.resolve_deadline_passed(&mut tx, case_id).await?,
            Action::MeetingReminder => lc.meeting_reminder(&mut tx, case_id).await?,
            Action::Followup => lc.followup(&mut tx, case_id).await?,
        };
        self.queue.queue(&mut tx, &messages, now).await?;
        tx.commit().await.map_err(StorageError::from)?;
        tracing::info!(job = key, messages = messages.len(), "deadline acted on");
        report.messages.extend(messages);
        Ok(true)
    }

    /// The admin chat's digest of the previous local day, once per day.
    async fn digest(&self, now_ms: i64, report: &mut SweepReport) -> Result<bool, SweepError> {
        if self.lifecycle.admin_chat_id().is_none() {
            return Ok(false);
        }
        let tz = self.lifecycle.policy().timezone;
        let today = ms_to_datetime(now_ms).with_timezone(&tz).date_naive();
        let yesterday = today - Duration::days(1);
        let midnight = |d: chrono::NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|n| tz.from_local_datetime(&n).earliest())
                .map(|t| t.timestamp_millis())
                .unwrap_or(now_ms)
        };
        let key = format!("digest:{today}");
        let mut tx = self.storage.begin().await?;
        if !storage::jobs::claim_once(&mut tx, &key, now_ms).await? {
            return Ok(false);
        }
        let msg = self
            .lifecycle
            .daily_digest(
                &mut tx,
                midnight(yesterday),
                midnight(today),
                &yesterday.format("%Y-%m-%d").to_string(),
            )
            .await?;
        let messages: Vec<OutMessage> = msg.into_iter().collect();
        self.queue.queue(&mut tx, &messages, now_ms).await?;
        tx.commit().await.map_err(StorageError::from)?;
        report.messages.extend(messages);
        Ok(true)
    }
}
