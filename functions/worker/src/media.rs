//! Downloads from the platforms (inbound attachments). Redirects are
//! followed by hand, each hop checked by `attachments::check_fetch_url`,
//! so a platform URL that leads to a non-public address is refused; the
//! platform's token goes only to the URL it was given for, never to where
//! a redirect points. The size limit is checked on `Content-Length` before
//! the body is read, and again on what arrived.

use futures::future::{select, Either};
use std::time::Duration;
use switchboard_core::attachments::{self, fetch::FetchError, fetch::Get};
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

/// Hops a download may take.
const MAX_REDIRECTS: usize = 5;

/// What a download brought.
pub enum Fetched {
    Bytes {
        bytes: Vec<u8>,
        content_type: Option<String>,
    },
    /// Larger than `max` (by its `Content-Length` or what arrived).
    TooLarge,
}

/// A `GET` whose answer is small JSON (a lookup): status and body.
pub async fn lookup(
    get: &Get,
    trusted: &[String],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), FetchError> {
    attachments::check_fetch_url(&get.url, trusted).map_err(FetchError::fatal)?;
    let mut resp = call(get, timeout).await?;
    let status = resp.status_code();
    let body = resp.bytes().await.unwrap_or_default();
    Ok((status, body))
}

/// Downloads `get`, at most `max` bytes.
pub async fn download(
    get: &Get,
    trusted: &[String],
    max: u64,
    timeout: Duration,
) -> Result<Fetched, FetchError> {
    let mut current = get.clone();
    for _ in 0..=MAX_REDIRECTS {
        attachments::check_fetch_url(&current.url, trusted).map_err(FetchError::fatal)?;
        let mut resp = call(&current, timeout).await?;
        let status = resp.status_code();
        if (300..400).contains(&status) {
            let location = resp
                .headers()
                .get("location")
                .ok()
                .flatten()
                .ok_or_else(|| {
                    FetchError::fatal(format!("the platform answered {status} without a Location"))
                })?;
            let next = worker::Url::parse(&current.url)
                .and_then(|base| base.join(&location))
                .map_err(|_| FetchError::fatal("the platform redirected to an unreadable URL"))?;
            let same_host = worker::Url::parse(&current.url)
                .ok()
                .is_some_and(|u| u.host_str() == next.host_str() && u.port() == next.port());
            current = Get {
                url: next.to_string(),
                bearer: current.bearer.filter(|_| same_host),
            };
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::status(status, "the platform's file"));
        }
        let declared = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|l| l.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max) {
            return Ok(Fetched::TooLarge);
        }
        let content_type = resp.headers().get("content-type").ok().flatten();
        let bytes = resp.bytes().await.map_err(|_| FetchError {
            reason: "the download broke off".into(),
            retry: true,
        })?;
        if bytes.len() as u64 > max {
            return Ok(Fetched::TooLarge);
        }
        if bytes.is_empty() {
            return Err(FetchError::fatal("the platform's file is empty"));
        }
        return Ok(Fetched::Bytes {
            bytes,
            content_type,
        });
    }
    Err(FetchError::fatal(format!(
        "the platform redirected more than {MAX_REDIRECTS} times"
    )))
}

async fn call(get: &Get, timeout: Duration) -> Result<worker::Response, FetchError> {
    let headers = Headers::new();
    if let Some(token) = &get.bearer {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .map_err(|_| FetchError::fatal("the platform token is not a valid header"))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(&get.url, &init)
        .map_err(|_| FetchError::fatal(format!("{} is not a valid URL", redact(&get.url))))?;
    let fetch = Box::pin(async move { Fetch::Request(req).send().await });
    match select(fetch, Delay::from(timeout)).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(_), _)) => Err(FetchError {
            reason: format!("could not reach {}", redact(&get.url)),
            retry: true,
        }),
        Either::Right(_) => Err(FetchError {
            reason: format!(
                "{} did not answer within {}s",
                redact(&get.url),
                timeout.as_secs()
            ),
            retry: true,
        }),
    }
}

/// Scheme, host and port only: Telegram's file URLs carry the bot token.
fn redact(url: &str) -> String {
    match worker::Url::parse(url) {
        Ok(u) => {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        }
        Err(_) => "the platform".into(),
    }
}
