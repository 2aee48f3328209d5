//! The website widget: visitors, identity verification, live replies, and
//! a visitor token that reaches only its own conversation.

use crate::common::*;
use serde_json::{json, Value};
use switchboard_core::channels::widget::identity_hash;
use switchboard_tests::{Api, Live, Server};

const IDENTITY_SECRET: &str = "widget-identity-secret-1";

fn widget_inbox(api: &Api) -> String {
    api.create_inbox("widget", json!({"identity_secret": IDENTITY_SECRET}))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn session(server: &Server, inbox: &str, body: Value) -> switchboard_tests::api::Answer {
    Api::new(&server.base).post(&format!("/api/widget/{inbox}/session"), &body)
}

#[test]
fn a_visitor_chats_live_and_never_sees_private_notes() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Widget Co", "owner@widget.test");
    let inbox = widget_inbox(&agent);

    let s = session(&server, &inbox, json!({"name": "Vera"}))
        .expect_status(201)
        .body;
    let visitor = Api::new(&server.base).with_token(s["token"].as_str().unwrap());
    let visitor_id = s["visitor_id"].as_str().unwrap().to_string();
    assert!(visitor_id.starts_with("v_"));
    assert_eq!(s["verified"], false);

    // The visitor writes; a retry with the same client id is stored once.
    let sent = visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "Do you ship to Norway?", "client_id": "c1", "name": "Vera"}),
        )
        .expect_status(201);
    assert_eq!(sent.body["duplicate"], false);
    let again = visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "Do you ship to Norway?", "client_id": "c1"}),
        )
        .expect_status(201);
    assert_eq!(again.body["duplicate"], true);
    let cv = sent.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(s["conversation_id"], cv.as_str());
    let list = agent.wait_for_conversations(|l| l.iter().any(|c| c["id"] == cv.as_str()));
    assert_eq!(list[0]["channel"], "widget");
    assert_eq!(list[0]["contact"]["name"], "Vera");

    // The visitor's socket: the agent's reply arrives live; the note does not.
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/widget/live?since=0&token={}",
        s["token"].as_str().unwrap()
    )));
    let first = live.next_event(WAIT).expect("resume burst");
    assert_eq!(first["message"]["text"], "Do you ship to Norway?");
    agent
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "VIP, offer free shipping"}),
        )
        .expect_status(201);
    let reply = agent
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "Yes, in 3 days!"}),
        )
        .expect_status(201);
    assert_eq!(
        reply.body["status"], "sent",
        "widget replies are delivered live: {}",
        reply.text
    );
    let pushed = live.next_event(WAIT).expect("the reply, live");
    assert_eq!(pushed["message"]["text"], "Yes, in 3 days!");
    assert_eq!(pushed["message"]["direction"], "outbound");

    // Replay and long-poll for the visitor also leave the note out.
    let polled = visitor.get("/api/widget/events?since=0").expect_status(200);
    assert!(!polled.text.contains("free shipping"), "{}", polled.text);
    let texts: Vec<_> = polled.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "message_created")
        .map(|e| e["message"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["Do you ship to Norway?", "Yes, in 3 days!"]);
    let mut replay = Live::connect(&server.ws_url(&format!(
        "/api/widget/live?since=0&token={}",
        s["token"].as_str().unwrap()
    )));
    let mut seen = Vec::new();
    while let Some(e) = replay.next_event(std::time::Duration::from_millis(500)) {
        seen.push(e.to_string());
    }
    assert!(
        seen.iter().all(|e| !e.contains("free shipping")) && seen.len() >= 2,
        "{seen:?}"
    );
    // The agent sees everything.
    assert_eq!(agent.messages(&cv).len(), 3);

    // The same visitor id comes back to the same conversation.
    let back = session(&server, &inbox, json!({"visitor_id": visitor_id}))
        .expect_status(201)
        .body;
    assert_eq!(back["conversation_id"], cv.as_str());
    session(&server, &inbox, json!({"visitor_id": "v_../../x"})).expect_error(400);
}

