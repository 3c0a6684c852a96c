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
        for b in out
            .iter()
            .flat_map(|m| buttons(std::slice::from_ref(m), m.chat_id))
        {
            assert!(b.data.len() <= 64, "callback data too long: {}", b.data);
        }
        out
    }

    async fn text(&self, user: i64, s: &str) -> Vec<OutMessage> {
        self.send(user, "zh-CN", Event::Text { text: s.into() })
            .await
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

on_both_backends!(an_invite_links_once_and_wrong_codes_get_clear_answers_then_throttling,);

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
    let row =
        sqlx::query("SELECT telegram_user_id, chat_id, linked_at FROM mediators WHERE id = $1")
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

on_both_backends!(the_whole_lifecycle_from_filing_to_the_follow_up,);

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
    let explanation: Explanation = serde_json::from_value(details["explanation"].clone()).unwrap();
    let outbox_like = bot.cmd(MED_A, "mycases", "").await;
    assert!(said_to(&outbox_like, MED_A).contains(&format!(
        "{number} · 劳动争议、欠薪 · 已分派，等待受理 · 期限 2026-03-11 10:00"
    )));
    let card = bot
        .press(
            MED_A,
            &outbox_like,
            &t(zh, "btn-med-view", &[("number", number.into())]),
        )
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
            ("place", "民乐县 六坝镇 六坝村 (38.60600, 100.80100)".into()),
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
    assert!(
        said_to(&out, MED_A).contains(&t(
            zh,
            "med-accepted-ok",
            &[
                ("number", number.into()),
                ("deadline", "2026-04-09 10:00".into())
            ]
        )),
        "{out:#?}"
    );
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
        bot.count(&format!(
            "SELECT mediator_id FROM cases WHERE id = {case_id}"
        ))
        .await,
        a
    );
    let _ = b;

    // Schedule: a day button, a time button, a typed place.
    let out = bot.press(MED_A, &out, &tr(zh, "btn-med-schedule")).await;
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-schedule-ask",
        &[
            ("number", number.into()),
            ("example", "2026-03-11 14:30".into())
        ]
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
        .press(
            MED_A,
            &card,
            &t(zh, "btn-med-view", &[("number", number.into())]),
        )
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
            &[
                ("number", number.into()),
                ("text", "请带上工资条 &amp; 合同".into())
            ]
        )
    );
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-message-sent",
        &[("number", number.into())]
    )));
    let out = bot
        .press(RESIDENT, &out, &tr(zh, "btn-reply-mediator"))
        .await;
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
    assert_eq!(
        said_to(&out, MED_A),
        t(zh, "med-note-ok", &[("number", number.into())])
    );
    assert!(out.iter().all(|m| m.chat_id == MED_A));

    // Resolved, with judicial confirmation; the resident rates 5, once.
    let out = bot.press(MED_A, &card, &tr(zh, "btn-med-resolved")).await;
    drop(out);
    let out = bot.text(MED_A, "老板 3 月底前付清 12000 元").await;
    assert!(said_to(&out, MED_A).contains(&tr(zh, "med-resolve-ask-judicial")));
    let out = bot
        .press(MED_A, &out, &tr(zh, "btn-med-judicial-yes"))
        .await;
    assert_eq!(
        said_to(&out, MED_A),
        t(
            zh,
            "med-resolved-ok",
            &[("number", number.into()), ("days", 14.into())]
        )
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
        bot.count(&format!("SELECT rating FROM cases WHERE id = {case_id}"))
            .await,
        5
    );
    assert_eq!(bot.status(case_id).await, "resolved");

    // The follow-up 14 days later, at a working hour.
    let resolved_at = bot
        .count(&format!(
            "SELECT resolved_at FROM cases WHERE id = {case_id}"
        ))
        .await;
    bot.clock
        .set(jiefen::clock::ms_to_datetime(resolved_at + 14 * 24 * HOUR));
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.followups, 1);
    assert_eq!(
        said_to(&r.messages, RESIDENT),
        t(
            zh,
            "resident-followup",
            &[("number", number.into()), ("days", 14.into())]
        )
    );
    let out = bot
        .press(RESIDENT, &r.messages, &tr(zh, "btn-fulfil-partial"))
        .await;
    assert_eq!(
        said_to(&out, RESIDENT),
        t(zh, "resident-fulfilment-not", &[("number", number.into())])
    );
    assert_eq!(bot.status(case_id).await, "closed");
    assert_eq!(
        bot.text_of(&format!(
            "SELECT fulfilment FROM cases WHERE id = {case_id}"
        ))
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
        if matches!(
            e.0.as_str(),
            "accepted" | "scheduled" | "mediator_message" | "note" | "resolved"
        ) {
            assert_eq!(
                (e.1.as_str(), e.2.as_str()),
                ("mediator", a.as_str()),
                "{e:?}"
            );
        }
    }
}

