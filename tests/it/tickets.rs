//! Socket tickets: what browsers put in a WebSocket URL instead of a
//! token. A ticket opens one socket, once, within 30 seconds; a reused,
//! expired, forged or foreign one is refused, also after a restart.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_core::ticket::{self, Ticket};
use switchboard_tests::server::TEST_SESSION_SECRET;
use switchboard_tests::{Api, Live, Server};

fn agent_ticket(api: &Api) -> String {
    let t = api.post("/api/live/ticket", &json!({})).expect_status(201);
    assert_eq!(t.body["expires_in"], 30);
    t.body["ticket"].as_str().unwrap().to_string()
}

/// The claims of a ticket the server issued (the test knows the secret).
fn claims(t: &str) -> Ticket {
    ticket::verify(TEST_SESSION_SECRET.as_bytes(), t, now_ms() / 1000).unwrap()
}

fn sign(t: &Ticket) -> String {
    ticket::sign(TEST_SESSION_SECRET.as_bytes(), t)
}

fn refused(url: &str) -> String {
    match Live::try_connect(url) {
        Ok(_) => panic!("{url} opened a socket"),
        Err(status) => status,
    }
}

#[test]
fn an_agent_ticket_opens_one_socket_once() {
    let mut server = Server::start();
    let ws = messenger_workspace(&server, "tickets");
    post_signed(&ws, &messenger_body(&[("psid-t", "m-t1", "first")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-t");

    // A conversation socket with a ticket: replays, then carries live events.
    let t = agent_ticket(&ws.api);
    let url = server.ws_url(&format!("/api/conversations/{cv}/live?since=0&ticket={t}"));
    let mut live = Live::connect(&url);
    let first = live.next_event(WAIT).expect("the replay");
    assert_eq!(first["message"]["text"], "first");
    post_signed(&ws, &messenger_body(&[("psid-t", "m-t2", "second")])).expect_status(200);
    assert_eq!(
        next_of_type(&mut live, "message_created")["message"]["text"],
        "second"
    );

    // The same ticket again, on the same socket path or another: 401.
    assert_eq!(refused(&url), "401");
    assert_eq!(
        refused(&server.ws_url(&format!("/api/live?ticket={t}"))),
        "401"
    );

    // The feed socket with its own ticket works.
    let feed_ticket = agent_ticket(&ws.api);
    let mut feed =
        Live::connect(&server.ws_url(&format!("/api/live?since=0&ticket={feed_ticket}")));
    assert!(feed.next_event(WAIT).is_some(), "the feed's replay");

    // Expired (signed right, but past its time) and forged (wrong key): 401.
    let mut expired = claims(&agent_ticket(&ws.api));
    expired.exp = now_ms() / 1000 - 1;
    assert_eq!(
        refused(&server.ws_url(&format!("/api/live?ticket={}", sign(&expired)))),
        "401"
    );
    let forged = ticket::sign(b"a-guessed-secret", &claims(&agent_ticket(&ws.api)));
    assert_eq!(
        refused(&server.ws_url(&format!("/api/live?ticket={forged}"))),
        "401"
    );
    // A ticket is not a session token, nor the other way round.
    ws.api
        .with_token(&agent_ticket(&ws.api))
        .get("/api/conversations")
        .expect_error(401);
    assert_eq!(
        refused(&server.ws_url(&format!("/api/live?ticket={}", token(&ws)))),
        "401"
    );
    // No ticket without a session.
    Api::new(&server.base)
        .post("/api/live/ticket", &json!({}))
        .expect_error(401);

    // Another workspace's ticket names that workspace: our conversation is
    // not in it (404), and it cannot be relabelled without the secret.
    let other = messenger_workspace(&server, "tickets-other");
    let theirs = agent_ticket(&other.api);
    assert_eq!(
        refused(&server.ws_url(&format!("/api/conversations/{cv}/live?ticket={theirs}"))),
        "404"
    );

    // Single use survives a SIGKILL: the nonce is in the workspace object's
    // SQLite. (A long-lived ticket signed with the test secret, so the
    // restart's time does not expire it first.)
    let mut long = claims(&agent_ticket(&ws.api));
    long.exp = now_ms() / 1000 + 600;
    let long = sign(&long);
    drop(Live::connect(
        &server.ws_url(&format!("/api/live?since=0&ticket={long}")),
    ));
    server.restart();
    let again = server.ws_url(&format!("/api/live?since=0&ticket={long}"));
    assert_eq!(refused(&again), "401");
    // …and the reason says why.
    let answer = Api::new(&server.base).get(&format!("/api/live?ticket={long}"));
    assert!(answer.text.contains("already used"), "{}", answer.text);
}

#[test]
fn a_visitor_ticket_opens_the_widget_socket_once() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Ticket Widget", "owner@ticket-widget.test");
    let inbox = agent.create_inbox("widget", json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = Api::new(&server.base)
        .post(&format!("/api/widget/{inbox}/session"), &json!({}))
        .expect_status(201)
        .body;
    let visitor = Api::new(&server.base).with_token(s["token"].as_str().unwrap());
    visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "hi", "client_id": "c1"}),
        )
        .expect_status(201);

    let t = visitor
        .post("/api/widget/ticket", &json!({}))
        .expect_status(201)
        .body;
    let t = t["ticket"].as_str().unwrap().to_string();
    let url = server.ws_url(&format!("/api/widget/live?since=0&ticket={t}"));
    let mut live = Live::connect(&url);
    assert_eq!(
        live.next_event(WAIT).expect("replay")["message"]["text"],
        "hi"
    );
    assert_eq!(refused(&url), "401");

    // Visitor and agent tickets do not cross over.
    let agent_t = agent_ticket(&agent);
    assert_eq!(
        refused(&server.ws_url(&format!("/api/widget/live?ticket={agent_t}"))),
        "401"
    );
    let visitor_t = visitor
        .post("/api/widget/ticket", &json!({}))
        .expect_status(201)
        .body;
    assert_eq!(
        refused(&server.ws_url(&format!(
            "/api/live?ticket={}",
            visitor_t["ticket"].as_str().unwrap()
        ))),
        "401"
    );
    // An agent's token gets no visitor ticket.
    agent
        .post("/api/widget/ticket", &json!({}))
        .expect_error(401);
    // The one live socket still works after all the refusals.
    agent
        .post(
            &format!(
                "/api/conversations/{}/messages",
                s["conversation_id"].as_str().unwrap()
            ),
            &json!({"text": "hello back"}),
        )
        .expect_status(201);
    let pushed = live
        .next_of_type("message_created", Duration::from_secs(10))
        .unwrap();
    assert_eq!(pushed["message"]["text"], "hello back");
}

