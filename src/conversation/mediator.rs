//! The mediator's side of the chat: linking an account with a one-time
//! invite, assignments with Accept / Decline, and working an accepted case
//! (schedule, note, message the resident, resolved, failed), plus /mycases.
//!
//! Button data:
//! * `A:<action>:<case id>` — a case action (`acc`, `dec`, `sch`, `note`,
//!   `msg`, `res`, `fail`, `view`). Buttons on assignment messages stay
//!   usable for as long as the case allows the action, so every press is
//!   checked afresh: the mediator's committee must hold the case, the case
//!   must be in a status that allows the step, and once accepted only the
//!   mediator who accepted it may work it.
//! * `<token>:<step action>` — an answer to the question being asked
//!   (decline reason, date, time, place, judicial confirmation, what
//!   follows a failure); a button of an earlier question is stale.
//!
//! The dialogue state lives in the same `conversations` row and JSON format
//! as the resident's ([`super::state::State`]'s `Med*` variants).

use super::engine::lifecycle_err;
use super::state::{Dialogue, FailNext, State};
use super::{Event, HandlerError, Incoming};
use crate::clock::ms_to_datetime;
use crate::domain::{CaseStatus, Committee};
use crate::i18n::{t, Lang};
use crate::lifecycle::{
    region_label, AssignmentHook, DeclineOutcome, FailOutcome, Lifecycle, LifecycleError,
};
use crate::outgoing::{escape_html, InlineButton, InlineKeyboard, Keyboard, OutMessage};
use crate::routing::Explanation;
use crate::storage::cases::CaseRecord;
use crate::storage::conversations::StoredDialogue;
use crate::storage::mediator_desk::{self as desk, Mediator, Redeemed};
use crate::storage::{self, Conn, Tx};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use fluent_bundle::FluentValue;

/// Wrong invite codes one chat may send per window before it is throttled.
pub const INVITE_MAX_FAILURES: i64 = 5;
/// The invite throttling window, milliseconds.
pub const INVITE_WINDOW_MS: i64 = 3_600_000;
/// Longest note, message or agreement, in characters.
pub const MAX_LONG_CHARS: usize = 2000;
/// Longest reason or place, in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// How far ahead a meeting may be scheduled, days.
pub const MAX_SCHEDULE_DAYS: i64 = 90;
/// Cases listed by a mediator's /mycases.
pub const MYCASES_LIMIT: i64 = 20;

fn s<'a>(v: impl Into<String>) -> FluentValue<'a> {
    FluentValue::from(v.into())
}

