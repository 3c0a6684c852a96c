//! Validation of routing rules for the admin API: what is rejected outright
//! (a [`DomainError`] naming the field) and what is only worth a warning
//! (a rule that can never, or only in a squeeze, fire because an earlier
//! rule takes its cases).

use crate::domain::rule::{check_target_resolvable, validate_rule_fields};
use crate::domain::{Category, Committee, DomainError, Rule, RuleId, RuleTarget};
use crate::storage::rules::RuleFields;
use serde::Serialize;

/// How sure a warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The rule can never fire: an earlier enabled rule matches every case it
    /// matches, and every committee it could choose is one the earlier rule
    /// could choose too (so when the earlier rule finds them all full or
    /// declined, this one does as well).
    Unreachable,
    /// The rule fires only in a squeeze: an earlier enabled rule matches
    /// every case it matches and looks for the nearest committee of a kind
    /// with no distance limit, so this rule is reached only when every such
    /// committee (in the county, when the earlier rule says so) is full,
    /// declined the case, or does not exist.
    Shadowed,
}

/// A rule that an earlier rule keeps from firing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleWarning {
    /// The rule warned about (`None` for a rule not saved yet).
    pub rule_id: Option<RuleId>,
    /// Its name.
    pub rule_name: String,
    /// Unreachable or merely shadowed.
    pub kind: WarningKind,
    /// The earlier rule that takes its cases.
    pub earlier_rule_id: Option<RuleId>,
    /// Its name.
    pub earlier_rule_name: String,
    /// The field to change to fix it (`priority`, or `conditions`).
    pub field: String,
    /// What is wrong, in English for admins.
    pub message: String,
}

/// Parses category codes from an admin payload (`["labor", "medical"]`),
/// rejecting an unknown one with the field `conditions.categories`.
pub fn parse_categories(codes: &[String]) -> Result<Vec<Category>, DomainError> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let c = Category::parse(code)
            .map_err(|e| DomainError::new("conditions.categories", e.message))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Checks a rule to be created (`id: None`) or to replace rule `id`, against
/// the committees and the other rules of the table.
///
/// Rejected, with the field named: a bad name, priority or deadline; a
/// malformed region prefix (`region_prefix`) or party count; a specialty
/// on a non-industry target, a bad maximum distance; a named committee that
/// does not exist or (for an enabled rule) is inactive (`target.committee`);
/// a kind, or kind and specialty, that no active committee has
/// (`target.kind` / `target.specialty`, enabled rules only: a disabled rule
/// may keep pointing at a committee that was closed). Categories are typed
/// already; see [`parse_categories`] for raw input.
///
/// Accepted with warnings: the rule can never fire, or fires only in a
/// squeeze, because of an earlier rule; or it keeps a later rule from firing.
/// See [`WarningKind`] for the exact definitions.
pub fn validate_rule(
    fields: &RuleFields,
    id: Option<RuleId>,
    rules: &[Rule],
    committees: &[Committee],
) -> Result<Vec<RuleWarning>, DomainError> {
    validate_rule_fields(
        &fields.name,
        fields.priority,
        fields.accept_hours,
        fields.resolve_days,
    )?;
    fields.conditions.validate()?;
    fields.target.validate()?;
    if fields.enabled {
        check_target_resolvable(&fields.target, committees)?;
    } else if let RuleTarget::Committee { committee_id } = &fields.target {
        if !committees.iter().any(|c| c.id == *committee_id) {
            return Err(DomainError::new(
                "target.committee",
                format!("committee {committee_id} does not exist"),
            ));
        }
    }

    // The table as it would be with this rule in it. A new rule gets an id
    // larger than any existing one, so it sorts last among equal priorities.
    let candidate = Rule {
        id: id.unwrap_or(i64::MAX),
        priority: fields.priority,
        name: fields.name.clone(),
        enabled: fields.enabled,
        conditions: fields.conditions.clone(),
        target: fields.target.clone(),
        accept_hours: fields.accept_hours,
        resolve_days: fields.resolve_days,
    };
    let mut table: Vec<Rule> = rules.iter().filter(|r| Some(r.id) != id).cloned().collect();
    table.push(candidate);
    let warnings = rule_table_warnings(&table, committees)
        .into_iter()
        .filter(|w| {
            w.rule_id == Some(id.unwrap_or(i64::MAX))
                || w.earlier_rule_id == Some(id.unwrap_or(i64::MAX))
        })
        .map(|mut w| {
            if id.is_none() {
                for slot in [&mut w.rule_id, &mut w.earlier_rule_id] {
                    if *slot == Some(i64::MAX) {
                        *slot = None;
                    }
                }
            }
            w
        })
        .collect();
    Ok(warnings)
}

