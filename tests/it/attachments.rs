//! Attachments both ways, kept in R2: inbound media on every channel is
//! copied from the fake platform (a CDN URL, a WhatsApp media id with its
//! token, Telegram's getFile) and served with headers that keep it inert,
//! still after the platform stops serving it; another workspace gets 404;
//! markup posing as an image is never inline; failures keep the message
//! with the reason; agents' files reach each platform the way it wants
//! them; erasure deletes the files.

use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::{multipart_parts, FakePlatform, Server, ServerOptions};

const WA_PHONE: &str = "555000111222333";
const WA_SECRET: &str = "wa-app-secret";
const WA_TOKEN: &str = "EAAW-wa-token";
const IG_ACCOUNT: &str = "17841455555555555";
const IG_SECRET: &str = "ig-app-secret";
const IG_TOKEN: &str = "IGQ-token";
const BOT_TOKEN: &str = "123456:ABC-attachments";
const TG_SECRET: &str = "tg_secret_attachments";
/// The public origin Instagram's links are made on (the tests fetch their
/// path from the local server).
const PUBLIC_URL: &str = "https://switchboard.example";

/// The smallest files each kind is recognised by (their magic numbers).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\nIDATx\x9cc\0\x01\0\0\x05\0\x01\r\n-\xb4\0\0\0\0IEND\xaeB`\x82";
const OGG: &[u8] = b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x8a\x1c\x0f\x1e\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

struct Channels {
    graph: FakePlatform,
    server: Server,
    messenger: Workspace,
    instagram: String,
    whatsapp: String,
    telegram: String,
}

fn start() -> Channels {
    let graph = FakePlatform::start();
    for t in [PAGE_TOKEN, IG_TOKEN, WA_TOKEN, BOT_TOKEN] {
        graph.accept_token(t);
    }
    let server = Server::start_with(
        ServerOptions::default()
            .var("GRAPH_API_BASE", &graph.base)
            .var("TELEGRAM_API_BASE", &graph.base)
            .var("PUBLIC_URL", PUBLIC_URL),
    );
    let messenger = messenger_workspace(&server, "files");
    let path = |inbox: Value, channel: &str| {
        format!("/webhooks/{channel}/{}", inbox["id"].as_str().unwrap())
    };
    let instagram = path(
        messenger.api.create_inbox(
            "instagram",
            json!({"account_id": IG_ACCOUNT, "app_secret": IG_SECRET, "verify_token": "v", "access_token": IG_TOKEN}),
        ),
        "instagram",
    );
    let whatsapp = path(
        messenger.api.create_inbox(
            "whatsapp",
            json!({"phone_number_id": WA_PHONE, "app_secret": WA_SECRET, "verify_token": "v", "access_token": WA_TOKEN}),
        ),
        "whatsapp",
    );
    let telegram = path(
        messenger.api.create_inbox(
            "telegram",
            json!({"bot_token": BOT_TOKEN, "secret_token": TG_SECRET}),
        ),
        "telegram",
    );
    Channels {
        graph,
        server,
        messenger,
        instagram,
        whatsapp,
        telegram,
    }
}

fn meta_attachments(
    object: &str,
    account: &str,
    sender: &str,
    items: &[(&str, &str, String)],
) -> Vec<u8> {
    let messaging: Vec<Value> = items
        .iter()
        .map(|(mid, kind, url)| {
            json!({"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": 1_763_000_000_000_i64,
                   "message": {"mid": mid, "attachments": [{"type": kind, "payload": {"url": url}}]}})
        })
        .collect();
    serde_json::to_vec(
        &json!({"object": object, "entry": [{"id": account, "time": 1, "messaging": messaging}]}),
    )
    .unwrap()
}

fn post(ws: &Workspace, path: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    ws.api.post_raw(path, &h, body).expect_status(200);
}

fn post_meta_to(ws: &Workspace, path: &str, secret: &str, body: &[u8]) {
    let sig = switchboard_tests::sign::meta(secret, body);
    post(ws, path, &[("x-hub-signature-256", &sig)], body);
}

