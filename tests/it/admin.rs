//! The admin HTTP API through real HTTP: the router served on a loopback
//! port, a reqwest client, the demo data, on both backends.

use crate::on_both_backends;
use crate::support::TestDb;
use chrono::TimeZone;
use jiefen::admin::{self, AdminState};
use jiefen::clock::{Clock, ManualClock};
use jiefen::config::PolicyConfig;
use jiefen::domain::CaseStatus;
use jiefen::metrics::Metrics;
use jiefen::routing::Router;
use jiefen::secrets::{create_token, Role};
use jiefen::storage::admin_cases::{insert_seed_case, SeedCase};
use jiefen::storage::{self, Storage, StorageOptions};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const RESIDENT_PHONE: &str = "13812345678";
const MEDIATOR_PHONE: &str = "13987654321";

/// One running admin server.
struct App {
    base: String,
    http: reqwest::Client,
    storage: Storage,
    clock: ManualClock,
    admin: String,
    operator: String,
    viewer: String,
}

/// A request body.
enum Body {
    None,
    Json(Value),
    Csv(String),
    /// Raw bytes with a content type.
    Raw(&'static str, Vec<u8>),
}

/// A response: status, the body as JSON (Null when it is not JSON) and as text.
struct Resp {
    status: StatusCode,
    json: Value,
    text: String,
}

impl App {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Resp {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb = match body {
            Body::None => rb,
            Body::Json(v) => rb.json(&v),
            Body::Csv(s) => rb.header("content-type", "text/csv").body(s),
            Body::Raw(ct, b) => rb.header("content-type", ct).body(b),
        };
        let resp = rb.send().await.expect("request reaches the server");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, json, text }
    }

    async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), Body::None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Body::Json(body))
            .await
    }

    async fn committee_id(&self, code: &str) -> i64 {
        let mut c = self.storage.acquire().await.unwrap();
        storage::committees::get_by_code(&mut c, code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("committee {code}"))
            .id
    }
}

fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap()
}

/// Serves the admin router for `storage` on a fresh loopback port.
async fn serve(storage: Storage, clock: ManualClock) -> String {
    let router = Router::load(&storage).await.unwrap();
    let state = AdminState::new(
        storage,
        router,
        Arc::new(clock),
        PolicyConfig::default(),
        Some("@jiefen_test_bot".into()),
        Metrics::new(),
    );
    // Bound before serving, so the first request cannot race the listener.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, admin::router(state)).await;
    });
    format!("http://{addr}")
}

/// The demo data, one token per role, and a server.
async fn spawn(db: &TestDb) -> App {
    let clock = ManualClock::new(start());
    let now = clock.now_ms();
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), now)
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for role in [Role::Admin, Role::Operator, Role::Viewer] {
        let (_, secret) = create_token(&db.storage, role.code(), role, now, "cli")
            .await
            .unwrap();
        tokens.push(secret);
    }
    let base = serve(db.storage.clone(), clock.clone()).await;
    App {
        base,
        http: reqwest::Client::new(),
        storage: db.storage.clone(),
        clock,
        viewer: tokens.pop().unwrap(),
        operator: tokens.pop().unwrap(),
        admin: tokens.pop().unwrap(),
    }
}

/// A case in 六坝村, assigned to its village committee yesterday, with a
/// resident's phone and description; `edit` changes what a test needs.
async fn seed_case(app: &App, seq: i64, edit: impl FnOnce(&mut SeedCase)) -> String {
    let now = app.clock.now_ms();
    let village = app.committee_id("620722101201-VIL").await;
    let mut c = SeedCase {
        case_number: format!("620722-2026-{seq:06}"),
        category: "neighbor".into(),
        description: "邻居家的树挡住了我家的光 <b>&</b>".into(),
        other_party: "王五".into(),
        party_count: 2,
        lat: Some(38.605),
        lon: Some(100.80),
        address: "六坝村三社12号".into(),
        region_code: "620722101201".into(),
        at_risk: false,
        contact_phone: Some(RESIDENT_PHONE.into()),
        status: CaseStatus::Assigned,
        committee_id: Some(village),
        submitted_at: now - DAY,
        assigned_at: Some(now - DAY),
        accepted_at: None,
        resolved_at: None,
        accept_deadline: Some(now + DAY),
        resolve_deadline: None,
        rating: None,
        fulfilment: None,
    };
    edit(&mut c);
    let mut tx = app.storage.begin().await.unwrap();
    insert_seed_case(&mut tx, &c).await.unwrap();
    tx.commit().await.unwrap();
    c.case_number
}

/// Expected status per role: admin, operator, viewer.
type Expect = [u16; 3];

/// One row of the role matrix: method, path template, body template and
/// what each role gets. `{x}` placeholders are filled per role so that each
/// role acts on its own objects.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    csv: bool,
    expect: Expect,
    public: bool,
}

const ALL: Expect = [200, 200, 200];
const ADMIN_ONLY: Expect = [200, 403, 403];
const ADMIN_CREATES: Expect = [201, 403, 403];
const ADMIN_DELETES: Expect = [204, 403, 403];
const CASE_WRITE: Expect = [200, 200, 403];

fn row(method: Method, path: &'static str, body: Option<&'static str>, expect: Expect) -> Row {
    Row {
        method,
        path,
        body,
        csv: false,
        expect,
        public: false,
    }
}

