//! Inboxes: one per connected channel account.

use crate::auth;
use crate::config::Config;
use crate::db::{self, Inbox};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::runtime::{new_id, now_ms};
use serde::Deserialize;
use switchboard_core::channels::{Channel, Settings};
use worker::{Env, Request, Response};

#[derive(Deserialize)]
struct InboxIn {
    channel: String,
    name: String,
    #[serde(default)]
    settings: serde_json::Value,
}

/// The public view of an inbox: its webhook URL and verify token, secrets
/// masked to their last four characters.
fn view(inbox: &Inbox, origin: &str) -> serde_json::Value {
    serde_json::json!({
        "id": inbox.id,
        "channel": inbox.channel().as_str(),
        "name": inbox.name,
        "webhook_url": format!("{origin}/webhooks/{}/{}", inbox.channel().as_str(), inbox.id),
        "settings": inbox.settings.public_view(),
        "options": inbox.options,
        "created_at": inbox.created_at,
    })
}

fn origin(req: &Request) -> String {
    req.url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// # `POST /api/inboxes`
/// Admins only. Creates an inbox for `channel` with its settings (checked
/// per channel) and answers 201 with its webhook URL. Secrets are never
/// echoed back.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let agent = auth::authenticate(&req, &config, &database).await?;
    agent.require_admin()?;
    let input: InboxIn = json_body(&mut req).await?;
    let channel = Channel::parse(&input.channel)
        .ok_or_else(|| ApiError::bad_request(format!("unknown channel \"{}\"", input.channel)))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let settings = Settings::from_json(channel, input.settings).map_err(ApiError::bad_request)?;
    let settings_json = serde_json::to_value(&settings)
        .ok()
        .and_then(|v| v.get("settings").cloned())
        .map(|v| v.to_string())
        .ok_or_else(|| ApiError::internal("serializing inbox settings", "no settings"))?;
    let inbox = Inbox {
        id: new_id("in_")?,
        workspace_id: agent.workspace_id.clone(),
        name: name.to_string(),
        settings,
        options: Default::default(),
        created_at: now_ms(),
    };
    db::create_inbox(&database, &inbox, &settings_json).await?;
    Ok(json(201, &view(&inbox, &origin(&req)))?)
}

/// # `GET /api/inboxes`
/// The caller's workspace's inboxes, secrets masked.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let agent = auth::authenticate(&req, &config, &database).await?;
    let origin = origin(&req);
    let inboxes: Vec<_> = db::inboxes_of(&database, &agent.workspace_id)
        .await?
        .iter()
        .map(|i| view(i, &origin))
        .collect();
    Ok(json(200, &serde_json::json!({ "inboxes": inboxes }))?)
}