/// Every message of the workspace with an attachment, once each has
/// left `pending` (or panics after 30 s).
fn settled(ws: &Workspace, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut all = vec![];
        for c in ws
            .api
            .get("/api/conversations?status=all")
            .expect_status(200)
            .body["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            for m in ws.api.messages(c["id"].as_str().unwrap()) {
                if m["content"]["attachment"].is_object() {
                    all.push(m);
                }
            }
        }
        let done = all
            .iter()
            .filter(|m| m["content"]["attachment"]["state"] != "pending")
            .count();
        if all.len() >= expected && done == all.len() {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "attachments never settled: {all:?}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// A GET with the agent's token: status, headers, bytes.
fn fetch(server: &Server, token: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let resp = ureq::get(&server.url(path))
        .set("authorization", &format!("Bearer {token}"))
        .call();
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|h| {
            let v = resp.header(&h).unwrap_or_default().to_string();
            (h, v)
        })
        .collect();
    let mut bytes = vec![];
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    (status, headers, bytes)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn by_platform<'a>(all: &'a [Value], platform_id: &str) -> &'a Value {
    all.iter()
        .find(|m| m["platform_id"] == platform_id)
        .unwrap_or_else(|| panic!("no message {platform_id} in {all:?}"))
}

#[test]
fn inbound_media_on_every_channel_is_kept_in_r2_and_served_inert() {
    let c = start();
    let ws = &c.messenger;
    let base = &c.graph.base;
    c.graph.serve_media("/cdn/m-photo.png", "image/png", PNG);
    c.graph.serve_media("/cdn/m-voice.ogg", "audio/ogg", OGG);
    c.graph
        .serve_media("/cdn/m-invoice.pdf", "application/pdf", PDF);
    post_signed(
        ws,
        &meta_attachments(
            "page",
            PAGE_ID,
            "psid-files",
            &[
                (
                    "m_img",
                    "image",
                    format!("{base}/cdn/m-photo.png?oe=68000000"),
                ),
                (
                    "m_voice",
                    "audio",
                    format!("{base}/cdn/m-voice.ogg?oe=68000000"),
                ),
                (
                    "m_pdf",
                    "file",
                    format!("{base}/cdn/m-invoice.pdf?oe=68000000"),
                ),
            ],
        ),
    )
    .expect_status(200);
    c.graph.serve_media("/ig/photo", "image/png", PNG);
    c.graph.serve_media("/ig/voice", "audio/ogg", OGG);
    c.graph.serve_media("/ig/doc", "application/pdf", PDF);
    post_meta_to(
        ws,
        &c.instagram,
        IG_SECRET,
        &meta_attachments(
            "instagram",
            IG_ACCOUNT,
            "igsid-files",
            &[
                ("ig_img", "image", format!("{base}/ig/photo")),
                ("ig_voice", "audio", format!("{base}/ig/voice")),
                ("ig_pdf", "file", format!("{base}/ig/doc")),
            ],
        ),
    );
    c.graph
        .whatsapp_media("wa-photo-1", WA_TOKEN, "image/png", PNG);
    c.graph
        .whatsapp_media("wa-voice-1", WA_TOKEN, "audio/ogg; codecs=opus", OGG);
    c.graph
        .whatsapp_media("wa-pdf-1", WA_TOKEN, "application/pdf", PDF);
    let wa = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
    "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": WA_PHONE},
    "contacts": [{"profile": {"name": "Wanda"}, "wa_id": "4915550001"}],
    "messages": [
        {"from": "4915550001", "id": "wamid.img", "timestamp": "1718000003", "type": "image", "image": {"id": "wa-photo-1", "mime_type": "image/png", "caption": "the crack"}},
        {"from": "4915550001", "id": "wamid.voice", "timestamp": "1718000004", "type": "audio", "audio": {"id": "wa-voice-1", "mime_type": "audio/ogg; codecs=opus", "voice": true}},
        {"from": "4915550001", "id": "wamid.pdf", "timestamp": "1718000005", "type": "document", "document": {"id": "wa-pdf-1", "mime_type": "application/pdf", "filename": "receipt.pdf"}}
    ]}}]}]});
    post_meta_to(
        ws,
        &c.whatsapp,
        WA_SECRET,
        &serde_json::to_vec(&wa).unwrap(),
    );
    c.graph
        .telegram_file(BOT_TOKEN, "tg-photo", "application/octet-stream", PNG);
    c.graph
        .telegram_file(BOT_TOKEN, "tg-voice", "application/octet-stream", OGG);
    c.graph
        .telegram_file(BOT_TOKEN, "tg-pdf", "application/octet-stream", PDF);
    let from = json!({"id": 777001, "is_bot": false, "first_name": "Tess"});
    let chat = json!({"id": 777001, "type": "private", "first_name": "Tess"});
    for (n, extra) in [
        (
            1,
            json!({"photo": [{"file_id": "tg-photo", "file_unique_id": "u1", "width": 1, "height": 1}], "caption": "here"}),
        ),
        (
            2,
            json!({"voice": {"file_id": "tg-voice", "file_unique_id": "u2", "duration": 1, "mime_type": "audio/ogg"}}),
        ),
        (
            3,
            json!({"document": {"file_id": "tg-pdf", "file_unique_id": "u3", "file_name": "scan.pdf", "mime_type": "application/pdf"}}),
        ),
    ] {
        let mut message =
            json!({"message_id": 300 + n, "from": from, "chat": chat, "date": 1718000101});
        for (k, v) in extra.as_object().unwrap() {
            message[k] = v.clone();
        }
        let update = json!({"update_id": 9100 + n, "message": message});
        post(
            ws,
            &c.telegram,
            &[("x-telegram-bot-api-secret-token", TG_SECRET)],
            &serde_json::to_vec(&update).unwrap(),
        );
    }

    let all = settled(ws, 12);
    let cases = [
        ("m_img", "image", PNG, "image/png", true),
        ("m_voice", "audio", OGG, "audio/ogg", true),
        ("m_pdf", "file", PDF, "application/pdf", false),
        ("ig_img", "image", PNG, "image/png", true),
        ("ig_voice", "audio", OGG, "audio/ogg", true),
        ("ig_pdf", "file", PDF, "application/pdf", false),
        ("wamid.img", "image", PNG, "image/png", true),
        ("wamid.voice", "audio", OGG, "audio/ogg", true),
        ("wamid.pdf", "file", PDF, "application/pdf", false),
        ("777001:301", "image", PNG, "image/png", true),
        ("777001:302", "audio", OGG, "audio/ogg", true),
        ("777001:303", "file", PDF, "application/pdf", false),
    ];
    let token = token(ws);
    let mut urls = vec![];
    for (platform_id, kind, bytes, mime, inline) in cases {
        let m = by_platform(&all, platform_id);
        let a = &m["content"]["attachment"];
        assert_eq!(a["state"], "stored", "{platform_id}: {m}");
        assert_eq!(m["kind"], kind, "{platform_id}: {m}");
        assert_eq!(a["mime_type"], mime, "{platform_id}");
        assert_eq!(a["size"], bytes.len(), "{platform_id}");
        assert_eq!(
            a["sha256"],
            switchboard_core::attachments::sha256_hex(bytes)
        );
        let url = a["url"].as_str().unwrap().to_string();
        assert!(url.starts_with("/api/attachments/at_"), "{url}");
        assert!(
            a["media_id"].is_null(),
            "the platform's id is replaced: {a}"
        );
        let (status, headers, body) = fetch(&c.server, &token, &url);
        assert_eq!(status, 200, "{platform_id}");
        assert_eq!(body, bytes, "{platform_id}");
        assert_eq!(header(&headers, "content-type"), mime);
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert!(header(&headers, "content-security-policy").starts_with("sandbox"));
        let disposition = header(&headers, "content-disposition");
        assert_eq!(
            disposition.starts_with("inline"),
            inline,
            "{platform_id}: {disposition}"
        );
        urls.push((url, bytes));
    }
    // WhatsApp's file name and Telegram's are kept for the download.
    assert_eq!(
        by_platform(&all, "wamid.pdf")["content"]["attachment"]["filename"],
        "receipt.pdf"
    );
    assert_eq!(
        by_platform(&all, "wamid.img")["content"]["caption"],
        "the crack"
    );
    // WhatsApp's media was fetched with the token, the lookup first.
    let calls = c.graph.requests();
    let lookup = calls
        .iter()
        .find(|r| r.path.ends_with("/wa-photo-1"))
        .unwrap();
    assert_eq!(
        lookup.header("authorization"),
        Some(format!("Bearer {WA_TOKEN}").as_str())
    );
    assert!(calls
        .iter()
        .any(|r| r.path.contains("/getFile?file_id=tg-pdf")));

    // The platforms' links expire: our copies stay.
    c.graph.forget_media();
    for (url, bytes) in &urls {
        let (status, _, body) = fetch(&c.server, &token, url);
        assert_eq!((status, body.as_slice()), (200, *bytes));
    }
    // The dashboard's cookie is enough for an <img>.
    let resp = ureq::get(&c.server.url(&urls[0].0))
        .set("cookie", &format!("sb_files={token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    // That cookie opens stored files and nothing else.
    let elsewhere = ureq::get(&c.server.url("/api/conversations"))
        .set("cookie", &format!("sb_files={token}"))
        .call();
    assert!(
        matches!(elsewhere, Err(ureq::Error::Status(401, _))),
        "the files cookie must not authenticate the API"
    );

    // Another workspace's agent: 404, whatever it guesses.
    let other = messenger_workspace(&c.server, "files-other");
    let (status, _, body) = fetch(&c.server, &token_of(&other), &urls[0].0);
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    // No one at all: 401.
    let anonymous = ureq::get(&c.server.url(&urls[0].0)).call();
    assert!(matches!(anonymous, Err(ureq::Error::Status(401, _))));
    assert_eq!(
        fetch(&c.server, &token, "/api/attachments/at_..%2F..%2Fx").0,
        404
    );
}

fn token_of(ws: &Workspace) -> String {
    token(ws)
}

#[test]
fn markup_posing_as_an_image_failures_and_limits_keep_the_message() {
    let c = start();
    let ws = &c.messenger;
    let base = &c.graph.base;
    c.graph.serve_media(
        "/cdn/evil.png",
        "image/png",
        b"<html><script>alert(document.cookie)</script></html>",
    );
    c.graph
        .serve_media("/cdn/big.pdf", "application/pdf", &[b'%'; 3 * 1024 * 1024]);
    c.graph
        .redirect("/cdn/moved.png", "https://10.0.0.7/internal.png");
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"attachment_max_mb": 2}}),
        )
        .expect_status(200);
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"attachment_max_mb": 0}}),
        )
        .expect_error(400);
    c.graph.force_next(503, "{}");
    c.graph.serve_media("/cdn/flaky.png", "image/png", PNG);
    post_signed(
        ws,
        &meta_attachments(
            "page",
            PAGE_ID,
            "psid-bad",
            &[
                ("m_evil", "image", format!("{base}/cdn/evil.png")),
                ("m_gone", "image", format!("{base}/cdn/expired.png")),
                ("m_moved", "image", format!("{base}/cdn/moved.png")),
                ("m_big", "file", format!("{base}/cdn/big.pdf")),
                ("m_flaky", "image", format!("{base}/cdn/flaky.png")),
            ],
        ),
    )
    .expect_status(200);
    let all = settled(ws, 5);

    // HTML sent as an image is stored as HTML and only ever downloaded.
    let evil = by_platform(&all, "m_evil");
    assert_eq!(evil["kind"], "file", "{evil}");
    assert_eq!(evil["content"]["attachment"]["mime_type"], "text/html");
    let (status, headers, _) = fetch(
        &c.server,
        &token(ws),
        evil["content"]["attachment"]["url"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    assert!(header(&headers, "content-disposition").starts_with("attachment"));
    assert_eq!(header(&headers, "content-type"), "text/html");
    assert!(header(&headers, "content-security-policy").contains("sandbox"));

    // An expired link fails at once and says so; the message stays.
    let gone = by_platform(&all, "m_gone");
    assert_eq!(gone["content"]["attachment"]["state"], "failed");
    assert!(
        gone["content"]["attachment"]["error"]
            .as_str()
            .unwrap()
            .contains("404"),
        "{gone}"
    );
    // A redirect to a private address is refused.
    let moved = by_platform(&all, "m_moved");
    assert_eq!(moved["content"]["attachment"]["state"], "failed");
    assert!(
        moved["content"]["attachment"]["error"]
            .as_str()
            .unwrap()
            .contains("non-public"),
        "{moved}"
    );
    assert!(!c
        .graph
        .requests()
        .iter()
        .any(|r| r.path.contains("internal.png")));
    // Above the workspace's limit: kept as the platform's link, with a note.
    let big = by_platform(&all, "m_big");
    assert_eq!(big["content"]["attachment"]["state"], "too_large");
    assert!(big["content"]["attachment"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/cdn/big.pdf"));
    assert!(
        big["content"]["attachment"]["error"]
            .as_str()
            .unwrap()
            .contains("2 MB"),
        "{big}"
    );
    // The first download met an outage (503) and was retried.
    let evil_calls = c
        .graph
        .requests()
        .iter()
        .filter(|r| r.path == "/cdn/evil.png")
        .count();
    assert_eq!(evil_calls, 2, "the outage was not retried once");
    let flaky = by_platform(&all, "m_flaky");
    assert_eq!(flaky["content"]["attachment"]["state"], "stored", "{flaky}");
}

fn upload(
    ws: &Workspace,
    cv: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> switchboard_tests::api::Answer {
    ws.api.post_raw(
        &format!("/api/conversations/{cv}/attachments?filename={name}"),
        &[("content-type", content_type)],
        bytes,
    )
}

/** POSTs a body that stops short of its Content-Length; the status and the answer's text. */
fn truncated_upload(server: &Server, token: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/pdf\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s.write_all(PDF).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[test]
fn agents_send_a_pdf_and_an_image_through_each_platform() {
    let c = start();
    let ws = &c.messenger;
    post_signed(
        ws,
        &messenger_body(&[("psid-send", "m_hi", "send me the invoice")]),
    )
    .expect_status(200);
    post_meta_to(
        ws,
        &c.instagram,
        IG_SECRET,
        &serde_json::to_vec(&json!({"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": 1, "messaging": [
            {"sender": {"id": "igsid-send"}, "recipient": {"id": IG_ACCOUNT}, "timestamp": 1_763_000_000_000_i64, "message": {"mid": "ig_hi", "text": "hi"}}]}]})).unwrap(),
    );
    let now_s = (now_ms() / 1000).to_string();
    let wa = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": WA_PHONE},
        "contacts": [{"profile": {"name": "Wanda"}, "wa_id": "4915550002"}],
        "messages": [{"from": "4915550002", "id": "wamid.hi", "timestamp": now_s, "type": "text", "text": {"body": "hi"}}]}}]}]});
    post_meta_to(
        ws,
        &c.whatsapp,
        WA_SECRET,
        &serde_json::to_vec(&wa).unwrap(),
    );
    let update = json!({"update_id": 9200, "message": {"message_id": 1, "from": {"id": 777002, "is_bot": false, "first_name": "T"},
        "chat": {"id": 777002, "type": "private"}, "date": 1718000101, "text": "hi"}});
    post(
        ws,
        &c.telegram,
        &[("x-telegram-bot-api-secret-token", TG_SECRET)],
        &serde_json::to_vec(&update).unwrap(),
    );

    let list = ws.api.wait_for_conversations(|l| l.len() >= 4);
    let conv = |channel: &str| {
        list.iter().find(|c| c["channel"] == channel).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Refusals store nothing.
    let cv = conv("messenger");
    upload(ws, &cv, "empty.pdf", "application/pdf", b"").expect_error(400);
    let html = upload(
        ws,
        &cv,
        "x.png",
        "image/png",
        b"<html><script>1</script></html>",
    )
    .expect_error(415);
    assert!(html.text.contains("text/html"), "{}", html.text);
    upload(
        ws,
        &cv,
        "run.exe",
        "application/octet-stream",
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0",
    )
    .expect_error(415);
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"attachment_id": "at_00000000000000000000000000000000000000000000000000aa"}),
        )
        .expect_error(422);
    // Above the workspace's limit: 413, refused before the body is read.
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"attachment_max_mb": 1}}),
        )
        .expect_status(200);
    let big = vec![b'%'; 1024 * 1024 + 10];
    let over = upload(ws, &cv, "big.pdf", "application/pdf", &big).expect_error(413);
    assert!(over.text.contains("1 MB"), "{}", over.text);
    // Fewer bytes than Content-Length announced: refused, nothing kept.
    // The worker answers 400 when the runtime hands it the short body; the
    // local dev proxy in front of workerd may cut in first with a 503
    // (Cloudflare's edge refuses such a request before the worker).
    let (status, answer) = truncated_upload(
        &c.server,
        &token(ws),
        &format!("/api/conversations/{cv}/attachments?filename=t.pdf"),
    );
    assert!(
        (status == 400 && answer.contains("truncated")) || status == 503,
        "{status}: {answer}"
    );
    assert!(!c.server.log().contains("panicked"), "{}", c.server.log());
    ws.api
        .send_patch(
            "/api/workspace",
            &json!({"settings": {"attachment_max_mb": null}}),
        )
        .expect_status(200);
    // HTML as what it is: stored, served only as a download.
    let page = upload(
        ws,
        &cv,
        "page.html",
        "text/html",
        b"<html><script>alert(1)</script></html>",
    )
    .expect_status(201);
    let (_, headers, _) = fetch(&c.server, &token(ws), page.body["url"].as_str().unwrap());
    assert!(header(&headers, "content-disposition").starts_with("attachment"));

    let before = c.graph.requests().len();
    for channel in ["messenger", "instagram", "whatsapp", "telegram"] {
        let cv = conv(channel);
        for (name, ct, bytes, caption) in [
            ("invoice.pdf", "application/pdf", PDF, "Your invoice"),
            ("screenshot.png", "image/png", PNG, "Like this"),
        ] {
            let up = upload(ws, &cv, name, ct, bytes).expect_status(201);
            assert_eq!(up.body["size"], bytes.len());
            let sent = ws
                .api
                .post(
                    &format!("/api/conversations/{cv}/messages"),
                    &json!({"attachment_id": up.body["id"], "text": caption}),
                )
                .expect_status(201);
            assert_eq!(
                sent.body["status"], "sent",
                "{channel} {name}: {}",
                sent.text
            );
            assert_eq!(sent.body["content"]["attachment"]["url"], up.body["url"]);
            assert_eq!(
                sent.body["kind"],
                if ct == "image/png" { "image" } else { "file" }
            );
        }
    }
    let calls: Vec<_> = c.graph.requests().into_iter().skip(before).collect();
    let parts = |r: &switchboard_tests::Recorded| {
        multipart_parts(r.header("content-type").unwrap_or(""), &r.body)
    };
    let field = |r: &switchboard_tests::Recorded, name: &str| {
        parts(r)
            .into_iter()
            .find(|p| p.name == name)
            .map(|p| p.data)
            .unwrap_or_default()
    };
    // Messenger and Instagram: an upload with the attachment's type.
    let multipart = |r: &switchboard_tests::Recorded| {
        r.header("content-type")
            .unwrap_or("")
            .starts_with("multipart")
    };
    let meta: Vec<_> = calls
        .iter()
        .filter(|r| r.path.ends_with("/me/messages") && multipart(r))
        .collect();
    // Messenger: an upload with the attachment's type.
    assert_eq!(meta.len(), 2, "{meta:?}");
    let types: Vec<String> = meta
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&field(r, "message")).unwrap()["attachment"]["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["file", "image"]);
    assert_eq!(field(meta[0], "filedata"), PDF);
    // Instagram takes files by URL: a signed link to our copy, which needs
    // no session, and is nothing once altered.
    let ig: Vec<Value> = calls
        .iter()
        .filter(|r| {
            r.header("authorization") == Some(format!("Bearer {IG_TOKEN}").as_str())
                && r.json()["message"]["attachment"].is_object()
        })
        .map(|r| r.json())
        .collect();
    assert_eq!(ig.len(), 2, "{ig:?}");
    assert_eq!(ig[0]["message"]["attachment"]["type"], "file");
    let link = ig[0]["message"]["attachment"]["payload"]["url"]
        .as_str()
        .unwrap();
    let path = link.strip_prefix(PUBLIC_URL).expect("a link on PUBLIC_URL");
    let (status, headers, body) = fetch(&c.server, "", path);
    assert_eq!((status, body.as_slice()), (200, PDF));
    assert!(header(&headers, "content-disposition").starts_with("attachment"));
    let forged = path.replace("sig=", "sig=0");
    assert_eq!(fetch(&c.server, "", &forged).0, 404);
    let other_ws = path.replace("ws=", "ws=x");
    assert_eq!(fetch(&c.server, "", &other_ws).0, 404);
    // Their files carry no caption: it follows as a text, once per file.
    let captions: Vec<String> = calls
        .iter()
        .filter(|r| r.path.ends_with("/me/messages") && r.json()["message"]["text"].is_string())
        .map(|r| {
            r.json()["message"]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        captions,
        ["Your invoice", "Like this", "Your invoice", "Like this"]
    );
    // WhatsApp: upload, then the message names the media id.
    let wa_up: Vec<_> = calls
        .iter()
        .filter(|r| r.path.ends_with(&format!("/{WA_PHONE}/media")))
        .collect();
    assert_eq!(wa_up.len(), 2);
    assert_eq!(field(wa_up[0], "file"), PDF);
    let wa_msgs: Vec<Value> = calls
        .iter()
        .filter(|r| r.path.ends_with(&format!("/{WA_PHONE}/messages")))
        .map(|r| r.json())
        .collect();
    assert_eq!(wa_msgs[0]["type"], "document");
    assert_eq!(wa_msgs[0]["document"]["filename"], "invoice.pdf");
    assert_eq!(wa_msgs[0]["document"]["caption"], "Your invoice");
    assert!(wa_msgs[0]["document"]["id"]
        .as_str()
        .unwrap()
        .starts_with("wa-up-"));
    assert_eq!(wa_msgs[1]["image"]["caption"], "Like this");
    // Telegram: sendDocument and sendPhoto, multipart, with the caption.
    let doc = calls
        .iter()
        .find(|r| r.path.ends_with("/sendDocument"))
        .unwrap();
    assert_eq!(field(doc, "document"), PDF);
    assert_eq!(field(doc, "caption"), b"Your invoice");
    assert_eq!(field(doc, "chat_id"), b"777002");
    let photo = calls
        .iter()
        .find(|r| r.path.ends_with("/sendPhoto"))
        .unwrap();
    assert_eq!(field(photo, "photo"), PNG);

    // A platform's refusal is stored and shown.
    let cv = conv("telegram");
    let up = upload(ws, &cv, "again.pdf", "application/pdf", PDF).expect_status(201);
    c.graph.force_next(
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: file is too big"}"#,
    );
    let refused = ws
        .api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"attachment_id": up.body["id"]}),
        )
        .expect_status(201);
    assert_eq!(refused.body["status"], "failed");
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("file is too big"),
        "{}",
        refused.text
    );
}

