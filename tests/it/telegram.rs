//! The Telegram transport against the fake Bot API over real HTTP: durable
//! intake in both modes, exactly-once application in order per chat, and
//! the outbox sender's limits, retries, 429s and 403s.

use crate::on_both_backends;
use crate::support::telegram::{eventually, seen, spawn_app, EchoHandler, Mode, WEBHOOK_SECRET};
use crate::support::TestDb;
use jiefen::clock::{SharedClock, SystemClock};
use jiefen::config::Secret;
use jiefen::outgoing::{InlineButton, InlineKeyboard, Keyboard, OutMessage};
use jiefen::storage::outbox::{self, OutboxStatus};
use jiefen::storage::{inbox, reachability, Backend, Storage, StorageOptions};
use jiefen::telegram::fake_api::{updates, FakeBotApi, FakeFailure, FakeUser};
use jiefen::telegram::intake::Poller;
use jiefen::telegram::sender::{Sender, SenderConfig};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

on_both_backends!(
    polling_confirms_an_update_only_after_it_is_committed_to_the_inbox,
    an_update_interrupted_before_it_was_applied_is_applied_exactly_once_after_a_restart,
    the_same_update_delivered_twice_by_the_webhook_has_one_effect,
    the_same_update_in_one_polling_batch_twice_has_one_effect,
    a_webhook_call_without_the_right_secret_is_refused_and_stores_nothing,
    webhook_mode_registers_once_applies_updates_and_never_deletes_the_webhook,
    every_kind_of_update_reaches_the_handler_as_the_right_event,
    one_chats_updates_are_applied_in_order_while_other_chats_proceed,
    a_handler_that_keeps_failing_is_retried_then_given_up_and_the_chat_moves_on,
    a_429_storm_delays_messages_but_loses_none_and_keeps_their_order,
    the_sender_keeps_to_telegrams_rate_limits,
    a_403_marks_the_resident_unreachable_and_stops_retrying,
    a_mediator_who_blocks_the_bot_is_reported_to_the_admin_chat,
    two_senders_on_one_database_never_send_the_same_row_twice,
    a_5000_character_text_arrives_as_two_messages_telegram_accepts,
    a_rejected_message_is_failed_and_not_retried,
    shutting_down_finishes_the_update_in_flight_and_takes_no_new_ones,
    a_button_answer_does_not_wait_behind_the_chats_messages,
    several_chats_are_applied_in_one_transaction_each_exactly_once_and_in_order,
    replies_are_claimed_in_their_batch_and_released_when_the_sender_has_stopped,
    a_batch_claims_only_its_own_replies_and_none_that_wait_behind_an_earlier_message,
    a_chats_next_message_is_claimed_with_the_sent_mark_of_the_one_before,
);

fn echo() -> Arc<EchoHandler> {
    Arc::new(EchoHandler::default())
}

fn clock() -> SharedClock {
    Arc::new(SystemClock)
}

async fn inbox_counts(db: &TestDb) -> (i64, i64, i64) {
    let mut c = db.storage.acquire().await.unwrap();
    inbox::counts(&mut c).await.unwrap()
}

fn texts(fake: &FakeBotApi, chat: i64) -> Vec<String> {
    fake.messages_to(chat).into_iter().map(|m| m.text).collect()
}

