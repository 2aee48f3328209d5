//! The tools agents work conversations with: status and snooze, assignment,
//! labels, the contact's details; and history management: export and
//! erasure (export is `export.rs`), with the audit log that records
//! erasures and exports.
//!
//! Like every conversation route, each names the conversation's object by
//! the caller's workspace, so another workspace's id reaches an empty
//! object and gets 404.

use super::conversations::{caller, check_id};
use crate::db;
use crate::http::{json, json_body, query, query_int, ApiError, ApiResult};
use crate::objects::internal::{present, ContactPatch, ConversationPatch, EraseRequest};
use crate::objects::{self, HEADER_WORKSPACE};
use serde::Deserialize;
use switchboard_core::ids::is_id;
use worker::{Env, Method, Request, Response};

const MAX_LABELS: usize = 20;
const MAX_LABEL_CHARS: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationIn {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    snoozed_until: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    /// The customer's language (translation's target); null: back to the
    /// platform's or the detected one.
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
}

/// Labels trimmed, without repeats, in the order given; refused when
/// empty, too long, too many, or holding control characters.
pub fn clean_labels(labels: Vec<String>) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for label in labels {
        let label = label.trim().to_string();
        let chars = label.chars().count();
        if chars == 0 || chars > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(ApiError::bad_request(format!(
                "each label must be 1 to {MAX_LABEL_CHARS} printable characters"
            )));
        }
        if !out.contains(&label) {
            out.push(label);
        }
    }
    if out.len() > MAX_LABELS {
        return Err(ApiError::bad_request(format!(
            "a conversation has at most {MAX_LABELS} labels"
        )));
    }
    Ok(out)
}

/// # `PATCH /api/conversations/{id}`
/// Any of `{status, snoozed_until, assignee, labels}`:
/// - `status`: `open`, `pending`, `resolved` or `snoozed`; `snoozed` needs
///   `snoozed_until` (ms since the epoch, in the future): the conversation
///   reopens then, or as soon as the customer writes. A customer writing
///   also reopens a resolved conversation.
/// - `assignee`: an agent id of this workspace, or `null` to unassign.
/// - `labels`: the whole list (replaces it).
/// - `language`: the customer's language (`de`, `pt-BR`), what agents'
///   replies are translated into; `null` goes back to the platform's or the
///   detected one. Alone, answered with `{language, language_source}`.
///
/// Every change is an event in the conversation's log (`conversation_status`,
/// `assigned`, `labels`), pushed live, and reaches the list and its filters.
/// Invalid input changes nothing (400/422). Answers 200 with the summary.
pub async fn patch(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let input: ConversationIn = json_body(&mut req).await?;
    if input.status.is_none()
        && input.snoozed_until.is_none()
        && input.assignee.is_none()
        && input.labels.is_none()
    {
        if let Some(language) = input.language {
            return super::translation::set_language(env, &agent.workspace_id, id, language).await;
        }
        return Err(ApiError::bad_request(
            "send at least one of status, snoozed_until, assignee, labels, language",
        ));
    }
    if let Some(language) = input.language.clone() {
        let set = super::translation::set_language(env, &agent.workspace_id, id, language).await?;
        if set.status_code() != 200 {
            return Ok(set);
        }
    }
    if let Some(Some(assignee)) = &input.assignee {
        let database = db::database(env)?;
        let known = is_id(assignee, "ag_")
            && db::agent(&database, &agent.workspace_id, assignee)
                .await?
                .is_some_and(|a| a.removed_at.is_none());
        if !known {
            return Err(ApiError::new(
                422,
                "assignee is not an agent of this workspace",
            ));
        }
    }
    let labels = input.labels.map(clean_labels).transpose()?;
    let patch = ConversationPatch {
        agent_id: agent.agent_id.clone(),
        status: input.status,
        snoozed_until: input.snoozed_until,
        assignee: input.assignee,
        labels,
    };
    forward(
        env,
        &agent.workspace_id,
        id,
        Method::Patch,
        "/conversation",
        &patch,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactIn {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    notes: Option<Option<String>>,
}

/// A field's new value: trimmed, `null` or empty clears it, refused above
/// `max` characters or when `valid` says no.
fn clean_field(
    name: &str,
    value: Option<Option<String>>,
    max: usize,
    valid: impl Fn(&str) -> bool,
) -> ApiResult<Option<Option<String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if let Some(v) = &value {
        if v.chars().count() > max || !valid(v) {
            return Err(ApiError::bad_request(format!(
                "{name} is not valid (at most {max} characters{})",
                match name {
                    "email" => ", like name@example.com",
                    "phone" => ", digits with an optional +, spaces, dashes, dots or brackets",
                    _ => "",
                }
            )));
        }
    }
    Ok(Some(value))
}

fn plausible_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

fn plausible_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    (3..=20).contains(&digits)
        && v.chars()
            .enumerate()
            .all(|(n, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && n == 0))
}

