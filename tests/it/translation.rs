//! Automatic translation against a LibreTranslate-compatible fake on
//! 127.0.0.1 (`switchboard_tests::fake_translate`): customers' messages
//! translated for the agents beside the original, agents' replies
//! translated for the customer (the fake platform receives the customer's
//! language) on Telegram and Messenger, the widget visitor's copy, a
//! provider that is down, refuses the key or hangs losing nothing, the
//! cache, the daily quota, and notes that never reach the provider.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::fake_translate::Mode;
use switchboard_tests::{Api, FakePlatform, FakeTranslate, Server, ServerOptions};

const KEY: &str = "lt-key-0123456789";
const BOT_TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
const SECRET_TOKEN: &str = "tg_secret-Token_42";

fn turn_on(api: &Api, fake: &FakeTranslate, extra: Value) -> Value {
    let mut t = json!({"provider": "libretranslate", "url": fake.base, "api_key": fake.api_key});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    api.send_patch("/api/workspace", &json!({ "translation": t }))
        .expect_status(200)
        .body
}

/// Waits until the message has a translation that is no longer pending.
fn wait_translation(ws: &Workspace, cv: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = message_by_id(ws, cv, id);
        let t = &m["translation"];
        if t.is_object() && t["pending"] != true {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "message {id} never got its translation: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the message carries a translation error (pending or not).
fn wait_translation_error(ws: &Workspace, cv: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = message_by_id(ws, cv, id);
        if m["translation"]["error"].is_string() {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "message {id} never said why it is untranslated: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn telegram_update(update_id: i64, chat: i64, text: &str, language: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "update_id": update_id,
        "message": {
            // Far from the fake Bot API's own message ids (1, 2, …).
            "message_id": 50_000 + update_id % 10_000,
            "from": {"id": chat, "is_bot": false, "first_name": "Greta", "language_code": language},
            "chat": {"id": chat, "first_name": "Greta", "type": "private"},
            "date": 1_718_000_100,
            "text": text
        }
    }))
    .unwrap()
}

fn post_telegram(ws: &Workspace, body: &[u8]) -> switchboard_tests::api::Answer {
    ws.api.post_raw(
        &ws.webhook_path,
        &[
            ("content-type", "application/json"),
            ("x-telegram-bot-api-secret-token", SECRET_TOKEN),
        ],
        body,
    )
}

fn write(ws: &Workspace, cv: &str, body: Value) -> Value {
    ws.api
        .post(&format!("/api/conversations/{cv}/messages"), &body)
        .expect_status(201)
        .body
}

