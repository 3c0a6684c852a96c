//! Random secrets (admin tokens, invite codes) and their stored hashes.

use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

/// A fresh random secret of `len` letters and digits from the OS generator.
pub fn random_secret(len: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Hex SHA-256 of a secret: what the database keeps instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Admin token roles.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Cases: read, reassign, escalate, close.
    Operator,
    /// Read-only, personal data masked.
    Viewer,
}

impl Role {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// Creates an admin token: returns the secret (to show once) and stores its hash.
pub async fn create_token(
    storage: &crate::storage::Storage,
    name: &str,
    role: Role,
    now: i64,
    actor: &str,
) -> Result<(i64, String), crate::storage::StorageError> {
    // A prefix makes a leaked token recognisable to secret scanners and people.
    let secret = format!("jf_{}", random_secret(40));
    let mut tx = storage.begin().await?;
    let id = crate::storage::tokens::insert(&mut tx, name, role.code(), &hash_secret(&secret), now)
        .await?;
    crate::storage::audit::record(
        &mut tx,
        now,
        actor,
        "token.create",
        "token",
        &id.to_string(),
        &serde_json::json!({ "name": name, "role": role.code() }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashes_are_hex_sha256() {
        let a = random_secret(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_secret(32));
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_comparison_matches_equality() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
