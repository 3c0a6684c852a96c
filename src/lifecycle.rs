//! The case service: filing, routing and assignment, the timeline, and the
//! transitions a resident can make (add information, withdraw). The mediator
//! side extends it with accept, decline, schedule, resolve and fail.
//!
//! Every function works inside the caller's transaction and returns the
//! notifications to queue in that same transaction (admin alerts, relays to
//! mediators), so a case change and the messages it causes commit together.
//! The reply to the person acting is the caller's to write.

use crate::clock::{ms_to_datetime, SharedClock};
use crate::config::PolicyConfig;
use crate::conversation::AttachmentKind;
use crate::domain::{
    CaseNumber, CaseStatus, Category, Committee, GeoPoint, Phone, RegionCode, RegionLevel,
};
use crate::i18n::{t, Lang};
use crate::outgoing::{escape_html, OutMessage};
use crate::routing::{CaseFacts, Decision, Router, RoutingError};
use crate::storage::cases::{self, ActorKind, CaseRecord, NewCaseRow, NewEvent};
use crate::storage::{self, Conn, StorageError};
use chrono::Datelike;
use std::sync::Arc;

mod admin;
mod mediation;

pub use mediation::{guidance_id, DeclineOutcome, FailOutcome, Reply};

/// Why a lifecycle operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Routing failed (only the database can make it fail).
    #[error(transparent)]
    Routing(#[from] RoutingError),
    /// No such case, or not one the actor may touch.
    #[error("case not found")]
    NotFound,
    /// The case is not in a state that allows the action.
    #[error("not allowed while the case is {0}")]
    NotAllowed(CaseStatus),
    /// Stored data is inconsistent (e.g. a region without any centroid).
    #[error("{0}")]
    Inconsistent(String),
    /// Another mediator accepted the case first (or owns it).
    #[error("the case is handled by another mediator")]
    Taken,
    /// The committee named does not exist or is inactive.
    #[error("no active committee {0}")]
    NoCommittee(i64),
    /// Escalation found no committee above the current one.
    #[error("no committee above this one can take the case")]
    NoHigherLevel,
}

impl From<crate::oversight::OversightError> for LifecycleError {
    fn from(e: crate::oversight::OversightError) -> Self {
        match e {
            crate::oversight::OversightError::Storage(e) => LifecycleError::Storage(e),
            other => LifecycleError::Inconsistent(other.to_string()),
        }
    }
}

/// Writes a timeline event and queues the event webhook it stands for, in
/// the same transaction, so subscribers hear of every transition exactly
/// when it commits.
pub(crate) async fn record_event(
    conn: &mut Conn,
    e: &cases::NewEvent<'_>,
) -> Result<i64, LifecycleError> {
    use crate::oversight::webhooks::{emit, EventType, WebhookEvent};
    let added = cases::add_event(conn, e).await?;
    let event = match (e.to_status, e.kind) {
        (Some(CaseStatus::Submitted), _) => Some(EventType::CaseFiled),
        (Some(CaseStatus::Assigned), "escalated") => Some(EventType::CaseEscalated),
        (Some(CaseStatus::Assigned), _) => Some(EventType::CaseAssigned),
        (Some(CaseStatus::Accepted), _) => Some(EventType::CaseAccepted),
        (Some(CaseStatus::Resolved), _) => Some(EventType::CaseResolved),
        (Some(CaseStatus::Failed), _) => Some(EventType::CaseFailed),
        (Some(CaseStatus::Closed), _) => Some(EventType::CaseClosed),
        _ => None,
    };
    if let (Some(kind), true) = (event, added.webhooks_active) {
        emit(conn, WebhookEvent::Case(kind, e.case_id), e.at).await?;
    }
    Ok(added.id)
}

/// How the place of a case was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    /// Telegram location share.
    Shared,
    /// Picked from the region list.
    Region,
    /// Typed address plus a picked township.
    Address,
}

