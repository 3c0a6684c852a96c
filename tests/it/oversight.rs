//! Oversight on both backends: early-warning clusters over a generated
//! caseload, a monthly report checked against hand-computed figures, and
//! signed webhook deliveries to a local receiver that fails, recovers and
//! outlives a restart of the worker.

use crate::on_both_backends;
use crate::support::TestDb;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use chrono::{NaiveDate, TimeZone};
use jiefen::clock::ManualClock;
use jiefen::config::Secret;
use jiefen::domain::{CaseNumber, CaseStatus, Category, GeoPoint, RegionCode};
use jiefen::i18n::Lang;
use jiefen::outgoing::OutBody;
use jiefen::oversight::clusters::{self, ClusterSettings};
use jiefen::oversight::reports::{self, ReportKind, CSV_HEADER};
use jiefen::oversight::webhooks::{
    self, Deliverer, DelivererConfig, EventType, SubscriptionInput, WebhookEvent, WebhookUrl,
};
use jiefen::oversight::AdminChat;
use jiefen::storage::alerts::{self, AlertFilter, AlertKind, AlertShape};
use jiefen::storage::cases::{self, ActorKind, NewCaseRow, NewEvent};
use jiefen::storage::{self, Conn, Storage, StorageOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const ADMIN_CHAT: i64 = -100_999;
const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Local (Asia/Shanghai) date and time as ms.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    TZ.with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

/// The demo regions and committees, and one resident.
async fn setup(db: &TestDb) -> i64 {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 0)
        .await
        .unwrap();
    let mut tx = db.storage.begin().await.unwrap();
    let r = storage::residents::record_consent(&mut tx, 4242, 4242, "zh-CN", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    r.id
}

/// A new case, as the filing stores it: the row and its `filed` event.
#[allow(clippy::too_many_arguments)]
async fn file(
    conn: &mut Conn,
    resident: i64,
    seq: i64,
    category: Category,
    region_code: &str,
    point: GeoPoint,
    party_count: i64,
    at: i64,
) -> i64 {
    let region_code = region(region_code);
    let id = cases::insert(
        conn,
        &NewCaseRow {
            number: CaseNumber::new(&region_code, 2026, seq),
            resident_id: resident,
            language: "zh-CN".into(),
            category,
            description: format!("第{seq}件：工资三个月没发 <b>&</b>"),
            other_party: "某建筑公司".into(),
            party_count,
            point: Some(point),
            location_source: "shared".into(),
            address: "六坝村三社12号".into(),
            region_code,
            at_risk: false,
            contact_phone: Some("13812345678".into()),
            now: at,
        },
    )
    .await
    .unwrap();
    event(conn, id, "filed", None, CaseStatus::Submitted, at).await;
    id
}

async fn event(
    conn: &mut Conn,
    id: i64,
    kind: &str,
    from: Option<CaseStatus>,
    to: CaseStatus,
    at: i64,
) {
    cases::add_event(
        conn,
        &NewEvent {
            case_id: id,
            at,
            actor_kind: ActorKind::System,
            actor_id: String::new(),
            kind,
            from_status: from,
            to_status: Some(to),
            committee_id: None,
            reason: String::new(),
            details: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
}

async fn committee(conn: &mut Conn, code: &str) -> i64 {
    storage::committees::list_all(conn)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == code)
        .unwrap()
        .id
}

/// Moves a case from `from` to `to` at `at`, with its timeline event; an
/// assignment gets an accept deadline one day later.
async fn step(conn: &mut Conn, id: i64, from: CaseStatus, to: CaseStatus, at: i64) {
    let moved = if to == CaseStatus::Assigned {
        let c = committee(conn, "620722101-TWN").await;
        cases::set_assignment(conn, id, from, Some(c), None, Some(at + DAY), at)
            .await
            .unwrap()
            .is_some()
    } else {
        cases::transition(conn, id, from, to, at).await.unwrap()
    };
    assert!(moved, "case {id} {from} -> {to}");
    event(conn, id, to.code(), Some(from), to, at).await;
}

/// A point `dx_km` east and `dy_km` north of `p`.
fn offset(p: GeoPoint, dx_km: f64, dy_km: f64) -> GeoPoint {
    GeoPoint {
        lat: p.lat + dy_km / 111.195,
        lon: p.lon + dx_km / (111.195 * p.lat.to_radians().cos()),
    }
}

const LIUBA: GeoPoint = GeoPoint {
    lat: 38.605,
    lon: 100.80,
};

fn admin() -> Option<AdminChat> {
    Some(AdminChat {
        chat_id: ADMIN_CHAT,
        lang: Lang::ZhCn,
        tz: TZ,
    })
}

on_both_backends!(
    a_planted_cluster_raises_one_alert_with_exactly_its_cases_and_grows_without_duplicating,
    cases_outside_the_radius_window_or_category_group_do_not_join,
    a_case_with_many_parties_is_a_likely_mass_dispute,
    alerts_are_listed_shown_with_their_cases_and_closed,
    a_monthly_report_matches_hand_computed_figures,
    scheduled_reports_go_to_the_admin_chat_once_each,
    deliveries_are_signed_retried_after_failures_and_carry_personal_data_only_when_allowed,
    deliveries_survive_a_restart_of_the_worker,
    deliveries_are_given_up_after_the_retry_period_and_listed_as_failed,
    subscriptions_check_their_url_and_keep_their_secret_out_of_debug_output,
    the_admin_api_serves_reports_as_json_and_csv,
    the_admin_api_lists_shows_and_closes_alerts,
    the_admin_api_manages_webhooks_and_shows_the_secret_once,
);

async fn a_planted_cluster_raises_one_alert_with_exactly_its_cases_and_grows_without_duplicating(
    db: &TestDb,
) {
    let resident = setup(db).await;
    let settings = ClusterSettings::default();
    let t0 = local(2026, 11, 1, 9, 0);
    let mut conn = db.storage.acquire().await.unwrap();
    // An alert_raised subscriber, to see the event queued with the alert.
    webhooks::create_subscription(
        &mut conn,
        &SubscriptionInput {
            name: "county platform".into(),
            url: WebhookUrl::parse("https://gov.example.cn/hook").unwrap(),
            secret: None,
            event_types: vec![EventType::AlertRaised],
            personal_data: false,
            active: true,
        },
        t0,
    )
    .await
    .unwrap();
    drop(conn);

    // Background: 400 cases over the county, every category, 30 days, few
    // parties; seeded so the run is the same every time.
    let mut rng = StdRng::seed_from_u64(9);
    let mut seq = 0;
    for i in 0..400 {
        seq += 1;
        let at = t0 + i * (30 * DAY / 400);
        let category = Category::ALL[rng.gen_range(0..Category::ALL.len())];
        let p = GeoPoint {
            lat: rng.gen_range(38.20..38.75),
            lon: rng.gen_range(100.45..101.15),
        };
        let mut tx = db.storage.begin().await.unwrap();
        let id = file(
            &mut tx,
            resident,
            seq,
            category,
            "620722101201",
            p,
            rng.gen_range(1..4),
            at,
        )
        .await;
        let change = clusters::on_case_filed(&mut tx, id, &settings, at, admin())
            .await
            .unwrap();
        assert!(
            change.is_none(),
            "background case {seq} changed alerts: {change:?}"
        );
        tx.commit().await.unwrap();
    }

    // The planted cluster: five wage-arrears cases (labour and debt) within
    // 600 m of 六坝村 over three days, in the middle of the background.
    let start = t0 + 10 * DAY;
    let spots = [
        (0.0, 0.0),
        (0.3, 0.1),
        (-0.2, 0.4),
        (0.5, -0.3),
        (-0.4, -0.2),
    ];
    let mut planted = vec![];
    for (i, (dx, dy)) in spots.iter().enumerate() {
        seq += 1;
        let at = start + i as i64 * 16 * HOUR;
        let category = if i % 2 == 0 {
            Category::Labor
        } else {
            Category::Debt
        };
        let mut tx = db.storage.begin().await.unwrap();
        let id = file(
            &mut tx,
            resident,
            seq,
            category,
            "620722101201",
            offset(LIUBA, *dx, *dy),
            3,
            at,
        )
        .await;
        planted.push(id);
        let change = clusters::on_case_filed(&mut tx, id, &settings, at, admin())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        if i < 4 {
            assert!(change.is_none(), "alert raised after only {} cases", i + 1);
            continue;
        }
        let change = change.expect("the fifth case raises the alert");
        assert_eq!(change.raised.len(), 1);
        assert!(change.grown.is_empty());
        let alert = &change.raised[0];
        assert_eq!(alert.kind, AlertKind::Cluster);
        assert_eq!(alert.category_group, "labor+debt");
        assert_eq!(alert.case_count, 5);
        assert_eq!(alert.party_total, 15);
        assert_eq!(alert.first_case_at, start);
        assert_eq!(alert.last_case_at, at);
        assert!(alert.centre.distance_km(&LIUBA) < 0.2, "{:?}", alert.centre);
        assert!(
            alert.radius_km > 0.2 && alert.radius_km < 0.7,
            "{}",
            alert.radius_km
        );
        // One message for the admin chat, naming every planted case.
        assert_eq!(change.messages.len(), 1);
        assert_eq!(change.messages[0].chat_id, ADMIN_CHAT);
        let OutBody::Text { html, .. } = &change.messages[0].body else {
            panic!("not a text")
        };
        assert!(html.contains("5 件") && html.contains("六坝村"), "{html}");
        for s in 401..=405 {
            assert!(html.contains(&format!("620722-2026-{s:06}")), "{html}");
        }
    }

    let mut conn = db.storage.acquire().await.unwrap();
    let all = alerts::list(&mut conn, AlertFilter::All, None, None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "exactly one alert: {all:?}");
    let alert_id = all[0].id;
    let members: Vec<i64> = alerts::cases_of(&mut conn, alert_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.case_id)
        .collect();
    assert_eq!(members, planted);
    let queued = storage::webhooks::deliveries(&mut conn, 1, None, None, 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].event_type, "alert_raised");
    assert_eq!(queued[0].payload["alert"]["case_count"], 5);
    drop(conn);

    // A sixth case nearby joins the same alert: no second alert, no second
    // alert_raised event.
    seq += 1;
    let at = start + 4 * DAY;
    let mut tx = db.storage.begin().await.unwrap();
    let sixth = file(
        &mut tx,
        resident,
        seq,
        Category::Labor,
        "620722101201",
        offset(LIUBA, 0.1, 0.6),
        2,
        at,
    )
    .await;
    let change = clusters::on_case_filed(&mut tx, sixth, &settings, at, admin())
        .await
        .unwrap()
        .expect("the sixth case joins");
    tx.commit().await.unwrap();
    assert!(change.raised.is_empty());
    assert_eq!(change.grown.len(), 1);
    assert_eq!(change.grown[0].id, alert_id);
    assert_eq!(change.grown[0].case_count, 6);
    assert_eq!(change.grown[0].party_total, 17);
    assert_eq!(change.grown[0].last_case_at, at);
    let OutBody::Text { html, .. } = &change.messages[0].body else {
        panic!("not a text")
    };
    assert!(
        html.contains(&format!("620722-2026-{seq:06}")) && html.contains("6 件"),
        "{html}"
    );

    // Running detection again for a member changes nothing.
    let mut tx = db.storage.begin().await.unwrap();
    assert!(
        clusters::on_case_filed(&mut tx, sixth, &settings, at, admin())
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();

    let mut conn = db.storage.acquire().await.unwrap();
    assert_eq!(
        alerts::list(&mut conn, AlertFilter::All, None, None, 100)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        alerts::cases_of(&mut conn, alert_id).await.unwrap().len(),
        6
    );
    assert_eq!(
        storage::webhooks::deliveries(&mut conn, 1, None, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn cases_outside_the_radius_window_or_category_group_do_not_join(db: &TestDb) {
    let resident = setup(db).await;
    let settings = ClusterSettings::default();
    let t0 = local(2026, 11, 1, 9, 0);
    let mut seq = 0;
    let mut file_and_detect = async |db: &TestDb, category, point, at| {
        seq += 1;
        let mut tx = db.storage.begin().await.unwrap();
        let id = file(
            &mut tx,
            resident,
            seq,
            category,
            "620722101201",
            point,
            2,
            at,
        )
        .await;
        let change = clusters::on_case_filed(&mut tx, id, &settings, at, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (id, change)
    };
    // Four labour cases: one short of a cluster.
    for i in 0..4 {
        let (_, c) = file_and_detect(
            db,
            Category::Labor,
            offset(LIUBA, 0.1 * i as f64, 0.0),
            t0 + i * HOUR,
        )
        .await;
        assert!(c.is_none());
    }
    // Outside the radius (3 km away), the wrong group (family), and outside
    // the window (8 days after the first four): none completes the cluster.
    let (_, far) =
        file_and_detect(db, Category::Labor, offset(LIUBA, 3.0, 0.0), t0 + 5 * HOUR).await;
    assert!(far.is_none(), "a case 3 km away completed the cluster");
    let (_, family) = file_and_detect(db, Category::Family, LIUBA, t0 + 6 * HOUR).await;
    assert!(
        family.is_none(),
        "an unrelated category completed the cluster"
    );
    let (_, late) = file_and_detect(db, Category::Debt, LIUBA, t0 + 8 * DAY).await;
    assert!(
        late.is_none(),
        "a case outside the window completed the cluster"
    );
    // A related category within radius and window does complete it, with
    // exactly the five that qualify.
    let (fifth, ok) =
        file_and_detect(db, Category::Debt, offset(LIUBA, 0.0, 0.5), t0 + 2 * DAY).await;
    let ok = ok.expect("the related fifth case raises the alert");
    let alert = &ok.raised[0];
    assert_eq!(alert.case_count, 5);
    let mut conn = db.storage.acquire().await.unwrap();
    let members: Vec<i64> = alerts::cases_of(&mut conn, alert.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.case_id)
        .collect();
    // The first four cases filed are ids 1 to 4 in a fresh database.
    assert_eq!(members, vec![1, 2, 3, 4, fifth]);
    drop(conn);
    // Near the alert but 3 km from its centre: no join.
    let (_, far2) =
        file_and_detect(db, Category::Labor, offset(LIUBA, 0.0, 3.0), t0 + 2 * DAY).await;
    assert!(far2.is_none());
}

async fn a_case_with_many_parties_is_a_likely_mass_dispute(db: &TestDb) {
    let resident = setup(db).await;
    let settings = ClusterSettings::default();
    let at = local(2026, 11, 3, 10, 0);
    let mut tx = db.storage.begin().await.unwrap();
    // Twelve workers owed wages: labour with ≥ 10 parties.
    let wages = file(
        &mut tx,
        resident,
        1,
        Category::Labor,
        "620722100201",
        LIUBA,
        12,
        at,
    )
    .await;
    let change = clusters::on_case_filed(&mut tx, wages, &settings, at, admin())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.raised.len(), 1);
    assert_eq!(change.raised[0].kind, AlertKind::MassDispute);
    assert_eq!(change.raised[0].party_total, 12);
    let OutBody::Text { html, .. } = &change.messages[0].body else {
        panic!("not a text")
    };
    assert!(
        html.contains("12 人") && html.contains("620722-2026-000001"),
        "{html}"
    );
    // Twelve neighbours are not (below the general threshold of 20) …
    let neighbours = file(
        &mut tx,
        resident,
        2,
        Category::Neighbor,
        "620722100201",
        LIUBA,
        12,
        at,
    )
    .await;
    assert!(
        clusters::on_case_filed(&mut tx, neighbours, &settings, at, admin())
            .await
            .unwrap()
            .is_none()
    );
    // … but twenty-five are.
    let many = file(
        &mut tx,
        resident,
        3,
        Category::Neighbor,
        "620722100201",
        LIUBA,
        25,
        at,
    )
    .await;
    assert!(clusters::on_case_filed(&mut tx, many, &settings, at, None)
        .await
        .unwrap()
        .is_some());
    // Detection run twice for one case raises nothing more.
    assert!(clusters::on_case_filed(&mut tx, many, &settings, at, None)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();
    let mut conn = db.storage.acquire().await.unwrap();
    assert_eq!(
        alerts::list(&mut conn, AlertFilter::Open, None, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn alerts_are_listed_shown_with_their_cases_and_closed(db: &TestDb) {
    let resident = setup(db).await;
    let settings = ClusterSettings::default();
    let at = local(2026, 11, 3, 10, 0);
    let mut tx = db.storage.begin().await.unwrap();
    let a = file(
        &mut tx,
        resident,
        1,
        Category::Expropriation,
        "620722100201",
        LIUBA,
        30,
        at,
    )
    .await;
    clusters::on_case_filed(&mut tx, a, &settings, at, None)
        .await
        .unwrap();
    let b = file(
        &mut tx,
        resident,
        2,
        Category::Labor,
        "620722101201",
        LIUBA,
        15,
        at,
    )
    .await;
    clusters::on_case_filed(&mut tx, b, &settings, at, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut conn = db.storage.acquire().await.unwrap();
    let open = alerts::list(&mut conn, AlertFilter::Open, None, None, 10)
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    assert!(open[0].id > open[1].id, "newest first");
    let in_liuba = alerts::list(&mut conn, AlertFilter::Open, Some("620722101"), None, 10)
        .await
        .unwrap();
    assert_eq!(in_liuba.len(), 1);
    let shown = alerts::cases_of(&mut conn, in_liuba[0].id).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].number.as_str(), "620722-2026-000002");
    assert_eq!(shown[0].category, Category::Labor);

    assert!(alerts::close(
        &mut conn,
        in_liuba[0].id,
        "token:admin#1",
        "已约谈企业",
        at + DAY
    )
    .await
    .unwrap());
    assert!(!alerts::close(
        &mut conn,
        in_liuba[0].id,
        "token:admin#1",
        "again",
        at + DAY
    )
    .await
    .unwrap());
    let closed = alerts::list(&mut conn, AlertFilter::Closed, None, None, 10)
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].close_reason, "已约谈企业");
    assert_eq!(closed[0].closed_at, Some(at + DAY));
    assert!(!closed[0].open);
    assert_eq!(
        alerts::list(&mut conn, AlertFilter::Open, None, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Paging: ids below the cursor.
    let page = alerts::list(&mut conn, AlertFilter::All, None, Some(open[0].id), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, open[1].id);
}

/// The fixed dataset of the monthly report (November 2026, 民乐县); every
/// time is local Asia/Shanghai. Expected figures are worked out in
/// `a_monthly_report_matches_hand_computed_figures`.
async fn report_dataset(db: &TestDb) {
    use CaseStatus::*;
    let resident = setup(db).await;
    let hongshui = "620722100201"; // 洪水镇 单庄村
    let liuba = "620722101201"; // 六坝镇 六坝村
    let p = LIUBA;
    let d = |m: u32, day: u32| local(2026, m, day, 10, 0);
    let mut tx = db.storage.begin().await.unwrap();
    let c = &mut *tx;
    // October (the previous period).
    let p1 = file(c, resident, 1, Category::Labor, hongshui, p, 2, d(10, 10)).await;
    step(c, p1, Submitted, Assigned, d(10, 10)).await;
    step(c, p1, Assigned, Accepted, d(10, 11)).await;
    step(c, p1, Accepted, Resolved, d(10, 20)).await;
    let p2 = file(c, resident, 2, Category::Neighbor, liuba, p, 2, d(10, 15)).await;
    step(c, p2, Submitted, Assigned, d(10, 15)).await;
    step(c, p2, Assigned, Accepted, d(10, 16)).await;
    step(c, p2, Accepted, Failed, d(10, 25)).await;
    step(c, p2, Failed, Assigned, d(10, 26)).await;
    step(c, p2, Assigned, Accepted, d(10, 27)).await;
    step(c, p2, Accepted, Resolved, d(11, 5)).await;
    let p3 = file(c, resident, 3, Category::Family, hongshui, p, 2, d(10, 28)).await;
    step(c, p3, Submitted, Assigned, d(10, 28)).await;
    // November.
    let c1 = file(c, resident, 4, Category::Labor, hongshui, p, 2, d(11, 2)).await;
    step(c, c1, Submitted, Assigned, d(11, 2)).await;
    step(c, c1, Assigned, Accepted, d(11, 3)).await;
    step(c, c1, Accepted, Resolved, d(11, 10)).await;
    let c2 = file(c, resident, 5, Category::Labor, hongshui, p, 2, d(11, 3)).await;
    step(c, c2, Submitted, Assigned, d(11, 3)).await;
    step(c, c2, Assigned, Accepted, d(11, 4)).await;
    step(c, c2, Accepted, Failed, d(11, 12)).await;
    step(c, c2, Failed, Assigned, d(11, 13)).await;
    step(c, c2, Assigned, Accepted, d(11, 14)).await;
    step(c, c2, Accepted, Resolved, d(11, 20)).await;
    let c3 = file(c, resident, 6, Category::Labor, liuba, p, 2, d(11, 5)).await;
    step(c, c3, Submitted, Assigned, d(11, 5)).await;
    step(c, c3, Assigned, Accepted, d(11, 6)).await;
    step(c, c3, Accepted, Failed, d(11, 15)).await;
    let c4 = file(c, resident, 7, Category::Neighbor, liuba, p, 2, d(11, 8)).await;
    step(c, c4, Submitted, Assigned, d(11, 8)).await;
    step(c, c4, Assigned, Accepted, d(11, 9)).await;
    let c5 = file(c, resident, 8, Category::Debt, hongshui, p, 2, d(11, 20)).await;
    step(c, c5, Submitted, Assigned, d(11, 20)).await;
    step(c, c5, Assigned, Accepted, d(11, 21)).await;
    for (id, deadline) in [(c4, d(11, 20)), (c5, d(12, 21))] {
        // The resolve deadline the mediator side sets on acceptance.
        sqlx::query("UPDATE cases SET resolve_deadline = $1 WHERE id = $2")
            .bind(deadline)
            .bind(id)
            .execute(&mut *c)
            .await
            .unwrap();
    }
    let c6 = file(c, resident, 9, Category::Family, hongshui, p, 2, d(11, 25)).await;
    step(c, c6, Submitted, Withdrawn, d(11, 26)).await;
    // Late on the last local day of November (still November there, though
    // 15:30 UTC) …
    let late = local(2026, 11, 30, 23, 30);
    let c7 = file(c, resident, 10, Category::Labor, hongshui, p, 2, late).await;
    step(c, c7, Submitted, Assigned, late).await;
    // … and half an hour into December (still 30 November in UTC).
    let c8 = file(
        c,
        resident,
        11,
        Category::Labor,
        hongshui,
        p,
        2,
        local(2026, 12, 1, 0, 30),
    )
    .await;
    step(c, c8, Submitted, Assigned, local(2026, 12, 1, 0, 30)).await;
    // Another county: outside the scope.
    let other = file(c, resident, 12, Category::Labor, "620723", p, 2, d(11, 10)).await;
    step(c, other, Submitted, Assigned, d(11, 10)).await;
    // Alerts: one open through the end of November, one closed before it,
    // one raised after it.
    let shape = AlertShape {
        centre: p,
        radius_km: 0.5,
        case_count: 5,
        party_total: 10,
        first_case_at: d(11, 10),
        last_case_at: d(11, 14),
    };
    let open = alerts::insert(
        c,
        AlertKind::Cluster,
        "labor+debt",
        &region(hongshui),
        &shape,
        d(11, 15),
    )
    .await
    .unwrap();
    alerts::add_case(c, open, c1, d(11, 15)).await.unwrap();
    let closed = alerts::insert(
        c,
        AlertKind::Cluster,
        "labor+debt",
        &region(liuba),
        &shape,
        d(11, 15),
    )
    .await
    .unwrap();
    alerts::close(c, closed, "admin", "handled", d(11, 20))
        .await
        .unwrap();
    alerts::insert(
        c,
        AlertKind::MassDispute,
        "labor+debt",
        &region(hongshui),
        &shape,
        d(12, 2),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn a_monthly_report_matches_hand_computed_figures(db: &TestDb) {
    report_dataset(db).await;
    let mut conn = db.storage.acquire().await.unwrap();
    let county = region("620722");
    // Any day of November names the November report.
    let r = reports::build(
        &mut conn,
        ReportKind::Monthly,
        NaiveDate::from_ymd_opt(2026, 11, 17).unwrap(),
        Some(&county),
        TZ,
    )
    .await
    .unwrap();
    assert_eq!(r.period_start.to_string(), "2026-11-01");
    assert_eq!(r.period_last_day.to_string(), "2026-11-30");
    assert_eq!(r.previous_start.to_string(), "2026-10-01");
    assert_eq!(r.region_name.as_deref(), Some("民乐县"));

    // New in November: C1–C7 (C8 is 1 December local time; the other
    // county's case is out of scope).
    assert_eq!(r.totals.new_cases, 7);
    // Outcomes in November: P2 resolved (5th), C1 resolved, C2 failed then
    // resolved (counts once, resolved), C3 failed.
    assert_eq!(r.totals.resolved, 3);
    assert_eq!(r.totals.failed, 1);
    assert_eq!(r.totals.resolution_rate, Some(0.75));
    // Pending at 1 December 00:00: P3 and C7 assigned, C4 and C5 accepted.
    assert_eq!(r.totals.pending_at_end, 4);
    // Overdue: P3 (accept deadline 29 Oct), C4 (resolve deadline 20 Nov).
    assert_eq!(r.totals.overdue_at_end, 2);
    // October: P1–P3 new; P1 resolved, P2 failed; P2 (accepted) and P3
    // (assigned, deadline passed) pending at 1 November.
    assert_eq!(r.previous_totals.new_cases, 3);
    assert_eq!(r.previous_totals.resolved, 1);
    assert_eq!(r.previous_totals.failed, 1);
    assert_eq!(r.previous_totals.resolution_rate, Some(0.5));
    assert_eq!(r.previous_totals.pending_at_end, 2);
    assert_eq!(r.previous_totals.overdue_at_end, 1);
    // 7 ÷ 186,000 × 10,000 = 0.376…
    assert_eq!(r.population, Some(186_000));
    assert_eq!(r.cases_per_10k, Some(0.38));

    type CategoryLine = (Category, i64, i64, i64, Option<f64>, i64, i64, i64);
    let cat: Vec<CategoryLine> = r
        .by_category
        .iter()
        .map(|c| {
            let f = &c.figures;
            (
                c.category,
                f.new_cases,
                f.resolved,
                f.failed,
                f.resolution_rate,
                f.pending_at_end,
                f.overdue_at_end,
                c.previous_new_cases,
            )
        })
        .collect();
    assert_eq!(
        cat,
        vec![
            (Category::Family, 1, 0, 0, None, 1, 1, 1),
            (Category::Neighbor, 1, 1, 0, Some(1.0), 1, 1, 1),
            (Category::Labor, 4, 2, 1, Some(0.6667), 1, 0, 1),
            (Category::Debt, 1, 0, 0, None, 1, 0, 0),
        ]
    );
    let top: Vec<(Category, i64, i64, i64, Option<f64>)> = r
        .top_categories
        .iter()
        .map(|t| {
            (
                t.category,
                t.new_cases,
                t.previous_new_cases,
                t.change,
                t.change_pct,
            )
        })
        .collect();
    assert_eq!(
        top,
        vec![
            (Category::Labor, 4, 1, 3, Some(300.0)),
            (Category::Family, 1, 1, 0, Some(0.0)),
            (Category::Neighbor, 1, 1, 0, Some(0.0)),
            (Category::Debt, 1, 0, 1, None),
        ]
    );
    type AreaLine<'a> = (
        &'a str,
        &'a str,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<f64>,
    );
    let areas: Vec<AreaLine> = r
        .by_area
        .iter()
        .map(|a| {
            let f = &a.figures;
            (
                a.code.as_str(),
                a.name.as_str(),
                f.new_cases,
                f.resolved,
                f.failed,
                f.pending_at_end,
                f.overdue_at_end,
                a.previous_new_cases,
                a.open_alerts,
                a.cases_per_10k,
            )
        })
        .collect();
    assert_eq!(
        areas,
        vec![
            // 5 ÷ 62,000 × 10,000 = 0.806…
            ("620722100", "洪水镇", 5, 2, 0, 3, 1, 2, 1, Some(0.81)),
            // 2 ÷ 17,000 × 10,000 = 1.176…
            ("620722101", "六坝镇", 2, 1, 1, 1, 1, 1, 0, Some(1.18)),
        ]
    );
    assert_eq!(r.by_area[0].figures.resolution_rate, Some(1.0));
    assert_eq!(r.by_area[1].figures.resolution_rate, Some(0.5));
    assert_eq!(r.open_alerts.len(), 1);
    assert_eq!(r.open_alerts[0].region_code.as_str(), "620722100201");

    // JSON carries the same figures under documented names.
    let j = r.to_json();
    assert_eq!(j["kind"], "monthly");
    assert_eq!(j["period_start"], "2026-11-01");
    assert_eq!(j["timezone"], "Asia/Shanghai");
    assert_eq!(j["totals"]["new_cases"], 7);
    assert_eq!(j["totals"]["resolution_rate"], 0.75);
    assert_eq!(j["by_category"][2]["category"], "labor");
    assert_eq!(j["by_category"][2]["resolution_rate"], 0.6667);
    assert_eq!(j["by_area"][0]["cases_per_10k"], 0.81);
    assert_eq!(j["top_categories"][0]["change_pct"], 300.0);
    assert!(j["top_categories"][3]["change_pct"].is_null());
    assert_eq!(j["open_alerts"][0]["kind"], "cluster");

    // CSV: the header, then total, previous total, 4 categories, 2 areas.
    let csv = r.to_csv();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        CSV_HEADER.to_vec()
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 8);
    assert_eq!(
        rows[0],
        [
            "total",
            "620722",
            "民乐县",
            "7",
            "3",
            "1",
            "0.75",
            "4",
            "2",
            "3",
            "1",
            "186000",
            "0.38",
            "2026-11-01"
        ]
    );
    assert_eq!(
        rows[1],
        [
            "previous_total",
            "620722",
            "民乐县",
            "3",
            "1",
            "1",
            "0.5",
            "2",
            "1",
            "",
            "",
            "",
            "",
            "2026-11-01"
        ]
    );
    assert_eq!(
        rows[2][..9],
        ["category", "family", "", "1", "0", "0", "", "1", "1"]
    );
    assert_eq!(
        rows[7],
        [
            "area",
            "620722101",
            "六坝镇",
            "2",
            "1",
            "1",
            "0.5",
            "1",
            "1",
            "1",
            "0",
            "17000",
            "1.18",
            "2026-11-01"
        ]
    );

    // The chat rendering, in Chinese and English.
    let zh = r.render(Lang::ZhCn);
    assert!(
        zh.contains("月分析研判")
            && zh.contains("2026-11-01 – 2026-11-30")
            && zh.contains("民乐县"),
        "{zh}"
    );
    assert!(
        zh.contains("新收 7 件") && zh.contains("化解率 75.0%") && zh.contains("超期 2 件"),
        "{zh}"
    );
    assert!(
        zh.contains("比上期多 3 件") && zh.contains("洪水镇"),
        "{zh}"
    );
    let en = r.render(Lang::En);
    assert!(
        en.contains("Resolution rate: 75.0%") && en.contains("Open alerts at period end: 1"),
        "{en}"
    );

    // A township scope sees only its own cases.
    let t = reports::build(
        &mut conn,
        ReportKind::Monthly,
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        Some(&region("620722101")),
        TZ,
    )
    .await
    .unwrap();
    assert_eq!(
        (t.totals.new_cases, t.totals.resolved, t.totals.failed),
        (2, 1, 1)
    );
    assert_eq!(t.population, Some(17_000));

    // A daily report: 20 November saw C5 filed and C2 resolved.
    let day = reports::build(
        &mut conn,
        ReportKind::Daily,
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        Some(&county),
        TZ,
    )
    .await
    .unwrap();
    assert_eq!(
        (day.totals.new_cases, day.totals.resolved, day.totals.failed),
        (1, 1, 0)
    );
    assert_eq!(day.previous_start.to_string(), "2026-11-19");
}

async fn scheduled_reports_go_to_the_admin_chat_once_each(db: &TestDb) {
    report_dataset(db).await;
    let admin = AdminChat {
        chat_id: ADMIN_CHAT,
        lang: Lang::ZhCn,
        tz: TZ,
    };
    let schedule = reports::ReportSchedule::default();
    // 1 December, 06:00: too early.
    let mut tx = db.storage.begin().await.unwrap();
    let early = reports::send_due_reports(&mut tx, local(2026, 12, 1, 6, 0), schedule, admin, None)
        .await
        .unwrap();
    assert!(early.is_empty());
    // 08:05: the daily (30 Nov), weekly (23–29 Nov) and monthly (November) reports.
    let sent = reports::send_due_reports(&mut tx, local(2026, 12, 1, 8, 5), schedule, admin, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(sent.len(), 3);
    let texts: Vec<String> = sent
        .iter()
        .map(|m| match &m.body {
            OutBody::Text { html, .. } => html.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        texts[0].contains("日报告") && texts[0].contains("2026-11-30"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("周专报") && texts[1].contains("2026-11-23 – 2026-11-29"),
        "{}",
        texts[1]
    );
    // Everything: 民乐县's seven and the other county's one.
    assert!(
        texts[2].contains("月分析研判") && texts[2].contains("新收 8 件"),
        "{}",
        texts[2]
    );
    assert!(sent.iter().all(|m| m.chat_id == ADMIN_CHAT));
    // Another sweep, another instance, later that day: nothing more.
    let mut tx = db.storage.begin().await.unwrap();
    let again =
        reports::send_due_reports(&mut tx, local(2026, 12, 1, 15, 0), schedule, admin, None)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(again.is_empty());
    // The next morning: only the new daily report.
    let mut tx = db.storage.begin().await.unwrap();
    let next = reports::send_due_reports(&mut tx, local(2026, 12, 2, 8, 0), schedule, admin, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next.len(), 1);
}

/// What the local receiver saw.
#[derive(Default)]
struct Received {
    /// Requests answered 2xx: (headers, body).
    ok: Vec<(HeaderMap, Bytes)>,
    /// Requests answered 500.
    refused: usize,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Received>>,
    fail_next: Arc<AtomicUsize>,
    delivered: Arc<tokio::sync::Notify>,
}

/// An axum receiver on 127.0.0.1:0 that answers 500 to the next
/// `fail_next` requests, then 204.
async fn receiver(fail_first: usize) -> (Receiver, String) {
    let r = Receiver {
        seen: Arc::default(),
        fail_next: Arc::new(AtomicUsize::new(fail_first)),
        delivered: Arc::default(),
    };
    let state = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let failing = state
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let mut seen = state.seen.lock().unwrap();
                if failing {
                    seen.refused += 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    seen.ok.push((headers, body));
                    state.delivered.notify_one();
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    // Bound before serving: no request can race the listener.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, format!("http://127.0.0.1:{}/hook", addr.port()))
}

async fn subscribe(
    db: &TestDb,
    url: &str,
    events: Vec<EventType>,
    personal: bool,
    secret: &str,
) -> i64 {
    let mut tx = db.storage.begin().await.unwrap();
    let (id, _) = webhooks::create_subscription(
        &mut tx,
        &SubscriptionInput {
            name: format!("receiver personal={personal}"),
            url: WebhookUrl::parse(url).unwrap(),
            secret: Some(Secret::new(secret)),
            event_types: events,
            personal_data: personal,
            active: true,
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

fn deliverer(storage: &Storage, clock: &ManualClock) -> Deliverer {
    Deliverer::new(
        storage.clone(),
        Arc::new(clock.clone()),
        DelivererConfig {
            base_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(600),
            request_timeout: Duration::from_secs(5),
            lease: Duration::from_secs(60),
            batch: 16,
            poll_interval: Duration::from_millis(50),
        },
    )
    .unwrap()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn deliveries_are_signed_retried_after_failures_and_carry_personal_data_only_when_allowed(
    db: &TestDb,
) {
    let resident = setup(db).await;
    let (rx, url) = receiver(2).await;
    const PUBLIC_SECRET: &str = "court-platform-secret-1";
    const PERSONAL_SECRET: &str = "county-governance-secret-2";
    let public = subscribe(db, &url, vec![EventType::CaseFiled], false, PUBLIC_SECRET).await;
    let personal = subscribe(
        db,
        &url,
        vec![EventType::CaseFiled, EventType::CaseResolved],
        true,
        PERSONAL_SECRET,
    )
    .await;
    // Not subscribed to case_filed: gets nothing.
    subscribe(
        db,
        &url,
        vec![EventType::CaseClosed],
        true,
        "another-secret-xyz",
    )
    .await;

    let t0 = local(2026, 11, 21, 9, 0);
    let clock = ManualClock::new(chrono::DateTime::from_timestamp_millis(t0).unwrap());
    let mut tx = db.storage.begin().await.unwrap();
    let case = file(
        &mut tx,
        resident,
        1,
        Category::Labor,
        "620722101201",
        LIUBA,
        3,
        t0,
    )
    .await;
    let queued = webhooks::emit(&mut tx, WebhookEvent::Case(EventType::CaseFiled, case), t0)
        .await
        .unwrap();
    assert_eq!(queued, 2);
    tx.commit().await.unwrap();
    // An event whose transaction rolls back is never queued.
    let mut tx = db.storage.begin().await.unwrap();
    webhooks::emit(&mut tx, WebhookEvent::Case(EventType::CaseFiled, case), t0)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let worker = deliverer(&db.storage, &clock);
    // First round: the receiver answers 500 to both.
    assert_eq!(worker.deliver_due(t0).await.unwrap(), 0);
    assert_eq!(rx.seen.lock().unwrap().refused, 2);
    let mut conn = db.storage.acquire().await.unwrap();
    let d = storage::webhooks::deliveries(&mut conn, public, None, None, 10)
        .await
        .unwrap();
    assert_eq!(
        (d[0].status.as_str(), d[0].attempts, d[0].last_http_status),
        ("pending", 1, Some(500))
    );
    assert_eq!(d[0].next_attempt_at, t0 + 30_000);
    drop(conn);
    // Not due again before the backoff: no request at all.
    assert_eq!(worker.deliver_due(t0 + 10_000).await.unwrap(), 0);
    assert_eq!(rx.seen.lock().unwrap().refused, 2);
    assert!(rx.seen.lock().unwrap().ok.is_empty());
    // After it: both delivered.
    assert_eq!(worker.deliver_due(t0 + 31_000).await.unwrap(), 2);
    assert_eq!(
        worker.deliver_due(t0 + 3_600_000).await.unwrap(),
        0,
        "delivered twice"
    );

    let ok = rx.seen.lock().unwrap().ok.clone();
    assert_eq!(ok.len(), 2);
    let mut by_secret = std::collections::BTreeMap::new();
    for (h, body) in &ok {
        let sig = header(h, "x-jiefen-signature");
        let secret = [PUBLIC_SECRET, PERSONAL_SECRET]
            .into_iter()
            .find(|s| webhooks::verify_signature(s, body, sig))
            .unwrap_or_else(|| panic!("signature {sig} matches no secret"));
        // Recomputed by hand, independently of the library's helper.
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        assert_eq!(
            sig,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            header(h, "x-jiefen-delivery"),
            json["delivery_id"].as_str().unwrap()
        );
        assert_eq!(header(h, "x-jiefen-event"), "case_filed");
        assert_eq!(header(h, "content-type"), "application/json");
        assert_eq!(json["event"], "case_filed");
        assert_eq!(json["case"]["number"], "620722-2026-000001");
        assert_eq!(json["case"]["category"], "labor");
        assert_eq!(json["case"]["status"], "submitted");
        assert_eq!(json["case"]["party_count"], 3);
        assert!(json["occurred_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-21T01:00:00"));
        by_secret.insert(secret, json);
    }
    let public_json = &by_secret[PUBLIC_SECRET];
    let text = public_json.to_string();
    for personal_bit in [
        "工资",
        "13812345678",
        "某建筑公司",
        "六坝村三社",
        "\"location\"",
    ] {
        assert!(!text.contains(personal_bit), "{personal_bit} in {text}");
    }
    assert_eq!(public_json["personal_data"], false);
    let personal_json = &by_secret[PERSONAL_SECRET];
    assert_eq!(personal_json["personal_data"], true);
    assert_eq!(
        personal_json["case"]["description"],
        "第1件：工资三个月没发 <b>&</b>"
    );
    assert_eq!(personal_json["case"]["contact_phone"], "13812345678");
    assert_eq!(personal_json["case"]["other_party"], "某建筑公司");

    let mut conn = db.storage.acquire().await.unwrap();
    for sub in [public, personal] {
        let d = storage::webhooks::deliveries(&mut conn, sub, None, None, 10)
            .await
            .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].status.as_str(), d[0].attempts, d[0].delivered_at),
            ("delivered", 2, Some(t0 + 31_000))
        );
    }
}

async fn deliveries_survive_a_restart_of_the_worker(db: &TestDb) {
    let resident = setup(db).await;
    let (rx, url) = receiver(usize::MAX).await;
    const SECRET: &str = "restart-test-secret-0001";
    subscribe(
        db,
        &url,
        vec![EventType::CaseFiled, EventType::CaseAccepted],
        false,
        SECRET,
    )
    .await;
    let t0 = local(2026, 11, 21, 9, 0);
    let clock = ManualClock::new(chrono::DateTime::from_timestamp_millis(t0).unwrap());
    let mut tx = db.storage.begin().await.unwrap();
    for seq in 1..=3 {
        let case = file(
            &mut tx,
            resident,
            seq,
            Category::Debt,
            "620722101201",
            LIUBA,
            2,
            t0,
        )
        .await;
        webhooks::emit(&mut tx, WebhookEvent::Case(EventType::CaseFiled, case), t0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    // The receiver is down: the first worker fails every delivery …
    let first = deliverer(&db.storage, &clock);
    assert_eq!(first.deliver_due(t0).await.unwrap(), 0);
    assert_eq!(rx.seen.lock().unwrap().refused, 3);
    // … then dies in the middle of its next round: rows leased, never reported.
    let mut tx = db.storage.begin().await.unwrap();
    let leased = storage::webhooks::claim_due(
        &mut tx,
        db.storage.backend(),
        "dead-worker",
        t0 + 31_000,
        t0 + 91_000,
        16,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(leased.len(), 3);
    drop(first);

    // A restarted process: a new pool on the same database, a new worker;
    // the receiver is back.
    rx.fail_next.store(0, Ordering::SeqCst);
    let storage = Storage::connect(&db.url, &StorageOptions::default())
        .await
        .unwrap();
    let second = deliverer(&storage, &clock);
    // The dead worker's lease still holds …
    assert_eq!(second.deliver_due(t0 + 60_000).await.unwrap(), 0);
    // … and once it runs out, everything arrives.
    assert_eq!(second.deliver_due(t0 + 92_000).await.unwrap(), 3);
    let ok = rx.seen.lock().unwrap().ok.clone();
    let mut ids: Vec<String> = ok
        .iter()
        .map(|(h, body)| {
            assert!(webhooks::verify_signature(
                SECRET,
                body,
                header(h, "x-jiefen-signature")
            ));
            header(h, "x-jiefen-delivery").to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);

    // The worker's own loop also delivers, and stops on shutdown.
    let mut tx = storage.begin().await.unwrap();
    webhooks::emit(
        &mut tx,
        WebhookEvent::Case(EventType::CaseAccepted, 1),
        t0 + 92_000,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    clock.set(chrono::DateTime::from_timestamp_millis(t0 + 93_000).unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(second.clone().run(shutdown.clone()));
    // Woken by the receiver itself (a permit left by earlier deliveries is
    // consumed by the loop's first turn if the count is not there yet).
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while rx.seen.lock().unwrap().ok.len() < 4 {
            rx.delivered.notified().await;
        }
    })
    .await;
    shutdown.cancel();
    task.await.unwrap();
    assert!(
        waited.is_ok(),
        "the run loop did not deliver the queued event"
    );
    assert_eq!(rx.seen.lock().unwrap().ok.len(), 4);
    storage.close().await;
}

async fn deliveries_are_given_up_after_the_retry_period_and_listed_as_failed(db: &TestDb) {
    let resident = setup(db).await;
    let (rx, url) = receiver(usize::MAX).await;
    let sub = subscribe(
        db,
        &url,
        vec![EventType::CaseFiled],
        false,
        "give-up-test-secret-01",
    )
    .await;
    let t0 = local(2026, 11, 21, 9, 0);
    let clock = ManualClock::new(chrono::DateTime::from_timestamp_millis(t0).unwrap());
    let mut tx = db.storage.begin().await.unwrap();
    let case = file(
        &mut tx,
        resident,
        1,
        Category::Debt,
        "620722101201",
        LIUBA,
        2,
        t0,
    )
    .await;
    webhooks::emit_with_retry_period(
        &mut tx,
        WebhookEvent::Case(EventType::CaseFiled, case),
        t0,
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let worker = deliverer(&db.storage, &clock);
    assert_eq!(worker.deliver_due(t0).await.unwrap(), 0);
    // Retries never go past the end of the retry period.
    assert_eq!(worker.deliver_due(t0 + 31_000).await.unwrap(), 0);
    let mut conn = db.storage.acquire().await.unwrap();
    let d = storage::webhooks::deliveries(&mut conn, sub, None, None, 10)
        .await
        .unwrap();
    assert_eq!(d[0].status, "pending");
    assert!(d[0].next_attempt_at <= t0 + 3_600_000);
    drop(conn);
    assert_eq!(worker.deliver_due(t0 + 3_600_000).await.unwrap(), 0);
    assert_eq!(rx.seen.lock().unwrap().refused, 3);
    let mut conn = db.storage.acquire().await.unwrap();
    let failed = storage::webhooks::failed(&mut conn, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].status.as_str(), failed[0].attempts),
        ("failed", 3)
    );
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("receiver answered 500 Internal Server Error")
    );
    drop(conn);
    // A failed delivery is not tried again.
    assert_eq!(worker.deliver_due(t0 + 10 * 3_600_000).await.unwrap(), 0);
    assert_eq!(rx.seen.lock().unwrap().refused, 3);
}

async fn subscriptions_check_their_url_and_keep_their_secret_out_of_debug_output(db: &TestDb) {
    let resident = setup(db).await;
    assert!(WebhookUrl::parse("http://court.example.cn/hook").is_err());
    let mut tx = db.storage.begin().await.unwrap();
    let input = SubscriptionInput {
        name: "法院调解平台".into(),
        url: WebhookUrl::parse("https://court.example.cn/hook").unwrap(),
        secret: None,
        event_types: vec![
            EventType::CaseResolved,
            EventType::CaseResolved,
            EventType::CaseFailed,
        ],
        personal_data: false,
        active: true,
    };
    let (id, secret) = webhooks::create_subscription(&mut tx, &input, 0)
        .await
        .unwrap();
    assert!(secret.expose().len() >= 32);
    let stored = storage::webhooks::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(
        stored.secret.expose(),
        secret.expose(),
        "kept usable for signing"
    );
    assert_eq!(stored.event_types, ["case_resolved", "case_failed"]);
    let debug = format!("{stored:?}");
    assert!(!debug.contains(secret.expose()), "{debug}");
    let masked = stored.masked_secret();
    assert!(
        masked.ends_with('…') && masked.chars().count() == 5,
        "{masked}"
    );
    // Replacing without a secret keeps the old one; events must not be empty.
    let mut changed = input.clone();
    changed.personal_data = true;
    webhooks::update_subscription(&mut tx, id, &changed, 5)
        .await
        .unwrap();
    let stored = storage::webhooks::get(&mut tx, id).await.unwrap().unwrap();
    assert!(stored.personal_data);
    assert_eq!(stored.secret.expose(), secret.expose());
    changed.event_types.clear();
    assert!(webhooks::update_subscription(&mut tx, id, &changed, 6)
        .await
        .is_err());
    let mut short = input.clone();
    short.secret = Some(Secret::new("short"));
    assert!(webhooks::create_subscription(&mut tx, &short, 0)
        .await
        .is_err());
    // Deleting hides it and cancels what was pending.
    let case = file(
        &mut tx,
        resident,
        1,
        Category::Debt,
        "620722101201",
        LIUBA,
        2,
        10,
    )
    .await;
    webhooks::emit(
        &mut tx,
        WebhookEvent::Case(EventType::CaseResolved, case),
        10,
    )
    .await
    .unwrap();
    assert!(storage::webhooks::delete(&mut tx, id, 20).await.unwrap());
    assert!(storage::webhooks::get(&mut tx, id).await.unwrap().is_none());
    assert!(storage::webhooks::list(&mut tx).await.unwrap().is_empty());
    let d = storage::webhooks::deliveries(&mut tx, id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(d[0].status, "cancelled");
    tx.commit().await.unwrap();
}

/// The admin API on a loopback port with an admin and a viewer token.
async fn admin_api(db: &TestDb) -> (String, String, String) {
    use jiefen::admin::{self, AdminState};
    use jiefen::secrets::{create_token, Role};
    let clock = ManualClock::new(
        chrono::DateTime::from_timestamp_millis(local(2026, 12, 3, 9, 0)).unwrap(),
    );
    let router = jiefen::routing::Router::load(&db.storage).await.unwrap();
    let state = AdminState::new(
        db.storage.clone(),
        router,
        Arc::new(clock),
        jiefen::config::PolicyConfig::default(),
        None,
        jiefen::metrics::Metrics::new(),
    );
    let (_, admin_token) = create_token(&db.storage, "admin", Role::Admin, 0, "cli")
        .await
        .unwrap();
    let (_, viewer_token) = create_token(&db.storage, "viewer", Role::Viewer, 0, "cli")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, admin::router(state)).await;
    });
    (format!("http://{addr}"), admin_token, viewer_token)
}

async fn call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, String, reqwest::header::HeaderMap) {
    let mut rb = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.text().await.unwrap(), headers)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn the_admin_api_serves_reports_as_json_and_csv(db: &TestDb) {
    use reqwest::Method;
    report_dataset(db).await;
    let (base, _, viewer) = admin_api(db).await;
    let (status, text, _) = call(
        Method::GET,
        &format!("{base}/api/v1/reports/monthly?date=2026-11-17&region=620722"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let j = json(&text);
    assert_eq!(j["totals"]["new_cases"], 7);
    assert_eq!(j["totals"]["resolution_rate"], 0.75);
    assert_eq!(j["by_area"][1]["name"], "六坝镇");
    let (status, text, headers) = call(
        Method::GET,
        &format!("{base}/api/v1/reports/monthly?date=2026-11-17&region=620722&format=csv"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("jiefen-monthly-2026-11-01-620722.csv"));
    assert_eq!(text.lines().count(), 9);
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("total,620722,民乐县,7,3,1,0.75,4,2,"),
        "{text}"
    );
    // Without a date: the period running today (3 December), so far.
    let (status, text, _) = call(
        Method::GET,
        &format!("{base}/api/v1/reports/weekly"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["period_start"], "2026-11-30");
    for (path, code, field) in [
        ("/api/v1/reports/yearly", 404, None),
        ("/api/v1/reports/daily?date=2026-13-01", 400, Some("date")),
        (
            "/api/v1/reports/daily?region=620722101201",
            400,
            Some("region"),
        ),
        ("/api/v1/reports/daily?format=xml", 400, Some("format")),
        ("/api/v1/reports/daily?colour=red", 400, None),
    ] {
        let (status, text, _) = call(Method::GET, &format!("{base}{path}"), &viewer, None).await;
        assert_eq!(status, code, "{path}: {text}");
        let j = json(&text);
        assert!(j["error"].is_string(), "{text}");
        if let Some(f) = field {
            assert_eq!(j["field"], f, "{path}: {text}");
        }
    }
}

async fn the_admin_api_lists_shows_and_closes_alerts(db: &TestDb) {
    use reqwest::Method;
    let resident = setup(db).await;
    let at = local(2026, 11, 3, 10, 0);
    let mut tx = db.storage.begin().await.unwrap();
    for seq in 1..=5 {
        let id = file(
            &mut tx,
            resident,
            seq,
            Category::Expropriation,
            "620722101201",
            offset(LIUBA, 0.1 * seq as f64, 0.0),
            3,
            at + seq * HOUR,
        )
        .await;
        clusters::on_case_filed(&mut tx, id, &ClusterSettings::default(), at, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (base, admin_token, viewer) = admin_api(db).await;
    let (status, text, _) =
        call(Method::GET, &format!("{base}/api/v1/alerts"), &viewer, None).await;
    assert_eq!(status, 200, "{text}");
    let page = json(&text);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let alert = &page["items"][0];
    assert_eq!(alert["kind"], "cluster");
    assert_eq!(alert["status"], "open");
    assert_eq!(
        alert["categories"],
        serde_json::json!(["housing", "land", "expropriation"])
    );
    assert_eq!(alert["case_count"], 5);
    assert_eq!(alert["first_case_at"], "2026-11-03T03:00:00Z");
    assert_eq!(alert["last_case_at"], "2026-11-03T07:00:00Z");
    let id = alert["id"].as_i64().unwrap();
    let (status, text, _) = call(
        Method::GET,
        &format!("{base}/api/v1/alerts/{id}"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let detail = json(&text);
    let numbers: Vec<&str> = detail["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            "620722-2026-000001",
            "620722-2026-000002",
            "620722-2026-000003",
            "620722-2026-000004",
            "620722-2026-000005"
        ]
    );
    assert!(
        !text.contains("13812345678") && !text.contains("工资"),
        "{text}"
    );
    // Viewers may not close; admins may, once, with a reason; it is audited.
    let close = format!("{base}/api/v1/alerts/{id}/close");
    let (status, _, _) = call(
        Method::POST,
        &close,
        &viewer,
        Some(serde_json::json!({"reason": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, text, _) = call(
        Method::POST,
        &close,
        &admin_token,
        Some(serde_json::json!({"reason": " "})),
    )
    .await;
    assert_eq!(
        (status, json(&text)["field"].as_str()),
        (422, Some("reason"))
    );
    let (status, text, _) = call(
        Method::POST,
        &close,
        &admin_token,
        Some(serde_json::json!({"reason": "已召开协调会"})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["alert"]["status"], "closed");
    assert_eq!(json(&text)["alert"]["close_reason"], "已召开协调会");
    let (status, _, _) = call(
        Method::POST,
        &close,
        &admin_token,
        Some(serde_json::json!({"reason": "again"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _, _) = call(
        Method::GET,
        &format!("{base}/api/v1/alerts/999999"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, text, _) = call(Method::GET, &format!("{base}/api/v1/alerts"), &viewer, None).await;
    assert!(json(&text)["items"].as_array().unwrap().is_empty());
    let (_, text, _) = call(
        Method::GET,
        &format!("{base}/api/v1/alerts?status=closed"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(json(&text)["items"].as_array().unwrap().len(), 1);
    let mut conn = db.storage.acquire().await.unwrap();
    let audit = storage::audit::list(&mut conn, None, 10).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "alert.close" && e.object_id == id.to_string()));
}

async fn the_admin_api_manages_webhooks_and_shows_the_secret_once(db: &TestDb) {
    use reqwest::Method;
    let resident = setup(db).await;
    let (base, admin_token, viewer) = admin_api(db).await;
    let hooks = format!("{base}/api/v1/webhooks");
    let body = serde_json::json!({"name": "法院调解平台", "url": "https://court.example.cn/hook",
        "event_types": ["case_filed", "alert_raised"]});
    let (status, _, _) = call(Method::POST, &hooks, &viewer, Some(body.clone())).await;
    assert_eq!(status, 403);
    let (status, text, _) = call(Method::POST, &hooks, &admin_token, Some(body)).await;
    assert_eq!(status, 201, "{text}");
    let created = json(&text);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32);
    let id = created["webhook"]["id"].as_i64().unwrap();
    assert_eq!(created["webhook"]["personal_data"], false);
    assert_eq!(created["webhook"]["active"], true);
    // Never again in full: not in the list, not in the detail, not in the audit log.
    let (_, list, _) = call(Method::GET, &hooks, &admin_token, None).await;
    let (_, one, _) = call(Method::GET, &format!("{hooks}/{id}"), &admin_token, None).await;
    let mut conn = db.storage.acquire().await.unwrap();
    let audit: Vec<String> = storage::audit::list(&mut conn, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.details)
        .collect();
    drop(conn);
    for text in [&list, &one, &audit.join("\n")] {
        assert!(!text.contains(&secret), "secret shown again: {text}");
    }
    assert_eq!(json(&one)["secret"], format!("{}…", &secret[..4]));
    for (bad, field) in [
        (
            serde_json::json!({"url": "http://court.example.cn/hook", "event_types": ["case_filed"]}),
            "url",
        ),
        (
            serde_json::json!({"url": "https://court.example.cn/hook", "event_types": []}),
            "event_types",
        ),
        (
            serde_json::json!({"url": "https://court.example.cn/hook", "event_types": ["case_eaten"]}),
            "event_types",
        ),
        (
            serde_json::json!({"url": "https://court.example.cn/hook", "event_types": ["case_filed"], "secret": "short"}),
            "secret",
        ),
        (
            serde_json::json!({"url": "https://court.example.cn/hook", "event_types": ["case_filed"], "colour": "red"}),
            "colour",
        ),
    ] {
        let (status, text, _) = call(Method::POST, &hooks, &admin_token, Some(bad)).await;
        assert_eq!(status, 422, "{text}");
        assert_eq!(json(&text)["field"], field, "{text}");
    }
    // Replace, keeping the secret, now with personal data.
    let (status, text, _) = call(Method::PUT, &format!("{hooks}/{id}"), &admin_token,
        Some(serde_json::json!({"url": "https://court.example.cn/hook2", "event_types": ["case_filed"], "personal_data": true}))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["url"], "https://court.example.cn/hook2");
    // An event queued for it shows in its deliveries, and reading them is audited.
    let mut tx = db.storage.begin().await.unwrap();
    let case = file(
        &mut tx,
        resident,
        1,
        Category::Labor,
        "620722101201",
        LIUBA,
        2,
        1,
    )
    .await;
    webhooks::emit(&mut tx, WebhookEvent::Case(EventType::CaseFiled, case), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (status, text, _) = call(
        Method::GET,
        &format!("{hooks}/{id}/deliveries"),
        &admin_token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let page = json(&text);
    assert_eq!(page["items"][0]["status"], "pending");
    assert_eq!(
        page["items"][0]["payload"]["case"]["contact_phone"],
        "13812345678"
    );
    let mut conn = db.storage.acquire().await.unwrap();
    let audit = storage::audit::list(&mut conn, None, 50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "webhook.deliveries.read"));
    assert!(audit.iter().any(|e| e.action == "webhook.update"));
    let stored = storage::webhooks::get(&mut conn, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret.expose(), secret, "kept on replacement");
    drop(conn);
    // Delete: gone from the API, pending deliveries cancelled.
    let (status, _, _) = call(Method::DELETE, &format!("{hooks}/{id}"), &admin_token, None).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(Method::GET, &format!("{hooks}/{id}"), &admin_token, None).await;
    assert_eq!(status, 404);
    let mut conn = db.storage.acquire().await.unwrap();
    let d = storage::webhooks::deliveries(&mut conn, id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(d[0].status, "cancelled");
}
