//! `--memory-rounds N`: whether workerd's resident memory comes back after
//! traffic, for Switchboard and the floor side by side in one run.
//!
//! The soak showed the runtime's idle RSS rising round after round while
//! everything Switchboard holds (wasm memory, Rust heap, JS values, open
//! objects) came back. This asks the control question: does the floor, a
//! minimal JavaScript worker on the same workerd, grow the same under the
//! same traffic? Each round sends both servers the same webhooks (one after
//! the other, at the same rate, into the same conversations, each watched
//! by a socket opened for the round and closed after it), then leaves both
//! idle and samples the workerd process that runs their objects: its RSS,
//! split into private memory and mapped files, and what its allocator
//! (tcmalloc, read through gdb) counts as in use and as freed but kept.
//! RSS alone cannot tell a leak from freed memory workerd never returns.
//! `--memory-no-sockets` leaves the sockets out.

use crate::load::{fixed_rate, measure};
use crate::server::{allocator, runtime_of, Allocator, Workerd};
use crate::target::Target;
use crate::watch::Watchers;
use std::time::Duration;

/// Conversations per server, each with one socket while a round runs.
const CONVERSATIONS: usize = 100;
/// Webhooks per second, well below either side's capacity.
const RATE: f64 = 150.0;
/// Seconds of traffic per round and side.
const SECONDS: u64 = 20;
/// Idle seconds before the sample: workerd evicts idle objects within 15 s.
const IDLE: u64 = 30;

/// One server's runtime after a round, and what its allocator holds.
#[derive(Clone, Copy)]
struct Idle {
    runtime: Workerd,
    allocator: Option<Allocator>,
}

/// `release`: hand tcmalloc's free pages to the kernel before sampling.
fn runtime_idle(t: &Target, release: bool) -> Option<Idle> {
    let processes = t.proc.as_ref()?.workerd_processes();
    let pid = runtime_of(&processes)?.pid;
    let allocator = allocator(pid, release);
    // Read after the allocator: a release shows in RSS at once.
    let processes = t.proc.as_ref()?.workerd_processes();
    let runtime = processes.into_iter().find(|p| p.pid == pid)?;
    Some(Idle { runtime, allocator })
}

fn sample(targets: &[Target], release: bool) -> Vec<Option<Idle>> {
    targets.iter().map(|t| runtime_idle(t, release)).collect()
}

fn cells(targets: &[Target], idle: &[Option<Idle>]) -> String {
    targets
        .iter()
        .zip(idle)
        .map(|(t, i)| match i {
            Some(Idle {
                runtime: r,
                allocator,
            }) => format!(
                "{} {:.0} MiB ({:.0} private, {:.0} mapped files; {} SQLite files){}",
                t.name,
                r.rss,
                r.anon,
                r.file,
                r.sqlite_files,
                match allocator {
                    Some(a) => format!(
                        "; tcmalloc: {:.0} in use, {:.0} free, {:.0} metadata",
                        a.in_use, a.free, a.metadata
                    ),
                    None => String::new(),
                }
            ),
            None => format!("{} -", t.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `rounds` rounds; prints each side's idle runtime RSS per round and
/// a `memory:` line with the growth from round 1 to the last. Without
/// `sockets` (`--memory-no-sockets`) no socket is opened, to tell what the
/// webhooks cost from what the sockets do. Returns the messages refused or
/// acknowledged but not delivered (should be 0).
pub fn run(targets: &[Target], rounds: u32, sockets: bool) -> usize {
    let convs: Vec<String> = (0..CONVERSATIONS).map(|i| format!("m{i}")).collect();
    for t in targets {
        t.create_conversations(&convs);
    }
    let total = (RATE * SECONDS as f64) as u64;
    println!(
        "memory rounds: per round and side {total} webhooks at {RATE:.0}/s into {CONVERSATIONS} {} conversations, then {IDLE} s idle",
        if sockets { "watched" } else { "unwatched" }
    );
    std::thread::sleep(Duration::from_secs(IDLE));
    let before = sample(targets, false);
    println!("  before:  idle runtime RSS {}", cells(targets, &before));
    let mut series: Vec<Vec<Option<Idle>>> = vec![before];
    let mut lost = 0;
    let mut refused = 0;
    for round in 1..=rounds {
        for t in targets {
            let tag = format!("mem{round}");
            if !sockets {
                let load = fixed_rate(t, &convs, &tag, RATE, total);
                refused += load.acks.iter().filter(|a| !a.ok).count();
                continue;
            }
            let urls: Vec<String> = convs.iter().map(|p| t.live_url(p)).collect();
            let watchers = Watchers::connect(&urls);
            std::thread::sleep(Duration::from_millis(300));
            let m = measure(t, &watchers, &tag, 1, || {
                fixed_rate(t, &convs, &tag, RATE, total)
            });
            lost += m.lost;
            refused += m.failed_posts;
            drop(watchers);
        }
        std::thread::sleep(Duration::from_secs(IDLE));
        let idle = sample(targets, false);
        println!(
            "  round {round}: idle runtime RSS {}",
            cells(targets, &idle)
        );
        series.push(idle);
    }
    // Free pages handed back to the kernel: what RSS keeps after that is
    // memory in use, and what it loses was only kept for reuse.
    // Only where gdb could call into workerd: otherwise nothing is handed
    // back, and the line would repeat the last round's RSS under a claim
    // that is not true (and gdb would be run twice more for nothing).
    let readable = |rows: &[Option<Idle>]| rows.iter().flatten().any(|i| i.allocator.is_some());
    if series.iter().any(|r| readable(r)) {
        let released = sample(targets, true);
        if readable(&released) {
            println!(
                "  after handing tcmalloc's free pages back: idle runtime RSS {}",
                cells(targets, &released)
            );
        }
    }
    // The growth of RSS, of its private part, and of what tcmalloc says is
    // in use.
    let growth = |side: usize, from: usize| -> String {
        let first = series
            .get(from)
            .and_then(|r| r.get(side).copied().flatten());
        let last = series.last().and_then(|r| r.get(side).copied().flatten());
        match (first, last) {
            (Some(a), Some(b)) => {
                let in_use = match (a.allocator, b.allocator) {
                    (Some(x), Some(y)) => format!("{:+.0}", y.in_use - x.in_use),
                    _ => "-".into(),
                };
                format!(
                    "{:+.0}/{:+.0}/{in_use}",
                    b.runtime.rss - a.runtime.rss,
                    b.runtime.anon - a.runtime.anon
                )
            }
            _ => "-".into(),
        }
    };
    let sides: Vec<String> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "{}_from_start={} {}_from_round1={}",
                t.name,
                growth(i, 0),
                t.name,
                growth(i, 1)
            )
        })
        .collect();
    println!(
        "memory: rounds={rounds} lost={lost} refused={refused} {} (MiB: resident/private/in use)",
        sides.join(" ")
    );
    lost + refused
}
