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
