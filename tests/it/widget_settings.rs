//! The widget inbox's settings: validation, the public config (no
//! secrets), allowed origins with CORS, and rate limits.

use serde_json::{json, Value};
use switchboard_tests::{Api, Server};

/// A raw call with headers, answering (status, header lookup, JSON body).
fn call(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, ureq::Response) {
    let mut r = ureq::request(method, &format!("{}{path}", server.base));
    for (k, v) in headers {
        r = r.set(k, v);
    }
    let result = match body {
        Some(b) => r.send_json(b.clone()),
        None => r.call(),
    };
    match result {
        Ok(resp) => (resp.status(), resp),
        Err(ureq::Error::Status(s, resp)) => (s, resp),
        Err(e) => panic!("request failed: {e}"),
    }
}

#[test]
fn widget_settings_are_validated_and_the_config_holds_no_secret() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Settings Co", "owner@wsettings.test");
    for (settings, reason) in [
        (
            json!({"allowed_origins": ["shop.example"]}),
            "allowed_origins",
        ),
        (json!({"color": "blue"}), "color"),
        (json!({"position": "middle"}), "position"),
        (json!({"prechat": "everything"}), "prechat"),
        (json!({"http_only": 1}), "http_only"),
        (
            json!({"business_hours": {"time_zone": "UTC", "weekly": [{"day": "mon", "from": "18:00", "to": "08:00"}]}}),
            "business_hours",
        ),
        (json!({"language": "xx"}), "language"),
    ] {
        let answer = agent
            .post(
                "/api/inboxes",
                &json!({"channel": "widget", "name": "Site", "settings": settings}),
            )
            .expect_error(400);
        let said = answer.body["error"].as_str().unwrap_or_default();
        assert!(said.contains(reason), "{settings}: {said}");
    }
    let inbox = agent.create_inbox(
        "widget",
        json!({
            "identity_secret": "a-very-secret-identity-key",
            "allowed_origins": ["https://shop.example"],
            "color": "#0F766E", "greeting": "Hi there", "launcher_text": "Ask us",
            "position": "left", "prechat": "name_email", "reply_time": "minutes",
            "agents": [{"name": "Ann"}],
            "business_hours": {"time_zone": "Europe/Berlin", "weekly": [{"day": "mon", "from": "09:00", "to": "17:00"}]},
            "offline_message": "We are away", "http_only": true, "language": "zh",
        }),
    );
    let id = inbox["id"].as_str().unwrap();
    assert_eq!(inbox["settings"]["identity_secret"], "…-key");
    assert_eq!(
        inbox["settings"]["allowed_origins"],
        json!(["https://shop.example"])
    );

    // A PATCH changes one field and keeps the rest; a bad one changes nothing.
    agent
        .send_patch(
            &format!("/api/inboxes/{id}"),
            &json!({"settings": {"color": "nope"}}),
        )
        .expect_error(400);
    let patched = agent
        .send_patch(
            &format!("/api/inboxes/{id}"),
            &json!({"settings": {"greeting": "Hello!"}}),
        )
        .expect_status(200)
        .body;
    assert_eq!(patched["settings"]["greeting"], "Hello!");
    assert_eq!(patched["settings"]["color"], "#0f766e");

    let (status, resp) = call(
        &server,
        "GET",
        &format!("/api/widget/{id}/config"),
        &[("origin", "https://shop.example")],
        None,
    );
    assert_eq!(status, 200);
    assert!(resp
        .header("cache-control")
        .unwrap_or_default()
        .contains("max-age"));
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let text = resp.into_string().unwrap();
    assert!(!text.contains("a-very-secret"), "{text}");
    assert!(!text.contains("-key"), "{text}");
    assert!(!text.contains("allowed_origins"), "{text}");
    let config: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["greeting"], "Hello!");
    assert_eq!(config["launcher_text"], "Ask us");
    assert_eq!(config["prechat"], "name_email");
    assert_eq!(config["http_only"], true);
    assert_eq!(config["identity_verification"], true);
    assert_eq!(config["business_hours"]["time_zone"], "Europe/Berlin");

    // Not a widget inbox, or no inbox at all: 404.
    let api_inbox = agent.create_inbox(
        "api",
        json!({"callback_url": "https://example.test/hook", "secret": "0123456789abcdef0123"}),
    );
    Api::new(&server.base)
        .get(&format!(
            "/api/widget/{}/config",
            api_inbox["id"].as_str().unwrap()
        ))
        .expect_error(404);
    Api::new(&server.base)
        .get("/api/widget/in_nope/config")
        .expect_error(404);
}

