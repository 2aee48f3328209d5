//! Translation on request and the customer's language of a conversation.

use super::conversations::{caller, check_id};
use crate::http::{json_body, ApiError, ApiResult};
use crate::objects::{self, HEADER_WORKSPACE};
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TranslateIn {
    /// The language to translate into; default: the agents' language for
    /// a customer's message, the customer's for an agent's.
    #[serde(default)]
    target: Option<String>,
}

/// # `POST /api/conversations/{id}/messages/{message_id}/translate` `{target?}`
/// Translates a stored message now, through the workspace's provider,
/// cache and quota, and answers `{message_id, translation}` (the reason in
/// `translation.error` when it could not). A customer's message keeps the
/// new translation; an agent's reply keeps what it was sent with. Either
/// way a `message_translated` event is pushed. Notes are never translated
/// (422); translation off or Workers AI unbound is a 409 saying so.
pub async fn translate(
    mut req: Request,
    env: &Env,
    id: &str,
    message_id: &str,
) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    if !message_id.starts_with("msg_") || message_id.len() > 40 {
        return Err(ApiError::not_found("message"));
    }
    let has_body = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .is_some_and(|l| l != "0");
    let input: TranslateIn = if has_body {
        json_body(&mut req).await?
    } else {
        TranslateIn::default()
    };
    let body = serde_json::json!({"message_id": message_id, "target": input.target}).to_string();
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    objects::call(
        &stub,
        objects::internal_request(Method::Post, "/translate", Some(body), &identity)?,
    )
    .await
}

/// Sets the customer's language of a conversation (`PATCH
/// /api/conversations/{id}` with `language`); answers `{language,
/// language_source}`.
pub async fn set_language(
    env: &Env,
    workspace_id: &str,
    id: &str,
    language: Option<String>,
) -> ApiResult<Response> {
    let body = serde_json::json!({ "language": language }).to_string();
    let stub = objects::conversation_stub(env, workspace_id, id)?;
    let identity = [(HEADER_WORKSPACE, workspace_id)];
    objects::call(
        &stub,
        objects::internal_request(Method::Patch, "/language", Some(body), &identity)?,
    )
    .await
}

/// # `GET /api/conversations/{id}/language`
/// The customer's language and where it came from: `agent` (set with
/// `PATCH /api/conversations/{id} {"language"}`), `platform` (Telegram's
/// `language_code`, the widget's browser language), `detected` (from
/// their messages) or `unknown`.
pub async fn get_language(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let stub = objects::conversation_stub(env, &agent.workspace_id, id)?;
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    objects::call(
        &stub,
        objects::internal_request(Method::Get, "/language", None, &identity)?,
    )
    .await
}

/// # `GET /api/workspace/translation`
/// The workspace's translation settings (the key only as `api_key_set`)
/// and today's usage (UTC day): `{provider, url?, api_key_set?,
/// daily_quota_chars?, usage: {day, chars, calls}}`. What the dashboard
/// shows beside "untranslated: the quota is reached".
pub async fn usage(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let setup = crate::translation::setup(env, &agent.workspace_id).await?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Get, "/translation/usage", None, &[])?,
    )
    .await?;
    let used: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| ApiError::internal("reading translation usage", e))?;
    let mut view = setup.settings.view();
    if let Some(v) = view.as_object_mut() {
        v.insert("usage".into(), used);
    }
    Ok(crate::http::json(200, &view)?)
}
