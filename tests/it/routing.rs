//! Routing on the demo data: where typical Minle cases go, and why.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::domain::{Category, CommitteeKind, GeoPoint, RegionCode, RuleConditions, RuleTarget};
use jiefen::i18n::Lang;
use jiefen::routing::{
    rule_table_warnings, validate_rule, CaseFacts, Router, SkipReason, Via, WarningKind,
};
use jiefen::storage::committees::CommitteeFields;
use jiefen::storage::rules::RuleFields;
use jiefen::storage::{self, Storage, StorageOptions};

async fn demo_router(db: &TestDb) -> Router {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    Router::load(&db.storage).await.unwrap()
}

/// A case in 六坝镇六坝村.
fn liuba(category: Category, parties: i64) -> CaseFacts {
    CaseFacts {
        category,
        point: GeoPoint {
            lat: 38.605,
            lon: 100.80,
        },
        region_code: RegionCode::parse("620722101201").unwrap(),
        party_count: parties,
        at_risk: false,
    }
}

on_both_backends!(
    a_labour_dispute_in_minle_goes_to_the_labour_committee,
    a_neighbour_dispute_goes_to_the_nearest_village_committee,
    a_six_party_land_dispute_goes_to_the_township,
);

async fn a_labour_dispute_in_minle_goes_to_the_labour_committee(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_eq!(d.committee.unwrap().code, "620722-LABOR");
    assert!(
        matches!(d.explanation.via, Via::Rule { ref rule_name, .. } if rule_name.contains("劳动"))
    );
    let zh = d.explanation.render(Lang::ZhCn);
    assert!(
        zh.contains("民乐县劳动人事争议人民调解委员会") && zh.contains("公里"),
        "{zh}"
    );
}

async fn a_neighbour_dispute_goes_to_the_nearest_village_committee(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Neighbor, 2), &[])
        .await
        .unwrap();
    let committee = d.committee.unwrap();
    assert_eq!(committee.code, "620722101201-VIL", "{}", committee.name);
    let en = d.explanation.render(Lang::En);
    assert!(en.starts_with("Rule ") && en.contains(" km away"), "{en}");
}

async fn a_six_party_land_dispute_goes_to_the_township(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Land, 6), &[])
        .await
        .unwrap();
    assert_eq!(d.committee.unwrap().code, "620722101-TWN");
    assert!(
        matches!(d.explanation.via, Via::Rule { ref rule_name, .. } if rule_name.contains("乡镇"))
    );
    let zh = d.explanation.render(Lang::ZhCn);
    assert!(
        zh.contains("六坝镇人民调解委员会") && zh.contains("公里"),
        "{zh}"
    );
    let tw = d.explanation.render(Lang::ZhTw);
    assert!(tw.contains("按規則"), "{tw}");
}

on_both_backends!(
    a_disabled_rule_never_fires,
    a_committee_holding_as_many_open_cases_as_its_capacity_is_skipped_with_the_reason,
    an_inactive_named_committee_is_skipped_with_the_reason,
    a_change_made_by_another_instance_is_seen_by_the_next_decision,
    with_no_committee_at_all_the_case_waits_unrouted,
    a_declined_committee_is_passed_over_for_the_next_nearest_of_the_same_kind,
    escalation_climbs_from_village_to_the_case_township_then_the_county_centre,
    the_demo_rules_validate_and_a_rule_hidden_behind_them_is_reported,
);

