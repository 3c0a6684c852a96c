//! The storage layer on both backends: schema, constraints, round trips.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::domain::{CommitteeKind, GeoPoint, Region, RegionCode, RuleConditions, RuleTarget};
use jiefen::storage::{self, committees::CommitteeFields, rules::RuleFields, StorageError};

fn region(code: &str, name: &str) -> Region {
    let code = RegionCode::parse(code).unwrap();
    Region {
        parent_code: None,
        name: name.into(),
        centroid: Some(GeoPoint {
            lat: 38.43,
            lon: 100.82,
        }),
        population: Some(1000),
        illustrative: false,
        code,
    }
}

fn committee(code: &str, region: &str) -> CommitteeFields {
    CommitteeFields {
        code: code.into(),
        name: format!("{code} 调委会"),
        kind: CommitteeKind::Village,
        specialties: vec![],
        region_code: RegionCode::parse(region).unwrap(),
        location: GeoPoint {
            lat: 38.43,
            lon: 100.82,
        },
        address: "地址 <&>".into(),
        phone: "0936-4400000".into(),
        capacity: 10,
        active: true,
        illustrative: true,
    }
}

on_both_backends!(
    migrations_create_every_table_and_can_run_twice,
    a_taken_committee_code_is_a_conflict,
    a_committee_in_an_unknown_region_is_a_missing_reference,
    a_rule_round_trips_with_its_conditions_and_target,
    changes_to_committees_and_rules_bump_the_routing_version,
    regions_near_a_point_are_read_in_one_box,
    a_claim_of_given_replies_reads_those_rows_though_the_statistics_are_stale,
);

async fn migrations_create_every_table_and_can_run_twice(db: &TestDb) {
    db.storage
        .migrate()
        .await
        .expect("second migrate is a no-op");
    let mut c = db.storage.acquire().await.unwrap();
    let counts = storage::table_counts(&mut c).await.unwrap();
    assert!(counts.iter().all(|(_, n)| *n == 0), "{counts:?}");
    assert_eq!(storage::rules::routing_version(&mut c).await.unwrap(), 1);
}

async fn a_taken_committee_code_is_a_conflict(db: &TestDb) {
    let mut tx = db.storage.begin().await.unwrap();
    storage::regions::upsert(&mut tx, &region("620722", "民乐县"))
        .await
        .unwrap();
    storage::committees::insert(&mut tx, &committee("ML-1", "620722"), 1)
        .await
        .unwrap();
    let err = storage::committees::insert(&mut tx, &committee("ML-1", "620722"), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::Conflict(ref w) if w.contains("ML-1")),
        "{err:?}"
    );
}

async fn a_committee_in_an_unknown_region_is_a_missing_reference(db: &TestDb) {
    let mut tx = db.storage.begin().await.unwrap();
    let err = storage::committees::insert(&mut tx, &committee("ML-2", "620799"), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::MissingReference(_)), "{err:?}");
}

async fn a_rule_round_trips_with_its_conditions_and_target(db: &TestDb) {
    let mut tx = db.storage.begin().await.unwrap();
    storage::regions::upsert(&mut tx, &region("620722", "民乐县"))
        .await
        .unwrap();
    let cid = storage::committees::insert(&mut tx, &committee("ML-3", "620722"), 1)
        .await
        .unwrap();
    let fields = RuleFields {
        priority: 10,
        name: "劳动争议 → 劳动调委会".into(),
        enabled: true,
        conditions: RuleConditions {
            categories: vec![
                jiefen::domain::Category::Labor,
                jiefen::domain::Category::Debt,
            ],
            region_prefix: Some("620722".into()),
            min_parties: Some(3),
            at_risk: Some(false),
        },
        target: RuleTarget::Committee { committee_id: cid },
        accept_hours: Some(12),
        resolve_days: None,
    };
    let id = storage::rules::insert(&mut tx, &fields, 5).await.unwrap();
    let nearest = RuleFields {
        name: "其余 → 村".into(),
        priority: 20,
        conditions: RuleConditions::default(),
        target: RuleTarget::Nearest {
            kind: CommitteeKind::Industry,
            specialty: Some(jiefen::domain::Category::Labor),
            max_distance_km: Some(15.5),
            within_county: true,
        },
        ..fields.clone()
    };
    storage::rules::insert(&mut tx, &nearest, 5).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = db.storage.acquire().await.unwrap();
    let rules = storage::rules::list(&mut c).await.unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].id, id);
    assert_eq!(RuleFields::of(&rules[0]), fields);
    assert_eq!(RuleFields::of(&rules[1]), nearest);
}

