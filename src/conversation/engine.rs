//! The resident conversation engine: one [`Incoming`] event in, the stored
//! dialogue moved on and the replies out, all through the caller's
//! transaction. Never talks to Telegram or HTTP.

use super::state::{Dialogue, Draft, State, Step};
use super::{Event, HandlerError, Incoming, UpdateHandler};
use crate::clock::SharedClock;
use crate::config::PolicyConfig;
use crate::domain::{
    CaseStatus, Category, Fulfilment, GeoPoint, Phone, Region, RegionCode, RegionLevel,
};
use crate::i18n::{t, Lang};
use crate::lifecycle::{
    region_label, AddedInfo, Lifecycle, LifecycleError, LocationSource, NewAttachment, NewCase,
    Reply,
};
use crate::outgoing::{
    escape_html, InlineButton, InlineKeyboard, Keyboard, OutBody, OutMessage, ReplyButton,
    ReplyKeyboard, ShareRequest,
};
use crate::routing::Router;
use crate::storage::conversations::StoredDialogue;
use crate::storage::residents::ResidentRecord;
use crate::storage::{self, Conn, StorageError, Tx};
use fluent_bundle::FluentValue;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest short answer (other party, address), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Most attachments per case (at filing; more can be added later).
pub const MAX_ATTACHMENTS: usize = 10;
/// Events from one user in one window before throttling.
pub const FLOOD_LIMIT: i64 = 30;
/// The flood window, milliseconds.
pub const FLOOD_WINDOW_MS: i64 = 5_000;
/// A shared location farther than this from every known place is outside
/// the area served.
pub const MAX_LOCATION_KM: f64 = 30.0;
/// Region buttons per page.
pub const REGION_PAGE: usize = 8;
/// Cases listed by /mycases.
pub const MYCASES_LIMIT: i64 = 10;

/// The resident conversation engine.
#[derive(Debug, Clone)]
pub struct Engine {
    lifecycle: Lifecycle,
}

/// Everything one turn works on.
struct Turn {
    chat: i64,
    user_id: i64,
    lang: Lang,
    resident: ResidentRecord,
    d: Dialogue,
    /// The dialogue as read at the start of the turn, and its version
    /// (`None`: no row yet); the save names this version.
    read: Option<(Dialogue, i64)>,
    /// The step before this turn (to remove a reply keyboard when leaving it).
    old_step: Option<Step>,
    out: Vec<OutMessage>,
    /// Notice on the callback answer.
    answer: Option<String>,
}

impl Turn {
    fn say(&mut self, html: String) {
        self.out.push(OutMessage::text(self.chat, html));
    }
    fn say_kb(&mut self, html: String, kb: InlineKeyboard) {
        self.out.push(OutMessage::with_keyboard(
            self.chat,
            html,
            Keyboard::Inline(kb),
        ));
    }
    fn tr(&self, id: &str) -> String {
        t(self.lang, id, &[])
    }
    /// A tokened button of the current step.
    fn btn(&self, label_id: &str, action: &str) -> InlineButton {
        InlineButton::new(self.tr(label_id), format!("{}:{action}", self.d.token))
    }
    fn nav_row(&self) -> Vec<InlineButton> {
        vec![
            self.btn("btn-back", "back"),
            self.btn("btn-cancel", "cancel"),
        ]
    }
    /// Moves to another question (old buttons become stale).
    fn goto(&mut self, draft: Draft, step: Step) {
        self.d.token = self.d.token.wrapping_add(1);
        self.d.state = State::Filing { draft, step };
    }
    /// Leaves the filing flow (or any state) for `state`.
    fn set_state(&mut self, state: State) {
        self.d.token = self.d.token.wrapping_add(1);
        self.d.state = state;
    }
}

/// A parsed button.
#[derive(Debug, Clone, PartialEq)]
enum Press {
    /// A step button: token and action.
    Step(u32, String),
    /// Language choice (works any time).
    Lang(Lang),
    /// Privacy notice answer, with the language it was shown in.
    Consent(bool, Lang),
    /// Main menu.
    Menu(String),
    /// A case button: action and case id.
    Case(String, i64),
    /// A rating of a resolved case: case id and 1–5.
    Rate(i64, i64),
    /// The fulfilment follow-up answer: case id and answer.
    Fulfil(i64, Fulfilment),
}

fn parse_press(data: &str) -> Option<Press> {
    if data.len() > crate::outgoing::MAX_CALLBACK_BYTES {
        return None;
    }
    let (head, rest) = data.split_once(':')?;
    match head {
        "L" => Lang::parse(rest).map(Press::Lang),
        "C" => {
            let (yn, lang) = rest.split_once(':')?;
            let lang = Lang::parse(lang)?;
            match yn {
                "y" => Some(Press::Consent(true, lang)),
                "n" => Some(Press::Consent(false, lang)),
                _ => None,
            }
        }
        "M" => matches!(rest, "new" | "my" | "help").then(|| Press::Menu(rest.to_owned())),
        "K" => {
            let (action, id) = rest.split_once(':')?;
            let id: i64 = id.parse().ok()?;
            matches!(action, "tl" | "ai" | "wd").then(|| Press::Case(action.to_owned(), id))
        }
        "R" => {
            let (id, n) = rest.split_once(':')?;
            let n: i64 = n.parse().ok()?;
            (1..=5)
                .contains(&n)
                .then_some(Press::Rate(id.parse().ok()?, n))
        }
        "F" => {
            let (id, f) = rest.split_once(':')?;
            Some(Press::Fulfil(id.parse().ok()?, Fulfilment::parse(f).ok()?))
        }
        token => {
            let token: u32 = token.parse().ok()?;
            if rest.is_empty() || !rest.is_ascii() {
                return None;
            }
            Some(Press::Step(token, rest.to_owned()))
        }
    }
}

fn s<'a>(v: impl Into<String>) -> FluentValue<'a> {
    FluentValue::from(v.into())
}

impl Engine {
    /// An engine over a case service built from these settings.
    pub fn new(
        router: Router,
        policy: PolicyConfig,
        clock: SharedClock,
        admin_chat_id: Option<i64>,
    ) -> Self {
        Self {
            lifecycle: Lifecycle::new(router, policy, clock, admin_chat_id),
        }
    }

    /// An engine over an existing case service (e.g. one with the
    /// mediators' assignment hook).
    pub fn from_lifecycle(lifecycle: Lifecycle) -> Self {
        Self { lifecycle }
    }