/// Every warning of a whole rules table, in evaluation order: for each
/// enabled rule, the first earlier enabled rule that makes it unreachable,
/// or failing that the first that shadows it (see [`WarningKind`]).
pub fn rule_table_warnings(rules: &[Rule], committees: &[Committee]) -> Vec<RuleWarning> {
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| (r.priority, r.id));
    let mut out = Vec::new();
    for (i, later) in ordered.iter().enumerate() {
        if !later.enabled {
            continue;
        }
        let earlier = ordered[..i]
            .iter()
            .filter(|e| e.enabled && e.conditions.covers(&later.conditions));
        let mut found: Option<(WarningKind, &Rule)> = None;
        for e in earlier {
            if candidates_include(&e.target, &later.target, committees) {
                found = Some((WarningKind::Unreachable, e));
                break;
            }
            if found.is_none() && is_unlimited_nearest(&e.target) {
                found = Some((WarningKind::Shadowed, e));
            }
        }
        if let Some((kind, e)) = found {
            let message = match kind {
                WarningKind::Unreachable => format!(
                    "rule '{}' can never fire: rule {} '{}' comes first, matches every case it \
                     matches and can choose every committee it can; give it a lower priority \
                     number or narrow the earlier rule",
                    later.name, e.id, e.name
                ),
                WarningKind::Shadowed => format!(
                    "rule '{}' fires only when every committee rule {} '{}' looks for is full \
                     or has declined the case: that rule comes first and matches every case \
                     this one matches; give this rule a lower priority number if it should \
                     win",
                    later.name, e.id, e.name
                ),
            };
            out.push(RuleWarning {
                rule_id: Some(later.id),
                rule_name: later.name.clone(),
                kind,
                earlier_rule_id: Some(e.id),
                earlier_rule_name: e.name.clone(),
                field: "priority".into(),
                message,
            });
        }
    }
    out
}

fn is_unlimited_nearest(t: &RuleTarget) -> bool {
    matches!(
        t,
        RuleTarget::Nearest {
            max_distance_km: None,
            ..
        }
    )
}

