//! The tools agents work with (status and snooze, assignment and
//! round-robin, labels, contact edits, canned responses) and history
//! management (export, erasure), through the running worker.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::api::{send, Answer};
use switchboard_tests::{Api, Live, Server};

fn patch(api: &Api, path: &str, body: &Value) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap();
    send(
        api.request("PATCH", path)
            .set("content-type", "application/json"),
        Some(&bytes),
    )
}

fn delete(api: &Api, path: &str) -> Answer {
    send(api.request("DELETE", path), None)
}

/// A workspace, its owner's agent id, and one conversation with `psid`.
fn setup(server: &Server, label: &str, psid: &str, text: &str) -> (Workspace, String, String) {
    let email = format!("{label}-{}@example.test", unique());
    let (api, signup) = Api::new(&server.base).signup(label, &email);
    let owner = signup["agent_id"].as_str().unwrap().to_string();
    let inbox = api.create_inbox(
        "messenger",
        json!({"page_id": PAGE_ID, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "page_access_token": PAGE_TOKEN}),
    );
    let inbox_id = inbox["id"].as_str().unwrap().to_string();
    let ws = Workspace {
        webhook_path: format!("/webhooks/messenger/{inbox_id}"),
        api,
        inbox_id,
    };
    post_signed(
        &ws,
        &messenger_body(&[(psid, &format!("m_{psid}_0"), text)]),
    )
    .expect_status(200);
    let cv = conversation_of(&ws, psid);
    (ws, owner, cv)
}

fn last_seq(ws: &Workspace, cv: &str) -> i64 {
    ws.api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_status(200)
        .body["last_seq"]
        .as_i64()
        .unwrap()
}

