//! One module per channel: its inbox settings, how its webhooks are verified,
//! how a verified body becomes [`InboundEvent`]s, and how a reply is sent.
//!
//! [`Settings`] is the single entry point the worker uses; it dispatches to
//! the channel modules.

pub mod api;
pub mod instagram;
pub mod messenger;
pub(crate) mod meta;
pub mod setup;
pub mod telegram;
pub mod whatsapp;
pub mod widget;

use crate::inbound::InboundEvent;
use crate::model::{Contact, Content};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::{Verified, VerifyError};
use serde::{Deserialize, Serialize};

/// The channels Switchboard connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Messenger,
    Instagram,
    Whatsapp,
    Telegram,
    Api,
    /// The chat widget on the business's website.
    Widget,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
            Channel::Whatsapp => "whatsapp",
            Channel::Telegram => "telegram",
            Channel::Api => "api",
            Channel::Widget => "widget",
        }
    }

    /// Every channel, in display order.
    pub const ALL: [Channel; 6] = [
        Channel::Messenger,
        Channel::Instagram,
        Channel::Whatsapp,
        Channel::Telegram,
        Channel::Api,
        Channel::Widget,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "messenger" => Some(Channel::Messenger),
            "instagram" => Some(Channel::Instagram),
            "whatsapp" => Some(Channel::Whatsapp),
            "telegram" => Some(Channel::Telegram),
            "api" => Some(Channel::Api),
            "widget" => Some(Channel::Widget),
            _ => None,
        }
    }
}

/// Why a verified body could not be turned into events: a one-line reason
/// the platform (or the API caller) gets back with a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(reason: impl Into<String>) -> Self {
        ParseError(reason.into())
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The request headers a verifier may read, by lower-case name.
pub trait Headers {
    fn get(&self, name: &str) -> Option<String>;
}

impl Headers for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| (*v).to_string())
    }
}

/// An inbox's channel settings, secrets included. Secrets are write-only:
/// [`Settings::public_view`] is what any client ever sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "settings", rename_all = "snake_case")]
pub enum Settings {
    Messenger(messenger::MessengerSettings),
    Instagram(instagram::InstagramSettings),
    Whatsapp(whatsapp::WhatsappSettings),
    Telegram(telegram::TelegramSettings),
    Api(api::ApiSettings),
    Widget(widget::WidgetSettings),
}

impl Settings {
    /// Parses and checks the settings a client sent for `channel`.
    pub fn from_json(channel: Channel, value: serde_json::Value) -> Result<Self, String> {
        match channel {
            Channel::Messenger => {
                messenger::MessengerSettings::from_json(value).map(Settings::Messenger)
            }
            Channel::Instagram => {
                instagram::InstagramSettings::from_json(value).map(Settings::Instagram)
            }
            Channel::Whatsapp => {
                whatsapp::WhatsappSettings::from_json(value).map(Settings::Whatsapp)
            }
            Channel::Telegram => {
                telegram::TelegramSettings::from_json(value).map(Settings::Telegram)
            }
            Channel::Api => api::ApiSettings::from_json(value).map(Settings::Api),
            Channel::Widget => widget::WidgetSettings::from_json(value).map(Settings::Widget),
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            Settings::Messenger(_) => Channel::Messenger,
            Settings::Instagram(_) => Channel::Instagram,
            Settings::Whatsapp(_) => Channel::Whatsapp,
            Settings::Telegram(_) => Channel::Telegram,
            Settings::Api(_) => Channel::Api,
            Settings::Widget(_) => Channel::Widget,
        }
    }

    /// The settings with every secret replaced by its last four characters.
    pub fn public_view(&self) -> serde_json::Value {
        match self {
            Settings::Messenger(s) => s.public_view(),
            Settings::Instagram(s) => s.public_view(),
            Settings::Whatsapp(s) => s.public_view(),
            Settings::Telegram(s) => s.public_view(),
            Settings::Api(s) => s.public_view(),
            Settings::Widget(s) => s.public_view(),
        }
    }

