//! Settings the deployment gives through vars and secrets.

use worker::Env;

pub struct Config {
    pub graph_base: String,
    pub telegram_base: String,
    pub session_secret: Vec<u8>,
    pub session_ttl_secs: i64,
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
        }
    }
}
