//! Facebook Messenger: `entry[].messaging[]` webhooks signed with
//! `X-Hub-Signature-256`, replies through the Graph API's
//! `POST /{version}/me/messages`.
//!
//! Inbound kinds: text, quick reply, image, sticker (an image with a
//! `sticker_id`), audio, video, file, location (legacy), postback, reaction
//! (and its removal), reply-to (`message.reply_to.mid`), echoes (the page's own
//! messages, as outbound), delivery and read receipts; templates, fallbacks and
//! any other event are kept raw as `unsupported`. See [`super::meta`] for the
//! platform ids.

use super::{mask, meta, required_str, ParseError, SendContext};
use crate::inbound::InboundEvent;
use crate::model::{Contact, Content};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::Verified;
use serde::{Deserialize, Serialize};

/// The Graph API version replies are sent with.
pub const GRAPH_VERSION: &str = meta::GRAPH_VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessengerSettings {
    pub page_id: String,
    pub app_secret: String,
    pub verify_token: String,
    pub page_access_token: String,
}

impl MessengerSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        Ok(MessengerSettings {
            page_id: required_str(&value, "page_id")?,
            app_secret: required_str(&value, "app_secret")?,
            verify_token: required_str(&value, "verify_token")?,
            page_access_token: required_str(&value, "page_access_token")?,
        })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "page_id": self.page_id,
            "verify_token": self.verify_token,
            "app_secret": mask(&self.app_secret),
            "page_access_token": mask(&self.page_access_token),
        })
    }
}

/// Normalizes a verified Messenger webhook (`object: "page"`). Entries for
/// another page than the inbox's are skipped.
pub fn normalize(
    settings: &MessengerSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    meta::normalize_messaging("Messenger", "page", &settings.page_id, body.body())
}

/// The Graph API request that sends a text message to the contact.
pub fn build_send(
    settings: &MessengerSettings,
    ctx: &SendContext<'_>,
    contact: &Contact,
    content: &Content,
    _reply_to: Option<&str>,
) -> Result<OutboundRequest, String> {
    meta::graph_text_send(
        "Messenger",
        ctx.graph_base,
        "me",
        &settings.page_access_token,
        contact,
        content,
    )
}

/// Reads the Graph API's answer to a send.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    crate::outbound::classify_graph(status, body, "message_id")
}