#[test]
fn identity_is_verified_and_visitor_tokens_are_walled() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Ident Co", "owner@ident.test");
    let inbox = widget_inbox(&agent);

    // The business's backend signs user ids; anyone else's guess is refused.
    let good = identity_hash(IDENTITY_SECRET, "customer-42");
    let s = session(
        &server,
        &inbox,
        json!({"user_id": "customer-42", "user_hash": good}),
    )
    .expect_status(201)
    .body;
    assert_eq!(s["verified"], true);
    let other_device = session(
        &server,
        &inbox,
        json!({"user_id": "customer-42", "user_hash": good}),
    )
    .expect_status(201)
    .body;
    assert_eq!(
        other_device["conversation_id"], s["conversation_id"],
        "one customer, one conversation"
    );
    session(
        &server,
        &inbox,
        json!({"user_id": "customer-43", "user_hash": good}),
    )
    .expect_error(401);
    session(&server, &inbox, json!({"user_id": "customer-42", "user_hash": identity_hash("a-guessed-secret-00", "customer-42")}))
        .expect_error(401);
    session(&server, &inbox, json!({"user_id": "customer-42"})).expect_error(401);

    let visitor = Api::new(&server.base).with_token(s["token"].as_str().unwrap());
    visitor
        .post("/api/widget/messages", &json!({"text": "hello"}))
        .expect_status(201);
    let cv = s["conversation_id"].as_str().unwrap();

    // Another visitor's conversation exists too.
    let stranger = session(&server, &inbox, json!({})).expect_status(201).body;
    let stranger_api = Api::new(&server.base).with_token(stranger["token"].as_str().unwrap());
    stranger_api
        .post(
            "/api/widget/messages",
            &json!({"text": "I am someone else"}),
        )
        .expect_status(201);

    // A visitor token is not an agent's: no agent route accepts it.
    visitor.get("/api/conversations").expect_error(401);
    visitor
        .get(&format!("/api/conversations/{cv}/messages"))
        .expect_error(401);
    visitor
        .get(&format!(
            "/api/conversations/{}/messages",
            stranger["conversation_id"].as_str().unwrap()
        ))
        .expect_error(401);
    visitor.get("/api/search?q=someone").expect_error(401);
    // Its own stream holds only its own conversation.
    let own = visitor.get("/api/widget/events?since=0").expect_status(200);
    assert!(own.text.contains("hello") && !own.text.contains("someone else"));
    // And an agent token is not a visitor's.
    agent.get("/api/widget/events?since=0").expect_error(401);

    // Rotating the identity secret invalidates hashes made with the old one.
    agent
        .send_patch(
            &format!("/api/inboxes/{inbox}"),
            &json!({"settings": {"identity_secret": "rotated-identity-secret"}}),
        )
        .expect_status(200);
    session(
        &server,
        &inbox,
        json!({"user_id": "customer-42", "user_hash": good}),
    )
    .expect_error(401);
    let fresh = identity_hash("rotated-identity-secret", "customer-42");
    session(
        &server,
        &inbox,
        json!({"user_id": "customer-42", "user_hash": fresh}),
    )
    .expect_status(201);

    // The widget has no webhooks.
    Api::new(&server.base)
        .post_raw(&format!("/webhooks/widget/{inbox}"), &[], b"{}")
        .expect_error(404);
}

#[test]
fn online_visitors_join_the_feed() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Online Co", "owner@online.test");
    let inbox = widget_inbox(&agent);
    let s = session(&server, &inbox, json!({"name": "Ola"}))
        .expect_status(201)
        .body;
    let token = s["token"].as_str().unwrap();
    Api::new(&server.base)
        .with_token(token)
        .post(
            "/api/widget/messages",
            &json!({"text": "hi", "name": "Ola"}),
        )
        .expect_status(201);
    let cv = s["conversation_id"].as_str().unwrap();
    let agent_token = agent.token.clone().unwrap();
    let mut feed = Live::connect(&server.ws_url(&format!("/api/live?token={agent_token}")));

    // The widget opens its socket: the visitor is online, with its contact.
    let widget = Live::connect(&server.ws_url(&format!("/api/widget/live?since=0&token={token}")));
    let online = feed
        .next_of_type("visitor", WAIT)
        .expect("visitor online on the feed");
    assert_eq!(
        (
            online["conversation_id"].as_str(),
            online["status"].as_str()
        ),
        (Some(cv), Some("online"))
    );
    assert_eq!(online["contact"]["name"], "Ola");
    let list = agent.get("/api/visitors").expect_status(200).body;
    assert_eq!(list["visitors"][0]["conversation_id"], cv);

    // The last socket closes: offline, and the list is empty.
    widget.close();
    let offline = feed
        .next_of_type("visitor", WAIT)
        .expect("visitor offline on the feed");
    assert_eq!(offline["status"], "offline");
    assert_eq!(
        agent.get("/api/visitors").expect_status(200).body["visitors"],
        json!([])
    );
    // Another workspace sees none of it.
    let (other, _) = Api::new(&server.base).signup("Other Co", "owner@other-online.test");
    assert_eq!(
        other.get("/api/visitors").expect_status(200).body["visitors"],
        json!([])
    );
}