async fn enqueue_all(db: &TestDb, msgs: &[OutMessage]) {
    let mut tx = db.storage.begin().await.unwrap();
    for m in msgs {
        outbox::enqueue(&mut tx, m, None, 0).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn outbox_rows(db: &TestDb, chat: i64) -> Vec<outbox::OutboxRow> {
    let mut c = db.storage.acquire().await.unwrap();
    outbox::for_chat(&mut c, chat).await.unwrap()
}

async fn polling_confirms_an_update_only_after_it_is_committed_to_the_inbox(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1001, "zh-hans");
    let first = fake.push_update(updates::text(&user, 1, "你好"));
    let poller = Poller::new(&fake.url(), &Secret::new(fake.token()), 0).unwrap();

    // The database is gone when the batch arrives: nothing may be confirmed.
    let broken = Storage::connect(&db.url, &StorageOptions::default())
        .await
        .unwrap();
    broken.close().await;
    assert!(poller.poll_once(&broken, &clock()).await.is_err());
    assert_eq!(fake.unconfirmed_update_ids(), vec![first]);

    // Stored now, but still not confirmed until the next getUpdates.
    assert_eq!(poller.poll_once(&db.storage, &clock()).await.unwrap(), 1);
    assert_eq!(fake.unconfirmed_update_ids(), vec![first]);
    let mut c = db.storage.acquire().await.unwrap();
    let row = inbox::get(&mut c, first).await.unwrap().expect("stored");
    assert_eq!(row.chat_id, Some(1001));
    assert!(row.payload.contains("你好"));
    assert_eq!(inbox::poll_offset(&mut c).await.unwrap(), first + 1);
    drop(c);

    // The next call confirms it with offset = last + 1, and it is gone.
    let second = fake.push_update(updates::text(&user, 2, "第二条"));
    assert_eq!(poller.poll_once(&db.storage, &clock()).await.unwrap(), 1);
    assert_eq!(fake.highest_offset(), first + 1);
    assert_eq!(fake.unconfirmed_update_ids(), vec![second]);

    // A new process reads the offset from the database and confirms the rest.
    let restarted = Poller::new(&fake.url(), &Secret::new(fake.token()), 0).unwrap();
    assert_eq!(restarted.poll_once(&db.storage, &clock()).await.unwrap(), 0);
    assert!(fake.unconfirmed_update_ids().is_empty());
    assert_eq!(inbox_counts(db).await, (2, 0, 0));
}

async fn an_update_interrupted_before_it_was_applied_is_applied_exactly_once_after_a_restart(
    db: &TestDb,
) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1002, "zh-hans");
    let gate = Arc::new(Semaphore::new(0));
    let stuck = Arc::new(EchoHandler {
        gate: Some((user.id, gate.clone())),
        ..Default::default()
    });
    let app = spawn_app(db, &fake, Mode::Polling, stuck.clone(), |_| {}).await;
    let id = fake.push_update(updates::text(&user, 1, "我要反映问题"));
    eventually("the handler is in the middle of the update", || {
        let r = stuck.reached_gate.clone();
        async move { r.load(Ordering::SeqCst) }
    })
    .await;
    // Killed mid-transaction: the update is stored, its effects are not.
    app.crash().await;
    assert_eq!(inbox_counts(db).await, (1, 0, 0));
    assert!(seen(db, user.id).await.is_empty());
    assert!(fake.messages_to(user.id).is_empty());

    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    eventually("the reply is delivered", || async {
        texts(&fake, user.id) == ["echo: 我要反映问题"]
    })
    .await;
    eventually("the update is confirmed to Telegram", || async {
        fake.highest_offset() > id
    })
    .await;
    app.stop().await;
    assert_eq!(seen(db, user.id).await, ["我要反映问题"]);
    assert_eq!(inbox_counts(db).await, (0, 1, 0));
    assert_eq!(texts(&fake, user.id), ["echo: 我要反映问题"]);
}

async fn the_same_update_delivered_twice_by_the_webhook_has_one_effect(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1003, "en");
    let app = spawn_app(db, &fake, Mode::Webhook, echo(), |_| {}).await;
    let mut update = updates::text(&user, 1, "hello <world> & co");
    let id = fake.push_update(update.clone());
    update["update_id"] = id.into();
    // Telegram did not see our 200 and delivers the same update again.
    fake.push_update(update);
    eventually("both deliveries were answered 200", || async {
        fake.webhook_attempts()
            .iter()
            .filter(|a| a.update_id == id && a.status == 200)
            .count()
            == 2
    })
    .await;
    eventually("the reply is delivered", || async {
        !fake.messages_to(user.id).is_empty()
    })
    .await;
    app.stop().await;
    assert_eq!(seen(db, user.id).await, ["hello <world> & co"]);
    assert_eq!(texts(&fake, user.id), ["echo: hello <world> & co"]);
    assert_eq!(inbox_counts(db).await, (0, 1, 0));
}

async fn the_same_update_in_one_polling_batch_twice_has_one_effect(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1004, "en");
    let mut update = updates::text(&user, 1, "once");
    let id = fake.push_update(update.clone());
    update["update_id"] = id.into();
    fake.push_update(update);
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    eventually("the reply is delivered", || async {
        !fake.messages_to(user.id).is_empty()
    })
    .await;
    eventually("the batch is confirmed", || async {
        fake.unconfirmed_update_ids().is_empty()
    })
    .await;
    app.stop().await;
    assert_eq!(seen(db, user.id).await, ["once"]);
    assert_eq!(texts(&fake, user.id), ["echo: once"]);
}

async fn a_webhook_call_without_the_right_secret_is_refused_and_stores_nothing(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let app = spawn_app(db, &fake, Mode::Webhook, echo(), |_| {}).await;
    let url = app.webhook_url.clone().unwrap();
    let user = FakeUser::new(1005, "en");
    let mut update = updates::text(&user, 1, "forged");
    update["update_id"] = 42.into();
    let client = reqwest::Client::new();
    let missing = client.post(url.clone()).json(&update).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = client
        .post(url.clone())
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret_for-tesTs")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let longer = client
        .post(url.clone())
        .header(
            "X-Telegram-Bot-Api-Secret-Token",
            format!("{WEBHOOK_SECRET}x"),
        )
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(longer.status(), 401);
    let bad_json = client
        .post(url.clone())
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    app.stop().await;
    assert_eq!(inbox_counts(db).await, (0, 0, 0));
    assert!(fake.messages_to(user.id).is_empty());
}