impl LocationSource {
    /// The stable code stored in `cases.location_source`.
    pub fn code(self) -> &'static str {
        match self {
            LocationSource::Shared => "shared",
            LocationSource::Region => "region",
            LocationSource::Address => "address",
        }
    }
}

/// An attachment to keep with a case.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewAttachment {
    /// Which kind.
    pub kind: AttachmentKind,
    /// Telegram file id.
    pub file_id: String,
    /// Telegram's stable id.
    pub file_unique_id: String,
    /// Caption, if any.
    pub caption: String,
}

/// Everything a resident gave when filing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// The filing resident (row id).
    pub resident_id: i64,
    /// Their language.
    pub language: Lang,
    /// Category.
    pub category: Category,
    /// What happened (may be empty when attachments tell it).
    pub description: String,
    /// The other party.
    pub other_party: String,
    /// People involved (≥ 1).
    pub party_count: i64,
    /// Shared location, if shared.
    pub point: Option<GeoPoint>,
    /// How the place was given.
    pub location_source: LocationSource,
    /// Typed address.
    pub address: String,
    /// The region.
    pub region_code: RegionCode,
    /// Anyone at risk of harm.
    pub at_risk: bool,
    /// Contact phone.
    pub contact_phone: Option<Phone>,
    /// Photos, documents, voice notes.
    pub attachments: Vec<NewAttachment>,
}

/// The result of filing.
#[derive(Debug, Clone)]
pub struct Filed {
    /// The case as stored after routing.
    pub case: CaseRecord,
    /// The committee it went to (`None`: unrouted queue).
    pub committee: Option<Committee>,
    /// The routing decision.
    pub decision: Decision,
    /// Notifications to queue (admin alerts, the assignment hook's messages).
    pub notifications: Vec<OutMessage>,
}

/// Called whenever a case was assigned to a committee (on filing, and later
/// on reassignment or escalation), inside the same transaction. The mediator
/// side implements it to send the assignment with Accept / Decline buttons to
/// the committee's linked mediators; the messages it returns are queued with
/// the assignment.
#[async_trait::async_trait]
pub trait AssignmentHook: Send + Sync {
    /// `case` is stored with status `assigned` and `committee_id` set.
    async fn case_assigned(
        &self,
        conn: &mut Conn,
        case: &CaseRecord,
        committee: &Committee,
    ) -> Result<Vec<OutMessage>, LifecycleError>;
}

/// The default hook: nobody to tell yet.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAssignmentHook;

#[async_trait::async_trait]
impl AssignmentHook for NoAssignmentHook {
    async fn case_assigned(
        &self,
        _conn: &mut Conn,
        _case: &CaseRecord,
        _committee: &Committee,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        Ok(vec![])
    }
}

/// The case service.
#[derive(Clone)]
pub struct Lifecycle {
    router: Router,
    policy: PolicyConfig,
    clock: SharedClock,
    admin_chat_id: Option<i64>,
    hook: Arc<dyn AssignmentHook>,
    metrics: crate::metrics::Metrics,
    /// Poked (after the commit) when cases were queued for early warning.
    early_warning: Arc<tokio::sync::Notify>,
    /// Cases filed by this service so far (see [`Lifecycle::filings`]).
    filings: Arc<std::sync::atomic::AtomicU64>,
    /// Where case numbers are taken outside the filing's transaction (see
    /// [`Lifecycle::with_numbers_from`]); `None`: inside it.
    numbers: Option<storage::Storage>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("admin_chat_id", &self.admin_chat_id)
            .finish_non_exhaustive()
    }
}

/// What a resident adds to an open case.
#[derive(Debug, Clone, PartialEq)]
pub enum AddedInfo {
    /// Text (already checked for length).
    Text(String),
    /// A file.
    Attachment(NewAttachment),
}

