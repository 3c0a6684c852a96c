//! Cases: status, lifecycle transitions and the number read aloud over the
//! phone.

use super::{DomainError, RegionCode};
use serde::{Deserialize, Serialize};

/// Where a case stands in its lifecycle (DESIGN.md "Case lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed, not yet routed (a transient state inside the filing transaction).
    Submitted,
    /// No committee could take it; waits in the unrouted queue for an admin.
    Unrouted,
    /// Routed to a committee, waiting for a mediator to accept.
    Assigned,
    /// A mediator owns it.
    Accepted,
    /// A meeting is scheduled.
    Scheduled,
    /// Agreement reached.
    Resolved,
    /// Mediation failed; referred onwards or waiting for escalation.
    Failed,
    /// Finished: after follow-up, referral, or by an admin.
    Closed,
    /// Withdrawn by the resident.
    Withdrawn,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 9] = [
        CaseStatus::Submitted,
        CaseStatus::Unrouted,
        CaseStatus::Assigned,
        CaseStatus::Accepted,
        CaseStatus::Scheduled,
        CaseStatus::Resolved,
        CaseStatus::Failed,
        CaseStatus::Closed,
        CaseStatus::Withdrawn,
    ];

    /// Statuses in which a committee is working on the case (they count
    /// against its capacity).
    pub const OPEN: [CaseStatus; 4] = [
        CaseStatus::Assigned,
        CaseStatus::Accepted,
        CaseStatus::Scheduled,
        CaseStatus::Unrouted,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "submitted",
            CaseStatus::Unrouted => "unrouted",
            CaseStatus::Assigned => "assigned",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Scheduled => "scheduled",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Failed => "failed",
            CaseStatus::Closed => "closed",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.code() == s.trim())
            .ok_or_else(|| DomainError::new("status", format!("unknown case status '{s}'")))
    }

    /// Whether the case is still being worked on: a resident may add
    /// information or withdraw it.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseStatus::Submitted
                | CaseStatus::Unrouted
                | CaseStatus::Assigned
                | CaseStatus::Accepted
                | CaseStatus::Scheduled
        )
    }

    /// Whether the lifecycle allows going from `self` to `to`.
    pub fn can_become(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        match (self, to) {
            (_, Withdrawn) => self.is_open(),
            (Submitted, Assigned | Unrouted) => true,
            (Unrouted, Assigned) => true,
            // Reassignment and escalation land in Assigned again.
            (Assigned | Accepted | Scheduled | Failed, Assigned) => true,
            (Assigned, Accepted) => true,
            (Accepted | Scheduled, Scheduled) => true,
            (Accepted | Scheduled, Resolved | Failed) => true,
            (Resolved | Failed, Closed) => true,
            (Assigned | Accepted | Scheduled | Unrouted, Closed) => true,
            _ => false,
        }
    }

    /// The Fluent message id of the status label.
    pub fn message_id(self) -> String {
        format!("status-{}", self.code())
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A case number as read aloud: county code, year, sequence
/// (`620722-2026-000123`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// Builds the number for the `seq`-th case of `year` in `county`.
    pub fn new(county: &RegionCode, year: i32, seq: i64) -> Self {
        Self(format!("{}-{year:04}-{seq:06}", county.county()))
    }

    /// Parses a number typed by a person: dashes may be spaces, and the
    /// sequence may lack its leading zeros.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let parts: Vec<&str> = s
            .trim()
            .split(['-', ' ', '－', '—'])
            .filter(|p| !p.is_empty())
            .collect();
        let bad = || {
            DomainError::new(
                "case_number",
                format!("'{s}' is not a case number like 620722-2026-000123"),
            )
        };
        let [county, year, seq] = parts[..] else {
            return Err(bad());
        };
        let county = RegionCode::parse(county).map_err(|_| bad())?;
        if county.as_str().len() != 6 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if !(2000..=9999).contains(&year) || !(1..=999_999_999).contains(&seq) {
            return Err(bad());
        }
        Ok(Self::new(&county, year, seq))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(c: CaseNumber) -> Self {
        c.0
    }
}

/// How a finished mediation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Agreement reached (调解成功).
    Agreement,
    /// Referred to arbitration (仲裁).
    Arbitration,
    /// Referred to litigation (诉讼).
    Litigation,
    /// Withdrawn by the resident.
    Withdrawn,
    /// Closed by an admin for another reason.
    AdminClosed,
}

impl Outcome {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Agreement => "agreement",
            Outcome::Arbitration => "arbitration",
            Outcome::Litigation => "litigation",
            Outcome::Withdrawn => "withdrawn",
            Outcome::AdminClosed => "admin_closed",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "agreement" => Ok(Outcome::Agreement),
            "arbitration" => Ok(Outcome::Arbitration),
            "litigation" => Ok(Outcome::Litigation),
            "withdrawn" => Ok(Outcome::Withdrawn),
            "admin_closed" => Ok(Outcome::AdminClosed),
            _ => Err(DomainError::new(
                "outcome",
                "expected agreement, arbitration, litigation, withdrawn or admin_closed",
            )),
        }
    }
}

/// Whether a mediated agreement was carried out (履行).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfilment {
    /// Carried out in full.
    Full,
    /// Partly carried out.
    Partial,
    /// Not carried out.
    None,
}

impl Fulfilment {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Fulfilment::Full => "full",
            Fulfilment::Partial => "partial",
            Fulfilment::None => "none",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.trim() {
            "full" => Ok(Fulfilment::Full),
            "partial" => Ok(Fulfilment::Partial),
            "none" => Ok(Fulfilment::None),
            _ => Err(DomainError::new(
                "fulfilment",
                "expected full, partial or none",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_are_county_year_and_six_digit_sequence() {
        let c = RegionCode::parse("620722100201").unwrap();
        assert_eq!(
            CaseNumber::new(&c, 2026, 123).as_str(),
            "620722-2026-000123"
        );
    }

    #[test]
    fn a_number_read_over_the_phone_parses_back() {
        let n = CaseNumber::parse(" 620722 2026 123 ").unwrap();
        assert_eq!(n.as_str(), "620722-2026-000123");
        assert!(CaseNumber::parse("2026-000123").is_err());
        assert!(CaseNumber::parse("620722-26-1").is_err());
    }

    #[test]
    fn withdrawal_is_possible_only_while_open() {
        assert!(CaseStatus::Accepted.can_become(CaseStatus::Withdrawn));
        assert!(!CaseStatus::Resolved.can_become(CaseStatus::Withdrawn));
        assert!(!CaseStatus::Assigned.can_become(CaseStatus::Resolved));
    }
}
