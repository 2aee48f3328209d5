//! WhatsApp Cloud API through the running worker: every documented inbound
//! kind signed as Meta signs, the contact's profile name, routing by
//! `phone_number_id`, exactly once, the 24-hour window, the Cloud API send
//! checked by the fake platform, and statuses pushed live.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_tests::{FakePlatform, Server, ServerOptions};

const PHONE_NUMBER_ID: &str = "555000111222333";
/// The id the core fixtures are addressed to, replaced by the inbox's.
const FIXTURE_PHONE_NUMBER_ID: &str = "109876543210987";
const APP_SECRET: &str = "whatsapp-app-secret";
const ACCESS_TOKEN: &str = "EAAW-whatsapp-access-token";
const WA_ID: &str = "16505551234";

fn fx(name: &str) -> Vec<u8> {
    fixture_with(
        "whatsapp",
        name,
        &[(FIXTURE_PHONE_NUMBER_ID, PHONE_NUMBER_ID)],
    )
}

fn kinds() -> Vec<Expect> {
    vec![
        expect(
            "text",
            "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            "text",
            "Hi, I need help with my booking",
            json!({"text": "Hi, I need help with my booking"}),
        ),
        expect(
            "image",
            "wamid.image1",
            "image",
            "The broken part",
            json!({"attachment": {"media_id": "1003383421387256", "mime_type": "image/jpeg"}, "caption": "The broken part"}),
        ),
        expect(
            "audio",
            "wamid.audio1",
            "audio",
            "",
            json!({"attachment": {"media_id": "1003383421387257", "mime_type": "audio/ogg; codecs=opus"}}),
        ),
        expect(
            "video",
            "wamid.video1",
            "video",
            "see",
            json!({"attachment": {"media_id": "1003383421387258", "mime_type": "video/mp4"}, "caption": "see"}),
        ),
        expect(
            "document",
            "wamid.document1",
            "file",
            "Invoice",
            json!({"attachment": {"media_id": "1003383421387259", "mime_type": "application/pdf", "filename": "invoice-812.pdf"}, "caption": "Invoice"}),
        ),
        expect(
            "sticker",
            "wamid.sticker1",
            "sticker",
            "",
            json!({"attachment": {"media_id": "1003383421387260", "mime_type": "image/webp"}}),
        ),
        expect(
            "location",
            "wamid.location1",
            "location",
            "Main office, 1 Hacker Way, Menlo Park, CA 94025",
            json!({"latitude": 37.483307, "longitude": -122.148981, "name": "Main office", "address": "1 Hacker Way, Menlo Park, CA 94025"}),
        ),
        expect(
            "contacts",
            "wamid.contacts1",
            "contacts",
            "Barbara J. Johnson",
            json!({"contacts": [{"name": "Barbara J. Johnson", "phones": ["+1 (940) 555-1234", "+1 (650) 555-1234"], "emails": ["barbara@example.com"]}]}),
        ),
        expect(
            "reaction",
            "wamid.reaction1",
            "reaction",
            "👍",
            json!({"emoji": "👍", "target_platform_id": "wamid.out1"}),
        ),
        expect(
            "reaction_removed",
            "wamid.reaction2",
            "reaction",
            "",
            json!({"emoji": "", "target_platform_id": "wamid.out1"}),
        ),
        expect(
            "button_reply",
            "wamid.button1",
            "button_reply",
            "Change",
            json!({"text": "Change", "payload": "change-button"}),
        )
        .replying_to("wamid.out2"),
        expect(
            "list_reply",
            "wamid.list1",
            "button_reply",
            "Express Shipping",
            json!({"text": "Express Shipping", "payload": "priority_express"}),
        )
        .replying_to("wamid.out3"),
        expect(
            "button",
            "wamid.legacybutton1",
            "button_reply",
            "Stop promotions",
            json!({"text": "Stop promotions", "payload": "STOP_PROMOS"}),
        )
        .replying_to("wamid.template1"),
        expect(
            "reply_to",
            "wamid.reply1",
            "text",
            "Yes, tomorrow works",
            json!({"text": "Yes, tomorrow works"}),
        )
        .replying_to("wamid.out4"),
        expect(
            "unsupported",
            "wamid.unsupported1",
            "unsupported",
            "",
            json!({"platform_type": "unsupported", "raw": {"id": "wamid.unsupported1", "type": "unsupported", "errors": [{"code": 131051}]}}),
        ),
        expect(
            "order",
            "wamid.order1",
            "unsupported",
            "",
            json!({"platform_type": "order", "raw": {"type": "order", "order": {"catalog_id": "123", "text": "please"}}}),
        ),
    ]
}

/// A text message from `WA_ID` with a fresh id, written `secs` (unix) ago.
fn text_at(id: &str, unix_secs: i64, body: &str) -> Vec<u8> {
    fixture_with(
        "whatsapp",
        "text",
        &[
            (FIXTURE_PHONE_NUMBER_ID, PHONE_NUMBER_ID),
            (
                "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                id,
            ),
            ("\"1718000002\"", &format!("\"{unix_secs}\"")),
            ("Hi, I need help with my booking", body),
        ],
    )
}

