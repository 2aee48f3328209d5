//! A message acknowledged before a SIGKILL is still there after a restart,
//! and the index catches up.

use crate::common::*;
use switchboard_tests::{Live, Server};

#[test]
fn an_acknowledged_message_survives_sigkill() {
    let mut server = Server::start();
    let ws = messenger_workspace(&server, "restart");
    post_signed(
        &ws,
        &messenger_body(&[("psid-kim", "m_before_kill", "Please call me back")]),
    )
    .expect_status(200);
    let cv = conversation_of(&ws, "psid-kim");

    server.restart();
    let api = ws.api.with_base(&server.base);
    let history = api.messages(&cv);
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["text"], "Please call me back");
    assert_eq!(history[0]["seq"], 1);

    // The sequence continues without a gap and redelivery is still deduplicated.
    let ws = Workspace {
        api: api.clone(),
        ..ws
    };
    let again = post_signed(
        &ws,
        &messenger_body(&[("psid-kim", "m_before_kill", "Please call me back")]),
    )
    .expect_status(200);
    assert_eq!(again.body["duplicates"], 1);
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/conversations/{cv}/live?since=1&token={}",
        token(&ws)
    )));
    post_signed(
        &ws,
        &messenger_body(&[("psid-kim", "m_after_kill", "Still there?")]),
    )
    .expect_status(200);
    let e = live.next_event(WAIT).expect("live after restart");
    assert_eq!(e["seq"], 2);
    assert_eq!(e["message"]["text"], "Still there?");
    let list = api.wait_for_conversations(|l| {
        l.iter()
            .any(|c| c["last_message"]["text"] == "Still there?")
    });
    assert_eq!(list.len(), 1);

    // Killed right after the 200, before the index may have heard of it:
    // after the restart the index catches up by itself.
    post_signed(
        &ws,
        &messenger_body(&[("psid-new", "m_new", "Killed right after")]),
    )
    .expect_status(200);
    server.restart();
    let api = api.with_base(&server.base);
    let list = api.wait_for_conversations(|l| {
        l.iter()
            .any(|c| c["last_message"]["text"] == "Killed right after")
    });
    assert_eq!(list.len(), 2);
}