    /// True for channels whose replies reach the customer over our own
    /// sockets (the widget) instead of a platform call.
    pub fn delivers_live(&self) -> bool {
        matches!(self, Settings::Widget(_))
    }

    /// The token Meta's GET handshake must echo, for channels that have one.
    pub fn verify_token(&self) -> Option<&str> {
        match self {
            Settings::Messenger(s) => Some(&s.verify_token),
            Settings::Instagram(s) => Some(&s.verify_token),
            Settings::Whatsapp(s) => Some(&s.verify_token),
            Settings::Telegram(_) | Settings::Api(_) | Settings::Widget(_) => None,
        }
    }

    /// Checks a webhook's signature on its raw bytes: Meta's
    /// `X-Hub-Signature-256`, Telegram's `X-Telegram-Bot-Api-Secret-Token`,
    /// the API channel's `X-Switchboard-Timestamp` and
    /// `X-Switchboard-Signature` (within 5 minutes of `now_secs`).
    pub fn verify<'a, H: Headers + ?Sized>(
        &self,
        headers: &H,
        body: &'a [u8],
        now_secs: i64,
    ) -> Result<Verified<'a>, VerifyError> {
        let meta = |secret: &str| {
            crate::verify::verify_meta(secret, headers.get("x-hub-signature-256").as_deref(), body)
        };
        match self {
            Settings::Messenger(s) => meta(&s.app_secret),
            Settings::Instagram(s) => meta(&s.app_secret),
            Settings::Whatsapp(s) => meta(&s.app_secret),
            Settings::Telegram(s) => crate::verify::verify_telegram(
                &s.secret_token,
                headers.get("x-telegram-bot-api-secret-token").as_deref(),
                body,
            ),
            Settings::Api(s) => crate::verify::verify_api(
                &s.secret,
                headers.get("x-switchboard-timestamp").as_deref(),
                headers.get("x-switchboard-signature").as_deref(),
                body,
                now_secs,
            ),
            // The widget has no webhooks: nothing can verify as one.
            Settings::Widget(_) => Err(VerifyError::MissingSignature),
        }
    }

    /// Turns a verified body into events, in the platform's order. Entries
    /// addressed to another account than this inbox's are skipped.
    pub fn normalize(&self, body: Verified<'_>) -> Result<Vec<InboundEvent>, ParseError> {
        match self {
            Settings::Messenger(s) => messenger::normalize(s, body),
            Settings::Instagram(s) => instagram::normalize(s, body),
            Settings::Whatsapp(s) => whatsapp::normalize(s, body),
            Settings::Telegram(s) => telegram::normalize(s, body),
            Settings::Api(s) => api::normalize(s, body),
            Settings::Widget(_) => Err(ParseError::new("the widget channel has no webhooks")),
        }
    }
}

/// What a send needs besides the inbox's settings and the message.
#[derive(Debug, Clone)]
pub struct SendContext<'a> {
    /// `GRAPH_API_BASE`, e.g. `https://graph.facebook.com`.
    pub graph_base: &'a str,
    /// `TELEGRAM_API_BASE`, e.g. `https://api.telegram.org`.
    pub telegram_base: &'a str,
    pub now_ms: i64,
    /// When the customer last wrote (WhatsApp's 24-hour window).
    pub last_inbound_ms: Option<i64>,
    /// Names the reply being sent, the same on every retry (conversation
    /// and message id), so a receiver can drop a repeat of a delivery whose
    /// answer we never saw. The API channel's delivery id.
    pub message_key: Option<&'a str>,
}