impl Lifecycle {
    /// A case service whose assignments reach the committee's linked
    /// mediators in chat ([`crate::conversation::mediator::MediatorHook`]).
    pub fn new(
        router: Router,
        policy: PolicyConfig,
        clock: SharedClock,
        admin_chat_id: Option<i64>,
    ) -> Self {
        Self {
            hook: Arc::new(crate::conversation::mediator::MediatorHook::new(
                policy.timezone,
            )),
            router,
            policy,
            clock,
            admin_chat_id,
            metrics: crate::metrics::Metrics::default(),
            early_warning: Arc::new(tokio::sync::Notify::new()),
            filings: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            numbers: None,
        }
    }

    /// Takes case numbers from `storage` in a statement of their own when it
    /// is PostgreSQL. Every filing in a county takes the next number of the
    /// same counter row; inside the filing's transaction that row stays
    /// locked until the transaction ends, so filings of one county would
    /// wait for one another. Outside it, a filing that then fails leaves a
    /// gap in the county's numbers; no number is ever given twice. On
    /// SQLite (one writer at a time anyway) numbers stay in the filing's
    /// transaction, without gaps.
    pub fn with_numbers_from(mut self, storage: &storage::Storage) -> Self {
        self.numbers = (storage.backend() == storage::Backend::Postgres).then(|| storage.clone());
        self
    }

    /// What the early-warning worker waits on: poke it, after the commit,
    /// when a transaction filed cases.
    pub fn early_warning_notify(&self) -> Arc<tokio::sync::Notify> {
        self.early_warning.clone()
    }

