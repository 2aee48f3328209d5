//! What Messenger and Instagram share: the `entry[].messaging[]` webhook
//! shape (messages, echoes, postbacks, reactions, delivery and read receipts)
//! and the Graph API send.
//!
//! Platform ids, so that a redelivered webhook yields identical ids:
//! - a message: its `mid`; when one message carries several attachments, the
//!   first item keeps the `mid` and the next ones get `{mid}#{n}`;
//! - a postback: `postback.mid` when present, else `postback:{sender}:{timestamp}`;
//! - a reaction: `reaction:{target mid}:{sender}:{timestamp}`;
//! - a deleted (unsent) message: `{mid}:deleted`;
//! - any other messaging event: `{kind}:{sender}:{timestamp}`.

use super::ParseError;
use crate::inbound::{InboundEvent, InboundMessage, Receipt, ReceiptTarget};
use crate::model::{Attachment, Contact, Content, Direction, MessageStatus};
use crate::outbound::OutboundRequest;
use serde::Deserialize;
use serde_json::Value;

/// The Graph API version replies are sent with.
pub const GRAPH_VERSION: &str = "v23.0";

#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    /// Kept untyped here so an event we do not model can be stored whole.
    #[serde(default)]
    messaging: Vec<Value>,
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
    postback: Option<Postback>,
    reaction: Option<Reaction>,
    delivery: Option<Delivery>,
    read: Option<Read>,
}

#[derive(Deserialize)]
struct MessageBody {
    mid: String,
    #[serde(default)]
    is_echo: bool,
    text: Option<String>,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    is_unsupported: bool,
    quick_reply: Option<QuickReply>,
    reply_to: Option<ReplyTo>,
    #[serde(default)]
    attachments: Vec<Value>,
}

#[derive(Deserialize)]
struct QuickReply {
    #[serde(default)]
    payload: String,
}

#[derive(Deserialize)]
struct ReplyTo {
    mid: Option<String>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(rename = "type")]
    kind: String,
    title: Option<String>,
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
    title: Option<String>,
    /// Set when an `image` attachment is a sticker (the thumbs-up and friends).
    sticker_id: Option<Value>,
    coordinates: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Coordinates {
    lat: f64,
    long: f64,
}

#[derive(Deserialize)]
struct Postback {
    mid: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    payload: String,
}

#[derive(Deserialize)]
struct Reaction {
    mid: String,
    #[serde(default)]
    action: String,
    emoji: Option<String>,
    reaction: Option<String>,
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    mids: Vec<String>,
    watermark: Option<i64>,
}

#[derive(Deserialize)]
struct Read {
    watermark: Option<i64>,
    mid: Option<String>,
}

/// Normalizes a verified `entry[].messaging[]` webhook whose top-level
/// `object` must be `object` ("page" or "instagram"). Entries whose id is not
/// `account_id` are skipped.
pub(crate) fn normalize_messaging(
    channel: &str,
    object: &str,
    account_id: &str,
    body: &[u8],
) -> Result<Vec<InboundEvent>, ParseError> {
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|e| ParseError::new(format!("not a {channel} webhook: {e}")))?;
    if payload.object != object {
        return Err(ParseError::new(format!(
            "expected object \"{object}\", got \"{}\"",
            payload.object
        )));
    }
    let mut events = Vec::new();
    for entry in payload.entry {
        if entry.id != account_id {
            continue;
        }
        for raw in &entry.messaging {
            let m = Messaging::deserialize(raw).map_err(|e| {
                ParseError::new(format!("malformed {channel} messaging event: {e}"))
            })?;
            one_event(account_id, m, raw, &mut events);
        }
    }
    Ok(events)
}

