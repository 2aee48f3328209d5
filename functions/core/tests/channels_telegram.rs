//! Telegram: Update objects with the secret-token header, and sendMessage.
mod common;

use common::*;
use switchboard_core::channels::{Channel, SendContext};
use switchboard_core::model::{Attachment, Contact, Content, Direction, SharedContact};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::verify::VerifyError;

const CH: Channel = Channel::Telegram;
const CHAT: &str = "123456789";

fn file(id: &str, mime: Option<&str>, name: Option<&str>) -> Attachment {
    Attachment {
        url: None,
        media_id: Some(id.into()),
        mime_type: mime.map(Into::into),
        filename: name.map(Into::into),
        ..Attachment::default()
    }
}

#[test]
fn text_with_contact_details() {
    let m = only_message(CH, "text");
    assert_eq!(m.platform_id, "123456789:101");
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.timestamp_ms, 1_718_000_100_000);
    assert_eq!(
        m.contact,
        Contact {
            external_id: CHAT.into(),
            name: Some("Ada Lovelace".into()),
            username: Some("ada_l".into()),
            language: Some("en-GB".into()),
            phone: None,
            email: None,
            notes: None,
        }
    );
    assert_eq!(
        m.content,
        Content::Text {
            text: "Hello bot, I need help".into()
        }
    );
}

#[test]
fn redelivered_update_yields_the_same_platform_id() {
    assert_eq!(run(CH, "text"), run(CH, "text"));
}

#[test]
fn media_kinds() {
    assert_eq!(
        only_message(CH, "photo").content,
        Content::Image {
            attachment: file("AgACAgQ-large", None, None),
            caption: Some("my receipt".into())
        }
    );
    assert_eq!(
        only_message(CH, "audio").content,
        Content::Audio {
            attachment: file("CQACAgQ-audio", Some("audio/mpeg"), Some("song.mp3"))
        }
    );
    assert_eq!(
        only_message(CH, "voice").content,
        Content::Audio {
            attachment: file("AwACAgQ-voice", Some("audio/ogg"), None)
        }
    );
    assert_eq!(
        only_message(CH, "video").content,
        Content::Video {
            attachment: file("BAACAgQ-video", Some("video/mp4"), Some("clip.mp4")),
            caption: Some("look".into())
        }
    );
    assert_eq!(
        only_message(CH, "document").content,
        Content::File {
            attachment: file("BQACAgQ-doc", Some("application/pdf"), Some("contract.pdf")),
            caption: Some("the contract".into())
        }
    );
    assert_eq!(
        only_message(CH, "sticker").content,
        Content::Sticker {
            attachment: file("CAACAgIA-sticker", Some("image/webp"), None)
        }
    );
}

#[test]
fn location_venue_contact() {
    assert_eq!(
        only_message(CH, "location").content,
        Content::Location {
            latitude: 51.5007,
            longitude: -0.1246,
            name: None,
            address: None
        }
    );
    assert_eq!(
        only_message(CH, "venue").content,
        Content::Location {
            latitude: 51.5007,
            longitude: -0.1246,
            name: Some("Big Ben".into()),
            address: Some("Westminster, London SW1A 0AA".into())
        }
    );
    assert_eq!(
        only_message(CH, "contact").content,
        Content::Contacts {
            contacts: vec![SharedContact {
                name: "Grace Hopper".into(),
                phones: vec!["+447700900123".into()],
                emails: vec![]
            }]
        }
    );
}

#[test]
fn reply_to_names_the_replied_message() {
    let m = only_message(CH, "reply_to");
    assert_eq!(m.reply_to.as_deref(), Some("123456789:55"));
}

#[test]
fn callback_query_is_a_postback() {
    let m = only_message(CH, "callback_query");
    assert_eq!(m.platform_id, "callback:4382bfdwdsb323b2d9");
    assert_eq!(m.contact.external_id, CHAT);
    assert_eq!(m.reply_to.as_deref(), Some("123456789:56"));
    assert_eq!(
        m.content,
        Content::Postback {
            title: "REFUND_812".into(),
            payload: "REFUND_812".into()
        }
    );
}

#[test]
fn reactions() {
    let r = only_message(CH, "message_reaction");
    assert_eq!(r.platform_id, "update:815000013");
    assert_eq!(
        r.content,
        Content::Reaction {
            emoji: "👍".into(),
            target_platform_id: "123456789:57".into()
        }
    );
    assert_eq!(
        only_message(CH, "message_reaction_removed").content,
        Content::Reaction {
            emoji: String::new(),
            target_platform_id: "123456789:57".into()
        }
    );
}

