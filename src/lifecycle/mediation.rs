//! The mediator's transitions (accept, decline, schedule, note, message,
//! resolve, fail), the resident's answers after resolution (rating,
//! fulfilment), and the deadline actions the sweeper takes.
//!
//! Each function checks that the actor may act on the case (a mediator only
//! on cases of their committee, and only the one who accepted it once it is
//! accepted; a resident only on their own cases) and that the status allows
//! the step, writes the change with a timeline event naming actor and
//! reason, and returns the notifications to queue in the same transaction.

use super::{region_label, region_point, Lifecycle, LifecycleError};
use crate::conversation::state::FailNext;
use crate::domain::{CaseStatus, Category, Committee, CommitteeId, Fulfilment, Outcome};
use crate::i18n::{t, Lang};
use crate::outgoing::{escape_html, InlineButton, InlineKeyboard, Keyboard, OutMessage};
use crate::routing::{CaseFacts, Via};
use crate::storage::cases::{self, ActorKind, CaseRecord, NewEvent};
use crate::storage::mediator_desk::{self as desk, Mediator};
use crate::storage::{self, Conn};
use fluent_bundle::FluentValue;

const DAY_MS: i64 = 86_400_000;

fn s<'a>(v: impl Into<String>) -> FluentValue<'a> {
    FluentValue::from(v.into())
}

/// What became of a decline.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclineOutcome {
    /// Recorded; other mediators of the committee may still accept.
    Recorded,
    /// Every linked mediator declined: the case went to this committee.
    MovedTo(Committee),
    /// Every linked mediator declined and nobody else can take it: unrouted.
    Unrouted,
}

/// What became of a failed mediation.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOutcome {
    /// Escalated to this committee.
    Escalated(Committee),
    /// No higher level: the case stays `failed`, admins were alerted.
    NoHigherLevel,
    /// Referred to arbitration or the court; the case is closed.
    Referred,
}

/// How a resident's answer (rating, fulfilment) was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Stored.
    Stored,
    /// Answered before; nothing changed.
    AlreadyAnswered,
    /// The case is not at the point where this is asked.
    NotNow,
}

/// Which way a case moves on when its committee gave up on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoveOn {
    /// The next candidate routing finds, else up the ladder.
    NextCandidate,
    /// Up the ladder, else the next candidate.
    UpTheLadder,
}

impl Lifecycle {
    // ----- helpers -----

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A message to the case's resident in their language, when Telegram
    /// still reaches them.
    pub(crate) async fn to_resident(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        text: impl FnOnce(Lang) -> (String, Option<InlineKeyboard>),
    ) -> Result<Option<OutMessage>, LifecycleError> {
        let Some(rid) = case.resident_id else {
            return Ok(None);
        };
        let Some((chat, lang)) = desk::resident_contact(conn, rid).await? else {
            return Ok(None);
        };
        let lang = Lang::parse(&lang).unwrap_or_default();
        let (html, kb) = text(lang);
        Ok(Some(match kb {
            Some(kb) => OutMessage::with_keyboard(chat, html, Keyboard::Inline(kb)),
            None => OutMessage::text(chat, html),
        }))
    }

    /// A message to a linked, reachable mediator in their language.
    pub(crate) fn to_mediator(
        m: &Mediator,
        text: impl FnOnce(Lang) -> String,
    ) -> Option<OutMessage> {
        let chat = m.chat_id?;
        if !m.reachable || !m.active {
            return None;
        }
        let lang = Lang::parse(&m.language).unwrap_or_default();
        Some(OutMessage::text(chat, text(lang)))
    }

    /// A message to the admin chat in the default language.
    pub(crate) fn to_admin(&self, text: impl FnOnce(Lang) -> String) -> Option<OutMessage> {
        self.admin_chat_id
            .map(|chat| OutMessage::text(chat, text(self.admin_lang())))
    }

    pub(crate) async fn committee_name(
        &self,
        conn: &mut Conn,
        id: Option<CommitteeId>,
    ) -> Result<String, LifecycleError> {
        Ok(match id {
            Some(id) => storage::committees::get(conn, id)
                .await?
                .map(|c| c.name)
                .unwrap_or_default(),
            None => String::new(),
        })
    }

