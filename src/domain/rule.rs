//! Routing rules: ordered conditions and a target. Evaluation lives in
//! `crate::routing`; this module only says what a well-formed rule is.

use super::{Category, CommitteeId, CommitteeKind, DomainError, RegionCode};
use serde::{Deserialize, Serialize};

/// Database id of a rule.
pub type RuleId = i64;

/// What a case must look like for a rule to apply. Every condition that is
/// set must hold; an empty rule matches every case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConditions {
    /// The case's category is one of these (empty: any category).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// The case's region code starts with this prefix.
    #[serde(default)]
    pub region_prefix: Option<String>,
    /// At least this many people are involved.
    #[serde(default)]
    pub min_parties: Option<i64>,
    /// The at-risk flag has this value.
    #[serde(default)]
    pub at_risk: Option<bool>,
}

/// Where a matching case goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleTarget {
    /// One named committee.
    Committee {
        /// The committee's id.
        committee_id: CommitteeId,
    },
    /// The nearest active committee of a kind.
    Nearest {
        /// The kind of committee.
        kind: CommitteeKind,
        /// Only committees with this specialty.
        #[serde(default)]
        specialty: Option<Category>,
        /// Only committees at most this far away.
        #[serde(default)]
        max_distance_km: Option<f64>,
        /// Only committees in the case's county.
        #[serde(default)]
        within_county: bool,
    },
}

/// One row of the routing table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Database id.
    pub id: RuleId,
    /// Lower numbers are tried first.
    pub priority: i64,
    /// A name admins recognise (`劳动争议 → 劳动调委会`).
    pub name: String,
    /// Disabled rules are kept but never fire.
    pub enabled: bool,
    /// When the rule applies.
    pub conditions: RuleConditions,
    /// Where the case goes.
    pub target: RuleTarget,
    /// Hours a committee has to accept a case this rule routed (default from
    /// configuration when absent).
    pub accept_hours: Option<i64>,
    /// Days to resolve a case this rule routed (default from configuration).
    pub resolve_days: Option<i64>,
}

impl RuleConditions {
    /// Checks the conditions' own shape.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(p) = &self.region_prefix {
            RegionCode::parse_prefix(p)?;
        }
        if let Some(n) = self.min_parties {
            if !(1..=100_000).contains(&n) {
                return Err(DomainError::new(
                    "min_parties",
                    "minimum party count must be between 1 and 100000",
                ));
            }
        }
        Ok(())
    }

    /// Whether every condition of `self` holds for every case that
    /// satisfies `other`'s conditions too, i.e. `self` is at least as broad.
    pub fn covers(&self, other: &RuleConditions) -> bool {
        let cats = self.categories.is_empty()
            || (!other.categories.is_empty()
                && other.categories.iter().all(|c| self.categories.contains(c)));
        let region = match (&self.region_prefix, &other.region_prefix) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b.starts_with(a.as_str()),
        };
        let parties = match (self.min_parties, other.min_parties) {
            (None, _) => true,
            (Some(a), None) => a <= 1,
            (Some(a), Some(b)) => a <= b,
        };
        let risk = match (self.at_risk, other.at_risk) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a == b,
        };
        cats && region && parties && risk
    }
}

impl RuleTarget {
    /// Checks the target's own shape (that a named committee exists is a
    /// question for the database, see `routing::validate`).
    pub fn validate(&self) -> Result<(), DomainError> {
        if let RuleTarget::Nearest {
            kind,
            specialty,
            max_distance_km,
            ..
        } = self
        {
            if let Some(d) = max_distance_km {
                if !d.is_finite() || *d <= 0.0 || *d > 5000.0 {
                    return Err(DomainError::new(
                        "target.max_distance_km",
                        "maximum distance must be more than 0 and at most 5000 km",
                    ));
                }
            }
            if specialty.is_some() && *kind != CommitteeKind::Industry {
                return Err(DomainError::new(
                    "target.specialty",
                    "a specialty can only be asked of industry committees",
                ));
            }
        }
        Ok(())
    }
}

/// Checks a rule's name, priority and deadlines.
pub fn validate_rule_fields(
    name: &str,
    priority: i64,
    accept_hours: Option<i64>,
    resolve_days: Option<i64>,
) -> Result<(), DomainError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(DomainError::new(
            "name",
            "rule name must be 1 to 200 characters",
        ));
    }
    if !(0..=1_000_000_000).contains(&priority) {
        return Err(DomainError::new(
            "priority",
            "priority must be between 0 and 1000000000",
        ));
    }
    if let Some(h) = accept_hours {
        if !(1..=24 * 30).contains(&h) {
            return Err(DomainError::new(
                "accept_hours",
                "accept deadline must be 1 to 720 hours",
            ));
        }
    }
    if let Some(d) = resolve_days {
        if !(1..=365).contains(&d) {
            return Err(DomainError::new(
                "resolve_days",
                "resolve deadline must be 1 to 365 days",
            ));
        }
    }
    Ok(())
}

/// Checks that a rule's target can resolve to at least one active committee
/// among `committees`: a named committee must exist and be active; a
/// kind (with its specialty) must be held by some active committee.
pub fn check_target_resolvable(
    target: &RuleTarget,
    committees: &[super::Committee],
) -> Result<(), DomainError> {
    match target {
        RuleTarget::Committee { committee_id } => {
            match committees.iter().find(|c| c.id == *committee_id) {
                None => Err(DomainError::new(
                    "target.committee",
                    format!("committee {committee_id} does not exist"),
                )),
                Some(c) if !c.active => Err(DomainError::new(
                    "target.committee",
                    format!("committee {} ({}) is inactive", c.code, c.name),
                )),
                Some(_) => Ok(()),
            }
        }
        RuleTarget::Nearest {
            kind, specialty, ..
        } => {
            let any = committees.iter().any(|c| {
                c.active && c.kind == *kind && specialty.is_none_or(|s| c.specialties.contains(&s))
            });
            if any {
                Ok(())
            } else {
                let what = match specialty {
                    Some(s) => format!("no active {kind} committee has the specialty {s}"),
                    None => format!("no active committee of kind {kind}"),
                };
                Err(DomainError::new(
                    if specialty.is_some() {
                        "target.specialty"
                    } else {
                        "target.kind"
                    },
                    what,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_without_conditions_covers_every_other_rule() {
        let any = RuleConditions::default();
        let narrow = RuleConditions {
            categories: vec![Category::Labor],
            region_prefix: Some("620722".into()),
            min_parties: Some(5),
            at_risk: Some(true),
        };
        assert!(any.covers(&narrow));
        assert!(!narrow.covers(&any));
    }

    #[test]
    fn a_shorter_region_prefix_covers_a_longer_one() {
        let county = RuleConditions {
            region_prefix: Some("620722".into()),
            ..Default::default()
        };
        let town = RuleConditions {
            region_prefix: Some("620722100".into()),
            ..Default::default()
        };
        assert!(county.covers(&town));
        assert!(!town.covers(&county));
    }

    #[test]
    fn specialty_needs_an_industry_target() {
        let t = RuleTarget::Nearest {
            kind: CommitteeKind::Village,
            specialty: Some(Category::Labor),
            max_distance_km: None,
            within_county: false,
        };
        assert_eq!(t.validate().unwrap_err().field, "target.specialty");
    }
}
