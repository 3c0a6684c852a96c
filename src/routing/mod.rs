//! Routing: which committee gets a case, and why.
//!
//! The rules table is tried in priority order; the first rule whose
//! conditions hold and whose target resolves to an active committee with free
//! capacity wins. Otherwise the nearest active committee in the case's county
//! takes it, then the county centre; with no committee at all the case waits
//! in the unrouted queue. Every decision carries an [`Explanation`] that is
//! stored with the case event and shown by the admin dry-run.
//!
//! - [`index`]: the in-memory core ([`RoutingIndex`]): R-trees over
//!   unit-sphere vectors, rule evaluation and the escalation ladder, with
//!   capacity asked of a [`CapacityProbe`]. No database; benchmarks and
//!   property tests use it directly.
//! - [`Router`] (here): the core plus the database: it reloads the snapshot
//!   when the routing version moves and answers capacity by counting open
//!   cases.
//! - [`validate`]: rule validation and unreachable-rule warnings for the
//!   admin API.
//! - [`explain`]: the structured explanation and its rendering per language.

pub mod explain;
pub mod index;
pub mod validate;

pub use explain::{Explanation, Skip, SkipReason, Via};
pub use index::{CapacityProbe, Choice, FnProbe, RoutingIndex};
pub use validate::{rule_table_warnings, validate_rule, RuleWarning, WarningKind};

use crate::domain::{Category, Committee, CommitteeId, GeoPoint, RegionCode, Rule, RuleId};
use crate::storage::{self, Conn, Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// What routing needs to know about a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// The dispute category.
    pub category: Category,
    /// Where it happened (a picked region's centroid when no location was shared).
    pub point: GeoPoint,
    /// The region it happened in (county, township or village code).
    pub region_code: RegionCode,
    /// How many people are involved.
    pub party_count: i64,
    /// Whether anyone is at risk of harm.
    pub at_risk: bool,
}

/// Where a case goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The committee chosen; `None` means the unrouted queue.
    pub committee: Option<Committee>,
    /// The rule that chose it, when a rule did.
    pub rule_id: Option<RuleId>,
    /// Great-circle distance from the case to the committee.
    pub distance_km: Option<f64>,
    /// Accept deadline override of the rule, hours.
    pub accept_hours: Option<i64>,
    /// Resolve deadline override of the rule, days.
    pub resolve_days: Option<i64>,
    /// Why.
    pub explanation: Explanation,
}

/// Why routing failed (only the database can make it fail).
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// Loading committees or rules, or counting open cases, failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The router: the current [`RoutingIndex`] snapshot, swapped whole when the
/// routing version in the database moves (any instance's change to
/// committees or rules bumps it in the same transaction). Decisions hold an
/// `Arc` of the snapshot they started with, so none ever sees a half-built
/// or half-updated index. Cloning is cheap and clones share the snapshot.
#[derive(Debug, Clone)]
pub struct Router {
    current: Arc<RwLock<Arc<RoutingIndex>>>,
    /// One reload at a time per process: at national scale a reload takes a
    /// second, and concurrent decisions should wait for it, not repeat it.
    reloading: Arc<tokio::sync::Mutex<()>>,
}

/// Capacity from the database: open cases (assigned, accepted, scheduled)
/// against the committee's capacity, counted for every candidate asked
/// about in one statement.
struct DbProbe<'c> {
    conn: &'c mut Conn,
}

impl<'c> DbProbe<'c> {
    fn new(conn: &'c mut Conn) -> Self {
        Self { conn }
    }
}

impl CapacityProbe for DbProbe<'_> {
    type Error = StorageError;
    async fn rooms(
        &mut self,
        candidates: &[(CommitteeId, i64)],
    ) -> Result<Vec<bool>, StorageError> {
        let counted: Vec<CommitteeId> = candidates
            .iter()
            .filter(|(_, capacity)| *capacity > 0)
            .map(|(id, _)| *id)
            .collect();
        let open = storage::committees::open_case_counts(self.conn, &counted).await?;
        Ok(candidates
            .iter()
            .map(|(id, capacity)| *capacity > 0 && open.get(id).copied().unwrap_or(0) < *capacity)
            .collect())
    }
}

/// How often a load retries when a change lands while it reads.
const LOAD_ATTEMPTS: usize = 5;

impl Router {
    /// Loads committees and rules from storage and builds the index.
    pub async fn load(storage: &Storage) -> Result<Self, RoutingError> {
        let mut conn = storage.acquire().await?;
        let index = load_index(&mut conn).await?;
        Ok(Self::from_index(index))
    }