    /// How many cases this service has filed (clones share the count). A
    /// caller compares it before and after a handler to know whether to
    /// poke [`Lifecycle::early_warning_notify`] once its transaction commits.
    pub fn filings(&self) -> u64 {
        self.filings.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The same service counting its routing decisions in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Counts a routing decision by how it was reached.
    pub(crate) fn count_decision(&self, decision: &crate::routing::Decision) {
        use crate::routing::Via;
        let outcome = match (&decision.committee, &decision.explanation.via) {
            (None, _) => "unrouted",
            (Some(_), Via::Rule { .. }) => "rule",
            (Some(_), Via::Escalation { .. }) => "escalation",
            (Some(_), _) => "fallback",
        };
        self.metrics.routing_decision(outcome);
    }

    /// The same service calling `hook` on every assignment.
    pub fn with_assignment_hook(mut self, hook: Arc<dyn AssignmentHook>) -> Self {
        self.hook = hook;
        self
    }

    /// The policy (time zone, deadlines, default language).
    pub fn policy(&self) -> &PolicyConfig {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The router.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The admin chat, when configured.
    pub fn admin_chat_id(&self) -> Option<i64> {
        self.admin_chat_id
    }

    fn admin_lang(&self) -> Lang {
        Lang::parse(&self.policy.default_language).unwrap_or_default()
    }

    /// Formats an instant as local date and time in the configured zone.
    pub fn local_time(&self, ms: i64) -> String {
        ms_to_datetime(ms)
            .with_timezone(&self.policy.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Files a case: numbers it (per county and year), stores it with its
    /// attachments, routes it, records the assignment and queues it for
    /// early warning, all in `tx`. `conn` is the caller's transaction (a
    /// `&mut Tx` derefs to it); the caller pokes
    /// [`Lifecycle::early_warning_notify`] once it commits.
    pub async fn file(&self, conn: &mut Conn, new: NewCase) -> Result<Filed, LifecycleError> {
        let now = self.clock.now_ms();
        let county = new.region_code.county();
        let year = ms_to_datetime(now)
            .with_timezone(&self.policy.timezone)
            .year();
        let seq = match &self.numbers {
            Some(numbers) => {
                cases::next_sequence_apart(numbers, county.as_str(), i64::from(year)).await?
            }
            None => cases::next_sequence(conn, county.as_str(), i64::from(year)).await?,
        };
        let number = CaseNumber::new(&county, year, seq);
        let routing_point = match new.point {
            Some(p) => p,
            None => region_point(conn, &new.region_code).await?,
        };
        let id = cases::insert(
            conn,
            &NewCaseRow {
                number: number.clone(),
                resident_id: new.resident_id,
                language: new.language.code().to_owned(),
                category: new.category,
                description: new.description.clone(),
                other_party: new.other_party.clone(),
                party_count: new.party_count.max(1),
                point: Some(routing_point),
                location_source: new.location_source.code().to_owned(),
                address: new.address.clone(),
                region_code: new.region_code.clone(),
                at_risk: new.at_risk,
                contact_phone: new.contact_phone.as_ref().map(|p| p.as_str().to_owned()),
                now,
            },
        )
        .await?;
        for a in &new.attachments {
            cases::add_attachment(
                conn,
                id,
                a.kind.code(),
                &a.file_id,
                &a.file_unique_id,
                &a.caption,
                now,
            )
            .await?;
        }
        record_event(
            conn,
            &NewEvent {
                case_id: id,
                at: now,
                actor_kind: ActorKind::Resident,
                actor_id: new.resident_id.to_string(),
                kind: "filed",
                from_status: None,
                to_status: Some(CaseStatus::Submitted),
                committee_id: None,
                reason: String::new(),
                details: serde_json::json!({ "attachments": new.attachments.len() }),
            },
        )
        .await?;
        tracing::info!(case = %number, "case filed");

        let facts = CaseFacts {
            category: new.category,
            point: routing_point,
            region_code: new.region_code.clone(),
            party_count: new.party_count.max(1),
            at_risk: new.at_risk,
        };
        let decision = self.router.decide(conn, &facts, &[]).await?;
        self.count_decision(&decision);
        let (mut notifications, case) = self
            .record_decision_as(
                conn,
                id,
                CaseStatus::Submitted,
                &decision,
                ActorKind::System,
                "",
                "assigned",
                "",
            )
            .await?;

        // Early warning (does this case make or join a cluster, or look
        // like a mass dispute on its own?) runs after the commit, in case
        // order: every filing of a mass filing would otherwise write the
        // same cluster row and hold it until its transaction ends.
        storage::alerts::queue_for_early_warning(conn, id, now).await?;
        self.filings
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);

        let alert_admin = decision.committee.is_none() || new.at_risk;
        if let (Some(admin), true) = (self.admin_chat_id, alert_admin) {
            let lang = self.admin_lang();
            let region = region_label(conn, &case.region_code).await?;
            let category = t(lang, &new.category.message_id(), &[]);
            if decision.committee.is_none() {
                notifications.push(OutMessage::text(
                    admin,
                    t(
                        lang,
                        "admin-alert-unrouted",
                        &[
                            ("number", number.as_str().to_owned().into()),
                            ("category", category.clone().into()),
                            ("region", escape_html(&region).into()),
                        ],
                    ),
                ));
            }
            if new.at_risk {
                let committee = decision
                    .committee
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| t(lang, "admin-no-committee", &[]));
                notifications.push(OutMessage::text(
                    admin,
                    t(
                        lang,
                        "admin-alert-at-risk",
                        &[
                            ("number", number.as_str().to_owned().into()),
                            ("category", category.into()),
                            ("region", escape_html(&region).into()),
                            ("committee", escape_html(&committee).into()),
                        ],
                    ),
                ));
            }
        }
        Ok(Filed {
            committee: decision.committee.clone(),
            case,
            decision,
            notifications,
        })
    }

    /// Stores a routing decision for case `id` currently in `from`: status
    /// `assigned` (committee, rule, accept deadline) or `unrouted`, an event
    /// named `kind` (`assigned`, `reassigned`, `escalated`) carrying the
    /// explanation and `reason`, and the assignment hook's messages. Declines
    /// of the previous assignment's mediators are forgotten: a new assignment
    /// starts afresh. Also gives the case as it stands afterwards (the
    /// assignment's own write returns it). Filing, reassignment and
    /// escalation all use it.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_decision_as(
        &self,
        conn: &mut Conn,
        id: i64,
        from: CaseStatus,
        decision: &Decision,
        actor: ActorKind,
        actor_id: &str,
        kind: &str,
        reason: &str,
    ) -> Result<(Vec<OutMessage>, CaseRecord), LifecycleError> {
        // A case just filed has never been assigned, so nobody declined it.
        if from != CaseStatus::Submitted {
            storage::mediator_desk::clear_mediator_declines(conn, id).await?;
        }
        let now = self.clock.now_ms();
        let committee_id = decision.committee.as_ref().map(|c| c.id);
        let accept_deadline = committee_id.map(|_| {
            let hours = decision.accept_hours.unwrap_or(self.policy.accept_hours);
            now + hours * 3_600_000
        });
        let Some(case) = cases::set_assignment(
            conn,
            id,
            from,
            committee_id,
            decision.rule_id,
            accept_deadline,
            now,
        )
        .await?
        else {
            return Err(LifecycleError::Inconsistent(format!(
                "case {id} left status {from} while being routed"
            )));
        };
        let to = if committee_id.is_some() {
            CaseStatus::Assigned
        } else {
            CaseStatus::Unrouted
        };
        record_event(
            conn,
            &NewEvent {
                case_id: id,
                at: now,
                actor_kind: actor,
                actor_id: actor_id.to_owned(),
                kind: if committee_id.is_some() {
                    kind
                } else {
                    "unrouted"
                },
                from_status: Some(from),
                to_status: Some(to),
                committee_id,
                reason: reason.to_owned(),
                details: serde_json::json!({
                    "rule_id": decision.rule_id,
                    "distance_km": decision.distance_km,
                    "resolve_days": decision.resolve_days,
                    "explanation": decision.explanation,
                }),
            },
        )
        .await?;
        if let Some(committee) = &decision.committee {
            tracing::info!(case = %case.number, committee = committee.id, "case assigned");
            let out = self.hook.case_assigned(conn, &case, committee).await?;
            Ok((out, case))
        } else {
            tracing::warn!(case = %case.number, "case unrouted");
            Ok((vec![], case))
        }
    }

    /// A resident's own case, or [`LifecycleError::NotFound`].
    pub async fn resident_case(
        &self,
        conn: &mut Conn,
        resident_id: i64,
        case_id: i64,
    ) -> Result<CaseRecord, LifecycleError> {
        match cases::get(conn, case_id).await? {
            Some(c) if c.resident_id == Some(resident_id) => Ok(c),
            _ => Err(LifecycleError::NotFound),
        }
    }

    /// Adds information from the resident to their open case: a timeline
    /// event (and the attachment), relayed to the mediator who accepted it.
    /// Returns the relay messages.
    pub async fn add_information(
        &self,
        conn: &mut Conn,
        resident_id: i64,
        case_id: i64,
        info: AddedInfo,
    ) -> Result<Vec<OutMessage>, LifecycleError> {
        let now = self.clock.now_ms();
        let case = self.resident_case(conn, resident_id, case_id).await?;
        if !case.status.is_open() {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        let details = match &info {
            AddedInfo::Text(text) => serde_json::json!({ "text": text }),
            AddedInfo::Attachment(a) => {
                let att = cases::add_attachment(
                    conn,
                    case.id,
                    a.kind.code(),
                    &a.file_id,
                    &a.file_unique_id,
                    &a.caption,
                    now,
                )
                .await?;
                serde_json::json!({ "attachment_id": att, "kind": a.kind.code(), "caption": a.caption })
            }
        };
        record_event(
            conn,
            &NewEvent {
                case_id: case.id,
                at: now,
                actor_kind: ActorKind::Resident,
                actor_id: resident_id.to_string(),
                kind: "info_added",
                from_status: None,
                to_status: None,
                committee_id: case.committee_id,
                reason: String::new(),
                details,
            },
        )
        .await?;
        tracing::info!(case = %case.number, "resident added information");
        let mut out = vec![];
        if matches!(case.status, CaseStatus::Accepted | CaseStatus::Scheduled) {
            if let Some(mid) = case.mediator_id {
                if let Some((chat, lang)) = cases::mediator_chat(conn, mid).await? {
                    let lang = Lang::parse(&lang).unwrap_or_default();
                    let html = match &info {
                        AddedInfo::Text(text) => t(
                            lang,
                            "mediator-relay-info",
                            &[
                                ("number", case.number.as_str().to_owned().into()),
                                ("text", escape_html(text).into()),
                            ],
                        ),
                        AddedInfo::Attachment(a) => t(
                            lang,
                            "mediator-relay-attachment",
                            &[
                                ("number", case.number.as_str().to_owned().into()),
                                (
                                    "kind",
                                    t(lang, &format!("attachment-{}", a.kind.code()), &[]).into(),
                                ),
                                ("caption", escape_html(&a.caption).into()),
                            ],
                        ),
                    };
                    out.push(OutMessage::text(chat, html));
                }
            }
        }
        Ok(out)
    }

    /// Withdraws the resident's open case. Returns the notifications (the
    /// mediator who accepted it, if any).
    pub async fn withdraw(
        &self,
        conn: &mut Conn,
        resident_id: i64,
        case_id: i64,
    ) -> Result<(CaseRecord, Vec<OutMessage>), LifecycleError> {
        let now = self.clock.now_ms();
        let case = self.resident_case(conn, resident_id, case_id).await?;
        if !case.status.can_become(CaseStatus::Withdrawn) {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        if !cases::transition(conn, case.id, case.status, CaseStatus::Withdrawn, now).await? {
            return Err(LifecycleError::NotAllowed(case.status));
        }
        record_event(
            conn,
            &NewEvent {
                case_id: case.id,
                at: now,
                actor_kind: ActorKind::Resident,
                actor_id: resident_id.to_string(),
                kind: "withdrawn",
                from_status: Some(case.status),
                to_status: Some(CaseStatus::Withdrawn),
                committee_id: case.committee_id,
                reason: String::new(),
                details: serde_json::json!({}),
            },
        )
        .await?;
        tracing::info!(case = %case.number, "case withdrawn by the resident");
        let mut out = vec![];
        if let Some(mid) = case.mediator_id {
            if let Some((chat, lang)) = cases::mediator_chat(conn, mid).await? {
                let lang = Lang::parse(&lang).unwrap_or_default();
                out.push(OutMessage::text(
                    chat,
                    t(
                        lang,
                        "mediator-case-withdrawn",
                        &[("number", case.number.as_str().to_owned().into())],
                    ),
                ));
            }
        }
        let case = cases::get(conn, case.id)
            .await?
            .ok_or(LifecycleError::NotFound)?;
        Ok((case, out))
    }
}

/// The point routing uses for a region: its centroid, else the nearest
/// ancestor's.
pub async fn region_point(conn: &mut Conn, code: &RegionCode) -> Result<GeoPoint, LifecycleError> {
    let chain: Vec<RegionCode> =
        std::iter::successors(Some(code.clone()), |c| c.parent()).collect();
    let codes: Vec<&str> = chain.iter().map(|c| c.as_str()).collect();
    let found = storage::regions::get_many(conn, &codes).await?;
    chain
        .iter()
        .find_map(|c| found.iter().find(|r| &r.code == c).and_then(|r| r.centroid))
        .ok_or_else(|| {
            LifecycleError::Inconsistent(format!("region {code} and its parents have no centroid"))
        })
}

/// "民乐县 六坝镇 六坝村": the names from county down to the region.
pub async fn region_label(conn: &mut Conn, code: &RegionCode) -> Result<String, StorageError> {
    let mut codes = vec![code.clone()];
    let mut c = code.clone();
    while let Some(p) = c.parent() {
        if p.level() == RegionLevel::City || p.level() == RegionLevel::Province {
            break;
        }
        codes.push(p.clone());
        c = p;
    }
    let wanted: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let found = storage::regions::get_many(conn, &wanted).await?;
    let names: Vec<&str> = codes
        .iter()
        .rev()
        .filter_map(|c| found.iter().find(|r| &r.code == c).map(|r| r.name.as_str()))
        .collect();
    Ok(names.join(" "))
}
