//! Shared helpers for the channel tests: fixtures, inbox settings, and
//! signing a body exactly as each platform does before going through
//! `Settings::verify` and `Settings::normalize`.
#![allow(dead_code)]

use switchboard_core::channels::{Channel, ParseError, Settings};
use switchboard_core::inbound::{InboundEvent, InboundMessage, Receipt};
use switchboard_core::verify::{sign_api, sign_meta, VerifyError};

pub const NOW_SECS: i64 = 1_718_000_400;

pub const PAGE_ID: &str = "106123456789012";
pub const IG_ID: &str = "17841400000000001";
pub const PHONE_NUMBER_ID: &str = "109876543210987";

pub fn fixture(channel: &str, name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/{channel}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn settings(channel: Channel) -> Settings {
    let v = match channel {
        Channel::Messenger => serde_json::json!({
            "page_id": PAGE_ID, "app_secret": "messenger-app-secret",
            "verify_token": "mv-token", "page_access_token": "EAAG-page-token"}),
        Channel::Instagram => serde_json::json!({
            "account_id": IG_ID, "app_secret": "instagram-app-secret",
            "verify_token": "iv-token", "access_token": "IGQ-access-token"}),
        Channel::Whatsapp => serde_json::json!({
            "phone_number_id": PHONE_NUMBER_ID, "app_secret": "whatsapp-app-secret",
            "verify_token": "wv-token", "access_token": "EAAW-access-token"}),
        Channel::Telegram => serde_json::json!({
            "bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
            "secret_token": "tg_secret-Token_42"}),
        Channel::Api => serde_json::json!({
            "secret": "api-shared-secret", "callback_url": "https://hooks.example.com/switchboard"}),
        Channel::Widget => serde_json::json!({"identity_secret": "widget-identity-secret"}),
    };
    Settings::from_json(channel, v).expect("valid settings")
}

/// The headers the platform would send with `body`.
pub fn signed_headers(settings: &Settings, body: &[u8]) -> Vec<(String, String)> {
    let secret = |field: &str| {
        // The settings' own secret, read back through serde (public_view masks it).
        let v = serde_json::to_value(settings).unwrap();
        v["settings"][field].as_str().unwrap().to_string()
    };
    match settings.channel() {
        Channel::Messenger | Channel::Instagram | Channel::Whatsapp => vec![(
            "X-Hub-Signature-256".into(),
            sign_meta(&secret("app_secret"), body),
        )],
        Channel::Telegram => vec![(
            "X-Telegram-Bot-Api-Secret-Token".into(),
            secret("secret_token"),
        )],
        Channel::Api => vec![
            ("X-Switchboard-Timestamp".into(), NOW_SECS.to_string()),
            (
                "X-Switchboard-Signature".into(),
                sign_api(&secret("secret"), NOW_SECS, body),
            ),
        ],
        // The widget has no webhooks, so nothing signs as one.
        Channel::Widget => vec![],
    }
}

pub fn verify_with(
    settings: &Settings,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<InboundEvent>, Result<VerifyError, ParseError>> {
    let hs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let verified = settings.verify(hs.as_slice(), body, NOW_SECS).map_err(Ok)?;
    settings.normalize(verified).map_err(Err)
}

/// Signs `body` as the platform does, verifies and normalizes it.
pub fn run_body(channel: Channel, body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    let s = settings(channel);
    let headers = signed_headers(&s, body);
    match verify_with(&s, &headers, body) {
        Ok(events) => Ok(events),
        Err(Ok(v)) => panic!("a properly signed body was refused: {v:?}"),
        Err(Err(p)) => Err(p),
    }
}

pub fn run(channel: Channel, name: &str) -> Vec<InboundEvent> {
    let body = fixture(channel.as_str(), name);
    run_body(channel, &body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The single message a fixture yields.
pub fn only_message(channel: Channel, name: &str) -> InboundMessage {
    let events = run(channel, name);
    assert_eq!(events.len(), 1, "{name}: {events:#?}");
    match events.into_iter().next() {
        Some(InboundEvent::Message(m)) => m,
        other => panic!("{name}: expected a message, got {other:?}"),
    }
}

pub fn messages(events: &[InboundEvent]) -> Vec<&InboundMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            InboundEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn receipts(events: &[InboundEvent]) -> Vec<&Receipt> {
    events
        .iter()
        .filter_map(|e| match e {
            InboundEvent::Receipt(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// Every fixture name of a channel.
pub fn fixture_names(channel: &str) -> Vec<String> {
    let dir = format!("{}/tests/fixtures/{channel}", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}
