//! The routing core: committees and rules held in memory as one immutable
//! snapshot, with an R-tree per committee kind for "nearest".
//!
//! Committees are points on the unit sphere ([`GeoPoint::unit_vector`]); the
//! squared chord between two unit vectors grows monotonically with the
//! great-circle distance, so an ordinary 3-D R-tree answers "nearest on the
//! globe" exactly, and distances are converted back to kilometres only for
//! display. There is one tree per `(kind, None)` holding every active
//! committee of that kind, and one per `(kind, Some(specialty))` for the
//! committees holding that specialty, so a query never wades through
//! committees of another kind. "Within the case's county" is a filter on the
//! county part of the region code, bounded by a precomputed sphere around
//! that county's committees so an empty or exhausted county stops the walk.
//!
//! The core does not know about the database: whether a committee has room
//! is asked of a [`CapacityProbe`], which the [`super::Router`] answers with
//! a count of open cases (the database is the truth across instances) and
//! benchmarks and property tests answer from memory. Only the few candidates
//! actually examined are probed.
//!
//! The snapshot keeps what routing needs in a compact form (about 70 bytes
//! per committee plus its name); the full committee row of the one committee
//! chosen is read from the database by the router.

use super::explain::{Explanation, Skip, SkipReason, Via};
use crate::domain::{
    km_to_chord2, Category, Committee, CommitteeId, CommitteeKind, GeoPoint, RegionCode, Rule,
    RuleId, RuleTarget,
};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::collections::HashMap;
use std::future::Future;

/// Asks which committees can take one more case.
///
/// The router answers from the database (open cases against capacity),
/// several candidates in one statement; tests and benchmarks answer from
/// memory.
pub trait CapacityProbe {
    /// The error a probe can fail with.
    type Error;
    /// For each of `candidates` (a committee's id and its capacity, in the
    /// order given), whether it has room: one answer per candidate.
    fn rooms(
        &mut self,
        candidates: &[(CommitteeId, i64)],
    ) -> impl Future<Output = Result<Vec<bool>, Self::Error>> + Send;
}

/// A probe answered by a plain function of a committee's id and capacity,
/// for callers without a database.
pub struct FnProbe<F>(pub F);

impl<F> CapacityProbe for FnProbe<F>
where
    F: FnMut(CommitteeId, i64) -> bool + Send,
{
    type Error = std::convert::Infallible;
    fn rooms(
        &mut self,
        candidates: &[(CommitteeId, i64)],
    ) -> impl Future<Output = Result<Vec<bool>, Self::Error>> + Send {
        let answers = candidates
            .iter()
            .map(|(id, cap)| (self.0)(*id, *cap))
            .collect();
        std::future::ready(Ok(answers))
    }
}

/// Candidates a decision asks the probe about at once: the first few, then,
/// each time all of them were full, twice as many up to [`MAX_ASKED`], so a
/// decision that walks past a town's full committees (through one rule or
/// several) asks a handful of times, not once each.
const FIRST_ASKED: usize = 4;
const MAX_ASKED: usize = 64;

/// What the core decided: the committee by id (the router loads its row).
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The committee chosen; `None` means the unrouted queue.
    pub committee_id: Option<CommitteeId>,
    /// The rule that chose it, when a rule did.
    pub rule_id: Option<RuleId>,
    /// Great-circle distance from the case to the committee, km.
    pub distance_km: Option<f64>,
    /// Accept deadline override of the rule, hours.
    pub accept_hours: Option<i64>,
    /// Resolve deadline override of the rule, days.
    pub resolve_days: Option<i64>,
    /// Why.
    pub explanation: Explanation,
}

type Entry = GeomWithData<[f64; 3], u32>;

/// Which tree: a kind, optionally narrowed to one specialty.
type TreeKey = (CommitteeKind, Option<Category>);

/// What routing keeps of one committee.
#[derive(Debug, Clone)]
struct Slot {
    id: CommitteeId,
    capacity: i64,
    point: GeoPoint,
    /// Numeric region code and its length in digits (6, 9 or 12).
    region: (u64, u8),
    county: u32,
    name_start: u32,
    name_len: u32,
    kind: CommitteeKind,
    active: bool,
}

