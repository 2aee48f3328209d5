//! The website widget's API, for visitors.
//!
//! A visitor gets a token for one conversation from
//! `POST /api/widget/{inbox_id}/session` and with it can write, read the
//! conversation's events (private notes excluded) and hold a live socket —
//! nothing else. Identity: when the business's page passes `user_id` and
//! `user_hash = hex(HMAC-SHA256(identity_secret, user_id))`, the visitor is
//! that customer on every device; a wrong hash is refused, so nobody can
//! pose as another customer. Otherwise the visitor is anonymous, known by a
//! random `visitor_id` the widget keeps.

use super::conversations::require_upgrade;
use crate::config::Config;
use crate::db;
use crate::http::{json, json_body, query, query_int, ApiError, ApiResult};
use crate::objects::internal::{IngestRequest, IngestResult};
use crate::objects::{self, HEADER_VISITOR, HEADER_WORKSPACE};
use crate::runtime::{now_ms, now_secs, random_bytes};
use serde::Deserialize;
use switchboard_core::channels::{Channel, Settings};
use switchboard_core::ids::{conversation_id, is_id};
use switchboard_core::inbound::{InboundEvent, InboundMessage};
use switchboard_core::model::{Contact, Content, Direction};
use switchboard_core::token::{self, Claims};
use worker::{Env, Method, Request, Response};

/// How long a visitor token lasts (30 days); the widget asks for a new one
/// with the same `visitor_id` when it expires.
const VISITOR_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Deserialize)]
struct SessionIn {
    visitor_id: Option<String>,
    user_id: Option<String>,
    user_hash: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

fn optional_text(field: &str, v: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v.map(|s| s.trim().to_string()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() <= max => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!(
            "{field} must be at most {max} characters"
        ))),
    }
}

/// # `POST /api/widget/{inbox_id}/session`
/// `{visitor_id?, user_id?, user_hash?, name?, email?}` → 201 `{token,
/// conversation_id, visitor_id, verified}`. With `user_id`, `user_hash`
/// must verify against the inbox's identity secret (401 otherwise).
pub async fn session(mut req: Request, env: &Env, inbox_id: &str) -> ApiResult<Response> {
    let input: SessionIn = json_body(&mut req).await?;
    let database = db::database(env)?;
    let inbox = match is_id(inbox_id, "in_") {
        true => db::inbox(&database, inbox_id, now_ms()).await?,
        false => None,
    }
    .filter(|i| i.channel() == Channel::Widget)
    .ok_or_else(|| ApiError::not_found("widget inbox"))?;
    let Settings::Widget(widget) = &inbox.settings else {
        return Err(ApiError::not_found("widget inbox"));
    };
    let (external_id, visitor_id, verified) = match (input.user_id, input.user_hash) {
        (Some(user_id), Some(hash)) => {
            let user_id = optional_text("user_id", Some(user_id), 128)?
                .ok_or_else(|| ApiError::bad_request("user_id must not be empty"))?;
            if !widget.verify_identity(&user_id, &hash) {
                return Err(ApiError::unauthorized("user_hash does not verify user_id"));
            }
            (format!("user:{user_id}"), None, true)
        }
        (Some(_), None) => {
            return Err(ApiError::unauthorized(
                "user_id needs user_hash = HMAC-SHA256(identity secret, user_id)",
            ))
        }
        _ => {
            let visitor_id = match input.visitor_id {
                Some(v) if is_id(&v, "v_") => v,
                Some(_) => {
                    return Err(ApiError::bad_request("visitor_id is not one this API gave"))
                }
                None => format!("v_{}", hex::encode(random_bytes::<16>()?)),
            };
            (visitor_id.clone(), Some(visitor_id), false)
        }
    };
    let config = Config::from_env(env);
    let cv = conversation_id(&inbox.id, &external_id);
    let token = token::sign(
        &config.session_secret,
        // A visitor token names the contact and its inbox; the conversation
        // follows from them, so it cannot be pointed anywhere else.
        &Claims {
            sub: external_id.clone(),
            ws: inbox.workspace_id.clone(),
            role: "visitor".into(),
            exp: now_secs() + VISITOR_TTL_SECS,
            ver: 0,
            sid: inbox.id.clone(),
        },
    );
    let contact = Contact {
        external_id,
        name: optional_text("name", input.name, 100)?,
        email: optional_text("email", input.email, 254)?,
        ..Contact::default()
    };
    Ok(json(
        201,
        &serde_json::json!({
            "token": token, "conversation_id": cv, "visitor_id": visitor_id,
            "verified": verified, "contact": contact,
        }),
    )?)
}

