//! Setting an inbox up with its platform, as plain requests and answers (the
//! worker performs the calls):
//!
//! - **Test connection**: one read-only call that only works with good
//!   credentials. Messenger `GET /me` with the page token (and the page it
//!   names must be the inbox's page), Instagram `GET /{account_id}`, WhatsApp
//!   `GET /{phone_number_id}`, each with the token as `Authorization: Bearer`;
//!   Telegram `getMe`. The answer is the account the platform names, or the
//!   platform's own error text.
//! - **Telegram's webhook**: `setWebhook` with the inbox's URL and its
//!   `secret_token`, which Telegram then sends in
//!   `X-Telegram-Bot-Api-Secret-Token` on every update.

use super::meta::GRAPH_VERSION;
use super::telegram::TelegramSettings;
use super::Settings;
use crate::outbound::{classify_graph_with, OutboundRequest, SendOutcome};
use serde::Deserialize;
use serde_json::Value;

/// The update kinds the normalizer reads. `message_reaction` is only sent
/// when asked for by name, so the list is explicit.
pub const TELEGRAM_UPDATES: [&str; 4] = [
    "message",
    "edited_message",
    "callback_query",
    "message_reaction",
];

/// A Graph node id as it may stand in a URL path: Meta's ids are digits;
/// anything else would change the path, so it is refused before a call.
fn graph_node(field: &str, id: &str) -> Result<String, String> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id.to_string())
    } else {
        Err(format!(
            "settings.{field} is not a Graph API id (digits): the platform cannot be asked"
        ))
    }
}

fn graph_get(graph_base: &str, path: &str, token: &str) -> OutboundRequest {
    OutboundRequest {
        method: "GET",
        url: format!(
            "{}/{GRAPH_VERSION}/{path}",
            graph_base.trim_end_matches('/')
        ),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        body: Vec::new(),
    }
}

fn telegram_call(base: &str, token: &str, method: &str, body: Option<Value>) -> OutboundRequest {
    OutboundRequest {
        method: if body.is_some() { "POST" } else { "GET" },
        url: format!("{}/bot{token}/{method}", base.trim_end_matches('/')),
        headers: match body {
            Some(_) => vec![("content-type".into(), "application/json".into())],
            None => Vec::new(),
        },
        body: body
            .map(|b| serde_json::to_vec(&b).unwrap_or_default())
            .unwrap_or_default(),
    }
}

impl Settings {
    /// The call that asks the platform whether this inbox's credentials
    /// work, or why none can be made (the API channel and the widget have no
    /// platform account to ask about).
    pub fn build_check(
        &self,
        graph_base: &str,
        telegram_base: &str,
    ) -> Result<OutboundRequest, String> {
        match self {
            Settings::Messenger(s) => Ok(graph_get(
                graph_base,
                "me?fields=id,name",
                &s.page_access_token,
            )),
            Settings::Instagram(s) => Ok(graph_get(
                graph_base,
                &format!(
                    "{}?fields=id,username",
                    graph_node("account_id", &s.account_id)?
                ),
                &s.access_token,
            )),
            Settings::Whatsapp(s) => Ok(graph_get(
                graph_base,
                &format!(
                    "{}?fields=id,display_phone_number,verified_name",
                    graph_node("phone_number_id", &s.phone_number_id)?
                ),
                &s.access_token,
            )),
            Settings::Telegram(s) => Ok(telegram_call(telegram_base, &s.bot_token, "getMe", None)),
            Settings::Api(_) => Err(
                "the API channel has no platform account to test: your system calls Switchboard"
                    .into(),
            ),
            Settings::Widget(_) => Err("the website widget has no platform account to test".into()),
        }
    }

