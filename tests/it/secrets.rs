//! Secrets at rest and required settings: platform secrets are sealed in D1
//! (a dump of the state folder holds none in clear), keys rotate, and a
//! server missing a required secret says so instead of failing silently.

use crate::common::{messenger_body, messenger_workspace, post_signed, APP_SECRET, PAGE_TOKEN};
use serde_json::json;
use switchboard_tests::server::TEST_SECRETS_KEY;
use switchboard_tests::{Api, Server, ServerOptions};

const BOT_TOKEN: &str = "987654:bot-token-that-must-not-be-in-clear";
const API_SECRET: &str = "api-channel-secret-that-must-not-be-in-clear";
const NEW_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Every file under `dir` (D1's SQLite and WAL files, the objects' state).
fn all_bytes(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn platform_secrets_are_never_stored_in_clear() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "sealed");
    ws.api.create_inbox(
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": "tg-secret-token-in-clear-nowhere"}),
    );
    ws.api.create_inbox(
        "api",
        json!({"secret": API_SECRET, "callback_url": "http://127.0.0.1:9/cb"}),
    );
    // The sealed settings still open: a signed webhook verifies and is stored.
    post_signed(&ws, &messenger_body(&[("psid-s", "m-s1", "hello")])).expect_status(200);
    ws.api.wait_for_conversations(|l| !l.is_empty());

    let files = all_bytes(server.state_dir());
    assert!(
        files.iter().any(|(p, _)| p.ends_with(".sqlite")),
        "no SQLite file found under the state folder"
    );
    for secret in [
        APP_SECRET,
        PAGE_TOKEN,
        BOT_TOKEN,
        API_SECRET,
        "tg-secret-token-in-clear-nowhere",
    ] {
        for (path, bytes) in &files {
            assert!(!contains(bytes, secret), "{secret} is in clear in {path}");
        }
    }
}

#[test]
fn a_rotated_key_still_opens_old_rows_and_a_missing_one_says_so() {
    let mut server = Server::start();
    let ws = messenger_workspace(&server, "rotate");
    post_signed(&ws, &messenger_body(&[("psid-r", "m-r1", "before")])).expect_status(200);

    // New key, old one kept as previous: old rows open, new rows seal with the new key.
    server.restart_with(
        ServerOptions::default()
            .var("SECRETS_KEY", NEW_KEY)
            .var("SECRETS_KEY_PREVIOUS", TEST_SECRETS_KEY),
    );
    let api = ws.api.with_base(&server.base);
    let ws = crate::common::Workspace { api, ..ws };
    post_signed(
        &ws,
        &messenger_body(&[("psid-r", "m-r2", "after rotation")]),
    )
    .expect_status(200);
    ws.api
        .send_patch(
            &format!("/api/inboxes/{}", ws.inbox_id),
            &json!({"name": "Resealed"}),
        )
        .expect_status(200);

    // Only the new key: the inbox rewritten above still opens…
    server.restart_with(ServerOptions::default().var("SECRETS_KEY", NEW_KEY));
    let api = ws.api.with_base(&server.base);
    let ws = crate::common::Workspace { api, ..ws };
    post_signed(&ws, &messenger_body(&[("psid-r", "m-r3", "new key only")])).expect_status(200);
    // …and one sealed only with the old key is a clear 503, not "no such inbox".
    let old = ws.api.create_inbox(
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": "t"}),
    );
    let old_id = old["id"].as_str().unwrap().to_string();
    server.restart_with(ServerOptions::default().var("SECRETS_KEY", TEST_SECRETS_KEY));
    let api = ws.api.with_base(&server.base);
    let refused = api.get(&format!("/api/inboxes/{old_id}")).expect_error(503);
    assert!(
        refused.body["error"].as_str().unwrap().contains("key"),
        "{}",
        refused.text
    );
}

#[test]
fn a_server_without_session_secret_answers_503_with_how_to_fix_it() {
    let server = Server::start_with(ServerOptions::default().without("SESSION_SECRET"));
    let api = Api::new(&server.base);
    let answer = api
        .post(
            "/api/signup",
            &json!({"workspace": "W", "name": "N", "email": "n@example.test", "password": "long enough password"}),
        )
        .expect_error(503);
    assert!(
        answer.body["error"]
            .as_str()
            .unwrap()
            .contains("SESSION_SECRET"),
        "{}",
        answer.text
    );
    api.get("/api/me").expect_error(503);
    // Health stays up so operators can see the server is running.
    api.get("/healthz").expect_status(200);
}

#[test]
fn a_server_without_secrets_key_refuses_instead_of_storing_secrets_in_clear() {
    let server = Server::start_with(ServerOptions::default().without("SECRETS_KEY"));
    let api = Api::new(&server.base);
    let answer = api
        .post(
            "/api/signup",
            &json!({"workspace": "W", "name": "N", "email": "k@example.test", "password": "long enough password"}),
        )
        .expect_error(503);
    assert!(
        answer.body["error"]
            .as_str()
            .unwrap()
            .contains("SECRETS_KEY"),
        "{}",
        answer.text
    );
}
