//! Administrative regions with GB/T 2260-style codes: 6 digits for province,
//! city and county, 9 for a township, 12 for a village.

use super::{DomainError, GeoPoint};
use serde::{Deserialize, Serialize};

/// A validated region code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

/// The administrative level a code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省 (`XX0000`)
    Province,
    /// 地级市 (`XXXX00`)
    City,
    /// 县/区 (other 6-digit codes)
    County,
    /// 乡镇/街道 (9 digits)
    Township,
    /// 村/社区 (12 digits)
    Village,
}

impl RegionLevel {
    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
            RegionLevel::Township => "township",
            RegionLevel::Village => "village",
        }
    }
}

impl RegionCode {
    /// Parses a code of 6, 9 or 12 ASCII digits.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        let ok_len = matches!(s.len(), 6 | 9 | 12);
        if !ok_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new(
                "region_code",
                format!("'{s}' is not a region code; expected 6 (county), 9 (township) or 12 (village) digits"),
            ));
        }
        if s.starts_with("00") {
            return Err(DomainError::new(
                "region_code",
                format!("'{s}' has no province part"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses a prefix used by routing rules: 2 to 12 digits.
    pub fn parse_prefix(s: &str) -> Result<String, DomainError> {
        let s = s.trim();
        if !(2..=12).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new(
                "region_prefix",
                format!("'{s}' is not a region-code prefix; expected 2 to 12 digits"),
            ));
        }
        Ok(s.to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which level this code stands for.
    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            12 => RegionLevel::Village,
            9 => RegionLevel::Township,
            _ if self.0.ends_with("0000") => RegionLevel::Province,
            _ if self.0.ends_with("00") => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The code of the enclosing region, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        match self.level() {
            RegionLevel::Village => Some(Self(self.0[..9].to_owned())),
            RegionLevel::Township => Some(Self(self.0[..6].to_owned())),
            RegionLevel::County => Some(Self(format!("{}00", &self.0[..4]))),
            RegionLevel::City => Some(Self(format!("{}0000", &self.0[..2]))),
            RegionLevel::Province => None,
        }
    }

    /// The 6-digit county part (for a city or province, the code itself).
    pub fn county(&self) -> RegionCode {
        Self(self.0[..6].to_owned())
    }

    /// The 9-digit township part, when the code is at township level or below.
    pub fn township(&self) -> Option<RegionCode> {
        (self.0.len() >= 9).then(|| Self(self.0[..9].to_owned()))
    }

    /// Whether `self` lies inside `other` (or is it).
    pub fn is_within(&self, other: &RegionCode) -> bool {
        match other.level() {
            RegionLevel::Province => self.0[..2] == other.0[..2],
            RegionLevel::City => self.0[..4] == other.0[..4],
            _ => self.0.starts_with(&other.0),
        }
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> Self {
        c.0
    }
}

/// One administrative region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Its code.
    pub code: RegionCode,
    /// Its name (`洪水镇`).
    pub name: String,
    /// The enclosing region, when it is known to the system.
    pub parent_code: Option<RegionCode>,
    /// Approximate centre, used as the case location when a resident picks
    /// the region instead of sharing a location.
    pub centroid: Option<GeoPoint>,
    /// Resident population, when known (for cases per 10,000 residents).
    pub population: Option<i64>,
    /// Whether the entry is illustrative demo data rather than an official one.
    pub illustrative: bool,
}

impl Region {
    /// The region's level, from its code.
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_code_shape() {
        let l = |s: &str| RegionCode::parse(s).unwrap().level();
        assert_eq!(l("620000"), RegionLevel::Province);
        assert_eq!(l("620700"), RegionLevel::City);
        assert_eq!(l("620722"), RegionLevel::County);
        assert_eq!(l("620722100"), RegionLevel::Township);
        assert_eq!(l("620722100201"), RegionLevel::Village);
    }

    #[test]
    fn parents_climb_the_hierarchy() {
        let v = RegionCode::parse("620722100201").unwrap();
        let t = v.parent().unwrap();
        assert_eq!(t.as_str(), "620722100");
        let c = t.parent().unwrap();
        assert_eq!(c.as_str(), "620722");
        assert_eq!(c.parent().unwrap().as_str(), "620700");
        assert_eq!(c.parent().unwrap().parent().unwrap().as_str(), "620000");
        assert!(v.is_within(&RegionCode::parse("620700").unwrap()));
        assert!(!v.is_within(&RegionCode::parse("620723").unwrap()));
    }

    #[test]
    fn malformed_codes_are_rejected_with_the_field_name() {
        for bad in ["", "62072", "6207221", "62o722", "000000"] {
            assert_eq!(
                RegionCode::parse(bad).unwrap_err().field,
                "region_code",
                "{bad}"
            );
        }
    }
}
