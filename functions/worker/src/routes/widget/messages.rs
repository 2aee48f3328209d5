//! The visitor writes, reads and listens.

use super::{address, optional_text, socket_visitor, throttle, visitor, Cors};
use crate::http::{json, json_body, query_int, ApiError, ApiResult};
use crate::objects::internal::IngestRequest;
use crate::objects::{self, HEADER_VISITOR, HEADER_WORKSPACE};
use crate::routes::conversations::require_upgrade;
use crate::runtime::{now_ms, random_bytes};
use serde::Deserialize;
use switchboard_core::channels::Channel;
use switchboard_core::inbound::{InboundEvent, InboundMessage};
use switchboard_core::model::{Contact, Content, Direction};
use worker::{Env, Method, Request, Response};

/// Messages a minute, per visitor and per address.
const MESSAGES_PER_VISITOR: i64 = 20;
const MESSAGES_PER_ADDRESS: i64 = 60;

#[derive(Deserialize)]
struct MessageIn {
    #[serde(default)]
    text: String,
    /// An upload of this conversation (`POST /api/widget/attachments`);
    /// `text` is then its optional caption.
    #[serde(default)]
    attachment_id: Option<String>,
    /// The widget's own id for the message: a retry with the same id is
    /// stored once.
    client_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    /// The visitor's browser language (`navigator.language`): the
    /// conversation's customer language, what replies are translated into.
    #[serde(default)]
    language: Option<String>,
    /// Left with the leave-a-message form (no agent online, or outside
    /// business hours): agents find it under `?offline=true`.
    #[serde(default)]
    offline: bool,
}

/// # `POST /api/widget/messages` `{text, attachment_id?, client_id?, name?, email?, language?, offline?}`
/// The visitor writes (`attachment_id`: an upload, `text` its caption).
/// Stored in the conversation before the 201; a retry
/// with the same `client_id` is stored once. `offline: true` (the
/// leave-a-message form; `email` required) marks the conversation offline
/// for agents. 429 with `Retry-After` past 20 a minute per visitor or 60
/// per address.
pub async fn write(mut req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let v = visitor(&req, env, cors, None).await?;
    let input: MessageIn = json_body(&mut req).await?;
    let text = input.text.trim().to_string();
    let content = match input.attachment_id {
        Some(id) => {
            if text.chars().count() > 1024 {
                return Err(ApiError::bad_request(
                    "a caption is at most 1024 characters",
                ));
            }
            // The conversation's record fills in the file (422 if none).
            Content::File {
                attachment: switchboard_core::model::Attachment {
                    id: Some(id),
                    ..Default::default()
                },
                caption: (!text.is_empty()).then_some(text),
            }
        }
        None => {
            if text.is_empty() || text.chars().count() > 4096 {
                return Err(ApiError::bad_request("text must be 1 to 4096 characters"));
            }
            Content::Text { text }
        }
    };
    let client_id = match input.client_id {
        Some(c) if !c.is_empty() && c.len() <= 64 => c,
        Some(_) => {
            return Err(ApiError::bad_request(
                "client_id must be 1 to 64 characters",
            ))
        }
        None => hex::encode(random_bytes::<16>()?),
    };
    let contact = Contact {
        external_id: v.external_id.clone(),
        name: optional_text("name", input.name, 100)?,
        email: optional_text("email", input.email, 254)?,
        language: match input.language.as_deref() {
            None => None,
            Some(l) => Some(
                switchboard_core::translation::language::normalize(l).ok_or_else(|| {
                    ApiError::bad_request("language must be a language tag such as de or pt-BR")
                })?,
            ),
        },
        ..Contact::default()
    };
    if input.offline && !contact.email.as_deref().is_some_and(|e| e.contains('@')) {
        return Err(ApiError::bad_request(
            "a message left while we are away needs an email to answer to",
        ));
    }
    throttle(
        env,
        &v.workspace_id,
        &[
            (format!("msg:v:{}", v.external_id), MESSAGES_PER_VISITOR),
            (format!("msg:ip:{}", address(&req)), MESSAGES_PER_ADDRESS),
        ],
    )
    .await?;
    let body = serde_json::to_string(&IngestRequest {
        workspace_id: v.workspace_id.clone(),
        inbox_id: v.inbox.id.clone(),
        channel: Channel::Widget.as_str().into(),
        conversation_id: v.conversation_id.clone(),
        events: vec![InboundEvent::Message(InboundMessage {
            contact,
            platform_id: format!("widget:{client_id}"),
            direction: Direction::Inbound,
            content,
            reply_to: None,
            timestamp_ms: now_ms(),
        })],
    })
    .map_err(|e| ApiError::internal("serializing a widget message", e))?;
    let stub = objects::conversation_stub(env, &v.workspace_id, &v.conversation_id)?;
    let stored = match objects::ingest(stub, &body).await? {
        Ok(stored) => stored,
        // A refusal of ours (an unknown attachment_id) reaches the visitor.
        Err(e) if (400..500).contains(&e.status) => return Err(e),
        Err(e) => {
            return Err(ApiError::internal(
                "conversation object refused a widget message",
                format!("{} {}", e.status, e.reason),
            ))
        }
    };
    if input.offline {
        let body = serde_json::json!({ "conversation_id": v.conversation_id }).to_string();
        let ws = objects::workspace_stub(env, &v.workspace_id)?;
        objects::call(
            &ws,
            objects::internal_request(Method::Post, "/offline", Some(body), &[])?,
        )
        .await?;
    }
    Ok(json(
        201,
        &serde_json::json!({
            "conversation_id": v.conversation_id,
            "platform_id": format!("widget:{client_id}"),
            "duplicate": stored.duplicates > 0,
        }),
    )?)
}

