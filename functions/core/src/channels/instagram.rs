//! Instagram messaging: the same `entry[].messaging[]` webhooks as Messenger
//! (`object: "instagram"`, `entry[].id` = the Instagram professional account
//! id), signed with `X-Hub-Signature-256` under the app secret.
//!
//! Inbound kinds: text, quick reply, image, audio, video, file, sticker
//! (`like_heart`), postback (icebreakers and buttons), reaction (and its
//! removal), reply-to (`message.reply_to.mid`), echoes, read receipts
//! (`read.mid`), unsent messages (`is_deleted`, kept as `unsupported`
//! `message_deleted`), and shares, story mentions, reels and
//! `is_unsupported` media kept raw as `unsupported`.
//!
//! Replies go through `POST {graph_base}/{version}/me/messages` with the
//! inbox's access token: `/me` resolves to the account the token belongs to,
//! which works both for the Messenger API for Instagram (a Page token on
//! graph.facebook.com) and for Instagram Login (an Instagram user token on
//! graph.instagram.com), without having to know the linked Page id.

use super::{mask, meta, required_str, ParseError, SendContext};
use crate::inbound::InboundEvent;
use crate::model::{Contact, Content};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::Verified;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstagramSettings {
    pub account_id: String,
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
}

impl InstagramSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        Ok(InstagramSettings {
            account_id: required_str(&value, "account_id")?,
            app_secret: required_str(&value, "app_secret")?,
            verify_token: required_str(&value, "verify_token")?,
            access_token: required_str(&value, "access_token")?,
        })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "account_id": self.account_id,
            "verify_token": self.verify_token,
            "app_secret": mask(&self.app_secret),
            "access_token": mask(&self.access_token),
        })
    }
}

/// Normalizes a verified Instagram webhook. Entries for another account
/// than the inbox's are skipped.
pub fn normalize(
    settings: &InstagramSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    meta::normalize_messaging("Instagram", "instagram", &settings.account_id, body.body())
}

/// The Graph API request that sends a text message to the contact.
pub fn build_send(
    settings: &InstagramSettings,
    ctx: &SendContext<'_>,
    contact: &Contact,
    content: &Content,
    _reply_to: Option<&str>,
) -> Result<OutboundRequest, String> {
    meta::graph_text_send(
        "Instagram",
        ctx.graph_base,
        "me",
        &settings.access_token,
        contact,
        content,
    )
}

/// Reads the Graph API's answer to a send (`{recipient_id, message_id}`).
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    crate::outbound::classify_graph(status, body, "message_id")
}
