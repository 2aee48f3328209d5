//! Instagram messaging through the running worker: every documented kind
//! signed as Meta signs, routing by the Instagram account id, echoes, read
//! receipts pushed live, and the Graph API send checked by the fake.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_tests::{FakePlatform, Server, ServerOptions};

const ACCOUNT_ID: &str = "17841455555555555";
/// The account the core fixtures are addressed to, replaced by the inbox's.
const FIXTURE_ACCOUNT_ID: &str = "17841400000000001";
const APP_SECRET: &str = "instagram-app-secret";
const ACCESS_TOKEN: &str = "IGQ-instagram-access-token";
const IGSID: &str = "6612345678901234";

fn fx(name: &str) -> Vec<u8> {
    fixture_with("instagram", name, &[(FIXTURE_ACCOUNT_ID, ACCOUNT_ID)])
}

fn cdn(n: u32) -> String {
    format!("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={n}")
}

fn kinds() -> Vec<Expect> {
    vec![
        expect(
            "text",
            "aWdfZAG1faXRlbToxOklH_text",
            "text",
            "Do you ship to Canada?",
            json!({"text": "Do you ship to Canada?"}),
        ),
        expect(
            "image",
            "ig_image_1",
            "image",
            "",
            json!({"attachment": {"url": cdn(1)}}),
        ),
        expect(
            "audio",
            "ig_audio_1",
            "audio",
            "",
            json!({"attachment": {"url": cdn(2)}}),
        ),
        expect(
            "video",
            "ig_video_1",
            "video",
            "",
            json!({"attachment": {"url": cdn(3)}}),
        ),
        expect(
            "file",
            "ig_file_1",
            "file",
            "",
            json!({"attachment": {"url": cdn(4)}}),
        ),
        expect(
            "sticker",
            "ig_sticker_1",
            "sticker",
            "",
            json!({"attachment": {}}),
        ),
        expect(
            "quick_reply",
            "ig_qr_1",
            "quick_reply",
            "Sizes",
            json!({"text": "Sizes", "payload": "SIZES"}),
        ),
        expect(
            "postback",
            "ig_postback_1",
            "postback",
            "Track my order",
            json!({"title": "Track my order", "payload": "TRACK"}),
        ),
        expect(
            "reaction",
            "reaction:ig_out_1:6612345678901234:1718000001009",
            "reaction",
            "❤️",
            json!({"emoji": "❤️", "target_platform_id": "ig_out_1"}),
        ),
        expect(
            "reaction_removed",
            "reaction:ig_out_1:6612345678901234:1718000001010",
            "reaction",
            "",
            json!({"emoji": "", "target_platform_id": "ig_out_1"}),
        ),
        expect(
            "reply_to",
            "ig_reply_1",
            "text",
            "this one please",
            json!({"text": "this one please"}),
        )
        .replying_to("ig_out_1"),
        expect(
            "story_reply",
            "ig_story_reply_1",
            "text",
            "Love this!",
            json!({"text": "Love this!"}),
        ),
        expect(
            "share",
            "ig_share_1",
            "unsupported",
            "",
            json!({"platform_type": "share", "raw": {"type": "share", "payload": {"url": cdn(5)}}}),
        ),
        expect(
            "story_mention",
            "ig_mention_1",
            "unsupported",
            "",
            json!({"platform_type": "story_mention", "raw": {"type": "story_mention"}}),
        ),
        expect(
            "unsupported",
            "ig_unsupported_1",
            "unsupported",
            "",
            json!({"platform_type": "unsupported", "raw": {"mid": "ig_unsupported_1", "is_unsupported": true}}),
        ),
        expect(
            "deleted",
            "ig_text_gone:deleted",
            "unsupported",
            "",
            json!({"platform_type": "message_deleted", "raw": {"mid": "ig_text_gone", "is_deleted": true}}),
        ),
    ]
}

