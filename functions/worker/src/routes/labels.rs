//! The workspace's label catalog: names and colors admins manage, with how
//! many conversations carry each.
//!
//! Conversations carry label names (agents may still type a new one on a
//! conversation: it shows here as `unlisted` until an admin adds it). A
//! rename or a delete follows through: the workspace object rewrites every
//! conversation that carries the old name (one `labels` event each, by the
//! admin), inline for the first hundred and from its alarm for the rest;
//! `pending` says the rewrite is still going.

use super::conversation_tools::clean_labels;
use crate::auth::{self, Agent};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::labels_db::{self, Label};
use crate::objects::internal::LabelRewriteJob;
use crate::objects::{self, HEADER_WORKSPACE};
use crate::runtime::{new_id, now_ms};
use serde::Deserialize;
use switchboard_core::ids::is_id;
use worker::{D1Database, Env, Method, Request, Response};

/// The catalog's size: a dashboard shows every label as a choice.
const MAX_LABELS: usize = 200;

/// `#rrggbb`, lower-cased.
fn check_color(color: &str) -> ApiResult<String> {
    let c = color.trim().to_ascii_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(ApiError::bad_request(
            "color must be a hex color like #3b82f6",
        ))
    }
}

/// One name, checked as a conversation's label is.
fn check_name(name: &str) -> ApiResult<String> {
    clean_labels(vec![name.to_string()])
        .map_err(|_| ApiError::bad_request("name must be 1 to 50 printable characters"))?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("name must be 1 to 50 printable characters"))
}

#[derive(Deserialize)]
struct Counts {
    #[serde(default)]
    counts: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pending: Vec<serde_json::Value>,
}

/// The index's counts per label name, and the rewrites still running.
async fn counts(env: &Env, workspace_id: &str) -> ApiResult<Counts> {
    let stub = objects::workspace_stub(env, workspace_id)?;
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Get, "/labels", None, &[])?,
    )
    .await?;
    if resp.status_code() != 200 {
        return Err(ApiError::internal(
            "counting labels",
            format!("workspace object answered {}", resp.status_code()),
        ));
    }
    resp.json()
        .await
        .map_err(|e| ApiError::internal("reading label counts", e))
}

fn view(l: &Label, counts: &Counts) -> serde_json::Value {
    let count = counts
        .counts
        .get(&l.name)
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    serde_json::json!({
        "id": l.id, "name": l.name, "color": l.color, "created_at": l.created_at, "count": count,
    })
}

/// Asks the workspace object to carry `from` → `to` (or its removal) to
/// every conversation; `(conversations that carried it, still pending)`.
async fn rewrite(env: &Env, agent: &Agent, from: &str, to: Option<&str>) -> ApiResult<(i64, bool)> {
    #[derive(Deserialize)]
    struct Answer {
        conversations: i64,
        pending: bool,
    }
    let job = LabelRewriteJob {
        workspace_id: agent.workspace_id.clone(),
        agent_id: agent.agent_id.clone(),
        from: from.to_string(),
        to: to.map(str::to_string),
    };
    let body = serde_json::to_string(&job)
        .map_err(|e| ApiError::internal("serializing a label rewrite", e))?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let identity = [(HEADER_WORKSPACE, agent.workspace_id.as_str())];
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/labels/rewrite", Some(body), &identity)?,
    )
    .await?;
    if resp.status_code() != 200 {
        return Err(ApiError::internal(
            "rewriting a label",
            format!("workspace object answered {}", resp.status_code()),
        ));
    }
    let a: Answer = resp
        .json()
        .await
        .map_err(|e| ApiError::internal("reading a label rewrite's answer", e))?;
    Ok((a.conversations, a.pending))
}

async fn admin(req: &Request, env: &Env) -> ApiResult<(Agent, D1Database)> {
    let (agent, database) = auth::caller(req, env).await?;
    agent.require_admin()?;
    Ok((agent, database))
}

fn check_label_id(id: &str) -> ApiResult<()> {
    if is_id(id, "lb_") {
        Ok(())
    } else {
        Err(ApiError::not_found("label"))
    }
}