/// A ticket is checked against what it was exchanged for when it is used:
/// a logout, a password change or a revoked API key in the seconds between
/// issue and use leaves it unable to open a socket.
#[test]
fn a_ticket_dies_with_what_it_was_issued_for() {
    let server = Server::start();
    let email = format!("revoked-{}@example.test", unique());
    let (first, _) = Api::new(&server.base).signup("Tickets revoked", &email);
    let reason = |t: &str| Api::new(&server.base).get(&format!("/api/live?ticket={t}"));

    // Logout: the ticket was fresh, the session it speaks for is not.
    let login = Api::new(&server.base)
        .post(
            "/api/login",
            &json!({"email": email, "password": "correct horse battery"}),
        )
        .expect_status(200);
    let other = Api::new(&server.base).with_token(login.body["token"].as_str().unwrap());
    let t = agent_ticket(&other);
    other.post("/api/logout", &json!({})).expect_status(200);
    let answer = reason(&t);
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(answer.text.contains("session has ended"), "{}", answer.text);
    // The workspace's own live session still opens sockets.
    drop(Live::connect(&server.ws_url(&format!(
        "/api/live?since=0&ticket={}",
        agent_ticket(&first)
    ))));

    // A password change bumps the token version: tickets from before it die.
    let before = agent_ticket(&first);
    let changed = first
        .post(
            "/api/me/password",
            &json!({"current_password": "correct horse battery", "new_password": "new horse battery"}),
        )
        .expect_status(200);
    assert_eq!(
        refused(&server.ws_url(&format!("/api/live?ticket={before}"))),
        "401"
    );
    let owner = first.with_token(changed.body["token"].as_str().unwrap());
    drop(Live::connect(&server.ws_url(&format!(
        "/api/live?since=0&ticket={}",
        agent_ticket(&owner)
    ))));

    // An API key's ticket dies with the key.
    let key = owner
        .post(
            "/api/api_keys",
            &json!({"name": "feed", "scopes": ["read", "write"]}),
        )
        .expect_status(201)
        .body;
    let bot = Api::new(&server.base).with_token(key["key"].as_str().unwrap());
    let t = agent_ticket(&bot);
    owner
        .delete(&format!("/api/api_keys/{}", key["id"].as_str().unwrap()))
        .expect_status(200);
    let answer = reason(&t);
    assert_eq!(answer.status, 401, "{}", answer.text);
    assert!(answer.text.contains("revoked"), "{}", answer.text);
}
