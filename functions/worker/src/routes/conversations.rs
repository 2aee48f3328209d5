//! Conversations: the list, the history, writing, and the live stream.
//!
//! Every call names the conversation's object by the caller's workspace and
//! the id, so an id from another workspace reaches a different, empty object
//! and gets 404 — the wall is in the name, not only in a check.

use crate::auth::{self, Agent};
use crate::db;
use crate::http::{json_body, query, ApiError, ApiResult};
use crate::objects::internal::SendRequest;
use crate::objects::{self, HEADER_AGENT, HEADER_WORKSPACE};
use serde::Deserialize;
use switchboard_core::ids::is_id;
use switchboard_core::model::Content;
use worker::{Env, Method, Request, Response};

pub(super) async fn caller(req: &Request, env: &Env) -> ApiResult<Agent> {
    auth::caller(req, env).await.map(|(agent, _)| agent)
}

pub(super) fn check_id(id: &str) -> ApiResult<()> {
    if is_id(id, "cv_") {
        Ok(())
    } else {
        Err(ApiError::not_found("conversation"))
    }
}

/// The query string to pass on, keeping only `names`.
fn pass_query(req: &Request, names: &[&str]) -> String {
    let pairs: Vec<String> = names
        .iter()
        .filter_map(|n| query(req, n).map(|v| format!("{n}={}", urlencode(&v))))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// # `GET /api/conversations?status=&channel=&assignee=&label=&cursor=&limit=`
/// The caller's workspace's conversations, newest first, from the
/// workspace index; `status` is open (default), pending, resolved, snoozed
/// or all; `assignee` an agent id or `none`; `offline=true` only those left
/// with the widget's leave-a-message form; `next_cursor` pages on.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let path = format!(
        "/conversations{}",
        pass_query(
            &req,
            &["status", "channel", "assignee", "label", "offline", "cursor", "limit"]
        )
    );
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &[])?,
    )
    .await
}

/// # `GET /api/conversations/{id}/messages?before=<seq>&limit=<n>`
/// Up to `limit` (default 50, at most 200) messages before `before`,
/// oldest first.
pub async fn messages(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let path = format!("/messages{}", pass_query(&req, &["before", "limit"]));
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &identity)?,
    )
    .await
}

#[derive(Deserialize)]
struct WriteIn {
    #[serde(default)]
    text: Option<String>,
    /// A canned response's shortcode, sent as its text.
    #[serde(default)]
    canned: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// false: send the original even when the workspace translates.
    #[serde(default)]
    translate: Option<bool>,
    /// The client's own id for the message, so a retry is stored once.
    #[serde(default)]
    client_id: Option<String>,
    /// An upload of this conversation (`POST …/attachments`) to send;
    /// `text` is then its optional caption.
    #[serde(default)]
    attachment_id: Option<String>,
}

/// 1 to 64 visible ASCII characters (a UUID fits).
fn check_client_id(id: Option<String>) -> ApiResult<Option<String>> {
    match id {
        None => Ok(None),
        Some(c) if (1..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(c))
        }
        Some(_) => Err(ApiError::bad_request(
            "client_id must be 1 to 64 visible ASCII characters",
        )),
    }
}

/// # `POST /api/conversations/{id}/messages`
/// `{text}` replies to the customer through the conversation's channel:
/// stored `pending`, sent, then `sent` (or `failed` with the platform's
/// reason; transient failures are retried by the outbox). `{kind: "note",
/// text}` stores a private note that never leaves Switchboard. `{canned:
/// "<shortcode>"}` instead of `text` sends that canned response's text (422
/// if the workspace has none by that shortcode). `{attachment_id, text?}`
/// sends an upload of this conversation (`POST …/attachments`) with `text`
/// as its caption (422 if the conversation has no such upload). 201 with
/// the message as it stands.
///
/// With `client_id` (1 to 64 visible ASCII characters, the client's own id
/// for the message) the write is idempotent in that conversation: a repeat
/// — a retry after a timeout, or two identical requests at once — stores
/// and sends nothing and is answered 200 with the stored message as it
/// stands (its `client_id` included); the same `client_id` with another
/// text, kind or agent is refused with 409.
pub async fn write(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let input: WriteIn = json_body(&mut req).await?;
    let client_id = check_client_id(input.client_id)?;
    if let Some(attachment_id) = input.attachment_id {
        if input.kind.as_deref().is_some_and(|k| k != "text") || input.canned.is_some() {
            return Err(ApiError::bad_request(
                "an attachment is sent as a reply, with text as its caption",
            ));
        }
        let caption = input
            .text
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if caption.as_ref().is_some_and(|c| c.chars().count() > 1024) {
            return Err(ApiError::bad_request(
                "a caption is at most 1024 characters",
            ));
        }
        // The conversation's record fills in the file (422 if it has none
        // by this id).
        let content = Content::File {
            attachment: switchboard_core::model::Attachment {
                id: Some(attachment_id),
                ..Default::default()
            },
            caption,
        };
        return send(env, &agent, id, content, client_id, input.translate).await;
    }
    let text = match (input.text, input.canned) {
        (Some(text), None) => text,
        (None, Some(shortcode)) => {
            let database = db::database(env)?;
            db::canned_by_shortcode(&database, &agent.workspace_id, shortcode.trim())
                .await?
                .map(|c| c.text)
                .ok_or_else(|| ApiError::new(422, "no canned response with that shortcode"))?
        }
        _ => return Err(ApiError::bad_request("send either text or canned")),
    };
    let text = text.trim().to_string();
    if text.is_empty() || text.chars().count() > 4096 {
        return Err(ApiError::bad_request("text must be 1 to 4096 characters"));
    }
    let content = match input.kind.as_deref() {
        None | Some("text") => Content::Text { text },
        Some("note") => Content::Note { text },
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "kind must be text or note, not \"{other}\""
            )))
        }
    };
    send(env, &agent, id, content, client_id, input.translate).await
}