/// The ids in the list for `query` (e.g. `status=open&label=vip`), once
/// `check` holds for them (the index trails a change by milliseconds).
fn list_until(ws: &Workspace, query: &str, check: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let ids: Vec<String> = ws
            .api
            .get(&format!("/api/conversations?{query}"))
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        if check(&ids) {
            return ids;
        }
        assert!(
            Instant::now() < deadline,
            "list {query} never matched: {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn listed(ws: &Workspace, query: &str, cv: &str) {
    list_until(ws, query, |ids| ids.iter().any(|i| i == cv));
}

fn not_listed(ws: &Workspace, query: &str, cv: &str) {
    list_until(ws, query, |ids| ids.iter().all(|i| i != cv));
}

/// The conversation's summary in the list, once `check` holds for it.
fn summary_until(ws: &Workspace, cv: &str, check: impl Fn(&Value) -> bool) -> Value {
    let list = ws
        .api
        .wait_for_conversations(|l| l.iter().any(|c| c["id"] == cv && check(c)));
    list.into_iter().find(|c| c["id"] == cv).unwrap()
}

#[test]
fn status_assignment_and_labels_are_live_events_and_filter_the_list() {
    let server = Server::start();
    let (ws, owner, cv) = setup(&server, "tools", "psid-tools", "where is my order");
    let mut live = live_after(&server, &ws, &cv);
    let path = format!("/api/conversations/{cv}");

    // Resolve: an event with who did it, and the list's filters follow.
    let s = patch(&ws.api, &path, &json!({"status": "resolved"})).expect_status(200);
    assert_eq!(s.body["status"], "resolved");
    let e = next_of_type(&mut live, "conversation_status");
    assert_eq!(e["status"], "resolved");
    assert_eq!(e["by"], owner.as_str());
    listed(&ws, "status=resolved", &cv);
    not_listed(&ws, "status=open", &cv);

    // Assign to the owner, then the assignee filter finds it.
    patch(&ws.api, &path, &json!({"assignee": owner})).expect_status(200);
    let e = next_of_type(&mut live, "assigned");
    assert_eq!(e["assignee"], owner.as_str());
    listed(&ws, &format!("status=all&assignee={owner}"), &cv);
    not_listed(&ws, "status=all&assignee=none", &cv);

    // Labels: trimmed, repeats dropped, order kept; the label filter follows.
    patch(
        &ws.api,
        &path,
        &json!({"labels": ["vip", " billing ", "vip"]}),
    )
    .expect_status(200);
    let e = next_of_type(&mut live, "labels");
    assert_eq!(e["labels"], json!(["vip", "billing"]));
    listed(&ws, "status=all&label=billing", &cv);
    not_listed(&ws, "status=all&label=spam", &cv);
    let summary = summary_until(&ws, &cv, |c| c["labels"] == json!(["vip", "billing"]));
    assert_eq!(summary["assignee"], owner.as_str());

    // Several changes in one call: one event each, in order.
    patch(
        &ws.api,
        &path,
        &json!({"status": "pending", "assignee": null, "labels": []}),
    )
    .expect_status(200);
    assert_eq!(
        next_of_type(&mut live, "conversation_status")["status"],
        "pending"
    );
    assert!(next_of_type(&mut live, "assigned")["assignee"].is_null());
    assert_eq!(next_of_type(&mut live, "labels")["labels"], json!([]));
    listed(&ws, "status=pending&assignee=none", &cv);
    not_listed(&ws, "status=all&label=vip", &cv);

    // Bad input: a one-line 4xx, and nothing changes.
    let before = last_seq(&ws, &cv);
    for (body, status) in [
        (json!({}), 400),
        (json!({"status": "closed"}), 400),
        (json!({"status": "snoozed"}), 400),
        (json!({"status": "snoozed", "snoozed_until": 1_000}), 400),
        (
            json!({"status": "open", "snoozed_until": now_ms() + 60_000}),
            400,
        ),
        (json!({"snoozed_until": now_ms() + 60_000}), 400),
        (json!({"assignee": "ag_doesnotexist"}), 422),
        (json!({"assignee": "not an id"}), 422),
        (json!({"labels": [""]}), 400),
        (json!({"labels": ["x".repeat(51)]}), 400),
        (
            json!({"labels": (0..21).map(|i| format!("l{i}")).collect::<Vec<_>>()}),
            400,
        ),
        (json!({"status": "open", "color": "red"}), 400),
        (json!({"labels": "vip"}), 400),
    ] {
        patch(&ws.api, &path, &body).expect_error(status);
    }
    // An agent of another workspace cannot be assigned.
    let (other, other_owner, _) = setup(&server, "tools-other", "psid-x", "hi");
    patch(&ws.api, &path, &json!({"assignee": other_owner})).expect_error(422);
    assert_eq!(last_seq(&ws, &cv), before, "a refused change was stored");
    patch(&other.api, &path, &json!({"status": "open"})).expect_error(404);

    // Resolved, then the customer writes: reopened at once, by nobody.
    patch(&ws.api, &path, &json!({"status": "resolved"})).expect_status(200);
    next_of_type(&mut live, "conversation_status");
    post_signed(
        &ws,
        &messenger_body(&[("psid-tools", "m_again", "me again")]),
    )
    .expect_status(200);
    let created = next_of_type(&mut live, "message_created");
    let reopened = next_of_type(&mut live, "conversation_status");
    assert_eq!(reopened["status"], "open");
    assert!(reopened.get("by").is_none(), "{reopened}");
    assert!(reopened["seq"].as_i64() > created["seq"].as_i64());
    listed(&ws, "status=open", &cv);
}

#[test]
fn snooze_reopens_by_the_alarm_and_by_a_new_message() {
    let server = Server::start();
    let (ws, owner, cv) = setup(&server, "snooze", "psid-snooze", "call me later");
    let mut live = live_after(&server, &ws, &cv);
    let path = format!("/api/conversations/{cv}");

    let until = now_ms() + 1_500;
    patch(
        &ws.api,
        &path,
        &json!({"status": "snoozed", "snoozed_until": until}),
    )
    .expect_status(200);
    let e = next_of_type(&mut live, "conversation_status");
    assert_eq!(e["status"], "snoozed");
    assert_eq!(e["snoozed_until"], until);
    assert_eq!(e["by"], owner.as_str());
    let s = summary_until(&ws, &cv, |c| c["status"] == "snoozed");
    assert_eq!(s["snoozed_until"], until);
    listed(&ws, "status=snoozed", &cv);

    // The alarm reopens it when the time comes, not before.
    let e = next_of_type(&mut live, "conversation_status");
    let woke = now_ms();
    assert_eq!(e["status"], "open");
    assert!(
        e.get("by").is_none() && e.get("snoozed_until").is_none(),
        "{e}"
    );
    assert!(woke >= until, "reopened {} ms early", until - woke);
    assert!(e["at"].as_i64().unwrap() >= until);
    listed(&ws, "status=open", &cv);
    not_listed(&ws, "status=snoozed", &cv);

    // Snoozed for an hour; the customer writes: reopened at once.
    let later = now_ms() + 3_600_000;
    patch(
        &ws.api,
        &path,
        &json!({"status": "snoozed", "snoozed_until": later}),
    )
    .expect_status(200);
    assert_eq!(
        next_of_type(&mut live, "conversation_status")["status"],
        "snoozed"
    );
    // Snoozing again moves the time without repeating the status.
    let later2 = later + 60_000;
    patch(&ws.api, &path, &json!({"snoozed_until": later2})).expect_status(200);
    assert_eq!(
        next_of_type(&mut live, "conversation_status")["snoozed_until"],
        later2
    );
    post_signed(
        &ws,
        &messenger_body(&[("psid-snooze", "m_back", "I'm back")]),
    )
    .expect_status(200);
    next_of_type(&mut live, "message_created");
    let e = next_of_type(&mut live, "conversation_status");
    assert_eq!(e["status"], "open");
    listed(&ws, "status=open", &cv);
    assert!(summary_until(&ws, &cv, |c| c["status"] == "open")
        .get("snoozed_until")
        .is_none());
}

const TG_BOT_TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
const TG_SECRET: &str = "tg_secret-Token_42";

#[test]
fn contact_details_are_editable_and_an_agents_edit_outlives_the_platform() {
    let server = Server::start();
    let ws = channel_workspace(
        &server,
        "contact",
        "telegram",
        json!({"bot_token": TG_BOT_TOKEN, "secret_token": TG_SECRET}),
    );
    let update = |id: u64, first_name: &str| {
        let body = fixture_with(
            "telegram",
            "text",
            &[
                ("815000001", &id.to_string()),
                (
                    "\"message_id\": 101",
                    &format!("\"message_id\": {}", id % 1000),
                ),
                ("\"Ada\"", &format!("\"{first_name}\"")),
            ],
        );
        ws.api
            .post_raw(
                &ws.webhook_path,
                &[
                    ("content-type", "application/json"),
                    ("x-telegram-bot-api-secret-token", TG_SECRET),
                ],
                &body,
            )
            .expect_status(200);
    };
    update(815_000_001, "Ada");
    let cv = ws.api.wait_for_conversations(|l| !l.is_empty())[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut live = live_after(&server, &ws, &cv);
    let path = format!("/api/conversations/{cv}/contact");

    let c = patch(
        &ws.api,
        &path,
        &json!({"name": "Ada King", "email": "ada@example.com", "phone": "+44 20 7946 0000", "notes": "prefers email"}),
    )
    .expect_status(200);
    assert_eq!(c.body["name"], "Ada King");
    let e = next_of_type(&mut live, "contact_updated");
    assert_eq!(e["contact"]["email"], "ada@example.com");
    assert_eq!(e["contact"]["phone"], "+44 20 7946 0000");
    assert_eq!(e["contact"]["notes"], "prefers email");
    assert_eq!(
        e["contact"]["username"], "ada_l",
        "platform fields are kept"
    );
    assert!(e["by"].as_str().unwrap().starts_with("ag_"));
    summary_until(&ws, &cv, |c| c["contact"]["notes"] == "prefers email");

    // The platform says another first name: the agent's edit stays.
    update(815_000_002, "Augusta");
    next_of_type(&mut live, "message_created");
    let history = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .body;
    let updates: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "contact_updated")
        .collect();
    assert_eq!(
        updates.len(),
        1,
        "the platform overwrote the edit: {updates:?}"
    );

    // Clearing a field; refusals change nothing.
    patch(&ws.api, &path, &json!({"phone": null, "notes": ""})).expect_status(200);
    let e = next_of_type(&mut live, "contact_updated");
    assert!(
        e["contact"].get("phone").is_none() && e["contact"].get("notes").is_none(),
        "{e}"
    );
    let before = last_seq(&ws, &cv);
    for body in [
        json!({}),
        json!({"email": "not-an-email"}),
        json!({"phone": "call me maybe"}),
        json!({"name": "x".repeat(201)}),
        json!({"external_id": "someone-else"}),
        json!({"name": 7}),
    ] {
        patch(&ws.api, &path, &body).expect_error(400);
    }
    assert_eq!(last_seq(&ws, &cv), before);
    let contact = &summary_until(&ws, &cv, |c| c["contact"].get("phone").is_none())["contact"];
    assert_eq!(contact["name"], "Ada King");
    assert_eq!(contact["external_id"], "123456789");
}

#[test]
fn canned_responses_are_managed_and_expand_in_replies() {
    let server = Server::start();
    let (ws, _owner, cv) = setup(&server, "canned", "psid-canned", "hello");
    let created = ws
        .api
        .post(
            "/api/canned_responses",
            &json!({"shortcode": "thanks", "text": "Thank you for writing to us!"}),
        )
        .expect_status(201);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cr_"));
    ws.api
        .post(
            "/api/canned_responses",
            &json!({"shortcode": "thanks", "text": "again"}),
        )
        .expect_error(409);
    for body in [
        json!({"shortcode": "Not Valid", "text": "x"}),
        json!({"shortcode": "", "text": "x"}),
        json!({"shortcode": "ok", "text": " "}),
        json!({"shortcode": "ok"}),
    ] {
        ws.api
            .post("/api/canned_responses", &body)
            .expect_error(400);
    }
    let list = ws.api.get("/api/canned_responses").expect_status(200);
    assert_eq!(list.body["canned_responses"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["canned_responses"][0]["shortcode"], "thanks");

    let messages = format!("/api/conversations/{cv}/messages");
    let note = ws
        .api
        .post(&messages, &json!({"canned": "thanks", "kind": "note"}))
        .expect_status(201);
    assert_eq!(note.body["text"], "Thank you for writing to us!");
    assert_eq!(note.body["kind"], "note");
    let history = ws.api.messages(&cv);
    assert_eq!(
        history.last().unwrap()["content"]["text"],
        "Thank you for writing to us!"
    );
    ws.api
        .post(&messages, &json!({"canned": "nope"}))
        .expect_error(422);
    ws.api
        .post(&messages, &json!({"canned": "thanks", "text": "both"}))
        .expect_error(400);
    ws.api.post(&messages, &json!({})).expect_error(400);

    // Another workspace neither sees nor uses nor deletes it.
    let (other, _, other_cv) = setup(&server, "canned-other", "psid-o", "hi");
    assert_eq!(
        other.api.get("/api/canned_responses").body["canned_responses"],
        json!([])
    );
    other
        .api
        .post(
            &format!("/api/conversations/{other_cv}/messages"),
            &json!({"canned": "thanks", "kind": "note"}),
        )
        .expect_error(422);
    delete(&other.api, &format!("/api/canned_responses/{id}")).expect_error(404);

    delete(&ws.api, &format!("/api/canned_responses/{id}")).expect_status(204);
    delete(&ws.api, &format!("/api/canned_responses/{id}")).expect_error(404);
    ws.api
        .post(&messages, &json!({"canned": "thanks", "kind": "note"}))
        .expect_error(422);
}

/// Parses RFC 4180 CSV (quoted fields may hold commas, quotes, newlines).
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "CSV ends mid-row"
    );
    rows
}

