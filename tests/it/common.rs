//! Shared setup: a workspace with a Messenger inbox, and a signed webhook.

use serde_json::{json, Value};
use std::time::Duration;
use switchboard_tests::{sign, Api, Server};

pub const APP_SECRET: &str = "meta-app-secret";
pub const VERIFY_TOKEN: &str = "meta-verify-token";
pub const PAGE_ID: &str = "1000001";
pub const PAGE_TOKEN: &str = "EAAG-page-access-token";

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Workspace {
    pub api: Api,
    pub inbox_id: String,
    pub webhook_path: String,
}

/// Signs up a workspace (unique email per call) with one Messenger inbox.
pub fn messenger_workspace(server: &Server, label: &str) -> Workspace {
    let email = format!("{label}-{}@example.test", unique());
    let (api, _) = Api::new(&server.base).signup(label, &email);
    let inbox = api.create_inbox(
        "messenger",
        json!({"page_id": PAGE_ID, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": PAGE_TOKEN}),
    );
    let inbox_id = inbox["id"].as_str().unwrap().to_string();
    Workspace {
        webhook_path: format!("/webhooks/messenger/{inbox_id}"),
        api,
        inbox_id,
    }
}

pub fn unique() -> u128 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    t * 1000 + u128::from(N.fetch_add(1, Ordering::SeqCst))
}

/// A Messenger webhook body with one text message per `(psid, mid, text)`.
pub fn messenger_body(messages: &[(&str, &str, &str)]) -> Vec<u8> {
    let messaging: Vec<Value> = messages
        .iter()
        .map(|(psid, mid, text)| {
            json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1_763_000_000_000_i64,
                   "message": {"mid": mid, "text": text}})
        })
        .collect();
    serde_json::to_vec(&json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1_763_000_000_000_i64, "messaging": messaging}]}))
        .unwrap()
}

/// POSTs `body` to the webhook signed as Meta signs it.
pub fn post_signed(ws: &Workspace, body: &[u8]) -> switchboard_tests::api::Answer {
    let sig = sign::meta(APP_SECRET, body);
    ws.api.post_raw(
        &ws.webhook_path,
        &[
            ("x-hub-signature-256", &sig),
            ("content-type", "application/json"),
        ],
        body,
    )
}

