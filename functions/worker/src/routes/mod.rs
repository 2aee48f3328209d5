//! The router: one match on method and path segments. Each handler lives in
//! the module named after what it serves.

mod accounts;
mod api_keys;
mod attachments;
mod canned;
mod conversation_tools;
mod conversations;
mod export;
mod feed;
mod inbox_setup;
mod inboxes;
mod labels;
mod methods;
mod reports;
mod team;
mod tickets;
mod translation;
mod webhooks;
mod widget;
mod workspace;

use crate::http::{into_response, json, with_api_headers, ApiError, ApiResult};
use worker::worker_sys::web_sys;
use worker::{Env, Method, Request, Response, Result};

/// The worker's entry. A platform's `POST /webhooks/{channel}/{inbox}`,
/// the hot path, goes to its handler as the runtime's request: it needs
/// the headers and the raw body only, and `worker::Request`'s conversion
/// would also parse `cf` for every webhook. Everything else is routed.
pub async fn entry(raw: web_sys::Request, env: Env) -> Result<Response> {
    if raw.method() == "POST" {
        let url = raw.url();
        if let Some((channel, inbox)) = switchboard_core::channels::webhook_target(&url) {
            let result = webhooks::receive(raw, &env, channel, inbox).await;
            return with_api_headers(into_response(result)?, url.starts_with("https:"));
        }
    }
    handle(Request::from(raw), env).await
}

async fn handle(req: Request, env: Env) -> Result<Response> {
    let https = req.url().is_ok_and(|u| u.scheme() == "https");
    let is_asset = !matches!(
        req.path().trim_matches('/').split('/').next(),
        Some("api" | "webhooks" | "healthz")
    );
    let resp = route(req, env).await?;
    match is_asset {
        true => Ok(resp),
        false => with_api_headers(resp, https),
    }
}

