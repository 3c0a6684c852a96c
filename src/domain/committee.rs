//! Mediation committees and their kinds.

use super::{Category, DomainError, GeoPoint, RegionCode};
use serde::{Deserialize, Serialize};

/// Database id of a committee.
pub type CommitteeId = i64;

/// What sort of mediation body a committee is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitteeKind {
    /// 村/社区人民调解委员会
    Village,
    /// 乡镇/街道人民调解委员会
    Township,
    /// 县级矛盾纠纷调处化解中心
    County,
    /// 行业性专业性人民调解委员会
    Industry,
    /// 法院诉前调解 / 特邀调解
    Court,
}

impl CommitteeKind {
    /// Every kind.
    pub const ALL: [CommitteeKind; 5] = [
        CommitteeKind::Village,
        CommitteeKind::Township,
        CommitteeKind::County,
        CommitteeKind::Industry,
        CommitteeKind::Court,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            CommitteeKind::Village => "village",
            CommitteeKind::Township => "township",
            CommitteeKind::County => "county",
            CommitteeKind::Industry => "industry",
            CommitteeKind::Court => "court",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.code() == s)
            .ok_or_else(|| {
                DomainError::new(
                    "kind",
                    format!("unknown committee kind '{s}'; expected village, township, county, industry or court"),
                )
            })
    }

    /// The next rung of the escalation ladder, if there is one.
    pub fn next_level(self) -> Option<CommitteeKind> {
        match self {
            CommitteeKind::Village => Some(CommitteeKind::Township),
            CommitteeKind::Township | CommitteeKind::Industry | CommitteeKind::Court => {
                Some(CommitteeKind::County)
            }
            CommitteeKind::County => None,
        }
    }
}

impl std::fmt::Display for CommitteeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A mediation committee as routing and the API see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Committee {
    /// Database id.
    pub id: CommitteeId,
    /// Stable external code used by import files and rules (`620722-HS`).
    pub code: String,
    /// Full name (`洪水镇人民调解委员会`).
    pub name: String,
    /// Its kind.
    pub kind: CommitteeKind,
    /// For industry committees, the categories they specialise in.
    pub specialties: Vec<Category>,
    /// The region it serves.
    pub region_code: RegionCode,
    /// Where it sits.
    pub location: GeoPoint,
    /// Street address for residents.
    pub address: String,
    /// Office phone for residents.
    pub phone: String,
    /// How many open cases it can hold at once.
    pub capacity: i64,
    /// Whether it takes cases.
    pub active: bool,
    /// Whether it is illustrative demo data.
    pub illustrative: bool,
}

/// Checks the parts of a committee that do not need the database.
pub fn validate_committee_fields(
    code: &str,
    name: &str,
    kind: CommitteeKind,
    specialties: &[Category],
    capacity: i64,
) -> Result<(), DomainError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 || code.chars().any(char::is_whitespace) {
        return Err(DomainError::new(
            "code",
            "committee code must be 1 to 64 characters without spaces",
        ));
    }
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(DomainError::new("name", "name must be 1 to 200 characters"));
    }
    if kind != CommitteeKind::Industry && !specialties.is_empty() {
        return Err(DomainError::new(
            "specialties",
            "only industry committees have specialties",
        ));
    }
    if kind == CommitteeKind::Industry && specialties.is_empty() {
        return Err(DomainError::new(
            "specialties",
            "an industry committee needs at least one specialty",
        ));
    }
    if !(0..=1_000_000).contains(&capacity) {
        return Err(DomainError::new(
            "capacity",
            "capacity must be between 0 and 1000000",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_climbs_to_the_county_centre_and_stops() {
        assert_eq!(
            CommitteeKind::Village.next_level(),
            Some(CommitteeKind::Township)
        );
        assert_eq!(
            CommitteeKind::Township.next_level(),
            Some(CommitteeKind::County)
        );
        assert_eq!(CommitteeKind::County.next_level(), None);
    }

    #[test]
    fn specialties_belong_to_industry_committees_only() {
        let e = validate_committee_fields("x", "n", CommitteeKind::Village, &[Category::Labor], 5);
        assert_eq!(e.unwrap_err().field, "specialties");
        let e = validate_committee_fields("x", "n", CommitteeKind::Industry, &[], 5);
        assert_eq!(e.unwrap_err().field, "specialties");
    }
}
