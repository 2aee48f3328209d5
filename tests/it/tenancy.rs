//! Tenants are walls: another workspace's token reaches nothing of ours.

use crate::common::*;
use serde_json::json;
use switchboard_tests::{Api, Live, Server};

#[test]
fn another_workspace_cannot_reach_our_conversation() {
    let server = Server::start();
    let a = messenger_workspace(&server, "tenant-a");
    let b = messenger_workspace(&server, "tenant-b");
    post_signed(
        &a,
        &messenger_body(&[("psid-secret", "m_secret", "my card number")]),
    )
    .expect_status(200);
    let cv = conversation_of(&a, "psid-secret");

    b.api
        .get(&format!("/api/conversations/{cv}/messages"))
        .expect_error(404);
    b.api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_error(404);
    b.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "hi"}),
        )
        .expect_error(404);
    let refused = Live::try_connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since=0&token={}",
        token(&b)
    )));
    assert_eq!(refused.err().as_deref(), Some("404"));
    assert!(
        b.api.conversations().is_empty(),
        "B's list shows A's conversation"
    );
    assert!(!b.api.get("/api/inboxes").text.contains(&a.inbox_id));

    // No token, a tampered token, a token for a made-up agent: 401.
    let anon = Api::new(&server.base);
    anon.get("/api/conversations").expect_error(401);
    let t = token(&a);
    let tampered = format!("{}x", &t[..t.len() - 1]);
    anon.with_token(&tampered)
        .get("/api/conversations")
        .expect_error(401);
    anon.with_token("v1.e30.AAAA")
        .get("/api/conversations")
        .expect_error(401);
    // A's own token still works.
    assert_eq!(a.api.messages(&cv).len(), 1);
}
