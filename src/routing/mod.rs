//! Routing: which committee gets a case, and why.
//!
//! The rules table is tried in priority order; the first rule whose
//! conditions hold and whose target resolves to an active committee with free
//! capacity wins. Otherwise the nearest active committee in the case's county
//! takes it, then the county centre; with no committee at all the case waits
//! in the unrouted queue. Every decision carries an [`Explanation`] that is
//! stored with the case event and shown by the admin dry-run.

pub mod explain;

pub use explain::{Explanation, Skip, SkipReason, Via};

use crate::domain::{
    Category, Committee, CommitteeId, CommitteeKind, GeoPoint, RegionCode, Rule, RuleId, RuleTarget,
};
use crate::storage::{self, Conn, Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
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

/// Committees and rules as one consistent picture.
#[derive(Debug, Default)]
struct Snapshot {
    version: i64,
    committees: Vec<Committee>,
    rules: Vec<Rule>,
}

/// The router: a snapshot of committees and rules, reloaded when another
/// instance (or this one) changed them.
#[derive(Debug, Clone)]
pub struct Router {
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
}

impl Router {
    /// Loads committees and rules from storage.
    pub async fn load(storage: &Storage) -> Result<Self, RoutingError> {
        let mut conn = storage.acquire().await?;
        let snap = load_snapshot(&mut conn).await?;
        Ok(Self {
            snapshot: Arc::new(RwLock::new(Arc::new(snap))),
        })
    }

    fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads when the routing version in the database moved.
    pub async fn refresh_if_stale(&self, conn: &mut Conn) -> Result<(), RoutingError> {
        let version = storage::rules::routing_version(conn).await?;
        if version != self.current().version {
            let snap = Arc::new(load_snapshot(conn).await?);
            match self.snapshot.write() {
                Ok(mut g) => *g = snap,
                Err(poisoned) => *poisoned.into_inner() = snap,
            }
        }
        Ok(())
    }

    /// Decides where a new case goes. `excluded` committees (those that
    /// declined it) are never chosen.
    pub async fn decide(
        &self,
        conn: &mut Conn,
        facts: &CaseFacts,
        excluded: &[CommitteeId],
    ) -> Result<Decision, RoutingError> {
        self.refresh_if_stale(conn).await?;
        let snap = self.current();
        let excluded: HashSet<CommitteeId> = excluded.iter().copied().collect();
        let mut skipped = Vec::new();
        let county = facts.region_code.county();

        for rule in snap.rules.iter().filter(|r| r.enabled) {
            if !matches(rule, facts) {
                continue;
            }
            let candidates: Vec<&Committee> = match &rule.target {
                RuleTarget::Committee { committee_id } => {
                    match snap.committees.iter().find(|c| c.id == *committee_id) {
                        Some(c) if !c.active => {
                            skipped.push(Skip::rule(rule, SkipReason::Inactive, Some(c)));
                            continue;
                        }
                        Some(c) if excluded.contains(&c.id) => {
                            skipped.push(Skip::rule(rule, SkipReason::Declined, Some(c)));
                            continue;
                        }
                        Some(c) => vec![c],
                        None => {
                            skipped.push(Skip::rule(rule, SkipReason::NoCandidate, None));
                            continue;
                        }
                    }
                }
                RuleTarget::Nearest {
                    kind,
                    specialty,
                    max_distance_km,
                    within_county,
                } => nearest(&snap.committees, facts.point, |c| {
                    c.active
                        && c.kind == *kind
                        && !excluded.contains(&c.id)
                        && specialty.is_none_or(|s| c.specialties.contains(&s))
                        && (!within_county || c.region_code.county() == county)
                        && max_distance_km.is_none_or(|m| c.location.distance_km(&facts.point) <= m)
                }),
            };
            if candidates.is_empty() {
                skipped.push(Skip::rule(rule, SkipReason::NoCandidate, None));
                continue;
            }
            match first_with_capacity(conn, &candidates, &mut skipped, Some(rule)).await? {
                Some(c) => {
                    return Ok(Decision {
                        distance_km: Some(c.location.distance_km(&facts.point)),
                        rule_id: Some(rule.id),
                        accept_hours: rule.accept_hours,
                        resolve_days: rule.resolve_days,
                        explanation: Explanation::new(
                            Via::Rule {
                                rule_id: rule.id,
                                rule_name: rule.name.clone(),
                            },
                            Some(c),
                            facts.point,
                            skipped,
                        ),
                        committee: Some(c.clone()),
                    })
                }
                None => continue,
            }
        }

        // No rule placed it: the nearest active committee in the county.
        let in_county = nearest(&snap.committees, facts.point, |c| {
            c.active && !excluded.contains(&c.id) && c.region_code.county() == county
        });
        if let Some(c) = first_with_capacity(conn, &in_county, &mut skipped, None).await? {
            return Ok(fallback(Via::NearestInCounty, c, facts, skipped));
        }
        // Then a county centre: the case's own, else the nearest one.
        let centres = nearest(&snap.committees, facts.point, |c| {
            c.active && !excluded.contains(&c.id) && c.kind == CommitteeKind::County
        });
        if let Some(c) = first_with_capacity(conn, &centres, &mut skipped, None).await? {
            return Ok(fallback(Via::CountyCentre, c, facts, skipped));
        }
        Ok(Decision {
            committee: None,
            rule_id: None,
            distance_km: None,
            accept_hours: None,
            resolve_days: None,
            explanation: Explanation::new(Via::Unrouted, None, facts.point, skipped),
        })
    }

    /// The next committee up the ladder village → township → county centre
    /// from `from`, through the case's region hierarchy, skipping committees
    /// that declined. `None` when the ladder is exhausted.
    pub async fn escalate(
        &self,
        conn: &mut Conn,
        facts: &CaseFacts,
        from: CommitteeId,
        declined: &[CommitteeId],
    ) -> Result<Option<Decision>, RoutingError> {
        self.refresh_if_stale(conn).await?;
        let snap = self.current();
        let declined: HashSet<CommitteeId> = declined.iter().copied().collect();
        let from_kind = snap
            .committees
            .iter()
            .find(|c| c.id == from)
            .map(|c| c.kind)
            .unwrap_or(CommitteeKind::Village);
        let county = facts.region_code.county();
        let township = facts.region_code.township();
        let mut skipped = Vec::new();
        let mut level = from_kind.next_level();
        while let Some(kind) = level {
            let usable = |c: &Committee| {
                c.active && c.kind == kind && c.id != from && !declined.contains(&c.id)
            };
            // Prefer the committee of the case's own township (or county), then
            // the nearest of that level in the county.
            let mut candidates: Vec<&Committee> = snap
                .committees
                .iter()
                .filter(|c| {
                    usable(c)
                        && match kind {
                            CommitteeKind::Township => Some(&c.region_code) == township.as_ref(),
                            _ => c.region_code == county,
                        }
                })
                .collect();
            let more: Vec<&Committee> = nearest(&snap.committees, facts.point, |c| {
                usable(c) && c.region_code.county() == county
            })
            .into_iter()
            .filter(|c| !candidates.iter().any(|x| x.id == c.id))
            .collect();
            candidates.extend(more);
            if let Some(c) = first_with_capacity(conn, &candidates, &mut skipped, None).await? {
                return Ok(Some(fallback(
                    Via::Escalation { to: kind },
                    c,
                    facts,
                    skipped,
                )));
            }
            level = kind.next_level();
        }
        Ok(None)
    }

    /// Every rule in evaluation order, from the current snapshot.
    pub fn rules(&self) -> Vec<Rule> {
        self.current().rules.clone()
    }
}

fn fallback(via: Via, c: &Committee, facts: &CaseFacts, skipped: Vec<Skip>) -> Decision {
    Decision {
        committee: Some(c.clone()),
        rule_id: None,
        distance_km: Some(c.location.distance_km(&facts.point)),
        accept_hours: None,
        resolve_days: None,
        explanation: Explanation::new(via, Some(c), facts.point, skipped),
    }
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

/// Committees passing `keep`, nearest first.
fn nearest(
    committees: &[Committee],
    point: GeoPoint,
    keep: impl Fn(&Committee) -> bool,
) -> Vec<&Committee> {
    let mut v: Vec<(f64, &Committee)> = committees
        .iter()
        .filter(|c| keep(c))
        .map(|c| (c.location.distance_km(&point), c))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    v.into_iter().map(|(_, c)| c).collect()
}

async fn first_with_capacity<'a>(
    conn: &mut Conn,
    candidates: &[&'a Committee],
    skipped: &mut Vec<Skip>,
    rule: Option<&Rule>,
) -> Result<Option<&'a Committee>, RoutingError> {
    for c in candidates {
        let open = storage::committees::open_case_count(conn, c.id).await?;
        if open < c.capacity {
            return Ok(Some(c));
        }
        skipped.push(match rule {
            Some(r) => Skip::rule(r, SkipReason::Full, Some(c)),
            None => Skip::committee(c, SkipReason::Full),
        });
    }
    Ok(None)
}

async fn load_snapshot(conn: &mut Conn) -> Result<Snapshot, RoutingError> {
    // Version first: a change that lands while we load bumps it again and the
    // next check reloads, so a half-updated table is never kept for long.
    let version = storage::rules::routing_version(conn).await?;
    let committees = storage::committees::list_all(conn).await?;
    let rules = storage::rules::list(conn).await?;
    Ok(Snapshot {
        version,
        committees,
        rules,
    })
}
