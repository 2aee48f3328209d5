//! The chat widget on the business's own website.
//!
//! It has no platform and no webhooks: visitors talk to Switchboard
//! directly with a visitor token, and agents' replies reach them live over
//! the same conversation object. What the inbox holds is the identity
//! secret (the business's backend computes
//! `hex(HMAC-SHA256(identity_secret, user_id))` and its page passes both to
//! the widget, so a visitor can claim to be a signed-in customer only with
//! the business's blessing), the origins allowed to embed it, how it looks,
//! and when the team is there (business hours).

use super::mask;
use crate::verify::{constant_time_eq, hmac_sha256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    Right,
    Left,
}

/// What the widget asks before the first message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prechat {
    #[default]
    Off,
    Name,
    NameEmail,
}

/// An agent as the widget's header shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCard {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// One weekly opening: `day` (`mon`…`sun`) from `from` to `to` (`HH:MM`,
/// local time; `to` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    pub day: String,
    pub from: String,
    pub to: String,
}

/// The team's weekly schedule in a time zone (an IANA name such as
/// `Europe/Berlin`, or `UTC`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessHours {
    pub time_zone: String,
    pub weekly: Vec<Opening>,
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl BusinessHours {
    /// True when `weekday` (0 = Monday) at `minute` of the local day falls
    /// in one of the openings.
    pub fn is_open(&self, weekday: usize, minute: u32) -> bool {
        self.weekly.iter().any(|o| {
            DAYS.get(weekday) == Some(&o.day.as_str())
                && matches!((hhmm(&o.from), hhmm(&o.to)), (Some(f), Some(t)) if f <= minute && minute < t)
        })
    }
}

/// `HH:MM` → minutes of the day (`24:00` is 1440).
fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetSettings {
    /// Secret shared with the business's backend; none means identities
    /// cannot be verified and every visitor is anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    /// Origins (`https://shop.example`) whose pages may use the widget.
    /// Empty: only pages on localhost (a developer's machine, the demo).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The accent color, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    #[serde(default)]
    pub position: Position,
    /// The launcher's label; the widget's own "Chat with us" when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launcher_text: Option<String>,
    #[serde(default)]
    pub agents: Vec<AgentCard>,
    /// How soon the team usually answers: `minutes`, `hours` or `day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_time: Option<String>,
    #[serde(default)]
    pub prechat: Prechat,
    /// None: always open (as long as an agent is online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHours>,
    /// Shown above the leave-a-message form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_message: Option<String>,
    /// Long-poll only, never a WebSocket (for sites whose visitors sit
    /// behind proxies that break them).
    #[serde(default)]
    pub http_only: bool,
    /// The widget's language (`en`, `zh`); none: the visitor's browser's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

pub const LANGUAGES: [&str; 2] = ["en", "zh"];
const REPLY_TIMES: [&str; 3] = ["minutes", "hours", "day"];

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.get(name).filter(|v| !v.is_null())
}

/// An optional string of 1 to `max` characters (trimmed; empty is none).
fn text(value: &Value, name: &str, max: usize) -> Result<Option<String>, String> {
    match field(value, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.trim().chars().count() <= max => Ok(Some(s.trim().into())),
        Some(_) => Err(format!(
            "settings.{name} must be a string of at most {max} characters"
        )),
    }
}

fn one_of(value: &Value, name: &str, allowed: &[&str]) -> Result<Option<String>, String> {
    match field(value, name) {
        None => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(_) => Err(format!(
            "settings.{name} must be one of {}",
            allowed.join(", ")
        )),
    }
}

/// `https://host[:port]` or `http://…`, lower-cased, without a path: the
/// form a browser sends in `Origin`.
pub fn normalize_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?),
            };
            let ok = !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
            (ok.then_some("v6")?, port)
        }
        None => match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.len() <= 5 && p.parse::<u32>().is_ok_and(|n| n <= 65535)
    });
    (host_ok && port_ok).then_some(s)
}

/// The host of a normalized origin.
fn origin_host(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    if rest.starts_with('[') {
        return rest
            .split_once(']')
            .map_or(rest, |(h, _)| h)
            .trim_start_matches('[');
    }
    rest.split_once(':').map_or(rest, |(h, _)| h)
}

