//! Mediators in chat and the case lifecycle, driven through `Engine::handle`
//! and `Sweeper::tick` with a manual clock, on the demo data: what the
//! resident, the mediators and the admin chat see, and what the database
//! holds.

use crate::on_both_backends;
use crate::support::TestDb;
use chrono::{TimeZone, Utc};
use jiefen::clock::{Clock, ManualClock};
use jiefen::config::PolicyConfig;
use jiefen::conversation::{ChatRef, Engine, Event, Incoming, UpdateHandler};
use jiefen::i18n::{t, Lang};
use jiefen::jobs::{ReportOnly, Sweeper};
use jiefen::outgoing::{InlineButton, Keyboard, OutBody, OutMessage};
use jiefen::routing::{Explanation, Router};
use jiefen::storage::mediator_desk;
use sqlx::Row;
use std::sync::Arc;

const ADMIN_CHAT: i64 = -100_888;
const HOUR: i64 = 3_600_000;

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

/// An instant given in Shanghai local time.
fn shanghai(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn bot(db: &TestDb) -> Bot<'_> {
    jiefen::import::import(&db.storage, &jiefen::import::demo_files(), 1)
        .await
        .unwrap();
    let clock = ManualClock::new(start_time());
    let router = Router::load(&db.storage).await.unwrap();
    let engine = Engine::new(
        router,
        PolicyConfig::default(),
        Arc::new(clock.clone()),
        Some(ADMIN_CHAT),
    );
    Bot {
        db,
        clock,
        engine,
        msg_id: std::cell::Cell::new(100),
    }
}

fn tr(lang: Lang, id: &str) -> String {
    t(lang, id, &[])
}

