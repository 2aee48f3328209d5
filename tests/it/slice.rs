//! The first vertical slice: sign up, create a Messenger inbox, Meta's
//! handshake, a signed webhook stored and pushed live to an agent's socket,
//! and listed in the history.

use crate::common::*;
use serde_json::json;
use switchboard_tests::{Api, Live, Server};

#[test]
fn a_signed_messenger_webhook_reaches_the_agents_screen() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "slice");

    // Meta's GET handshake echoes the challenge only for the right token.
    let ok = ws.api.get(&format!(
        "{}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=8472",
        ws.webhook_path
    ));
    assert_eq!((ok.status, ok.text.as_str()), (200, "8472"));
    ws.api
        .get(&format!(
            "{}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=8472",
            ws.webhook_path
        ))
        .expect_error(403);

    // The dashboard's feed sees the new conversation appear live.
    let mut feed = Live::connect(&server.ws_url(&format!("/api/live?token={}", token(&ws))));

    let first = messenger_body(&[("psid-ann", "m_first", "Hello, is my order shipped?")]);
    let a = post_signed(&ws, &first).expect_status(200);
    assert_eq!(a.body["stored"], 1);

    let change = feed
        .next_of_type("conversation", WAIT)
        .expect("the feed announces the conversation");
    assert_eq!(change["conversation"]["contact"]["external_id"], "psid-ann");
    assert_eq!(
        change["conversation"]["last_message"]["text"],
        "Hello, is my order shipped?"
    );
    let cv = change["conversation"]["id"].as_str().unwrap().to_string();

    // The agent opens the conversation: the resume burst holds message 1.
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since=0&token={}",
        token(&ws)
    )));
    let e1 = live.next_event(WAIT).expect("resume burst");
    assert_eq!(
        (e1["seq"].as_i64(), e1["type"].as_str()),
        (Some(1), Some("message_created"))
    );
    assert_eq!(e1["message"]["platform_id"], "m_first");

    // A second customer message is pushed live, with the next seq.
    post_signed(
        &ws,
        &messenger_body(&[("psid-ann", "m_second", "Order #1234")]),
    )
    .expect_status(200);
    let e2 = live.next_event(WAIT).expect("live push");
    assert_eq!(e2["seq"], 2);
    assert_eq!(e2["message"]["text"], "Order #1234");
    assert_eq!(e2["message"]["direction"], "inbound");
    assert_eq!(e2["message"]["kind"], "text");

    // And both are in the history, oldest first.
    let history = ws.api.messages(&cv);
    let texts: Vec<_> = history
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Hello, is my order shipped?", "Order #1234"]);
    assert_eq!(history[0]["seq"], 1);
    assert_eq!(history[1]["seq"], 2);
    assert_eq!(history[0]["status"], "received");
    assert!(history[0]["created_at"].as_i64().unwrap() > 1_700_000_000_000);

    // Login gives a token that works the same way.
    let email_login = Api::new(&server.base)
        .post(
            "/api/login",
            &json!({"email": "nobody@example.test", "password": "correct horse battery"}),
        )
        .expect_error(401);
    assert!(email_login.body["token"].is_null());
}

#[test]
fn login_returns_a_working_token_and_refuses_a_wrong_password() {
    let server = Server::start();
    let api = Api::new(&server.base);
    let (_, created) = api.signup("Login Co", "lee@login.test");
    let wrong = api.post(
        "/api/login",
        &json!({"email": "lee@login.test", "password": "not the password"}),
    );
    wrong.expect_error(401);
    let ok = api
        .post(
            "/api/login",
            &json!({"email": "LEE@login.test", "password": "correct horse battery"}),
        )
        .expect_status(200);
    assert_eq!(ok.body["workspace_id"], created["workspace_id"]);
    assert_eq!(ok.body["agent_id"], created["agent_id"]);
    let agent = api.with_token(ok.body["token"].as_str().unwrap());
    agent.get("/api/conversations").expect_status(200);
    // The same email cannot sign up twice.
    api.post(
        "/api/signup",
        &json!({"workspace": "Again", "name": "Lee", "email": "lee@login.test", "password": "correct horse battery"}),
    )
    .expect_error(409);
}