/// # `PATCH /api/conversations/{id}/contact`
/// Any of `{name, email, phone, notes}` (`null` or `""` clears one). A
/// field an agent set is kept when the platform later says otherwise.
/// Pushed as a `contact_updated` event; 200 with the contact.
pub async fn patch_contact(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    check_id(id)?;
    let input: ContactIn = json_body(&mut req).await?;
    let patch = ContactPatch {
        agent_id: agent.agent_id.clone(),
        name: clean_field("name", input.name, 200, |v| !v.contains(char::is_control))?,
        email: clean_field("email", input.email, 254, plausible_email)?,
        phone: clean_field("phone", input.phone, 32, plausible_phone)?,
        notes: clean_field("notes", input.notes, 4096, |_| true)?,
    };
    if patch.name.is_none()
        && patch.email.is_none()
        && patch.phone.is_none()
        && patch.notes.is_none()
    {
        return Err(ApiError::bad_request(
            "send at least one of name, email, phone, notes",
        ));
    }
    forward(
        env,
        &agent.workspace_id,
        id,
        Method::Patch,
        "/contact",
        &patch,
    )
    .await
}

/// # `POST /api/conversations/{id}/erase`
/// Admins only (403 for agents). Erases the conversation and everything
/// about its contact: messages, events, outbox, read positions, the list
/// entry, labels and search entries; feed events about it become
/// `{"type":"erased","conversation_id"}` tombstones with the same `seq`;
/// open sockets on it are closed. An `erase_contact` entry in the audit log
/// records who did it and when (ids only). Afterwards the conversation is
/// 404 and search finds nothing of it. 200 when all of it is done; 202 when
/// the index or the audit entry could not be reached yet (finished by the
/// conversation's alarm).
pub async fn erase(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    check_id(id)?;
    let body = EraseRequest {
        actor_id: agent.agent_id.clone(),
    };
    forward(env, &agent.workspace_id, id, Method::Post, "/erase", &body).await
}

/// # `GET /api/audit_log?before=<ms>&before_id=<id>&limit=<n>`
/// Admins only. Accountable actions in the workspace, newest first:
/// `{id, actor_id, actor_name, action, target, detail, created_at}` (actions:
/// `erase_contact`, `export_conversation`, `invite`, `withdraw_invitation`,
/// `change_role`, `remove_agent`, `create_api_key`, `revoke_api_key`,
/// `rename_label`, `delete_label`, and the inboxes' own); `actor_name` is
/// the agent's name (null for an API key). Page with `before` set to the
/// last entry's `created_at` and `before_id` to its `id` (entries of that
/// same millisecond after it follow; without `before_id`, none of them).
pub async fn audit_log(req: Request, env: &Env) -> ApiResult<Response> {
    let agent = caller(&req, env).await?;
    agent.require_admin()?;
    let before = query_int(&req, "before")?.unwrap_or(i64::MAX);
    let limit = query_int(&req, "limit")?.unwrap_or(50).clamp(1, 200);
    let database = db::database(env)?;
    let after_id = query(&req, "before_id");
    let entries = db::audit_log(
        &database,
        &agent.workspace_id,
        before,
        after_id.as_deref(),
        limit,
    )
    .await?;
    json(200, &serde_json::json!({ "entries": entries })).map_err(ApiError::from)
}

async fn forward(
    env: &Env,
    workspace_id: &str,
    id: &str,
    method: Method,
    path: &str,
    body: &impl serde::Serialize,
) -> ApiResult<Response> {
    let body = serde_json::to_string(body)
        .map_err(|e| ApiError::internal("serializing a conversation call", e))?;
    let stub = objects::conversation_stub(env, workspace_id, id)?;
    let identity = [(HEADER_WORKSPACE, workspace_id)];
    objects::call(
        &stub,
        objects::internal_request(method, path, Some(body), &identity)?,
    )
    .await
}
