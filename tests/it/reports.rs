//! Reports are right, not plausible: known traffic (customers writing at
//! known local times, replies after known delays, resolutions, a reopening,
//! a redelivered webhook) gives exactly the counts, medians and 90th
//! percentiles computed here from the same traffic, per day in the
//! workspace's time zone (and again after it changes), per channel, inbox
//! and agent; bad ranges are refused and other workspaces see nothing.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use switchboard_core::report::format_date;
use switchboard_tests::{Api, FakePlatform, Server, ServerOptions};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// Asia/Kolkata: UTC+05:30 all year, so a local midnight is not a UTC hour.
const IST: i64 = 5 * HOUR + 30 * MIN;
const BOT_TOKEN: &str = "123456:report-bot";
const TG_SECRET: &str = "report-telegram-secret";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A Messenger text message (or the page's echo of its own reply) at `ts`.
fn messenger_at(psid: &str, mid: &str, text: &str, ts: i64, echo: bool) -> Vec<u8> {
    let (sender, recipient) = if echo {
        (PAGE_ID, psid)
    } else {
        (psid, PAGE_ID)
    };
    serde_json::to_vec(
        &json!({"object": "page", "entry": [{"id": PAGE_ID, "time": ts, "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": ts,
         "message": {"mid": mid, "text": text, "is_echo": echo}}]}]}),
    )
    .unwrap()
}

/// One thing the report should count, as this test knows it.
#[derive(Clone)]
struct Fact {
    at: i64,
    channel: &'static str,
    agent: Option<String>,
    what: What,
}

#[derive(Clone, Copy)]
enum What {
    Opened,
    In,
    Out,
    FirstResponse(i64),
    Resolved(i64),
}

fn durations(mut v: Vec<i64>) -> Value {
    v.sort();
    let rank = |p: usize| v.get((v.len() * p).div_ceil(100).max(1) - 1).copied();
    if v.is_empty() {
        json!({"count": 0, "median_ms": null, "p90_ms": null})
    } else {
        json!({"count": v.len(), "median_ms": rank(50), "p90_ms": rank(90)})
    }
}