#[test]
fn export_as_json_and_csv() {
    let server = Server::start();
    let tricky = "Hello, \"agent\"\nsecond line";
    let (ws, owner, cv) = setup(&server, "export", "psid-export", tricky);
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "VIP; handle with care"}),
        )
        .expect_status(201);
    patch(
        &ws.api,
        &format!("/api/conversations/{cv}"),
        &json!({"labels": ["vip"]}),
    )
    .expect_status(200);

    let a = ws
        .api
        .get(&format!("/api/conversations/{cv}/export?format=json"));
    assert_eq!(a.status, 200, "{}", a.text);
    let t = a.body;
    assert_eq!(t["conversation"]["id"], cv.as_str());
    assert_eq!(t["conversation"]["contact"]["external_id"], "psid-export");
    assert_eq!(t["conversation"]["labels"], json!(["vip"]));
    let messages = t["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["text"], tricky);
    assert_eq!(messages[0]["direction"], "inbound");
    assert_eq!(messages[1]["kind"], "note");
    assert_eq!(messages[1]["sender_id"], owner.as_str());

    let resp = ws
        .api
        .request("GET", &format!("/api/conversations/{cv}/export?format=csv"))
        .call()
        .unwrap();
    assert!(resp.content_type().starts_with("text/csv"));
    let disposition = resp.header("content-disposition").unwrap().to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".csv"),
        "{disposition}"
    );
    let rows = parse_csv(&resp.into_string().unwrap());
    assert_eq!(
        rows[0],
        [
            "seq",
            "created_at",
            "direction",
            "kind",
            "sender",
            "status",
            "text",
            "message_id",
            "platform_id"
        ]
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][6], tricky, "the text round-trips through CSV");
    assert_eq!(rows[1][4], "customer");
    assert_eq!(rows[1][8], "m_psid-export_0");
    assert!(
        rows[1][1].ends_with('Z') && rows[1][1].contains('T'),
        "{}",
        rows[1][1]
    );
    assert_eq!(rows[2][3], "note");
    assert_eq!(rows[2][4], owner);
    assert_eq!(rows[2][6], "VIP; handle with care");

    ws.api
        .get(&format!("/api/conversations/{cv}/export?format=xml"))
        .expect_error(400);
    let (other, _, _) = setup(&server, "export-other", "psid-o", "hi");
    other
        .api
        .get(&format!("/api/conversations/{cv}/export?format=csv"))
        .expect_error(404);
}

