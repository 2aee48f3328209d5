//! Sign-up, login (throttled), logout, and the caller's own profile.

use crate::accounts_db;
use crate::auth;
use crate::config::Config;
use crate::db::{self, NewWorkspace};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::password;
use crate::runtime::{new_id, now_ms, random_bytes};
use serde::Deserialize;
use worker::{D1Database, Env, Request, Response};

#[derive(Deserialize)]
struct SignupIn {
    workspace: String,
    name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
struct LoginIn {
    email: String,
    password: String,
}

pub fn check_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.starts_with('.')
        });
    if ok {
        Ok(email)
    } else {
        Err(ApiError::bad_request("email is not a valid address"))
    }
}

pub fn check_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(v.to_string())
}

pub fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(ApiError::bad_request(
            "password must be at least 8 characters",
        ));
    }
    Ok(())
}

/// A fresh salt and the PBKDF2 hash of `password`, both hex.
pub async fn hash_password(password: &str) -> ApiResult<(String, String)> {
    let salt = random_bytes::<16>()?;
    let hash = password::derive(password, &salt, password::ITERATIONS).await?;
    Ok((hex::encode(hash), hex::encode(salt)))
}

/// # `POST /api/signup`
/// Creates a workspace and its owner and answers 201 `{workspace_id,
/// agent_id, token}`. The password is stored as PBKDF2-SHA256 (100,000
/// iterations, per-agent random salt); a taken email gets 409.
pub async fn signup(mut req: Request, env: &Env) -> ApiResult<Response> {
    let input: SignupIn = json_body(&mut req).await?;
    let workspace = check_text("workspace", &input.workspace, 100)?;
    let name = check_text("name", &input.name, 100)?;
    let email = check_email(&input.email)?;
    check_password(&input.password)?;
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let (hash, salt) = hash_password(&input.password).await?;
    let workspace_id = new_id("ws_")?;
    let agent_id = new_id("ag_")?;
    db::create_workspace(
        &database,
        &NewWorkspace {
            workspace_id: &workspace_id,
            workspace_name: &workspace,
            agent_id: &agent_id,
            agent_name: &name,
            email: &email,
            password_hash: &hash,
            password_salt: &salt,
            iterations: password::ITERATIONS,
            now_ms: now_ms(),
        },
    )
    .await?;
    let agent = db::agent(&database, &workspace_id, &agent_id)
        .await?
        .ok_or_else(|| ApiError::internal("signup", "the new agent could not be read back"))?;
    let token = auth::issue(&config, &database, &agent).await?;
    Ok(json(
        201,
        &serde_json::json!({ "workspace_id": workspace_id, "agent_id": agent_id, "token": token }),
    )?)
}

/// Failed logins allowed per account in a window, and per address.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_ADDRESS: i64 = 20;
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The caller's address as Cloudflare reports it (`local` under wrangler dev
/// without the header).
fn client_address(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "local".into())
}

/// 429 while `key` has `max` failures in the current window.
async fn throttle(database: &D1Database, key: &str, max: i64, now: i64) -> ApiResult<()> {
    if let Some(f) = accounts_db::failures(database, key).await? {
        let ends = f.window_start + THROTTLE_WINDOW_MS;
        if f.failures >= max && ends > now {
            return Err(ApiError::too_many(
                "too many failed logins; wait before trying again",
                (ends - now + 999) / 1000,
            ));
        }
    }
    Ok(())
}

/// # `POST /api/login`
/// Answers 200 `{token, agent_id, workspace_id}` for a right email and
/// password, 401 otherwise (the same answer whether the email exists).
/// After 5 failures for an account, or 20 from an address, within 15
/// minutes: 429 with `Retry-After`, without checking the password.
pub async fn login(mut req: Request, env: &Env) -> ApiResult<Response> {
    let input: LoginIn = json_body(&mut req).await?;
    let email = input.email.trim().to_lowercase();
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let now = now_ms();
    let account_key = format!("email:{email}");
    let address_key = format!("ip:{}", client_address(&req));
    throttle(&database, &account_key, MAX_FAILURES_PER_ACCOUNT, now).await?;
    throttle(&database, &address_key, MAX_FAILURES_PER_ADDRESS, now).await?;

    let agent = db::agent_by_email(&database, &email).await?;
    let verified = match &agent {
        Some(agent) => {
            let salt = hex::decode(&agent.password_salt)
                .map_err(|e| ApiError::internal("stored salt", e))?;
            let expected = hex::decode(&agent.password_hash)
                .map_err(|e| ApiError::internal("stored hash", e))?;
            let iterations =
                u32::try_from(agent.password_iterations).unwrap_or(password::ITERATIONS);
            password::matches(&input.password, &salt, iterations, &expected).await?
        }
        None => {
            // Spend the same work as a real check, so timing does not tell
            // which emails have accounts.
            let _ = password::derive(&input.password, &[0u8; 16], password::ITERATIONS).await;
            false
        }
    };
    let Some(agent) = agent.filter(|_| verified) else {
        accounts_db::record_failure(&database, &account_key, now, THROTTLE_WINDOW_MS).await?;
        accounts_db::record_failure(&database, &address_key, now, THROTTLE_WINDOW_MS).await?;
        return Err(ApiError::unauthorized("email or password is wrong"));
    };
    accounts_db::clear_failures(&database, &account_key).await?;
    let token = auth::issue(&config, &database, &agent).await?;
    Ok(json(
        200,
        &serde_json::json!({ "token": token, "agent_id": agent.id, "workspace_id": agent.workspace_id, "name": agent.name, "role": agent.role }),
    )?)
}

