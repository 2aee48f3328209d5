//! Telegram through the running worker: updates authenticated by
//! `X-Telegram-Bot-Api-Secret-Token`, every documented kind, the contact's
//! names, username and language, exactly once per update, and `sendMessage`
//! checked by the fake Bot API.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_tests::{FakePlatform, Server, ServerOptions};

const BOT_TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
const SECRET_TOKEN: &str = "tg_secret-Token_42";
const CHAT: &str = "123456789";

fn post_update(
    ws: &Workspace,
    secret: Option<&str>,
    body: &[u8],
) -> switchboard_tests::api::Answer {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(s) = secret {
        headers.push(("x-telegram-bot-api-secret-token", s));
    }
    ws.api.post_raw(&ws.webhook_path, &headers, body)
}

fn kinds() -> Vec<Expect> {
    vec![
        expect(
            "text",
            "123456789:101",
            "text",
            "Hello bot, I need help",
            json!({"text": "Hello bot, I need help"}),
        ),
        expect(
            "photo",
            "123456789:102",
            "image",
            "my receipt",
            json!({"attachment": {"media_id": "AgACAgQ-large"}, "caption": "my receipt"}),
        ),
        expect(
            "audio",
            "123456789:103",
            "audio",
            "",
            json!({"attachment": {"media_id": "CQACAgQ-audio", "mime_type": "audio/mpeg", "filename": "song.mp3"}}),
        ),
        expect(
            "voice",
            "123456789:104",
            "audio",
            "",
            json!({"attachment": {"media_id": "AwACAgQ-voice", "mime_type": "audio/ogg"}}),
        ),
        expect(
            "video",
            "123456789:105",
            "video",
            "look",
            json!({"attachment": {"media_id": "BAACAgQ-video", "mime_type": "video/mp4"}, "caption": "look"}),
        ),
        expect(
            "document",
            "123456789:106",
            "file",
            "the contract",
            json!({"attachment": {"media_id": "BQACAgQ-doc", "mime_type": "application/pdf", "filename": "contract.pdf"}, "caption": "the contract"}),
        ),
        expect(
            "sticker",
            "123456789:107",
            "sticker",
            "",
            json!({"attachment": {"media_id": "CAACAgIA-sticker", "mime_type": "image/webp"}}),
        ),
        expect(
            "location",
            "123456789:108",
            "location",
            "",
            json!({"latitude": 51.5007, "longitude": -0.1246}),
        ),
        expect(
            "venue",
            "123456789:109",
            "location",
            "Big Ben, Westminster, London SW1A 0AA",
            json!({"latitude": 51.5007, "longitude": -0.1246, "name": "Big Ben", "address": "Westminster, London SW1A 0AA"}),
        ),
        expect(
            "contact",
            "123456789:110",
            "contacts",
            "Grace Hopper",
            json!({"contacts": [{"name": "Grace Hopper", "phones": ["+447700900123"]}]}),
        ),
        expect(
            "reply_to",
            "123456789:111",
            "text",
            "yes, that one",
            json!({"text": "yes, that one"}),
        )
        .replying_to("123456789:55"),
        expect(
            "edited_message",
            "123456789:101:edit:1718000200",
            "text",
            "Hello bot, I need help with order 812",
            json!({"text": "Hello bot, I need help with order 812"}),
        )
        .replying_to("123456789:101"),
        expect(
            "callback_query",
            "callback:4382bfdwdsb323b2d9",
            "postback",
            "REFUND_812",
            json!({"title": "REFUND_812", "payload": "REFUND_812"}),
        )
        .replying_to("123456789:56"),
        expect(
            "message_reaction",
            "update:815000013",
            "reaction",
            "👍",
            json!({"emoji": "👍", "target_platform_id": "123456789:57"}),
        ),
        expect(
            "message_reaction_removed",
            "update:815000014",
            "reaction",
            "",
            json!({"emoji": "", "target_platform_id": "123456789:57"}),
        ),
        expect(
            "unsupported",
            "123456789:112",
            "unsupported",
            "",
            json!({"platform_type": "message", "raw": {"message_id": 112, "poll": {"question": "Best?"}}}),
        ),
    ]
}

