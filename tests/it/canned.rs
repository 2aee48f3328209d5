//! Editing a canned response: admins change its shortcode or text, replies
//! use the new text at once, bad input changes nothing, and nobody outside
//! the workspace or below admin can edit it.

use crate::common::*;
use serde_json::json;
use switchboard_tests::{Api, Server};

#[test]
fn an_admin_edits_a_canned_response_and_replies_use_the_new_text() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "canned-edit");
    post_signed(&ws, &messenger_body(&[("psid-ce", "m_ce_1", "Hi")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-ce");
    let made = ws
        .api
        .post(
            "/api/canned_responses",
            &json!({"shortcode": "hours", "text": "We are open 9 to 5."}),
        )
        .expect_status(201);
    let id = made.body["id"].as_str().unwrap().to_string();
    ws.api
        .post(
            "/api/canned_responses",
            &json!({"shortcode": "refund", "text": "Refunds take 5 days."}),
        )
        .expect_status(201);
    let path = format!("/api/canned_responses/{id}");
    let messages = format!("/api/conversations/{cv}/messages");
    let before = ws
        .api
        .post(&messages, &json!({"canned": "hours", "kind": "note"}))
        .expect_status(201);

    // The text changes; the shortcode stays.
    let edited = ws
        .api
        .send_patch(&path, &json!({"text": "  We are open 8 to 6.  "}))
        .expect_status(200);
    assert_eq!(edited.body["id"], id.as_str());
    assert_eq!(edited.body["shortcode"], "hours");
    assert_eq!(edited.body["text"], "We are open 8 to 6.");
    assert_eq!(edited.body["created_at"], made.body["created_at"]);
    let used = ws
        .api
        .post(&messages, &json!({"canned": "hours", "kind": "note"}))
        .expect_status(201);
    assert_eq!(used.body["text"], "We are open 8 to 6.");
    // What was sent before keeps its text.
    let history = ws.api.messages(&cv);
    let old = history
        .iter()
        .find(|m| m["id"] == before.body["id"])
        .unwrap();
    assert_eq!(old["text"], "We are open 9 to 5.");

    // Renamed: the old shortcode no longer works, the new one does.
    ws.api
        .send_patch(&path, &json!({"shortcode": "opening-hours"}))
        .expect_status(200);
    ws.api
        .post(&messages, &json!({"canned": "hours", "kind": "note"}))
        .expect_error(422);
    ws.api
        .post(
            &messages,
            &json!({"canned": "opening-hours", "kind": "note"}),
        )
        .expect_status(201);

    // Refused, and nothing changed: a taken shortcode, bad fields, nothing.
    ws.api
        .send_patch(&path, &json!({"shortcode": "refund"}))
        .expect_error(409);
    for bad in [
        json!({"shortcode": "Bad Code", "text": "fine text"}),
        json!({"text": "   "}),
        json!({"text": "x".repeat(4097)}),
        json!({}),
        json!({"text": "ok", "extra": 1}),
    ] {
        ws.api.send_patch(&path, &bad).expect_error(400);
    }
    let list = ws.api.get("/api/canned_responses").expect_status(200);
    let mine = list.body["canned_responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (mine["shortcode"].as_str(), mine["text"].as_str()),
        (Some("opening-hours"), Some("We are open 8 to 6."))
    );
    ws.api
        .send_patch("/api/canned_responses/cr_nope", &json!({"text": "x"}))
        .expect_error(404);

    // An agent (not an admin) cannot edit; another workspace gets 404.
    let invite = ws
        .api
        .post(
            "/api/invitations",
            &json!({"email": format!("agent-{}@example.test", unique()), "role": "agent"}),
        )
        .expect_status(201);
    let accepted = Api::new(&server.base)
        .post(
            "/api/invitations/accept",
            &json!({"token": invite.body["token"], "name": "Ann", "password": "agent password"}),
        )
        .expect_status(201);
    let agent = ws.api.with_token(accepted.body["token"].as_str().unwrap());
    agent
        .send_patch(&path, &json!({"text": "agent edit"}))
        .expect_error(403);
    let stranger = messenger_workspace(&server, "canned-stranger");
    stranger
        .api
        .send_patch(&path, &json!({"text": "stranger edit"}))
        .expect_error(404);
    let after = ws.api.get("/api/canned_responses").expect_status(200);
    assert!(after.body["canned_responses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str() && c["text"] == "We are open 8 to 6."));
}
