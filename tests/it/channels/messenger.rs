//! Messenger kinds, echoes and receipts through the running worker (the
//! basics, signatures and batches are in `webhooks.rs` and `outbound.rs`).

use crate::common::*;
use serde_json::json;
use switchboard_tests::{FakePlatform, Server, ServerOptions};

const PAGE: &str = "106000000000777";
/// The page the core fixtures are addressed to, replaced by the inbox's.
const FIXTURE_PAGE: &str = "106123456789012";
const PSID: &str = "5512345678901234";

fn fx(name: &str) -> Vec<u8> {
    fixture_with("messenger", name, &[(FIXTURE_PAGE, PAGE)])
}

fn kinds() -> Vec<Expect> {
    vec![
        expect(
            "text",
            "m_text_1",
            "text",
            "Hello, is my order shipped?",
            json!({"text": "Hello, is my order shipped?"}),
        ),
        // Meta signs the \u-escaped bytes it sends: the signature holds and
        // the text is decoded.
        expect(
            "text_escaped",
            "m_text_2",
            "text",
            "café 😀 <b>",
            json!({"text": "café 😀 <b>"}),
        ),
        expect(
            "image",
            "m_image_1",
            "image",
            "",
            json!({"attachment": {"url": "https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oh=abc"}}),
        ),
        expect(
            "audio",
            "m_audio_1",
            "audio",
            "",
            json!({"attachment": {"url": "https://cdn.fbsbx.com/v/t59/audioclip.mp4"}}),
        ),
        expect(
            "video",
            "m_video_1",
            "video",
            "",
            json!({"attachment": {"url": "https://video.xx.fbcdn.net/v/t42/clip.mp4"}}),
        ),
        expect(
            "file",
            "m_file_1",
            "file",
            "",
            json!({"attachment": {"url": "https://cdn.fbsbx.com/v/t59/invoice.pdf"}}),
        ),
        expect(
            "sticker",
            "m_sticker_1",
            "sticker",
            "",
            json!({"attachment": {"url": "https://scontent.xx.fbcdn.net/v/t39/369239263222822.png"}}),
        ),
        expect(
            "location",
            "m_location_1",
            "location",
            "Pinned Location",
            json!({"latitude": 48.8584, "longitude": 2.2945, "name": "Pinned Location"}),
        ),
        expect(
            "quick_reply",
            "m_qr_1",
            "quick_reply",
            "Red",
            json!({"text": "Red", "payload": "COLOR_RED"}),
        ),
        expect(
            "postback",
            "m_postback_1",
            "postback",
            "Talk to an agent",
            json!({"title": "Talk to an agent", "payload": "AGENT"}),
        ),
        expect(
            "postback_legacy",
            "postback:5512345678901234:1718000000013",
            "postback",
            "Get Started",
            json!({"title": "Get Started", "payload": "GET_STARTED"}),
        ),
        expect(
            "reaction",
            "reaction:m_out_7:5512345678901234:1718000000014",
            "reaction",
            "❤️",
            json!({"emoji": "❤️", "target_platform_id": "m_out_7"}),
        ),
        expect(
            "reaction_removed",
            "reaction:m_out_7:5512345678901234:1718000000015",
            "reaction",
            "",
            json!({"emoji": "", "target_platform_id": "m_out_7"}),
        ),
        expect(
            "reply_to",
            "m_reply_1",
            "text",
            "Yes, that one",
            json!({"text": "Yes, that one"}),
        )
        .replying_to("m_earlier_9"),
        expect(
            "unsupported",
            "m_fallback_1",
            "unsupported",
            "",
            json!({"platform_type": "fallback", "raw": {"type": "fallback", "title": "Shared link"}}),
        ),
        expect(
            "unsupported_event",
            "referral:5512345678901234:1718000000020",
            "unsupported",
            "",
            json!({"platform_type": "referral", "raw": {"referral": {"ref": "summer-ad", "source": "ADS"}}}),
        ),
    ]
}

