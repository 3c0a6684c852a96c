//! Personal data is removed once the retention period has passed, and only
//! from cases that are finished.

use crate::on_both_backends;
use crate::support::TestDb;
use jiefen::clock::{Clock, ManualClock, SharedClock};
use jiefen::config::PolicyConfig;
use jiefen::domain::{Category, GeoPoint, Phone, RegionCode};
use jiefen::i18n::Lang;
use jiefen::lifecycle::{Lifecycle, LocationSource, NewCase};
use jiefen::storage;
use std::sync::Arc;

on_both_backends!(finished_cases_lose_personal_data_after_the_retention_period);

fn new_case(resident_id: i64, what: &str) -> NewCase {
    NewCase {
        resident_id,
        language: Lang::ZhCn,
        category: Category::Neighbor,
        description: what.to_owned(),
        other_party: "隔壁老李".into(),
        party_count: 2,
        point: Some(GeoPoint {
            lat: 38.605,
            lon: 100.80,
        }),
        location_source: LocationSource::Shared,
        address: "六坝村三社12号".into(),
        region_code: RegionCode::parse("620722101201").unwrap(),
        at_risk: false,
        contact_phone: Some(Phone::parse("13812345678").unwrap()),
        attachments: vec![],
    }
}

async fn finished_cases_lose_personal_data_after_the_retention_period(db: &TestDb) {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 0)
        .await
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = ManualClock::new(start);
    let shared: SharedClock = Arc::new(clock.clone());
    let router = jiefen::routing::Router::load(&db.storage).await.unwrap();
    let policy = PolicyConfig::default();
    let lifecycle = Lifecycle::new(router, policy.clone(), shared, None);

    let mut tx = db.storage.begin().await.unwrap();
    let a = storage::residents::record_consent(&mut tx, 61, 61, "zh-CN", 0)
        .await
        .unwrap();
    let b = storage::residents::record_consent(&mut tx, 62, 62, "zh-CN", 0)
        .await
        .unwrap();
    let withdrawn = lifecycle
        .file(&mut tx, new_case(a.id, "树挡光，已经和好了"))
        .await
        .unwrap();
    let open = lifecycle
        .file(&mut tx, new_case(b.id, "院墙越界"))
        .await
        .unwrap();
    lifecycle
        .withdraw(&mut tx, a.id, withdrawn.case.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Not yet: the period has not passed.
    clock.advance(chrono::Duration::days(policy.retention_days - 1));
    let r = jiefen::jobs::apply_retention(&db.storage, &policy, clock.now_ms())
        .await
        .unwrap();
    assert_eq!(r.cases, 0);

    // A day after the period: the withdrawn case is pseudonymised, once.
    clock.advance(chrono::Duration::days(2));
    let r = jiefen::jobs::apply_retention(&db.storage, &policy, clock.now_ms())
        .await
        .unwrap();
    assert_eq!((r.cases, r.residents), (1, 1));
    let again = jiefen::jobs::apply_retention(&db.storage, &policy, clock.now_ms())
        .await
        .unwrap();
    assert_eq!(again.cases, 0, "one pass a day");

    let mut conn = db.storage.acquire().await.unwrap();
    let gone = storage::cases::get(&mut conn, withdrawn.case.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.description, "");
    assert_eq!(gone.contact_phone, None);
    assert_eq!(
        gone.category,
        Category::Neighbor,
        "statistics keep the category"
    );
    let kept = storage::cases::get(&mut conn, open.case.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.description, "院墙越界",
        "an open case keeps everything"
    );
    assert_eq!(kept.contact_phone.as_deref(), Some("13812345678"));
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM residents WHERE id = $1")
        .bind(a.id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(phone, None);
}
