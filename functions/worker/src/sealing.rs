//! The keys that seal platform secrets at rest (see
//! `switchboard_core::sealing`): `SECRETS_KEY` (current, 64 hex digits) and
//! optionally `SECRETS_KEY_PREVIOUS` (still opens rows sealed before a
//! rotation). Read from the environment with the D1 binding, parsed once per
//! isolate, so every D1 read and write of an inbox seals and opens without
//! threading the keys through every caller.

use crate::http::ApiError;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use switchboard_core::sealing::{self, SealError, SealingKey};
use worker::Env;

pub struct Keys {
    current: SealingKey,
    all: Vec<SealingKey>,
}

thread_local! {
    static KEYS: RefCell<Option<Rc<Keys>>> = const { RefCell::new(None) };
}

static LOGGED_MISSING: AtomicBool = AtomicBool::new(false);

fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Reads the keys once per isolate (a deployment's secrets do not change
/// under a running isolate, so the hot path pays one thread-local check);
/// a 503 naming the setting when it is missing or malformed (logged once
/// per isolate, never with the value).
pub fn install(env: &Env) -> Result<(), ApiError> {
    if KEYS.with(|k| k.borrow().is_some()) {
        return Ok(());
    }
    let Some(current) = setting(env, "SECRETS_KEY") else {
        if !LOGGED_MISSING.swap(true, Ordering::Relaxed) {
            worker::console_error!(
                "SECRETS_KEY is not set: platform secrets cannot be sealed or opened. \
                 Set it with `openssl rand -hex 32 | npx wrangler secret put SECRETS_KEY` \
                 (locally: a line SECRETS_KEY=\"…\" in .dev.vars)"
            );
        }
        return Err(ApiError::new(
            503,
            "SECRETS_KEY is not set on this server: set it as a Worker secret (docs/DEPLOY.md)",
        ));
    };
    let bad = |name: &str| {
        worker::console_error!(
            "{name} is not 64 hex digits (32 bytes); make one with `openssl rand -hex 32`"
        );
        ApiError::new(
            503,
            format!("{name} is malformed on this server: it must be 64 hex digits"),
        )
    };
    let current = SealingKey::from_hex(&current).map_err(|_| bad("SECRETS_KEY"))?;
    let mut all = vec![current.clone()];
    if let Some(previous) = setting(env, "SECRETS_KEY_PREVIOUS") {
        all.push(SealingKey::from_hex(&previous).map_err(|_| bad("SECRETS_KEY_PREVIOUS"))?);
    }
    KEYS.with(|k| *k.borrow_mut() = Some(Rc::new(Keys { current, all })));
    Ok(())
}

fn keys() -> Option<Rc<Keys>> {
    KEYS.with(|k| k.borrow().clone())
}

/// Seals `plaintext` for the row `row_id` with the current key.
pub fn seal(row_id: &str, plaintext: &str) -> Result<String, ApiError> {
    let keys = keys().ok_or_else(|| ApiError::new(503, "SECRETS_KEY is not set on this server"))?;
    let nonce = crate::runtime::random_bytes::<12>()
        .map_err(|e| ApiError::internal("drawing a nonce to seal secrets", e))?;
    Ok(keys.current.seal(row_id, plaintext, nonce))
}

/// Opens a stored value: sealed values with their key, rows from before
/// sealing as they are (they are sealed on their next write).
pub fn open(row_id: &str, stored: &str) -> Result<String, SealError> {
    if !sealing::is_sealed(stored) {
        return Ok(stored.to_string());
    }
    let keys = keys().ok_or(SealError::UnknownKey(String::new()))?;
    sealing::open(&keys.all, row_id, stored)
}
