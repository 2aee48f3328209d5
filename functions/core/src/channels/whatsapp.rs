//! WhatsApp Cloud API: `entry[].changes[].value` webhooks
//! (`object: "whatsapp_business_account"`) signed with `X-Hub-Signature-256`,
//! routed by `value.metadata.phone_number_id`; replies through
//! `POST {graph_base}/{version}/{phone_number_id}/messages`.
//!
//! Inbound kinds (`messages[].type`): text, image, audio (and legacy
//! `voice`), video, document, sticker, location, contacts, reaction (an
//! absent emoji is a removal), interactive `button_reply` / `list_reply` and
//! the legacy template `button` (all button replies), reply-to
//! (`context.id`); `unsupported`, `unknown`, `system`, `order`, `request_welcome`
//! and any other type are kept raw as `unsupported`. The platform id is the
//! message's `wamid`. `statuses[]` (sent, delivered, read, failed with its
//! errors) become receipts by id for the `recipient_id`.
//!
//! Sending is refused up front outside the 24-hour customer-service window.

use super::{mask, meta, required_str, ParseError, SendContext};
use crate::inbound::{InboundEvent, InboundMessage, Receipt, ReceiptTarget};
use crate::model::{Attachment, Contact, Content, Direction, MessageStatus, SharedContact};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::Verified;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long after the customer's last message a free-form reply may be sent.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatsappSettings {
    pub phone_number_id: String,
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
}

impl WhatsappSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        Ok(WhatsappSettings {
            phone_number_id: required_str(&value, "phone_number_id")?,
            app_secret: required_str(&value, "app_secret")?,
            verify_token: required_str(&value, "verify_token")?,
            access_token: required_str(&value, "access_token")?,
        })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "phone_number_id": self.phone_number_id,
            "verify_token": self.verify_token,
            "app_secret": mask(&self.app_secret),
            "access_token": mask(&self.access_token),
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
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: Option<ChangeValue>,
}

#[derive(Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<WaContact>,
    /// Untyped so a kind we do not model can be stored whole.
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct WaContact {
    wa_id: Option<String>,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

/// A number the platform may send as a JSON string or number (timestamps).
#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    Int(i64),
    Str(String),
}

impl Num {
    fn secs_to_ms(n: Option<&Num>) -> i64 {
        let secs = match n {
            Some(Num::Int(i)) => *i,
            Some(Num::Str(s)) => s.trim().parse().unwrap_or(0),
            None => 0,
        };
        secs.saturating_mul(1000)
    }
}

#[derive(Deserialize)]
struct WaMessage {
    from: String,
    id: String,
    timestamp: Option<Num>,
    #[serde(rename = "type", default)]
    kind: String,
    context: Option<Context>,
    text: Option<Text>,
    image: Option<Media>,
    audio: Option<Media>,
    voice: Option<Media>,
    video: Option<Media>,
    document: Option<Media>,
    sticker: Option<Media>,
    location: Option<Location>,
    contacts: Option<Vec<CardContact>>,
    reaction: Option<WaReaction>,
    interactive: Option<Interactive>,
    button: Option<Button>,
}

