//! Explanations of routing decisions: structured (stored as JSON with the
//! case event, returned by the admin dry-run) and rendered in each language.

use crate::domain::{CommitteeId, CommitteeKind, Rule, RuleId};
use crate::i18n::{t, Lang};
use serde::{Deserialize, Serialize};

/// How the committee was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Via {
    /// A rule chose it.
    Rule {
        /// The rule's id.
        rule_id: RuleId,
        /// The rule's name.
        rule_name: String,
    },
    /// No rule could; the nearest active committee in the case's county.
    NearestInCounty,
    /// Nothing nearer could; the county centre.
    CountyCentre,
    /// Climbed the ladder to this level.
    Escalation {
        /// The level reached.
        to: CommitteeKind,
    },
    /// No committee at all: the unrouted queue.
    Unrouted,
}

/// Why a candidate was passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The committee is inactive.
    Inactive,
    /// It has no free capacity.
    Full,
    /// It declined this case before.
    Declined,
    /// No committee fits the rule's target.
    NoCandidate,
}

/// One candidate or rule that was passed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skip {
    /// The rule, when the skip happened while trying one.
    pub rule_id: Option<RuleId>,
    /// Its name.
    pub rule_name: Option<String>,
    /// The committee passed over, if one was.
    pub committee_id: Option<CommitteeId>,
    /// Its name.
    pub committee_name: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

impl Skip {
    pub(crate) fn rule(rule: &Rule, reason: SkipReason, c: Option<(CommitteeId, &str)>) -> Self {
        Self {
            rule_id: Some(rule.id),
            rule_name: Some(rule.name.clone()),
            committee_id: c.map(|c| c.0),
            committee_name: c.map(|c| c.1.to_owned()),
            reason,
        }
    }

    pub(crate) fn committee(c: (CommitteeId, &str), reason: SkipReason) -> Self {
        Self {
            rule_id: None,
            rule_name: None,
            committee_id: Some(c.0),
            committee_name: Some(c.1.to_owned()),
            reason,
        }
    }
}

/// Why a case went where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// How the committee was found.
    pub via: Via,
    /// The committee chosen.
    pub committee_id: Option<CommitteeId>,
    /// Its name.
    pub committee_name: Option<String>,
    /// Distance from the case, km, rounded to 0.1.
    pub distance_km: Option<f64>,
    /// What was passed over first, in order (at most the first 20).
    pub skipped: Vec<Skip>,
    /// How many more were passed over than `skipped` lists.
    #[serde(default)]
    pub skipped_more: u32,
}

impl Explanation {
    pub(crate) fn new(
        via: Via,
        c: Option<(CommitteeId, &str)>,
        distance_km: Option<f64>,
        (skipped, skipped_more): (Vec<Skip>, u32),
    ) -> Self {
        Self {
            via,
            committee_id: c.map(|c| c.0),
            committee_name: c.map(|c| c.1.to_owned()),
            distance_km: distance_km.map(|d| (d * 10.0).round() / 10.0),
            skipped,
            skipped_more,
        }
    }

    /// The explanation as one or more sentences in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        let name = self.committee_name.clone().unwrap_or_default();
        let km = format!("{:.1}", self.distance_km.unwrap_or(0.0));
        let mut out = match &self.via {
            Via::Rule { rule_id, rule_name } => t(
                lang,
                "route-via-rule",
                &[
                    ("rule_id", (*rule_id).into()),
                    ("rule", rule_name.clone().into()),
                    ("committee", name.into()),
                    ("km", km.into()),
                ],
            ),
            Via::NearestInCounty => t(
                lang,
                "route-via-nearest-in-county",
                &[("committee", name.into()), ("km", km.into())],
            ),
            Via::CountyCentre => t(
                lang,
                "route-via-county-centre",
                &[("committee", name.into()), ("km", km.into())],
            ),
            Via::Escalation { to } => t(
                lang,
                "route-via-escalation",
                &[
                    ("level", t(lang, &format!("kind-{}", to.code()), &[]).into()),
                    ("committee", name.into()),
                    ("km", km.into()),
                ],
            ),
            Via::Unrouted => t(lang, "route-unrouted", &[]),
        };
        for s in &self.skipped {
            let reason = t(lang, &format!("route-skip-{}", reason_code(s.reason)), &[]);
            let line = match (&s.rule_name, &s.committee_name) {
                (Some(rule), Some(c)) => t(
                    lang,
                    "route-skipped-rule-committee",
                    &[
                        ("rule", rule.clone().into()),
                        ("committee", c.clone().into()),
                        ("reason", reason.into()),
                    ],
                ),
                (Some(rule), None) => t(
                    lang,
                    "route-skipped-rule",
                    &[("rule", rule.clone().into()), ("reason", reason.into())],
                ),
                (None, Some(c)) => t(
                    lang,
                    "route-skipped-committee",
                    &[("committee", c.clone().into()), ("reason", reason.into())],
                ),
                (None, None) => continue,
            };
            out.push('\n');
            out.push_str(&line);
        }
        if self.skipped_more > 0 {
            out.push('\n');
            out.push_str(&t(
                lang,
                "route-skipped-more",
                &[("count", i64::from(self.skipped_more).into())],
            ));
        }
        out
    }
}

fn reason_code(r: SkipReason) -> &'static str {
    match r {
        SkipReason::Inactive => "inactive",
        SkipReason::Full => "full",
        SkipReason::Declined => "declined",
        SkipReason::NoCandidate => "no-candidate",
    }
}
