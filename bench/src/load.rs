//! Load generators (open loop at a fixed rate, closed loop at full speed)
//! and turning acknowledgements plus deliveries into figures.

use crate::report::Spread;
use crate::target::{mid, now_us, text_for, Ack, Ev, Target};
use crate::watch::Watchers;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Load {
    pub acks: Vec<Ack>,
    pub started_us: u64,
    pub ended_us: u64,
}

/// Open loop: `total` single-message webhooks at `rate` per second,
/// round-robin over `psids`, from 16 sender threads (a late sender sends at
/// once; latency is always measured from its own POST).
pub fn fixed_rate(t: &Target, psids: &[String], tag: &str, rate: f64, total: u64) -> Load {
    let next = AtomicU64::new(0);
    let acks = Mutex::new(Vec::with_capacity(total as usize));
    let started_us = now_us();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                let agent = Target::http();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let psid = &psids[(i % psids.len() as u64) as usize];
                    let ev = Ev {
                        psid: psid.clone(),
                        mid: mid(tag, i),
                        text: text_for(i),
                    };
                    let ack = t.post(&agent, vec![ev]);
                    if let Ok(mut a) = acks.lock() {
                        a.push(ack);
                    }
                }
            });
        }
    });
    Load {
        acks: acks.into_inner().unwrap_or_default(),
        started_us,
        ended_us: now_us(),
    }
}

/// Closed loop: `senders` threads POSTing as fast as answers come for
/// `duration`, each POST carrying `batch` events for consecutive (so, with
/// a batch no larger than `psids`, distinct) conversations.
pub fn closed_loop(
    t: &Target,
    psids: &[String],
    tag: &str,
    senders: usize,
    batch: usize,
    duration: Duration,
) -> Load {
    let next = AtomicU64::new(0);
    let acks = Mutex::new(Vec::new());
    let started_us = now_us();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..senders {
            s.spawn(|| {
                let agent = Target::http();
                while start.elapsed() < duration {
                    let first = next.fetch_add(batch as u64, Ordering::SeqCst);
                    let events = (first..first + batch as u64)
                        .map(|i| Ev {
                            psid: psids[(i % psids.len() as u64) as usize].clone(),
                            mid: mid(tag, i),
                            text: text_for(i),
                        })
                        .collect();
                    let ack = t.post(&agent, events);
                    if let Ok(mut a) = acks.lock() {
                        a.push(ack);
                    }
                }
            });
        }
    });
    Load {
        acks: acks.into_inner().unwrap_or_default(),
        started_us,
        ended_us: now_us(),
    }
}

/// What one run of load against one target came to.
pub struct Measured {
    pub latency: Option<Spread>,
    pub ack: Option<Spread>,
    pub messages: usize,
    pub posts: usize,
    pub failed_posts: usize,
    /// Acknowledged (message, socket) pairs that never arrived.
    pub lost: usize,
    /// Acknowledged messages fully delivered per second, from the first
    /// POST to the last delivery.
    pub delivered_per_sec: f64,
    /// Server CPU (every process of its group) per acknowledged message.
    pub cpu_ms_per_msg: Option<f64>,
    /// The workerd processes' share of it.
    pub workerd_ms_per_msg: Option<f64>,
}

/// Runs `load`, then waits for every sent message to reach all `fanout`
/// sockets watching its conversation (or 5 s of silence).
pub fn measure(
    t: &Target,
    watchers: &Watchers,
    tag: &str,
    fanout: usize,
    load: impl FnOnce() -> Load,
) -> Measured {
    watchers.drain_now();
    let cpu0 = t
        .proc
        .as_ref()
        .map(|p| (p.cpu_secs(), p.workerd_cpu_secs()));
    let load = load();
    let sent: usize = load.acks.iter().map(|a| a.mids.len()).sum();
    let deliveries = watchers.collect(
        tag,
        sent * fanout,
        Duration::from_secs(5),
        Duration::from_secs(120),
    );
    let cpu1 = t
        .proc
        .as_ref()
        .map(|p| (p.cpu_secs(), p.workerd_cpu_secs()));
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut last_at = load.ended_us;
    for d in &deliveries {
        *seen.entry(d.mid.as_str()).or_default() += 1;
        last_at = last_at.max(d.at_us);
    }
    let acked: Vec<&String> = load
        .acks
        .iter()
        .filter(|a| a.ok)
        .flat_map(|a| a.mids.iter())
        .collect();
    let lost = acked
        .iter()
        .map(|m| fanout.saturating_sub(seen.get(m.as_str()).copied().unwrap_or(0)))
        .sum();
    let complete = acked
        .iter()
        .filter(|m| seen.get(m.as_str()).copied().unwrap_or(0) >= fanout)
        .count();
    let secs = (last_at.saturating_sub(load.started_us)) as f64 / 1e6;
    let per_msg = |f: fn((f64, f64)) -> f64| match (cpu0, cpu1) {
        (Some(a), Some(b)) if !acked.is_empty() => {
            Some((f(b) - f(a)) * 1000.0 / acked.len() as f64)
        }
        _ => None,
    };
    Measured {
        latency: Spread::of(deliveries.iter().map(|d| d.latency_us).collect()),
        ack: Spread::of(
            load.acks
                .iter()
                .filter(|a| a.ok)
                .map(|a| a.micros)
                .collect(),
        ),
        messages: sent,
        posts: load.acks.len(),
        failed_posts: load.acks.iter().filter(|a| !a.ok).count(),
        lost,
        delivered_per_sec: if secs > 0.0 {
            complete as f64 / secs
        } else {
            0.0
        },
        cpu_ms_per_msg: per_msg(|c| c.0),
        workerd_ms_per_msg: per_msg(|c| c.1),
    }
}
