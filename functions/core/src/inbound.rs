//! What a channel's webhook turns into, before it is stored.
//!
//! Every channel normalizes its platform's payload into a list of
//! [`InboundEvent`]s, in the order the platform gave them. Each names the
//! contact it belongs to, which names the conversation; the worker groups the
//! list by conversation and makes one object call per conversation.

use crate::model::{Contact, Content, Direction, MessageStatus};
use serde::{Deserialize, Serialize};

/// One thing that happened on the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
// A webhook's few events are built, stored and dropped; a Box on every
// message would cost more than the receipts' unused bytes.
#[allow(clippy::large_enum_variant)]
pub enum InboundEvent {
    /// A new message, from the customer or (an echo) from the business.
    Message(InboundMessage),
    /// A receipt that moves one or more outbound messages forward.
    Receipt(Receipt),
}

impl InboundEvent {
    pub fn contact(&self) -> &Contact {
        match self {
            InboundEvent::Message(m) => &m.contact,
            InboundEvent::Receipt(r) => &r.contact,
        }
    }
}

/// A message as the platform delivered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub contact: Contact,
    /// The platform's message id (mid, wamid, Telegram `update_id`…): unique
    /// per inbox, the key for exactly-once.
    pub platform_id: String,
    /// `Outbound` for echoes of what the business sent from another tool.
    pub direction: Direction,
    pub content: Content,
    /// The platform id of the message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// When the platform says it happened, in ms since the epoch.
    pub timestamp_ms: i64,
}

/// Which outbound messages a receipt is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ReceiptTarget {
    /// These platform message ids.
    Ids { platform_ids: Vec<String> },
    /// Every outbound message created at or before this time (Messenger's
    /// delivery and read watermarks).
    Watermark { watermark_ms: i64 },
}

/// A delivery, read, sent or failed receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub contact: Contact,
    pub target: ReceiptTarget,
    pub status: MessageStatus,
    /// The platform's error, for `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub timestamp_ms: i64,
}
