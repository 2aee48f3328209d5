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
/// masked to their last four characters, and (Telegram) whether its
/// webhook is registered.
pub(super) fn view(inbox: &Inbox, origin: &str) -> serde_json::Value {
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
        "options": { "auto_assign": inbox.options.auto_assign },
        "webhook": inbox.options.webhook,
        "created_at": inbox.created_at,
    })
}

pub(super) fn origin(req: &Request) -> String {
    req.url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// # `POST /api/inboxes`
/// Admins only. Creates an inbox for `channel` with its settings (checked
/// per channel) and answers 201 with its webhook URL. Secrets are never
/// echoed back. A Telegram inbox registers its webhook (`setWebhook` with
/// its URL and secret token) before answering; when Telegram refuses or
/// cannot be reached the inbox is made all the same, and `webhook` says
/// why (`POST /api/inboxes/{id}/webhook` retries).
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
    let origin = origin(&req);
    let options = super::inbox_setup::register_and_save(env, &database, &inbox, &origin).await?;
    let inbox = Inbox { options, ..inbox };
    Ok(json(201, &view(&inbox, &origin))?)
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

pub(super) async fn inbox_of(
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
/// inbox's; `options` is `{auto_assign}`. A Telegram inbox whose bot or
/// secret token changed registers its webhook again.
pub async fn update(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let patch: InboxPatch = json_body(&mut req).await?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    let name = match patch.name {
        Some(n) => super::accounts::check_text("name", &n, 100)?,
        None => inbox.name.clone(),
    };
    let settings_before = inbox.settings.clone();
    let mut merged = settings_json(&inbox.settings)?;
    if let (Some(obj), Some(changes)) = (merged.as_object_mut(), patch.settings) {
        for (k, v) in changes {
            obj.insert(k, v);
        }
    }
    let settings = Settings::from_json(inbox.channel(), merged).map_err(ApiError::bad_request)?;
    let mut options = patch.options.unwrap_or_else(|| inbox.options.clone());
    // The webhook's state is the server's to say.
    options.webhook = inbox.options.webhook.clone();
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
    let rotated = rotated_secrets(&settings_before, &settings);
    if !rotated.is_empty() {
        db::record_audit(
            &database,
            &db::AuditEntry {
                id: &new_id("au_")?,
                workspace_id: &agent.workspace_id,
                actor_id: &agent.agent_id,
                action: "rotate_secret",
                target: id,
                detail: &serde_json::json!({ "fields": rotated }).to_string(),
                at: now_ms(),
            },
        )
        .await?;
    }
    let mut inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    if let (Settings::Telegram(new), Settings::Telegram(old)) = (&inbox.settings, &settings_before)
    {
        if new != old {
            let options =
                super::inbox_setup::register_and_save(env, &database, &inbox, &origin(&req))
                    .await?;
            inbox = std::rc::Rc::new(Inbox {
                options,
                ..(*inbox).clone()
            });
        }
    }
    Ok(json(200, &view(&inbox, &origin(&req)))?)
}

/// The secret fields (those the public view masks) whose value changed.
fn rotated_secrets(before: &Settings, after: &Settings) -> Vec<String> {
    let (old, new) = (settings_json(before).ok(), settings_json(after).ok());
    let view = after.public_view();
    let Some(masked) = view.as_object() else {
        return Vec::new();
    };
    masked
        .iter()
        .filter(|(_, v)| v.as_str().is_some_and(|s| s.starts_with('…')))
        .filter(|(k, _)| {
            let field =
                |s: &Option<serde_json::Value>| s.as_ref().and_then(|v| v.get(k.as_str())).cloned();
            field(&old) != field(&new)
        })
        .map(|(k, _)| k.clone())
        .collect()
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
