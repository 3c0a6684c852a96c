//! The resident conversation driven through `Engine::handle` inside real
//! transactions, on the demo data, in all three languages.

use crate::on_both_backends;
use crate::support::TestDb;
use chrono::{TimeZone, Utc};
use jiefen::clock::ManualClock;
use jiefen::config::PolicyConfig;
use jiefen::conversation::{
    AttachmentKind, ChatRef, Engine, Event, Incoming, State, Step, UpdateHandler,
};
use jiefen::i18n::{t, Lang};
use jiefen::outgoing::{InlineButton, Keyboard, OutBody, OutMessage, ShareRequest};
use jiefen::routing::Router;
use sqlx::Row;
use std::sync::Arc;

const ADMIN_CHAT: i64 = -100_777;

/// A test bot: the engine, its clock and the database.
struct Bot<'a> {
    db: &'a TestDb,
    clock: ManualClock,
    engine: Engine,
    msg_id: std::cell::Cell<i32>,
}

/// 2026-03-10 10:00 in Asia/Shanghai.
fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap()
}

async fn engine_for(db: &TestDb, clock: &ManualClock) -> Engine {
    let router = Router::load(&db.storage).await.unwrap();
    Engine::new(
        router,
        PolicyConfig::default(),
        Arc::new(clock.clone()),
        Some(ADMIN_CHAT),
    )
}

async fn bot(db: &TestDb) -> Bot<'_> {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    let clock = ManualClock::new(start_time());
    let engine = engine_for(db, &clock).await;
    Bot {
        db,
        clock,
        engine,
        msg_id: std::cell::Cell::new(100),
    }
}

/// A person talking to the bot in a private chat.
#[derive(Clone)]
struct Person {
    user: i64,
    lang: Option<&'static str>,
    private: bool,
}

fn person(user: i64, lang: &'static str) -> Person {
    Person {
        user,
        lang: Some(lang),
        private: true,
    }
}

impl Bot<'_> {
    /// Handles one event in its own transaction, one second after the last.
    async fn send(&self, p: &Person, event: Event) -> Vec<OutMessage> {
        self.clock.advance(chrono::Duration::seconds(1));
        self.send_now(p, event).await
    }

    /// Handles one event without moving the clock.
    async fn send_now(&self, p: &Person, event: Event) -> Vec<OutMessage> {
        self.msg_id.set(self.msg_id.get() + 1);
        let incoming = Incoming {
            chat: ChatRef {
                id: if p.private { p.user } else { -5000 },
                private: p.private,
            },
            user_id: p.user,
            user_language: p.lang.map(str::to_owned),
            message_id: Some(self.msg_id.get()),
            date: self.clock_secs(),
            event,
        };
        let mut tx = self.db.storage.begin().await.unwrap();
        let out = self.engine.handle(&mut tx, &incoming).await.unwrap();
        tx.commit().await.unwrap();
        for m in &out {
            if let OutBody::Text {
                keyboard: Some(Keyboard::Inline(kb)),
                ..
            } = &m.body
            {
                for b in kb.rows.iter().flatten() {
                    assert!(b.data.len() <= 64, "callback data too long: {}", b.data);
                }
            }
        }
        out
    }

    fn clock_secs(&self) -> i64 {
        use jiefen::clock::Clock;
        self.clock.now_ms() / 1000
    }

    async fn text(&self, p: &Person, s: &str) -> Vec<OutMessage> {
        self.send(p, Event::Text { text: s.into() }).await
    }

    async fn cmd(&self, p: &Person, name: &str) -> Vec<OutMessage> {
        self.send(
            p,
            Event::Command {
                name: name.into(),
                args: String::new(),
            },
        )
        .await
    }

    async fn data(&self, p: &Person, data: &str) -> Vec<OutMessage> {
        self.send(
            p,
            Event::Button {
                callback_id: format!("cb{}", self.msg_id.get()),
                data: data.into(),
            },
        )
        .await
    }

    /// Presses the button labelled `label` among those just shown.
    async fn press(&self, p: &Person, shown: &[OutMessage], label: &str) -> Vec<OutMessage> {
        let data = button(shown, label).data;
        let out = self.data(p, &data).await;
        assert!(
            matches!(
                out.first().map(|m| &m.body),
                Some(OutBody::AnswerCallback { .. })
            ),
            "a pressed button is answered first: {out:?}"
        );
        out
    }

    async fn state(&self, p: &Person) -> Option<State> {
        let mut c = self.db.storage.acquire().await.unwrap();
        let row = sqlx::query("SELECT state FROM conversations WHERE chat_id = $1")
            .bind(p.user)
            .fetch_optional(&mut *c)
            .await
            .unwrap()?;
        let s: String = row.get("state");
        let d: jiefen::conversation::Dialogue = serde_json::from_str(&s).unwrap();
        Some(d.state)
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut *c).await.unwrap()
    }
}