impl Settings {
    /// The platform request that delivers `content` to `contact`, or a
    /// one-line reason it cannot be sent (a kind the channel lacks, a closed
    /// 24-hour window…).
    pub fn build_send(
        &self,
        ctx: &SendContext<'_>,
        contact: &Contact,
        content: &Content,
        reply_to: Option<&str>,
    ) -> Result<OutboundRequest, String> {
        if !content.leaves_switchboard() {
            return Err(format!(
                "a {} is private to Switchboard and is never sent",
                content.kind()
            ));
        }
        match self {
            Settings::Messenger(s) => messenger::build_send(s, ctx, contact, content, reply_to),
            Settings::Instagram(s) => instagram::build_send(s, ctx, contact, content, reply_to),
            Settings::Whatsapp(s) => whatsapp::build_send(s, ctx, contact, content, reply_to),
            Settings::Telegram(s) => telegram::build_send(s, ctx, contact, content, reply_to),
            Settings::Api(s) => api::build_send(s, ctx, contact, content, reply_to),
            Settings::Widget(_) => Err("widget replies are delivered live, not sent".into()),
        }
    }

    /// Reads the platform's answer to a send: 2xx is `Sent` with the
    /// platform's id, 5xx/429/408 (and Graph rate-limit codes) `Retry`, any
    /// other refusal `Failed` with the platform's error text.
    pub fn classify(&self, status: u16, body: &[u8]) -> SendOutcome {
        match self {
            Settings::Messenger(_) => messenger::classify(status, body),
            Settings::Instagram(_) => instagram::classify(status, body),
            Settings::Whatsapp(_) => whatsapp::classify(status, body),
            Settings::Telegram(_) => telegram::classify(status, body),
            Settings::Api(_) => api::classify(status, body),
            Settings::Widget(_) => SendOutcome::Failed {
                error: "widget replies are delivered live, not sent".into(),
            },
        }
    }

    /// [`Settings::classify`] with the request that was sent at hand. Prefer
    /// it: the API channel's callback may answer 2xx without an id, and then
    /// the delivery id the request carried becomes the platform id (unique
    /// per send), where `classify` alone can only derive one from the answer.
    pub fn classify_request(
        &self,
        request: &OutboundRequest,
        status: u16,
        body: &[u8],
    ) -> SendOutcome {
        match self {
            Settings::Api(_) => {
                let delivery = request
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(api::DELIVERY_HEADER))
                    .map(|(_, v)| v.as_str());
                api::classify_with(delivery, status, body)
            }
            _ => self.classify(status, body),
        }
    }
}

/// The last four characters of a secret, for display: `…a1b2`.
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    let tail: String = secret.chars().skip(n.saturating_sub(4)).collect();
    format!("…{tail}")
}

/// Reads a required, non-empty string field of a settings object.
pub(crate) fn required_str(value: &serde_json::Value, field: &str) -> Result<String, String> {
    match value.get(field).and_then(|v| v.as_str()) {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(format!(
            "settings.{field} is required and must be a non-empty string"
        )),
    }
}

/// The `{channel}` and `{inbox_id}` of a `/webhooks/{channel}/{inbox_id}`
/// URL as the runtime serializes it (scheme, host, path, query), split the
/// way the router splits a path; `None` for any other path. The worker's
/// entry uses it to send a platform's POST straight to the webhook handler.
pub fn webhook_target(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.trim_matches('/').split('/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some("webhooks"), Some(channel), Some(inbox), None) => Some((channel, inbox)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::webhook_target;

    #[test]
    fn webhook_target_takes_the_two_segments_after_webhooks() {
        assert_eq!(
            webhook_target("https://sb.example/webhooks/messenger/in_1?x=/a/b"),
            Some(("messenger", "in_1"))
        );
        assert_eq!(
            webhook_target("http://127.0.0.1:8787/webhooks/telegram/in_2/"),
            Some(("telegram", "in_2"))
        );
        assert_eq!(webhook_target("http://h/webhooks/messenger"), None);
        assert_eq!(webhook_target("http://h/webhooks/a/b/c"), None);
        assert_eq!(webhook_target("http://h/api/webhooks/a"), None);
        assert_eq!(webhook_target("http://h/webhooksx/a/b"), None);
        assert_eq!(webhook_target("http://h"), None);
        assert_eq!(
            webhook_target("http://h/webhooks/a/b#frag"),
            Some(("a", "b"))
        );
    }
}
