//! Setting an inbox up: Telegram registers its webhook by itself (and an
//! unreachable or refusing Telegram still leaves the inbox made, with the
//! reason and a retry), Test connection asks the platform and shows its own
//! error, and a test message arrives through the real ingest path.

use crate::common::*;
use serde_json::json;
use switchboard_tests::server::free_port;
use switchboard_tests::{Api, FakePlatform, Server, ServerOptions};

const BOT_TOKEN: &str = "123456:setup-bot-token";
const SECRET: &str = "setup_secret-1";

fn workspace(server: &Server, label: &str) -> Api {
    Api::new(&server.base)
        .signup(label, &format!("{label}-{}@example.test", unique()))
        .0
}

fn inbox(api: &Api, channel: &str, settings: serde_json::Value) -> serde_json::Value {
    api.post(
        "/api/inboxes",
        &json!({"channel": channel, "name": format!("{channel} setup"), "settings": settings}),
    )
    .expect_status(201)
    .body
}

#[test]
fn telegram_webhook_test_connection_and_test_message() {
    let fake = FakePlatform::start();
    fake.accept_token(BOT_TOKEN);
    fake.accept_page(PAGE_TOKEN, PAGE_ID, "Ada's Shop");
    let server = Server::start_with(
        ServerOptions::default()
            .var("TELEGRAM_API_BASE", &fake.base)
            .var("GRAPH_API_BASE", &fake.base),
    );
    let api = workspace(&server, "setup");

    // Made: Telegram was told the URL and the secret token, once.
    let tg = inbox(
        &api,
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": SECRET}),
    );
    let id = tg["id"].as_str().unwrap();
    assert_eq!(tg["webhook"]["status"], "registered", "{tg}");
    let calls = fake.setup_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].path, format!("/bot{BOT_TOKEN}/setWebhook"));
    let body = calls[0].json();
    assert_eq!(body["url"], tg["webhook_url"]);
    assert_eq!(
        body["url"],
        format!("{}/webhooks/telegram/{id}", server.base)
    );
    assert_eq!(body["secret_token"], SECRET);
    assert!(fake.requests().is_empty(), "no message was sent");
    assert!(
        !tg.to_string().contains(SECRET),
        "the secret is never echoed"
    );
    let got = api.get(&format!("/api/inboxes/{id}")).expect_status(200);
    assert_eq!(got.body["webhook"]["status"], "registered");

    // Test connection: getMe with the bot token.
    let ok = api
        .post(&format!("/api/inboxes/{id}/test"), &json!({}))
        .expect_status(200);
    assert_eq!(ok.body, json!({"ok": true, "account": "@fake_bot"}));
    assert!(fake.setup_calls()[1].path.ends_with("/getMe"));

    // Rotating the secret token registers the webhook again with the new one.
    let rotated = api
        .send_patch(
            &format!("/api/inboxes/{id}"),
            &json!({"settings": {"secret_token": "setup_secret-2"}}),
        )
        .expect_status(200);
    assert_eq!(rotated.body["webhook"]["status"], "registered");
    let last = fake.setup_calls().last().unwrap().json();
    assert_eq!(last["secret_token"], "setup_secret-2");
    // The rotation is in the audit log, naming the field, never its value.
    let audit = api.get("/api/audit_log").expect_status(200);
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["action"], "rotate_secret");
    assert_eq!(entry["target"], id);
    assert!(
        entry["detail"].to_string().contains("secret_token"),
        "{entry}"
    );
    assert!(!audit.text.contains("setup_secret-2"));
    // A name change does not call Telegram.
    let before = fake.setup_calls().len();
    api.send_patch(&format!("/api/inboxes/{id}"), &json!({"name": "Bot"}))
        .expect_status(200);
    assert_eq!(fake.setup_calls().len(), before);

    // A bot token Telegram refuses: the inbox is still made, with the reason.
    let bad = inbox(
        &api,
        "telegram",
        json!({"bot_token": "999:unknown", "secret_token": SECRET}),
    );
    let bad_id = bad["id"].as_str().unwrap();
    assert_eq!(bad["webhook"]["status"], "failed", "{bad}");
    assert_eq!(
        bad["webhook"]["error"],
        "Telegram answered 401: Unauthorized"
    );
    let listed = api.get("/api/inboxes").expect_status(200);
    let row = listed.body["inboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == bad_id)
        .cloned()
        .unwrap();
    assert_eq!(row["webhook"]["status"], "failed");
    let refused = api
        .post(&format!("/api/inboxes/{bad_id}/test"), &json!({}))
        .expect_status(200);
    assert_eq!(
        refused.body,
        json!({"ok": false, "error": "Telegram answered 401: Unauthorized"})
    );
    // Once Telegram knows the bot, a retry registers it.
    fake.accept_token("999:unknown");
    let retried = api
        .post(&format!("/api/inboxes/{bad_id}/webhook"), &json!({}))
        .expect_status(200);
    assert_eq!(retried.body["webhook"]["status"], "registered");
    assert!(retried.body["webhook"]["error"].is_null());

    // Meta: the page token is asked who it is; another token gets Graph's error.
    let page = inbox(
        &api,
        "messenger",
        json!({"page_id": PAGE_ID, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": PAGE_TOKEN}),
    );
    assert!(
        page["webhook"].is_null(),
        "Meta's webhook is set on Meta's side"
    );
    let ok = api
        .post(
            &format!("/api/inboxes/{}/test", page["id"].as_str().unwrap()),
            &json!({}),
        )
        .expect_status(200);
    assert_eq!(
        ok.body,
        json!({"ok": true, "account": "Ada's Shop (1000001)"})
    );
    let check = fake.setup_calls().last().unwrap().clone();
    assert_eq!(check.method, "GET");
    assert_eq!(
        check.header("authorization"),
        Some(&*format!("Bearer {PAGE_TOKEN}"))
    );
    let wrong = inbox(
        &api,
        "messenger",
        json!({"page_id": PAGE_ID, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": "EAAG-revoked"}),
    );
    let no = api
        .post(
            &format!("/api/inboxes/{}/test", wrong["id"].as_str().unwrap()),
            &json!({}),
        )
        .expect_status(200);
    assert_eq!(no.body["ok"], false);
    assert_eq!(
        no.body["error"],
        "the platform answered 401: Invalid OAuth access token - Cannot parse access token (code 190)"
    );
    // The API channel has nothing to ask.
    let own = inbox(
        &api,
        "api",
        json!({"secret": "api-secret-0123456789", "callback_url": format!("{}/callback", fake.base)}),
    );
    api.post(
        &format!("/api/inboxes/{}/test", own["id"].as_str().unwrap()),
        &json!({}),
    )
    .expect_error(400);

    // A test message: stored like a webhook's, in a conversation of its own.
    let sent = api
        .post(
            &format!("/api/inboxes/{id}/test_message"),
            &json!({"text": "Is this thing on?"}),
        )
        .expect_status(201);
    let cv = sent.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(sent.body["stored"], 1);
    let list = api.wait_for_conversations(|l| l.iter().any(|c| c["id"] == cv.as_str()));
    let row = list.iter().find(|c| c["id"] == cv.as_str()).unwrap();
    assert_eq!(row["contact"]["name"], "Test customer");
    assert_eq!(row["inbox_id"], id);
    api.post(&format!("/api/inboxes/{id}/test_message"), &json!({}))
        .expect_status(201);
    let texts: Vec<_> = api
        .messages(&cv)
        .iter()
        .map(|m| (m["direction"].clone(), m["text"].clone()))
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(texts[0], (json!("inbound"), json!("Is this thing on?")));
    api.post(
        &format!("/api/inboxes/{id}/test_message"),
        &json!({"text": "  "}),
    )
    .expect_error(400);

    // Another workspace can neither test nor write into this inbox.
    let other = workspace(&server, "stranger");
    other
        .post(&format!("/api/inboxes/{id}/test_message"), &json!({}))
        .expect_error(404);
    other
        .post(&format!("/api/inboxes/{id}/test"), &json!({}))
        .expect_error(404);
    other
        .post(&format!("/api/inboxes/{id}/webhook"), &json!({}))
        .expect_error(404);
    // An agent of this workspace (not an admin) is refused all three.
    let invited = api
        .post(
            "/api/invitations",
            &json!({"email": format!("agent-{}@example.test", unique()), "role": "agent"}),
        )
        .expect_status(201);
    let accepted = Api::new(&server.base)
        .post(
            "/api/invitations/accept",
            &json!({"token": invited.body["token"], "name": "Ann Agent", "password": "agent password"}),
        )
        .expect_status(201);
    let agent = api.with_token(accepted.body["token"].as_str().unwrap());
    for action in ["test", "test_message", "webhook"] {
        agent
            .post(&format!("/api/inboxes/{id}/{action}"), &json!({}))
            .expect_error(403);
    }
    assert_eq!(api.messages(&cv).len(), 2);
    assert_eq!(fake.requests().len(), 0, "setting up sent no message");
}

#[test]
fn unreachable_telegram_still_makes_the_inbox() {
    // Nothing listens on this port: Telegram "cannot be reached".
    let closed = format!("http://127.0.0.1:{}", free_port());
    let server = Server::start_with(ServerOptions::default().var("TELEGRAM_API_BASE", &closed));
    let api = workspace(&server, "offline");
    let tg = inbox(
        &api,
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": SECRET}),
    );
    assert_eq!(tg["webhook"]["status"], "failed", "{tg}");
    let reason = tg["webhook"]["error"].as_str().unwrap();
    assert!(
        reason.starts_with("could not reach http://127.0.0.1:"),
        "{reason}"
    );
    assert!(
        !reason.contains(BOT_TOKEN),
        "the token stays out of the reason"
    );
    // Its webhook still works: the secret token is the inbox's.
    let id = tg["id"].as_str().unwrap();
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1_763_000_000, "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "first_name": "Ada"}, "text": "hi"}});
    api.post_raw(
        &format!("/webhooks/telegram/{id}"),
        &[
            ("x-telegram-bot-api-secret-token", SECRET),
            ("content-type", "application/json"),
        ],
        update.to_string().as_bytes(),
    )
    .expect_status(200);
    let again = api
        .post(&format!("/api/inboxes/{id}/webhook"), &json!({}))
        .expect_status(200);
    assert_eq!(again.body["webhook"]["status"], "failed");
    let test = api
        .post(&format!("/api/inboxes/{id}/test"), &json!({}))
        .expect_status(200);
    assert_eq!(test.body["ok"], false);
}
