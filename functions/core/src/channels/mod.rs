//! One module per channel: its inbox settings, how its webhooks are verified,
//! how a verified body becomes [`InboundEvent`]s, and how a reply is sent.
//!
//! [`Settings`] is the single entry point the worker uses; it dispatches to
//! the channel modules.

pub mod messenger;

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
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Messenger => "messenger",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "messenger" => Some(Channel::Messenger),
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
}

impl Settings {
    /// Parses and checks the settings a client sent for `channel`.
    pub fn from_json(channel: Channel, value: serde_json::Value) -> Result<Self, String> {
        match channel {
            Channel::Messenger => messenger::MessengerSettings::from_json(value).map(Settings::Messenger),
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            Settings::Messenger(_) => Channel::Messenger,
        }
    }

    /// The settings with every secret replaced by its last four characters.
    pub fn public_view(&self) -> serde_json::Value {
        match self {
            Settings::Messenger(s) => s.public_view(),
        }
    }

    /// The token Meta's GET handshake must echo, for channels that have one.
    pub fn verify_token(&self) -> Option<&str> {
        match self {
            Settings::Messenger(s) => Some(&s.verify_token),
        }
    }

    /// Checks a webhook's signature on its raw bytes.
    pub fn verify<'a, H: Headers + ?Sized>(
        &self,
        headers: &H,
        body: &'a [u8],
        _now_secs: i64,
    ) -> Result<Verified<'a>, VerifyError> {
        match self {
            Settings::Messenger(s) => crate::verify::verify_meta(
                &s.app_secret,
                headers.get("x-hub-signature-256").as_deref(),
                body,
            ),
        }
    }

    /// Turns a verified body into events, in the platform's order. Entries
    /// addressed to another account than this inbox's are skipped.
    pub fn normalize(&self, body: Verified<'_>) -> Result<Vec<InboundEvent>, ParseError> {
        match self {
            Settings::Messenger(s) => messenger::normalize(s, body),
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
        _reply_to: Option<&str>,
    ) -> Result<OutboundRequest, String> {
        match self {
            Settings::Messenger(s) => messenger::build_send(s, ctx.graph_base, contact, content),
        }
    }

    /// Reads the platform's answer to a send.
    pub fn classify(&self, status: u16, body: &[u8]) -> SendOutcome {
        match self {
            Settings::Messenger(_) => messenger::classify(status, body),
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
        _ => Err(format!("settings.{field} is required and must be a non-empty string")),
    }
}
