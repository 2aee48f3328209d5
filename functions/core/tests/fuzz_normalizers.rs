//! Fuzzing on stable: every channel's verify + normalize is fed arbitrary
//! bytes and JSON mutated from the fixtures (values replaced by random JSON
//! of the platforms' own field names, keys removed, types swapped), signed as
//! the platform signs so the input reaches the parser. The only assertion is
//! that nothing panics; `Ok` and `Err` are both fine. Bounded so the whole
//! file runs in a few seconds.
mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Map, Value};
use switchboard_core::channels::{Channel, SendContext};
use switchboard_core::model::{Contact, Content};

const FIELD_NAMES: &[&str] = &[
    "object",
    "entry",
    "id",
    "time",
    "messaging",
    "sender",
    "recipient",
    "timestamp",
    "message",
    "mid",
    "text",
    "is_echo",
    "is_deleted",
    "is_unsupported",
    "attachments",
    "type",
    "payload",
    "url",
    "sticker_id",
    "coordinates",
    "lat",
    "long",
    "title",
    "quick_reply",
    "reply_to",
    "postback",
    "reaction",
    "emoji",
    "action",
    "delivery",
    "mids",
    "watermark",
    "read",
    "changes",
    "field",
    "value",
    "metadata",
    "phone_number_id",
    "contacts",
    "profile",
    "name",
    "wa_id",
    "messages",
    "statuses",
    "from",
    "context",
    "body",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "latitude",
    "longitude",
    "interactive",
    "button_reply",
    "list_reply",
    "button",
    "status",
    "recipient_id",
    "errors",
    "code",
    "update_id",
    "message_id",
    "chat",
    "date",
    "photo",
    "file_id",
    "voice",
    "venue",
    "contact",
    "callback_query",
    "data",
    "message_reaction",
    "new_reaction",
    "edited_message",
    "edit_date",
    "reply_to_message",
    "kind",
    "attachment",
    "caption",
    "messages",
    "timestamp_ms",
    "first_name",
    "last_name",
];

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12f64).prop_map(Value::from),
        "[a-z_.:#0-9]{0,12}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
        prop::sample::select(vec![
            "page",
            "instagram",
            "whatsapp_business_account",
            "text",
            "image",
            "audio",
            "video",
            "file",
            "document",
            "sticker",
            "location",
            "contacts",
            "reaction",
            "interactive",
            "button",
            "react",
            "unreact",
            "failed",
            "read",
            "delivered",
            "sent",
            "messages",
            "emoji",
            "note",
            "106123456789012",
            "17841400000000001",
            "109876543210987",
            "1718000000",
        ])
        .prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELD_NAMES), inner), 0..6).prop_map(
                |kvs| {
                    Value::Object(
                        kvs.into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect::<Map<_, _>>(),
                    )
                }
            ),
        ]
    })
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Applies `f` to the `k`-th node in pre-order.
fn apply(v: &mut Value, k: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *k == 0 {
        f(v);
        return true;
    }
    *k -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|c| apply(c, k, f)),
        Value::Object(o) => o.values_mut().any(|c| apply(c, k, f)),
        _ => false,
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    RemoveKey(usize, usize),
    Wrap(usize),
    Duplicate(usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), arb_json()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(n, i)| Mutation::RemoveKey(n, i)),
        any::<usize>().prop_map(Mutation::Wrap),
        any::<usize>().prop_map(Mutation::Duplicate),
    ]
}

