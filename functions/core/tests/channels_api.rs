//! The API channel: signed JSON messages in, signed callbacks out.
mod common;

use common::*;
use switchboard_core::channels::{Channel, SendContext, Settings};
use switchboard_core::model::{Attachment, Contact, Content, Direction};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::verify::{sign_api, verify_api, VerifyError};

const CH: Channel = Channel::Api;

#[test]
fn text_with_contact_details() {
    let m = only_message(CH, "text");
    assert_eq!(m.platform_id, "ext-msg-1");
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.timestamp_ms, 1_718_000_300_000);
    assert_eq!(
        m.contact,
        Contact {
            external_id: "customer-42".into(),
            name: Some("Ada Lovelace".into()),
            username: None,
            language: None,
            phone: Some("+447700900123".into()),
            email: Some("ada@example.com".into()),
            notes: None,
        }
    );
    assert_eq!(
        m.content,
        Content::Text {
            text: "Where is my order?".into()
        }
    );
}

#[test]
fn other_kinds_use_the_model_json() {
    assert_eq!(
        only_message(CH, "image").content,
        Content::Image {
            attachment: Attachment {
                url: Some("https://files.example.com/receipt.png".into()),
                mime_type: Some("image/png".into()),
                ..Attachment::default()
            },
            caption: Some("receipt".into())
        }
    );
    assert_eq!(
        only_message(CH, "location").content,
        Content::Location {
            latitude: 48.85,
            longitude: 2.35,
            name: Some("Paris".into()),
            address: None
        }
    );
    let r = only_message(CH, "reply_to");
    assert_eq!(r.reply_to.as_deref(), Some("ext-msg-1"));
    assert_eq!(r.timestamp_ms, 0);
}

#[test]
fn batch_in_order() {
    let events = run(CH, "batch");
    let ms = messages(&events);
    let ids: Vec<_> = ms
        .iter()
        .map(|m| {
            (
                m.contact.external_id.as_str(),
                m.platform_id.as_str(),
                m.content.kind(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("c-1", "ext-b1", "text"),
            ("c-2", "ext-b2", "text"),
            ("c-1", "ext-b3", "file")
        ]
    );
}

#[test]
fn bad_bodies_are_parse_errors() {
    for name in ["missing_id", "note_refused", "malformed"] {
        let e = run_body(CH, &fixture("api", name)).unwrap_err();
        assert!(!e.0.is_empty(), "{name}");
    }
    for body in [
        &br#"{"id":"","contact":{"id":"c"},"text":"x"}"#[..],
        br#"{"id":"a","contact":{"id":" "},"text":"x"}"#,
        br#"{"id":"a","contact":{"id":"c"}}"#,
        br#"{"id":"a","contact":{"id":"c"},"text":""}"#,
        br#"{"id":"a","contact":{"id":"c"},"kind":"teleport"}"#,
        br#"[1,2]"#,
        br#"{"messages":[{"id":"a","contact":{"id":"c"},"text":"ok"},{"contact":{"id":"c"},"text":"no id"}]}"#,
    ] {
        assert!(
            run_body(CH, body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn signature_and_freshness() {
    let s = settings(CH);
    let body = fixture("api", "text");
    let ts = NOW_SECS.to_string();
    let wrong = vec![
        ("X-Switchboard-Timestamp".to_string(), ts.clone()),
        (
            "X-Switchboard-Signature".to_string(),
            sign_api("other-secret", NOW_SECS, &body),
        ),
    ];
    assert_eq!(
        verify_with(&s, &wrong, &body).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
    let stale_ts = NOW_SECS - 301;
    let stale = vec![
        ("X-Switchboard-Timestamp".to_string(), stale_ts.to_string()),
        (
            "X-Switchboard-Signature".to_string(),
            sign_api("api-shared-secret", stale_ts, &body),
        ),
    ];
    assert_eq!(
        verify_with(&s, &stale, &body).unwrap_err(),
        Ok(VerifyError::StaleTimestamp)
    );
    assert_eq!(
        verify_with(&s, &[], &body).unwrap_err(),
        Ok(VerifyError::MissingSignature)
    );
}

#[test]
fn settings_validation() {
    let s = settings(CH);
    assert_eq!(s.public_view()["secret"], "…cret");
    assert_eq!(
        s.public_view()["callback_url"],
        "https://hooks.example.com/switchboard"
    );
    assert!(Settings::from_json(
        CH,
        serde_json::json!({"secret": "s", "callback_url": "ftp://x"})
    )
    .is_err());
    assert!(Settings::from_json(CH, serde_json::json!({"callback_url": "https://x"})).is_err());
}

fn ctx() -> SendContext<'static> {
    SendContext {
        graph_base: "",
        telegram_base: "",
        now_ms: 1_718_000_400_123,
        last_inbound_ms: None,
        message_key: None,
    }
}

#[test]
fn callback_is_signed_and_verifiable() {
    let s = settings(CH);
    let req = s
        .build_send(
            &ctx(),
            &Contact::new("customer-42"),
            &Content::Text {
                text: "Shipped today".into(),
            },
            Some("ext-msg-1"),
        )
        .unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://hooks.example.com/switchboard");
    let header = |n: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(header("x-switchboard-timestamp"), "1718000400");
    // The receiver checks it exactly as we check inbound calls.
    assert!(verify_api(
        "api-shared-secret",
        Some(&header("x-switchboard-timestamp")),
        Some(&header("x-switchboard-signature")),
        &req.body,
        1_718_000_400,
    )
    .is_ok());
    let b: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(b["event"], "message");
    assert_eq!(b["contact"]["id"], "customer-42");
    assert_eq!(b["content"]["kind"], "text");
    assert_eq!(b["content"]["text"], "Shipped today");
    assert_eq!(b["reply_to"], "ext-msg-1");
    assert_eq!(b["delivery_id"], header("x-switchboard-delivery"));

    assert!(s
        .build_send(
            &ctx(),
            &Contact::new("c"),
            &Content::Note { text: "n".into() },
            None
        )
        .is_err());

    // classify: the answer's id, else the delivery id the request carried.
    assert_eq!(
        s.classify_request(&req, 200, br#"{"id":"their-77"}"#),
        SendOutcome::Sent {
            platform_id: "their-77".into()
        }
    );
    assert_eq!(
        s.classify_request(&req, 204, b""),
        SendOutcome::Sent {
            platform_id: header("x-switchboard-delivery")
        }
    );
    assert!(matches!(s.classify(200, b""), SendOutcome::Sent { .. }));
    assert!(matches!(s.classify(503, b""), SendOutcome::Retry { .. }));
    assert!(matches!(s.classify(408, b""), SendOutcome::Retry { .. }));
    match s.classify(422, br#"{"error":"unknown customer"}"#) {
        SendOutcome::Failed { error } => assert!(error.contains("unknown customer"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_fixture_is_exercised_without_panicking() {
    for name in fixture_names("api") {
        let _ = run_body(CH, &fixture("api", &name));
    }
}
