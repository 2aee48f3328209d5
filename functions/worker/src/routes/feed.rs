//! The workspace feed for dashboards: conversations as they change.

use super::conversations::require_upgrade;
use crate::auth::{self, Agent};
use crate::http::{query_int, ApiResult};
use crate::objects::{self, HEADER_AGENT, HEADER_WORKSPACE};
use worker::{Env, Method, Request, Response};

async fn caller(req: &Request, env: &Env) -> ApiResult<Agent> {
    auth::caller(req, env).await.map(|(agent, _)| agent)
}

fn since_query(req: &Request, with_wait: bool) -> ApiResult<String> {
    let since = query_int(req, "since")?.unwrap_or(0);
    let wait = if with_wait {
        query_int(req, "wait")?
    } else {
        None
    };
    Ok(match wait {
        Some(w) => format!("?since={since}&wait={w}"),
        None => format!("?since={since}"),
    })
}

/// # WebSocket `GET /api/live?since=<seq>&ticket=<ticket>`
/// The workspace feed: every feed event after `since`, then each new one.
/// Browsers authenticate with a single-use ticket (`POST /api/live/ticket`);
/// server-side clients may pass `?token=` or `Authorization: Bearer`.
pub async fn live(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = auth::socket_caller(&req, env).await?;
    require_upgrade(&req)?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let path = format!("/live{}", since_query(&req, false)?);
    let identity = [
        (HEADER_WORKSPACE, agent.workspace_id.as_str()),
        (HEADER_AGENT, agent.agent_id.as_str()),
    ];
    objects::call(&stub, objects::forward_request(&req, &path, &identity)?).await
}

/// # `GET /api/visitors`
/// The workspace's website visitors on the site now (`online`, or `idle`
/// when their heartbeats are late), each with the page they are on (URL,
/// title, referrer, time on page), language, time zone and whether they
/// have written yet; changes come on the feed as `visitor` events. An
/// agent writes to one with `POST /api/conversations/{conversation_id}/messages`.
pub async fn visitors(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    objects::call(
        &stub,
        objects::internal_request(Method::Get, "/visitors", None, &[])?,
    )
    .await
}

/// # `GET /api/feed?since=<seq>&wait=<seconds>`
/// The long-poll twin of `/api/live`: the same events over plain HTTP.
pub async fn poll(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let path = format!("/feed{}", since_query(&req, true)?);
    objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &[])?,
    )
    .await
}
