//! Backup and restore as `docs/SELF_HOST.md` describes them: a stopped
//! server's state folder, copied to a fresh place and served by a new
//! server, holds the same workspaces, logins and every message.

use crate::common::{conversation_of, messenger_body, messenger_workspace, post_signed};
use serde_json::json;
use switchboard_tests::server::TempDir;
use switchboard_tests::{Api, Server, ServerOptions};

#[test]
fn a_copied_state_folder_serves_the_same_history_elsewhere() {
    let mut server = Server::start();
    let ws = messenger_workspace(&server, "backup");
    let mut conversations = Vec::new();
    for psid in ["psid-b1", "psid-b2"] {
        for i in 0..3 {
            let mid = format!("m-{psid}-{i}");
            let text = format!("{psid} says {i}");
            post_signed(&ws, &messenger_body(&[(psid, &mid, &text)])).expect_status(200);
        }
        conversations.push(conversation_of(&ws, psid));
    }
    let note = ws
        .api
        .post(
            &format!("/api/conversations/{}/messages", conversations[0]),
            &json!({"kind": "note", "text": "kept in the backup"}),
        )
        .expect_status(201)
        .body;
    ws.api.wait_for_conversations(|l| l.len() == 2);
    let history: Vec<_> = conversations.iter().map(|cv| ws.api.messages(cv)).collect();
    let me = ws.api.get("/api/me").expect_status(200).body;

    // The backup: the server stopped, its folder copied.
    server.kill();
    let backup = TempDir::new("backup");
    switchboard_tests::server::copy_dir(server.state_dir(), backup.path()).expect("backup");
    drop(server); // the original folder is gone

    let restored = Server::start_on_copy_of(backup.path(), ServerOptions::default());
    let api = ws.api.with_base(&restored.base);
    // The same session still works, and the same login.
    assert_eq!(api.get("/api/me").expect_status(200).body, me);
    for (cv, was) in conversations.iter().zip(&history) {
        assert_eq!(&api.messages(cv), was, "history of {cv}");
    }
    assert!(history[0].iter().any(|m| m["id"] == note["id"]));
    assert_eq!(api.conversations().len(), 2);
    Api::new(&restored.base)
        .post(
            "/api/login",
            &json!({"email": me["email"], "password": "correct horse battery"}),
        )
        .expect_status(200);

    // And it takes new messages where the old one left off.
    let ws2 = crate::common::Workspace {
        api: api.clone(),
        inbox_id: ws.inbox_id.clone(),
        webhook_path: ws.webhook_path.clone(),
    };
    post_signed(
        &ws2,
        &messenger_body(&[("psid-b1", "m-after", "after the restore")]),
    )
    .expect_status(200);
    let after = api.messages(&conversations[0]);
    assert_eq!(after.len(), history[0].len() + 1);
    assert_eq!(after.last().unwrap()["text"], "after the restore");
}
