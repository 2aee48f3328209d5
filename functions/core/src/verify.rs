//! Webhook verification: the only way to get a [`Verified`] body.
//!
//! Every check runs on the raw bytes the platform sent, in constant time,
//! before a byte is parsed. Channel parsers take a `Verified`, so code that
//! would parse an unverified body does not compile.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// A webhook body whose signature has been checked. Only this module can
/// make one.
#[derive(Debug, Clone, Copy)]
pub struct Verified<'a> {
    body: &'a [u8],
}

impl<'a> Verified<'a> {
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// For tests and fuzzing of the parsers only.
    #[cfg(any(test, feature = "test-util"))]
    pub fn assume_verified_for_tests(body: &'a [u8]) -> Self {
        Verified { body }
    }
}

/// Why a signature was refused. The client only ever learns "401"; the
/// variant is for our logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    MissingSignature,
    MalformedSignature,
    BadSignature,
    /// The API channel's timestamp is outside the tolerance (replay guard).
    StaleTimestamp,
}

impl VerifyError {
    pub fn reason(self) -> &'static str {
        match self {
            VerifyError::MissingSignature => "signature header missing",
            VerifyError::MalformedSignature => "signature header malformed",
            VerifyError::BadSignature => "signature does not match",
            VerifyError::StaleTimestamp => "timestamp outside the 5-minute tolerance",
        }
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[&[u8]]) -> [u8; 32] {
    // new_from_slice accepts keys of any length for HMAC.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for d in data {
        mac.update(d);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Meta (Messenger, Instagram, WhatsApp): `X-Hub-Signature-256:
/// sha256=<hex HMAC-SHA256(app secret, raw body)>`. Meta signs the escaped
/// bytes it sends, so the body must be the raw bytes, never re-serialized.
pub fn verify_meta<'a>(
    app_secret: &str,
    header: Option<&str>,
    body: &'a [u8],
) -> Result<Verified<'a>, VerifyError> {
    let header = header.ok_or(VerifyError::MissingSignature)?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature)?;
    let given = hex::decode(hex_sig).map_err(|_| VerifyError::MalformedSignature)?;
    let expected = hmac_sha256(app_secret.as_bytes(), &[body]);
    if app_secret.is_empty() || !constant_time_eq(&given, &expected) {
        return Err(VerifyError::BadSignature);
    }
    Ok(Verified { body })
}

/// The header value Meta would send for `body`.
pub fn sign_meta(app_secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(app_secret.as_bytes(), &[body]))
    )
}

/// Telegram: `X-Telegram-Bot-Api-Secret-Token` equals the inbox's secret
/// (set with `setWebhook`'s `secret_token`). The bot token never appears in
/// the URL.
pub fn verify_telegram<'a>(
    secret_token: &str,
    header: Option<&str>,
    body: &'a [u8],
) -> Result<Verified<'a>, VerifyError> {
    let given = header.ok_or(VerifyError::MissingSignature)?;
    if secret_token.is_empty() || !constant_time_eq(given.as_bytes(), secret_token.as_bytes()) {
        return Err(VerifyError::BadSignature);
    }
    Ok(Verified { body })
}

/// How far the API channel's timestamp may be from our clock.
pub const API_TOLERANCE_SECS: i64 = 300;

/// The API channel: `X-Switchboard-Timestamp: <unix seconds>` and
/// `X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`,
/// accepted within [`API_TOLERANCE_SECS`] of `now_secs` so a captured request
/// cannot be replayed later.
pub fn verify_api<'a>(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &'a [u8],
    now_secs: i64,
) -> Result<Verified<'a>, VerifyError> {
    let (timestamp, signature) = match (timestamp, signature) {
        (Some(t), Some(s)) => (t.trim(), s.trim()),
        _ => return Err(VerifyError::MissingSignature),
    };
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::MalformedSignature)?;
    let hex_sig = signature
        .strip_prefix("sha256=")
        .ok_or(VerifyError::MalformedSignature)?;
    let given = hex::decode(hex_sig).map_err(|_| VerifyError::MalformedSignature)?;
    let expected = hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
    if secret.is_empty() || !constant_time_eq(&given, &expected) {
        return Err(VerifyError::BadSignature);
    }
    if (now_secs - ts).abs() > API_TOLERANCE_SECS {
        return Err(VerifyError::StaleTimestamp);
    }
    Ok(Verified { body })
}

/// The signature header value for the API channel (also used for the
/// callbacks Switchboard sends to the workspace's own systems).
pub fn sign_api(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[ts.as_bytes(), b".", body]))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_accepts_its_own_signature_and_nothing_else() {
        let body = br#"{"object":"page","entry":[{"x":"\u00e9"}]}"#;
        let sig = sign_meta("s3cret", body);
        assert!(verify_meta("s3cret", Some(&sig), body).is_ok());
        assert_eq!(
            verify_meta("other", Some(&sig), body).unwrap_err(),
            VerifyError::BadSignature
        );
        let mut tampered = body.to_vec();
        tampered[3] ^= 1;
        assert!(verify_meta("s3cret", Some(&sig), &tampered).is_err());
        assert_eq!(
            verify_meta("s3cret", None, body).unwrap_err(),
            VerifyError::MissingSignature
        );
        assert_eq!(
            verify_meta("s3cret", Some("sha1=abc"), body).unwrap_err(),
            VerifyError::MalformedSignature
        );
        assert_eq!(
            verify_meta("s3cret", Some("sha256=zz"), body).unwrap_err(),
            VerifyError::MalformedSignature
        );
        // An empty secret never verifies, even against its own HMAC.
        let empty = sign_meta("", body);
        assert!(verify_meta("", Some(&empty), body).is_err());
    }

    #[test]
    fn meta_known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")
        let sig = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
        assert!(verify_meta(
            "key",
            Some(sig),
            b"The quick brown fox jumps over the lazy dog"
        )
        .is_ok());
    }

    #[test]
    fn telegram_compares_the_secret() {
        assert!(verify_telegram("abc", Some("abc"), b"{}").is_ok());
        assert!(verify_telegram("abc", Some("abd"), b"{}").is_err());
        assert!(verify_telegram("abc", Some("ab"), b"{}").is_err());
        assert!(verify_telegram("abc", None, b"{}").is_err());
        assert!(verify_telegram("", Some(""), b"{}").is_err());
    }

    #[test]
    fn api_checks_signature_and_freshness() {
        let body = br#"{"text":"hi"}"#;
        let now = 1_800_000_000;
        let sig = sign_api("k", now, body);
        let ts = now.to_string();
        assert!(verify_api("k", Some(&ts), Some(&sig), body, now + 299).is_ok());
        assert_eq!(
            verify_api("k", Some(&ts), Some(&sig), body, now + 301).unwrap_err(),
            VerifyError::StaleTimestamp
        );
        assert_eq!(
            verify_api("k", Some(&ts), Some(&sig), body, now - 301).unwrap_err(),
            VerifyError::StaleTimestamp
        );
        // The timestamp is covered by the signature.
        let later = (now + 10).to_string();
        assert_eq!(
            verify_api("k", Some(&later), Some(&sig), body, now).unwrap_err(),
            VerifyError::BadSignature
        );
        assert!(verify_api("k", None, Some(&sig), body, now).is_err());
        assert!(verify_api("k", Some("x"), Some(&sig), body, now).is_err());
    }
}