fn one_event(account_id: &str, m: Messaging, raw: &Value, events: &mut Vec<InboundEvent>) {
    // The business talking (an echo) has the account as sender: the customer
    // is then the recipient.
    let is_echo = m.message.as_ref().is_some_and(|x| x.is_echo);
    let from_business = is_echo || m.sender.id == account_id;
    let (direction, customer) = if from_business {
        (Direction::Outbound, m.recipient.id.clone())
    } else {
        (Direction::Inbound, m.sender.id.clone())
    };
    let ts = m.timestamp;
    let msg = |platform_id: String, content: Content, reply_to: Option<String>| {
        InboundEvent::Message(InboundMessage {
            contact: Contact::new(customer.clone()),
            platform_id,
            direction,
            content,
            reply_to,
            timestamp_ms: ts,
        })
    };

    if let Some(message) = m.message {
        let reply_to = message.reply_to.as_ref().and_then(|r| r.mid.clone());
        let raw_message = raw.get("message").cloned().unwrap_or(Value::Null);
        if message.is_deleted {
            events.push(msg(
                format!("{}:deleted", message.mid),
                Content::Unsupported {
                    platform_type: "message_deleted".into(),
                    raw: raw_message,
                },
                None,
            ));
            return;
        }
        if message.is_unsupported {
            events.push(msg(
                message.mid,
                Content::Unsupported {
                    platform_type: "unsupported".into(),
                    raw: raw_message,
                },
                reply_to,
            ));
            return;
        }
        let mut contents = Vec::new();
        if let Some(text) = message.text.clone() {
            match message.quick_reply {
                Some(q) => contents.push(Content::QuickReply {
                    text,
                    payload: q.payload,
                }),
                None => contents.push(Content::Text { text }),
            }
        }
        for a in &message.attachments {
            contents.push(attachment_content(a));
        }
        if contents.is_empty() {
            contents.push(Content::Unsupported {
                platform_type: "message".into(),
                raw: raw_message,
            });
        }
        for (n, content) in contents.into_iter().enumerate() {
            let id = if n == 0 {
                message.mid.clone()
            } else {
                format!("{}#{n}", message.mid)
            };
            events.push(msg(id, content, reply_to.clone()));
        }
        return;
    }

    if let Some(p) = m.postback {
        let id = p
            .mid
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("postback:{}:{ts}", m.sender.id));
        events.push(msg(
            id,
            Content::Postback {
                title: p.title,
                payload: p.payload,
            },
            None,
        ));
        return;
    }

    if let Some(r) = m.reaction {
        let emoji = if r.action == "unreact" {
            String::new()
        } else {
            r.emoji.or(r.reaction).unwrap_or_default()
        };
        events.push(msg(
            format!("reaction:{}:{}:{ts}", r.mid, m.sender.id),
            Content::Reaction {
                emoji,
                target_platform_id: r.mid,
            },
            None,
        ));
        return;
    }

    if let Some(d) = m.delivery {
        let mids: Vec<String> = d.mids.into_iter().filter(|s| !s.is_empty()).collect();
        if !mids.is_empty() {
            events.push(receipt(
                &customer,
                ReceiptTarget::Ids { platform_ids: mids },
                MessageStatus::Delivered,
                ts,
            ));
        }
        if let Some(w) = d.watermark.filter(|w| *w > 0) {
            events.push(receipt(
                &customer,
                ReceiptTarget::Watermark { watermark_ms: w },
                MessageStatus::Delivered,
                ts,
            ));
        }
        return;
    }

    if let Some(r) = m.read {
        if let Some(mid) = r.mid.filter(|s| !s.is_empty()) {
            events.push(receipt(
                &customer,
                ReceiptTarget::Ids {
                    platform_ids: vec![mid],
                },
                MessageStatus::Read,
                ts,
            ));
        }
        if let Some(w) = r.watermark.filter(|w| *w > 0) {
            events.push(receipt(
                &customer,
                ReceiptTarget::Watermark { watermark_ms: w },
                MessageStatus::Read,
                ts,
            ));
        }
        return;
    }

    // Anything else (referral, optin, account linking, …) from the customer
    // is kept whole rather than dropped.
    if from_business {
        return;
    }
    let kind = raw
        .as_object()
        .and_then(|o| {
            o.keys()
                .find(|k| !matches!(k.as_str(), "sender" | "recipient" | "timestamp"))
                .cloned()
        })
        .unwrap_or_else(|| "event".into());
    events.push(msg(
        format!("{kind}:{}:{ts}", m.sender.id),
        Content::Unsupported {
            platform_type: kind,
            raw: raw.clone(),
        },
        None,
    ));
}

fn receipt(customer: &str, target: ReceiptTarget, status: MessageStatus, ts: i64) -> InboundEvent {
    InboundEvent::Receipt(Receipt {
        contact: Contact::new(customer),
        target,
        status,
        error: None,
        timestamp_ms: ts,
    })
}

/// One Messenger or Instagram attachment as a message kind. What we do not
/// model (templates, fallbacks, shares, story mentions, reels…) is kept raw.
fn attachment_content(raw: &Value) -> Content {
    let unsupported = |kind: &str| Content::Unsupported {
        platform_type: kind.to_string(),
        raw: raw.clone(),
    };
    let Ok(a) = RawAttachment::deserialize(raw) else {
        return unsupported("attachment");
    };
    let url = a.payload.as_ref().and_then(|p| p.url.clone());
    let attachment = Attachment {
        url,
        ..Attachment::default()
    };
    match a.kind.as_str() {
        "image" | "animated_image" => {
            if a.payload
                .as_ref()
                .and_then(|p| p.sticker_id.as_ref())
                .is_some()
            {
                Content::Sticker { attachment }
            } else {
                Content::Image {
                    attachment,
                    caption: None,
                }
            }
        }
        "like_heart" => Content::Sticker { attachment },
        "audio" => Content::Audio { attachment },
        "video" => Content::Video {
            attachment,
            caption: None,
        },
        "file" => Content::File {
            attachment,
            caption: None,
        },
        "location" => match a.payload.as_ref().and_then(|p| p.coordinates.as_ref()) {
            Some(c) => Content::Location {
                latitude: c.lat,
                longitude: c.long,
                name: a
                    .title
                    .or_else(|| a.payload.as_ref().and_then(|p| p.title.clone())),
                address: None,
            },
            None => unsupported("location"),
        },
        other => unsupported(other),
    }
}

/// The Graph API `POST {base}/{version}/{node}/messages` that sends a text
/// message to a Messenger or Instagram user.
pub(crate) fn graph_text_send(
    channel: &str,
    graph_base: &str,
    node: &str,
    access_token: &str,
    contact: &Contact,
    content: &Content,
) -> Result<OutboundRequest, String> {
    let message = match content {
        Content::Text { text } if !text.is_empty() => serde_json::json!({ "text": text }),
        Content::Text { .. } => return Err("an empty message cannot be sent".into()),
        other => {
            return Err(format!(
                "{channel} cannot send a {} message yet",
                other.kind()
            ))
        }
    };
    let body = serde_json::json!({
        "recipient": { "id": contact.external_id },
        "messaging_type": "RESPONSE",
        "message": message,
    });
    Ok(OutboundRequest {
        method: "POST",
        url: format!(
            "{}/{GRAPH_VERSION}/{node}/messages",
            graph_base.trim_end_matches('/')
        ),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {access_token}")),
        ],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}