async fn committee_id(db: &TestDb, code: &str) -> i64 {
    let mut c = db.storage.acquire().await.unwrap();
    storage::committees::get_by_code(&mut c, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn rule_named(db: &TestDb, part: &str) -> jiefen::domain::Rule {
    let mut c = db.storage.acquire().await.unwrap();
    storage::rules::list(&mut c)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.name.contains(part))
        .unwrap()
}

async fn a_disabled_rule_never_fires(db: &TestDb) {
    let router = demo_router(db).await;
    let labour = rule_named(db, "劳动").await;
    let mut f = RuleFields::of(&labour);
    f.enabled = false;
    let mut c = db.storage.acquire().await.unwrap();
    storage::rules::update(&mut c, labour.id, &f, 2)
        .await
        .unwrap();

    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_ne!(d.rule_id, Some(labour.id));
    assert_ne!(d.committee.unwrap().code, "620722-LABOR");
    assert!(d
        .explanation
        .skipped
        .iter()
        .all(|s| s.rule_id != Some(labour.id)));
    assert!(!d.explanation.render(Lang::ZhCn).contains("劳动人事争议"));
}

/// Puts a case with `status` on a committee, as the case workflow would.
async fn put_case(db: &TestDb, n: i64, committee: i64, status: &str) {
    sqlx::query(
        "INSERT INTO cases (case_number, category, description, party_count, location_source,
                            region_code, status, committee_id, submitted_at, updated_at)
         VALUES ($1, 'labor', 'test', 1, 'region', '620722101201', $2, $3, 1, 1)",
    )
    .bind(format!("620722-2026-{n:06}"))
    .bind(status)
    .bind(committee)
    .execute(db.storage.pool())
    .await
    .unwrap();
}

async fn a_committee_holding_as_many_open_cases_as_its_capacity_is_skipped_with_the_reason(
    db: &TestDb,
) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let labour = storage::committees::get_by_code(&mut c, "620722-LABOR")
        .await
        .unwrap()
        .unwrap();
    let mut f = committee_fields(&labour);
    f.capacity = 2;
    storage::committees::update(&mut c, labour.id, &f, 2)
        .await
        .unwrap();
    // Finished and pending cases do not count against capacity; assigned,
    // accepted and scheduled ones do.
    put_case(db, 1, labour.id, "resolved").await;
    put_case(db, 2, labour.id, "closed").await;
    put_case(db, 3, labour.id, "assigned").await;
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_eq!(d.committee.unwrap().code, "620722-LABOR");

    put_case(db, 4, labour.id, "scheduled").await;
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_ne!(d.committee.unwrap().code, "620722-LABOR");
    assert!(d
        .explanation
        .skipped
        .iter()
        .any(|s| s.committee_id == Some(labour.id) && s.reason == SkipReason::Full));
    let zh = d.explanation.render(Lang::ZhCn);
    assert!(
        zh.contains("跳过")
            && zh.contains("民乐县劳动人事争议人民调解委员会")
            && zh.contains("案件已满"),
        "{zh}"
    );
    let en = d.explanation.render(Lang::En);
    assert!(en.contains("no free capacity"), "{en}");
}

fn committee_fields(c: &jiefen::domain::Committee) -> CommitteeFields {
    CommitteeFields {
        code: c.code.clone(),
        name: c.name.clone(),
        kind: c.kind,
        specialties: c.specialties.clone(),
        region_code: c.region_code.clone(),
        location: c.location,
        address: c.address.clone(),
        phone: c.phone.clone(),
        capacity: c.capacity,
        active: c.active,
        illustrative: c.illustrative,
    }
}

async fn an_inactive_named_committee_is_skipped_with_the_reason(db: &TestDb) {
    let router = demo_router(db).await;
    let labour = committee_id(db, "620722-LABOR").await;
    let mut c = db.storage.acquire().await.unwrap();
    let named = RuleFields {
        priority: 1,
        name: "民乐劳动 → 县劳动调委会".into(),
        enabled: true,
        conditions: RuleConditions {
            categories: vec![Category::Labor],
            region_prefix: Some("620722".into()),
            ..Default::default()
        },
        target: RuleTarget::Committee {
            committee_id: labour,
        },
        accept_hours: Some(12),
        resolve_days: None,
    };
    let rule_id = storage::rules::insert(&mut c, &named, 2).await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    assert_eq!(d.rule_id, Some(rule_id));
    assert_eq!(d.accept_hours, Some(12));

    storage::committees::set_active(&mut c, labour, false, 3)
        .await
        .unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Labor, 1), &[])
        .await
        .unwrap();
    let chosen = d.committee.unwrap();
    assert_ne!(chosen.id, labour);
    assert!(chosen.active);
    let skip = &d.explanation.skipped[0];
    assert_eq!(
        (skip.rule_id, skip.committee_id, skip.reason),
        (Some(rule_id), Some(labour), SkipReason::Inactive)
    );
    let zh = d.explanation.render(Lang::ZhCn);
    assert!(zh.contains("已停用"), "{zh}");
}

