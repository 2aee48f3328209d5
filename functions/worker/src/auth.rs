//! Who is calling: an agent with a session token, or the workspace's own
//! systems with an API key.
//!
//! A session token is taken from `Authorization: Bearer` or `?token=`
//! (server-side WebSocket clients). Browsers open sockets with a ticket
//! instead ([`socket_caller`], `tickets.rs`), so no long-lived token is
//! ever in a URL, and no cookie reaches a socket or the API: a cookie would
//! ride along on a socket a hostile page opens. The one exception is
//! [`file_caller`]: an `<img>` cannot send a header, so stored files also
//! take the `sb_files` cookie, which the dashboard scopes to
//! `Path=/api/attachments` and `SameSite=Strict`. Its MAC and expiry are checked, then D1
//! confirms the agent still exists, the token's version is current
//! (password change, role change, removal) and its session is not revoked
//! (logout). An API key (`sbk_…`) is looked up by its hash; a `read` key
//! may only read.

use crate::accounts_db;
use crate::config::Config;
use crate::db;
use crate::http::{query, ApiError, ApiResult};
use crate::runtime::{new_id, now_ms, now_secs};
use switchboard_core::token::{self, secret_digest, Claims};
use worker::{D1Database, Env, Method, Request};

/// An authenticated caller. Only [`authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct Agent {
    /// The agent's id, or the API key's id (`ak_…`).
    pub agent_id: String,
    pub workspace_id: String,
    pub role: Role,
    /// The session a human's token belongs to; `None` for an API key.
    pub session: Option<Session>,
}

/// A human's session as their token names it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    /// The agent's token version when the token was signed: a password
    /// change, role change or removal bumps it in D1.
    pub token_version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The workspace's own systems, through an API key: agent's rights at most.
    ApiKey,
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ApiKey => "api_key",
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

impl Agent {
    /// 403 unless a human admin or the owner is calling.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.role >= Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an admin or the owner"))
        }
    }

    /// 403 for API keys: things only a person may do (their profile…).
    pub fn require_human(&self) -> ApiResult<()> {
        if self.role >= Role::Agent {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "an API key cannot do this; log in as an agent",
            ))
        }
    }
}

fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("authorization").ok().flatten()?;
    h.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "sbk_";

pub async fn authenticate(req: &Request, config: &Config, db: &D1Database) -> ApiResult<Agent> {
    let token = bearer(req).or_else(|| query(req, "token")).ok_or_else(|| {
        ApiError::unauthorized("missing token: send Authorization: Bearer <token>")
    })?;
    authenticate_token(req, config, db, token).await
}

/// The cookie that carries a session token to `/api/attachments` only.
const FILES_COOKIE: &str = "sb_files";

fn files_cookie(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == FILES_COOKIE && !value.is_empty()).then(|| value.to_string())
    })
}

/// The caller of a stored file's URL: any credential [`caller`] takes, or
/// the `sb_files` cookie (what an `<img>` in the dashboard sends).
pub async fn file_caller(req: &Request, env: &Env) -> ApiResult<Agent> {
    if bearer(req).is_some() || query(req, "token").is_some() {
        return caller(req, env).await.map(|(agent, _)| agent);
    }
    let token = files_cookie(req).ok_or_else(|| {
        ApiError::unauthorized("missing token: send Authorization: Bearer <token>")
    })?;
    let config = Config::from_env(env);
    let database = db::database(env)?;
    authenticate_token(req, &config, &database, token).await
}