fn search_hits(ws: &Workspace, q: &str) -> Vec<Value> {
    ws.api
        .get(&format!("/api/search?q={q}"))
        .expect_status(200)
        .body["results"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn erasure_removes_history_list_search_and_feed_and_is_audited() {
    let server = Server::start();
    let (ws, owner, cv) = setup(&server, "erase", "psid-gone", "my passport is zx81secret");
    post_signed(
        &ws,
        &messenger_body(&[("psid-kept", "m_kept", "zx81secret kept too")]),
    )
    .expect_status(200);
    let kept = conversation_of(&ws, "psid-kept");
    patch(
        &ws.api,
        &format!("/api/conversations/{cv}"),
        &json!({"labels": ["gdpr"]}),
    )
    .expect_status(200);
    patch(
        &ws.api,
        &format!("/api/conversations/{cv}/contact"),
        &json!({"email": "gone@example.com"}),
    )
    .expect_status(200);
    let deadline = Instant::now() + WAIT;
    while search_hits(&ws, "zx81secret").len() < 2 {
        assert!(Instant::now() < deadline, "search never found both");
        std::thread::sleep(Duration::from_millis(50));
    }
    listed(&ws, "status=all&label=gdpr", &cv);
    let mut socket = live_after(&server, &ws, &cv);
    let mut feed =
        Live::connect(&server.ws_url(&format!("/api/live?since=1000000&token={}", token(&ws))));

    // Another workspace cannot erase it.
    let (other, _, _) = setup(&server, "erase-other", "psid-o", "hi");
    other
        .api
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_error(404);

    let done = ws
        .api
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_status(200);
    assert_eq!(done.body["complete"], true);

    // Its socket is closed; the dashboards hear of it.
    assert!(socket.next_event(Duration::from_secs(2)).is_none());
    let e = feed
        .next_of_type("erased", WAIT)
        .expect("no erased feed event");
    assert_eq!(e["conversation_id"], cv.as_str());

    // 404 everywhere, nothing in the list, search or feed.
    for path in ["messages", "events?since=0", "export?format=json"] {
        ws.api
            .get(&format!("/api/conversations/{cv}/{path}"))
            .expect_error(404);
    }
    patch(
        &ws.api,
        &format!("/api/conversations/{cv}"),
        &json!({"status": "open"}),
    )
    .expect_error(404);
    ws.api
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_error(404);
    let all = ws.api.conversations();
    assert!(all.iter().all(|c| c["id"] != cv.as_str()));
    assert!(all.iter().any(|c| c["id"] == kept.as_str()));
    not_listed(&ws, "status=all&label=gdpr", &cv);
    let hits = search_hits(&ws, "zx81secret");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["conversation"]["id"], kept.as_str());
    assert!(search_hits(&ws, "passport").is_empty());
    let feed_page = ws.api.get("/api/feed?since=0").expect_status(200);
    let events = feed_page.body["events"].as_array().unwrap();
    for (n, e) in events.iter().enumerate() {
        assert_eq!(
            e["seq"].as_i64().unwrap(),
            n as i64 + 1,
            "the feed has a gap"
        );
    }
    assert!(events.iter().any(|e| e["type"] == "erased"));
    for word in ["passport", "psid-gone", "gone@example.com", "gdpr"] {
        assert!(
            !feed_page.text.contains(word),
            "the feed still holds {word}"
        );
    }

    // The audit log says who erased what and when, and nothing personal.
    let audit = ws.api.get("/api/audit_log").expect_status(200);
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["action"], "erase_contact");
    assert_eq!(entry["target"], cv.as_str());
    assert_eq!(entry["actor_id"], owner.as_str());
    assert!(entry["created_at"].as_i64().unwrap() > now_ms() - 60_000);
    assert!(!audit.text.contains("psid-gone") && !audit.text.contains("passport"));
    other.api.get("/api/audit_log").expect_status(200);
    assert!(!other.api.get("/api/audit_log").text.contains(&cv));

    // The customer writes again: a fresh conversation with only that.
    post_signed(
        &ws,
        &messenger_body(&[("psid-gone", "m_new", "hello again")]),
    )
    .expect_status(200);
    let again = conversation_of(&ws, "psid-gone");
    assert_eq!(again, cv, "the id is derived from inbox and contact");
    let history = ws.api.messages(&cv);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["text"], "hello again");
    let summary = summary_until(&ws, &cv, |c| c["last_message"]["text"] == "hello again");
    assert_eq!(summary["labels"], json!([]));
    assert!(summary["contact"].get("email").is_none());
}

