//! The transitions an admin makes through the HTTP API: reassign, escalate,
//! close. Each writes the change and its timeline event (actor kind
//! `admin`, the caller's name as actor id, the given reason) and returns the
//! notifications for the resident, the mediator who had the case, and the
//! new committee's mediators. The API handler audits and queues them in the
//! same transaction; it does not write its own event.

use super::{Lifecycle, LifecycleError};
use crate::domain::{CaseStatus, CommitteeId, Outcome};
use crate::i18n::t;
use crate::outgoing::{escape_html, OutMessage};
use crate::storage::cases::{self, ActorKind, CaseRecord, NewEvent};
use crate::storage::mediator_desk as desk;
use crate::storage::{self, Conn};

impl Lifecycle {
    /// Gives the case to `committee_id` (active): status `assigned`, no
    /// mediator, a fresh accept deadline; allowed where
    /// `CaseStatus::can_become(Assigned)`. Returns the case after the change
    /// and the notifications.
    pub async fn admin_reassign(
        &self,
        conn: &mut Conn,
        case_id: i64,
        committee_id: CommitteeId,
        actor: &str,
        reason: &str,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.clock.now_ms();
        let case = cases::get(conn, case_id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        if !case.status.can_become(CaseStatus::Assigned) {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        let committee = match storage::committees::get(conn, committee_id).await? {
            Some(c) if c.active => c,
            _ => return Err(LifecycleError::NoCommittee(committee_id)),
        };
        let deadline = now + self.policy.accept_hours * 3_600_000;
        let mut out = self
            .tell_previous_mediator(conn, &case, |lang| {
                t(
                    lang,
                    "med-case-reassigned",
                    &[
                        ("number", case.number.as_str().to_owned().into()),
                        ("committee", escape_html(&committee.name).into()),
                    ],
                )
            })
            .await?;
        desk::clear_mediator_declines(conn, case.id).await?;
        let Some(after) = cases::set_assignment(
            conn,
            case.id,
            case.status,
            Some(committee.id),
            None,
            Some(deadline),
            now,
        )
        .await?
        else {
            return Err(LifecycleError::NotAllowed(case.status));
        };
        super::record_event(
            conn,
            &NewEvent {
                case_id: case.id,
                at: now,
                actor_kind: ActorKind::Admin,
                actor_id: actor.to_owned(),
                kind: "reassigned",
                from_status: Some(case.status),
                to_status: Some(CaseStatus::Assigned),
                committee_id: Some(committee.id),
                reason: reason.to_owned(),
                details: serde_json::json!({ "from_committee_id": case.committee_id }),
            },
        )
        .await?;
        tracing::info!(case = %case.number, committee = committee.id, "case reassigned by an admin");
        out.extend(self.hook.case_assigned(conn, &after, &committee).await?);
        out.extend(self.moved_notice(conn, after.id, false).await?);
        Ok((after, out))
    }

    /// Escalates the case one level up the ladder from its committee,
    /// skipping committees that declined it. [`LifecycleError::NoHigherLevel`]
    /// when nobody above can take it (nothing changes).
    pub async fn admin_escalate(
        &self,
        conn: &mut Conn,
        case_id: i64,
        actor: &str,
        reason: &str,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let case = cases::get(conn, case_id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        if !case.status.can_become(CaseStatus::Assigned) {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        if case.committee_id.is_none() {
            return Err(LifecycleError::NoHigherLevel);
        }
        let previous = match case.mediator_id {
            Some(id) => desk::get(conn, id).await?,
            None => None,
        };
        let (to, mut out) = self
            .escalate_from(conn, &case, ActorKind::Admin, actor, reason)
            .await?;
        let Some(to) = to else {
            return Err(LifecycleError::NoHigherLevel);
        };
        if let Some(m) = previous {
            out.extend(Self::to_mediator(&m, |lang| {
                t(
                    lang,
                    "med-case-reassigned",
                    &[
                        ("number", case.number.as_str().to_owned().into()),
                        ("committee", escape_html(&to.name).into()),
                    ],
                )
            }));
        }
        let after = cases::get(conn, case.id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        Ok((after, out))
    }

    /// Closes the case with an outcome (default: `agreement` for a resolved
    /// case, `admin_closed` otherwise) and the reason, which the resident
    /// is shown.
    pub async fn admin_close(
        &self,
        conn: &mut Conn,
        case_id: i64,
        outcome: Option<Outcome>,
        actor: &str,
        reason: &str,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.clock.now_ms();
        let case = cases::get(conn, case_id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        if !case.status.can_become(CaseStatus::Closed) {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        let outcome = outcome.unwrap_or(if case.status == CaseStatus::Resolved {
            Outcome::Agreement
        } else {
            Outcome::AdminClosed
        });
        if !desk::close(conn, case.id, case.status, outcome, now).await? {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        super::record_event(
            conn,
            &NewEvent {
                case_id: case.id,
                at: now,
                actor_kind: ActorKind::Admin,
                actor_id: actor.to_owned(),
                kind: "closed",
                from_status: Some(case.status),
                to_status: Some(CaseStatus::Closed),
                committee_id: case.committee_id,
                reason: reason.to_owned(),
                details: serde_json::json!({ "outcome": outcome.code() }),
            },
        )
        .await?;
        tracing::info!(case = %case.number, "case closed by an admin");
        let number = case.number.as_str().to_owned();
        let mut out = vec![];
        if matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled) {
            out.extend(
                self.tell_previous_mediator(conn, &case, |lang| {
                    t(
                        lang,
                        "med-case-closed",
                        &[
                            ("number", number.clone().into()),
                            ("reason", escape_html(reason).into()),
                        ],
                    )
                })
                .await?,
            );
        }
        out.extend(
            self.to_resident(conn, &case, |lang| {
                let html = t(
                    lang,
                    "resident-closed",
                    &[
                        ("number", number.clone().into()),
                        ("reason", escape_html(reason).into()),
                    ],
                );
                (html, None)
            })
            .await?,
        );
        let after = cases::get(conn, case.id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        Ok((after, out))
    }

    async fn tell_previous_mediator(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        text: impl FnOnce(crate::i18n::Lang) -> String,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let Some(id) = case.mediator_id else {
            return Ok(vec![]);
        };
        Ok(match desk::get(conn, id).await? {
            Some(m) => Self::to_mediator(&m, text).into_iter().collect(),
            None => vec![],
        })
    }
}