    /// The case service.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    fn now(&self) -> i64 {
        self.lifecycle.clock().now_ms()
    }

    fn default_lang(&self) -> Lang {
        Lang::parse(&self.lifecycle.policy().default_language).unwrap_or_default()
    }

    async fn run(&self, tx: &mut Tx, inc: &Incoming) -> Result<Vec<OutMessage>, HandlerError> {
        let chat = inc.chat.id;
        let callback = match &inc.event {
            Event::Button { callback_id, .. } => Some(callback_id.clone()),
            _ => None,
        };
        let tg_lang = Lang::from_telegram(inc.user_language.as_deref());

        // Groups: one polite refusal, nothing stored, not even a counter.
        if !inc.chat.private {
            let lang = tg_lang.unwrap_or(self.default_lang());
            let text = t(lang, "err-group", &[]);
            return Ok(match callback {
                Some(id) => vec![OutMessage {
                    chat_id: chat,
                    body: OutBody::AnswerCallback {
                        callback_id: id,
                        text: Some(text),
                        alert: true,
                    },
                }],
                None => vec![OutMessage::text(chat, text)],
            });
        }

        // Inside a batch these were read for every chat at once.
        let resident = storage::prefetch::resident_by_user(tx, inc.user_id).await?;
        let mediator = storage::prefetch::mediator_by_user(tx, inc.user_id).await?;
        let dialogue = storage::prefetch::take_dialogue(tx, chat);
        let lang = resident
            .as_ref()
            .and_then(|r| Lang::parse(&r.language))
            .or(tg_lang)
            .unwrap_or(self.default_lang());

        // Flood control, counted in the database so every instance agrees
        // (for a batch, counted for all its events at once).
        let count =
            storage::prefetch::flood_hit(tx, inc.user_id, self.now(), FLOOD_WINDOW_MS).await?;
        if count.hits > FLOOD_LIMIT {
            let mut out = vec![];
            if let Some(id) = callback {
                out.push(OutMessage::answer(chat, id, None));
            }
            if !count.notified {
                storage::prefetch::flood_mark_notified(tx, inc.user_id).await?;
                out.push(OutMessage::text(chat, t(lang, "err-flood", &[])));
            }
            return Ok(out);
        }
        let conn: &mut Tx = tx;

        // A linked mediator's chat is the mediator's desk; an invite link
        // (`/start <code>`) from anyone else tries to link the account.
        let mut out = match (&inc.event, mediator) {
            (_, Some(m)) => {
                let mlang = Lang::parse(&m.language).unwrap_or(lang);
                super::mediator::handle(&self.lifecycle, conn, inc, m, mlang, dialogue).await?
            }
            (Event::Command { name, args }, None) if name == "start" && !args.trim().is_empty() => {
                super::mediator::redeem(&self.lifecycle, conn, inc, args, lang).await?
            }
            (_, None) => match resident {
                Some(r) if r.has_consented() => {
                    self.consented(conn, inc, r, lang, dialogue).await?
                }
                other => {
                    self.before_consent(conn, inc, other, lang, dialogue)
                        .await?
                }
            },
        };
        // Every pressed button gets an answer, first, so the phone stops spinning.
        if let Some(id) = callback {
            let has_answer = out
                .iter()
                .any(|m| matches!(m.body, OutBody::AnswerCallback { .. }));
            if !has_answer {
                out.insert(0, OutMessage::answer(chat, id, None));
            }
        }
        Ok(out)
    }

    // ----- before consent: nothing is stored but an answer to the notice -----

    fn consent_notice(&self, chat: i64, lang: Lang) -> OutMessage {
        let code = lang.code();
        let kb = InlineKeyboard::default()
            .row(vec![
                InlineButton::new(t(lang, "btn-agree", &[]), format!("C:y:{code}")),
                InlineButton::new(t(lang, "btn-decline", &[]), format!("C:n:{code}")),
            ])
            .row(lang_buttons());
        OutMessage::with_keyboard(chat, t(lang, "welcome-consent", &[]), Keyboard::Inline(kb))
    }

    async fn before_consent(
        &self,
        conn: &mut Tx,
        inc: &Incoming,
        resident: Option<ResidentRecord>,
        lang: Lang,
        dialogue: Option<Option<StoredDialogue>>,
    ) -> Result<Vec<OutMessage>, HandlerError> {
        let chat = inc.chat.id;
        let declined = resident
            .as_ref()
            .is_some_and(|r| r.consent_declined_at.is_some());
        match &inc.event {
            Event::Button { callback_id, data } => match parse_press(data) {
                Some(Press::Consent(true, l)) => {
                    let r = storage::residents::record_consent(
                        conn,
                        inc.user_id,
                        chat,
                        l.code(),
                        self.now(),
                    )
                    .await?;
                    let mut turn = self.turn(conn, chat, inc.user_id, r, l, dialogue).await?;
                    turn.say(turn.tr("consent-thanks"));
                    turn.goto(Draft::default(), Step::Category);
                    self.prompt(conn, &mut turn, &Draft::default(), &Step::Category)
                        .await?;
                    self.finish(conn, turn).await
                }
                Some(Press::Consent(false, l)) => {
                    storage::residents::record_refusal(
                        conn,
                        inc.user_id,
                        chat,
                        l.code(),
                        self.now(),
                    )
                    .await?;
                    Ok(vec![
                        OutMessage::answer(chat, callback_id.clone(), None),
                        OutMessage::text(chat, t(l, "consent-declined", &[])),
                    ])
                }
                Some(Press::Lang(l)) => Ok(vec![
                    OutMessage::answer(chat, callback_id.clone(), None),
                    self.consent_notice(chat, l),
                ]),
                Some(_) => Ok(vec![
                    OutMessage::answer(chat, callback_id.clone(), Some(t(lang, "err-stale", &[]))),
                    self.consent_notice(chat, lang),
                ]),
                None => Ok(vec![
                    OutMessage::answer(
                        chat,
                        callback_id.clone(),
                        Some(t(lang, "err-bad-button", &[])),
                    ),
                    self.consent_notice(chat, lang),
                ]),
            },
            Event::Command { name, .. } if name == "help" => {
                Ok(vec![OutMessage::text(chat, t(lang, "help", &[]))])
            }
            Event::Command { name, .. } if name == "start" || name == "language" => {
                Ok(vec![self.consent_notice(chat, lang)])
            }
            _ if declined => Ok(vec![OutMessage::text(
                chat,
                t(lang, "declined-reminder", &[]),
            )]),
            _ => Ok(vec![self.consent_notice(chat, lang)]),
        }
    }

    // ----- after consent -----

    async fn turn(
        &self,
        conn: &mut Tx,
        chat: i64,
        user_id: i64,
        resident: ResidentRecord,
        lang: Lang,
        dialogue: Option<Option<StoredDialogue>>,
    ) -> Result<Turn, HandlerError> {
        let read = match storage::prefetch::dialogue_or_load(conn, chat, dialogue).await? {
            Some(stored) => {
                let d = serde_json::from_str::<Dialogue>(&stored.state).unwrap_or_else(|e| {
                    // A state written by an older version that no longer parses:
                    // start afresh rather than failing every update of the chat.
                    tracing::warn!(chat, error = %e, "unreadable dialogue state reset");
                    Dialogue::default()
                });
                Some((d, stored.version))
            }
            None => None,
        };
        let d = read.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
        let old_step = match &d.state {
            State::Filing { step, .. } => Some(step.clone()),
            _ => None,
        };
        Ok(Turn {
            chat,
            user_id,
            lang,
            resident,
            d,
            read,
            old_step,
            out: vec![],
            answer: None,
        })
    }

    /// Saves the dialogue when it changed (with the version it was read at)
    /// and returns the turn's messages.
    async fn finish(&self, conn: &mut Tx, mut turn: Turn) -> Result<Vec<OutMessage>, HandlerError> {
        let changed = match &turn.read {
            Some((d, _)) => *d != turn.d,
            None => turn.d != Dialogue::default(),
        };
        if changed {
            let new_json = serde_json::to_string(&turn.d)
                .map_err(|e| HandlerError::Internal(format!("dialogue state: {e}")))?;
            // Someone else saving in between makes this fail as Stale: the
            // whole transaction rolls back and the update is applied again.
            storage::prefetch::save_dialogue(
                conn,
                turn.chat,
                &new_json,
                turn.read.as_ref().map(|(_, v)| *v),
                self.now(),
            )
            .await?;
        }
        // Leaving a step that showed a reply keyboard: take the keyboard away.
        let new_step = match &turn.d.state {
            State::Filing { step, .. } => Some(step),
            _ => None,
        };
        let left_reply_kb = turn
            .old_step
            .as_ref()
            .is_some_and(|s| s.uses_reply_keyboard())
            && !new_step.is_some_and(|s| s.uses_reply_keyboard());
        if left_reply_kb {
            let pos = turn
                .out
                .iter()
                .position(|m| !matches!(m.body, OutBody::AnswerCallback { .. }))
                .unwrap_or(turn.out.len());
            turn.out.insert(
                pos,
                OutMessage::with_keyboard(turn.chat, turn.tr("keyboard-closed"), Keyboard::Remove),
            );
        }
        Ok(turn.out)
    }

    async fn consented(
        &self,
        conn: &mut Tx,
        inc: &Incoming,
        resident: ResidentRecord,
        lang: Lang,
        dialogue: Option<Option<StoredDialogue>>,
    ) -> Result<Vec<OutMessage>, HandlerError> {
        let mut turn = self
            .turn(conn, inc.chat.id, inc.user_id, resident, lang, dialogue)
            .await?;
        match &inc.event {
            Event::Command { name, .. } => self.command(conn, &mut turn, name).await?,
            Event::Button { data, callback_id } => {
                self.button(conn, &mut turn, data).await?;
                let answer = turn.answer.take();
                turn.out.insert(
                    0,
                    OutMessage::answer(turn.chat, callback_id.clone(), answer),
                );
            }
            Event::Edited => {
                let warn = turn.tr("err-edited");
                self.reprompt(conn, &mut turn, Some(warn)).await?;
            }
            ev => self.input(conn, &mut turn, ev).await?,
        }
        self.finish(conn, turn).await
    }

    async fn command(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        name: &str,
    ) -> Result<(), HandlerError> {
        match name {
            "start" => match turn.d.state.clone() {
                State::Filing { draft, step } | State::ResumeOffer { draft, step } => {
                    turn.set_state(State::ResumeOffer {
                        draft: draft.clone(),
                        step,
                    });
                    self.show_resume_offer(turn, &draft);
                }
                _ => {
                    turn.set_state(State::Idle);
                    self.show_menu(turn, "menu");
                }
            },
            "new" | "file" => self.start_filing(turn),
            "cancel" => self.cancel(turn),
            "mycases" => {
                if matches!(
                    turn.d.state,
                    State::AddInfo { .. } | State::ConfirmWithdraw { .. }
                ) {
                    turn.set_state(State::Idle);
                }
                self.show_cases(conn, turn).await?;
            }
            "help" => {
                let h = self.help_text(conn, turn).await?;
                turn.say(h);
            }
            "language" => {
                let kb = InlineKeyboard::default().row(lang_buttons());
                turn.say_kb(turn.tr("lang-choose"), kb);
            }
            _ => {
                let warn = turn.tr("err-unknown-command");
                self.reprompt(conn, turn, Some(warn)).await?;
            }
        }
        Ok(())
    }

    fn start_filing(&self, turn: &mut Turn) {
        match turn.d.state.clone() {
            State::Filing { draft, step } | State::ResumeOffer { draft, step } => {
                turn.set_state(State::ResumeOffer {
                    draft: draft.clone(),
                    step,
                });
                self.show_resume_offer(turn, &draft);
            }
            _ => {
                turn.goto(Draft::default(), Step::Category);
            }
        }
    }

    fn cancel(&self, turn: &mut Turn) {
        let had = !matches!(turn.d.state, State::Idle);
        turn.set_state(State::Idle);
        let msg = if had {
            "cancelled"
        } else {
            "nothing-to-cancel"
        };
        self.show_menu(turn, msg);
    }

    fn show_menu(&self, turn: &mut Turn, intro_id: &str) {
        let kb = InlineKeyboard::column(vec![
            InlineButton::new(turn.tr("btn-new-case"), "M:new"),
            InlineButton::new(turn.tr("btn-my-cases"), "M:my"),
            InlineButton::new(turn.tr("btn-help"), "M:help"),
        ]);
        let text = turn.tr(intro_id);
        turn.say_kb(text, kb);
    }

    fn show_resume_offer(&self, turn: &mut Turn, draft: &Draft) {
        let category = draft
            .category
            .map(|c| turn.tr(&c.message_id()))
            .unwrap_or_else(|| turn.tr("value-not-yet"));
        let kb = InlineKeyboard::default().row(vec![
            turn.btn("btn-resume", "res:y"),
            turn.btn("btn-start-over", "res:n"),
        ]);
        let text = t(turn.lang, "resume-offer", &[("category", s(category))]);
        turn.say_kb(text, kb);
    }

    /// Shows the current question again, optionally after a warning.
    async fn reprompt(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        warning: Option<String>,
    ) -> Result<(), HandlerError> {
        let before = turn.out.len();
        match turn.d.state.clone() {
            State::Idle => self.show_menu(turn, "menu"),
            State::ResumeOffer { draft, .. } => self.show_resume_offer(turn, &draft),
            State::AddInfo { case_id } => self.show_add_info_prompt(conn, turn, case_id).await?,
            State::ConfirmWithdraw { case_id } => {
                self.show_withdraw_prompt(conn, turn, case_id).await?
            }
            State::Filing { draft, step } => self.prompt(conn, turn, &draft, &step).await?,
            // A mediator's state in a resident's chat (an account unlinked
            // meanwhile) means nothing here.
            _ => {
                turn.set_state(State::Idle);
                self.show_menu(turn, "menu");
            }
        }
        if let Some(w) = warning {
            if let Some(OutMessage {
                body: OutBody::Text { html, .. },
                ..
            }) = turn.out.get_mut(before)
            {
                *html = format!("{w}\n\n{html}");
            } else {
                turn.say(w);
            }
        }
        Ok(())
    }

    // ----- buttons -----

    async fn button(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        data: &str,
    ) -> Result<(), HandlerError> {
        let Some(press) = parse_press(data) else {
            tracing::info!(chat = turn.chat, "malformed callback data");
            turn.answer = Some(turn.tr("err-bad-button"));
            let warn = turn.tr("err-bad-button");
            return self.reprompt(conn, turn, Some(warn)).await;
        };
        match press {
            Press::Lang(l) => {
                storage::residents::set_language(conn, turn.resident.id, l.code()).await?;
                turn.lang = l;
                let ok = turn.tr("lang-set");
                self.reprompt(conn, turn, Some(ok)).await
            }
            Press::Consent(..) => {
                turn.answer = Some(turn.tr("err-stale"));
                Ok(())
            }
            Press::Menu(m) => match m.as_str() {
                "new" => {
                    self.start_filing(turn);
                    if let State::Filing { draft, step } = turn.d.state.clone() {
                        self.prompt(conn, turn, &draft, &step).await?;
                    }
                    Ok(())
                }
                "my" => self.show_cases(conn, turn).await,
                _ => {
                    let h = self.help_text(conn, turn).await?;
                    turn.say(h);
                    Ok(())
                }
            },
            Press::Case(action, id) => self.case_button(conn, turn, &action, id).await,
            Press::Rate(id, n) => {
                let r = self.lifecycle.rate(conn, turn.resident.id, id, n).await;
                self.answered(turn, r, "resident-rated", "resident-already-rated")
            }
            Press::Fulfil(id, f) => {
                let r = self
                    .lifecycle
                    .record_fulfilment(conn, turn.resident.id, id, f)
                    .await;
                let done = if f == Fulfilment::Full {
                    "resident-fulfilment-full"
                } else {
                    "resident-fulfilment-not"
                };
                let number = self.case_number(conn, id).await?;
                let done_text = t(turn.lang, done, &[("number", s(number))]);
                match r {
                    Ok(Reply::Stored) => {
                        turn.say(done_text);
                        Ok(())
                    }
                    other => self.answered(turn, other, "", "resident-already-answered"),
                }
            }
            Press::Step(token, action) if token != turn.d.token => {
                let _ = action;
                turn.answer = Some(turn.tr("err-stale"));
                let warn = turn.tr("err-stale");
                self.reprompt(conn, turn, Some(warn)).await
            }
            Press::Step(_, action) => self.step_button(conn, turn, &action).await,
        }
    }

    /// Tells the resident how their answer to a rating or follow-up
    /// question was taken (`stored_id` empty: the caller said it already).
    fn answered(
        &self,
        turn: &mut Turn,
        r: Result<Reply, LifecycleError>,
        stored_id: &str,
        already_id: &str,
    ) -> Result<(), HandlerError> {
        match r {
            Ok(Reply::Stored) => {
                if !stored_id.is_empty() {
                    turn.answer = Some(turn.tr(stored_id));
                    turn.say(turn.tr(stored_id));
                }
            }
            Ok(Reply::AlreadyAnswered) => turn.answer = Some(turn.tr(already_id)),
            Ok(Reply::NotNow) => turn.answer = Some(turn.tr("resident-not-now")),
            Err(LifecycleError::NotFound) => {
                tracing::info!(
                    chat = turn.chat,
                    "answer for a case that is not the resident's"
                );
                turn.answer = Some(turn.tr("err-not-your-case"));
            }
            Err(e) => return Err(lifecycle_err(e)),
        }
        Ok(())
    }

    async fn forged(&self, conn: &mut Conn, turn: &mut Turn) -> Result<(), HandlerError> {
        tracing::info!(chat = turn.chat, "callback data does not fit the step");
        turn.answer = Some(turn.tr("err-bad-button"));
        let warn = turn.tr("err-bad-button");
        self.reprompt(conn, turn, Some(warn)).await
    }

    async fn step_button(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        action: &str,
    ) -> Result<(), HandlerError> {
        match turn.d.state.clone() {
            State::ResumeOffer { draft, step } => match action {
                "res:y" => {
                    turn.goto(draft.clone(), step.clone());
                    self.prompt(conn, turn, &draft, &step).await
                }
                "res:n" => {
                    turn.goto(Draft::default(), Step::Category);
                    self.prompt(conn, turn, &Draft::default(), &Step::Category)
                        .await
                }
                _ => self.forged(conn, turn).await,
            },
            State::ConfirmWithdraw { case_id } => match action {
                "wd:y" => self.do_withdraw(conn, turn, case_id).await,
                "wd:n" => {
                    turn.set_state(State::Idle);
                    turn.say(turn.tr("withdraw-kept"));
                    Ok(())
                }
                _ => self.forged(conn, turn).await,
            },
            State::AddInfo { .. } => match action {
                "cancel" => {
                    self.cancel(turn);
                    Ok(())
                }
                _ => self.forged(conn, turn).await,
            },
            State::Filing { draft, step } => {
                self.filing_button(conn, turn, draft, step, action).await
            }
            _ => self.forged(conn, turn).await,
        }
    }

    // ----- the filing flow -----

    /// The question after `step` in the normal order (or the summary when
    /// editing one field).
    fn next_step(draft: &Draft, step: &Step) -> Step {
        if draft.editing {
            return Step::Summary;
        }
        match step {
            Step::Category => Step::Description,
            Step::Description => Step::OtherParty,
            Step::OtherParty => Step::Parties,
            Step::Parties => Step::Location,
            Step::Location | Step::PickRegion { .. } | Step::AddressText => Step::Phone,
            Step::Phone => Step::AtRisk,
            Step::AtRisk | Step::Summary => Step::Summary,
        }
    }

    async fn previous_step(
        &self,
        conn: &mut Conn,
        draft: &Draft,
        step: &Step,
    ) -> Result<Step, HandlerError> {
        Ok(match step {
            Step::PickRegion {
                parent,
                address_mode,
                ..
            } => match parent {
                None if *address_mode => Step::AddressText,
                None => Step::Location,
                Some(p) => {
                    let up = p.parent().filter(|u| {
                        u.level() >= RegionLevel::County && p.level() != RegionLevel::County
                    });
                    if *address_mode && p.level() == RegionLevel::County {
                        // The county level is skipped when only one county has townships.
                        if self.address_counties(conn).await?.len() <= 1 {
                            Step::AddressText
                        } else {
                            Step::PickRegion {
                                parent: None,
                                page: 0,
                                address_mode: true,
                            }
                        }
                    } else {
                        Step::PickRegion {
                            parent: up,
                            page: 0,
                            address_mode: *address_mode,
                        }
                    }
                }
            },
            Step::AddressText => Step::Location,
            _ if draft.editing => Step::Summary,
            Step::Category => Step::Category,
            Step::Description => Step::Category,
            Step::OtherParty => Step::Description,
            Step::Parties => Step::OtherParty,
            Step::Location => Step::Parties,
            Step::Phone => Step::Location,
            Step::AtRisk => Step::Phone,
            Step::Summary => Step::AtRisk,
        })
    }

    async fn advance(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        draft: Draft,
        from: &Step,
    ) -> Result<(), HandlerError> {
        let next = Self::next_step(&draft, from);
        let draft = if next == Step::Summary {
            Draft {
                editing: false,
                ..draft
            }
        } else {
            draft
        };
        turn.goto(draft.clone(), next.clone());
        self.prompt(conn, turn, &draft, &next).await
    }

    async fn go(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        draft: Draft,
        step: Step,
    ) -> Result<(), HandlerError> {
        turn.goto(draft.clone(), step.clone());
        self.prompt(conn, turn, &draft, &step).await
    }

    async fn filing_button(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        mut draft: Draft,
        step: Step,
        action: &str,
    ) -> Result<(), HandlerError> {
        match action {
            "cancel" => {
                self.cancel(turn);
                return Ok(());
            }
            "back" => {
                let prev = self.previous_step(conn, &draft, &step).await?;
                if prev == Step::Summary {
                    draft.editing = false;
                }
                return self.go(conn, turn, draft, prev).await;
            }
            _ => {}
        }
        let (verb, arg) = action.split_once(':').unwrap_or((action, ""));
        match (&step, verb) {
            (Step::Category, "cat") => match Category::parse(arg) {
                Ok(c) => {
                    draft.category = Some(c);
                    self.advance(conn, turn, draft, &step).await
                }
                Err(_) => self.forged(conn, turn).await,
            },
            (Step::Description, "done") => {
                if draft.description.is_none() && draft.attachments.is_empty() {
                    let warn = turn.tr("err-empty");
                    return self.reprompt(conn, turn, Some(warn)).await;
                }
                draft.description.get_or_insert_with(String::new);
                self.advance(conn, turn, draft, &step).await
            }
            (Step::OtherParty, "skip") => {
                draft.other_party = Some(String::new());
                self.advance(conn, turn, draft, &step).await
            }
            (Step::Parties, "n") => match arg.parse::<i64>() {
                Ok(n) if (1..=10).contains(&n) => {
                    draft.party_count = Some(n);
                    self.advance(conn, turn, draft, &step).await
                }
                _ => self.forged(conn, turn).await,
            },
            (Step::Location, "pick") => {
                self.go(
                    conn,
                    turn,
                    draft,
                    Step::PickRegion {
                        parent: None,
                        page: 0,
                        address_mode: false,
                    },
                )
                .await
            }
            (Step::Location, "addr") => self.go(conn, turn, draft, Step::AddressText).await,
            (
                Step::PickRegion {
                    parent,
                    address_mode,
                    ..
                },
                "pg",
            ) => match arg.parse::<u32>() {
                Ok(page) => {
                    let options = self
                        .region_options(conn, parent.as_ref(), *address_mode)
                        .await?;
                    if (page as usize) * REGION_PAGE >= options.len().max(1) {
                        return self.forged(conn, turn).await;
                    }
                    // Paging keeps the question, so the token stays.
                    let step = Step::PickRegion {
                        parent: parent.clone(),
                        page,
                        address_mode: *address_mode,
                    };
                    turn.d.state = State::Filing {
                        draft: draft.clone(),
                        step: step.clone(),
                    };
                    self.prompt(conn, turn, &draft, &step).await
                }
                Err(_) => self.forged(conn, turn).await,
            },
            (
                Step::PickRegion {
                    parent: Some(p),
                    address_mode: false,
                    ..
                },
                "whole",
            ) if p.level() == RegionLevel::Township => {
                draft.region_code = Some(p.clone());
                draft.location_source = Some(LocationSource::Region);
                draft.point = None;
                self.advance(conn, turn, draft, &step).await
            }
            (
                Step::PickRegion {
                    parent,
                    address_mode,
                    ..
                },
                "rg",
            ) => {
                let options = self
                    .region_options(conn, parent.as_ref(), *address_mode)
                    .await?;
                let Some(region) = options.into_iter().find(|r| r.code.as_str() == arg) else {
                    return self.forged(conn, turn).await;
                };
                let stop_here = match region.level() {
                    RegionLevel::Village => true,
                    RegionLevel::Township => *address_mode,
                    _ => false,
                } || storage::regions::children(conn, region.code.as_str())
                    .await?
                    .is_empty();
                if stop_here {
                    draft.region_code = Some(region.code.clone());
                    draft.point = None;
                    if !*address_mode {
                        draft.location_source = Some(LocationSource::Region);
                        draft.address.clear();
                    } else {
                        draft.location_source = Some(LocationSource::Address);
                    }
                    self.advance(conn, turn, draft, &step).await
                } else {
                    let next = Step::PickRegion {
                        parent: Some(region.code),
                        page: 0,
                        address_mode: *address_mode,
                    };
                    self.go(conn, turn, draft, next).await
                }
            }
            (Step::Phone, "skip") => {
                draft.phone = None;
                draft.phone_answered = true;
                self.advance(conn, turn, draft, &step).await
            }
            (Step::AtRisk, "risk") => match arg {
                "y" | "n" => {
                    draft.at_risk = Some(arg == "y");
                    self.advance(conn, turn, draft, &step).await
                }
                _ => self.forged(conn, turn).await,
            },
            (Step::Summary, "ed") => {
                let target = match arg {
                    "cat" => Step::Category,
                    "desc" => Step::Description,
                    "other" => Step::OtherParty,
                    "n" => Step::Parties,
                    "loc" => Step::Location,
                    "phone" => Step::Phone,
                    "risk" => Step::AtRisk,
                    _ => return self.forged(conn, turn).await,
                };
                draft.editing = true;
                self.go(conn, turn, draft, target).await
            }
            (Step::Summary, "submit") => self.submit(conn, turn, draft).await,
            _ => self.forged(conn, turn).await,
        }
    }

    /// Typed text, locations, contacts, attachments, unsupported messages.
    async fn input(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        ev: &Event,
    ) -> Result<(), HandlerError> {
        match turn.d.state.clone() {
            State::Filing { draft, step } => self.filing_input(conn, turn, draft, step, ev).await,
            State::AddInfo { case_id } => self.add_info_input(conn, turn, case_id, ev).await,
            State::ResumeOffer { .. } | State::ConfirmWithdraw { .. } => {
                let warn = turn.tr("err-use-buttons");
                self.reprompt(conn, turn, Some(warn)).await
            }
            _ => {
                turn.set_state(State::Idle);
                self.show_menu(turn, "menu-hint");
                Ok(())
            }
        }
    }

    /// Checks typed text: not empty, not longer than `max` characters.
    fn check_text(turn: &Turn, text: &str, max: usize) -> Result<String, String> {
        let trimmed = text.trim();
        let len = trimmed.chars().count();
        if len == 0 {
            return Err(turn.tr("err-empty"));
        }
        if len > max {
            return Err(t(
                turn.lang,
                "err-too-long",
                &[("max", (max as i64).into()), ("len", (len as i64).into())],
            ));
        }
        Ok(trimmed.to_owned())
    }

    fn wrong_type_warning(turn: &Turn, step: &Step) -> String {
        match step {
            Step::Description => turn.tr("err-description-type"),
            Step::OtherParty | Step::AddressText => turn.tr("err-text-expected"),
            Step::Parties => turn.tr("err-parties"),
            Step::Location => turn.tr("err-location-type"),
            Step::Phone => turn.tr("err-phone-type"),
            Step::Category | Step::PickRegion { .. } | Step::AtRisk | Step::Summary => {
                turn.tr("err-use-buttons")
            }
        }
    }

    async fn filing_input(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        mut draft: Draft,
        step: Step,
        ev: &Event,
    ) -> Result<(), HandlerError> {
        match (&step, ev) {
            (Step::Description, Event::Text { text }) => {
                match Self::check_text(turn, text, MAX_DESCRIPTION_CHARS) {
                    Ok(v) => {
                        draft.description = Some(v);
                        self.advance(conn, turn, draft, &step).await
                    }
                    Err(w) => self.reprompt(conn, turn, Some(w)).await,
                }
            }
            (
                Step::Description,
                Event::Attachment {
                    kind,
                    file_id,
                    file_unique_id,
                    caption,
                },
            ) => {
                if draft.attachments.len() >= MAX_ATTACHMENTS {
                    let w = t(
                        turn.lang,
                        "err-too-many-files",
                        &[("max", (MAX_ATTACHMENTS as i64).into())],
                    );
                    return self.reprompt(conn, turn, Some(w)).await;
                }
                let caption = caption.as_deref().unwrap_or("").trim();
                let caption: String = caption.chars().take(MAX_DESCRIPTION_CHARS).collect();
                draft.attachments.push(NewAttachment {
                    kind: *kind,
                    file_id: file_id.clone(),
                    file_unique_id: file_unique_id.clone(),
                    caption,
                });
                let n = draft.attachments.len() as i64;
                turn.d.state = State::Filing {
                    draft,
                    step: step.clone(),
                };
                let kb = InlineKeyboard::default()
                    .row(vec![turn.btn("btn-next", "done")])
                    .row(turn.nav_row());
                let text = t(
                    turn.lang,
                    "attachment-received",
                    &[
                        ("count", n.into()),
                        ("max", (MAX_ATTACHMENTS as i64).into()),
                    ],
                );
                turn.say_kb(text, kb);
                Ok(())
            }
            (Step::OtherParty, Event::Text { text }) => {
                match Self::check_text(turn, text, MAX_SHORT_CHARS) {
                    Ok(v) => {
                        draft.other_party = Some(v);
                        self.advance(conn, turn, draft, &step).await
                    }
                    Err(w) => self.reprompt(conn, turn, Some(w)).await,
                }
            }
            (Step::Parties, Event::Text { text }) => match parse_count(text) {
                Some(n) => {
                    draft.party_count = Some(n);
                    self.advance(conn, turn, draft, &step).await
                }
                None => {
                    let w = turn.tr("err-parties");
                    self.reprompt(conn, turn, Some(w)).await
                }
            },
            (Step::Location, Event::Location { lat, lon }) => {
                let place = match GeoPoint::parse(*lat, *lon) {
                    Ok(p) => self.place_of(conn, p).await?.map(|r| (p, r)),
                    Err(_) => None,
                };
                match place {
                    Some((p, region)) => {
                        draft.point = Some(p);
                        draft.region_code = Some(region.code);
                        draft.location_source = Some(LocationSource::Shared);
                        draft.address.clear();
                        self.advance(conn, turn, draft, &step).await
                    }
                    None => {
                        let area = self.served_area(conn).await?;
                        let w = t(
                            turn.lang,
                            "err-location-outside",
                            &[("area", s(escape_html(&area)))],
                        );
                        self.reprompt(conn, turn, Some(w)).await
                    }
                }
            }
            (Step::Location | Step::AddressText, Event::Text { text }) => {
                match Self::check_text(turn, text, MAX_SHORT_CHARS) {
                    Ok(v) => {
                        draft.address = v;
                        let start = self.address_start(conn).await?;
                        self.go(conn, turn, draft, start).await
                    }
                    Err(w) => self.reprompt(conn, turn, Some(w)).await,
                }
            }
            (
                Step::Phone,
                Event::Contact {
                    phone,
                    contact_user_id,
                },
            ) => {
                if contact_user_id.is_some_and(|id| id != turn.user_id) {
                    let w = turn.tr("err-phone-not-own");
                    return self.reprompt(conn, turn, Some(w)).await;
                }
                match Phone::parse(phone) {
                    Ok(p) => {
                        storage::residents::set_phone(conn, turn.resident.id, p.as_str()).await?;
                        draft.phone = Some(p);
                        draft.phone_answered = true;
                        self.advance(conn, turn, draft, &step).await
                    }
                    Err(_) => {
                        let w = turn.tr("err-phone-invalid");
                        self.reprompt(conn, turn, Some(w)).await
                    }
                }
            }
            (Step::Phone, Event::Text { text }) => match Phone::parse(text) {
                Ok(p) => {
                    draft.phone = Some(p);
                    draft.phone_answered = true;
                    self.advance(conn, turn, draft, &step).await
                }
                Err(_) => {
                    let w = turn.tr("err-phone-invalid");
                    self.reprompt(conn, turn, Some(w)).await
                }
            },
            _ => {
                let w = Self::wrong_type_warning(turn, &step);
                self.reprompt(conn, turn, Some(w)).await
            }
        }
    }

    // ----- places -----

    /// The nearest known place (village, township or county centroid)
    /// within [`MAX_LOCATION_KM`]; on a tie the more precise one.
    async fn place_of(&self, conn: &mut Conn, p: GeoPoint) -> Result<Option<Region>, StorageError> {
        let mut near = storage::regions::placed_near(conn, p, MAX_LOCATION_KM).await?;
        // Villages first, then townships, then counties: on a tie the
        // first one seen wins.
        near.sort_by_key(|r| match r.level() {
            RegionLevel::Village => 0,
            RegionLevel::Township => 1,
            _ => 2,
        });
        let mut best: Option<(f64, Region)> = None;
        for r in near {
            let Some(c) = r.centroid else { continue };
            let d = c.distance_km(&p);
            if d <= MAX_LOCATION_KM && best.as_ref().is_none_or(|(bd, _)| d < *bd - 1e-9) {
                best = Some((d, r));
            }
        }
        Ok(best.map(|(_, r)| r))
    }

    /// Counties that have townships in the regions table.
    async fn address_counties(&self, conn: &mut Conn) -> Result<Vec<Region>, StorageError> {
        let mut out = vec![];
        for c in storage::regions::at_level(conn, "county").await? {
            if !storage::regions::children(conn, c.code.as_str())
                .await?
                .is_empty()
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// "民乐县、…": the counties served in detail, for the out-of-area answer.
    async fn served_area(&self, conn: &mut Conn) -> Result<String, StorageError> {
        let mut counties = self.address_counties(conn).await?;
        if counties.is_empty() {
            counties = storage::regions::at_level(conn, "county").await?;
        }
        Ok(counties
            .into_iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join("、"))
    }

    async fn address_start(&self, conn: &mut Conn) -> Result<Step, StorageError> {
        let counties = self.address_counties(conn).await?;
        Ok(Step::PickRegion {
            parent: match counties.as_slice() {
                [only] => Some(only.code.clone()),
                _ => None,
            },
            page: 0,
            address_mode: true,
        })
    }

    /// What the region picker lists under `parent`.
    async fn region_options(
        &self,
        conn: &mut Conn,
        parent: Option<&RegionCode>,
        address_mode: bool,
    ) -> Result<Vec<Region>, StorageError> {
        match parent {
            None if address_mode => self.address_counties(conn).await,
            None => storage::regions::at_level(conn, "county").await,
            Some(p) => storage::regions::children(conn, p.as_str()).await,
        }
    }

    // ----- prompts -----

    async fn prompt(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        draft: &Draft,
        step: &Step,
    ) -> Result<(), HandlerError> {
        let lang = turn.lang;
        match step {
            Step::Category => {
                let mut kb = InlineKeyboard::default();
                for pair in Category::ALL.chunks(2) {
                    kb = kb.row(
                        pair.iter()
                            .map(|c| turn.btn(&c.message_id(), &format!("cat:{}", c.code())))
                            .collect(),
                    );
                }
                kb = kb.row(vec![turn.btn("btn-cancel", "cancel")]);
                turn.say_kb(turn.tr("ask-category"), kb);
            }
            Step::Description => {
                let mut kb = InlineKeyboard::default();
                if !draft.attachments.is_empty() || draft.description.is_some() {
                    kb = kb.row(vec![turn.btn("btn-next", "done")]);
                }
                kb = kb.row(turn.nav_row());
                let text = t(
                    lang,
                    "ask-description",
                    &[
                        ("max", (MAX_DESCRIPTION_CHARS as i64).into()),
                        ("files", (MAX_ATTACHMENTS as i64).into()),
                    ],
                );
                turn.say_kb(text, kb);
            }
            Step::OtherParty => {
                let kb = InlineKeyboard::default()
                    .row(vec![turn.btn("btn-skip-unknown", "skip")])
                    .row(turn.nav_row());
                let text = t(
                    lang,
                    "ask-other-party",
                    &[("max", (MAX_SHORT_CHARS as i64).into())],
                );
                turn.say_kb(text, kb);
            }
            Step::Parties => {
                let b = |n: i64, label: String| {
                    InlineButton::new(label, format!("{}:n:{n}", turn.d.token))
                };
                let kb = InlineKeyboard::default()
                    .row((1..=4).map(|n| b(n, n.to_string())).collect())
                    .row(vec![b(5, "5–9".into()), b(10, "10+".into())])
                    .row(turn.nav_row());
                turn.say_kb(turn.tr("ask-parties"), kb);
            }
            Step::Location => {
                let reply = ReplyKeyboard {
                    rows: vec![vec![ReplyButton {
                        label: turn.tr("btn-share-location"),
                        request: Some(ShareRequest::Location),
                    }]],
                    one_time: true,
                };
                turn.out.push(OutMessage::with_keyboard(
                    turn.chat,
                    turn.tr("ask-location"),
                    Keyboard::Reply(reply),
                ));
                let kb = InlineKeyboard::default()
                    .row(vec![turn.btn("btn-pick-region", "pick")])
                    .row(vec![turn.btn("btn-type-address", "addr")])
                    .row(turn.nav_row());
                turn.say_kb(turn.tr("ask-location-other"), kb);
            }
            Step::PickRegion {
                parent,
                page,
                address_mode,
            } => {
                let options = self
                    .region_options(conn, parent.as_ref(), *address_mode)
                    .await?;
                let pages = options.len().div_ceil(REGION_PAGE).max(1);
                let page = (*page as usize).min(pages - 1);
                let mut kb = InlineKeyboard::default();
                for pair in options
                    .iter()
                    .skip(page * REGION_PAGE)
                    .take(REGION_PAGE)
                    .collect::<Vec<_>>()
                    .chunks(2)
                {
                    kb = kb.row(
                        pair.iter()
                            .map(|r| {
                                InlineButton::new(
                                    r.name.clone(),
                                    format!("{}:rg:{}", turn.d.token, r.code),
                                )
                            })
                            .collect(),
                    );
                }
                let mut nav = vec![];
                if page > 0 {
                    nav.push(turn.btn("btn-prev-page", &format!("pg:{}", page - 1)));
                }
                if page + 1 < pages {
                    nav.push(turn.btn("btn-next-page", &format!("pg:{}", page + 1)));
                }
                kb = kb.row(nav);
                let level_id = match parent {
                    None => "ask-county",
                    Some(p) if p.level() == RegionLevel::County => "ask-township",
                    Some(_) => "ask-village",
                };
                if let Some(p) = parent
                    .as_ref()
                    .filter(|p| p.level() == RegionLevel::Township)
                {
                    let _ = p;
                    kb = kb.row(vec![turn.btn("btn-whole-township", "whole")]);
                }
                kb = kb.row(turn.nav_row());
                let mut text = turn.tr(level_id);
                if pages > 1 {
                    text.push_str(&t(
                        lang,
                        "page-of",
                        &[
                            ("page", ((page + 1) as i64).into()),
                            ("pages", (pages as i64).into()),
                        ],
                    ));
                }
                if *address_mode && !draft.address.is_empty() {
                    text = format!(
                        "{}\n{text}",
                        t(
                            lang,
                            "address-noted",
                            &[("address", s(escape_html(&draft.address)))]
                        )
                    );
                }
                turn.say_kb(text, kb);
            }
            Step::AddressText => {
                let kb = InlineKeyboard::default().row(turn.nav_row());
                let text = t(
                    lang,
                    "ask-address",
                    &[("max", (MAX_SHORT_CHARS as i64).into())],
                );
                turn.say_kb(text, kb);
            }
            Step::Phone => {
                let reply = ReplyKeyboard {
                    rows: vec![vec![ReplyButton {
                        label: turn.tr("btn-share-phone"),
                        request: Some(ShareRequest::Contact),
                    }]],
                    one_time: true,
                };
                turn.out.push(OutMessage::with_keyboard(
                    turn.chat,
                    turn.tr("ask-phone"),
                    Keyboard::Reply(reply),
                ));
                let kb = InlineKeyboard::default()
                    .row(vec![turn.btn("btn-skip-phone", "skip")])
                    .row(turn.nav_row());
                turn.say_kb(turn.tr("ask-phone-other"), kb);
            }
            Step::AtRisk => {
                let kb = InlineKeyboard::default()
                    .row(vec![
                        turn.btn("btn-risk-yes", "risk:y"),
                        turn.btn("btn-risk-no", "risk:n"),
                    ])
                    .row(turn.nav_row());
                turn.say_kb(turn.tr("ask-at-risk"), kb);
            }
            Step::Summary => {
                let text = self.summary_text(conn, lang, draft).await?;
                let e = |id: &str, a: &str| turn.btn(id, &format!("ed:{a}"));
                let kb = InlineKeyboard::default()
                    .row(vec![
                        e("btn-edit-category", "cat"),
                        e("btn-edit-description", "desc"),
                    ])
                    .row(vec![
                        e("btn-edit-other", "other"),
                        e("btn-edit-parties", "n"),
                    ])
                    .row(vec![
                        e("btn-edit-place", "loc"),
                        e("btn-edit-phone", "phone"),
                    ])
                    .row(vec![e("btn-edit-risk", "risk")])
                    .row(vec![turn.btn("btn-submit", "submit")])
                    .row(turn.nav_row());
                turn.say_kb(text, kb);
            }
        }
        Ok(())
    }

    async fn summary_text(
        &self,
        conn: &mut Conn,
        lang: Lang,
        d: &Draft,
    ) -> Result<String, HandlerError> {
        let none = t(lang, "value-none", &[]);
        let category = d
            .category
            .map(|c| t(lang, &c.message_id(), &[]))
            .unwrap_or_else(|| none.clone());
        let description = match d.description.as_deref() {
            Some(x) if !x.is_empty() => escape_html(x),
            _ => none.clone(),
        };
        let other = match d.other_party.as_deref() {
            Some(x) if !x.is_empty() => escape_html(x),
            _ => t(lang, "value-unknown", &[]),
        };
        let mut place = match &d.region_code {
            Some(c) => escape_html(&region_label(conn, c).await?),
            None => none.clone(),
        };
        if !d.address.is_empty() {
            place = format!("{place} {}", escape_html(&d.address));
        }
        if d.location_source == Some(LocationSource::Shared) {
            place = format!("{place} {}", t(lang, "value-shared-location", &[]));
        }
        let phone = d
            .phone
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| t(lang, "value-no-phone", &[]));
        let risk = match d.at_risk {
            Some(true) => t(lang, "value-yes", &[]),
            Some(false) => t(lang, "value-no", &[]),
            None => none.clone(),
        };
        Ok(t(
            lang,
            "summary",
            &[
                ("category", s(category)),
                ("description", s(description)),
                ("files", (d.attachments.len() as i64).into()),
                ("other", s(other)),
                ("parties", d.party_count.unwrap_or(1).into()),
                ("place", s(place)),
                ("phone", s(phone)),
                ("risk", s(risk)),
            ],
        ))
    }

    async fn submit(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        draft: Draft,
    ) -> Result<(), HandlerError> {
        // Every field must be there; a gap sends the person to that question.
        let missing = if draft.category.is_none() {
            Some(Step::Category)
        } else if draft.description.is_none() {
            Some(Step::Description)
        } else if draft.other_party.is_none() {
            Some(Step::OtherParty)
        } else if draft.party_count.is_none() {
            Some(Step::Parties)
        } else if draft.region_code.is_none() || draft.location_source.is_none() {
            Some(Step::Location)
        } else if !draft.phone_answered {
            Some(Step::Phone)
        } else if draft.at_risk.is_none() {
            Some(Step::AtRisk)
        } else {
            None
        };
        let (Some(category), Some(region_code), Some(location_source), Some(at_risk), None) = (
            draft.category,
            draft.region_code.clone(),
            draft.location_source,
            draft.at_risk,
            missing.clone(),
        ) else {
            let step = missing.unwrap_or(Step::Category);
            turn.say(turn.tr("err-missing"));
            return self
                .go(
                    conn,
                    turn,
                    Draft {
                        editing: true,
                        ..draft
                    },
                    step,
                )
                .await;
        };
        let new = NewCase {
            resident_id: turn.resident.id,
            language: turn.lang,
            category,
            description: draft.description.clone().unwrap_or_default(),
            other_party: draft.other_party.clone().unwrap_or_default(),
            party_count: draft.party_count.unwrap_or(1),
            point: draft.point,
            location_source,
            address: draft.address.clone(),
            region_code,
            at_risk,
            contact_phone: draft.phone.clone(),
            attachments: draft.attachments.clone(),
        };
        // The transaction rolls back on an error, so the draft survives too.
        let filed = self
            .lifecycle
            .file(conn, new)
            .await
            .map_err(lifecycle_err)?;
        turn.set_state(State::Idle);
        let number = filed.case.number.as_str().to_owned();
        let mut text = match &filed.committee {
            Some(c) => {
                let deadline = filed
                    .case
                    .accept_deadline
                    .map(|ms| self.lifecycle.local_time(ms))
                    .unwrap_or_default();
                t(
                    turn.lang,
                    "filed-ok",
                    &[
                        ("number", s(number.clone())),
                        ("committee", s(escape_html(&c.name))),
                        ("address", s(escape_html(&c.address))),
                        ("phone", s(escape_html(&c.phone))),
                        ("deadline", s(deadline)),
                    ],
                )
            }
            None => t(
                turn.lang,
                "filed-unrouted",
                &[("number", s(number.clone()))],
            ),
        };
        if at_risk {
            text = format!("{text}\n\n{}", turn.tr("filed-at-risk"));
        }
        let kb = InlineKeyboard::column(vec![InlineButton::new(
            turn.tr("btn-timeline"),
            format!("K:tl:{}", filed.case.id),
        )]);
        turn.say_kb(text, kb);
        turn.out.extend(filed.notifications);
        Ok(())
    }

    // ----- my cases -----

    async fn show_cases(&self, conn: &mut Conn, turn: &mut Turn) -> Result<(), HandlerError> {
        let cases =
            storage::cases::list_for_resident(conn, turn.resident.id, MYCASES_LIMIT).await?;
        if cases.is_empty() {
            let kb =
                InlineKeyboard::column(vec![InlineButton::new(turn.tr("btn-new-case"), "M:new")]);
            turn.say_kb(turn.tr("mycases-empty"), kb);
            return Ok(());
        }
        let mut lines = vec![turn.tr("mycases-header")];
        let mut buttons = vec![];
        for c in &cases {
            lines.push(t(
                turn.lang,
                "mycases-line",
                &[
                    ("number", s(c.number.as_str())),
                    ("category", s(turn.tr(&c.category.message_id()))),
                    ("status", s(turn.tr(&c.status.message_id()))),
                    ("date", s(self.lifecycle.local_time(c.submitted_at))),
                ],
            ));
            buttons.push(InlineButton::new(
                t(
                    turn.lang,
                    "btn-timeline-of",
                    &[("number", s(c.number.as_str()))],
                ),
                format!("K:tl:{}", c.id),
            ));
        }
        turn.say_kb(lines.join("\n"), InlineKeyboard::column(buttons));
        Ok(())
    }

    async fn case_button(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        action: &str,
        id: i64,
    ) -> Result<(), HandlerError> {
        let case = match self
            .lifecycle
            .resident_case(conn, turn.resident.id, id)
            .await
        {
            Ok(c) => c,
            Err(LifecycleError::NotFound) => {
                tracing::info!(
                    chat = turn.chat,
                    "button for a case that is not the resident's"
                );
                turn.answer = Some(turn.tr("err-not-your-case"));
                return Ok(());
            }
            Err(e) => return Err(lifecycle_err(e)),
        };
        match action {
            "tl" => self.show_timeline(conn, turn, &case).await,
            "ai" | "wd" if !case.status.is_open() => {
                turn.answer = Some(turn.tr("err-case-closed"));
                turn.say(t(
                    turn.lang,
                    "case-not-open",
                    &[
                        ("number", s(case.number.as_str())),
                        ("status", s(turn.tr(&case.status.message_id()))),
                    ],
                ));
                Ok(())
            }
            "ai" => {
                turn.set_state(State::AddInfo { case_id: case.id });
                self.show_add_info_prompt(conn, turn, case.id).await
            }
            _ => {
                turn.set_state(State::ConfirmWithdraw { case_id: case.id });
                self.show_withdraw_prompt(conn, turn, case.id).await
            }
        }
    }

    async fn show_timeline(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        case: &storage::cases::CaseRecord,
    ) -> Result<(), HandlerError> {
        let committee = match case.committee_id {
            Some(id) => storage::committees::get(conn, id).await?,
            None => None,
        };
        let mut lines = vec![t(
            turn.lang,
            "timeline-header",
            &[
                ("number", s(case.number.as_str())),
                ("category", s(turn.tr(&case.category.message_id()))),
                ("status", s(turn.tr(&case.status.message_id()))),
            ],
        )];
        if let Some(c) = &committee {
            lines.push(t(
                turn.lang,
                "timeline-committee",
                &[
                    ("committee", s(escape_html(&c.name))),
                    ("address", s(escape_html(&c.address))),
                    ("phone", s(escape_html(&c.phone))),
                ],
            ));
        }
        for e in storage::cases::events(conn, case.id).await? {
            let what = match e.kind.as_str() {
                "filed" | "assigned" | "unrouted" | "accepted" | "scheduled" | "resolved"
                | "failed" | "escalated" | "reassigned" | "closed" | "withdrawn" | "info_added" => {
                    let name = committee_name_of(conn, e.committee_id).await?;
                    t(
                        turn.lang,
                        &format!("event-{}", e.kind.replace('_', "-")),
                        &[("committee", s(escape_html(&name)))],
                    )
                }
                // Other events (notes, declines) are internal to mediators;
                // a status change among them still shows as a status.
                _ => match e
                    .to_status
                    .as_deref()
                    .and_then(|st| CaseStatus::parse(st).ok())
                {
                    Some(st) => t(
                        turn.lang,
                        "event-status",
                        &[("status", s(turn.tr(&st.message_id())))],
                    ),
                    None => continue,
                },
            };
            lines.push(t(
                turn.lang,
                "timeline-line",
                &[
                    ("time", s(self.lifecycle.local_time(e.at))),
                    ("what", s(what)),
                ],
            ));
        }
        let mut kb = InlineKeyboard::default();
        if case.status.is_open() {
            kb = kb
                .row(vec![InlineButton::new(
                    turn.tr("btn-add-info"),
                    format!("K:ai:{}", case.id),
                )])
                .row(vec![InlineButton::new(
                    turn.tr("btn-withdraw"),
                    format!("K:wd:{}", case.id),
                )]);
        }
        if kb.rows.is_empty() {
            turn.say(lines.join("\n"));
        } else {
            turn.say_kb(lines.join("\n"), kb);
        }
        Ok(())
    }

    async fn show_add_info_prompt(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        case_id: i64,
    ) -> Result<(), HandlerError> {
        let number = self.case_number(conn, case_id).await?;
        let kb = InlineKeyboard::default().row(vec![turn.btn("btn-cancel", "cancel")]);
        let text = t(
            turn.lang,
            "ask-add-info",
            &[
                ("number", s(number)),
                ("max", (MAX_DESCRIPTION_CHARS as i64).into()),
            ],
        );
        turn.say_kb(text, kb);
        Ok(())
    }

    async fn show_withdraw_prompt(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        case_id: i64,
    ) -> Result<(), HandlerError> {
        let number = self.case_number(conn, case_id).await?;
        let kb = InlineKeyboard::default().row(vec![
            turn.btn("btn-withdraw-confirm", "wd:y"),
            turn.btn("btn-withdraw-keep", "wd:n"),
        ]);
        let text = t(turn.lang, "confirm-withdraw", &[("number", s(number))]);
        turn.say_kb(text, kb);
        Ok(())
    }

    async fn case_number(&self, conn: &mut Conn, case_id: i64) -> Result<String, HandlerError> {
        Ok(storage::cases::get(conn, case_id)
            .await?
            .map(|c| c.number.as_str().to_owned())
            .unwrap_or_default())
    }

    async fn add_info_input(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        case_id: i64,
        ev: &Event,
    ) -> Result<(), HandlerError> {
        let info = match ev {
            Event::Text { text } => match Self::check_text(turn, text, MAX_DESCRIPTION_CHARS) {
                Ok(v) => AddedInfo::Text(v),
                Err(w) => return self.reprompt(conn, turn, Some(w)).await,
            },
            Event::Attachment {
                kind,
                file_id,
                file_unique_id,
                caption,
            } => AddedInfo::Attachment(NewAttachment {
                kind: *kind,
                file_id: file_id.clone(),
                file_unique_id: file_unique_id.clone(),
                caption: caption
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(MAX_DESCRIPTION_CHARS)
                    .collect(),
            }),
            _ => {
                let w = turn.tr("err-description-type");
                return self.reprompt(conn, turn, Some(w)).await;
            }
        };
        match self
            .lifecycle
            .add_information(conn, turn.resident.id, case_id, info)
            .await
        {
            Ok(relay) => {
                let number = self.case_number(conn, case_id).await?;
                turn.set_state(State::Idle);
                turn.say(t(turn.lang, "info-added", &[("number", s(number))]));
                turn.out.extend(relay);
                Ok(())
            }
            Err(LifecycleError::NotFound | LifecycleError::NotAllowed(_)) => {
                turn.set_state(State::Idle);
                turn.say(turn.tr("err-case-closed"));
                Ok(())
            }
            Err(e) => Err(lifecycle_err(e)),
        }
    }

    async fn do_withdraw(
        &self,
        conn: &mut Conn,
        turn: &mut Turn,
        case_id: i64,
    ) -> Result<(), HandlerError> {
        turn.set_state(State::Idle);
        match self
            .lifecycle
            .withdraw(conn, turn.resident.id, case_id)
            .await
        {
            Ok((case, relay)) => {
                turn.say(t(
                    turn.lang,
                    "withdrawn-ok",
                    &[("number", s(case.number.as_str()))],
                ));
                turn.out.extend(relay);
                Ok(())
            }
            Err(LifecycleError::NotFound | LifecycleError::NotAllowed(_)) => {
                turn.say(turn.tr("err-case-closed"));
                Ok(())
            }
            Err(e) => Err(lifecycle_err(e)),
        }
    }

    async fn help_text(&self, conn: &mut Conn, turn: &Turn) -> Result<String, HandlerError> {
        let mut text = turn.tr("help");
        let cases =
            storage::cases::list_for_resident(conn, turn.resident.id, MYCASES_LIMIT).await?;
        let mut seen = vec![];
        for c in cases.iter().filter(|c| c.status.is_open()) {
            let Some(id) = c.committee_id else { continue };
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(com) = storage::committees::get(conn, id).await? {
                text.push('\n');
                text.push_str(&t(
                    turn.lang,
                    "help-committee-line",
                    &[
                        ("number", s(c.number.as_str())),
                        ("committee", s(escape_html(&com.name))),
                        ("phone", s(escape_html(&com.phone))),
                        ("address", s(escape_html(&com.address))),
                    ],
                ));
            }
        }
        Ok(text)
    }
}