    /// Reads the answer to [`Settings::build_check`]: the account the
    /// platform names (`Ada's Shop (1000001)`, `@ada_bot`), or the
    /// platform's own error.
    pub fn read_check(&self, status: u16, body: &[u8]) -> Result<String, String> {
        match self {
            Settings::Telegram(_) => read_get_me(status, body),
            Settings::Messenger(s) => {
                let v = read_graph(status, body)?;
                let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                let name = v.get("name").and_then(Value::as_str).unwrap_or(id);
                if id != s.page_id {
                    return Err(format!(
                        "the token works, but for the page {name} ({id}), not for the page id {}",
                        s.page_id
                    ));
                }
                Ok(format!("{name} ({id})"))
            }
            Settings::Instagram(_) => {
                let v = read_graph(status, body)?;
                let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                Ok(match v.get("username").and_then(Value::as_str) {
                    Some(u) => format!("@{u} ({id})"),
                    None => id.to_string(),
                })
            }
            Settings::Whatsapp(_) => {
                let v = read_graph(status, body)?;
                let number = v
                    .get("display_phone_number")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Ok(match v.get("verified_name").and_then(Value::as_str) {
                    Some(n) => format!("{n} ({number})"),
                    None => number.to_string(),
                })
            }
            Settings::Api(_) | Settings::Widget(_) => {
                Err("this channel has no platform account to test".into())
            }
        }
    }
}

/// A Graph API answer's body on 2xx, else the platform's error text.
fn read_graph(status: u16, body: &[u8]) -> Result<Value, String> {
    let mut ok = None;
    let outcome = classify_graph_with(status, body, |v| {
        ok = Some(v.clone());
        Some("ok".into())
    });
    match (ok, outcome) {
        (Some(v), Some(SendOutcome::Sent { .. })) => Ok(v),
        (_, Some(SendOutcome::Failed { error })) => Err(error),
        (_, Some(SendOutcome::Retry { reason })) => Err(reason),
        _ => Err(format!("the platform answered {status}")),
    }
}

#[derive(Deserialize)]
struct BotAnswer {
    #[serde(default)]
    ok: bool,
    result: Option<Value>,
    description: Option<String>,
}

fn bot_answer(status: u16, body: &[u8]) -> Result<Option<Value>, String> {
    match serde_json::from_slice::<BotAnswer>(body) {
        Ok(a) if a.ok && (200..300).contains(&status) => Ok(a.result),
        Ok(BotAnswer {
            description: Some(d),
            ..
        }) if !d.is_empty() => Err(format!("Telegram answered {status}: {d}")),
        _ => Err(format!("Telegram answered {status}")),
    }
}

fn read_get_me(status: u16, body: &[u8]) -> Result<String, String> {
    let me = bot_answer(status, body)?.unwrap_or_default();
    Ok(match me.get("username").and_then(Value::as_str) {
        Some(u) => format!("@{u}"),
        None => me
            .get("first_name")
            .and_then(Value::as_str)
            .unwrap_or("the bot")
            .to_string(),
    })
}

/// `setWebhook`: Telegram POSTs this bot's updates to `webhook_url` with
/// the inbox's secret token in a header, and drops nothing it queued.
pub fn set_webhook(
    settings: &TelegramSettings,
    telegram_base: &str,
    webhook_url: &str,
) -> OutboundRequest {
    telegram_call(
        telegram_base,
        &settings.bot_token,
        "setWebhook",
        Some(serde_json::json!({
            "url": webhook_url,
            "secret_token": settings.secret_token,
            "allowed_updates": TELEGRAM_UPDATES,
        })),
    )
}

