//! The wire protocol: events as every client sees them, over WebSocket and
//! long-poll alike. Documented for client authors in `schema/PROTOCOL.md`.
//!
//! Stored events carry a `seq`, gapless per conversation; a client that says
//! the last `seq` it saw gets every later event, in order. Ephemeral frames
//! (typing) carry no `seq` and are never replayed.

use crate::model::{Contact, Message, MessageStatus};
use serde::{Deserialize, Serialize};

/// A stored event: its place in the conversation's log, its time, its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened. JSON: `{"seq": 7, "at": …, "type": "message_created", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Built, serialized and dropped at once, never held in bulk: the size of
// the message variant costs nothing worth a Box at every construction.
#[allow(clippy::large_enum_variant)]
pub enum EventBody {
    /// A message was stored (inbound, outbound, note or activity).
    MessageCreated { message: Message },
    /// An outbound message moved: sent, delivered, read or failed.
    MessageStatus {
        message_id: String,
        status: MessageStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The conversation's status changed (open, pending, resolved, snoozed).
    /// `by` is the agent who changed it; absent when Switchboard did (a new
    /// customer message or the end of a snooze reopened it).
    ConversationStatus {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snoozed_until: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// The conversation was assigned (or unassigned: `assignee` null). `by`
    /// is absent for round-robin assignment.
    Assigned {
        assignee: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// What we know of the contact changed: from the platform (no `by`) or
    /// edited by an agent.
    ContactUpdated {
        contact: Contact,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// The conversation's labels are now `labels`.
    Labels {
        labels: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An agent (or the visitor) has read up to `read_seq`.
    Read { reader: String, read_seq: i64 },
    /// A message's translation arrived (or failed: `translation.error`),
    /// after the message itself; clients put it beside the original.
    MessageTranslated {
        message_id: String,
        translation: crate::translation::Translation,
    },
    /// A stored message changed in place (its attachment was copied into
    /// our storage, or the copy failed): clients replace their copy with
    /// `message`, whole.
    MessageUpdated { message: Message },
}

impl EventBody {
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::MessageCreated { .. } => "message_created",
            EventBody::MessageStatus { .. } => "message_status",
            EventBody::ConversationStatus { .. } => "conversation_status",
            EventBody::Assigned { .. } => "assigned",
            EventBody::ContactUpdated { .. } => "contact_updated",
            EventBody::Labels { .. } => "labels",
            EventBody::Read { .. } => "read",
            EventBody::MessageTranslated { .. } => "message_translated",
            EventBody::MessageUpdated { .. } => "message_updated",
        }
    }

    /// Events only agents may see: private notes and internal activity,
    /// who is assigned, labels, and what agents wrote about the contact.
    /// A visitor's stream skips them (its `seq` then jumps over them).
    pub fn is_private(&self) -> bool {
        match self {
            EventBody::MessageCreated { message } | EventBody::MessageUpdated { message } => {
                !message.content.leaves_switchboard()
            }
            EventBody::Assigned { .. }
            | EventBody::ContactUpdated { .. }
            | EventBody::Labels { .. }
            // Translations of customers' messages are for the agents.
            | EventBody::MessageTranslated { .. } => true,
            EventBody::MessageStatus { .. }
            | EventBody::ConversationStatus { .. }
            | EventBody::Read { .. } => false,
        }
    }
}

/// A conversation as the list shows it, kept current in the workspace's
/// index by the conversation's object after each change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub inbox_id: String,
    pub channel: String,
    pub contact: Contact,
    /// `open`, `pending`, `resolved` or `snoozed`.
    pub status: String,
    /// When a snoozed conversation reopens, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    pub assignee: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub last_message: Option<LastMessage>,
    /// Inbound messages after the furthest any agent has read.
    pub unread: i64,
    /// The conversation's last `seq`: an index entry only ever moves forward.
    pub last_seq: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// The preview of a conversation's newest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastMessage {
    pub id: String,
    pub seq: i64,
    pub direction: crate::model::Direction,
    pub kind: String,
    pub text: String,
    pub created_at: i64,
}

/// An event of a workspace's feed (`/api/live`): conversations as they
/// change. `seq` is gapless per workspace, with the same resume rules as a
/// conversation's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEvent {
    pub seq: i64,
    pub at: i64,
    #[serde(flatten)]
    pub body: FeedBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedBody {
    /// A conversation was created or changed.
    Conversation {
        conversation: Box<ConversationSummary>,
    },
    /// An agent's presence changed: `online`, `away` or `offline`, derived
    /// from their dashboard sockets.
    Presence { agent_id: String, status: String },
    /// A conversation was erased. Earlier feed events about it are replaced
    /// by this tombstone (same `seq`), so the feed stays gapless and holds
    /// nothing of the erased contact.
    Erased { conversation_id: String },
    /// A website visitor's presence or page changed: `online` (their
    /// widget holds a socket or sends heartbeats), `idle` (heartbeats are
    /// late), `offline` (the page closed or heartbeats stopped).
    Visitor {
        conversation_id: String,
        contact: crate::model::Contact,
        status: String,
        /// The page they are on, with language and time zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visit: Option<Box<crate::channels::widget::Visit>>,
    },
}

/// A message as the workspace's search index holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    pub message_id: String,
    pub seq: i64,
    pub direction: crate::model::Direction,
    pub kind: String,
    pub text: String,
    pub created_at: i64,
}

/// The most `wait` a long-poll may ask for, in seconds.
pub const MAX_WAIT_SECS: u32 = 30;

/// The most events one long-poll answer or one resume burst carries per page;
/// a client that gets a full page asks again from the last `seq`.
pub const MAX_EVENTS_PER_PAGE: i64 = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Content, Direction};

    #[test]
    fn event_json_is_flat() {
        let e = Event {
            seq: 7,
            at: 1,
            body: EventBody::MessageCreated {
                message: Message {
                    id: "msg_1".into(),
                    conversation_id: "cv_1".into(),
                    seq: 7,
                    direction: Direction::Inbound,
                    kind: "text".into(),
                    text: "hi".into(),
                    content: Content::Text { text: "hi".into() },
                    platform_id: Some("m1".into()),
                    status: MessageStatus::Received,
                    error: None,
                    reply_to: None,
                    sender_id: None,
                    client_id: None,
                    created_at: 1,
                    translation: None,
                },
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["type"], "message_created");
        assert_eq!(v["message"]["kind"], "text");
        assert_eq!(v["message"]["content"]["kind"], "text");
        assert_eq!(v["message"]["text"], "hi");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
