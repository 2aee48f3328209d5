//! The API channel: the workspace's own systems post messages to Switchboard
//! and receive the agents' replies as signed webhooks.
//!
//! # Inbound
//!
//! `POST /webhooks/api/{inbox}` with
//! `X-Switchboard-Timestamp: <unix seconds>` and
//! `X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`
//! (accepted within 5 minutes of our clock), and a JSON body that is one
//! message or `{"messages": [ … ]}`, a batch of them, each:
//!
//! ```json
//! {
//!   "id": "order-812-msg-1",
//!   "contact": {"id": "customer-42", "name": "Ada", "email": "ada@example.com", "phone": "+4420…"},
//!   "text": "Where is my order?"
//! }
//! ```
//!
//! - `id` (required, non-empty string): the caller's message id, unique per
//!   inbox. It is the exactly-once key: posting the same `id` again stores
//!   nothing new.
//! - `contact.id` (required, non-empty): the caller's id for the customer,
//!   which names the conversation; `name`, `email`, `phone`, `username`,
//!   `language` are optional and update the contact.
//! - `text`: a text message. For another kind, give `kind` and that kind's
//!   fields exactly as in the message model's JSON, e.g.
//!   `{"kind": "image", "attachment": {"url": "…", "mime_type": "image/png"}, "caption": "…"}`
//!   or `{"kind": "location", "latitude": 48.85, "longitude": 2.35}`. Notes and
//!   activities cannot be posted.
//! - `reply_to` (optional): the `id` of the message this one answers.
//! - `timestamp_ms` (optional): when it happened, in ms since the epoch; `0`
//!   when absent, meaning "when Switchboard received it".
//!
//! # Outbound
//!
//! An agent's reply is `POST {callback_url}` with the same two signature
//! headers (timestamp = send time), `X-Switchboard-Delivery: <delivery id>` and
//! a JSON body `{"event": "message", "delivery_id", "contact": {"id"},
//! "content": {kind, …}, "text", "reply_to"?, "timestamp_ms"}`. Answer 2xx,
//! optionally with `{"id": "<your id for it>"}`; 5xx, 429 and 408 are retried;
//! any other status fails the message with the body's `error` (or the body's
//! text) shown to the agent.

use super::{mask, required_str, ParseError, SendContext};
use crate::inbound::{InboundEvent, InboundMessage};
use crate::model::{Contact, Content, Direction};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::{hmac_sha256, Verified};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiSettings {
    pub secret: String,
    pub callback_url: String,
}

impl ApiSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        let callback_url = required_str(&value, "callback_url")?;
        let scheme_ok = callback_url.starts_with("https://") || callback_url.starts_with("http://");
        if !scheme_ok
            || callback_url.len() < "http://x".len()
            || callback_url.contains(char::is_whitespace)
        {
            return Err("settings.callback_url must be an http(s) URL".into());
        }
        Ok(ApiSettings {
            secret: required_str(&value, "secret")?,
            callback_url,
        })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "callback_url": self.callback_url,
            "secret": mask(&self.secret),
        })
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Body {
    Batch { messages: Vec<Value> },
    One(Value),
}

