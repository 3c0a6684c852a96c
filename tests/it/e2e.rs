//! The whole application, end to end: `app::start` against the fake Bot
//! API, a resident filing through real updates (pressing only the buttons
//! the bot sent), a mediator linked by invite accepting the case, and the
//! resident hearing about it — by long polling and by webhook, on both
//! backends.

use crate::on_both_backends;
use crate::support::telegram::{eventually, WEBHOOK_SECRET};
use crate::support::TestDb;
use jiefen::clock::{Clock, SharedClock, SystemClock};
use jiefen::config::{PolicyConfig, Secret, ServeConfig};
use jiefen::i18n::{t, t0, Lang};
use jiefen::storage::mediators::MediatorFields;
use jiefen::telegram::fake_api::{updates, FakeBotApi, FakeUser, SentMessage};
use serde_json::Value;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct Service {
    fake: FakeBotApi,
    running: jiefen::app::Running,
    shutdown: CancellationToken,
}

async fn start(db: &TestDb, webhook: bool) -> Service {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    let fake = FakeBotApi::start().await.unwrap();
    let (running, shutdown) = start_app(db, &fake, webhook).await;
    Service {
        fake,
        running,
        shutdown,
    }
}

/// Starts the application (again) on `db` against `fake`.
async fn start_app(
    db: &TestDb,
    fake: &FakeBotApi,
    webhook: bool,
) -> (jiefen::app::Running, CancellationToken) {
    start_app_with_clock(db, fake, webhook, Arc::new(SystemClock)).await
}

async fn start_app_with_clock(
    db: &TestDb,
    fake: &FakeBotApi,
    webhook: bool,
    clock: SharedClock,
) -> (jiefen::app::Running, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = ServeConfig {
        bot_token: Secret::new(fake.token()),
        telegram_api_url: fake.url(),
        webhook_url: webhook
            .then(|| url::Url::parse(&format!("http://{addr}/telegram/webhook")).unwrap()),
        webhook_secret: webhook.then(|| Secret::new(WEBHOOK_SECRET)),
        admin_listen: addr,
        admin_chat_id: Some(-100_500),
        send_rate: 30,
        policy: PolicyConfig::default(),
    };
    cfg.validate().unwrap();
    let shutdown = CancellationToken::new();
    let running = jiefen::app::start_with_listener(
        listener,
        db.storage.clone(),
        &cfg,
        clock,
        shutdown.clone(),
    )
    .await
    .expect("the service starts");
    (running, shutdown)
}

/// The newest message to `chat` that has a button labelled `label`.
fn with_button(fake: &FakeBotApi, chat: i64, label: &str) -> Option<(SentMessage, Value)> {
    fake.messages_to(chat).into_iter().rev().find_map(|m| {
        let markup = m.reply_markup.clone()?;
        let rows = markup
            .get("inline_keyboard")
            .or_else(|| markup.get("keyboard"))?
            .as_array()?
            .clone();
        let button = rows
            .iter()
            .filter_map(Value::as_array)
            .flatten()
            .find(|b| b.get("text").and_then(Value::as_str) == Some(label))?
            .clone();
        Some((m, button))
    })
}

/// Waits for a message to `chat` containing `text`.
async fn wait_for_text(fake: &FakeBotApi, chat: i64, text: &str) -> SentMessage {
    eventually(
        &format!("a message to {chat} containing {text:?}"),
        || async { fake.messages_to(chat).iter().any(|m| m.text.contains(text)) },
    )
    .await;
    fake.messages_to(chat)
        .into_iter()
        .rev()
        .find(|m| m.text.contains(text))
        .unwrap()
}

/// Presses the inline button labelled `label` on the newest message that
/// has it, waiting until the bot has sent one.
async fn press(fake: &FakeBotApi, user: &FakeUser, label: &str) {
    eventually(&format!("a button {label:?} for {}", user.id), || async {
        with_button(fake, user.id, label).is_some()
    })
    .await;
    let (message, button) = with_button(fake, user.id, label).unwrap();
    let data = button["callback_data"].as_str().expect("an inline button");
    let id = fake.next_callback_id();
    fake.push_update(updates::callback(user, &id, &message, data));
}

async fn say(fake: &FakeBotApi, user: &FakeUser, text: &str) {
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::text(user, id, text));
}