#[test]
fn telegram_both_ways_with_cache_settings_and_notes() {
    let platform = FakePlatform::start();
    platform.accept_token(BOT_TOKEN);
    let fake = FakeTranslate::start(KEY);
    let server =
        Server::start_with(ServerOptions::default().var("TELEGRAM_API_BASE", &platform.base));
    let ws = channel_workspace(
        &server,
        "tr-tg",
        "telegram",
        json!({"bot_token": BOT_TOKEN, "secret_token": SECRET_TOKEN}),
    );

    // Off by default; bad settings are refused with one line, nothing changed.
    let before = ws.api.get("/api/workspace").expect_status(200).body;
    assert_eq!(before["translation"], json!({"provider": "off"}));
    for (bad, says) in [
        (json!({"translation": {"provider": "google"}}), "not known"),
        (
            json!({"translation": {"provider": "libretranslate"}}),
            "translation.url",
        ),
        (
            json!({"translation": {"provider": "libretranslate", "url": "ftp://x"}}),
            "translation.url",
        ),
        (
            json!({"translation": {"provider": "off", "daily_quota_chars": -5}}),
            "daily_quota_chars",
        ),
        (
            json!({"settings": {"translation": {"provider": "off"}}}),
            "top-level",
        ),
        (json!({"language": "not a language"}), "language"),
    ] {
        let e = ws.api.send_patch("/api/workspace", &bad).expect_error(400);
        assert!(e.text.contains(says), "{bad}: {}", e.text);
    }
    // On: the key is write-only (never returned), sealed at rest.
    let on = turn_on(&ws.api, &fake, json!({}));
    assert_eq!(on["translation"]["provider"], "libretranslate");
    assert_eq!(on["translation"]["api_key_set"], true);
    let shown = ws.api.get("/api/workspace").expect_status(200);
    assert!(!shown.text.contains(KEY), "the key leaked: {}", shown.text);
    assert_eq!(shown.body["translation"]["url"], fake.base.as_str());
    // Sent again without the key: kept.
    let again = ws
        .api
        .send_patch("/api/workspace", &json!({"translation": {"provider": "libretranslate", "url": fake.base}, "language": "en"}))
        .expect_status(200);
    assert_eq!(again.body["translation"]["api_key_set"], true);
    assert_eq!(again.body["language"], "en");
    ws.api
        .send_patch("/api/me", &json!({"language": "en"}))
        .expect_status(200);

    // Inbound: stored and acknowledged with the original; translated after.
    let chat = 777_001;
    let a = post_telegram(
        &ws,
        &telegram_update(900_001, chat, "Hallo, wo ist meine Bestellung?", "de"),
    )
    .expect_status(200);
    assert_eq!(a.body["stored"], 1, "{}", a.text);
    let cv = conversation_of(&ws, &chat.to_string());
    let first = ws.api.messages(&cv).into_iter().next().unwrap();
    assert_eq!(first["text"], "Hallo, wo ist meine Bestellung?");
    let id = first["id"].as_str().unwrap().to_string();
    let translated = wait_translation(&ws, &cv, &id);
    assert_eq!(
        translated["text"], "Hallo, wo ist meine Bestellung?",
        "the original is kept"
    );
    assert_eq!(
        translated["translation"],
        json!({"lang": "en", "source": "de", "text": "Hello, where is my order?", "provider": "libretranslate"})
    );
    let call = fake.translate_calls().into_iter().next().unwrap();
    assert_eq!(
        call.body,
        json!({"q": "Hallo, wo ist meine Bestellung?", "source": "de", "target": "en", "format": "text", "api_key": KEY})
    );
    // The event that lets open dashboards update.
    let events = ws
        .api
        .get(&format!("/api/conversations/{cv}/events?since=0"))
        .expect_status(200);
    let pushed: Vec<&Value> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "message_translated")
        .collect();
    assert_eq!(pushed.len(), 1, "{}", events.text);
    assert_eq!(pushed[0]["message_id"], id.as_str());
    assert_eq!(
        pushed[0]["translation"]["text"],
        "Hello, where is my order?"
    );
    let lang = ws
        .api
        .get(&format!("/api/conversations/{cv}/language"))
        .expect_status(200);
    assert_eq!(
        lang.body,
        json!({"language": "de", "language_source": "platform"})
    );

    // Outbound: the customer receives German; the agent's words are kept.
    let sent = write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    assert_eq!(sent["text"], "Your parcel ships tomorrow.");
    assert_eq!(sent["translation"]["lang"], "de");
    assert_eq!(
        sent["translation"]["text"],
        "Ihr Paket wird morgen versandt."
    );
    let sent = wait_status(&ws, &cv, sent["id"].as_str().unwrap(), "sent");
    assert_eq!(
        sent["translation"]["text"],
        "Ihr Paket wird morgen versandt."
    );
    let to_telegram = platform.wait_for(1, WAIT);
    assert_eq!(
        to_telegram[0].json()["text"],
        "Ihr Paket wird morgen versandt."
    );

    // The agent chooses the original for one reply.
    let original = write(
        &ws,
        &cv,
        json!({"text": "Thanks for waiting.", "translate": false}),
    );
    assert!(original["translation"]["text"].is_null(), "{original}");
    assert!(original["translation"]["error"]
        .as_str()
        .unwrap()
        .contains("chose to send the original"));
    let to_telegram = platform.wait_for(2, WAIT);
    assert_eq!(to_telegram[1].json()["text"], "Thanks for waiting.");

    // A note never reaches the provider.
    write(
        &ws,
        &cv,
        json!({"kind": "note", "text": "VIP customer, secret discount"}),
    );

    // A repeat comes from the cache: no call.
    let calls = fake.translate_calls().len();
    let repeat = write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    assert_eq!(
        repeat["translation"]["text"],
        "Ihr Paket wird morgen versandt."
    );
    assert_eq!(repeat["translation"]["cached"], true);
    assert_eq!(
        fake.translate_calls().len(),
        calls,
        "a cached text was sent again"
    );
    let to_telegram = platform.wait_for(3, WAIT);
    assert_eq!(
        to_telegram[2].json()["text"],
        "Ihr Paket wird morgen versandt."
    );

    // On request, into another language.
    let fr = ws
        .api
        .post(
            &format!(
                "/api/conversations/{cv}/messages/{}/translate",
                sent["id"].as_str().unwrap()
            ),
            &json!({"target": "fr"}),
        )
        .expect_status(200);
    assert_eq!(
        fr.body["translation"]["text"], "Votre colis part demain.",
        "{}",
        fr.text
    );
    let note_id = ws
        .api
        .messages(&cv)
        .into_iter()
        .find(|m| m["kind"] == "note")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages/{note_id}/translate"),
            &json!({}),
        )
        .expect_error(422);

    assert!(
        !fake.ever_saw("secret discount"),
        "a note reached the provider"
    );
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn messenger_detects_and_a_failing_provider_loses_nothing() {
    let platform = FakePlatform::start();
    platform.accept_token(PAGE_TOKEN);
    let fake = FakeTranslate::start(KEY);
    let server = Server::start_with(ServerOptions::default().var("GRAPH_API_BASE", &platform.base));
    let ws = messenger_workspace(&server, "tr-fb");
    turn_on(&ws.api, &fake, json!({}));

    // No platform language: detected from a clear sentence.
    let german = "Ich habe gestern eine Bestellung aufgegeben und warte noch auf die Bestätigung.";
    post_signed(&ws, &messenger_body(&[("psid-de", "mid.de1", german)])).expect_status(200);
    let cv = conversation_of(&ws, "psid-de");
    let id = ws.api.messages(&cv)[0]["id"].as_str().unwrap().to_string();
    let m = wait_translation(&ws, &cv, &id);
    assert_eq!(
        m["translation"]["text"],
        "I placed an order yesterday and am still waiting for the confirmation."
    );
    let lang = ws
        .api
        .get(&format!("/api/conversations/{cv}/language"))
        .expect_status(200);
    assert_eq!(lang.body["language"], "de");
    assert_eq!(lang.body["language_source"], "detected");

    // The reply reaches Messenger in German.
    let sent = write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    wait_status(&ws, &cv, sent["id"].as_str().unwrap(), "sent");
    let graph = platform.wait_for(1, WAIT);
    assert_eq!(
        graph[0].json()["message"]["text"],
        "Ihr Paket wird morgen versandt."
    );

    // An agent overrides the customer's language.
    let set = ws
        .api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"language": "fr-CA"}),
        )
        .expect_status(200);
    assert_eq!(
        set.body,
        json!({"language": "fr", "language_source": "agent"})
    );
    ws.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"language": "??"}),
        )
        .expect_error(400);
    write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    let graph = platform.wait_for(2, WAIT);
    assert_eq!(
        graph[1].json()["message"]["text"],
        "Votre colis part demain."
    );
    ws.api
        .send_patch(
            &format!("/api/conversations/{cv}"),
            &json!({"language": "de"}),
        )
        .expect_status(200);

    // Down: the webhook stores and answers; the message says why it waits.
    fake.set_mode(Mode::Down);
    let a =
        post_signed(&ws, &messenger_body(&[("psid-de", "mid.de2", "Danke!")])).expect_status(200);
    assert_eq!(a.body["stored"], 1);
    let down_id = ws
        .api
        .messages(&cv)
        .into_iter()
        .find(|m| m["platform_id"] == "mid.de2")
        .expect("stored before the answer")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = wait_translation_error(&ws, &cv, &down_id);
    assert_eq!(m["text"], "Danke!");
    assert!(
        m["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{m}"
    );
    assert_eq!(
        m["translation"]["pending"], true,
        "a transient failure is retried: {m}"
    );
    // The reply goes out in the original, marked with the reason.
    let down_reply = write(&ws, &cv, json!({"text": "Thanks for waiting."}));
    assert!(
        down_reply["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("sent untranslated"),
        "{down_reply}"
    );
    let graph = platform.wait_for(3, WAIT);
    assert_eq!(graph[2].json()["message"]["text"], "Thanks for waiting.");

    // Back up: the message that waited is translated by a retry.
    fake.set_mode(Mode::Normal);
    let m = wait_translation(&ws, &cv, &down_id);
    assert_eq!(m["translation"]["text"], "Thanks!");
    assert!(m["translation"]["error"].is_null(), "{m}");

    // Refuses the key.
    fake.set_mode(Mode::RefuseKey);
    let refused = write(
        &ws,
        &cv,
        json!({"text": "We are looking into it right now."}),
    );
    assert!(
        refused["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("refused the API key"),
        "{refused}"
    );
    let graph = platform.wait_for(4, WAIT);
    assert_eq!(
        graph[3].json()["message"]["text"],
        "We are looking into it right now."
    );

    // Hangs: the reply gives up on the translation and is sent as written;
    // the webhook is answered with the message stored.
    fake.set_mode(Mode::Hang);
    let started = Instant::now();
    let hung = write(&ws, &cv, json!({"text": "One moment please, checking."}));
    eprintln!(
        "measured: a reply with a hanging provider answered in {:?}",
        started.elapsed()
    );
    assert!(
        hung["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{hung}"
    );
    let graph = platform.wait_for(5, WAIT);
    assert_eq!(
        graph[4].json()["message"]["text"],
        "One moment please, checking."
    );
    let started = Instant::now();
    let a =
        post_signed(&ws, &messenger_body(&[("psid-de", "mid.de3", "Hallo?")])).expect_status(200);
    eprintln!(
        "measured: a webhook with a hanging provider answered in {:?}",
        started.elapsed()
    );
    assert_eq!(a.body["stored"], 1);
    let stored = ws
        .api
        .messages(&cv)
        .into_iter()
        .find(|m| m["platform_id"] == "mid.de3");
    let stored = stored.expect("stored before the webhook's answer");
    assert!(stored["translation"]["text"].is_null(), "{stored}");
    assert_eq!(fake.violations(), Vec::<String>::new());
}

#[test]
fn widget_visitor_quota_and_workers_ai_unbound() {
    let fake = FakeTranslate::start(KEY);
    let server = Server::start();
    let (agent, _) =
        Api::new(&server.base).signup("Widget Tr", &format!("tr-w-{}@example.test", unique()));
    let inbox = agent.create_inbox("widget", json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    turn_on(&agent, &fake, json!({}));
    let ws = Workspace {
        api: agent.clone(),
        inbox_id: inbox.clone(),
        webhook_path: String::new(),
    };

    let s = Api::new(&server.base)
        .post(
            &format!("/api/widget/{inbox}/session"),
            &json!({"name": "Vera"}),
        )
        .expect_status(201)
        .body;
    let visitor = Api::new(&server.base).with_token(s["token"].as_str().unwrap());
    let cv = visitor
        .post(
            "/api/widget/messages",
            &json!({"text": "Hallo, wo ist meine Bestellung?", "client_id": "w1", "language": "de-DE"}),
        )
        .expect_status(201)
        .body["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    agent.wait_for_conversations(|l| l.iter().any(|c| c["id"] == cv.as_str()));
    let id = agent.messages(&cv)[0]["id"].as_str().unwrap().to_string();
    wait_translation(&ws, &cv, &id);

    // The visitor receives the reply in German.
    write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    let events = visitor
        .get("/api/widget/events?since=0")
        .expect_status(200)
        .body;
    let reply = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "message_created" && e["message"]["direction"] == "outbound")
        .cloned()
        .expect("the reply reached the visitor");
    assert_eq!(
        reply["message"]["translation"]["text"],
        "Ihr Paket wird morgen versandt."
    );
    assert_eq!(reply["message"]["translation"]["lang"], "de");

    // The quota: what is used so far plus a little; then calls stop.
    let used: i64 = [
        "Hallo, wo ist meine Bestellung?",
        "Your parcel ships tomorrow.",
    ]
    .iter()
    .map(|t| t.chars().count() as i64)
    .sum();
    let usage = agent
        .get("/api/workspace/translation")
        .expect_status(200)
        .body;
    assert_eq!(usage["usage"]["chars"], used, "{usage}");
    assert_eq!(usage["usage"]["calls"], 2, "{usage}");
    assert!(!usage.to_string().contains(KEY));
    turn_on(&agent, &fake, json!({"daily_quota_chars": used + 5}));
    let calls = fake.translate_calls().len();
    let over = write(&ws, &cv, json!({"text": "Thanks for waiting."}));
    assert!(
        over["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("quota"),
        "{over}"
    );
    assert!(
        over["translation"]["error"]
            .as_str()
            .unwrap()
            .starts_with("sent untranslated"),
        "{over}"
    );
    assert_eq!(
        fake.translate_calls().len(),
        calls,
        "a call was made over the quota"
    );
    // A cached text costs nothing and still flows translated.
    let cached = write(&ws, &cv, json!({"text": "Your parcel ships tomorrow."}));
    assert_eq!(
        cached["translation"]["text"],
        "Ihr Paket wird morgen versandt."
    );
    assert_eq!(fake.translate_calls().len(), calls);

    // Workers AI chosen where it is not bound: said plainly.
    agent
        .send_patch(
            "/api/workspace",
            &json!({"translation": {"provider": "workers-ai"}}),
        )
        .expect_status(200);
    let unbound = write(&ws, &cv, json!({"text": "Anything else?"}));
    assert!(
        unbound["translation"]["error"]
            .as_str()
            .unwrap()
            .contains("Workers AI is not bound here"),
        "{unbound}"
    );
    let e = agent
        .post(
            &format!("/api/conversations/{cv}/messages/{id}/translate"),
            &json!({}),
        )
        .expect_error(409);
    assert!(
        e.text.contains("Workers AI is not bound here"),
        "{}",
        e.text
    );
    // Off: nothing is translated, nothing is marked.
    agent
        .send_patch(
            "/api/workspace",
            &json!({"translation": {"provider": "off"}}),
        )
        .expect_status(200);
    let plain = write(&ws, &cv, json!({"text": "Bye!"}));
    assert!(plain["translation"].is_null(), "{plain}");
    assert_eq!(fake.violations(), Vec::<String>::new());
}
