//! Streaming exports with thousands of messages: a conversation's whole
//! transcript and the workspace over a date range come out complete, in
//! order and CSV-safe, page after page (500 messages a page).

use crate::common::*;
use crate::tools::parse_csv;
use serde_json::Value;
use switchboard_tests::{Api, Server};

/// The text of message `i`: every few ones a cell a spreadsheet would run,
/// or one that needs quoting.
fn text_of(psid: &str, i: usize) -> String {
    match i {
        i if i % 7 == 0 => format!("=HYPERLINK(\"http://evil.test/{i}\")"),
        i if i % 11 == 0 => format!("a, \"quoted\"\nline {i}"),
        i if i % 13 == 0 => format!("-{i}+1"),
        i if i % 17 == 0 => format!("@SUM {i}"),
        i => format!("{psid} message {i}"),
    }
}

/// Messages `range` of `psid`, 100 to a webhook (Meta batches like this).
fn deliver(ws: &Workspace, psid: &str, range: std::ops::Range<usize>) {
    let all: Vec<(String, String)> = range
        .map(|i| (format!("m-{psid}-{i}"), text_of(psid, i)))
        .collect();
    for chunk in all.chunks(100) {
        let batch: Vec<(&str, &str, &str)> = chunk
            .iter()
            .map(|(mid, text)| (psid, mid.as_str(), text.as_str()))
            .collect();
        post_signed(ws, &messenger_body(&batch)).expect_status(200);
    }
}

/// What the CSV cell of `text` must be: formula-like cells get a `'`.
fn defused(text: &str) -> String {
    match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_string(),
    }
}

/// Waits until the workspace's list shows `psid`'s last message: the range
/// export walks that list, which trails the conversations by moments.
fn indexed(ws: &Workspace, psid: &str, last: &str) {
    ws.api.wait_for_conversations(|l| {
        l.iter()
            .any(|c| c["contact"]["external_id"] == psid && c["last_message"]["text"] == last)
    });
}

fn get_text(api: &Api, path: &str) -> String {
    let a = api.get(path);
    assert_eq!(a.status, 200, "{path}: {}", a.text);
    a.text
}

fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

fn assert_seq_increasing(messages: &Value) {
    let seqs: Vec<i64> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "out of order: {seqs:?}"
    );
}