/// Reads `setWebhook`'s answer: `{"ok": true, "result": true}`, or
/// Telegram's reason (`Unauthorized`, `bad webhook: An HTTPS URL must be
/// provided for webhook`…).
pub fn read_set_webhook(status: u16, body: &[u8]) -> Result<(), String> {
    bot_answer(status, body).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::Channel;

    fn settings(channel: Channel, v: Value) -> Settings {
        Settings::from_json(channel, v).unwrap()
    }

    fn messenger() -> Settings {
        settings(
            Channel::Messenger,
            serde_json::json!({"page_id": "1000001", "app_secret": "s", "verify_token": "v", "page_access_token": "EAAG-token"}),
        )
    }

    #[test]
    fn messenger_check_asks_me_with_the_token_in_a_header() {
        let r = messenger()
            .build_check("https://graph.example/", "https://tg.example")
            .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.url, "https://graph.example/v23.0/me?fields=id,name");
        assert!(!r.url.contains("EAAG"), "the token stays out of the URL");
        assert_eq!(
            r.headers,
            vec![("authorization".to_string(), "Bearer EAAG-token".to_string())]
        );
    }

    #[test]
    fn messenger_check_reads_the_page_and_refuses_another_page() {
        let s = messenger();
        assert_eq!(
            s.read_check(200, br#"{"id":"1000001","name":"Ada's Shop"}"#),
            Ok("Ada's Shop (1000001)".into())
        );
        let other = s
            .read_check(200, br#"{"id":"2000002","name":"Other"}"#)
            .unwrap_err();
        assert!(other.contains("Other (2000002)"), "{other}");
        let refused = s
            .read_check(
                401,
                br#"{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190}}"#,
            )
            .unwrap_err();
        assert_eq!(
            refused,
            "the platform answered 401: Invalid OAuth access token - Cannot parse access token (code 190)"
        );
    }

    #[test]
    fn whatsapp_and_instagram_ask_for_their_own_node() {
        let wa = settings(
            Channel::Whatsapp,
            serde_json::json!({"phone_number_id": "555", "app_secret": "s", "verify_token": "v", "access_token": "t"}),
        );
        let r = wa.build_check("http://g", "http://t").unwrap();
        assert_eq!(
            r.url,
            "http://g/v23.0/555?fields=id,display_phone_number,verified_name"
        );
        assert_eq!(
            wa.read_check(
                200,
                br#"{"id":"555","display_phone_number":"+1 555 0100","verified_name":"Ada"}"#
            ),
            Ok("Ada (+1 555 0100)".into())
        );
        let ig = settings(
            Channel::Instagram,
            serde_json::json!({"account_id": "17841/../me", "app_secret": "s", "verify_token": "v", "access_token": "t"}),
        );
        let e = ig.build_check("http://g", "http://t").unwrap_err();
        assert!(e.contains("account_id"), "{e}");
    }

    #[test]
    fn telegram_get_me_and_its_refusal() {
        let tg = settings(
            Channel::Telegram,
            serde_json::json!({"bot_token": "123:abc", "secret_token": "sec_1"}),
        );
        let r = tg.build_check("http://g", "http://tg/").unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("GET", "http://tg/bot123:abc/getMe")
        );
        assert_eq!(
            tg.read_check(
                200,
                br#"{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Ada","username":"ada_bot"}}"#
            ),
            Ok("@ada_bot".into())
        );
        assert_eq!(
            tg.read_check(
                401,
                br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#
            ),
            Err("Telegram answered 401: Unauthorized".into())
        );
        assert_eq!(
            tg.read_check(502, b"<html>bad gateway</html>"),
            Err("Telegram answered 502".into())
        );
    }

    #[test]
    fn set_webhook_carries_the_url_and_the_secret_token() {
        let s = TelegramSettings::from_json(
            serde_json::json!({"bot_token": "123:abc", "secret_token": "sec_1"}),
        )
        .unwrap();
        let r = set_webhook(&s, "http://tg", "https://sb.example/webhooks/telegram/in_1");
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "http://tg/bot123:abc/setWebhook")
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["url"], "https://sb.example/webhooks/telegram/in_1");
        assert_eq!(body["secret_token"], "sec_1");
        assert_eq!(body["allowed_updates"][3], "message_reaction");
        assert_eq!(
            read_set_webhook(
                200,
                br#"{"ok":true,"result":true,"description":"Webhook was set"}"#
            ),
            Ok(())
        );
        assert_eq!(
            read_set_webhook(
                400,
                br#"{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: An HTTPS URL must be provided for webhook"}"#
            ),
            Err("Telegram answered 400: Bad Request: bad webhook: An HTTPS URL must be provided for webhook".into())
        );
    }

    #[test]
    fn channels_without_a_platform_say_so() {
        let api = settings(
            Channel::Api,
            serde_json::json!({"secret": "0123456789abcdef", "callback_url": "https://example.test/cb"}),
        );
        assert!(api.build_check("http://g", "http://t").is_err());
        let widget = settings(Channel::Widget, serde_json::json!({}));
        assert!(widget.build_check("http://g", "http://t").is_err());
    }
}
