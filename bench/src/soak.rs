//! `--soak`: sustained, messy load against one Switchboard server on
//! 127.0.0.1, with a SIGKILL and a restart on the same state halfway, and
//! the guarantees counted afterwards.
//!
//! - website visitors (`--soak-visitors`, 300): widget sessions, half on
//!   the WebSocket (opened with a single-use ticket), half on the long-poll;
//!   each writes now and then (with a `client_id`, retried until stored);
//! - agents (`--soak-agents`, 5): a feed socket each plus the sockets of the
//!   conversations they have open (visitors' and Messenger's); they reply to
//!   visitors;
//! - Meta-style batched webhooks (10 events a POST over 50 Messenger
//!   conversations), retried with the same ids until acknowledged;
//! - every client drops its connection at random (every 20–120 s each:
//!   several drops a second in all), one visitor socket in 20 stalls without
//!   reading for 8 s now and then, and the server is killed halfway.
//!
//! Every message's text is a unique tag. A stream must see every tag
//! acknowledged in its conversation once (else *lost*, or *duplicated*),
//! with `seq` increasing on each connection (else *out of order*). The
//! feed must stay gapless. `--check` exits 1 unless all three are 0 (counts
//! only, no timing assertions: the test command's 30-second run).

use crate::report::Spread;
use crate::server::Proc;
use crate::target::{messenger_body, Ev, Target};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_tests::sign;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub struct SoakOptions {
    pub duration: Duration,
    pub visitors: usize,
    pub agents: usize,
    pub preload: u64,
    pub check: bool,
    /// How many times the load runs on the same server, each round with
    /// new visitors (unless `same_visitors`) and each followed by the idle
    /// two minutes: a second
    /// round that stays under the first one's memory shows the memory is
    /// reused, not lost. Only the first round kills the server.
    pub rounds: u32,
    /// Every round in the first round's workspace, with the same visitors
    /// and conversations (`--soak-same-visitors`): no new object ids after
    /// the first round, the control for what new objects leave behind.
    pub same_visitors: bool,
}

/// Counters of one client kind.
#[derive(Default)]
struct Kind {
    clients: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    duplicated: AtomicU64,
    out_of_order: AtomicU64,
    reconnects: AtomicU64,
    /// Feed only: a jump in the gapless feed `seq`.
    gaps: AtomicU64,
    latencies: Mutex<Vec<u64>>,
}

/// One stream a client holds: what it has seen.
struct StreamState {
    conversation: String,
    last_seq: AtomicU64,
    seen: Mutex<HashSet<String>>,
}

struct Ctx {
    base: String,
    ws_base: String,
    stop_sending: AtomicBool,
    stop: AtomicBool,
    /// Tags acknowledged per conversation.
    acked: Mutex<HashMap<String, Vec<String>>>,
    sent_at: Mutex<HashMap<String, Instant>>,
    kinds: HashMap<&'static str, Kind>,
    http: ureq::Agent,
}

