//! The chat widget on the business's own website.
//!
//! It has no platform and no webhooks: visitors talk to Switchboard
//! directly with a visitor token, and agents' replies reach them live over
//! the same conversation object. What the inbox holds is the identity
//! secret: the business's backend computes
//! `hex(HMAC-SHA256(identity_secret, user_id))` and its page passes both to
//! the widget, so a visitor can claim to be a signed-in customer only with
//! the business's blessing.

use super::mask;
use crate::verify::{constant_time_eq, hmac_sha256};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetSettings {
    /// Secret shared with the business's backend; none means identities
    /// cannot be verified and every visitor is anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
}

impl WidgetSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        let identity_secret = match value.get("identity_secret") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if s.len() >= 16 && s.len() <= 256 => {
                Some(s.clone())
            }
            Some(_) => {
                return Err(
                    "settings.identity_secret must be a string of 16 to 256 characters".into(),
                )
            }
        };
        Ok(WidgetSettings { identity_secret })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "identity_secret": self.identity_secret.as_deref().map(mask),
            "identity_verification": self.identity_secret.is_some(),
        })
    }

    /// True when `user_hash` is the identity secret's HMAC of `user_id`.
    pub fn verify_identity(&self, user_id: &str, user_hash: &str) -> bool {
        let Some(secret) = self.identity_secret.as_deref() else {
            return false;
        };
        let Ok(given) = hex::decode(user_hash.trim()) else {
            return false;
        };
        let expected = hmac_sha256(secret.as_bytes(), &[user_id.as_bytes()]);
        !user_id.is_empty() && constant_time_eq(&given, &expected)
    }
}

/// What the business's backend computes for `user_id` (for docs and tests).
pub fn identity_hash(identity_secret: &str, user_id: &str) -> String {
    hex::encode(hmac_sha256(
        identity_secret.as_bytes(),
        &[user_id.as_bytes()],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WidgetSettings {
        WidgetSettings::from_json(serde_json::json!({"identity_secret": "0123456789abcdef-secret"}))
            .unwrap()
    }

    #[test]
    fn only_the_secrets_hash_verifies_an_identity() {
        let s = settings();
        let good = identity_hash("0123456789abcdef-secret", "user-42");
        assert!(s.verify_identity("user-42", &good));
        assert!(
            !s.verify_identity("user-43", &good),
            "a hash is bound to its user"
        );
        assert!(!s.verify_identity(
            "user-42",
            &identity_hash("another-secret-000000", "user-42")
        ));
        assert!(!s.verify_identity("user-42", "zz"));
        assert!(!s.verify_identity("", &identity_hash("0123456789abcdef-secret", "")));
        let none = WidgetSettings::from_json(serde_json::json!({})).unwrap();
        assert!(
            !none.verify_identity("user-42", &good),
            "no secret, no verified identity"
        );
    }

    #[test]
    fn settings_are_checked_and_masked() {
        assert!(
            WidgetSettings::from_json(serde_json::json!({"identity_secret": "short"})).is_err()
        );
        assert!(WidgetSettings::from_json(serde_json::json!({"identity_secret": 5})).is_err());
        let view = settings().public_view();
        assert_eq!(view["identity_secret"], "…cret");
        assert_eq!(view["identity_verification"], true);
    }
}
