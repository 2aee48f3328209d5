//! The workspace's own settings.

use crate::accounts_db;
use crate::auth;
use crate::http::{json, json_body, ApiError, ApiResult};
use serde::Deserialize;
use worker::{Env, Request, Response};

fn view(w: &accounts_db::Workspace) -> serde_json::Value {
    serde_json::json!({
        "id": w.id,
        "name": w.name,
        "settings": serde_json::from_str::<serde_json::Value>(&w.settings).unwrap_or_default(),
        "created_at": w.created_at,
    })
}

/// # `GET /api/workspace`
/// The caller's workspace: its name and settings.
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let w = accounts_db::workspace(&database, &agent.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(json(200, &view(&w))?)
}

#[derive(Deserialize)]
struct WorkspaceIn {
    name: Option<String>,
    /// Merged into the stored settings, key by key; a null value removes it.
    settings: Option<serde_json::Map<String, serde_json::Value>>,
}

/// # `PATCH /api/workspace` `{name?, settings?}`
/// Admins only. `settings` is a JSON object merged key by key (null
/// removes a key), at most 16 KiB.
pub async fn update(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let input: WorkspaceIn = json_body(&mut req).await?;
    let current = accounts_db::workspace(&database, &agent.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let name = match input.name {
        Some(n) => super::accounts::check_text("name", &n, 100)?,
        None => current.name,
    };
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&current.settings).unwrap_or_default();
    for (k, v) in input.settings.unwrap_or_default() {
        if v.is_null() {
            settings.remove(&k);
        } else {
            settings.insert(k, v);
        }
    }
    let settings = serde_json::Value::Object(settings).to_string();
    if settings.len() > 16 * 1024 {
        return Err(ApiError::bad_request("settings must be at most 16 KiB"));
    }
    accounts_db::update_workspace(&database, &agent.workspace_id, &name, &settings).await?;
    let w = accounts_db::workspace(&database, &agent.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(json(200, &view(&w))?)
}