/// Whether every committee target `later` could choose for a case is one
/// target `earlier` could choose for the same case.
fn candidates_include(earlier: &RuleTarget, later: &RuleTarget, committees: &[Committee]) -> bool {
    match (earlier, later) {
        (RuleTarget::Committee { committee_id: a }, RuleTarget::Committee { committee_id: b }) => {
            a == b
        }
        (RuleTarget::Committee { .. }, RuleTarget::Nearest { .. }) => false,
        (
            RuleTarget::Nearest {
                kind,
                specialty,
                max_distance_km: None,
                within_county: false,
            },
            RuleTarget::Committee { committee_id },
        ) => committees.iter().any(|c| {
            c.id == *committee_id
                && c.kind == *kind
                && specialty.is_none_or(|s| c.specialties.contains(&s))
        }),
        (RuleTarget::Nearest { .. }, RuleTarget::Committee { .. }) => false,
        (
            RuleTarget::Nearest {
                kind: ka,
                specialty: sa,
                max_distance_km: da,
                within_county: wa,
            },
            RuleTarget::Nearest {
                kind: kb,
                specialty: sb,
                max_distance_km: db,
                within_county: wb,
            },
        ) => {
            ka == kb
                && (sa.is_none() || sa == sb)
                && match (da, db) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(a), Some(b)) => b <= a,
                }
                && (!wa || *wb)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CommitteeKind, GeoPoint, RegionCode, RuleConditions};

    fn committee(
        id: i64,
        kind: CommitteeKind,
        specialties: Vec<Category>,
        active: bool,
    ) -> Committee {
        Committee {
            id,
            code: format!("C{id}"),
            name: format!("committee {id}"),
            kind,
            specialties,
            region_code: RegionCode::parse("620722").unwrap(),
            location: GeoPoint {
                lat: 38.4,
                lon: 100.8,
            },
            address: String::new(),
            phone: String::new(),
            capacity: 10,
            active,
            illustrative: false,
        }
    }

    fn committees() -> Vec<Committee> {
        vec![
            committee(1, CommitteeKind::Village, vec![], true),
            committee(2, CommitteeKind::Industry, vec![Category::Labor], true),
            committee(3, CommitteeKind::Township, vec![], false),
        ]
    }

    fn nearest(kind: CommitteeKind, max: Option<f64>) -> RuleTarget {
        RuleTarget::Nearest {
            kind,
            specialty: None,
            max_distance_km: max,
            within_county: false,
        }
    }

    fn rule(id: i64, priority: i64, conditions: RuleConditions, target: RuleTarget) -> Rule {
        Rule {
            id,
            priority,
            name: format!("rule {id}"),
            enabled: true,
            conditions,
            target,
            accept_hours: None,
            resolve_days: None,
        }
    }

    fn fields(conditions: RuleConditions, target: RuleTarget) -> RuleFields {
        RuleFields {
            priority: 50,
            name: "new".into(),
            enabled: true,
            conditions,
            target,
            accept_hours: None,
            resolve_days: None,
        }
    }

    #[test]
    fn each_kind_of_bad_rule_is_rejected_with_its_field() {
        let cs = committees();
        let cases = [
            (
                fields(
                    RuleConditions {
                        region_prefix: Some("62x".into()),
                        ..Default::default()
                    },
                    nearest(CommitteeKind::Village, None),
                ),
                "region_prefix",
            ),
            (
                fields(
                    RuleConditions::default(),
                    RuleTarget::Committee { committee_id: 99 },
                ),
                "target.committee",
            ),
            (
                fields(
                    RuleConditions::default(),
                    RuleTarget::Committee { committee_id: 3 },
                ),
                "target.committee",
            ),
            (
                fields(
                    RuleConditions::default(),
                    nearest(CommitteeKind::Court, None),
                ),
                "target.kind",
            ),
            (
                fields(
                    RuleConditions::default(),
                    RuleTarget::Nearest {
                        kind: CommitteeKind::Industry,
                        specialty: Some(Category::Medical),
                        max_distance_km: None,
                        within_county: true,
                    },
                ),
                "target.specialty",
            ),
        ];
        for (f, field) in cases {
            let e = validate_rule(&f, None, &[], &cs).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(!e.message.is_empty());
        }
        let e = parse_categories(&["labor".into(), "gossip".into()]).unwrap_err();
        assert_eq!(e.field, "conditions.categories");
        assert!(e.message.contains("gossip"), "{}", e.message);
    }

    #[test]
    fn a_disabled_rule_may_point_at_an_inactive_committee() {
        let mut f = fields(
            RuleConditions::default(),
            RuleTarget::Committee { committee_id: 3 },
        );
        f.enabled = false;
        assert_eq!(validate_rule(&f, None, &[], &committees()), Ok(vec![]));
    }

    #[test]
    fn a_narrower_rule_behind_a_broader_one_of_the_same_kind_can_never_fire() {
        let cs = committees();
        let table = vec![rule(
            1,
            10,
            RuleConditions::default(),
            nearest(CommitteeKind::Village, None),
        )];
        let f = fields(
            RuleConditions {
                categories: vec![Category::Neighbor],
                ..Default::default()
            },
            nearest(CommitteeKind::Village, Some(10.0)),
        );
        let w = validate_rule(&f, None, &table, &cs).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].kind, WarningKind::Unreachable);
        assert_eq!(w[0].rule_id, None);
        assert_eq!(w[0].earlier_rule_id, Some(1));
        assert_eq!(w[0].field, "priority");
        assert!(w[0].message.contains("can never fire"), "{}", w[0].message);
    }

    #[test]
    fn a_rule_behind_a_catch_all_of_another_kind_is_only_shadowed() {
        let cs = committees();
        let table = vec![
            rule(
                1,
                10,
                RuleConditions::default(),
                nearest(CommitteeKind::Village, None),
            ),
            rule(
                2,
                20,
                RuleConditions {
                    categories: vec![Category::Labor],
                    ..Default::default()
                },
                RuleTarget::Committee { committee_id: 2 },
            ),
        ];
        let w = rule_table_warnings(&table, &cs);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, WarningKind::Shadowed);
        assert_eq!(w[0].rule_id, Some(2));
    }

    #[test]
    fn rules_that_do_not_overlap_or_whose_earlier_rule_can_run_out_get_no_warning() {
        let cs = committees();
        let table = vec![
            // Only at-risk cases: does not cover the others.
            rule(
                1,
                10,
                RuleConditions {
                    at_risk: Some(true),
                    ..Default::default()
                },
                nearest(CommitteeKind::Village, None),
            ),
            // A distance limit can leave a case with no candidate.
            rule(
                2,
                20,
                RuleConditions::default(),
                nearest(CommitteeKind::Village, Some(15.0)),
            ),
            rule(
                3,
                30,
                RuleConditions::default(),
                nearest(CommitteeKind::Industry, Some(50.0)),
            ),
        ];
        assert_eq!(rule_table_warnings(&table, &cs), vec![]);
        // Putting a new broad rule first warns about the rules it now hides.
        let f = fields(
            RuleConditions::default(),
            nearest(CommitteeKind::Village, None),
        );
        let mut first = f.clone();
        first.priority = 5;
        let w = validate_rule(&first, None, &table, &cs).unwrap();
        assert!(
            w.iter().any(|w| w.rule_id == Some(2)
                && w.kind == WarningKind::Unreachable
                && w.earlier_rule_id.is_none()),
            "{w:?}"
        );
    }

    #[test]
    fn the_demo_rules_table_has_no_warnings() {
        // Mirrors data/demo/rules.csv: specific rules first, the nearest
        // village within 15 km last.
        let cs = committees();
        let table = vec![
            rule(
                1,
                10,
                RuleConditions {
                    at_risk: Some(true),
                    ..Default::default()
                },
                nearest(CommitteeKind::County, None),
            ),
            rule(
                2,
                20,
                RuleConditions {
                    categories: vec![Category::Labor],
                    ..Default::default()
                },
                RuleTarget::Nearest {
                    kind: CommitteeKind::Industry,
                    specialty: Some(Category::Labor),
                    max_distance_km: None,
                    within_county: true,
                },
            ),
            rule(
                3,
                90,
                RuleConditions {
                    min_parties: Some(5),
                    ..Default::default()
                },
                nearest(CommitteeKind::Township, None),
            ),
            rule(
                4,
                100,
                RuleConditions::default(),
                nearest(CommitteeKind::Village, Some(15.0)),
            ),
        ];
        assert_eq!(rule_table_warnings(&table, &cs), vec![]);
    }
}
