//! Automatic translation between agents and customers, as plain data: the
//! workspace's choice of provider, the requests a provider takes and how to
//! read its answers ([`provider`]), language detection ([`detect`]), the
//! cache key ([`cache`]) and the daily usage and quota ([`usage`]). The
//! worker performs every call; nothing here does I/O.

pub mod cache;
pub mod config;
pub mod detect;
pub mod language;
pub mod provider;
pub mod usage;

use crate::model::Content;
use serde::{Deserialize, Serialize};

pub use config::{ProviderChoice, TranslationSettings};
pub use provider::{Provider, ProviderCall, ProviderError, Translated};

/// A message's translation, beside its original (`Message.translation`).
///
/// Inbound: `text` is the customer's message in the agents' language
/// (`lang`). Outbound: `text` is what was sent to the customer (in `lang`);
/// the message's own `text` stays what the agent wrote. When it could not be
/// translated, `text` is absent and `error` says why (the original went out
/// or is shown as it is). `pending` while an inbound translation is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translation {
    /// The language of `text` (the target).
    pub lang: String,
    /// The language of the original, as given or detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `libretranslate` or `workers-ai`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Served from the workspace's cache (no provider call).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    /// Why there is no translation (the provider failed, timed out, the
    /// quota is reached, the agent chose to send the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl Translation {
    pub fn done(lang: &str, source: &str, text: String, provider: &str, cached: bool) -> Self {
        Translation {
            lang: lang.to_string(),
            source: Some(source.to_string()),
            text: Some(text),
            provider: Some(provider.to_string()),
            cached,
            error: None,
            pending: false,
        }
    }

    pub fn untranslated(lang: &str, source: Option<&str>, reason: impl Into<String>) -> Self {
        Translation {
            lang: lang.to_string(),
            source: source.map(str::to_string),
            text: None,
            provider: None,
            cached: false,
            error: Some(reason.into()),
            pending: false,
        }
    }
}

/// The text of a message that translation works on: text messages and the
/// captions of media. Notes and activity never leave, so never translated.
pub fn translatable_text(content: &Content) -> Option<&str> {
    let text = match content {
        Content::Text { text } => Some(text.as_str()),
        Content::Image { caption, .. }
        | Content::Video { caption, .. }
        | Content::File { caption, .. } => caption.as_deref(),
        _ => None,
    }?;
    (!text.trim().is_empty()).then_some(text)
}

/// `content` with its translatable text replaced by `text` (what is sent).
pub fn with_text(content: &Content, text: &str) -> Content {
    let mut out = content.clone();
    match &mut out {
        Content::Text { text: t } => *t = text.to_string(),
        Content::Image { caption, .. }
        | Content::Video { caption, .. }
        | Content::File { caption, .. }
            if caption.is_some() =>
        {
            *caption = Some(text.to_string());
        }
        _ => {}
    }
    out
}

/// The most characters one message may send to a provider; longer texts
/// stay untranslated (a provider bills by character).
pub const MAX_CHARS: usize = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_never_translatable() {
        assert_eq!(
            translatable_text(&Content::Note {
                text: "secret".into()
            }),
            None
        );
        assert_eq!(
            translatable_text(&Content::Text {
                text: "Hallo".into()
            }),
            Some("Hallo")
        );
        assert_eq!(
            translatable_text(&Content::Text { text: "  ".into() }),
            None
        );
    }

    #[test]
    fn with_text_replaces_text_and_captions_only() {
        let t = with_text(&Content::Text { text: "a".into() }, "b");
        assert_eq!(t, Content::Text { text: "b".into() });
        let n = with_text(&Content::Note { text: "a".into() }, "b");
        assert_eq!(n, Content::Note { text: "a".into() });
    }

    #[test]
    fn json_shape() {
        let t = Translation::done("en", "de", "Hello".into(), "libretranslate", false);
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"lang": "en", "source": "de", "text": "Hello", "provider": "libretranslate"})
        );
        let u = Translation::untranslated("de", Some("en"), "quota");
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"lang": "de", "source": "en", "error": "quota"})
        );
    }
}
