//! Accounts and access: roles enforced on every call, invitations, logout
//! and revocation, the login throttle, API keys, profile and workspace
//! settings, inbox editing and deletion.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use switchboard_tests::{Api, Server, ServerOptions};

#[test]
fn invitations_roles_and_revocation() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "team");
    let owner = ws.api.clone();

    // An invitation link works once.
    let inv = owner
        .post(
            "/api/invitations",
            &json!({"email": "agent@team.test", "role": "agent"}),
        )
        .expect_status(201);
    let token = inv.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        owner.get("/api/invitations").expect_status(200).body["invitations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let anon = Api::new(&server.base);
    let accepted = anon
        .post(
            "/api/invitations/accept",
            &json!({"token": token, "name": "Ann Agent", "password": "agent password"}),
        )
        .expect_status(201);
    let agent = owner.with_token(accepted.body["token"].as_str().unwrap());
    anon.post(
        "/api/invitations/accept",
        &json!({"token": token, "name": "Again", "password": "agent password"}),
    )
    .expect_error(410);
    anon.post(
        "/api/invitations/accept",
        &json!({"token": "inv_made_up", "name": "X", "password": "agent password"}),
    )
    .expect_error(410);
    assert_eq!(
        owner.get("/api/invitations").expect_status(200).body["invitations"],
        json!([])
    );
    // The new agent can log in with their own password.
    anon.post(
        "/api/login",
        &json!({"email": "agent@team.test", "password": "agent password"}),
    )
    .expect_status(200);

    // An agent works conversations but cannot administer: 403 on every
    // admin call, enforced by the server, not the interface.
    post_signed(&ws, &messenger_body(&[("psid-r", "m_r", "hello")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-r");
    agent
        .get(&format!("/api/conversations/{cv}/messages"))
        .expect_status(200);
    agent
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "on it"}),
        )
        .expect_status(201);
    let inbox = ws.inbox_id.clone();
    agent
        .post(
            "/api/inboxes",
            &json!({"channel": "messenger", "name": "x", "settings": {}}),
        )
        .expect_error(403);
    agent
        .send_patch(
            &format!("/api/inboxes/{inbox}"),
            &json!({"name": "renamed"}),
        )
        .expect_error(403);
    agent
        .delete(&format!("/api/inboxes/{inbox}"))
        .expect_error(403);
    agent
        .post(
            "/api/invitations",
            &json!({"email": "x@team.test", "role": "admin"}),
        )
        .expect_error(403);
    agent.get("/api/invitations").expect_error(403);
    agent
        .post("/api/api_keys", &json!({"name": "k", "scopes": ["read"]}))
        .expect_error(403);
    agent
        .send_patch("/api/workspace", &json!({"name": "Mine now"}))
        .expect_error(403);
    let owner_id = owner.get("/api/me").expect_status(200).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    agent
        .delete(&format!("/api/agents/{owner_id}"))
        .expect_error(403);
    assert_eq!(
        owner.get("/api/inboxes").body["inboxes"][0]["name"],
        "messenger inbox"
    );

    // Promoted to admin: the old token is revoked, a new login has the role.
    let agent_id = accepted.body["agent_id"].as_str().unwrap();
    owner
        .send_patch(
            &format!("/api/agents/{agent_id}"),
            &json!({"role": "admin"}),
        )
        .expect_status(200);
    agent.get("/api/conversations").expect_error(401);
    let admin = owner.with_token(
        anon.post(
            "/api/login",
            &json!({"email": "agent@team.test", "password": "agent password"}),
        )
        .expect_status(200)
        .body["token"]
            .as_str()
            .unwrap(),
    );
    admin.get("/api/invitations").expect_status(200);
    // Nobody demotes or removes the owner: 409, saying why.
    let demote = admin
        .send_patch(
            &format!("/api/agents/{owner_id}"),
            &json!({"role": "agent"}),
        )
        .expect_error(409);
    assert!(demote.body["error"].as_str().unwrap().contains("owner"));
    admin
        .delete(&format!("/api/agents/{owner_id}"))
        .expect_error(409);

    // Logout revokes that session only.
    let second = owner.with_token(
        anon.post(
            "/api/login",
            &json!({"email": "agent@team.test", "password": "agent password"}),
        )
        .expect_status(200)
        .body["token"]
            .as_str()
            .unwrap(),
    );
    admin.post("/api/logout", &json!({})).expect_status(200);
    admin.get("/api/conversations").expect_error(401);
    second.get("/api/conversations").expect_status(200);

    // Removal revokes every token at once.
    owner
        .delete(&format!("/api/agents/{agent_id}"))
        .expect_status(200);
    second.get("/api/conversations").expect_error(401);
    anon.post(
        "/api/login",
        &json!({"email": "agent@team.test", "password": "agent password"}),
    )
    .expect_error(401);
    let team = owner.get("/api/agents").expect_status(200).body["agents"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(team, 1);

    // A password change revokes the old tokens and returns a new one.
    let changed = owner
        .post("/api/me/password", &json!({"current_password": "correct horse battery", "new_password": "new horse battery"}))
        .expect_status(200);
    owner.get("/api/conversations").expect_error(401);
    let owner = owner.with_token(changed.body["token"].as_str().unwrap());
    owner.get("/api/conversations").expect_status(200);
    owner
        .post(
            "/api/me/password",
            &json!({"current_password": "wrong", "new_password": "whatever password"}),
        )
        .expect_error(403);
}

#[test]
fn profile_workspace_inboxes_and_api_keys() {
    let server = Server::start();
    let ws = messenger_workspace(&server, "settings");
    let owner = ws.api.clone();

    // Profile: name and working language.
    let me = owner
        .send_patch("/api/me", &json!({"name": "Olga", "language": "pt-BR"}))
        .expect_status(200);
    assert_eq!(
        (me.body["name"].as_str(), me.body["language"].as_str()),
        (Some("Olga"), Some("pt-BR"))
    );
    owner
        .send_patch("/api/me", &json!({"language": "not a tag!"}))
        .expect_error(400);
    assert_eq!(owner.get("/api/me").body["language"], "pt-BR");

    // Workspace settings, merged key by key.
    let w = owner
        .send_patch(
            "/api/workspace",
            &json!({"name": "Olga's Shop", "settings": {"greeting": "Hi!", "hours": "9-5"}}),
        )
        .expect_status(200);
    assert_eq!(w.body["name"], "Olga's Shop");
    let w = owner
        .send_patch("/api/workspace", &json!({"settings": {"hours": null}}))
        .expect_status(200);
    assert_eq!(w.body["settings"], json!({"greeting": "Hi!"}));

    // Inboxes: secrets are write-only and shown by their last four; a
    // partial settings change keeps the rest; options; delete → webhook 404.
    let inbox = owner
        .get(&format!("/api/inboxes/{}", ws.inbox_id))
        .expect_status(200)
        .body;
    assert_eq!(inbox["settings"]["app_secret"], "…cret");
    assert!(!inbox.to_string().contains(APP_SECRET));
    assert_eq!(inbox["settings"]["verify_token"], VERIFY_TOKEN);
    let edited = owner
        .send_patch(&format!("/api/inboxes/{}", ws.inbox_id), &json!({"name": "Main page", "settings": {"page_access_token": "EAAG-rotated-9876"}, "options": {"auto_assign": true}}))
        .expect_status(200)
        .body;
    assert_eq!(edited["name"], "Main page");
    assert_eq!(edited["settings"]["page_access_token"], "…9876");
    assert_eq!(
        edited["settings"]["app_secret"], "…cret",
        "untouched secrets stay"
    );
    assert_eq!(edited["options"]["auto_assign"], true);
    owner
        .send_patch(
            &format!("/api/inboxes/{}", ws.inbox_id),
            &json!({"settings": {"page_id": ""}}),
        )
        .expect_error(400);
    // Webhooks still verify with the unchanged app secret.
    post_signed(&ws, &messenger_body(&[("psid-k", "m_k", "before delete")])).expect_status(200);
    let cv = conversation_of(&ws, "psid-k");
    owner
        .delete(&format!("/api/inboxes/{}", ws.inbox_id))
        .expect_status(200);
    post_signed(&ws, &messenger_body(&[("psid-k", "m_k2", "after delete")])).expect_error(404);
    owner
        .get(&format!(
            "{}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1",
            ws.webhook_path
        ))
        .expect_error(404);
    assert_eq!(
        owner.messages(&cv).len(),
        1,
        "history stays after the inbox is deleted"
    );
    owner
        .get(&format!("/api/inboxes/{}", ws.inbox_id))
        .expect_error(404);

    // API keys: shown once, scoped, revocable.
    let key = owner
        .post(
            "/api/api_keys",
            &json!({"name": "CRM sync", "scopes": ["read"]}),
        )
        .expect_status(201)
        .body;
    let secret = key["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("sbk_"));
    assert_eq!(
        key["last_four"].as_str().unwrap(),
        &secret[secret.len() - 4..]
    );
    let listed = owner.get("/api/api_keys").expect_status(200);
    assert!(!listed.text.contains(&secret), "a key is shown only once");
    let reader = Api::new(&server.base).with_token(&secret);
    assert_eq!(reader.messages(&cv).len(), 1);
    reader
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "x"}),
        )
        .expect_error(403);
    reader.get("/api/invitations").expect_error(403);
    let writer_key = owner
        .post(
            "/api/api_keys",
            &json!({"name": "Bot", "scopes": ["read", "write"]}),
        )
        .expect_status(201)
        .body;
    let writer = Api::new(&server.base).with_token(writer_key["key"].as_str().unwrap());
    writer
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"kind": "note", "text": "from the bot"}),
        )
        .expect_status(201);
    writer
        .post(
            "/api/api_keys",
            &json!({"name": "escalate", "scopes": ["write"]}),
        )
        .expect_error(403);
    owner
        .delete(&format!("/api/api_keys/{}", key["id"].as_str().unwrap()))
        .expect_status(200);
    reader.get("/api/conversations").expect_error(401);
    owner
        .post(
            "/api/api_keys",
            &json!({"name": "bad", "scopes": ["admin"]}),
        )
        .expect_error(400);
}

