//! Early warning and event webhooks wired into case filing: what a county
//! sees when a whole work site files about unpaid wages.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::clock::Clock;
use jiefen::clock::{ManualClock, SharedClock};
use jiefen::config::{PolicyConfig, Secret};
use jiefen::domain::{Category, GeoPoint, RegionCode};
use jiefen::i18n::Lang;
use jiefen::lifecycle::{Lifecycle, LocationSource, NewCase};
use jiefen::oversight::{clusters, AdminChat};
use jiefen::storage;
use std::sync::Arc;

const ADMIN_CHAT: i64 = -100_777;

on_both_backends!(five_wage_cases_at_one_site_raise_one_alert_and_queue_webhooks);

async fn five_wage_cases_at_one_site_raise_one_alert_and_queue_webhooks(db: &TestDb) {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 0)
        .await
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = ManualClock::new(start);
    let shared: SharedClock = Arc::new(clock.clone());
    let router = jiefen::routing::Router::load(&db.storage).await.unwrap();
    let lifecycle = Lifecycle::new(router, PolicyConfig::default(), shared, Some(ADMIN_CHAT));

    let mut tx = db.storage.begin().await.unwrap();
    storage::webhooks::create(
        &mut tx,
        &storage::webhooks::SubscriptionValues {
            name: "县社会治理平台".into(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: Secret::new("shared-secret"),
            event_types: vec![
                "case_filed".into(),
                "case_assigned".into(),
                "alert_raised".into(),
            ],
            personal_data: false,
            active: true,
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut admin_messages = Vec::new();
    for i in 0..5i64 {
        let mut tx = db.storage.begin().await.unwrap();
        let resident =
            storage::residents::record_consent(&mut tx, 5_000 + i, 5_000 + i, "zh-CN", 0)
                .await
                .unwrap();
        let filed = lifecycle
            .file(
                &mut tx,
                NewCase {
                    description: format!("工地欠薪，第 {i} 位工人"),
                    point: Some(GeoPoint {
                        lat: 38.605 + i as f64 * 0.001,
                        lon: 100.80,
                    }),
                    ..wage_case(resident.id)
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        admin_messages.extend(
            filed
                .notifications
                .into_iter()
                .filter(|m| m.chat_id == ADMIN_CHAT),
        );
        clock.advance(chrono::Duration::hours(3));
    }

    let mut conn = db.storage.acquire().await.unwrap();
    // Filing only queues early warning; the worker runs it after the commit.
    let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(alerts, 0, "nothing raised inside the filings");
    assert!(admin_messages.is_empty(), "{admin_messages:?}");
    let run = clusters::drain_queue(
        &db.storage,
        &clusters::ClusterSettings::default(),
        Some(AdminChat {
            chat_id: ADMIN_CHAT,
            lang: Lang::ZhCn,
            tz: chrono_tz::Asia::Shanghai,
        }),
        clock.now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(run.cases, 5);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM early_warning_queue")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(queued, 0, "every case handled once");
    let admin_messages: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE chat_id = $1")
            .bind(ADMIN_CHAT)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(alerts, 1, "one alert for the cluster, not one per case");
    let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_cases")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(members, 5);
    assert_eq!(
        admin_messages.len(),
        1,
        "the admin chat hears of it once: {admin_messages:?}"
    );

    let by_type: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, COUNT(*) FROM webhook_deliveries GROUP BY event_type ORDER BY event_type",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        by_type,
        vec![
            ("alert_raised".to_owned(), 1),
            ("case_assigned".to_owned(), 5),
            ("case_filed".to_owned(), 5)
        ]
    );
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM webhook_deliveries")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert!(
        payloads.iter().all(|p| !p.contains("工地欠薪")),
        "no personal data for a subscription without permission"
    );
}

on_both_backends!(case_numbers_of_one_county_do_not_make_filings_wait_on_postgresql);

fn wage_case(resident_id: i64) -> NewCase {
    NewCase {
        resident_id,
        language: Lang::ZhCn,
        category: Category::Labor,
        description: "工地欠薪".into(),
        other_party: "某建筑公司".into(),
        party_count: 2,
        point: Some(GeoPoint {
            lat: 38.605,
            lon: 100.80,
        }),
        location_source: LocationSource::Shared,
        address: String::new(),
        region_code: RegionCode::parse("620722101201").unwrap(),
        at_risk: false,
        contact_phone: None,
        attachments: vec![],
    }
}

/// On PostgreSQL a filing takes its county's next number in a statement of
/// its own: a second filing in the same county goes through while the
/// first one's transaction is still open, and a filing rolled back leaves
/// a gap. On SQLite (one writer) the number stays in the filing's
/// transaction, so a rollback leaves none.
async fn case_numbers_of_one_county_do_not_make_filings_wait_on_postgresql(db: &TestDb) {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 0)
        .await
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let shared: SharedClock = Arc::new(ManualClock::new(start));
    let router = jiefen::routing::Router::load(&db.storage).await.unwrap();
    let lifecycle = Lifecycle::new(router, PolicyConfig::default(), shared, None)
        .with_numbers_from(&db.storage);
    let mut tx = db.storage.begin().await.unwrap();
    let mut residents = Vec::new();
    for i in 0..3 {
        residents.push(
            storage::residents::record_consent(&mut tx, 6_000 + i, 6_000 + i, "zh-CN", 0)
                .await
                .unwrap()
                .id,
        );
    }
    tx.commit().await.unwrap();

    let mut rolled_back = db.storage.begin().await.unwrap();
    let first = lifecycle
        .file(&mut rolled_back, wage_case(residents[0]))
        .await
        .unwrap();
    assert_eq!(first.case.number.as_str(), "620722-2026-000001");
    // A filing in a transaction of its own, committed; its case number.
    let file_alone = |resident: i64| {
        let lifecycle = &lifecycle;
        async move {
            let mut tx = db.storage.begin().await.unwrap();
            let filed = lifecycle.file(&mut tx, wage_case(resident)).await.unwrap();
            tx.commit().await.unwrap();
            filed.case.number.as_str().to_owned()
        }
    };
    if db.backend() == storage::Backend::Postgres {
        // The first filing's transaction is still open.
        let second =
            tokio::time::timeout(std::time::Duration::from_secs(10), file_alone(residents[1]))
                .await
                .expect("a second filing of the county does not wait for the first");
        assert_eq!(second, "620722-2026-000002");
        rolled_back.rollback().await.unwrap();
        assert_eq!(file_alone(residents[2]).await, "620722-2026-000003");
    } else {
        rolled_back.rollback().await.unwrap();
        assert_eq!(file_alone(residents[1]).await, "620722-2026-000001");
    }
    let mut conn = db.storage.acquire().await.unwrap();
    let numbers: Vec<String> = sqlx::query_scalar("SELECT case_number FROM cases ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let expected: &[&str] = if db.backend() == storage::Backend::Postgres {
        &["620722-2026-000002", "620722-2026-000003"]
    } else {
        &["620722-2026-000001"]
    };
    assert_eq!(numbers, expected);
}
