//! The message model every channel normalizes into.
//!
//! One enum, [`Content`], with a variant per kind of message and each kind's
//! own data. The JSON form is flat and tagged by `kind`, which is what clients
//! read: `{"kind": "image", "attachment": {…}, "caption": "…"}`.

use serde::{Deserialize, Serialize};

/// Which side of the conversation wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// From the business: an agent's reply, an echo, a note, an activity.
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// Where a message stands. Inbound messages are `received`; outbound ones go
/// `pending` → `sent` → `delivered` → `read`, or end `failed` with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Received,
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => MessageStatus::Received,
            "pending" => MessageStatus::Pending,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "failed" => MessageStatus::Failed,
            _ => return None,
        })
    }

    /// Receipts only move a status forward: a late `delivered` never undoes
    /// `read`, and nothing revives a `failed` message.
    pub fn advances_to(self, next: MessageStatus) -> bool {
        match (self, next) {
            (MessageStatus::Failed, _) => false,
            (_, MessageStatus::Failed) => self != MessageStatus::Read,
            _ => next > self,
        }
    }
}

/// Media a message carries. Inbound, it starts as the platform's
/// reference (a URL or a media id) and `state: pending`; once copied into
/// our storage `url` is ours (`/api/attachments/{id}`) and `size`,
/// `sha256` and the sniffed `mime_type` are recorded. Agents' and visitors'
/// uploads are stored from the start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Our id for the stored copy (`at_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<crate::attachments::AttachmentState>,
    /// Bytes, once stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lower-case hex SHA-256 of the stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Why the copy failed, or the note on a file kept as a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A contact card a customer shared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedContact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// What a message says, one variant per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    Image {
        attachment: Attachment,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    Audio {
        attachment: Attachment,
    },
    Video {
        attachment: Attachment,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    File {
        attachment: Attachment,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    },
    Sticker {
        attachment: Attachment,
    },
    Contacts {
        contacts: Vec<SharedContact>,
    },
    /// A reaction to another message, named by that message's platform id.
    /// `emoji` is empty when the customer removed their reaction.
    Reaction {
        emoji: String,
        target_platform_id: String,
    },
    QuickReply {
        text: String,
        payload: String,
    },
    ButtonReply {
        text: String,
        payload: String,
    },
    Postback {
        title: String,
        payload: String,
    },
    /// A kind we do not model yet: the platform's own payload is kept whole so
    /// nothing is silently dropped.
    Unsupported {
        platform_type: String,
        raw: serde_json::Value,
    },
    /// A private note between agents. Never leaves Switchboard.
    Note {
        text: String,
    },
    /// Something that happened to the conversation (assigned, resolved, …).
    Activity {
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

impl Content {
    /// The `kind` tag, as stored in its own column for filtering.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Image { .. } => "image",
            Content::Audio { .. } => "audio",
            Content::Video { .. } => "video",
            Content::File { .. } => "file",
            Content::Location { .. } => "location",
            Content::Sticker { .. } => "sticker",
            Content::Contacts { .. } => "contacts",
            Content::Reaction { .. } => "reaction",
            Content::QuickReply { .. } => "quick_reply",
            Content::ButtonReply { .. } => "button_reply",
            Content::Postback { .. } => "postback",
            Content::Unsupported { .. } => "unsupported",
            Content::Note { .. } => "note",
            Content::Activity { .. } => "activity",
        }
    }

    /// The human-readable text of a message: what search indexes and what the
    /// conversation list previews.
    pub fn text(&self) -> String {
        match self {
            Content::Text { text }
            | Content::Note { text }
            | Content::QuickReply { text, .. }
            | Content::ButtonReply { text, .. } => text.clone(),
            Content::Postback { title, .. } => title.clone(),
            Content::Image { caption, .. }
            | Content::Video { caption, .. }
            | Content::File { caption, .. } => caption.clone().unwrap_or_default(),
            Content::Location { name, address, .. } => [name.as_deref(), address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            Content::Contacts { contacts } => contacts
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Content::Reaction { emoji, .. } => emoji.clone(),
            Content::Activity { action, detail } => match detail {
                Some(d) => format!("{action}: {d}"),
                None => action.clone(),
            },
            Content::Audio { .. } | Content::Sticker { .. } | Content::Unsupported { .. } => {
                String::new()
            }
        }
    }

    /// The media this message carries, if its kind carries any.
    pub fn attachment(&self) -> Option<&Attachment> {
        match self {
            Content::Image { attachment, .. }
            | Content::Audio { attachment }
            | Content::Video { attachment, .. }
            | Content::File { attachment, .. }
            | Content::Sticker { attachment } => Some(attachment),
            _ => None,
        }
    }

    pub fn attachment_mut(&mut self) -> Option<&mut Attachment> {
        match self {
            Content::Image { attachment, .. }
            | Content::Audio { attachment }
            | Content::Video { attachment, .. }
            | Content::File { attachment, .. }
            | Content::Sticker { attachment } => Some(attachment),
            _ => None,
        }
    }

    /// A message of `kind` (`image`, `audio`, `video`, else a file) with
    /// `attachment` and a caption where the kind has one.
    pub fn with_attachment(kind: &str, attachment: Attachment, caption: Option<String>) -> Content {
        match kind {
            "image" => Content::Image {
                attachment,
                caption,
            },
            "audio" => Content::Audio { attachment },
            "video" => Content::Video {
                attachment,
                caption,
            },
            _ => Content::File {
                attachment,
                caption,
            },
        }
    }

    /// Whether this kind may be sent to the customer's platform.
    pub fn leaves_switchboard(&self) -> bool {
        !matches!(self, Content::Note { .. } | Content::Activity { .. })
    }
}

/// What we know of the customer on the other end of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// The platform's id for them: a PSID, an Instagram-scoped id, a phone
    /// number (WhatsApp `wa_id`), a Telegram chat id, the API caller's id.
    pub external_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// What agents wrote down about them; never comes from a platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Contact {
    pub fn new(external_id: impl Into<String>) -> Self {
        Contact {
            external_id: external_id.into(),
            ..Contact::default()
        }
    }

    /// Fills what `other` knows and we don't, and takes newer names.
    pub fn merge(&mut self, other: &Contact) {
        fn take(dst: &mut Option<String>, src: &Option<String>) {
            if let Some(v) = src {
                if !v.is_empty() {
                    *dst = Some(v.clone());
                }
            }
        }
        take(&mut self.name, &other.name);
        take(&mut self.username, &other.username);
        take(&mut self.language, &other.language);
        take(&mut self.phone, &other.phone);
        take(&mut self.email, &other.email);
    }
}