on_both_backends!(
    when_every_mediator_declines_the_case_goes_to_the_next_committee,
    a_missed_accept_deadline_escalates_once_even_with_two_sweepers,
    a_forged_accept_from_another_committee_changes_nothing,
    a_stale_button_after_the_case_moved_on_changes_nothing,
    a_resident_cannot_act_on_another_residents_case,
    a_failed_mediation_gives_guidance_by_category_or_escalates,
    a_passed_resolve_deadline_reminds_the_mediator_and_alerts_once,
    admin_reassign_escalate_and_close_notify_resident_and_mediators,
);

async fn when_every_mediator_declines_the_case_goes_to_the_next_committee(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    bot.mediator("620722-LABOR", MED_B, "Li Wei", "en").await;
    let village = bot
        .mediator("620722101201-VIL", 9010, "村调解员", "zh-CN")
        .await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", false).await;
    let number = "620722-2026-000001";
    // A declines with a button reason: the case stays, B may still accept.
    let out = bot.data(MED_A, &format!("A:dec:{case_id}")).await;
    assert!(said_to(&out, MED_A).contains(&t(zh, "med-decline-ask", &[("number", number.into())])));
    let out = bot
        .press(MED_A, &out, &tr(zh, "btn-med-decline-busy"))
        .await;
    assert_eq!(
        said_to(&out, MED_A),
        t(zh, "med-declined-ok", &[("number", number.into())])
    );
    assert_eq!(bot.status(case_id).await, "assigned");
    assert_eq!(bot.case_committee(case_id).await, "620722-LABOR");
    // A cannot accept after declining? They still may: declining is not
    // final until everyone declined. B declines with a typed reason.
    let out = bot
        .send(
            MED_B,
            "en",
            Event::Button {
                callback_id: "x".into(),
                data: format!("A:dec:{case_id}"),
            },
        )
        .await;
    drop(out);
    let out = bot
        .send(
            MED_B,
            "en",
            Event::Text {
                text: "on leave <until> May".into(),
            },
        )
        .await;
    let en = Lang::En;
    assert_eq!(
        said_to(&out, MED_B),
        t(
            en,
            "med-declined-moved",
            &[
                ("number", number.into()),
                ("committee", "六坝镇六坝村人民调解委员会".into())
            ]
        )
    );
    assert_eq!(bot.case_committee(case_id).await, "620722101201-VIL");
    assert_eq!(bot.status(case_id).await, "assigned");
    assert_eq!(
        bot.count(&format!(
            "SELECT COUNT(*) FROM case_declines d JOIN committees c ON c.id = d.committee_id
             WHERE d.case_id = {case_id} AND c.code = '620722-LABOR'"
        ))
        .await,
        1
    );
    assert_eq!(
        bot.text_of(&format!(
            "SELECT reason FROM case_events WHERE case_id = {case_id} AND kind = 'declined' ORDER BY id DESC LIMIT 1"
        ))
        .await
        .as_deref(),
        Some("on leave <until> May")
    );
    // The village mediator got the assignment; the resident was told.
    assert!(said_to(&out, 9010).contains(&format!(
        "<b>新案件 {number}</b>（六坝镇六坝村人民调解委员会）"
    )));
    let deadline = bot
        .count(&format!(
            "SELECT accept_deadline FROM cases WHERE id = {case_id}"
        ))
        .await;
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-reassigned",
            &[
                ("number", number.into()),
                ("committee", "六坝镇六坝村人民调解委员会".into()),
                ("address", "民乐县六坝镇六坝村村委会".into()),
                ("phone", "0936-4410101".into()),
                (
                    "deadline",
                    bot.engine.lifecycle().local_time(deadline).into()
                ),
            ]
        )
    );
    // The labour mediators' old buttons no longer work.
    let late = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    assert_eq!(notice(&late), Some(tr(zh, "med-err-not-yours")));
    let accepted = bot.data(9010, &format!("A:acc:{case_id}")).await;
    assert!(said_to(&accepted, 9010).contains("620722-2026-000001"));
    assert_eq!(
        bot.count(&format!(
            "SELECT mediator_id FROM cases WHERE id = {case_id}"
        ))
        .await,
        village
    );
}