async fn changes_to_committees_and_rules_bump_the_routing_version(db: &TestDb) {
    let mut tx = db.storage.begin().await.unwrap();
    storage::regions::upsert(&mut tx, &region("620722", "民乐县"))
        .await
        .unwrap();
    let before = storage::rules::routing_version(&mut tx).await.unwrap();
    let id = storage::committees::insert(&mut tx, &committee("ML-4", "620722"), 1)
        .await
        .unwrap();
    storage::committees::set_active(&mut tx, id, false, 2)
        .await
        .unwrap();
    let after = storage::rules::routing_version(&mut tx).await.unwrap();
    assert_eq!(after, before + 2);
    let got = storage::committees::get(&mut tx, id)
        .await
        .unwrap()
        .unwrap();
    assert!(!got.active);
    assert_eq!(got.address, "地址 <&>");
}

on_both_backends!(a_second_connection_pool_sees_what_the_first_committed);

async fn a_second_connection_pool_sees_what_the_first_committed(db: &TestDb) {
    let mut tx = db.storage.begin().await.unwrap();
    storage::regions::upsert(&mut tx, &region("620722", "民乐县"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let other = storage::Storage::connect(&db.url, &Default::default())
        .await
        .unwrap();
    assert_eq!(other.backend(), db.backend());
    let mut c = other.acquire().await.unwrap();
    let got = storage::regions::get(&mut c, "620722")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, "民乐县");
    assert_eq!(got.population, Some(1000));
    drop(c);
    other.close().await;
}

async fn regions_near_a_point_are_read_in_one_box(db: &TestDb) {
    let at = |code: &str, lat: f64, lon: f64| Region {
        centroid: Some(GeoPoint { lat, lon }),
        ..region(code, code)
    };
    let mut tx = db.storage.begin().await.unwrap();
    for r in [
        at("620722", 38.43, 100.82),
        // 20 km north, and 20 km east (longitude degrees are shorter here).
        at("620722101", 38.43 + 20.0 / 111.2, 100.82),
        at(
            "620722101201",
            38.43,
            100.82 + 20.0 / (111.2 * 38.43f64.to_radians().cos()),
        ),
        // 45 km south: outside even the box.
        at("620722102", 38.43 - 45.0 / 111.2, 100.82),
        // A region without a centroid is never placed.
        Region {
            centroid: None,
            ..region("620722103", "620722103")
        },
        // Provinces and cities are not places.
        at("620000", 38.43, 100.82),
    ] {
        storage::regions::upsert(&mut tx, &r).await.unwrap();
    }
    let p = GeoPoint {
        lat: 38.43,
        lon: 100.82,
    };
    let near = storage::regions::placed_near(&mut tx, p, 30.0)
        .await
        .unwrap();
    let codes: Vec<&str> = near.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["620722", "620722101", "620722101201"]);
    // Every one within the radius is in the box.
    for r in &near {
        assert!(r.centroid.unwrap().distance_km(&p) <= 30.0, "{}", r.code);
    }
    assert!(storage::regions::placed_near(&mut tx, p, 10.0)
        .await
        .unwrap()
        .iter()
        .all(|r| r.code.as_str() == "620722"));
    tx.rollback().await.unwrap();
}