/// A visitor, proven by a visitor token. Only [`visitor`] makes one.
struct Visitor {
    /// The contact's id in this inbox (`user:…` or `v_…`).
    external_id: String,
    conversation_id: String,
    workspace_id: String,
    inbox: std::rc::Rc<db::Inbox>,
}

async fn visitor(req: &Request, env: &Env) -> ApiResult<Visitor> {
    let config = Config::from_env(env);
    let token = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| query(req, "token"))
        .ok_or_else(|| ApiError::unauthorized("missing visitor token"))?;
    let claims = token::verify(&config.session_secret, &token, now_secs())
        .map_err(|e| ApiError::unauthorized(e.reason()))?;
    if claims.role != "visitor" {
        return Err(ApiError::unauthorized("not a visitor token"));
    }
    let database = db::database(env)?;
    let inbox = db::inbox(&database, &claims.sid, now_ms())
        .await?
        .filter(|i| i.workspace_id == claims.ws)
        .ok_or_else(|| ApiError::not_found("widget inbox"))?;
    Ok(Visitor {
        conversation_id: conversation_id(&inbox.id, &claims.sub),
        external_id: claims.sub,
        workspace_id: claims.ws,
        inbox,
    })
}

#[derive(Deserialize)]
struct MessageIn {
    text: String,
    /// The widget's own id for the message: a retry with the same id is
    /// stored once.
    client_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// # `POST /api/widget/messages` `{text, client_id?, name?, email?}`
/// The visitor writes. Stored in the conversation (created by the first
/// message) before the 201; a retry with the same `client_id` is stored
/// once.
pub async fn write(mut req: Request, env: &Env) -> ApiResult<Response> {
    let v = visitor(&req, env).await?;
    let input: MessageIn = json_body(&mut req).await?;
    let text = input.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 4096 {
        return Err(ApiError::bad_request("text must be 1 to 4096 characters"));
    }
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
        ..Contact::default()
    };
    let body = serde_json::to_string(&IngestRequest {
        workspace_id: v.workspace_id.clone(),
        inbox_id: v.inbox.id.clone(),
        channel: Channel::Widget.as_str().into(),
        conversation_id: v.conversation_id.clone(),
        events: vec![InboundEvent::Message(InboundMessage {
            contact,
            platform_id: format!("widget:{client_id}"),
            direction: Direction::Inbound,
            content: Content::Text { text },
            reply_to: None,
            timestamp_ms: now_ms(),
        })],
    })
    .map_err(|e| ApiError::internal("serializing a widget message", e))?;
    let stub = objects::conversation_stub(env, &v.workspace_id, &v.conversation_id)?;
    let mut answer = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/ingest", Some(body), &[])?,
    )
    .await?;
    if answer.status_code() != 200 {
        return Err(ApiError::internal(
            "conversation object refused a widget message",
            answer.status_code(),
        ));
    }
    let stored: IngestResult = answer
        .json()
        .await
        .map_err(|e| ApiError::internal("reading an ingest answer", e))?;
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
pub async fn events(req: Request, env: &Env) -> ApiResult<Response> {
    let v = visitor(&req, env).await?;
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

/// # WebSocket `GET /api/widget/live?since=<seq>&token=<visitor token>`
/// The visitor's socket: events after `since` (private ones excluded),
/// then live.
pub async fn live(req: Request, env: &Env) -> ApiResult<Response> {
    let v = visitor(&req, env).await?;
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
