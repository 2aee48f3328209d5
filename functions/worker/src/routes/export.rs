//! History exports: one conversation, or the workspace over a date range,
//! streamed page by page (`crate::export`).

use super::conversations::{caller, check_id};
use crate::db;
use crate::export::{self, Format, Scope};
use crate::http::{query, query_int, ApiError, ApiResult};
use crate::runtime::{new_id, now_ms};
use worker::{Env, Request, Response};

fn download(mut resp: Response, name: &str, format: Format) -> ApiResult<Response> {
    let headers = resp.headers_mut();
    headers.set("content-type", format.content_type())?;
    headers.set(
        "content-disposition",
        &format!("attachment; filename=\"{name}.{}\"", format.extension()),
    )?;
    headers.set("cache-control", "no-store")?;
    Ok(resp)
}

/// # `GET /api/conversations/{id}/export?format=json|csv`
/// The transcript as a download (`content-disposition: attachment`): JSON
/// (default) is the conversation and every message, oldest first, notes
/// included; CSV is one row per message (`seq, created_at, direction, kind,
/// sender, status, text, message_id, platform_id`), RFC 4180 quoting,
/// formula-like cells defused. Streamed a page of 500 messages at a time,
/// so any length exports in bounded memory; messages written during the
/// export may or may not be in it, never half of one or out of order.
pub async fn conversation(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let format = Format::parse(query(&req, "format"))?;
    let first = export::first_page(env, &agent.workspace_id, id).await?;
    // A transcript leaving the system is accountable, as an erasure is.
    crate::audit::record(
        &db::database(env)?,
        &agent,
        "export_conversation",
        id,
        serde_json::json!({ "format": format.extension() }),
    )
    .await;
    let resp = export::respond(
        env,
        &agent.workspace_id,
        format,
        Scope::Conversation(id.to_string()),
        Some(first),
        now_ms(),
    )?;
    download(resp, &format!("conversation-{id}"), format)
}

/// # `GET /api/export?from=<ms>&to=<ms>&format=json|csv`
/// Admins only (403 otherwise). Every message of the workspace stored in
/// `[from, to)` (milliseconds since the epoch; `to` defaults to now), by
/// conversation (ordered by id), oldest first within each, as a download.
/// JSON: `{from, to, exported_at, conversations: [{conversation, messages}]}`;
/// CSV: the conversation export's columns after `conversation_id`.
/// Streamed page by page: 100,000 messages export in bounded memory. The
/// conversations come from the workspace's list, which trails each
/// conversation by moments, so a message stored in the last moments before
/// the export may be missing from a range that ends now. Each
/// export is recorded in the audit log (`export_workspace`, with its range
/// and format) before the first byte is sent.
pub async fn workspace(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    let format = Format::parse(query(&req, "format"))?;
    let now = now_ms();
    let from = query_int(&req, "from")?
        .ok_or_else(|| ApiError::bad_request("from is required (milliseconds since the epoch)"))?;
    let to = query_int(&req, "to")?.unwrap_or(now);
    if from < 0 || to <= from {
        return Err(ApiError::bad_request(
            "from must be 0 or more and to later than from",
        ));
    }
    let database = db::database(env)?;
    let audit_id = new_id("au_")?;
    let detail = serde_json::json!({
        "from": from,
        "to": to,
        "format": format.extension(),
    })
    .to_string();
    db::record_audit(
        &database,
        &db::AuditEntry {
            id: &audit_id,
            workspace_id: &agent.workspace_id,
            actor_id: &agent.agent_id,
            action: "export_workspace",
            target: &agent.workspace_id,
            detail: &detail,
            at: now,
        },
    )
    .await?;
    let resp = export::respond(
        env,
        &agent.workspace_id,
        format,
        Scope::Range { from, to },
        None,
        now,
    )?;
    download(resp, &format!("export-{from}-{to}"), format)
}
