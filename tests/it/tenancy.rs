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
    // B's answers, collected to check that none holds anything of A's.
    let mut answers: Vec<String> = Vec::new();
    let mut refused = |answer: switchboard_tests::api::Answer| {
        assert!(
            answer.status == 403 || answer.status == 404,
            "expected 403 or 404, got {}: {}",
            answer.status,
            answer.text
        );
        answers.push(answer.text);
    };
    let inbox = &a.inbox_id;
    refused(b.api.get(&format!("/api/inboxes/{inbox}")));
    refused(
        b.api
            .send_patch(&format!("/api/inboxes/{inbox}"), &json!({"name": "mine"})),
    );
    refused(b.api.delete(&format!("/api/inboxes/{inbox}")));
    refused(
        b.api
            .post(&format!("/api/conversations/{cv}/read"), &json!({"seq": 1})),
    );
    refused(
        b.api
            .get(&format!("/api/conversations/{cv}/events?since=0&wait=1")),
    );
    let a_owner = a.api.get("/api/me").body["id"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        b.api
            .send_patch(&format!("/api/agents/{a_owner}"), &json!({"role": "agent"})),
    );
    refused(b.api.delete(&format!("/api/agents/{a_owner}")));
    // The agents' tools, by A's real ids.
    let (b_admin, b_admin_id) = teammate(&b.api, "admin");
    for api in [&b.api, &b_admin] {
        refused(api.send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"status": "resolved"}),
        ));
        refused(api.send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"assignee": b_admin_id}),
        ));
        refused(api.send_patch(
            &format!("/api/conversations/{cv}/contact"),
            &json!({"name": "x"}),
        ));
        refused(api.get(&format!("/api/conversations/{cv}/export?format=json")));
        refused(api.get(&format!("/api/conversations/{cv}/export?format=csv")));
        refused(api.post(&format!("/api/conversations/{cv}/erase"), &json!({})));
    }
    // And A's conversation cannot be assigned to B's agent by A either.
    a.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"assignee": b_admin_id}),
        )
        .expect_error(422);
    let search = b.api.get("/api/search?q=card").expect_status(200);
    assert_eq!(search.body["results"], json!([]));
    answers.push(search.text);
    let feed = b.api.get("/api/feed?since=0").expect_status(200);
    answers.push(feed.text);
    for text in &answers {
        assert!(
            !text.contains("card number") && !text.contains(&cv) && !text.contains(inbox),
            "{text}"
        );
    }
    assert_eq!(
        a.api
            .get(&format!("/api/inboxes/{inbox}"))
            .expect_status(200)
            .body["name"],
        "messenger inbox"
    );

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
    // A's own token still works, and A's conversation is untouched.
    assert_eq!(a.api.messages(&cv).len(), 1);
    let list = a.api.conversations();
    assert_eq!(
        (list[0]["status"].as_str(), list[0]["assignee"].as_str()),
        (Some("open"), None)
    );
}
