//! D1 queries for teams and access: sessions, invitations, agents, API keys,
//! workspace settings and the login throttle's counters.

use crate::db::{agent_insert_err, all, count, first, num, run, stmt};
use crate::http::ApiResult;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::D1Database;

// Sessions ---------------------------------------------------------------

pub async fn create_session(
    db: &D1Database,
    id: &str,
    agent_id: &str,
    now_ms: i64,
    expires_ms: i64,
) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO sessions (id, agent_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        &[id.into(), agent_id.into(), num(now_ms), num(expires_ms)],
        "creating a session",
    )
    .await?;
    Ok(())
}

/// True when the session exists for this agent and is not revoked.
pub async fn session_live(db: &D1Database, id: &str, agent_id: &str) -> ApiResult<bool> {
    Ok(count(
        db,
        "SELECT COUNT(*) AS n FROM sessions WHERE id = ?1 AND agent_id = ?2 AND revoked_at IS NULL",
        &[id.into(), agent_id.into()],
        "checking a session",
    )
    .await?
        > 0)
}

/// True when an agent's session, as a ticket names it, still stands: the
/// agent is in the workspace with the same role and token version, and the
/// session is not revoked. One query, for a socket opened with a ticket.
pub async fn agent_session_live(
    db: &D1Database,
    workspace_id: &str,
    agent_id: &str,
    role: &str,
    session: &crate::auth::Session,
) -> ApiResult<bool> {
    Ok(count(
        db,
        "SELECT COUNT(*) AS n FROM sessions s JOIN agents a ON a.id = s.agent_id \
         WHERE s.id = ?1 AND s.revoked_at IS NULL AND a.id = ?2 AND a.workspace_id = ?3 \
         AND a.role = ?4 AND a.token_version = ?5 AND a.removed_at IS NULL",
        &[
            session.id.as_str().into(),
            agent_id.into(),
            workspace_id.into(),
            role.into(),
            num(session.token_version),
        ],
        "checking a ticket's session",
    )
    .await?
        > 0)
}

pub async fn revoke_session(db: &D1Database, id: &str, now_ms: i64) -> ApiResult<()> {
    run(
        db,
        "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        &[id.into(), num(now_ms)],
        "revoking a session",
    )
    .await?;
    Ok(())
}

// Agents -----------------------------------------------------------------

/// A teammate as others see them.
#[derive(Debug, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub language: Option<String>,
    /// An https URL of their picture, if they set one.
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub created_at: i64,
}

/// Admins of the workspace, its owner included.
pub async fn admin_count(db: &D1Database, workspace_id: &str) -> ApiResult<i64> {
    count(
        db,
        "SELECT COUNT(*) AS n FROM agents WHERE workspace_id = ?1 AND removed_at IS NULL \
         AND role IN ('owner', 'admin')",
        &[workspace_id.into()],
        "counting admins",
    )
    .await
}

pub async fn agents_of(db: &D1Database, workspace_id: &str) -> ApiResult<Vec<AgentView>> {
    all(
        db,
        "SELECT id, name, email, role, language, avatar_url, created_at FROM agents \
         WHERE workspace_id = ?1 AND removed_at IS NULL ORDER BY created_at",
        &[workspace_id.into()],
        "listing agents",
    )
    .await
}

pub async fn agent_view(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
) -> ApiResult<Option<AgentView>> {
    first(
        db,
        "SELECT id, name, email, role, language, avatar_url, created_at FROM agents \
         WHERE id = ?1 AND workspace_id = ?2 AND removed_at IS NULL",
        &[id.into(), workspace_id.into()],
        "reading an agent",
    )
    .await
}

pub async fn update_profile(
    db: &D1Database,
    agent_id: &str,
    name: &str,
    language: Option<&str>,
    avatar_url: Option<&str>,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE agents SET name = ?2, language = ?3, avatar_url = ?4 WHERE id = ?1",
        &[
            agent_id.into(),
            name.into(),
            language.map(JsValue::from).unwrap_or(JsValue::NULL),
            avatar_url.map(JsValue::from).unwrap_or(JsValue::NULL),
        ],
        "updating a profile",
    )
    .await?;
    Ok(())
}

