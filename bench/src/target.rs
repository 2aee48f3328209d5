//! What the load code drives: Switchboard or the floor, through the same
//! two URL shapes (a signed Messenger webhook POST, and a WebSocket per
//! conversation).

use crate::server::Proc;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use switchboard_tests::{sign, Api};

pub const APP_SECRET: &str = "bench-meta-app-secret";
pub const PAGE_ID: &str = "1000001";

static EPOCH: OnceLock<Instant> = OnceLock::new();

pub fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since the bench started.
pub fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// A measured message id: `b.<tag>.<n>.<sent at, µs since the epoch>`.
pub fn mid(tag: &str, n: u64) -> String {
    format!("b.{tag}.{n}.{}", now_us())
}

/// `(tag, sent_at_us)` of a measured message id.
pub fn parse_mid(mid: &str) -> Option<(&str, u64)> {
    let rest = mid.strip_prefix("b.")?;
    let tag = rest.split('.').next()?;
    let sent = rest.rsplit('.').next()?.parse().ok()?;
    Some((tag, sent))
}

const WORDS: &[&str] = &[
    "hello",
    "order",
    "shipping",
    "refund",
    "tracking",
    "please",
    "thanks",
    "package",
    "delivery",
    "address",
    "invoice",
    "payment",
    "broken",
    "return",
    "exchange",
    "size",
    "color",
    "discount",
    "coupon",
    "account",
    "password",
    "login",
    "subscription",
    "cancel",
    "receipt",
    "warranty",
];

/// A short customer message; `n` picks the words, and every message carries
/// a rarer `ticket<k>` word.
pub fn text_for(n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5_5A5A;
    let mut words = Vec::with_capacity(9);
    for _ in 0..8 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        words.push(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    format!("{} ticket{}", words.join(" "), n % 10_000)
}

/// One messaging event: `(psid, mid, text)`.
#[derive(Clone)]
pub struct Ev {
    pub psid: String,
    pub mid: String,
    pub text: String,
}

/// A Messenger webhook body carrying `events` in one entry, as Meta batches.
pub fn messenger_body(events: &[Ev]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let messaging: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"sender": {"id": e.psid}, "recipient": {"id": PAGE_ID}, "timestamp": now,
                   "message": {"mid": e.mid, "text": e.text}})
        })
        .collect();
    serde_json::to_vec(
        &json!({"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": messaging}]}),
    )
    .unwrap_or_default()
}

pub struct Target {
    pub name: &'static str,
    pub base: String,
    pub ws_base: String,
    pub webhook_path: String,
    /// Switchboard only: the agent's session and the inbox.
    pub api: Option<Api>,
    pub inbox_id: String,
    pub proc: Option<Proc>,
}

/// One webhook POST's outcome.
pub struct Ack {
    pub mids: Vec<String>,
    pub ok: bool,
    pub micros: u64,
}

impl Target {
    /// Switchboard at `base` (started by the bench or given by `--url`):
    /// signs up a fresh workspace and creates a Messenger inbox.
    pub fn switchboard(base: &str, proc: Option<Proc>) -> Target {
        let email = format!("bench-{}@example.test", now_nanos());
        let (api, _) = Api::new(base).signup("Bench", &email);
        let inbox = api.create_inbox(
            "messenger",
            json!({"page_id": PAGE_ID, "app_secret": APP_SECRET, "verify_token": "bench-verify",
                   "page_access_token": "EAAG-bench"}),
        );
        let inbox_id = inbox["id"].as_str().unwrap_or_default().to_string();
        let port = base
            .rsplit(':')
            .next()
            .unwrap_or("8787")
            .trim_end_matches('/');
        Target {
            name: "switchboard",
            base: base.trim_end_matches('/').to_string(),
            ws_base: format!("ws://127.0.0.1:{port}"),
            webhook_path: format!("/webhooks/messenger/{inbox_id}"),
            api: Some(api),
            inbox_id,
            proc,
        }
    }

    pub fn floor(proc: Proc) -> Target {
        Target {
            name: "floor",
            base: proc.base.clone(),
            ws_base: format!("ws://127.0.0.1:{}", proc.port),
            webhook_path: "/webhooks/messenger/floor".into(),
            api: None,
            inbox_id: String::new(),
            proc: Some(proc),
        }
    }

