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
