//! A workspace's translation settings: which provider, where, its key, the
//! daily quota. Checked here from what an admin sends
//! (`PATCH /api/workspace {"translation": {…}}`); the worker seals the key.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The provider a workspace chose. Off by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "kebab-case")]
pub enum ProviderChoice {
    #[default]
    Off,
    /// A LibreTranslate-compatible service at `url`. `api_key` is the key
    /// as stored (sealed at rest by the worker), never shown.
    Libretranslate {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        api_key: Option<String>,
    },
    /// Cloudflare Workers AI through the `AI` binding.
    WorkersAi,
}

/// What is stored under the workspace settings' `translation` key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TranslationSettings {
    #[serde(flatten)]
    pub provider: ProviderChoice,
    /// Characters a day across the workspace; none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_quota_chars: Option<i64>,
}

impl TranslationSettings {
    pub fn is_on(&self) -> bool {
        self.provider != ProviderChoice::Off
    }

    pub fn provider_name(&self) -> &'static str {
        match self.provider {
            ProviderChoice::Off => "off",
            ProviderChoice::Libretranslate { .. } => "libretranslate",
            ProviderChoice::WorkersAi => "workers-ai",
        }
    }

    /// What clients see: the key only as `api_key_set`.
    pub fn view(&self) -> Value {
        let mut v = serde_json::Map::new();
        v.insert("provider".into(), Value::from(self.provider_name()));
        if let ProviderChoice::Libretranslate { url, api_key } = &self.provider {
            v.insert("url".into(), Value::from(url.clone()));
            v.insert("api_key_set".into(), Value::from(api_key.is_some()));
        }
        if let Some(q) = self.daily_quota_chars {
            v.insert("daily_quota_chars".into(), Value::from(q));
        }
        Value::Object(v)
    }
}

/// The largest quota accepted (a trillion characters).
const MAX_QUOTA: i64 = 1_000_000_000_000;

/// Checks an admin's `translation` object. `current` is what is stored: a
/// LibreTranslate key not sent again is kept (it is write-only, so clients
/// cannot send it back); `"api_key": null` removes it. The api_key in the
/// result is plain text, for the worker to seal.
pub fn parse(input: &Value, current: &TranslationSettings) -> Result<TranslationSettings, String> {
    let obj = input
        .as_object()
        .ok_or("translation must be an object such as {\"provider\": \"off\"}")?;
    for key in obj.keys() {
        if !["provider", "url", "api_key", "daily_quota_chars"].contains(&key.as_str()) {
            return Err(format!(
                "translation.{key} is not a setting (provider, url, api_key, daily_quota_chars)"
            ));
        }
    }
    let provider = obj
        .get("provider")
        .and_then(Value::as_str)
        .ok_or("translation.provider must be \"libretranslate\", \"workers-ai\" or \"off\"")?;
    let daily_quota_chars =
        match obj.get("daily_quota_chars") {
            None => current.daily_quota_chars,
            Some(Value::Null) => None,
            Some(v) => match v.as_i64() {
                Some(n) if (0..=MAX_QUOTA).contains(&n) => Some(n),
                _ => return Err(
                    "translation.daily_quota_chars must be a whole number from 0 to 10^12, or null"
                        .into(),
                ),
            },
        };
    let provider = match provider {
        "off" => ProviderChoice::Off,
        "workers-ai" => ProviderChoice::WorkersAi,
        "libretranslate" => {
            let url = obj
                .get("url")
                .and_then(Value::as_str)
                .ok_or("translation.url is required for libretranslate (e.g. https://translate.example.com)")?;
            let url = check_url(url)?;
            let api_key = match obj.get("api_key") {
                None => match &current.provider {
                    ProviderChoice::Libretranslate { api_key, .. } => api_key.clone(),
                    _ => None,
                },
                Some(Value::Null) => None,
                Some(Value::String(k)) if !k.is_empty() && k.len() <= 500 && !k.chars().any(char::is_control) => {
                    Some(k.clone())
                }
                Some(_) => {
                    return Err(
                        "translation.api_key must be a string of 1 to 500 characters, or null".into(),
                    )
                }
            };
            ProviderChoice::Libretranslate { url, api_key }
        }
        other => {
            return Err(format!(
                "translation.provider {other:?} is not known; use \"libretranslate\", \"workers-ai\" or \"off\""
            ))
        }
    };
    Ok(TranslationSettings {
        provider,
        daily_quota_chars,
    })
}