async fn webhook_mode_registers_once_applies_updates_and_never_deletes_the_webhook(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1006, "zh-hant");
    let app = spawn_app(db, &fake, Mode::Webhook, echo(), |_| {}).await;
    let url = app.webhook_url.clone().unwrap();
    assert_eq!(
        fake.webhook(),
        Some((url.to_string(), Some(WEBHOOK_SECRET.to_owned())))
    );
    fake.push_update(updates::text(&user, 1, "第一"));
    fake.push_update(updates::text(&user, 2, "第二"));
    eventually("both replies are delivered", || async {
        texts(&fake, user.id) == ["echo: 第一", "echo: 第二"]
    })
    .await;
    app.stop().await;
    assert_eq!(fake.calls_to("setWebhook").len(), 1);
    assert!(fake.calls_to("deleteWebhook").is_empty());
    assert!(fake.calls_to("getUpdates").is_empty());
    assert!(
        fake.webhook().is_some(),
        "the webhook outlives this instance"
    );
    // The command menu is registered in Chinese (default, zh) and English.
    let menus = fake.calls_to("setMyCommands");
    assert_eq!(menus.len(), 3);
    let en = menus
        .iter()
        .find(|c| c.params["language_code"] == "en")
        .expect("English menu");
    let names: Vec<&str> = en.params["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["start", "mycases", "language", "help", "cancel"]);
    assert_eq!(en.params["commands"][1]["description"], "My cases");
}

async fn every_kind_of_update_reaches_the_handler_as_the_right_event(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(1007, "zh-hans");
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    fake.push_update(updates::command(&user, 1, "/start inv_ABC"));
    eventually("the first reply", || async {
        fake.messages_to(user.id).len() == 1
    })
    .await;
    let bot_msg = fake.messages_to(user.id)[0].clone();
    let cb = fake.next_callback_id();
    fake.push_update(updates::callback(&user, &cb, &bot_msg, "c:y"));
    fake.push_update(updates::command(&user, 2, "/mycases@jiefen_test_bot"));
    fake.push_update(updates::location(&user, 3, 38.5, 100.75));
    fake.push_update(updates::contact(&user, 4, "+86 138 0000 0000", true));
    fake.push_update(updates::photo(&user, 5, Some("门口")));
    fake.push_update(updates::document(&user, 6, "合同.pdf"));
    fake.push_update(updates::voice(&user, 7, 12));
    fake.push_update(updates::edited_text(&user, 1, "/start changed"));
    fake.push_update(updates::sticker(&user, 8));
    fake.push_update(updates::group_text(&user, -100_555, 9, "群里说话"));
    fake.push_update(serde_json::json!({"poll_answer": {"poll_id": "1", "option_ids": [0]}}));
    let expected = [
        "/start [inv_ABC]".to_owned(),
        "button c:y".into(),
        "/mycases []".into(),
        "location 38.5,100.75".into(),
        format!("contact +86 138 0000 0000 Some({})", user.id),
        "photo ph5_2".into(),
        "document doc6".into(),
        "voice voice7".into(),
        "edited".into(),
        "unsupported sticker".into(),
    ];
    eventually("every update is applied", || async {
        inbox_counts(db).await == (0, 12, 0)
    })
    .await;
    assert_eq!(seen(db, user.id).await, expected);
    assert_eq!(seen(db, -100_555).await, ["群里说话"]);
    eventually("the button press is answered", || async {
        fake.calls_to("answerCallbackQuery")
            .iter()
            .any(|c| c.params["callback_query_id"] == cb.as_str() && c.status == 200)
    })
    .await;
    app.stop().await;
}

async fn one_chats_updates_are_applied_in_order_while_other_chats_proceed(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let a = FakeUser::new(2001, "en");
    let b = FakeUser::new(2002, "en");
    // On PostgreSQL chat A is held at a gate while B goes on in other
    // batches (one chat a batch here: a batch's chats commit together, so a
    // handler that blocks holds up the rest of its own batch, never another
    // batch); SQLite has a single writer, so there only the order is checked.
    let gate = Arc::new(Semaphore::new(0));
    let pg = db.backend() == Backend::Postgres;
    let handler = Arc::new(EchoHandler {
        gate: pg.then(|| (a.id, gate.clone())),
        ..Default::default()
    });
    let app = spawn_app(db, &fake, Mode::Polling, handler.clone(), |s| {
        s.applier.concurrency = 4;
        s.applier.batch_size = 1;
    })
    .await;
    for i in 1..=5 {
        fake.push_update(updates::text(&a, i, &format!("a{i}")));
        fake.push_update(updates::text(&b, i, &format!("b{i}")));
    }
    let b_all: Vec<String> = (1..=5).map(|i| format!("b{i}")).collect();
    eventually("chat B is fully applied", || async {
        seen(db, b.id).await == b_all
    })
    .await;
    if pg {
        assert!(handler.reached_gate.load(Ordering::SeqCst));
        assert!(seen(db, a.id).await.is_empty(), "A is still held");
        gate.add_permits(5);
    }
    let a_all: Vec<String> = (1..=5).map(|i| format!("a{i}")).collect();
    eventually("chat A is applied in order", || async {
        seen(db, a.id).await == a_all
    })
    .await;
    let a_replies: Vec<String> = a_all.iter().map(|t| format!("echo: {t}")).collect();
    eventually("A's replies arrive in order", || async {
        texts(&fake, a.id) == a_replies
    })
    .await;
    app.stop().await;
}