    /// What routing needs to know about a stored case.
    pub(crate) async fn facts_of(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
    ) -> Result<CaseFacts, LifecycleError> {
        let point = match case.point {
            Some(p) => p,
            None => region_point(conn, &case.region_code).await?,
        };
        Ok(CaseFacts {
            category: case.category,
            point,
            region_code: case.region_code.clone(),
            party_count: case.party_count,
            at_risk: case.at_risk,
        })
    }

    async fn load(&self, conn: &mut Conn, case_id: i64) -> Result<CaseRecord, LifecycleError> {
        cases::get(conn, case_id)
            .await?
            .ok_or(LifecycleError::NotFound)
    }

    /// A case of the mediator's committee, or [`LifecycleError::NotFound`]
    /// (also for a case that moved to another committee: to this mediator
    /// it no longer exists).
    pub async fn mediator_case(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
    ) -> Result<CaseRecord, LifecycleError> {
        match cases::get(conn, case_id).await? {
            Some(c) if m.active && c.committee_id == Some(m.committee_id) => Ok(c),
            _ => Err(LifecycleError::NotFound),
        }
    }

    /// A case the mediator accepted and may move to `to`.
    pub async fn owned_case(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        to: CaseStatus,
    ) -> Result<CaseRecord, LifecycleError> {
        let case = self.mediator_case(conn, m, case_id).await?;
        if case.mediator_id.is_some() && case.mediator_id != Some(m.id) {
            return Err(LifecycleError::Taken);
        }
        let owned = matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled);
        if !owned || !case.status.can_become(to) {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        Ok(case)
    }

    #[allow(clippy::too_many_arguments)]
    async fn event(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        actor: ActorKind,
        actor_id: String,
        kind: &str,
        to: Option<CaseStatus>,
        reason: &str,
        details: serde_json::Value,
    ) -> Result<(), LifecycleError> {
        super::record_event(
            conn,
            &NewEvent {
                case_id: case.id,
                at: self.now(),
                actor_kind: actor,
                actor_id,
                kind,
                from_status: to.map(|_| case.status),
                to_status: to,
                committee_id: case.committee_id,
                reason: reason.to_owned(),
                details,
            },
        )
        .await?;
        Ok(())
    }

    /// Days to resolve a case: its rule's override, else the policy.
    fn resolve_days_of(&self, case: &CaseRecord) -> i64 {
        case.rule_id
            .and_then(|id| self.router.rules().into_iter().find(|r| r.id == id))
            .and_then(|r| r.resolve_days)
            .unwrap_or(self.policy.resolve_days)
    }

    /// The resident's notice that their case now sits with `committee`.
    pub(super) async fn moved_notice(
        &self,
        conn: &mut Conn,
        case_id: i64,
        escalated: bool,
    ) -> Result<Option<OutMessage>, LifecycleError> {
        let case = self.load(conn, case_id).await?;
        let Some(cid) = case.committee_id else {
            return Ok(None);
        };
        let Some(c) = storage::committees::get(conn, cid).await? else {
            return Ok(None);
        };
        let deadline = case
            .accept_deadline
            .map(|ms| self.local_time(ms))
            .unwrap_or_default();
        let number = case.number.as_str().to_owned();
        self.to_resident(conn, &case, |lang| {
            let id = if escalated {
                "resident-escalated"
            } else {
                "resident-reassigned"
            };
            let html = t(
                lang,
                id,
                &[
                    ("number", s(number)),
                    ("committee", s(escape_html(&c.name))),
                    ("address", s(escape_html(&c.address))),
                    ("phone", s(escape_html(&c.phone))),
                    ("deadline", s(deadline)),
                ],
            );
            (html, None)
        })
        .await
    }

    // ----- accept and decline -----