async fn route(req: Request, env: Env) -> Result<Response> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    if segments.first() == Some(&"api") {
        if let Err(e) = crate::config::require_session_secret(&env) {
            return into_response(Err(e));
        }
    }
    let result = match (method, segments.as_slice()) {
        (Method::Get, ["healthz"]) => health(&env),
        (Method::Post, ["api", "signup"]) => accounts::signup(req, &env).await,
        (Method::Post, ["api", "login"]) => accounts::login(req, &env).await,
        (Method::Post, ["api", "logout"]) => accounts::logout(req, &env).await,
        (Method::Get, ["api", "me"]) => accounts::me(req, &env).await,
        (Method::Patch, ["api", "me"]) => accounts::update_me(req, &env).await,
        (Method::Post, ["api", "me", "password"]) => accounts::change_password(req, &env).await,
        (Method::Get, ["api", "workspace"]) => workspace::get(req, &env).await,
        (Method::Patch, ["api", "workspace"]) => workspace::update(req, &env).await,
        (Method::Post, ["api", "invitations"]) => team::invite(req, &env).await,
        (Method::Get, ["api", "invitations"]) => team::list_invitations(req, &env).await,
        (Method::Post, ["api", "invitations", "accept"]) => team::accept(req, &env).await,
        (Method::Delete, ["api", "invitations", id]) => team::withdraw(req, &env, id).await,
        (Method::Get, ["api", "agents"]) => team::list_agents(req, &env).await,
        (Method::Patch, ["api", "agents", id]) => team::set_role(req, &env, id).await,
        (Method::Delete, ["api", "agents", id]) => team::remove(req, &env, id).await,
        (Method::Post, ["api", "api_keys"]) => api_keys::create(req, &env).await,
        (Method::Get, ["api", "api_keys"]) => api_keys::list(req, &env).await,
        (Method::Delete, ["api", "api_keys", id]) => api_keys::revoke(req, &env, id).await,
        (Method::Get, ["api", "inboxes"]) => inboxes::list(req, &env).await,
        (Method::Post, ["api", "inboxes"]) => inboxes::create(req, &env).await,
        (Method::Get, ["api", "inboxes", id]) => inboxes::get(req, &env, id).await,
        (Method::Patch, ["api", "inboxes", id]) => inboxes::update(req, &env, id).await,
        (Method::Delete, ["api", "inboxes", id]) => inboxes::delete(req, &env, id).await,
        (Method::Post, ["api", "inboxes", id, "test"]) => {
            inbox_setup::test_connection(req, &env, id).await
        }
        (Method::Post, ["api", "inboxes", id, "test_message"]) => {
            inbox_setup::test_message(req, &env, id).await
        }
        (Method::Post, ["api", "inboxes", id, "webhook"]) => {
            inbox_setup::retry_webhook(req, &env, id).await
        }
        (Method::Get, ["api", "conversations"]) => conversations::list(req, &env).await,
        (Method::Post, ["api", "conversations", id, "messages", message_id, "translate"]) => {
            translation::translate(req, &env, id, message_id).await
        }
        (Method::Get, ["api", "workspace", "translation"]) => translation::usage(req, &env).await,
        (Method::Get, ["api", "conversations", id, "language"]) => {
            translation::get_language(req, &env, id).await
        }
        (Method::Get, ["api", "conversations", id, "messages"]) => {
            conversations::messages(req, &env, id).await
        }
        (Method::Post, ["api", "conversations", id, "messages"]) => {
            conversations::write(req, &env, id).await
        }
        (Method::Get, ["api", "conversations", id, "events"]) => {
            conversations::events(req, &env, id).await
        }
        (Method::Get, ["api", "conversations", id, "live"]) => {
            conversations::live(req, &env, id).await
        }
        (Method::Post, ["api", "conversations", id, "read"]) => {
            conversations::read(req, &env, id).await
        }
        (Method::Patch, ["api", "conversations", id]) => {
            conversation_tools::patch(req, &env, id).await
        }
        (Method::Patch, ["api", "conversations", id, "contact"]) => {
            conversation_tools::patch_contact(req, &env, id).await
        }
        (Method::Get, ["api", "conversations", id, "export"]) => {
            export::conversation(req, &env, id).await
        }
        (Method::Post, ["api", "conversations", id, "erase"]) => {
            conversation_tools::erase(req, &env, id).await
        }
        (Method::Get, ["api", "export"]) => export::workspace(req, &env).await,
        // Attachments: stored files, agents' uploads.
        (Method::Get, ["api", "attachments", id]) => attachments::serve(req, &env, id).await,
        (Method::Get, ["api", "attachments", id, "link"]) => {
            attachments::serve_link(req, &env, id).await
        }
        (Method::Post, ["api", "conversations", id, "attachments"]) => {
            attachments::upload(req, &env, id).await
        }
        (Method::Get, ["api", "audit_log"]) => conversation_tools::audit_log(req, &env).await,
        (Method::Get, ["api", "canned_responses"]) => canned::list(req, &env).await,
        (Method::Post, ["api", "canned_responses"]) => canned::create(req, &env).await,
        (Method::Patch, ["api", "canned_responses", id]) => canned::update(req, &env, id).await,
        (Method::Delete, ["api", "canned_responses", id]) => canned::delete(req, &env, id).await,
        // The workspace's label catalog (settings).
        (Method::Get, ["api", "labels"]) => labels::list(req, &env).await,
        (Method::Post, ["api", "labels"]) => labels::create(req, &env).await,
        (Method::Patch, ["api", "labels", id]) => labels::update(req, &env, id).await,
        (Method::Delete, ["api", "labels", id]) => labels::delete(req, &env, id).await,
        (Method::Get, ["api", "search"]) => conversations::search(req, &env).await,
        (Method::Get, ["api", "reports"]) => reports::get(req, &env).await,
        (Method::Get, ["api", "live"]) => feed::live(req, &env).await,
        (Method::Post, ["api", "live", "ticket"]) => tickets::issue(req, &env).await,
        // The widget's routes answer with CORS for the inbox's origins.
        (_, ["api", "widget", rest @ ..]) => return widget::handle(req, &env, rest).await,
        (Method::Get, ["api", "feed"]) => feed::poll(req, &env).await,
        (Method::Get, ["api", "visitors"]) => feed::visitors(req, &env).await,
        (Method::Get, ["webhooks", channel, inbox]) => {
            webhooks::handshake(req, &env, channel, inbox).await
        }
        (Method::Post, ["webhooks", channel, inbox]) => {
            // The same JS object (`Request::clone` would tee its body).
            let raw = Clone::clone(req.inner());
            webhooks::receive(raw, &env, channel, inbox).await
        }
        (method, s @ (["api", ..] | ["webhooks", ..] | ["healthz"])) => {
            // A known path with the wrong method: 405 and what it answers.
            let allowed = methods::allowed(s);
            if !allowed.is_empty() {
                return methods::respond(method.as_ref(), allowed);
            }
            Err(ApiError::new(404, format!("no route for {path}")))
        }
        _ => return serve_asset(req, &env).await,
    };
    into_response(result)
}

/// # `GET /healthz`
/// `{"ok": true}`. With the `DEBUG_COUNTERS` var set to `1` (tests and the
/// bench only) it also reports this isolate's D1 inbox lookups, so a test
/// can see that refusals are answered from the caches, and its wasm memory
/// and the JS values Rust holds (`memory.rs`), which the soak bench samples.
fn health(env: &Env) -> ApiResult<Response> {
    let debug = env
        .var("DEBUG_COUNTERS")
        .is_ok_and(|v| v.to_string() == "1");
    let body = match debug {
        true => serde_json::json!({
            "ok": true,
            "inbox_queries": crate::db::inbox_queries(),
            "wasm_memory_bytes": crate::memory::linear_memory_bytes(),
            "rust_heap_live_bytes": crate::memory::live_heap_bytes(),
            "js_refs_live": crate::memory::js_refs_live(),
        }),
        false => serde_json::json!({ "ok": true }),
    };
    json(200, &body).map_err(ApiError::from)
}

/// Everything outside `/api` and `/webhooks` is the front end's static files.
async fn serve_asset(req: Request, env: &Env) -> Result<Response> {
    match env.assets("ASSETS") {
        Ok(assets) => assets.fetch_request(req).await,
        Err(_) => into_response(Err(ApiError::not_found("page"))),
    }
}
