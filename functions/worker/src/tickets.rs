//! Socket tickets: what a browser puts in a WebSocket URL instead of its
//! session or visitor token (`switchboard_core::ticket` has the format).
//!
//! Issued by `POST /api/live/ticket` (agents) and `POST /api/widget/ticket`
//! (visitors), each after the usual check of the caller's token; valid for
//! [`TICKET_TTL_SECS`] and one socket. Redeeming checks the MAC and expiry
//! here, then records the nonce in the workspace's object, which refuses a
//! nonce it has seen: a ticket copied from a log, replayed, or raced by two
//! sockets opens at most one.

use crate::config::Config;
use crate::http::{ApiError, ApiResult};
use crate::objects;
use crate::runtime::{new_id, now_secs};
use switchboard_core::ticket::{self, Ticket, TICKET_TTL_SECS};
use worker::{Env, Method};

/// Who a ticket is for: copied from the token it is exchanged for.
pub struct Holder<'a> {
    pub sub: &'a str,
    pub ws: &'a str,
    pub role: &'a str,
    pub sid: &'a str,
    /// The agent's token version (0 for others).
    pub ver: i64,
}

/// A new ticket for `holder`, and its lifetime in seconds.
pub fn issue(config: &Config, holder: &Holder<'_>) -> ApiResult<(String, i64)> {
    let t = Ticket {
        sub: holder.sub.to_string(),
        ws: holder.ws.to_string(),
        role: holder.role.to_string(),
        sid: holder.sid.to_string(),
        ver: holder.ver,
        nonce: new_id("tk_")?,
        exp: now_secs() + TICKET_TTL_SECS,
    };
    Ok((ticket::sign(&config.session_secret, &t), TICKET_TTL_SECS))
}

/// The ticket's claims, used up: 401 when it is forged, expired or was
/// used before.
pub async fn redeem(env: &Env, config: &Config, raw: &str) -> ApiResult<Ticket> {
    #[derive(serde::Deserialize)]
    struct Answer {
        fresh: bool,
    }
    let t = ticket::verify(&config.session_secret, raw, now_secs()).map_err(|e| {
        ApiError::unauthorized(match e {
            switchboard_core::token::TokenError::Expired => {
                "ticket has expired; ask for a new one (they last 30 seconds)"
            }
            other => other.reason(),
        })
    })?;
    let body = serde_json::json!({ "nonce": t.nonce, "exp": t.exp }).to_string();
    let stub = objects::workspace_stub(env, &t.ws)?;
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/tickets/consume", Some(body), &[])?,
    )
    .await?;
    let answer: Answer = resp
        .json()
        .await
        .map_err(|e| ApiError::internal("reading a ticket's use", e))?;
    if !answer.fresh {
        return Err(ApiError::unauthorized(
            "ticket was already used; ask for a new one for each socket",
        ));
    }
    Ok(t)
}