/// Sets a new password and bumps the token version: every earlier token dies.
pub async fn set_password(
    db: &D1Database,
    agent_id: &str,
    hash: &str,
    salt: &str,
    iterations: u32,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE agents SET password_hash = ?2, password_salt = ?3, password_iterations = ?4, \
         token_version = token_version + 1 WHERE id = ?1",
        &[
            agent_id.into(),
            hash.into(),
            salt.into(),
            JsValue::from(iterations),
        ],
        "changing a password",
    )
    .await?;
    Ok(())
}

pub async fn set_role(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    role: &str,
) -> ApiResult<usize> {
    run(
        db,
        "UPDATE agents SET role = ?3, token_version = token_version + 1 \
         WHERE id = ?1 AND workspace_id = ?2 AND role != 'owner' AND removed_at IS NULL",
        &[id.into(), workspace_id.into(), role.into()],
        "changing a role",
    )
    .await
}

pub async fn remove_agent(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    now_ms: i64,
) -> ApiResult<usize> {
    run(
        db,
        "UPDATE agents SET removed_at = ?3, token_version = token_version + 1 \
         WHERE id = ?1 AND workspace_id = ?2 AND role != 'owner' AND removed_at IS NULL",
        &[id.into(), workspace_id.into(), num(now_ms)],
        "removing an agent",
    )
    .await
}

pub struct NewAgent<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub password_salt: &'a str,
    pub iterations: u32,
    pub now_ms: i64,
}

/// Accepts an invitation: marks it used and creates the agent, in one batch
/// (a transaction). Fails with 409 if the email already has an account.
pub async fn accept_invitation(
    db: &D1Database,
    invitation_id: &str,
    a: &NewAgent<'_>,
) -> ApiResult<()> {
    let used = stmt(
        db,
        "UPDATE invitations SET accepted_at = ?2 WHERE id = ?1 AND accepted_at IS NULL",
        &[invitation_id.into(), num(a.now_ms)],
    )?;
    let agent = stmt(
        db,
        "INSERT INTO agents (id, workspace_id, name, email, password_hash, password_salt, \
         password_iterations, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            a.id.into(),
            a.workspace_id.into(),
            a.name.into(),
            a.email.into(),
            a.password_hash.into(),
            a.password_salt.into(),
            JsValue::from(a.iterations),
            a.role.into(),
            num(a.now_ms),
        ],
    )?;
    db.batch(vec![used, agent])
        .await
        .map_err(agent_insert_err("accepting an invitation"))?;
    Ok(())
}

// Invitations --------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub role: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

const INVITATION_COLUMNS: &str =
    "id, workspace_id, email, role, created_by, created_at, expires_at, accepted_at";

pub async fn create_invitation(
    db: &D1Database,
    inv: &Invitation,
    token_hash: &str,
) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, created_by, \
         created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            inv.id.as_str().into(),
            inv.workspace_id.as_str().into(),
            inv.email.as_str().into(),
            inv.role.as_str().into(),
            token_hash.into(),
            inv.created_by.as_str().into(),
            num(inv.created_at),
            num(inv.expires_at),
        ],
        "creating an invitation",
    )
    .await?;
    Ok(())
}

pub async fn invitation_by_token_hash(
    db: &D1Database,
    token_hash: &str,
) -> ApiResult<Option<Invitation>> {
    first(
        db,
        &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?1"),
        &[token_hash.into()],
        "reading an invitation",
    )
    .await
}

pub async fn pending_invitations(
    db: &D1Database,
    workspace_id: &str,
    now_ms: i64,
) -> ApiResult<Vec<Invitation>> {
    all(
        db,
        &format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = ?1 \
             AND accepted_at IS NULL AND expires_at > ?2 ORDER BY created_at"
        ),
        &[workspace_id.into(), num(now_ms)],
        "listing invitations",
    )
    .await
}

pub async fn delete_invitation(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<usize> {
    run(
        db,
        "DELETE FROM invitations WHERE id = ?1 AND workspace_id = ?2 AND accepted_at IS NULL",
        &[id.into(), workspace_id.into()],
        "deleting an invitation",
    )
    .await
}

// API keys -------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// JSON array of scopes, as stored.
    pub scopes: String,
    pub last_four: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const KEY_COLUMNS: &str =
    "id, workspace_id, name, scopes, last_four, created_by, created_at, revoked_at";

pub async fn create_api_key(db: &D1Database, key: &ApiKey, key_hash: &str) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO api_keys (id, workspace_id, name, scopes, key_hash, last_four, created_by, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            key.id.as_str().into(),
            key.workspace_id.as_str().into(),
            key.name.as_str().into(),
            key.scopes.as_str().into(),
            key_hash.into(),
            key.last_four.as_str().into(),
            key.created_by.as_str().into(),
            num(key.created_at),
        ],
        "creating an API key",
    )
    .await?;
    Ok(())
}