async fn committee_name_of(conn: &mut Conn, id: Option<i64>) -> Result<String, StorageError> {
    Ok(match id {
        Some(id) => storage::committees::get(conn, id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default(),
        None => String::new(),
    })
}

fn lang_buttons() -> Vec<InlineButton> {
    vec![
        InlineButton::new("简体中文", "L:zh-CN"),
        InlineButton::new("繁體中文", "L:zh-TW"),
        InlineButton::new("English", "L:en"),
    ]
}

/// "3", "３", " 12 人" → a party count (1 to 9999).
fn parse_count(text: &str) -> Option<i64> {
    let digits: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !matches!(c, '人' | ' ' | '个' | '個'))
        .collect();
    let n: i64 = digits.parse().ok()?;
    (1..=9999).contains(&n).then_some(n)
}

pub(super) fn lifecycle_err(e: LifecycleError) -> HandlerError {
    match e {
        LifecycleError::Storage(s) => HandlerError::Storage(s),
        LifecycleError::Routing(crate::routing::RoutingError::Storage(s)) => {
            HandlerError::Storage(s)
        }
        other => HandlerError::Internal(other.to_string()),
    }
}

#[async_trait::async_trait]
impl UpdateHandler for Engine {
    async fn handle(
        &self,
        tx: &mut Tx,
        incoming: &Incoming,
    ) -> Result<Vec<OutMessage>, HandlerError> {
        let filings = self.lifecycle.filings();
        let out = self.run(tx, incoming).await?;
        // Another batch filing at the same time can make this poke one too
        // many; the worker then finds nothing new, which is harmless.
        if self.lifecycle.filings() != filings {
            tx.notify_on_commit(&self.lifecycle.early_warning_notify());
        }
        Ok(out)
    }