async fn a_handler_that_keeps_failing_is_retried_then_given_up_and_the_chat_moves_on(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(2003, "en");
    let failing = Arc::new(EchoHandler {
        fail_chat: Some(user.id),
        ..Default::default()
    });
    let app = spawn_app(db, &fake, Mode::Polling, failing, |s| {
        s.applier.max_attempts = 3;
    })
    .await;
    let id = fake.push_update(updates::text(&user, 1, "doomed"));
    eventually("the update is given up", || async {
        inbox_counts(db).await == (0, 0, 1)
    })
    .await;
    app.stop().await;
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(inbox::get(&mut c, id).await.unwrap().unwrap().attempts, 3);
    drop(c);
    assert!(seen(db, user.id).await.is_empty());
    assert!(fake.messages_to(user.id).is_empty());

    // With a working handler the chat's next update goes through.
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    fake.push_update(updates::text(&user, 2, "next"));
    eventually("the next update is applied", || async {
        texts(&fake, user.id) == ["echo: next"]
    })
    .await;
    app.stop().await;
}

async fn a_429_storm_delays_messages_but_loses_none_and_keeps_their_order(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    fake.fail_next(6, FakeFailure::TooManyRequests { retry_after: 1 });
    let chats = [3001_i64, 3002, 3003];
    let mut msgs = Vec::new();
    for i in 1..=3 {
        for c in chats {
            msgs.push(OutMessage::text(c, format!("chat {c} message {i}")));
        }
    }
    enqueue_all(db, &msgs).await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("every message is delivered", || async {
        chats.iter().all(|c| fake.messages_to(*c).len() == 3)
    })
    .await;
    app.stop().await;
    assert_eq!(fake.too_many_requests_count(), 6);
    for c in chats {
        let want: Vec<String> = (1..=3).map(|i| format!("chat {c} message {i}")).collect();
        assert_eq!(texts(&fake, c), want);
        assert!(outbox_rows(db, c)
            .await
            .iter()
            .all(|r| r.status == OutboxStatus::Sent));
    }
}

async fn the_sender_keeps_to_telegrams_rate_limits(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    fake.set_rate_limit(true);
    let mut msgs: Vec<OutMessage> = (0..40)
        .map(|i| OutMessage::text(4000 + i, format!("notice {i}")))
        .collect();
    for i in 1..=3 {
        msgs.push(OutMessage::text(4000, format!("more {i}")));
    }
    enqueue_all(db, &msgs).await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("all 43 messages are delivered", || async {
        fake.sent_messages().len() == 43
    })
    .await;
    app.stop().await;
    assert_eq!(fake.too_many_requests_count(), 0, "no 429 was ever needed");
    assert_eq!(
        texts(&fake, 4000),
        ["notice 0", "more 1", "more 2", "more 3"]
    );
}

async fn insert_resident(db: &TestDb, chat: i64) {
    sqlx::query(
        "INSERT INTO residents (telegram_user_id, chat_id, language, created_at) VALUES ($1, $1, 'zh-CN', 0)",
    )
    .bind(chat)
    .execute(db.storage.pool())
    .await
    .unwrap();
}

async fn a_403_marks_the_resident_unreachable_and_stops_retrying(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let chat = 5001;
    insert_resident(db, chat).await;
    fake.block(chat);
    enqueue_all(
        db,
        &[
            OutMessage::text(chat, "您的案件已受理"),
            OutMessage::text(chat, "调解员已接案"),
        ],
    )
    .await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("both rows are dropped", || async {
        let rows = outbox_rows(db, chat).await;
        rows.len() == 2 && rows.iter().all(|r| r.status == OutboxStatus::Dropped)
    })
    .await;
    app.stop().await;
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(
        reachability::resident_reachable(&mut c, chat)
            .await
            .unwrap(),
        Some(false)
    );
    let tries = fake
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.params["chat_id"] == chat)
        .count();
    assert_eq!(tries, 1, "one 403 is enough; the rest is not tried");
    assert_eq!(outbox::pending_count(&mut c).await.unwrap(), 0);
}

