//! The website widget's API, for visitors on the business's own site.
//!
//! A visitor gets a token for one conversation from
//! `POST /api/widget/{inbox_id}/session` and with it can write, read the
//! conversation's events (private ones excluded), hold a live socket and
//! report the page they are on — nothing else. Every answer here is for
//! the inbox's allowed origins only (`settings.allowed_origins`; empty
//! allows pages on localhost): a browser on another origin gets 403
//! without CORS headers, so it can read nothing. Sessions and messages are
//! rate-limited per visitor and per address (429 with `Retry-After`).
//!
//! One module per concern: `session` (sessions and the public config),
//! `messages` (writing, events, the socket), `files` (uploads and stored
//! files), `visit` (page views,
//! heartbeats, availability and business hours).

mod files;
mod messages;
mod session;
mod visit;

use crate::config::Config;
use crate::db;
use crate::http::{error_response, query, ApiError, ApiResult};
use crate::objects;
use crate::runtime::{now_ms, now_secs};
use std::cell::Cell;
use switchboard_core::channels::widget::WidgetSettings;
use switchboard_core::channels::{Channel, Settings};
use switchboard_core::ids::{conversation_id, is_id};
use switchboard_core::token;
use worker::{Env, Headers, Method, Request, Response};

/// The caller's page origin and whether it turned out to be refused.
pub(crate) struct Cors {
    origin: Option<String>,
    refused: Cell<bool>,
}

