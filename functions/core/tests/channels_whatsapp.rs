//! WhatsApp Cloud API: webhook kinds signed as Meta signs, statuses,
//! routing by phone_number_id, and the send with its 24-hour window.
mod common;

use common::*;
use switchboard_core::channels::{Channel, SendContext};
use switchboard_core::inbound::{InboundEvent, ReceiptTarget};
use switchboard_core::model::{
    Attachment, Contact, Content, Direction, MessageStatus, SharedContact,
};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::verify::VerifyError;

const CH: Channel = Channel::Whatsapp;
const WA: &str = "16505551234";

fn media(id: &str, mime: &str) -> Attachment {
    Attachment {
        media_id: Some(id.into()),
        mime_type: Some(mime.into()),
        ..Attachment::default()
    }
}

#[test]
fn text_with_contact_profile() {
    let m = only_message(CH, "text");
    assert_eq!(
        m.platform_id,
        "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.contact.external_id, WA);
    assert_eq!(m.contact.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(m.contact.phone.as_deref(), Some(WA));
    assert_eq!(m.timestamp_ms, 1_718_000_002_000);
    assert_eq!(
        m.content,
        Content::Text {
            text: "Hi, I need help with my booking".into()
        }
    );
}

#[test]
fn media_kinds_keep_media_id_and_mime_type() {
    assert_eq!(
        only_message(CH, "image").content,
        Content::Image {
            attachment: media("1003383421387256", "image/jpeg"),
            caption: Some("The broken part".into())
        }
    );
    assert_eq!(
        only_message(CH, "audio").content,
        Content::Audio {
            attachment: media("1003383421387257", "audio/ogg; codecs=opus")
        }
    );
    assert_eq!(
        only_message(CH, "video").content,
        Content::Video {
            attachment: media("1003383421387258", "video/mp4"),
            caption: Some("see".into())
        }
    );
    assert_eq!(
        only_message(CH, "document").content,
        Content::File {
            attachment: Attachment {
                filename: Some("invoice-812.pdf".into()),
                ..media("1003383421387259", "application/pdf")
            },
            caption: Some("Invoice".into())
        }
    );
    assert_eq!(
        only_message(CH, "sticker").content,
        Content::Sticker {
            attachment: media("1003383421387260", "image/webp")
        }
    );
}

#[test]
fn location_and_contacts() {
    assert_eq!(
        only_message(CH, "location").content,
        Content::Location {
            latitude: 37.483307,
            longitude: -122.148981,
            name: Some("Main office".into()),
            address: Some("1 Hacker Way, Menlo Park, CA 94025".into())
        }
    );
    assert_eq!(
        only_message(CH, "contacts").content,
        Content::Contacts {
            contacts: vec![SharedContact {
                name: "Barbara J. Johnson".into(),
                phones: vec!["+1 (940) 555-1234".into(), "+1 (650) 555-1234".into()],
                emails: vec!["barbara@example.com".into()],
            }]
        }
    );
}

#[test]
fn reactions() {
    let r = only_message(CH, "reaction");
    assert_eq!(r.platform_id, "wamid.reaction1");
    assert_eq!(
        r.content,
        Content::Reaction {
            emoji: "👍".into(),
            target_platform_id: "wamid.out1".into()
        }
    );
    assert_eq!(
        only_message(CH, "reaction_removed").content,
        Content::Reaction {
            emoji: String::new(),
            target_platform_id: "wamid.out1".into()
        }
    );
}

#[test]
fn button_replies_and_reply_to() {
    let b = only_message(CH, "button_reply");
    assert_eq!(
        b.content,
        Content::ButtonReply {
            text: "Change".into(),
            payload: "change-button".into()
        }
    );
    assert_eq!(b.reply_to.as_deref(), Some("wamid.out2"));
    assert_eq!(
        only_message(CH, "list_reply").content,
        Content::ButtonReply {
            text: "Express Shipping".into(),
            payload: "priority_express".into()
        }
    );
    assert_eq!(
        only_message(CH, "button").content,
        Content::ButtonReply {
            text: "Stop promotions".into(),
            payload: "STOP_PROMOS".into()
        }
    );
    let r = only_message(CH, "reply_to");
    assert_eq!(r.reply_to.as_deref(), Some("wamid.out4"));
    assert_eq!(
        r.content,
        Content::Text {
            text: "Yes, tomorrow works".into()
        }
    );
}

#[test]
fn unsupported_and_unmodelled_types_keep_the_message() {
    for (name, t, id) in [
        ("unsupported", "unsupported", "wamid.unsupported1"),
        ("order", "order", "wamid.order1"),
    ] {
        let m = only_message(CH, name);
        assert_eq!(m.platform_id, id);
        match m.content {
            Content::Unsupported { platform_type, raw } => {
                assert_eq!(platform_type, t);
                assert_eq!(raw["id"], id);
                assert_eq!(raw["type"], t);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn statuses_become_receipts() {
    for (name, status) in [
        ("status_sent", MessageStatus::Sent),
        ("status_delivered", MessageStatus::Delivered),
        ("status_read", MessageStatus::Read),
    ] {
        let events = run(CH, name);
        let rs = receipts(&events);
        assert_eq!(events.len(), 1, "{name}");
        assert_eq!(rs[0].status, status);
        assert_eq!(rs[0].contact.external_id, WA);
        assert_eq!(rs[0].error, None);
        assert_eq!(
            rs[0].target,
            ReceiptTarget::Ids {
                platform_ids: vec!["wamid.out1".into()]
            }
        );
    }
    let events = run(CH, "status_failed");
    let r = receipts(&events)[0];
    assert_eq!(r.status, MessageStatus::Failed);
    assert_eq!(r.timestamp_ms, 1_718_000_023_000);
    let err = r.error.as_deref().unwrap();
    assert!(err.starts_with("Re-engagement message"), "{err}");
    assert!(err.contains("more than 24 hours"), "{err}");
    assert!(err.contains("131047"), "{err}");
}

#[test]
fn batch_routes_by_phone_number_id_and_keeps_order() {
    let events = run(CH, "batch");
    let summary: Vec<(String, String, Option<String>)> = events
        .iter()
        .map(|e| match e {
            InboundEvent::Message(m) => (
                m.contact.external_id.clone(),
                m.platform_id.clone(),
                m.contact.name.clone(),
            ),
            InboundEvent::Receipt(r) => (r.contact.external_id.clone(), "receipt".into(), None),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (WA.into(), "wamid.b1".into(), Some("Sheena Nelson".into())),
            ("447700900123".into(), "wamid.b2".into(), Some("Kai".into())),
            (WA.into(), "receipt".into(), None),
            (WA.into(), "wamid.b3".into(), Some("Sheena Nelson".into())),
        ]
    );
    assert!(run(CH, "foreign_phone_number").is_empty());
}

#[test]
fn errors() {
    for name in ["malformed", "wrong_object"] {
        assert!(run_body(CH, &fixture("whatsapp", name)).is_err(), "{name}");
    }
    let s = settings(CH);
    let body = fixture("whatsapp", "text");
    let h = vec![("X-Hub-Signature-256".to_string(), "sha256=00".to_string())];
    assert_eq!(
        verify_with(&s, &h, &body).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
}

fn ctx(last: Option<i64>) -> SendContext<'static> {
    SendContext {
        graph_base: "http://fake-graph",
        telegram_base: "",
        now_ms: 1_718_100_000_000,
        last_inbound_ms: last,
        message_key: None,
    }
}

#[test]
fn send_text_inside_the_window_with_reply_context() {
    let s = settings(CH);
    let req = s
        .build_send(
            &ctx(Some(1_718_100_000_000 - 3_600_000)),
            &Contact::new(WA),
            &Content::Text {
                text: "On its way".into(),
            },
            Some("wamid.in9"),
        )
        .unwrap();
    assert_eq!(req.url, "http://fake-graph/v23.0/109876543210987/messages");
    assert!(req
        .headers
        .contains(&("authorization".into(), "Bearer EAAW-access-token".into())));
    let b: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(b["messaging_product"], "whatsapp");
    assert_eq!(b["to"], WA);
    assert_eq!(b["type"], "text");
    assert_eq!(b["text"]["body"], "On its way");
    assert_eq!(b["context"]["message_id"], "wamid.in9");
}

#[test]
fn the_24_hour_window_is_enforced_up_front() {
    let s = settings(CH);
    let text = Content::Text { text: "hi".into() };
    let day = 24 * 3_600_000;
    for last in [None, Some(1_718_100_000_000 - day), Some(0)] {
        let err = s
            .build_send(&ctx(last), &Contact::new(WA), &text, None)
            .unwrap_err();
        assert!(
            err.starts_with("WhatsApp's 24-hour window is closed"),
            "{err}"
        );
        assert!(err.contains("template"), "{err}");
    }
    assert!(s
        .build_send(
            &ctx(Some(1_718_100_000_000 - day + 1)),
            &Contact::new(WA),
            &text,
            None
        )
        .is_ok());
    assert!(s
        .build_send(
            &ctx(Some(1_718_100_000_000)),
            &Contact::new(WA),
            &Content::Note { text: "n".into() },
            None
        )
        .is_err());
}

#[test]
fn classify_answers() {
    let s = settings(CH);
    assert_eq!(
        s.classify(
            200,
            br#"{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.sent1"}]}"#
        ),
        SendOutcome::Sent {
            platform_id: "wamid.sent1".into()
        }
    );
    assert!(matches!(s.classify(200, b"{}"), SendOutcome::Failed { .. }));
    assert!(matches!(
        s.classify(
            400,
            br#"{"error":{"message":"Rate limit hit","code":130429}}"#
        ),
        SendOutcome::Retry { .. }
    ));
    match s.classify(
        400,
        br#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed"}}}"#,
    ) {
        SendOutcome::Failed { error } => {
            assert!(error.contains("Re-engagement message"), "{error}");
            assert!(error.contains("More than 24 hours"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(s.classify(502, b""), SendOutcome::Retry { .. }));
}

#[test]
fn every_fixture_is_exercised_without_panicking() {
    for name in fixture_names("whatsapp") {
        let _ = run_body(CH, &fixture("whatsapp", &name));
    }
}
