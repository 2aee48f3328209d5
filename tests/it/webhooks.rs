//! Webhook answers: verify before parsing, exactly once, clear refusals.

use crate::common::*;
use serde_json::json;
use switchboard_tests::Server;

#[test]
fn webhooks_are_verified_deduplicated_and_refused_clearly() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "hooks");
    let body = messenger_body(&[("psid-1", "m_once", "only once")]);

    // Missing and wrong signatures: 401, nothing stored.
    ws.api
        .post_raw(&ws.webhook_path, &[], &body)
        .expect_error(401);
    let forged = switchboard_tests::sign::meta("not-the-app-secret", &body);
    ws.api
        .post_raw(&ws.webhook_path, &[("x-hub-signature-256", &forged)], &body)
        .expect_error(401);
    // A correct signature over different bytes (re-serialized) fails too.
    let reserialized =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&body).unwrap())
            .unwrap();
    let sig = switchboard_tests::sign::meta(APP_SECRET, &body);
    ws.api
        .post_raw(
            &ws.webhook_path,
            &[("x-hub-signature-256", &sig)],
            &reserialized,
        )
        .expect_error(401);
    assert!(
        ws.api.conversations().is_empty(),
        "nothing stored after refused webhooks"
    );

    // Delivered five times, stored once.
    for i in 0..5 {
        let a = post_signed(&ws, &body).expect_status(200);
        assert_eq!(a.body["stored"], if i == 0 { 1 } else { 0 });
        assert_eq!(a.body["duplicates"], if i == 0 { 0 } else { 1 });
    }
    let cv = conversation_of(&ws, "psid-1");
    assert_eq!(ws.api.messages(&cv).len(), 1);

    // Signed but malformed: 400 with a reason, nothing stored.
    post_signed(&ws, b"{not json").expect_error(400);
    post_signed(&ws, br#"{"object":"page","entry":"nope"}"#).expect_error(400);
    post_signed(&ws, br#"{"object":"instagram","entry":[]}"#).expect_error(400);

    // Unknown inbox, wrong channel for the inbox, junk ids: 404.
    let sig = switchboard_tests::sign::meta(APP_SECRET, &body);
    ws.api
        .post_raw(
            "/webhooks/messenger/in_ffffffffffffffffffffffffffffffff",
            &[("x-hub-signature-256", &sig)],
            &body,
        )
        .expect_error(404);
    ws.api
        .post_raw(
            &format!("/webhooks/telegram/{}", ws.inbox_id),
            &[("x-hub-signature-256", &sig)],
            &body,
        )
        .expect_error(404);
    ws.api
        .post_raw("/webhooks/messenger/..%2F..%2Fetc", &[], &body)
        .expect_error(404);

    // Over the body limit: 413 before anything else.
    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    let sig = switchboard_tests::sign::meta(APP_SECRET, &huge);
    ws.api
        .post_raw(&ws.webhook_path, &[("x-hub-signature-256", &sig)], &huge)
        .expect_error(413);

    assert_eq!(
        ws.api.messages(&cv).len(),
        1,
        "refused webhooks changed nothing"
    );
}

#[test]
fn a_batch_lands_in_each_senders_conversation_in_order() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "batch");
    // Two entries, three senders, one entry for another page (ignored).
    let msg = |psid: &str, mid: &str, text: &str| json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1_763_000_000_000_i64, "message": {"mid": mid, "text": text}});
    let body = serde_json::to_vec(&json!({"object": "page", "entry": [
        {"id": PAGE_ID, "time": 1, "messaging": [msg("a", "m_a1", "a1"), msg("b", "m_b1", "b1"), msg("a", "m_a2", "a2")]},
        {"id": "999999", "time": 1, "messaging": [msg("x", "m_x1", "not ours")]},
        {"id": PAGE_ID, "time": 2, "messaging": [msg("c", "m_c1", "c1"), msg("a", "m_a3", "a3"), msg("b", "m_b2", "b2")]},
    ]}))
    .unwrap();
    let a = post_signed(&ws, &body).expect_status(200);
    assert_eq!(a.body["stored"], 6);
    let list = ws.api.wait_for_conversations(|l| l.len() == 3);
    assert!(
        list.iter().all(|c| c["contact"]["external_id"] != "x"),
        "foreign page's entry was stored"
    );
    let texts = |psid: &str| -> Vec<String> {
        ws.api
            .messages(&conversation_of(&ws, psid))
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts("a"), ["a1", "a2", "a3"]);
    assert_eq!(texts("b"), ["b1", "b2"]);
    assert_eq!(texts("c"), ["c1"]);
}

/// The webhook POST no longer goes through the router, and an object's
/// forwarded answer has headers the worker cannot change in place: both
/// must still carry the headers of every API answer.
#[test]
fn webhook_and_object_answers_carry_the_api_headers() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "headers");
    let body = messenger_body(&[("psid-h", "m_h", "headers")]);
    let url = format!("{}{}", server.base, ws.webhook_path);
    let sig = switchboard_tests::sign::meta(APP_SECRET, &body);
    let check = |resp: &ureq::Response, what: &str| {
        assert_eq!(
            resp.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(resp.header("cache-control"), Some("no-store"), "{what}");
        assert_eq!(
            resp.header("content-type"),
            Some("application/json"),
            "{what}"
        );
        // Plain http to 127.0.0.1: never HSTS.
        assert_eq!(resp.header("strict-transport-security"), None, "{what}");
    };
    let stored = ureq::post(&url)
        .set("x-hub-signature-256", &sig)
        .send_bytes(&body)
        .unwrap();
    check(&stored, "stored webhook");
    let refused = match ureq::post(&url).send_bytes(&body) {
        Err(ureq::Error::Status(401, resp)) => resp,
        other => panic!("unsigned webhook: {other:?}"),
    };
    check(&refused, "refused webhook");

    let cv = conversation_of(&ws, "psid-h");
    let token = ws.api.token.clone().unwrap();
    let messages = ureq::get(&format!("{}/api/conversations/{cv}/messages", server.base))
        .set("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    check(&messages, "an object's answer");
}