fn local_time(tz: Tz, ms: i64) -> String {
    ms_to_datetime(ms)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Sends each new assignment to the committee's linked, reachable
/// mediators with Accept / Decline buttons.
#[derive(Debug, Clone, Copy)]
pub struct MediatorHook {
    tz: Tz,
}

impl MediatorHook {
    /// A hook showing deadlines in `tz`.
    pub fn new(tz: Tz) -> Self {
        Self { tz }
    }
}

#[async_trait::async_trait]
impl AssignmentHook for MediatorHook {
    async fn case_assigned(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        committee: &Committee,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let mut out = vec![];
        for m in desk::linked_of_committee(conn, committee.id).await? {
            let Some(chat) = m.chat_id else { continue };
            let lang = Lang::parse(&m.language).unwrap_or_default();
            let text = assignment_text(conn, self.tz, case, committee, lang).await?;
            out.push(OutMessage::with_keyboard(
                chat,
                text,
                Keyboard::Inline(accept_keyboard(lang, case.id)),
            ));
        }
        Ok(out)
    }
}

fn accept_keyboard(lang: Lang, case_id: i64) -> InlineKeyboard {
    InlineKeyboard::default().row(vec![
        InlineButton::new(t(lang, "btn-med-accept", &[]), format!("A:acc:{case_id}")),
        InlineButton::new(t(lang, "btn-med-decline", &[]), format!("A:dec:{case_id}")),
    ])
}

/// Why the case went to this committee, from its latest assignment event.
async fn explanation_text(
    conn: &mut Conn,
    case_id: i64,
    lang: Lang,
) -> Result<String, LifecycleError> {
    let events = storage::cases::events(conn, case_id).await?;
    let Some(e) = events
        .iter()
        .rev()
        .find(|e| matches!(e.kind.as_str(), "assigned" | "reassigned" | "escalated"))
    else {
        return Ok(String::new());
    };
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    if let Some(x) = details.get("explanation") {
        if let Ok(x) = serde_json::from_value::<Explanation>(x.clone()) {
            return Ok(escape_html(&x.render(lang)));
        }
    }
    if e.reason.is_empty() {
        Ok(String::new())
    } else {
        Ok(t(
            lang,
            "med-explain-admin",
            &[("reason", s(escape_html(&e.reason)))],
        ))
    }
}

/// The assignment summary a mediator reads before accepting.
async fn assignment_text(
    conn: &mut Conn,
    tz: Tz,
    case: &CaseRecord,
    committee: &Committee,
    lang: Lang,
) -> Result<String, LifecycleError> {
    let mut place = escape_html(&region_label(conn, &case.region_code).await?);
    if !case.address.is_empty() {
        place = format!("{place} {}", escape_html(&case.address));
    }
    if case.location_source == "shared" {
        if let Some(p) = case.point {
            place = format!("{place} ({:.5}, {:.5})", p.lat, p.lon);
        }
    }
    let description = if case.description.is_empty() {
        t(lang, "med-value-none", &[])
    } else {
        escape_html(&case.description)
    };
    let phone = case
        .contact_phone
        .clone()
        .unwrap_or_else(|| t(lang, "med-value-no-phone", &[]));
    let risk = if case.at_risk {
        t(lang, "med-value-risk-yes", &[])
    } else {
        t(lang, "med-value-risk-no", &[])
    };
    let files = storage::cases::attachments(conn, case.id).await?.len() as i64;
    let explanation = explanation_text(conn, case.id, lang).await?;
    Ok(t(
        lang,
        "med-assignment",
        &[
            ("number", s(case.number.as_str())),
            ("committee", s(escape_html(&committee.name))),
            ("category", s(t(lang, &case.category.message_id(), &[]))),
            ("description", s(description)),
            ("files", files.into()),
            ("place", s(place)),
            ("parties", case.party_count.into()),
            ("risk", s(risk)),
            ("phone", s(phone)),
            ("explanation", s(explanation)),
            (
                "deadline",
                s(case
                    .accept_deadline
                    .map(|ms| local_time(tz, ms))
                    .unwrap_or_default()),
            ),
        ],
    ))
}

// ----- linking -----

/// `/start <code>` from a chat that is not a linked mediator: redeems the
/// invite, or says clearly why not. Wrong codes are counted per chat in the
/// database; after [`INVITE_MAX_FAILURES`] in an hour the chat is refused
/// without looking at the code.
pub(super) async fn redeem(
    lc: &Lifecycle,
    conn: &mut Conn,
    inc: &Incoming,
    code: &str,
    lang: Lang,
) -> Result<Vec<OutMessage>, HandlerError> {
    let chat = inc.chat.id;
    let now = lc.clock().now_ms();
    if desk::invite_failures(conn, chat, now, INVITE_WINDOW_MS).await? >= INVITE_MAX_FAILURES {
        tracing::info!(chat, "invite attempts throttled");
        return Ok(vec![OutMessage::text(
            chat,
            t(lang, "med-invite-throttled", &[]),
        )]);
    }
    let code = code.trim();
    // Telegram deep-link parameters are at most 64 of A-Z a-z 0-9 _ -.
    let plausible = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let found = if plausible {
        desk::redeem_invite(
            conn,
            &crate::secrets::hash_secret(code),
            inc.user_id,
            chat,
            now,
        )
        .await?
    } else {
        Redeemed::Unknown
    };
    let id = match found {
        Redeemed::Linked(m) => {
            let committee = storage::committees::get(conn, m.committee_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            tracing::info!(mediator = m.id, "mediator linked their Telegram account");
            let mlang = Lang::parse(&m.language).unwrap_or(lang);
            return Ok(vec![OutMessage::text(
                chat,
                t(
                    mlang,
                    "med-linked",
                    &[
                        ("name", s(escape_html(&m.name))),
                        ("committee", s(escape_html(&committee))),
                    ],
                ),
            )]);
        }
        Redeemed::AlreadyUsed => "med-invite-used",
        Redeemed::Expired => "med-invite-expired",
        Redeemed::Unknown => "med-invite-unknown",
    };
    desk::record_invite_failure(conn, chat, now, INVITE_WINDOW_MS).await?;
    tracing::info!(chat, outcome = id, "invite code refused");
    Ok(vec![OutMessage::text(chat, t(lang, id, &[]))])
}

// ----- the mediator dialogue -----

struct MedTurn {
    chat: i64,
    m: Mediator,
    lang: Lang,
    d: Dialogue,
    read: Option<(Dialogue, i64)>,
    out: Vec<OutMessage>,
    answer: Option<String>,
}

impl MedTurn {
    fn tr(&self, id: &str) -> String {
        t(self.lang, id, &[])
    }
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
    fn set_state(&mut self, state: State) {
        self.d.token = self.d.token.wrapping_add(1);
        self.d.state = state;
    }
    fn btn(&self, label: String, action: &str) -> InlineButton {
        InlineButton::new(label, format!("{}:{action}", self.d.token))
    }
    fn cancel_row(&self) -> Vec<InlineButton> {
        vec![self.btn(self.tr("btn-cancel"), "cancel")]
    }
    /// A refusal shown on the button and in the chat.
    fn refuse(&mut self, text: String) {
        self.answer = Some(text.clone());
        self.say(text);
    }
}

/// A parsed mediator button.
#[derive(Debug, Clone, PartialEq)]
enum MedPress {
    Case(String, i64),
    Step(u32, String),
}

fn parse_press(data: &str) -> Option<MedPress> {
    if data.len() > crate::outgoing::MAX_CALLBACK_BYTES || !data.is_ascii() {
        return None;
    }
    let (head, rest) = data.split_once(':')?;
    if head == "A" {
        let (action, id) = rest.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        return matches!(
            action,
            "acc" | "dec" | "sch" | "note" | "msg" | "res" | "fail" | "view"
        )
        .then(|| MedPress::Case(action.to_owned(), id));
    }
    let token: u32 = head.parse().ok()?;
    (!rest.is_empty()).then(|| MedPress::Step(token, rest.to_owned()))
}

/// Handles one event from a linked mediator's chat.
pub(super) async fn handle(
    lc: &Lifecycle,
    conn: &mut Tx,
    inc: &Incoming,
    m: Mediator,
    lang: Lang,
    dialogue: Option<Option<StoredDialogue>>,
) -> Result<Vec<OutMessage>, HandlerError> {
    let chat = inc.chat.id;
    if !m.active {
        let mut out = vec![];
        if let Event::Button { callback_id, .. } = &inc.event {
            out.push(OutMessage::answer(chat, callback_id.clone(), None));
        }
        out.push(OutMessage::text(chat, t(lang, "med-inactive", &[])));
        return Ok(out);
    }
    let read = match storage::prefetch::dialogue_or_load(conn, chat, dialogue).await? {
        Some(stored) => Some((
            serde_json::from_str::<Dialogue>(&stored.state).unwrap_or_default(),
            stored.version,
        )),
        None => None,
    };
    let mut d = read.as_ref().map(|(d, _)| d.clone()).unwrap_or_default();
    if !is_mediator_state(&d.state) {
        // A resident dialogue left in this chat before the account was
        // linked means nothing here.
        d.state = State::Idle;
    }
    let mut turn = MedTurn {
        chat,
        m,
        lang,
        d,
        read,
        out: vec![],
        answer: None,
    };
    let desk = Desk { lc };
    match &inc.event {
        Event::Command { name, args } => desk.command(conn, &mut turn, name, args).await?,
        Event::Button { callback_id, data } => {
            desk.button(conn, &mut turn, data).await?;
            let answer = turn.answer.take();
            turn.out
                .insert(0, OutMessage::answer(chat, callback_id.clone(), answer));
        }
        Event::Text { text } => desk.text(conn, &mut turn, text).await?,
        Event::Edited => turn.say(turn.tr("err-edited")),
        _ => {
            let w = turn.tr("err-text-expected");
            desk.reprompt(conn, &mut turn, Some(w)).await?;
        }
    }
    // Save the dialogue when it changed, naming the version read.
    let changed = match &turn.read {
        Some((d, _)) => *d != turn.d,
        None => turn.d != Dialogue::default(),
    };
    if changed {
        let json = serde_json::to_string(&turn.d)
            .map_err(|e| HandlerError::Internal(format!("dialogue state: {e}")))?;
        storage::prefetch::save_dialogue(
            conn,
            chat,
            &json,
            turn.read.as_ref().map(|(_, v)| *v),
            lc.clock().now_ms(),
        )
        .await?;
    }
    Ok(turn.out)
}

fn is_mediator_state(s: &State) -> bool {
    matches!(
        s,
        State::Idle
            | State::MedDeclineReason { .. }
            | State::MedScheduleWhen { .. }
            | State::MedSchedulePlace { .. }
            | State::MedNote { .. }
            | State::MedMessage { .. }
            | State::MedResolveSummary { .. }
            | State::MedResolveJudicial { .. }
            | State::MedFailNext { .. }
            | State::MedFailReason { .. }
    )
}

struct Desk<'a> {
    lc: &'a Lifecycle,
}

impl Desk<'_> {
    fn tz(&self) -> Tz {
        self.lc.policy().timezone
    }

    fn now(&self) -> i64 {
        self.lc.clock().now_ms()
    }

    async fn command(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        name: &str,
        args: &str,
    ) -> Result<(), HandlerError> {
        match name {
            "start" if !args.trim().is_empty() => {
                let committee = self.committee_name(conn, turn.m.committee_id).await?;
                turn.say(t(
                    turn.lang,
                    "med-already-linked",
                    &[("committee", s(escape_html(&committee)))],
                ));
            }
            "start" | "help" => turn.say(turn.tr("med-help")),
            "mycases" => {
                if turn.d.state != State::Idle {
                    turn.set_state(State::Idle);
                }
                self.show_cases(conn, turn).await?;
            }
            "cancel" => {
                let had = turn.d.state != State::Idle;
                turn.set_state(State::Idle);
                turn.say(turn.tr(if had {
                    "cancelled"
                } else {
                    "nothing-to-cancel"
                }));
            }
            _ => {
                let w = turn.tr("err-unknown-command");
                self.reprompt(conn, turn, Some(w)).await?;
            }
        }
        Ok(())
    }

    async fn committee_name(&self, conn: &mut Conn, id: i64) -> Result<String, HandlerError> {
        Ok(storage::committees::get(conn, id)
            .await?
            .map(|c| c.name)
            .unwrap_or_default())
    }

    /// Says why a case action is refused; returns true when it was.
    fn refused(&self, turn: &mut MedTurn, e: &LifecycleError, number: &str) -> bool {
        match e {
            LifecycleError::NotFound => {
                tracing::info!(mediator = turn.m.id, "case action outside the committee");
                turn.refuse(turn.tr("med-err-not-yours"));
                true
            }
            LifecycleError::Taken => {
                turn.refuse(turn.tr("med-err-taken"));
                true
            }
            LifecycleError::NotAllowed(st) => {
                let text = t(
                    turn.lang,
                    "med-err-state",
                    &[
                        ("number", s(number)),
                        ("status", s(turn.tr(&st.message_id()))),
                    ],
                );
                turn.refuse(text);
                true
            }
            _ => false,
        }
    }

    /// Runs a lifecycle call; a refusal is told to the mediator and the
    /// dialogue returns to idle.
    fn handle_err<T>(
        &self,
        turn: &mut MedTurn,
        r: Result<T, LifecycleError>,
        number: &str,
    ) -> Result<Option<T>, HandlerError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                if self.refused(turn, &e, number) {
                    turn.set_state(State::Idle);
                    Ok(None)
                } else {
                    Err(lifecycle_err(e))
                }
            }
        }
    }

    async fn number_of(&self, conn: &mut Conn, case_id: i64) -> Result<String, HandlerError> {
        Ok(storage::cases::get(conn, case_id)
            .await?
            .map(|c| c.number.as_str().to_owned())
            .unwrap_or_default())
    }

    // ----- buttons -----

    async fn button(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        data: &str,
    ) -> Result<(), HandlerError> {
        match parse_press(data) {
            None => {
                tracing::info!(chat = turn.chat, "malformed mediator callback data");
                turn.answer = Some(turn.tr("err-bad-button"));
                Ok(())
            }
            Some(MedPress::Case(action, id)) => self.case_action(conn, turn, &action, id).await,
            Some(MedPress::Step(token, _)) if token != turn.d.token => {
                turn.answer = Some(turn.tr("err-stale"));
                let w = turn.tr("err-stale");
                self.reprompt(conn, turn, Some(w)).await
            }
            Some(MedPress::Step(_, action)) => self.step_button(conn, turn, &action).await,
        }
    }

    async fn case_action(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        action: &str,
        id: i64,
    ) -> Result<(), HandlerError> {
        let number = self.number_of(conn, id).await?;
        let m = turn.m.clone();
        match action {
            "acc" => {
                let r = self.lc.accept(conn, &m, id).await;
                let Some((case, notes)) = self.handle_err(turn, r, &number)? else {
                    return Ok(());
                };
                turn.set_state(State::Idle);
                let deadline = case
                    .resolve_deadline
                    .map(|ms| local_time(self.tz(), ms))
                    .unwrap_or_default();
                turn.say(t(
                    turn.lang,
                    "med-accepted-ok",
                    &[("number", s(number)), ("deadline", s(deadline))],
                ));
                self.show_card(conn, turn, &case).await?;
                turn.out.extend(notes);
                Ok(())
            }
            "dec" => {
                let r = self.lc.mediator_case(conn, &m, id).await;
                let Some(case) = self.handle_err(turn, r, &number)? else {
                    return Ok(());
                };
                if case.status != CaseStatus::Assigned {
                    let e = if case.mediator_id.is_some_and(|x| x != m.id) {
                        LifecycleError::Taken
                    } else {
                        LifecycleError::NotAllowed(case.status)
                    };
                    self.refused(turn, &e, &number);
                    return Ok(());
                }
                turn.set_state(State::MedDeclineReason { case_id: id });
                self.reprompt(conn, turn, None).await
            }
            "sch" | "note" | "msg" | "res" | "fail" => {
                let to = match action {
                    "res" => CaseStatus::Resolved,
                    "fail" => CaseStatus::Failed,
                    _ => CaseStatus::Scheduled,
                };
                let r = self.lc.owned_case(conn, &m, id, to).await;
                if self.handle_err(turn, r, &number)?.is_none() {
                    return Ok(());
                }
                turn.set_state(match action {
                    "sch" => State::MedScheduleWhen {
                        case_id: id,
                        date: None,
                    },
                    "note" => State::MedNote { case_id: id },
                    "msg" => State::MedMessage { case_id: id },
                    "res" => State::MedResolveSummary { case_id: id },
                    _ => State::MedFailNext { case_id: id },
                });
                self.reprompt(conn, turn, None).await
            }
            _ => {
                let r = self.lc.mediator_case(conn, &m, id).await;
                let Some(case) = self.handle_err(turn, r, &number)? else {
                    return Ok(());
                };
                self.show_card(conn, turn, &case).await
            }
        }
    }

    async fn step_button(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        action: &str,
    ) -> Result<(), HandlerError> {
        if action == "cancel" {
            turn.set_state(State::Idle);
            turn.say(turn.tr("cancelled"));
            return Ok(());
        }
        let (verb, arg) = action.split_once(':').unwrap_or((action, ""));
        match (turn.d.state.clone(), verb) {
            (State::MedDeclineReason { case_id }, "dr") => {
                let id = match arg {
                    "busy" => "btn-med-decline-busy",
                    "scope" => "btn-med-decline-scope",
                    "conflict" => "btn-med-decline-conflict",
                    _ => return self.forged(conn, turn).await,
                };
                let reason = turn.tr(id);
                self.do_decline(conn, turn, case_id, &reason).await
            }
            (State::MedScheduleWhen { case_id, .. }, "d") => {
                match NaiveDate::parse_from_str(arg, "%Y%m%d") {
                    Ok(date) => {
                        turn.set_state(State::MedScheduleWhen {
                            case_id,
                            date: Some(date),
                        });
                        self.reprompt(conn, turn, None).await
                    }
                    Err(_) => self.forged(conn, turn).await,
                }
            }
            (
                State::MedScheduleWhen {
                    case_id,
                    date: Some(date),
                },
                "t",
            ) => match NaiveTime::parse_from_str(arg, "%H%M") {
                Ok(time) => {
                    self.schedule_at(conn, turn, case_id, NaiveDateTime::new(date, time))
                        .await
                }
                Err(_) => self.forged(conn, turn).await,
            },
            (State::MedSchedulePlace { case_id, at }, "po") => {
                let place = match storage::cases::get(conn, case_id).await? {
                    Some(c) => self.office_of(conn, &c).await?,
                    None => String::new(),
                };
                self.do_schedule(conn, turn, case_id, at, &place).await
            }
            (State::MedResolveJudicial { case_id, agreement }, "j") => match arg {
                "y" | "n" => {
                    let m = turn.m.clone();
                    let number = self.number_of(conn, case_id).await?;
                    let r = self
                        .lc
                        .resolve(conn, &m, case_id, &agreement, arg == "y")
                        .await;
                    let Some((_, notes)) = self.handle_err(turn, r, &number)? else {
                        return Ok(());
                    };
                    turn.set_state(State::Idle);
                    turn.say(t(
                        turn.lang,
                        "med-resolved-ok",
                        &[
                            ("number", s(number)),
                            ("days", self.lc.policy().followup_days.into()),
                        ],
                    ));
                    turn.out.extend(notes);
                    Ok(())
                }
                _ => self.forged(conn, turn).await,
            },
            (State::MedFailNext { case_id }, "fn") => match FailNext::parse(arg) {
                Some(next) => {
                    turn.set_state(State::MedFailReason { case_id, next });
                    self.reprompt(conn, turn, None).await
                }
                None => self.forged(conn, turn).await,
            },
            _ => self.forged(conn, turn).await,
        }
    }

    async fn forged(&self, conn: &mut Conn, turn: &mut MedTurn) -> Result<(), HandlerError> {
        tracing::info!(chat = turn.chat, "mediator callback does not fit the step");
        turn.answer = Some(turn.tr("err-bad-button"));
        let w = turn.tr("err-bad-button");
        self.reprompt(conn, turn, Some(w)).await
    }

    /// The committee's own office as a meeting place.
    async fn office_of(&self, conn: &mut Conn, case: &CaseRecord) -> Result<String, HandlerError> {
        Ok(match case.committee_id {
            Some(id) => storage::committees::get(conn, id)
                .await?
                .map(|c| format!("{} {}", c.name, c.address))
                .unwrap_or_default(),
            None => String::new(),
        })
    }

    // ----- typed text -----

    fn check(turn: &MedTurn, text: &str, max: usize) -> Result<String, String> {
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

    async fn text(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        text: &str,
    ) -> Result<(), HandlerError> {
        let max = match &turn.d.state {
            State::MedDeclineReason { .. }
            | State::MedSchedulePlace { .. }
            | State::MedFailReason { .. } => MAX_SHORT_CHARS,
            _ => MAX_LONG_CHARS,
        };
        let value = match turn.d.state {
            State::Idle
            | State::MedScheduleWhen { .. }
            | State::MedResolveJudicial { .. }
            | State::MedFailNext { .. } => String::new(),
            _ => match Self::check(turn, text, max) {
                Ok(v) => v,
                Err(w) => return self.reprompt(conn, turn, Some(w)).await,
            },
        };
        let m = turn.m.clone();
        match turn.d.state.clone() {
            State::MedDeclineReason { case_id } => {
                self.do_decline(conn, turn, case_id, &value).await
            }
            State::MedScheduleWhen { case_id, date } => match parse_when(text, date) {
                Some(at) => self.schedule_at(conn, turn, case_id, at).await,
                None => {
                    let w = t(turn.lang, "med-err-when", &[("example", s(self.example()))]);
                    self.reprompt(conn, turn, Some(w)).await
                }
            },
            State::MedSchedulePlace { case_id, at } => {
                self.do_schedule(conn, turn, case_id, at, &value).await
            }
            State::MedNote { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let r = self.lc.add_note(conn, &m, case_id, &value).await;
                if self.handle_err(turn, r, &number)?.is_some() {
                    turn.set_state(State::Idle);
                    turn.say(t(turn.lang, "med-note-ok", &[("number", s(number))]));
                }
                Ok(())
            }
            State::MedMessage { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let r = self.lc.message_resident(conn, &m, case_id, &value).await;
                if let Some((reached, relay)) = self.handle_err(turn, r, &number)? {
                    turn.set_state(State::Idle);
                    let id = if reached {
                        "med-message-sent"
                    } else {
                        "med-message-unreachable"
                    };
                    turn.say(t(turn.lang, id, &[("number", s(number))]));
                    turn.out.extend(relay);
                }
                Ok(())
            }
            State::MedResolveSummary { case_id } => {
                turn.set_state(State::MedResolveJudicial {
                    case_id,
                    agreement: value,
                });
                self.reprompt(conn, turn, None).await
            }
            State::MedFailReason { case_id, next } => {
                let number = self.number_of(conn, case_id).await?;
                let r = self.lc.fail(conn, &m, case_id, next, &value).await;
                let Some((outcome, notes)) = self.handle_err(turn, r, &number)? else {
                    return Ok(());
                };
                turn.set_state(State::Idle);
                let text = match outcome {
                    FailOutcome::Escalated(c) => t(
                        turn.lang,
                        "med-failed-escalated",
                        &[
                            ("number", s(number)),
                            ("committee", s(escape_html(&c.name))),
                        ],
                    ),
                    FailOutcome::NoHigherLevel => {
                        t(turn.lang, "med-failed-no-higher", &[("number", s(number))])
                    }
                    FailOutcome::Referred => {
                        t(turn.lang, "med-failed-referred", &[("number", s(number))])
                    }
                };
                turn.say(text);
                turn.out.extend(notes);
                Ok(())
            }
            State::MedResolveJudicial { .. } | State::MedFailNext { .. } => {
                let w = turn.tr("err-use-buttons");
                self.reprompt(conn, turn, Some(w)).await
            }
            _ => {
                turn.say(turn.tr("med-menu"));
                Ok(())
            }
        }
    }

    async fn do_decline(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        case_id: i64,
        reason: &str,
    ) -> Result<(), HandlerError> {
        let m = turn.m.clone();
        let number = self.number_of(conn, case_id).await?;
        let r = self.lc.decline(conn, &m, case_id, reason).await;
        let Some((outcome, notes)) = self.handle_err(turn, r, &number)? else {
            return Ok(());
        };
        turn.set_state(State::Idle);
        let text = match outcome {
            DeclineOutcome::Recorded => t(turn.lang, "med-declined-ok", &[("number", s(number))]),
            DeclineOutcome::MovedTo(c) => t(
                turn.lang,
                "med-declined-moved",
                &[
                    ("number", s(number)),
                    ("committee", s(escape_html(&c.name))),
                ],
            ),
            DeclineOutcome::Unrouted => {
                t(turn.lang, "med-declined-unrouted", &[("number", s(number))])
            }
        };
        turn.say(text);
        turn.out.extend(notes);
        Ok(())
    }

    /// "2026-11-25 14:30" tomorrow, as an example in the local zone.
    fn example(&self) -> String {
        let tomorrow = ms_to_datetime(self.now())
            .with_timezone(&self.tz())
            .date_naive()
            + Duration::days(1);
        format!("{} 14:30", tomorrow.format("%Y-%m-%d"))
    }

    /// Checks a local date and time and asks for the place.
    async fn schedule_at(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        case_id: i64,
        local: NaiveDateTime,
    ) -> Result<(), HandlerError> {
        let Some(at) = self.tz().from_local_datetime(&local).earliest() else {
            let w = t(turn.lang, "med-err-when", &[("example", s(self.example()))]);
            return self.reprompt(conn, turn, Some(w)).await;
        };
        let at = at.timestamp_millis();
        let now = self.now();
        if at <= now {
            let w = turn.tr("med-err-past");
            return self.reprompt(conn, turn, Some(w)).await;
        }
        if at > now + MAX_SCHEDULE_DAYS * 86_400_000 {
            let w = t(
                turn.lang,
                "med-err-too-far",
                &[("days", MAX_SCHEDULE_DAYS.into())],
            );
            return self.reprompt(conn, turn, Some(w)).await;
        }
        turn.set_state(State::MedSchedulePlace { case_id, at });
        self.reprompt(conn, turn, None).await
    }

    async fn do_schedule(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        case_id: i64,
        at: i64,
        place: &str,
    ) -> Result<(), HandlerError> {
        let m = turn.m.clone();
        let number = self.number_of(conn, case_id).await?;
        if at <= self.now() {
            // The time passed while the place was being typed.
            turn.set_state(State::MedScheduleWhen {
                case_id,
                date: None,
            });
            let w = turn.tr("med-err-past");
            return self.reprompt(conn, turn, Some(w)).await;
        }
        let r = self.lc.schedule(conn, &m, case_id, at, place).await;
        let Some((_, notes)) = self.handle_err(turn, r, &number)? else {
            return Ok(());
        };
        turn.set_state(State::Idle);
        turn.say(t(
            turn.lang,
            "med-scheduled-ok",
            &[
                ("number", s(number)),
                ("time", s(local_time(self.tz(), at))),
                ("place", s(escape_html(place))),
            ],
        ));
        turn.out.extend(notes);
        Ok(())
    }

    // ----- showing things -----

    /// Asks the current question again, optionally after a warning.
    async fn reprompt(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        warning: Option<String>,
    ) -> Result<(), HandlerError> {
        let lang = turn.lang;
        let (text, kb) = match turn.d.state.clone() {
            State::MedDeclineReason { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let kb = InlineKeyboard::column(vec![
                    turn.btn(turn.tr("btn-med-decline-busy"), "dr:busy"),
                    turn.btn(turn.tr("btn-med-decline-scope"), "dr:scope"),
                    turn.btn(turn.tr("btn-med-decline-conflict"), "dr:conflict"),
                ])
                .row(turn.cancel_row());
                (
                    t(lang, "med-decline-ask", &[("number", s(number))]),
                    Some(kb),
                )
            }
            State::MedScheduleWhen {
                case_id,
                date: None,
            } => {
                let number = self.number_of(conn, case_id).await?;
                let today = ms_to_datetime(self.now())
                    .with_timezone(&self.tz())
                    .date_naive();
                let days: Vec<InlineButton> = (1..=3)
                    .map(|i| {
                        let d = today + Duration::days(i);
                        turn.btn(
                            d.format("%m-%d").to_string(),
                            &format!("d:{}", d.format("%Y%m%d")),
                        )
                    })
                    .collect();
                let kb = InlineKeyboard::default().row(days).row(turn.cancel_row());
                let text = t(
                    lang,
                    "med-schedule-ask",
                    &[("number", s(number)), ("example", s(self.example()))],
                );
                (text, Some(kb))
            }
            State::MedScheduleWhen {
                date: Some(date), ..
            } => {
                let times: Vec<InlineButton> = ["0900", "1000", "1430", "1600"]
                    .iter()
                    .map(|hm| turn.btn(format!("{}:{}", &hm[..2], &hm[2..]), &format!("t:{hm}")))
                    .collect();
                let kb = InlineKeyboard::default().row(times).row(turn.cancel_row());
                let text = t(
                    lang,
                    "med-schedule-ask-time",
                    &[("date", s(date.format("%Y-%m-%d").to_string()))],
                );
                (text, Some(kb))
            }
            State::MedSchedulePlace { at, .. } => {
                let kb = InlineKeyboard::default()
                    .row(vec![turn.btn(turn.tr("btn-med-place-office"), "po")])
                    .row(turn.cancel_row());
                let text = t(
                    lang,
                    "med-schedule-ask-place",
                    &[
                        ("time", s(local_time(self.tz(), at))),
                        ("max", (MAX_SHORT_CHARS as i64).into()),
                    ],
                );
                (text, Some(kb))
            }
            State::MedNote { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let text = t(
                    lang,
                    "med-note-ask",
                    &[
                        ("number", s(number)),
                        ("max", (MAX_LONG_CHARS as i64).into()),
                    ],
                );
                (text, Some(InlineKeyboard::default().row(turn.cancel_row())))
            }
            State::MedMessage { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let text = t(
                    lang,
                    "med-message-ask",
                    &[
                        ("number", s(number)),
                        ("max", (MAX_LONG_CHARS as i64).into()),
                    ],
                );
                (text, Some(InlineKeyboard::default().row(turn.cancel_row())))
            }
            State::MedResolveSummary { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let text = t(
                    lang,
                    "med-resolve-ask",
                    &[
                        ("number", s(number)),
                        ("max", (MAX_LONG_CHARS as i64).into()),
                    ],
                );
                (text, Some(InlineKeyboard::default().row(turn.cancel_row())))
            }
            State::MedResolveJudicial { .. } => {
                let kb = InlineKeyboard::default()
                    .row(vec![
                        turn.btn(turn.tr("btn-med-judicial-yes"), "j:y"),
                        turn.btn(turn.tr("btn-med-judicial-no"), "j:n"),
                    ])
                    .row(turn.cancel_row());
                (turn.tr("med-resolve-ask-judicial"), Some(kb))
            }
            State::MedFailNext { case_id } => {
                let number = self.number_of(conn, case_id).await?;
                let kb = InlineKeyboard::column(vec![
                    turn.btn(turn.tr("btn-med-fail-escalate"), "fn:esc"),
                    turn.btn(turn.tr("btn-med-fail-arbitration"), "fn:arb"),
                    turn.btn(turn.tr("btn-med-fail-litigation"), "fn:lit"),
                ])
                .row(turn.cancel_row());
                (
                    t(lang, "med-fail-ask-next", &[("number", s(number))]),
                    Some(kb),
                )
            }
            State::MedFailReason { .. } => {
                let text = t(
                    lang,
                    "med-fail-ask-reason",
                    &[("max", (MAX_SHORT_CHARS as i64).into())],
                );
                (text, Some(InlineKeyboard::default().row(turn.cancel_row())))
            }
            _ => (turn.tr("med-menu"), None),
        };
        let text = match warning {
            Some(w) => format!("{w}\n\n{text}"),
            None => text,
        };
        match kb {
            Some(kb) => turn.say_kb(text, kb),
            None => turn.say(text),
        }
        Ok(())
    }

    /// A case as the mediator sees it, with the buttons its status allows.
    async fn show_card(
        &self,
        conn: &mut Conn,
        turn: &mut MedTurn,
        case: &CaseRecord,
    ) -> Result<(), HandlerError> {
        let lang = turn.lang;
        if case.status == CaseStatus::Assigned {
            if let Some(c) = match case.committee_id {
                Some(id) => storage::committees::get(conn, id).await?,
                None => None,
            } {
                let text = assignment_text(conn, self.tz(), case, &c, lang)
                    .await
                    .map_err(lifecycle_err)?;
                turn.say_kb(text, accept_keyboard(lang, case.id));
                return Ok(());
            }
        }
        if case.mediator_id.is_some_and(|x| x != turn.m.id) {
            turn.refuse(turn.tr("med-err-not-mine"));
            return Ok(());
        }
        let progress = desk::progress(conn, case.id).await?;
        let mut text = t(
            lang,
            "med-case-card",
            &[
                ("number", s(case.number.as_str())),
                ("category", s(t(lang, &case.category.message_id(), &[]))),
                ("status", s(t(lang, &case.status.message_id(), &[]))),
                (
                    "phone",
                    s(case
                        .contact_phone
                        .clone()
                        .unwrap_or_else(|| t(lang, "med-value-no-phone", &[]))),
                ),
                (
                    "deadline",
                    s(case
                        .resolve_deadline
                        .map(|ms| local_time(self.tz(), ms))
                        .unwrap_or_default()),
                ),
            ],
        );
        if let (Some(at), CaseStatus::Scheduled) = (progress.scheduled_at, case.status) {
            text.push('\n');
            text.push_str(&t(
                lang,
                "med-case-meeting",
                &[
                    ("time", s(local_time(self.tz(), at))),
                    (
                        "place",
                        s(escape_html(&progress.scheduled_place.unwrap_or_default())),
                    ),
                ],
            ));
        }
        if matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled) {
            let b = |id: &str, act: &str| {
                InlineButton::new(t(lang, id, &[]), format!("A:{act}:{}", case.id))
            };
            let kb = InlineKeyboard::default()
                .row(vec![
                    b("btn-med-schedule", "sch"),
                    b("btn-med-note", "note"),
                ])
                .row(vec![b("btn-med-message", "msg")])
                .row(vec![
                    b("btn-med-resolved", "res"),
                    b("btn-med-failed", "fail"),
                ]);
            turn.say_kb(text, kb);
        } else {
            turn.say(text);
        }
        Ok(())
    }

    async fn show_cases(&self, conn: &mut Conn, turn: &mut MedTurn) -> Result<(), HandlerError> {
        let ids =
            desk::open_for_mediator(conn, turn.m.id, turn.m.committee_id, MYCASES_LIMIT).await?;
        if ids.is_empty() {
            turn.say(turn.tr("med-mycases-empty"));
            return Ok(());
        }
        let now = self.now();
        let lang = turn.lang;
        let mut lines = vec![turn.tr("med-mycases-header")];
        let mut buttons = vec![];
        for id in ids {
            let Some(c) = storage::cases::get(conn, id).await? else {
                continue;
            };
            let deadline = if c.status == CaseStatus::Assigned {
                c.accept_deadline
            } else {
                c.resolve_deadline
            };
            let mut line = t(
                lang,
                "med-mycases-line",
                &[
                    ("number", s(c.number.as_str())),
                    ("category", s(t(lang, &c.category.message_id(), &[]))),
                    ("status", s(t(lang, &c.status.message_id(), &[]))),
                    (
                        "deadline",
                        s(deadline
                            .map(|ms| local_time(self.tz(), ms))
                            .unwrap_or_default()),
                    ),
                ],
            );
            if deadline.is_some_and(|d| d <= now) {
                line = format!("{line} {}", t(lang, "med-mycases-overdue", &[]));
            }
            lines.push(line);
            buttons.push(InlineButton::new(
                t(lang, "btn-med-view", &[("number", s(c.number.as_str()))]),
                format!("A:view:{}", c.id),
            ));
        }
        turn.say_kb(lines.join("\n"), InlineKeyboard::column(buttons));
        Ok(())
    }
}