#[test]
fn the_login_throttle_engages() {
    let server = Server::start();
    let api = Api::new(&server.base);
    api.signup("Throttle", "lock@throttle.test");
    for _ in 0..5 {
        api.post(
            "/api/login",
            &json!({"email": "lock@throttle.test", "password": "wrong password"}),
        )
        .expect_error(401);
    }
    // Even the right password is refused now, with Retry-After.
    let resp = api
        .request("POST", "/api/login")
        .set("content-type", "application/json")
        .send_string(r#"{"email":"lock@throttle.test","password":"correct horse battery"}"#);
    let resp = match resp {
        Err(ureq::Error::Status(429, r)) => r,
        other => panic!("expected 429, got {other:?}"),
    };
    let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "Retry-After {retry}");
    // Another account is not locked by this one's failures.
    api.signup("Other", "free@throttle.test");
    api.post(
        "/api/login",
        &json!({"email": "free@throttle.test", "password": "correct horse battery"}),
    )
    .expect_status(200);
}

#[test]
fn expired_tokens_are_refused() {
    let server = Server::start_with(ServerOptions::default().var("SESSION_TTL_SECS", "2"));
    let (api, _) = Api::new(&server.base).signup("Short", "short@ttl.test");
    api.get("/api/conversations").expect_status(200);
    std::thread::sleep(Duration::from_millis(3100));
    let refused = api.get("/api/conversations").expect_error(401);
    assert!(refused.body["error"].as_str().unwrap().contains("expired"));
}