async fn a_missed_accept_deadline_escalates_once_even_with_two_sweepers(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722101201-VIL", 9010, "村调解员", "zh-CN")
        .await;
    bot.mediator("620722101-TWN", 9020, "镇调解员", "zh-CN")
        .await;
    let case_id = bot
        .file(RESIDENT, "category-neighbor", "邻居占了过道", false)
        .await;
    let number = "620722-2026-000001";
    assert_eq!(bot.case_committee(case_id).await, "620722101201-VIL");
    let one = bot.sweeper();
    let two = bot.sweeper();
    // Before the deadline nothing happens.
    bot.clock.set(shanghai(2026, 3, 11, 9, 0));
    let r = one.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.accept_deadlines, 0);
    // The deadline passes at night: the escalation waits for the morning.
    bot.clock.set(shanghai(2026, 3, 11, 23, 0));
    let r = one.tick(bot.clock.now_ms()).await.unwrap();
    assert!(r.outside_working_hours);
    assert_eq!(bot.case_committee(case_id).await, "620722101201-VIL");
    bot.clock.set(shanghai(2026, 3, 12, 8, 0));
    let now = bot.clock.now_ms();
    let (r1, r2) = tokio::join!(one.tick(now), two.tick(now));
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(
        r1.accept_deadlines + r2.accept_deadlines,
        1,
        "{r1:?} {r2:?}"
    );
    assert_eq!(r1.digests + r2.digests, 1);
    let r3 = one.tick(now).await.unwrap();
    assert_eq!(r3.accept_deadlines, 0);
    assert!(r3.messages.is_empty());
    let msgs: Vec<OutMessage> = r1.messages.into_iter().chain(r2.messages).collect();
    assert_eq!(bot.case_committee(case_id).await, "620722101-TWN");
    assert_eq!(
        bot.count(&format!(
            "SELECT COUNT(*) FROM case_events WHERE case_id = {case_id} AND kind = 'escalated'"
        ))
        .await,
        1
    );
    assert_eq!(
        bot.count(&format!(
            "SELECT COUNT(*) FROM case_declines WHERE case_id = {case_id}"
        ))
        .await,
        1
    );
    let deadline = bot
        .count(&format!(
            "SELECT accept_deadline FROM cases WHERE id = {case_id}"
        ))
        .await;
    assert_eq!(deadline, now + 24 * HOUR);
    assert_eq!(
        said_to(&msgs, RESIDENT),
        t(
            zh,
            "resident-escalated",
            &[
                ("number", number.into()),
                ("committee", "民乐县六坝镇人民调解委员会".into()),
                ("address", "民乐县六坝镇人民政府院内".into()),
                ("phone", "0936-4410100".into()),
                ("deadline", "2026-03-13 08:00".into()),
            ]
        )
    );
    assert!(said_to(&msgs, 9020).contains(&format!(
        "<b>新案件 {number}</b>（民乐县六坝镇人民调解委员会）"
    )));
    assert!(
        said_to(&msgs, 9020).contains("上交到乡镇（街道）调委会"),
        "{}",
        said_to(&msgs, 9020)
    );
    assert_eq!(
        said_to(&msgs, 9010),
        t(
            zh,
            "med-case-moved",
            &[
                ("number", number.into()),
                ("committee", "民乐县六坝镇人民调解委员会".into())
            ]
        )
    );
    assert!(said_to(&msgs, ADMIN_CHAT).contains(&t(
        zh,
        "admin-alert-accept-missed",
        &[
            ("number", number.into()),
            ("committee", "六坝镇六坝村人民调解委员会".into()),
            ("to", "民乐县六坝镇人民调解委员会".into()),
        ]
    )));
}

