//! How an inbound attachment is fetched from its platform, as plain data:
//! the worker performs each step (`GET`, no redirect followed blindly) and
//! hands the answers back here.
//!
//! - Messenger and Instagram give a CDN URL in the payload (it expires):
//!   one `GET`.
//! - WhatsApp gives a media id: `GET /{version}/{media-id}` with the token
//!   answers `{url, mime_type, file_size}`, then `GET url` with the token.
//! - Telegram gives a `file_id`: `getFile` answers `{file_path}`, then
//!   `GET /file/bot<token>/<file_path>`.

use crate::channels::{meta::GRAPH_VERSION, Settings};
use crate::model::Attachment;
use serde::Deserialize;

/// One `GET`. `bearer` is the platform's token where it wants one.
#[derive(Debug, Clone, PartialEq)]
pub struct Get {
    pub url: String,
    pub bearer: Option<String>,
}

/// The first call for an attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The bytes themselves.
    Download(Get),
    /// A lookup whose JSON answer ([`read_lookup`]) names the download.
    Lookup(Get),
}

/// Why a fetch did not work: `retry` for outages and rate limits (the
/// alarm tries again later), otherwise final; `reason` is for the agent
/// and never holds a token.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchError {
    pub reason: String,
    pub retry: bool,
}

impl FetchError {
    pub fn fatal(reason: impl Into<String>) -> Self {
        FetchError {
            reason: reason.into(),
            retry: false,
        }
    }

    /// From a platform's non-2xx status.
    pub fn status(status: u16, what: &str) -> Self {
        FetchError {
            reason: format!("{what} answered {status}"),
            retry: crate::outbound::is_transient(status),
        }
    }
}

/// What an answer to a lookup told us: the download, and the size the
/// platform announced (checked against the limit before downloading).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub get: Get,
    pub size: Option<u64>,
    pub mime_type: Option<String>,
}

/// The first step for `attachment` of an inbox with `settings`; `None` for
/// channels whose files are not at a platform (the widget, the API).
pub fn plan(
    settings: &Settings,
    graph_base: &str,
    telegram_base: &str,
    attachment: &Attachment,
) -> Option<Step> {
    let graph = graph_base.trim_end_matches('/');
    match settings {
        Settings::Messenger(_) | Settings::Instagram(_) => attachment.url.as_ref().map(|url| {
            Step::Download(Get {
                url: url.clone(),
                bearer: None,
            })
        }),
        Settings::Whatsapp(s) => attachment.media_id.as_ref().map(|id| {
            Step::Lookup(Get {
                url: format!("{graph}/{GRAPH_VERSION}/{}", encode(id)),
                bearer: Some(s.access_token.clone()),
            })
        }),
        Settings::Telegram(s) => attachment.media_id.as_ref().map(|id| {
            Step::Lookup(Get {
                url: format!(
                    "{}/bot{}/getFile?file_id={}",
                    telegram_base.trim_end_matches('/'),
                    s.bot_token,
                    encode(id)
                ),
                bearer: None,
            })
        }),
        Settings::Api(_) | Settings::Widget(_) => None,
    }
}

/// Reads a lookup's answer into the download it names.
pub fn read_lookup(
    settings: &Settings,
    telegram_base: &str,
    status: u16,
    body: &[u8],
) -> Result<Found, FetchError> {
    match settings {
        Settings::Whatsapp(s) => {
            if !(200..300).contains(&status) {
                return Err(FetchError::status(status, "WhatsApp's media lookup"));
            }
            #[derive(Deserialize)]
            struct Media {
                url: Option<String>,
                mime_type: Option<String>,
                file_size: Option<u64>,
            }
            let m: Media = serde_json::from_slice(body)
                .map_err(|_| FetchError::fatal("WhatsApp's media lookup was not JSON"))?;
            let url = m
                .url
                .filter(|u| !u.is_empty())
                .ok_or_else(|| FetchError::fatal("WhatsApp's media lookup gave no url"))?;
            Ok(Found {
                get: Get {
                    url,
                    bearer: Some(s.access_token.clone()),
                },
                size: m.file_size,
                mime_type: m.mime_type,
            })
        }
        Settings::Telegram(s) => {
            #[derive(Deserialize)]
            struct Answer {
                #[serde(default)]
                ok: bool,
                result: Option<TgFile>,
                description: Option<String>,
            }
            #[derive(Deserialize)]
            struct TgFile {
                file_path: Option<String>,
                file_size: Option<u64>,
            }
            let answer = serde_json::from_slice::<Answer>(body).ok();
            if !(200..300).contains(&status) {
                let mut e = FetchError::status(status, "Telegram's getFile");
                if let Some(d) = answer.and_then(|a| a.description) {
                    e.reason = format!("{}: {d}", e.reason);
                }
                return Err(e);
            }
            let file = answer
                .filter(|a| a.ok)
                .and_then(|a| a.result)
                .ok_or_else(|| FetchError::fatal("Telegram's getFile gave no file"))?;
            let path = file
                .file_path
                .filter(|p| !p.is_empty() && !p.contains(".."))
                .ok_or_else(|| {
                    FetchError::fatal("Telegram gives no file_path for files above 20 MB")
                })?;
            Ok(Found {
                get: Get {
                    url: format!(
                        "{}/file/bot{}/{path}",
                        telegram_base.trim_end_matches('/'),
                        s.bot_token
                    ),
                    bearer: None,
                },
                size: file.file_size,
                mime_type: None,
            })
        }
        _ => Err(FetchError::fatal("this channel has no media lookup")),
    }
}

