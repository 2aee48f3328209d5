//! Visitor monitoring (page views, heartbeats, idle then offline),
//! proactive messages to a visitor who has not written, and the
//! leave-a-message form's offline conversations.

use crate::common::WAIT;
use serde_json::{json, Value};
use switchboard_tests::{Api, Live, Server, ServerOptions};

fn visitor_of(server: &Server, inbox: &str) -> (Api, Value) {
    let s = Api::new(&server.base)
        .post(&format!("/api/widget/{inbox}/session"), &json!({}))
        .expect_status(201)
        .body;
    (
        Api::new(&server.base).with_token(s["token"].as_str().unwrap()),
        s,
    )
}

#[test]
fn visitors_are_monitored_and_an_agent_can_write_first() {
    // Short thresholds so heartbeats that stop show within the test.
    let server = Server::start_with(
        ServerOptions::default()
            .var("VISITOR_IDLE_SECS", "2")
            .var("VISITOR_OFFLINE_SECS", "4"),
    );
    let (agent, _) = Api::new(&server.base).signup("Watch Co", "owner@wvisitors.test");
    let inbox = agent.create_inbox("widget", json!({}));
    let inbox = inbox["id"].as_str().unwrap();
    let agent_token = agent.token.clone().unwrap();
    let mut feed = Live::connect(&server.ws_url(&format!("/api/live?token={agent_token}")));
    let (visitor, s) = visitor_of(&server, inbox);
    let cv = s["conversation_id"].as_str().unwrap();

    // A page view, before any chat: listed with the page, online.
    visitor
        .post(
            "/api/widget/visit",
            &json!({"kind": "view", "url": "javascript:1"}),
        )
        .expect_error(400);
    let answer = visitor
        .post(
            "/api/widget/visit",
            &json!({"kind": "view", "url": "https://shop.example/pricing", "title": "Pricing",
                    "referrer": "https://search.example/?q=shop", "language": "de-DE",
                    "time_zone": "Europe/Berlin"}),
        )
        .expect_status(200)
        .body;
    assert_eq!(answer["agents_online"], 1, "the agent's feed socket counts");
    assert_eq!(answer["available"], true);
    let seen = feed
        .next_of_type("visitor", WAIT)
        .expect("visitor on the feed");
    assert_eq!(seen["status"], "online");
    assert_eq!(seen["visit"]["url"], "https://shop.example/pricing");
    let list = agent.get("/api/visitors").expect_status(200).body;
    let v = &list["visitors"][0];
    assert_eq!(v["conversation_id"], cv);
    assert_eq!(v["visit"]["title"], "Pricing");
    assert_eq!(v["visit"]["referrer"], "https://search.example/?q=shop");
    assert_eq!(v["visit"]["language"], "de-DE");
    assert_eq!(v["visit"]["time_zone"], "Europe/Berlin");
    assert_eq!(v["conversation_started"], false);
    visitor
        .post("/api/widget/visit", &json!({"kind": "heartbeat"}))
        .expect_status(200);

    // The agent writes first (a proactive message); the visitor's socket,
    // open before anyone wrote, gets it.
    let mut widget = Live::connect(&server.ws_url(&format!(
        "/api/widget/live?since=0&token={}",
        s["token"].as_str().unwrap()
    )));
    agent
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "Can I help?"}),
        )
        .expect_status(201);
    let got = widget
        .next_of_type("message_created", WAIT)
        .expect("proactive message");
    assert_eq!(got["message"]["text"], "Can I help?");
    assert_eq!(got["message"]["direction"], "outbound");

    // Heartbeats stop (the socket alone does not keep a visitor online):
    // idle, then offline, on the feed and the list.
    let mut statuses = Vec::new();
    while let Some(e) = feed.next_of_type("visitor", WAIT) {
        statuses.push(e["status"].as_str().unwrap_or_default().to_string());
        if statuses.last().map(String::as_str) == Some("offline")
            && statuses.iter().any(|s| s == "idle")
        {
            break;
        }
    }
    assert!(statuses.iter().any(|s| s == "idle"), "{statuses:?}");
    assert_eq!(statuses.last().map(String::as_str), Some("offline"));
    assert_eq!(
        agent.get("/api/visitors").expect_status(200).body["visitors"],
        json!([])
    );
    widget.close();

    // A leave beacon (token in the body) takes a visitor offline at once.
    let (second, s2) = visitor_of(&server, inbox);
    second
        .post(
            "/api/widget/visit",
            &json!({"kind": "view", "url": "https://shop.example/"}),
        )
        .expect_status(200);
    assert_eq!(
        agent.get("/api/visitors").expect_status(200).body["visitors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    Api::new(&server.base)
        .post_raw(
            "/api/widget/visit",
            &[("content-type", "text/plain")],
            json!({"kind": "leave", "token": s2["token"]})
                .to_string()
                .as_bytes(),
        )
        .expect_status(200);
    assert_eq!(
        agent.get("/api/visitors").expect_status(200).body["visitors"],
        json!([])
    );

    // Another workspace sees none of it.
    let (other, _) = Api::new(&server.base).signup("Other Watch", "owner@wvisitors-other.test");
    assert_eq!(
        other.get("/api/visitors").expect_status(200).body["visitors"],
        json!([])
    );
    other
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "hi"}),
        )
        .expect_error(404);
}

