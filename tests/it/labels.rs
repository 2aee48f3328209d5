//! The label catalog: admins name and color labels, see how many
//! conversations carry each, and a rename or delete follows through to
//! every conversation that carries the label (live, by the admin), while
//! agents only read and other workspaces reach nothing.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::{Api, Server};

fn label_conversation(ws: &Workspace, cv: &str, labels: Value) {
    ws.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({ "labels": labels }),
        )
        .expect_status(200);
}

/// `GET /api/labels` until `check` holds (the index follows each
/// conversation's alarm by a moment).
fn labels_until(api: &Api, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = api.get("/api/labels").expect_status(200).body;
        if check(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "labels never matched: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count_of(body: &Value, section: &str, name: &str) -> Option<i64> {
    body[section]
        .as_array()?
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["count"].as_i64())
}

fn summary_labels(ws: &Workspace, cv: &str) -> Value {
    ws.api
        .conversations()
        .into_iter()
        .find(|c| c["id"] == cv)
        .map(|c| c["labels"].clone())
        .unwrap_or(Value::Null)
}

fn wait_summary_labels(ws: &Workspace, cv: &str, want: Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while summary_labels(ws, cv) != want {
        assert!(
            Instant::now() < deadline,
            "{cv}'s labels stayed {} (want {want})",
            summary_labels(ws, cv)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_rename_or_delete_follows_through_to_the_conversations_with_counts() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "labels");
    post_signed(
        &ws,
        &messenger_body(&[
            ("psid-la", "m_la", "one"),
            ("psid-lb", "m_lb", "two"),
            ("psid-lc", "m_lc", "three"),
        ]),
    )
    .expect_status(200);
    let (a, b, c) = (
        conversation_of(&ws, "psid-la"),
        conversation_of(&ws, "psid-lb"),
        conversation_of(&ws, "psid-lc"),
    );
    label_conversation(&ws, &a, json!(["vip"]));
    label_conversation(&ws, &b, json!(["vip", "billing"]));
    label_conversation(&ws, &c, json!(["billing"]));

    // Names conversations carry that the catalog lacks are listed with counts.
    labels_until(&ws.api, |l| {
        count_of(l, "unlisted", "vip") == Some(2) && count_of(l, "unlisted", "billing") == Some(2)
    });

    // Created: the count is there at once; bad input changes nothing.
    let vip = ws
        .api
        .post("/api/labels", &json!({"name": " vip ", "color": "#FF0000"}))
        .expect_status(201);
    assert_eq!(vip.body["name"], "vip");
    assert_eq!(vip.body["color"], "#ff0000");
    assert_eq!(vip.body["count"], 2);
    let vip_id = vip.body["id"].as_str().unwrap().to_string();
    for (bad, status) in [
        (json!({"name": "VIP", "color": "#00ff00"}), 409),
        (json!({"name": "", "color": "#00ff00"}), 400),
        (json!({"name": "x".repeat(51), "color": "#00ff00"}), 400),
        (json!({"name": "ok", "color": "red"}), 400),
        (json!({"name": "ok", "color": "#12345g"}), 400),
        (json!({"name": "ok"}), 400),
        (json!({"name": "ok", "color": "#00ff00", "extra": 1}), 400),
    ] {
        ws.api.post("/api/labels", &bad).expect_error(status);
    }
    let listed = ws.api.get("/api/labels").expect_status(200).body;
    assert_eq!(listed["labels"].as_array().unwrap().len(), 1);
    assert_eq!(count_of(&listed, "labels", "vip"), Some(2));
    assert_eq!(count_of(&listed, "unlisted", "vip"), None);
    assert_eq!(count_of(&listed, "unlisted", "billing"), Some(2));

    // A color change touches no conversation.
    let recolored = ws
        .api
        .send_patch(
            &format!("/api/labels/{vip_id}"),
            &json!({"color": "#123abc"}),
        )
        .expect_status(200);
    assert_eq!(recolored.body["color"], "#123abc");
    assert_eq!(recolored.body["conversations"], 0);

    // Renamed: each conversation that carried it gets a labels event by the
    // admin, live, with its other labels kept in place.
    let mut live_b = live_after(&server, &ws, &b);
    let renamed = ws
        .api
        .send_patch(&format!("/api/labels/{vip_id}"), &json!({"name": "gold"}))
        .expect_status(200);
    assert_eq!(renamed.body["name"], "gold");
    assert_eq!(renamed.body["color"], "#123abc");
    assert_eq!(renamed.body["conversations"], 2);
    assert_eq!(renamed.body["pending"], false);
    assert_eq!(renamed.body["count"], 2, "the counts follow at once");
    let e = next_of_type(&mut live_b, "labels");
    assert_eq!(e["labels"], json!(["gold", "billing"]));
    let me = ws.api.get("/api/me").expect_status(200).body;
    assert_eq!(e["by"], me["id"]);
    wait_summary_labels(&ws, &a, json!(["gold"]));
    wait_summary_labels(&ws, &b, json!(["gold", "billing"]));
    wait_summary_labels(&ws, &c, json!(["billing"]));
    let by_label = |label: &str| -> Vec<String> {
        let mut ids: Vec<String> = ws
            .api
            .get(&format!("/api/conversations?status=all&label={label}"))
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut ab = vec![a.clone(), b.clone()];
    ab.sort();
    assert_eq!(by_label("gold"), ab);
    assert!(by_label("vip").is_empty());
    let after = labels_until(&ws.api, |l| count_of(l, "labels", "gold") == Some(2));
    assert_eq!(count_of(&after, "unlisted", "vip"), None);

    // Renaming onto another label's name is refused, and changes nothing.
    let billing = ws
        .api
        .post(
            "/api/labels",
            &json!({"name": "billing", "color": "#00aa00"}),
        )
        .expect_status(201);
    assert_eq!(billing.body["count"], 2);
    let billing_id = billing.body["id"].as_str().unwrap().to_string();
    ws.api
        .send_patch(
            &format!("/api/labels/{billing_id}"),
            &json!({"name": "Gold"}),
        )
        .expect_error(409);
    for bad in [json!({}), json!({"name": " "}), json!({"color": "blue"})] {
        ws.api
            .send_patch(&format!("/api/labels/{billing_id}"), &bad)
            .expect_error(400);
    }
    ws.api
        .send_patch("/api/labels/lb_nope", &json!({"name": "x"}))
        .expect_error(404);

    // Deleted: gone from the catalog and from every conversation; the
    // conversations stay.
    let deleted = ws
        .api
        .delete(&format!("/api/labels/{billing_id}"))
        .expect_status(200);
    assert_eq!(deleted.body["conversations"], 2);
    wait_summary_labels(&ws, &b, json!(["gold"]));
    wait_summary_labels(&ws, &c, json!([]));
    let after = ws.api.get("/api/labels").expect_status(200).body;
    assert_eq!(count_of(&after, "labels", "billing"), None);
    assert_eq!(count_of(&after, "unlisted", "billing"), None);
    assert_eq!(ws.api.conversations().len(), 3);
    ws.api
        .delete(&format!("/api/labels/{billing_id}"))
        .expect_error(404);

    // Both are in the audit log, by the owner.
    let audit = ws.api.get("/api/audit_log").expect_status(200).body;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"rename_label"), "{actions:?}");
    assert!(actions.contains(&"delete_label"), "{actions:?}");
}