/// # `GET /api/labels`
/// Everyone in the workspace: `{labels: [{id, name, color, created_at,
/// count}], unlisted: [{name, count}], pending}`. `count` is how many
/// conversations carry the name now (from the workspace's index); `unlisted`
/// are names conversations carry that the catalog does not have; `pending`
/// is true while a rename or delete is still being carried to conversations.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let labels = labels_db::labels_of(&database, &agent.workspace_id).await?;
    let counts = counts(env, &agent.workspace_id).await?;
    let mut unlisted: Vec<serde_json::Value> = counts
        .counts
        .iter()
        .filter(|(name, _)| !labels.iter().any(|l| &l.name == *name))
        .map(|(name, n)| serde_json::json!({ "name": name, "count": n }))
        .collect();
    unlisted.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let body = serde_json::json!({
        "labels": labels.iter().map(|l| view(l, &counts)).collect::<Vec<_>>(),
        "unlisted": unlisted,
        "pending": !counts.pending.is_empty(),
    });
    Ok(json(200, &body)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelIn {
    name: String,
    color: String,
}

/// # `POST /api/labels` `{name, color}`
/// Admins only. 201 with the label (and its `count`: conversations may
/// already carry the name); 409 when the workspace has a label of that
/// name (case aside); 400 for a bad name or color. Nothing else changes.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    let input: LabelIn = json_body(&mut req).await?;
    let name = check_name(&input.name)?;
    let color = check_color(&input.color)?;
    if labels_db::labels_of(&database, &agent.workspace_id)
        .await?
        .len()
        >= MAX_LABELS
    {
        return Err(ApiError::new(
            409,
            format!("a workspace has at most {MAX_LABELS} labels"),
        ));
    }
    let label = Label {
        id: new_id("lb_")?,
        name,
        color,
        created_at: now_ms(),
    };
    labels_db::create_label(&database, &agent.workspace_id, &label).await?;
    let counts = counts(env, &agent.workspace_id).await?;
    Ok(json(201, &view(&label, &counts))?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelPatch {
    name: Option<String>,
    color: Option<String>,
}

/// # `PATCH /api/labels/{id}` `{name?, color?}`
/// Admins only. A new color changes only the catalog. A new name renames
/// the label on every conversation that carries it (each gets a `labels`
/// event by the admin, live); the answer says how many (`conversations`)
/// and whether some are still to do (`pending`). 409 when another label
/// has the name; 404 for a label not of this workspace; invalid input
/// changes nothing.
pub async fn update(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    check_label_id(id)?;
    let input: LabelPatch = json_body(&mut req).await?;
    if input.name.is_none() && input.color.is_none() {
        return Err(ApiError::bad_request("send name, color or both"));
    }
    let name = input.name.as_deref().map(check_name).transpose()?;
    let color = input.color.as_deref().map(check_color).transpose()?;
    let current = labels_db::label(&database, &agent.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("label"))?;
    if let Some(n) = &name {
        if let Some(other) = labels_db::label_named(&database, &agent.workspace_id, n).await? {
            if other.id != current.id {
                return Err(ApiError::new(
                    409,
                    "this workspace already has a label with that name",
                ));
            }
        }
    }
    let next = Label {
        name: name.unwrap_or_else(|| current.name.clone()),
        color: color.unwrap_or_else(|| current.color.clone()),
        ..current.clone()
    };
    if labels_db::update_label(&database, &agent.workspace_id, &next).await? == 0 {
        return Err(ApiError::not_found("label"));
    }
    let (conversations, pending) = if next.name != current.name {
        match rewrite(env, &agent, &current.name, Some(&next.name)).await {
            Ok(done) => {
                crate::audit::record(
                    &database,
                    &agent,
                    "rename_label",
                    id,
                    serde_json::json!({ "from": current.name, "to": next.name }),
                )
                .await;
                done
            }
            Err(e) => {
                // Not carried: put the catalog back, so a retry renames again.
                let _ = labels_db::update_label(&database, &agent.workspace_id, &current).await;
                return Err(e);
            }
        }
    } else {
        (0, false)
    };
    let counts = counts(env, &agent.workspace_id).await?;
    let mut body = view(&next, &counts);
    if let Some(o) = body.as_object_mut() {
        o.insert("conversations".into(), conversations.into());
        o.insert("pending".into(), pending.into());
    }
    Ok(json(200, &body)?)
}

/// # `DELETE /api/labels/{id}`
/// Admins only. Removes the label from the catalog and from every
/// conversation that carries it (a `labels` event on each, by the admin);
/// the conversations themselves stay. 200 `{deleted, conversations,
/// pending}`; 404 for a label not of this workspace.
pub async fn delete(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    check_label_id(id)?;
    let current = labels_db::label(&database, &agent.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("label"))?;
    // The conversations first: if that cannot start, the label stays.
    let (conversations, pending) = rewrite(env, &agent, &current.name, None).await?;
    labels_db::delete_label(&database, &agent.workspace_id, id).await?;
    crate::audit::record(
        &database,
        &agent,
        "delete_label",
        id,
        serde_json::json!({ "name": current.name }),
    )
    .await;
    Ok(json(
        200,
        &serde_json::json!({ "deleted": id, "conversations": conversations, "pending": pending }),
    )?)
}