#[test]
fn agents_work_conversations_but_only_admins_erase_or_manage_canned_responses() {
    let server = Server::start();
    let (ws, _owner, cv) = setup(&server, "roles", "psid-roles", "hello");
    let (agent, agent_id) = teammate(&ws.api, "agent");
    patch(
        &agent,
        &format!("/api/conversations/{cv}"),
        &json!({"assignee": agent_id, "status": "pending"}),
    )
    .expect_status(200);
    patch(
        &agent,
        &format!("/api/conversations/{cv}/contact"),
        &json!({"name": "R"}),
    )
    .expect_status(200);
    agent
        .get(&format!("/api/conversations/{cv}/export"))
        .expect_status(200);
    agent.get("/api/canned_responses").expect_status(200);
    agent
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_error(403);
    agent
        .post(
            "/api/canned_responses",
            &json!({"shortcode": "hi", "text": "Hi"}),
        )
        .expect_error(403);
    agent.get("/api/audit_log").expect_error(403);
    assert_eq!(
        ws.api.messages(&cv).len(),
        1,
        "the agent's refused erase changed something"
    );
    let (admin, _) = teammate(&ws.api, "admin");
    admin
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_status(200);
}

fn feed_socket(server: &Server, api: &Api) -> Live {
    let mut live = Live::connect(&server.ws_url(&format!(
        "/api/live?since=1000000&token={}",
        api.token.clone().unwrap()
    )));
    // Presence is recorded when the socket is accepted; let it settle.
    let _ = live.next_json(Duration::from_millis(300));
    live
}

