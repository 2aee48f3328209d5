//! `switchboard-bench`: Switchboard side by side with the JavaScript floor
//! (`bench/floor`) on the same local workerd, in one run.
//!
//! ```text
//! cargo run --release -p switchboard-bench -- [--quick] [--url URL] [--scale]
//!     [--scale-messages N] [--markdown]
//! cargo run --release -p switchboard-bench -- --export N   # streaming export of N messages
//! cargo run --release -p switchboard-bench -- --soak [--soak-minutes 10 | --soak-seconds S]
//!     [--soak-preload N] [--soak-visitors 300] [--soak-agents 5] [--check]
//! cargo run --release -p switchboard-bench -- --memory-rounds N [--memory-no-sockets]  # idle RSS per round, both sides
//! ```
//!
//! Only ever talks to 127.0.0.1, and every loop is bounded. See
//! docs/BENCHMARKS.md for what each scenario measures and the results.

mod export;
mod growth;
mod load;
mod report;
mod scale;
mod server;
mod soak;
mod target;
mod watch;

use load::{closed_loop, fixed_rate, measure, Measured};
use report::{Report, Spread};
use server::Proc;
use std::time::{Duration, Instant};
use target::Target;
use watch::Watchers;

struct Options {
    quick: bool,
    url: Option<String>,
    scale: bool,
    scale_messages: u64,
    markdown: bool,
    /// `--export N`: only the streaming-export check, with N messages.
    export: Option<u64>,
    /// `--soak`: only the soak (see `soak.rs`).
    soak: Option<soak::SoakOptions>,
    /// `--memory-rounds N`: only the idle-memory rounds (see `growth.rs`).
    memory_rounds: Option<u32>,
    /// `--memory-no-sockets`: those rounds without sockets.
    memory_sockets: bool,
}

const USAGE: &str = "usage: switchboard-bench [--quick] [--url http://127.0.0.1:PORT] [--scale] [--scale-messages N] [--markdown] | --export N | --soak [--soak-minutes N | --soak-seconds N] [--soak-preload N] [--soak-visitors N] [--soak-agents N] [--soak-rounds N [--soak-same-visitors]] [--check] | --memory-rounds N [--memory-no-sockets]";

