//! API keys for the workspace's own systems.

use crate::accounts_db::{self, ApiKey};
use crate::auth::{self, Agent, API_KEY_PREFIX};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::runtime::{new_id, now_ms, random_bytes};
use serde::Deserialize;
use switchboard_core::token::secret_digest;
use worker::{D1Database, Env, Request, Response};

async fn admin(req: &Request, env: &Env) -> ApiResult<(Agent, D1Database)> {
    let (agent, database) = auth::caller(req, env).await?;
    agent.require_admin()?;
    Ok((agent, database))
}

/// What a client sees of a key: never the key.
fn view(k: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "id": k.id,
        "name": k.name,
        "scopes": serde_json::from_str::<serde_json::Value>(&k.scopes).unwrap_or_default(),
        "last_four": k.last_four,
        "created_by": k.created_by,
        "created_at": k.created_at,
    })
}

#[derive(Deserialize)]
struct KeyIn {
    name: String,
    scopes: Vec<String>,
}

/// # `POST /api/api_keys` `{name, scopes: ["read"] | ["read", "write"]}`
/// Admins only. Answers 201 with the key itself (`sbk_…`) — shown this
/// once, only its hash is kept. A key acts with an agent's rights within
/// its scopes, never an admin's; `read` keys may only GET.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    let input: KeyIn = json_body(&mut req).await?;
    let name = super::accounts::check_text("name", &input.name, 100)?;
    let mut scopes: Vec<String> = Vec::new();
    for s in &input.scopes {
        if s != "read" && s != "write" {
            return Err(ApiError::bad_request(format!(
                "unknown scope \"{s}\"; use read or write"
            )));
        }
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::bad_request(
            "scopes must name read, write or both",
        ));
    }
    let secret = format!("{API_KEY_PREFIX}{}", hex::encode(random_bytes::<24>()?));
    let key = ApiKey {
        id: new_id("ak_")?,
        workspace_id: agent.workspace_id.clone(),
        name,
        scopes: serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into()),
        last_four: secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
        created_by: agent.agent_id.clone(),
        created_at: now_ms(),
        revoked_at: None,
    };
    accounts_db::create_api_key(&database, &key, &secret_digest(&secret)).await?;
    crate::audit::record(
        &database,
        &agent,
        "create_api_key",
        &key.id,
        serde_json::json!({ "scopes": scopes }),
    )
    .await;
    let mut body = view(&key);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("key".into(), serde_json::Value::String(secret));
    }
    Ok(json(201, &body)?)
}

/// # `GET /api/api_keys`
/// Admins only: the workspace's live keys, without the keys themselves.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    let keys: Vec<_> = accounts_db::api_keys_of(&database, &agent.workspace_id)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(json(200, &serde_json::json!({ "api_keys": keys }))?)
}

/// # `DELETE /api/api_keys/{id}`
/// Admins only: revokes a key; it stops working at once.
pub async fn revoke(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = admin(&req, env).await?;
    if accounts_db::revoke_api_key(&database, &agent.workspace_id, id, now_ms()).await? == 0 {
        return Err(ApiError::not_found("API key"));
    }
    crate::audit::record(
        &database,
        &agent,
        "revoke_api_key",
        id,
        serde_json::json!({}),
    )
    .await;
    Ok(json(200, &serde_json::json!({ "revoked": id }))?)
}
