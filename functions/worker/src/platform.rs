//! Calls out to the platforms (Graph API, Telegram Bot API, a workspace's
//! callback URL). The request is built by the core; this only performs it.

use futures::future::{select, Either};
use std::time::Duration;
use switchboard_core::outbound::OutboundRequest;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};

/// Performs `request`; returns the status and body, or a one-line reason the
/// platform could not be reached (which the outbox retries).
pub async fn send(request: &OutboundRequest, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    let headers = Headers::new();
    for (k, v) in &request.headers {
        headers
            .set(k, v)
            .map_err(|e| format!("invalid header {k}: {e}"))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method.to_string()))
        .with_headers(headers);
    // A GET may not carry a body, not even an empty one (Test connection).
    if request.method != "GET" {
        init.with_body(Some(
            js_sys::Uint8Array::from(request.body.as_slice()).into(),
        ));
    }
    let req = Request::new_with_init(&request.url, &init)
        .map_err(|e| format!("invalid platform request to {}: {e}", redact(&request.url)))?;
    let call = async {
        let mut resp = Fetch::Request(req).send().await?;
        let status = resp.status_code();
        let body = resp.bytes().await.unwrap_or_default();
        Ok::<_, worker::Error>((status, body))
    };
    let call = Box::pin(call);
    match select(call, Delay::from(timeout)).await {
        Either::Left((Ok(answer), _)) => Ok(answer),
        Either::Left((Err(e), _)) => Err(format!("could not reach {}: {e}", redact(&request.url))),
        Either::Right(_) => Err(format!(
            "{} did not answer within {}s",
            redact(&request.url),
            timeout.as_secs()
        )),
    }
}

/// The URL without anything that may be a secret (Telegram puts the bot
/// token in the path): scheme, host and port only.
fn redact(url: &str) -> String {
    match worker::Url::parse(url) {
        Ok(u) => {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        }
        Err(_) => "the platform".into(),
    }
}