#[test]
fn thousands_of_messages_export_complete_ordered_and_escaped() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "export-big");
    // Before the range: most of A and all of C.
    deliver(&ws, "psid-a", 0..1200);
    deliver(&ws, "psid-c", 0..3);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let from = now_ms();
    std::thread::sleep(std::time::Duration::from_millis(50));
    deliver(&ws, "psid-a", 1200..3000);
    deliver(&ws, "psid-b", 0..5);
    let (a, b, c) = (
        conversation_of(&ws, "psid-a"),
        conversation_of(&ws, "psid-b"),
        conversation_of(&ws, "psid-c"),
    );
    let expected_a: Vec<String> = (0..3000).map(|i| text_of("psid-a", i)).collect();
    indexed(&ws, "psid-a", &text_of("psid-a", 2999));
    indexed(&ws, "psid-b", &text_of("psid-b", 4));
    indexed(&ws, "psid-c", &text_of("psid-c", 2));

    // One conversation, JSON: every message once, in seq order (six pages).
    let t: Value = serde_json::from_str(&get_text(
        &ws.api,
        &format!("/api/conversations/{a}/export"),
    ))
    .unwrap();
    assert_eq!(t["conversation"]["id"], a.as_str());
    assert!(t["exported_at"].as_i64().unwrap() >= from);
    assert_eq!(texts(&t["messages"]), expected_a);
    assert_seq_increasing(&t["messages"]);

    // The same as CSV: a header, 3,000 rows, formula cells defused.
    let rows = parse_csv(&get_text(
        &ws.api,
        &format!("/api/conversations/{a}/export?format=csv"),
    ));
    assert_eq!(rows.len(), 3001);
    assert_eq!(rows[0][0], "seq");
    let csv_texts: Vec<String> = rows[1..].iter().map(|r| r[6].clone()).collect();
    let want: Vec<String> = expected_a.iter().map(|t| defused(t)).collect();
    assert_eq!(csv_texts, want);
    let seqs: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // The workspace from `from`: A's later 1,800 and B's 5, not C; by
    // conversation id, each in seq order.
    let e: Value = serde_json::from_str(&get_text(
        &ws.api,
        &format!("/api/export?from={from}&format=json"),
    ))
    .unwrap();
    assert_eq!(e["from"], from);
    let convs = e["conversations"].as_array().unwrap();
    let ids: Vec<&str> = convs
        .iter()
        .map(|c| c["conversation"]["id"].as_str().unwrap())
        .collect();
    let mut want_ids = vec![a.as_str(), b.as_str()];
    want_ids.sort();
    assert_eq!(ids, want_ids, "C has nothing in range: {c}");
    for conv in convs {
        assert_seq_increasing(&conv["messages"]);
        assert!(conv["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["created_at"].as_i64().unwrap() >= from));
    }
    let of = |id: &str| {
        texts(
            &convs
                .iter()
                .find(|c| c["conversation"]["id"] == id)
                .unwrap()["messages"],
        )
    };
    assert_eq!(of(&a), expected_a[1200..].to_vec());
    assert_eq!(
        of(&b),
        (0..5).map(|i| text_of("psid-b", i)).collect::<Vec<_>>()
    );

    // …and as CSV, with the conversation first on every row.
    let rows = parse_csv(&get_text(
        &ws.api,
        &format!("/api/export?from={from}&format=csv"),
    ));
    assert_eq!(rows[0][0], "conversation_id");
    assert_eq!(rows.len(), 1 + 1800 + 5);
    let a_rows: Vec<String> = rows[1..]
        .iter()
        .filter(|r| r[0] == a)
        .map(|r| r[7].clone())
        .collect();
    let want: Vec<String> = expected_a[1200..].iter().map(|t| defused(t)).collect();
    assert_eq!(a_rows, want);

    // A range that ends before `from` holds A's first 1,200 and C.
    let early: Value =
        serde_json::from_str(&get_text(&ws.api, &format!("/api/export?from=0&to={from}"))).unwrap();
    let total: usize = early["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["messages"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 1200 + 3);

    // Every workspace export is in the audit log, with its range.
    let audit = ws.api.get("/api/audit_log").expect_status(200);
    let exports: Vec<&Value> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export_workspace")
        .collect();
    assert_eq!(exports.len(), 3);
    assert!(exports.iter().any(|e| e["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("\"from\":{from}"))));
}

#[test]
fn the_workspace_export_is_for_admins_and_walled() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "export-walls");
    deliver(&ws, "psid-w", 0..3);
    let (agent, _) = teammate(&ws.api, "agent");
    agent.get("/api/export?from=0").expect_error(403);
    ws.api.get("/api/export").expect_error(400);
    ws.api.get("/api/export?from=10&to=5").expect_error(400);
    ws.api
        .get("/api/export?from=0&format=xml")
        .expect_error(400);
    ws.api.get("/api/export?from=yesterday").expect_error(400);
    Api::new(&server.base)
        .get("/api/export?from=0")
        .expect_error(401);
    // Refusals record nothing.
    let audit = ws.api.get("/api/audit_log").expect_status(200);
    assert!(!audit.text.contains("export_workspace"), "{}", audit.text);

    // Another workspace's export holds none of this one's conversations.
    let other = messenger_workspace(&server, "export-walls-other");
    deliver(&other, "psid-o", 0..2);
    indexed(&other, "psid-o", &text_of("psid-o", 1));
    let theirs = get_text(&other.api, "/api/export?from=0");
    let cv = conversation_of(&ws, "psid-w");
    assert!(
        !theirs.contains(&cv) && !theirs.contains("psid-w"),
        "{theirs}"
    );
    assert!(theirs.contains("psid-o message 1"));
}