async fn a_mediator_who_blocks_the_bot_is_reported_to_the_admin_chat(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let pool = db.storage.pool();
    sqlx::query("INSERT INTO regions (code, name, level) VALUES ('620722', '民乐县', 'county')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO committees (code, name, kind, region_code, lat, lon, created_at, updated_at)
         VALUES ('MLX-01', '洪水镇人民调解委员会', 'township', '620722', 38.4, 100.8, 0, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    let committee: i64 = sqlx::query_scalar("SELECT id FROM committees WHERE code = 'MLX-01'")
        .fetch_one(pool)
        .await
        .unwrap();
    let mediator_chat = 6001;
    sqlx::query(
        "INSERT INTO mediators (committee_id, name, telegram_user_id, chat_id, created_at)
         VALUES ($1, '王<调解>', $2, $2, 0)",
    )
    .bind(committee)
    .bind(mediator_chat)
    .execute(pool)
    .await
    .unwrap();
    let mediator_id: i64 = sqlx::query_scalar("SELECT id FROM mediators WHERE chat_id = $1")
        .bind(mediator_chat)
        .fetch_one(pool)
        .await
        .unwrap();
    let admin_chat = -100_900;
    fake.block(mediator_chat);
    enqueue_all(db, &[OutMessage::text(mediator_chat, "新案件")]).await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |s| {
        s.admin_chat_id = Some(admin_chat);
    })
    .await;
    app.runtime.outbox_notify.notify_one();
    eventually("the admin chat is told", || async {
        !fake.messages_to(admin_chat).is_empty()
    })
    .await;
    app.stop().await;
    let alert = &fake.messages_to(admin_chat)[0];
    assert!(alert.text.contains("王<调解>"), "{}", alert.text);
    assert!(alert.text.contains(&mediator_id.to_string()));
    assert!(alert.text.contains("洪水镇人民调解委员会"));
    assert_eq!(fake.messages_to(admin_chat).len(), 1);
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(
        reachability::mediator_reachable(&mut c, mediator_chat)
            .await
            .unwrap(),
        Some(false)
    );
}

async fn two_senders_on_one_database_never_send_the_same_row_twice(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let mut msgs = Vec::new();
    for round in 1..=2 {
        for chat in 7000..7030 {
            msgs.push(OutMessage::text(chat, format!("{chat}-{round}")));
        }
    }
    enqueue_all(db, &msgs).await;
    // A second pool stands for a second instance.
    let other = Storage::connect(
        &db.url,
        &StorageOptions {
            max_connections: 4,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let shutdown = CancellationToken::new();
    let cfg = SenderConfig {
        sweep_interval: Duration::from_millis(20),
        ..Default::default()
    };
    let mut tasks = Vec::new();
    for (i, storage) in [db.storage.clone(), other.clone()].into_iter().enumerate() {
        let sender = Sender::new(
            &fake.url(),
            &Secret::new(fake.token()),
            storage,
            clock(),
            None,
            format!("instance-{i}"),
            cfg.clone(),
        );
        tasks.push(tokio::spawn(
            sender.run(Arc::new(Notify::new()), shutdown.clone()),
        ));
    }
    eventually("all 60 rows are sent", || async {
        let mut c = db.storage.acquire().await.unwrap();
        outbox::pending_count(&mut c).await.unwrap() == 0
    })
    .await;
    shutdown.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    other.close().await;
    let sent = fake.calls_to("sendMessage");
    assert_eq!(sent.len(), 60, "each row sent exactly once");
    let mut seen_texts: Vec<String> = sent
        .iter()
        .map(|c| c.params["text"].as_str().unwrap().to_owned())
        .collect();
    seen_texts.sort();
    seen_texts.dedup();
    assert_eq!(seen_texts.len(), 60);
    for chat in 7000..7030 {
        assert_eq!(
            texts(&fake, chat),
            [format!("{chat}-1"), format!("{chat}-2")]
        );
    }
}

async fn a_5000_character_text_arrives_as_two_messages_telegram_accepts(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let chat = 8001;
    let line = format!("<b>第{{}}行</b> {} &amp; 结束\n", "调".repeat(40));
    let mut html = String::new();
    let mut i = 0;
    while html.chars().count() < 5000 {
        html.push_str(&line.replace("{}", &i.to_string()));
        i += 1;
    }
    let keyboard = Keyboard::Inline(InlineKeyboard::column(vec![InlineButton::new("好", "ok")]));
    enqueue_all(
        db,
        &[OutMessage::with_keyboard(chat, html.clone(), keyboard)],
    )
    .await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("both parts arrive", || async {
        fake.messages_to(chat).len() == 2
    })
    .await;
    app.stop().await;
    let parts = fake.messages_to(chat);
    assert!(fake.calls_to("sendMessage").iter().all(|c| c.status == 200));
    let whole =
        jiefen::telegram::html::visible_text(&jiefen::telegram::html::tokenize(&html).unwrap());
    assert_eq!(format!("{}{}", parts[0].text, parts[1].text), whole);
    assert!(parts[0].reply_markup.is_none());
    assert_eq!(parts[1].button_data(), ["ok"]);
    assert!(parts.iter().all(|p| p.text.encode_utf16().count() <= 4096));
}

async fn a_rejected_message_is_failed_and_not_retried(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let chat = 8002;
    enqueue_all(
        db,
        &[
            OutMessage::text(chat, "<blink>broken</blink>"),
            OutMessage::text(chat, "fine"),
        ],
    )
    .await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("the good message after it still goes out", || async {
        texts(&fake, chat) == ["fine"]
    })
    .await;
    app.stop().await;
    let rows = outbox_rows(db, chat).await;
    assert_eq!(rows[0].status, OutboxStatus::Failed);
    assert_eq!(rows[1].status, OutboxStatus::Sent);
    let refused = fake
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.status == 400)
        .count();
    assert_eq!(refused, 1);
}

async fn shutting_down_finishes_the_update_in_flight_and_takes_no_new_ones(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let user = FakeUser::new(9001, "zh-hans");
    let gate = Arc::new(Semaphore::new(0));
    let handler = Arc::new(EchoHandler {
        gate: Some((user.id, gate.clone())),
        ..Default::default()
    });
    let app = spawn_app(db, &fake, Mode::Polling, handler.clone(), |_| {}).await;
    fake.push_update(updates::text(&user, 1, "在处理"));
    eventually("the update is being handled", || {
        let r = handler.reached_gate.clone();
        async move { r.load(Ordering::SeqCst) }
    })
    .await;
    app.shutdown.cancel();
    let late = fake.push_update(updates::text(&user, 2, "太晚了"));
    gate.add_permits(1);
    tokio::time::timeout(Duration::from_secs(30), app.runtime.join())
        .await
        .expect("stops after the update in flight");
    assert_eq!(seen(db, user.id).await, ["在处理"]);
    let mut c = db.storage.acquire().await.unwrap();
    assert!(
        inbox::get(&mut c, late).await.unwrap().is_none(),
        "no new intake after shutdown"
    );
    assert_eq!(fake.unconfirmed_update_ids(), vec![late]);
}

async fn a_button_answer_does_not_wait_behind_the_chats_messages(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    let chat = 9002;
    let mut msgs: Vec<OutMessage> = (1..=3)
        .map(|i| OutMessage::text(chat, format!("part {i}")))
        .collect();
    msgs.push(OutMessage::answer(chat, "cb-1", None));
    enqueue_all(db, &msgs).await;
    let app = spawn_app(db, &fake, Mode::Polling, echo(), |_| {}).await;
    app.runtime.outbox_notify.notify_one();
    eventually("everything is sent", || async {
        fake.messages_to(chat).len() == 3 && !fake.calls_to("answerCallbackQuery").is_empty()
    })
    .await;
    app.stop().await;
    let order: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| matches!(c.method.as_str(), "sendMessage" | "answerCallbackQuery"))
        .map(|c| c.method)
        .collect();
    // Messages to one chat are a second apart; the answer goes out at once.
    let answer_at = order
        .iter()
        .position(|m| m == "answerCallbackQuery")
        .unwrap();
    assert!(answer_at < 2, "{order:?}");
    assert_eq!(texts(&fake, chat), ["part 1", "part 2", "part 3"]);
}

/// The fake answers like Telegram where it matters, as teloxide sees it.
#[tokio::test]
async fn the_fake_bot_api_refuses_what_telegram_refuses() {
    use teloxide::prelude::Requester;
    use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};
    use teloxide::{ApiError, RequestError};
    let fake = FakeBotApi::start().await.unwrap();
    let bot = teloxide::Bot::new(fake.token()).set_api_url(fake.url());
    let me = bot.get_me().await.unwrap();
    assert_eq!(me.username(), jiefen::telegram::fake_api::BOT_USERNAME);

    let mut long = bot.send_message(ChatId(1), format!("{}&lt;", "字".repeat(4096)));
    long.parse_mode = Some(ParseMode::Html);
    assert!(matches!(
        long.await,
        Err(RequestError::Api(ApiError::MessageIsTooLong))
    ));
    // 4096 after entity parsing is fine even though the HTML is longer.
    let mut just = bot.send_message(ChatId(1), format!("{}&amp;", "字".repeat(4095)));
    just.parse_mode = Some(ParseMode::Html);
    assert!(just.await.is_ok());

    let mut bad = bot.send_message(ChatId(1), "<b>unclosed");
    bad.parse_mode = Some(ParseMode::Html);
    assert!(matches!(
        bad.await,
        Err(RequestError::Api(ApiError::CantParseEntities(_)))
    ));

    let mut data = bot.send_message(ChatId(1), "buttons");
    data.reply_markup = Some(
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("x", "y".repeat(65))]]).into(),
    );
    assert!(matches!(
        data.await,
        Err(RequestError::Api(ApiError::ButtonDataInvalid))
    ));

    fake.block(2);
    assert!(matches!(
        bot.send_message(ChatId(2), "hi").await,
        Err(RequestError::Api(ApiError::BotBlocked))
    ));

    fake.fail_next(1, FakeFailure::TooManyRequests { retry_after: 7 });
    match bot.send_message(ChatId(1), "hi").await {
        Err(RequestError::RetryAfter(s)) => assert_eq!(s.seconds(), 7),
        other => panic!("expected 429, got {other:?}"),
    }

    let sent = bot.send_message(ChatId(1), "edit me").await.unwrap();
    let mut same = bot.edit_message_text(ChatId(1), sent.id, "edit me");
    same.reply_markup = None;
    assert!(matches!(
        same.await,
        Err(RequestError::Api(ApiError::MessageNotModified))
    ));
    assert!(bot
        .edit_message_text(ChatId(1), sent.id, "edited")
        .await
        .is_ok());
}

