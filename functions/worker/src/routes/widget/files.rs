//! The visitor's files: uploads, and the conversation's stored files.

use super::{address, throttle, visitor, Cors};
use crate::http::{json, ApiError, ApiResult};
use crate::routes::attachments::{receive, serve_object, workspace_max};
use switchboard_core::attachments as att;
use worker::{Env, Request, Response};

/// Uploads a minute, per visitor and per address.
const UPLOADS_PER_VISITOR: i64 = 10;
const UPLOADS_PER_ADDRESS: i64 = 30;

/// # `GET /api/widget/attachments/{id}`
/// A stored file of the visitor's own conversation (agents' replies and
/// the visitor's uploads), with the same headers as
/// `GET /api/attachments/{id}`; 404 for a file of any other conversation.
/// The widget fetches it with its token and shows it from a blob URL.
pub async fn serve(req: Request, env: &Env, cors: &Cors, id: &str) -> ApiResult<Response> {
    let v = visitor(&req, env, cors, None).await?;
    match att::conversation_of(id) {
        Some(c) if c == v.conversation_id => {
            serve_object(env, &att::object_key(&v.workspace_id, &c, id)).await
        }
        _ => Err(ApiError::not_found("attachment")),
    }
}

/// # `POST /api/widget/attachments?filename=<name>`
/// The visitor uploads a file (the body; its `Content-Type` the claim),
/// checked as agents' uploads are (limit, empty, truncated, type); then
/// `POST /api/widget/messages {attachment_id, text?}` sends it. 429 with
/// `Retry-After` past 10 a minute per visitor or 30 per address.
pub async fn upload(mut req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let v = visitor(&req, env, cors, None).await?;
    throttle(
        env,
        &v.workspace_id,
        &[
            (format!("upload:v:{}", v.external_id), UPLOADS_PER_VISITOR),
            (format!("upload:ip:{}", address(&req)), UPLOADS_PER_ADDRESS),
        ],
    )
    .await?;
    let max = workspace_max(env, &v.workspace_id).await?;
    let uploaded = receive(&mut req, env, &v.workspace_id, &v.conversation_id, max).await?;
    Ok(json(201, &uploaded.view())?)
}
