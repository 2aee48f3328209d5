//! The settings pages' server side: the owner and the last admin stay
//! admins (refused with a reason), a member is refused every admin
//! setting, profiles and workspace settings are checked before they are
//! kept, and accountable actions land in the audit log with who did them.

use crate::common::*;
use serde_json::json;
use switchboard_tests::{Api, Server};

fn audit_actions(api: &Api) -> Vec<(String, String, String)> {
    api.get("/api/audit_log?limit=200").expect_status(200).body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
                e["actor_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_owner_stays_an_admin_and_role_changes_are_audited() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "team-rules");
    let owner_id = ws.api.get("/api/me").expect_status(200).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (admin, admin_id) = teammate(&ws.api, "admin");
    let (_agent, agent_id) = teammate(&ws.api, "agent");

    // Another admin can neither demote nor remove the owner: 409, with why.
    let demote = admin
        .send_patch(
            &format!("/api/agents/{owner_id}"),
            &json!({"role": "agent"}),
        )
        .expect_error(409);
    assert!(
        demote.body["error"].as_str().unwrap().contains("owner"),
        "{}",
        demote.text
    );
    let remove = admin
        .delete(&format!("/api/agents/{owner_id}"))
        .expect_error(409);
    assert!(remove.body["error"].as_str().unwrap().contains("owner"));
    // Nobody changes their own role or removes themselves.
    admin
        .send_patch(
            &format!("/api/agents/{admin_id}"),
            &json!({"role": "agent"}),
        )
        .expect_error(403);
    admin
        .delete(&format!("/api/agents/{admin_id}"))
        .expect_error(403);
    let roles = |api: &Api| -> Vec<(String, String)> {
        api.get("/api/agents").expect_status(200).body["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["id"].as_str().unwrap().to_string(),
                    a["role"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(roles(&ws.api).contains(&(owner_id.clone(), "owner".into())));

    // The owner demotes the admin (their token dies: the role holds at
    // once) and promotes the agent; both are audited.
    ws.api
        .send_patch(
            &format!("/api/agents/{admin_id}"),
            &json!({"role": "agent"}),
        )
        .expect_status(200);
    admin.get("/api/agents").expect_error(401);
    ws.api
        .send_patch(
            &format!("/api/agents/{agent_id}"),
            &json!({"role": "admin"}),
        )
        .expect_status(200);
    ws.api
        .send_patch(&format!("/api/agents/{agent_id}"), &json!({"role": "boss"}))
        .expect_error(400);
    let now = roles(&ws.api);
    assert!(now.contains(&(admin_id.clone(), "agent".into())));
    assert!(now.contains(&(agent_id.clone(), "admin".into())));
    ws.api
        .delete(&format!("/api/agents/{admin_id}"))
        .expect_status(200);
    assert!(!roles(&ws.api).iter().any(|(id, _)| id == &admin_id));

    let audit = audit_actions(&ws.api);
    for (action, target) in [
        ("change_role", &admin_id),
        ("change_role", &agent_id),
        ("remove_agent", &admin_id),
    ] {
        assert!(
            audit
                .iter()
                .any(|(a, t, who)| a == action && t == target && who == "Owner"),
            "{action} {target} missing from {audit:?}"
        );
    }
    assert_eq!(
        audit.iter().filter(|(a, _, _)| a == "invite").count(),
        2,
        "{audit:?}"
    );
}

#[test]
fn a_member_is_refused_every_admin_setting_and_changes_nothing() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "member-refused");
    let (member, member_id) = teammate(&ws.api, "agent");
    let owner_id = ws.api.get("/api/me").expect_status(200).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = ws.api.get("/api/workspace").expect_status(200).body;
    for answer in [
        member.post(
            "/api/invitations",
            &json!({"email": "x@example.test", "role": "admin"}),
        ),
        member.get("/api/invitations"),
        member.send_patch(
            &format!("/api/agents/{owner_id}"),
            &json!({"role": "agent"}),
        ),
        member.delete(&format!("/api/agents/{owner_id}")),
        member.post("/api/api_keys", &json!({"name": "k", "scopes": ["read"]})),
        member.get("/api/api_keys"),
        member.get("/api/audit_log"),
        member.send_patch("/api/workspace", &json!({"name": "Taken over"})),
        member.post(
            "/api/canned_responses",
            &json!({"shortcode": "hi", "text": "Hi"}),
        ),
        member.post("/api/labels", &json!({"name": "mine", "color": "#000000"})),
        member.send_patch(
            &format!("/api/inboxes/{}", ws.inbox_id),
            &json!({"name": "Mine"}),
        ),
    ] {
        answer.expect_error(403);
    }
    assert_eq!(ws.api.get("/api/workspace").expect_status(200).body, before);
    assert!(
        ws.api.get("/api/api_keys").expect_status(200).body["api_keys"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // What a member may change: their own profile.
    let me = member
        .send_patch("/api/me", &json!({"name": "Member Two", "language": "de"}))
        .expect_status(200);
    assert_eq!(me.body["id"], member_id.as_str());
    assert_eq!(me.body["language"], "de");
}

#[test]
fn profile_and_workspace_settings_are_checked_before_they_are_kept() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "profile");

    // Avatar: an https URL; anything else is a 400 naming the field.
    let set = ws
        .api
        .send_patch(
            "/api/me",
            &json!({"avatar_url": "https://images.example/me.png"}),
        )
        .expect_status(200);
    assert_eq!(set.body["avatar_url"], "https://images.example/me.png");
    for bad in [
        "http://images.example/me.png",
        "javascript:alert(1)",
        "https://",
        "https://a b",
    ] {
        let e = ws
            .api
            .send_patch("/api/me", &json!({ "avatar_url": bad }))
            .expect_error(400);
        assert!(e.body["error"].as_str().unwrap().contains("avatar_url"));
    }
    ws.api
        .send_patch("/api/me", &json!({"language": "not a tag!"}))
        .expect_error(400);
    let agents = ws.api.get("/api/agents").expect_status(200).body;
    assert_eq!(
        agents["agents"][0]["avatar_url"],
        "https://images.example/me.png"
    );
    let cleared = ws
        .api
        .send_patch("/api/me", &json!({"avatar_url": ""}))
        .expect_status(200);
    assert!(cleared.body["avatar_url"].is_null());

    // Workspace: time zone and default business hours are checked.
    let hours = json!({"time_zone": "Europe/Berlin", "weekly": [{"day": "mon", "from": "09:00", "to": "17:00"}]});
    let saved = ws
        .api
        .send_patch(
            "/api/workspace",
            &json!({"name": "Renamed Co", "settings": {"time_zone": "America/New_York", "business_hours": hours}}),
        )
        .expect_status(200);
    assert_eq!(saved.body["name"], "Renamed Co");
    assert_eq!(saved.body["settings"]["time_zone"], "America/New_York");
    assert_eq!(saved.body["settings"]["business_hours"], hours);
    for (bad, field) in [
        (
            json!({"settings": {"time_zone": "Mars/Olympus"}}),
            "time_zone",
        ),
        (json!({"settings": {"time_zone": 5}}), "time_zone"),
        (
            json!({"settings": {"business_hours": {"time_zone": "UTC", "weekly": [{"day": "funday", "from": "09:00", "to": "17:00"}]}}}),
            "business_hours",
        ),
        (
            json!({"settings": {"business_hours": {"time_zone": "Nowhere/Land", "weekly": []}}}),
            "business_hours",
        ),
        (json!({"name": ""}), "name"),
    ] {
        let e = ws.api.send_patch("/api/workspace", &bad).expect_error(400);
        assert!(
            e.body["error"].as_str().unwrap().contains(field),
            "{bad}: {}",
            e.text
        );
    }
    let kept = ws.api.get("/api/workspace").expect_status(200).body;
    assert_eq!(kept["settings"]["time_zone"], "America/New_York");
    assert_eq!(kept["name"], "Renamed Co");
}

#[test]
fn exports_keys_and_invitations_are_audited_and_the_log_pages() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "audit");
    post_signed(&ws, &messenger_body(&[("psid-au", "m_au", "hello")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-au");
    ws.api
        .get(&format!("/api/conversations/{cv}/export?format=csv"))
        .expect_status(200);
    let key = ws
        .api
        .post("/api/api_keys", &json!({"name": "CRM", "scopes": ["read"]}))
        .expect_status(201);
    let key_id = key.body["id"].as_str().unwrap().to_string();
    let secret = key.body["key"].as_str().unwrap().to_string();
    // A read key reads and may not write; revoked, it stops at once.
    let with_key = ws.api.with_token(&secret);
    with_key.get("/api/conversations").expect_status(200);
    with_key
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"status": "resolved"}),
        )
        .expect_error(403);
    // The key itself is never listed again.
    let listed = ws.api.get("/api/api_keys").expect_status(200);
    assert!(!listed.text.contains(&secret));
    ws.api
        .delete(&format!("/api/api_keys/{key_id}"))
        .expect_status(200);
    with_key.get("/api/conversations").expect_error(401);
    let invite = ws
        .api
        .post(
            "/api/invitations",
            &json!({"email": format!("new-{}@example.test", unique()), "role": "agent"}),
        )
        .expect_status(201);
    let url = invite.body["url"].as_str().unwrap();
    // The token is in the fragment, which browsers never send to a server.
    assert!(url.contains("/invitations/accept#token=inv_"), "{url}");
    assert!(!url.contains('?'), "{url}");

    let audit = audit_actions(&ws.api);
    for (action, target) in [
        ("export_conversation", cv.as_str()),
        ("create_api_key", key_id.as_str()),
        ("revoke_api_key", key_id.as_str()),
        ("invite", invite.body["invitation"]["id"].as_str().unwrap()),
    ] {
        assert!(
            audit
                .iter()
                .any(|(a, t, who)| a == action && t == target && who == "Owner"),
            "{action} {target} missing from {audit:?}"
        );
    }
    // Pages, newest first: one entry a page, every entry exactly once
    // (entries of the same millisecond included), the newest first.
    let first = ws.api.get("/api/audit_log?limit=1").expect_status(200).body;
    assert_eq!(first["entries"][0]["action"], "invite");
    let mut paged: Vec<String> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = ws
            .api
            .get(&format!("/api/audit_log?limit=1{cursor}"))
            .expect_status(200)
            .body;
        let Some(e) = page["entries"].as_array().unwrap().first().cloned() else {
            break;
        };
        paged.push(e["id"].as_str().unwrap().to_string());
        cursor = format!(
            "&before={}&before_id={}",
            e["created_at"].as_i64().unwrap(),
            e["id"].as_str().unwrap()
        );
        assert!(paged.len() <= audit.len(), "paging does not end");
    }
    let all: Vec<String> = ws
        .api
        .get("/api/audit_log?limit=200")
        .expect_status(200)
        .body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paged, all);
}