impl Cors {
    /// Browsers send `Origin` on every cross-origin call and WebSocket;
    /// a request without one is not from a page and has no origin to check.
    pub(crate) fn check(&self, settings: &WidgetSettings) -> ApiResult<()> {
        match self.origin.as_deref() {
            Some(o) if !settings.origin_allowed(o) => {
                self.refused.set(true);
                Err(ApiError::forbidden(
                    "this page's origin is not allowed to use this widget",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Everything under `/api/widget/`.
pub async fn handle(req: Request, env: &Env, rest: &[&str]) -> worker::Result<Response> {
    let cors = Cors {
        origin: req.headers().get("origin").ok().flatten(),
        refused: Cell::new(false),
    };
    let method = req.method();
    if method == Method::Options {
        return preflight(&cors);
    }
    let result = match (method, rest) {
        (Method::Get, [inbox, "config"]) => session::config(req, env, &cors, inbox).await,
        (Method::Post, [inbox, "session"]) => session::session(req, env, &cors, inbox).await,
        (Method::Post, ["messages"]) => messages::write(req, env, &cors).await,
        (Method::Get, ["events"]) => messages::events(req, env, &cors).await,
        (Method::Get, ["live"]) => messages::live(req, env, &cors).await,
        (Method::Post, ["ticket"]) => messages::ticket(req, env, &cors).await,
        (Method::Post, ["visit"]) => visit::visit(req, env, &cors).await,
        (Method::Post, ["attachments"]) => files::upload(req, env, &cors).await,
        (Method::Get, ["attachments", id]) => files::serve(req, env, &cors, id).await,
        (method, rest) => match super::methods::widget_allowed(rest) {
            [] => Err(ApiError::not_found("widget route")),
            allowed => Err(super::methods::not_allowed(method.as_ref(), allowed)),
        },
    };
    let resp = match result {
        Ok(r) => r,
        Err(e) if e.status == 405 => {
            let mut r = error_response(&e)?;
            let allowed = super::methods::widget_allowed(rest).join(", ");
            r.headers_mut().set("allow", &allowed)?;
            r
        }
        Err(e) => error_response(&e)?,
    };
    if resp.status_code() == 101 {
        return Ok(resp);
    }
    with_cors(resp, &cors)
}

/// A preflight is answered for any origin: it reveals nothing, and the
/// request that follows is checked against the inbox's origins.
fn preflight(cors: &Cors) -> worker::Result<Response> {
    let resp = Response::empty()?.with_status(204);
    let headers = Headers::new();
    if let Some(o) = &cors.origin {
        headers.set("access-control-allow-origin", o)?;
        headers.set("access-control-allow-methods", "GET, POST, OPTIONS")?;
        headers.set(
            "access-control-allow-headers",
            "authorization, content-type",
        )?;
        headers.set("access-control-max-age", "600")?;
        headers.set("vary", "origin")?;
    }
    Ok(resp.with_headers(headers))
}

/// Copies the answer's headers (an object's answer has immutable ones)
/// and adds CORS for an origin that was not refused.
fn with_cors(resp: Response, cors: &Cors) -> worker::Result<Response> {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v)?;
    }
    headers.append("vary", "origin")?;
    if let (Some(o), false) = (&cors.origin, cors.refused.get()) {
        headers.set("access-control-allow-origin", o)?;
        headers.set("access-control-expose-headers", "retry-after")?;
    }
    Ok(resp.with_headers(headers))
}

/// The widget inbox named in a path, or 404.
pub(crate) async fn widget_inbox(env: &Env, inbox_id: &str) -> ApiResult<std::rc::Rc<db::Inbox>> {
    let database = db::database(env)?;
    match is_id(inbox_id, "in_") {
        true => db::inbox(&database, inbox_id, now_ms()).await?,
        false => None,
    }
    .filter(|i| i.channel() == Channel::Widget)
    .ok_or_else(|| ApiError::not_found("widget inbox"))
}

pub(crate) fn widget_settings(inbox: &db::Inbox) -> ApiResult<&WidgetSettings> {
    match &inbox.settings {
        Settings::Widget(w) => Ok(w),
        _ => Err(ApiError::not_found("widget inbox")),
    }
}

/// A visitor, proven by a visitor token. Only [`visitor`] makes one.
pub(crate) struct Visitor {
    /// The contact's id in this inbox (`user:…` or `v_…`).
    pub external_id: String,
    pub conversation_id: String,
    pub workspace_id: String,
    pub inbox: std::rc::Rc<db::Inbox>,
}

/// The visitor of the token in `Authorization: Bearer`, the `token` query
/// parameter (server-side clients; the widget opens its socket with a
/// ticket, see [`socket_visitor`]) or `body_token` (a beacon cannot send
/// headers), checked against the inbox's origins.
pub(crate) async fn visitor(
    req: &Request,
    env: &Env,
    cors: &Cors,
    body_token: Option<&str>,
) -> ApiResult<Visitor> {
    let config = Config::from_env(env);
    let token = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|h| h.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| query(req, "token"))
        .or_else(|| body_token.map(str::to_string))
        .ok_or_else(|| ApiError::unauthorized("missing visitor token"))?;
    let claims = token::verify(&config.session_secret, &token, now_secs())
        .map_err(|e| ApiError::unauthorized(e.reason()))?;
    if claims.role != "visitor" {
        return Err(ApiError::unauthorized("not a visitor token"));
    }
    visitor_of(env, cors, claims.sub, claims.ws, &claims.sid).await
}

/// The visitor opening a socket: a ticket in `?ticket=` (from
/// `POST /api/widget/ticket`, used up here), else [`visitor`]'s token.
pub(crate) async fn socket_visitor(req: &Request, env: &Env, cors: &Cors) -> ApiResult<Visitor> {
    let Some(raw) = query(req, "ticket") else {
        return visitor(req, env, cors, None).await;
    };
    let config = Config::from_env(env);
    let t = crate::tickets::redeem(env, &config, &raw).await?;
    if t.role != "visitor" {
        return Err(ApiError::unauthorized("not a visitor's ticket"));
    }
    visitor_of(env, cors, t.sub, t.ws, &t.sid).await
}

/// The visitor `external_id` of `inbox_id` in `workspace_id` (all from a
/// verified token or ticket).
async fn visitor_of(
    env: &Env,
    cors: &Cors,
    external_id: String,
    workspace_id: String,
    inbox_id: &str,
) -> ApiResult<Visitor> {
    let database = db::database(env)?;
    let inbox = db::inbox(&database, inbox_id, now_ms())
        .await?
        .filter(|i| i.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("widget inbox"))?;
    cors.check(widget_settings(&inbox)?)?;
    Ok(Visitor {
        conversation_id: conversation_id(&inbox.id, &external_id),
        external_id,
        workspace_id,
        inbox,
    })
}

/// The caller's address, as Cloudflare gives it.
pub(crate) fn address(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into())
}

/// Counts one request against each `(key, limit per minute)` in the
/// workspace's object; 429 with `Retry-After` when any is over.
pub(crate) async fn throttle(
    env: &Env,
    workspace_id: &str,
    keys: &[(String, i64)],
) -> ApiResult<()> {
    #[derive(serde::Deserialize)]
    struct Answer {
        allowed: bool,
        retry_after: i64,
    }
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|(key, limit)| serde_json::json!({"key": key, "limit": limit, "window_secs": 60}))
        .collect();
    let body = serde_json::json!({ "keys": keys }).to_string();
    let stub = objects::workspace_stub(env, workspace_id)?;
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/throttle", Some(body), &[])?,
    )
    .await?;
    let answer: Answer = resp
        .json()
        .await
        .map_err(|e| ApiError::internal("reading a rate limit", e))?;
    if answer.allowed {
        Ok(())
    } else {
        Err(ApiError::too_many(
            "too many requests from this visitor; try again later",
            answer.retry_after,
        ))
    }
}

/// Trims `v`; empty is none, longer than `max` characters a 400.
pub(crate) fn optional_text(
    field: &str,
    v: Option<String>,
    max: usize,
) -> ApiResult<Option<String>> {
    match v.map(|s| s.trim().to_string()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() <= max => Ok(Some(s)),
        Some(_) => Err(ApiError::bad_request(format!(
            "{field} must be at most {max} characters"
        ))),
    }
}
