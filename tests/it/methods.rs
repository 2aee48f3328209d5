//! A wrong method on a known path is a 405 that says which methods the
//! path answers (in `Allow` and in the one-line reason) and changes
//! nothing; an unknown path stays a 404.

use crate::common::*;
use switchboard_tests::api::Answer;
use switchboard_tests::{Api, Server};

/// The answer and its `Allow` header.
fn call(api: &Api, method: &str, path: &str) -> (Answer, Option<String>) {
    let resp = match api.request(method, path).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let allow = resp.header("allow").map(str::to_string);
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (Answer { status, body, text }, allow)
}

#[test]
fn wrong_methods_get_405_with_allow() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "methods");
    post_signed(&ws, &messenger_body(&[("psid-405", "m-405", "keep me")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-405");
    let inbox = ws.inbox_id.clone();
    let cases = [
        ("DELETE", "/api/conversations".to_string(), "GET"),
        ("PUT", format!("/api/inboxes/{inbox}"), "GET, PATCH, DELETE"),
        (
            "DELETE",
            format!("/api/conversations/{cv}/messages"),
            "GET, POST",
        ),
        ("GET", "/api/login".to_string(), "POST"),
        ("POST", "/api/export".to_string(), "GET"),
        ("DELETE", ws.webhook_path.clone(), "GET, POST"),
        ("POST", "/healthz".to_string(), "GET"),
        ("GET", "/api/widget/messages".to_string(), "POST, OPTIONS"),
    ];
    for (method, path, allow) in cases {
        let (answer, header) = call(&ws.api, method, &path);
        let answer = answer.expect_error(405);
        assert_eq!(header.as_deref(), Some(allow), "{method} {path}");
        let reason = answer.body["error"].as_str().unwrap();
        assert!(
            reason.contains(method) && reason.contains(allow.split(", ").next().unwrap()),
            "{reason}"
        );
    }
    // Refused, nothing changed: the inbox and the message are still there.
    ws.api
        .get(&format!("/api/inboxes/{inbox}"))
        .expect_status(200);
    assert_eq!(ws.api.messages(&cv).len(), 1);
    // Unknown paths are still 404, with no Allow.
    let (answer, header) = call(&ws.api, "GET", "/api/no-such-thing");
    answer.expect_error(404);
    assert_eq!(header, None);
}
