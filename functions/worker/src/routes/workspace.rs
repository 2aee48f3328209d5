//! The workspace's own settings.

use crate::accounts_db;
use crate::auth;
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::translation;
use serde::Deserialize;
use worker::{Env, Request, Response};

fn view(w: &accounts_db::Workspace) -> serde_json::Value {
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&w.settings).unwrap_or_default();
    // Translation has its own fields; its API key is never shown.
    let translation = translation::stored(&settings).view();
    settings.remove(translation::SETTINGS_KEY);
    let language = settings.remove(translation::LANGUAGE_KEY);
    serde_json::json!({
        "id": w.id,
        "name": w.name,
        "settings": settings,
        "translation": translation,
        "language": language,
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

/// The settings Switchboard itself reads are checked before they are kept:
/// `time_zone` (an IANA name the runtime knows: reports' days) and
/// `business_hours` (the widget's shape: `{time_zone, weekly: [{day, from,
/// to}]}`, the hours a new website inbox starts with) and the attachment
/// size limit.
fn check_setting(key: &str, value: &serde_json::Value) -> ApiResult<()> {
    match key {
        "time_zone" => {
            let known = value
                .as_str()
                .is_some_and(|z| crate::time_zone::TimeZone::new(z).is_some());
            if !known {
                return Err(ApiError::bad_request(
                    "settings.time_zone must be a time zone like Europe/Berlin",
                ));
            }
        }
        "business_hours" => {
            let hours = serde_json::json!({ "business_hours": value });
            switchboard_core::channels::widget::WidgetSettings::from_json(hours)
                .map_err(ApiError::bad_request)?;
            let zone = value.get("time_zone").and_then(serde_json::Value::as_str);
            if zone.is_none_or(|z| crate::time_zone::TimeZone::new(z).is_none()) {
                return Err(ApiError::bad_request(
                    "settings.business_hours.time_zone must be a time zone like Europe/Berlin",
                ));
            }
        }
        k if k == switchboard_core::attachments::SETTING_MAX_MB => {
            switchboard_core::attachments::check_max_mb(value).map_err(ApiError::bad_request)?;
        }
        _ => {}
    }
    Ok(())
}

#[derive(Deserialize)]
struct WorkspaceIn {
    name: Option<String>,
    /// Merged into the stored settings, key by key; a null value removes it.
    settings: Option<serde_json::Map<String, serde_json::Value>>,
    /// `{provider: "libretranslate", url, api_key?, daily_quota_chars?}`,
    /// `{provider: "workers-ai"}` or `{provider: "off"}`.
    translation: Option<serde_json::Value>,
    /// The workspace's default language (agents without their own); null
    /// removes it.
    #[serde(default, deserialize_with = "crate::objects::internal::present")]
    language: Option<Option<String>>,
}

/// # `PATCH /api/workspace` `{name?, settings?, translation?, language?}`
/// Admins only. `settings` is a JSON object merged key by key (null
/// removes a key), at most 16 KiB; `settings.attachment_max_mb` (1 to 100)
/// is the attachments' size limit. `translation` chooses the provider
/// (off by default): `{"provider": "libretranslate", "url", "api_key"?,
/// "daily_quota_chars"?}`, `{"provider": "workers-ai",
/// "daily_quota_chars"?}` or `{"provider": "off"}`; the API key is
/// write-only (sealed at rest, shown only as `api_key_set`; not sent again:
/// kept). `language` is the workspace's default language. Bad values are a
/// 400 with a one-line reason, nothing changed.
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
        if k == translation::SETTINGS_KEY || k == translation::LANGUAGE_KEY {
            return Err(ApiError::bad_request(format!(
                "settings.{k} is set with the top-level \"{k}\" field"
            )));
        }
        if !v.is_null() {
            check_setting(&k, &v)?;
        }
        if v.is_null() {
            settings.remove(&k);
        } else {
            settings.insert(k, v);
        }
    }
    if let Some(t) = input.translation {
        // The stored key, opened, is what "not sent again: kept" keeps.
        let current =
            crate::translation::opened(&agent.workspace_id, translation::stored(&settings))?;
        let next = switchboard_core::translation::config::parse(&t, &current)
            .map_err(ApiError::bad_request)?;
        let sealed = translation::seal(&agent.workspace_id, next)?;
        settings.insert(
            translation::SETTINGS_KEY.into(),
            serde_json::to_value(&sealed)
                .map_err(|e| ApiError::internal("serializing translation settings", e))?,
        );
    }
    match input.language {
        None => {}
        Some(None) => {
            settings.remove(translation::LANGUAGE_KEY);
        }
        Some(Some(tag)) => {
            let tag = super::accounts::check_language(&tag)?;
            settings.insert(translation::LANGUAGE_KEY.into(), tag.into());
        }
    }
    let settings = serde_json::Value::Object(settings).to_string();
    if settings.len() > 16 * 1024 {
        return Err(ApiError::bad_request("settings must be at most 16 KiB"));
    }
    accounts_db::update_workspace(&database, &agent.workspace_id, &name, &settings).await?;
    translation::forget(&agent.workspace_id);
    let w = accounts_db::workspace(&database, &agent.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(json(200, &view(&w))?)
}