const KINDS: [&str; 5] = [
    "visitor-ws",
    "visitor-poll",
    "agent-socket",
    "agent-feed",
    "meta-webhook",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

impl Ctx {
    fn kind(&self, k: &str) -> &Kind {
        // KINDS is the only source of names.
        self.kinds
            .get(k)
            .unwrap_or_else(|| unreachable!("kind {k}"))
    }

    fn sent(&self, tag: &str) {
        if let Ok(mut m) = self.sent_at.lock() {
            m.insert(tag.to_string(), Instant::now());
        }
    }

    fn acked(&self, conversation: &str, tag: &str) {
        if let Ok(mut m) = self.acked.lock() {
            m.entry(conversation.to_string())
                .or_default()
                .push(tag.to_string());
        }
    }

    fn post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        ip: Option<&str>,
    ) -> Option<(u16, Value)> {
        post(&self.http, &self.base, path, token, body, ip)
    }

    /// Applies one event frame a stream received on a connection whose
    /// previous `seq` was `conn_last`.
    fn apply(&self, kind: &Kind, stream: &StreamState, conn_last: &mut u64, e: &Value) {
        let Some(seq) = e["seq"].as_u64() else { return };
        if seq <= *conn_last {
            kind.out_of_order.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *conn_last = seq;
        stream.last_seq.store(seq, Ordering::SeqCst);
        if e["type"] != "message_created" {
            return;
        }
        let Some(tag) = e["message"]["text"].as_str() else {
            return;
        };
        let fresh = stream
            .seen
            .lock()
            .map(|mut s| s.insert(tag.to_string()))
            .unwrap_or(false);
        if !fresh {
            kind.duplicated.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let sent = self.sent_at.lock().ok().and_then(|m| m.get(tag).copied());
        if let (Some(at), Ok(mut l)) = (sent, kind.latencies.lock()) {
            l.push(at.elapsed().as_micros() as u64);
        }
    }
}

struct Visitor {
    token: String,
    conversation: String,
    ip: String,
}

fn sleep_unless(ctx: &Ctx, d: Duration, flag: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !flag.load(Ordering::SeqCst) && !ctx.stop.load(Ordering::SeqCst)
    {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

/// How a socket client behaves: its random seed, whether it stalls now
/// and then, whether its stream is the gapless feed.
struct How {
    seed: u64,
    stalls: bool,
    feed: bool,
}

/// A socket reader: ticket → connect with `since` → read, drop at random,
/// stall if asked, reconnect with the last `seq`, until `stop`.
fn socket_loop(
    ctx: &Ctx,
    kind: &Kind,
    stream: &StreamState,
    ticket: &dyn Fn() -> Option<String>,
    path: &dyn Fn(u64, &str) -> String,
    how: How,
) {
    let How { seed, stalls, feed } = how;
    let mut rng = Rng(seed | 1);
    let mut backoff = 200u64;
    while !ctx.stop.load(Ordering::SeqCst) {
        let Some(t) = ticket() else {
            std::thread::sleep(Duration::from_millis(backoff));
            backoff = (backoff * 2).min(3000);
            continue;
        };
        let since = stream.last_seq.load(Ordering::SeqCst);
        let url = format!("{}{}", ctx.ws_base, path(since, &t));
        let mut socket: WebSocket<MaybeTlsStream<TcpStream>> = match tungstenite::connect(&url) {
            Ok((s, _)) => s,
            Err(_) => {
                kind.reconnects.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(backoff));
                backoff = (backoff * 2).min(3000);
                continue;
            }
        };
        backoff = 200;
        if let MaybeTlsStream::Plain(s) = socket.get_mut() {
            let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        }
        let mut conn_last = since;
        let drop_at = Instant::now() + Duration::from_secs(rng.between(20, 120));
        let mut stall_at = Instant::now() + Duration::from_secs(rng.between(10, 40));
        loop {
            if ctx.stop.load(Ordering::SeqCst) {
                let _ = socket.close(None);
                return;
            }
            if Instant::now() > drop_at {
                let _ = socket.close(None);
                kind.reconnects.fetch_add(1, Ordering::Relaxed);
                break;
            }
            if stalls && Instant::now() > stall_at {
                // Not reading: the server has to hold (or drop) what it sends.
                std::thread::sleep(Duration::from_secs(8));
                stall_at = Instant::now() + Duration::from_secs(rng.between(20, 40));
            }
            match socket.read() {
                Ok(Message::Text(text)) => {
                    let Ok(e) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    if feed {
                        if let Some(seq) = e["seq"].as_u64() {
                            if seq > conn_last + 1 {
                                kind.gaps.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    ctx.apply(kind, stream, &mut conn_last, &e);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => {
                    kind.reconnects.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

/// A visitor's long-poll loop; a poll cut short by a random drop counts as
/// a reconnect.
fn poll_loop(ctx: &Ctx, kind: &Kind, stream: &StreamState, token: &str, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut drop_at = Instant::now() + Duration::from_secs(rng.between(20, 120));
    while !ctx.stop.load(Ordering::SeqCst) {
        let since = stream.last_seq.load(Ordering::SeqCst);
        let wait = 10u64;
        let left = drop_at.saturating_duration_since(Instant::now());
        let cut = left < Duration::from_secs(wait + 5);
        let timeout = if cut {
            left.max(Duration::from_millis(100))
        } else {
            Duration::from_secs(wait + 5)
        };
        let r = ctx
            .http
            .get(&format!(
                "{}/api/widget/events?since={since}&wait={wait}",
                ctx.base
            ))
            .set("authorization", &format!("Bearer {token}"))
            .timeout(timeout)
            .call();
        match r.ok().and_then(|r| r.into_json::<Value>().ok()) {
            Some(body) => {
                let mut conn_last = since;
                for e in body["events"].as_array().into_iter().flatten() {
                    ctx.apply(kind, stream, &mut conn_last, e);
                }
            }
            None => {
                kind.reconnects.fetch_add(1, Ordering::Relaxed);
                if cut {
                    drop_at = Instant::now() + Duration::from_secs(rng.between(20, 120));
                } else {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }
}

fn percentiles(kind: &Kind) -> (Option<f64>, Option<f64>) {
    let l = kind.latencies.lock().map(|l| l.clone()).unwrap_or_default();
    match Spread::of(l) {
        Some(s) => (Some(s.p50), Some(s.p99)),
        None => (None, None),
    }
}

/// A JSON POST as a client at `ip`; the status and body, or None when the
/// server could not be reached.
fn post(
    http: &ureq::Agent,
    base: &str,
    path: &str,
    token: &str,
    body: &Value,
    ip: Option<&str>,
) -> Option<(u16, Value)> {
    let mut r = http
        .post(&format!("{base}{path}"))
        .set("authorization", &format!("Bearer {token}"))
        .set("content-type", "application/json");
    if let Some(ip) = ip {
        r = r.set("cf-connecting-ip", ip);
    }
    match r.send_string(&body.to_string()) {
        Ok(resp) => {
            let status = resp.status();
            Some((status, resp.into_json().unwrap_or(Value::Null)))
        }
        Err(ureq::Error::Status(status, resp)) => {
            Some((status, resp.into_json().unwrap_or(Value::Null)))
        }
        Err(_) => None,
    }
}

/// What a round's clients work in: one workspace with a widget inbox and a
/// Messenger inbox, its agents, the visitors' sessions and the Messenger
/// conversations. Made anew for every round (new objects each time), or
/// once for all rounds with `--soak-same-visitors`.
pub struct World {
    t: Target,
    agents: Vec<String>,
    visitors: Vec<Visitor>,
    psids: Vec<String>,
    messenger: Vec<String>,
}

/// Signs up the round's workspace and opens its sessions; `round` 0 first
/// preloads the history.
pub fn world(proc: &Proc, o: &SoakOptions, round: u32) -> Option<World> {
    let base = proc.base.clone();
    let t = Target::switchboard(&base, None);
    let owner = t.api.clone()?;
    if o.preload > 0 && round == 0 {
        let mut r = crate::report::Report::default();
        crate::scale::run(&t, o.preload, &mut r);
        r.print();
    }
    let inbox = owner.create_inbox("widget", json!({}));
    let widget = inbox["id"].as_str().unwrap_or_default().to_string();
    let mut agents = vec![owner.token.clone().unwrap_or_default()];
    while agents.len() < o.agents {
        let email = format!("soak-agent-{round}-{}@example.test", agents.len());
        let inv = owner.post(
            "/api/invitations",
            &json!({"email": email, "role": "agent"}),
        );
        let accepted = switchboard_tests::Api::new(&base).post(
            "/api/invitations/accept",
            &json!({"token": inv.body["token"], "name": "Soak agent", "password": "soak password 1"}),
        );
        agents.push(
            accepted.body["token"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let http = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build();
    let mut visitors = Vec::new();
    for i in 0..o.visitors {
        let ip = format!("10.{}.{}.1", i / 250, i % 250);
        for _ in 0..5 {
            let path = format!("/api/widget/{widget}/session");
            if let Some((201, s)) = post(&http, &base, &path, "", &json!({}), Some(&ip)) {
                visitors.push(Visitor {
                    token: s["token"].as_str().unwrap_or_default().to_string(),
                    conversation: s["conversation_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    ip: ip.clone(),
                });
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let psids: Vec<String> = (0..50).map(|i| format!("soak-m{i}")).collect();
    // Messenger conversations exist after a first message.
    t.create_conversations(&psids);
    let messenger: Vec<String> = psids.iter().map(|p| t.conversation_id(p)).collect();
    Some(World {
        t,
        agents,
        visitors,
        psids,
        messenger,
    })
}

/// Runs one round of the soak in `world`; returns false when a guarantee
/// was broken. `round` 0 kills the server halfway.
pub fn run(proc: &mut Proc, o: &SoakOptions, round: u32, world: &World) -> bool {
    let base = proc.base.clone();
    let World {
        t,
        agents,
        visitors,
        psids,
        messenger,
    } = world;
    // Tags and ids name the round: with `--soak-same-visitors` a stream
    // replays earlier rounds, and a repeated id would be deduplicated.
    let ctx = Ctx {
        base: base.clone(),
        ws_base: t.ws_base.clone(),
        stop_sending: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        acked: Mutex::new(HashMap::new()),
        sent_at: Mutex::new(HashMap::new()),
        kinds: KINDS.iter().map(|k| (*k, Kind::default())).collect(),
        http: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .max_idle_connections_per_host(64)
            .build(),
    };
    println!(
        "soak: {} visitors, {} agents, {:.0} s",
        o.visitors,
        agents.len(),
        o.duration.as_secs_f64()
    );
    println!(
        "  {} visitor sessions, {} Messenger conversations",
        visitors.len(),
        messenger.len()
    );

    // Streams: one per visitor; per agent, a feed and ~20 visitor + 10 Messenger conversations.
    let visitor_streams: Vec<Arc<StreamState>> = visitors
        .iter()
        .map(|v| {
            Arc::new(StreamState {
                conversation: v.conversation.clone(),
                last_seq: AtomicU64::new(0),
                seen: Mutex::new(HashSet::new()),
            })
        })
        .collect();
    let mut agent_streams: Vec<(usize, Arc<StreamState>)> = Vec::new();
    for (a, _) in agents.iter().enumerate() {
        let mine = visitors
            .iter()
            .enumerate()
            .filter(|(i, _)| i % agents.len() == a)
            .take(20)
            .map(|(_, v)| v.conversation.clone())
            .chain(
                messenger
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % agents.len() == a)
                    .map(|(_, c)| c.clone()),
            );
        for cv in mine {
            agent_streams.push((
                a,
                Arc::new(StreamState {
                    conversation: cv,
                    last_seq: AtomicU64::new(0),
                    seen: Mutex::new(HashSet::new()),
                }),
            ));
        }
    }
    let feeds: Vec<Arc<StreamState>> = agents
        .iter()
        .map(|_| {
            Arc::new(StreamState {
                conversation: String::new(),
                last_seq: AtomicU64::new(0),
                seen: Mutex::new(HashSet::new()),
            })
        })
        .collect();
    let memory: Mutex<Vec<(f64, Memory)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let proc_lock = Mutex::new(&mut *proc);
    let restarted = AtomicBool::new(false);
    let sample_every = if o.duration < Duration::from_secs(120) {
        5
    } else {
        30
    };

    std::thread::scope(|s| {
        let ctx = &ctx;
        // Visitor readers.
        for (i, (v, st)) in visitors.iter().zip(&visitor_streams).enumerate() {
            let kind_name = if i % 2 == 0 {
                "visitor-ws"
            } else {
                "visitor-poll"
            };
            ctx.kind(kind_name).clients.fetch_add(1, Ordering::Relaxed);
            let st = st.clone();
            s.spawn(move || {
                let kind = ctx.kind(kind_name);
                if i % 2 == 1 {
                    poll_loop(ctx, kind, &st, &v.token, i as u64 * 7919);
                    return;
                }
                let ticket = || {
                    ctx.post("/api/widget/ticket", &v.token, &json!({}), Some(&v.ip))
                        .filter(|(s, _)| *s == 201)
                        .and_then(|(_, b)| b["ticket"].as_str().map(str::to_string))
                };
                let path =
                    |since: u64, t: &str| format!("/api/widget/live?since={since}&ticket={t}");
                socket_loop(
                    ctx,
                    kind,
                    &st,
                    &ticket,
                    &path,
                    How {
                        seed: i as u64 * 7919,
                        stalls: i % 40 == 0,
                        feed: false,
                    },
                );
            });
        }
        // Agents' conversation sockets and feeds.
        for (a, st) in &agent_streams {
            let token = agents.get(*a).cloned().unwrap_or_default();
            let st = st.clone();
            ctx.kind("agent-socket")
                .clients
                .fetch_add(1, Ordering::Relaxed);
            s.spawn(move || {
                let ticket = || {
                    ctx.post("/api/live/ticket", &token, &json!({}), None)
                        .filter(|(s, _)| *s == 201)
                        .and_then(|(_, b)| b["ticket"].as_str().map(str::to_string))
                };
                let cv = st.conversation.clone();
                let path = move |since: u64, t: &str| {
                    format!("/api/conversations/{cv}/live?since={since}&ticket={t}")
                };
                socket_loop(
                    ctx,
                    ctx.kind("agent-socket"),
                    &st,
                    &ticket,
                    &path,
                    How {
                        seed: st.conversation.len() as u64 * 31 + *a as u64,
                        stalls: false,
                        feed: false,
                    },
                );
            });
        }
        for (a, st) in feeds.iter().enumerate() {
            let token = agents.get(a).cloned().unwrap_or_default();
            let st = st.clone();
            ctx.kind("agent-feed")
                .clients
                .fetch_add(1, Ordering::Relaxed);
            s.spawn(move || {
                let ticket = || {
                    ctx.post("/api/live/ticket", &token, &json!({}), None)
                        .filter(|(s, _)| *s == 201)
                        .and_then(|(_, b)| b["ticket"].as_str().map(str::to_string))
                };
                let path = |since: u64, t: &str| format!("/api/live?since={since}&ticket={t}");
                socket_loop(
                    ctx,
                    ctx.kind("agent-feed"),
                    &st,
                    &ticket,
                    &path,
                    How {
                        seed: 104_729 + a as u64,
                        stalls: false,
                        feed: true,
                    },
                );
            });
        }
        // Visitors write (two writers, ~10 messages/s in all at 300 visitors).
        for w in 0..2u64 {
            let visitors = &visitors;
            s.spawn(move || {
                let mut rng = Rng(0x5eed + w);
                let kinds = ["visitor-ws", "visitor-poll"];
                let mut n = 0u64;
                while !ctx.stop_sending.load(Ordering::SeqCst) {
                    let i = (rng.next() as usize) % visitors.len().max(1);
                    let Some(v) = visitors.get(i) else { break };
                    let kind = ctx.kind(kinds[i % 2]);
                    n += 1;
                    let tag = format!("r{round} v{i} w{w} n{n}");
                    kind.sent.fetch_add(1, Ordering::Relaxed);
                    ctx.sent(&tag);
                    let body = json!({"text": tag, "client_id": format!("c{round}-{w}-{n}")});
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while Instant::now() < deadline {
                        match ctx.post("/api/widget/messages", &v.token, &body, Some(&v.ip)) {
                            Some((201, _)) => {
                                kind.acked.fetch_add(1, Ordering::Relaxed);
                                ctx.acked(&v.conversation, &tag);
                                break;
                            }
                            _ => std::thread::sleep(Duration::from_millis(500)),
                        }
                    }
                    let pause = (200 * 300 / visitors.len().max(1) as u64).max(20);
                    std::thread::sleep(Duration::from_millis(
                        rng.between(pause / 2, pause * 3 / 2),
                    ));
                }
            });
        }
        // Agents reply to visitors (~2/s).
        {
            let visitors = &visitors;
            let agents = &agents;
            s.spawn(move || {
                let mut rng = Rng(0xa9e7);
                let kind = ctx.kind("agent-socket");
                let mut n = 0u64;
                while !ctx.stop_sending.load(Ordering::SeqCst) {
                    let i = (rng.next() as usize) % visitors.len().max(1);
                    let Some(v) = visitors.get(i) else { break };
                    let token = agents
                        .get(i % agents.len().max(1))
                        .cloned()
                        .unwrap_or_default();
                    n += 1;
                    let tag = format!("r{round} reply v{i} n{n}");
                    kind.sent.fetch_add(1, Ordering::Relaxed);
                    ctx.sent(&tag);
                    let body = json!({"text": tag, "client_id": format!("r-{round}-{n}")});
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while Instant::now() < deadline {
                        match ctx.post(
                            &format!("/api/conversations/{}/messages", v.conversation),
                            &token,
                            &body,
                            None,
                        ) {
                            Some((200 | 201, _)) => {
                                kind.acked.fetch_add(1, Ordering::Relaxed);
                                ctx.acked(&v.conversation, &tag);
                                break;
                            }
                            _ => std::thread::sleep(Duration::from_millis(500)),
                        }
                    }
                    std::thread::sleep(Duration::from_millis(rng.between(250, 750)));
                }
            });
        }
        // Meta batches: 10 events a POST, ~20 messages/s.
        {
            let psids = &*psids;
            let t = &t;
            s.spawn(move || {
                let mut rng = Rng(0x3e7a);
                let kind = ctx.kind("meta-webhook");
                kind.clients.store(1, Ordering::Relaxed);
                let http = Target::http();
                let mut n = 0u64;
                while !ctx.stop_sending.load(Ordering::SeqCst) {
                    let events: Vec<Ev> = (0..10)
                        .map(|_| {
                            n += 1;
                            let k = (rng.next() as usize) % psids.len();
                            let psid = psids.get(k).cloned().unwrap_or_default();
                            let tag = format!("r{round} meta {psid} n{n}");
                            Ev {
                                psid,
                                mid: format!("soak.{round}.{n}"),
                                text: tag,
                            }
                        })
                        .collect();
                    for e in &events {
                        kind.sent.fetch_add(1, Ordering::Relaxed);
                        ctx.sent(&e.text);
                    }
                    let body = messenger_body(&events);
                    let sig = sign::meta(crate::target::APP_SECRET, &body);
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while Instant::now() < deadline {
                        let ok = http
                            .post(&format!("{}{}", ctx.base, t.webhook_path))
                            .set("x-hub-signature-256", &sig)
                            .set("content-type", "application/json")
                            .send_bytes(&body)
                            .is_ok_and(|r| r.status() == 200);
                        if ok {
                            for e in &events {
                                kind.acked.fetch_add(1, Ordering::Relaxed);
                                ctx.acked(&t.conversation_id(&e.psid), &e.text);
                            }
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
        // Memory over time, and the kill halfway.
        s.spawn(|| {
            let mut next_sample = Instant::now();
            while !ctx.stop.load(Ordering::SeqCst) {
                if Instant::now() >= next_sample {
                    let sample = proc_lock
                        .lock()
                        .map(|p| Memory::sample(&p))
                        .unwrap_or_default();
                    let at = started.elapsed().as_secs_f64();
                    println!("  [{at:>5.0} s] {}", sample.line());
                    if let Ok(mut m) = memory.lock() {
                        m.push((at, sample));
                    }
                    next_sample = Instant::now() + Duration::from_secs(sample_every);
                }
                if round == 0
                    && !restarted.load(Ordering::SeqCst)
                    && started.elapsed() >= o.duration / 2
                {
                    restarted.store(true, Ordering::SeqCst);
                    println!(
                        "  [{:>5.0} s] SIGKILL to the server; restarting on the same state",
                        started.elapsed().as_secs_f64()
                    );
                    if let Ok(mut p) = proc_lock.lock() {
                        p.kill_and_restart();
                    }
                    println!("  [{:>5.0} s] server back", started.elapsed().as_secs_f64());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        // The clock: send for the duration, then drain until every stream
        // has every acknowledged message (at most 60 s), then stop.
        s.spawn(|| {
            let never = AtomicBool::new(false);
            sleep_unless(ctx, o.duration, &never);
            ctx.stop_sending.store(true, Ordering::SeqCst);
            println!(
                "  [{:>5.0} s] senders stopped; draining",
                started.elapsed().as_secs_f64()
            );
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                let missing: usize = missing_total(ctx, &visitor_streams, &agent_streams);
                if missing == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            ctx.stop.store(true, Ordering::SeqCst);
        });
    });

    // The figures.
    let lost_of = |streams: &mut dyn Iterator<Item = &Arc<StreamState>>| -> (u64, u64) {
        let acked = ctx.acked.lock().map(|m| m.clone()).unwrap_or_default();
        let (mut delivered, mut lost) = (0u64, 0u64);
        for st in streams {
            let seen = st.seen.lock().map(|s| s.clone()).unwrap_or_default();
            for tag in acked.get(&st.conversation).into_iter().flatten() {
                if seen.contains(tag) {
                    delivered += 1;
                } else {
                    lost += 1;
                }
            }
        }
        (delivered, lost)
    };
    let ws_streams: Vec<&Arc<StreamState>> = visitor_streams.iter().step_by(2).collect();
    let poll_streams: Vec<&Arc<StreamState>> = visitor_streams.iter().skip(1).step_by(2).collect();
    let rows: Vec<(&str, (u64, u64))> = vec![
        ("visitor-ws", lost_of(&mut ws_streams.into_iter())),
        ("visitor-poll", lost_of(&mut poll_streams.into_iter())),
        (
            "agent-socket",
            lost_of(&mut agent_streams.iter().map(|(_, s)| s)),
        ),
        ("agent-feed", (0, 0)),
        ("meta-webhook", (0, 0)),
    ];
    println!(
        "\nsoak results, round {} ({:.0} s, {})",
        round + 1,
        started.elapsed().as_secs_f64(),
        if round == 0 {
            "server killed and restarted once"
        } else {
            "no kill"
        }
    );
    println!(
        "  {:<13} {:>7} {:>7} {:>7} {:>9} {:>5} {:>5} {:>5} {:>10} {:>8} {:>8}",
        "client kind",
        "clients",
        "sent",
        "acked",
        "delivered",
        "lost",
        "dup",
        "ooo",
        "reconnects",
        "p50 ms",
        "p99 ms"
    );
    let mut broken = 0u64;
    for (name, (delivered, lost)) in &rows {
        let k = ctx.kind(name);
        let lost = lost + k.gaps.load(Ordering::Relaxed);
        let dup = k.duplicated.load(Ordering::Relaxed);
        let ooo = k.out_of_order.load(Ordering::Relaxed);
        broken += lost + dup + ooo;
        let (p50, p99) = percentiles(k);
        let f = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let (p50, p99) = if o.check {
            ("-".into(), "-".into())
        } else {
            (f(p50), f(p99))
        };
        println!(
            "  {:<13} {:>7} {:>7} {:>7} {:>9} {:>5} {:>5} {:>5} {:>10} {:>8} {:>8}",
            name,
            k.clients.load(Ordering::Relaxed),
            k.sent.load(Ordering::Relaxed),
            k.acked.load(Ordering::Relaxed),
            delivered,
            lost,
            dup,
            ooo,
            k.reconnects.load(Ordering::Relaxed),
            p50,
            p99
        );
    }
    let series = memory.lock().map(|m| m.clone()).unwrap_or_default();
    let line = |f: fn(&Memory) -> f64| Memory::series(&series, f);
    println!("  workerd RSS over time (MiB): {}", line(|m| m.rss));
    println!("  of which the runtime (MiB): {}", line(|m| m.runtime_rss));
    println!("    its private memory (MiB): {}", line(|m| m.runtime_anon));
    println!("  wasm linear memory (MiB): {}", line(|m| m.wasm));
    println!("  Rust live heap (MiB): {}", line(|m| m.live));
    println!("  JS values Rust holds: {}", line(|m| m.js_refs));
    println!(
        "  SQLite files the runtime holds open: {}",
        line(|m| m.sqlite_open)
    );
    if !o.check {
        // Every client has gone: memory held for live sockets and warm
        // objects should come back as the runtime evicts the idle objects.
        let after = cooldown(proc);
        let line = |f: fn(&Memory) -> f64| Memory::series(&after, f);
        println!(
            "  workerd RSS after every client left (MiB): {}",
            line(|m| m.rss)
        );
        println!(
            "    of which the runtime (MiB): {}",
            line(|m| m.runtime_rss)
        );
        println!("    its private memory (MiB): {}", line(|m| m.runtime_anon));
        println!("    wasm linear memory (MiB): {}", line(|m| m.wasm));
        println!("    Rust live heap (MiB): {}", line(|m| m.live));
        println!("    JS values Rust holds: {}", line(|m| m.js_refs));
        println!("    SQLite files open: {}", line(|m| m.sqlite_open));
        // RSS keeps what tcmalloc freed; its own count says what is in use.
        let runtime = crate::server::runtime_of(&proc.workerd_processes());
        if let Some(a) = runtime.and_then(|r| crate::server::allocator(r.pid, false)) {
            println!(
                "    the runtime's tcmalloc (MiB): {:.0} in use, {:.0} free for reuse, {:.0} metadata",
                a.in_use, a.free, a.metadata
            );
        }
    }
    println!(
        "  (sent/acked count a message at its writer; delivered/lost count it on every stream of its conversation; agent-feed lost = gaps in the gapless feed)"
    );
    println!("soak: lost+duplicated+out_of_order = {broken}");
    broken == 0
}

/// Memory every 15 s for two minutes with no client.
fn cooldown(proc: &Proc) -> Vec<(f64, Memory)> {
    let started = Instant::now();
    let mut samples = Vec::new();
    loop {
        let at = started.elapsed().as_secs_f64();
        samples.push((at, Memory::sample(proc)));
        if at >= 120.0 {
            break;
        }
        std::thread::sleep(Duration::from_secs(15));
    }
    samples
}

/// One memory sample, in MiB: workerd's resident memory, and from the
/// worker's `/healthz` (the bench runs it with `DEBUG_COUNTERS=1`) the
/// isolate's wasm linear memory, which never shrinks, and the part of it
/// Rust holds now (`functions/worker/src/memory.rs`) with the count of JS
/// values it holds (each keeps an object alive in V8's heap); and of the workerd
/// process that runs the objects (the one holding SQLite files), its own
/// resident memory and how many SQLite files it holds open, about one per
/// object in memory.
#[derive(Clone, Copy, Default)]
struct Memory {
    rss: f64,
    wasm: f64,
    live: f64,
    runtime_rss: f64,
    /// Of `runtime_rss`, the private part (not mapped files).
    runtime_anon: f64,
    sqlite_open: f64,
    /// JS values held through wasm-bindgen's table (`js_refs_live`).
    js_refs: f64,
}

impl Memory {
    fn sample(proc: &Proc) -> Memory {
        let mib = |v: &serde_json::Value, k: &str| {
            v[k].as_f64().map(|b| b / 1_048_576.0).unwrap_or(f64::NAN)
        };
        let health = ureq::get(&format!("{}/healthz", proc.base))
            .timeout(Duration::from_secs(5))
            .call()
            .ok()
            .and_then(|r| r.into_json::<serde_json::Value>().ok())
            .unwrap_or_default();
        let processes = proc.workerd_processes();
        let runtime = crate::server::runtime_of(&processes).unwrap_or_default();
        Memory {
            rss: processes.iter().map(|p| p.rss).sum(),
            runtime_rss: runtime.rss,
            runtime_anon: runtime.anon,
            sqlite_open: runtime.sqlite_files as f64,
            wasm: mib(&health, "wasm_memory_bytes"),
            live: mib(&health, "rust_heap_live_bytes"),
            js_refs: health["js_refs_live"].as_f64().unwrap_or(f64::NAN),
        }
    }

    /// `{seconds}s:{value}` for each sample, of the figure `f` picks.
    fn series(samples: &[(f64, Memory)], f: fn(&Memory) -> f64) -> String {
        samples
            .iter()
            .map(|(t, m)| format!("{t:.0}s:{:.0}", f(m)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn line(&self) -> String {
        format!(
            "workerd RSS {:.0} MiB (runtime {:.0}, {:.0} private), wasm memory {:.0} MiB (Rust live {:.0} MiB, {:.0} JS values), {:.0} SQLite files open",
            self.rss, self.runtime_rss, self.runtime_anon, self.wasm, self.live, self.js_refs, self.sqlite_open
        )
    }
}

fn missing_total(
    ctx: &Ctx,
    visitors: &[Arc<StreamState>],
    agents: &[(usize, Arc<StreamState>)],
) -> usize {
    let acked = ctx.acked.lock().map(|m| m.clone()).unwrap_or_default();
    visitors
        .iter()
        .chain(agents.iter().map(|(_, s)| s))
        .map(|st| {
            let seen = st.seen.lock().map(|s| s.clone()).unwrap_or_default();
            acked
                .get(&st.conversation)
                .into_iter()
                .flatten()
                .filter(|t| !seen.contains(*t))
                .count()
        })
        .sum()
}