async fn file_a_wage_dispute(fake: &FakeBotApi, user: &FakeUser, lang: Lang) -> String {
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::command(user, id, "/start"));
    press(fake, user, &t0(lang, "btn-agree")).await;
    press(fake, user, &t0(lang, "category-labor")).await;
    wait_for_text(
        fake,
        user.id,
        &t(
            lang,
            "ask-description",
            &[("max", 2000.into()), ("files", 10.into())],
        ),
    )
    .await;
    say(fake, user, "老板拖欠三个月工资 <共 12000 元> & 不接电话").await;
    wait_for_text(
        fake,
        user.id,
        &t(lang, "ask-other-party", &[("max", 200.into())]),
    )
    .await;
    say(fake, user, "某某建筑公司").await;
    press(fake, user, "3").await;
    eventually("the location button", || async {
        with_button(fake, user.id, &t0(lang, "btn-share-location")).is_some()
    })
    .await;
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::location(user, id, 38.605, 100.80));
    eventually("the phone button", || async {
        with_button(fake, user.id, &t0(lang, "btn-share-phone")).is_some()
    })
    .await;
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::contact(user, id, "+86 138 1234 5678", true));
    press(fake, user, &t0(lang, "btn-risk-no")).await;
    press(fake, user, &t0(lang, "btn-submit")).await;
    let filed = wait_for_text(fake, user.id, "620722-2026-").await;
    let number = filed
        .text
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find(|w| w.starts_with("620722-2026-"))
        .unwrap()
        .to_owned();
    number
}

