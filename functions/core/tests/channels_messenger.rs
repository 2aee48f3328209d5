//! Messenger: every documented webhook kind, signed as Meta signs, verified
//! and normalized; and the Graph API send.
mod common;

use common::*;
use switchboard_core::channels::{Channel, SendContext};
use switchboard_core::inbound::{InboundEvent, ReceiptTarget};
use switchboard_core::model::{Attachment, Content, Direction, MessageStatus};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::verify::VerifyError;

const CH: Channel = Channel::Messenger;
const PSID: &str = "5512345678901234";

fn url_attachment(url: &str) -> Attachment {
    Attachment {
        url: Some(url.into()),
        ..Attachment::default()
    }
}

#[test]
fn text() {
    let m = only_message(CH, "text");
    assert_eq!(m.platform_id, "m_text_1");
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.contact.external_id, PSID);
    assert_eq!(m.timestamp_ms, 1_718_000_000_001);
    assert_eq!(m.reply_to, None);
    assert_eq!(
        m.content,
        Content::Text {
            text: "Hello, is my order shipped?".into()
        }
    );
}

#[test]
fn escaped_body_is_verified_on_its_raw_bytes() {
    let body = fixture("messenger", "text_escaped");
    assert!(std::str::from_utf8(&body).unwrap().contains("\\u00e9"));
    let m = only_message(CH, "text_escaped");
    assert_eq!(
        m.content,
        Content::Text {
            text: "café 😀 <b>".into()
        }
    );
    // Re-serializing changes the bytes, so the original signature no longer fits.
    let s = settings(CH);
    let headers = signed_headers(&s, &body);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let reserialized = serde_json::to_vec(&v).unwrap();
    assert_ne!(reserialized, body);
    assert_eq!(
        verify_with(&s, &headers, &reserialized).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
}

#[test]
fn media_kinds() {
    let cases = [
        ("image", "m_image_1"),
        ("audio", "m_audio_1"),
        ("video", "m_video_1"),
        ("file", "m_file_1"),
        ("sticker", "m_sticker_1"),
    ];
    for (name, mid) in cases {
        let m = only_message(CH, name);
        assert_eq!(m.platform_id, mid);
        assert_eq!(m.content.kind(), name, "{name}");
    }
    assert_eq!(
        only_message(CH, "image").content,
        Content::Image {
            attachment: url_attachment("https://scontent.xx.fbcdn.net/v/t1/photo.jpg?oh=abc"),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "audio").content,
        Content::Audio {
            attachment: url_attachment("https://cdn.fbsbx.com/v/t59/audioclip.mp4")
        }
    );
    assert_eq!(
        only_message(CH, "video").content,
        Content::Video {
            attachment: url_attachment("https://video.xx.fbcdn.net/v/t42/clip.mp4"),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "file").content,
        Content::File {
            attachment: url_attachment("https://cdn.fbsbx.com/v/t59/invoice.pdf"),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "sticker").content,
        Content::Sticker {
            attachment: url_attachment("https://scontent.xx.fbcdn.net/v/t39/369239263222822.png")
        }
    );
}

#[test]
fn location() {
    assert_eq!(
        only_message(CH, "location").content,
        Content::Location {
            latitude: 48.8584,
            longitude: 2.2945,
            name: Some("Pinned Location".into()),
            address: None
        }
    );
}

#[test]
fn several_attachments_become_several_messages_with_stable_ids() {
    let events = run(CH, "multi_attachment");
    let ms = messages(&events);
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].platform_id, "m_multi_1");
    assert_eq!(ms[1].platform_id, "m_multi_1#1");
    assert_eq!(
        ms[1].content,
        Content::Image {
            attachment: url_attachment("https://scontent.xx.fbcdn.net/b.jpg"),
            caption: None
        }
    );
    assert_eq!(events, run(CH, "multi_attachment"));
}

#[test]
fn quick_reply() {
    let m = only_message(CH, "quick_reply");
    assert_eq!(
        m.content,
        Content::QuickReply {
            text: "Red".into(),
            payload: "COLOR_RED".into()
        }
    );
}