/// # `POST /api/logout`
/// Revokes the caller's session: this token stops working at once; the
/// agent's other sessions are untouched.
pub async fn logout(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_human()?;
    if let Some(session) = &agent.session {
        accounts_db::revoke_session(&database, &session.id, now_ms()).await?;
    }
    Ok(json(200, &serde_json::json!({ "logged_out": true }))?)
}

/// # `GET /api/me`
/// The caller's profile.
pub async fn me(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_human()?;
    let view = accounts_db::agent_view(&database, &agent.workspace_id, &agent.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(json(200, &view)?)
}

#[derive(Deserialize)]
struct ProfileIn {
    name: Option<String>,
    /// A BCP 47 tag such as `en` or `pt-BR`, or null to clear it.
    #[serde(default, with = "double_option")]
    language: Option<Option<String>>,
    /// An https URL of a picture, or null (or "") to clear it.
    #[serde(default, with = "double_option")]
    avatar_url: Option<Option<String>>,
}

/// An avatar is an https URL (the dashboard's policy loads images from
/// https only), at most 512 characters; "" clears it.
fn check_avatar(url: &str) -> ApiResult<Option<String>> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let ok = url.len() <= 512
        && url.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !url.contains(char::is_whitespace)
        });
    if ok {
        Ok(Some(url.to_string()))
    } else {
        Err(ApiError::bad_request(
            "avatar_url must be an https:// URL of at most 512 characters",
        ))
    }
}

/// Tells "absent" (keep) from `null` (clear).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

pub(super) fn check_language(tag: &str) -> ApiResult<String> {
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(tag.to_string())
    } else {
        Err(ApiError::bad_request(
            "language must be a language tag such as en or pt-BR",
        ))
    }
}

/// # `PATCH /api/me` `{name?, language?, avatar_url?}`
/// Sets the caller's name, working language (what translation targets) and
/// picture (an https URL; null or "" clears it). Invalid input is a 400
/// naming the field, and nothing changes.
pub async fn update_me(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_human()?;
    let input: ProfileIn = json_body(&mut req).await?;
    let current = accounts_db::agent_view(&database, &agent.workspace_id, &agent.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let name = match input.name {
        Some(n) => check_text("name", &n, 100)?,
        None => current.name,
    };
    let language = match input.language {
        None => current.language,
        Some(None) => None,
        Some(Some(tag)) => Some(check_language(&tag)?),
    };
    let avatar_url = match input.avatar_url {
        None => current.avatar_url,
        Some(None) => None,
        Some(Some(url)) => check_avatar(&url)?,
    };
    accounts_db::update_profile(
        &database,
        &agent.agent_id,
        &name,
        language.as_deref(),
        avatar_url.as_deref(),
    )
    .await?;
    let view = accounts_db::agent_view(&database, &agent.workspace_id, &agent.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(json(200, &view)?)
}

#[derive(Deserialize)]
struct PasswordIn {
    current_password: String,
    new_password: String,
}

/// # `POST /api/me/password` `{current_password, new_password}`
/// Changes the password and revokes every token the agent had; answers
/// with a fresh token for this session's holder.
pub async fn change_password(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let config = Config::from_env(env);
    agent.require_human()?;
    let input: PasswordIn = json_body(&mut req).await?;
    check_password(&input.new_password)?;
    let row = db::agent(&database, &agent.workspace_id, &agent.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let salt = hex::decode(&row.password_salt).map_err(|e| ApiError::internal("stored salt", e))?;
    let expected =
        hex::decode(&row.password_hash).map_err(|e| ApiError::internal("stored hash", e))?;
    let iterations = u32::try_from(row.password_iterations).unwrap_or(password::ITERATIONS);
    if !password::matches(&input.current_password, &salt, iterations, &expected).await? {
        return Err(ApiError::forbidden("current_password is wrong"));
    }
    let (hash, salt) = hash_password(&input.new_password).await?;
    accounts_db::set_password(&database, &row.id, &hash, &salt, password::ITERATIONS).await?;
    let row = db::agent(&database, &agent.workspace_id, &agent.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let token = auth::issue(&config, &database, &row).await?;
    Ok(json(200, &serde_json::json!({ "token": token }))?)
}