async fn link_mediator(db: &TestDb, fake: &FakeBotApi, committee_code: &str) -> FakeUser {
    let mut tx = db.storage.begin().await.unwrap();
    let committee = jiefen::storage::committees::get_by_code(&mut tx, committee_code)
        .await
        .unwrap()
        .unwrap();
    let id = jiefen::storage::mediators::insert(
        &mut tx,
        &MediatorFields {
            committee_id: committee.id,
            name: "王建国".into(),
            phone: None,
            language: "zh-CN".into(),
            active: true,
        },
        1,
    )
    .await
    .unwrap();
    let code = "e2eInviteCode0123456789ab";
    jiefen::storage::mediators::insert_invite(
        &mut tx,
        id,
        &jiefen::secrets::hash_secret(code),
        i64::MAX / 2,
        "test",
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mediator = FakeUser::new(8_001, "zh-hans");
    let mid = fake.next_message_id(mediator.id);
    fake.push_update(updates::command(&mediator, mid, &format!("/start {code}")));
    wait_for_text(fake, mediator.id, "王建国").await;
    mediator
}

async fn whole_loop(db: &TestDb, webhook: bool, lang: Lang) {
    let svc = start(db, webhook).await;
    let fake = &svc.fake;
    if webhook {
        let (url, secret) = fake.webhook().expect("the webhook was registered");
        assert!(url.ends_with("/telegram/webhook"));
        assert_eq!(secret.as_deref(), Some(WEBHOOK_SECRET));
    }
    let mediator = link_mediator(db, fake, "620722-LABOR").await;
    let code = match lang {
        Lang::ZhCn => "zh-hans",
        Lang::ZhTw => "zh-hant",
        Lang::En => "en",
    };
    let resident = FakeUser::new(7_001, code);
    let number = file_a_wage_dispute(fake, &resident, lang).await;

    // The resident's confirmation names the labour committee, its address
    // and phone; the text typed by the resident reached the mediator intact.
    let filed = wait_for_text(fake, resident.id, &number).await;
    assert!(
        filed.text.contains("民乐县劳动人事争议人民调解委员会"),
        "{}",
        filed.text
    );
    assert!(filed.text.contains("0936-4412300"), "{}", filed.text);
    let assignment = wait_for_text(fake, mediator.id, &number).await;
    assert!(
        assignment
            .text
            .contains("老板拖欠三个月工资 <共 12000 元> & 不接电话"),
        "{}",
        assignment.text
    );
    assert!(
        assignment.html.contains("&lt;共 12000 元&gt; &amp;"),
        "{}",
        assignment.html
    );

    // The mediator accepts; the resident hears it.
    press(fake, &mediator, &t0(Lang::ZhCn, "btn-med-accept")).await;
    wait_for_text(fake, resident.id, "王建国").await;

    // Every pressed button was answered, and nothing Telegram refused.
    // Six presses: agree, category, party count, at-risk, submit, accept.
    eventually("every callback answered", || async {
        fake.calls_to("answerCallbackQuery").len() == 6
    })
    .await;
    let mut conn = db.storage.acquire().await.unwrap();
    let case = jiefen::storage::cases::get_by_number(
        &mut conn,
        &jiefen::domain::CaseNumber::parse(&number).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(case.status, jiefen::domain::CaseStatus::Accepted);
    assert_eq!(case.contact_phone.as_deref(), Some("13812345678"));
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(cases, 1, "the filing was applied exactly once");
    drop(conn);
    let storage = db.storage.clone();
    eventually("the outbox drained", || {
        let storage = storage.clone();
        async move {
            let mut c = storage.acquire().await.unwrap();
            let pending: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
            pending == 0
        }
    })
    .await;
    let mut conn = db.storage.acquire().await.unwrap();
    let refused: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT chat_id, method, status FROM outbox WHERE status <> 'sent'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert!(
        refused.is_empty(),
        "every message was accepted by the Bot API: {refused:?}"
    );
    drop(conn);

    // The admin API is served by the same server.
    let health = reqwest::get(format!("http://{}/healthz", svc.running.addr))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("http://{}/metrics", svc.running.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("jiefen_routing_decisions_total{outcome=\"rule\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jiefen_cases{status=\"accepted\"} 1"),
        "{metrics}"
    );
    let applied = metrics
        .lines()
        .find(|l| l.starts_with("jiefen_telegram_updates_applied_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(applied >= 12, "every update was counted: {metrics}");
    let received = metrics
        .lines()
        .find(|l| l.starts_with("jiefen_telegram_updates_received_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert_eq!(
        received, applied,
        "every update received was applied: {metrics}"
    );
    assert!(
        metrics.contains("jiefen_outbox_sends_total{outcome=\"sent\"}"),
        "{metrics}"
    );

    svc.shutdown.cancel();
    svc.running.wait().await.unwrap();
}

on_both_backends!(
    a_resident_files_by_polling_and_the_mediator_accepts,
    a_resident_files_by_webhook_and_the_mediator_accepts,
    a_traditional_chinese_resident_files_by_polling,
    an_english_resident_files_by_webhook,
    a_submit_stored_but_not_applied_before_a_crash_files_exactly_once,
    the_whole_lifecycle_reaches_both_people_through_telegram,
    five_wage_filings_at_one_site_reach_the_admin_chat_as_one_alert,
);

/// Early warning runs after each filing commits: five workers of one site
/// filing about unpaid wages by polling make one cluster alert in the admin
/// chat, naming all five cases, and each resident still gets a number.
async fn five_wage_filings_at_one_site_reach_the_admin_chat_as_one_alert(db: &TestDb) {
    let svc = start(db, false).await;
    let fake = &svc.fake;
    let residents: Vec<FakeUser> = (0..5)
        .map(|i| FakeUser::new(7_100 + i, "zh-hans"))
        .collect();
    let numbers = futures::future::join_all(
        residents
            .iter()
            .map(|r| file_a_wage_dispute(fake, r, Lang::ZhCn)),
    )
    .await;
    let raised = wait_for_text(fake, -100_500, "附近出现同类纠纷聚集").await;
    for n in &numbers {
        assert!(raised.text.contains(n.as_str()), "{n} in {}", raised.text);
    }
    // Nothing is left waiting, and the alert went out once.
    let mut conn = db.storage.acquire().await.unwrap();
    eventually("the early-warning queue to empty", || async {
        let mut c = db.storage.acquire().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM early_warning_queue")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        n == 0
    })
    .await;
    let alerts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a.kind, COUNT(*) FROM alerts a JOIN alert_cases ac ON ac.alert_id = a.id
         GROUP BY a.kind",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(alerts, vec![("cluster".to_owned(), 5)]);
    let to_admin = fake.messages_to(-100_500);
    assert_eq!(
        to_admin
            .iter()
            .filter(|m| m.text.contains("附近出现同类纠纷聚集"))
            .count(),
        1,
        "{to_admin:?}"
    );
    svc.shutdown.cancel();
}

/// File → assign → accept → schedule → reminder the day before → resolve →
/// rating → fulfilment follow-up, every message through the fake Bot API,
/// time moved by hand.
async fn the_whole_lifecycle_reaches_both_people_through_telegram(db: &TestDb) {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    // 10:00 in Minle on Monday 23 November 2026.
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let clock = jiefen::clock::ManualClock::new(start);
    let shared: SharedClock = Arc::new(clock.clone());
    let fake = FakeBotApi::start().await.unwrap();
    let (running, shutdown) = start_app_with_clock(db, &fake, false, shared.clone()).await;
    let fake = &fake;
    let zh = Lang::ZhCn;

    let mediator = link_mediator(db, fake, "620722-LABOR").await;
    let resident = FakeUser::new(7_003, "zh-hans");
    let number = file_a_wage_dispute(fake, &resident, zh).await;
    press(fake, &mediator, &t0(zh, "btn-med-accept")).await;
    wait_for_text(fake, resident.id, "王建国").await;

    // Schedule: the day after tomorrow at 14:30, at the committee.
    press(fake, &mediator, &t0(zh, "btn-med-schedule")).await;
    press(fake, &mediator, "11-25").await;
    press(fake, &mediator, "14:30").await;
    press(fake, &mediator, &t0(zh, "btn-med-place-office")).await;
    let scheduled = wait_for_text(fake, resident.id, "2026-11-25 14:30").await;
    assert!(
        scheduled.text.contains("民乐县人社局三楼"),
        "{}",
        scheduled.text
    );

    // The day before at 08:30 the sweeper reminds both of them, once.
    let lifecycle = jiefen::app::build_lifecycle(
        jiefen::routing::Router::load(&db.storage).await.unwrap(),
        PolicyConfig::default(),
        shared.clone(),
        Some(-100_500),
    );
    let sweeper = jiefen::jobs::Sweeper::new(
        db.storage.clone(),
        lifecycle,
        Arc::new(jiefen::jobs::OutboxQueue),
    );
    clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-24T00:30:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let report = sweeper.tick(clock.now_ms()).await.unwrap();
    assert_eq!(report.meeting_reminders, 1);
    assert_eq!(
        sweeper
            .tick(clock.now_ms())
            .await
            .unwrap()
            .meeting_reminders,
        0
    );
    running.outbox_notify().notify_one();
    wait_for_text(fake, resident.id, "⏰").await;
    wait_for_text(fake, mediator.id, "⏰").await;

    // The meeting reaches an agreement.
    clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-25T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    );
    let id = fake.next_message_id(mediator.id);
    fake.push_update(updates::command(&mediator, id, "/mycases"));
    press(
        fake,
        &mediator,
        &t(zh, "btn-med-view", &[("number", number.clone().into())]),
    )
    .await;
    press(fake, &mediator, &t0(zh, "btn-med-resolved")).await;
    wait_for_text(fake, mediator.id, "达成的协议内容").await;
    say(fake, &mediator, "公司于12月10日前分两次付清工资").await;
    press(fake, &mediator, &t0(zh, "btn-med-judicial-no")).await;
    let resolved = wait_for_text(fake, resident.id, "公司于12月10日前分两次付清工资").await;
    assert!(
        resolved.button_data().len() == 5,
        "five rating buttons: {:?}",
        resolved.reply_markup
    );
    press(fake, &resident, "5").await;

    // Fourteen days later the resident is asked whether it was carried out.
    clock.advance(chrono::Duration::days(14));
    let report = sweeper.tick(clock.now_ms()).await.unwrap();
    assert_eq!(report.followups, 1);
    running.outbox_notify().notify_one();
    press(fake, &resident, &t0(zh, "btn-fulfil-full")).await;
    let storage = db.storage.clone();
    let n = number.clone();
    eventually("rating and fulfilment stored", || {
        let storage = storage.clone();
        let n = n.clone();
        async move {
            let mut c = storage.acquire().await.unwrap();
            let row: (Option<i64>, Option<String>) =
                sqlx::query_as("SELECT rating, fulfilment FROM cases WHERE case_number = $1")
                    .bind(n)
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
            row == (Some(5), Some("full".to_owned()))
        }
    })
    .await;
    shutdown.cancel();
    running.wait().await.unwrap();
}

async fn a_resident_files_by_polling_and_the_mediator_accepts(db: &TestDb) {
    whole_loop(db, false, Lang::ZhCn).await;
}

async fn a_resident_files_by_webhook_and_the_mediator_accepts(db: &TestDb) {
    whole_loop(db, true, Lang::ZhCn).await;
}

async fn a_traditional_chinese_resident_files_by_polling(db: &TestDb) {
    whole_loop(db, false, Lang::ZhTw).await;
}

async fn an_english_resident_files_by_webhook(db: &TestDb) {
    whole_loop(db, true, Lang::En).await;
}

/// The submit press reaches the inbox, then the process dies before
/// applying it (and before Telegram's copy was confirmed). After a restart
/// the case is filed once, the resident told once, and Telegram's
/// redelivery of the same update changes nothing.
async fn a_submit_stored_but_not_applied_before_a_crash_files_exactly_once(db: &TestDb) {
    let svc = start(db, false).await;
    let fake = &svc.fake;
    let user = FakeUser::new(7_002, "zh-hans");
    let lang = Lang::ZhCn;
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::command(&user, id, "/start"));
    press(fake, &user, &t0(lang, "btn-agree")).await;
    press(fake, &user, &t0(lang, "category-neighbor")).await;
    wait_for_text(
        fake,
        user.id,
        &t(
            lang,
            "ask-description",
            &[("max", 2000.into()), ("files", 10.into())],
        ),
    )
    .await;
    say(fake, &user, "邻居家的树挡住了我家的光").await;
    wait_for_text(
        fake,
        user.id,
        &t(lang, "ask-other-party", &[("max", 200.into())]),
    )
    .await;
    say(fake, &user, "隔壁老李").await;
    press(fake, &user, "2").await;
    eventually("the location button", || async {
        with_button(fake, user.id, &t0(lang, "btn-share-location")).is_some()
    })
    .await;
    let id = fake.next_message_id(user.id);
    fake.push_update(updates::location(&user, id, 38.605, 100.80));
    press(fake, &user, &t0(lang, "btn-skip-phone")).await;
    press(fake, &user, &t0(lang, "btn-risk-no")).await;
    eventually("the summary", || async {
        with_button(fake, user.id, &t0(lang, "btn-submit")).is_some()
    })
    .await;

    // The process stops; the submit press arrives at Telegram, and intake
    // had stored it in the inbox when the process died.
    svc.shutdown.cancel();
    svc.running.wait().await.unwrap();
    let (summary, button) = with_button(fake, user.id, &t0(lang, "btn-submit")).unwrap();
    let callback_id = fake.next_callback_id();
    let mut update = updates::callback(
        &user,
        &callback_id,
        &summary,
        button["callback_data"].as_str().unwrap(),
    );
    let update_id = fake.push_update(update.clone());
    update["update_id"] = update_id.into();
    let mut tx = db.storage.begin().await.unwrap();
    let stored =
        jiefen::storage::inbox::insert(&mut tx, update_id, Some(user.id), &update.to_string(), 1)
            .await
            .unwrap();
    assert!(stored);
    tx.commit().await.unwrap();

    // Restart: the stored update is applied, Telegram's copy is a duplicate.
    let (running, shutdown) = start_app(db, fake, false).await;
    wait_for_text(fake, user.id, "620722-2026-000001").await;
    eventually("Telegram's copy confirmed", || async {
        fake.unconfirmed_update_ids().is_empty()
    })
    .await;
    let storage = db.storage.clone();
    eventually("the inbox drained", || {
        let storage = storage.clone();
        async move {
            let mut c = storage.acquire().await.unwrap();
            let pending: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status = 'pending'")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
            pending == 0
        }
    })
    .await;
    let mut conn = db.storage.acquire().await.unwrap();
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(cases, 1);
    drop(conn);
    let told = fake
        .messages_to(user.id)
        .iter()
        .filter(|m| m.text.contains("620722-2026-000001"))
        .count();
    assert_eq!(told, 1, "the resident is told once");
    shutdown.cancel();
    running.wait().await.unwrap();
}
