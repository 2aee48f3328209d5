//! Cheap refusals: a flood of webhooks for an unknown or deleted inbox, or
//! with a bad signature, is answered from the isolate's caches — one D1
//! inbox lookup for the first request, none for the rest — so a flood
//! cannot starve real traffic of D1.
//!
//! Measured with the worker's own count of D1 inbox lookups, which
//! `/healthz` reports only when the server runs with `DEBUG_COUNTERS=1`.
//! (The dev server runs the worker in one isolate, so the count is the
//! whole server's.)

use crate::common::{messenger_body, messenger_workspace, post_signed};
use switchboard_tests::{Api, Server, ServerOptions};

const FLOOD: u64 = 40;

fn inbox_queries(server: &Server) -> u64 {
    let health = Api::new(&server.base).get("/healthz").expect_status(200);
    health.body["inbox_queries"]
        .as_u64()
        .expect("/healthz reports inbox_queries under DEBUG_COUNTERS=1")
}

fn flood(api: &Api, path: &str, headers: &[(&str, &str)], body: &[u8], want: u16) {
    for _ in 0..FLOOD {
        api.post_raw(path, headers, body).expect_error(want);
    }
}

#[test]
fn floods_of_unknown_deleted_and_badly_signed_webhooks_cost_one_lookup_each() {
    let server = Server::start_with(ServerOptions::default().var("DEBUG_COUNTERS", "1"));
    let ws = messenger_workspace(&server, "refusals");
    let body = messenger_body(&[("psid-flood", "m-flood-1", "hello")]);
    let stranger = Api::new(&server.base);
    let json = [("content-type", "application/json")];

    // An inbox id that was never created.
    let unknown = "/webhooks/messenger/in_0123456789abcdef0123456789abcdef";
    let before = inbox_queries(&server);
    flood(&stranger, unknown, &json, &body, 404);
    let unknown_cost = inbox_queries(&server) - before;
    assert_eq!(unknown_cost, 1, "{FLOOD} webhooks for an unknown inbox");

    // A bad signature on a live inbox: refused by the cached inbox row.
    let bad = [
        ("content-type", "application/json"),
        ("x-hub-signature-256", "sha256=00000000"),
    ];
    let before = inbox_queries(&server);
    flood(&stranger, &ws.webhook_path, &bad, &body, 401);
    assert!(
        inbox_queries(&server) - before <= 1,
        "{FLOOD} badly signed webhooks cost {} lookups",
        inbox_queries(&server) - before
    );

    // A deleted inbox: one lookup after the deletion, then none.
    post_signed(&ws, &body).expect_status(200);
    ws.api
        .delete(&format!("/api/inboxes/{}", ws.inbox_id))
        .expect_status(200);
    let before = inbox_queries(&server);
    for _ in 0..FLOOD {
        post_signed(&ws, &body).expect_error(404);
    }
    assert_eq!(
        inbox_queries(&server) - before,
        1,
        "{FLOOD} webhooks for a deleted inbox"
    );

    // Real traffic still gets through: a new inbox answers at once.
    let live = messenger_workspace(&server, "refusals-live");
    post_signed(&live, &body).expect_status(200);
}

#[test]
fn the_lookup_counter_is_not_reported_without_the_test_var() {
    let server = Server::start();
    let health = Api::new(&server.base).get("/healthz").expect_status(200);
    assert_eq!(health.body, serde_json::json!({"ok": true}));
}