/// Every inline button in the messages.
fn buttons(out: &[OutMessage]) -> Vec<InlineButton> {
    out.iter()
        .filter_map(|m| match &m.body {
            OutBody::Text {
                keyboard: Some(Keyboard::Inline(kb)),
                ..
            } => Some(kb.rows.iter().flatten().cloned().collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn button(out: &[OutMessage], label: &str) -> InlineButton {
    buttons(out)
        .into_iter()
        .find(|b| b.label == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {out:#?}"))
}

/// The HTML of every text message, joined.
fn said(out: &[OutMessage]) -> String {
    out.iter()
        .filter_map(|m| match &m.body {
            OutBody::Text { html, .. } => Some(html.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn callback_notice(out: &[OutMessage]) -> Option<String> {
    out.iter().find_map(|m| match &m.body {
        OutBody::AnswerCallback { text, .. } => text.clone(),
        _ => None,
    })
}

fn tr(lang: Lang, id: &str) -> String {
    t(lang, id, &[])
}

/// How the place is given.
enum Place {
    /// Share this point.
    Share(f64, f64),
    /// Pick county, township, village by name.
    Pick(&'static str, &'static str, &'static str),
    /// Type an address, then pick the township.
    Address(&'static str, &'static str),
}

/// /start, agree, and answer every question up to the summary.
async fn fill_to_summary(
    bot: &Bot<'_>,
    p: &Person,
    lang: Lang,
    category: &str,
    description: &str,
    place: Place,
) -> Vec<OutMessage> {
    let out = bot.cmd(p, "start").await;
    assert!(said(&out).contains(&tr(lang, "welcome-consent")), "{out:?}");
    let out = bot.press(p, &out, &tr(lang, "btn-agree")).await;
    assert!(said(&out).contains(&tr(lang, "ask-category")));
    let out = bot.press(p, &out, &tr(lang, category)).await;
    assert!(said(&out).contains(&t(
        lang,
        "ask-description",
        &[("max", 2000.into()), ("files", 10.into())]
    )));
    let out = bot.text(p, description).await;
    assert!(said(&out).contains(&t(lang, "ask-other-party", &[("max", 200.into())])));
    let out = bot.text(p, "张三 <老板> & Co").await;
    assert!(said(&out).contains(&tr(lang, "ask-parties")));
    let out = bot.press(p, &out, "2").await;
    assert!(said(&out).contains(&tr(lang, "ask-location")));
    let share = out
        .iter()
        .find_map(|m| match &m.body {
            OutBody::Text {
                keyboard: Some(Keyboard::Reply(r)),
                ..
            } => Some(r.rows[0][0].request),
            _ => None,
        })
        .flatten();
    assert_eq!(share, Some(ShareRequest::Location));
    let out = match place {
        Place::Share(lat, lon) => bot.send(p, Event::Location { lat, lon }).await,
        Place::Pick(county, township, village) => {
            let out = bot.press(p, &out, &tr(lang, "btn-pick-region")).await;
            assert!(said(&out).contains(&tr(lang, "ask-county")));
            let out = bot.press(p, &out, county).await;
            assert!(said(&out).contains(&tr(lang, "ask-township")));
            let out = bot.press(p, &out, township).await;
            assert!(said(&out).contains(&tr(lang, "ask-village")));
            bot.press(p, &out, village).await
        }
        Place::Address(address, township) => {
            let out = bot.press(p, &out, &tr(lang, "btn-type-address")).await;
            assert!(said(&out).contains(&t(lang, "ask-address", &[("max", 200.into())])));
            let out = bot.text(p, address).await;
            assert!(said(&out).contains(&tr(lang, "ask-township")), "{out:#?}");
            bot.press(p, &out, township).await
        }
    };
    assert!(said(&out).contains(&tr(lang, "ask-phone")), "{out:#?}");
    let out = bot
        .send(
            p,
            Event::Contact {
                phone: "+86 138-0013-8000".into(),
                contact_user_id: Some(p.user),
            },
        )
        .await;
    // The share-contact keyboard is taken away before the next question.
    assert!(out.iter().any(|m| matches!(
        &m.body,
        OutBody::Text {
            keyboard: Some(Keyboard::Remove),
            ..
        }
    )));
    assert!(said(&out).contains(&tr(lang, "ask-at-risk")));
    let out = bot.press(p, &out, &tr(lang, "btn-risk-no")).await;
    assert!(said(&out).contains("13800138000"), "{}", said(&out));
    out
}

struct CaseRow {
    number: String,
    status: String,
    category: String,
    region: String,
    source: String,
    committee: Option<String>,
    other_party: String,
    party_count: i64,
    phone: Option<String>,
    address: String,
    accept_deadline: Option<i64>,
}

async fn only_case(bot: &Bot<'_>) -> CaseRow {
    let mut c = bot.db.storage.acquire().await.unwrap();
    let rows = sqlx::query(
        "SELECT c.case_number, c.status, c.category, c.region_code, c.location_source,
                m.code AS committee, c.other_party, c.party_count, c.contact_phone, c.address,
                c.accept_deadline
         FROM cases c LEFT JOIN committees m ON m.id = c.committee_id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    CaseRow {
        number: r.get("case_number"),
        status: r.get("status"),
        category: r.get("category"),
        region: r.get("region_code"),
        source: r.get("location_source"),
        committee: r.get("committee"),
        other_party: r.get("other_party"),
        party_count: r.get("party_count"),
        phone: r.get("contact_phone"),
        address: r.get("address"),
        accept_deadline: r.get("accept_deadline"),
    }
}

on_both_backends!(
    an_unpaid_wages_case_shared_from_liuba_goes_to_the_labour_committee_in_chinese,
    a_neighbour_dispute_picked_from_the_region_list_in_traditional_chinese,
    a_dispute_with_a_typed_address_in_english,
    fields_can_be_edited_from_the_summary,
    back_returns_to_the_previous_question_and_cancel_drops_the_draft,
    a_draft_survives_a_restart_and_start_offers_to_resume_it,
    declining_consent_stores_only_the_refusal,
    mycases_shows_status_and_timeline_and_information_can_be_added,
    added_information_is_relayed_to_the_mediator_who_accepted,
    a_case_is_withdrawn_only_after_confirmation,
    wrong_kinds_of_input_get_a_localized_reprompt_and_keep_the_draft,
    text_limits_are_stated_and_enforced,
    a_location_outside_the_served_area_offers_the_list,
    stale_and_forged_buttons_change_nothing,
    edited_messages_are_not_applied,
    group_chats_get_one_polite_answer_and_nothing_is_stored,
    a_flood_is_throttled_with_exactly_one_notice,
    an_at_risk_case_alerts_the_admin_chat_and_mentions_110,
    an_unroutable_case_is_told_kindly_and_the_admin_chat_is_alerted,
    the_region_list_is_paged,
    the_language_can_be_changed_with_the_language_command,
    a_dialogue_saved_by_someone_else_in_between_is_not_overwritten,
    one_batch_of_several_chats_answers_each_from_its_own_state,
    a_batch_counts_flood_control_for_all_its_chats_at_once,
    a_batch_saves_its_dialogues_together_and_one_changed_meanwhile_is_applied_again,
);

async fn an_unpaid_wages_case_shared_from_liuba_goes_to_the_labour_committee_in_chinese(
    db: &TestDb,
) {
    let bot = bot(db).await;
    let p = person(1001, "zh-hans");
    let lang = Lang::ZhCn;
    let out = fill_to_summary(
        &bot,
        &p,
        lang,
        "category-labor",
        "老板欠了我们三个月工资 <共 12000 元>",
        Place::Share(38.606, 100.801),
    )
    .await;
    let summary = said(&out);
    assert!(
        summary.contains("&lt;共 12000 元&gt;"),
        "typed text is escaped: {summary}"
    );
    assert!(summary.contains("张三 &lt;老板&gt; &amp; Co"));
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    let reply = said(&out);
    let case = only_case(&bot).await;
    assert_eq!(case.number, "620722-2026-000001");
    assert_eq!(case.status, "assigned");
    assert_eq!(case.category, "labor");
    assert_eq!(case.region, "620722101201");
    assert_eq!(case.source, "shared");
    assert_eq!(case.committee.as_deref(), Some("620722-LABOR"));
    assert_eq!(case.phone.as_deref(), Some("13800138000"));
    assert_eq!(case.other_party, "张三 <老板> & Co");
    // Accept within 24 hours, shown in Beijing time.
    let deadline = case.accept_deadline.unwrap();
    let filed_at = bot.count("SELECT submitted_at FROM cases").await;
    assert_eq!(deadline - filed_at, 24 * 3_600_000);
    let expected = t(
        lang,
        "filed-ok",
        &[
            ("number", "620722-2026-000001".into()),
            ("committee", "民乐县劳动人事争议人民调解委员会".into()),
            ("address", "民乐县人社局三楼".into()),
            ("phone", "0936-4412300".into()),
            ("deadline", "2026-03-11 10:00".into()),
        ],
    );
    assert!(reply.contains(&expected), "{reply}");
    // The assignment event carries routing's explanation.
    let mut c = db.storage.acquire().await.unwrap();
    let details: String =
        sqlx::query_scalar("SELECT details FROM case_events WHERE kind = 'assigned'")
            .fetch_one(&mut *c)
            .await
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(
        v["explanation"]["committee_name"],
        "民乐县劳动人事争议人民调解委员会"
    );
    drop(c);
    assert_eq!(bot.state(&p).await, Some(State::Idle));
    // A second case in the county takes the next number.
    let out = bot.cmd(&p, "start").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-new-case")).await;
    assert!(said(&out).contains(&tr(lang, "ask-category")));
}

async fn a_neighbour_dispute_picked_from_the_region_list_in_traditional_chinese(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1002, "zh-hk");
    let lang = Lang::ZhTw;
    let out = fill_to_summary(
        &bot,
        &p,
        lang,
        "category-neighbor",
        "鄰居的水管漏水到我家",
        Place::Pick("民乐县", "六坝镇", "五庄村"),
    )
    .await;
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    let case = only_case(&bot).await;
    assert_eq!(case.region, "620722101202");
    assert_eq!(case.source, "region");
    assert_eq!(case.status, "assigned");
    let committee = case.committee.unwrap();
    assert!(committee.ends_with("-VIL"), "{committee}");
    let reply = said(&out);
    assert!(reply.contains("620722-2026-000001"), "{reply}");
    assert!(reply.contains("已經提交"), "{reply}");
    assert!(
        reply.contains("調解員會在 2026-03-11 10:00 前和您聯絡"),
        "{reply}"
    );
}

async fn a_dispute_with_a_typed_address_in_english(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1003, "en-GB");
    let lang = Lang::En;
    let out = fill_to_summary(
        &bot,
        &p,
        lang,
        "category-debt",
        "He borrowed 5000 yuan and won't pay back",
        Place::Address("Group 3, Xintian village", "新天镇"),
    )
    .await;
    assert!(said(&out).contains("Group 3, Xintian village"));
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    let case = only_case(&bot).await;
    assert_eq!(case.region, "620722102");
    assert_eq!(case.source, "address");
    assert_eq!(case.address, "Group 3, Xintian village");
    assert_eq!(case.status, "assigned");
    let reply = said(&out);
    assert!(reply.starts_with("Submitted. Thank you!"), "{reply}");
    assert!(
        reply.contains("A mediator will contact you by 2026-03-11 10:00."),
        "{reply}"
    );
}

async fn fields_can_be_edited_from_the_summary(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1004, "zh-CN");
    let lang = Lang::ZhCn;
    let out = fill_to_summary(
        &bot,
        &p,
        lang,
        "category-neighbor",
        "邻居占了我家的路",
        Place::Pick("民乐县", "洪水镇", "单庄村"),
    )
    .await;
    // Change the party count: back to the summary straight after.
    let out = bot.press(&p, &out, &tr(lang, "btn-edit-parties")).await;
    assert!(said(&out).contains(&tr(lang, "ask-parties")));
    let out = bot.text(&p, "７").await;
    assert!(said(&out).contains("人数：7 人"), "{}", said(&out));
    // Change the other party.
    let _ = bot.press(&p, &out, &tr(lang, "btn-edit-other")).await;
    let out = bot.text(&p, "李四").await;
    assert!(said(&out).contains("对方：李四"));
    // Change the place through the list again; Back while editing returns
    // to the summary.
    let out = bot.press(&p, &out, &tr(lang, "btn-edit-phone")).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains("请核对您填写的内容"));
    let out = bot.press(&p, &out, &tr(lang, "btn-edit-place")).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-pick-region")).await;
    let out = bot.press(&p, &out, "民乐县").await;
    let out = bot.press(&p, &out, "六坝镇").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-whole-township")).await;
    assert!(said(&out).contains("地点：民乐县 六坝镇"), "{}", said(&out));
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    assert!(said(&out).contains("620722-2026-000001"));
    let case = only_case(&bot).await;
    assert_eq!(case.party_count, 7);
    assert_eq!(case.other_party, "李四");
    assert_eq!(case.region, "620722101");
    // Seven people: the township committee takes it (rule "5人以上").
    assert_eq!(case.committee.as_deref(), Some("620722101-TWN"));
}

async fn back_returns_to_the_previous_question_and_cancel_drops_the_draft(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1005, "zh-CN");
    let lang = Lang::ZhCn;
    let out = bot.cmd(&p, "start").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-agree")).await;
    let out = bot.press(&p, &out, &tr(lang, "category-family")).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains(&tr(lang, "ask-category")));
    let _ = bot.press(&p, &out, &tr(lang, "category-land")).await;
    let out = bot.text(&p, "地界有争议").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains(&t(
        lang,
        "ask-description",
        &[("max", 2000.into()), ("files", 10.into())]
    )));
    match bot.state(&p).await {
        Some(State::Filing { draft, step }) => {
            assert_eq!(step, Step::Description);
            assert_eq!(draft.description.as_deref(), Some("地界有争议"));
            assert_eq!(draft.category, Some(jiefen::domain::Category::Land));
        }
        other => panic!("{other:?}"),
    }
    let out = bot.press(&p, &out, &tr(lang, "btn-cancel")).await;
    assert!(said(&out).contains(&tr(lang, "cancelled")));
    assert_eq!(bot.state(&p).await, Some(State::Idle));
    assert_eq!(bot.count("SELECT COUNT(*) FROM cases").await, 0);
    // /cancel with nothing in progress says so.
    let out = bot.cmd(&p, "cancel").await;
    assert!(said(&out).contains(&tr(lang, "nothing-to-cancel")));
}

async fn a_draft_survives_a_restart_and_start_offers_to_resume_it(db: &TestDb) {
    let bot1 = bot(db).await;
    let p = person(1006, "en");
    let lang = Lang::En;
    let out = bot1.cmd(&p, "start").await;
    let out = bot1.press(&p, &out, &tr(lang, "btn-agree")).await;
    let out = bot1.press(&p, &out, &tr(lang, "category-consumer")).await;
    let _ = bot1.text(&p, "The shop sold me a broken fridge").await;
    // "Restart": a new engine over the same database.
    let bot2 = Bot {
        db,
        clock: bot1.clock.clone(),
        engine: engine_for(db, &bot1.clock).await,
        msg_id: std::cell::Cell::new(500),
    };
    drop(out);
    let out = bot2.cmd(&p, "start").await;
    let offer = t(
        lang,
        "resume-offer",
        &[("category", tr(lang, "category-consumer").into())],
    );
    assert!(said(&out).contains(&offer), "{}", said(&out));
    let out = bot2.press(&p, &out, &tr(lang, "btn-resume")).await;
    assert!(said(&out).contains(&t(lang, "ask-other-party", &[("max", 200.into())])));
    match bot2.state(&p).await {
        Some(State::Filing { draft, .. }) => {
            assert_eq!(
                draft.description.as_deref(),
                Some("The shop sold me a broken fridge")
            )
        }
        other => panic!("{other:?}"),
    }
    // Starting over instead empties the draft.
    let out = bot2.cmd(&p, "start").await;
    let out = bot2.press(&p, &out, &tr(lang, "btn-start-over")).await;
    assert!(said(&out).contains(&tr(lang, "ask-category")));
    match bot2.state(&p).await {
        Some(State::Filing { draft, step }) => {
            assert_eq!(step, Step::Category);
            assert_eq!(draft.description, None);
        }
        other => panic!("{other:?}"),
    }
}

async fn declining_consent_stores_only_the_refusal(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1007, "zh-TW");
    let lang = Lang::ZhTw;
    let out = bot.cmd(&p, "start").await;
    assert!(said(&out).contains(&tr(lang, "welcome-consent")));
    let out = bot.press(&p, &out, &tr(lang, "btn-decline")).await;
    assert!(said(&out).contains(&tr(lang, "consent-declined")));
    let mut c = db.storage.acquire().await.unwrap();
    let row = sqlx::query(
        "SELECT consent_at, consent_declined_at, phone, language FROM residents WHERE telegram_user_id = $1",
    )
    .bind(p.user)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    assert_eq!(row.get::<Option<i64>, _>("consent_at"), None);
    assert!(row.get::<Option<i64>, _>("consent_declined_at").is_some());
    assert_eq!(row.get::<Option<String>, _>("phone"), None);
    assert_eq!(row.get::<String, _>("language"), "zh-TW");
    drop(c);
    assert_eq!(bot.count("SELECT COUNT(*) FROM residents").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM conversations").await, 0);
    // Later messages are not kept either; they get a reminder.
    let out = bot.text(&p, "我想反映問題").await;
    assert!(said(&out).contains(&tr(lang, "declined-reminder")));
    assert_eq!(bot.count("SELECT COUNT(*) FROM conversations").await, 0);
    assert_eq!(bot.count("SELECT COUNT(*) FROM cases").await, 0);
    // Changing one's mind works: /start shows the notice again.
    let out = bot.cmd(&p, "start").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-agree")).await;
    assert!(said(&out).contains(&tr(lang, "ask-category")));
}

/// Files a labour case in zh-CN and returns (person, case id).
async fn filed_case(bot: &Bot<'_>, user: i64) -> (Person, i64) {
    let p = person(user, "zh-CN");
    let out = fill_to_summary(
        bot,
        &p,
        Lang::ZhCn,
        "category-labor",
        "工资没发",
        Place::Share(38.606, 100.801),
    )
    .await;
    let _ = bot.press(&p, &out, &tr(Lang::ZhCn, "btn-submit")).await;
    let id = bot.count("SELECT MAX(id) FROM cases").await;
    (p, id)
}

async fn mycases_shows_status_and_timeline_and_information_can_be_added(db: &TestDb) {
    let bot = bot(db).await;
    let lang = Lang::ZhCn;
    let (p, _) = filed_case(&bot, 1008).await;
    let out = bot.cmd(&p, "mycases").await;
    let text = said(&out);
    assert!(text.contains(&tr(lang, "mycases-header")));
    assert!(
        text.contains("620722-2026-000001 · 劳动争议、欠薪 · 已分派，等待受理 · 2026-03-10 10:00"),
        "{text}"
    );
    let label = t(
        lang,
        "btn-timeline-of",
        &[("number", "620722-2026-000001".into())],
    );
    let out = bot.press(&p, &out, &label).await;
    let text = said(&out);
    assert!(text.contains("<b>案件 620722-2026-000001</b>"), "{text}");
    assert!(text.contains("状态：已分派，等待受理"));
    assert!(text.contains("2026-03-10 10:00  提交了纠纷"), "{text}");
    assert!(
        text.contains("分给了民乐县劳动人事争议人民调解委员会"),
        "{text}"
    );
    // Add information.
    let out = bot.press(&p, &out, &tr(lang, "btn-add-info")).await;
    assert!(said(&out).contains(&t(
        lang,
        "ask-add-info",
        &[
            ("number", "620722-2026-000001".into()),
            ("max", 2000.into())
        ]
    )));
    let out = bot.text(&p, "老板电话是 139****").await;
    assert!(said(&out).contains(&t(
        lang,
        "info-added",
        &[("number", "620722-2026-000001".into())]
    )));
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM case_events WHERE kind = 'info_added'")
            .await,
        1
    );
    // Not accepted yet: nobody to relay to.
    assert!(out.iter().all(|m| m.chat_id == p.user));
    // A photo can be added too.
    let out = bot.cmd(&p, "mycases").await;
    let out = bot.press(&p, &out, &label).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-add-info")).await;
    drop(out);
    let out = bot
        .send(
            &p,
            Event::Attachment {
                kind: AttachmentKind::Photo,
                file_id: "F1".into(),
                file_unique_id: "U1".into(),
                caption: Some("工资条".into()),
            },
        )
        .await;
    assert!(said(&out).contains("已经补充到案件 620722-2026-000001"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM case_attachments").await, 1);
    let out = bot.cmd(&p, "mycases").await;
    let out = bot.press(&p, &out, &label).await;
    assert_eq!(said(&out).matches(&tr(lang, "event-info-added")).count(), 2);
}

async fn added_information_is_relayed_to_the_mediator_who_accepted(db: &TestDb) {
    let bot = bot(db).await;
    let lang = Lang::ZhCn;
    let (p, case_id) = filed_case(&bot, 1009).await;
    let mut c = db.storage.acquire().await.unwrap();
    let committee: i64 = sqlx::query_scalar("SELECT committee_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let mediator: i64 = sqlx::query_scalar(
        "INSERT INTO mediators (committee_id, name, telegram_user_id, chat_id, language, created_at)
         VALUES ($1, '王调解', 9001, 9001, 'en', 0) RETURNING id",
    )
    .bind(committee)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    sqlx::query("UPDATE cases SET status = 'accepted', mediator_id = $1 WHERE id = $2")
        .bind(mediator)
        .bind(case_id)
        .execute(&mut *c)
        .await
        .unwrap();
    drop(c);
    let out = bot.data(&p, &format!("K:ai:{case_id}")).await;
    assert!(said(&out).contains("620722-2026-000001"));
    let out = bot.text(&p, "明天上午我在家 <随时>").await;
    let relay: Vec<_> = out.iter().filter(|m| m.chat_id == 9001).collect();
    assert_eq!(relay.len(), 1);
    let expected = t(
        Lang::En,
        "mediator-relay-info",
        &[
            ("number", "620722-2026-000001".into()),
            ("text", "明天上午我在家 &lt;随时&gt;".into()),
        ],
    );
    assert_eq!(said(&out[out.len() - 1..]), expected);
    assert!(said(&out).contains(&t(
        lang,
        "info-added",
        &[("number", "620722-2026-000001".into())]
    )));
}

async fn a_case_is_withdrawn_only_after_confirmation(db: &TestDb) {
    let bot = bot(db).await;
    let lang = Lang::ZhCn;
    let (p, case_id) = filed_case(&bot, 1010).await;
    let out = bot.data(&p, &format!("K:wd:{case_id}")).await;
    let confirm = t(
        lang,
        "confirm-withdraw",
        &[("number", "620722-2026-000001".into())],
    );
    assert!(said(&out).contains(&confirm));
    let out = bot.press(&p, &out, &tr(lang, "btn-withdraw-keep")).await;
    assert!(said(&out).contains(&tr(lang, "withdraw-kept")));
    assert_eq!(only_case(&bot).await.status, "assigned");
    let out = bot.data(&p, &format!("K:wd:{case_id}")).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-withdraw-confirm")).await;
    assert!(said(&out).contains(&t(
        lang,
        "withdrawn-ok",
        &[("number", "620722-2026-000001".into())]
    )));
    assert_eq!(only_case(&bot).await.status, "withdrawn");
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM case_events WHERE kind = 'withdrawn'")
            .await,
        1
    );
    // A withdrawn case cannot be withdrawn again or added to.
    let out = bot.data(&p, &format!("K:ai:{case_id}")).await;
    assert_eq!(callback_notice(&out), Some(tr(lang, "err-case-closed")));
    // Someone else's case is not found.
    let stranger = person(1999, "zh-CN");
    let out = bot.cmd(&stranger, "start").await;
    let _ = bot.press(&stranger, &out, &tr(lang, "btn-agree")).await;
    let out = bot.data(&stranger, &format!("K:tl:{case_id}")).await;
    assert_eq!(callback_notice(&out), Some(tr(lang, "err-not-your-case")));
    assert!(!said(&out).contains("620722-2026-000001"));
}

/// Consents and stops at the category question.
async fn at_category(bot: &Bot<'_>, p: &Person, lang: Lang) -> Vec<OutMessage> {
    let out = bot.cmd(p, "start").await;
    bot.press(p, &out, &tr(lang, "btn-agree")).await
}

async fn wrong_kinds_of_input_get_a_localized_reprompt_and_keep_the_draft(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1011, "en");
    let lang = Lang::En;
    let out = at_category(&bot, &p, lang).await;
    // A sticker, and text, where a button is expected.
    let out2 = bot
        .send(
            &p,
            Event::Unsupported {
                what: "sticker".into(),
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-use-buttons")));
    assert!(said(&out2).contains(&tr(lang, "ask-category")));
    let out2 = bot.text(&p, "labour").await;
    assert!(said(&out2).starts_with(&tr(lang, "err-use-buttons")));
    // The old category buttons still work: the question did not change.
    let out = bot.press(&p, &out, &tr(lang, "category-labor")).await;
    // A sticker where text is expected.
    let out2 = bot
        .send(
            &p,
            Event::Unsupported {
                what: "sticker".into(),
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-description-type")));
    // A photo is fine at the description step, a location is not.
    let out2 = bot
        .send(
            &p,
            Event::Attachment {
                kind: AttachmentKind::Voice,
                file_id: "V".into(),
                file_unique_id: "v".into(),
                caption: None,
            },
        )
        .await;
    assert!(said(&out2).contains(&t(
        lang,
        "attachment-received",
        &[("count", 1.into()), ("max", 10.into())]
    )));
    let out2 = bot
        .send(
            &p,
            Event::Location {
                lat: 38.6,
                lon: 100.8,
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-description-type")));
    let _ = out;
    let out = bot.text(&p, "Unpaid wages since May").await;
    // A photo where text is expected.
    let out2 = bot
        .send(
            &p,
            Event::Attachment {
                kind: AttachmentKind::Photo,
                file_id: "P".into(),
                file_unique_id: "p".into(),
                caption: None,
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-text-expected")));
    let out = bot.press(&p, &out, &tr(lang, "btn-skip-unknown")).await;
    // Words where a number is expected.
    let out2 = bot.text(&p, "a few").await;
    assert!(said(&out2).starts_with(&tr(lang, "err-parties")));
    let _ = bot.press(&p, &out, "1").await;
    // A contact where a place is expected.
    let out2 = bot
        .send(
            &p,
            Event::Contact {
                phone: "13800138000".into(),
                contact_user_id: Some(p.user),
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-location-type")));
    let out = bot
        .send(
            &p,
            Event::Location {
                lat: 38.606,
                lon: 100.801,
            },
        )
        .await;
    // A wrong phone number, someone else's contact.
    let out2 = bot.text(&p, "12345").await;
    assert!(said(&out2).starts_with(&tr(lang, "err-phone-invalid")));
    let out2 = bot
        .send(
            &p,
            Event::Contact {
                phone: "13900139000".into(),
                contact_user_id: Some(42),
            },
        )
        .await;
    assert!(said(&out2).starts_with(&tr(lang, "err-phone-not-own")));
    let out = bot.press(&p, &out, &tr(lang, "btn-skip-phone")).await;
    let out2 = bot.text(&p, "no").await;
    assert!(said(&out2).starts_with(&tr(lang, "err-use-buttons")));
    let out = bot.press(&p, &out, &tr(lang, "btn-risk-no")).await;
    // The draft kept everything through all of that.
    match bot.state(&p).await {
        Some(State::Filing { draft, step }) => {
            assert_eq!(step, Step::Summary);
            assert_eq!(draft.description.as_deref(), Some("Unpaid wages since May"));
            assert_eq!(draft.attachments.len(), 1);
            assert_eq!(draft.party_count, Some(1));
            assert_eq!(draft.phone, None);
        }
        other => panic!("{other:?}"),
    }
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    assert!(said(&out).contains("620722-2026-000001"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM case_attachments").await, 1);
    assert_eq!(only_case(&bot).await.phone, None);
}

async fn text_limits_are_stated_and_enforced(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1012, "zh-CN");
    let lang = Lang::ZhCn;
    let out = at_category(&bot, &p, lang).await;
    let _ = bot.press(&p, &out, &tr(lang, "category-family")).await;
    let out = bot.text(&p, "   ").await;
    assert!(said(&out).starts_with(&tr(lang, "err-empty")));
    let long = "长".repeat(2001);
    let out = bot.text(&p, &long).await;
    let expected = t(
        lang,
        "err-too-long",
        &[("max", 2000.into()), ("len", 2001.into())],
    );
    assert!(said(&out).starts_with(&expected), "{}", said(&out));
    // Exactly 2000 characters of Chinese are accepted, intact.
    let ok = "长".repeat(2000);
    let _ = bot.text(&p, &ok).await;
    match bot.state(&p).await {
        Some(State::Filing { draft, step }) => {
            assert_eq!(step, Step::OtherParty);
            assert_eq!(draft.description.as_deref(), Some(ok.as_str()));
        }
        other => panic!("{other:?}"),
    }
    let out = bot.text(&p, &"x".repeat(201)).await;
    assert!(said(&out).starts_with(&t(
        lang,
        "err-too-long",
        &[("max", 200.into()), ("len", 201.into())]
    )));
    // At most ten attachments.
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    drop(out);
    for i in 0..10 {
        let _ = bot
            .send(
                &p,
                Event::Attachment {
                    kind: AttachmentKind::Photo,
                    file_id: format!("f{i}"),
                    file_unique_id: format!("u{i}"),
                    caption: None,
                },
            )
            .await;
    }
    let out = bot
        .send(
            &p,
            Event::Attachment {
                kind: AttachmentKind::Photo,
                file_id: "f11".into(),
                file_unique_id: "u11".into(),
                caption: None,
            },
        )
        .await;
    assert!(said(&out).starts_with(&t(lang, "err-too-many-files", &[("max", 10.into())])));
    match bot.state(&p).await {
        Some(State::Filing { draft, .. }) => assert_eq!(draft.attachments.len(), 10),
        other => panic!("{other:?}"),
    }
}

async fn a_location_outside_the_served_area_offers_the_list(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1013, "zh-CN");
    let lang = Lang::ZhCn;
    let out = at_category(&bot, &p, lang).await;
    let _ = bot.press(&p, &out, &tr(lang, "category-other")).await;
    let _ = bot.text(&p, "噪音扰民").await;
    let out = bot.text(&p, "楼上邻居").await;
    let _ = bot.press(&p, &out, "3").await;
    // Beijing is far from every region we know.
    let out = bot
        .send(
            &p,
            Event::Location {
                lat: 39.9,
                lon: 116.4,
            },
        )
        .await;
    let expected = t(lang, "err-location-outside", &[("area", "民乐县".into())]);
    assert!(said(&out).starts_with(&expected), "{}", said(&out));
    let out = bot.press(&p, &out, &tr(lang, "btn-pick-region")).await;
    assert!(said(&out).contains(&tr(lang, "ask-county")));
    match bot.state(&p).await {
        Some(State::Filing { draft, .. }) => {
            assert_eq!(draft.region_code, None);
            assert_eq!(draft.description.as_deref(), Some("噪音扰民"));
        }
        other => panic!("{other:?}"),
    }
}

async fn stale_and_forged_buttons_change_nothing(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1014, "zh-CN");
    let lang = Lang::ZhCn;
    let categories = at_category(&bot, &p, lang).await;
    let out = bot
        .press(&p, &categories, &tr(lang, "category-family"))
        .await;
    let before = bot.state(&p).await;
    // A category button of the earlier message.
    let out2 = bot.press(&p, &categories, &tr(lang, "category-debt")).await;
    assert_eq!(callback_notice(&out2), Some(tr(lang, "err-stale")));
    assert!(said(&out2).contains(&t(
        lang,
        "ask-description",
        &[("max", 2000.into()), ("files", 10.into())]
    )));
    assert_eq!(bot.state(&p).await, before);
    // Forged and malformed data.
    let token = button(&out, &tr(lang, "btn-back"))
        .data
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    for forged in [
        format!("{token}:cat:labor"),
        format!("{token}:rg:620722101201"),
        format!("{token}:n:99"),
        "garbage".to_owned(),
        "K:tl:notanumber".to_owned(),
        format!("{token}:{}", "x".repeat(80)),
        "C:y:fr".to_owned(),
    ] {
        let out2 = bot.data(&p, &forged).await;
        assert_eq!(
            callback_notice(&out2),
            Some(tr(lang, "err-bad-button")),
            "{forged}"
        );
        assert_eq!(bot.state(&p).await, before, "{forged}");
    }
    // The consent buttons are finished once agreed.
    let out2 = bot.data(&p, "C:n:zh-CN").await;
    assert_eq!(callback_notice(&out2), Some(tr(lang, "err-stale")));
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM residents WHERE consent_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(bot.state(&p).await, before);
}

async fn edited_messages_are_not_applied(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1015, "zh-TW");
    let lang = Lang::ZhTw;
    let out = at_category(&bot, &p, lang).await;
    let _ = bot.press(&p, &out, &tr(lang, "category-traffic")).await;
    let before = bot.state(&p).await;
    let out = bot.send(&p, Event::Edited).await;
    assert!(said(&out).starts_with(&tr(lang, "err-edited")));
    assert!(said(&out).contains("第 2 步"));
    assert_eq!(bot.state(&p).await, before);
}

async fn group_chats_get_one_polite_answer_and_nothing_is_stored(db: &TestDb) {
    let bot = bot(db).await;
    let p = Person {
        user: 1016,
        lang: Some("zh-CN"),
        private: false,
    };
    let out = bot.cmd(&p, "start").await;
    assert_eq!(out.len(), 1);
    assert_eq!(said(&out), tr(Lang::ZhCn, "err-group"));
    let out = bot.text(&p, "你好").await;
    assert_eq!(out.len(), 1);
    let out = bot.data(&p, "C:y:zh-CN").await;
    assert_eq!(out.len(), 1);
    assert_eq!(callback_notice(&out), Some(tr(Lang::ZhCn, "err-group")));
    for table in ["residents", "conversations", "flood_counters", "cases"] {
        assert_eq!(
            bot.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

async fn a_flood_is_throttled_with_exactly_one_notice(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1017, "en");
    let lang = Lang::En;
    let out = at_category(&bot, &p, lang).await;
    let _ = bot.press(&p, &out, &tr(lang, "category-other")).await;
    bot.clock.advance(chrono::Duration::seconds(10));
    let mut notices = 0;
    let mut answered = 0;
    for i in 0..40 {
        let out = bot
            .send_now(
                &p,
                Event::Text {
                    text: format!("spam {i}"),
                },
            )
            .await;
        if i < 30 {
            assert!(!out.is_empty());
            answered += 1;
        }
        notices += out
            .iter()
            .filter(|m| said(std::slice::from_ref(m)) == tr(lang, "err-flood"))
            .count();
        if i >= 30 {
            assert!(out.len() <= 1, "{out:?}");
        }
    }
    assert_eq!(answered, 30);
    assert_eq!(notices, 1);
    // Only the first message was applied (it answered the description);
    // the 29 after it were answered at the next question.
    // Five seconds later the person is heard again.
    bot.clock.advance(chrono::Duration::seconds(5));
    let out = bot
        .send_now(
            &p,
            Event::Text {
                text: "hello".into(),
            },
        )
        .await;
    assert!(!said(&out).is_empty());
    assert_ne!(said(&out), tr(lang, "err-flood"));
    // A pressed button during a flood is still answered, without the notice again.
    for _ in 0..30 {
        let _ = bot.send_now(&p, Event::Text { text: "x".into() }).await;
    }
    let out = bot
        .send_now(
            &p,
            Event::Button {
                callback_id: "cbx".into(),
                data: "L:en".into(),
            },
        )
        .await;
    assert!(matches!(out[0].body, OutBody::AnswerCallback { .. }));
}

async fn an_at_risk_case_alerts_the_admin_chat_and_mentions_110(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1018, "zh-CN");
    let lang = Lang::ZhCn;
    let out = at_category(&bot, &p, lang).await;
    let out = bot.press(&p, &out, &tr(lang, "category-family")).await;
    let _ = out;
    let out = bot.text(&p, "丈夫喝醉了打人").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-skip-unknown")).await;
    let out = bot.press(&p, &out, "2").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-pick-region")).await;
    let out = bot.press(&p, &out, "民乐县").await;
    let out = bot.press(&p, &out, "洪水镇").await;
    let _ = bot.press(&p, &out, "汤庄村").await;
    let out = bot.text(&p, "138 0013 8000").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-risk-yes")).await;
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    assert!(said(&out).contains(&tr(lang, "filed-at-risk")));
    let alerts: Vec<_> = out.iter().filter(|m| m.chat_id == ADMIN_CHAT).collect();
    assert_eq!(alerts.len(), 1);
    let alert = said(&out[out.len() - 1..]);
    assert!(
        alert.contains("620722-2026-000001") && alert.contains("民乐县矛盾纠纷调处化解中心"),
        "{alert}"
    );
    let case = only_case(&bot).await;
    assert_eq!(case.committee.as_deref(), Some("620722-CENTER"));
    // The at-risk rule wants acceptance within 4 hours.
    assert!(said(&out).contains("2026-03-10 14:00"), "{}", said(&out));
}

async fn an_unroutable_case_is_told_kindly_and_the_admin_chat_is_alerted(db: &TestDb) {
    let bot = bot(db).await;
    let mut c = db.storage.acquire().await.unwrap();
    sqlx::query("UPDATE committees SET active = 0")
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'routing_version'")
        .execute(&mut *c)
        .await
        .unwrap();
    drop(c);
    let p = person(1019, "en");
    let lang = Lang::En;
    let out = fill_to_summary(
        &bot,
        &p,
        lang,
        "category-neighbor",
        "Fence moved onto my land",
        Place::Share(38.606, 100.801),
    )
    .await;
    let out = bot.press(&p, &out, &tr(lang, "btn-submit")).await;
    let expected = t(
        lang,
        "filed-unrouted",
        &[("number", "620722-2026-000001".into())],
    );
    assert!(said(&out).contains(&expected), "{}", said(&out));
    let case = only_case(&bot).await;
    assert_eq!(case.status, "unrouted");
    assert_eq!(case.committee, None);
    let alerts: Vec<_> = out.iter().filter(|m| m.chat_id == ADMIN_CHAT).collect();
    assert_eq!(alerts.len(), 1);
    let alert = t(
        Lang::ZhCn,
        "admin-alert-unrouted",
        &[
            ("number", "620722-2026-000001".into()),
            ("category", tr(Lang::ZhCn, "category-neighbor").into()),
            ("region", "民乐县 六坝镇 六坝村".into()),
        ],
    );
    assert_eq!(said(&out[out.len() - 1..]), alert);
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM case_events WHERE kind = 'unrouted'")
            .await,
        1
    );
}

async fn the_region_list_is_paged(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1020, "zh-CN");
    let lang = Lang::ZhCn;
    let out = at_category(&bot, &p, lang).await;
    let _ = bot.press(&p, &out, &tr(lang, "category-land")).await;
    let _ = bot.text(&p, "承包地被占").await;
    let out = bot.text(&p, "村民甲").await;
    let out = bot.press(&p, &out, "1").await;
    let out = bot.press(&p, &out, &tr(lang, "btn-pick-region")).await;
    let out = bot.press(&p, &out, "民乐县").await;
    // Ten townships: eight on the first page, two on the second.
    assert!(
        said(&out).contains("（第 1 页，共 2 页）"),
        "{}",
        said(&out)
    );
    assert!(buttons(&out).iter().all(|b| b.label != "丰乐镇"));
    let out = bot.press(&p, &out, &tr(lang, "btn-next-page")).await;
    assert!(said(&out).contains("（第 2 页，共 2 页）"));
    let out = bot.press(&p, &out, "丰乐镇").await;
    assert!(said(&out).contains(&tr(lang, "ask-village")));
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains(&tr(lang, "ask-township")));
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains(&tr(lang, "ask-county")));
    let out = bot.press(&p, &out, &tr(lang, "btn-back")).await;
    assert!(said(&out).contains(&tr(lang, "ask-location")));
}

async fn the_language_can_be_changed_with_the_language_command(db: &TestDb) {
    let bot = bot(db).await;
    let p = person(1021, "ru");
    // An unknown Telegram language falls back to the configured default.
    let out = bot.cmd(&p, "start").await;
    assert!(said(&out).contains(&tr(Lang::ZhCn, "welcome-consent")));
    // Before consent the notice can be shown in another language.
    let out = bot.press(&p, &out, "English").await;
    assert!(said(&out).contains(&tr(Lang::En, "welcome-consent")));
    let out = bot.press(&p, &out, &tr(Lang::En, "btn-agree")).await;
    assert!(said(&out).contains(&tr(Lang::En, "ask-category")));
    let out = bot.cmd(&p, "language").await;
    let out = bot.press(&p, &out, "繁體中文").await;
    let text = said(&out);
    assert!(text.starts_with(&tr(Lang::ZhTw, "lang-set")), "{text}");
    assert!(text.contains(&tr(Lang::ZhTw, "ask-category")));
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM residents WHERE language = 'zh-TW'")
            .await,
        1
    );
    let out = bot.cmd(&p, "help").await;
    assert!(said(&out).contains("12348"));
    assert!(said(&out).contains(&tr(Lang::ZhTw, "help")));
}

async fn a_dialogue_saved_by_someone_else_in_between_is_not_overwritten(db: &TestDb) {
    use jiefen::storage::conversations;
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(
        conversations::save(&mut c, 7, "{}", None, 1).await.unwrap(),
        1
    );
    // A second first-save (another instance that also saw no row) is refused.
    assert!(matches!(
        conversations::save(&mut c, 7, "{}", None, 1).await,
        Err(jiefen::storage::StorageError::Stale(_))
    ));
    assert_eq!(
        conversations::save(&mut c, 7, "{\"a\":1}", Some(1), 2)
            .await
            .unwrap(),
        2
    );
    // A save based on version 1 after version 2 exists is refused.
    assert!(matches!(
        conversations::save(&mut c, 7, "{}", Some(1), 3).await,
        Err(jiefen::storage::StorageError::Stale(_))
    ));
    let stored = conversations::load(&mut c, 7).await.unwrap().unwrap();
    assert_eq!((stored.state.as_str(), stored.version), ("{\"a\":1}", 2));

    // Several saves at once, as a batch writes them: each at the version
    // it read, first saves inserted.
    let save = |chat_id: i64, state: &str, read_version: Option<i64>| conversations::DeferredSave {
        chat_id,
        state: state.to_owned(),
        read_version,
        now: 4,
    };
    conversations::save_many(
        &mut c,
        &[save(7, "{\"b\":2}", Some(2)), save(8, "{\"c\":3}", None)],
    )
    .await
    .unwrap();
    async fn read(c: &mut jiefen::storage::Conn, chat: i64) -> (String, i64) {
        let d = conversations::load(c, chat).await.unwrap().unwrap();
        (d.state, d.version)
    }
    assert_eq!(read(&mut c, 7).await, ("{\"b\":2}".to_owned(), 3));
    assert_eq!(read(&mut c, 8).await, ("{\"c\":3}".to_owned(), 1));
    drop(c);
    // One of them stale (7 is at version 3, not 2), or a first save of a
    // chat that has one: refused, and the transaction rolled back keeps
    // every dialogue as it was.
    for saves in [
        vec![save(8, "{}", Some(1)), save(7, "{}", Some(2))],
        vec![save(7, "{}", Some(3)), save(8, "{}", None)],
    ] {
        let mut tx = db.storage.begin().await.unwrap();
        assert!(matches!(
            conversations::save_many(&mut tx, &saves).await,
            Err(jiefen::storage::StorageError::Stale(_))
        ));
        tx.rollback().await.unwrap();
    }
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(read(&mut c, 7).await, ("{\"b\":2}".to_owned(), 3));
    assert_eq!(read(&mut c, 8).await, ("{\"c\":3}".to_owned(), 1));
}

/// The applier takes several chats in one transaction and reads their
/// records and dialogues up front; each chat must still be answered from
/// its own state, and a chat marked unreachable that writes again becomes
/// reachable.
/// The payloads queued in the outbox for `chat`, oldest first.
async fn queued_payloads(db: &TestDb, chat: i64) -> Vec<String> {
    let mut c = db.storage.acquire().await.unwrap();
    sqlx::query_scalar("SELECT payload FROM outbox WHERE chat_id = $1 ORDER BY id")
        .bind(chat)
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

/// Stores `batch` as received updates numbered from `first_id`, as intake
/// would.
async fn store_numbered(db: &TestDb, mut batch: Vec<serde_json::Value>, first_id: i64) {
    for (i, u) in batch.iter_mut().enumerate() {
        u["update_id"] = serde_json::json!(first_id + i as i64);
    }
    jiefen::telegram::intake::store_batch(&db.storage, &batch, 0)
        .await
        .unwrap();
}

/// `p` consented, with `category` picked: at the description question.
async fn at_description(bot: &Bot<'_>, p: Person, lang: Lang, category: &str) -> Person {
    let out = at_category(bot, &p, lang).await;
    bot.press(&p, &out, &tr(lang, category)).await;
    p
}

/// An applier over the test bot's database and clock, with `handler`.
fn applier_for(
    bot: &Bot<'_>,
    handler: Arc<dyn UpdateHandler>,
) -> jiefen::telegram::applier::Applier {
    jiefen::telegram::applier::Applier::new(
        bot.db.storage.clone(),
        Arc::new(bot.clock.clone()),
        handler,
        None,
        Arc::new(tokio::sync::Notify::new()),
        jiefen::telegram::applier::ApplierConfig::default(),
    )
}

async fn one_batch_of_several_chats_answers_each_from_its_own_state(db: &TestDb) {
    use jiefen::storage::reachability;
    use jiefen::telegram::fake_api::{updates, FakeUser};
    let bot = bot(db).await;
    // A (Chinese) and B (English) have consented and stand at the
    // description question.
    let a = at_description(&bot, person(8101, "zh-CN"), Lang::ZhCn, "category-labor").await;
    let b = at_description(&bot, person(8102, "en"), Lang::En, "category-neighbor").await;
    let mut c = db.storage.acquire().await.unwrap();
    // Telegram refused a message to B since (a 403).
    reachability::mark_unreachable(&mut c, b.user)
        .await
        .unwrap();
    // M is a linked mediator; N has never written.
    let committee: i64 = sqlx::query_scalar("SELECT MIN(id) FROM committees")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO mediators (committee_id, name, telegram_user_id, chat_id, language, created_at)
         VALUES ($1, '王调解', 8103, 8103, 'zh-CN', 0)",
    )
    .bind(committee)
    .execute(&mut *c)
    .await
    .unwrap();
    drop(c);

    let (ua, ub, um, un) = (
        FakeUser::new(8101, "zh-hans"),
        FakeUser::new(8102, "en"),
        FakeUser::new(8103, "zh-hans"),
        FakeUser::new(8104, "zh-hans"),
    );
    let batch = vec![
        updates::text(&ua, 500, "老板欠了三个月工资"),
        updates::text(&ub, 500, "The neighbour's dog barks all night"),
        updates::command(&um, 500, "/help"),
        updates::command(&un, 500, "/start"),
    ];
    store_numbered(db, batch, 810_000).await;
    let applier = applier_for(&bot, Arc::new(bot.engine.clone()));
    assert_eq!(
        applier.apply_batch().await.unwrap(),
        4,
        "one batch takes all four"
    );

    let queued = |chat: i64| async move { queued_payloads(db, chat).await.join("\n") };
    // The question's opening words (its limit is a setting).
    let opening = |lang| -> String { tr(lang, "ask-other-party").chars().take(8).collect() };
    let (ask_zh, ask_en) = (opening(Lang::ZhCn), opening(Lang::En));
    let to_a = queued(a.user).await;
    assert!(
        to_a.contains(&ask_zh),
        "A is asked step 3 in Chinese: {to_a}"
    );
    let to_b = queued(b.user).await;
    assert!(
        to_b.contains(&ask_en),
        "B is asked step 3 in English: {to_b}"
    );
    assert!(!to_b.contains(&ask_zh));
    let to_m = queued(8103).await;
    assert!(
        !to_m.is_empty() && !to_m.contains(&ask_zh),
        "M gets the desk: {to_m}"
    );
    let to_n = queued(8104).await;
    assert!(
        to_n.contains(&tr(Lang::ZhCn, "btn-agree")),
        "N is shown the privacy notice: {to_n}"
    );
    assert!(matches!(
        bot.state(&a).await,
        Some(State::Filing {
            step: Step::OtherParty,
            ..
        })
    ));
    let mut c = db.storage.acquire().await.unwrap();
    assert_eq!(
        reachability::resident_reachable(&mut c, b.user)
            .await
            .unwrap(),
        Some(true),
        "B wrote again, so B can be written to"
    );
    let drafts: Vec<String> = sqlx::query_scalar(
        "SELECT state FROM conversations WHERE chat_id IN (8101, 8102) ORDER BY chat_id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert!(drafts[0].contains("老板欠了三个月工资"), "{}", drafts[0]);
    assert!(drafts[1].contains("barks all night"), "{}", drafts[1]);
}

async fn a_batch_counts_flood_control_for_all_its_chats_at_once(db: &TestDb) {
    use jiefen::clock::Clock;
    use jiefen::telegram::fake_api::{updates, FakeUser};
    let bot = bot(db).await;
    let now = bot.clock.now_ms();
    // A has written 29 times in the current window, B has not written.
    let (a, b) = (FakeUser::new(8201, "en"), FakeUser::new(8202, "en"));
    let mut c = db.storage.acquire().await.unwrap();
    sqlx::query(
        "INSERT INTO flood_counters (user_id, window_start, hits, notified) VALUES ($1, $2, 29, 0)",
    )
    .bind(a.id)
    .bind(now - 1_000)
    .execute(&mut *c)
    .await
    .unwrap();
    drop(c);
    let store = |batch: Vec<serde_json::Value>, first_id: i64| store_numbered(db, batch, first_id);
    store(
        vec![
            updates::command(&a, 600, "/help"),
            updates::command(&b, 600, "/help"),
            updates::command(&a, 601, "/help"),
            updates::command(&b, 601, "/help"),
        ],
        730_000_001,
    )
    .await;
    let applier = applier_for(&bot, Arc::new(bot.engine.clone()));
    let counters = || async {
        let mut c = db.storage.acquire().await.unwrap();
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT user_id, hits, notified FROM flood_counters
             WHERE user_id IN ($1, $2) ORDER BY user_id",
        )
        .bind(a.id)
        .bind(b.id)
        .fetch_all(&mut *c)
        .await
        .unwrap();
        rows
    };
    let queued = |chat: i64| queued_payloads(db, chat);
    let flood = tr(Lang::En, "err-flood");

    // The first batch holds one update of each chat: A's 30th event is
    // still answered, B's first is counted from one.
    assert_eq!(applier.apply_batch().await.unwrap(), 2);
    assert_eq!(counters().await, [(a.id, 30, 0), (b.id, 1, 0)]);
    let to_a = queued(a.id).await;
    assert_eq!(to_a.len(), 1, "{to_a:?}");
    assert!(!to_a[0].contains(&flood), "{to_a:?}");

    // A's 31st is over the limit: the one notice, and nothing else.
    assert_eq!(applier.apply_batch().await.unwrap(), 2);
    assert_eq!(counters().await, [(a.id, 31, 1), (b.id, 2, 0)]);
    let to_a = queued(a.id).await;
    assert_eq!(to_a.len(), 2, "{to_a:?}");
    assert!(to_a[1].contains(&flood), "{to_a:?}");
    let to_b = queued(b.id).await;
    assert_eq!(to_b.len(), 2, "{to_b:?}");
    assert!(to_b.iter().all(|m| !m.contains(&flood)), "{to_b:?}");

    // A 32nd in the same window gets no second notice; after the window
    // the count starts again.
    store(vec![updates::command(&a, 602, "/help")], 730_000_010).await;
    assert_eq!(applier.apply_batch().await.unwrap(), 1);
    assert_eq!(queued(a.id).await.len(), 2, "no second notice");
    bot.clock.advance(chrono::Duration::seconds(6));
    store(vec![updates::command(&a, 603, "/help")], 730_000_011).await;
    assert_eq!(applier.apply_batch().await.unwrap(), 1);
    assert_eq!(counters().await[0], (a.id, 1, 0));
    let to_a = queued(a.id).await;
    assert_eq!(to_a.len(), 3, "heard again: {to_a:?}");
    assert!(!to_a[2].contains(&flood), "{to_a:?}");
}

/// Wraps the engine and, while `on`, bumps `victim`'s stored dialogue
/// whenever `trigger`'s update is handled: another writer saving that
/// dialogue after the batch read it.
struct Meddler {
    inner: Engine,
    trigger: i64,
    victim: i64,
    on: Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl UpdateHandler for Meddler {
    async fn prepare_batch(
        &self,
        tx: &mut jiefen::storage::Tx,
        batch: &[&Incoming],
    ) -> Result<(), jiefen::storage::StorageError> {
        self.inner.prepare_batch(tx, batch).await
    }

    async fn handle(
        &self,
        tx: &mut jiefen::storage::Tx,
        incoming: &Incoming,
    ) -> Result<Vec<OutMessage>, jiefen::conversation::HandlerError> {
        if incoming.chat.id == self.trigger && self.on.load(std::sync::atomic::Ordering::SeqCst) {
            sqlx::query("UPDATE conversations SET version = version + 1 WHERE chat_id = $1")
                .bind(self.victim)
                .execute(&mut **tx)
                .await
                .unwrap();
        }
        self.inner.handle(tx, incoming).await
    }
}

async fn a_batch_saves_its_dialogues_together_and_one_changed_meanwhile_is_applied_again(
    db: &TestDb,
) {
    use jiefen::storage::inbox;
    use jiefen::telegram::fake_api::{updates, FakeUser};
    let bot = bot(db).await;
    // A and B have consented and stand at the description question.
    let a = at_description(&bot, person(8301, "zh-CN"), Lang::ZhCn, "category-labor").await;
    let b = at_description(&bot, person(8302, "zh-CN"), Lang::ZhCn, "category-neighbor").await;
    let version = |chat: i64| async move {
        let mut c = db.storage.acquire().await.unwrap();
        let v: i64 = sqlx::query_scalar("SELECT version FROM conversations WHERE chat_id = $1")
            .bind(chat)
            .fetch_one(&mut *c)
            .await
            .unwrap();
        v
    };
    let (va, vb) = (version(a.user).await, version(b.user).await);
    let (ua, ub) = (
        FakeUser::new(a.user, "zh-hans"),
        FakeUser::new(b.user, "zh-hans"),
    );
    let batch = vec![
        updates::text(&ua, 700, "老板欠了三个月工资"),
        updates::text(&ub, 700, "邻居家的狗整夜叫"),
    ];
    store_numbered(db, batch, 830_000).await;
    let on = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let applier = applier_for(
        &bot,
        Arc::new(Meddler {
            inner: bot.engine.clone(),
            trigger: a.user,
            victim: b.user,
            on: on.clone(),
        }),
    );
    let at_other_party = |s: Option<State>| {
        matches!(
            s,
            Some(State::Filing {
                step: Step::OtherParty,
                ..
            })
        )
    };
    let ask = tr(Lang::ZhCn, "ask-other-party")
        .chars()
        .take(8)
        .collect::<String>();

    // B's dialogue changes after the batch read it: the batch's one save of
    // both dialogues is refused, the batch runs again update by update, A's
    // update is applied and B's is set back, with nothing sent to B.
    assert_eq!(applier.apply_batch().await.unwrap(), 2);
    assert!(at_other_party(bot.state(&a).await));
    assert_eq!(version(a.user).await, va + 1, "A saved once");
    let to_a = queued_payloads(db, a.user).await;
    assert_eq!(to_a.len(), 1, "A answered once: {to_a:?}");
    assert!(to_a[0].contains(&ask), "{to_a:?}");
    assert!(
        !at_other_party(bot.state(&b).await),
        "B's save was not forced"
    );
    assert_eq!(
        version(b.user).await,
        vb + 1,
        "only the other writer's change"
    );
    assert!(queued_payloads(db, b.user).await.is_empty());
    let mut c = db.storage.acquire().await.unwrap();
    let row = inbox::get(&mut c, 830_001).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (inbox::InboxStatus::Pending, 1));
    let error: String = sqlx::query_scalar("SELECT error FROM inbox WHERE update_id = 830001")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert!(error.contains("changed concurrently"), "{error}");
    drop(c);

    // Retried after its backoff, B's update is applied on the state as it
    // now stands.
    on.store(false, std::sync::atomic::Ordering::SeqCst);
    bot.clock.advance(chrono::Duration::seconds(3));
    assert_eq!(applier.apply_batch().await.unwrap(), 1);
    assert!(at_other_party(bot.state(&b).await));
    assert_eq!(version(b.user).await, vb + 2);
    let to_b = queued_payloads(db, b.user).await;
    assert_eq!(to_b.len(), 1, "B answered once: {to_b:?}");
    assert!(to_b[0].contains(&ask), "{to_b:?}");
    assert_eq!(queued_payloads(db, a.user).await.len(), 1);
}
