//! Secrets at rest: platform secrets (app secrets, page and access tokens,
//! bot tokens, API-channel secrets) are stored sealed with AES-256-GCM, so a
//! dump of the database reveals no usable token.
//!
//! A sealed value is `sealed:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`.
//! The key id names the key that sealed it, so keys can be rotated: the
//! worker opens with whichever configured key matches and seals with the
//! current one. The row's id is bound in as associated data, so a sealed
//! value copied onto another row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

const PREFIX: &str = "sealed:v1:";

/// A 256-bit sealing key and its id (the first 8 hex digits of its SHA-256).
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key itself.
        write!(f, "SealingKey({})", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// The configured key is not 64 hex digits.
    BadKey,
    /// The value names a key that is not configured.
    UnknownKey(String),
    /// Not a sealed value of this version, or damaged.
    Malformed,
    /// Wrong key, wrong row, or tampered with.
    Rejected,
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SealError::BadKey => write!(f, "the sealing key must be 64 hex digits (32 bytes)"),
            SealError::UnknownKey(id) => write!(f, "sealed with key {id}, which is not configured"),
            SealError::Malformed => write!(f, "not a sealed value"),
            SealError::Rejected => write!(f, "the sealed value does not open with its key"),
        }
    }
}

impl SealingKey {
    /// From 64 hex digits (what `openssl rand -hex 32` prints).
    pub fn from_hex(hex_key: &str) -> Result<SealingKey, SealError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        let id = hex::encode(Sha256::digest(&bytes))
            .chars()
            .take(8)
            .collect();
        Ok(SealingKey { id, cipher })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` for the row `aad`. `nonce` must be fresh random
    /// bytes for every call (the caller has the platform's randomness).
    pub fn seal(&self, aad: &str, plaintext: &str, nonce: [u8; 12]) -> String {
        let sealed = self.cipher.encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: aad.as_bytes(),
            },
        );
        // AES-GCM encryption of an in-memory buffer cannot fail for sizes
        // below 64 GiB; an empty body would only ever read as Malformed.
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed.unwrap_or_default());
        format!("{PREFIX}{}:{}", self.id, B64.encode(out))
    }
}

/// Whether `value` is sealed (otherwise it is a row from before sealing).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The id of the key that sealed `value`.
pub fn key_id(value: &str) -> Option<&str> {
    value.strip_prefix(PREFIX)?.split(':').next()
}

/// Opens `value` sealed for the row `aad` with whichever of `keys` sealed it.
pub fn open(keys: &[SealingKey], aad: &str, value: &str) -> Result<String, SealError> {
    let rest = value.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
    let (id, body) = rest.split_once(':').ok_or(SealError::Malformed)?;
    let key = keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| SealError::UnknownKey(id.to_string()))?;
    let bytes = B64.decode(body).map_err(|_| SealError::Malformed)?;
    if bytes.len() < 12 + 16 {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let plain = key
        .cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SealError::Rejected)?;
    String::from_utf8(plain).map_err(|_| SealError::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn seals_and_opens_and_hides_the_plaintext() {
        let k = SealingKey::from_hex(K1).unwrap();
        let sealed = k.seal("in_1", r#"{"app_secret":"s3cr3t-value"}"#, [7; 12]);
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(key_id(&sealed), Some(k.id()));
        assert_eq!(
            open(&[k], "in_1", &sealed).unwrap(),
            r#"{"app_secret":"s3cr3t-value"}"#
        );
    }

    #[test]
    fn another_row_or_a_tampered_value_does_not_open() {
        let k = SealingKey::from_hex(K1).unwrap();
        let sealed = k.seal("in_1", "token", [1; 12]);
        assert_eq!(
            open(std::slice::from_ref(&k), "in_2", &sealed),
            Err(SealError::Rejected)
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(open(&[k], "in_1", &tampered).is_err());
    }

    #[test]
    fn rotation_opens_with_the_key_that_sealed() {
        let old = SealingKey::from_hex(K1).unwrap();
        let new = SealingKey::from_hex(K2).unwrap();
        let sealed_old = old.seal("in_1", "a", [2; 12]);
        let sealed_new = new.seal("in_1", "b", [3; 12]);
        let keys = [new.clone(), old.clone()];
        assert_eq!(open(&keys, "in_1", &sealed_old).unwrap(), "a");
        assert_eq!(open(&keys, "in_1", &sealed_new).unwrap(), "b");
        assert_eq!(
            open(&[new], "in_1", &sealed_old),
            Err(SealError::UnknownKey(old.id().to_string()))
        );
    }

    #[test]
    fn bad_keys_and_garbage_are_errors_not_panics() {
        assert_eq!(SealingKey::from_hex("abc").unwrap_err(), SealError::BadKey);
        assert_eq!(
            SealingKey::from_hex(&"0".repeat(62)).unwrap_err(),
            SealError::BadKey
        );
        let k = SealingKey::from_hex(K1).unwrap();
        for junk in [
            "",
            "sealed:v1:",
            "sealed:v1:x",
            "sealed:v1:abc:!!!",
            "{\"a\":1}",
        ] {
            assert!(
                open(std::slice::from_ref(&k), "in_1", junk).is_err(),
                "{junk}"
            );
        }
        let short = format!("sealed:v1:{}:{}", k.id(), B64.encode([0u8; 10]));
        assert_eq!(open(&[k], "in_1", &short), Err(SealError::Malformed));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = SealingKey::from_hex(K1).unwrap();
        assert!(!format!("{k:?}").contains("0001020304"));
    }
}