#[test]
fn reply_to() {
    let m = only_message(CH, "reply_to");
    assert_eq!(m.reply_to.as_deref(), Some("m_earlier_9"));
    assert_eq!(
        m.content,
        Content::Text {
            text: "Yes, that one".into()
        }
    );
}

#[test]
fn postback_with_mid() {
    let m = only_message(CH, "postback");
    assert_eq!(m.platform_id, "m_postback_1");
    assert_eq!(
        m.content,
        Content::Postback {
            title: "Talk to an agent".into(),
            payload: "AGENT".into()
        }
    );
}

#[test]
fn legacy_postback_without_mid_gets_a_stable_derived_id() {
    let a = only_message(CH, "postback_legacy");
    let b = only_message(CH, "postback_legacy");
    assert_eq!(a.platform_id, format!("postback:{PSID}:1718000000013"));
    assert_eq!(a.platform_id, b.platform_id);
    assert_eq!(
        a.content,
        Content::Postback {
            title: "Get Started".into(),
            payload: "GET_STARTED".into()
        }
    );
}

#[test]
fn reaction_and_its_removal() {
    let r = only_message(CH, "reaction");
    assert_eq!(
        r.content,
        Content::Reaction {
            emoji: "❤️".into(),
            target_platform_id: "m_out_7".into()
        }
    );
    let u = only_message(CH, "reaction_removed");
    assert_eq!(
        u.content,
        Content::Reaction {
            emoji: String::new(),
            target_platform_id: "m_out_7".into()
        }
    );
    assert_ne!(r.platform_id, u.platform_id);
    assert_eq!(r.direction, Direction::Inbound);
}

#[test]
fn echo_is_outbound_to_the_recipient() {
    let m = only_message(CH, "echo");
    assert_eq!(m.direction, Direction::Outbound);
    assert_eq!(m.contact.external_id, PSID);
    assert_eq!(m.platform_id, "m_echo_1");
    assert_eq!(
        m.content,
        Content::Text {
            text: "Thanks, we are on it".into()
        }
    );
}

#[test]
fn delivery_receipt_by_ids_and_watermark() {
    let events = run(CH, "delivery");
    let rs = receipts(&events);
    assert_eq!(rs.len(), 2);
    assert!(rs.iter().all(|r| r.status == MessageStatus::Delivered
        && r.contact.external_id == PSID
        && r.error.is_none()));
    assert_eq!(
        rs[0].target,
        ReceiptTarget::Ids {
            platform_ids: vec!["m_out_7".into(), "m_out_8".into()]
        }
    );
    assert_eq!(
        rs[1].target,
        ReceiptTarget::Watermark {
            watermark_ms: 1_718_000_000_000
        }
    );
}

#[test]
fn read_receipt_by_watermark() {
    let events = run(CH, "read");
    let rs = receipts(&events);
    assert_eq!(events.len(), 1);
    assert_eq!(rs[0].status, MessageStatus::Read);
    assert_eq!(
        rs[0].target,
        ReceiptTarget::Watermark {
            watermark_ms: 1_718_000_000_010
        }
    );
}