async fn a_change_made_by_another_instance_is_seen_by_the_next_decision(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Neighbor, 2), &[])
        .await
        .unwrap();
    let first = d.committee.unwrap();
    assert_eq!(first.code, "620722101201-VIL");

    let other = Storage::connect(&db.url, &StorageOptions::default())
        .await
        .unwrap();
    let mut oc = other.acquire().await.unwrap();
    storage::committees::set_active(&mut oc, first.id, false, 2)
        .await
        .unwrap();
    drop(oc);
    other.close().await;

    let d = router
        .decide(&mut c, &liuba(Category::Neighbor, 2), &[])
        .await
        .unwrap();
    let second = d.committee.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(second.kind, CommitteeKind::Village);
}

async fn with_no_committee_at_all_the_case_waits_unrouted(db: &TestDb) {
    let router = Router::load(&db.storage).await.unwrap();
    let mut c = db.storage.acquire().await.unwrap();
    let d = router
        .decide(&mut c, &liuba(Category::Family, 1), &[])
        .await
        .unwrap();
    assert_eq!(d.committee, None);
    assert_eq!(d.explanation.via, Via::Unrouted);
    assert!(d.explanation.render(Lang::ZhCn).contains("待分派"));
    let esc = router
        .escalate(&mut c, &liuba(Category::Family, 1), 1, &[])
        .await
        .unwrap();
    assert_eq!(esc, None);
}

async fn a_declined_committee_is_passed_over_for_the_next_nearest_of_the_same_kind(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let facts = liuba(Category::Neighbor, 2);
    let first = router.decide(&mut c, &facts, &[]).await.unwrap();
    let first_c = first.committee.unwrap();
    let second = router.decide(&mut c, &facts, &[first_c.id]).await.unwrap();
    let second_c = second.committee.clone().unwrap();
    assert_ne!(second_c.id, first_c.id);
    assert_eq!(second_c.kind, CommitteeKind::Village);
    assert_eq!(second.rule_id, first.rule_id);
    assert!(second.distance_km.unwrap() >= first.distance_km.unwrap());
    let zh = second.explanation.render(Lang::ZhCn);
    assert!(
        zh.contains(&first_c.name) && zh.contains("曾退回此案"),
        "{zh}"
    );

    let third = router
        .decide(&mut c, &facts, &[first_c.id, second_c.id])
        .await
        .unwrap();
    let third_c = third.committee.unwrap();
    assert!(![first_c.id, second_c.id].contains(&third_c.id));
    assert!(third.distance_km.unwrap() >= second.distance_km.unwrap());
}

async fn escalation_climbs_from_village_to_the_case_township_then_the_county_centre(db: &TestDb) {
    let router = demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let facts = liuba(Category::Neighbor, 2);
    let village = committee_id(db, "620722101201-VIL").await;
    let township = committee_id(db, "620722101-TWN").await;
    let centre = committee_id(db, "620722-CENTER").await;

    let up = router
        .escalate(&mut c, &facts, village, &[village])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(up.committee.as_ref().unwrap().id, township);
    assert_eq!(
        up.explanation.via,
        Via::Escalation {
            to: CommitteeKind::Township
        }
    );
    let zh = up.explanation.render(Lang::ZhCn);
    assert!(zh.starts_with("上交到") && zh.contains("六坝镇"), "{zh}");

    // The case's own township declined too: another township of the county.
    let other = router
        .escalate(&mut c, &facts, village, &[village, township])
        .await
        .unwrap()
        .unwrap();
    let other_c = other.committee.unwrap();
    assert_eq!(other_c.kind, CommitteeKind::Township);
    assert_ne!(other_c.id, township);
    assert!(other_c.region_code.as_str().starts_with("620722"));

    let top = router
        .escalate(&mut c, &facts, township, &[village, township])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(top.committee.unwrap().id, centre);
    assert_eq!(
        router
            .escalate(&mut c, &facts, centre, &[village, township, centre])
            .await
            .unwrap(),
        None
    );
}