async fn send(
    env: &Env,
    agent: &Agent,
    id: &str,
    content: Content,
    client_id: Option<String>,
    translate: Option<bool>,
) -> ApiResult<Response> {
    let body = serde_json::to_string(&SendRequest {
        agent_id: agent.agent_id.clone(),
        content,
        client_id,
        translate,
    })
    .map_err(|e| ApiError::internal("serializing a send", e))?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    objects::call(
        &stub,
        objects::internal_request(Method::Post, "/messages", Some(body), &identity)?,
    )
    .await
}

/// # `GET /api/conversations/{id}/events?since=<seq>&wait=<seconds>`
/// Every event after `since`, in order (a page of at most 500; ask again
/// from the last `seq`). With `wait` (at most 30) and nothing new, the
/// request is held until an event arrives or the time is up (then
/// `events` is empty). The same events as the WebSocket.
pub async fn events(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let path = format!("/events{}", pass_query(&req, &["since", "wait"]));
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &identity)?,
    )
    .await
}

/// # WebSocket `GET /api/conversations/{id}/live?since=<seq>&ticket=<ticket>`
/// First every event after `since`, in order, then each new one as it is
/// stored, as JSON text frames: no gap and no duplicate between the two.
/// Clients may send `{"type":"typing"}` and `{"type":"read","seq":N}`;
/// `ping` is answered `pong`. Browsers authenticate with a single-use
/// ticket (`POST /api/live/ticket`); server-side clients may pass
/// `?token=` or `Authorization: Bearer`.
pub async fn live(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = auth::socket_caller(&req, env).await?;
    check_id(id)?;
    require_upgrade(&req)?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let path = format!("/live{}", pass_query(&req, &["since"]));
    let identity = [
        (HEADER_WORKSPACE, agent.workspace_id.as_str()),
        (HEADER_AGENT, agent.agent_id.as_str()),
    ];
    objects::call(&stub, objects::forward_request(&req, &path, &identity)?).await
}

pub fn require_upgrade(req: &Request) -> ApiResult<()> {
    let upgrade = req
        .headers()
        .get("upgrade")
        .ok()
        .flatten()
        .unwrap_or_default();
    if upgrade.eq_ignore_ascii_case("websocket") {
        Ok(())
    } else {
        Err(ApiError::new(
            426,
            "this is a WebSocket endpoint; send Upgrade: websocket",
        ))
    }
}

/// # `POST /api/conversations/{id}/read` `{seq}`
/// Records that the caller has read up to `seq` (the HTTP twin of the
/// socket's `read` frame); pushed as a `read` event, and unread counts in
/// the list derive from it.
pub async fn read(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    #[derive(Deserialize, serde::Serialize)]
    struct ReadIn {
        seq: i64,
    }
    let input: ReadIn = json_body(&mut req).await?;
    let body = serde_json::to_string(&input).map_err(|e| ApiError::internal("read body", e))?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let identity = [
        (HEADER_WORKSPACE, agent.workspace_id.as_str()),
        (HEADER_AGENT, agent.agent_id.as_str()),
    ];
    objects::call(
        &stub,
        objects::internal_request(Method::Post, "/read", Some(body), &identity)?,
    )
    .await
}

/// # `GET /api/search?q=<words>&cursor=&limit=`
/// Messages of the caller's workspace whose text matches every word (the
/// last as a prefix), newest first, each with its conversation; paged by
/// `next_cursor`. Search lives in the workspace's object, so it can only
/// ever see that workspace.
pub async fn search(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let path = format!("/search{}", pass_query(&req, &["q", "cursor", "limit"]));
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &[])?,
    )
    .await
}
