//! Canned responses: text agents insert by shortcode. Everyone in the
//! workspace reads them; admins manage them. A reply `{"canned": "<shortcode>"}`
//! (`POST /api/conversations/{id}/messages`) sends the text.

use super::conversations::caller;
use crate::db::{self, CannedResponse};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::runtime::{new_id, now_ms};
use serde::Deserialize;
use switchboard_core::ids::is_id;
use worker::{Env, Request, Response};

const MAX_TEXT_CHARS: usize = 4096;

/// A shortcode: 1 to 32 of `a-z`, `0-9`, `_` and `-`.
pub fn valid_shortcode(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// # `GET /api/canned_responses`
/// The workspace's canned responses, by shortcode.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    let database = db::database(env)?;
    let all = db::canned_responses(&database, &agent.workspace_id).await?;
    json(200, &serde_json::json!({ "canned_responses": all })).map_err(ApiError::from)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedIn {
    shortcode: String,
    text: String,
}

fn clean_shortcode(shortcode: &str) -> ApiResult<String> {
    let shortcode = shortcode.trim().to_string();
    if valid_shortcode(&shortcode) {
        Ok(shortcode)
    } else {
        Err(ApiError::bad_request(
            "shortcode must be 1 to 32 of a-z, 0-9, _ and -",
        ))
    }
}

fn clean_text(text: &str) -> ApiResult<String> {
    let text = text.trim().to_string();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::bad_request(format!(
            "text must be 1 to {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(text)
}

/// # `POST /api/canned_responses` `{shortcode, text}`
/// Admins only. 201 with the new canned response; 409 if the shortcode is
/// taken in this workspace.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    let input: CannedIn = json_body(&mut req).await?;
    let shortcode = clean_shortcode(&input.shortcode)?;
    let text = clean_text(&input.text)?;
    let canned = CannedResponse {
        id: new_id("cr_")?,
        shortcode,
        text,
        created_at: now_ms(),
    };
    let database = db::database(env)?;
    db::create_canned(&database, &agent.workspace_id, &canned).await?;
    json(201, &canned).map_err(ApiError::from)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedPatch {
    shortcode: Option<String>,
    text: Option<String>,
}

/// # `PATCH /api/canned_responses/{id}` `{shortcode?, text?}`
/// Admins only. Changes what is given (validated as on create; nothing
/// changes when anything is invalid); 200 with the canned response; 404 if
/// the workspace has no such canned response; 409 if the new shortcode is
/// another one's. Replies that used it before keep the text they sent.
pub async fn update(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    if !is_id(id, "cr_") {
        return Err(ApiError::not_found("canned response"));
    }
    let input: CannedPatch = json_body(&mut req).await?;
    if input.shortcode.is_none() && input.text.is_none() {
        return Err(ApiError::bad_request("send shortcode, text or both"));
    }
    let shortcode = input
        .shortcode
        .as_deref()
        .map(clean_shortcode)
        .transpose()?;
    let text = input.text.as_deref().map(clean_text).transpose()?;
    let database = db::database(env)?;
    let current = db::canned_responses(&database, &agent.workspace_id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found("canned response"))?;
    let updated = db::update_canned(
        &database,
        &agent.workspace_id,
        id,
        shortcode.as_deref().unwrap_or(&current.shortcode),
        text.as_deref().unwrap_or(&current.text),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("canned response"))?;
    json(200, &updated).map_err(ApiError::from)
}

/// # `DELETE /api/canned_responses/{id}`
/// Admins only. 204; 404 if the workspace has no such canned response.
pub async fn delete(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    if !is_id(id, "cr_") {
        return Err(ApiError::not_found("canned response"));
    }
    let database = db::database(env)?;
    if db::delete_canned(&database, &agent.workspace_id, id).await? {
        Ok(Response::empty()?.with_status(204))
    } else {
        Err(ApiError::not_found("canned response"))
    }
}