async fn the_demo_rules_validate_and_a_rule_hidden_behind_them_is_reported(db: &TestDb) {
    demo_router(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    let rules = storage::rules::list(&mut c).await.unwrap();
    let committees = storage::committees::list_all(&mut c).await.unwrap();
    assert_eq!(rule_table_warnings(&rules, &committees), vec![]);
    for r in &rules {
        let w = validate_rule(&RuleFields::of(r), Some(r.id), &rules, &committees).unwrap();
        assert_eq!(w, vec![], "{}", r.name);
    }

    // Labour disputes to the nearest industry labour committee within
    // 30 km: the demo's labour rule (no limit) comes first and takes them all.
    let hidden = RuleFields {
        priority: 25,
        name: "劳动争议 → 30 公里内劳动调委会".into(),
        enabled: true,
        conditions: RuleConditions {
            categories: vec![Category::Labor],
            region_prefix: Some("620722".into()),
            ..Default::default()
        },
        target: RuleTarget::Nearest {
            kind: CommitteeKind::Industry,
            specialty: Some(Category::Labor),
            max_distance_km: Some(30.0),
            within_county: true,
        },
        accept_hours: None,
        resolve_days: None,
    };
    let w = validate_rule(&hidden, None, &rules, &committees).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, WarningKind::Unreachable);
    assert!(w[0].earlier_rule_name.contains("劳动"));

    // A named committee that is inactive is refused, naming the field.
    let labour = committee_id(db, "620722-LABOR").await;
    storage::committees::set_active(&mut c, labour, false, 2)
        .await
        .unwrap();
    let committees = storage::committees::list_all(&mut c).await.unwrap();
    let mut named = hidden.clone();
    named.target = RuleTarget::Committee {
        committee_id: labour,
    };
    let e = validate_rule(&named, None, &rules, &committees).unwrap_err();
    assert_eq!(e.field, "target.committee");
    assert!(e.message.contains("inactive"), "{}", e.message);
}

// ---------------------------------------------------------------------------
// Property tests on the in-memory core, against a brute-force model of
// DESIGN.md "Routing" (a linear scan, the simplest thing that is obviously
// right).

mod properties {
    use jiefen::domain::{
        Category, Committee, CommitteeId, CommitteeKind, GeoPoint, RegionCode, Rule,
        RuleConditions, RuleTarget,
    };
    use jiefen::routing::{matches, CaseFacts, Choice, RoutingIndex, Via};
    use proptest::prelude::*;

    const COUNTIES: [&str; 3] = ["620721", "620722", "620723"];
    const CATS: [Category; 4] = [
        Category::Labor,
        Category::Neighbor,
        Category::Family,
        Category::Land,
    ];

    fn region(county: usize, depth: u8, n: u8) -> String {
        let c = COUNTIES[county];
        match depth {
            0 => c.to_owned(),
            1 => format!("{c}{:03}", 100 + n % 3),
            _ => format!("{c}{:03}{:03}", 100 + n % 3, 200 + n % 4),
        }
    }

    fn point() -> impl Strategy<Value = GeoPoint> {
        (38.0f64..39.0, 100.0f64..101.5).prop_map(|(lat, lon)| GeoPoint { lat, lon })
    }

