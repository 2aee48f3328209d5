//! Socket tickets for agents' browsers (`crate::tickets` has the rules).

use crate::auth;
use crate::config::Config;
use crate::http::{json, ApiResult};
use crate::tickets::{self, Holder};
use worker::{Env, Request, Response};

/// # `POST /api/live/ticket`
/// A ticket for one WebSocket of the caller's (`/api/live`,
/// `/api/conversations/{id}/live`): `{ticket, expires_in}`. Put it in the
/// socket's URL as `?ticket=` within `expires_in` (30) seconds; it opens
/// one socket, once, and is refused (401) after. Browsers use this so that
/// the session token never appears in a URL.
pub async fn issue(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, _) = auth::caller(&req, env).await?;
    let config = Config::from_env(env);
    let (ticket, expires_in) = tickets::issue(
        &config,
        &Holder {
            sub: &agent.agent_id,
            ws: &agent.workspace_id,
            role: agent.role.as_str(),
            sid: agent.session.as_ref().map_or("", |s| s.id.as_str()),
            ver: agent.session.as_ref().map_or(0, |s| s.token_version),
        },
    )?;
    Ok(json(
        201,
        &serde_json::json!({ "ticket": ticket, "expires_in": expires_in }),
    )?)
}