/// A sphere (in unit-vector space) around one county's committees of one
/// tree: every member is at most `radius` from `centre`.
#[derive(Debug, Clone, Copy)]
struct Sphere {
    centre: [f64; 3],
    radius: f64,
}

/// A rule with its conditions in a form that is quick to test.
#[derive(Debug, Clone)]
struct Compiled {
    rule: usize,
    categories: u16,
    prefix: Option<String>,
    min_parties: Option<i64>,
    at_risk: Option<bool>,
}

/// Committees and rules as one consistent, immutable picture, with the
/// spatial index built over it. Build a new one to change anything.
#[derive(Debug, Default)]
pub struct RoutingIndex {
    version: i64,
    /// Sorted by id, so lookups are a binary search.
    slots: Vec<Slot>,
    names: String,
    trees: HashMap<TreeKey, RTree<Entry>>,
    county_spheres: HashMap<(TreeKey, u32), Sphere>,
    /// Non-village committees by their exact region (the escalation ladder
    /// looks up "the township committee of this township").
    by_region: HashMap<(u64, u8), Vec<u32>>,
    rules: Vec<Rule>,
    compiled: Vec<Compiled>,
}

fn category_bit(c: Category) -> u16 {
    let i = Category::ALL.iter().position(|x| *x == c).unwrap_or(0);
    1 << i
}

fn region_key(code: &RegionCode) -> (u64, u8) {
    let s = code.as_str();
    (s.parse().unwrap_or(0), s.len() as u8)
}