#[derive(Deserialize)]
struct Context {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Text {
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
struct Media {
    id: Option<String>,
    url: Option<String>,
    link: Option<String>,
    mime_type: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
}

impl Media {
    fn attachment(self) -> (Attachment, Option<String>) {
        (
            Attachment {
                url: self.url.or(self.link),
                media_id: self.id,
                mime_type: self.mime_type,
                filename: self.filename,
                ..Attachment::default()
            },
            self.caption.filter(|c| !c.is_empty()),
        )
    }
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct CardContact {
    name: Option<CardName>,
    #[serde(default)]
    phones: Vec<CardPhone>,
    #[serde(default)]
    emails: Vec<CardEmail>,
}

#[derive(Deserialize)]
struct CardName {
    formatted_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct CardPhone {
    phone: Option<String>,
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct CardEmail {
    email: Option<String>,
}

#[derive(Deserialize)]
struct WaReaction {
    message_id: String,
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct Button {
    #[serde(default)]
    payload: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: Option<Num>,
    recipient_id: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<i64>,
    title: Option<String>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

impl StatusError {
    fn describe(self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(t) = self.title.filter(|t| !t.is_empty()) {
            parts.push(t);
        }
        if let Some(m) = self.message.filter(|m| !m.is_empty()) {
            if !parts.contains(&m) {
                parts.push(m);
            }
        }
        if let Some(d) = self
            .error_data
            .and_then(|d| d.details)
            .filter(|d| !d.is_empty())
        {
            parts.push(d);
        }
        let mut s = parts.join(": ");
        if let Some(c) = self.code {
            if s.is_empty() {
                s = format!("code {c}");
            } else {
                s = format!("{s} (code {c})");
            }
        }
        s
    }
}

/// Normalizes a verified WhatsApp webhook. Changes for another phone number
/// than the inbox's are skipped.
pub fn normalize(
    settings: &WhatsappSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    let payload: Payload = serde_json::from_slice(body.body())
        .map_err(|e| ParseError::new(format!("not a WhatsApp webhook: {e}")))?;
    if payload.object != "whatsapp_business_account" {
        return Err(ParseError::new(format!(
            "expected object \"whatsapp_business_account\", got \"{}\"",
            payload.object
        )));
    }
    let mut events = Vec::new();
    for entry in payload.entry {
        for change in entry.changes {
            if change.field != "messages" {
                continue;
            }
            let Some(value) = change.value else { continue };
            let routed = value
                .metadata
                .as_ref()
                .is_some_and(|m| m.phone_number_id == settings.phone_number_id);
            if !routed {
                continue;
            }
            for raw in &value.messages {
                let m = WaMessage::deserialize(raw)
                    .map_err(|e| ParseError::new(format!("malformed WhatsApp message: {e}")))?;
                events.push(message_event(m, raw, &value.contacts));
            }
            for s in value.statuses {
                if let Some(ev) = status_event(s) {
                    events.push(ev);
                }
            }
        }
    }
    Ok(events)
}

fn contact_for(from: &str, contacts: &[WaContact]) -> Contact {
    let mut contact = Contact::new(from);
    contact.phone = Some(from.to_string());
    let profile = contacts
        .iter()
        .find(|c| c.wa_id.as_deref() == Some(from))
        .or(if contacts.len() == 1 {
            contacts.first()
        } else {
            None
        });
    if let Some(name) = profile
        .and_then(|c| c.profile.as_ref())
        .and_then(|p| p.name.clone())
        .filter(|n| !n.is_empty())
    {
        contact.name = Some(name);
    }
    contact
}

fn message_event(m: WaMessage, raw: &Value, contacts: &[WaContact]) -> InboundEvent {
    let contact = contact_for(&m.from, contacts);
    let reply_to = m.context.as_ref().and_then(|c| c.id.clone());
    let timestamp_ms = Num::secs_to_ms(m.timestamp.as_ref());
    let unsupported = |kind: &str| Content::Unsupported {
        platform_type: kind.to_string(),
        raw: raw.clone(),
    };
    let kind = m.kind.clone();
    let content = match kind.as_str() {
        "text" => match m.text {
            Some(t) => Content::Text { text: t.body },
            None => unsupported("text"),
        },
        "image" => match m.image {
            Some(media) => {
                let (attachment, caption) = media.attachment();
                Content::Image {
                    attachment,
                    caption,
                }
            }
            None => unsupported("image"),
        },
        "audio" | "voice" => match m.audio.or(m.voice) {
            Some(media) => Content::Audio {
                attachment: media.attachment().0,
            },
            None => unsupported(&kind),
        },
        "video" => match m.video {
            Some(media) => {
                let (attachment, caption) = media.attachment();
                Content::Video {
                    attachment,
                    caption,
                }
            }
            None => unsupported("video"),
        },
        "document" => match m.document {
            Some(media) => {
                let (attachment, caption) = media.attachment();
                Content::File {
                    attachment,
                    caption,
                }
            }
            None => unsupported("document"),
        },
        "sticker" => match m.sticker {
            Some(media) => Content::Sticker {
                attachment: media.attachment().0,
            },
            None => unsupported("sticker"),
        },
        "location" => match m.location {
            Some(l) => Content::Location {
                latitude: l.latitude,
                longitude: l.longitude,
                name: l.name,
                address: l.address,
            },
            None => unsupported("location"),
        },
        "contacts" => match m.contacts {
            Some(cards) => Content::Contacts {
                contacts: cards.into_iter().map(shared_contact).collect(),
            },
            None => unsupported("contacts"),
        },
        "reaction" => match m.reaction {
            Some(r) => Content::Reaction {
                emoji: r.emoji.unwrap_or_default(),
                target_platform_id: r.message_id,
            },
            None => unsupported("reaction"),
        },
        "interactive" => match m.interactive.and_then(|i| i.button_reply.or(i.list_reply)) {
            Some(r) => Content::ButtonReply {
                text: r.title,
                payload: r.id,
            },
            None => unsupported("interactive"),
        },
        "button" => match m.button {
            Some(b) => Content::ButtonReply {
                text: b.text,
                payload: b.payload,
            },
            None => unsupported("button"),
        },
        "" => unsupported("message"),
        other => unsupported(other),
    };
    InboundEvent::Message(InboundMessage {
        contact,
        platform_id: m.id,
        direction: Direction::Inbound,
        content,
        reply_to,
        timestamp_ms,
    })
}

fn shared_contact(c: CardContact) -> SharedContact {
    let name = c
        .name
        .map(|n| {
            n.formatted_name
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| {
                    [n.first_name, n.last_name]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        })
        .unwrap_or_default();
    SharedContact {
        name,
        phones: c
            .phones
            .into_iter()
            .filter_map(|p| p.phone.or(p.wa_id))
            .collect(),
        emails: c.emails.into_iter().filter_map(|e| e.email).collect(),
    }
}

fn status_event(s: Status) -> Option<InboundEvent> {
    let status = match s.status.as_str() {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    };
    let error = if status == MessageStatus::Failed {
        let described: Vec<String> = s
            .errors
            .into_iter()
            .map(StatusError::describe)
            .filter(|d| !d.is_empty())
            .collect();
        Some(if described.is_empty() {
            "WhatsApp reported the message as failed".to_string()
        } else {
            described.join("; ")
        })
    } else {
        None
    };
    let mut contact = Contact::new(s.recipient_id.clone());
    contact.phone = Some(s.recipient_id);
    Some(InboundEvent::Receipt(Receipt {
        contact,
        target: ReceiptTarget::Ids {
            platform_ids: vec![s.id],
        },
        status,
        error,
        timestamp_ms: Num::secs_to_ms(s.timestamp.as_ref()),
    }))
}

/// The Cloud API request that sends a text message, or why it cannot be
/// sent (a closed 24-hour window, a kind we do not send yet).
pub fn build_send(
    settings: &WhatsappSettings,
    ctx: &SendContext<'_>,
    contact: &Contact,
    content: &Content,
    reply_to: Option<&str>,
) -> Result<OutboundRequest, String> {
    let text = match content {
        Content::Text { text } if !text.is_empty() => text,
        Content::Text { .. } => return Err("an empty message cannot be sent".into()),
        other => {
            return Err(format!(
                "WhatsApp cannot send a {} message yet",
                other.kind()
            ))
        }
    };
    if !window_open(ctx) {
        return Err(WINDOW_CLOSED.into());
    }
    let mut body = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": contact.external_id,
        "type": "text",
        "text": { "body": text, "preview_url": false },
    });
    if let (Some(id), Some(obj)) = (reply_to.filter(|r| !r.is_empty()), body.as_object_mut()) {
        obj.insert("context".into(), serde_json::json!({ "message_id": id }));
    }
    Ok(OutboundRequest {
        method: "POST",
        url: format!(
            "{}/{}/{}/messages",
            ctx.graph_base.trim_end_matches('/'),
            meta::GRAPH_VERSION,
            settings.phone_number_id
        ),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "authorization".into(),
                format!("Bearer {}", settings.access_token),
            ),
        ],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

/// Whether the customer wrote within the last 24 hours (free-form replies
/// are allowed only then).
pub(crate) fn window_open(ctx: &SendContext<'_>) -> bool {
    ctx.last_inbound_ms
        .is_some_and(|last| ctx.now_ms.saturating_sub(last) < WINDOW_MS)
}

pub(crate) const WINDOW_CLOSED: &str = "WhatsApp's 24-hour window is closed: the customer has not written in the last 24 hours, so only an approved template message can reach them now.";

/// Reads the Cloud API's answer: `{"messages": [{"id": "wamid…"}]}` on success.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    crate::outbound::classify_graph_with(status, body, |v| {
        v.get("messages")
            .and_then(|m| m.as_array())
            .and_then(|a| a.first())
            .and_then(|m| m.get("id"))
            .and_then(|id| id.as_str())
            .map(str::to_string)
    })
    .unwrap_or_else(|| SendOutcome::Failed {
        error: format!("WhatsApp answered {status} without a message id"),
    })
}
