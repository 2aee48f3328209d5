//! Agent sockets: one thread per socket, reporting every measured
//! `message_created` it receives (by platform id) with its latency.

use crate::target::{now_us, parse_mid};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// A measured message reached a socket.
pub struct Delivery {
    pub mid: String,
    /// From just before the POST to receipt.
    pub latency_us: u64,
    /// When it arrived, µs since the epoch.
    pub at_us: u64,
}

pub struct Watchers {
    stop: Arc<AtomicBool>,
    pub rx: Receiver<Delivery>,
    handles: Vec<JoinHandle<()>>,
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(url: &str) -> Result<Socket, String> {
    let mut last = String::new();
    for attempt in 0..5 {
        match tungstenite::connect(url) {
            Ok((socket, _)) => return Ok(socket),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100 * (attempt + 1)));
    }
    Err(last)
}

fn read_loop(mut socket: Socket, stop: Arc<AtomicBool>, tx: Sender<Delivery>) {
    if let MaybeTlsStream::Plain(s) = socket.get_mut() {
        let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
        let _ = s.set_nodelay(true);
    }
    while !stop.load(Ordering::Relaxed) {
        match socket.read() {
            Ok(Message::Text(t)) => {
                let at_us = now_us();
                let Ok(v) = serde_json::from_str::<serde_json::Value>(t.as_str()) else {
                    continue;
                };
                if v["type"] != "message_created" {
                    continue;
                }
                let Some(mid) = v["message"]["platform_id"].as_str() else {
                    continue;
                };
                let Some((_, sent)) = parse_mid(mid) else {
                    continue;
                };
                let _ = tx.send(Delivery {
                    mid: mid.to_string(),
                    latency_us: at_us.saturating_sub(sent),
                    at_us,
                });
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    let _ = socket.close(None);
    let _ = socket.flush();
}

impl Watchers {
    /// Connects one socket per URL, at most 16 handshakes in flight; panics
    /// if any socket cannot connect.
    pub fn connect(urls: &[String]) -> Watchers {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let (ack_tx, ack_rx) = sync_channel::<Result<(), String>>(urls.len());
        let mut handles = Vec::with_capacity(urls.len());
        let mut pending = 0usize;
        let check = |r: Result<(), String>| {
            if let Err(e) = r {
                stop.store(true, Ordering::SeqCst);
                panic!("a live socket could not connect: {e}");
            }
        };
        for url in urls {
            if pending >= 16 {
                check(ack_rx.recv().unwrap_or(Err("connector died".into())));
                pending -= 1;
            }
            let url = url.clone();
            let stop = stop.clone();
            let tx = tx.clone();
            let ack = ack_tx.clone();
            let handle = std::thread::Builder::new()
                .stack_size(192 * 1024)
                .spawn(move || match connect(&url) {
                    Ok(socket) => {
                        let _ = ack.send(Ok(()));
                        read_loop(socket, stop, tx);
                    }
                    Err(e) => {
                        let _ = ack.send(Err(e));
                    }
                })
                .expect("spawning a socket thread");
            handles.push(handle);
            pending += 1;
        }
        for _ in 0..pending {
            check(ack_rx.recv().unwrap_or(Err("connector died".into())));
        }
        Watchers { stop, rx, handles }
    }

    /// Throws away whatever arrived so far (resume bursts).
    pub fn drain_now(&self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Collects deliveries whose mid has `tag` until `expected` of them
    /// arrived, or `quiet` passes without one, or `limit` passes.
    pub fn collect(
        &self,
        tag: &str,
        expected: usize,
        quiet: Duration,
        limit: Duration,
    ) -> Vec<Delivery> {
        let mut out = Vec::with_capacity(expected);
        let deadline = Instant::now() + limit;
        let mut last = Instant::now();
        while out.len() < expected {
            let now = Instant::now();
            if now > deadline || now.duration_since(last) > quiet {
                break;
            }
            match self.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(d) => {
                    if parse_mid(&d.mid).map(|(t, _)| t) == Some(tag) {
                        out.push(d);
                        last = Instant::now();
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => break,
            }
        }
        out
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