pub async fn api_key_by_hash(db: &D1Database, key_hash: &str) -> ApiResult<Option<ApiKey>> {
    first(
        db,
        &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL"),
        &[key_hash.into()],
        "reading an API key",
    )
    .await
}

/// True when the workspace's API key `id` exists and is not revoked.
pub async fn api_key_live(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    Ok(count(
        db,
        "SELECT COUNT(*) AS n FROM api_keys WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
        &[id.into(), workspace_id.into()],
        "checking a ticket's API key",
    )
    .await?
        > 0)
}

pub async fn api_keys_of(db: &D1Database, workspace_id: &str) -> ApiResult<Vec<ApiKey>> {
    all(
        db,
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE workspace_id = ?1 AND revoked_at IS NULL \
             ORDER BY created_at"
        ),
        &[workspace_id.into()],
        "listing API keys",
    )
    .await
}

pub async fn revoke_api_key(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    now_ms: i64,
) -> ApiResult<usize> {
    run(
        db,
        "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
        &[id.into(), workspace_id.into(), num(now_ms)],
        "revoking an API key",
    )
    .await
}

// Workspace --------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    /// JSON object, as stored.
    pub settings: String,
    pub created_at: i64,
}

pub async fn workspace(db: &D1Database, id: &str) -> ApiResult<Option<Workspace>> {
    first(
        db,
        "SELECT id, name, settings, created_at FROM workspaces WHERE id = ?1",
        &[id.into()],
        "reading a workspace",
    )
    .await
}

pub async fn update_workspace(
    db: &D1Database,
    id: &str,
    name: &str,
    settings: &str,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE workspaces SET name = ?2, settings = ?3 WHERE id = ?1",
        &[id.into(), name.into(), settings.into()],
        "updating a workspace",
    )
    .await?;
    Ok(())
}

// Inboxes ------------------------------------------------------------------------

pub async fn update_inbox(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    name: &str,
    settings_json: &str,
    options_json: &str,
) -> ApiResult<usize> {
    let n = run(
        db,
        "UPDATE inboxes SET name = ?3, settings = ?4, options = ?5 \
         WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
        &[
            id.into(),
            workspace_id.into(),
            name.into(),
            crate::sealing::seal(id, settings_json)?.into(),
            options_json.into(),
        ],
        "updating an inbox",
    )
    .await?;
    crate::db::forget_inbox(id);
    Ok(n)
}

pub async fn delete_inbox(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    now_ms: i64,
) -> ApiResult<usize> {
    let n = run(
        db,
        "UPDATE inboxes SET deleted_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
        &[id.into(), workspace_id.into(), num(now_ms)],
        "deleting an inbox",
    )
    .await?;
    crate::db::forget_inbox(id);
    Ok(n)
}

// Login throttle -------------------------------------------------------------------

#[derive(Deserialize)]
pub struct Failures {
    pub failures: i64,
    pub window_start: i64,
}

pub async fn failures(db: &D1Database, key: &str) -> ApiResult<Option<Failures>> {
    first(
        db,
        "SELECT failures, window_start FROM login_failures WHERE key = ?1",
        &[key.into()],
        "reading login failures",
    )
    .await
}

/// Counts one failure for `key` in a window that restarts after `window_ms`.
pub async fn record_failure(
    db: &D1Database,
    key: &str,
    now_ms: i64,
    window_ms: i64,
) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO login_failures (key, failures, window_start) VALUES (?1, 1, ?2) \
         ON CONFLICT(key) DO UPDATE SET \
           failures = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE failures + 1 END, \
           window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END",
        &[key.into(), num(now_ms), num(window_ms)],
        "recording a login failure",
    )
    .await?;
    Ok(())
}

pub async fn clear_failures(db: &D1Database, key: &str) -> ApiResult<()> {
    run(
        db,
        "DELETE FROM login_failures WHERE key = ?1",
        &[key.into()],
        "clearing login failures",
    )
    .await?;
    Ok(())
}