fn said_to(out: &[OutMessage], chat: i64) -> String {
    out.iter()
        .filter(|m| m.chat_id == chat)
        .filter_map(|m| match &m.body {
            OutBody::Text { html, .. } => Some(html.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn buttons(out: &[OutMessage], chat: i64) -> Vec<InlineButton> {
    out.iter()
        .filter(|m| m.chat_id == chat)
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

fn button(out: &[OutMessage], chat: i64, label: &str) -> InlineButton {
    buttons(out, chat)
        .into_iter()
        .find(|b| b.label == label)
        .unwrap_or_else(|| panic!("no button {label:?} for {chat} in {out:#?}"))
}

fn notice(out: &[OutMessage]) -> Option<String> {
    out.iter().find_map(|m| match &m.body {
        OutBody::AnswerCallback { text, .. } => text.clone(),
        _ => None,
    })
}

impl Bot<'_> {
    async fn send(&self, user: i64, lang: &str, event: Event) -> Vec<OutMessage> {
        self.clock.advance(chrono::Duration::seconds(1));
        self.msg_id.set(self.msg_id.get() + 1);
        let incoming = Incoming {
            chat: ChatRef {
                id: user,
                private: true,
            },
            user_id: user,
            user_language: Some(lang.to_owned()),
            message_id: Some(self.msg_id.get()),
            date: self.clock.now_ms() / 1000,
            event,
        };
        let mut tx = self.db.storage.begin().await.unwrap();
        let out = self.engine.handle(&mut tx, &incoming).await.unwrap();
        tx.commit().await.unwrap();
        for b in out.iter().flat_map(|m| buttons(std::slice::from_ref(m), m.chat_id)) {
            assert!(b.data.len() <= 64, "callback data too long: {}", b.data);
        }
        out
    }

    async fn text(&self, user: i64, s: &str) -> Vec<OutMessage> {
        self.send(user, "zh-CN", Event::Text { text: s.into() }).await
    }

    async fn cmd(&self, user: i64, name: &str, args: &str) -> Vec<OutMessage> {
        self.send(
            user,
            "zh-CN",
            Event::Command {
                name: name.into(),
                args: args.into(),
            },
        )
        .await
    }

    async fn data(&self, user: i64, data: &str) -> Vec<OutMessage> {
        let out = self
            .send(
                user,
                "zh-CN",
                Event::Button {
                    callback_id: format!("cb{}", self.msg_id.get()),
                    data: data.into(),
                },
            )
            .await;
        assert!(
            matches!(
                out.first().map(|m| &m.body),
                Some(OutBody::AnswerCallback { .. })
            ),
            "a pressed button is answered first: {out:?}"
        );
        out
    }

    async fn press(&self, user: i64, shown: &[OutMessage], label: &str) -> Vec<OutMessage> {
        let data = button(shown, user, label).data;
        self.data(user, &data).await
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut *c).await.unwrap()
    }

    async fn text_of(&self, sql: &str) -> Option<String> {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut *c).await.unwrap()
    }

    async fn committee_id(&self, code: &str) -> i64 {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar("SELECT id FROM committees WHERE code = $1")
            .bind(code)
            .fetch_one(&mut *c)
            .await
            .unwrap()
    }

    async fn case_committee(&self, case_id: i64) -> String {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar(
            "SELECT m.code FROM cases c JOIN committees m ON m.id = c.committee_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&mut *c)
        .await
        .unwrap()
    }

    async fn status(&self, case_id: i64) -> String {
        let mut c = self.db.storage.acquire().await.unwrap();
        sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *c)
            .await
            .unwrap()
    }

    /// An invite for a new mediator of `committee`, stored as a hash.
    async fn invite(&self, committee: &str, name: &str, lang: &str, code: &str, ttl: i64) -> i64 {
        let cid = self.committee_id(committee).await;
        let now = self.clock.now_ms();
        let mut tx = self.db.storage.begin().await.unwrap();
        let id = mediator_desk::insert_mediator(&mut tx, cid, name, lang, now)
            .await
            .unwrap();
        mediator_desk::insert_invite(
            &mut tx,
            id,
            &jiefen::secrets::hash_secret(code),
            now + ttl,
            now,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// A mediator of `committee` who linked Telegram account `user`.
    async fn mediator(&self, committee: &str, user: i64, name: &str, lang: &str) -> i64 {
        let code = format!("code{user}x");
        let id = self.invite(committee, name, lang, &code, 72 * HOUR).await;
        let out = self.cmd(user, "start", &code).await;
        assert!(
            said_to(&out, user).contains(&escape(name)),
            "linked: {out:?}"
        );
        id
    }

    /// Files a case through the resident dialogue; returns its id.
    async fn file(&self, user: i64, category: &str, description: &str, phone: bool) -> i64 {
        let lang = Lang::ZhCn;
        let out = self.cmd(user, "start", "").await;
        let out = self.press(user, &out, &tr(lang, "btn-agree")).await;
        let out = self.press(user, &out, &tr(lang, category)).await;
        drop(out);
        let out = self.text(user, description).await;
        let out = self.press(user, &out, &tr(lang, "btn-skip-unknown")).await;
        let out = self.press(user, &out, "2").await;
        drop(out);
        let out = self
            .send(
                user,
                "zh-CN",
                Event::Location {
                    lat: 38.606,
                    lon: 100.801,
                },
            )
            .await;
        let out = if phone {
            drop(out);
            self.send(
                user,
                "zh-CN",
                Event::Contact {
                    phone: "+86 138-0013-8000".into(),
                    contact_user_id: Some(user),
                },
            )
            .await
        } else {
            self.press(user, &out, &tr(lang, "btn-skip-phone")).await
        };
        let out = self.press(user, &out, &tr(lang, "btn-risk-no")).await;
        let out = self.press(user, &out, &tr(lang, "btn-submit")).await;
        assert!(said_to(&out, user).contains("已经提交"), "{out:#?}");
        self.count("SELECT MAX(id) FROM cases").await
    }

    fn sweeper(&self) -> Sweeper {
        Sweeper::new(
            self.db.storage.clone(),
            self.engine.lifecycle().clone(),
            Arc::new(ReportOnly),
        )
    }
}

fn escape(s: &str) -> String {
    jiefen::outgoing::escape_html(s)
}

on_both_backends!(
    an_invite_links_once_and_wrong_codes_get_clear_answers_then_throttling,
);

async fn an_invite_links_once_and_wrong_codes_get_clear_answers_then_throttling(db: &TestDb) {
    let bot = bot(db).await;
    let lang = Lang::ZhCn;
    let m = bot
        .invite("620722-LABOR", "王调解", "zh-CN", "Good-Code_1", 72 * HOUR)
        .await;
    bot.invite("620722-LABOR", "李调解", "zh-CN", "Old-Code", HOUR)
        .await;
    // Linking names the committee.
    let out = bot.cmd(9001, "start", "Good-Code_1").await;
    assert_eq!(
        said_to(&out, 9001),
        t(
            lang,
            "med-linked",
            &[
                ("name", "王调解".into()),
                ("committee", "民乐县劳动人事争议人民调解委员会".into())
            ]
        )
    );
    let mut c = db.storage.acquire().await.unwrap();
    let row = sqlx::query("SELECT telegram_user_id, chat_id, linked_at FROM mediators WHERE id = $1")
        .bind(m)
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert_eq!(row.get::<Option<i64>, _>("telegram_user_id"), Some(9001));
    assert_eq!(row.get::<Option<i64>, _>("chat_id"), Some(9001));
    assert!(row.get::<Option<i64>, _>("linked_at").is_some());
    drop(c);
    // Single use: someone else with the same code.
    let out = bot.cmd(9002, "start", "Good-Code_1").await;
    assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-used"));
    // Expired.
    bot.clock.advance(chrono::Duration::hours(2));
    let out = bot.cmd(9002, "start", "Old-Code").await;
    assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-expired"));
    // Unknown (and a malformed one).
    let out = bot.cmd(9002, "start", "nope").await;
    assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-unknown"));
    let out = bot.cmd(9002, "start", "<script>").await;
    assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-unknown"));
    // The linked mediator opening a link again is told they are linked.
    let out = bot.cmd(9001, "start", "whatever").await;
    assert!(said_to(&out, 9001).contains("民乐县劳动人事争议人民调解委员会"));
    // The expired code came two hours after the first failure, so it
    // opened a new window: this is the fifth wrong code in it.
    for wrong in ["nope2", "nope3"] {
        let out = bot.cmd(9002, "start", wrong).await;
        assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-unknown"));
    }
    let fresh = bot
        .invite("620722-LABOR", "赵调解", "zh-CN", "Fresh-Code", 72 * HOUR)
        .await;
    let out = bot.cmd(9002, "start", "Fresh-Code").await;
    assert_eq!(said_to(&out, 9002), tr(lang, "med-invite-throttled"));
    assert_eq!(
        bot.count("SELECT failures FROM invite_failures WHERE chat_id = 9002")
            .await,
        5
    );
    assert_eq!(
        bot.count(&format!(
            "SELECT COUNT(*) FROM mediators WHERE id = {fresh} AND telegram_user_id IS NULL"
        ))
        .await,
        1
    );
    // An hour later the window is over.
    bot.clock.advance(chrono::Duration::hours(1));
    let out = bot.cmd(9002, "start", "Fresh-Code").await;
    assert!(said_to(&out, 9002).contains("赵调解"), "{out:?}");
    // Without a code, /start is the resident's welcome as before.
    let out = bot.cmd(9003, "start", "").await;
    assert!(said_to(&out, 9003).contains(&tr(lang, "welcome-consent")));
}

on_both_backends!(
    the_whole_lifecycle_from_filing_to_the_follow_up,
);

const RESIDENT: i64 = 1001;
const MED_A: i64 = 9001;
const MED_B: i64 = 9002;

async fn the_whole_lifecycle_from_filing_to_the_follow_up(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    let en = Lang::En;
    let a = bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    let b = bot.mediator("620722-LABOR", MED_B, "Li <Wei>", "en").await;
    // An unlinked mediator of the committee gets nothing.
    bot.invite("620722-LABOR", "未绑定", "zh-CN", "unused-code", HOUR)
        .await;

    // Filing: both linked mediators get the assignment with the summary.
    let user_text = "老板欠了三个月工资 <共 12000 元> & 没签合同";
    let case_id = bot.file(RESIDENT, "category-labor", user_text, true).await;
    let number = "620722-2026-000001";
    let mut c = db.storage.acquire().await.unwrap();
    let details: String = sqlx::query_scalar(
        "SELECT details FROM case_events WHERE case_id = $1 AND kind = 'assigned'",
    )
    .bind(case_id)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    drop(c);
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    let explanation: Explanation =
        serde_json::from_value(details["explanation"].clone()).unwrap();
    let outbox_like = bot.cmd(MED_A, "mycases", "").await;
    assert!(said_to(&outbox_like, MED_A).contains(&format!(
        "{number} · 劳动争议、欠薪 · 已分派，等待受理 · 期限 2026-03-11 10:00"
    )));
    let card = bot
        .press(MED_A, &outbox_like, &t(zh, "btn-med-view", &[("number", number.into())]))
        .await;
    let expected = t(
        zh,
        "med-assignment",
        &[
            ("number", number.into()),
            ("committee", "民乐县劳动人事争议人民调解委员会".into()),
            ("category", "劳动争议、欠薪".into()),
            (
                "description",
                "老板欠了三个月工资 &lt;共 12000 元&gt; &amp; 没签合同".into(),
            ),
            ("files", 0.into()),
            (
                "place",
                "民乐县 六坝镇 六坝村 (38.60600, 100.80100)".into(),
            ),
            ("parties", 2.into()),
            ("risk", "没有".into()),
            ("phone", "13800138000".into()),
            ("explanation", escape(&explanation.render(zh)).into()),
            ("deadline", "2026-03-11 10:00".into()),
        ],
    );
    assert_eq!(said_to(&card, MED_A), expected);

    // A accepts first: the resident and B are told; B's later press is refused.
    let out = bot.press(MED_A, &card, &tr(zh, "btn-med-accept")).await;
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-accepted-ok",
        &[("number", number.into()), ("deadline", "2026-04-09 10:00".into())]
    )), "{out:#?}");
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-accepted",
            &[
                ("number", number.into()),
                ("committee", "民乐县劳动人事争议人民调解委员会".into()),
                ("mediator", "王调解".into()),
            ]
        )
    );
    assert_eq!(
        said_to(&out, MED_B),
        t(
            en,
            "med-taken-notice",
            &[("number", number.into()), ("mediator", "王调解".into())]
        )
    );
    let late = bot.data(MED_B, &format!("A:acc:{case_id}")).await;
    assert_eq!(notice(&late), Some(tr(en, "med-err-taken")));
    assert_eq!(bot.status(case_id).await, "accepted");
    assert_eq!(
        bot.count(&format!("SELECT mediator_id FROM cases WHERE id = {case_id}"))
            .await,
        a
    );
    let _ = b;

    // Schedule: a day button, a time button, a typed place.
    let out = bot.press(MED_A, &out, &tr(zh, "btn-med-schedule")).await;
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-schedule-ask",
        &[("number", number.into()), ("example", "2026-03-11 14:30".into())]
    )));
    // A typed time in the past is refused.
    let past = bot.text(MED_A, "2026-03-09 09:00").await;
    assert!(said_to(&past, MED_A).starts_with(&tr(zh, "med-err-past")));
    let bad = bot.text(MED_A, "下周吧").await;
    assert!(said_to(&bad, MED_A).starts_with(&t(
        zh,
        "med-err-when",
        &[("example", "2026-03-11 14:30".into())]
    )));
    let out = bot.press(MED_A, &bad, "03-12").await;
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-schedule-ask-time",
        &[("date", "2026-03-12".into())]
    )));
    let out = bot.press(MED_A, &out, "14:30").await;
    assert!(said_to(&out, MED_A).contains("2026-03-12 14:30"));
    let out = bot.text(MED_A, "六坝镇司法所 <二楼>").await;
    assert_eq!(
        said_to(&out, MED_A),
        t(
            zh,
            "med-scheduled-ok",
            &[
                ("number", number.into()),
                ("time", "2026-03-12 14:30".into()),
                ("place", "六坝镇司法所 &lt;二楼&gt;".into()),
            ]
        )
    );
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-scheduled",
            &[
                ("number", number.into()),
                ("time", "2026-03-12 14:30".into()),
                ("place", "六坝镇司法所 &lt;二楼&gt;".into()),
            ]
        )
    );
    assert_eq!(bot.status(case_id).await, "scheduled");

    // The reminder: not at night, at 08:00 the day before, once.
    let sweeper = bot.sweeper();
    bot.clock.set(shanghai(2026, 3, 11, 7, 0));
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert!(r.outside_working_hours);
    assert!(r.messages.is_empty());
    bot.clock.set(shanghai(2026, 3, 11, 8, 0));
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.meeting_reminders, 1);
    assert_eq!(
        said_to(&r.messages, RESIDENT),
        t(
            zh,
            "resident-reminder",
            &[
                ("number", number.into()),
                ("time", "2026-03-12 14:30".into()),
                ("place", "六坝镇司法所 &lt;二楼&gt;".into()),
            ]
        )
    );
    assert_eq!(
        said_to(&r.messages, MED_A),
        t(
            zh,
            "med-reminder-meeting",
            &[
                ("number", number.into()),
                ("time", "2026-03-12 14:30".into()),
                ("place", "六坝镇司法所 &lt;二楼&gt;".into()),
            ]
        )
    );
    // The daily digest went to the admin chat with it.
    assert!(said_to(&r.messages, ADMIN_CHAT).contains(&t(
        zh,
        "admin-digest-header",
        &[
            ("date", "2026-03-10".into()),
            ("new", 1.into()),
            ("resolved", 0.into()),
            ("overdue", 0.into()),
        ]
    )));
    let again = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert!(again.messages.is_empty(), "{again:?}");

    // Message the resident; the resident replies through a button.
    let card = bot.cmd(MED_A, "mycases", "").await;
    let card = bot
        .press(MED_A, &card, &t(zh, "btn-med-view", &[("number", number.into())]))
        .await;
    assert!(said_to(&card, MED_A).contains("约定调解：2026-03-12 14:30，六坝镇司法所 &lt;二楼&gt;"));
    let out = bot.press(MED_A, &card, &tr(zh, "btn-med-message")).await;
    drop(out);
    let out = bot.text(MED_A, "请带上工资条 & 合同").await;
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-message",
            &[("number", number.into()), ("text", "请带上工资条 &amp; 合同".into())]
        )
    );
    assert!(said_to(&out, MED_A).contains(&t(zh, "med-message-sent", &[("number", number.into())])));
    let out = bot.press(RESIDENT, &out, &tr(zh, "btn-reply-mediator")).await;
    drop(out);
    let out = bot.text(RESIDENT, "好的，我带上").await;
    assert_eq!(
        said_to(&out, MED_A),
        t(
            zh,
            "mediator-relay-info",
            &[("number", number.into()), ("text", "好的，我带上".into())]
        )
    );

    // A note stays internal.
    let out = bot.press(MED_A, &card, &tr(zh, "btn-med-note")).await;
    drop(out);
    let out = bot.text(MED_A, "双方情绪平稳").await;
    assert_eq!(said_to(&out, MED_A), t(zh, "med-note-ok", &[("number", number.into())]));
    assert!(out.iter().all(|m| m.chat_id == MED_A));

    // Resolved, with judicial confirmation; the resident rates 5, once.
    let out = bot.press(MED_A, &card, &tr(zh, "btn-med-resolved")).await;
    drop(out);
    let out = bot.text(MED_A, "老板 3 月底前付清 12000 元").await;
    assert!(said_to(&out, MED_A).contains(&tr(zh, "med-resolve-ask-judicial")));
    let out = bot.press(MED_A, &out, &tr(zh, "btn-med-judicial-yes")).await;
    assert_eq!(
        said_to(&out, MED_A),
        t(zh, "med-resolved-ok", &[("number", number.into()), ("days", 14.into())])
    );
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-resolved",
            &[
                ("number", number.into()),
                ("agreement", "老板 3 月底前付清 12000 元".into()),
                ("judicial", tr(zh, "resident-judicial-yes").into()),
            ]
        )
    );
    let rated = bot.press(RESIDENT, &out, "5").await;
    assert_eq!(notice(&rated), Some(tr(zh, "resident-rated")));
    let twice = bot.press(RESIDENT, &out, "2").await;
    assert_eq!(notice(&twice), Some(tr(zh, "resident-already-rated")));
    assert_eq!(
        bot.count(&format!("SELECT rating FROM cases WHERE id = {case_id}")).await,
        5
    );
    assert_eq!(bot.status(case_id).await, "resolved");

    // The follow-up 14 days later, at a working hour.
    let resolved_at = bot
        .count(&format!("SELECT resolved_at FROM cases WHERE id = {case_id}"))
        .await;
    bot.clock.set(jiefen::clock::ms_to_datetime(resolved_at + 14 * 24 * HOUR));
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.followups, 1);
    assert_eq!(
        said_to(&r.messages, RESIDENT),
        t(zh, "resident-followup", &[("number", number.into()), ("days", 14.into())])
    );
    let out = bot.press(RESIDENT, &r.messages, &tr(zh, "btn-fulfil-partial")).await;
    assert_eq!(
        said_to(&out, RESIDENT),
        t(zh, "resident-fulfilment-not", &[("number", number.into())])
    );
    assert_eq!(bot.status(case_id).await, "closed");
    assert_eq!(
        bot.text_of(&format!("SELECT fulfilment FROM cases WHERE id = {case_id}"))
            .await
            .as_deref(),
        Some("partial")
    );
    assert_eq!(
        bot.text_of(&format!("SELECT outcome FROM cases WHERE id = {case_id}"))
            .await
            .as_deref(),
        Some("agreement")
    );
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.followups, 0);

    // The timeline: every action with its actor.
    let mut c = db.storage.acquire().await.unwrap();
    let rows = sqlx::query(
        "SELECT kind, actor_kind, actor_id FROM case_events WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let events: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.get("kind"), r.get("actor_kind"), r.get("actor_id")))
        .collect();
    let a = a.to_string();
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "filed",
            "assigned",
            "accepted",
            "scheduled",
            "reminder",
            "mediator_message",
            "info_added",
            "note",
            "resolved",
            "rated",
            "followup",
            "fulfilment",
            "closed"
        ]
    );
    for e in &events {
        if matches!(e.0.as_str(), "accepted" | "scheduled" | "mediator_message" | "note" | "resolved") {
            assert_eq!((e.1.as_str(), e.2.as_str()), ("mediator", a.as_str()), "{e:?}");
        }
    }
}