    pub fn http() -> ureq::Agent {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .max_idle_connections_per_host(4)
            .build()
    }

    /// POSTs a webhook body of the bench's own making, signed; true on 200.
    pub fn post_body(&self, agent: &ureq::Agent, body: &[u8]) -> bool {
        let sig = sign::meta(APP_SECRET, body);
        match agent
            .post(&format!("{}{}", self.base, self.webhook_path))
            .set("x-hub-signature-256", &sig)
            .set("content-type", "application/json")
            .send_bytes(body)
        {
            Ok(r) => r.status() == 200 && r.into_string().is_ok(),
            Err(_) => false,
        }
    }

    /// POSTs a signed webhook carrying `events`.
    pub fn post(&self, agent: &ureq::Agent, events: Vec<Ev>) -> Ack {
        let body = messenger_body(&events);
        let sig = sign::meta(APP_SECRET, &body);
        let started = Instant::now();
        let result = agent
            .post(&format!("{}{}", self.base, self.webhook_path))
            .set("x-hub-signature-256", &sig)
            .set("content-type", "application/json")
            .send_bytes(&body);
        let micros = started.elapsed().as_micros() as u64;
        // A refusal is named, not only counted: the platform would retry
        // it, but the bench should say which side refused and why.
        let refusal = match result {
            Ok(r) if r.status() == 200 => r.into_string().err().map(|e| e.to_string()),
            Ok(r) => Some(format!("{} {}", r.status(), r.status_text())),
            Err(ureq::Error::Status(code, r)) => Some(format!(
                "{code} {}",
                r.into_string()
                    .unwrap_or_default()
                    .chars()
                    .take(160)
                    .collect::<String>()
            )),
            Err(e) => Some(e.to_string()),
        };
        if let Some(reason) = &refusal {
            eprintln!(
                "  {}: a webhook was refused after {} ms: {reason}",
                self.name,
                micros / 1000
            );
        }
        let ok = refusal.is_none();
        Ack {
            mids: events.into_iter().map(|e| e.mid).collect(),
            ok,
            micros,
        }
    }

    /// The conversation id of `psid` (Switchboard names it by hashing the
    /// inbox and the contact; the floor by the psid itself).
    pub fn conversation_id(&self, psid: &str) -> String {
        if self.api.is_some() {
            switchboard_core::ids::conversation_id(&self.inbox_id, psid)
        } else {
            psid.to_string()
        }
    }

    /// The agent's live socket URL for `psid`'s conversation.
    pub fn live_url(&self, psid: &str) -> String {
        let cv = self.conversation_id(psid);
        match &self.api {
            Some(api) => format!(
                "{}/api/conversations/{cv}/live?since=0&token={}",
                self.ws_base,
                api.token.as_deref().unwrap_or_default()
            ),
            None => format!("{}/api/conversations/{cv}/live?since=0", self.ws_base),
        }
    }

    /// A conversation exists only after its first message: sends one to each
    /// psid (10 per POST, 4 senders) and, for Switchboard, checks the first
    /// one's id against the conversation list.
    pub fn create_conversations(&self, psids: &[String]) {
        let chunks: Vec<&[String]> = psids.chunks(10).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let agent = Target::http();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(chunk) = chunks.get(i) else { break };
                        let events: Vec<Ev> = chunk
                            .iter()
                            .map(|p| Ev {
                                psid: p.clone(),
                                mid: format!("init.{p}"),
                                text: format!("hello from {p}"),
                            })
                            .collect();
                        let mut tries = 0;
                        while !self.post(&agent, events.clone()).ok {
                            tries += 1;
                            assert!(tries < 5, "{}: creating conversations failed", self.name);
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                });
            }
        });
        // The list shows the newest 200: any of ours found there must carry
        // the id computed for it.
        if let Some(api) = &self.api {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let list = api.get("/api/conversations?status=all&limit=200");
                let found = list.body["conversations"].as_array().and_then(|l| {
                    l.iter().find_map(|c| {
                        let psid = c["contact"]["external_id"].as_str()?;
                        psids.iter().any(|p| p == psid).then(|| {
                            (
                                psid.to_string(),
                                c["id"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                    })
                });
                if let Some((psid, id)) = found {
                    assert_eq!(
                        id,
                        self.conversation_id(&psid),
                        "conversation ids are named differently than expected"
                    );
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the conversation list never showed any of the new conversations"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

pub fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
