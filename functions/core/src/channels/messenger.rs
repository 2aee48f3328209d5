//! Facebook Messenger: `entry[].messaging[]` webhooks signed with
//! `X-Hub-Signature-256`, replies through the Graph API's
//! `POST /{version}/me/messages`.

use super::{mask, required_str, ParseError};
use crate::inbound::{InboundEvent, InboundMessage};
use crate::model::{Attachment, Contact, Content, Direction};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::Verified;
use serde::{Deserialize, Serialize};

/// The Graph API version replies are sent with.
pub const GRAPH_VERSION: &str = "v23.0";

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

#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    messaging: Vec<Messaging>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    recipient: Party,
    #[serde(default)]
    timestamp: i64,
    message: Option<MessageBody>,
}

#[derive(Deserialize)]
struct MessageBody {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
}

/// Normalizes a verified Messenger webhook. Entries for another page than
/// the inbox's are skipped.
pub fn normalize(
    settings: &MessengerSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    let payload: Payload = serde_json::from_slice(body.body())
        .map_err(|e| ParseError::new(format!("not a Messenger webhook: {e}")))?;
    if payload.object != "page" {
        return Err(ParseError::new(format!(
            "expected object \"page\", got \"{}\"",
            payload.object
        )));
    }
    let mut events = Vec::new();
    for entry in payload.entry {
        if entry.id != settings.page_id {
            continue;
        }
        for m in entry.messaging {
            let Some(message) = m.message else { continue };
            // An echo is the page talking: the customer is the recipient.
            let (direction, customer) = if message.is_echo {
                (Direction::Outbound, m.recipient.id)
            } else {
                (Direction::Inbound, m.sender.id)
            };
            let content = match (&message.text, message.attachments.first()) {
                (Some(text), _) => Content::Text { text: text.clone() },
                (None, Some(a)) if a.kind == "image" => Content::Image {
                    attachment: Attachment {
                        url: a.payload.as_ref().and_then(|p| p.url.clone()),
                        ..Attachment::default()
                    },
                    caption: None,
                },
                _ => Content::Unsupported {
                    platform_type: "message".into(),
                    raw: serde_json::Value::Null,
                },
            };
            events.push(InboundEvent::Message(InboundMessage {
                contact: Contact::new(customer),
                platform_id: message.mid,
                direction,
                content,
                reply_to: None,
                timestamp_ms: m.timestamp,
            }));
        }
    }
    Ok(events)
}

/// The Graph API request that sends `text` to the contact.
pub fn build_send(
    settings: &MessengerSettings,
    graph_base: &str,
    contact: &Contact,
    content: &Content,
) -> Result<OutboundRequest, String> {
    let message = match content {
        Content::Text { text } => serde_json::json!({ "text": text }),
        other => return Err(format!("Messenger cannot send a {} message yet", other.kind())),
    };
    let body = serde_json::json!({
        "recipient": { "id": contact.external_id },
        "messaging_type": "RESPONSE",
        "message": message,
    });
    Ok(OutboundRequest {
        method: "POST",
        url: format!(
            "{}/{GRAPH_VERSION}/me/messages",
            graph_base.trim_end_matches('/')
        ),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "authorization".into(),
                format!("Bearer {}", settings.page_access_token),
            ),
        ],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

/// Reads the Graph API's answer to a send.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    crate::outbound::classify_graph(status, body, "message_id")
}