#[test]
fn erasure_deletes_the_files_and_export_lists_them() {
    let c = start();
    let ws = &c.messenger;
    c.graph.serve_media("/cdn/keep.png", "image/png", PNG);
    post_signed(
        ws,
        &meta_attachments(
            "page",
            PAGE_ID,
            "psid-erase",
            &[("m_e", "image", format!("{}/cdn/keep.png", c.graph.base))],
        ),
    )
    .expect_status(200);
    let all = settled(ws, 1);
    let inbound = all[0]["content"]["attachment"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let cv = conversation_of(ws, "psid-erase");
    let up = upload(ws, &cv, "notes.pdf", "application/pdf", PDF).expect_status(201);
    ws.api
        .post(
            &format!("/api/conversations/{cv}/messages"),
            &json!({"attachment_id": up.body["id"]}),
        )
        .expect_status(201);
    let export = ws
        .api
        .get(&format!("/api/conversations/{cv}/export?format=json"))
        .expect_status(200);
    let listed: Vec<&str> = export.body["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["url"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [inbound.as_str(), up.body["url"].as_str().unwrap()]);
    let uploaded = up.body["url"].as_str().unwrap().to_string();
    for url in [&inbound, &uploaded] {
        assert_eq!(fetch(&c.server, &token(ws), url).0, 200);
    }
    ws.api
        .post(&format!("/api/conversations/{cv}/erase"), &json!({}))
        .expect_status(200);
    for url in [&inbound, &uploaded] {
        assert_eq!(
            fetch(&c.server, &token(ws), url).0,
            404,
            "{url} survived erasure"
        );
    }
}

#[test]
fn the_webhook_never_waits_for_a_download_and_visitors_are_walled_and_limited() {
    let c = start();
    let ws = &c.messenger;
    // The platform's CDN takes 4 s to answer: the webhook is acknowledged
    // at once, the copy arrives later.
    c.graph.serve_media("/cdn/slow.png", "image/png", PNG);
    c.graph.delay_next(Duration::from_secs(4));
    let began = Instant::now();
    post_signed(
        ws,
        &meta_attachments(
            "page",
            PAGE_ID,
            "psid-slow",
            &[("m_slow", "image", format!("{}/cdn/slow.png", c.graph.base))],
        ),
    )
    .expect_status(200);
    let answered = began.elapsed();
    assert!(
        answered < Duration::from_secs(3),
        "the webhook waited {answered:?} for the download"
    );
    let all = settled(ws, 1);
    assert_eq!(all[0]["content"]["attachment"]["state"], "stored");
    assert!(began.elapsed() >= Duration::from_secs(4));

    // A visitor reads its own conversation's files and no one else's.
    let inbox = ws.api.create_inbox("widget", json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let visitor = |name: &str| {
        let s = switchboard_tests::Api::new(&c.server.base)
            .post(
                &format!("/api/widget/{inbox}/session"),
                &json!({"name": name}),
            )
            .expect_status(201)
            .body;
        (
            switchboard_tests::Api::new(&c.server.base).with_token(s["token"].as_str().unwrap()),
            s["conversation_id"].as_str().unwrap().to_string(),
            s["token"].as_str().unwrap().to_string(),
        )
    };
    let (vera, vera_cv, vera_token) = visitor("Vera");
    let (_, _, other_token) = visitor("Otto");
    let up = vera
        .post_raw(
            "/api/widget/attachments?filename=receipt.pdf",
            &[("content-type", "application/pdf")],
            PDF,
        )
        .expect_status(201);
    let id = up.body["id"].as_str().unwrap().to_string();
    vera.post(
        "/api/widget/messages",
        &json!({"attachment_id": id, "text": "my receipt"}),
    )
    .expect_status(201);
    let m = ws.api.messages(&vera_cv);
    let last = m.last().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["text"].as_str()),
        (Some("file"), Some("my receipt"))
    );
    assert_eq!(last["content"]["attachment"]["url"], up.body["url"]);
    let path = format!("/api/widget/attachments/{id}");
    let (status, headers, body) = fetch(&c.server, &vera_token, &path);
    assert_eq!((status, body.as_slice()), (200, PDF));
    assert!(header(&headers, "content-disposition").starts_with("attachment"));
    assert_eq!(
        fetch(&c.server, &other_token, &path).0,
        404,
        "another visitor read the file"
    );
    // The agent reads it too; the inbound photo is not the visitor's.
    assert_eq!(
        fetch(&c.server, &token(ws), up.body["url"].as_str().unwrap()).0,
        200
    );
    let photo = all[0]["content"]["attachment"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        fetch(
            &c.server,
            &vera_token,
            &format!("/api/widget/attachments/{photo}")
        )
        .0,
        404
    );

    // Uploads are rate-limited: 10 a minute per visitor.
    let mut statuses = vec![];
    for n in 0..10 {
        statuses.push(
            vera.post_raw(
                &format!("/api/widget/attachments?filename=f{n}.pdf"),
                &[("content-type", "application/pdf")],
                PDF,
            )
            .status,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