/// # `GET /api/widget/events?since=<seq>&wait=<seconds>`
/// The visitor's long-poll: the conversation's events after `since`,
/// without private notes and internal activity.
pub async fn events(req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let v = visitor(&req, env, cors, None).await?;
    let since = query_int(&req, "since")?.unwrap_or(0);
    let wait = query_int(&req, "wait")?.unwrap_or(0);
    let stub = objects::conversation_stub(env, &v.workspace_id, &v.conversation_id)?;
    let identity = [
        (HEADER_WORKSPACE, v.workspace_id.as_str()),
        (HEADER_VISITOR, v.conversation_id.as_str()),
    ];
    let path = format!("/events?since={since}&wait={wait}");
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &identity)?,
    )
    .await
}

/// # WebSocket `GET /api/widget/live?since=<seq>&ticket=<ticket>`
/// The visitor's socket: events after `since` (private ones excluded),
/// then live; `{"type":"typing"}` and `{"type":"read","seq":N}` may be
/// sent. A browser's `Origin` must be one the inbox allows. The widget
/// authenticates with a single-use ticket (`POST /api/widget/ticket`);
/// server-side clients may pass `?token=<visitor token>`.
pub async fn live(req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let v = socket_visitor(&req, env, cors).await?;
    require_upgrade(&req)?;
    let since = query_int(&req, "since")?.unwrap_or(0);
    let stub = objects::conversation_stub(env, &v.workspace_id, &v.conversation_id)?;
    let identity = [
        (HEADER_WORKSPACE, v.workspace_id.as_str()),
        (HEADER_VISITOR, v.conversation_id.as_str()),
    ];
    objects::call(
        &stub,
        objects::forward_request(&req, &format!("/live?since={since}"), &identity)?,
    )
    .await
}

/// # `POST /api/widget/ticket`
/// With the visitor token in `Authorization: Bearer`: a ticket for one
/// visitor socket, `{ticket, expires_in}` (30 seconds, single use), so the
/// visitor token never appears in a URL.
pub async fn ticket(req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let v = visitor(&req, env, cors, None).await?;
    let config = crate::config::Config::from_env(env);
    let (ticket, expires_in) = crate::tickets::issue(
        &config,
        &crate::tickets::Holder {
            sub: &v.external_id,
            ws: &v.workspace_id,
            role: "visitor",
            sid: &v.inbox.id,
            ver: 0,
        },
    )?;
    Ok(json(
        201,
        &serde_json::json!({ "ticket": ticket, "expires_in": expires_in }),
    )?)
}
