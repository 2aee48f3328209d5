//! An agent's reply carries its client's id: a retry after a timeout, or two
//! identical requests at once, store one message and send it once, and every
//! answer is that message, `client_id` included.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::api::Answer;
use switchboard_tests::{FakePlatform, Live, Server, ServerOptions};

fn setup(label: &str) -> (FakePlatform, Server, Workspace, String) {
    let graph = FakePlatform::start();
    graph.accept_token(PAGE_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &graph.base));
    let ws = messenger_workspace(&server, label);
    post_signed(
        &ws,
        &messenger_body(&[("psid-cid", "m_cid_in", "Where is my order?")]),
    )
    .expect_status(200);
    let cv = conversation_of(&ws, "psid-cid");
    (graph, server, ws, cv)
}

fn outbound(ws: &Workspace, cv: &str) -> Vec<Value> {
    ws.api
        .messages(cv)
        .into_iter()
        .filter(|m| m["direction"] == "outbound")
        .collect()
}

/// Waits until the conversation's only reply is `sent`; returns it.
fn wait_sent(ws: &Workspace, cv: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = outbound(ws, cv);
        assert_eq!(out.len(), 1, "exactly one reply stored: {out:?}");
        if out[0]["status"] == "sent" {
            return out[0].clone();
        }
        assert!(Instant::now() < deadline, "never sent: {:?}", out[0]);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until every stored reply has left (status `sent`): by then each
/// platform call has been answered, so the fake's count is final (a sent
/// reply is never sent again).
fn wait_all_sent(ws: &Workspace, cv: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = outbound(ws, cv);
        let leaving: Vec<_> = out
            .iter()
            .filter(|m| m["kind"] != "note" && m["status"] != "sent")
            .collect();
        if leaving.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "never sent: {leaving:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_retry_after_a_timeout_is_stored_and_sent_once() {
    let (graph, server, ws, cv) = setup("cid-retry");
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since=1&token={}",
        token(&ws)
    )));
    let path = format!("/api/conversations/{cv}/messages");
    let body = json!({"text": "It left the warehouse today", "client_id": "c-7f3a"});

    // The platform is slow, so the first POST times out on the client's
    // side while the object is still sending.
    graph.delay_next(Duration::from_secs(3));
    let first = ws
        .api
        .request("POST", &path)
        .timeout(Duration::from_millis(1_000))
        .set("content-type", "application/json")
        .send_bytes(&serde_json::to_vec(&body).unwrap());
    assert!(
        matches!(first, Err(ureq::Error::Transport(_))),
        "the first POST was meant to time out: {first:?}"
    );

    // The retry gets the stored message, not a second one.
    let retry = ws.api.post(&path, &body).expect_status(200);
    assert_eq!(retry.body["client_id"], "c-7f3a", "{}", retry.text);
    assert_eq!(retry.body["text"], "It left the warehouse today");

    let sent = wait_sent(&ws, &cv);
    assert_eq!(sent["id"], retry.body["id"]);
    assert_eq!(sent["client_id"], "c-7f3a");

    // One more repeat, once sent: the same message as it stands now.
    let again = ws.api.post(&path, &body).expect_status(200);
    assert_eq!(again.body["id"], sent["id"]);
    assert_eq!(again.body["status"], "sent");
    assert_eq!(again.body["platform_id"], sent["platform_id"]);

    let sends = graph.requests();
    assert_eq!(sends.len(), 1, "the platform got exactly one send");
    assert_eq!(
        sends[0].json()["message"]["text"],
        "It left the warehouse today"
    );

    // The agents' socket saw it created once, carrying the client's id.
    let created = live.next_of_type("message_created", WAIT).unwrap();
    assert_eq!(created["message"]["client_id"], "c-7f3a");
    assert_eq!(created["message"]["status"], "pending");
    let status = live.next_event(WAIT).unwrap();
    assert_eq!(
        (status["type"].as_str(), status["status"].as_str()),
        (Some("message_status"), Some("sent"))
    );
    assert!(
        live.next_of_type("message_created", Duration::from_millis(500))
            .is_none(),
        "a repeat pushed a second message"
    );
}

#[test]
fn two_identical_posts_at_once_store_one_message() {
    let (graph, _server, ws, cv) = setup("cid-twins");
    let path = format!("/api/conversations/{cv}/messages");
    let body = json!({"text": "Refund issued", "client_id": "twin-1"});
    // A slow send widens the window in which both are in the object.
    graph.delay_next(Duration::from_millis(800));
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let posts: Vec<_> = (0..2)
            .map(|_| s.spawn(|| ws.api.post(&path, &body)))
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{answers:?}");
    assert_eq!(answers[0].body["id"], answers[1].body["id"]);
    assert!(answers.iter().all(|a| a.body["client_id"] == "twin-1"));

    let sent = wait_sent(&ws, &cv);
    assert_eq!(sent["id"], answers[0].body["id"]);
    assert_eq!(
        graph.requests().len(),
        1,
        "the platform got exactly one send"
    );

    // Notes are idempotent the same way, and never sent.
    let note = json!({"kind": "note", "text": "Checked with finance", "client_id": "note-1"});
    let n1 = ws.api.post(&path, &note).expect_status(201);
    let n2 = ws.api.post(&path, &note).expect_status(200);
    assert_eq!(n1.body["id"], n2.body["id"]);
    let notes = ws
        .api
        .messages(&cv)
        .into_iter()
        .filter(|m| m["kind"] == "note")
        .count();
    assert_eq!(notes, 1);
    assert_eq!(graph.requests().len(), 1);
}

#[test]
fn a_bad_or_reused_client_id_is_refused_and_nothing_is_stored() {
    let (graph, _server, ws, cv) = setup("cid-bad");
    let path = format!("/api/conversations/{cv}/messages");
    let long = "x".repeat(65);
    for bad in [json!(""), json!(long), json!("has space"), json!(12)] {
        let a = ws.api.post(&path, &json!({"text": "hi", "client_id": bad}));
        assert_eq!(a.status, 400, "client_id {bad}: {}", a.text);
        a.expect_error(400);
    }
    assert!(
        outbound(&ws, &cv).is_empty(),
        "a refused write stored a message"
    );

    // 64 characters is fine; without client_id every POST is a new message.
    let max = "y".repeat(64);
    ws.api
        .post(&path, &json!({"text": "first", "client_id": max}))
        .expect_status(201);
    ws.api
        .post(&path, &json!({"text": "plain"}))
        .expect_status(201);
    ws.api
        .post(&path, &json!({"text": "plain"}))
        .expect_status(201);

    // The same id for another text is a client bug: refused, not merged.
    ws.api
        .post(&path, &json!({"text": "second", "client_id": max}))
        .expect_error(409);
    let texts: Vec<String> = outbound(&ws, &cv)
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["first", "plain", "plain"]);
    wait_all_sent(&ws, &cv);
    assert_eq!(graph.requests().len(), 3);

    // A client_id is per conversation: another conversation may reuse it.
    post_signed(
        &ws,
        &messenger_body(&[("psid-cid-2", "m_cid_in_2", "Hello again")]),
    )
    .expect_status(200);
    let other = conversation_of(&ws, "psid-cid-2");
    ws.api
        .post(
            &format!("/api/conversations/{other}/messages"),
            &json!({"text": "second", "client_id": max}),
        )
        .expect_status(201);
}
