//! Mainland mobile numbers, stored in one normalised form.

use super::DomainError;
use serde::{Deserialize, Serialize};

/// An 11-digit mainland mobile number starting with 1, stored without
/// country code, spaces or dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Accepts `13812345678`, `+86 138-1234-5678`, `0086 138 1234 5678`,
    /// `86-13812345678` and full-width digits.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut digits = String::with_capacity(16);
        for ch in s.trim().chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                '０'..='９' => {
                    let d = ch as u32 - '０' as u32;
                    digits.push(char::from_digit(d, 10).unwrap_or('0'));
                }
                ' ' | '-' | '(' | ')' | '+' | '\u{3000}' | '－' => {}
                _ => return Err(Self::invalid()),
            }
        }
        let national = if digits.len() == 15 && digits.starts_with("0086") {
            &digits[4..]
        } else if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else {
            &digits[..]
        };
        if national.len() == 11 && national.starts_with('1') && national.as_bytes()[1] >= b'3' {
            Ok(Self(national.to_owned()))
        } else {
            Err(Self::invalid())
        }
    }

    fn invalid() -> DomainError {
        DomainError::new(
            "phone",
            "expected an 11-digit mainland mobile number starting with 1",
        )
    }

    /// The normalised 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle four digits hidden (`138****5678`), for
    /// readers who may not see personal data.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_ways_of_writing_a_number_normalise_to_eleven_digits() {
        for s in [
            "13812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "0086 13812345678",
            "8613812345678",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(Phone::parse(s).unwrap().as_str(), "13812345678", "{s}");
        }
    }

    #[test]
    fn landlines_short_numbers_and_letters_are_rejected() {
        for s in [
            "0936-4421234",
            "1381234567",
            "12812345678",
            "138abc45678",
            "",
        ] {
            assert!(Phone::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn masking_hides_the_middle_digits() {
        assert_eq!(Phone::parse("13812345678").unwrap().masked(), "138****5678");
    }
}