#[test]
fn telegram_kinds_contact_exactly_once_and_send_message() {
    let fake = FakePlatform::start();
    fake.accept_token(BOT_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("TELEGRAM_API_BASE", &fake.base));
    let ws = channel_workspace(
        &server,
        "tg",
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": SECRET_TOKEN}),
    );

    // Missing or wrong secret token: 401. The bot token is no password here.
    let body = fixture("telegram", "text");
    post_update(&ws, None, &body).expect_error(401);
    post_update(&ws, Some("tg_secret-Token_43"), &body).expect_error(401);
    post_update(&ws, Some(BOT_TOKEN), &body).expect_error(401);

    // Telegram has no GET handshake (that is Meta's).
    ws.api
        .get(&format!(
            "{}?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
            ws.webhook_path
        ))
        .expect_error(405);

    let expected = kinds();
    for e in &expected {
        let a = post_update(&ws, Some(SECRET_TOKEN), &fixture("telegram", e.fixture))
            .expect_status(200);
        assert_eq!(
            (a.body["stored"].as_i64(), a.body["duplicates"].as_i64()),
            (Some(1), Some(0)),
            "{}: {}",
            e.fixture,
            a.text
        );
    }
    // The same update delivered again (same update_id): nothing new.
    for name in ["text", "callback_query", "message_reaction"] {
        let a = post_update(&ws, Some(SECRET_TOKEN), &fixture("telegram", name)).expect_status(200);
        assert_eq!(a.body["stored"], 0, "{name}: {}", a.text);
        assert_eq!(a.body["duplicates"], 1, "{name}: {}", a.text);
    }
    // A channel post has no customer: accepted, not stored.
    let post = post_update(
        &ws,
        Some(SECRET_TOKEN),
        &fixture("telegram", "channel_post"),
    )
    .expect_status(200);
    assert_eq!(post.body["stored"], 0, "{}", post.text);
    // Malformed: 400, nothing stored.
    post_update(&ws, Some(SECRET_TOKEN), &fixture("telegram", "malformed")).expect_error(400);
    post_update(&ws, Some(SECRET_TOKEN), &fixture("telegram", "wrong_shape")).expect_error(400);

    let cv = conversation_of(&ws, CHAT);
    check_history(&ws.api.messages(&cv), &expected, "inbound");

    // The contact: first + last name, username, language.
    let list = ws
        .api
        .wait_for_conversations(|l| l.iter().any(|c| c["contact"]["username"] == "ada_l"));
    assert_eq!(list.len(), 1, "{list:?}");
    let contact = &list[0]["contact"];
    assert_eq!(list[0]["channel"], "telegram");
    assert_eq!(contact["external_id"], CHAT);
    assert_eq!(contact["name"], "Ada Lovelace");
    assert_eq!(contact["username"], "ada_l");
    assert_eq!(contact["language"], "en-GB");

    // A reply goes out through sendMessage with the bot token in the path.
    let mut live = live_after(&server, &ws, &cv);
    let sent = reply(&ws, &cv, "Which order is it?");
    assert_eq!(sent["status"], "sent", "{sent}");
    let calls = fake.sends();
    assert_eq!(calls.len(), 1, "sent exactly once");
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].path, format!("/bot{BOT_TOKEN}/sendMessage"));
    let b = calls[0].json();
    assert_eq!(b["chat_id"], 123_456_789_i64);
    assert_eq!(b["text"], "Which order is it?");
    // The platform id is what Telegram's answer names: chat and message id,
    // the same form as a customer's reply_to_message refers to.
    let pid = sent["platform_id"].as_str().unwrap().to_string();
    assert_eq!(pid, format!("{CHAT}:1"));
    let ev = next_of_type(&mut live, "message_status");
    assert_eq!(
        (ev["status"].as_str(), ev["platform_id"].as_str()),
        (Some("sent"), Some(pid.as_str()))
    );

    // The customer answers that very message: reply_to lines up.
    let answer = serde_json::to_vec(&json!({"update_id": 815000100, "message": {
        "message_id": 113, "date": now_ms() / 1000,
        "from": {"id": 123456789, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace", "username": "ada_l", "language_code": "en-GB"},
        "chat": {"id": 123456789, "type": "private", "first_name": "Ada"},
        "text": "Order 812", "reply_to_message": {"message_id": 1, "date": 1, "chat": {"id": 123456789, "type": "private"}, "text": "Which order is it?"}}}))
    .unwrap();
    post_update(&ws, Some(SECRET_TOKEN), &answer).expect_status(200);
    let m = ws.api.messages(&cv).last().cloned().unwrap();
    assert_eq!(
        (m["text"].as_str(), m["reply_to"].as_str()),
        (Some("Order 812"), Some(pid.as_str()))
    );

    // Telegram refuses: failed with its description, not retried.
    fake.force_next(
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
    );
    let refused = reply(&ws, &cv, "refused");
    assert_eq!(refused["status"], "failed", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("chat not found"),
        "{refused}"
    );

    // Telegram is down: pending, then retried and sent.
    fake.force_next(
        502,
        r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#,
    );
    let retried = reply(&ws, &cv, "after the outage");
    assert_eq!(retried["status"], "pending", "{retried}");
    let done = wait_status(&ws, &cv, retried["id"].as_str().unwrap(), "sent");
    assert!(done["platform_id"]
        .as_str()
        .unwrap()
        .starts_with("123456789:"));
    std::thread::sleep(Duration::from_millis(300));
    let calls = fake.sends();
    assert_eq!(
        calls.len(),
        4,
        "one reply, one refusal, one outage and its retry"
    );
    assert_eq!(calls[3].json()["text"], "after the outage");
    assert_eq!(
        message_by_id(&ws, &cv, refused["id"].as_str().unwrap())["status"],
        "failed"
    );
}