#[test]
fn instagram_kinds_routing_echo_read_receipt_and_graph_send() {
    let fake = FakePlatform::start();
    fake.accept_token(ACCESS_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &fake.base));
    let ws = channel_workspace(
        &server,
        "ig",
        "instagram",
        json!({"account_id": ACCOUNT_ID, "app_secret": APP_SECRET,
               "verify_token": "ig-verify", "access_token": ACCESS_TOKEN}),
    );

    // Meta's subscription handshake with this inbox's verify token.
    let hs = ws.api.get(&format!(
        "{}?hub.mode=subscribe&hub.verify_token=ig-verify&hub.challenge=1158201444",
        ws.webhook_path
    ));
    assert_eq!((hs.status, hs.text.as_str()), (200, "1158201444"));
    ws.api
        .get(&format!(
            "{}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            ws.webhook_path
        ))
        .expect_error(403);

    // Unsigned or signed with another app's secret: 401, nothing stored.
    let body = fx("text");
    ws.api
        .post_raw(&ws.webhook_path, &[], &body)
        .expect_error(401);
    post_meta(&ws, "messenger-app-secret", &body).expect_error(401);
    // Routing: the unmodified fixtures are addressed to another account.
    let foreign = post_meta(&ws, APP_SECRET, &fixture("instagram", "text")).expect_status(200);
    assert_eq!(foreign.body["stored"], 0, "{}", foreign.text);
    let foreign = post_meta(&ws, APP_SECRET, &fx("foreign_account")).expect_status(200);
    assert_eq!(foreign.body["stored"], 0, "{}", foreign.text);
    // A Messenger body is not an Instagram webhook.
    post_meta(&ws, APP_SECRET, &fx("wrong_object")).expect_error(400);
    post_meta(&ws, APP_SECRET, &fx("malformed")).expect_error(400);

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
    for name in ["text", "reaction", "deleted"] {
        let a = post_meta(&ws, APP_SECRET, &fx(name)).expect_status(200);
        assert_eq!(a.body["stored"], 0, "{name}: {}", a.text);
        assert_eq!(a.body["duplicates"], 1, "{name}: {}", a.text);
    }
    let cv = conversation_of(&ws, IGSID);
    check_history(&ws.api.messages(&cv), &expected, "inbound");

    // An echo (sent from the Instagram app) is an outbound message in the
    // customer's conversation.
    let echo = post_meta(&ws, APP_SECRET, &fx("echo")).expect_status(200);
    assert_eq!(echo.body["stored"], 1, "{}", echo.text);
    let last = ws.api.messages(&cv).last().cloned().unwrap();
    expect(
        "echo",
        "ig_echo_1",
        "text",
        "Yes we do!",
        json!({"text": "Yes we do!"}),
    )
    .check(&last, "outbound");

    // A batch with another account's entry: only ours are stored.
    let batch = post_meta(&ws, APP_SECRET, &fx("batch")).expect_status(200);
    assert_eq!(batch.body["stored"], 2, "{}", batch.text);
    let list = ws.api.wait_for_conversations(|l| l.len() == 2);
    assert!(
        list.iter().all(|c| c["contact"]["external_id"] != "1"),
        "another account's message was stored: {list:?}"
    );
    assert!(list.iter().all(|c| c["channel"] == "instagram"));

    // A reply through the Graph API's Instagram send, with the inbox's token.
    let mut live = live_after(&server, &ws, &cv);
    let sent = reply(&ws, &cv, "Yes, we ship to Canada");
    assert_eq!(sent["status"], "sent", "{sent}");
    let mid = sent["platform_id"].as_str().unwrap().to_string();
    assert!(mid.starts_with("m_fake"), "{sent}");
    let calls = fake.requests();
    assert_eq!(calls.len(), 1, "sent exactly once");
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].path, "/v23.0/me/messages");
    assert_eq!(
        calls[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    let b = calls[0].json();
    assert_eq!(b["recipient"]["id"], IGSID);
    assert_eq!(b["message"]["text"], "Yes, we ship to Canada");
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(ev["status"], "sent");

    // Instagram's read receipt names the message it read.
    let read = fixture_with(
        "instagram",
        "read",
        &[(FIXTURE_ACCOUNT_ID, ACCOUNT_ID), ("ig_out_1", &mid)],
    );
    let r = post_meta(&ws, APP_SECRET, &read).expect_status(200);
    assert_eq!(r.body["updated"], 1, "{}", r.text);
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["message_id"].as_str(), ev["status"].as_str()),
        (sent["id"].as_str(), Some("read"))
    );
    assert_eq!(
        message_by_id(&ws, &cv, sent["id"].as_str().unwrap())["status"],
        "read"
    );
    // A read receipt for a mid we never sent changes nothing.
    let r = post_meta(&ws, APP_SECRET, &fx("read")).expect_status(200);
    assert_eq!(r.body["updated"], 0, "{}", r.text);

    // Refused (the user can't be messaged): failed with Graph's words.
    fake.force_next(
        400,
        r#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2534022}}"#,
    );
    let refused = reply(&ws, &cv, "refused");
    assert_eq!(refused["status"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("outside of allowed window"),
        "{refused}"
    );
    // Graph is down: pending, retried, sent.
    fake.force_next(
        500,
        r#"{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true}}"#,
    );
    let retried = reply(&ws, &cv, "after the outage");
    assert_eq!(retried["status"], "pending", "{retried}");
    let done = wait_status(&ws, &cv, retried["id"].as_str().unwrap(), "sent");
    assert!(done["platform_id"].as_str().unwrap().starts_with("m_fake"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fake.requests().len(),
        4,
        "one reply, one refusal, one outage and its retry"
    );
}