/// The plan of the claim `of`, as the backend explains it.
async fn claim_plan(db: &TestDb, of: storage::outbox::ClaimOf) -> String {
    use sqlx::Row;
    use storage::outbox::ClaimOf;
    let sql = storage::outbox::claim_statement(of);
    let values = match of {
        ClaimOf::Ids(n) | ClaimOf::Chats(n) => n,
        ClaimOf::Due => 1,
    };
    let mut c = db.storage.acquire().await.unwrap();
    let (explain, column) = match db.backend() {
        storage::Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
        storage::Backend::Postgres => (format!("EXPLAIN {sql}"), "QUERY PLAN"),
    };
    let mut q = sqlx::query(&explain)
        .bind("instance")
        .bind(2_000_i64)
        .bind(1_000_i64);
    for i in 0..values {
        q = q.bind(i as i64 + 1);
    }
    let rows = q.fetch_all(&mut *c).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>(column).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn a_claim_of_given_replies_reads_those_rows_though_the_statistics_are_stale(db: &TestDb) {
    use storage::outbox::ClaimOf;
    // The claim over the due range reads the due range's index.
    let due = claim_plan(db, ClaimOf::Due).await;
    assert!(due.contains("outbox_due"), "claim of due rows:\n{due}");
    // Under load the outbox changes faster than the statistics: taken when
    // every reply was sent, they say "pending" is rare while thousands are.
    let rows = match db.backend() {
        storage::Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             SELECT i FROM n"
        }
        storage::Backend::Postgres => "SELECT generate_series(1, 3000) AS i",
    };
    let mut c = db.storage.acquire().await.unwrap();
    for statement in [
        format!(
            "INSERT INTO outbox (chat_id, method, payload, status, next_attempt_at, created_at)
             SELECT 7000 + i % 50, 'sendMessage', '{{}}', 'sent', 0, 0 FROM ({rows}) AS s"
        ),
        "ANALYZE outbox".to_owned(),
        "UPDATE outbox SET status = 'pending'".to_owned(),
    ] {
        sqlx::query(&statement).execute(&mut *c).await.unwrap();
    }
    drop(c);
    for (of, index) in [
        // By primary key (PostgreSQL's name, SQLite's words).
        (ClaimOf::Ids(3), ["outbox_pkey", "PRIMARY KEY"]),
        // Through an index on the chat.
        (ClaimOf::Chats(3), ["outbox_chat", "outbox_chat"]),
    ] {
        let plan = claim_plan(db, of).await;
        // How the claimed rows themselves (`outbox o`) are read.
        let read = plan
            .lines()
            .find(|l| l.contains(" on outbox o ") || l.contains(" o USING") || l.ends_with(" o"))
            .unwrap_or_else(|| panic!("no read of the claimed rows in:\n{plan}"));
        assert!(
            index.iter().any(|i| read.contains(i)),
            "{of:?} reads through {index:?}:\n{plan}"
        );
        assert!(!plan.contains("outbox_due"), "{of:?}:\n{plan}");
    }
}

/// On SQLite every write transaction runs on one connection, so it keeps
/// its page cache and prepared statements from one writer to the next
/// (SQLite drops a connection's cache whenever another has written). A
/// TEMP table lives on one connection only: a later transaction sees it
/// only on the same connection, while other tasks have used the pool
/// meanwhile.
#[tokio::test]
async fn sqlite_write_transactions_share_one_connection() {
    let db = TestDb::sqlite().await;
    let mut tx = db.storage.begin().await.unwrap();
    sqlx::query("CREATE TEMP TABLE writer_mark (x INTEGER)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Readers in between take the pool's other connections.
    let readers: Vec<_> = futures::future::join_all((0..4).map(|_| db.storage.acquire()))
        .await
        .into_iter()
        .map(|c| c.unwrap())
        .collect();
    drop(readers);
    for _ in 0..3 {
        let mut tx = db.storage.begin().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM temp.writer_mark")
            .fetch_one(&mut *tx)
            .await
            .expect("the writer's own TEMP table");
        assert_eq!(n, 0);
        tx.commit().await.unwrap();
    }
    // A reader's connection is another one: it has no such table.
    let mut c = db.storage.acquire().await.unwrap();
    assert!(sqlx::query("SELECT COUNT(*) FROM temp.writer_mark")
        .fetch_one(&mut *c)
        .await
        .is_err());
    drop(c);
    db.cleanup().await;
}