#[test]
fn left_messages_are_offline_conversations() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Away Co", "owner@waway.test");
    // Closed every day: no hours contain now.
    let inbox = agent.create_inbox(
        "widget",
        json!({"business_hours": {"time_zone": "Asia/Shanghai", "weekly": []},
               "offline_message": "We are away"}),
    );
    let inbox = inbox["id"].as_str().unwrap();
    let (visitor, s) = visitor_of(&server, inbox);
    let answer = visitor
        .post(
            "/api/widget/visit",
            &json!({"kind": "view", "url": "https://shop.example/"}),
        )
        .expect_status(200)
        .body;
    assert_eq!(answer["open"], false);
    assert_eq!(answer["available"], false);
    // Open around the clock, in a far zone and in one the runtime does
    // not know (read as UTC): open, but nobody is online.
    for zone in ["Pacific/Auckland", "Mars/Olympus_Mons"] {
        let weekly: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| json!({"day": d, "from": "00:00", "to": "24:00"}))
            .collect();
        let always = agent.create_inbox(
            "widget",
            json!({"business_hours": {"time_zone": zone, "weekly": weekly}}),
        );
        let (v, _) = visitor_of(&server, always["id"].as_str().unwrap());
        let a = v
            .post(
                "/api/widget/visit",
                &json!({"kind": "view", "url": "https://shop.example/"}),
            )
            .expect_status(200)
            .body;
        assert_eq!(
            (a["open"].as_bool(), a["available"].as_bool()),
            (Some(true), Some(false)),
            "{zone}"
        );
    }

    visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "Call me", "offline": true}),
        )
        .expect_error(400);
    visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "Please call me back", "name": "Lin", "email": "lin@example.test", "offline": true}),
        )
        .expect_status(201);
    // An ordinary chat in the same inbox is not offline.
    let (chatty, _) = visitor_of(&server, inbox);
    chatty
        .post("/api/widget/messages", &json!({"text": "just chatting"}))
        .expect_status(201);
    agent.wait_for_conversations(|c| c.len() == 2);
    let offline = agent
        .get("/api/conversations?offline=true")
        .expect_status(200)
        .body;
    let offline = offline["conversations"].as_array().unwrap();
    assert_eq!(offline.len(), 1);
    assert_eq!(offline[0]["id"], s["conversation_id"]);
    assert_eq!(offline[0]["contact"]["email"], "lin@example.test");
    assert_eq!(offline[0]["contact"]["name"], "Lin");
    agent
        .get("/api/conversations?offline=maybe")
        .expect_error(400);
    assert_eq!(
        agent
            .get("/api/conversations?offline=false")
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The reply reaches the widget's conversation, visible on the next visit.
    let cv = s["conversation_id"].as_str().unwrap();
    agent
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "Calling you now"}),
        )
        .expect_status(201);
    let events = visitor
        .get("/api/widget/events?since=0")
        .expect_status(200)
        .body;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["message"]["text"] == "Calling you now"));
}
