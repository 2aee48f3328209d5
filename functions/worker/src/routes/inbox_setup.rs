//! Setting an inbox up with its platform: Telegram's webhook (registered
//! when the inbox is made, retried on demand), Test connection, and a test
//! message stored through the same ingest call a webhook makes.
//!
//! A platform that cannot be reached never stops an inbox from being made:
//! the offline demo creates a Telegram inbox with no Telegram to talk to.

use super::inboxes::{inbox_of, origin, view};
use crate::auth;
use crate::config::Config;
use crate::db::{self, Inbox, WebhookState};
use crate::http::{body_bytes, json, ApiError, ApiResult, API_BODY_LIMIT};
use crate::platform;
use crate::runtime::{new_id, now_ms};
use serde::Deserialize;
use std::time::Duration;
use switchboard_core::channels::{setup, Settings};
use switchboard_core::inbound::{InboundEvent, InboundMessage};
use switchboard_core::model::{Contact, Content, Direction};
use worker::{Env, Request, Response};

/// How long `setWebhook` may take while the admin waits for the inbox.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long Test connection waits for the platform.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The contact every test message comes from: one conversation per inbox,
/// however often the admin tries.
pub const TEST_CONTACT: &str = "switchboard-test";

/// Asks Telegram to send this inbox's updates to its webhook URL with its
/// secret token. `None` for other channels (Meta's webhook is set in the
/// app's dashboard; the widget and the API channel have none).
pub async fn register_webhook(env: &Env, inbox: &Inbox, origin: &str) -> Option<WebhookState> {
    let Settings::Telegram(settings) = &inbox.settings else {
        return None;
    };
    let url = format!("{origin}/webhooks/telegram/{}", inbox.id);
    let config = Config::from_env(env);
    let request = setup::set_webhook(settings, &config.telegram_base, &url);
    let outcome = match platform::send(&request, WEBHOOK_TIMEOUT).await {
        Ok((status, body)) => setup::read_set_webhook(status, &body),
        Err(unreachable) => Err(unreachable),
    };
    if let Err(reason) = &outcome {
        // The reason is Telegram's words or a redacted URL: no token in it.
        worker::console_warn!("inbox {}: setWebhook failed: {reason}", inbox.id);
    }
    Some(WebhookState {
        status: match outcome {
            Ok(()) => "registered".into(),
            Err(_) => "failed".into(),
        },
        error: outcome.err(),
        url,
        at: now_ms(),
    })
}

/// Registers the webhook and keeps its state with the inbox's options.
pub async fn register_and_save(
    env: &Env,
    database: &worker::D1Database,
    inbox: &Inbox,
    origin: &str,
) -> ApiResult<db::InboxOptions> {
    let mut options = inbox.options.clone();
    if let Some(state) = register_webhook(env, inbox, origin).await {
        options.webhook = Some(state);
        db::set_inbox_options(database, &inbox.workspace_id, &inbox.id, &options).await?;
    }
    Ok(options)
}

/// # `POST /api/inboxes/{id}/webhook`
/// Admins only. Telegram inboxes: calls `setWebhook` again and answers the
/// inbox with its new `webhook` state (`registered`, or `failed` with
/// Telegram's reason). 400 for other channels, whose webhooks are set on
/// the platform's side.
pub async fn retry_webhook(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    if !matches!(inbox.settings, Settings::Telegram(_)) {
        return Err(ApiError::bad_request(
            "only Telegram inboxes register their webhook; set this channel's webhook on the platform's side",
        ));
    }
    register_and_save(env, &database, &inbox, &origin(&req)).await?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    Ok(json(200, &view(&inbox, &origin(&req)))?)
}

/// # `POST /api/inboxes/{id}/test`
/// Admins only. Asks the platform whether the inbox's credentials work
/// (Graph API with the page, account or number token; Telegram `getMe`),
/// within 10 s. 200 `{ok: true, account}` naming the account the platform
/// knows, or `{ok: false, error}` with the platform's own words. 400 for
/// channels without a platform account (API, widget). Changes nothing.
pub async fn test_connection(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    let config = Config::from_env(env);
    let request = inbox
        .settings
        .build_check(&config.graph_base, &config.telegram_base)
        .map_err(ApiError::bad_request)?;
    let answer = match platform::send(&request, CHECK_TIMEOUT).await {
        Ok((status, body)) => inbox.settings.read_check(status, &body),
        Err(unreachable) => Err(unreachable),
    };
    let body = match answer {
        Ok(account) => serde_json::json!({ "ok": true, "account": account }),
        Err(error) => serde_json::json!({ "ok": false, "error": error }),
    };
    Ok(json(200, &body)?)
}

#[derive(Deserialize, Default)]
struct TestMessageIn {
    text: Option<String>,
}

/// # `POST /api/inboxes/{id}/test_message` `{text?}`
/// Admins only. Stores a customer message from a test contact
/// (`switchboard-test`, "Test customer") through the same object call a
/// webhook makes, so it arrives live in every dashboard like a real one.
/// Answers 201 `{conversation_id, stored}`. `text` is 1 to 1000 characters
/// (a default sentence when absent).
pub async fn test_message(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    agent.require_admin()?;
    let bytes = body_bytes(&mut req, API_BODY_LIMIT).await?;
    let input: TestMessageIn = match bytes.iter().all(u8::is_ascii_whitespace) {
        true => TestMessageIn::default(),
        false => serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?,
    };
    let text = match input.text.as_deref().map(str::trim) {
        None => {
            "Hello! This is a test message: it came in the way a customer's message does.".into()
        }
        Some(t) if !t.is_empty() && t.chars().count() <= 1000 => t.to_string(),
        Some(_) => return Err(ApiError::bad_request("text must be 1 to 1000 characters")),
    };
    let inbox = inbox_of(&database, &agent.workspace_id, id).await?;
    let contact = Contact {
        name: Some("Test customer".into()),
        ..Contact::new(TEST_CONTACT)
    };
    let event = InboundEvent::Message(InboundMessage {
        contact,
        // A fresh platform id per test: each one is a new message.
        platform_id: new_id("test:")?,
        direction: Direction::Inbound,
        content: Content::Text { text },
        reply_to: None,
        timestamp_ms: now_ms(),
    });
    let conversation_id = switchboard_core::ids::conversation_id(&inbox.id, TEST_CONTACT);
    let stored = super::webhooks::store(env, &inbox, vec![event]).await?;
    Ok(json(
        201,
        &serde_json::json!({ "conversation_id": conversation_id, "stored": stored.stored }),
    )?)
}
