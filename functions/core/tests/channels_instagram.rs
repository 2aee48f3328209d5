//! Instagram messaging: webhook kinds signed as Meta signs, and the send.
mod common;

use common::*;
use switchboard_core::channels::{Channel, SendContext};
use switchboard_core::inbound::{InboundEvent, ReceiptTarget};
use switchboard_core::model::{Attachment, Contact, Content, Direction, MessageStatus};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::verify::{sign_meta, VerifyError};

const CH: Channel = Channel::Instagram;
const IGSID: &str = "6612345678901234";

fn url(u: &str) -> Attachment {
    Attachment {
        url: Some(u.into()),
        ..Attachment::default()
    }
}

fn unsupported_type(name: &str) -> (String, serde_json::Value) {
    match only_message(CH, name).content {
        Content::Unsupported { platform_type, raw } => (platform_type, raw),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn text() {
    let m = only_message(CH, "text");
    assert_eq!(m.platform_id, "aWdfZAG1faXRlbToxOklH_text");
    assert_eq!(m.contact.external_id, IGSID);
    assert_eq!(m.direction, Direction::Inbound);
    assert_eq!(m.timestamp_ms, 1_718_000_001_001);
    assert_eq!(
        m.content,
        Content::Text {
            text: "Do you ship to Canada?".into()
        }
    );
}

#[test]
fn media() {
    let base = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=";
    assert_eq!(
        only_message(CH, "image").content,
        Content::Image {
            attachment: url(&format!("{base}1")),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "audio").content,
        Content::Audio {
            attachment: url(&format!("{base}2"))
        }
    );
    assert_eq!(
        only_message(CH, "video").content,
        Content::Video {
            attachment: url(&format!("{base}3")),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "file").content,
        Content::File {
            attachment: url(&format!("{base}4")),
            caption: None
        }
    );
    assert_eq!(
        only_message(CH, "sticker").content,
        Content::Sticker {
            attachment: Attachment::default()
        }
    );
}

#[test]
fn quick_reply_postback_reply_to() {
    assert_eq!(
        only_message(CH, "quick_reply").content,
        Content::QuickReply {
            text: "Sizes".into(),
            payload: "SIZES".into()
        }
    );
    let p = only_message(CH, "postback");
    assert_eq!(p.platform_id, "ig_postback_1");
    assert_eq!(
        p.content,
        Content::Postback {
            title: "Track my order".into(),
            payload: "TRACK".into()
        }
    );
    let r = only_message(CH, "reply_to");
    assert_eq!(r.reply_to.as_deref(), Some("ig_out_1"));
    // A story reply is not a reply to a message: the text stands alone.
    let s = only_message(CH, "story_reply");
    assert_eq!(s.reply_to, None);
    assert_eq!(
        s.content,
        Content::Text {
            text: "Love this!".into()
        }
    );
}

#[test]
fn reactions() {
    assert_eq!(
        only_message(CH, "reaction").content,
        Content::Reaction {
            emoji: "❤️".into(),
            target_platform_id: "ig_out_1".into()
        }
    );
    assert_eq!(
        only_message(CH, "reaction_removed").content,
        Content::Reaction {
            emoji: String::new(),
            target_platform_id: "ig_out_1".into()
        }
    );
}

#[test]
fn shares_mentions_unsupported_and_deleted_are_kept_raw() {
    let (t, raw) = unsupported_type("share");
    assert_eq!(t, "share");
    assert_eq!(raw["type"], "share");
    let (t, raw) = unsupported_type("story_mention");
    assert_eq!(t, "story_mention");
    assert!(raw["payload"]["url"]
        .as_str()
        .unwrap()
        .ends_with("asset_id=6"));
    let (t, raw) = unsupported_type("unsupported");
    assert_eq!(t, "unsupported");
    assert_eq!(raw["is_unsupported"], true);
    let d = only_message(CH, "deleted");
    assert_eq!(d.platform_id, "ig_text_gone:deleted");
    assert_eq!(d.content.kind(), "unsupported");
}

#[test]
fn echo_and_read() {
    let e = only_message(CH, "echo");
    assert_eq!(e.direction, Direction::Outbound);
    assert_eq!(e.contact.external_id, IGSID);
    let events = run(CH, "read");
    let rs = receipts(&events);
    assert_eq!(events.len(), 1);
    assert_eq!(rs[0].status, MessageStatus::Read);
    assert_eq!(
        rs[0].target,
        ReceiptTarget::Ids {
            platform_ids: vec!["ig_out_1".into()]
        }
    );
}

#[test]
fn batch_and_routing() {
    let events = run(CH, "batch");
    let ids: Vec<_> = events
        .iter()
        .map(|e| match e {
            InboundEvent::Message(m) => (m.contact.external_id.as_str(), m.platform_id.as_str()),
            InboundEvent::Receipt(_) => ("", ""),
        })
        .collect();
    assert_eq!(ids, vec![(IGSID, "ig_b1"), ("6600000000000002", "ig_b2")]);
    assert!(run(CH, "foreign_account").is_empty());
}

#[test]
fn errors() {
    for name in ["malformed", "wrong_object"] {
        assert!(run_body(CH, &fixture("instagram", name)).is_err(), "{name}");
    }
    let s = settings(CH);
    let body = fixture("instagram", "text");
    // Signed with Messenger's app secret: refused.
    let h = vec![(
        "x-hub-signature-256".to_string(),
        sign_meta("messenger-app-secret", &body),
    )];
    assert_eq!(
        verify_with(&s, &h, &body).unwrap_err(),
        Ok(VerifyError::BadSignature)
    );
}

#[test]
fn settings_and_send() {
    let s = settings(CH);
    assert_eq!(s.public_view()["access_token"], "…oken");
    assert_eq!(s.public_view()["account_id"], IG_ID);
    assert_eq!(s.verify_token(), Some("iv-token"));
    let ctx = SendContext {
        graph_base: "https://graph.facebook.com",
        telegram_base: "",
        now_ms: 0,
        last_inbound_ms: None,
        message_key: None,
    };
    let req = s
        .build_send(
            &ctx,
            &Contact::new(IGSID),
            &Content::Text {
                text: "Yes!".into(),
            },
            None,
        )
        .unwrap();
    assert_eq!(req.url, "https://graph.facebook.com/v23.0/me/messages");
    assert!(req
        .headers
        .contains(&("authorization".into(), "Bearer IGQ-access-token".into())));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["recipient"]["id"], IGSID);
    assert_eq!(body["message"]["text"], "Yes!");
    assert!(s
        .build_send(
            &ctx,
            &Contact::new(IGSID),
            &Content::Note { text: "n".into() },
            None
        )
        .is_err());
    assert_eq!(
        s.classify(200, br#"{"recipient_id":"1","message_id":"ig_sent"}"#),
        SendOutcome::Sent {
            platform_id: "ig_sent".into()
        }
    );
    assert!(matches!(
        s.classify(
            400,
            br#"{"error":{"message":"Invalid user id","code":100}}"#
        ),
        SendOutcome::Failed { .. }
    ));
    assert!(matches!(
        s.classify(500, b"oops"),
        SendOutcome::Retry { .. }
    ));
}

#[test]
fn every_fixture_is_exercised_without_panicking() {
    for name in fixture_names("instagram") {
        let _ = run_body(CH, &fixture("instagram", &name));
    }
}
