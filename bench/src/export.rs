//! `--export N`: one conversation with N messages (seeded through the real
//! webhook path, 500 to a POST), exported as CSV and as JSON while workerd's
//! memory is sampled every 50 ms. The export streams a page of 500 messages
//! at a time, so the peak should not grow with N; the check reads every
//! row back and confirms the export is complete and in `seq` order.

use crate::report::Report;
use crate::target::{text_for, Ev, Target};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PSID: &str = "export-big";

/// Samples `f` every 50 ms until `stop`; returns the highest value.
fn peak_while(f: &(dyn Fn() -> f64 + Sync), stop: &AtomicBool, peak: &Mutex<f64>) {
    while !stop.load(Ordering::SeqCst) {
        let v = f();
        if let Ok(mut p) = peak.lock() {
            *p = p.max(v);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Streams `path` into a counter of lines (and keeps the body if `keep`).
fn download(t: &Target, path: &str, keep: bool) -> (u64, usize, Vec<u8>, f64) {
    let Some(api) = t.api.as_ref() else {
        return (0, 0, Vec::new(), 0.0);
    };
    let started = Instant::now();
    let resp = match api.request("GET", path).call() {
        Ok(r) => r,
        Err(e) => {
            println!("  export failed: {e}");
            return (0, 0, Vec::new(), 0.0);
        }
    };
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let (mut bytes, mut lines) = (0u64, 0usize);
    let mut body = Vec::new();
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or_default();
        bytes += n as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        if keep {
            body.extend_from_slice(chunk);
        }
    }
    (bytes, lines, body, started.elapsed().as_secs_f64())
}

pub fn run(t: &Target, total: u64, report: &mut Report) {
    let Some(proc) = t.proc.as_ref() else {
        println!("--export needs the bench's own server (no --url)");
        return;
    };
    let s = format!("8 export, 1 conv × {total} msgs");
    println!("export: seeding {total} messages into one conversation…");
    let agent = Target::http();
    let started = Instant::now();
    let mut seeded = 0u64;
    for first in (0..total).step_by(500) {
        let events: Vec<Ev> = (first..(first + 500).min(total))
            .map(|i| Ev {
                psid: PSID.into(),
                mid: format!("x.{i}"),
                text: text_for(i),
            })
            .collect();
        let n = events.len() as u64;
        if (0..3).any(|_| t.post(&agent, events.clone()).ok) {
            seeded += n;
        }
        if seeded.is_multiple_of(20_000) {
            println!(
                "  seeded {seeded} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    report.add(&s, "messages seeded", Some(seeded as f64), None);
    let cv = t.conversation_id(PSID);
    std::thread::sleep(Duration::from_secs(5));
    let rss = || proc.workerd_rss_mib();
    let before = rss();
    report.add(&s, "workerd RSS before, MiB", Some(before), None);
    for (format, keep) in [("csv", true), ("json", true)] {
        let stop = AtomicBool::new(false);
        let peak = Mutex::new(before);
        let (bytes, lines, body, secs) = std::thread::scope(|sc| {
            sc.spawn(|| peak_while(&rss, &stop, &peak));
            let r = download(
                t,
                &format!("/api/conversations/{cv}/export?format={format}"),
                keep,
            );
            stop.store(true, Ordering::SeqCst);
            r
        });
        let (count, ordered) = check(format, &body);
        println!(
            "  {format}: {:.1} MiB in {secs:.1} s, {count} messages, in order: {ordered}",
            bytes as f64 / 1_048_576.0
        );
        let peak = peak.lock().map(|p| *p).unwrap_or(0.0);
        report.add(
            &s,
            &format!("{format} messages exported"),
            Some(count as f64),
            None,
        );
        report.add_note(
            &s,
            &format!("{format} in seq order"),
            Some(if ordered { 1.0 } else { 0.0 }),
            None,
            "1 = yes",
        );
        report.add(
            &s,
            &format!("{format} MiB"),
            Some(bytes as f64 / 1_048_576.0),
            None,
        );
        report.add(&s, &format!("{format} seconds"), Some(secs), None);
        report.add(
            &s,
            &format!("{format} workerd RSS peak, MiB"),
            Some(peak),
            None,
        );
        let _ = lines;
    }
    std::thread::sleep(Duration::from_secs(5));
    report.add(&s, "workerd RSS after, MiB", Some(rss()), None);
}

/// Messages in the export and whether their `seq`s strictly increase.
fn check(format: &str, body: &[u8]) -> (usize, bool) {
    let text = String::from_utf8_lossy(body);
    let seqs: Vec<i64> = match format {
        // text_for has no commas, quotes or line breaks: one line a row.
        "csv" => text
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split(',').next()?.parse().ok())
            .collect(),
        _ => serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v["messages"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|m| m["seq"].as_i64()).collect())
            })
            .unwrap_or_default(),
    };
    let ordered = seqs.windows(2).all(|w| w.first() < w.get(1));
    (seqs.len(), ordered)
}