/// Conversation `n`'s assignee once the first message has been handled.
fn new_conversation_assignee(ws: &Workspace, psid: &str) -> Option<String> {
    post_signed(
        ws,
        &messenger_body(&[(psid, &format!("m_{psid}"), "new here")]),
    )
    .expect_status(200);
    let cv = conversation_of(ws, psid);
    let events = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_status(200)
        .body;
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "assigned")
        .map(|e| e["assignee"].as_str().unwrap().to_string())
}

#[test]
fn round_robin_assigns_new_conversations_to_online_agents_only() {
    let server = Server::start();
    let (ws, owner, first) = setup(&server, "rr", "psid-rr0", "before auto-assign");
    // Off by default: nobody is assigned.
    assert!(summary_until(&ws, &first, |_| true)["assignee"].is_null());
    patch(
        &ws.api,
        &format!("/api/inboxes/{}", ws.inbox_id),
        &json!({"options": {"auto_assign": true}}),
    )
    .expect_status(200);

    // Nobody online: left unassigned.
    assert_eq!(new_conversation_assignee(&ws, "psid-rr1"), None);

    let (agent, agent_id) = teammate(&ws.api, "agent");
    let owner_feed = feed_socket(&server, &ws.api);
    let mut agent_feed = feed_socket(&server, &agent);
    let mut got: Vec<String> = (2..6)
        .map(|i| new_conversation_assignee(&ws, &format!("psid-rr{i}")).expect("unassigned"))
        .collect();
    // Alternates between the two, whoever starts.
    assert_ne!(got[0], got[1]);
    assert_eq!(got[0], got[2]);
    assert_eq!(got[1], got[3]);
    got.sort();
    let mut both = vec![owner.clone(), agent_id.clone()];
    both.sort();
    both.extend(both.clone());
    both.sort();
    assert_eq!(got, both);

    // Away agents get none; an offline owner gets none.
    agent_feed.send_text(r#"{"type":"presence","status":"away"}"#);
    std::thread::sleep(Duration::from_millis(300));
    for i in 6..8 {
        assert_eq!(
            new_conversation_assignee(&ws, &format!("psid-rr{i}")).as_deref(),
            Some(owner.as_str())
        );
    }
    owner_feed.close();
    agent_feed.send_text(r#"{"type":"presence","status":"online"}"#);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        new_conversation_assignee(&ws, "psid-rr8").as_deref(),
        Some(agent_id.as_str())
    );
}
