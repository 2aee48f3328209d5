//! Inboxes: one per connected channel account.

use crate::accounts_db;
use crate::auth;
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
        // The widget has no webhook; its visitors start sessions instead.
        "webhook_url": (inbox.channel() != Channel::Widget)
            .then(|| format!("{origin}/webhooks/{}/{}", inbox.channel().as_str(), inbox.id)),
        "session_url": (inbox.channel() == Channel::Widget)
            .then(|| format!("{origin}/api/widget/{}/session", inbox.id)),
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
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let input: InboxIn = json_body(&mut req).await?;
    let channel = Channel::parse(&input.channel)
        .ok_or_else(|| ApiError::bad_request(format!("unknown channel \"{}\"", input.channel)))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request("name must be 1 to 100 characters"));
    }
    let settings = Settings::from_json(channel, input.settings).map_err(ApiError::bad_request)?;
    let settings_json = settings_json(&settings)?.to_string();
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
    let (agent, database) = auth::caller(&req, env).await?;
    let origin = origin(&req);
    let inboxes: Vec<_> = db::inboxes_of(&database, &agent.workspace_id)
        .await?
        .iter()
        .map(|i| view(i, &origin))
        .collect();
    Ok(json(200, &serde_json::json!({ "inboxes": inboxes }))?)
}

/// The settings as stored: the channel's own object, secrets included.
fn settings_json(settings: &Settings) -> ApiResult<serde_json::Value> {
    serde_json::to_value(settings)
        .ok()
        .and_then(|v| v.get("settings").cloned())
        .ok_or_else(|| ApiError::internal("serializing inbox settings", "no settings"))
}

async fn inbox_of(
    database: &worker::D1Database,
    workspace_id: &str,
    id: &str,
) -> ApiResult<std::rc::Rc<Inbox>> {
    match db::inbox(database, id, now_ms()).await? {
        Some(inbox) if inbox.workspace_id == workspace_id => Ok(inbox),
        _ => Err(ApiError::not_found("inbox")),
    }
}

/// # `GET /api/inboxes/{id}`
/// One inbox of the caller's workspace, secrets masked.
pub async fn get(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    Ok(json(200, &view(&inbox, &origin(&req)))?)
}

#[derive(Deserialize)]
struct InboxPatch {
    name: Option<String>,
    /// Fields to change; the others (secrets included) stay as they are.
    settings: Option<serde_json::Map<String, serde_json::Value>>,
    options: Option<db::InboxOptions>,
}

/// # `PATCH /api/inboxes/{id}` `{name?, settings?, options?}`
/// Admins only. `settings` changes only the fields it names (so secrets
/// can be rotated without re-entering the rest) and is checked like a new
/// inbox's; `options` is `{auto_assign}`.
pub async fn update(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let patch: InboxPatch = json_body(&mut req).await?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    let name = match patch.name {
        Some(n) => super::accounts::check_text("name", &n, 100)?,
        None => inbox.name.clone(),
    };
    let mut merged = settings_json(&inbox.settings)?;
    if let (Some(obj), Some(changes)) = (merged.as_object_mut(), patch.settings) {
        for (k, v) in changes {
            obj.insert(k, v);
        }
    }
    let settings = Settings::from_json(inbox.channel(), merged).map_err(ApiError::bad_request)?;
    let options = patch.options.unwrap_or_else(|| inbox.options.clone());
    let options_json =
        serde_json::to_string(&options).map_err(|e| ApiError::internal("inbox options", e))?;
    accounts_db::update_inbox(
        &database,
        &agent.workspace_id,
        id,
        &name,
        &settings_json(&settings)?.to_string(),
        &options_json,
    )
    .await?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    Ok(json(200, &view(&inbox, &origin(&req)))?)
}

/// # `DELETE /api/inboxes/{id}`
/// Admins only. The inbox's webhooks answer 404 from now on; its
/// conversations and their history stay.
pub async fn delete(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    if accounts_db::delete_inbox(&database, &agent.workspace_id, id, now_ms()).await? == 0 {
        return Err(ApiError::not_found("inbox"));
    }
    Ok(json(200, &serde_json::json!({ "deleted": id }))?)
}
