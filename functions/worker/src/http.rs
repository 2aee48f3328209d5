//! HTTP plumbing: the one error type a client ever sees, JSON answers, and
//! bounded body reads.
//!
//! Only an [`ApiError`] reaches a client, as `{"error": "<one line>"}` with
//! its status. Internal failures are logged with what failed and answered
//! with a bare 500.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::{Request, Response};

/// A client-facing error: a status and a one-line reason.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub reason: String,
    /// For 429: when to try again, sent as `Retry-After`.
    pub retry_after_secs: Option<i64>,
}

impl ApiError {
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            reason: reason.into(),
            retry_after_secs: None,
        }
    }
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(400, reason)
    }
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self::new(401, reason)
    }
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(403, reason)
    }
    pub fn too_many(reason: impl Into<String>, retry_after_secs: i64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(429, reason)
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(404, format!("{what} not found"))
    }
    /// Something of ours failed: log it with `context`, tell the client only 500.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        worker::console_error!("{context}: {err}");
        Self::new(500, "internal error; it has been logged")
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal("runtime call failed", e)
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// A JSON answer with `status`.
pub fn json<T: Serialize>(status: u16, value: &T) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// The answer for an error: `{"error": "…"}` with its status.
pub fn error_response(err: &ApiError) -> worker::Result<Response> {
    let mut resp = json(err.status, &serde_json::json!({ "error": err.reason }))?;
    if let Some(secs) = err.retry_after_secs {
        resp.headers_mut().set("retry-after", &secs.to_string())?;
    }
    Ok(resp)
}

/// The headers every worker answer (API, webhooks, health) carries: never
/// sniffed as another type, never stored by a cache (API JSON is per
/// caller), and HSTS when the request came over https (never on a local
/// http://127.0.0.1). A WebSocket upgrade (101) is left as it is. The
/// worker's own answers get them in place; an object's answer has
/// immutable headers, so those are copied into new ones.
pub fn with_api_headers(mut resp: Response, https: bool) -> worker::Result<Response> {
    if resp.status_code() == 101 {
        return Ok(resp);
    }
    // Setting the first header either works or changes nothing.
    if add_api_headers(resp.headers_mut(), https).is_ok() {
        return Ok(resp);
    }
    let headers = worker::Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.append(&k, &v)?;
    }
    add_api_headers(&headers, https)?;
    Ok(resp.with_headers(headers))
}

fn add_api_headers(headers: &worker::Headers, https: bool) -> worker::Result<()> {
    headers.set("x-content-type-options", "nosniff")?;
    if !headers.has("cache-control")? {
        headers.set("cache-control", "no-store")?;
    }
    if https {
        headers.set("strict-transport-security", "max-age=31536000")?;
    }
    Ok(())
}

pub fn into_response(result: ApiResult<Response>) -> worker::Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => error_response(&e),
    }
}

/// The body as raw bytes, refused with 413 above `limit` bytes.
pub async fn body_bytes(req: &mut Request, limit: usize) -> ApiResult<Vec<u8>> {
    raw_body_bytes(req.inner(), limit).await
}

/// [`body_bytes`] of the runtime's request itself (the webhook path takes
/// it before any `worker::Request` conversion). The declared length is
/// checked first, so an oversized body is refused unread.
pub async fn raw_body_bytes(req: &web_sys::Request, limit: usize) -> ApiResult<Vec<u8>> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let unreadable = |_| ApiError::bad_request("could not read the request body");
    let buffer = JsFuture::from(req.array_buffer().map_err(unreadable)?)
        .await
        .map_err(unreadable)?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(413, format!("body is larger than the {limit}-byte limit"))
}

/// The most an API call's JSON body may be.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// The body parsed as JSON into `T`, with a one-line reason when it is not.
pub async fn json_body<T: DeserializeOwned>(req: &mut Request) -> ApiResult<T> {
    let bytes = body_bytes(req, API_BODY_LIMIT).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// A query parameter's value, if present.
pub fn query(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A query parameter parsed as an integer, with a 400 if it is not one.
pub fn query_int(req: &Request, name: &str) -> ApiResult<Option<i64>> {
    match query(req, name) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!("query parameter {name} must be an integer"))
        }),
    }
}