fn mutate(mut v: Value, muts: &[Mutation]) -> Value {
    for m in muts {
        let total = count(&v);
        match m.clone() {
            Mutation::Replace(n, new) => {
                let mut k = n % total;
                let mut new = Some(new);
                apply(&mut v, &mut k, &mut |x| {
                    if let Some(n) = new.take() {
                        *x = n;
                    }
                });
            }
            Mutation::RemoveKey(n, i) => {
                let mut k = n % total;
                apply(&mut v, &mut k, &mut |x| match x {
                    Value::Object(o) if !o.is_empty() => {
                        let key = o.keys().nth(i % o.len()).cloned().unwrap();
                        o.remove(&key);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        a.remove(i % a.len());
                    }
                    _ => {}
                });
            }
            Mutation::Wrap(n) => {
                let mut k = n % total;
                apply(&mut v, &mut k, &mut |x| *x = Value::Array(vec![x.take()]));
            }
            Mutation::Duplicate(n) => {
                let mut k = n % total;
                apply(&mut v, &mut k, &mut |x| {
                    if let Value::Array(a) = x {
                        let copy = a.clone();
                        a.extend(copy);
                    }
                });
            }
        }
    }
    v
}

fn fixtures(channel: Channel) -> Vec<Value> {
    fixture_names(channel.as_str())
        .into_iter()
        .filter_map(|n| serde_json::from_slice(&fixture(channel.as_str(), &n)).ok())
        .collect()
}

fn check_bytes(channel: Channel, bytes: &[u8]) {
    let _ = run_body(channel, bytes);
}

fn check_mutated(channel: Channel, pick: usize, muts: &[Mutation], pretty: bool) {
    let all = fixtures(channel);
    let base = all[pick % all.len()].clone();
    let v = mutate(base, muts);
    let body = if pretty {
        serde_json::to_vec_pretty(&v).unwrap()
    } else {
        serde_json::to_vec(&v).unwrap()
    };
    let _ = run_body(channel, &body);
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

macro_rules! channel_fuzz {
    ($bytes:ident, $json:ident, $channel:expr) => {
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn $bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                check_bytes($channel, &bytes);
            }

            #[test]
            fn $json(
                pick in any::<usize>(),
                muts in prop::collection::vec(arb_mutation(), 1..6),
                pretty in any::<bool>(),
            ) {
                check_mutated($channel, pick, &muts, pretty);
            }
        }
    };
}

channel_fuzz!(messenger_bytes, messenger_json, Channel::Messenger);
channel_fuzz!(instagram_bytes, instagram_json, Channel::Instagram);
channel_fuzz!(whatsapp_bytes, whatsapp_json, Channel::Whatsapp);
channel_fuzz!(telegram_bytes, telegram_json, Channel::Telegram);
channel_fuzz!(api_bytes, api_json, Channel::Api);

proptest! {
    #![proptest_config(config())]

    /// Any body under any header set: verification refuses or accepts, never panics.
    #[test]
    fn verify_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..256),
        sig in "\\PC{0,80}",
        ts in "\\PC{0,20}",
    ) {
        for ch in Channel::ALL {
            let s = settings(ch);
            let headers = vec![
                ("X-Hub-Signature-256", sig.as_str()),
                ("X-Telegram-Bot-Api-Secret-Token", sig.as_str()),
                ("X-Switchboard-Timestamp", ts.as_str()),
                ("X-Switchboard-Signature", sig.as_str()),
            ];
            if let Ok(v) = s.verify(headers.as_slice(), &body, NOW_SECS) {
                let _ = s.normalize(v);
            }
        }
    }

    /// Outbound: any contact, text, reply-to and platform answer.
    #[test]
    fn send_and_classify_never_panic(
        id in "\\PC{0,20}",
        text in "\\PC{0,40}",
        reply_to in prop::option::of("\\PC{0,20}"),
        now in any::<i64>(),
        last in prop::option::of(any::<i64>()),
        status in any::<u16>(),
        answer in prop::collection::vec(any::<u8>(), 0..256),
        json_answer in arb_json(),
    ) {
        let ctx = SendContext { graph_base: "http://g", telegram_base: "http://t", now_ms: now, last_inbound_ms: last , message_key: None};
        let answer_json = serde_json::to_vec(&json_answer).unwrap();
        for ch in Channel::ALL {
            let s = settings(ch);
            let _ = s.build_send(&ctx, &Contact::new(id.clone()), &Content::Text { text: text.clone() }, reply_to.as_deref());
            let _ = s.classify(status, &answer);
            let _ = s.classify(status, &answer_json);
        }
    }
}
