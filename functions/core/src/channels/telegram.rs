//! Telegram Bot API: `Update` objects POSTed to our webhook, authenticated by
//! `X-Telegram-Bot-Api-Secret-Token` (set with `setWebhook`'s
//! `secret_token`; the bot token never appears in our URL); replies through
//! `POST {telegram_base}/bot{token}/sendMessage`.
//!
//! The contact is the chat: `external_id` is `chat.id`; `from` gives the name
//! (`first_name` + `last_name`), `username` and `language_code`.
//!
//! Platform ids: a message is `{chat_id}:{message_id}`, which is what a
//! redelivered update (same `update_id`) carries again, and what
//! `sendMessage` answers for our own replies, so replies and reply-to line up.
//! An edit is `{chat_id}:{message_id}:edit:{edit_date}` (a new message that
//! replies to the one edited); a callback query is `callback:{id}`; a
//! reaction update is `update:{update_id}`.
//!
//! Inbound kinds: text, photo (the largest size), audio, voice, video,
//! video note and animation (video), document (file), sticker, location,
//! venue (a named location), contact, reply-to (`reply_to_message`),
//! `edited_message` (normalized like a message), `callback_query` (postback),
//! `message_reaction` (reaction, empty emoji on removal); any other message
//! (polls, dice, games…) is kept raw as `unsupported`. Channel posts and
//! update kinds without a customer (membership changes, inline queries…) are
//! ignored.

use super::{mask, required_str, ParseError, SendContext};
use crate::inbound::{InboundEvent, InboundMessage};
use crate::model::{Attachment, Contact, Content, Direction, SharedContact};
use crate::outbound::{OutboundRequest, SendOutcome};
use crate::verify::Verified;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelegramSettings {
    pub bot_token: String,
    pub secret_token: String,
}

impl TelegramSettings {
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        let secret_token = required_str(&value, "secret_token")?;
        // Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -.
        let valid = secret_token.len() <= 256
            && secret_token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(
                "settings.secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -".into(),
            );
        }
        Ok(TelegramSettings {
            bot_token: required_str(&value, "bot_token")?,
            secret_token,
        })
    }

    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "bot_token": mask(&self.bot_token),
            "secret_token": mask(&self.secret_token),
        })
    }
}

#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Value>,
    edited_message: Option<Value>,
    callback_query: Option<CallbackQuery>,
    message_reaction: Option<MessageReaction>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    title: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    from: Option<User>,
    chat: Chat,
    #[serde(default)]
    date: i64,
    edit_date: Option<i64>,
    reply_to_message: Option<Box<ReplyTarget>>,
    text: Option<String>,
    caption: Option<String>,
    #[serde(default)]
    photo: Vec<File>,
    audio: Option<File>,
    voice: Option<File>,
    video: Option<File>,
    video_note: Option<File>,
    animation: Option<File>,
    document: Option<File>,
    sticker: Option<Sticker>,
    location: Option<Location>,
    venue: Option<Venue>,
    contact: Option<TgContact>,
}

#[derive(Deserialize)]
struct ReplyTarget {
    message_id: i64,
}

#[derive(Deserialize)]
struct File {
    file_id: String,
    mime_type: Option<String>,
    file_name: Option<String>,
}

impl File {
    fn attachment(self) -> Attachment {
        Attachment {
            url: None,
            media_id: Some(self.file_id),
            mime_type: self.mime_type,
            filename: self.file_name,
            ..Attachment::default()
        }
    }
}

