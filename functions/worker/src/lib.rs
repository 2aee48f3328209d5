//! Switchboard's worker: the thin shell around `switchboard-core`.
//!
//! It routes requests ([`routes`]), reads configuration from D1 ([`db`]),
//! authenticates ([`auth`]), and hosts the two Durable Objects
//! ([`objects::conversation`], [`objects::workspace`]) that hold every
//! message and every live socket. See `ARCHITECTURE.md` for the flow.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod accounts_db;
mod audit;
mod auth;
mod config;
mod db;
mod export;
mod http;
mod labels_db;
mod media;
mod memory;
mod objects;
mod password;
mod platform;
mod r2;
mod routes;
mod runtime;
mod sealing;
mod tickets;
mod time_zone;
mod translation;

pub use objects::conversation::ConversationObject;
pub use objects::workspace::WorkspaceObject;

use worker::worker_sys::web_sys;
use worker::{event, Context, Env, Response, Result};

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::entry(req, env).await
}
