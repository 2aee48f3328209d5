//! Who is calling: an agent, proven by a session token.
//!
//! The token is taken from `Authorization: Bearer`, the `sb_session` cookie
//! (the dashboard), or `?token=` (WebSockets, which cannot set headers from
//! a browser). Its MAC and expiry are checked, then D1 confirms the agent
//! still exists and the token's version is current, so logout and removal
//! revoke at once.

use crate::config::Config;
use crate::db;
use crate::http::{query, ApiError, ApiResult};
use crate::runtime::now_secs;
use switchboard_core::token::{self, Claims};
use worker::{D1Database, Request};

/// An authenticated agent. Only [`authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct Agent {
    pub agent_id: String,
    pub workspace_id: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
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
    /// 403 unless the agent is an admin or the owner.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.role >= Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an admin or the owner"))
        }
    }
}

fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("authorization").ok().flatten()?;
    h.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

fn cookie(req: &Request) -> Option<String> {
    let h = req.headers().get("cookie").ok().flatten()?;
    h.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "sb_session")
        .map(|(_, v)| v.to_string())
}

pub async fn authenticate(req: &Request, config: &Config, db: &D1Database) -> ApiResult<Agent> {
    let token = bearer(req)
        .or_else(|| cookie(req))
        .or_else(|| query(req, "token"))
        .ok_or_else(|| {
            ApiError::unauthorized("missing token: send Authorization: Bearer <token>")
        })?;
    let claims = token::verify(&config.session_secret, &token, now_secs())
        .map_err(|e| ApiError::unauthorized(e.reason()))?;
    let role = Role::parse(&claims.role)
        .ok_or_else(|| ApiError::unauthorized("token is not an agent's"))?;
    let row = db::agent(db, &claims.ws, &claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("token's agent no longer exists"))?;
    if row.removed_at.is_some() || row.token_version != claims.ver {
        return Err(ApiError::unauthorized(
            "token has been revoked; log in again",
        ));
    }
    Ok(Agent {
        agent_id: row.id,
        workspace_id: row.workspace_id,
        role: Role::parse(&row.role).unwrap_or(role),
    })
}

/// A fresh session token for an agent.
pub fn issue(config: &Config, agent: &db::AgentRow) -> String {
    token::sign(
        &config.session_secret,
        &Claims {
            sub: agent.id.clone(),
            ws: agent.workspace_id.clone(),
            role: agent.role.clone(),
            exp: now_secs() + config.session_ttl_secs,
            ver: agent.token_version,
        },
    )
}