#[test]
fn only_allowed_origins_get_a_session_and_floods_get_429() {
    let server = Server::start();
    let (agent, _) = Api::new(&server.base).signup("Origins Co", "owner@worigins.test");
    let listed = agent.create_inbox(
        "widget",
        json!({"allowed_origins": ["https://shop.example"]}),
    );
    let listed = listed["id"].as_str().unwrap();
    let open = agent.create_inbox("widget", json!({}));
    let open = open["id"].as_str().unwrap();
    let session = |inbox: &str, origin: &str| {
        call(
            &server,
            "POST",
            &format!("/api/widget/{inbox}/session"),
            &[("origin", origin)],
            Some(&json!({})),
        )
    };
    // The listed origin gets a session, with CORS; another gets 403 without.
    let (status, resp) = session(listed, "https://shop.example");
    assert_eq!(status, 201);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let token = resp.into_json::<Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, resp) = session(listed, "https://evil.example");
    assert_eq!(status, 403);
    assert_eq!(resp.header("access-control-allow-origin"), None);
    // The token does not work from another origin either.
    let auth = format!("Bearer {token}");
    let (status, _) = call(
        &server,
        "POST",
        "/api/widget/messages",
        &[("origin", "https://evil.example"), ("authorization", &auth)],
        Some(&json!({"text": "hi"})),
    );
    assert_eq!(status, 403);
    // An empty list: pages on localhost only.
    assert_eq!(session(open, "http://localhost:5173").0, 201);
    assert_eq!(session(open, "http://127.0.0.1:9999").0, 201);
    assert_eq!(session(open, "https://shop.example").0, 403);
    // A preflight names the methods and headers the widget uses.
    let (status, resp) = call(
        &server,
        "OPTIONS",
        "/api/widget/messages",
        &[
            ("origin", "https://shop.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(status, 204);
    assert!(resp
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .contains("authorization"));

    // Flooding: past 20 messages a minute the visitor gets 429 with
    // Retry-After; nothing is stored for them, and others are unaffected.
    let mut refused = None;
    for i in 0..25 {
        let (status, resp) = call(
            &server,
            "POST",
            "/api/widget/messages",
            &[("origin", "https://shop.example"), ("authorization", &auth)],
            Some(&json!({"text": format!("flood {i}"), "client_id": format!("f{i}")})),
        );
        if status == 429 {
            let retry: i64 = resp.header("retry-after").unwrap_or("0").parse().unwrap();
            assert!((1..=60).contains(&retry), "Retry-After {retry}");
            assert_eq!(
                resp.header("access-control-allow-origin"),
                Some("https://shop.example"),
                "the widget can read the 429"
            );
            refused = Some(i);
            break;
        }
        assert_eq!(status, 201, "message {i}");
    }
    assert_eq!(refused, Some(20), "the 21st message in a minute is refused");
    let other = Api::new(&server.base).post(&format!("/api/widget/{listed}/session"), &json!({}));
    let other = other.expect_status(201).body;
    Api::new(&server.base)
        .with_token(other["token"].as_str().unwrap())
        .post(
            "/api/widget/messages",
            &json!({"text": "I am not flooding"}),
        )
        .expect_status(201);
    let convs = agent.wait_for_conversations(|c| {
        c.len() == 2 && c.iter().any(|x| x["last_message"]["text"] == "flood 19")
    });
    let flooded = convs
        .iter()
        .find(|c| {
            c["last_message"]["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("flood")
        })
        .unwrap();
    assert_eq!(flooded["last_message"]["text"], "flood 19");

    // Sessions: past 10 a minute for one visitor id, 429.
    let first = Api::new(&server.base).post(&format!("/api/widget/{open}/session"), &json!({}));
    let visitor_id = first.expect_status(201).body["visitor_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut codes = vec![201];
    for _ in 0..10 {
        codes.push(
            Api::new(&server.base)
                .post(
                    &format!("/api/widget/{open}/session"),
                    &json!({"visitor_id": visitor_id}),
                )
                .status,
        );
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 10, "{codes:?}");
    assert_eq!(codes.last(), Some(&429));
}