#[test]
fn unsupported_keeps_the_raw_payload() {
    let m = only_message(CH, "unsupported");
    match m.content {
        Content::Unsupported { platform_type, raw } => {
            assert_eq!(platform_type, "fallback");
            assert_eq!(raw["title"], "Shared link");
        }
        other => panic!("{other:?}"),
    }
    let e = only_message(CH, "unsupported_event");
    assert_eq!(e.platform_id, format!("referral:{PSID}:1718000000020"));
    match e.content {
        Content::Unsupported { platform_type, raw } => {
            assert_eq!(platform_type, "referral");
            assert_eq!(raw["referral"]["ref"], "summer-ad");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn batch_keeps_payload_order_across_entries_and_senders() {
    let events = run(CH, "batch");
    let summary: Vec<(String, String)> = events
        .iter()
        .map(|e| match e {
            InboundEvent::Message(m) => (m.contact.external_id.clone(), m.platform_id.clone()),
            InboundEvent::Receipt(r) => (r.contact.external_id.clone(), "read".into()),
        })
        .collect();
    let p2 = "5598765432109876".to_string();
    assert_eq!(
        summary,
        vec![
            (PSID.to_string(), "m_b1".to_string()),
            (p2.clone(), "m_b2".to_string()),
            (PSID.to_string(), "m_b3".to_string()),
            (p2.clone(), "m_b4".to_string()),
            (p2, "read".to_string()),
        ]
    );
    let echo = messages(&events)[3];
    assert_eq!(echo.direction, Direction::Outbound);
}

#[test]
fn foreign_page_is_skipped() {
    assert!(run(CH, "foreign_page").is_empty());
}

#[test]
fn malformed_and_wrong_shapes_are_parse_errors() {
    for name in ["malformed", "wrong_shape"] {
        let body = fixture("messenger", name);
        assert!(run_body(CH, &body).is_err(), "{name}");
    }
    let wrong_object = br#"{"object":"instagram","entry":[]}"#;
    let e = run_body(CH, wrong_object).unwrap_err();
    assert!(e.0.contains("page"), "{e}");
}

#[test]
fn wrong_or_missing_signature_is_refused() {
    let s = settings(CH);
    let body = fixture("messenger", "text");
    let bad = vec![(
        "X-Hub-Signature-256".to_string(),
        switchboard_core::verify::sign_meta("not-the-secret", &body),
    )];
    assert_eq!(
        verify_with(&s, &bad, &body).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_with(&s, &[], &body).unwrap_err(),
        Ok(VerifyError::MissingSignature)
    );
}

#[test]
fn settings_hide_secrets_and_expose_the_verify_token() {
    let s = settings(CH);
    let v = s.public_view();
    assert_eq!(v["app_secret"], "…cret");
    assert_eq!(v["page_access_token"], "…oken");
    assert!(!v.to_string().contains("messenger-app-secret"));
    assert_eq!(s.verify_token(), Some("mv-token"));
    assert_eq!(Channel::parse("messenger"), Some(CH));
}

fn ctx() -> SendContext<'static> {
    SendContext {
        graph_base: "http://127.0.0.1:9999/",
        telegram_base: "http://127.0.0.1:9998",
        now_ms: 1_718_000_400_000,
        last_inbound_ms: Some(1_718_000_000_000),
        message_key: None,
    }
}

#[test]
fn send_text() {
    let s = settings(CH);
    let contact = switchboard_core::model::Contact::new(PSID);
    let req = s
        .build_send(
            &ctx(),
            &contact,
            &Content::Text { text: "Hi!".into() },
            None,
        )
        .unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "http://127.0.0.1:9999/v23.0/me/messages");
    assert!(req
        .headers
        .contains(&("authorization".into(), "Bearer EAAG-page-token".into())));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi!"}})
    );
    assert!(s
        .build_send(&ctx(), &contact, &Content::Note { text: "x".into() }, None)
        .is_err());
    assert!(s
        .build_send(
            &ctx(),
            &contact,
            &Content::Activity {
                action: "resolved".into(),
                detail: None
            },
            None
        )
        .is_err());
}

#[test]
fn classify_answers() {
    let s = settings(CH);
    assert_eq!(
        s.classify(200, br#"{"recipient_id":"1","message_id":"m_sent_1"}"#),
        SendOutcome::Sent {
            platform_id: "m_sent_1".into()
        }
    );
    assert!(matches!(s.classify(503, b""), SendOutcome::Retry { .. }));
    assert!(matches!(s.classify(429, b"{}"), SendOutcome::Retry { .. }));
    // Graph rate limits come as a 400 with code 613.
    assert!(matches!(
        s.classify(400, br#"{"error":{"message":"Calls to this api have exceeded the rate limit.","code":613}}"#),
        SendOutcome::Retry { .. }
    ));
    match s.classify(
        400,
        br#"{"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041}}"#,
    ) {
        SendOutcome::Failed { error } => {
            assert!(error.contains("This person isn't available right now"), "{error}");
            assert!(error.contains("551"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_fixture_is_exercised_without_panicking() {
    for name in fixture_names("messenger") {
        let body = fixture("messenger", &name);
        let _ = run_body(CH, &body);
    }
}