fn options() -> Options {
    let mut o = Options {
        quick: false,
        url: None,
        scale: false,
        scale_messages: 1_000_000,
        markdown: false,
        export: None,
        soak: None,
        memory_rounds: None,
        memory_sockets: true,
    };
    let number = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|n| n.replace('_', "").parse().ok())
            .unwrap_or_else(|| fail(&format!("{what} takes a number")))
    };
    fn soak(o: &mut Options) -> &mut soak::SoakOptions {
        o.soak.get_or_insert(soak::SoakOptions {
            duration: Duration::from_secs(600),
            visitors: 300,
            agents: 5,
            preload: 0,
            check: false,
            rounds: 1,
            same_visitors: false,
        })
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--scale" => o.scale = true,
            "--markdown" => o.markdown = true,
            "--url" => o.url = args.next(),
            "--scale-messages" => {
                o.scale = true;
                o.scale_messages = args
                    .next()
                    .and_then(|n| n.replace('_', "").parse().ok())
                    .unwrap_or_else(|| fail("--scale-messages takes a number"));
            }
            "--export" => {
                o.export = Some(
                    args.next()
                        .and_then(|n| n.replace('_', "").parse().ok())
                        .unwrap_or_else(|| fail("--export takes a number of messages")),
                );
            }
            "--soak" => {
                soak(&mut o);
            }
            "--soak-minutes" => {
                soak(&mut o).duration = Duration::from_secs(60 * number(args.next(), &a))
            }
            "--soak-seconds" => {
                soak(&mut o).duration = Duration::from_secs(number(args.next(), &a))
            }
            "--soak-preload" => soak(&mut o).preload = number(args.next(), &a),
            "--soak-visitors" => soak(&mut o).visitors = number(args.next(), &a).max(1) as usize,
            "--soak-agents" => soak(&mut o).agents = number(args.next(), &a).max(1) as usize,
            "--check" => soak(&mut o).check = true,
            "--soak-rounds" => soak(&mut o).rounds = number(args.next(), &a).clamp(1, 10) as u32,
            "--soak-same-visitors" => soak(&mut o).same_visitors = true,
            "--memory-rounds" => {
                o.memory_rounds = Some(number(args.next(), &a).clamp(1, 20) as u32)
            }
            "--memory-no-sockets" => o.memory_sockets = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => fail(&format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if let Some(url) = &o.url {
        let host = url
            .strip_prefix("http://")
            .and_then(|r| r.split([':', '/']).next())
            .unwrap_or_default();
        if host != "127.0.0.1" && host != "localhost" {
            fail("--url must be http://127.0.0.1:PORT: the bench only targets this machine");
        }
    }
    o
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    server::exit(2)
}

fn psids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Both targets' figures for one scenario, in the order [switchboard, floor].
fn both<T>(targets: &[Target], mut f: impl FnMut(&Target) -> T) -> Vec<T> {
    targets
        .iter()
        .map(|t| {
            let r = f(t);
            println!("    {} done", t.name);
            r
        })
        .collect()
}

/// Adds a row with `f` of Switchboard's and the floor's figures.
fn pair<T>(r: &mut Report, scenario: &str, metric: &str, m: &[T], f: impl Fn(&T) -> Option<f64>) {
    let sb = m.first().and_then(&f);
    let floor = m.get(1).and_then(&f);
    r.add(scenario, metric, sb, floor);
}

fn spread_rows(
    r: &mut Report,
    scenario: &str,
    what: &str,
    m: &[Measured],
    get: fn(&Measured) -> Option<&Spread>,
) {
    pair(r, scenario, &format!("{what} p50 ms"), m, |x| {
        get(x).map(|s| s.p50)
    });
    pair(r, scenario, &format!("{what} p99 ms"), m, |x| {
        get(x).map(|s| s.p99)
    });
    pair(r, scenario, &format!("{what} max ms"), m, |x| {
        get(x).map(|s| s.max)
    });
}

fn common_rows(r: &mut Report, scenario: &str, m: &[Measured]) {
    pair(r, scenario, "messages sent", m, |x| Some(x.messages as f64));
    pair(r, scenario, "POSTs", m, |x| Some(x.posts as f64));
    pair(r, scenario, "failed POSTs", m, |x| {
        Some(x.failed_posts as f64)
    });
    pair(r, scenario, "lost (acked, not delivered)", m, |x| {
        Some(x.lost as f64)
    });
}

fn main() {
    let o = options();
    server::install_signal_handlers();
    let started = Instant::now();
    let mut report = Report::default();

    if o.url.is_none() && !server::switchboard_built() {
        fail(
            "functions/worker/build/worker/shim.mjs is missing: run `bash scripts/build.sh` first",
        );
    }
    if let Some(so) = &o.soak {
        if !server::switchboard_built() {
            fail("functions/worker/build/worker/shim.mjs is missing: run `bash scripts/build.sh` first");
        }
        let mut p = Proc::switchboard();
        println!("  switchboard on {}", p.base);
        let mut ok = true;
        let mut kept: Option<soak::World> = None;
        for round in 0..so.rounds {
            if so.rounds > 1 {
                println!("\nsoak round {} of {}", round + 1, so.rounds);
            }
            let world = match kept.take() {
                Some(w) => Some(w),
                None => soak::world(&p, so, round),
            };
            let Some(world) = world else {
                fail("the soak's workspace could not be set up");
            };
            ok &= soak::run(&mut p, so, round, &world);
            if so.same_visitors {
                kept = Some(world);
            }
        }
        println!("\nsoak took {:.0} s", started.elapsed().as_secs_f64());
        if so.check && !ok {
            server::exit(1);
        }
        return;
    }
    if let Some(n) = o.export {
        let p = Proc::switchboard();
        println!("  switchboard on {}", p.base);
        let base = p.base.clone();
        let t = Target::switchboard(&base, Some(p));
        export::run(&t, n, &mut report);
        report.print();
        if o.markdown {
            report.markdown();
        }
        println!("\nbench took {:.0} s", started.elapsed().as_secs_f64());
        return;
    }
    println!("starting servers…");
    let (sb_proc, sb_base) = match &o.url {
        Some(url) => (None, url.trim_end_matches('/').to_string()),
        None => {
            let p = Proc::switchboard();
            let base = p.base.clone();
            println!(
                "  switchboard on {base} (cold start {:.0} ms)",
                ms(p.cold_start)
            );
            (Some(p), base)
        }
    };
    let floor_proc = Proc::floor();
    println!(
        "  floor on {} (cold start {:.0} ms)",
        floor_proc.base,
        ms(floor_proc.cold_start)
    );
    let sb_cold = sb_proc.as_ref().map(|p| ms(p.cold_start));
    let floor_cold = ms(floor_proc.cold_start);
    // Idle baseline: what each server burns doing nothing.
    let idle: Vec<Option<f64>> = [sb_proc.as_ref(), Some(&floor_proc)]
        .iter()
        .map(|p| {
            p.map(|p| {
                let c0 = p.cpu_secs();
                std::thread::sleep(Duration::from_secs(3));
                (p.cpu_secs() - c0) * 1000.0 / 3.0
            })
        })
        .collect();
    report.add_note(
        "0 idle",
        "server CPU ms per s, idle",
        idle.first().copied().flatten(),
        idle.get(1).copied().flatten(),
        "included in every CPU/msg figure",
    );
    let targets = vec![
        Target::switchboard(&sb_base, sb_proc),
        Target::floor(floor_proc),
    ];
    if let Some(rounds) = o.memory_rounds {
        let lost = growth::run(&targets, rounds, o.memory_sockets);
        println!("\nbench took {:.0} s", started.elapsed().as_secs_f64());
        if lost > 0 {
            server::exit(1);
        }
        return;
    }

    // Scenarios 1–3 share 50 conversations per target, each with an agent socket.
    let convs = psids("c", 50);
    let watchers: Vec<Watchers> = targets
        .iter()
        .map(|t| {
            t.create_conversations(&convs);
            let urls: Vec<String> = convs.iter().map(|p| t.live_url(p)).collect();
            Watchers::connect(&urls)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    let (rate_secs, tp_secs, batch_secs) = if o.quick { (8, 8, 6) } else { (20, 10, 10) };
    let rate = 200.0;

    // 1 + 3: fixed rate.
    let s1 = format!("1 webhook→screen {rate:.0}/s, 50 conv");
    println!("scenario 1: {rate:.0} webhooks/s for {rate_secs} s into 50 conversations");
    let mut i = 0;
    let m1 = both(&targets, |t| {
        let w = &watchers[i];
        i += 1;
        measure(t, w, "lat", 1, || {
            fixed_rate(t, &convs, "lat", rate, (rate * rate_secs as f64) as u64)
        })
    });
    spread_rows(&mut report, &s1, "latency", &m1, |m| m.latency.as_ref());
    common_rows(&mut report, &s1, &m1);

    if !o.quick {
        // 1b: the same at a light 50/s, to separate per-message latency
        // from queueing near saturation.
        let light = 50.0;
        let s1b = format!("1b webhook→screen {light:.0}/s, 50 conv");
        println!("scenario 1b: {light:.0} webhooks/s for {rate_secs} s");
        let mut i = 0;
        let m1b = both(&targets, |t| {
            let w = &watchers[i];
            i += 1;
            measure(t, w, "lite", 1, || {
                fixed_rate(t, &convs, "lite", light, (light * rate_secs as f64) as u64)
            })
        });
        spread_rows(&mut report, &s1b, "latency", &m1b, |m| m.latency.as_ref());
        pair(&mut report, &s1b, "ack p50 ms", &m1b, |x| {
            x.ack.as_ref().map(|s| s.p50)
        });
        pair(&mut report, &s1b, "ack p99 ms", &m1b, |x| {
            x.ack.as_ref().map(|s| s.p99)
        });
        pair(&mut report, &s1b, "server CPU ms/msg", &m1b, |x| {
            x.cpu_ms_per_msg
        });
        pair(&mut report, &s1b, "  of which workerd", &m1b, |x| {
            x.workerd_ms_per_msg
        });
        common_rows(&mut report, &s1b, &m1b);
    }

    // 2: throughput, 32 senders, one event per POST; then Meta-style batches.
    println!("scenario 2: 32 senders for {tp_secs} s");
    let s2 = "2 throughput, 32 senders".to_string();
    let mut i = 0;
    let m2 = both(&targets, |t| {
        let w = &watchers[i];
        i += 1;
        measure(t, w, "tp", 1, || {
            closed_loop(t, &convs, "tp", 32, 1, Duration::from_secs(tp_secs))
        })
    });
    pair(&mut report, &s2, "delivered msgs/s", &m2, |x| {
        Some(x.delivered_per_sec)
    });
    pair(&mut report, &s2, "server CPU ms/msg", &m2, |x| {
        x.cpu_ms_per_msg
    });
    pair(&mut report, &s2, "  of which workerd", &m2, |x| {
        x.workerd_ms_per_msg
    });
    spread_rows(&mut report, &s2, "latency", &m2, |m| m.latency.as_ref());
    common_rows(&mut report, &s2, &m2);

    println!("scenario 2b: 3 senders, 10 events per POST, for {batch_secs} s");
    let s2b = "2b batches, 3 senders × 10 events".to_string();
    let mut i = 0;
    let m2b = both(&targets, |t| {
        let w = &watchers[i];
        i += 1;
        measure(t, w, "tpb", 1, || {
            closed_loop(t, &convs, "tpb", 3, 10, Duration::from_secs(batch_secs))
        })
    });
    pair(&mut report, &s2b, "delivered msgs/s", &m2b, |x| {
        Some(x.delivered_per_sec)
    });
    pair(&mut report, &s2b, "server CPU ms/msg", &m2b, |x| {
        x.cpu_ms_per_msg
    });
    pair(&mut report, &s2b, "  of which workerd", &m2b, |x| {
        x.workerd_ms_per_msg
    });
    spread_rows(&mut report, &s2b, "latency", &m2b, |m| m.latency.as_ref());
    common_rows(&mut report, &s2b, &m2b);

    // 3: the webhook's own answer time.
    let s3 = "3 webhook ack".to_string();
    pair(
        &mut report,
        &format!("{s3} @{rate:.0}/s"),
        "ack p50 ms",
        &m1,
        |x| x.ack.as_ref().map(|s| s.p50),
    );
    pair(
        &mut report,
        &format!("{s3} @{rate:.0}/s"),
        "ack p99 ms",
        &m1,
        |x| x.ack.as_ref().map(|s| s.p99),
    );
    pair(
        &mut report,
        &format!("{s3}, 32 senders"),
        "ack p50 ms",
        &m2,
        |x| x.ack.as_ref().map(|s| s.p50),
    );
    pair(
        &mut report,
        &format!("{s3}, 32 senders"),
        "ack p99 ms",
        &m2,
        |x| x.ack.as_ref().map(|s| s.p99),
    );
    pair(
        &mut report,
        &format!("{s3}, batches of 10"),
        "ack p50 ms",
        &m2b,
        |x| x.ack.as_ref().map(|s| s.p50),
    );
    pair(
        &mut report,
        &format!("{s3}, batches of 10"),
        "ack p99 ms",
        &m2b,
        |x| x.ack.as_ref().map(|s| s.p99),
    );
    drop(watchers);

    let mut lost: usize = [&m1, &m2, &m2b]
        .iter()
        .filter_map(|m| m.first())
        .map(|m| m.lost)
        .sum();

    // 5w: waking idle conversations, at a rate far below either side's
    // capacity so that queueing does not hide the wake itself. In
    // production most conversations are idle between messages: this is the
    // latency customers actually get.
    let (wake_convs, wake_rate) = if o.quick {
        (300usize, 20.0)
    } else {
        (1000, 20.0)
    };
    let s5w = format!("5w wake+deliver, {wake_rate:.0}/s into {wake_convs} idle conv");
    println!("scenario 5w: {wake_rate:.0} msgs/s, one each into {wake_convs} idle conversations");
    let idle_convs = psids("w", wake_convs);
    let m5w = both(&targets, |t| {
        t.create_conversations(&idle_convs);
        let urls: Vec<String> = idle_convs.iter().map(|p| t.live_url(p)).collect();
        let w = Watchers::connect(&urls);
        // Long enough for the runtime to evict the idle objects (their sockets hibernate).
        std::thread::sleep(Duration::from_secs(15));
        measure(t, &w, "wake", 1, || {
            fixed_rate(t, &idle_convs, "wake", wake_rate, wake_convs as u64)
        })
    });
    spread_rows(&mut report, &s5w, "wake+deliver", &m5w, |m| {
        m.latency.as_ref()
    });
    pair(
        &mut report,
        &s5w,
        "  of which workerd CPU ms/msg",
        &m5w,
        |x| x.workerd_ms_per_msg,
    );
    common_rows(&mut report, &s5w, &m5w);
    lost += m5w.first().map(|m| m.lost).unwrap_or(0);

    if !o.quick {
        // 4: fan-out, one conversation, 50 sockets.
        let fan_rate = 20.0;
        let fan_secs = 10u64;
        println!("scenario 4: one conversation watched by 50 sockets, {fan_rate:.0} msgs/s for {fan_secs} s");
        let s4 = "4 fan-out, 1 conv × 50 sockets".to_string();
        let fan = vec!["fan".to_string()];
        let m4 = both(&targets, |t| {
            t.create_conversations(&fan);
            let w = Watchers::connect(&vec![t.live_url("fan"); 50]);
            std::thread::sleep(Duration::from_millis(500));
            measure(t, &w, "fan", 50, || {
                fixed_rate(
                    t,
                    &fan,
                    "fan",
                    fan_rate,
                    (fan_rate * fan_secs as f64) as u64,
                )
            })
        });
        spread_rows(&mut report, &s4, "latency", &m4, |m| m.latency.as_ref());
        pair(&mut report, &s4, "deliveries/s", &m4, |x| {
            Some(x.delivered_per_sec * 50.0)
        });
        pair(&mut report, &s4, "server CPU ms/msg", &m4, |x| {
            x.cpu_ms_per_msg
        });
        pair(&mut report, &s4, "  of which workerd", &m4, |x| {
            x.workerd_ms_per_msg
        });
        common_rows(&mut report, &s4, &m4);
        lost += m4.first().map(|m| m.lost).unwrap_or(0);

        // 5: 1,000 sockets open at once, hibernated, one message each at 200/s
        // (near capacity: the wake and the queue together).
        println!("scenario 5: 1,000 conversations with one socket each");
        let s5 = "5 1,000 sockets (hibernated)".to_string();
        let many = psids("v", 1000);
        let m5 = both(&targets, |t| {
            t.create_conversations(&many);
            std::thread::sleep(Duration::from_secs(2));
            let rss0 = t.proc.as_ref().map(|p| p.workerd_rss_mib());
            let started = Instant::now();
            let urls: Vec<String> = many.iter().map(|p| t.live_url(p)).collect();
            let w = Watchers::connect(&urls);
            let connect_ms = ms(started.elapsed());
            // Let the objects go idle so the runtime can hibernate them.
            std::thread::sleep(Duration::from_secs(15));
            let rss1 = t.proc.as_ref().map(|p| p.workerd_rss_mib());
            let m = measure(t, &w, "many", 1, || {
                fixed_rate(t, &many, "many", 200.0, 1000)
            });
            let rss2 = t.proc.as_ref().map(|p| p.workerd_rss_mib());
            drop(w);
            (m, connect_ms, rss0, rss1, rss2)
        });
        pair(&mut report, &s5, "connect all 1,000, ms", &m5, |x| {
            Some(x.1)
        });
        pair(&mut report, &s5, "delivered of 1,000", &m5, |x| {
            Some((x.0.messages - x.0.lost - x.0.failed_posts) as f64)
        });
        pair(&mut report, &s5, "wake+deliver p50 ms", &m5, |x| {
            x.0.latency.as_ref().map(|s| s.p50)
        });
        pair(&mut report, &s5, "wake+deliver p99 ms", &m5, |x| {
            x.0.latency.as_ref().map(|s| s.p99)
        });
        pair(&mut report, &s5, "workerd RSS before, MiB", &m5, |x| x.2);
        pair(&mut report, &s5, "RSS, 1,000 open+idle, MiB", &m5, |x| x.3);
        pair(&mut report, &s5, "RSS after delivery, MiB", &m5, |x| x.4);
        lost += m5.first().map(|m| m.0.lost).unwrap_or(0);
    }

    // 7: size and cold start.
    let s7 = "7 worker";
    match scale::wasm_sizes() {
        Some((raw, gz)) => {
            report.add_note(
                s7,
                "wasm raw, KiB",
                Some(raw as f64 / 1024.0),
                None,
                "functions/worker/build/index_bg.wasm",
            );
            report.add_note(
                s7,
                "wasm gzip -9, KiB",
                Some(gz as f64 / 1024.0),
                None,
                "target ≤ 1024",
            );
        }
        None => println!("  wasm: functions/worker/build/index_bg.wasm not found"),
    }
    report.add_note(
        s7,
        "cold start ms",
        sb_cold,
        Some(floor_cold),
        "spawn the worker server → first 200 on /healthz",
    );

    if o.scale {
        if let Some(sb) = targets.first() {
            scale::run(sb, o.scale_messages, &mut report);
        }
    }

    report.print();
    if o.markdown {
        report.markdown();
    }
    drop(targets);
    println!("\nbench took {:.0} s", started.elapsed().as_secs_f64());
    let p99 = |i: usize| m1.get(i).and_then(|m| m.latency.as_ref().map(|s| s.p99));
    let tp = |i: usize| m2.get(i).map(|m| m.delivered_per_sec);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "nan".into(),
    };
    let cpu = |i: usize| m2.get(i).and_then(|m| m.workerd_ms_per_msg);
    let wake = |i: usize| m5w.get(i).and_then(|m| m.latency.as_ref().map(|s| s.p50));
    println!(
        "summary: p99_ratio={} throughput_ratio={} lost={lost} cpu_ratio={} wake_ratio={}",
        ratio(p99(0), p99(1)),
        ratio(tp(0), tp(1)),
        ratio(cpu(0), cpu(1)),
        ratio(wake(0), wake(1))
    );
}