    /// A router over an index built elsewhere (tests, benchmarks, tools).
    pub fn from_index(index: RoutingIndex) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(index))),
            reloading: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The snapshot decisions are made on right now.
    pub fn index(&self) -> Arc<RoutingIndex> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn install(&self, index: RoutingIndex) {
        let index = Arc::new(index);
        match self.current.write() {
            Ok(mut g) => *g = index,
            Err(poisoned) => *poisoned.into_inner() = index,
        }
    }

    /// Reloads when the routing version in the database moved: one cheap
    /// `SELECT` when nothing changed.
    pub async fn refresh_if_stale(&self, conn: &mut Conn) -> Result<(), RoutingError> {
        let version = storage::rules::routing_version(conn).await?;
        if version == self.index().version() {
            return Ok(());
        }
        let _one_at_a_time = self.reloading.lock().await;
        // Another task may have reloaded while this one waited.
        if version == self.index().version() {
            return Ok(());
        }
        let index = load_index(conn).await?;
        self.install(index);
        Ok(())
    }

    /// Decides where a case goes (see [`RoutingIndex::decide_with`] for the
    /// exact order). `excluded` committees (those that declined the case or
    /// missed its accept deadline) are never chosen: deciding again with the
    /// first choice excluded gives the next nearest committee of the same
    /// kind.
    pub async fn decide(
        &self,
        conn: &mut Conn,
        facts: &CaseFacts,
        excluded: &[CommitteeId],
    ) -> Result<Decision, RoutingError> {
        self.refresh_if_stale(conn).await?;
        let index = self.index();
        let choice = index
            .decide_with(facts, excluded, &mut DbProbe::new(&mut *conn))
            .await?;
        into_decision(conn, choice).await
    }

    /// The next committee up the ladder village → township → county centre
    /// from `from`, through the case's region hierarchy (the case's own
    /// township committee first), skipping committees that declined.
    /// `None` when the ladder is exhausted.
    pub async fn escalate(
        &self,
        conn: &mut Conn,
        facts: &CaseFacts,
        from: CommitteeId,
        declined: &[CommitteeId],
    ) -> Result<Option<Decision>, RoutingError> {
        self.refresh_if_stale(conn).await?;
        let index = self.index();
        let choice = index
            .escalate_with(facts, from, declined, &mut DbProbe::new(&mut *conn))
            .await?;
        match choice {
            Some(c) => Ok(Some(into_decision(conn, c).await?)),
            None => Ok(None),
        }
    }

    /// Every rule in evaluation order, from the current snapshot.
    pub fn rules(&self) -> Vec<Rule> {
        self.index().rules().to_vec()
    }
}

/// Reads the chosen committee's row: the index keeps only what routing
/// needs, the caller wants the address and phone.
async fn into_decision(conn: &mut Conn, choice: Choice) -> Result<Decision, RoutingError> {
    let committee = match choice.committee_id {
        Some(id) => match storage::committees::get(conn, id).await? {
            Some(c) => Some(c),
            // Deleted after the snapshot was taken; the version moved, so the
            // caller's retry routes on fresh data.
            None => return Err(StorageError::NotFound(format!("committee {id}")).into()),
        },
        None => None,
    };
    Ok(Decision {
        committee,
        rule_id: choice.rule_id,
        distance_km: choice.distance_km,
        accept_hours: choice.accept_hours,
        resolve_days: choice.resolve_days,
        explanation: choice.explanation,
    })
}

/// Whether a rule's conditions hold for the case.
pub fn matches(rule: &Rule, facts: &CaseFacts) -> bool {
    let c = &rule.conditions;
    (c.categories.is_empty() || c.categories.contains(&facts.category))
        && c.region_prefix
            .as_ref()
            .is_none_or(|p| facts.region_code.as_str().starts_with(p.as_str()))
        && c.min_parties.is_none_or(|n| facts.party_count >= n)
        && c.at_risk.is_none_or(|r| facts.at_risk == r)
}

/// Reads committees and rules as one consistent picture. The version is read
/// before and after: every change commits together with a version bump, so
/// equal versions mean no change landed in between (on PostgreSQL each
/// statement may see a newer snapshot; this check makes that harmless).
async fn load_index(conn: &mut Conn) -> Result<RoutingIndex, RoutingError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let version = storage::rules::routing_version(conn).await?;
        let committees = storage::committees::list_all(conn).await?;
        let rules = storage::rules::list(conn).await?;
        let after = storage::rules::routing_version(conn).await?;
        if after == version || attempt >= LOAD_ATTEMPTS {
            // After too many races, keep the older label: the next decision
            // sees the version moved and loads again.
            return Ok(RoutingIndex::build(version, &committees, rules));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handlers run on a multi-threaded runtime (axum, the update loop):
    /// the router must be shareable and its futures must be `Send`. This
    /// only has to compile.
    #[allow(dead_code)]
    fn router_is_shareable_and_its_futures_are_send(r: &Router, conn: &mut Conn, f: &CaseFacts) {
        fn shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        shareable(r);
        send(&r.decide(conn, f, &[]));
        send(&r.escalate(conn, f, 1, &[]));
        send(&r.refresh_if_stale(conn));
    }
}
