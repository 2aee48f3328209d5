//! The API channel through the running worker: messages from the
//! workspace's own systems signed over "{timestamp}.{body}" with a replay
//! guard, exactly once per id, and replies delivered as signed callbacks.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_core::verify;
use switchboard_tests::{sign, FakePlatform, Server};

const SECRET: &str = "api-shared-secret";

fn post_signed_at(
    ws: &Workspace,
    secret: &str,
    ts: i64,
    body: &[u8],
) -> switchboard_tests::api::Answer {
    let (t, s) = sign::api(secret, ts, body);
    ws.api.post_raw(
        &ws.webhook_path,
        &[
            ("content-type", "application/json"),
            ("x-switchboard-timestamp", &t),
            ("x-switchboard-signature", &s),
        ],
        body,
    )
}

fn post_api(ws: &Workspace, body: &[u8]) -> switchboard_tests::api::Answer {
    post_signed_at(ws, SECRET, sign::now_secs(), body)
}

#[test]
fn api_channel_signed_in_replay_guarded_and_signed_callbacks_out() {
    let fake = FakePlatform::start();
    let server = Server::start();
    let callback = format!("{}/callback", fake.base);
    let ws = channel_workspace(
        &server,
        "api",
        "api",
        json!({"secret": SECRET, "callback_url": callback}),
    );

    let body = fixture("api", "text");
    let now = sign::now_secs();
    // Missing headers, a wrong secret, a tampered body: 401.
    ws.api
        .post_raw(&ws.webhook_path, &[], &body)
        .expect_error(401);
    post_signed_at(&ws, "not-the-secret", now, &body).expect_error(401);
    let (t, s) = sign::api(SECRET, now, &body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    ws.api
        .post_raw(
            &ws.webhook_path,
            &[
                ("x-switchboard-timestamp", &t),
                ("x-switchboard-signature", &s),
            ],
            &tampered,
        )
        .expect_error(401);
    // The right signature with another timestamp than it was made for.
    ws.api
        .post_raw(
            &ws.webhook_path,
            &[
                ("x-switchboard-timestamp", &(now - 1).to_string()),
                ("x-switchboard-signature", &s),
            ],
            &body,
        )
        .expect_error(401);
    // Replays: correctly signed but more than 5 minutes old (or ahead).
    post_signed_at(&ws, SECRET, now - 6 * 60, &body).expect_error(401);
    post_signed_at(&ws, SECRET, now + 6 * 60, &body).expect_error(401);
    assert!(
        ws.api.conversations().is_empty(),
        "a refused message was stored"
    );

    // Kinds, one at a time; a little skew within the tolerance is fine.
    let first = post_signed_at(&ws, SECRET, now - 60, &body).expect_status(200);
    assert_eq!(first.body["stored"], 1, "{}", first.text);
    for name in ["image", "location", "reply_to"] {
        let a = post_api(&ws, &fixture("api", name)).expect_status(200);
        assert_eq!(a.body["stored"], 1, "{name}: {}", a.text);
    }
    // The same id again, freshly signed: 200, nothing new.
    let again = post_api(&ws, &body).expect_status(200);
    assert_eq!(
        (
            again.body["stored"].as_i64(),
            again.body["duplicates"].as_i64()
        ),
        (Some(0), Some(1)),
        "{}",
        again.text
    );
    // Signed but not a message: 400 with a reason, nothing stored.
    for name in ["malformed", "missing_id", "note_refused"] {
        post_api(&ws, &fixture("api", name)).expect_error(400);
    }

    let expected = vec![
        expect(
            "text",
            "ext-msg-1",
            "text",
            "Where is my order?",
            json!({"text": "Where is my order?"}),
        ),
        expect(
            "image",
            "ext-msg-2",
            "image",
            "receipt",
            json!({"attachment": {"url": "https://files.example.com/receipt.png", "mime_type": "image/png"}, "caption": "receipt"}),
        ),
        expect(
            "location",
            "ext-msg-3",
            "location",
            "Paris",
            json!({"latitude": 48.85, "longitude": 2.35, "name": "Paris"}),
        ),
        expect(
            "reply_to",
            "ext-msg-4",
            "text",
            "still waiting",
            json!({"text": "still waiting"}),
        )
        .replying_to("ext-msg-1"),
    ];
    let cv = conversation_of(&ws, "customer-42");
    check_history(&ws.api.messages(&cv), &expected, "inbound");
    let list = ws
        .api
        .wait_for_conversations(|l| l.iter().any(|c| c["contact"]["name"] == "Ada Lovelace"));
    let contact = &list.iter().find(|c| c["id"] == cv.as_str()).unwrap()["contact"];
    assert_eq!(contact["email"], "ada@example.com");
    assert_eq!(contact["phone"], "+447700900123");

    // A batch: each contact its own conversation, in order.
    let batch = post_api(&ws, &fixture("api", "batch")).expect_status(200);
    assert_eq!(batch.body["stored"], 3, "{}", batch.text);
    let c1 = conversation_of(&ws, "c-1");
    let c1_kinds: Vec<String> = ws
        .api
        .messages(&c1)
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["platform_id"].as_str().unwrap(),
                m["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(c1_kinds, ["ext-b1:text", "ext-b3:file"]);
    assert_eq!(ws.api.messages(&conversation_of(&ws, "c-2")).len(), 1);

    // A reply is POSTed to the callback URL, signed with the inbox's secret.
    let mut live = live_after(&server, &ws, &cv);
    let sent = reply(&ws, &cv, "It ships tomorrow");
    assert_eq!(sent["status"], "sent", "{sent}");
    let calls = fake.requests();
    assert_eq!(calls.len(), 1, "sent exactly once");
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/callback")
    );
    verify::verify_api(
        SECRET,
        call.header("x-switchboard-timestamp"),
        call.header("x-switchboard-signature"),
        &call.body,
        sign::now_secs(),
    )
    .expect("the callback is signed with the inbox's secret");
    assert!(verify::verify_api(
        "another-secret",
        call.header("x-switchboard-timestamp"),
        call.header("x-switchboard-signature"),
        &call.body,
        sign::now_secs(),
    )
    .is_err());
    let b = call.json();
    assert_eq!(b["event"], "message");
    assert_eq!(b["contact"]["id"], "customer-42");
    assert_eq!(
        b["content"],
        json!({"kind": "text", "text": "It ships tomorrow"})
    );
    assert_eq!(b["text"], "It ships tomorrow");
    assert_eq!(
        call.header("x-switchboard-delivery"),
        b["delivery_id"].as_str()
    );
    // The callback answered {"id": "cb_1"}: that is the platform id.
    assert_eq!(sent["platform_id"], "cb_1");
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["status"].as_str(), ev["platform_id"].as_str()),
        (Some("sent"), Some("cb_1"))
    );

    // The workspace's system refuses: failed with its error.
    fake.force_next(422, r#"{"error":"customer-42 is blocked"}"#);
    let refused = reply(&ws, &cv, "refused");
    assert_eq!(refused["status"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("customer-42 is blocked"),
        "{refused}"
    );
    // It is down: pending, then retried from the outbox and sent.
    fake.force_next(503, "upstream unavailable");
    let retried = reply(&ws, &cv, "after the outage");
    assert_eq!(retried["status"], "pending", "{retried}");
    let done = wait_status(&ws, &cv, retried["id"].as_str().unwrap(), "sent");
    assert!(done["platform_id"].as_str().unwrap().starts_with("cb_"));
    std::thread::sleep(Duration::from_millis(300));
    let calls = fake.requests();
    assert_eq!(
        calls.len(),
        4,
        "one reply, one refusal, one outage and its retry"
    );
    for c in &calls[2..] {
        assert_eq!(c.json()["text"], "after the outage");
        assert!(verify::verify_api(
            SECRET,
            c.header("x-switchboard-timestamp"),
            c.header("x-switchboard-signature"),
            &c.body,
            sign::now_secs(),
        )
        .is_ok());
    }
    // The retry is the same delivery: the receiver can drop a repeat.
    assert_eq!(
        calls[2].header("x-switchboard-delivery"),
        calls[3].header("x-switchboard-delivery")
    );
    assert_ne!(
        calls[1].header("x-switchboard-delivery"),
        calls[2].header("x-switchboard-delivery")
    );
}