fn is_loopback(origin: &str) -> bool {
    matches!(origin_host(origin), "localhost" | "127.0.0.1" | "::1")
        || origin_host(origin).ends_with(".localhost")
}

fn check_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 512
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

impl WidgetSettings {
    pub fn from_json(value: Value) -> Result<Self, String> {
        let identity_secret = match field(&value, "identity_secret") {
            None => None,
            Some(Value::String(s)) if s.len() >= 16 && s.len() <= 256 => Some(s.clone()),
            Some(_) => {
                return Err(
                    "settings.identity_secret must be a string of 16 to 256 characters".into(),
                )
            }
        };
        let allowed_origins = match field(&value, "allowed_origins") {
            None => Vec::new(),
            Some(Value::Array(list)) if list.len() <= 50 => list
                .iter()
                .map(|o| {
                    o.as_str().and_then(normalize_origin).ok_or_else(|| {
                        format!(
                            "settings.allowed_origins: {o} is not an origin like https://shop.example"
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err("settings.allowed_origins must be a list of at most 50 origins".into())
            }
        };
        let color = match text(&value, "color", 7)? {
            Some(c)
                if c.len() == 7
                    && c.strip_prefix('#')
                        .is_some_and(|d| d.chars().all(|d| d.is_ascii_hexdigit())) =>
            {
                Some(c.to_ascii_lowercase())
            }
            Some(_) => return Err("settings.color must be a hex color like #2563eb".into()),
            None => None,
        };
        let position = match one_of(&value, "position", &["right", "left"])?.as_deref() {
            Some("left") => Position::Left,
            _ => Position::Right,
        };
        let prechat = match one_of(&value, "prechat", &["off", "name", "name_email"])?.as_deref() {
            Some("name") => Prechat::Name,
            Some("name_email") => Prechat::NameEmail,
            _ => Prechat::Off,
        };
        let agents = match field(&value, "agents") {
            None => Vec::new(),
            Some(Value::Array(list)) if list.len() <= 10 => list
                .iter()
                .map(|a| {
                    let name = text(a, "name", 60)
                        .ok()
                        .flatten()
                        .ok_or("settings.agents[].name must be 1 to 60 characters")?;
                    let avatar_url = match text(a, "avatar_url", 512) {
                        Ok(None) => None,
                        Ok(Some(u)) if check_url(&u) => Some(u),
                        _ => return Err("settings.agents[].avatar_url must be an http(s) URL"),
                    };
                    Ok(AgentCard { name, avatar_url })
                })
                .collect::<Result<Vec<_>, &str>>()?,
            Some(_) => return Err("settings.agents must be a list of at most 10 agents".into()),
        };
        let business_hours = match field(&value, "business_hours") {
            None => None,
            Some(b) => Some(business_hours(b)?),
        };
        let http_only = match field(&value, "http_only") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("settings.http_only must be true or false".into()),
        };
        Ok(WidgetSettings {
            identity_secret,
            allowed_origins,
            color,
            greeting: text(&value, "greeting", 200)?,
            position,
            launcher_text: text(&value, "launcher_text", 40)?,
            agents,
            reply_time: one_of(&value, "reply_time", &REPLY_TIMES)?,
            prechat,
            business_hours,
            offline_message: text(&value, "offline_message", 500)?,
            http_only,
            language: one_of(&value, "language", &LANGUAGES)?,
        })
    }

    /// For admins: everything, the identity secret masked.
    pub fn public_view(&self) -> Value {
        let mut view = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = view.as_object_mut() {
            obj.insert(
                "identity_secret".into(),
                self.identity_secret.as_deref().map(mask).into(),
            );
            obj.insert(
                "identity_verification".into(),
                self.identity_secret.is_some().into(),
            );
        }
        view
    }

    /// For the widget on any page (`GET /api/widget/{inbox}/config`): how
    /// it looks and behaves, no secret and no origin list.
    pub fn widget_config(&self) -> Value {
        let mut view = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = view.as_object_mut() {
            obj.remove("identity_secret");
            obj.remove("allowed_origins");
            obj.insert(
                "identity_verification".into(),
                self.identity_secret.is_some().into(),
            );
        }
        view
    }

    /// May a page of `origin` (the browser's `Origin` header) use the
    /// widget? Exact match against the list; an empty list allows only
    /// loopback pages.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let Some(origin) = normalize_origin(origin) else {
            return false;
        };
        if self.allowed_origins.is_empty() {
            return is_loopback(&origin);
        }
        self.allowed_origins.contains(&origin)
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

fn business_hours(b: &Value) -> Result<BusinessHours, String> {
    let time_zone = match text(b, "time_zone", 64) {
        Ok(Some(tz))
            if tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
                && !tz.starts_with('/')
                && !tz.contains("//") =>
        {
            tz
        }
        _ => {
            return Err(
                "settings.business_hours.time_zone must be a time zone like Europe/Berlin".into(),
            )
        }
    };
    let Some(Value::Array(list)) = field(b, "weekly") else {
        return Err("settings.business_hours.weekly must be a list of {day, from, to}".into());
    };
    if list.len() > 28 {
        return Err("settings.business_hours.weekly holds at most 28 ranges".into());
    }
    let weekly = list
        .iter()
        .map(|o| {
            let get = |k| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let (day, from, to) = (get("day"), get("from"), get("to"));
            if !DAYS.contains(&day.as_str()) {
                return Err(format!(
                    "settings.business_hours.weekly[].day must be one of {}",
                    DAYS.join(", ")
                ));
            }
            match (hhmm(&from), hhmm(&to)) {
                (Some(f), Some(t)) if f < t && f < 1440 => Ok(Opening { day, from, to }),
                _ => Err(format!(
                    "settings.business_hours.weekly: {day} {from}-{to} is not a range of HH:MM times"
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BusinessHours { time_zone, weekly })
}

/// What the business's backend computes for `user_id` (for docs and tests).
pub fn identity_hash(identity_secret: &str, user_id: &str) -> String {
    hex::encode(hmac_sha256(
        identity_secret.as_bytes(),
        &[user_id.as_bytes()],
    ))
}

/// Where a visitor is: what their widget reports with each page view and
/// heartbeat (`POST /api/widget/visit`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Visit {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub referrer: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub time_zone: String,
    /// When this page was opened (ms since the epoch).
    #[serde(default)]
    pub page_since: i64,
    /// The last heartbeat (ms since the epoch).
    #[serde(default)]
    pub last_seen: i64,
}

impl Visit {
    /// The page report a widget sent, checked and cut to size: `url` and
    /// `referrer` must be http(s) URLs (or empty for the referrer).
    pub fn from_report(
        url: &str,
        title: &str,
        referrer: &str,
        language: &str,
        time_zone: &str,
    ) -> Result<Visit, String> {
        let cut = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("url must be the page's http(s) URL".into());
        }
        let referrer = if referrer.is_empty() || referrer.starts_with("http") {
            cut(referrer, 2048)
        } else {
            return Err("referrer must be an http(s) URL or empty".into());
        };
        let safe = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '+'))
        };
        if !safe(language) || !safe(time_zone) {
            return Err("language and time_zone must be like en-US and Europe/Berlin".into());
        }
        Ok(Visit {
            url: cut(url, 2048),
            title: cut(title, 300),
            referrer,
            language: cut(language, 35),
            time_zone: cut(time_zone, 64),
            page_since: 0,
            last_seen: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> WidgetSettings {
        WidgetSettings::from_json(json!({"identity_secret": "0123456789abcdef-secret"})).unwrap()
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
        let none = WidgetSettings::from_json(json!({})).unwrap();
        assert!(
            !none.verify_identity("user-42", &good),
            "no secret, no verified identity"
        );
    }

    #[test]
    fn settings_are_checked_and_masked() {
        assert!(WidgetSettings::from_json(json!({"identity_secret": "short"})).is_err());
        assert!(WidgetSettings::from_json(json!({"identity_secret": 5})).is_err());
        let view = settings().public_view();
        assert_eq!(view["identity_secret"], "…cret");
        assert_eq!(view["identity_verification"], true);
    }

    #[test]
    fn bad_settings_get_a_reason() {
        for (bad, says) in [
            (
                json!({"allowed_origins": ["shop.example"]}),
                "allowed_origins",
            ),
            (
                json!({"allowed_origins": ["https://shop.example/path"]}),
                "allowed_origins",
            ),
            (
                json!({"allowed_origins": "https://shop.example"}),
                "allowed_origins",
            ),
            (json!({"color": "red"}), "color"),
            (json!({"color": "#12345g"}), "color"),
            (json!({"position": "top"}), "position"),
            (json!({"prechat": "phone"}), "prechat"),
            (json!({"launcher_text": "x".repeat(41)}), "launcher_text"),
            (json!({"greeting": 7}), "greeting"),
            (json!({"reply_time": "weeks"}), "reply_time"),
            (json!({"language": "fr"}), "language"),
            (json!({"http_only": "yes"}), "http_only"),
            (json!({"agents": [{"name": ""}]}), "agents"),
            (
                json!({"agents": [{"name": "Ann", "avatar_url": "javascript:x"}]}),
                "avatar_url",
            ),
            (
                json!({"business_hours": {"time_zone": "Europe/Berlin"}}),
                "weekly",
            ),
            (
                json!({"business_hours": {"time_zone": "no zone!", "weekly": []}}),
                "time_zone",
            ),
            (
                json!({"business_hours": {"time_zone": "UTC", "weekly": [{"day": "mon", "from": "17:00", "to": "09:00"}]}}),
                "mon 17:00-09:00",
            ),
            (
                json!({"business_hours": {"time_zone": "UTC", "weekly": [{"day": "funday", "from": "09:00", "to": "17:00"}]}}),
                "day",
            ),
        ] {
            let err = WidgetSettings::from_json(bad.clone()).expect_err(&bad.to_string());
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn config_has_no_secret_and_origins_are_walls() {
        let s = WidgetSettings::from_json(json!({
            "identity_secret": "0123456789abcdef-secret",
            "allowed_origins": ["https://Shop.example/", "http://127.0.0.1:4000"],
            "color": "#2563EB", "launcher_text": "Talk to us", "prechat": "name_email",
        }))
        .unwrap();
        let config = s.widget_config().to_string();
        assert!(!config.contains("secret") && !config.contains("cret"));
        assert!(!config.contains("shop.example"));
        assert_eq!(s.widget_config()["color"], "#2563eb");
        assert_eq!(s.widget_config()["prechat"], "name_email");
        assert!(s.origin_allowed("https://shop.example"));
        assert!(s.origin_allowed("http://127.0.0.1:4000"));
        assert!(!s.origin_allowed("http://127.0.0.1:4001"));
        assert!(!s.origin_allowed("https://shop.example.evil.test"));
        assert!(!s.origin_allowed("null"));
        let open = WidgetSettings::from_json(json!({})).unwrap();
        assert!(open.origin_allowed("http://localhost:5173"));
        assert!(open.origin_allowed("http://127.0.0.1:9"));
        assert!(!open.origin_allowed("https://shop.example"));
    }

    #[test]
    fn business_hours_follow_the_week() {
        let s = WidgetSettings::from_json(json!({"business_hours": {"time_zone": "Europe/Berlin",
            "weekly": [{"day": "mon", "from": "09:00", "to": "17:30"}, {"day": "sat", "from": "22:00", "to": "24:00"}]}}))
        .unwrap();
        let hours = s.business_hours.unwrap();
        assert!(hours.is_open(0, 9 * 60));
        assert!(hours.is_open(0, 17 * 60 + 29));
        assert!(!hours.is_open(0, 17 * 60 + 30));
        assert!(!hours.is_open(1, 10 * 60));
        assert!(hours.is_open(5, 23 * 60 + 59));
        assert!(!hours.is_open(9, 10 * 60));
    }

    #[test]
    fn page_reports_are_checked() {
        assert!(
            Visit::from_report("https://shop.example/a", "A", "", "en-US", "Europe/Berlin").is_ok()
        );
        assert!(Visit::from_report("javascript:alert(1)", "", "", "en", "UTC").is_err());
        assert!(Visit::from_report("https://x.test", "", "ftp://y", "en", "UTC").is_err());
        assert!(Visit::from_report("https://x.test", "", "", "en\"", "UTC").is_err());
        let long =
            Visit::from_report("https://x.test", &"t".repeat(1000), "", "en", "UTC").unwrap();
        assert_eq!(long.title.chars().count(), 300);
    }
}
