//! Identifiers. Each kind has a prefix so a stray id is recognisable in a log.
//!
//! A conversation's id is derived from its inbox and the contact's id on the
//! platform, so every delivery of the same thread reaches the same Durable
//! Object without a lookup. Object names always include the workspace id, so
//! an id from another workspace names a different, empty object.

use sha2::{Digest, Sha256};

/// The conversation id for a contact of an inbox: `cv_` and 20 hex digits.
pub fn conversation_id(inbox_id: &str, contact_external_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(inbox_id.as_bytes());
    h.update([0u8]);
    h.update(contact_external_id.as_bytes());
    let digest = h.finalize();
    let hex = hex::encode(digest);
    format!("cv_{}", hex.get(..20).unwrap_or(&hex))
}

/// The Durable Object name of a conversation: scoped by workspace.
pub fn conversation_object_name(workspace_id: &str, conversation_id: &str) -> String {
    format!("{workspace_id}/{conversation_id}")
}

/// True when `s` looks like an id with `prefix` (`cv_`, `in_`, …): the prefix
/// then 1–64 characters of `[a-z0-9]`. Checked before an id reaches SQL or an
/// object name, so junk gets a 404 instead of a wasted lookup.
pub fn is_id(s: &str, prefix: &str) -> bool {
    match s.strip_prefix(prefix) {
        Some(rest) => {
            !rest.is_empty()
                && rest.len() <= 64
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }
        None => false,
    }
}

/// A new random id with `prefix` from 16 bytes of randomness the caller drew.
pub fn from_random(prefix: &str, random: &[u8; 16]) -> String {
    format!("{prefix}{}", hex::encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_stable_and_distinct() {
        let a = conversation_id("in_1", "psid-1");
        assert_eq!(a, conversation_id("in_1", "psid-1"));
        assert_ne!(a, conversation_id("in_1", "psid-2"));
        assert_ne!(a, conversation_id("in_2", "psid-1"));
        // The separator keeps ("in_1", "2x") and ("in_12", "x") apart.
        assert_ne!(conversation_id("in_1", "2x"), conversation_id("in_12", "x"));
        assert!(is_id(&a, "cv_"));
        assert_eq!(a.len(), 23);
    }

    #[test]
    fn is_id_rejects_junk() {
        assert!(!is_id("cv_", "cv_"));
        assert!(!is_id("cv_ABC", "cv_"));
        assert!(!is_id("cv_../x", "cv_"));
        assert!(!is_id("in_abc", "cv_"));
        assert!(is_id("in_abc123", "in_"));
    }
}
