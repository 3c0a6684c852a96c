//! What a `viewer` token sees of personal data.
//!
//! The rule, written once here:
//! - a resident's phone: masked to `138****5678` ([`Phone::masked`]); a value
//!   that is not a valid mobile is hidden entirely;
//! - a resident's description, other party, address, location and the
//!   captions and file ids of attachments: omitted (`null`);
//! - timeline entries keep what happened and when, but not the free-text
//!   reason or details an actor typed;
//! - a mediator's name: the family name and `*` for the rest (`张**`); a
//!   mediator's phone: masked like a resident's;
//! - committee office phones and addresses are public information for
//!   residents and stay visible, except a mobile number entered as a
//!   committee's phone, which is masked like a person's.

use crate::domain::Phone;

/// A phone number as a viewer sees it.
pub fn phone(p: &str) -> Option<String> {
    Phone::parse(p).ok().map(|p| p.masked())
}

/// A person's name as a viewer sees it: the first character, then one `*`
/// for each further character (at least one).
pub fn name(n: &str) -> String {
    let mut chars = n.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_only_their_ends_and_names_their_first_character() {
        assert_eq!(phone("+86 138-1234-5678").as_deref(), Some("138****5678"));
        assert_eq!(phone("0936-123"), None);
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("李"), "李*");
    }
}