#[derive(Deserialize)]
struct Sticker {
    file_id: String,
    #[serde(default)]
    is_animated: bool,
    #[serde(default)]
    is_video: bool,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
struct Venue {
    location: Location,
    title: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct TgContact {
    phone_number: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    message: Option<CallbackMessage>,
    data: Option<String>,
    game_short_name: Option<String>,
}

#[derive(Deserialize)]
struct CallbackMessage {
    message_id: i64,
    chat: Chat,
    #[serde(default)]
    date: i64,
}

#[derive(Deserialize)]
struct MessageReaction {
    chat: Chat,
    message_id: i64,
    user: Option<User>,
    #[serde(default)]
    date: i64,
    #[serde(default)]
    new_reaction: Vec<ReactionType>,
}

#[derive(Deserialize)]
struct ReactionType {
    #[serde(rename = "type", default)]
    kind: String,
    emoji: Option<String>,
}

fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

fn contact(chat: &Chat, from: Option<&User>) -> Contact {
    let mut c = Contact::new(chat.id.to_string());
    match from {
        Some(u) => {
            c.name = full_name(u.first_name.as_deref(), u.last_name.as_deref());
            c.username = u.username.clone();
            c.language = u.language_code.clone();
        }
        None => {
            c.name = chat.title.clone();
            c.username = chat.username.clone();
        }
    }
    c
}

fn secs(s: i64) -> i64 {
    s.saturating_mul(1000)
}

/// Normalizes one verified Telegram `Update`.
pub fn normalize(
    _settings: &TelegramSettings,
    body: Verified<'_>,
) -> Result<Vec<InboundEvent>, ParseError> {
    let update: Update = serde_json::from_slice(body.body())
        .map_err(|e| ParseError::new(format!("not a Telegram update: {e}")))?;
    let mut events = Vec::new();
    if let Some(raw) = &update.message {
        events.push(message_event(raw, false)?);
    } else if let Some(raw) = &update.edited_message {
        events.push(message_event(raw, true)?);
    } else if let Some(q) = update.callback_query {
        let (chat_contact, reply_to, date) = match &q.message {
            Some(m) => (
                contact(&m.chat, Some(&q.from)),
                Some(format!("{}:{}", m.chat.id, m.message_id)),
                m.date,
            ),
            None => {
                let mut c = Contact::new(q.from.id.to_string());
                c.name = full_name(q.from.first_name.as_deref(), q.from.last_name.as_deref());
                c.username = q.from.username.clone();
                c.language = q.from.language_code.clone();
                (c, None, 0)
            }
        };
        let payload = q.data.or(q.game_short_name).unwrap_or_default();
        events.push(InboundEvent::Message(InboundMessage {
            contact: chat_contact,
            platform_id: format!("callback:{}", q.id),
            direction: Direction::Inbound,
            content: Content::Postback {
                title: payload.clone(),
                payload,
            },
            reply_to,
            timestamp_ms: secs(date),
        }));
    } else if let Some(r) = update.message_reaction {
        let emoji = r
            .new_reaction
            .iter()
            .find(|t| t.kind == "emoji")
            .and_then(|t| t.emoji.clone())
            .or_else(|| (!r.new_reaction.is_empty()).then(|| "custom".to_string()))
            .unwrap_or_default();
        events.push(InboundEvent::Message(InboundMessage {
            contact: contact(&r.chat, r.user.as_ref()),
            platform_id: format!("update:{}", update.update_id),
            direction: Direction::Inbound,
            content: Content::Reaction {
                emoji,
                target_platform_id: format!("{}:{}", r.chat.id, r.message_id),
            },
            reply_to: None,
            timestamp_ms: secs(r.date),
        }));
    }
    Ok(events)
}

fn message_event(raw: &Value, edited: bool) -> Result<InboundEvent, ParseError> {
    let m = Message::deserialize(raw)
        .map_err(|e| ParseError::new(format!("malformed Telegram message: {e}")))?;
    let own_id = format!("{}:{}", m.chat.id, m.message_id);
    let (platform_id, reply_to, timestamp_ms) = if edited {
        let edit_date = m.edit_date.unwrap_or(m.date);
        (
            format!("{own_id}:edit:{edit_date}"),
            Some(own_id),
            secs(edit_date),
        )
    } else {
        (
            own_id,
            m.reply_to_message
                .as_ref()
                .map(|r| format!("{}:{}", m.chat.id, r.message_id)),
            secs(m.date),
        )
    };
    let contact = contact(&m.chat, m.from.as_ref());
    let caption = m.caption.clone().filter(|c| !c.is_empty());
    let content = if let Some(text) = m.text {
        Content::Text { text }
    } else if let Some(photo) = m.photo.into_iter().last() {
        Content::Image {
            attachment: photo.attachment(),
            caption,
        }
    } else if let Some(a) = m.audio.or(m.voice) {
        Content::Audio {
            attachment: a.attachment(),
        }
    } else if let Some(v) = m.video.or(m.animation).or(m.video_note) {
        Content::Video {
            attachment: v.attachment(),
            caption,
        }
    } else if let Some(d) = m.document {
        Content::File {
            attachment: d.attachment(),
            caption,
        }
    } else if let Some(s) = m.sticker {
        let mime = if s.is_video {
            "video/webm"
        } else if s.is_animated {
            "application/x-tgsticker"
        } else {
            "image/webp"
        };
        Content::Sticker {
            attachment: Attachment {
                media_id: Some(s.file_id),
                mime_type: Some(mime.into()),
                ..Attachment::default()
            },
        }
    } else if let Some(v) = m.venue {
        Content::Location {
            latitude: v.location.latitude,
            longitude: v.location.longitude,
            name: v.title,
            address: v.address,
        }
    } else if let Some(l) = m.location {
        Content::Location {
            latitude: l.latitude,
            longitude: l.longitude,
            name: None,
            address: None,
        }
    } else if let Some(c) = m.contact {
        Content::Contacts {
            contacts: vec![SharedContact {
                name: full_name(c.first_name.as_deref(), c.last_name.as_deref())
                    .unwrap_or_default(),
                phones: c.phone_number.into_iter().collect(),
                emails: Vec::new(),
            }],
        }
    } else {
        Content::Unsupported {
            platform_type: if edited { "edited_message" } else { "message" }.into(),
            raw: raw.clone(),
        }
    };
    Ok(InboundEvent::Message(InboundMessage {
        contact,
        platform_id,
        direction: Direction::Inbound,
        content,
        reply_to,
        timestamp_ms,
    }))
}

/// The `sendMessage` request for a text reply. `reply_to` is one of our
/// Telegram platform ids (`{chat_id}:{message_id}…`).
pub fn build_send(
    settings: &TelegramSettings,
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
                "Telegram cannot send a {} message yet",
                other.kind()
            ))
        }
    };
    let chat_id = match contact.external_id.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(contact.external_id.clone()),
    };
    let mut body = serde_json::json!({ "chat_id": chat_id, "text": text });
    let reply_mid = reply_to
        .and_then(|r| r.split(':').nth(1))
        .and_then(|m| m.parse::<i64>().ok());
    if let (Some(mid), Some(obj)) = (reply_mid, body.as_object_mut()) {
        obj.insert(
            "reply_parameters".into(),
            serde_json::json!({ "message_id": mid, "allow_sending_without_reply": true }),
        );
    }
    Ok(OutboundRequest {
        method: "POST",
        url: format!(
            "{}/bot{}/sendMessage",
            ctx.telegram_base.trim_end_matches('/'),
            settings.bot_token
        ),
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    ok: bool,
    result: Option<SentMessage>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct SentMessage {
    message_id: i64,
    chat: Option<SentChat>,
}

#[derive(Deserialize)]
struct SentChat {
    id: i64,
}

/// Reads the Bot API's answer: `{"ok": true, "result": {"message_id", "chat"}}`
/// on success, `{"ok": false, "error_code", "description"}` otherwise.
pub fn classify(status: u16, body: &[u8]) -> SendOutcome {
    let answer = serde_json::from_slice::<Answer>(body).ok();
    if (200..300).contains(&status) {
        return match answer {
            Some(Answer {
                ok: true,
                result: Some(r),
                ..
            }) => SendOutcome::Sent {
                platform_id: match r.chat {
                    Some(c) => format!("{}:{}", c.id, r.message_id),
                    None => format!("sent:{}", r.message_id),
                },
            },
            _ => SendOutcome::Failed {
                error: format!("Telegram answered {status} without a message id"),
            },
        };
    }
    let detail = answer.and_then(|a| a.description).unwrap_or_default();
    crate::outbound::refusal(status, &detail, crate::outbound::is_transient(status))
}