/// Reads a typed meeting time in local terms: "2026-11-25 14:30" (also with
/// `/`, full-width digits, 年月日, or a `T`), or only "14:30" when the day
/// was picked with a button.
fn parse_when(text: &str, date: Option<NaiveDate>) -> Option<NaiveDateTime> {
    let mut norm = String::new();
    for c in text.trim().chars() {
        let c = match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '：' => ':',
            '／' | '/' | '年' | '月' | '.' => '-',
            '日' | '号' | 'T' | '\u{3000}' => ' ',
            other => other,
        };
        norm.push(c);
    }
    let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(&norm, f) {
            return Some(dt);
        }
    }
    let date = date?;
    let time = NaiveTime::parse_from_str(&norm, "%H:%M").ok()?;
    Some(NaiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_times_are_read_in_several_spellings() {
        let want = NaiveDate::from_ymd_opt(2026, 11, 25)
            .and_then(|d| d.and_hms_opt(14, 30, 0))
            .unwrap();
        for s in [
            "2026-11-25 14:30",
            " 2026/11/25  14:30 ",
            "２０２６-１１-２５ １４：３０",
            "2026年11月25日 14:30",
            "2026-11-25T14:30",
        ] {
            assert_eq!(parse_when(s, None), Some(want), "{s}");
        }
        let day = NaiveDate::from_ymd_opt(2026, 11, 25);
        assert_eq!(parse_when("14:30", day), Some(want));
        assert_eq!(parse_when("14:30", None), None);
        assert_eq!(parse_when("tomorrow", day), None);
        assert_eq!(parse_when("2026-13-01 10:00", None), None);
    }

    #[test]
    fn mediator_button_data_parses_or_is_refused() {
        assert_eq!(
            parse_press("A:acc:12"),
            Some(MedPress::Case("acc".into(), 12))
        );
        assert_eq!(
            parse_press("3:dr:busy"),
            Some(MedPress::Step(3, "dr:busy".into()))
        );
        for bad in ["A:zap:1", "A:acc:x", "A:acc", "x:y", "7:", "A:acc:１"] {
            assert_eq!(parse_press(bad), None, "{bad}");
        }
    }
}