async fn authenticate_token(
    req: &Request,
    config: &Config,
    db: &D1Database,
    token: String,
) -> ApiResult<Agent> {
    if token.starts_with(API_KEY_PREFIX) {
        return authenticate_key(req, db, &token).await;
    }
    let claims = token::verify(&config.session_secret, &token, now_secs())
        .map_err(|e| ApiError::unauthorized(e.reason()))?;
    let row = db::agent(db, &claims.ws, &claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("token's agent no longer exists"))?;
    if row.removed_at.is_some()
        || row.token_version != claims.ver
        || !accounts_db::session_live(db, &claims.sid, &row.id).await?
    {
        return Err(ApiError::unauthorized(
            "token has been revoked; log in again",
        ));
    }
    let role =
        Role::parse(&row.role).ok_or_else(|| ApiError::unauthorized("token is not an agent's"))?;
    Ok(Agent {
        agent_id: row.id,
        workspace_id: row.workspace_id,
        role,
        session: Some(Session {
            id: claims.sid,
            token_version: claims.ver,
        }),
    })
}

async fn authenticate_key(req: &Request, db: &D1Database, key: &str) -> ApiResult<Agent> {
    let stored = accounts_db::api_key_by_hash(db, &secret_digest(key))
        .await?
        .ok_or_else(|| ApiError::unauthorized("API key is unknown or revoked"))?;
    let scopes: Vec<String> = serde_json::from_str(&stored.scopes).unwrap_or_default();
    let writes = !matches!(req.method(), Method::Get | Method::Head);
    if writes && !scopes.iter().any(|s| s == "write") {
        return Err(ApiError::forbidden(
            "this API key may only read (scope \"read\")",
        ));
    }
    Ok(Agent {
        agent_id: stored.id,
        workspace_id: stored.workspace_id,
        role: Role::ApiKey,
        session: None,
    })
}

/// The authenticated caller of `req`, and the D1 handle it was checked with.
pub async fn caller(req: &Request, env: &Env) -> ApiResult<(Agent, D1Database)> {
    let config = Config::from_env(env);
    let database = db::database(env)?;
    let agent = authenticate(req, &config, &database).await?;
    Ok((agent, database))
}

/// The caller of a WebSocket upgrade: a ticket in `?ticket=` (what
/// browsers use), or any credential [`caller`] takes (server-side
/// clients). A ticket is used up here, and what it was exchanged for is
/// checked again in one D1 query: a logout, password or role change,
/// removal or revoked API key in the 30 seconds since its issue stops it.
pub async fn socket_caller(req: &Request, env: &Env) -> ApiResult<Agent> {
    let Some(raw) = query(req, "ticket") else {
        return caller(req, env).await.map(|(agent, _)| agent);
    };
    let config = Config::from_env(env);
    let t = crate::tickets::redeem(env, &config, &raw).await?;
    let role = match t.role.as_str() {
        "api_key" => Role::ApiKey,
        other => {
            Role::parse(other).ok_or_else(|| ApiError::unauthorized("not an agent's ticket"))?
        }
    };
    let database = db::database(env)?;
    let session = if role == Role::ApiKey {
        if !accounts_db::api_key_live(&database, &t.ws, &t.sub).await? {
            return Err(ApiError::unauthorized("ticket's API key has been revoked"));
        }
        None
    } else {
        let session = Session {
            id: t.sid,
            token_version: t.ver,
        };
        if !accounts_db::agent_session_live(&database, &t.ws, &t.sub, role.as_str(), &session)
            .await?
        {
            return Err(ApiError::unauthorized(
                "ticket's session has ended; log in again",
            ));
        }
        Some(session)
    };
    Ok(Agent {
        agent_id: t.sub,
        workspace_id: t.ws,
        role,
        session,
    })
}

/// Starts a session for an agent and returns its token.
pub async fn issue(
    config: &Config,
    database: &D1Database,
    agent: &db::AgentRow,
) -> ApiResult<String> {
    let sid = new_id("se_")?;
    let exp = now_secs() + config.session_ttl_secs;
    accounts_db::create_session(
        database,
        &sid,
        &agent.id,
        now_ms(),
        exp.saturating_mul(1000),
    )
    .await?;
    Ok(token::sign(
        &config.session_secret,
        &Claims {
            sub: agent.id.clone(),
            ws: agent.workspace_id.clone(),
            role: agent.role.clone(),
            exp,
            ver: agent.token_version,
            sid,
        },
    ))
}
