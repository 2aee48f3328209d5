//! The team: invitations, teammates and their roles.

use super::accounts::{check_email, check_password, check_text, hash_password};
use crate::accounts_db::{self, Invitation, NewAgent};
use crate::auth;
use crate::config::Config;
use crate::db;
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::password;
use crate::runtime::{new_id, now_ms, random_bytes};
use serde::Deserialize;
use switchboard_core::token::secret_digest;
use worker::{Env, Request, Response};

/// How long an invitation link works.
const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

fn origin(req: &Request) -> String {
    req.url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

fn check_role(role: &str) -> ApiResult<&str> {
    match role {
        "admin" | "agent" => Ok(role),
        _ => Err(ApiError::bad_request("role must be admin or agent")),
    }
}

#[derive(Deserialize)]
struct InviteIn {
    email: String,
    role: String,
}

/// # `POST /api/invitations` `{email, role}`
/// Admins only. Answers 201 with the invitation and its link, which holds
/// a single-use token that expires in 7 days. Only the token's hash is
/// stored: the link is shown this once (sending it is up to the admin).
pub async fn invite(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let input: InviteIn = json_body(&mut req).await?;
    let email = check_email(&input.email)?;
    let role = check_role(&input.role)?;
    if db::agent_by_email(&database, &email).await?.is_some() {
        return Err(ApiError::new(409, "this email already has an account"));
    }
    let token = format!("inv_{}", hex::encode(random_bytes::<24>()?));
    let now = now_ms();
    let invitation = Invitation {
        id: new_id("iv_")?,
        workspace_id: agent.workspace_id.clone(),
        email,
        role: role.to_string(),
        created_by: agent.agent_id.clone(),
        created_at: now,
        expires_at: now + INVITATION_TTL_MS,
        accepted_at: None,
    };
    accounts_db::create_invitation(&database, &invitation, &secret_digest(&token)).await?;
    crate::audit::record(
        &database,
        &agent,
        "invite",
        &invitation.id,
        serde_json::json!({ "role": invitation.role }),
    )
    .await;
    // The token rides in the fragment: browsers never send it to a server
    // (no access log, no Referer holds it); the page reads it from there.
    let url = format!("{}/invitations/accept#token={token}", origin(&req));
    Ok(json(
        201,
        &serde_json::json!({ "invitation": invitation, "token": token, "url": url }),
    )?)
}

/// # `GET /api/invitations`
/// Admins only: invitations not yet accepted nor expired (without tokens).
pub async fn list_invitations(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let list = accounts_db::pending_invitations(&database, &agent.workspace_id, now_ms()).await?;
    Ok(json(200, &serde_json::json!({ "invitations": list }))?)
}

/// # `DELETE /api/invitations/{id}`
/// Admins only: withdraws a pending invitation; its link stops working.
pub async fn withdraw(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    if accounts_db::delete_invitation(&database, &agent.workspace_id, id).await? == 0 {
        return Err(ApiError::not_found("invitation"));
    }
    crate::audit::record(
        &database,
        &agent,
        "withdraw_invitation",
        id,
        serde_json::json!({}),
    )
    .await;
    Ok(json(200, &serde_json::json!({ "deleted": id }))?)
}

#[derive(Deserialize)]
struct AcceptIn {
    token: String,
    name: String,
    password: String,
}

/// # `POST /api/invitations/accept` `{token, name, password}`
/// No login needed: the token is the proof. Creates the agent with the
/// invited email and role and answers 201 with a session token. A used,
/// withdrawn or expired token gets 410.
pub async fn accept(mut req: Request, env: &Env) -> ApiResult<Response> {
    let input: AcceptIn = json_body(&mut req).await?;
    let name = check_text("name", &input.name, 100)?;
    check_password(&input.password)?;
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let gone = || ApiError::new(410, "this invitation was used, withdrawn or has expired");
    let invitation = accounts_db::invitation_by_token_hash(&database, &secret_digest(&input.token))
        .await?
        .ok_or_else(gone)?;
    let now = now_ms();
    if invitation.accepted_at.is_some() || invitation.expires_at <= now {
        return Err(gone());
    }
    let (hash, salt) = hash_password(&input.password).await?;
    let agent_id = new_id("ag_")?;
    accounts_db::accept_invitation(
        &database,
        &invitation.id,
        &NewAgent {
            id: &agent_id,
            workspace_id: &invitation.workspace_id,
            name: &name,
            email: &invitation.email,
            role: &invitation.role,
            password_hash: &hash,
            password_salt: &salt,
            iterations: password::ITERATIONS,
            now_ms: now,
        },
    )
    .await?;
    let row = db::agent(&database, &invitation.workspace_id, &agent_id)
        .await?
        .ok_or_else(|| ApiError::internal("accepting an invitation", "agent not read back"))?;
    let token = auth::issue(&config, &database, &row).await?;
    Ok(json(
        201,
        &serde_json::json!({ "token": token, "agent_id": agent_id, "workspace_id": invitation.workspace_id, "role": invitation.role }),
    )?)
}

/// # `GET /api/agents`
/// The caller's teammates (any agent may see who they work with).
pub async fn list_agents(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let agents = accounts_db::agents_of(&database, &agent.workspace_id).await?;
    Ok(json(200, &serde_json::json!({ "agents": agents }))?)
}

#[derive(Deserialize)]
struct RoleIn {
    role: String,
}

/// 409 when `target` is the workspace's owner (always an admin), or is its
/// last admin; `what` is "demoted" or "removed".
async fn keep_an_admin(
    database: &worker::D1Database,
    workspace_id: &str,
    target: &accounts_db::AgentView,
    what: &str,
) -> ApiResult<()> {
    if target.role == "owner" {
        return Err(ApiError::new(
            409,
            format!("the workspace's owner cannot be {what}: the owner always stays an admin"),
        ));
    }
    if target.role == "admin" && accounts_db::admin_count(database, workspace_id).await? <= 1 {
        return Err(ApiError::new(
            409,
            format!("the last admin cannot be {what}; make another teammate an admin first"),
        ));
    }
    Ok(())
}

/// # `PATCH /api/agents/{id}` `{role}`
/// Admins only: makes a teammate an admin or an agent. The owner's role
/// does not change and the last admin is never demoted (409 with the
/// reason); nobody changes their own role (403). Their current tokens are
/// revoked so the new role holds at once. Recorded in the audit log
/// (`change_role`, from and to).
pub async fn set_role(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let input: RoleIn = json_body(&mut req).await?;
    let role = check_role(&input.role)?;
    if id == agent.agent_id {
        return Err(ApiError::forbidden("you cannot change your own role"));
    }
    let target = accounts_db::agent_view(&database, &agent.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    if target.role == role {
        return Ok(json(200, &target)?);
    }
    if role == "agent" {
        keep_an_admin(&database, &agent.workspace_id, &target, "demoted").await?;
    }
    if accounts_db::set_role(&database, &agent.workspace_id, id, role).await? == 0 {
        return Err(ApiError::not_found("agent"));
    }
    crate::audit::record(
        &database,
        &agent,
        "change_role",
        id,
        serde_json::json!({ "from": target.role, "to": role }),
    )
    .await;
    let view = accounts_db::agent_view(&database, &agent.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(json(200, &view)?)
}

/// # `DELETE /api/agents/{id}`
/// Admins only: removes a teammate; every token they hold stops working at
/// once. The owner and the last admin cannot be removed (409 with the
/// reason), nor can admins remove themselves (403). Recorded in the audit
/// log (`remove_agent`).
pub async fn remove(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    if id == agent.agent_id {
        return Err(ApiError::forbidden("you cannot remove yourself"));
    }
    let target = accounts_db::agent_view(&database, &agent.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    keep_an_admin(&database, &agent.workspace_id, &target, "removed").await?;
    if accounts_db::remove_agent(&database, &agent.workspace_id, id, now_ms()).await? == 0 {
        return Err(ApiError::not_found("agent"));
    }
    crate::audit::record(
        &database,
        &agent,
        "remove_agent",
        id,
        serde_json::json!({ "role": target.role }),
    )
    .await;
    Ok(json(200, &serde_json::json!({ "removed": id }))?)
}