/// A stored message as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    /// The `seq` of the event that created it.
    pub seq: i64,
    pub direction: Direction,
    /// `content.kind`, repeated at the top so a list can be read flat.
    pub kind: String,
    /// The readable text (see [`Content::text`]).
    pub text: String,
    /// The kind's own data.
    pub content: Content,
    pub platform_id: Option<String>,
    pub status: MessageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The platform id of the message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The agent who wrote it, for outbound messages written here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    /// The writer's own id for it (an agent's `client_id`): a client matches
    /// its optimistic copy by it, and a retry with the same id is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The automatic translation beside the original (inbound: for the
    /// agents; outbound: what the customer was sent), or why there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<crate::translation::Translation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_json_is_flat_and_tagged() {
        let c = Content::Image {
            attachment: Attachment {
                url: Some("https://x/y.png".into()),
                mime_type: Some("image/png".into()),
                ..Attachment::default()
            },
            caption: Some("hi".into()),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "image");
        assert_eq!(v["attachment"]["mime_type"], "image/png");
        let back: Content = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn status_only_moves_forward() {
        use MessageStatus::*;
        assert!(Pending.advances_to(Sent));
        assert!(Sent.advances_to(Read));
        assert!(!Read.advances_to(Delivered));
        assert!(!Failed.advances_to(Sent));
        assert!(Sent.advances_to(Failed));
        assert!(!Read.advances_to(Failed));
    }

    #[test]
    fn notes_never_leave() {
        assert!(!Content::Note { text: "x".into() }.leaves_switchboard());
        assert!(Content::Text { text: "x".into() }.leaves_switchboard());
    }
}
