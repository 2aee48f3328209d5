//! Settings the deployment gives through vars and secrets.

use crate::http::ApiError;
use std::sync::atomic::{AtomicBool, Ordering};
use worker::Env;

static LOGGED_NO_SESSION_SECRET: AtomicBool = AtomicBool::new(false);
/// Seen set once: a running isolate's secrets do not change, so later
/// requests skip the lookup.
static SESSION_SECRET_SEEN: AtomicBool = AtomicBool::new(false);

/// Every `/api` route signs or checks tokens: without `SESSION_SECRET` they
/// would hand out tokens no later request accepts. Refuse clearly instead
/// (503 naming the setting), and log it once per isolate.
pub fn require_session_secret(env: &Env) -> Result<(), ApiError> {
    if SESSION_SECRET_SEEN.load(Ordering::Relaxed) {
        return Ok(());
    }
    let set = env
        .secret("SESSION_SECRET")
        .map(|s| s.to_string())
        .or_else(|_| env.var("SESSION_SECRET").map(|s| s.to_string()))
        .is_ok_and(|s| !s.trim().is_empty());
    if set {
        SESSION_SECRET_SEEN.store(true, Ordering::Relaxed);
        return Ok(());
    }
    if !LOGGED_NO_SESSION_SECRET.swap(true, Ordering::Relaxed) {
        worker::console_error!(
            "SESSION_SECRET is not set: every /api route answers 503. Set it with \
             `openssl rand -hex 32 | npx wrangler secret put SESSION_SECRET` \
             (locally: a line SESSION_SECRET=\"…\" in .dev.vars)"
        );
    }
    Err(ApiError::new(
        503,
        "SESSION_SECRET is not set on this server: set it as a Worker secret (docs/DEPLOY.md)",
    ))
}

pub struct Config {
    pub graph_base: String,
    pub telegram_base: String,
    pub session_secret: Vec<u8>,
    pub session_ttl_secs: i64,
    /// This server's public origin (`PUBLIC_URL`), for links a platform
    /// fetches files from (Instagram); `None` when unset.
    pub public_url: Option<String>,
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        let var = |name: &str, default: &str| {
            env.var(name)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| default.to_string())
        };
        // A secret when deployed; `.dev.vars` or `--var` locally.
        let session_secret = env
            .secret("SESSION_SECRET")
            .map(|s| s.to_string())
            .or_else(|_| env.var("SESSION_SECRET").map(|s| s.to_string()))
            .unwrap_or_default();
        Config {
            graph_base: var("GRAPH_API_BASE", "https://graph.facebook.com"),
            telegram_base: var("TELEGRAM_API_BASE", "https://api.telegram.org"),
            session_secret: session_secret.into_bytes(),
            session_ttl_secs: var("SESSION_TTL_SECS", "604800").parse().unwrap_or(604_800),
            public_url: Some(var("PUBLIC_URL", ""))
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        }
    }
}