/// A `statuses[]` webhook (from a core fixture) about `wamid`.
fn status(fixture_name: &str, fixture_wamid: &str, wamid: &str) -> Vec<u8> {
    fixture_with(
        "whatsapp",
        fixture_name,
        &[
            (FIXTURE_PHONE_NUMBER_ID, PHONE_NUMBER_ID),
            (fixture_wamid, wamid),
        ],
    )
}

#[test]
fn whatsapp_kinds_contacts_window_outbound_and_statuses() {
    let fake = FakePlatform::start();
    fake.accept_token(ACCESS_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &fake.base));
    let ws = channel_workspace(
        &server,
        "wa",
        "whatsapp",
        json!({"phone_number_id": PHONE_NUMBER_ID, "app_secret": APP_SECRET,
               "verify_token": "wa-verify", "access_token": ACCESS_TOKEN}),
    );

    // Unsigned, wrongly signed, or signed over other bytes: 401.
    let body = fx("text");
    ws.api
        .post_raw(&ws.webhook_path, &[], &body)
        .expect_error(401);
    post_meta(&ws, "not-the-app-secret", &body).expect_error(401);
    let sig = switchboard_tests::sign::meta(APP_SECRET, &fx("image"));
    ws.api
        .post_raw(&ws.webhook_path, &[("x-hub-signature-256", &sig)], &body)
        .expect_error(401);

    // Every kind, each signed as Meta signs it: stored once.
    let expected = kinds();
    for e in &expected {
        let a = post_meta(&ws, APP_SECRET, &fx(e.fixture)).expect_status(200);
        assert_eq!(
            (a.body["stored"].as_i64(), a.body["duplicates"].as_i64()),
            (Some(1), Some(0)),
            "{}: {}",
            e.fixture,
            a.text
        );
    }
    // Redelivered: 200, nothing new.
    let again = post_meta(&ws, APP_SECRET, &fx("text")).expect_status(200);
    assert_eq!(again.body["stored"], 0, "{}", again.text);
    assert_eq!(again.body["duplicates"], 1, "{}", again.text);

    let cv = conversation_of(&ws, WA_ID);
    check_history(&ws.api.messages(&cv), &expected, "inbound");

    // The profile name and number are on the conversation's contact.
    let list = ws
        .api
        .wait_for_conversations(|l| l.iter().any(|c| c["contact"]["name"] == "Sheena Nelson"));
    let c = list.iter().find(|c| c["id"] == cv.as_str()).unwrap();
    assert_eq!(c["channel"], "whatsapp");
    assert_eq!(c["contact"]["external_id"], WA_ID);
    assert_eq!(c["contact"]["phone"], WA_ID);
    assert_eq!(c["contact"]["name"], "Sheena Nelson");

    // Routing: another phone number's messages are not ours.
    let foreign = post_meta(&ws, APP_SECRET, &fx("foreign_phone_number")).expect_status(200);
    assert_eq!(foreign.body["stored"], 0, "{}", foreign.text);
    // A batch: two senders, a foreign phone number's change in between.
    let batch = post_meta(&ws, APP_SECRET, &fx("batch")).expect_status(200);
    assert_eq!(batch.body["stored"], 3, "{}", batch.text);
    let list = ws.api.wait_for_conversations(|l| l.len() == 2);
    assert!(
        list.iter()
            .all(|c| c["contact"]["external_id"] != "15550000001"),
        "a foreign phone number's message was stored: {list:?}"
    );
    let kai = list
        .iter()
        .find(|c| c["contact"]["external_id"] == "447700900123")
        .expect("Kai's conversation");
    assert_eq!(kai["contact"]["name"], "Kai");
    let history = ws.api.messages(&cv);
    assert_eq!(history.len(), expected.len() + 2);
    assert!(history.iter().all(|m| m["platform_id"] != "wamid.foreign"));
    let tail: Vec<&str> = history[expected.len()..]
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(tail, ["one", "three"]);

    // The customer last wrote (platform time) in 2024: the 24-hour window is
    // closed, so a free-form reply is refused up front, stored nowhere and
    // sent nowhere.
    let closed = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "too late"}),
        )
        .expect_error(422);
    assert!(
        closed.body["error"].as_str().unwrap().contains("24-hour"),
        "{}",
        closed.text
    );
    // …and a customer message written 25 hours ago does not reopen it.
    let stale = post_meta(
        &ws,
        APP_SECRET,
        &text_at("wamid.stale1", now_ms() / 1000 - 25 * 3600, "yesterday"),
    )
    .expect_status(200);
    assert_eq!(stale.body["stored"], 1);
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"text": "still too late"}),
        )
        .expect_error(422);
    assert_eq!(
        ws.api.messages(&cv).len(),
        expected.len() + 3,
        "a refused reply was stored"
    );
    assert!(fake.sends().is_empty(), "a refused reply was sent");

    // A fresh customer message opens the window: the reply goes out.
    let fresh = post_meta(
        &ws,
        APP_SECRET,
        &text_at("wamid.fresh1", now_ms() / 1000 - 60, "are you there?"),
    )
    .expect_status(200);
    assert_eq!(fresh.body["stored"], 1);
    let mut live = live_after(&server, &ws, &cv);
    let sent = reply(&ws, &cv, "Yes, how can I help?");
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(sent["direction"], "outbound");
    let wamid = sent["platform_id"].as_str().unwrap().to_string();
    assert!(wamid.starts_with("wamid.fake"), "{sent}");
    let calls = fake.sends();
    assert_eq!(calls.len(), 1, "sent exactly once");
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, format!("/v23.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let b = call.json();
    assert_eq!(b["messaging_product"], "whatsapp");
    assert_eq!(b["to"], WA_ID);
    assert_eq!(b["type"], "text");
    assert_eq!(b["text"]["body"], "Yes, how can I help?");
    let created = next_of_type(&mut live, "message_created");
    assert_eq!(created["message"]["id"], sent["id"]);
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["status"].as_str(), ev["message_id"].as_str()),
        (Some("sent"), sent["id"].as_str())
    );

    // Statuses for the wamid the platform returned: delivered, then read,
    // in the history and pushed live.
    let id = sent["id"].as_str().unwrap();
    let d = post_meta(
        &ws,
        APP_SECRET,
        &status("status_delivered", "wamid.out1", &wamid),
    )
    .expect_status(200);
    assert_eq!(d.body["updated"], 1, "{}", d.text);
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["message_id"].as_str(), ev["status"].as_str()),
        (Some(id), Some("delivered"))
    );
    assert_eq!(message_by_id(&ws, &cv, id)["status"], "delivered");
    let r = post_meta(
        &ws,
        APP_SECRET,
        &status("status_read", "wamid.out1", &wamid),
    )
    .expect_status(200);
    assert_eq!(r.body["updated"], 1, "{}", r.text);
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["message_id"].as_str(), ev["status"].as_str()),
        (Some(id), Some("read"))
    );
    assert_eq!(message_by_id(&ws, &cv, id)["status"], "read");
    // A late "delivered" never undoes "read".
    let late = post_meta(
        &ws,
        APP_SECRET,
        &status("status_delivered", "wamid.out1", &wamid),
    )
    .expect_status(200);
    assert_eq!(late.body["updated"], 0, "{}", late.text);
    assert_eq!(message_by_id(&ws, &cv, id)["status"], "read");
    // A status for another phone number's message changes nothing.
    let other = fixture_with("whatsapp", "status_failed", &[("wamid.out5", &wamid)]);
    let o = post_meta(&ws, APP_SECRET, &other).expect_status(200);
    assert_eq!(o.body["updated"], 0, "{}", o.text);

    // A second reply fails after it was sent: the platform's error is shown.
    let second = reply(&ws, &cv, "Here is the link");
    assert_eq!(second["status"], "sent", "{second}");
    let wamid2 = second["platform_id"].as_str().unwrap().to_string();
    assert_ne!(wamid2, wamid);
    let id2 = second["id"].as_str().unwrap();
    let f = post_meta(
        &ws,
        APP_SECRET,
        &status("status_failed", "wamid.out5", &wamid2),
    )
    .expect_status(200);
    assert_eq!(f.body["updated"], 1, "{}", f.text);
    let ev = loop {
        let ev = next_of_type(&mut live, "message_status");
        if ev["message_id"] == id2 && ev["status"] == "failed" {
            break ev;
        }
    };
    let error = ev["error"].as_str().unwrap();
    assert!(
        error.contains("Re-engagement message") && error.contains("131047"),
        "{ev}"
    );
    let failed = message_by_id(&ws, &cv, id2);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"], error);
    assert_eq!(message_by_id(&ws, &cv, id)["status"], "read");

    // The platform refuses: failed with its reason, not retried.
    fake.force_next(
        400,
        r#"{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026}}"#,
    );
    let refused = reply(&ws, &cv, "refused");
    assert_eq!(refused["status"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("Message undeliverable"),
        "{refused}"
    );

    // Rate-limited: pending, then retried by the outbox and sent.
    fake.force_next(
        429,
        r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429}}"#,
    );
    let retried = reply(&ws, &cv, "after the rate limit");
    assert_eq!(retried["status"], "pending", "{retried}");
    let done = wait_status(&ws, &cv, retried["id"].as_str().unwrap(), "sent");
    assert!(done["platform_id"]
        .as_str()
        .unwrap()
        .starts_with("wamid.fake"));
    std::thread::sleep(Duration::from_millis(300));
    let calls = fake.sends();
    assert_eq!(
        calls.len(),
        5,
        "two replies, one refusal, one rate limit and its retry"
    );
    assert_eq!(calls[4].json()["text"]["body"], "after the rate limit");
    assert_eq!(
        message_by_id(&ws, &cv, refused["id"].as_str().unwrap())["status"],
        "failed"
    );
}
