//! Replies go out through the channel via the outbox: stored pending, sent,
//! marked sent with the platform's id; retried on outages; failed with the
//! platform's reason on refusals; notes never leave.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_tests::{FakePlatform, Live, Server, ServerOptions};

fn setup() -> (FakePlatform, Server, Workspace, String) {
    let graph = FakePlatform::start();
    graph.accept_token(PAGE_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &graph.base));
    let ws = messenger_workspace(&server, "out");
    post_signed(
        &ws,
        &messenger_body(&[("psid-out", "m_in", "Can you help?")]),
    )
    .expect_status(200);
    let cv = conversation_of(&ws, "psid-out");
    (graph, server, ws, cv)
}

#[test]
fn a_reply_is_sent_through_the_graph_api_once() {
    let (graph, server, ws, cv) = setup();
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since=1&token={}",
        token(&ws)
    )));
    let reply = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "Sure, one moment"}),
        )
        .expect_status(201);
    assert_eq!(reply.body["status"], "sent", "{}", reply.text);
    assert!(reply.body["platform_id"]
        .as_str()
        .unwrap()
        .starts_with("m_fake"));
    assert_eq!(reply.body["direction"], "outbound");

    let calls = graph.requests();
    assert_eq!(calls.len(), 1, "sent exactly once");
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert!(call.path.ends_with("/me/messages"), "{}", call.path);
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {PAGE_TOKEN}").as_str())
    );
    let body = call.json();
    assert_eq!(body["recipient"]["id"], "psid-out");
    assert_eq!(body["message"]["text"], "Sure, one moment");

    // The agent's socket saw it created pending, then sent.
    let created = live.next_event(WAIT).unwrap();
    assert_eq!(
        (
            created["type"].as_str(),
            created["message"]["status"].as_str()
        ),
        (Some("message_created"), Some("pending"))
    );
    let sent = live.next_event(WAIT).unwrap();
    assert_eq!(
        (sent["type"].as_str(), sent["status"].as_str()),
        (Some("message_status"), Some("sent"))
    );
    assert_eq!(sent["message_id"], created["message"]["id"]);

    // A private note is stored and never sent.
    let note = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "VIP customer"}),
        )
        .expect_status(201);
    assert_eq!(note.body["kind"], "note");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(graph.requests().len(), 1, "the note reached the platform");
    let history = ws.api.messages(&cv);
    assert_eq!(
        history
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["text", "text", "note"]
    );
}

#[test]
fn an_outage_is_retried_and_a_refusal_is_shown() {
    let (graph, _server, ws, cv) = setup();
    // The platform is down for the first attempt: the reply stays pending
    // and the outbox retries it from the alarm.
    graph.force_next(
        503,
        r#"{"error":{"message":"Service temporarily unavailable","code":2}}"#,
    );
    let reply = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "retry me"}),
        )
        .expect_status(201);
    assert_eq!(reply.body["status"], "pending");
    let calls = graph.wait_for(2, Duration::from_secs(20));
    assert_eq!(calls.len(), 2, "retried once after the outage");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = ws.api.messages(&cv);
        let last = m.last().unwrap();
        if last["status"] == "sent" {
            assert!(last["platform_id"].as_str().unwrap().starts_with("m_fake"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never marked sent: {last}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The platform refuses for good: failed, with its reason, not retried.
    graph.force_next(
        400,
        r#"{"error":{"message":"(#551) This person isn't available right now.","code":551}}"#,
    );
    let refused = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "refused"}),
        )
        .expect_status(201);
    assert_eq!(refused.body["status"], "failed");
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("isn't available"),
        "{}",
        refused.text
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(graph.requests().len(), 3, "a refusal is not retried");
}