    fn committees() -> impl Strategy<Value = Vec<Committee>> {
        prop::collection::vec(
            (
                0usize..5,
                prop::sample::subsequence(vec![Category::Labor, Category::Family], 1..=2),
                0usize..3,
                any::<u8>(),
                point(),
                0i64..3,
                prop::bool::weighted(0.8),
            ),
            0..40,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (k, specs, county, n, location, capacity, active))| {
                    let kind = CommitteeKind::ALL[k];
                    let id = i as i64 + 1;
                    Committee {
                        id,
                        code: format!("C{id}"),
                        name: format!("委员会{id}"),
                        kind,
                        specialties: if kind == CommitteeKind::Industry {
                            specs
                        } else {
                            vec![]
                        },
                        region_code: RegionCode::parse(&region(
                            county,
                            match kind {
                                CommitteeKind::Village => 2,
                                CommitteeKind::Township => 1,
                                _ => 0,
                            },
                            n,
                        ))
                        .unwrap(),
                        location,
                        address: String::new(),
                        phone: String::new(),
                        capacity,
                        active,
                        illustrative: false,
                    }
                })
                .collect()
        })
    }

    fn target() -> impl Strategy<Value = RuleTarget> {
        prop_oneof![
            (1i64..45).prop_map(|committee_id| RuleTarget::Committee { committee_id }),
            (
                0usize..5,
                prop::option::of(prop::sample::select(vec![
                    Category::Labor,
                    Category::Family
                ])),
                prop::option::of(2.0f64..80.0),
                any::<bool>()
            )
                .prop_map(|(k, specialty, max_distance_km, within_county)| {
                    let kind = CommitteeKind::ALL[k];
                    RuleTarget::Nearest {
                        kind,
                        specialty: specialty.filter(|_| kind == CommitteeKind::Industry),
                        max_distance_km,
                        within_county,
                    }
                }),
        ]
    }

    fn rules() -> impl Strategy<Value = Vec<Rule>> {
        prop::collection::vec(
            (
                0i64..5,
                prop::bool::weighted(0.8),
                prop::sample::subsequence(CATS.to_vec(), 0..=2),
                prop::option::of((0usize..3, 0u8..2, any::<u8>())),
                prop::option::of(1i64..6),
                prop::option::of(any::<bool>()),
                target(),
            ),
            0..8,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(
                    |(i, (priority, enabled, categories, prefix, min_parties, at_risk, target))| {
                        Rule {
                            id: i as i64 + 1,
                            priority,
                            name: format!("规则{i}"),
                            enabled,
                            conditions: RuleConditions {
                                categories,
                                region_prefix: prefix.map(|(c, d, n)| region(c, d, n)),
                                min_parties,
                                at_risk,
                            },
                            target,
                            accept_hours: None,
                            resolve_days: None,
                        }
                    },
                )
                .collect()
        })
    }

    fn facts() -> impl Strategy<Value = CaseFacts> {
        (
            prop::sample::select(CATS.to_vec()),
            point(),
            0usize..3,
            0u8..3,
            any::<u8>(),
            1i64..8,
            any::<bool>(),
        )
            .prop_map(
                |(category, point, c, d, n, party_count, at_risk)| CaseFacts {
                    category,
                    point,
                    region_code: RegionCode::parse(&region(c, d, n)).unwrap(),
                    party_count,
                    at_risk,
                },
            )
    }

    fn county(code: &RegionCode) -> &str {
        &code.as_str()[..6]
    }

    fn fits(t: &RuleTarget, c: &Committee, f: &CaseFacts) -> bool {
        match t {
            RuleTarget::Committee { committee_id } => c.id == *committee_id,
            RuleTarget::Nearest {
                kind,
                specialty,
                max_distance_km,
                within_county,
            } => {
                c.kind == *kind
                    && specialty.is_none_or(|s| c.specialties.contains(&s))
                    && max_distance_km.is_none_or(|m| c.location.distance_km(&f.point) <= m)
                    && (!within_county || county(&c.region_code) == county(&f.region_code))
            }
        }
    }

    /// What the model expects: how, and how far away (ties between
    /// equidistant committees may go either way).
    #[derive(Debug, PartialEq)]
    enum Expect {
        Rule(i64, f64),
        InCounty(f64),
        Centre(f64),
        Unrouted,
    }

    fn model(
        cs: &[Committee],
        rules: &[Rule],
        f: &CaseFacts,
        excluded: &[CommitteeId],
        room: &dyn Fn(&Committee) -> bool,
    ) -> Expect {
        let usable = |c: &&Committee| c.active && !excluded.contains(&c.id) && room(c);
        let nearest = |keep: &dyn Fn(&Committee) -> bool| {
            cs.iter()
                .filter(usable)
                .filter(|c| keep(c))
                .map(|c| c.location.distance_km(&f.point))
                .min_by(f64::total_cmp)
        };
        let mut ordered: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
        ordered.sort_by_key(|r| (r.priority, r.id));
        for r in ordered {
            if matches(r, f) {
                if let Some(d) = nearest(&|c| fits(&r.target, c, f)) {
                    return Expect::Rule(r.id, d);
                }
            }
        }
        if let Some(d) = nearest(&|c| county(&c.region_code) == county(&f.region_code)) {
            return Expect::InCounty(d);
        }
        if let Some(d) = nearest(&|c| c.kind == CommitteeKind::County) {
            return Expect::Centre(d);
        }
        Expect::Unrouted
    }

    fn observed(choice: &Choice) -> Expect {
        let d = choice.distance_km.unwrap_or(f64::NAN);
        match &choice.explanation.via {
            Via::Rule { rule_id, .. } => Expect::Rule(*rule_id, d),
            Via::NearestInCounty => Expect::InCounty(d),
            Via::CountyCentre => Expect::Centre(d),
            Via::Unrouted => Expect::Unrouted,
            Via::Escalation { .. } => panic!("decide never escalates"),
        }
    }

    fn same(a: &Expect, b: &Expect) -> bool {
        let close = |x: f64, y: f64| (x - y).abs() < 1e-6;
        match (a, b) {
            (Expect::Rule(r1, d1), Expect::Rule(r2, d2)) => r1 == r2 && close(*d1, *d2),
            (Expect::InCounty(d1), Expect::InCounty(d2))
            | (Expect::Centre(d1), Expect::Centre(d2)) => close(*d1, *d2),
            (Expect::Unrouted, Expect::Unrouted) => true,
            _ => false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The chosen committee is active, has room, was not excluded and
        /// fits the rule that chose it; no such committee is nearer; earlier
        /// rules had nothing; "unrouted" only when nothing at all fits.
        #[test]
        fn decisions_match_the_brute_force_model(
            cs in committees(),
            rules in rules(),
            f in facts(),
            full in prop::collection::vec(1i64..45, 0..10),
            excluded in prop::collection::vec(1i64..45, 0..4),
        ) {
            let index = RoutingIndex::build(7, &cs, rules.clone());
            let room = |c: &Committee| c.capacity > 0 && !full.contains(&c.id);
            let choice = index.decide_sync(&f, &excluded, |id, cap| cap > 0 && !full.contains(&id));
            let want = model(&cs, &rules, &f, &excluded, &room);
            let got = observed(&choice);
            prop_assert!(same(&want, &got), "model {want:?}, index {got:?}: {choice:?}");
            if let Some(id) = choice.committee_id {
                let c = cs.iter().find(|c| c.id == id).unwrap();
                prop_assert!(c.active && room(c) && !excluded.contains(&id));
                prop_assert!((c.location.distance_km(&f.point) - choice.distance_km.unwrap()).abs() < 1e-9);
                if let Via::Rule { rule_id, .. } = &choice.explanation.via {
                    let r = rules.iter().find(|r| r.id == *rule_id).unwrap();
                    prop_assert!(r.enabled && matches(r, &f) && fits(&r.target, c, &f));
                    prop_assert_eq!(choice.rule_id, Some(*rule_id));
                }
            } else {
                prop_assert!(cs.iter().all(|c| !c.active || !room(c) || excluded.contains(&c.id)
                    || (c.kind != CommitteeKind::County && county(&c.region_code) != county(&f.region_code))));
            }
        }

        /// Deciding again with everything chosen so far excluded never
        /// returns an excluded committee, and walks outward.
        #[test]
        fn redeciding_after_declines_never_returns_a_committee_that_declined(
            cs in committees(),
            rules in rules(),
            f in facts(),
        ) {
            let index = RoutingIndex::build(1, &cs, rules);
            let mut declined: Vec<CommitteeId> = Vec::new();
            for _ in 0..cs.len() + 1 {
                let choice = index.decide_sync(&f, &declined, |_, cap| cap > 0);
                match choice.committee_id {
                    Some(id) => {
                        prop_assert!(!declined.contains(&id), "{id} declined before: {declined:?}");
                        declined.push(id);
                    }
                    None => break,
                }
            }
        }

        /// Escalation climbs only upward, stays in the case's county, never
        /// returns a committee that declined (or the one it leaves), prefers
        /// the case's own township (or county) committee, and gives up only
        /// when no committee of a higher level is left.
        #[test]
        fn escalation_never_returns_a_committee_that_declined(
            cs in committees(),
            f in facts(),
            from in 1i64..45,
            declined in prop::collection::vec(1i64..45, 0..6),
        ) {
            let index = RoutingIndex::build(1, &cs, vec![]);
            let room = |c: &Committee| c.capacity > 0;
            let from_kind = cs.iter().find(|c| c.id == from).map_or(CommitteeKind::Village, |c| c.kind);
            let mut levels = Vec::new();
            let mut l = from_kind.next_level();
            while let Some(k) = l {
                levels.push(k);
                l = k.next_level();
            }
            let available = |k: CommitteeKind| -> Vec<&Committee> {
                cs.iter()
                    .filter(|c| c.kind == k && c.active && room(c) && c.id != from
                        && !declined.contains(&c.id)
                        && county(&c.region_code) == county(&f.region_code))
                    .collect()
            };
            let got = index.escalate_sync(&f, from, &declined, |_, cap| cap > 0);
            match got {
                None => {
                    for k in levels {
                        prop_assert!(available(k).is_empty(), "{k:?} had room");
                    }
                }
                Some(choice) => {
                    let id = choice.committee_id.unwrap();
                    prop_assert!(id != from && !declined.contains(&id));
                    let c = cs.iter().find(|c| c.id == id).unwrap();
                    let Via::Escalation { to } = choice.explanation.via else {
                        panic!("not an escalation");
                    };
                    prop_assert_eq!(c.kind, to);
                    let pos = levels.iter().position(|k| *k == to).unwrap();
                    for k in &levels[..pos] {
                        prop_assert!(available(*k).is_empty());
                    }
                    let home = match to {
                        CommitteeKind::Township => f.region_code.township(),
                        _ => Some(f.region_code.county()),
                    };
                    let at_home: Vec<_> = available(to)
                        .into_iter()
                        .filter(|c| Some(&c.region_code) == home.as_ref())
                        .collect();
                    let pool = if at_home.is_empty() { available(to) } else { at_home };
                    let best = pool.iter().map(|c| c.location.distance_km(&f.point)).fold(f64::INFINITY, f64::min);
                    prop_assert!((c.location.distance_km(&f.point) - best).abs() < 1e-6);
                }
            }
        }

        /// The index's rule matching agrees with `routing::matches`.
        #[test]
        fn a_single_rule_fires_exactly_when_it_matches_and_has_a_candidate(
            rules in rules(),
            f in facts(),
        ) {
            let c = Committee {
                id: 1,
                code: "C1".into(),
                name: "委员会1".into(),
                kind: CommitteeKind::Industry,
                specialties: vec![Category::Labor, Category::Family],
                region_code: RegionCode::parse("620722").unwrap(),
                location: f.point,
                address: String::new(),
                phone: String::new(),
                capacity: 1,
                active: true,
                illustrative: false,
            };
            for mut r in rules {
                r.enabled = true;
                r.target = RuleTarget::Committee { committee_id: 1 };
                let index = RoutingIndex::build(1, std::slice::from_ref(&c), vec![r.clone()]);
                let choice = index.decide_sync(&f, &[], |_, _| true);
                prop_assert_eq!(choice.rule_id == Some(r.id), matches(&r, &f));
            }
        }
    }

    /// A probe that answers from a set of full committees and records how
    /// many candidates each call asked about.
    struct Counting {
        full: Vec<CommitteeId>,
        asked: Vec<usize>,
    }

    impl jiefen::routing::CapacityProbe for Counting {
        type Error = std::convert::Infallible;
        fn rooms(
            &mut self,
            candidates: &[(CommitteeId, i64)],
        ) -> impl std::future::Future<Output = Result<Vec<bool>, Self::Error>> + Send {
            self.asked.push(candidates.len());
            let answers = candidates
                .iter()
                .map(|(id, _)| !self.full.contains(id))
                .collect();
            std::future::ready(Ok(answers))
        }
    }

    /// A town's filing fills the committees around it: the next case walks
    /// past 30 full ones. It is asked about them in a few growing groups,
    /// not one at a time, and still goes to the nearest with room, with the
    /// full ones listed nearest first.
    #[test]
    fn a_walk_past_full_committees_asks_in_growing_groups_and_logs_each_in_order() {
        let f = CaseFacts {
            category: Category::Neighbor,
            point: GeoPoint {
                lat: 38.5,
                lon: 100.5,
            },
            region_code: RegionCode::parse("620722100200").unwrap(),
            party_count: 1,
            at_risk: false,
        };
        let cs: Vec<Committee> = (1..=40)
            .map(|id| Committee {
                id,
                code: format!("C{id}"),
                name: format!("委员会{id}"),
                kind: CommitteeKind::Village,
                specialties: vec![],
                region_code: RegionCode::parse("620722100200").unwrap(),
                // Farther away the higher the id.
                location: GeoPoint {
                    lat: 38.5 + id as f64 * 0.001,
                    lon: 100.5,
                },
                address: String::new(),
                phone: String::new(),
                capacity: 5,
                active: true,
                illustrative: false,
            })
            .collect();
        let index = RoutingIndex::build(1, &cs, vec![]);
        let mut probe = Counting {
            full: (1..=30).collect(),
            asked: vec![],
        };
        let choice = futures::executor::block_on(index.decide_with(&f, &[], &mut probe)).unwrap();
        assert_eq!(choice.committee_id, Some(31));
        // 4, 8 and 16 are full; the fourth group would be 32 and holds the
        // 12 committees that are left.
        assert_eq!(probe.asked, vec![4, 8, 16, 12]);
        let skipped: Vec<_> = choice
            .explanation
            .skipped
            .iter()
            .map(|s| s.committee_id)
            .collect();
        assert_eq!(skipped, (1..=20).map(Some).collect::<Vec<_>>());
        assert!(choice
            .explanation
            .skipped
            .iter()
            .all(|s| s.reason == jiefen::routing::SkipReason::Full));
        assert_eq!(choice.explanation.skipped_more, 10);

        // With nothing full, one call for the first four, and the nearest.
        let mut probe = Counting {
            full: vec![],
            asked: vec![],
        };
        let choice = futures::executor::block_on(index.decide_with(&f, &[], &mut probe)).unwrap();
        assert_eq!(choice.committee_id, Some(1));
        assert_eq!(probe.asked, vec![4]);
        assert!(choice.explanation.skipped.is_empty());
    }
}
