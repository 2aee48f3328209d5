//! Translation providers behind one type: each builds its requests and
//! reads its answers; the worker performs the calls (HTTP for
//! LibreTranslate-compatible services, the `AI` binding for Workers AI).

use crate::outbound::{is_transient, OutboundRequest};
use serde::Deserialize;
use serde_json::{json, Value};

/// Workers AI's translation model.
pub const WORKERS_AI_MODEL: &str = "@cf/meta/m2m100-1.2b";

/// A provider, ready to use: the stored settings with the key opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    LibreTranslate {
        url: String,
        api_key: Option<String>,
    },
    WorkersAi,
}

/// A call for the worker to make.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderCall {
    Http(OutboundRequest),
    /// `env.ai("AI").run(model, input)`.
    Ai {
        model: &'static str,
        input: Value,
    },
}

/// A provider's answer: the text, and the source language it detected
/// when asked to (`source: "auto"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub text: String,
    pub detected: Option<String>,
}

/// Why a call did not translate; `retry` when trying later may help
/// (down, rate-limited, timed out), not when refused (bad key, language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub reason: String,
    pub retry: bool,
}

impl ProviderError {
    pub fn retry(reason: impl Into<String>) -> Self {
        ProviderError {
            reason: reason.into(),
            retry: true,
        }
    }

    pub fn refused(reason: impl Into<String>) -> Self {
        ProviderError {
            reason: reason.into(),
            retry: false,
        }
    }
}

#[derive(Deserialize)]
struct LtAnswer {
    #[serde(rename = "translatedText")]
    translated_text: String,
    #[serde(default, rename = "detectedLanguage")]
    detected_language: Option<LtDetected>,
}

#[derive(Deserialize)]
struct LtDetected {
    language: String,
    #[serde(default)]
    confidence: f64,
}

#[derive(Deserialize)]
struct LtError {
    error: String,
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::LibreTranslate { .. } => "libretranslate",
            Provider::WorkersAi => "workers-ai",
        }
    }

    /// Whether it detects the source itself (`source: "auto"`).
    pub fn detects(&self) -> bool {
        matches!(self, Provider::LibreTranslate { .. })
    }

    /// The call that translates `text` from `source` (None: let the
    /// provider detect it, where it can) into `target`.
    pub fn translate(
        &self,
        text: &str,
        source: Option<&str>,
        target: &str,
    ) -> Result<ProviderCall, ProviderError> {
        match self {
            Provider::LibreTranslate { url, api_key } => {
                let mut body = json!({
                    "q": text,
                    "source": source.unwrap_or("auto"),
                    "target": target,
                    "format": "text",
                });
                if let (Some(k), Some(b)) = (api_key, body.as_object_mut()) {
                    b.insert("api_key".into(), Value::from(k.clone()));
                }
                Ok(ProviderCall::Http(post(url, "/translate", &body)))
            }
            Provider::WorkersAi => {
                let source = source.ok_or_else(|| {
                    ProviderError::refused(
                        "the language of the original is not known (Workers AI cannot detect it; set the agent's or the conversation's language)",
                    )
                })?;
                Ok(ProviderCall::Ai {
                    model: WORKERS_AI_MODEL,
                    input: json!({"text": text, "source_lang": source, "target_lang": target}),
                })
            }
        }
    }

    /// Reads a LibreTranslate `/translate` answer.
    pub fn read_http(&self, status: u16, body: &[u8]) -> Result<Translated, ProviderError> {
        if !(200..300).contains(&status) {
            return Err(http_error(status, body));
        }
        let answer: LtAnswer = serde_json::from_slice(body).map_err(|_| {
            ProviderError::retry(
                "the translation service answered something that is not a translation",
            )
        })?;
        Ok(Translated {
            text: answer.translated_text,
            detected: answer
                .detected_language
                .filter(|d| d.confidence > 0.0 || !d.language.is_empty())
                .and_then(|d| super::language::normalize(&d.language)),
        })
    }

    /// Reads Workers AI's `{translated_text}`.
    pub fn read_ai(&self, output: &Value) -> Result<Translated, ProviderError> {
        match output.get("translated_text").and_then(Value::as_str) {
            Some(t) => Ok(Translated {
                text: t.to_string(),
                detected: None,
            }),
            None => Err(ProviderError::retry(
                "Workers AI answered without translated_text",
            )),
        }
    }

    /// The provider's own detection call, where it has one (`POST /detect`).
    pub fn detect(&self, text: &str) -> Option<OutboundRequest> {
        match self {
            Provider::LibreTranslate { url, api_key } => {
                let mut body = json!({"q": text});
                if let (Some(k), Some(b)) = (api_key, body.as_object_mut()) {
                    b.insert("api_key".into(), Value::from(k.clone()));
                }
                Some(post(url, "/detect", &body))
            }
            Provider::WorkersAi => None,
        }
    }

    /// Reads `/detect`'s `[{language, confidence}]`: the most confident.
    pub fn read_detect(&self, status: u16, body: &[u8]) -> Result<Option<String>, ProviderError> {
        if !(200..300).contains(&status) {
            return Err(http_error(status, body));
        }
        let list: Vec<LtDetected> = serde_json::from_slice(body).map_err(|_| {
            ProviderError::retry("the translation service's detection answer is unreadable")
        })?;
        Ok(list
            .into_iter()
            .filter(|d| d.confidence.is_finite())
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
            .and_then(|d| super::language::normalize(&d.language)))
    }
}