/// Every route the admin server serves, in an order in which each role's
/// own objects exist when used.
fn matrix() -> Vec<Row> {
    let public = |path| Row {
        method: Method::GET,
        path,
        body: None,
        csv: false,
        expect: ALL,
        public: true,
    };
    let csv = |path, body| Row {
        method: Method::POST,
        path,
        body: Some(body),
        csv: true,
        expect: ADMIN_ONLY,
        public: false,
    };
    vec![
        public("/healthz"),
        public("/readyz"),
        public("/metrics"),
        public("/api/v1/openapi.json"),
        row(Method::GET, "/api/v1/regions", None, ALL),
        csv(
            "/api/v1/regions/import",
            "code,name,parent_code,lat,lon\n620722101204,新村{role},620722101,38.6,100.79\n",
        ),
        row(Method::GET, "/api/v1/committees", None, ALL),
        row(
            Method::POST,
            "/api/v1/committees",
            Some(r#"{"code":"NEW-{role}","name":"新调委会","kind":"village","region_code":"620722101201","lat":38.6,"lon":100.8}"#),
            ADMIN_CREATES,
        ),
        row(Method::GET, "/api/v1/committees/{committee}", None, ALL),
        row(
            Method::PUT,
            "/api/v1/committees/{committee}",
            Some(r#"{"code":"SPARE-{role}","name":"改名调委会","kind":"village","region_code":"620722101201","lat":38.6,"lon":100.8}"#),
            ADMIN_ONLY,
        ),
        row(Method::DELETE, "/api/v1/committees/{committee}", None, ADMIN_ONLY),
        row(
            Method::POST,
            "/api/v1/committees/import",
            Some(r#"[{"code":"JSON-{role}","name":"导入调委会","kind":"township","region_code":"620722101","lat":38.58,"lon":100.78}]"#),
            ADMIN_ONLY,
        ),
        csv(
            "/api/v1/committees/import/csv",
            "code,name,kind,region_code,lat,lon\nCSV-{role},导入调委会,village,620722101202,38.56,100.81\n",
        ),
        row(Method::GET, "/api/v1/mediators", None, ALL),
        row(
            Method::POST,
            "/api/v1/mediators",
            Some(r#"{"committee_id":{village},"name":"李四","phone":"13700001111"}"#),
            ADMIN_CREATES,
        ),
        row(Method::GET, "/api/v1/mediators/{mediator}", None, ALL),
        row(
            Method::PUT,
            "/api/v1/mediators/{mediator}",
            Some(r#"{"committee_id":{village},"name":"李四","language":"en"}"#),
            ADMIN_ONLY,
        ),
        row(
            Method::POST,
            "/api/v1/mediators/{mediator}/invites",
            Some(r#"{"valid_hours":24}"#),
            ADMIN_CREATES,
        ),
        row(Method::DELETE, "/api/v1/mediators/{mediator}", None, ADMIN_ONLY),
        row(Method::GET, "/api/v1/routing/rules", None, ALL),
        row(
            Method::POST,
            "/api/v1/routing/rules",
            Some(r#"{"name":"新规则 {role}","priority":500,"target":{"type":"nearest","kind":"township"}}"#),
            ADMIN_CREATES,
        ),
        row(Method::GET, "/api/v1/routing/rules/{rule}", None, ALL),
        row(
            Method::PUT,
            "/api/v1/routing/rules/{rule}",
            Some(r#"{"name":"备用规则 {role}","priority":600,"enabled":false,"target":{"type":"nearest","kind":"village"}}"#),
            ADMIN_ONLY,
        ),
        row(
            Method::POST,
            "/api/v1/routing/rules/reorder",
            Some(r#"{"ids":{all_rule_ids}}"#),
            ADMIN_ONLY,
        ),
        row(
            Method::POST,
            "/api/v1/routing/rules/validate",
            Some(r#"{"name":"试一试","priority":5,"target":{"type":"nearest","kind":"village"}}"#),
            ALL,
        ),
        row(Method::DELETE, "/api/v1/routing/rules/{rule}", None, ADMIN_DELETES),
        row(
            Method::POST,
            "/api/v1/routing/simulate",
            Some(r#"{"category":"neighbor","region_code":"620722101201"}"#),
            ALL,
        ),
        row(Method::GET, "/api/v1/cases", None, ALL),
        row(Method::GET, "/api/v1/cases/{case}", None, ALL),
        row(
            Method::POST,
            "/api/v1/cases/{case}/reassign",
            Some(r#"{"committee_id":{village},"reason":"重新指派"}"#),
            CASE_WRITE,
        ),
        row(
            Method::POST,
            "/api/v1/cases/{case}/escalate",
            Some(r#"{"reason":"村里调不了"}"#),
            CASE_WRITE,
        ),
        row(
            Method::POST,
            "/api/v1/cases/{case}/close",
            Some(r#"{"reason":"当事人已和解"}"#),
            CASE_WRITE,
        ),
        row(Method::GET, "/api/v1/stats", None, ALL),
        row(Method::GET, "/api/v1/audit", None, ADMIN_ONLY),
        row(Method::GET, "/api/v1/tokens", None, ADMIN_ONLY),
        row(
            Method::POST,
            "/api/v1/tokens",
            Some(r#"{"name":"new {role}","role":"viewer"}"#),
            ADMIN_CREATES,
        ),
        row(Method::DELETE, "/api/v1/tokens/{token}", None, ADMIN_DELETES),
        row(Method::GET, "/api/v1/alerts", None, ALL),
        row(Method::GET, "/api/v1/alerts/{alert}", None, ALL),
        row(
            Method::POST,
            "/api/v1/alerts/{alert}/close",
            Some(r#"{"reason":"已研判处置"}"#),
            CASE_WRITE,
        ),
        row(Method::GET, "/api/v1/reports/{report}", None, ALL),
        row(Method::GET, "/api/v1/webhooks", None, ADMIN_ONLY),
        row(
            Method::POST,
            "/api/v1/webhooks",
            Some(r#"{"url":"https://{role}.example.cn/hook","event_types":["case_filed"]}"#),
            ADMIN_CREATES,
        ),
        row(Method::GET, "/api/v1/webhooks/{webhook}", None, ADMIN_ONLY),
        row(
            Method::PUT,
            "/api/v1/webhooks/{webhook}",
            Some(r#"{"url":"https://{role}.example.cn/hook2","event_types":["case_closed"]}"#),
            ADMIN_ONLY,
        ),
        row(Method::GET, "/api/v1/webhooks/{webhook}/deliveries", None, ADMIN_ONLY),
        row(Method::DELETE, "/api/v1/webhooks/{webhook}", None, ADMIN_DELETES),
    ]
}

/// The objects one role acts on in the matrix.
struct Own {
    committee: i64,
    mediator: i64,
    rule: i64,
    token: i64,
    case: String,
    alert: i64,
    webhook: i64,
}

async fn own_objects(app: &App, role: Role, seq: i64) -> Own {
    let now = app.clock.now_ms();
    let village = app.committee_id("620722101201-VIL").await;
    let mut tx = app.storage.begin().await.unwrap();
    let committee = storage::committees::insert(
        &mut tx,
        &storage::committees::CommitteeFields {
            code: format!("SPARE-{}", role.code()),
            name: "备用调委会".into(),
            kind: jiefen::domain::CommitteeKind::Village,
            specialties: vec![],
            region_code: jiefen::domain::RegionCode::parse("620722101201").unwrap(),
            location: jiefen::domain::GeoPoint {
                lat: 38.6,
                lon: 100.8,
            },
            address: String::new(),
            phone: String::new(),
            capacity: 10,
            active: true,
            illustrative: false,
        },
        now,
    )
    .await
    .unwrap();
    let mediator = storage::mediators::insert(
        &mut tx,
        &storage::mediators::MediatorFields {
            committee_id: village,
            name: "赵六".into(),
            phone: Some(MEDIATOR_PHONE.into()),
            language: "zh-CN".into(),
            active: true,
        },
        now,
    )
    .await
    .unwrap();
    let rule = storage::rules::insert(
        &mut tx,
        &storage::rules::RuleFields {
            priority: 700,
            name: format!("备用规则 {}", role.code()),
            enabled: true,
            conditions: Default::default(),
            target: jiefen::domain::RuleTarget::Nearest {
                kind: jiefen::domain::CommitteeKind::Village,
                specialty: None,
                max_distance_km: None,
                within_county: false,
            },
            accept_hours: None,
            resolve_days: None,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (token, _) = create_token(&app.storage, "spare", Role::Viewer, now, "cli")
        .await
        .unwrap();
    let case = seed_case(app, seq, |_| {}).await;
    let mut tx = app.storage.begin().await.unwrap();
    let alert = storage::alerts::insert(
        &mut tx,
        storage::alerts::AlertKind::MassDispute,
        "labor+debt",
        &jiefen::domain::RegionCode::parse("620722101201").unwrap(),
        &storage::alerts::AlertShape {
            centre: jiefen::domain::GeoPoint {
                lat: 38.6,
                lon: 100.8,
            },
            radius_km: 0.0,
            case_count: 1,
            party_total: 30,
            first_case_at: now,
            last_case_at: now,
        },
        now,
    )
    .await
    .unwrap();
    let webhook = storage::webhooks::create(
        &mut tx,
        &storage::webhooks::SubscriptionValues {
            name: format!("spare {}", role.code()),
            url: "https://spare.example.cn/hook".into(),
            secret: jiefen::config::Secret::new("spare-webhook-secret-0001"),
            event_types: vec!["case_filed".into()],
            personal_data: false,
            active: true,
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Own {
        committee,
        mediator,
        rule,
        token,
        case,
        alert,
        webhook,
    }
}

async fn fill(app: &App, template: &str, role: Role, own: &Own) -> String {
    let mut s = template
        .replace("{role}", role.code())
        .replace("{committee}", &own.committee.to_string())
        .replace("{mediator}", &own.mediator.to_string())
        .replace("{rule}", &own.rule.to_string())
        .replace("{token}", &own.token.to_string())
        .replace("{case}", &own.case)
        .replace("{alert}", &own.alert.to_string())
        .replace("{webhook}", &own.webhook.to_string())
        .replace("{report}", "monthly")
        .replace(
            "{village}",
            &app.committee_id("620722101201-VIL").await.to_string(),
        );
    if s.contains("{all_rule_ids}") {
        let mut c = app.storage.acquire().await.unwrap();
        let mut ids: Vec<i64> = storage::rules::list(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        ids.reverse();
        s = s.replace("{all_rule_ids}", &serde_json::to_string(&ids).unwrap());
    }
    s
}

on_both_backends!(
    each_role_gets_exactly_the_status_the_role_matrix_says,
    the_openapi_document_lists_exactly_the_routes_the_router_serves,
    a_rule_changed_through_the_api_changes_the_next_decision_on_every_instance,
    a_viewer_never_sees_a_phone_number,
    bad_payloads_get_the_json_error_shape_and_never_a_500,
    writes_and_reads_of_personal_data_leave_audit_rows,
    committees_are_deactivated_not_deleted_when_something_refers_to_them,
    bulk_imports_write_everything_or_nothing,
    mediator_invites_are_single_links_stored_as_hashes,
    cases_filter_and_page_by_cursor,
    reassign_escalate_and_close_follow_the_lifecycle_and_fill_the_timeline,
    rules_reorder_and_validation_warn_about_rules_that_cannot_fire,
    statistics_follow_their_documented_definitions,
    tokens_are_shown_once_and_stop_working_when_revoked,
    health_readiness_and_metrics_answer,
);

async fn each_role_gets_exactly_the_status_the_role_matrix_says(db: &TestDb) {
    let app = spawn(db).await;
    let roles = [
        (Role::Admin, app.admin.clone()),
        (Role::Operator, app.operator.clone()),
        (Role::Viewer, app.viewer.clone()),
    ];
    let mut owns = Vec::new();
    for (i, (role, _)) in roles.iter().enumerate() {
        owns.push(own_objects(&app, *role, 100 + i as i64).await);
    }
    let mut failures = Vec::new();
    for r in matrix() {
        // Without a token, and with a wrong one: 401 without detail.
        if !r.public {
            for token in [None, Some("jf_not_a_real_token")] {
                let path = fill(&app, r.path, Role::Viewer, &owns[2]).await;
                let resp = app.call(r.method.clone(), &path, token, Body::None).await;
                if resp.status != StatusCode::UNAUTHORIZED || resp.json["error"] != "unauthorized" {
                    failures.push(format!(
                        "{} {} token {token:?}: {} {}",
                        r.method, r.path, resp.status, resp.text
                    ));
                }
            }
        }
        // Viewer and operator first, so the admin's success cannot hide a
        // missing check for the others.
        for i in [2, 1, 0] {
            let (role, token) = &roles[i];
            let path = fill(&app, r.path, *role, &owns[i]).await;
            let body = match r.body {
                None => Body::None,
                Some(b) if r.csv => Body::Csv(fill(&app, b, *role, &owns[i]).await),
                Some(b) => {
                    let text = fill(&app, b, *role, &owns[i]).await;
                    Body::Json(serde_json::from_str(&text).expect("matrix body is JSON"))
                }
            };
            let resp = app.call(r.method.clone(), &path, Some(token), body).await;
            if resp.status.as_u16() != r.expect[i] {
                failures.push(format!(
                    "{} {} as {}: expected {}, got {} {}",
                    r.method,
                    r.path,
                    role.code(),
                    r.expect[i],
                    resp.status,
                    resp.text
                ));
            }
            if resp.status == StatusCode::FORBIDDEN {
                assert_eq!(resp.json["error"], "forbidden", "{}", resp.text);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn the_openapi_document_lists_exactly_the_routes_the_router_serves(db: &TestDb) {
    let app = spawn(db).await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, Body::None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            for (code, r) in responses {
                if code != "204" {
                    assert!(
                        r.get("content").is_some(),
                        "{method} {path} {code} has no schema"
                    );
                }
            }
            if ["POST", "PUT"].contains(&method.to_uppercase().as_str()) {
                assert!(
                    op.get("requestBody").is_some(),
                    "{method} {path} has no request body"
                );
            }
        }
    }
    let served: BTreeSet<String> = matrix()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|s| {
            // The matrix fills ids per role; the document names them.
            s.replace("{committee}", "{id}")
                .replace("{mediator}", "{id}")
                .replace("{rule}", "{id}")
                .replace("{token}", "{id}")
                .replace("{case}", "{case_number}")
                .replace("{alert}", "{id}")
                .replace("{webhook}", "{id}")
                .replace("{report}", "{kind}")
        })
        .collect();
    assert_eq!(documented, served);
    // Every documented route is served (no 404/405 without a token), and a
    // route that is not documented is not.
    for entry in &documented {
        let (method, path) = entry.split_once(' ').unwrap();
        let path = path
            .replace("{id}", "1")
            .replace("{case_number}", "620722-2026-000001");
        let resp = app
            .call(method.parse().unwrap(), &path, None, Body::None)
            .await;
        assert!(
            resp.status == StatusCode::OK || resp.status == StatusCode::UNAUTHORIZED,
            "{entry}: {}",
            resp.status
        );
    }
    for (method, path) in [
        (Method::GET, "/api/v1/nothing"),
        (Method::GET, "/api/v2/cases"),
        (Method::PATCH, "/api/v1/committees"),
    ] {
        let resp = app.call(method, path, Some(&app.admin), Body::None).await;
        assert!(
            resp.status == StatusCode::NOT_FOUND || resp.status == StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {}",
            resp.status
        );
        assert!(resp.json["error"].is_string(), "{}", resp.text);
    }
}

async fn a_rule_changed_through_the_api_changes_the_next_decision_on_every_instance(db: &TestDb) {
    let app = spawn(db).await;
    // A second instance on the same database, with its own router snapshot.
    let other_storage = Storage::connect(&db.url, &StorageOptions::default())
        .await
        .unwrap();
    let other = serve(other_storage.clone(), app.clock.clone()).await;
    let simulate = |base: String| {
        let http = app.http.clone();
        let token = app.viewer.clone();
        async move {
            let r: Value = http
                .post(format!("{base}/api/v1/routing/simulate"))
                .bearer_auth(token)
                .json(&json!({"category": "neighbor", "region_code": "620722101201", "language": "en"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        }
    };
    let before = simulate(other.clone()).await;
    assert_eq!(before["committee"]["code"], "620722101201-VIL", "{before}");
    assert_eq!(before["explanation"]["via"]["type"], "rule");
    assert!(before["text"].as_str().unwrap().contains("km"), "{before}");

    let created = app
        .post(
            "/api/v1/routing/rules",
            &app.admin,
            json!({"name": "邻里纠纷 → 乡镇", "priority": 5, "conditions": {"categories": ["neighbor"]},
                   "target": {"type": "nearest", "kind": "township", "within_county": true}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let rule_id = created.json["id"].as_i64().unwrap();

    for base in [app.base.clone(), other.clone()] {
        let after = simulate(base).await;
        assert_eq!(after["committee"]["code"], "620722101-TWN", "{after}");
        assert_eq!(after["rule_id"], rule_id);
        assert_eq!(after["explanation"]["via"]["rule_name"], "邻里纠纷 → 乡镇");
    }

    // Deactivating the township committee moves the decision on as well.
    let twn = app.committee_id("620722101-TWN").await;
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/committees/{twn}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let moved = simulate(other.clone()).await;
    assert_ne!(moved["committee"]["code"], "620722101-TWN", "{moved}");
    other_storage.close().await;
}

/// Every run of 11 digits starting with 1 in `text`.
fn phone_numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if run.len() == 11 && run.starts_with('1') {
                out.push(run);
            }
        } else {
            i += 1;
        }
    }
    out
}

async fn a_viewer_never_sees_a_phone_number(db: &TestDb) {
    let app = spawn(db).await;
    let number = seed_case(&app, 1, |_| {}).await;
    let village = app.committee_id("620722101201-VIL").await;
    let m = app
        .post(
            "/api/v1/mediators",
            &app.admin,
            json!({"committee_id": village, "name": "张建国", "phone": MEDIATOR_PHONE}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED);
    let mid = m.json["id"].as_i64().unwrap();

    // A committee whose "office" phone is someone's mobile.
    let mobile_office = app
        .post(
            "/api/v1/committees",
            &app.admin,
            json!({"code": "MOBILE", "name": "手机号调委会", "kind": "village", "region_code": "620722101201",
                   "lat": 38.6051, "lon": 100.8001, "phone": "13611112222"}),
        )
        .await;
    let mobile_id = mobile_office.json["id"].as_i64().unwrap();
    let paths = [
        format!("/api/v1/committees/{mobile_id}"),
        format!("/api/v1/cases/{number}"),
        "/api/v1/cases".to_owned(),
        "/api/v1/mediators".to_owned(),
        format!("/api/v1/mediators/{mid}"),
        "/api/v1/committees".to_owned(),
        "/api/v1/stats".to_owned(),
    ];
    for p in &paths {
        let r = app.get(p, &app.viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        assert!(
            phone_numbers(&r.text).is_empty(),
            "{p} shows {:?}",
            phone_numbers(&r.text)
        );
        assert!(
            !r.text.contains("六坝村三社") && !r.text.contains("挡住"),
            "{p}"
        );
    }
    let viewer_case = app
        .get(&format!("/api/v1/cases/{number}"), &app.viewer)
        .await;
    assert_eq!(viewer_case.json["contact_phone"], "138****5678");
    assert_eq!(viewer_case.json["masked"], true);
    assert!(viewer_case.json["description"].is_null());
    let viewer_mediator = app
        .get(&format!("/api/v1/mediators/{mid}"), &app.viewer)
        .await;
    assert_eq!(viewer_mediator.json["name"], "张**");
    assert_eq!(viewer_mediator.json["phone"], "139****4321");

    // The operator may see personal data: the same reads show it.
    let op_case = app
        .get(&format!("/api/v1/cases/{number}"), &app.operator)
        .await;
    assert_eq!(op_case.json["contact_phone"], RESIDENT_PHONE);
    assert_eq!(
        op_case.json["description"],
        "邻居家的树挡住了我家的光 <b>&</b>"
    );
    assert_eq!(op_case.json["masked"], false);
}

async fn bad_payloads_get_the_json_error_shape_and_never_a_500(db: &TestDb) {
    let app = spawn(db).await;
    let number = seed_case(&app, 1, |_| {}).await;
    let valid_committee = json!({"code": "X-1", "name": "调委会", "kind": "village",
        "region_code": "620722101201", "lat": 38.6, "lon": 100.8});
    let with = |k: &str, v: Value| {
        let mut c = valid_committee.clone();
        c[k] = v;
        c
    };
    let json_ct = "application/json";
    let cases: Vec<(Method, String, Body, u16, Option<&str>)> = vec![
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Raw(json_ct, b"{\"code\": ".to_vec()),
            400,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Raw(json_ct, b"\xff\xfe".to_vec()),
            400,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Raw("text/plain", b"{}".to_vec()),
            415,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("lat", json!("north"))),
            422,
            Some("lat"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("colour", json!("red"))),
            422,
            Some("colour"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(json!({"code": "X"})),
            422,
            Some("name"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(json!([1, 2])),
            422,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("lat", json!(95.0))),
            422,
            Some("lat"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("kind", json!("palace"))),
            422,
            Some("kind"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("region_code", json!("999999"))),
            422,
            Some("region_code"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("code", json!("620722-CENTER"))),
            409,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("capacity", json!(1e30))),
            422,
            Some("capacity"),
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Raw(
                json_ct,
                format!("{{\"code\":\"{}\"}}", "x".repeat(1_100_000)).into_bytes(),
            ),
            413,
            None,
        ),
        (
            Method::GET,
            "/api/v1/committees/abc".into(),
            Body::None,
            400,
            None,
        ),
        (
            Method::GET,
            "/api/v1/committees/999999".into(),
            Body::None,
            404,
            None,
        ),
        (
            Method::GET,
            "/api/v1/committees?active=maybe".into(),
            Body::None,
            400,
            Some("active"),
        ),
        (
            Method::GET,
            "/api/v1/committees?color=red".into(),
            Body::None,
            400,
            None,
        ),
        (
            Method::GET,
            "/api/v1/cases?limit=abc".into(),
            Body::None,
            400,
            Some("limit"),
        ),
        (
            Method::GET,
            "/api/v1/cases?limit=100000".into(),
            Body::None,
            400,
            Some("limit"),
        ),
        (
            Method::GET,
            "/api/v1/cases?status=lost".into(),
            Body::None,
            400,
            Some("status"),
        ),
        (
            Method::GET,
            "/api/v1/cases?from=yesterday".into(),
            Body::None,
            400,
            Some("from"),
        ),
        (
            Method::GET,
            "/api/v1/cases?cursor=-5".into(),
            Body::None,
            400,
            Some("cursor"),
        ),
        (
            Method::GET,
            "/api/v1/cases/not-a-case".into(),
            Body::None,
            404,
            None,
        ),
        (
            Method::GET,
            "/api/v1/stats?from=2026-12-01&to=2026-11-01".into(),
            Body::None,
            400,
            Some("from"),
        ),
        (
            Method::POST,
            "/api/v1/routing/rules".into(),
            Body::Json(
                json!({"name": "指向不存在", "priority": 1, "target": {"type": "committee", "committee_id": 987654}}),
            ),
            422,
            Some("target.committee"),
        ),
        (
            Method::POST,
            "/api/v1/routing/rules".into(),
            Body::Json(json!({"name": "坏类型", "priority": 1, "target": {"type": "teleport"}})),
            422,
            None,
        ),
        (
            Method::POST,
            "/api/v1/routing/rules".into(),
            Body::Json(
                json!({"name": "坏前缀", "priority": 1, "conditions": {"region_prefix": "62-07"},
                              "target": {"type": "nearest", "kind": "village"}}),
            ),
            422,
            Some("conditions.region_prefix"),
        ),
        (
            Method::POST,
            "/api/v1/routing/rules".into(),
            Body::Json(json!({"name": "有人身安全风险 → 县矛调中心", "priority": 1,
                              "target": {"type": "nearest", "kind": "village"}})),
            409,
            None,
        ),
        (
            Method::POST,
            "/api/v1/routing/rules/reorder".into(),
            Body::Json(json!({"ids": [1, 1]})),
            422,
            Some("ids"),
        ),
        (
            Method::POST,
            "/api/v1/routing/simulate".into(),
            Body::Json(json!({"category": "gossip", "region_code": "620722101201"})),
            422,
            Some("category"),
        ),
        (
            Method::POST,
            "/api/v1/routing/simulate".into(),
            Body::Json(json!({"category": "labor", "region_code": "620799"})),
            422,
            Some("region_code"),
        ),
        (
            Method::POST,
            "/api/v1/regions/import".into(),
            Body::Csv("code,name\n62072210120,坏码\n".into()),
            422,
            Some("code"),
        ),
        (
            Method::POST,
            "/api/v1/committees/import".into(),
            Body::Json(json!([valid_committee.clone(), with("kind", json!("x"))])),
            422,
            Some("[1].kind"),
        ),
        (
            Method::POST,
            "/api/v1/mediators".into(),
            Body::Json(json!({"committee_id": 1, "name": "李四", "phone": "12345"})),
            422,
            Some("phone"),
        ),
        (
            Method::POST,
            "/api/v1/mediators".into(),
            Body::Json(json!({"committee_id": 987654, "name": "李四"})),
            422,
            Some("committee_id"),
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{number}/reassign"),
            Body::Json(json!({"committee_id": 987654, "reason": "x"})),
            422,
            Some("committee_id"),
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{number}/close"),
            Body::Json(json!({"reason": ""})),
            422,
            Some("reason"),
        ),
        (
            Method::POST,
            format!("/api/v1/cases/{number}/close"),
            Body::Json(json!({"reason": "x", "outcome": "magic"})),
            422,
            Some("outcome"),
        ),
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Body::Json(json!({"name": "x", "role": "root"})),
            422,
            Some("role"),
        ),
        (
            Method::DELETE,
            "/api/v1/tokens/987654".into(),
            Body::None,
            404,
            None,
        ),
        (
            Method::POST,
            "/api/v1/committees".into(),
            Body::Json(with("name", json!("调\u{0}委会"))),
            422,
            Some("name"),
        ),
        (
            Method::POST,
            "/api/v1/regions/import".into(),
            Body::Csv("code,name\n620722101205,坏\u{0}名\n".into()),
            422,
            Some("body"),
        ),
        (
            Method::GET,
            "/api/v1/regions?level=vil%00lage".into(),
            Body::None,
            400,
            None,
        ),
        (
            Method::GET,
            "/api/v1/regions?parent=abc".into(),
            Body::None,
            400,
            Some("parent"),
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, status, field) in cases {
        let r = app
            .call(method.clone(), &path, Some(&app.admin), body)
            .await;
        let shape_ok = r.json["error"].is_string() && r.json["message"].is_string();
        let field_ok = field.is_none_or(|f| r.json["field"] == f);
        if r.status.as_u16() != status || !shape_ok || !field_ok {
            failures.push(format!(
                "{method} {path}: expected {status} field {field:?}, got {} {}",
                r.status,
                &r.text[..r.text.len().min(300)]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The case the bad requests aimed at is unchanged.
    let c = app
        .get(&format!("/api/v1/cases/{number}"), &app.admin)
        .await;
    assert_eq!(c.json["status"], "assigned");
}

async fn writes_and_reads_of_personal_data_leave_audit_rows(db: &TestDb) {
    let app = spawn(db).await;
    let number = seed_case(&app, 1, |_| {}).await;
    let created = app
        .post(
            "/api/v1/committees",
            &app.admin,
            json!({"code": "AUDITED", "name": "审计调委会", "kind": "village",
                   "region_code": "620722101201", "lat": 38.6, "lon": 100.8}),
        )
        .await;
    let cid = created.json["id"].as_i64().unwrap().to_string();
    app.get(&format!("/api/v1/cases/{number}"), &app.viewer)
        .await;
    app.post(
        &format!("/api/v1/cases/{number}/close"),
        &app.operator,
        json!({"reason": "已和解"}),
    )
    .await;
    // A refused write leaves no trace of a change.
    app.post(
        "/api/v1/committees",
        &app.viewer,
        json!({"code": "NOPE", "name": "n", "kind": "village", "region_code": "620722101201", "lat": 38.6, "lon": 100.8}),
    )
    .await;

    let log = app.get("/api/v1/audit?limit=500", &app.admin).await;
    assert_eq!(log.status, StatusCode::OK);
    let items = log.json["items"].as_array().unwrap();
    let find = |action: &str, object: &str| {
        items
            .iter()
            .find(|e| e["action"] == action && e["object_id"] == object)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} on {object} in {items:?}"))
    };
    let create = find("committee.create", &cid);
    assert!(create["actor"]
        .as_str()
        .unwrap()
        .starts_with("token:admin#"));
    assert_eq!(create["at"], "2026-11-21T08:00:00Z");
    let read = find("case.read", &number);
    assert!(read["actor"].as_str().unwrap().starts_with("token:viewer#"));
    assert_eq!(read["details"]["masked"], true);
    let close = find("case.close", &number);
    assert!(close["actor"]
        .as_str()
        .unwrap()
        .starts_with("token:operator#"));
    assert!(!items.iter().any(|e| e["details"]["code"] == "NOPE"));

    // Paging: the cursor continues where the page stopped, without overlap.
    let p1 = app.get("/api/v1/audit?limit=2", &app.admin).await;
    let cursor = p1.json["next_cursor"].as_str().unwrap().to_owned();
    let p2 = app
        .get(
            &format!("/api/v1/audit?limit=2&cursor={cursor}"),
            &app.admin,
        )
        .await;
    let last = p1.json["items"][1]["id"].as_i64().unwrap();
    assert!(p2.json["items"][0]["id"].as_i64().unwrap() < last);
}

async fn committees_are_deactivated_not_deleted_when_something_refers_to_them(db: &TestDb) {
    let app = spawn(db).await;
    let body = json!({"code": "TEMP", "name": "临时调委会", "kind": "industry", "specialties": ["labor"],
                      "region_code": "620722", "lat": 38.43, "lon": 100.82, "phone": "0936-4400000"});
    let c = app
        .post("/api/v1/committees", &app.admin, body.clone())
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.json["specialties"], json!(["labor"]));
    let id = c.json["id"].as_i64().unwrap();
    let mut edited = body.clone();
    edited["name"] = json!("临时劳动调委会");
    edited["capacity"] = json!(3);
    let u = app
        .call(
            Method::PUT,
            &format!("/api/v1/committees/{id}"),
            Some(&app.admin),
            Body::Json(edited),
        )
        .await;
    assert_eq!(u.json["name"], "临时劳动调委会");
    assert_eq!(u.json["capacity"], 3);
    let listed = app
        .get(
            "/api/v1/committees?kind=industry&region=620722",
            &app.viewer,
        )
        .await;
    assert!(listed
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id));

    // Unreferenced: gone.
    let d = app
        .call(
            Method::DELETE,
            &format!("/api/v1/committees/{id}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(d.json["result"], "deleted");
    let g = app
        .get(&format!("/api/v1/committees/{id}"), &app.admin)
        .await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);

    // Referenced by a case: kept, inactive.
    let village = app.committee_id("620722101201-VIL").await;
    seed_case(&app, 1, |_| {}).await;
    let d = app
        .call(
            Method::DELETE,
            &format!("/api/v1/committees/{village}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(d.json["result"], "deactivated");
    let g = app
        .get(&format!("/api/v1/committees/{village}"), &app.admin)
        .await;
    assert_eq!(g.json["active"], false);
    let inactive = app.get("/api/v1/committees?active=false", &app.admin).await;
    assert_eq!(inactive.json.as_array().unwrap().len(), 1);
}

async fn bulk_imports_write_everything_or_nothing(db: &TestDb) {
    let app = spawn(db).await;
    let regions = app
        .call(
            Method::POST,
            "/api/v1/regions/import",
            Some(&app.admin),
            Body::Csv(
                "code,name,parent_code,lat,lon\n620722101204,新村,620722101,38.6,100.79\n".into(),
            ),
        )
        .await;
    assert_eq!(regions.status, StatusCode::OK, "{}", regions.text);
    assert_eq!(regions.json["regions"], 1);
    let kids = app
        .get("/api/v1/regions?parent=620722101", &app.viewer)
        .await;
    assert!(kids
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "620722101204" && r["level"] == "village"));

    let item = |code: &str, region: &str| json!({"code": code, "name": "导入", "kind": "village", "region_code": region, "lat": 38.6, "lon": 100.79});
    let bad = app
        .post(
            "/api/v1/committees/import",
            &app.admin,
            json!([item("IMP-1", "620722101204"), item("IMP-2", "620722999999")]),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["field"], "[1].region_code");
    let none = app
        .get("/api/v1/committees?region=620722101204", &app.admin)
        .await;
    assert_eq!(none.json.as_array().unwrap().len(), 0, "nothing written");

    let good = app
        .post(
            "/api/v1/committees/import",
            &app.admin,
            json!([item("IMP-1", "620722101204"), item("IMP-2", "620722101204")]),
        )
        .await;
    assert_eq!(good.json["committees"], 2, "{}", good.text);
    let csv = app
        .call(
            Method::POST,
            "/api/v1/committees/import/csv",
            Some(&app.admin),
            Body::Csv(
                "code,name,kind,region_code,lat,lon\nIMP-1,改名,village,620722101204,38.6,100.79\n"
                    .into(),
            ),
        )
        .await;
    assert_eq!(csv.json["committees"], 1, "{}", csv.text);
    let after = app
        .get("/api/v1/committees?region=620722101204", &app.admin)
        .await;
    let names: Vec<&str> = after
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["改名", "导入"]);
    let bad_csv = app
        .call(
            Method::POST,
            "/api/v1/committees/import/csv",
            Some(&app.admin),
            Body::Csv(
                "code,name,kind,region_code,lat,lon\nIMP-3,x,village,620722101204,38.6,200\n"
                    .into(),
            ),
        )
        .await;
    assert_eq!(bad_csv.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_csv.json["message"].as_str().unwrap().contains("line 2"),
        "{}",
        bad_csv.text
    );
}

async fn mediator_invites_are_single_links_stored_as_hashes(db: &TestDb) {
    let app = spawn(db).await;
    let village = app.committee_id("620722101201-VIL").await;
    let m = app
        .post(
            "/api/v1/mediators",
            &app.admin,
            json!({"committee_id": village, "name": "孙七", "phone": "+86 137-0000-1111"}),
        )
        .await;
    assert_eq!(m.json["phone"], "13700001111");
    assert_eq!(m.json["linked"], false);
    let id = m.json["id"].as_i64().unwrap();
    let inv = app
        .post(
            &format!("/api/v1/mediators/{id}/invites"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    let url = inv.json["url"].as_str().unwrap();
    let code = url
        .strip_prefix("https://t.me/jiefen_test_bot?start=")
        .unwrap_or_else(|| panic!("{url}"));
    assert!(
        code.len() >= 20 && code.len() <= 64 && code.chars().all(|c| c.is_ascii_alphanumeric())
    );
    assert_eq!(inv.json["expires_at"], "2026-11-24T08:00:00Z");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT code_hash FROM invites WHERE mediator_id = $1")
            .bind(id)
            .fetch_all(app.storage.pool())
            .await
            .unwrap();
    assert_eq!(stored, vec![jiefen::secrets::hash_secret(code)]);

    // A second link retires the first.
    app.post(
        &format!("/api/v1/mediators/{id}/invites"),
        &app.admin,
        json!({"valid_hours": 1}),
    )
    .await;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM invites WHERE mediator_id = $1 AND expires_at > $2",
    )
    .bind(id)
    .bind(app.clock.now_ms())
    .fetch_one(app.storage.pool())
    .await
    .unwrap();
    assert_eq!(live, 1);

    // Inactive mediators get no link; unreferenced ones are deleted.
    let u = app
        .call(
            Method::PUT,
            &format!("/api/v1/mediators/{id}"),
            Some(&app.admin),
            Body::Json(json!({"committee_id": village, "name": "孙七", "active": false})),
        )
        .await;
    assert_eq!(u.json["active"], false);
    assert!(u.json["phone"].is_null());
    let refused = app
        .post(
            &format!("/api/v1/mediators/{id}/invites"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let list = app
        .get(
            &format!("/api/v1/mediators?committee_id={village}"),
            &app.operator,
        )
        .await;
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    let d = app
        .call(
            Method::DELETE,
            &format!("/api/v1/mediators/{id}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(d.json["result"], "deleted");
    assert_eq!(
        app.get(&format!("/api/v1/mediators/{id}"), &app.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn cases_filter_and_page_by_cursor(db: &TestDb) {
    let app = spawn(db).await;
    let now = app.clock.now_ms();
    let twn = app.committee_id("620722100-TWN").await;
    let a = seed_case(&app, 1, |c| c.accept_deadline = Some(now - HOUR)).await; // overdue
    let b = seed_case(&app, 2, |c| {
        c.category = "labor".into();
        c.at_risk = true;
        c.region_code = "620722100201".into();
        c.committee_id = Some(twn);
        c.submitted_at = now - 10 * DAY;
    })
    .await;
    let c3 = seed_case(&app, 3, |c| {
        c.status = CaseStatus::Accepted;
        c.accepted_at = Some(now - HOUR);
        c.resolve_deadline = Some(now + 29 * DAY);
    })
    .await;
    let numbers = |r: &Resp| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["case_number"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app.get("/api/v1/cases", &app.viewer).await;
    assert_eq!(numbers(&all), vec![c3.clone(), b.clone(), a.clone()]);
    assert!(all.json["next_cursor"].is_null());
    assert!(
        !all.text.contains("description"),
        "the list carries no personal data"
    );
    let q = |s: &str| format!("/api/v1/cases?{s}");
    assert_eq!(
        numbers(&app.get(&q("status=accepted"), &app.viewer).await),
        vec![c3.clone()]
    );
    assert_eq!(
        numbers(
            &app.get(
                &q("status=assigned,accepted&category=neighbor"),
                &app.viewer
            )
            .await
        ),
        vec![c3.clone(), a.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("overdue=true"), &app.viewer).await),
        vec![a.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("overdue=false"), &app.viewer).await),
        vec![c3.clone(), b.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("at_risk=true"), &app.viewer).await),
        vec![b.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("region=620722100"), &app.viewer).await),
        vec![b.clone()]
    );
    assert_eq!(
        numbers(
            &app.get(&q(&format!("committee_id={twn}")), &app.viewer)
                .await
        ),
        vec![b.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("from=2026-11-15"), &app.viewer).await),
        vec![c3.clone(), a.clone()]
    );
    assert_eq!(
        numbers(&app.get(&q("to=2026-11-15"), &app.viewer).await),
        vec![b.clone()]
    );
    let p1 = app.get(&q("limit=2"), &app.viewer).await;
    assert_eq!(numbers(&p1), vec![c3.clone(), b.clone()]);
    let cursor = p1.json["next_cursor"].as_str().unwrap().to_owned();
    let p2 = app
        .get(&q(&format!("limit=2&cursor={cursor}")), &app.viewer)
        .await;
    assert_eq!(numbers(&p2), vec![a.clone()]);
    assert!(p2.json["next_cursor"].is_null());
    let detail = app.get(&format!("/api/v1/cases/{a}"), &app.admin).await;
    assert_eq!(detail.json["overdue"], true);
    assert_eq!(detail.json["timeline"][0]["kind"], "submitted");
    // A case number read over the phone without zeros finds the case too.
    let spoken = app.get("/api/v1/cases/620722-2026-1", &app.admin).await;
    assert_eq!(spoken.json["case_number"], a);
}

async fn reassign_escalate_and_close_follow_the_lifecycle_and_fill_the_timeline(db: &TestDb) {
    let app = spawn(db).await;
    let number = seed_case(&app, 1, |_| {}).await;
    let other_village = app.committee_id("620722101202-VIL").await;
    let r = app
        .post(
            &format!("/api/v1/cases/{number}/reassign"),
            &app.operator,
            json!({"committee_id": other_village, "reason": "当事人住在五庄村"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["committee_id"], other_village);
    assert_eq!(r.json["accept_deadline"], "2026-11-22T08:00:00Z");

    let e = app
        .post(
            &format!("/api/v1/cases/{number}/escalate"),
            &app.operator,
            json!({"reason": "村里调不了"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    let twn = app.committee_id("620722101-TWN").await;
    assert_eq!(e.json["committee_id"], twn);
    assert_eq!(e.json["status"], "assigned");

    let c = app
        .post(
            &format!("/api/v1/cases/{number}/close"),
            &app.admin,
            json!({"reason": "已通过诉讼解决", "outcome": "litigation"}),
        )
        .await;
    assert_eq!(c.json["status"], "closed");
    assert_eq!(c.json["outcome"], "litigation");
    let kinds: Vec<&str> = c.json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["submitted", "reassigned", "escalated", "closed"]
    );
    let esc = &c.json["timeline"][2];
    assert_eq!(esc["reason"], "村里调不了");
    assert_eq!(esc["details"]["explanation"]["via"]["type"], "escalation");
    assert_eq!(esc["actor_kind"], "admin");
    assert_eq!(esc["from_status"], "assigned");

    // A closed case can be neither closed, reassigned nor escalated again.
    for (action, body) in [
        ("close", json!({"reason": "再关一次"})),
        (
            "reassign",
            json!({"committee_id": other_village, "reason": "x"}),
        ),
        ("escalate", json!({"reason": "x"})),
    ] {
        let again = app
            .post(
                &format!("/api/v1/cases/{number}/{action}"),
                &app.admin,
                body,
            )
            .await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            again.text
        );
    }
    // At the county centre the ladder ends.
    let top = seed_case(&app, 2, |_| {}).await;
    let centre = app.committee_id("620722-CENTER").await;
    app.post(
        &format!("/api/v1/cases/{top}/reassign"),
        &app.admin,
        json!({"committee_id": centre, "reason": "x"}),
    )
    .await;
    let no_more = app
        .post(
            &format!("/api/v1/cases/{top}/escalate"),
            &app.admin,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(no_more.status, StatusCode::CONFLICT, "{}", no_more.text);
}

async fn rules_reorder_and_validation_warn_about_rules_that_cannot_fire(db: &TestDb) {
    let app = spawn(db).await;
    let rules = app.get("/api/v1/routing/rules", &app.viewer).await;
    let list = rules.json.as_array().unwrap();
    assert_eq!(list.len(), 10);
    assert_eq!(list[1]["conditions"]["categories"], json!(["labor"]));
    assert_eq!(list[1]["target"]["type"], "nearest");

    // A labour rule after the catch-all village rule can never fire first.
    let v = app
        .post("/api/v1/routing/rules/validate", &app.viewer,
              json!({"name": "晚到的劳动规则", "priority": 200, "conditions": {"categories": ["labor"]},
                     "target": {"type": "nearest", "kind": "township"}}))
        .await;
    assert_eq!(v.json["valid"], true, "{}", v.text);
    let warned: Vec<i64> = v.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["rule_id"].as_i64())
        .collect();
    let catch_all = list[9]["id"].as_i64().unwrap();
    assert!(warned.contains(&catch_all), "{}", v.text);
    let v = app
        .post("/api/v1/routing/rules/validate", &app.viewer,
              json!({"name": "x", "priority": 1, "target": {"type": "committee", "committee_id": 987654}}))
        .await;
    assert_eq!(v.json["valid"], false);
    assert_eq!(v.json["errors"][0]["field"], "target.committee");

    let mut ids: Vec<i64> = list.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.reverse();
    let re = app
        .post(
            "/api/v1/routing/rules/reorder",
            &app.admin,
            json!({"ids": ids}),
        )
        .await;
    let order: Vec<i64> = re
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, ids);
    assert_eq!(re.json[0]["priority"], 10);
    // The catch-all now comes first: a labour case goes to a village.
    let sim = app
        .post(
            "/api/v1/routing/simulate",
            &app.viewer,
            json!({"category": "labor", "region_code": "620722101201", "language": "zh-CN"}),
        )
        .await;
    assert_eq!(sim.json["rule_id"], catch_all, "{}", sim.text);
    assert!(
        sim.json["text"].as_str().unwrap().contains("公里"),
        "{}",
        sim.text
    );

    let one = app
        .get(&format!("/api/v1/routing/rules/{catch_all}"), &app.viewer)
        .await;
    assert_eq!(one.json["target"]["max_distance_km"], 15.0);
    let del = app
        .call(
            Method::DELETE,
            &format!("/api/v1/routing/rules/{catch_all}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/routing/rules/{catch_all}"), &app.admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn statistics_follow_their_documented_definitions(db: &TestDb) {
    let app = spawn(db).await;
    let now = app.clock.now_ms();
    // Resolved in the period, accepted 2 h after assignment, rated 5, fulfilled.
    let resolved = seed_case(&app, 1, |c| {
        c.status = CaseStatus::Resolved;
        c.submitted_at = now - 10 * DAY;
        c.assigned_at = Some(now - 10 * DAY);
        c.accepted_at = Some(now - 10 * DAY + 2 * HOUR);
        c.accept_deadline = Some(now - 9 * DAY);
        c.resolved_at = Some(now - 4 * DAY);
        c.resolve_deadline = Some(now + 20 * DAY);
        c.rating = Some(5);
        c.fulfilment = Some("full".into());
    })
    .await;
    // Resolved late, accepted after 6 h, rated 2, partly fulfilled.
    seed_case(&app, 2, |c| {
        c.status = CaseStatus::Resolved;
        c.category = "labor".into();
        c.submitted_at = now - 20 * DAY;
        c.assigned_at = Some(now - 20 * DAY);
        c.accepted_at = Some(now - 20 * DAY + 6 * HOUR);
        c.accept_deadline = Some(now - 19 * DAY);
        c.resolved_at = Some(now - 2 * DAY);
        c.resolve_deadline = Some(now - 3 * DAY);
        c.rating = Some(2);
        c.fulfilment = Some("partial".into());
    })
    .await;
    // Failed in the period.
    let failed = seed_case(&app, 3, |c| {
        c.status = CaseStatus::Failed;
        c.submitted_at = now - 5 * DAY;
        c.assigned_at = Some(now - 5 * DAY);
        c.accept_deadline = Some(now - 4 * DAY);
        c.accepted_at = Some(now - 5 * DAY + HOUR);
    })
    .await;
    {
        let mut c = app.storage.acquire().await.unwrap();
        let case = storage::admin_cases::get_by_number(&mut c, &failed)
            .await
            .unwrap()
            .unwrap();
        let mut tx = app.storage.begin().await.unwrap();
        storage::admin_cases::insert_seed_event(
            &mut tx,
            case.id,
            &storage::admin_cases::NewEvent {
                at: now - DAY,
                actor_kind: "mediator",
                actor_id: "1",
                kind: "failed",
                from_status: CaseStatus::Accepted,
                to_status: CaseStatus::Failed,
                committee_id: case.committee_id,
                reason: "",
                details: json!({}),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // Waiting past its accept deadline, in another township.
    seed_case(&app, 4, |c| {
        c.region_code = "620722100201".into();
        c.submitted_at = now - 3 * DAY;
        c.accept_deadline = Some(now - DAY);
    })
    .await;
    // Outside the period entirely.
    seed_case(&app, 5, |c| c.submitted_at = now - 100 * DAY).await;

    let s = app
        .get("/api/v1/stats?from=2026-10-22&to=2026-11-21", &app.viewer)
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let j = &s.json;
    assert_eq!(
        j["from"], "2026-10-21T16:00:00Z",
        "local midnight in Asia/Shanghai"
    );
    assert_eq!(j["to"], "2026-11-21T16:00:00Z");
    assert_eq!(j["submitted"], 4);
    assert!(j["by_status"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "resolved", "count": 2})));
    assert!(j["by_category"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "labor", "count": 1})));
    assert!(j["by_region"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "620722100", "count": 1})));
    assert_eq!(j["resolved"], 2);
    assert_eq!(j["failed"], 1);
    assert_eq!(j["resolution_rate"], 0.667);
    // Accepted in the period: 2 h, 6 h, 1 h → median 2 h.
    assert_eq!(j["median_hours_to_accept"], 2.0);
    // Resolved after 6 and 18 days → median 12.
    assert_eq!(j["median_days_to_resolve"], 12.0);
    assert_eq!(j["accept_deadline_breaches"], 1);
    assert_eq!(j["resolve_deadline_breaches"], 1);
    assert_eq!(j["satisfaction"]["rated"], 2);
    assert_eq!(j["satisfaction"]["mean"], 3.5);
    assert_eq!(j["fulfilment"]["answered"], 2);
    assert_eq!(j["fulfilment"]["rate"], 0.5);

    let township = app.get("/api/v1/stats?region=620722100", &app.viewer).await;
    assert_eq!(township.json["submitted"], 1);
    assert_eq!(township.json["resolution_rate"], Value::Null);
    let _ = resolved;
}

async fn tokens_are_shown_once_and_stop_working_when_revoked(db: &TestDb) {
    let app = spawn(db).await;
    let t = app
        .post(
            "/api/v1/tokens",
            &app.admin,
            json!({"name": "县司法局", "role": "operator"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED);
    let secret = t.json["token"].as_str().unwrap().to_owned();
    let id = t.json["id"].as_i64().unwrap();
    assert_eq!(
        app.get("/api/v1/cases", &secret).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/tokens", &secret).await.status,
        StatusCode::FORBIDDEN
    );
    let list = app.get("/api/v1/tokens", &app.admin).await;
    assert!(!list.text.contains(&secret), "the secret is never listed");
    let mine = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(mine["role"], "operator");
    assert_eq!(mine["last_used_at"], "2026-11-21T08:00:00Z");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_tokens WHERE token_hash = $1")
        .bind(jiefen::secrets::hash_secret(&secret))
        .fetch_one(app.storage.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/cases", &secret).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        after.json,
        json!({"error": "unauthorized", "message": "missing or invalid token"})
    );
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&app.admin),
            Body::None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn health_readiness_and_metrics_answer(db: &TestDb) {
    let app = spawn(db).await;
    seed_case(&app, 1, |_| {}).await;
    seed_case(&app, 2, |c| c.status = CaseStatus::Accepted).await;
    sqlx::query("INSERT INTO outbox (chat_id, method, payload, next_attempt_at, created_at) VALUES (1, 'sendMessage', '{}', 0, 0)")
        .execute(app.storage.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO early_warning_queue (case_id, queued_at) SELECT MIN(id), 0 FROM cases",
    )
    .execute(app.storage.pool())
    .await
    .unwrap();
    let h = app.call(Method::GET, "/healthz", None, Body::None).await;
    assert_eq!(h.json, json!({"status": "ok"}));
    let r = app.call(Method::GET, "/readyz", None, Body::None).await;
    assert_eq!(r.json, json!({"status": "ready"}));
    let m = app.call(Method::GET, "/metrics", None, Body::None).await;
    assert_eq!(m.status, StatusCode::OK);
    for line in [
        r#"jiefen_cases{status="assigned"} 1"#,
        r#"jiefen_cases{status="accepted"} 1"#,
        r#"jiefen_cases{status="closed"} 0"#,
        "jiefen_outbox_pending 1",
        "jiefen_early_warning_pending 1",
        "jiefen_telegram_updates_received_total 0",
        r#"jiefen_outbox_sends_total{outcome="sent"} 0"#,
        r#"jiefen_routing_decisions_total{outcome="rule"} 0"#,
        "jiefen_handler_seconds_count 0",
    ] {
        assert!(m.text.contains(line), "missing {line} in\n{}", m.text);
    }
}