/// The name of a stored file when the platform gave none: from the URL's
/// last segment, else the kind.
pub fn default_filename(attachment: &Attachment, kind: &str, content_type: &str) -> String {
    if let Some(f) = attachment.filename.as_deref().filter(|f| !f.is_empty()) {
        return super::safe_filename(f);
    }
    let ext = match content_type {
        "image/jpeg" => Some("jpg"),
        "image/png" => Some("png"),
        "image/gif" => Some("gif"),
        "image/webp" => Some("webp"),
        "audio/ogg" => Some("ogg"),
        "audio/mpeg" => Some("mp3"),
        "audio/mp4" | "audio/aac" | "audio/x-m4a" => Some("m4a"),
        "video/mp4" => Some("mp4"),
        "application/pdf" => Some("pdf"),
        _ => None,
    };
    match ext {
        Some(ext) => format!("{kind}.{ext}"),
        None => kind.to_string(),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::telegram::TelegramSettings;
    use crate::channels::whatsapp::WhatsappSettings;

    fn wa() -> Settings {
        Settings::Whatsapp(WhatsappSettings {
            phone_number_id: "1".into(),
            app_secret: "s".into(),
            verify_token: "v".into(),
            access_token: "TOKEN".into(),
        })
    }

    #[test]
    fn whatsapp_looks_the_media_up_with_the_token() {
        let a = Attachment {
            media_id: Some("123/../x".into()),
            ..Attachment::default()
        };
        let Some(Step::Lookup(get)) = plan(&wa(), "https://graph.facebook.com/", "", &a) else {
            panic!("no lookup")
        };
        assert_eq!(get.url, "https://graph.facebook.com/v23.0/123%2F..%2Fx");
        assert_eq!(get.bearer.as_deref(), Some("TOKEN"));
        let found = read_lookup(
            &wa(),
            "",
            200,
            br#"{"url":"https://lookaside.fbsbx.com/x?mid=1","mime_type":"image/jpeg","file_size":10}"#,
        )
        .unwrap();
        assert_eq!(found.get.bearer.as_deref(), Some("TOKEN"));
        assert_eq!(found.size, Some(10));
        assert!(read_lookup(&wa(), "", 503, b"").unwrap_err().retry);
        assert!(!read_lookup(&wa(), "", 404, b"").unwrap_err().retry);
    }

    #[test]
    fn telegram_gets_the_file_path() {
        let tg = Settings::Telegram(TelegramSettings {
            bot_token: "123:ABC".into(),
            secret_token: "s".into(),
        });
        let found = read_lookup(
            &tg,
            "https://api.telegram.org",
            200,
            br#"{"ok":true,"result":{"file_id":"f","file_path":"photos/file_1.jpg","file_size":5}}"#,
        )
        .unwrap();
        assert_eq!(
            found.get.url,
            "https://api.telegram.org/file/bot123:ABC/photos/file_1.jpg"
        );
        let err = read_lookup(
            &tg,
            "",
            400,
            br#"{"ok":false,"description":"Bad Request: file is too big"}"#,
        )
        .unwrap_err();
        assert!(err.reason.contains("file is too big") && !err.reason.contains("ABC"));
    }
}