#[test]
fn agents_read_labels_but_only_admins_change_them_and_other_workspaces_reach_none() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "labels-roles");
    let made = ws
        .api
        .post(
            "/api/labels",
            &json!({"name": "urgent", "color": "#ff8800"}),
        )
        .expect_status(201);
    let id = made.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/labels/{id}");
    let (agent, _) = teammate(&ws.api, "agent");
    let seen = agent.get("/api/labels").expect_status(200).body;
    assert_eq!(seen["labels"][0]["name"], "urgent");
    agent
        .post("/api/labels", &json!({"name": "mine", "color": "#000000"}))
        .expect_error(403);
    agent
        .send_patch(&path, &json!({"name": "renamed"}))
        .expect_error(403);
    agent.delete(&path).expect_error(403);

    let stranger = messenger_workspace(&server, "labels-stranger");
    stranger
        .api
        .send_patch(&path, &json!({"name": "stolen"}))
        .expect_error(404);
    stranger.api.delete(&path).expect_error(404);
    assert!(
        stranger.api.get("/api/labels").expect_status(200).body["labels"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let still = ws.api.get("/api/labels").expect_status(200).body;
    assert_eq!(still["labels"][0]["name"], "urgent");
    Api::new(&server.base).get("/api/labels").expect_error(401);
}

#[test]
fn a_rename_too_large_for_one_request_is_finished_by_the_workspace_alarm() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "labels-many");
    // More conversations than one request carries (100): the rest is the alarm's.
    let n = 110;
    let psids: Vec<String> = (0..n).map(|i| format!("psid-many-{i}")).collect();
    let mids: Vec<String> = (0..n).map(|i| format!("m_many_{i}")).collect();
    let items: Vec<(&str, &str, &str)> = psids
        .iter()
        .zip(&mids)
        .map(|(p, m)| (p.as_str(), m.as_str(), "hi"))
        .collect();
    post_signed(&ws, &messenger_body(&items)).expect_status(200);
    let all = || -> Vec<Value> {
        ws.api
            .get("/api/conversations?status=all&limit=200")
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while all().len() < n {
        assert!(
            Instant::now() < deadline,
            "not every conversation was indexed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for c in &all() {
        label_conversation(&ws, c["id"].as_str().unwrap(), json!(["bulk", "keep"]));
    }
    labels_until(&ws.api, |l| {
        count_of(l, "unlisted", "bulk") == Some(n as i64)
    });
    let made = ws
        .api
        .post("/api/labels", &json!({"name": "bulk", "color": "#336699"}))
        .expect_status(201);
    let renamed = ws
        .api
        .send_patch(
            &format!("/api/labels/{}", made.body["id"].as_str().unwrap()),
            &json!({"name": "wholesale"}),
        )
        .expect_status(200);
    assert_eq!(renamed.body["conversations"], n);
    assert_eq!(renamed.body["pending"], true, "{}", renamed.text);
    let done = labels_until(&ws.api, |l| {
        l["pending"] == false && count_of(l, "labels", "wholesale") == Some(n as i64)
    });
    assert_eq!(count_of(&done, "unlisted", "bulk"), None);
    assert_eq!(count_of(&done, "unlisted", "keep"), Some(n as i64));
    // Every conversation itself carries the new name, its other label kept.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = all();
        if list.len() == n
            && list
                .iter()
                .all(|c| c["labels"] == json!(["wholesale", "keep"]))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every conversation was renamed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
