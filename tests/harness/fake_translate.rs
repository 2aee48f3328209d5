//! A LibreTranslate-compatible server on 127.0.0.1 with a small fixed
//! dictionary. It checks what LibreTranslate checks: the request's shape
//! (`q`, `source`, `target`, `format: "text"`), the API key, and that the
//! languages asked for are ones it has; it answers `{translatedText,
//! detectedLanguage?}` or `{"error": …}` with 400/403/429/500, counts every
//! call, and can be told to be down (500), refuse the key (403) or hang.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// (source, target, text, translation).
const DICTIONARY: &[(&str, &str, &str, &str)] = &[
    (
        "de",
        "en",
        "Hallo, wo ist meine Bestellung?",
        "Hello, where is my order?",
    ),
    (
        "de",
        "en",
        "Ich habe gestern eine Bestellung aufgegeben und warte noch auf die Bestätigung.",
        "I placed an order yesterday and am still waiting for the confirmation.",
    ),
    ("de", "en", "Danke!", "Thanks!"),
    (
        "en",
        "de",
        "Your parcel ships tomorrow.",
        "Ihr Paket wird morgen versandt.",
    ),
    ("en", "de", "Thanks for waiting.", "Danke fürs Warten."),
    (
        "fr",
        "en",
        "Bonjour, où est ma commande ?",
        "Hello, where is my order?",
    ),
    (
        "en",
        "fr",
        "Your parcel ships tomorrow.",
        "Votre colis part demain.",
    ),
];

const LANGUAGES: &[&str] = &["en", "de", "fr", "es"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Every call is a 500 `{"error": …}`.
    Down,
    /// Every call is a 403: the key is refused.
    RefuseKey,
    /// Calls are never answered (held until the server stops).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub body: Value,
}

struct Shared {
    mode: Mode,
    calls: Vec<Call>,
    /// Requests that broke the rules, with why (a test asserts none).
    violations: Vec<String>,
}

pub struct FakeTranslate {
    pub base: String,
    pub api_key: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeTranslate {
    pub fn start(api_key: &str) -> FakeTranslate {
        let server =
            tiny_http::Server::http("127.0.0.1:0").expect("binding the fake translation server");
        let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
        let shared = Arc::new(Mutex::new(Shared {
            mode: Mode::Normal,
            calls: Vec::new(),
            violations: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, key) = (shared.clone(), stop.clone(), api_key.to_string());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                let mut raw = Vec::new();
                let _ = req.as_reader().read_to_end(&mut raw);
                let path = req.url().to_string();
                let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                let mode = {
                    let mut g = s.lock().unwrap_or_else(|p| p.into_inner());
                    g.calls.push(Call {
                        path: path.clone(),
                        body: body.clone(),
                    });
                    g.mode
                };
                let (s2, st2, key2) = (s.clone(), st.clone(), key.clone());
                // One thread per request: a hanging answer holds no other.
                std::thread::spawn(move || {
                    if mode == Mode::Hang {
                        while !st2.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        return;
                    }
                    let (status, answer) = match mode {
                        Mode::Down => (500, json!({"error": "Translation service is down"})),
                        Mode::RefuseKey => (403, json!({"error": "Invalid API key"})),
                        _ => answer(&path, &body, &key2, &s2),
                    };
                    let header = tiny_http::Header::from_bytes("content-type", "application/json")
                        .expect("static header");
                    let _ = req.respond(
                        tiny_http::Response::from_string(answer.to_string())
                            .with_status_code(status)
                            .with_header(header),
                    );
                });
            }
        });
        FakeTranslate {
            base: format!("http://127.0.0.1:{port}"),
            api_key: api_key.to_string(),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Calls to `/translate`.
    pub fn translate_calls(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path.starts_with("/translate"))
            .collect()
    }

    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Waits until at least `n` translate calls arrived; returns them.
    pub fn wait_for_calls(&self, n: usize, timeout: Duration) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let c = self.translate_calls();
            if c.len() >= n || Instant::now() > deadline {
                return c;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether any call ever carried `needle` in its text.
    pub fn ever_saw(&self, needle: &str) -> bool {
        self.calls()
            .iter()
            .any(|c| c.body["q"].as_str().is_some_and(|q| q.contains(needle)))
    }
}

impl Drop for FakeTranslate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn violation(shared: &Mutex<Shared>, why: String) -> (u16, Value) {
    shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .violations
        .push(why.clone());
    (400, json!({ "error": why }))
}

/// LibreTranslate's answer to a well-behaved server.
fn answer(path: &str, body: &Value, key: &str, shared: &Mutex<Shared>) -> (u16, Value) {
    if body["api_key"].as_str() != Some(key) {
        return (
            403,
            json!({"error": "Invalid API key. Get one at https://portal.libretranslate.com"}),
        );
    }
    let Some(q) = body["q"].as_str() else {
        return violation(
            shared,
            format!("{path}: q must be a string, got {}", body["q"]),
        );
    };
    let detect = |q: &str| {
        DICTIONARY
            .iter()
            .find(|(_, _, text, _)| *text == q)
            .map(|(source, ..)| *source)
    };
    match path {
        "/detect" => match detect(q) {
            Some(lang) => (200, json!([{"language": lang, "confidence": 90.0}])),
            None => (200, json!([{"language": "en", "confidence": 10.0}])),
        },
        "/translate" => {
            if body["format"] != "text" {
                return violation(
                    shared,
                    format!("format must be \"text\", got {}", body["format"]),
                );
            }
            let (Some(source), Some(target)) = (body["source"].as_str(), body["target"].as_str())
            else {
                return violation(shared, "source and target must be strings".into());
            };
            if source != "auto" && !LANGUAGES.contains(&source) {
                return violation(shared, format!("{source} is not supported"));
            }
            if !LANGUAGES.contains(&target) {
                return violation(shared, format!("{target} is not supported"));
            }
            let from = if source == "auto" {
                detect(q).unwrap_or("en")
            } else {
                source
            };
            let found = DICTIONARY
                .iter()
                .find(|(s, t, text, _)| *s == from && *t == target && *text == q)
                .map(|(.., tr)| *tr);
            let text = match found {
                Some(t) => t.to_string(),
                // Outside the dictionary: marked, so a test can tell.
                None if from == target => q.to_string(),
                None => format!("[{target}] {q}"),
            };
            let mut out = json!({ "translatedText": text });
            if source == "auto" {
                out["detectedLanguage"] = json!({"language": from, "confidence": 90.0});
            }
            (200, out)
        }
        other => (404, json!({ "error": format!("no route {other}") })),
    }
}
