//! Sending an agent's file through a platform, as plain requests: the
//! worker reads the bytes from R2 and performs what is built here.
//!
//! - Messenger: one multipart `POST /me/messages` with the attachment's
//!   type and the file as `filedata` (an upload, so no public URL of ours
//!   is needed).
//! - Instagram takes files by URL only: the message names a signed,
//!   short-lived link to our copy (`attachments::signed_link`).
//! - WhatsApp: `POST /{phone_number_id}/media` (multipart) answers a media
//!   id, then the message names that id. The id is kept, so a retry sends
//!   the message without uploading again.
//! - Telegram: `sendPhoto`, `sendVoice` (OGG), `sendAudio`, `sendVideo` or
//!   `sendDocument`, multipart with the caption.

use super::multipart::Form;
use crate::channels::meta::GRAPH_VERSION;
use crate::channels::{whatsapp, SendContext, Settings};
use crate::model::{Contact, Content};
use crate::outbound::{OutboundRequest, SendOutcome};

/// The stored file a reply carries.
#[derive(Debug, Clone, Copy)]
pub struct MediaFile<'a> {
    pub bytes: &'a [u8],
    pub content_type: &'a str,
    pub filename: &'a str,
    /// A signed public link to the stored file (Instagram takes files by
    /// URL only); `None` where the server has no `PUBLIC_URL`.
    pub link: Option<&'a str>,
}

/// What to do next for a reply with a file.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaSend {
    /// The request that sends the message.
    Send(OutboundRequest),
    /// Upload first ([`read_upload`] reads the platform's media id), then
    /// build again with that id.
    Upload(OutboundRequest),
}

/// The platform call for a reply whose content carries `file`; `uploaded`
/// is the platform's media id from an earlier upload (WhatsApp).
pub fn build(
    settings: &Settings,
    ctx: &SendContext<'_>,
    contact: &Contact,
    content: &Content,
    file: &MediaFile<'_>,
    uploaded: Option<&str>,
) -> Result<MediaSend, String> {
    let kind = content.kind();
    let caption = content.text();
    let caption = caption.trim();
    let graph = ctx.graph_base.trim_end_matches('/');
    match settings {
        Settings::Instagram(s) => {
            let kind = match kind {
                "image" | "audio" | "video" => kind,
                _ => "file",
            };
            let url = file.link.ok_or(
                "Instagram takes files by URL only: set PUBLIC_URL (docs/DEPLOY.md) to send them",
            )?;
            let body = serde_json::json!({
                "recipient": { "id": contact.external_id },
                "messaging_type": "RESPONSE",
                "message": {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": false}}},
            });
            Ok(MediaSend::Send(OutboundRequest {
                method: "POST",
                url: format!("{graph}/{GRAPH_VERSION}/me/messages"),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("authorization".into(), format!("Bearer {}", s.access_token)),
                ],
                body: serde_json::to_vec(&body).unwrap_or_default(),
            }))
        }
        Settings::Messenger(s) => {
            let token = &s.page_access_token;
            let kind = match kind {
                "image" | "audio" | "video" => kind,
                _ => "file",
            };
            let (ct, body) = Form::default()
                .text(
                    "recipient",
                    serde_json::json!({ "id": contact.external_id }).to_string(),
                )
                .text("messaging_type", "RESPONSE")
                .text(
                    "message",
                    serde_json::json!({"attachment": {"type": kind, "payload": {"is_reusable": false}}})
                        .to_string(),
                )
                .file("filedata", file.filename, file.content_type, file.bytes)
                .finish();
            Ok(MediaSend::Send(OutboundRequest {
                method: "POST",
                url: format!("{graph}/{GRAPH_VERSION}/me/messages"),
                headers: vec![
                    ("content-type".into(), ct),
                    ("authorization".into(), format!("Bearer {token}")),
                ],
                body,
            }))
        }
        Settings::Whatsapp(s) => {
            if !whatsapp::window_open(ctx) {
                return Err(whatsapp::WINDOW_CLOSED.into());
            }
            let auth = (
                "authorization".to_string(),
                format!("Bearer {}", s.access_token),
            );
            let Some(media_id) = uploaded else {
                let (ct, body) = Form::default()
                    .text("messaging_product", "whatsapp")
                    .text("type", file.content_type)
                    .file("file", file.filename, file.content_type, file.bytes)
                    .finish();
                return Ok(MediaSend::Upload(OutboundRequest {
                    method: "POST",
                    url: format!("{graph}/{GRAPH_VERSION}/{}/media", s.phone_number_id),
                    headers: vec![("content-type".into(), ct), auth],
                    body,
                }));
            };
            let wa_type = match kind {
                "image" | "audio" | "video" | "sticker" => kind,
                _ => "document",
            };
            let mut media = serde_json::json!({ "id": media_id });
            if let Some(obj) = media.as_object_mut() {
                if !caption.is_empty() && wa_type != "audio" && wa_type != "sticker" {
                    obj.insert("caption".into(), caption.into());
                }
                if wa_type == "document" {
                    obj.insert(
                        "filename".into(),
                        super::safe_filename(file.filename).into(),
                    );
                }
            }
            let mut body = serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": contact.external_id,
                "type": wa_type,
            });
            if let Some(obj) = body.as_object_mut() {
                obj.insert(wa_type.into(), media);
            }
            Ok(MediaSend::Send(OutboundRequest {
                method: "POST",
                url: format!("{graph}/{GRAPH_VERSION}/{}/messages", s.phone_number_id),
                headers: vec![("content-type".into(), "application/json".into()), auth],
                body: serde_json::to_vec(&body).unwrap_or_default(),
            }))
        }
        Settings::Telegram(s) => {
            let (method, field) = match kind {
                "image" => ("sendPhoto", "photo"),
                "audio" if file.content_type == "audio/ogg" => ("sendVoice", "voice"),
                "audio" => ("sendAudio", "audio"),
                "video" => ("sendVideo", "video"),
                _ => ("sendDocument", "document"),
            };
            let mut form = Form::default().text("chat_id", contact.external_id.clone());
            if !caption.is_empty() {
                form = form.text("caption", caption.to_string());
            }
            let (ct, body) = form
                .file(field, file.filename, file.content_type, file.bytes)
                .finish();
            Ok(MediaSend::Send(OutboundRequest {
                method: "POST",
                url: format!(
                    "{}/bot{}/{method}",
                    ctx.telegram_base.trim_end_matches('/'),
                    s.bot_token
                ),
                headers: vec![("content-type".into(), ct)],
                body,
            }))
        }
        Settings::Api(_) => Err("the API channel cannot send files yet".into()),
        Settings::Widget(_) => Err("widget replies are delivered live, not sent".into()),
    }
}

