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
    /// Files served as the platforms serve media, by path.
    media: std::collections::HashMap<String, Media>,
    /// Paths answered with a redirect to a location.
    redirects: std::collections::HashMap<String, String>,
}

/// A file the fake serves: its bytes, type, and the bearer token it wants.
#[derive(Clone)]
struct Media {
    content_type: String,
    bytes: Vec<u8>,
    bearer: Option<String>,
}

/// An answer: status, content type, body, extra headers.
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn json((status, body): (u16, String)) -> Reply {
        Reply {
            status,
            content_type: "application/json".into(),
            body: body.into_bytes(),
            headers: vec![],
        }
    }
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
                let (reply, delay) = {
                    let mut g = s.lock().unwrap_or_else(|p| p.into_inner());
                    let setup = is_setup(&recorded);
                    match setup {
                        true => g.setup.push(recorded.clone()),
                        false => g.requests.push(recorded.clone()),
                    }
                    let reply = match g.forced.pop_front() {
                        Some(f) => Reply::json(f),
                        // Downloads take no number: the sends' ids stay 1, 2, …
                        None => media_answer(&recorded, &g, &base_of(&recorded), &counter)
                            .unwrap_or_else(|| {
                                // Setup calls leave the sends' ids as they were.
                                let n = match setup {
                                    true => 0,
                                    false => counter.fetch_add(1, Ordering::SeqCst),
                                };
                                Reply::json(answer(&recorded, &g.tokens, &g.pages, n))
                            }),
                    };
                    (reply, g.delays.pop_front())
                };
                if let Some(d) = delay {
                    std::thread::sleep(d);
                }
                let mut response = tiny_http::Response::from_data(reply.body)
                    .with_status_code(reply.status)
                    .with_header(
                        tiny_http::Header::from_bytes(
                            "content-type",
                            reply.content_type.as_bytes(),
                        )
                        .expect("content type header"),
                    );
                for (k, v) in reply.headers {
                    response = response.with_header(
                        tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("header"),
                    );
                }
                let _ = req.respond(response);
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

    /// Serve `bytes` at `path` (a Meta CDN URL's path, no token needed).
    pub fn serve_media(&self, path: &str, content_type: &str, bytes: &[u8]) {
        self.lock().media.insert(
            path.to_string(),
            Media {
                content_type: content_type.into(),
                bytes: bytes.to_vec(),
                bearer: None,
            },
        );
    }

    /// A WhatsApp media id: `GET /{version}/{id}` with `token` answers its
    /// URL, which then serves the bytes to that token only.
    pub fn whatsapp_media(&self, id: &str, token: &str, content_type: &str, bytes: &[u8]) {
        self.lock().media.insert(
            format!("/wa-media/{id}"),
            Media {
                content_type: content_type.into(),
                bytes: bytes.to_vec(),
                bearer: Some(token.into()),
            },
        );
    }

    /// A Telegram `file_id`: `getFile` answers `files/{id}`, served at
    /// `/file/bot<token>/files/{id}`.
    pub fn telegram_file(&self, bot_token: &str, file_id: &str, content_type: &str, bytes: &[u8]) {
        self.lock().media.insert(
            format!("/file/bot{bot_token}/files/{file_id}"),
            Media {
                content_type: content_type.into(),
                bytes: bytes.to_vec(),
                bearer: None,
            },
        );
    }

    /// Answer `path` with `302 Location: location`.
    pub fn redirect(&self, path: &str, location: &str) {
        self.lock()
            .redirects
            .insert(path.to_string(), location.to_string());
    }

    /// Stop serving every file (the platform's links expired).
    pub fn forget_media(&self) {
        self.lock().media.clear();
    }

    /// The calls that send something (not the GETs that download media).
    pub fn sends(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
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

fn base_of(r: &Recorded) -> String {
    format!("http://{}", r.header("host").unwrap_or("127.0.0.1"))
}

/// Media downloads, lookups and uploads, answered as each platform does;
/// `None` for everything else.
fn media_answer(r: &Recorded, g: &Shared, base: &str, counter: &AtomicU64) -> Option<Reply> {
    // getMe and a Graph account's fields are setup reads, not downloads.
    if is_setup(r) {
        return None;
    }
    let path = r.path.split('?').next().unwrap_or_default();
    let bearer = r
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_string);
    if r.method == "GET" {
        if let Some(location) = g.redirects.get(path) {
            return Some(Reply {
                status: 302,
                content_type: "text/plain".into(),
                body: vec![],
                headers: vec![("location".into(), location.clone())],
            });
        }
        if let Some(m) = g.media.get(path) {
            if m.bearer.is_some() && m.bearer != bearer {
                return Some(Reply::json(graph_error(
                    401,
                    "Invalid OAuth access token",
                    190,
                )));
            }
            return Some(Reply {
                status: 200,
                content_type: m.content_type.clone(),
                body: m.bytes.clone(),
                headers: vec![],
            });
        }
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        // WhatsApp: GET /{version}/{media-id}
        if let [version, id] = segments.as_slice() {
            if version.starts_with('v') && !id.starts_with("bot") {
                let Some(m) = g.media.get(&format!("/wa-media/{id}")) else {
                    return Some(Reply::json(graph_error(
                        404,
                        "(#100) Unknown media id",
                        100,
                    )));
                };
                if m.bearer != bearer {
                    return Some(Reply::json(graph_error(
                        401,
                        "Invalid OAuth access token",
                        190,
                    )));
                }
                return Some(Reply::json((
                    200,
                    json!({"messaging_product": "whatsapp", "url": format!("{base}/wa-media/{id}"),
                           "mime_type": m.content_type, "file_size": m.bytes.len(), "id": id})
                    .to_string(),
                )));
            }
        }
        // Telegram: GET /bot<token>/getFile?file_id=…
        if let [bot, "getFile"] = segments.as_slice() {
            let token = bot.strip_prefix("bot").unwrap_or_default();
            if !g.tokens.iter().any(|t| t == token) {
                return Some(Reply::json((
                    401,
                    json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
                        .to_string(),
                )));
            }
            let file_id = r
                .path
                .split_once("file_id=")
                .map(|(_, v)| v.split('&').next().unwrap_or_default().to_string())
                .unwrap_or_default();
            let key = format!("/file/bot{token}/files/{file_id}");
            return Some(Reply::json(match g.media.get(&key) {
                Some(m) => (200, json!({"ok": true, "result": {"file_id": file_id, "file_size": m.bytes.len(), "file_path": format!("files/{file_id}")}}).to_string()),
                None => (400, json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"}).to_string()),
            }));
        }
        return Some(Reply::json((
            404,
            json!({"error": "no such file"}).to_string(),
        )));
    }
    let content_type = r.header("content-type").unwrap_or_default();
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    let n = counter.fetch_add(1, Ordering::SeqCst);
    let parts = multipart_parts(content_type, &r.body);
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Telegram: sendPhoto / sendDocument / sendVoice / sendAudio / sendVideo
    if let [bot, method] = segments.as_slice() {
        if let Some(token) = bot.strip_prefix("bot") {
            if !g.tokens.iter().any(|t| t == token) {
                return Some(Reply::json((
                    401,
                    json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
                        .to_string(),
                )));
            }
            let file_field = match *method {
                "sendPhoto" => "photo",
                "sendDocument" => "document",
                "sendVoice" => "voice",
                "sendAudio" => "audio",
                "sendVideo" => "video",
                _ => {
                    return Some(Reply::json((
                        404,
                        json!({"ok": false, "error_code": 404, "description": "Not Found"})
                            .to_string(),
                    )))
                }
            };
            let ok = field("chat_id").is_some()
                && field(file_field).is_some_and(|f| !f.data.is_empty() && f.filename.is_some());
            return Some(Reply::json(if ok {
                (
                    200,
                    json!({"ok": true, "result": {"message_id": 9000 + n, "chat": {"id": 1}}})
                        .to_string(),
                )
            } else {
                (400, json!({"ok": false, "error_code": 400, "description": format!("Bad Request: there is no {file_field} in the request")}).to_string())
            }));
        }
    }
    let token_ok = bearer
        .as_ref()
        .is_some_and(|b| g.tokens.iter().any(|t| t == b));
    if !token_ok {
        return Some(Reply::json(graph_error(
            401,
            "Invalid OAuth access token",
            190,
        )));
    }
    // WhatsApp: POST /{version}/{phone_number_id}/media
    if segments.len() == 3 && segments.get(2) == Some(&"media") {
        let ok = field("messaging_product").is_some_and(|f| f.data == b"whatsapp")
            && field("file").is_some_and(|f| !f.data.is_empty());
        return Some(Reply::json(if ok {
            (200, json!({"id": format!("wa-up-{n}")}).to_string())
        } else {
            graph_error(400, "(#100) The parameter file is required.", 100)
        }));
    }
    // Messenger / Instagram: POST /{version}/me/messages with filedata
    if segments.len() == 3 && segments.get(2) == Some(&"messages") {
        let message: Value = field("message")
            .and_then(|f| serde_json::from_slice(&f.data).ok())
            .unwrap_or(Value::Null);
        let ok = field("recipient").is_some()
            && message["attachment"]["type"].is_string()
            && field("filedata").is_some_and(|f| !f.data.is_empty());
        return Some(Reply::json(if ok {
            (
                200,
                json!({"recipient_id": "x", "message_id": format!("m_file{n}")}).to_string(),
            )
        } else {
            graph_error(400, "(#100) Upload attachment failure.", 100)
        }));
    }
    None
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct FormPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Splits a `multipart/form-data` body into its parts (as a platform reads it).
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<FormPart> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return vec![];
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let d = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, d) {
        rest = &rest[at + d.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest2 = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let Some(head_end) = find(rest2, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest2[..head_end]).to_string();
        let data_start = &rest2[head_end + 4..];
        let Some(end) = find(data_start, d) else {
            break;
        };
        let data = data_start[..end]
            .strip_suffix(b"\r\n")
            .unwrap_or(&data_start[..end]);
        let attr = |name: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.split('"').next())
                .map(str::to_string)
        };
        parts.push(FormPart {
            name: attr("name").unwrap_or_default(),
            filename: attr("filename"),
            content_type: head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Type: "))
                .map(str::to_string),
            data: data.to_vec(),
        });
        rest = data_start;
    }
    parts
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