fn county_of(code: &RegionCode) -> u32 {
    code.as_str()
        .get(..6)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Great-circle distance from the case to a committee, rounded the way
/// explanations show it is left to [`Explanation`].
fn km(slot: &Slot, point: &GeoPoint) -> f64 {
    slot.point.distance_km(point)
}

impl RoutingIndex {
    /// Builds the index over `committees` and `rules` (rules are put in
    /// evaluation order: priority, then id). `version` is the routing version
    /// the data was read at.
    pub fn build(version: i64, committees: &[Committee], mut rules: Vec<Rule>) -> Self {
        let mut order: Vec<&Committee> = committees.iter().collect();
        order.sort_by_key(|c| c.id);
        order.dedup_by_key(|c| c.id);
        let mut names = String::with_capacity(order.iter().map(|c| c.name.len()).sum());
        let mut slots = Vec::with_capacity(order.len());
        for c in &order {
            let name_start = names.len() as u32;
            names.push_str(&c.name);
            slots.push(Slot {
                id: c.id,
                capacity: c.capacity,
                point: c.location,
                region: region_key(&c.region_code),
                county: county_of(&c.region_code),
                name_start,
                name_len: c.name.len() as u32,
                kind: c.kind,
                active: c.active,
            });
        }

        let mut entries: HashMap<TreeKey, Vec<Entry>> = HashMap::new();
        let mut by_region: HashMap<(u64, u8), Vec<u32>> = HashMap::new();
        for (i, (s, c)) in slots.iter().zip(&order).enumerate() {
            if s.kind != CommitteeKind::Village {
                by_region.entry(s.region).or_default().push(i as u32);
            }
            // Inactive committees never win "nearest": leaving them out of the
            // trees keeps every walk short.
            if !s.active {
                continue;
            }
            let v = s.point.unit_vector();
            entries
                .entry((s.kind, None))
                .or_default()
                .push(Entry::new(v, i as u32));
            for sp in &c.specialties {
                entries
                    .entry((s.kind, Some(*sp)))
                    .or_default()
                    .push(Entry::new(v, i as u32));
            }
        }

        let mut county_spheres = HashMap::new();
        for (key, list) in &entries {
            let mut sums: HashMap<u32, [f64; 3]> = HashMap::new();
            for e in list {
                let s = &slots[e.data as usize];
                let sum = sums.entry(s.county).or_insert([0.0; 3]);
                for (a, b) in sum.iter_mut().zip(e.geom()) {
                    *a += b;
                }
            }
            let mut spheres: HashMap<u32, Sphere> = sums
                .into_iter()
                .map(|(county, sum)| {
                    // Any centre works for the bound; the mean keeps it tight.
                    let n = (sum[0].powi(2) + sum[1].powi(2) + sum[2].powi(2)).sqrt();
                    let centre = if n > 0.0 {
                        [sum[0] / n, sum[1] / n, sum[2] / n]
                    } else {
                        [1.0, 0.0, 0.0]
                    };
                    (
                        county,
                        Sphere {
                            centre,
                            radius: 0.0,
                        },
                    )
                })
                .collect();
            for e in list {
                let s = &slots[e.data as usize];
                if let Some(sph) = spheres.get_mut(&s.county) {
                    sph.radius = sph.radius.max(dist2(&sph.centre, e.geom()).sqrt());
                }
            }
            for (county, sph) in spheres.drain() {
                county_spheres.insert((*key, county), sph);
            }
        }

        let trees = entries
            .into_iter()
            .map(|(k, v)| (k, RTree::bulk_load(v)))
            .collect();

        rules.sort_by_key(|r| (r.priority, r.id));
        let compiled = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.enabled)
            .map(|(i, r)| Compiled {
                rule: i,
                categories: r
                    .conditions
                    .categories
                    .iter()
                    .fold(0, |m, c| m | category_bit(*c)),
                prefix: r.conditions.region_prefix.clone(),
                min_parties: r.conditions.min_parties,
                at_risk: r.conditions.at_risk,
            })
            .collect();

        Self {
            version,
            slots,
            names,
            trees,
            county_spheres,
            by_region,
            rules,
            compiled,
        }
    }

    /// The routing version the data was read at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Every rule in evaluation order (priority, then id), disabled ones too.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many committees the index holds (active or not).
    pub fn committee_count(&self) -> usize {
        self.slots.len()
    }

    /// An estimate of the heap the index holds, in bytes: committee slots,
    /// names, trees (entries plus node overhead) and lookup tables.
    pub fn approx_heap_bytes(&self) -> usize {
        let slots = self.slots.capacity() * std::mem::size_of::<Slot>();
        let names = self.names.capacity();
        // An rstar leaf is an `RTreeNode<Entry>` enum the size of its larger
        // variant (a parent node: children Vec + 3-D envelope); inner nodes
        // add about a tenth on top.
        let node = std::mem::size_of::<rstar::RTreeNode<Entry>>();
        let trees: usize = self.trees.values().map(|t| t.size() * node * 11 / 10).sum();
        let regions: usize = self.by_region.values().map(|v| v.capacity() * 4 + 48).sum();
        let spheres = self.county_spheres.len() * 64;
        slots + names + trees + regions + spheres
    }

    fn name(&self, s: &Slot) -> &str {
        let a = s.name_start as usize;
        self.names.get(a..a + s.name_len as usize).unwrap_or("")
    }

    fn slot_index(&self, id: CommitteeId) -> Option<usize> {
        self.slots.binary_search_by_key(&id, |s| s.id).ok()
    }

    fn is_match(c: &Compiled, facts: &super::CaseFacts) -> bool {
        (c.categories == 0 || c.categories & category_bit(facts.category) != 0)
            && c.prefix
                .as_ref()
                .is_none_or(|p| facts.region_code.as_str().starts_with(p.as_str()))
            && c.min_parties.is_none_or(|n| facts.party_count >= n)
            && c.at_risk.is_none_or(|r| facts.at_risk == r)
    }

    /// Active committees of tree `key` nearest to `q` first, as
    /// `(squared chord, slot index)`, not farther than `max_d2`, and only
    /// those of `county` when one is given.
    fn walk<'a>(
        &'a self,
        key: TreeKey,
        q: [f64; 3],
        max_d2: f64,
        county: Option<u32>,
    ) -> Box<dyn Iterator<Item = (f64, u32)> + Send + 'a> {
        let Some(tree) = self.trees.get(&key) else {
            return Box::new(std::iter::empty());
        };
        let mut bound = max_d2;
        if let Some(county) = county {
            match self.county_spheres.get(&(key, county)) {
                // Nobody of this tree in the county: nothing to walk.
                None => return Box::new(std::iter::empty()),
                // Beyond |q - centre| + radius no member of the county can lie,
                // so the walk stops there even when every member is taken.
                Some(s) => {
                    let reach = dist2(&q, &s.centre).sqrt() + s.radius + 1e-9;
                    bound = bound.min(reach * reach);
                }
            }
        }
        Box::new(
            tree.nearest_neighbor_iter_with_distance_2(&q)
                .take_while(move |(_, d2)| *d2 <= bound)
                .filter(move |(e, _)| {
                    county.is_none_or(|c| self.slots[e.data as usize].county == c)
                })
                .map(|(e, d2)| (d2, e.data)),
        )
    }

    /// Several walks merged into one, nearest first.
    fn walk_all<'a>(
        &'a self,
        keys: &[TreeKey],
        q: [f64; 3],
        county: Option<u32>,
    ) -> impl Iterator<Item = (f64, u32)> + Send + 'a {
        let mut walks: Vec<_> = keys
            .iter()
            .map(|k| self.walk(*k, q, f64::INFINITY, county).peekable())
            .collect();
        std::iter::from_fn(move || {
            let mut best: Option<(usize, f64)> = None;
            for (i, w) in walks.iter_mut().enumerate() {
                if let Some((d2, _)) = w.peek() {
                    if best.is_none_or(|(_, b)| *d2 < b) {
                        best = Some((i, *d2));
                    }
                }
            }
            best.and_then(|(i, _)| walks[i].next())
        })
    }

    /// Decides where a case goes, exactly as DESIGN.md "Routing" says:
    ///
    /// 1. enabled rules in order (priority, then id); the first whose
    ///    conditions hold and whose target resolves to an active committee,
    ///    not in `excluded`, with room wins. A named target is that one
    ///    committee; a "nearest" target walks the committees of its kind (and
    ///    specialty) nearest first, within its maximum distance and, when
    ///    asked, the case's county (same first six digits of the region code);
    /// 2. else the nearest active committee of any kind in the case's county;
    /// 3. else the nearest active county centre;
    /// 4. else nobody: the unrouted queue.
    ///
    /// `excluded` (committees that declined the case or let its accept
    /// deadline pass) are never chosen, so deciding again with them excluded
    /// gives the next nearest committee of the same rule's kind.
    pub async fn decide_with<P: CapacityProbe>(
        &self,
        facts: &super::CaseFacts,
        excluded: &[CommitteeId],
        probe: &mut P,
    ) -> Result<Choice, P::Error> {
        let q = facts.point.unit_vector();
        let county = county_of(&facts.region_code);
        let mut log = Log::default();

        for c in &self.compiled {
            if !Self::is_match(c, facts) {
                continue;
            }
            let rule = &self.rules[c.rule];
            let before = log.examined;
            let found = match &rule.target {
                RuleTarget::Committee { committee_id } => match self.slot_index(*committee_id) {
                    None => None,
                    Some(i) => {
                        let s = &self.slots[i];
                        if !s.active {
                            log.examined += 1;
                            log.push(Skip::rule(
                                rule,
                                SkipReason::Inactive,
                                Some((s.id, self.name(s))),
                            ));
                            None
                        } else {
                            self.first_with_room(
                                std::iter::once((0.0, i as u32)),
                                excluded,
                                probe,
                                &mut log,
                                Some(rule),
                            )
                            .await?
                        }
                    }
                },
                RuleTarget::Nearest {
                    kind,
                    specialty,
                    max_distance_km,
                    within_county,
                } => {
                    let max_d2 = max_distance_km.map_or(f64::INFINITY, km_to_chord2);
                    let walk = self.walk(
                        (*kind, *specialty),
                        q,
                        max_d2,
                        within_county.then_some(county),
                    );
                    self.first_with_room(walk, excluded, probe, &mut log, Some(rule))
                        .await?
                }
            };
            if let Some(i) = found {
                let s = &self.slots[i as usize];
                return Ok(self.choice(
                    Via::Rule {
                        rule_id: rule.id,
                        rule_name: rule.name.clone(),
                    },
                    Some(rule),
                    s,
                    facts,
                    log,
                ));
            }
            if log.examined == before {
                log.push(Skip::rule(rule, SkipReason::NoCandidate, None));
            }
        }

        let all_kinds: Vec<TreeKey> = CommitteeKind::ALL.iter().map(|k| (*k, None)).collect();
        let walk = self.walk_all(&all_kinds, q, Some(county));
        if let Some(i) = self
            .first_with_room(walk, excluded, probe, &mut log, None)
            .await?
        {
            let s = &self.slots[i as usize];
            return Ok(self.choice(Via::NearestInCounty, None, s, facts, log));
        }
        let walk = self.walk((CommitteeKind::County, None), q, f64::INFINITY, None);
        if let Some(i) = self
            .first_with_room(walk, excluded, probe, &mut log, None)
            .await?
        {
            let s = &self.slots[i as usize];
            return Ok(self.choice(Via::CountyCentre, None, s, facts, log));
        }
        Ok(Choice {
            committee_id: None,
            rule_id: None,
            distance_km: None,
            accept_hours: None,
            resolve_days: None,
            explanation: Explanation::new(Via::Unrouted, None, None, log.finish()),
        })
    }

    /// The next committee up the ladder village → township → county centre
    /// from committee `from`, through the case's region hierarchy: at each
    /// level the committee of the case's own township (or county) first, then
    /// the nearest of that level in the case's county. Skips `from`, the
    /// committees in `declined`, inactive ones and full ones. `None` when the
    /// ladder is exhausted. A `from` the index does not know is treated as a
    /// village committee.
    pub async fn escalate_with<P: CapacityProbe>(
        &self,
        facts: &super::CaseFacts,
        from: CommitteeId,
        declined: &[CommitteeId],
        probe: &mut P,
    ) -> Result<Option<Choice>, P::Error> {
        let q = facts.point.unit_vector();
        let county = county_of(&facts.region_code);
        let from_kind = self
            .slot_index(from)
            .map_or(CommitteeKind::Village, |i| self.slots[i].kind);
        let mut skip: Vec<CommitteeId> = declined.to_vec();
        skip.push(from);
        let mut log = Log::default();
        let mut level = from_kind.next_level();
        while let Some(kind) = level {
            let own = match kind {
                CommitteeKind::Township => facts.region_code.township(),
                _ => Some(facts.region_code.county()),
            };
            let mut home: Vec<(f64, u32)> = own
                .and_then(|code| self.by_region.get(&region_key(&code)))
                .into_iter()
                .flatten()
                .filter(|i| {
                    let s = &self.slots[**i as usize];
                    s.kind == kind && s.active
                })
                .map(|i| (dist2(&q, &self.slots[*i as usize].point.unit_vector()), *i))
                .collect();
            home.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let home_ids: Vec<u32> = home.iter().map(|(_, i)| *i).collect();
            let nearby = self
                .walk((kind, None), q, f64::INFINITY, Some(county))
                .filter(move |(_, i)| !home_ids.contains(i));
            if let Some(i) = self
                .first_with_room(home.into_iter().chain(nearby), &skip, probe, &mut log, None)
                .await?
            {
                let s = &self.slots[i as usize];
                return Ok(Some(self.choice(
                    Via::Escalation { to: kind },
                    None,
                    s,
                    facts,
                    log,
                )));
            }
            level = kind.next_level();
        }
        Ok(None)
    }

    /// [`Self::decide_with`] with room answered by `has_room(id, capacity)`,
    /// for callers without a database (benchmarks, property tests, tools).
    pub fn decide_sync(
        &self,
        facts: &super::CaseFacts,
        excluded: &[CommitteeId],
        has_room: impl FnMut(CommitteeId, i64) -> bool + Send,
    ) -> Choice {
        // The probe is always ready, so this never waits.
        match futures::executor::block_on(self.decide_with(facts, excluded, &mut FnProbe(has_room)))
        {
            Ok(c) => c,
            Err(never) => match never {},
        }
    }

    /// [`Self::escalate_with`] with room answered by `has_room(id, capacity)`.
    pub fn escalate_sync(
        &self,
        facts: &super::CaseFacts,
        from: CommitteeId,
        declined: &[CommitteeId],
        has_room: impl FnMut(CommitteeId, i64) -> bool + Send,
    ) -> Option<Choice> {
        match futures::executor::block_on(self.escalate_with(
            facts,
            from,
            declined,
            &mut FnProbe(has_room),
        )) {
            Ok(c) => c,
            Err(never) => match never {},
        }
    }

    /// The first candidate (in the order given) that is not excluded and has
    /// room; the others are logged with the reason they were passed over.
    /// Candidates are asked about in groups (see [`FIRST_ASKED`]); the
    /// outcome and the log are those of asking one at a time.
    async fn first_with_room<P: CapacityProbe>(
        &self,
        candidates: impl Iterator<Item = (f64, u32)> + Send,
        excluded: &[CommitteeId],
        probe: &mut P,
        log: &mut Log,
        rule: Option<&Rule>,
    ) -> Result<Option<u32>, P::Error> {
        let mut candidates = candidates.map(|(_, i)| i);
        // Each candidate taken, with the place of its answer in `asked`
        // (`None`: excluded, or already known to be full).
        let mut taken: Vec<(u32, Option<usize>)> = Vec::new();
        let mut asked: Vec<(CommitteeId, i64)> = Vec::new();
        loop {
            taken.clear();
            asked.clear();
            while asked.len() < log.ask {
                let Some(i) = candidates.next() else { break };
                let s = &self.slots[i as usize];
                let answer = (!excluded.contains(&s.id) && !log.known_full(s.id)).then(|| {
                    asked
                        .iter()
                        .position(|(id, _)| *id == s.id)
                        .unwrap_or_else(|| {
                            asked.push((s.id, s.capacity));
                            asked.len() - 1
                        })
                });
                taken.push((i, answer));
            }
            if taken.is_empty() {
                return Ok(None);
            }
            let room = if asked.is_empty() {
                Vec::new()
            } else {
                probe.rooms(&asked).await?
            };
            for &(i, answer) in &taken {
                log.examined += 1;
                let s = &self.slots[i as usize];
                if excluded.contains(&s.id) {
                    log.push_once(s.id, skip_of(rule, SkipReason::Declined, s, self.name(s)));
                    continue;
                }
                // Known full before this group, or found full earlier in it.
                if log.known_full(s.id) {
                    continue;
                }
                if answer.and_then(|k| room.get(k)).copied().unwrap_or(false) {
                    return Ok(Some(i));
                }
                log.full.push(s.id);
                log.push_once(s.id, skip_of(rule, SkipReason::Full, s, self.name(s)));
            }
            log.ask = (log.ask * 2).min(MAX_ASKED);
        }
    }

    fn choice(
        &self,
        via: Via,
        rule: Option<&Rule>,
        s: &Slot,
        facts: &super::CaseFacts,
        log: Log,
    ) -> Choice {
        let d = km(s, &facts.point);
        Choice {
            committee_id: Some(s.id),
            rule_id: rule.map(|r| r.id),
            distance_km: Some(d),
            accept_hours: rule.and_then(|r| r.accept_hours),
            resolve_days: rule.and_then(|r| r.resolve_days),
            explanation: Explanation::new(via, Some((s.id, self.name(s))), Some(d), log.finish()),
        }
    }
}

