//! Real time that never loses a message: resume under chaos, long-poll,
//! order across agents, read state, the feed, presence, search.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::{Api, Live, Server};

fn live_url(server: &Server, ws: &Workspace, cv: &str, since: i64) -> String {
    server.ws_url(&format!(
        "/api/conversations/{cv}/live?since={since}&token={}",
        token(ws)
    ))
}

/// Hundreds of messages stream in while the agent's connection is dropped
/// every few dozen events and resumed from its last `seq`, alternating
/// between WebSocket and long-poll: every message arrives exactly once, in
/// order.
#[test]
fn resume_under_chaos_loses_and_duplicates_nothing() {
    const MESSAGES: usize = 300;
    let server = Server::start();
    let ws = messenger_workspace(&server, "chaos");
    post_signed(&ws, &messenger_body(&[("psid-chaos", "m_0", "start")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-chaos");

    let sender = {
        let api = ws.api.clone();
        let path = ws.webhook_path.clone();
        std::thread::spawn(move || {
            let ws = Workspace {
                api,
                inbox_id: String::new(),
                webhook_path: path,
            };
            for i in 1..=MESSAGES {
                let mid = format!("m_{i}");
                let text = format!("message {i}");
                post_signed(&ws, &messenger_body(&[("psid-chaos", &mid, &text)]))
                    .expect_status(200);
            }
        })
    };

    /// What the client has applied: the last `seq` and the texts, in order.
    #[derive(Default)]
    struct Seen {
        last_seq: i64,
        texts: Vec<String>,
    }
    impl Seen {
        fn apply(&mut self, event: &Value) {
            let seq = event["seq"].as_i64().unwrap();
            assert_eq!(
                seq,
                self.last_seq + 1,
                "gap or duplicate: got {seq} after {}",
                self.last_seq
            );
            self.last_seq = seq;
            if event["type"] == "message_created" {
                self.texts
                    .push(event["message"]["text"].as_str().unwrap().to_string());
            }
        }
    }
    let mut seen = Seen::default();
    let mut reconnects = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.texts.len() < MESSAGES + 1 {
        assert!(
            Instant::now() < deadline,
            "stalled at seq {} with {} messages",
            seen.last_seq,
            seen.texts.len()
        );
        if reconnects % 2 == 0 {
            // WebSocket, dropped after 25 events.
            let mut live = Live::connect(&live_url(&server, &ws, &cv, seen.last_seq));
            for _ in 0..25 {
                match live.next_event(Duration::from_secs(5)) {
                    Some(e) => seen.apply(&e),
                    None => break,
                }
            }
            drop(live); // no close frame: a dropped connection
        } else {
            // Long-poll, for a network that kills long connections.
            for _ in 0..3 {
                let page = ws
                    .api
                    .get(&format!(
                        "/api/conversations/{cv}/events?since={}&wait=5",
                        seen.last_seq
                    ))
                    .expect_status(200);
                for e in page.body["events"].as_array().unwrap() {
                    seen.apply(e);
                }
            }
        }
        reconnects += 1;
    }
    let Seen { last_seq, texts } = seen;
    sender.join().unwrap();
    let expected: Vec<String> = std::iter::once("start".to_string())
        .chain((1..=MESSAGES).map(|i| format!("message {i}")))
        .collect();
    assert_eq!(texts, expected);
    assert!(
        reconnects >= 10,
        "the connection was dropped {reconnects} times"
    );
    // Nothing more is pending: the log ends where we are.
    let rest = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since={last_seq}"))
        .expect_status(200);
    assert_eq!(rest.body["events"].as_array().unwrap().len(), 0);
    assert_eq!(rest.body["last_seq"], last_seq);
}

#[test]
fn long_poll_wakes_on_the_event_and_times_out_empty() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "poll");
    post_signed(&ws, &messenger_body(&[("psid-poll", "m_1", "first")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-poll");

    // Nothing new: held for the wait, then an empty list.
    let started = Instant::now();
    let empty = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since=1&wait=1"))
        .expect_status(200);
    let held = started.elapsed();
    assert_eq!(empty.body["events"], json!([]));
    assert!(
        held >= Duration::from_millis(900),
        "returned after {held:?}, before the wait"
    );

    // Something new: answered when it arrives, long before the wait ends.
    let api = ws.api.clone();
    let path = format!("/api/conversations/{cv}/events?since=1&wait=25");
    let poll = std::thread::spawn(move || {
        let a = api.get(&path);
        (a, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(500));
    post_signed(&ws, &messenger_body(&[("psid-poll", "m_2", "second")])).expect_status(200);
    let acked = Instant::now();
    let (answer, answered) = poll.join().unwrap();
    let answer = answer.expect_status(200);
    let events = answer.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["seq"], 2);
    assert_eq!(events[0]["message"]["text"], "second");
    let lag = answered.saturating_duration_since(acked);
    println!("long-poll answered {lag:?} after the webhook's 200");
    assert!(
        lag < Duration::from_secs(5),
        "long-poll woke only after {lag:?}"
    );

    // wait is capped and validated.
    ws.api
        .get(&format!("/api/conversations/{cv}/events?since=abc"))
        .expect_error(400);
}

#[test]
fn two_agents_see_the_same_order_and_reads_are_recorded() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "order");
    post_signed(&ws, &messenger_body(&[("psid-o", "m_0", "hi")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-o");
    let mut first = Live::connect(&live_url(&server, &ws, &cv, 1));
    let mut second = Live::connect(&live_url(&server, &ws, &cv, 1));

    // Four senders at once into one conversation.
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let api = ws.api.clone();
            let path = ws.webhook_path.clone();
            std::thread::spawn(move || {
                let ws = Workspace {
                    api,
                    inbox_id: String::new(),
                    webhook_path: path,
                };
                for i in 0..15 {
                    let mid = format!("m_{t}_{i}");
                    post_signed(&ws, &messenger_body(&[("psid-o", &mid, &mid)])).expect_status(200);
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let read = |live: &mut Live| -> Vec<(i64, String)> {
        (0..60)
            .map(|_| {
                let e = live.next_event(WAIT).expect("event");
                (
                    e["seq"].as_i64().unwrap(),
                    e["message"]["platform_id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let a = read(&mut first);
    let b = read(&mut second);
    assert_eq!(a, b, "two agents saw different orders");
    assert_eq!(
        a.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (2..62).collect::<Vec<_>>()
    );
    // Each sender's own messages keep their order.
    for t in 0..4 {
        let mine: Vec<_> = a
            .iter()
            .filter(|(_, p)| p.starts_with(&format!("m_{t}_")))
            .map(|(_, p)| p.clone())
            .collect();
        assert_eq!(
            mine,
            (0..15).map(|i| format!("m_{t}_{i}")).collect::<Vec<_>>()
        );
    }

    // Reading: over the socket and over HTTP, pushed to the other agent,
    // and the list's unread count follows.
    let list = ws
        .api
        .wait_for_conversations(|l| l.first().is_some_and(|c| c["unread"] == 61));
    assert_eq!(list[0]["unread"], 61);
    first.send_text(r#"{"type":"read","seq":31}"#);
    let r = second.next_of_type("read", WAIT).expect("read pushed");
    assert_eq!(r["read_seq"], 31);
    ws.api
        .wait_for_conversations(|l| l.first().is_some_and(|c| c["unread"] == 30));
    ws.api
        .post(
            &format!("/api/conversations/{cv}/read"),
            &json!({"seq": 61}),
        )
        .expect_status(200);
    let r = second.next_of_type("read", WAIT).expect("read pushed");
    assert_eq!(r["read_seq"], 61);
    ws.api
        .wait_for_conversations(|l| l.first().is_some_and(|c| c["unread"] == 0));
    // Typing is pushed to the others and never stored.
    first.send_text(r#"{"type":"typing"}"#);
    let typing = second.next_json(WAIT).expect("typing");
    assert_eq!(typing["type"], "typing");
    assert!(typing.get("seq").is_none());
}

#[test]
fn the_feed_pages_filters_presence_and_long_poll() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "feed");
    let mut feed = Live::connect(&server.ws_url(&format!("/api/live?token={}", token(&ws))));
    let online = feed
        .next_of_type("presence", WAIT)
        .expect("presence on connect");
    assert_eq!(online["status"], "online");

    for i in 0..5 {
        let psid = format!("psid-{i}");
        let mid = format!("m_{i}");
        post_signed(&ws, &messenger_body(&[(&psid, &mid, "hello")])).expect_status(200);
        let c = feed
            .next_of_type("conversation", WAIT)
            .expect("conversation on the feed");
        assert_eq!(c["conversation"]["contact"]["external_id"], psid);
    }

    // Paged with a cursor, newest first, no repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/conversations?status=all&limit=2&cursor={c}"),
            None => "/api/conversations?status=all&limit=2".to_string(),
        };
        let page = ws.api.get(&path).expect_status(200);
        for c in page.body["conversations"].as_array().unwrap() {
            seen.push(c["contact"]["external_id"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["psid-4", "psid-3", "psid-2", "psid-1", "psid-0"]);
    let filtered = ws
        .api
        .get("/api/conversations?status=all&channel=telegram")
        .expect_status(200);
    assert_eq!(filtered.body["conversations"], json!([]));
    let open = ws
        .api
        .get("/api/conversations?status=open&channel=messenger&assignee=none")
        .expect_status(200);
    assert_eq!(open.body["conversations"].as_array().unwrap().len(), 5);
    ws.api
        .get("/api/conversations?status=closed")
        .expect_error(400);
    ws.api
        .get("/api/conversations?cursor=garbage")
        .expect_error(400);

    // The long-poll twin carries the same feed with the same seqs.
    let all = ws.api.get("/api/feed?since=0").expect_status(200);
    let seqs: Vec<i64> = all.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let last = all.body["last_seq"].as_i64().unwrap();

    // Presence: away, then offline when the last socket goes.
    feed.send_text(r#"{"type":"presence","status":"away"}"#);
    let away = feed.next_of_type("presence", WAIT).expect("away pushed");
    assert_eq!(away["status"], "away");
    feed.close();
    let offline = ws
        .api
        .get(&format!("/api/feed?since={}&wait=10", last + 1))
        .expect_status(200);
    let statuses: Vec<_> = offline.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("offline")]);
}

#[test]
fn search_finds_words_only_in_the_callers_workspace() {
    let server = Server::start();
    let a = messenger_workspace(&server, "search-a");
    let b = messenger_workspace(&server, "search-b");
    post_signed(
        &a,
        &messenger_body(&[("psid-1", "m_1", "My parcel never arrived")]),
    )
    .expect_status(200);
    post_signed(
        &a,
        &messenger_body(&[("psid-2", "m_2", "Where is my refund?")]),
    )
    .expect_status(200);
    post_signed(
        &a,
        &messenger_body(&[("psid-2", "m_3", "Refund for order 1234 please")]),
    )
    .expect_status(200);
    post_signed(
        &b,
        &messenger_body(&[("psid-9", "m_9", "B also wants a refund")]),
    )
    .expect_status(200);

    // The index trails the conversations by a moment (more on a loaded
    // machine): wait until every expected hit is in, then assert on them all.
    let search_n = |api: &Api, q: &str, want: usize| -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let r = api
                .get(&format!("/api/search?q={q}"))
                .expect_status(200)
                .body;
            if r["results"].as_array().unwrap().len() >= want || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let search = |api: &Api, q: &str| search_n(api, q, 1);
    let found = search_n(&a.api, "refund", 2);
    let texts: Vec<_> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Refund for order 1234 please", "Where is my refund?"],
        "newest first, only A's"
    );
    assert_eq!(
        found["results"][0]["conversation"]["contact"]["external_id"],
        "psid-2"
    );
    // A prefix, and more than one word.
    assert_eq!(
        search(&a.api, "parc")["results"][0]["message"]["text"],
        "My parcel never arrived"
    );
    let both = search(&a.api, "refund%201234");
    assert_eq!(both["results"].as_array().unwrap().len(), 1);
    // Paged.
    let page = a
        .api
        .get("/api/search?q=refund&limit=1")
        .expect_status(200)
        .body;
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_i64().expect("a next page");
    let next = a
        .api
        .get(&format!("/api/search?q=refund&limit=1&cursor={cursor}"))
        .expect_status(200)
        .body;
    assert_eq!(next["results"][0]["message"]["text"], "Where is my refund?");
    // B finds only its own.
    let theirs = search(&b.api, "refund");
    assert_eq!(theirs["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        theirs["results"][0]["message"]["text"],
        "B also wants a refund"
    );
    // Query syntax is inert; no words is a 400.
    a.api
        .get("/api/search?q=%22refund%20OR%20x%3A*")
        .expect_status(200);
    a.api.get("/api/search?q=%22%22").expect_error(400);
}