    /// The mediator accepts an assigned case of their committee: first
    /// come, first served. Notifies the resident and the committee's other
    /// mediators.
    pub async fn accept(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let case = self.mediator_case(conn, m, case_id).await?;
        match case.status {
            CaseStatus::Assigned => {}
            _ if case.mediator_id.is_some() && case.mediator_id != Some(m.id) => {
                return Err(LifecycleError::Taken)
            }
            other => return Err(LifecycleError::NotAllowed(other)),
        }
        let deadline = now + self.resolve_days_of(&case) * DAY_MS;
        if !desk::accept(conn, case.id, m.id, deadline, now).await? {
            return Err(LifecycleError::Taken);
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "accepted",
            Some(CaseStatus::Accepted),
            "",
            serde_json::json!({ "resolve_deadline": deadline }),
        )
        .await?;
        tracing::info!(case = %case.number, mediator = m.id, "case accepted");
        let mut out = vec![];
        let committee = self.committee_name(conn, case.committee_id).await?;
        let number = case.number.as_str().to_owned();
        if let Some(msg) = self
            .to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-accepted",
                    &[
                        ("number", s(number.clone())),
                        ("committee", s(escape_html(&committee))),
                        ("mediator", s(escape_html(&m.name))),
                    ],
                );
                (html, None)
            })
            .await?
        {
            out.push(msg);
        }
        for other in desk::linked_of_committee(conn, m.committee_id).await? {
            if other.id == m.id {
                continue;
            }
            out.extend(Self::to_mediator(&other, |lang| {
                t(
                    lang,
                    "med-taken-notice",
                    &[
                        ("number", s(number.clone())),
                        ("mediator", s(escape_html(&m.name))),
                    ],
                )
            }));
        }
        let case = self.load(conn, case.id).await?;
        Ok((case, out))
    }

    /// The mediator declines an assigned case with a reason. When every
    /// linked mediator of the committee has declined, the committee as a
    /// whole declines and the case moves on.
    pub async fn decline(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        reason: &str,
    ) -> Result<(DeclineOutcome, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let case = self.mediator_case(conn, m, case_id).await?;
        match case.status {
            CaseStatus::Assigned => {}
            _ if case.mediator_id.is_some() && case.mediator_id != Some(m.id) => {
                return Err(LifecycleError::Taken)
            }
            other => return Err(LifecycleError::NotAllowed(other)),
        }
        desk::add_mediator_decline(conn, case.id, m.id, m.committee_id, reason, now).await?;
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "declined",
            None,
            reason,
            serde_json::json!({}),
        )
        .await?;
        tracing::info!(case = %case.number, mediator = m.id, "assignment declined");
        let linked = desk::linked_of_committee(conn, m.committee_id).await?;
        let declined = desk::mediator_declines(conn, case.id, m.committee_id).await?;
        if !linked.iter().all(|l| declined.contains(&l.id)) {
            return Ok((DeclineOutcome::Recorded, vec![]));
        }
        let (to, mut out) = self
            .committee_gave_up(
                conn,
                &case,
                reason,
                MoveOn::NextCandidate,
                ActorKind::Mediator,
                &m.id.to_string(),
            )
            .await?;
        match to {
            Some(c) => Ok((DeclineOutcome::MovedTo(c), out)),
            None => {
                let committee = self.committee_name(conn, case.committee_id).await?;
                out.extend(self.to_admin(|lang| {
                    t(
                        lang,
                        "admin-alert-declined-stuck",
                        &[
                            ("number", s(case.number.as_str())),
                            ("committee", s(escape_html(&committee))),
                        ],
                    )
                }));
                Ok((DeclineOutcome::Unrouted, out))
            }
        }
    }

    /// The case's committee gave up on it (all declined, or the accept
    /// deadline passed): the committee is recorded as declined and the case
    /// goes to the next candidate or up the ladder, or to the unrouted
    /// queue. Returns the new committee and the notifications (the new
    /// committee's mediators, the resident).
    pub(crate) async fn committee_gave_up(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        reason: &str,
        prefer: MoveOn,
        actor: ActorKind,
        actor_id: &str,
    ) -> Result<(Option<Committee>, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let Some(from) = case.committee_id else {
            return Ok((None, vec![]));
        };
        desk::add_committee_decline(conn, case.id, from, reason, now).await?;
        let declined = desk::declined_committees(conn, case.id).await?;
        let facts = self.facts_of(conn, case).await?;
        let decision = match prefer {
            MoveOn::NextCandidate => {
                let d = self.router.decide(conn, &facts, &declined).await?;
                if d.committee.is_some() {
                    d
                } else {
                    match self.router.escalate(conn, &facts, from, &declined).await? {
                        Some(up) => up,
                        None => d,
                    }
                }
            }
            MoveOn::UpTheLadder => match self.router.escalate(conn, &facts, from, &declined).await?
            {
                Some(up) => up,
                None => self.router.decide(conn, &facts, &declined).await?,
            },
        };
        self.count_decision(&decision);
        let escalated = matches!(decision.explanation.via, Via::Escalation { .. });
        let kind = if escalated { "escalated" } else { "reassigned" };
        let mut out = self
            .record_decision_as(
                conn,
                case.id,
                case.status,
                &decision,
                actor,
                actor_id,
                kind,
                reason,
            )
            .await?
            .0;
        if decision.committee.is_some() {
            out.extend(self.moved_notice(conn, case.id, escalated).await?);
        }
        Ok((decision.committee, out))
    }

    // ----- working the case -----

    /// Schedules (or reschedules) the meeting. `at` must lie ahead (the
    /// dialogue checks the format and range and says what is wrong).
    pub async fn schedule(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        at: i64,
        place: &str,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let case = self
            .owned_case(conn, m, case_id, CaseStatus::Scheduled)
            .await?;
        if at <= now {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        if !desk::schedule(conn, case.id, case.status, at, place, now).await? {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "scheduled",
            Some(CaseStatus::Scheduled),
            "",
            serde_json::json!({ "at": at, "place": place }),
        )
        .await?;
        tracing::info!(case = %case.number, "meeting scheduled");
        let time = self.local_time(at);
        let number = case.number.as_str().to_owned();
        let mut out = vec![];
        if let Some(msg) = self
            .to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-scheduled",
                    &[
                        ("number", s(number)),
                        ("time", s(time)),
                        ("place", s(escape_html(place))),
                    ],
                );
                let kb = InlineKeyboard::column(vec![InlineButton::new(
                    t(lang, "btn-timeline", &[]),
                    format!("K:tl:{}", case.id),
                )]);
                (html, Some(kb))
            })
            .await?
        {
            out.push(msg);
        }
        let case = self.load(conn, case.id).await?;
        Ok((case, out))
    }

    /// Adds an internal note (mediators and admins see it, the resident
    /// does not).
    pub async fn add_note(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        text: &str,
    ) -> Result<CaseRecord, LifecycleError> {
        let case = self.mediator_case(conn, m, case_id).await?;
        if case.mediator_id != Some(m.id)
            || !matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled)
        {
            return Err(
                if case.mediator_id.is_some() && case.mediator_id != Some(m.id) {
                    LifecycleError::Taken
                } else {
                    LifecycleError::NotAllowed(case.status)
                },
            );
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "note",
            None,
            "",
            serde_json::json!({ "text": text }),
        )
        .await?;
        Ok(case)
    }

    /// Relays a message from the mediator to the resident, tagged with the
    /// case number and with a button to reply (the resident's reply goes
    /// through "add information", which relays it back). Returns whether
    /// the resident can be reached, and the relay.
    pub async fn message_resident(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        text: &str,
    ) -> Result<(bool, Vec<OutMessage>), LifecycleError> {
        let case = self.mediator_case(conn, m, case_id).await?;
        if case.mediator_id != Some(m.id)
            || !matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled)
        {
            return Err(
                if case.mediator_id.is_some() && case.mediator_id != Some(m.id) {
                    LifecycleError::Taken
                } else {
                    LifecycleError::NotAllowed(case.status)
                },
            );
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "mediator_message",
            None,
            "",
            serde_json::json!({ "text": text }),
        )
        .await?;
        let number = case.number.as_str().to_owned();
        let msg = self
            .to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-message",
                    &[("number", s(number)), ("text", s(escape_html(text)))],
                );
                let kb = InlineKeyboard::column(vec![InlineButton::new(
                    t(lang, "btn-reply-mediator", &[]),
                    format!("K:ai:{}", case.id),
                )]);
                (html, Some(kb))
            })
            .await?;
        Ok((msg.is_some(), msg.into_iter().collect()))
    }

    /// Records an agreement: status `resolved`, the follow-up date, and the
    /// resident's notice with the 1–5 rating buttons.
    pub async fn resolve(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        agreement: &str,
        judicial_confirmation: bool,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let case = self
            .owned_case(conn, m, case_id, CaseStatus::Resolved)
            .await?;
        let followup = now + self.policy.followup_days * DAY_MS;
        if !desk::resolve(
            conn,
            case.id,
            case.status,
            agreement,
            judicial_confirmation,
            followup,
            now,
        )
        .await?
        {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "resolved",
            Some(CaseStatus::Resolved),
            "",
            serde_json::json!({
                "agreement": agreement,
                "judicial_confirmation": judicial_confirmation,
            }),
        )
        .await?;
        tracing::info!(case = %case.number, "case resolved");
        let number = case.number.as_str().to_owned();
        let msg = self
            .to_resident(conn, &case, |lang| {
                let judicial = if judicial_confirmation {
                    "resident-judicial-yes"
                } else {
                    "resident-judicial-no"
                };
                let html = t(
                    lang,
                    "resident-resolved",
                    &[
                        ("number", s(number)),
                        ("agreement", s(escape_html(agreement))),
                        ("judicial", s(t(lang, judicial, &[]))),
                    ],
                );
                let kb = InlineKeyboard::default().row(
                    (1..=5)
                        .map(|n| InlineButton::new(n.to_string(), format!("R:{}:{n}", case.id)))
                        .collect(),
                );
                (html, Some(kb))
            })
            .await?;
        let case = self.load(conn, case.id).await?;
        Ok((case, msg.into_iter().collect()))
    }

    /// Records a failed mediation and what follows: escalation one level
    /// up, or a referral (arbitration, the court) that closes the case with
    /// guidance for the resident.
    pub async fn fail(
        &self,
        conn: &mut Conn,
        m: &Mediator,
        case_id: i64,
        next: FailNext,
        reason: &str,
    ) -> Result<(FailOutcome, Vec<OutMessage>), LifecycleError> {
        let now = self.now();
        let case = self
            .owned_case(conn, m, case_id, CaseStatus::Failed)
            .await?;
        if !desk::fail(conn, case.id, case.status, now).await? {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        self.event(
            conn,
            &case,
            ActorKind::Mediator,
            m.id.to_string(),
            "failed",
            Some(CaseStatus::Failed),
            reason,
            serde_json::json!({ "next": next.code() }),
        )
        .await?;
        tracing::info!(case = %case.number, "mediation failed");
        let case = self.load(conn, case.id).await?;
        let actor_id = m.id.to_string();
        match next {
            FailNext::Escalate => {
                let (to, out) = self
                    .escalate_from(conn, &case, ActorKind::Mediator, &actor_id, reason)
                    .await?;
                match to {
                    Some(c) => Ok((FailOutcome::Escalated(c), out)),
                    None => {
                        let committee = self.committee_name(conn, case.committee_id).await?;
                        let alert = self.to_admin(|lang| {
                            t(
                                lang,
                                "admin-alert-no-higher",
                                &[
                                    ("number", s(case.number.as_str())),
                                    ("committee", s(escape_html(&committee))),
                                ],
                            )
                        });
                        Ok((FailOutcome::NoHigherLevel, alert.into_iter().collect()))
                    }
                }
            }
            FailNext::Arbitration | FailNext::Litigation => {
                let outcome = if next == FailNext::Arbitration {
                    Outcome::Arbitration
                } else {
                    Outcome::Litigation
                };
                if !desk::close(conn, case.id, CaseStatus::Failed, outcome, now).await? {
                    return Err(LifecycleError::NotAllowed(case.status));
                }
                self.event(
                    conn,
                    &case,
                    ActorKind::Mediator,
                    actor_id,
                    "closed",
                    Some(CaseStatus::Closed),
                    reason,
                    serde_json::json!({ "outcome": outcome.code() }),
                )
                .await?;
                let number = case.number.as_str().to_owned();
                let category = case.category;
                let msg = self
                    .to_resident(conn, &case, |lang| {
                        let html = t(
                            lang,
                            "resident-failed",
                            &[
                                ("number", s(number)),
                                ("guidance", s(t(lang, guidance_id(category), &[]))),
                                ("legal_aid", s(t(lang, "guidance-legal-aid", &[]))),
                            ],
                        );
                        (html, None)
                    })
                    .await?;
                Ok((FailOutcome::Referred, msg.into_iter().collect()))
            }
        }
    }

    /// Moves `case` (status allowing `assigned`) one level up the ladder.
    /// `None` when no committee above can take it (nothing changes).
    pub(crate) async fn escalate_from(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        actor: ActorKind,
        actor_id: &str,
        reason: &str,
    ) -> Result<(Option<Committee>, Vec<OutMessage>), LifecycleError> {
        let Some(from) = case.committee_id else {
            return Ok((None, vec![]));
        };
        let declined = desk::declined_committees(conn, case.id).await?;
        let facts = self.facts_of(conn, case).await?;
        let Some(decision) = self.router.escalate(conn, &facts, from, &declined).await? else {
            return Ok((None, vec![]));
        };
        let mut out = self
            .record_decision_as(
                conn,
                case.id,
                case.status,
                &decision,
                actor,
                actor_id,
                "escalated",
                reason,
            )
            .await?
            .0;
        out.extend(self.moved_notice(conn, case.id, true).await?);
        Ok((decision.committee, out))
    }

    // ----- the resident after resolution -----

    /// Stores the resident's 1–5 rating of a resolved case, once.
    pub async fn rate(
        &self,
        conn: &mut Conn,
        resident_id: i64,
        case_id: i64,
        rating: i64,
    ) -> Result<Reply, LifecycleError> {
        let case = self.resident_case(conn, resident_id, case_id).await?;
        let progress = desk::progress(conn, case.id).await?;
        if progress.resolved_at.is_none() || !(1..=5).contains(&rating) {
            return Ok(Reply::NotNow);
        }
        if !desk::set_rating(conn, case.id, rating).await? {
            return Ok(Reply::AlreadyAnswered);
        }
        self.event(
            conn,
            &case,
            ActorKind::Resident,
            resident_id.to_string(),
            "rated",
            None,
            "",
            serde_json::json!({ "rating": rating }),
        )
        .await?;
        Ok(Reply::Stored)
    }

    /// Stores whether the agreement was carried out and closes the case.
    pub async fn record_fulfilment(
        &self,
        conn: &mut Conn,
        resident_id: i64,
        case_id: i64,
        fulfilment: Fulfilment,
    ) -> Result<Reply, LifecycleError> {
        let now = self.now();
        let case = self.resident_case(conn, resident_id, case_id).await?;
        if case.status != CaseStatus::Resolved {
            let progress = desk::progress(conn, case.id).await?;
            return Ok(if progress.fulfilment.is_some() {
                Reply::AlreadyAnswered
            } else {
                Reply::NotNow
            });
        }
        if !desk::set_fulfilment(conn, case.id, fulfilment).await? {
            return Ok(Reply::AlreadyAnswered);
        }
        self.event(
            conn,
            &case,
            ActorKind::Resident,
            resident_id.to_string(),
            "fulfilment",
            None,
            "",
            serde_json::json!({ "fulfilment": fulfilment.code() }),
        )
        .await?;
        if !desk::close(conn, case.id, CaseStatus::Resolved, Outcome::Agreement, now).await? {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        self.event(
            conn,
            &case,
            ActorKind::System,
            String::new(),
            "closed",
            Some(CaseStatus::Closed),
            "follow-up answered",
            serde_json::json!({ "outcome": Outcome::Agreement.code() }),
        )
        .await?;
        tracing::info!(case = %case.number, "case closed after follow-up");
        Ok(Reply::Stored)
    }

    // ----- deadlines (the sweeper calls these inside its claim) -----

    /// The accept deadline of an assigned case passed: its committee counts
    /// as declining and the case climbs the ladder (a committee that did not
    /// answer in time is not followed by a sibling that may not either; the
    /// level above has the authority to get it done). Empty when the case
    /// is no longer waiting.
    pub async fn accept_deadline_missed(
        &self,
        conn: &mut Conn,
        case_id: i64,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let now = self.now();
        let case = self.load(conn, case_id).await?;
        if case.status != CaseStatus::Assigned || case.accept_deadline.is_none_or(|d| d > now) {
            return Ok(vec![]);
        }
        let old_committee = case.committee_id;
        let old_name = self.committee_name(conn, old_committee).await?;
        let old_mediators = match old_committee {
            Some(id) => desk::linked_of_committee(conn, id).await?,
            None => vec![],
        };
        let (to, mut out) = self
            .committee_gave_up(
                conn,
                &case,
                "accept deadline missed",
                MoveOn::UpTheLadder,
                ActorKind::System,
                "",
            )
            .await?;
        let number = case.number.as_str().to_owned();
        match &to {
            Some(c) => {
                for m in &old_mediators {
                    out.extend(Self::to_mediator(m, |lang| {
                        t(
                            lang,
                            "med-case-moved",
                            &[
                                ("number", s(number.clone())),
                                ("committee", s(escape_html(&c.name))),
                            ],
                        )
                    }));
                }
                out.extend(self.to_admin(|lang| {
                    t(
                        lang,
                        "admin-alert-accept-missed",
                        &[
                            ("number", s(number.clone())),
                            ("committee", s(escape_html(&old_name))),
                            ("to", s(escape_html(&c.name))),
                        ],
                    )
                }));
            }
            None => out.extend(self.to_admin(|lang| {
                t(
                    lang,
                    "admin-alert-accept-missed-stuck",
                    &[
                        ("number", s(number.clone())),
                        ("committee", s(escape_html(&old_name))),
                    ],
                )
            })),
        }
        tracing::info!(case = %case.number, "accept deadline missed");
        Ok(out)
    }

    /// The resolve deadline passed: a reminder to the mediator who owns the
    /// case and an alert to the admin chat.
    pub async fn resolve_deadline_passed(
        &self,
        conn: &mut Conn,
        case_id: i64,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let case = self.load(conn, case_id).await?;
        let Some(deadline) = case.resolve_deadline else {
            return Ok(vec![]);
        };
        if !matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled) {
            return Ok(vec![]);
        }
        let mut out = vec![];
        let when = self.local_time(deadline);
        let number = case.number.as_str().to_owned();
        if let Some(mid) = case.mediator_id {
            if let Some(m) = desk::get(conn, mid).await? {
                out.extend(Self::to_mediator(&m, |lang| {
                    t(
                        lang,
                        "med-reminder-overdue",
                        &[("number", s(number.clone())), ("deadline", s(when.clone()))],
                    )
                }));
            }
        }
        let committee = self.committee_name(conn, case.committee_id).await?;
        out.extend(self.to_admin(|lang| {
            t(
                lang,
                "admin-alert-resolve-overdue",
                &[
                    ("number", s(number.clone())),
                    ("committee", s(escape_html(&committee))),
                    ("deadline", s(when.clone())),
                ],
            )
        }));
        self.event(
            conn,
            &case,
            ActorKind::System,
            String::new(),
            "resolve_overdue",
            None,
            "resolve deadline passed",
            serde_json::json!({ "resolve_deadline": deadline }),
        )
        .await?;
        Ok(out)
    }

    /// The day-before reminder of a meeting, to the resident and the
    /// mediator.
    pub async fn meeting_reminder(
        &self,
        conn: &mut Conn,
        case_id: i64,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let case = self.load(conn, case_id).await?;
        let progress = desk::progress(conn, case.id).await?;
        let (Some(at), CaseStatus::Scheduled) = (progress.scheduled_at, case.status) else {
            return Ok(vec![]);
        };
        let place = progress.scheduled_place.unwrap_or_default();
        let time = self.local_time(at);
        let number = case.number.as_str().to_owned();
        let mut out = vec![];
        out.extend(
            self.to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-reminder",
                    &[
                        ("number", s(number.clone())),
                        ("time", s(time.clone())),
                        ("place", s(escape_html(&place))),
                    ],
                );
                (html, None)
            })
            .await?,
        );
        if let Some(mid) = case.mediator_id {
            if let Some(m) = desk::get(conn, mid).await? {
                out.extend(Self::to_mediator(&m, |lang| {
                    t(
                        lang,
                        "med-reminder-meeting",
                        &[
                            ("number", s(number.clone())),
                            ("time", s(time.clone())),
                            ("place", s(escape_html(&place))),
                        ],
                    )
                }));
            }
        }
        self.event(
            conn,
            &case,
            ActorKind::System,
            String::new(),
            "reminder",
            None,
            "",
            serde_json::json!({ "scheduled_at": at }),
        )
        .await?;
        Ok(out)
    }

    /// The fulfilment follow-up (履行) question to the resident.
    pub async fn followup(
        &self,
        conn: &mut Conn,
        case_id: i64,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let case = self.load(conn, case_id).await?;
        if case.status != CaseStatus::Resolved {
            return Ok(vec![]);
        }
        let number = case.number.as_str().to_owned();
        let days = self.policy.followup_days;
        let msg = self
            .to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-followup",
                    &[("number", s(number)), ("days", days.into())],
                );
                let b = |id: &str, code: &str| {
                    InlineButton::new(t(lang, id, &[]), format!("F:{}:{code}", case.id))
                };
                let kb = InlineKeyboard::column(vec![
                    b("btn-fulfil-full", "full"),
                    b("btn-fulfil-partial", "partial"),
                    b("btn-fulfil-none", "none"),
                ]);
                (html, Some(kb))
            })
            .await?;
        self.event(
            conn,
            &case,
            ActorKind::System,
            String::new(),
            "followup",
            None,
            "",
            serde_json::json!({}),
        )
        .await?;
        Ok(msg.into_iter().collect())
    }

    /// The daily digest for the admin chat: cases filed and resolved in
    /// `[from, to)`, cases overdue now, by township. `date` names the day.
    pub async fn daily_digest(
        &self,
        conn: &mut Conn,
        from: i64,
        to: i64,
        date: &str,
    ) -> Result<Option<OutMessage>, LifecycleError> {
        let Some(chat) = self.admin_chat_id else {
            return Ok(None);
        };
        let lang = self.admin_lang();
        let lines = desk::digest(conn, from, to).await?;
        let (mut n, mut r, mut o) = (0, 0, 0);
        let mut body = vec![];
        for l in &lines {
            n += l.new;
            r += l.resolved;
            o += l.overdue;
            let region = match crate::domain::RegionCode::parse(&l.region_code) {
                Ok(code) => region_label(conn, &code).await?,
                Err(_) => l.region_code.clone(),
            };
            body.push(t(
                lang,
                "admin-digest-line",
                &[
                    ("region", s(escape_html(&region))),
                    ("new", l.new.into()),
                    ("resolved", l.resolved.into()),
                    ("overdue", l.overdue.into()),
                ],
            ));
        }
        let mut text = t(
            lang,
            "admin-digest-header",
            &[
                ("date", s(date)),
                ("new", n.into()),
                ("resolved", r.into()),
                ("overdue", o.into()),
            ],
        );
        for line in body {
            text.push('\n');
            text.push_str(&line);
        }
        Ok(Some(OutMessage::text(chat, text)))
    }
}

/// The next step a resident is pointed to when mediation failed: labour and
/// land-contract disputes have their own arbitration; everything else goes
/// to the local court.
pub fn guidance_id(category: Category) -> &'static str {
    match category {
        Category::Labor => "guidance-labor-arbitration",
        Category::Land => "guidance-land-arbitration",
        _ => "guidance-court",
    }
}