/// The id of the conversation with `psid`, once the index has it.
pub fn conversation_of(ws: &Workspace, psid: &str) -> String {
    let list = ws
        .api
        .wait_for_conversations(|l| l.iter().any(|c| c["contact"]["external_id"] == psid));
    list.iter()
        .find(|c| c["contact"]["external_id"] == psid)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn token(ws: &Workspace) -> String {
    ws.api.token.clone().unwrap()
}

/// Signs up a workspace (unique email per call) with one inbox of `channel`.
pub fn channel_workspace(
    server: &Server,
    label: &str,
    channel: &str,
    settings: Value,
) -> Workspace {
    let email = format!("{label}-{}@example.test", unique());
    let (api, _) = Api::new(&server.base).signup(label, &email);
    let inbox = api.create_inbox(channel, settings);
    let inbox_id = inbox["id"].as_str().unwrap().to_string();
    Workspace {
        webhook_path: format!("/webhooks/{channel}/{inbox_id}"),
        api,
        inbox_id,
    }
}

/// A core crate fixture: `functions/core/tests/fixtures/{channel}/{name}.json`.
pub fn fixture(channel: &str, name: &str) -> Vec<u8> {
    let path = switchboard_tests::server::repo_root()
        .join("functions/core/tests/fixtures")
        .join(channel)
        .join(format!("{name}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A fixture as text with every `(from, to)` replaced, as bytes to sign.
pub fn fixture_with(channel: &str, name: &str, replace: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from_utf8(fixture(channel, name)).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text.into_bytes()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// POSTs `body` to the webhook signed as Meta signs it with `app_secret`.
pub fn post_meta(ws: &Workspace, app_secret: &str, body: &[u8]) -> switchboard_tests::api::Answer {
    let sig = sign::meta(app_secret, body);
    ws.api.post_raw(
        &ws.webhook_path,
        &[
            ("x-hub-signature-256", &sig),
            ("content-type", "application/json"),
        ],
        body,
    )
}

/// The message with `id` in the conversation's history.
pub fn message_by_id(ws: &Workspace, cv: &str, id: &str) -> Value {
    ws.api
        .messages(cv)
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("message {id} not in history"))
}

/// Waits until the message with `id` has `status`; returns it.
pub fn wait_status(ws: &Workspace, cv: &str, id: &str, status: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let m = message_by_id(ws, cv, id);
        if m["status"] == status {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message {id} never became {status}: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The next live event of `kind` (skipping others), or a panic.
pub fn next_of_type(live: &mut switchboard_tests::Live, kind: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let e = live
            .next_event(left)
            .unwrap_or_else(|| panic!("no {kind} event within {WAIT:?}"));
        if e["type"] == kind {
            return e;
        }
    }
}

/// Opens the agent's live socket on a conversation, after everything so far.
pub fn live_after(server: &Server, ws: &Workspace, cv: &str) -> switchboard_tests::Live {
    let last = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_status(200)
        .body["last_seq"]
        .as_i64()
        .unwrap();
    switchboard_tests::Live::connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since={last}&token={}",
        token(ws)
    )))
}

/// An agent's reply; returns the 201 body.
pub fn reply(ws: &Workspace, cv: &str, text: &str) -> Value {
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({ "text": text }),
        )
        .expect_status(201)
        .body
}

/// Asserts that `actual` contains `expected`: every key of an expected
/// object (recursively), arrays element by element with equal lengths,
/// scalars equal.
pub fn assert_contains(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or(&Value::Null);
                assert_contains(got, v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{at}: {actual} vs {expected}");
            for (n, (x, y)) in a.iter().zip(e).enumerate() {
                assert_contains(x, y, &format!("{at}[{n}]"));
            }
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}

/// One inbound message as it must appear in the history.
pub struct Expect {
    pub fixture: &'static str,
    pub platform_id: &'static str,
    pub kind: &'static str,
    pub text: &'static str,
    pub content: Value,
    pub reply_to: Option<&'static str>,
}

pub fn expect(
    fixture: &'static str,
    platform_id: &'static str,
    kind: &'static str,
    text: &'static str,
    content: Value,
) -> Expect {
    Expect {
        fixture,
        platform_id,
        kind,
        text,
        content,
        reply_to: None,
    }
}

impl Expect {
    pub fn replying_to(mut self, platform_id: &'static str) -> Expect {
        self.reply_to = Some(platform_id);
        self
    }

    /// Checks a stored message against this expectation.
    pub fn check(&self, m: &Value, direction: &str) {
        let at = self.fixture;
        assert_eq!(m["platform_id"], self.platform_id, "{at}: {m}");
        assert_eq!(m["kind"], self.kind, "{at}: {m}");
        assert_eq!(m["content"]["kind"], self.kind, "{at}: {m}");
        assert_eq!(m["text"], self.text, "{at}: {m}");
        assert_eq!(m["direction"], direction, "{at}: {m}");
        let status = if direction == "inbound" {
            "received"
        } else {
            "sent"
        };
        assert_eq!(m["status"], status, "{at}: {m}");
        match self.reply_to {
            Some(r) => assert_eq!(m["reply_to"], r, "{at}: {m}"),
            None => assert!(m["reply_to"].is_null(), "{at}: unexpected reply_to in {m}"),
        }
        assert_contains(&m["content"], &self.content, at);
    }
}

/// Checks `history` holds exactly `expected`, in order, all `direction`.
pub fn check_history(history: &[Value], expected: &[Expect], direction: &str) {
    assert_eq!(
        history.len(),
        expected.len(),
        "history: {}",
        serde_json::to_string_pretty(history).unwrap()
    );
    for (m, e) in history.iter().zip(expected) {
        e.check(m, direction);
    }
}

/// Invites a teammate with `role` (`agent` or `admin`) through the real
/// invitation flow; returns a client holding their token, and their id.
pub fn teammate(admin: &Api, role: &str) -> (Api, String) {
    let email = format!("{role}-{}@example.test", unique());
    let inv = admin
        .post("/api/invitations", &json!({"email": email, "role": role}))
        .expect_status(201);
    let accepted = Api::new(&admin.base)
        .post(
            "/api/invitations/accept",
            &json!({"token": inv.body["token"], "name": "Teammate", "password": "teammate password"}),
        )
        .expect_status(201);
    (
        admin.with_token(accepted.body["token"].as_str().unwrap()),
        accepted.body["agent_id"].as_str().unwrap().to_string(),
    )
}