#[test]
fn messenger_kinds_echo_and_delivery_read_receipts() {
    let fake = FakePlatform::start();
    fake.accept_token(PAGE_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &fake.base));
    let ws = channel_workspace(
        &server,
        "msgr",
        "messenger",
        json!({"page_id": PAGE, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": PAGE_TOKEN}),
    );

    let mut expected = kinds();
    for e in &expected {
        let a = post_meta(&ws, APP_SECRET, &fx(e.fixture)).expect_status(200);
        assert_eq!(a.body["stored"], 1, "{}: {}", e.fixture, a.text);
    }
    // Two attachments in one message: two messages, ids mid and mid#1.
    let multi = post_meta(&ws, APP_SECRET, &fx("multi_attachment")).expect_status(200);
    assert_eq!(multi.body["stored"], 2, "{}", multi.text);
    expected.push(expect(
        "multi_attachment",
        "m_multi_1",
        "image",
        "",
        json!({"attachment": {"url": "https://scontent.xx.fbcdn.net/a.jpg"}}),
    ));
    expected.push(expect(
        "multi_attachment",
        "m_multi_1#1",
        "image",
        "",
        json!({"attachment": {"url": "https://scontent.xx.fbcdn.net/b.jpg"}}),
    ));
    // Redelivered, including the derived ids: nothing new.
    for name in [
        "multi_attachment",
        "postback_legacy",
        "reaction",
        "unsupported_event",
    ] {
        let a = post_meta(&ws, APP_SECRET, &fx(name)).expect_status(200);
        assert_eq!(a.body["stored"], 0, "{name}: {}", a.text);
    }
    // Another page's entry is not ours; a sender-less event is refused.
    let foreign = post_meta(&ws, APP_SECRET, &fx("foreign_page")).expect_status(200);
    assert_eq!(foreign.body["stored"], 0, "{}", foreign.text);
    post_meta(&ws, APP_SECRET, &fx("wrong_shape")).expect_error(400);

    let cv = conversation_of(&ws, PSID);
    let history = ws.api.messages(&cv);
    check_history(&history, &expected, "inbound");

    // An echo (the page wrote from the Page inbox) is an outbound message.
    let echo = post_meta(&ws, APP_SECRET, &fx("echo")).expect_status(200);
    assert_eq!(echo.body["stored"], 1, "{}", echo.text);
    let last = ws.api.messages(&cv).last().cloned().unwrap();
    expect(
        "echo",
        "m_echo_1",
        "text",
        "Thanks, we are on it",
        json!({"text": "Thanks, we are on it"}),
    )
    .check(&last, "outbound");
    assert!(last["sender_id"].is_null(), "an echo has no agent: {last}");

    // Two replies through the Graph API.
    let mut live = live_after(&server, &ws, &cv);
    let first = reply(&ws, &cv, "first reply");
    let second = reply(&ws, &cv, "second reply");
    assert_eq!(
        (first["status"].as_str(), second["status"].as_str()),
        (Some("sent"), Some("sent"))
    );
    let (id1, id2) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let mid1 = first["platform_id"].as_str().unwrap();
    assert_eq!(fake.requests().len(), 2);
    // Meta echoes the page's own sends too, with the mid the send returned:
    // that is the reply already stored, not a new message.
    let own_echo = fixture_with(
        "messenger",
        "echo",
        &[
            (FIXTURE_PAGE, PAGE),
            ("\"m_echo_1\"", &format!("\"{mid1}\"")),
            ("Thanks, we are on it", "first reply"),
        ],
    );
    let a = post_meta(&ws, APP_SECRET, &own_echo).expect_status(200);
    assert_eq!(
        (a.body["stored"].as_i64(), a.body["duplicates"].as_i64()),
        (Some(0), Some(1)),
        "{}",
        a.text
    );
    assert_eq!(
        ws.api.messages(&cv).len(),
        expected.len() + 3,
        "the echo of our own reply was stored again"
    );

    // An old read watermark (the fixture's, from 2024) covers neither.
    let stale = post_meta(&ws, APP_SECRET, &fx("read")).expect_status(200);
    assert_eq!(stale.body["updated"], 0, "{}", stale.text);

    // Delivery by mid: only the first moves; the old watermark beside it
    // moves nothing. The echo, already sent by the page, is not touched.
    let delivery = fixture_with(
        "messenger",
        "delivery",
        &[
            (FIXTURE_PAGE, PAGE),
            ("\"m_out_7\"", &format!("\"{mid1}\"")),
        ],
    );
    let d = post_meta(&ws, APP_SECRET, &delivery).expect_status(200);
    assert_eq!(d.body["updated"], 1, "{}", d.text);
    // (after the replies' own "sent" events)
    let mut ev = next_of_type(&mut live, "message_status");
    while ev["status"] == "sent" {
        ev = next_of_type(&mut live, "message_status");
    }
    assert_eq!(
        (ev["message_id"].as_str(), ev["status"].as_str()),
        (Some(id1), Some("delivered"))
    );
    assert_eq!(message_by_id(&ws, &cv, id1)["status"], "delivered");
    assert_eq!(message_by_id(&ws, &cv, id2)["status"], "sent");

    // A read watermark of now covers every outbound message sent so far:
    // the echo and both replies, read, pushed live in order.
    let echo_id = last["id"].as_str().unwrap();
    let watermark = now_ms() + 1_000;
    let read = fixture_with(
        "messenger",
        "read",
        &[
            (FIXTURE_PAGE, PAGE),
            ("1718000000010", &watermark.to_string()),
        ],
    );
    let r = post_meta(&ws, APP_SECRET, &read).expect_status(200);
    assert_eq!(r.body["updated"], 3, "{}", r.text);
    for id in [echo_id, id1, id2] {
        let ev = next_of_type(&mut live, "message_status");
        assert_eq!(
            (ev["message_id"].as_str(), ev["status"].as_str()),
            (Some(id), Some("read"))
        );
        assert_eq!(message_by_id(&ws, &cv, id)["status"], "read");
    }
    // Read again: nothing moves back or twice.
    let r = post_meta(&ws, APP_SECRET, &read).expect_status(200);
    assert_eq!(r.body["updated"], 0, "{}", r.text);
    let d = post_meta(&ws, APP_SECRET, &delivery).expect_status(200);
    assert_eq!(d.body["updated"], 0, "{}", d.text);
    assert_eq!(message_by_id(&ws, &cv, id1)["status"], "read");
}