#[derive(Deserialize)]
struct ApiContact {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    username: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct ApiMessage {
    id: String,
    contact: ApiContact,
    reply_to: Option<String>,
    #[serde(default)]
    timestamp_ms: i64,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// Normalizes a verified API channel body (see the module docs).
pub fn normalize(
    _settings: &ApiSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    let parsed: Body = serde_json::from_slice(body.body())
        .map_err(|e| ParseError::new(format!("not valid JSON: {e}")))?;
    let items = match parsed {
        Body::Batch { messages } => messages,
        Body::One(v) => vec![v],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(n, v)| {
            one(v).map_err(|e| {
                if n == 0 {
                    e
                } else {
                    ParseError::new(format!("messages[{n}]: {}", e.0))
                }
            })
        })
        .collect()
}

fn one(v: Value) -> Result<InboundEvent, ParseError> {
    if !v.is_object() {
        return Err(ParseError::new("a message must be a JSON object"));
    }
    let m: ApiMessage =
        serde_json::from_value(v).map_err(|e| ParseError::new(format!("bad message: {e}")))?;
    if m.id.trim().is_empty() {
        return Err(ParseError::new("id must be a non-empty string"));
    }
    if m.contact.id.trim().is_empty() {
        return Err(ParseError::new("contact.id must be a non-empty string"));
    }
    let mut rest = m.rest;
    if !rest.contains_key("kind") {
        if !rest.contains_key("text") {
            return Err(ParseError::new(
                "a message needs text, or a kind and its fields",
            ));
        }
        rest.insert("kind".into(), Value::from("text"));
    }
    let content: Content = serde_json::from_value(Value::Object(rest))
        .map_err(|e| ParseError::new(format!("bad content: {e}")))?;
    if !content.leaves_switchboard() {
        return Err(ParseError::new(format!(
            "a {} cannot be posted to the API channel",
            content.kind()
        )));
    }
    if let Content::Text { text } = &content {
        if text.is_empty() {
            return Err(ParseError::new("text must not be empty"));
        }
    }
    let non_empty = |s: Option<String>| s.filter(|x| !x.trim().is_empty());
    let contact = Contact {
        external_id: m.contact.id,
        name: non_empty(m.contact.name),
        username: non_empty(m.contact.username),
        language: non_empty(m.contact.language),
        phone: non_empty(m.contact.phone),
        email: non_empty(m.contact.email),
        notes: None,
    };
    Ok(InboundEvent::Message(InboundMessage {
        contact,
        platform_id: m.id,
        direction: Direction::Inbound,
        content,
        reply_to: non_empty(m.reply_to),
        timestamp_ms: m.timestamp_ms.max(0),
    }))
}

/// The header that names a callback delivery.
pub const DELIVERY_HEADER: &str = "x-switchboard-delivery";

/// The signed callback that delivers an agent's reply to the workspace.
pub fn build_send(
    settings: &ApiSettings,
    ctx: &SendContext<'_>,
    contact: &Contact,
    content: &Content,
    reply_to: Option<&str>,
) -> Result<OutboundRequest, String> {
    let content_json = serde_json::to_value(content).map_err(|e| e.to_string())?;
    let contact_json = serde_json::json!({ "id": contact.external_id });
    // The delivery id names the reply, stable across retries, so the
    // receiver can drop a repeat; without a key, one unique to this contact,
    // content and moment.
    let seed = match ctx.message_key {
        Some(key) => key.as_bytes().to_vec(),
        None => serde_json::to_vec(&(&contact.external_id, &content_json, reply_to, ctx.now_ms))
            .unwrap_or_default(),
    };
    let digest = hmac_sha256(b"switchboard-delivery", &[&seed]);
    let delivery_id = format!("dlv_{}", hex::encode(digest.get(..16).unwrap_or(&digest)));
    let mut body = serde_json::json!({
        "event": "message",
        "delivery_id": delivery_id,
        "contact": contact_json,
        "content": content_json,
        "text": content.text(),
        "timestamp_ms": ctx.now_ms,
    });
    if let (Some(r), Some(obj)) = (reply_to, body.as_object_mut()) {
        obj.insert("reply_to".into(), Value::from(r));
    }
    let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let ts = ctx.now_ms.div_euclid(1000);
    Ok(OutboundRequest {
        method: "POST",
        url: settings.callback_url.clone(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-switchboard-timestamp".into(), ts.to_string()),
            (
                "x-switchboard-signature".into(),
                crate::verify::sign_api(&settings.secret, ts, &bytes),
            ),
            (DELIVERY_HEADER.into(), delivery_id),
        ],
        body: bytes,
    })
}

/// Reads the callback's answer. On 2xx the platform id is the answer's `id`
/// (or `message_id`) when it gives one; otherwise `delivery_id` (from the
/// request's [`DELIVERY_HEADER`]) when known, else one derived from the answer.
pub fn classify_with(delivery_id: Option<&str>, status: u16, body: &[u8]) -> SendOutcome {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    if (200..300).contains(&status) {
        let given = ["id", "message_id"].iter().find_map(|k| match v.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        let platform_id = given
            .or_else(|| delivery_id.map(str::to_string))
            .unwrap_or_else(|| {
                let d = hmac_sha256(b"switchboard-answer", &[body]);
                format!("ack_{}", hex::encode(d.get(..16).unwrap_or(&d)))
            });
        return SendOutcome::Sent { platform_id };
    }
    let detail = match v.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::from_utf8_lossy(body).chars().take(300).collect(),
    };
    crate::outbound::refusal(status, detail.trim(), crate::outbound::is_transient(status))
}

/// [`classify_with`] without the request at hand.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    classify_with(None, status, body)
}
