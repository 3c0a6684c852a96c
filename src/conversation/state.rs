//! The resident dialogue as an explicit state machine, stored per chat as
//! JSON in `conversations.state`. Each variant carries what was gathered so
//! far, so a restart (or another instance) resumes exactly where the person
//! was.

use crate::domain::{Category, GeoPoint, Phone, RegionCode};
use crate::lifecycle::{LocationSource, NewAttachment};
use serde::{Deserialize, Serialize};

/// What is stored for a chat: the state and the step token that inline
/// buttons carry. The token moves whenever the question asked changes, so a
/// button of an earlier question is recognised as stale.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Dialogue {
    /// The current step token.
    pub token: u32,
    /// Where the conversation stands.
    pub state: State,
}

/// Where the conversation with a resident stands.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Nothing in progress.
    #[default]
    Idle,
    /// Filing a dispute: the draft so far and the question being asked.
    Filing {
        /// What was gathered.
        draft: Draft,
        /// The question being asked.
        step: Step,
    },
    /// `/start` found an unfinished draft and asked whether to resume it.
    ResumeOffer {
        /// The kept draft.
        draft: Draft,
        /// The question it stopped at.
        step: Step,
    },
    /// Waiting for the information to add to an open case.
    AddInfo {
        /// The case (row id; checked against the resident on use).
        case_id: i64,
    },
    /// Asked "really withdraw?".
    ConfirmWithdraw {
        /// The case.
        case_id: i64,
    },
    /// A mediator was asked why they decline an assignment.
    MedDeclineReason {
        /// The case (checked against the mediator's committee on use).
        case_id: i64,
    },
    /// A mediator is giving the meeting's date and time.
    MedScheduleWhen {
        /// The case.
        case_id: i64,
        /// The day picked with a button, waiting for the time.
        #[serde(default)]
        date: Option<chrono::NaiveDate>,
    },
    /// A mediator is giving the meeting's place.
    MedSchedulePlace {
        /// The case.
        case_id: i64,
        /// The meeting, ms since the epoch.
        at: i64,
    },
    /// A mediator is typing an internal note.
    MedNote {
        /// The case.
        case_id: i64,
    },
    /// A mediator is typing a message for the resident.
    MedMessage {
        /// The case.
        case_id: i64,
    },
    /// A mediator is summarising the agreement reached.
    MedResolveSummary {
        /// The case.
        case_id: i64,
    },
    /// A mediator was asked whether judicial confirmation is wanted.
    MedResolveJudicial {
        /// The case.
        case_id: i64,
        /// The agreement as typed.
        agreement: String,
    },
    /// A mediator reporting failure picks what happens next.
    MedFailNext {
        /// The case.
        case_id: i64,
    },
    /// A mediator reporting failure gives the reason.
    MedFailReason {
        /// The case.
        case_id: i64,
        /// What happens next.
        next: FailNext,
    },
}

/// What follows a failed mediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailNext {
    /// Up one level of the ladder.
    Escalate,
    /// Referred to arbitration (labour, land contracts).
    Arbitration,
    /// Referred to the court.
    Litigation,
}

impl FailNext {
    /// The stable code (in button data).
    pub fn code(self) -> &'static str {
        match self {
            FailNext::Escalate => "esc",
            FailNext::Arbitration => "arb",
            FailNext::Litigation => "lit",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "esc" => Some(FailNext::Escalate),
            "arb" => Some(FailNext::Arbitration),
            "lit" => Some(FailNext::Litigation),
            _ => None,
        }
    }
}

/// One question of the filing flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Which kind of dispute.
    Category,
    /// What happened (text, plus attachments).
    Description,
    /// Who the other party is.
    OtherParty,
    /// How many people are involved.
    Parties,
    /// Where: share location, pick from the list, or type an address.
    Location,
    /// Picking a region from a paged list.
    PickRegion {
        /// The region whose children are listed; `None` lists counties.
        parent: Option<RegionCode>,
        /// Page of the list, from 0.
        page: u32,
        /// Picking the township of a typed address (stops at townships).
        address_mode: bool,
    },
    /// Typing an address.
    AddressText,
    /// Contact phone.
    Phone,
    /// Is anyone at risk of harm?
    AtRisk,
    /// Review, edit, submit.
    Summary,
}

impl Step {
    /// Steps that show a reply keyboard (share location / contact), which
    /// must be removed when the conversation moves on.
    pub fn uses_reply_keyboard(&self) -> bool {
        matches!(self, Step::Location | Step::Phone)
    }
}

/// A dispute being filed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Draft {
    /// Category.
    pub category: Option<Category>,
    /// What happened (`Some("")` when only attachments tell it).
    pub description: Option<String>,
    /// Photos, documents, voice notes.
    #[serde(default)]
    pub attachments: Vec<NewAttachment>,
    /// The other party (`Some("")` when skipped).
    pub other_party: Option<String>,
    /// People involved.
    pub party_count: Option<i64>,
    /// Shared location.
    pub point: Option<GeoPoint>,
    /// How the place was given.
    pub location_source: Option<LocationSource>,
    /// Typed address.
    #[serde(default)]
    pub address: String,
    /// The region.
    pub region_code: Option<RegionCode>,
    /// Contact phone.
    pub phone: Option<Phone>,
    /// Whether the phone question was answered (a skip counts).
    #[serde(default)]
    pub phone_answered: bool,
    /// Anyone at risk of harm.
    pub at_risk: Option<bool>,
    /// Editing one field from the summary: go back there after it.
    #[serde(default)]
    pub editing: bool,
}