async fn a_forged_accept_from_another_committee_changes_nothing(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    bot.mediator("620722-FAMILY", 9030, "家事调解员", "zh-CN")
        .await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let events = bot.count("SELECT COUNT(*) FROM case_events").await;
    for data in [
        format!("A:acc:{case_id}"),
        format!("A:dec:{case_id}"),
        format!("A:view:{case_id}"),
        format!("A:res:{case_id}"),
        "A:acc:999999".to_owned(),
    ] {
        let out = bot.data(9030, &data).await;
        assert_eq!(notice(&out), Some(tr(zh, "med-err-not-yours")), "{data}");
        assert!(
            !said_to(&out, 9030).contains("欠薪"),
            "nothing of the case leaks"
        );
    }
    for data in ["A:acc:abc", "A:hack:1", "R:1:5", "7:dr:busy"] {
        let out = bot.data(9030, data).await;
        assert!(
            matches!(notice(&out).as_deref(), Some(n) if n == tr(zh, "err-bad-button") || n == tr(zh, "err-stale")),
            "{data}: {out:?}"
        );
    }
    assert_eq!(bot.status(case_id).await, "assigned");
    assert_eq!(bot.count("SELECT COUNT(*) FROM case_events").await, events);
    assert_eq!(bot.count("SELECT COUNT(*) FROM mediator_declines").await, 0);
    // The right committee's mediator also cannot skip steps.
    let out = bot.data(MED_A, &format!("A:res:{case_id}")).await;
    assert_eq!(
        notice(&out),
        Some(t(
            zh,
            "med-err-state",
            &[
                ("number", "620722-2026-000001".into()),
                ("status", "已分派，等待受理".into())
            ]
        ))
    );
    assert_eq!(bot.status(case_id).await, "assigned");
}

