//! Signing webhooks exactly as each platform does, over the raw bytes.

use switchboard_core::verify;

/// Meta's `X-Hub-Signature-256` header value.
pub fn meta(app_secret: &str, body: &[u8]) -> String {
    verify::sign_meta(app_secret, body)
}

/// The API channel's `(X-Switchboard-Timestamp, X-Switchboard-Signature)`.
pub fn api(secret: &str, unix_secs: i64, body: &[u8]) -> (String, String) {
    (
        unix_secs.to_string(),
        verify::sign_api(secret, unix_secs, body),
    )
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
