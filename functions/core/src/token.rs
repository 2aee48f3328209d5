//! Session tokens: `v1.<claims>.<mac>`, both parts base64url, the MAC an
//! HMAC-SHA256 of `v1.<claims>` under the deployment's session secret.
//!
//! A token carries the agent's `token_version`; logout, a password change or
//! removing the agent bumps the stored version, which revokes every token
//! issued before. The clock is passed in (reading it inside verification is
//! what panics on wasm32).

use crate::verify::{constant_time_eq, hmac_sha256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The agent id (`ag_…`) or, for a visitor token, the conversation id.
    pub sub: String,
    /// The workspace the token is walled into.
    pub ws: String,
    /// `owner`, `admin`, `agent` or `visitor`.
    pub role: String,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// The subject's token version when the token was issued.
    pub ver: i64,
    /// The session this token belongs to (`se_…`); logout revokes it.
    #[serde(default)]
    pub sid: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

impl TokenError {
    pub fn reason(self) -> &'static str {
        match self {
            TokenError::Malformed => "token is malformed",
            TokenError::BadSignature => "token signature is invalid",
            TokenError::Expired => "token has expired; log in again",
        }
    }
}

const PREFIX: &str = "v1.";

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let head = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
    let mac = hmac_sha256(secret, &[head.as_bytes()]);
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(mac))
}

pub fn verify(secret: &[u8], token: &str, now_secs: i64) -> Result<Claims, TokenError> {
    let (head, mac_b64) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let claims_b64 = head.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let mac = URL_SAFE_NO_PAD
        .decode(mac_b64)
        .map_err(|_| TokenError::Malformed)?;
    let expected = hmac_sha256(secret, &[head.as_bytes()]);
    if secret.is_empty() || !constant_time_eq(&mac, &expected) {
        return Err(TokenError::BadSignature);
    }
    let json = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now_secs {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// The hex SHA-256 of a bearer secret (an invitation token, an API key):
/// what is stored instead of the secret, so a leaked table grants nothing.
pub fn secret_digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            sub: "ag_1".into(),
            ws: "ws_1".into(),
            role: "owner".into(),
            exp: 2_000,
            ver: 3,
            sid: "se_1".into(),
        }
    }

    #[test]
    fn round_trip() {
        let t = sign(b"secret", &claims());
        assert_eq!(verify(b"secret", &t, 1_000).unwrap(), claims());
    }

    #[test]
    fn refuses_expired_tampered_and_foreign() {
        let t = sign(b"secret", &claims());
        assert_eq!(verify(b"secret", &t, 2_000), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &t, 1_000), Err(TokenError::BadSignature));
        // Swap in claims for another workspace, keep the old MAC.
        let mut forged = claims();
        forged.ws = "ws_2".into();
        let forged_t = sign(b"secret", &forged);
        let (forged_head, _) = forged_t.rsplit_once('.').unwrap();
        let (_, mac) = t.rsplit_once('.').unwrap();
        assert_eq!(
            verify(b"secret", &format!("{forged_head}.{mac}"), 1_000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(b"secret", "garbage", 1_000),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify(b"secret", "v1.a.AAAA", 1_000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(b"", &sign(b"", &claims()), 1_000),
            Err(TokenError::BadSignature)
        );
    }
}
