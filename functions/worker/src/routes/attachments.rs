//! Attachments: serving stored files, and agents' uploads.
//!
//! A file is read from R2 at `{caller's workspace}/{conversation}/{id}`,
//! the conversation taken from the id itself: an id of another workspace
//! names a key that does not exist, so it is a 404 like any unknown id.
//! What is served can never run on our origin: `nosniff`, a `sandbox` CSP,
//! and `Content-Disposition: attachment` for anything that is not an
//! image, audio or video (HTML, SVG and programs included).

use super::conversations::{caller, check_id};
use crate::http::{json, query, ApiError, ApiResult};
use crate::objects::{self, HEADER_WORKSPACE};
use crate::r2;
use crate::runtime::random_bytes;
use futures::StreamExt;
use switchboard_core::attachments as att;
use worker::{Env, Headers, Method, Request, Response};

/// # `GET /api/attachments/{id}`
/// The stored file, streamed from R2, for an agent of its workspace (the
/// dashboard's `sb_files` cookie, scoped to this path, lets an `<img>`
/// load it). 404 for any
/// id the workspace does not hold. `Content-Type` is the stored (sniffed)
/// type; `inline` only for images, audio and video.
pub async fn serve(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = crate::auth::file_caller(&req, env).await?;
    let conversation = att::conversation_of(id).ok_or_else(|| ApiError::not_found("attachment"))?;
    serve_object(
        env,
        &att::object_key(&agent.workspace_id, &conversation, id),
    )
    .await
}

/// # `GET /api/attachments/{id}/link?ws=&exp=&sig=`
/// The stored file for a platform that fetches by URL (Instagram), with no
/// session: only with a signature of this server over the workspace, the
/// id and an expiry at most 15 minutes ahead (`attachments::signed_link`).
/// Anything else — a wrong, altered or expired link — is the same 404.
pub async fn serve_link(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("attachment");
    let conversation = att::conversation_of(id).ok_or_else(not_found)?;
    let ws = query(&req, "ws").ok_or_else(not_found)?;
    let exp = query(&req, "exp")
        .and_then(|e| e.parse::<i64>().ok())
        .ok_or_else(not_found)?;
    let sig = query(&req, "sig").ok_or_else(not_found)?;
    let config = crate::config::Config::from_env(env);
    if !att::check_link(
        &config.session_secret,
        &ws,
        id,
        exp,
        &sig,
        crate::runtime::now_secs(),
    ) {
        return Err(not_found());
    }
    serve_object(env, &att::object_key(&ws, &conversation, id)).await
}

/// Streams the object at `key` with the headers that keep it inert.
pub async fn serve_object(env: &Env, key: &str) -> ApiResult<Response> {
    let object = r2::bucket(env)?
        .get(key)
        .execute()
        .await
        .map_err(|e| ApiError::internal("reading an attachment from R2", e))?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let content_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let meta = object.custom_metadata().unwrap_or_default();
    let filename = meta.get("filename").cloned().unwrap_or_default();
    let size = object.size();
    let body = object
        .body()
        .ok_or_else(|| ApiError::not_found("attachment"))?
        .stream()
        .map_err(|e| ApiError::internal("streaming an attachment", e))?;
    let headers = Headers::new();
    headers.set("content-type", &content_type)?;
    headers.set("content-length", &size.to_string())?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("content-security-policy", "sandbox; default-src 'none'")?;
    headers.set(
        "content-disposition",
        &att::content_disposition(&content_type, &filename),
    )?;
    headers.set("cross-origin-resource-policy", "same-site")?;
    // Stored files never change; only the caller's browser may keep one.
    headers.set("cache-control", "private, max-age=86400, immutable")?;
    if let Some(sha) = meta.get("sha256") {
        headers.set("etag", &format!("\"{sha}\""))?;
    }
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// What an upload became.
pub struct Uploaded {
    pub id: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub filename: String,
}

impl Uploaded {
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "url": att::api_path(&self.id),
            "kind": att::kind_for(&self.content_type),
            "mime_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "filename": self.filename,
        })
    }
}

/// Reads an upload chunk by chunk (refused as soon as it passes `max`),
/// checks it (`attachments::check_upload`), puts it in R2 and records it
/// in the conversation. Nothing is kept when any step refuses it.
pub async fn receive(
    req: &mut Request,
    env: &Env,
    workspace_id: &str,
    conversation_id: &str,
    max: u64,
) -> ApiResult<Uploaded> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            413,
            format!(
                "the file is larger than this workspace's limit of {}",
                att::mb(max)
            ),
        )
    };
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let claimed = req.headers().get("content-type").ok().flatten();
    let filename = att::safe_filename(&query(req, "filename").unwrap_or_default());
    let mut stream = req
        .stream()
        .map_err(|_| ApiError::bad_request("the file could not be read"))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("the upload was truncated: the connection broke off")
        })?;
        if (bytes.len() + chunk.len()) as u64 > max {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = att::check_upload(&bytes, declared, claimed.as_deref(), max)
        .map_err(|r| ApiError::new(r.status, r.reason))?;
    let id = att::new_id(conversation_id, &random_bytes::<16>()?)
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let sha256 = att::sha256_hex(&bytes);
    let size = bytes.len() as u64;
    let key = att::object_key(workspace_id, conversation_id, &id);
    r2::put(
        env,
        &key,
        bytes,
        &r2::Stored {
            content_type: &content_type,
            filename: &filename,
            sha256: &sha256,
        },
    )
    .await?;
    let uploaded = Uploaded {
        id,
        content_type,
        size,
        sha256,
        filename,
    };
    let record = serde_json::json!({
        "id": uploaded.id,
        "content_type": uploaded.content_type,
        "size": uploaded.size,
        "sha256": uploaded.sha256,
        "filename": uploaded.filename,
    })
    .to_string();
    let stub = objects::conversation_stub(env, workspace_id, conversation_id)?;
    let identity = [(HEADER_WORKSPACE, workspace_id)];
    let answer = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/attachments", Some(record), &identity)?,
    )
    .await?;
    if answer.status_code() != 201 {
        // No conversation to hold it: keep nothing.
        let _ = r2::delete(env, &key).await;
        return Err(match answer.status_code() {
            404 => ApiError::not_found("conversation"),
            s => ApiError::internal("recording an upload", s),
        });
    }
    Ok(uploaded)
}

/// # `POST /api/conversations/{id}/attachments?filename=<name>`
/// The body is the file (its `Content-Type` the claimed type). Read as it
/// streams in and refused as soon as it passes the workspace's limit
/// (`settings.attachment_max_mb`, default 25): 413. Zero bytes, or fewer
/// than `Content-Length` announced: 400. A program, or bytes that are not
/// the image/audio/video they claim to be: 415. Nothing is stored on a
/// refusal. 201 `{id, url, kind, mime_type, size, sha256, filename}`; send
/// it with `POST /api/conversations/{id}/messages {attachment_id, text?}`.
pub async fn upload(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let max = workspace_max(env, &agent.workspace_id).await?;
    let uploaded = receive(&mut req, env, &agent.workspace_id, id, max).await?;
    Ok(json(201, &uploaded.view())?)
}

/// The workspace's size limit for attachments.
pub async fn workspace_max(env: &Env, workspace_id: &str) -> ApiResult<u64> {
    let database = crate::db::database(env)?;
    let settings: serde_json::Map<String, serde_json::Value> =
        crate::accounts_db::workspace(&database, workspace_id)
            .await?
            .and_then(|w| serde_json::from_str(&w.settings).ok())
            .unwrap_or_default();
    Ok(att::max_bytes(&settings))
}