    /// Counts the batch's flood-control events in one statement. An update
    /// the batch then does not apply (it fails, or another instance holds
    /// it) keeps its count and is counted again when it is applied: at most
    /// one hit too many per retry, against a limit of 30 in 5 seconds.
    async fn prepare_batch(&self, tx: &mut Tx, batch: &[&Incoming]) -> Result<(), StorageError> {
        let users: Vec<i64> = batch
            .iter()
            .filter(|i| i.chat.private)
            .map(|i| i.user_id)
            .collect();
        storage::prefetch::count_floods(tx, &users, self.now(), FLOOD_WINDOW_MS).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_parses_or_is_refused() {
        assert_eq!(
            parse_press("7:cat:labor"),
            Some(Press::Step(7, "cat:labor".into()))
        );
        assert_eq!(parse_press("L:en"), Some(Press::Lang(Lang::En)));
        assert_eq!(
            parse_press("C:y:zh-TW"),
            Some(Press::Consent(true, Lang::ZhTw))
        );
        assert_eq!(parse_press("K:tl:12"), Some(Press::Case("tl".into(), 12)));
        for bad in [
            "",
            "x",
            "K:zz:1",
            "K:tl:abc",
            "C:maybe:en",
            "L:fr",
            "-1:back",
            "7:",
            "M:root",
        ] {
            assert_eq!(parse_press(bad), None, "{bad}");
        }
        assert_eq!(parse_press(&"9".repeat(70)), None);
    }

    #[test]
    fn party_counts_accept_full_width_digits_and_units() {
        assert_eq!(parse_count("３"), Some(3));
        assert_eq!(parse_count(" 12 人"), Some(12));
        assert_eq!(parse_count("0"), None);
        assert_eq!(parse_count("many"), None);
    }
}
