//! Platform webhooks: `/webhooks/{channel}/{inbox_id}`.
//!
//! Verify on the raw bytes, then parse, then store: one object call per
//! conversation the webhook touches, all in parallel, and 200 only when
//! every one of them has stored its events. A platform that gets anything
//! else retries, and platform ids make the retry store nothing twice.

use crate::db;
use crate::http::{json, query, raw_body_bytes, ApiError, ApiResult};
use crate::objects::internal::{IngestRequest, IngestResult};
use crate::objects::{self};
use crate::runtime::{now_ms, now_secs};
use futures::future::join_all;
use switchboard_core::channels::{Channel, Headers};
use switchboard_core::ids::{conversation_id, is_id};
use switchboard_core::inbound::InboundEvent;
use switchboard_core::verify::constant_time_eq;
use worker::worker_sys::web_sys;
use worker::{Env, Request, Response};

/// The largest webhook body accepted: WhatsApp sends up to 3 MB; anything
/// above 4 MiB gets 413.
pub const WEBHOOK_BODY_LIMIT: usize = 4 * 1024 * 1024;

struct RequestHeaders(web_sys::Headers);

impl Headers for RequestHeaders {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).ok().flatten()
    }
}

async fn find_inbox(env: &Env, channel: &str, inbox_id: &str) -> ApiResult<std::rc::Rc<db::Inbox>> {
    // The widget talks to /api/widget, never to a webhook.
    let channel = Channel::parse(channel)
        .filter(|c| *c != Channel::Widget)
        .ok_or_else(|| ApiError::not_found("channel"))?;
    if !is_id(inbox_id, "in_") {
        return Err(ApiError::not_found("inbox"));
    }
    let database = db::database(env)?;
    match db::inbox(&database, inbox_id, now_ms()).await? {
        Some(inbox) if inbox.channel() == channel => Ok(inbox),
        _ => Err(ApiError::not_found("inbox")),
    }
}

/// # `GET /webhooks/{channel}/{inbox_id}`
/// Meta's subscription handshake: answers `hub.challenge` when `hub.mode`
/// is `subscribe` and `hub.verify_token` equals the inbox's; 403 otherwise.
pub async fn handshake(
    req: Request,
    env: &Env,
    channel: &str,
    inbox_id: &str,
) -> ApiResult<Response> {
    let inbox = find_inbox(env, channel, inbox_id).await?;
    let expected = inbox
        .settings
        .verify_token()
        .ok_or_else(|| ApiError::new(405, "this channel has no verification handshake"))?;
    let mode = query(&req, "hub.mode").unwrap_or_default();
    let token = query(&req, "hub.verify_token").unwrap_or_default();
    let challenge = query(&req, "hub.challenge").unwrap_or_default();
    if mode != "subscribe" || !constant_time_eq(token.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::forbidden(
            "hub.verify_token does not match this inbox",
        ));
    }
    Ok(Response::ok(challenge)?)
}

/// # `POST /webhooks/{channel}/{inbox_id}`
/// - 401 for a missing or wrong signature, checked on the raw body before
///   any parsing; nothing is stored.
/// - 400 for a body that is not the platform's shape; 413 above 4 MiB;
///   404 for an unknown or deleted inbox.
/// - 200 `{stored, duplicates, updated}` only after every event is in its
///   conversation's SQLite. Redeliveries store nothing new and still get 200.
///
/// Takes the runtime's request as it came (the worker's entry hands it over
/// before `worker::Request`'s conversion, which also parses `cf`): it needs
/// only the headers and the raw body.
pub async fn receive(
    req: web_sys::Request,
    env: &Env,
    channel: &str,
    inbox_id: &str,
) -> ApiResult<Response> {
    let inbox = find_inbox(env, channel, inbox_id).await?;
    let body = raw_body_bytes(&req, WEBHOOK_BODY_LIMIT).await?;
    let headers = RequestHeaders(req.headers());
    let verified = inbox
        .settings
        .verify(&headers, &body, now_secs())
        .map_err(|e| {
            worker::console_warn!("webhook for inbox {}: refused: {}", inbox.id, e.reason());
            ApiError::unauthorized("signature verification failed")
        })?;
    let events = inbox
        .settings
        .normalize(verified)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let total = store(env, &inbox, events).await?;
    Ok(json(200, &total)?)
}

/// Stores `events` of `inbox`: one `/ingest` call per conversation, in
/// parallel, each with that conversation's events in the platform's order.
/// Done only when every object has stored its part. The test message
/// (`routes/inbox_setup.rs`) comes in this same way.
pub(super) async fn store(
    env: &Env,
    inbox: &std::rc::Rc<db::Inbox>,
    events: Vec<InboundEvent>,
) -> ApiResult<IngestResult> {
    // Group by conversation, keeping the platform's order inside each.
    let mut groups: Vec<(String, Vec<InboundEvent>)> = Vec::new();
    for event in events {
        let cv = conversation_id(&inbox.id, &event.contact().external_id);
        match groups.iter_mut().find(|(id, _)| *id == cv) {
            Some((_, list)) => list.push(event),
            None => groups.push((cv, vec![event])),
        }
    }

    let calls = groups.into_iter().map(|(cv, events)| {
        let inbox = inbox.clone();
        async move {
            let stub = objects::conversation_stub(env, &inbox.workspace_id, &cv)?;
            let body = serde_json::to_string(&IngestRequest {
                workspace_id: inbox.workspace_id.clone(),
                inbox_id: inbox.id.clone(),
                channel: inbox.channel().as_str().to_string(),
                conversation_id: cv,
                events,
            })
            .map_err(|e| ApiError::internal("serializing an ingest", e))?;
            objects::ingest(stub, &body).await?.map_err(|e| {
                ApiError::internal(
                    "conversation object refused an ingest",
                    format!("{} {}", e.status, e.reason),
                )
            })
        }
    });
    let mut total = IngestResult::default();
    for result in join_all(calls).await {
        let r = result?;
        total.stored += r.stored;
        total.duplicates += r.duplicates;
        total.updated += r.updated;
    }
    Ok(total)
}
