//! Sign-up and login.

use crate::auth;
use crate::config::Config;
use crate::db::{self, NewWorkspace};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::password;
use crate::runtime::{new_id, now_ms, random_bytes};
use serde::Deserialize;
use worker::{Env, Request, Response};

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

fn check_email(email: &str) -> ApiResult<String> {
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

fn check_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(v.to_string())
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
    if input.password.chars().count() < 8 || input.password.len() > 1024 {
        return Err(ApiError::bad_request(
            "password must be at least 8 characters",
        ));
    }
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let salt = random_bytes::<16>()?;
    let hash = password::derive(&input.password, &salt, password::ITERATIONS).await?;
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
            password_hash: &hex::encode(hash),
            password_salt: &hex::encode(salt),
            iterations: password::ITERATIONS,
            now_ms: now_ms(),
        },
    )
    .await?;
    let agent = db::agent(&database, &workspace_id, &agent_id)
        .await?
        .ok_or_else(|| ApiError::internal("signup", "the new agent could not be read back"))?;
    let token = auth::issue(&config, &agent);
    Ok(json(
        201,
        &serde_json::json!({ "workspace_id": workspace_id, "agent_id": agent_id, "token": token }),
    )?)
}

/// # `POST /api/login`
/// Answers 200 `{token, agent_id, workspace_id}` for a right email and
/// password, 401 otherwise (the same answer whether the email exists).
pub async fn login(mut req: Request, env: &Env) -> ApiResult<Response> {
    let input: LoginIn = json_body(&mut req).await?;
    let email = input.email.trim().to_lowercase();
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let refused = || ApiError::unauthorized("email or password is wrong");
    let Some(agent) = db::agent_by_email(&database, &email).await? else {
        // Spend the same work as a real check, so timing does not tell
        // which emails have accounts.
        let _ = password::derive(&input.password, &[0u8; 16], password::ITERATIONS).await;
        return Err(refused());
    };
    let salt =
        hex::decode(&agent.password_salt).map_err(|e| ApiError::internal("stored salt", e))?;
    let expected =
        hex::decode(&agent.password_hash).map_err(|e| ApiError::internal("stored hash", e))?;
    let iterations = u32::try_from(agent.password_iterations).unwrap_or(password::ITERATIONS);
    if !password::matches(&input.password, &salt, iterations, &expected).await? {
        return Err(refused());
    }
    let token = auth::issue(&config, &agent);
    Ok(json(
        200,
        &serde_json::json!({ "token": token, "agent_id": agent.id, "workspace_id": agent.workspace_id, "name": agent.name, "role": agent.role }),
    )?)
}