async fn a_stale_button_after_the_case_moved_on_changes_nothing(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let out = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    // Accept again: already accepted.
    let again = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    assert_eq!(
        notice(&again),
        Some(t(
            zh,
            "med-err-state",
            &[
                ("number", "620722-2026-000001".into()),
                ("status", "已受理".into())
            ]
        ))
    );
    // Start scheduling, then press a day button of an older question.
    let ask = bot.press(MED_A, &out, &tr(zh, "btn-med-schedule")).await;
    let day = button(&ask, MED_A, "03-12").data;
    let ask2 = bot.press(MED_A, &ask, "03-11").await;
    let stale = bot.data(MED_A, &day).await;
    assert_eq!(notice(&stale), Some(tr(zh, "err-stale")));
    assert!(said_to(&stale, MED_A).contains(&t(
        zh,
        "med-schedule-ask-time",
        &[("date", "2026-03-11".into())]
    )));
    drop(ask2);
    // Resolve the case; the schedule button on the old card is refused.
    let out2 = bot.cmd(MED_A, "cancel", "").await;
    assert_eq!(said_to(&out2, MED_A), tr(zh, "cancelled"));
    let r = bot.press(MED_A, &out, &tr(zh, "btn-med-resolved")).await;
    drop(r);
    let r = bot.text(MED_A, "已付清").await;
    let r = bot.press(MED_A, &r, &tr(zh, "btn-med-judicial-no")).await;
    drop(r);
    assert_eq!(bot.status(case_id).await, "resolved");
    let events = bot.count("SELECT COUNT(*) FROM case_events").await;
    for label in [
        "btn-med-schedule",
        "btn-med-failed",
        "btn-med-message",
        "btn-med-resolved",
    ] {
        let stale = bot.press(MED_A, &out, &tr(zh, label)).await;
        assert_eq!(
            notice(&stale),
            Some(t(
                zh,
                "med-err-state",
                &[
                    ("number", "620722-2026-000001".into()),
                    ("status", "调解成功".into())
                ]
            )),
            "{label}"
        );
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM case_events").await, events);
    assert_eq!(bot.status(case_id).await, "resolved");
}

async fn a_resident_cannot_act_on_another_residents_case(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let _ = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    let out = bot.data(MED_A, &format!("A:res:{case_id}")).await;
    drop(out);
    let out = bot.text(MED_A, "已付清").await;
    let _ = bot.press(MED_A, &out, &tr(zh, "btn-med-judicial-no")).await;
    // Another resident (consented) tries the rating, follow-up and case buttons.
    let other = 1002;
    let out = bot.cmd(other, "start", "").await;
    let _ = bot.press(other, &out, &tr(zh, "btn-agree")).await;
    for data in [
        format!("R:{case_id}:1"),
        format!("F:{case_id}:none"),
        format!("K:ai:{case_id}"),
        format!("K:tl:{case_id}"),
    ] {
        let out = bot.data(other, &data).await;
        assert_eq!(notice(&out), Some(tr(zh, "err-not-your-case")), "{data}");
        assert!(!said_to(&out, other).contains("620722-2026-000001"));
    }
    // A resident cannot use mediator buttons either.
    let out = bot.data(other, &format!("A:acc:{case_id}")).await;
    assert_eq!(notice(&out), Some(tr(zh, "err-bad-button")));
    assert_eq!(
        bot.count(&format!("SELECT COUNT(*) FROM cases WHERE id = {case_id} AND rating IS NULL AND fulfilment IS NULL"))
            .await,
        1
    );
    assert_eq!(bot.status(case_id).await, "resolved");
    // The owner's rating works; a fulfilment answer before the follow-up closes it.
    let out = bot.data(RESIDENT, &format!("R:{case_id}:4")).await;
    assert_eq!(notice(&out), Some(tr(zh, "resident-rated")));
}

async fn a_failed_mediation_gives_guidance_by_category_or_escalates(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    bot.mediator("620722-CENTER", 9040, "中心调解员", "zh-CN")
        .await;
    // Labour, referred to arbitration: labour arbitration guidance and 12348.
    let labour = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let _ = bot.data(MED_A, &format!("A:acc:{labour}")).await;
    let out = bot.data(MED_A, &format!("A:fail:{labour}")).await;
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-fail-ask-next",
        &[("number", "620722-2026-000001".into())]
    )));
    let out = bot
        .press(MED_A, &out, &tr(zh, "btn-med-fail-arbitration"))
        .await;
    assert!(said_to(&out, MED_A).contains(&t(zh, "med-fail-ask-reason", &[("max", 200.into())])));
    let out = bot.text(MED_A, "老板拒不到场").await;
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-failed",
            &[
                ("number", "620722-2026-000001".into()),
                ("guidance", tr(zh, "guidance-labor-arbitration").into()),
                ("legal_aid", tr(zh, "guidance-legal-aid").into()),
            ]
        )
    );
    assert!(said_to(&out, RESIDENT).contains("12348"));
    assert_eq!(bot.status(labour).await, "closed");
    assert_eq!(
        bot.text_of(&format!("SELECT outcome FROM cases WHERE id = {labour}"))
            .await
            .as_deref(),
        Some("arbitration")
    );
    assert_eq!(
        bot.text_of(&format!(
            "SELECT reason FROM case_events WHERE case_id = {labour} AND kind = 'failed'"
        ))
        .await
        .as_deref(),
        Some("老板拒不到场")
    );
    // Another labour case escalated: it goes up to the county centre.
    let second = bot.file(1003, "category-labor", "又欠薪", false).await;
    let _ = bot.data(MED_A, &format!("A:acc:{second}")).await;
    let out = bot.data(MED_A, &format!("A:fail:{second}")).await;
    let out = bot
        .press(MED_A, &out, &tr(zh, "btn-med-fail-escalate"))
        .await;
    drop(out);
    let out = bot.text(MED_A, "需要上级协调").await;
    assert_eq!(
        said_to(&out, MED_A),
        t(
            zh,
            "med-failed-escalated",
            &[
                ("number", "620722-2026-000002".into()),
                ("committee", "民乐县矛盾纠纷调处化解中心".into())
            ]
        )
    );
    assert_eq!(bot.case_committee(second).await, "620722-CENTER");
    assert_eq!(bot.status(second).await, "assigned");
    assert!(said_to(&out, 1003)
        .starts_with("您的案件 620722-2026-000002 已转到上一级：民乐县矛盾纠纷调处化解中心"));
    assert!(said_to(&out, 9040).contains("<b>新案件 620722-2026-000002</b>"));
    // A neighbour case (not labour, not land) points to the court.
    assert_eq!(
        jiefen::lifecycle::guidance_id(jiefen::domain::Category::Neighbor),
        "guidance-court"
    );
    assert_eq!(
        jiefen::lifecycle::guidance_id(jiefen::domain::Category::Land),
        "guidance-land-arbitration"
    );
}