/// The caption as a text message of its own, for channels whose file
/// messages carry none (Messenger and Instagram); sent after the file.
pub fn caption_follow_up(settings: &Settings, content: &Content) -> Option<Content> {
    let caption = content.text();
    let caption = caption.trim();
    (matches!(settings, Settings::Messenger(_) | Settings::Instagram(_)) && !caption.is_empty())
        .then(|| Content::Text {
            text: caption.to_string(),
        })
}

/// Reads WhatsApp's answer to a media upload: `{"id": "…"}`.
pub fn read_upload(status: u16, body: &[u8]) -> Result<String, SendOutcome> {
    match crate::outbound::classify_graph(status, body, "id") {
        SendOutcome::Sent { platform_id } => Ok(platform_id),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::telegram::TelegramSettings;
    use crate::model::Attachment;

    fn ctx() -> SendContext<'static> {
        SendContext {
            graph_base: "https://graph.facebook.com",
            telegram_base: "https://api.telegram.org",
            now_ms: 1_000,
            last_inbound_ms: Some(900),
            message_key: None,
        }
    }

    #[test]
    fn telegram_sends_a_pdf_as_a_document_with_its_caption() {
        let tg = Settings::Telegram(TelegramSettings {
            bot_token: "1:T".into(),
            secret_token: "s".into(),
        });
        let content = Content::File {
            attachment: Attachment::default(),
            caption: Some("Your invoice".into()),
        };
        let file = MediaFile {
            bytes: b"%PDF-1.4",
            content_type: "application/pdf",
            filename: "invoice.pdf",
            link: None,
        };
        let Ok(MediaSend::Send(r)) = build(&tg, &ctx(), &Contact::new("42"), &content, &file, None)
        else {
            panic!("no request")
        };
        assert!(r.url.ends_with("/bot1:T/sendDocument"));
        let text = String::from_utf8_lossy(&r.body);
        assert!(text.contains("name=\"caption\"\r\n\r\nYour invoice"));
        assert!(text.contains("name=\"document\"; filename=\"invoice.pdf\""));
    }

    #[test]
    fn whatsapp_uploads_then_sends_by_id() {
        let wa = Settings::Whatsapp(whatsapp::WhatsappSettings {
            phone_number_id: "555".into(),
            app_secret: "s".into(),
            verify_token: "v".into(),
            access_token: "T".into(),
        });
        let content = Content::Image {
            attachment: Attachment::default(),
            caption: Some("look".into()),
        };
        let file = MediaFile {
            bytes: b"\x89PNG",
            content_type: "image/png",
            filename: "a.png",
            link: None,
        };
        let c = Contact::new("4915");
        let Ok(MediaSend::Upload(up)) = build(&wa, &ctx(), &c, &content, &file, None) else {
            panic!("no upload")
        };
        assert!(up.url.ends_with("/555/media"));
        assert_eq!(read_upload(200, br#"{"id":"m1"}"#), Ok("m1".into()));
        let Ok(MediaSend::Send(send)) = build(&wa, &ctx(), &c, &content, &file, Some("m1")) else {
            panic!("no send")
        };
        let body: serde_json::Value = serde_json::from_slice(&send.body).unwrap();
        assert_eq!(body["type"], "image");
        assert_eq!(body["image"]["id"], "m1");
        assert_eq!(body["image"]["caption"], "look");
    }
}