/// An http(s) URL without credentials, query or fragment; the trailing
/// slash dropped (paths are appended).
fn check_url(url: &str) -> Result<String, String> {
    let bad = || {
        "translation.url must be an http:// or https:// URL such as https://translate.example.com"
            .to_string()
    };
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split('/').next().unwrap_or("");
    if url.len() > 500
        || host.is_empty()
        || host.contains('@')
        || url.contains(['?', '#'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn off_by_default_and_parses_each_provider() {
        let none = TranslationSettings::default();
        assert!(!none.is_on());
        let lt = parse(
            &json!({"provider": "libretranslate", "url": "http://127.0.0.1:5000/", "api_key": "k", "daily_quota_chars": 1000}),
            &none,
        )
        .unwrap();
        assert_eq!(
            lt.provider,
            ProviderChoice::Libretranslate {
                url: "http://127.0.0.1:5000".into(),
                api_key: Some("k".into())
            }
        );
        assert_eq!(lt.daily_quota_chars, Some(1000));
        assert_eq!(
            lt.view(),
            json!({"provider": "libretranslate", "url": "http://127.0.0.1:5000", "api_key_set": true, "daily_quota_chars": 1000})
        );
        // The key is kept when not sent again, removed by null.
        let again = parse(
            &json!({"provider": "libretranslate", "url": "https://t.example"}),
            &lt,
        )
        .unwrap();
        assert!(
            matches!(again.provider, ProviderChoice::Libretranslate { api_key: Some(ref k), .. } if k == "k")
        );
        let cleared = parse(
            &json!({"provider": "libretranslate", "url": "https://t.example", "api_key": null}),
            &lt,
        )
        .unwrap();
        assert_eq!(cleared.view()["api_key_set"], false);
        assert_eq!(
            parse(&json!({"provider": "workers-ai"}), &none)
                .unwrap()
                .provider,
            ProviderChoice::WorkersAi
        );
        assert_eq!(
            parse(&json!({"provider": "off"}), &lt).unwrap().provider,
            ProviderChoice::Off
        );
    }

    #[test]
    fn refuses_bad_settings_with_one_line() {
        let none = TranslationSettings::default();
        for (input, says) in [
            (json!("libretranslate"), "must be an object"),
            (json!({"provider": "google"}), "not known"),
            (json!({}), "translation.provider"),
            (
                json!({"provider": "libretranslate"}),
                "translation.url is required",
            ),
            (
                json!({"provider": "libretranslate", "url": "ftp://x"}),
                "translation.url",
            ),
            (
                json!({"provider": "libretranslate", "url": "https://u:p@x"}),
                "translation.url",
            ),
            (
                json!({"provider": "libretranslate", "url": "https://x?key=1"}),
                "translation.url",
            ),
            (
                json!({"provider": "libretranslate", "url": "https://x", "api_key": 5}),
                "api_key",
            ),
            (
                json!({"provider": "off", "daily_quota_chars": -1}),
                "daily_quota_chars",
            ),
            (
                json!({"provider": "off", "daily_quota_chars": 1.5}),
                "daily_quota_chars",
            ),
            (
                json!({"provider": "off", "model": "x"}),
                "translation.model",
            ),
        ] {
            let err = parse(&input, &none).unwrap_err();
            assert!(err.contains(says), "{input}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn stored_form_round_trips() {
        let s = TranslationSettings {
            provider: ProviderChoice::Libretranslate {
                url: "https://x".into(),
                api_key: Some("sealed".into()),
            },
            daily_quota_chars: Some(5),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["provider"], "libretranslate");
        let back: TranslationSettings = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
        let off: TranslationSettings = serde_json::from_value(json!({"provider": "off"})).unwrap();
        assert!(!off.is_on());
    }
}
