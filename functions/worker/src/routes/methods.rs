//! Which methods each known path answers, so a wrong method gets 405 with
//! `Allow` instead of a 404 that says the path does not exist. It mirrors
//! the router's table by path alone; the API fuzzer sends every path of
//! `schema/openapi.yaml` with wrong methods, so a route missing here shows
//! up there as a 404 where a 405 belongs.

/// The methods `segments` (the path split at `/`) answers; empty for an
/// unknown path.
pub fn allowed(segments: &[&str]) -> &'static [&'static str] {
    match segments {
        ["healthz"] => &["GET"],
        ["api", "signup" | "login" | "logout"] => &["POST"],
        ["api", "me"] => &["GET", "PATCH"],
        ["api", "me", "password"] => &["POST"],
        ["api", "workspace"] => &["GET", "PATCH"],
        ["api", "workspace", "translation"] => &["GET"],
        ["api", "invitations"] => &["GET", "POST"],
        ["api", "invitations", "accept"] => &["POST"],
        ["api", "invitations", _] => &["DELETE"],
        ["api", "agents"] => &["GET"],
        ["api", "agents", _] => &["PATCH", "DELETE"],
        ["api", "api_keys"] => &["GET", "POST"],
        ["api", "api_keys", _] => &["DELETE"],
        ["api", "inboxes"] => &["GET", "POST"],
        ["api", "inboxes", _] => &["GET", "PATCH", "DELETE"],
        ["api", "inboxes", _, "test" | "test_message" | "webhook"] => &["POST"],
        ["api", "labels"] => &["GET", "POST"],
        ["api", "labels", _] => &["PATCH", "DELETE"],
        ["api", "conversations"] => &["GET"],
        ["api", "conversations", _] => &["PATCH"],
        ["api", "conversations", _, "messages"] => &["GET", "POST"],
        ["api", "conversations", _, "messages", _, "translate"] => &["POST"],
        ["api", "conversations", _, "language" | "events" | "live" | "export"] => &["GET"],
        ["api", "conversations", _, "read" | "erase"] => &["POST"],
        ["api", "conversations", _, "contact"] => &["PATCH"],
        ["api", "conversations", _, "attachments"] => &["POST"],
        ["api", "attachments", _] | ["api", "attachments", _, "link"] => &["GET"],
        ["api", "canned_responses"] => &["GET", "POST"],
        ["api", "canned_responses", _] => &["PATCH", "DELETE"],
        ["api", "audit_log" | "search" | "reports" | "live" | "feed" | "visitors" | "export"] => {
            &["GET"]
        }
        ["api", "live", "ticket"] => &["POST"],
        ["webhooks", _, _] => &["GET", "POST"],
        _ => &[],
    }
}

/// The widget's paths (after `/api/widget/`); every one also answers
/// `OPTIONS` (CORS preflight).
pub fn widget_allowed(rest: &[&str]) -> &'static [&'static str] {
    match rest {
        [_, "config"] | ["events" | "live"] => &["GET", "OPTIONS"],
        [_, "session"] | ["messages" | "visit" | "ticket" | "attachments"] => &["POST", "OPTIONS"],
        ["attachments", _] => &["GET", "OPTIONS"],
        _ => &[],
    }
}

/// The 405 for `method` on a path that answers `allowed`.
pub fn not_allowed(method: &str, allowed: &[&str]) -> crate::http::ApiError {
    crate::http::ApiError::new(
        405,
        format!(
            "method {method} is not allowed here; use {}",
            allowed.join(" or ")
        ),
    )
}

/// 405 with the one-line reason and `Allow`.
pub fn respond(method: &str, allowed: &[&str]) -> worker::Result<worker::Response> {
    let mut resp = crate::http::error_response(&not_allowed(method, allowed))?;
    resp.headers_mut().set("allow", &allowed.join(", "))?;
    Ok(resp)
}
