//! A stand-in for Meta's Graph API, Telegram's Bot API and a workspace's
//! callback URL, on 127.0.0.1. It records every request and answers as the
//! platform would: it checks the access token and the body's shape, and
//! can be told to fail the next requests (outages, rate limits, refusals).
//!
//! Setting an inbox up (Telegram `setWebhook` and `getMe`, Graph `GET`s of
//! `/me` or a node) is recorded apart, in [`FakePlatform::setup_calls`], so
//! [`FakePlatform::requests`] stays the messages sent.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct Shared {
    requests: Vec<Recorded>,
    /// setWebhook, getMe and Graph GETs: an inbox being set up.
    setup: Vec<Recorded>,
    /// Page tokens → (page id, page name), for Graph's `GET /me`.
    pages: Vec<(String, String, String)>,
    /// Answers to give instead of the normal one, first in first out.
    forced: VecDeque<(u16, String)>,
    /// Access tokens the Graph API accepts; bot tokens Telegram accepts.
    tokens: Vec<String>,
    /// How long to hold the next answers, first in first out (a slow platform).
    delays: VecDeque<Duration>,
}

pub struct FakePlatform {
    pub base: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakePlatform {
    pub fn start() -> FakePlatform {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("binding the fake platform");
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (shared.clone(), stop.clone());
        let counter = AtomicU64::new(1);
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                let mut body = Vec::new();
                let _ = req.as_reader().read_to_end(&mut body);
                let recorded = Recorded {
                    method: req.method().to_string(),
                    path: req.url().to_string(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                };
                let (status, answer, delay) = {
                    let mut g = s.lock().unwrap_or_else(|p| p.into_inner());
                    let setup = is_setup(&recorded);
                    match setup {
                        true => g.setup.push(recorded.clone()),
                        false => g.requests.push(recorded.clone()),
                    }
                    let (status, answer) = match g.forced.pop_front() {
                        Some(f) => f,
                        None => answer(
                            &recorded,
                            &g.tokens,
                            &g.pages,
                            // Setup calls leave the sends' ids as they were.
                            match setup {
                                true => 0,
                                false => counter.fetch_add(1, Ordering::SeqCst),
                            },
                        ),
                    };
                    (status, answer, g.delays.pop_front())
                };
                if let Some(d) = delay {
                    std::thread::sleep(d);
                }
                let header = tiny_http::Header::from_bytes("content-type", "application/json")
                    .expect("static header");
                let _ = req.respond(
                    tiny_http::Response::from_string(answer)
                        .with_status_code(status)
                        .with_header(header),
                );
            }
        });
        FakePlatform {
            base: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Accept this access token (Graph) or bot token (Telegram).
    pub fn accept_token(&self, token: &str) {
        self.lock().tokens.push(token.to_string());
    }

    /// Accept this page access token; Graph's `GET /me` with it names this page.
    pub fn accept_page(&self, token: &str, page_id: &str, name: &str) {
        let mut g = self.lock();
        g.tokens.push(token.to_string());
        g.pages
            .push((token.to_string(), page_id.to_string(), name.to_string()));
    }

    /// The setup calls so far: setWebhook, getMe, Graph GETs.
    pub fn setup_calls(&self) -> Vec<Recorded> {
        self.lock().setup.clone()
    }

    /// Answer the next request with `status` and `body` instead.
    pub fn force_next(&self, status: u16, body: &str) {
        self.lock().forced.push_back((status, body.to_string()));
    }

    /// Hold the answer to the next request for `d` (recorded at once).
    pub fn delay_next(&self, d: Duration) {
        self.lock().delays.push_back(d);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.requests();
            if r.len() >= n || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakePlatform {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn graph_error(status: u16, message: &str, code: i64) -> (u16, String) {
    (
        status,
        json!({"error": {"message": message, "type": "OAuthException", "code": code}}).to_string(),
    )
}

/// Setting an inbox up rather than sending: Telegram's setWebhook and
/// getMe, a Graph API read of an account (`GET …?fields=`, Test connection).
fn is_setup(r: &Recorded) -> bool {
    let path = r.path.split('?').next().unwrap_or_default();
    path.ends_with("/setWebhook") || path.ends_with("/getMe") || is_graph_read(r)
}

fn is_graph_read(r: &Recorded) -> bool {
    r.method == "GET" && r.path.contains("?fields=")
}

fn bearer(r: &Recorded) -> &str {
    r.header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// The platform's normal answer.
fn answer(
    r: &Recorded,
    tokens: &[String],
    pages: &[(String, String, String)],
    n: u64,
) -> (u16, String) {
    let path = r.path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Telegram: /bot<token>/<method>
    if let Some(first) = segments.first().and_then(|s| s.strip_prefix("bot")) {
        if !tokens.iter().any(|t| t == first) {
            return (
                401,
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}).to_string(),
            );
        }
        let body = r.json();
        match segments.get(1).copied() {
            Some("getMe") => {
                return (200, json!({"ok": true, "result": {"id": 123456, "is_bot": true, "first_name": "Fake bot", "username": "fake_bot"}}).to_string());
            }
            Some("setWebhook") => {
                let url = body["url"].as_str().unwrap_or_default();
                let secret = body["secret_token"].as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return (400, json!({"ok": false, "error_code": 400, "description": "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"}).to_string());
                }
                let secret_ok = !secret.is_empty()
                    && secret.len() <= 256
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !secret_ok {
                    return (400, json!({"ok": false, "error_code": 400, "description": "Bad Request: secret token contains unallowed characters"}).to_string());
                }
                return (
                    200,
                    json!({"ok": true, "result": true, "description": "Webhook was set"})
                        .to_string(),
                );
            }
            _ => {}
        }
        if body["chat_id"].is_null() || body["text"].as_str().unwrap_or_default().is_empty() {
            return (400, json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"}).to_string());
        }
        return (200, json!({"ok": true, "result": {"message_id": n, "chat": {"id": body["chat_id"]}, "text": body["text"]}}).to_string());
    }
    // Graph API reads: GET /{version}/me (the page of a page token) or
    // GET /{version}/{id} (an Instagram account, a WhatsApp number).
    if is_graph_read(r) && segments.len() == 2 && segments[0].starts_with('v') {
        let token = bearer(r);
        if !tokens.iter().any(|t| t == token) {
            return graph_error(
                401,
                "Invalid OAuth access token - Cannot parse access token",
                190,
            );
        }
        if segments[1] == "me" {
            let (id, name) = pages
                .iter()
                .find(|(t, _, _)| t == token)
                .map(|(_, id, name)| (id.as_str(), name.as_str()))
                .unwrap_or(("0", "Fake user"));
            return (200, json!({"id": id, "name": name}).to_string());
        }
        return (200, json!({"id": segments[1], "username": "fake_account", "display_phone_number": "+1 555 0100", "verified_name": "Fake Business"}).to_string());
    }
    // Graph API: /{version}/me/messages, /{version}/{id}/messages
    if segments.len() == 3
        && segments.first().is_some_and(|v| v.starts_with('v'))
        && segments.get(2) == Some(&"messages")
    {
        let token = r
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !tokens.iter().any(|t| t == token) {
            return graph_error(
                401,
                "Invalid OAuth access token - Cannot parse access token",
                190,
            );
        }
        let body = r.json();
        if body["messaging_product"] == "whatsapp" {
            if body["to"].is_null() {
                return graph_error(400, "(#100) The parameter to is required.", 100);
            }
            return (200, json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}], "messages": [{"id": format!("wamid.fake{n}")}]}).to_string());
        }
        if body["recipient"]["id"].is_null() || body["message"].is_null() {
            return graph_error(400, "(#100) param recipient must be non-empty.", 100);
        }
        return (
            200,
            json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_fake{n}")})
                .to_string(),
        );
    }
    // Anything else: a workspace's callback URL, which says OK.
    (
        200,
        json!({"ok": true, "id": format!("cb_{n}")}).to_string(),
    )
}
