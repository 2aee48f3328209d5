//! Schema versions: today's code wakes on Durable Object state written by
//! the first release (commit 17b4e95), brings its tables forward once, and
//! serves every message as before.
//!
//! The fixture: a server running today's code writes conversations, is
//! killed, and its objects' SQLite files are rewound to the first release's
//! tables (`fixtures/first_release/*.sql`, the `CREATE TABLE` statements of
//! 17b4e95, rows kept). A new server on that folder must read every message
//! back, write on, and use the columns that arrived later (labels).

use crate::common::{conversation_of, messenger_body, messenger_workspace, post_signed};
use serde_json::{json, Value};
use std::process::Command;
use switchboard_tests::server::repo_root;
use switchboard_tests::Server;

fn rewind(server: &Server, show: bool) -> String {
    let script = repo_root().join("tests/it/fixtures/first_release/rewind.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(server.state_dir());
    if show {
        cmd.arg("--show");
    }
    let out = cmd.output().expect("running python3 rewind.py");
    assert!(
        out.status.success(),
        "rewind.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a message is, leaving out what later releases added.
fn essence(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            json!([
                m["id"],
                m["seq"],
                m["direction"],
                m["kind"],
                m["text"],
                m["platform_id"]
            ])
        })
        .collect()
}

#[test]
fn objects_written_by_the_first_release_are_migrated_once_and_lose_nothing() {
    let mut server = Server::start();
    let ws = messenger_workspace(&server, "upgrade");
    let mut conversations = Vec::new();
    for (n, psid) in ["psid-old-1", "psid-old-2", "psid-old-3"]
        .iter()
        .enumerate()
    {
        let lines: Vec<(String, String)> = (0..4)
            .map(|i| {
                (
                    format!("m-old-{n}-{i}"),
                    format!("message {i} from {psid} ✓"),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|(mid, text)| (*psid, mid.as_str(), text.as_str()))
            .collect();
        post_signed(&ws, &messenger_body(&refs)).expect_status(200);
        let cv = conversation_of(&ws, psid);
        ws.api
            .post(
                &format!("/api/conversations/{cv}/messages"),
                &json!({"kind": "note", "text": "an agent's note"}),
            )
            .expect_status(201);
        conversations.push(cv);
    }
    ws.api.wait_for_conversations(|l| l.len() == 3);
    let before: Vec<Vec<Value>> = conversations
        .iter()
        .map(|cv| essence(&ws.api.messages(cv)))
        .collect();
    assert!(before.iter().all(|m| m.len() == 5), "{before:?}");

    server.kill();
    let rewound = rewind(&server, false);
    assert_eq!(
        rewound.matches("conversation rewound").count(),
        3,
        "{rewound}"
    );
    assert!(rewound.contains("workspace rewound"), "{rewound}");
    server.restart();
    let ws = crate::common::Workspace {
        api: ws.api.with_base(&server.base),
        ..ws
    };

    // Every message, as it was.
    for (cv, was) in conversations.iter().zip(&before) {
        assert_eq!(&essence(&ws.api.messages(cv)), was, "history of {cv}");
    }
    let list = ws.api.conversations();
    assert_eq!(list.len(), 3, "the workspace's list after the upgrade");

    // Writing goes on from the old log's last seq, and the columns that
    // arrived after the first release work.
    let cv = &conversations[0];
    post_signed(
        &ws,
        &messenger_body(&[("psid-old-1", "m-new-1", "after the upgrade")]),
    )
    .expect_status(200);
    let after = ws.api.messages(cv);
    let last = after.last().cloned().unwrap_or_default();
    assert_eq!(last["text"], "after the upgrade");
    assert_eq!(
        last["seq"].as_i64(),
        Some(before[0][4][1].as_i64().unwrap() + 1)
    );
    ws.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"labels": ["migrated"]}),
        )
        .expect_status(200);
    ws.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"status": "resolved"}),
        )
        .expect_status(200);

    // The attachments table arrived later too: a migrated object records
    // an upload (the write would fail without the table).
    ws.api
        .post_raw(
            &format!("/api/conversations/{cv}/attachments?filename=a.pdf"),
            &[("content-type", "application/pdf")],
            b"%PDF-1.4\n%%EOF\n",
        )
        .expect_status(201);

    // Each object now records its version: the migration ran, once.
    server.kill();
    let versions = rewind(&server, true);
    assert!(versions.contains("conversation 1"), "{versions}");
    assert!(versions.contains("workspace 2"), "{versions}");
    assert!(
        !versions.contains(" 0"),
        "an object left unversioned: {versions}"
    );
}

/// During a deploy the new worker can reach a conversation object still on
/// the version before JS RPC, which workerd refuses to call, and a
/// conversation object can reach such a workspace object. Served here
/// without `shim.mjs` (objects that refuse RPC), every ingest and every
/// index update takes the fetch route instead, with the same answers.
#[test]
fn ingest_and_index_reach_objects_that_refuse_rpc_through_their_fetch_routes() {
    use switchboard_tests::server::ServerOptions;
    use switchboard_tests::Api;
    let server = Server::start_with(ServerOptions::default().objects_without_rpc());
    let ws = messenger_workspace(&server, "before-rpc");

    // A webhook, then its redelivery: stored once.
    let body = messenger_body(&[
        ("psid-deploy", "m-deploy-1", "first"),
        ("psid-deploy", "m-deploy-2", "second"),
    ]);
    post_signed(&ws, &body).expect_status(200);
    post_signed(&ws, &body).expect_status(200);
    let cv = conversation_of(&ws, "psid-deploy");
    // The index took both messages: the list shows the second as the last.
    ws.api.wait_for_conversations(|l| {
        l.iter()
            .any(|c| c["id"] == cv.as_str() && c["last_message"]["text"] == "second")
    });
    let texts: Vec<Value> = ws
        .api
        .messages(&cv)
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("first"), json!("second")]);

    // A visitor's message and its retry; an object's refusal reaches them.
    let inbox = ws.api.create_inbox("widget", json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = Api::new(&server.base)
        .post(
            &format!("/api/widget/{inbox}/session"),
            &json!({"name": "Dee"}),
        )
        .expect_status(201)
        .body;
    let visitor = Api::new(&server.base).with_token(s["token"].as_str().unwrap());
    let message = json!({"text": "still there?", "client_id": "c-deploy"});
    let sent = visitor
        .post("/api/widget/messages", &message)
        .expect_status(201);
    assert_eq!(sent.body["duplicate"], false);
    let again = visitor
        .post("/api/widget/messages", &message)
        .expect_status(201);
    assert_eq!(again.body["duplicate"], true);
    let refused = visitor
        .post(
            "/api/widget/messages",
            &json!({"attachment_id": "at_00000000000000000000000000000000000000000000000000aa"}),
        )
        .expect_status(422);
    assert_eq!(
        refused.body["error"],
        "attachment_id names no uploaded file of this conversation"
    );
    let widget_cv = sent.body["conversation_id"].as_str().unwrap();
    let texts: Vec<Value> = ws
        .api
        .messages(widget_cv)
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("still there?")]);
}
