//! The translation cache's key: a repeat of the same text between the same
//! languages is served without a provider call.

use sha2::{Digest, Sha256};

/// `sha256(text)` in hex, then source and target: `<hex>:<source>:<target>`.
/// The text itself is never part of the key (the key is logged and stored
/// beside usage; the text may be personal).
pub fn key(text: &str, source: &str, target: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("{}:{source}:{target}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_text_and_languages() {
        let a = key("Hallo", "de", "en");
        assert_eq!(a, key("Hallo", "de", "en"));
        assert_ne!(a, key("Hallo!", "de", "en"));
        assert_ne!(a, key("Hallo", "de", "fr"));
        assert_ne!(a, key("Hallo", "auto", "en"));
        assert!(!a.contains("Hallo"));
        assert!(a.ends_with(":de:en"));
    }
}
