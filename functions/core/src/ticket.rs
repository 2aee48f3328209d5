//! Socket tickets: short-lived, single-use credentials a browser puts in a
//! WebSocket URL instead of its session or visitor token (a browser cannot
//! set headers on a socket, and URLs end up in proxy logs and history).
//!
//! A ticket is `t1.<claims>.<mac>`, both parts base64url, the MAC an
//! HMAC-SHA256 of `sb-ticket.t1.<claims>` under the session secret: the
//! domain prefix means a ticket is never a valid session token and a
//! session token never a valid ticket. It names who it speaks for (copied
//! from the token it was exchanged for), a random `nonce` and an expiry
//! [`TICKET_TTL_SECS`] after issue. The MAC and expiry are checked here;
//! single use is the caller's part: the workspace's object records each
//! nonce it accepts until the ticket expires (see the worker's
//! `objects/workspace/tickets.rs`).

use crate::token::TokenError;
use crate::verify::{constant_time_eq, hmac_sha256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// How long a ticket may wait between issue and use.
pub const TICKET_TTL_SECS: i64 = 30;

/// Who a ticket speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The agent id, the API key id, or a visitor's contact id.
    pub sub: String,
    /// The workspace it is walled into.
    pub ws: String,
    /// `owner`, `admin`, `agent`, `api_key` or `visitor`.
    pub role: String,
    /// The agent's session, or a visitor's inbox id.
    #[serde(default)]
    pub sid: String,
    /// The agent's token version at issue (0 for API keys and visitors):
    /// redeeming checks it is still current.
    #[serde(default)]
    pub ver: i64,
    /// Random, unique per ticket: what single use is recorded by.
    pub nonce: String,
    /// Expiry, unix seconds.
    pub exp: i64,
}

const PREFIX: &str = "t1.";
const DOMAIN: &[u8] = b"sb-ticket.";

pub fn sign(secret: &[u8], ticket: &Ticket) -> String {
    let json = serde_json::to_vec(ticket).unwrap_or_default();
    let head = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
    let mac = hmac_sha256(secret, &[DOMAIN, head.as_bytes()]);
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// The ticket's claims if its MAC is right and it has not expired. Whether
/// it was used before is not known here.
pub fn verify(secret: &[u8], ticket: &str, now_secs: i64) -> Result<Ticket, TokenError> {
    let (head, mac_b64) = ticket.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let claims_b64 = head.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let mac = URL_SAFE_NO_PAD
        .decode(mac_b64)
        .map_err(|_| TokenError::Malformed)?;
    let expected = hmac_sha256(secret, &[DOMAIN, head.as_bytes()]);
    if secret.is_empty() || !constant_time_eq(&mac, &expected) {
        return Err(TokenError::BadSignature);
    }
    let json = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .map_err(|_| TokenError::Malformed)?;
    let t: Ticket = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    if t.exp <= now_secs {
        return Err(TokenError::Expired);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{self, Claims};

    fn ticket() -> Ticket {
        Ticket {
            sub: "ag_1".into(),
            ws: "ws_1".into(),
            role: "agent".into(),
            sid: "se_1".into(),
            ver: 1,
            nonce: "tk_1".into(),
            exp: 1_030,
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let t = sign(b"secret", &ticket());
        assert_eq!(verify(b"secret", &t, 1_000).unwrap(), ticket());
        assert_eq!(verify(b"secret", &t, 1_030), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &t, 1_000), Err(TokenError::BadSignature));
        assert_eq!(
            verify(b"", &sign(b"", &ticket()), 1_000),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn tickets_and_session_tokens_are_not_interchangeable() {
        let claims = Claims {
            sub: "ag_1".into(),
            ws: "ws_1".into(),
            role: "agent".into(),
            exp: 2_000,
            ver: 1,
            sid: "se_1".into(),
        };
        let session = token::sign(b"secret", &claims);
        assert!(verify(b"secret", &session, 1_000).is_err());
        let t = sign(b"secret", &ticket());
        assert!(token::verify(b"secret", &t, 1_000).is_err());
        // The same claims under the session format's prefix do not verify either.
        let relabelled = t.replacen("t1.", "v1.", 1);
        assert!(token::verify(b"secret", &relabelled, 1_000).is_err());
    }
}