/// Stores `texts` of each user straight into the inbox, as intake would,
/// interleaved: a1, b1, c1, a2, b2, c2, …
async fn store_interleaved(db: &TestDb, users: &[&FakeUser], per_user: i32) {
    let mut batch = Vec::new();
    let mut id = 700_000_000;
    for i in 1..=per_user {
        for u in users {
            id += 1;
            let mut upd = updates::text(u, i, &format!("{}-{i}", u.id));
            upd["update_id"] = serde_json::json!(id);
            batch.push(upd);
        }
    }
    jiefen::telegram::intake::store_batch(&db.storage, &batch, 0)
        .await
        .unwrap();
}

async fn several_chats_are_applied_in_one_transaction_each_exactly_once_and_in_order(db: &TestDb) {
    use jiefen::telegram::applier::{Applier, ApplierConfig};
    let a = FakeUser::new(6001, "en");
    let b = FakeUser::new(6002, "en");
    let c = FakeUser::new(6003, "en");
    store_interleaved(db, &[&a, &b, &c], 3).await;
    // Chat C's handler fails; its retry is an hour away.
    let handler = Arc::new(EchoHandler {
        fail_chat: Some(c.id),
        ..Default::default()
    });
    let applier = Applier::new(
        db.storage.clone(),
        clock(),
        handler,
        None,
        Arc::new(Notify::new()),
        ApplierConfig {
            base_backoff: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    // One transaction takes the first update of every chat (one per chat,
    // so order within a chat holds), and C's failure undoes only C's part.
    assert_eq!(applier.apply_batch().await.unwrap(), 3);
    assert_eq!(seen(db, a.id).await, ["6001-1"]);
    assert_eq!(seen(db, b.id).await, ["6002-1"]);
    assert!(seen(db, c.id).await.is_empty(), "C's effects rolled back");
    let first_c = {
        let mut conn = db.storage.acquire().await.unwrap();
        inbox::get(&mut conn, 700_000_003).await.unwrap().unwrap()
    };
    assert_eq!(first_c.status, inbox::InboxStatus::Pending);
    assert_eq!(first_c.attempts, 1, "C's failed attempt is recorded");
    assert_eq!(outbox_rows(db, a.id).await.len(), 1);
    assert_eq!(outbox_rows(db, b.id).await.len(), 1);
    assert!(outbox_rows(db, c.id).await.is_empty(), "no reply for C");

    // A and B go on together; C waits out its retry delay, and its later
    // updates wait behind it.
    assert_eq!(applier.apply_batch().await.unwrap(), 2);
    assert_eq!(applier.apply_batch().await.unwrap(), 2);
    assert_eq!(applier.apply_batch().await.unwrap(), 0);
    assert_eq!(seen(db, a.id).await, ["6001-1", "6001-2", "6001-3"]);
    assert_eq!(seen(db, b.id).await, ["6002-1", "6002-2", "6002-3"]);
    assert!(seen(db, c.id).await.is_empty());
    let replies: Vec<String> = outbox_rows(db, a.id)
        .await
        .into_iter()
        .map(|r| format!("{:?}", r.body))
        .collect();
    assert_eq!(replies.len(), 3, "one reply per update: {replies:?}");
    for (i, r) in replies.iter().enumerate() {
        assert!(
            r.contains(&format!("6001-{}", i + 1)),
            "in order: {replies:?}"
        );
    }
    assert_eq!(inbox_counts(db).await, (3, 6, 0));
}

/// Who holds a claim on the chat's outbox rows, and until when they are
/// due.
async fn claims(db: &TestDb, chat: i64) -> Vec<(Option<String>, i64)> {
    let mut c = db.storage.acquire().await.unwrap();
    sqlx::query_as("SELECT claimed_by, next_attempt_at FROM outbox WHERE chat_id = $1 ORDER BY id")
        .bind(chat)
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

async fn replies_are_claimed_in_their_batch_and_released_when_the_sender_has_stopped(db: &TestDb) {
    use jiefen::telegram::applier::{Applier, ApplierConfig};
    let fake = FakeBotApi::start().await.unwrap();
    let store = |user: FakeUser, update_id: i64| async move {
        let mut u = updates::text(&user, 1, "你好");
        u["update_id"] = serde_json::json!(update_id);
        jiefen::telegram::intake::store_batch(&db.storage, &[u], 0)
            .await
            .unwrap();
    };
    let sender = Sender::new(
        &fake.url(),
        &Secret::new(fake.token()),
        db.storage.clone(),
        clock(),
        None,
        "instance-h".into(),
        SenderConfig {
            // Nothing is looked for again within the test: what is sent
            // was handed over.
            sweep_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    let applier = Applier::new(
        db.storage.clone(),
        clock(),
        Arc::new(EchoHandler::default()),
        None,
        Arc::new(Notify::new()),
        ApplierConfig::default(),
    )
    .with_handoff(sender.handoff());

    // The reply is claimed for the sender in the transaction that queued it.
    store(FakeUser::new(6101, "en"), 710_000_001).await;
    assert_eq!(applier.apply_batch().await.unwrap(), 1);
    let held = claims(db, 6101).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0.as_deref(), Some("instance-h"));
    // The sender, never poked, sends it.
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sender.run(Arc::new(Notify::new()), shutdown.clone()));
    eventually("the handed-over reply is sent", || async {
        texts(&fake, 6101).len() == 1
    })
    .await;
    eventually("and marked sent", || async {
        outbox_rows(db, 6101).await[0].status == OutboxStatus::Sent
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();

    // With the sender stopped, a claimed reply is released at once rather
    // than held until its lease ends.
    store(FakeUser::new(6102, "en"), 710_000_002).await;
    let before = chrono::Utc::now().timestamp_millis();
    assert_eq!(applier.apply_batch().await.unwrap(), 1);
    let held = claims(db, 6102).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].0, None, "not held by anyone");
    assert!(
        held[0].1 <= chrono::Utc::now().timestamp_millis() && held[0].1 >= before,
        "due now: {held:?}"
    );
    assert_eq!(outbox_rows(db, 6102).await[0].status, OutboxStatus::Pending);
}

async fn a_batch_claims_only_its_own_replies_and_none_that_wait_behind_an_earlier_message(
    db: &TestDb,
) {
    // Queued earlier by someone else: a notice to chat 6201 that is still
    // unsent, and one to chat 6203 that is due.
    enqueue_all(
        db,
        &[
            OutMessage::text(6201, "较早的通知"),
            OutMessage::text(6203, "别处的通知"),
        ],
    )
    .await;
    let mut tx = db.storage.begin().await.unwrap();
    let ids = outbox::enqueue_ids(
        &mut tx,
        &[
            OutMessage::text(6201, "第二条"),
            OutMessage::text(6202, "第一条"),
            OutMessage::text(6202, "第二条"),
        ],
        None,
        0,
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 3);
    let claimed = outbox::claim_ids(&mut tx, "me", 0, 60_000, &ids)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Only 6202's first reply: 6201's waits behind the earlier notice,
    // 6202's second behind its first, and 6203's is not the batch's.
    let got: Vec<(i64, String)> = claimed
        .iter()
        .map(|r| match &r.body {
            jiefen::outgoing::OutBody::Text { html, .. } => (r.chat_id, html.clone()),
            other => panic!("unexpected body {other:?}"),
        })
        .collect();
    assert_eq!(got, vec![(6202, "第一条".to_owned())]);
    assert_eq!(claims(db, 6201).await, vec![(None, 0), (None, 0)]);
    assert_eq!(
        claims(db, 6202).await,
        vec![(Some("me".to_owned()), 60_000), (None, 0)]
    );
    assert_eq!(claims(db, 6203).await, vec![(None, 0)]);
}

async fn a_chats_next_message_is_claimed_with_the_sent_mark_of_the_one_before(db: &TestDb) {
    let fake = FakeBotApi::start().await.unwrap();
    enqueue_all(
        db,
        &[
            OutMessage::text(6301, "第一条"),
            OutMessage::text(6301, "第二条"),
            OutMessage::text(6301, "第三条"),
            OutMessage::text(6302, "另一位"),
        ],
    )
    .await;
    let sender = Sender::new(
        &fake.url(),
        &Secret::new(fake.token()),
        db.storage.clone(),
        clock(),
        None,
        "instance-n".into(),
        SenderConfig {
            // Never swept and never poked: only the claims made with the
            // "sent" marks can find the later messages.
            sweep_interval: Duration::from_secs(3600),
            per_chat_interval: Duration::from_millis(200),
            ..Default::default()
        },
    );
    // The chats' first messages are handed over, as the applier does.
    let mut tx = db.storage.begin().await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let first =
        outbox::claim_next_of_chats(&mut tx, "instance-n", now, now + 60_000, &[6301, 6302])
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.chat_id).collect::<Vec<_>>(),
        vec![6301, 6302],
        "one message per chat, the oldest"
    );
    sender.handoff().give(first).unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sender.run(Arc::new(Notify::new()), shutdown.clone()));
    eventually("every message of chat 6301 is sent", || async {
        texts(&fake, 6301).len() == 3
    })
    .await;
    assert_eq!(texts(&fake, 6301), vec!["第一条", "第二条", "第三条"]);
    assert_eq!(texts(&fake, 6302), vec!["另一位"]);
    eventually("and marked sent", || async {
        outbox_rows(db, 6301)
            .await
            .iter()
            .all(|r| r.status == OutboxStatus::Sent)
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();
}