async fn a_passed_resolve_deadline_reminds_the_mediator_and_alerts_once(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let _ = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    let deadline = bot
        .count(&format!(
            "SELECT resolve_deadline FROM cases WHERE id = {case_id}"
        ))
        .await;
    bot.clock
        .set(jiefen::clock::ms_to_datetime(deadline + HOUR));
    // /mycases flags the overdue case.
    let out = bot.cmd(MED_A, "mycases", "").await;
    assert!(
        said_to(&out, MED_A).contains(&tr(zh, "med-mycases-overdue")),
        "{out:?}"
    );
    let sweeper = bot.sweeper();
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.resolve_overdue, 1);
    let when = bot.engine.lifecycle().local_time(deadline);
    assert_eq!(
        said_to(&r.messages, MED_A),
        t(
            zh,
            "med-reminder-overdue",
            &[
                ("number", "620722-2026-000001".into()),
                ("deadline", when.clone().into())
            ]
        )
    );
    assert!(said_to(&r.messages, ADMIN_CHAT).contains(&t(
        zh,
        "admin-alert-resolve-overdue",
        &[
            ("number", "620722-2026-000001".into()),
            ("committee", "民乐县劳动人事争议人民调解委员会".into()),
            ("deadline", when.into()),
        ]
    )));
    let r = sweeper.tick(bot.clock.now_ms()).await.unwrap();
    assert_eq!(r.resolve_overdue, 0);
    assert!(r.messages.is_empty());
}

async fn admin_reassign_escalate_and_close_notify_resident_and_mediators(db: &TestDb) {
    let bot = bot(db).await;
    let zh = Lang::ZhCn;
    bot.mediator("620722-LABOR", MED_A, "王调解", "zh-CN").await;
    bot.mediator("620722-COURT", 9050, "法院调解员", "zh-CN")
        .await;
    let case_id = bot.file(RESIDENT, "category-labor", "欠薪", true).await;
    let _ = bot.data(MED_A, &format!("A:acc:{case_id}")).await;
    let lc = bot.engine.lifecycle();
    let court = bot.committee_id("620722-COURT").await;
    let mut tx = db.storage.begin().await.unwrap();
    let (case, out) = lc
        .admin_reassign(
            &mut tx,
            case_id,
            court,
            "token:ops",
            "法院诉前调解更合适 <试点>",
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(case.committee_id, Some(court));
    assert_eq!(case.mediator_id, None);
    assert!(said_to(&out, MED_A).contains(&t(
        zh,
        "med-case-reassigned",
        &[
            ("number", "620722-2026-000001".into()),
            ("committee", "民乐县人民法院诉前调解工作室".into())
        ]
    )));
    assert!(said_to(&out, 9050).contains("管理员改派：法院诉前调解更合适 &lt;试点&gt;"));
    assert!(said_to(&out, RESIDENT)
        .starts_with("您的案件 620722-2026-000001 改由民乐县人民法院诉前调解工作室办理。"));
    // Escalate: court → county centre.
    let mut tx = db.storage.begin().await.unwrap();
    let (case, out) = lc
        .admin_escalate(&mut tx, case_id, "token:ops", "需要县级协调")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(bot.case_committee(case.id).await, "620722-CENTER");
    assert!(said_to(&out, RESIDENT).contains("已转到上一级：民乐县矛盾纠纷调处化解中心"));
    // From the county centre there is no higher level.
    let mut tx = db.storage.begin().await.unwrap();
    let err = lc
        .admin_escalate(&mut tx, case_id, "token:ops", "再上交")
        .await
        .unwrap_err();
    drop(tx);
    assert!(matches!(
        err,
        jiefen::lifecycle::LifecycleError::NoHigherLevel
    ));
    // Close with the reason shown to the resident.
    let mut tx = db.storage.begin().await.unwrap();
    let (case, out) = lc
        .admin_close(&mut tx, case_id, None, "token:ops", "当事人已自行和解")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(case.status, jiefen::domain::CaseStatus::Closed);
    assert_eq!(
        said_to(&out, RESIDENT),
        t(
            zh,
            "resident-closed",
            &[
                ("number", "620722-2026-000001".into()),
                ("reason", "当事人已自行和解".into())
            ]
        )
    );
    assert_eq!(
        bot.text_of(&format!("SELECT outcome FROM cases WHERE id = {case_id}"))
            .await
            .as_deref(),
        Some("admin_closed")
    );
    let mut c = db.storage.acquire().await.unwrap();
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT kind || '/' || actor_kind || '/' || actor_id FROM case_events
         WHERE case_id = $1 AND actor_kind = 'admin' ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(
        actors,
        [
            "reassigned/admin/token:ops",
            "escalated/admin/token:ops",
            "closed/admin/token:ops"
        ]
    );
}
