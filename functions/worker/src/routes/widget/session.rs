//! Visitor sessions and the widget's public configuration.

use super::{address, optional_text, throttle, widget_inbox, widget_settings, Cors};
use crate::config::Config;
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::objects;
use crate::objects::internal::IngestRequest;
use crate::runtime::{now_secs, random_bytes};
use serde::Deserialize;
use switchboard_core::channels::Channel;
use switchboard_core::ids::{conversation_id, is_id};
use switchboard_core::model::Contact;
use switchboard_core::token::{self, Claims};
use worker::{Env, Method, Request, Response};

/// How long a visitor token lasts (30 days); the widget asks for a new one
/// with the same `visitor_id` when it expires.
const VISITOR_TTL_SECS: i64 = 30 * 24 * 3600;
/// Sessions a minute, per address and per visitor id.
const SESSIONS_PER_ADDRESS: i64 = 30;
const SESSIONS_PER_VISITOR: i64 = 10;

#[derive(Deserialize)]
struct SessionIn {
    visitor_id: Option<String>,
    user_id: Option<String>,
    user_hash: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// # `GET /api/widget/{inbox_id}/config`
/// What the widget needs to draw itself: color, greeting, position,
/// launcher text, agents, reply time, pre-chat form, business hours,
/// offline message, transport, language. Public and cacheable (5 minutes);
/// it holds no secret and not the origin list.
pub async fn config(_req: Request, env: &Env, cors: &Cors, inbox_id: &str) -> ApiResult<Response> {
    let inbox = widget_inbox(env, inbox_id).await?;
    let settings = widget_settings(&inbox)?;
    cors.check(settings)?;
    let mut body = settings.widget_config();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("inbox_id".into(), inbox.id.clone().into());
        obj.insert("name".into(), inbox.name.clone().into());
    }
    let mut resp = json(200, &body)?;
    resp.headers_mut()
        .set("cache-control", "public, max-age=300")?;
    Ok(resp)
}

/// # `POST /api/widget/{inbox_id}/session`
/// `{visitor_id?, user_id?, user_hash?, name?, email?}` → 201 `{token,
/// conversation_id, visitor_id, verified}`. With `user_id`, `user_hash`
/// must verify against the inbox's identity secret (401 otherwise). The
/// conversation exists from here on (without any message), so an agent
/// can write first. 403 for a page of an origin the inbox does not allow;
/// 429 with `Retry-After` past 30 a minute per address or 10 per visitor.
pub async fn session(
    mut req: Request,
    env: &Env,
    cors: &Cors,
    inbox_id: &str,
) -> ApiResult<Response> {
    let inbox = widget_inbox(env, inbox_id).await?;
    let widget = widget_settings(&inbox)?;
    cors.check(widget)?;
    let input: SessionIn = json_body(&mut req).await?;
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
    throttle(
        env,
        &inbox.workspace_id,
        &[
            (
                format!("session:ip:{}", address(&req)),
                SESSIONS_PER_ADDRESS,
            ),
            (format!("session:v:{external_id}"), SESSIONS_PER_VISITOR),
        ],
    )
    .await?;
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
    open_conversation(env, &inbox.workspace_id, &inbox.id, &cv, &contact).await?;
    Ok(json(
        201,
        &serde_json::json!({
            "token": token, "conversation_id": cv, "visitor_id": visitor_id,
            "verified": verified, "contact": contact,
        }),
    )?)
}

/// Has the conversation's object create its row (no event, not listed).
async fn open_conversation(
    env: &Env,
    workspace_id: &str,
    inbox_id: &str,
    cv: &str,
    contact: &Contact,
) -> ApiResult<()> {
    let mut body = serde_json::to_value(IngestRequest {
        workspace_id: workspace_id.into(),
        inbox_id: inbox_id.into(),
        channel: Channel::Widget.as_str().into(),
        conversation_id: cv.into(),
        events: vec![],
    })
    .map_err(|e| ApiError::internal("serializing an open", e))?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "contact".into(),
            serde_json::to_value(contact).unwrap_or_default(),
        );
    }
    let stub = objects::conversation_stub(env, workspace_id, cv)?;
    let answer = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/open", Some(body.to_string()), &[])?,
    )
    .await?;
    if answer.status_code() != 200 {
        return Err(ApiError::internal(
            "conversation object refused an open",
            answer.status_code(),
        ));
    }
    Ok(())
}