fn skip_of(rule: Option<&Rule>, reason: SkipReason, s: &Slot, name: &str) -> Skip {
    match rule {
        Some(r) => Skip::rule(r, reason, Some((s.id, name))),
        None => Skip::committee((s.id, name), reason),
    }
}

/// Explanations keep the first few skips in full and count the rest, so a
/// case that walks past many full committees still gets a short record.
const MAX_SKIPS_SHOWN: usize = 20;

/// What was passed over during one decision.
struct Log {
    skips: Vec<Skip>,
    more: u32,
    /// Committees already reported (each is reported once).
    seen: Vec<CommitteeId>,
    /// Committees found full (never probed twice in one decision).
    full: Vec<CommitteeId>,
    /// Candidates looked at so far.
    examined: usize,
    /// Candidates to ask the probe about next time (see [`FIRST_ASKED`]).
    ask: usize,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            skips: Vec::new(),
            more: 0,
            seen: Vec::new(),
            full: Vec::new(),
            examined: 0,
            ask: FIRST_ASKED,
        }
    }
}

impl Log {
    fn push(&mut self, s: Skip) {
        if self.skips.len() < MAX_SKIPS_SHOWN {
            self.skips.push(s);
        } else {
            self.more += 1;
        }
    }

    fn push_once(&mut self, id: CommitteeId, s: Skip) {
        if !self.seen.contains(&id) {
            self.seen.push(id);
            self.push(s);
        }
    }

    fn known_full(&self, id: CommitteeId) -> bool {
        self.full.contains(&id)
    }

    fn finish(self) -> (Vec<Skip>, u32) {
        (self.skips, self.more)
    }
}
