//! Background jobs: the deadline sweeper, reminders, follow-ups and digests.
//!
//! Jobs run on every instance; each action claims a key in `jobs_done` in the
//! same transaction as its effects, so it happens once however many
//! instances sweep. Actions that would reach a person wait for working hours.

pub mod hours;
pub mod sweeper;

pub use hours::next_working_instant;
pub use sweeper::{MessageQueue, ReportOnly, SweepError, SweepReport, Sweeper};
