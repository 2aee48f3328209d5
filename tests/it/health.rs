//! `GET /healthz` under `DEBUG_COUNTERS=1` (the tests' and the bench's
//! servers; without it the answer is `{"ok": true}`, `refusals.rs`): the
//! isolate's wasm memory and the JS values Rust holds, which the soak bench
//! samples.

use crate::common::{messenger_body, messenger_workspace, post_signed};
use switchboard_tests::{Api, Server, ServerOptions};

#[test]
fn healthz_tells_the_wasm_memory_under_debug_counters() {
    let server = Server::start_with(ServerOptions::default().var("DEBUG_COUNTERS", "1"));
    let ws = messenger_workspace(&server, "health");
    post_signed(&ws, &messenger_body(&[("psid-h", "m-h-1", "hello")])).expect_status(200);
    let health = Api::new(&server.base).get("/healthz").expect_status(200);
    let wasm = health.body["wasm_memory_bytes"].as_u64().unwrap_or(0);
    let live = health.body["rust_heap_live_bytes"].as_u64().unwrap_or(0);
    // Whole 64 KiB pages, the heap inside them, and not nothing.
    assert_eq!(wasm % 65536, 0, "{}", health.body);
    assert!(live > 0 && live < wasm, "{}", health.body);
    // The handler itself holds its request and environment.
    let refs = health.body["js_refs_live"].as_u64().unwrap_or(0);
    assert!(refs > 0, "{}", health.body);
}