fn post(base: &str, path: &str, body: &Value) -> OutboundRequest {
    OutboundRequest {
        method: "POST",
        url: format!("{}{path}", base.trim_end_matches('/')),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// `{"error": "…"}` with 400/403/429/500, as one line for the message.
fn http_error(status: u16, body: &[u8]) -> ProviderError {
    let said = serde_json::from_slice::<LtError>(body)
        .ok()
        .map(|e| one_line(&e.error))
        .unwrap_or_default();
    let what = match status {
        400 => "refused the request",
        401 | 403 => "refused the API key",
        429 => "is rate-limiting",
        _ => "failed",
    };
    let reason = if said.is_empty() {
        format!("the translation service {what} (HTTP {status})")
    } else {
        format!("the translation service {what} (HTTP {status}): {said}")
    };
    if is_transient(status) {
        ProviderError::retry(reason)
    } else {
        ProviderError::refused(reason)
    }
}

fn one_line(s: &str) -> String {
    let line: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt() -> Provider {
        Provider::LibreTranslate {
            url: "http://127.0.0.1:5000/".into(),
            api_key: Some("key-1".into()),
        }
    }

    #[test]
    fn libretranslate_request_shape() {
        let ProviderCall::Http(req) = lt().translate("Hallo", Some("de"), "en").unwrap() else {
            panic!("http expected");
        };
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "http://127.0.0.1:5000/translate");
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body,
            json!({"q": "Hallo", "source": "de", "target": "en", "format": "text", "api_key": "key-1"})
        );
        let ProviderCall::Http(auto) = lt().translate("Hallo", None, "en").unwrap() else {
            panic!("http expected");
        };
        assert_eq!(
            serde_json::from_slice::<Value>(&auto.body).unwrap()["source"],
            "auto"
        );
        let det = lt().detect("Hallo").unwrap();
        assert_eq!(det.url, "http://127.0.0.1:5000/detect");
    }

    #[test]
    fn libretranslate_answers() {
        let p = lt();
        let ok = p
            .read_http(200, br#"{"translatedText":"Hello","detectedLanguage":{"language":"de","confidence":90}}"#)
            .unwrap();
        assert_eq!(
            ok,
            Translated {
                text: "Hello".into(),
                detected: Some("de".into())
            }
        );
        let refused = p
            .read_http(403, br#"{"error":"Invalid API key"}"#)
            .unwrap_err();
        assert!(!refused.retry);
        assert_eq!(
            refused.reason,
            "the translation service refused the API key (HTTP 403): Invalid API key"
        );
        assert!(
            p.read_http(429, br#"{"error":"Slowdown"}"#)
                .unwrap_err()
                .retry
        );
        assert!(p.read_http(500, b"").unwrap_err().retry);
        assert!(
            !p.read_http(400, br#"{"error":"xx is not supported"}"#)
                .unwrap_err()
                .retry
        );
        assert!(p.read_http(200, b"<html>").unwrap_err().retry);
        assert_eq!(
            p.read_detect(
                200,
                br#"[{"language":"fr","confidence":40},{"language":"de","confidence":91}]"#
            )
            .unwrap()
            .as_deref(),
            Some("de")
        );
    }

    #[test]
    fn workers_ai_call_and_answer() {
        let p = Provider::WorkersAi;
        assert_eq!(
            p.translate("Hallo", Some("de"), "en").unwrap(),
            ProviderCall::Ai {
                model: "@cf/meta/m2m100-1.2b",
                input: json!({"text": "Hallo", "source_lang": "de", "target_lang": "en"})
            }
        );
        assert!(!p.translate("Hallo", None, "en").unwrap_err().retry);
        assert!(p.detect("x").is_none());
        assert_eq!(
            p.read_ai(&json!({"translated_text": "Hello"}))
                .unwrap()
                .text,
            "Hello"
        );
        assert!(p.read_ai(&json!({})).is_err());
    }
}