fn row(key: Option<String>, facts: &[&Fact]) -> Value {
    let count = |f: fn(&What) -> bool| facts.iter().filter(|x| f(&x.what)).count();
    let times = |resolution: bool| {
        facts
            .iter()
            .filter_map(|x| match (x.what, resolution) {
                (What::FirstResponse(ms), false) | (What::Resolved(ms), true) => Some(ms),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    json!({
        "key": key,
        "conversations_opened": count(|w| matches!(w, What::Opened)),
        "conversations_resolved": count(|w| matches!(w, What::Resolved(_))),
        "messages_in": count(|w| matches!(w, What::In)),
        "messages_out": count(|w| matches!(w, What::Out)),
        "first_response": durations(times(false)),
        "resolution": durations(times(true)),
    })
}

/// Totals carry a histogram of each duration: bins ending at 1, 5, 15 min,
/// 1, 4, 24 h, and one for longer.
fn totals(facts: &[&Fact]) -> Value {
    let mut t = row(None, facts);
    let bins = |resolution: bool| {
        let mut h = [0i64; 7];
        for f in facts {
            if let (What::FirstResponse(ms), false) | (What::Resolved(ms), true) =
                (f.what, resolution)
            {
                let bounds = [MIN, 5 * MIN, 15 * MIN, HOUR, 4 * HOUR, DAY];
                h[bounds.iter().filter(|b| ms >= **b).count()] += 1;
            }
        }
        json!(h)
    };
    t["first_response"]["histogram"] = bins(false);
    t["resolution"]["histogram"] = bins(true);
    t
}

/// The answer the report must give for local days `from..=to` at `offset`.
fn expected(
    facts: &[Fact],
    offset: i64,
    from: i64,
    to: i64,
    group: &str,
    inboxes: &BTreeMap<&str, String>,
) -> Value {
    let day_of = |at: i64| (at + offset).div_euclid(DAY);
    let in_range: Vec<&Fact> = facts
        .iter()
        .filter(|f| (from..=to).contains(&day_of(f.at)))
        .collect();
    let rows: Vec<Value> = match group {
        // Local hours, keyed with the (fixed) offset, e.g. 2026-12-01T09:00+05:30.
        "hour" => (from * 24..(to + 1) * 24)
            .map(|h| {
                let of_hour: Vec<&Fact> = in_range
                    .iter()
                    .copied()
                    .filter(|f| (f.at + offset).div_euclid(HOUR) == h)
                    .collect();
                let off = offset.abs() / MIN;
                let key = format!(
                    "{}T{:02}:00{}{:02}:{:02}",
                    format_date(h.div_euclid(24)),
                    h.rem_euclid(24),
                    if offset < 0 { '-' } else { '+' },
                    off / 60,
                    off % 60
                );
                row(Some(key), &of_hour)
            })
            .collect(),
        "day" => (from..=to)
            .map(|d| {
                let of_day: Vec<&Fact> = in_range
                    .iter()
                    .copied()
                    .filter(|f| day_of(f.at) == d)
                    .collect();
                row(Some(format_date(d)), &of_day)
            })
            .collect(),
        _ => {
            let mut groups: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
            for f in &in_range {
                let key = match group {
                    "channel" => f.channel.to_string(),
                    "inbox" => inboxes[f.channel].clone(),
                    _ => f.agent.clone().unwrap_or_default(),
                };
                groups.entry(key).or_default().push(f);
            }
            groups
                .into_iter()
                .map(|(k, fs)| row((!k.is_empty()).then_some(k), &fs))
                .collect()
        }
    };
    json!({"rows": rows, "totals": totals(&in_range)})
}

/// The `conversation_status` events of a conversation: `(status, at)`.
fn statuses(ws: &Workspace, cv: &str) -> Vec<(String, i64)> {
    ws.api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_status(200)
        .body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "conversation_status")
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_string(),
                e["at"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Polls the report until it matches (the rollups trail the traffic by
/// the index's pacing), then asserts it.
fn assert_report(ws: &Workspace, query: &str, want: &Value) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = ws
            .api
            .get(&format!("/api/reports?{query}"))
            .expect_status(200)
            .body;
        let got = json!({"rows": got["rows"], "totals": got["totals"]});
        if &got == want {
            return;
        }
        if Instant::now() > deadline {
            assert_eq!(got, *want, "report {query}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn reports_count_known_traffic_exactly() {
    let graph = FakePlatform::start();
    graph.accept_token(PAGE_TOKEN);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &graph.base));
    let ws = messenger_workspace(&server, "reports");
    let owner = ws.api.get("/api/me").expect_status(200).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let telegram = ws.api.create_inbox(
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": TG_SECRET}),
    );
    let inboxes: BTreeMap<&str, String> = BTreeMap::from([
        ("messenger", ws.inbox_id.clone()),
        ("telegram", telegram["id"].as_str().unwrap().to_string()),
    ]);
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"time_zone": "Asia/Kolkata"}}),
        )
        .expect_status(200);

    let today = (now_ms() + IST).div_euclid(DAY);
    let (a, b) = (today - 2, today - 1);
    // The UTC instant of a local wall-clock time in Kolkata.
    let local = |day: i64, h: i64, m: i64, s: i64| day * DAY + h * HOUR + m * MIN + s * 1000 - IST;
    let mut facts: Vec<Fact> = Vec::new();
    let mut fact = |at: i64, channel: &'static str, agent: Option<&str>, what: What| {
        facts.push(Fact {
            at,
            channel,
            agent: agent.map(str::to_string),
            what,
        })
    };
    let meta = |body: Vec<u8>| post_signed(&ws, &body).expect_status(200);

    // 1: opened just before local midnight, answered (echo) 90 s later,
    //    writes again just after midnight; resolved below.
    let t1 = local(a, 23, 50, 0);
    meta(messenger_at(
        "r-p1",
        "m_r1",
        "Is my parcel lost?",
        t1,
        false,
    ));
    meta(messenger_at(
        "r-p1",
        "m_r1_echo",
        "Looking now",
        t1 + 90_000,
        true,
    ));
    meta(messenger_at(
        "r-p1",
        "m_r1b",
        "Thanks",
        local(b, 0, 5, 0),
        false,
    ));
    fact(t1, "messenger", None, What::Opened);
    fact(t1, "messenger", None, What::In);
    fact(t1 + 90_000, "messenger", None, What::Out);
    fact(t1 + 90_000, "messenger", None, What::FirstResponse(90_000));
    fact(local(b, 0, 5, 0), "messenger", None, What::In);
    // 2: opened just after midnight, answered after 5 minutes.
    let t2 = local(b, 0, 10, 0);
    meta(messenger_at(
        "r-p2",
        "m_r2",
        "Do you ship to Pune?",
        t2,
        false,
    ));
    meta(messenger_at(
        "r-p2",
        "m_r2_echo",
        "We do",
        t2 + 300_000,
        true,
    ));
    fact(t2, "messenger", None, What::Opened);
    fact(t2, "messenger", None, What::In);
    fact(t2 + 300_000, "messenger", None, What::Out);
    fact(
        t2 + 300_000,
        "messenger",
        None,
        What::FirstResponse(300_000),
    );
    // 3: answered by the agent through the API, now.
    let t3 = local(b, 9, 0, 0);
    meta(messenger_at("r-p3", "m_r3", "Invoice please", t3, false));
    let cv3 = conversation_of(&ws, "r-p3");
    let reply = ws
        .api
        .post(
            &format!("/api/conversations/{cv3}/messages"),
            &json!({"text": "Sent!"}),
        )
        .expect_status(201);
    let r3 = reply.body["created_at"].as_i64().unwrap();
    fact(t3, "messenger", None, What::Opened);
    fact(t3, "messenger", None, What::In);
    fact(r3, "messenger", Some(&owner), What::Out);
    fact(r3, "messenger", Some(&owner), What::FirstResponse(r3 - t3));
    // 4: Telegram, never answered.
    let t4 = local(b, 10, 0, 0);
    let update = serde_json::to_vec(&json!({"update_id": 77001, "message": {"message_id": 1, "date": t4 / 1000,
        "chat": {"id": 4242, "type": "private", "first_name": "Ravi"}, "from": {"id": 4242, "is_bot": false, "first_name": "Ravi"},
        "text": "Hello?"}}))
    .unwrap();
    ws.api
        .post_raw(
            &format!("/webhooks/telegram/{}", inboxes["telegram"]),
            &[
                ("x-telegram-bot-api-secret-token", TG_SECRET),
                ("content-type", "application/json"),
            ],
            &update,
        )
        .expect_status(200);
    fact(t4, "telegram", None, What::Opened);
    fact(t4, "telegram", None, What::In);
    // 5: answered after 10 minutes; resolved, reopened by the customer,
    //    resolved again.
    let t5 = local(a, 12, 0, 0);
    meta(messenger_at("r-p5", "m_r5", "Wrong size", t5, false));
    meta(messenger_at(
        "r-p5",
        "m_r5_echo",
        "Swap it free",
        t5 + 600_000,
        true,
    ));
    fact(t5, "messenger", None, What::Opened);
    fact(t5, "messenger", None, What::In);
    fact(t5 + 600_000, "messenger", None, What::Out);
    fact(
        t5 + 600_000,
        "messenger",
        None,
        What::FirstResponse(600_000),
    );

    let cv1 = conversation_of(&ws, "r-p1");
    let cv5 = conversation_of(&ws, "r-p5");
    let resolve = |cv: &str| {
        ws.api
            .send_patch(
                &format!("/api/conversations/{cv}"),
                &json!({"status": "resolved"}),
            )
            .expect_status(200);
    };
    resolve(&cv1);
    resolve(&cv3);
    resolve(&cv5);
    let t5b = now_ms() - 1_000;
    meta(messenger_at(
        "r-p5",
        "m_r5b",
        "It is still wrong",
        t5b,
        false,
    ));
    fact(t5b, "messenger", None, What::In);
    // The customer's message reopened it; resolve once it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    while statuses(&ws, &cv5).last().map(|s| s.0.as_str()) != Some("open") {
        assert!(Instant::now() < deadline, "never reopened");
        std::thread::sleep(Duration::from_millis(50));
    }
    resolve(&cv5);
    // A webhook delivered again counts nothing again.
    meta(messenger_at(
        "r-p1",
        "m_r1",
        "Is my parcel lost?",
        t1,
        false,
    ));

    // Resolution times, from the status changes the server recorded.
    let resolved_at = |cv: &str| -> Vec<i64> {
        statuses(&ws, cv)
            .into_iter()
            .filter(|s| s.0 == "resolved")
            .map(|s| s.1)
            .collect()
    };
    let at1 = resolved_at(&cv1)[0];
    fact(at1, "messenger", Some(&owner), What::Resolved(at1 - t1));
    let at3 = resolved_at(&cv3)[0];
    fact(at3, "messenger", Some(&owner), What::Resolved(at3 - t3));
    let s5 = statuses(&ws, &cv5);
    assert_eq!(
        s5.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["resolved", "open", "resolved"]
    );
    fact(
        s5[0].1,
        "messenger",
        Some(&owner),
        What::Resolved(s5[0].1 - t5),
    );
    fact(
        s5[2].1,
        "messenger",
        Some(&owner),
        What::Resolved(s5[2].1 - s5[1].1),
    );

    // Per day in Kolkata, per channel, inbox and agent.
    let range = format!("from={}&to={}", format_date(a), format_date(today));
    let by_day = expected(&facts, IST, a, today, "day", &inboxes);
    assert_eq!(by_day["totals"]["conversations_opened"], 5);
    assert_eq!(by_day["totals"]["messages_in"], 7);
    assert_eq!(by_day["totals"]["conversations_resolved"], 4);
    assert_eq!(
        by_day["rows"][0]["first_response"],
        json!({"count": 2, "median_ms": 90_000, "p90_ms": 600_000})
    );
    // 90 s (1–5 min), 5 and 10 min (5–15 min); the API's reply came hours later.
    assert_eq!(
        by_day["totals"]["first_response"]["histogram"]
            .as_array()
            .unwrap()[..3],
        [json!(0), json!(1), json!(2)]
    );
    assert_report(&ws, &format!("{range}&group_by=day"), &by_day);
    let answer = ws
        .api
        .get(&format!("/api/reports?{range}"))
        .expect_status(200)
        .body;
    assert_eq!(answer["time_zone"], "Asia/Kolkata");
    assert_eq!(answer["group_by"], "day");
    for group in ["channel", "inbox", "agent"] {
        assert_report(
            &ws,
            &format!("{range}&group_by={group}"),
            &expected(&facts, IST, a, today, group, &inboxes),
        );
    }
    // One day alone.
    assert_report(
        &ws,
        &format!("from={0}&to={0}", format_date(b)),
        &expected(&facts, IST, b, b, "day", &inboxes),
    );

    // Hour by hour, for one day.
    let by_hour = expected(&facts, IST, b, b, "hour", &inboxes);
    assert_eq!(by_hour["rows"].as_array().unwrap().len(), 24);
    assert_eq!(by_hour["rows"][0]["conversations_opened"], 1, "{by_hour}");
    assert_report(
        &ws,
        &format!("from={0}&to={0}&group_by=hour", format_date(b)),
        &by_hour,
    );

    // In UTC the early hours of Kolkata's day b are still day a: the same
    // rollups answer for the new zone.
    ws.api
        .send_patch("/api/workspace", &json!({"settings": {"time_zone": "UTC"}}))
        .expect_status(200);
    let utc_a = local(a, 23, 50, 0).div_euclid(DAY);
    let in_utc = expected(&facts, 0, utc_a, utc_a, "day", &inboxes);
    assert_eq!(in_utc["totals"]["conversations_opened"], 3);
    assert_eq!(
        in_utc["totals"]["first_response"],
        json!({"count": 3, "median_ms": 300_000, "p90_ms": 600_000,
               "histogram": [0, 1, 2, 0, 0, 0, 0]})
    );
    assert_report(
        &ws,
        &format!("from={0}&to={0}", format_date(utc_a)),
        &in_utc,
    );

    // An erased conversation keeps what it counted (nothing of the
    // contact); the customer writing again starts one counted afresh.
    let cv4 = conversation_of(&ws, "4242");
    let erased = ws
        .api
        .post(&format!("/api/conversations/{cv4}/erase"), &json!({}));
    assert!(matches!(erased.status, 200 | 202), "{}", erased.text);
    let t4b = (now_ms() - 1_000) / 1000 * 1000;
    let again = serde_json::to_vec(&json!({"update_id": 77002, "message": {"message_id": 2, "date": t4b / 1000,
        "chat": {"id": 4242, "type": "private", "first_name": "Ravi"}, "from": {"id": 4242, "is_bot": false, "first_name": "Ravi"},
        "text": "Me again"}}))
    .unwrap();
    ws.api
        .post_raw(
            &format!("/webhooks/telegram/{}", inboxes["telegram"]),
            &[
                ("x-telegram-bot-api-secret-token", TG_SECRET),
                ("content-type", "application/json"),
            ],
            &again,
        )
        .expect_status(200);
    for what in [What::Opened, What::In] {
        facts.push(Fact {
            at: t4b,
            channel: "telegram",
            agent: None,
            what,
        });
    }
    let utc_today = now_ms().div_euclid(DAY);
    let utc_range = format!("from={}&to={}", format_date(utc_a), format_date(utc_today));
    let by_channel = expected(&facts, 0, utc_a, utc_today, "channel", &inboxes);
    assert_eq!(
        by_channel["rows"][1]["conversations_opened"], 2,
        "{by_channel}"
    );
    assert_report(&ws, &format!("{utc_range}&group_by=channel"), &by_channel);

    // Refused: nothing guessed.
    for bad in [
        "to=2026-01-01".to_string(),
        "from=2026-01-01".to_string(),
        "from=2026-02-30&to=2026-03-01".to_string(),
        "from=2026-03-02&to=2026-03-01".to_string(),
        "from=2025-01-01&to=2026-01-02".to_string(),
        format!("{range}&group_by=week"),
        "from=2026-01-01&to=2026-02-01&group_by=hour".to_string(),
        "from=1.1.2026&to=2026-01-02".to_string(),
    ] {
        ws.api.get(&format!("/api/reports?{bad}")).expect_error(400);
    }
    // An unknown zone cannot be stored (the workspace settings check it),
    // so reports always have one they can compute in.
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"time_zone": "Mars/Olympus_Mons"}}),
        )
        .expect_error(400);
    ws.api
        .get(&format!("/api/reports?{range}"))
        .expect_status(200);
    Api::new(&server.base)
        .get(&format!("/api/reports?{range}"))
        .expect_error(401);

    // Another workspace sees only its own (empty) figures.
    let stranger = messenger_workspace(&server, "reports-stranger");
    let theirs = stranger
        .api
        .get(&format!("/api/reports?{range}"))
        .expect_status(200)
        .body;
    assert_eq!(theirs["totals"], totals(&[]));
    assert_eq!(theirs["rows"].as_array().unwrap().len(), 3);
}