#[test]
fn edits_are_new_messages_replying_to_the_original() {
    let m = only_message(CH, "edited_message");
    assert_eq!(m.platform_id, "123456789:101:edit:1718000200");
    assert_eq!(m.reply_to.as_deref(), Some("123456789:101"));
    assert_eq!(m.timestamp_ms, 1_718_000_200_000);
    assert_eq!(
        m.content,
        Content::Text {
            text: "Hello bot, I need help with order 812".into()
        }
    );
}

#[test]
fn polls_are_unsupported_channel_posts_ignored_groups_by_chat() {
    match only_message(CH, "unsupported").content {
        Content::Unsupported { platform_type, raw } => {
            assert_eq!(platform_type, "message");
            assert_eq!(raw["poll"]["question"], "Best?");
        }
        other => panic!("{other:?}"),
    }
    assert!(run(CH, "channel_post").is_empty());
    let g = only_message(CH, "group_text");
    assert_eq!(g.contact.external_id, "-1009876543210");
    assert_eq!(g.platform_id, "-1009876543210:300");
}

#[test]
fn errors() {
    for name in ["malformed", "wrong_shape"] {
        assert!(run_body(CH, &fixture("telegram", name)).is_err(), "{name}");
    }
    let s = settings(CH);
    let body = fixture("telegram", "text");
    let wrong = vec![(
        "X-Telegram-Bot-Api-Secret-Token".to_string(),
        "tg_secret-Token_43".to_string(),
    )];
    assert_eq!(
        verify_with(&s, &wrong, &body).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_with(&s, &[], &body).unwrap_err(),
        Ok(VerifyError::MissingSignature)
    );
}

#[test]
fn settings_are_masked_and_checked() {
    let s = common::settings(CH);
    let v = s.public_view();
    assert_eq!(v["bot_token"], "…ew11");
    assert!(!v.to_string().contains("ABC-DEF"));
    assert_eq!(s.verify_token(), None);
    assert!(switchboard_core::channels::Settings::from_json(
        CH,
        serde_json::json!({"bot_token": "1:x", "secret_token": "has space"})
    )
    .is_err());
}

#[test]
fn send_message() {
    let s = common::settings(CH);
    let ctx = SendContext {
        graph_base: "",
        telegram_base: "http://fake-telegram/",
        now_ms: 0,
        last_inbound_ms: None,
        message_key: None,
    };
    let req = s
        .build_send(
            &ctx,
            &Contact::new(CHAT),
            &Content::Text {
                text: "Refund issued".into(),
            },
            Some("123456789:56"),
        )
        .unwrap();
    assert_eq!(
        req.url,
        "http://fake-telegram/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage"
    );
    let b: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(b["chat_id"], 123456789);
    assert_eq!(b["text"], "Refund issued");
    assert_eq!(b["reply_parameters"]["message_id"], 56);
    let plain = s
        .build_send(
            &ctx,
            &Contact::new(CHAT),
            &Content::Text { text: "x".into() },
            None,
        )
        .unwrap();
    let b: serde_json::Value = serde_json::from_slice(&plain.body).unwrap();
    assert!(b.get("reply_parameters").is_none());
    assert!(s
        .build_send(
            &ctx,
            &Contact::new(CHAT),
            &Content::Note { text: "x".into() },
            None
        )
        .is_err());
}

#[test]
fn classify_answers() {
    let s = common::settings(CH);
    assert_eq!(
        s.classify(
            200,
            br#"{"ok":true,"result":{"message_id":77,"chat":{"id":123456789,"type":"private"},"date":1718000500,"text":"Refund issued"}}"#
        ),
        SendOutcome::Sent {
            platform_id: "123456789:77".into()
        }
    );
    match s.classify(
        403,
        br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
    ) {
        SendOutcome::Failed { error } => assert!(error.contains("bot was blocked"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.classify(429, br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#),
        SendOutcome::Retry { .. }
    ));
    assert!(matches!(
        s.classify(200, br#"{"ok":false}"#),
        SendOutcome::Failed { .. }
    ));
}

#[test]
fn every_fixture_is_exercised_without_panicking() {
    for name in fixture_names("telegram") {
        let _ = run_body(CH, &fixture("telegram", &name));
    }
}
