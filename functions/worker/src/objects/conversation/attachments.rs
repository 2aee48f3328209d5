//! Attachments in the conversation: inbound media copied from the
//! platform into R2 from the alarm (after the webhook's answer, never
//! before), agents' and visitors' uploads recorded, and replies that carry
//! a stored file sent through the platform.
//!
//! The `attachments` table holds one row per file: its state (`pending`
//! while being copied, `stored`, `failed`, `too_large`), the platform's
//! original reference (`source`, for retries), what the bytes are, and a
//! WhatsApp upload's media id (so a retried send does not upload again).
//! The message's content carries the same facts for clients; each change
//! is pushed as `message_updated`.

use super::*;
use crate::media::{self, Fetched};
use crate::r2;
use switchboard_core::attachments::{
    self as att,
    fetch::{self, FetchError, Step},
    send::{self as media_send, MediaFile, MediaSend},
    AttachmentState,
};
use switchboard_core::model::Attachment;

/// Tries of a download the platform keeps failing transiently.
const FETCH_ATTEMPTS: i64 = 5;
/// Downloads per alarm; the rest on the next.
const PER_ALARM: i64 = 4;
/// One download (or lookup) may take this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);
/// A download in flight holds its row this long (a crash retries after).
const FETCH_LEASE_MS: i64 = 60_000;

/// Channels whose files live at a platform and are copied in.
const FETCHED_CHANNELS: [&str; 4] = ["messenger", "instagram", "whatsapp", "telegram"];

#[derive(Deserialize)]
struct DueRow {
    id: String,
    message_id: Option<String>,
    source: Option<String>,
    attempts: i64,
}

#[derive(Deserialize)]
pub(super) struct StoredRow {
    id: String,
    content_type: String,
    size: i64,
    sha256: String,
    filename: String,
    platform_media: Option<String>,
}

enum Copied {
    Stored {
        content_type: String,
        size: u64,
        sha256: String,
        filename: String,
    },
    TooLarge,
}

/// 2 s, 8 s, 32 s, 128 s.
fn backoff_ms(attempts: i64) -> i64 {
    2_000 * 4i64.pow((attempts - 1).clamp(0, 4) as u32)
}

impl ConversationObject {
    /// Before an inbound message is stored: a file at a platform gets an id
    /// and `state: pending` (returned: its id and the platform's reference,
    /// queued by [`Self::queue_fetch`] once the message is stored). A
    /// visitor's message names an upload of this conversation, filled in
    /// from its record. Fields of ours sent by anyone else are dropped.
    pub(super) fn prepare_inbound(
        &self,
        channel: &str,
        conversation_id: &str,
        content: &mut Content,
    ) -> std::result::Result<Option<(String, Attachment)>, ApiError> {
        let widget = channel == "widget";
        let Some(a) = content.attachment_mut() else {
            return Ok(None);
        };
        if widget {
            if let Some(id) = a.id.clone() {
                let caption = content.text();
                *content = self.stored_content(&id, (!caption.is_empty()).then_some(caption))?;
            }
            return Ok(None);
        }
        // Only Switchboard sets these; a payload's own are not trusted.
        a.id = None;
        a.state = None;
        a.size = None;
        a.sha256 = None;
        a.error = None;
        if !FETCHED_CHANNELS.contains(&channel) || (a.url.is_none() && a.media_id.is_none()) {
            return Ok(None);
        }
        let random = crate::runtime::random_bytes::<16>()?;
        let Some(id) = att::new_id(conversation_id, &random) else {
            return Ok(None);
        };
        let source = a.clone();
        a.id = Some(id.clone());
        a.state = Some(AttachmentState::Pending);
        Ok(Some((id, source)))
    }

    /// Queues the copy of a stored message's file (due now).
    pub(super) fn queue_fetch(
        &self,
        id: &str,
        message_id: &str,
        source: &Attachment,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        let source = serde_json::to_string(source)
            .map_err(|e| ApiError::internal("serializing an attachment", e))?;
        self.sql
            .exec(
                "INSERT INTO attachments (id, message_id, state, source, due, created_at) \
                 VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING",
                vec![
                    text(id),
                    text(message_id),
                    text(&source),
                    int(now),
                    int(now),
                ],
            )
            .map_err(sql_err("queueing an attachment"))?;
        Ok(())
    }

    fn stored_row(&self, id: &str) -> std::result::Result<Option<StoredRow>, ApiError> {
        Ok(self
            .sql
            .exec(
                "SELECT id, content_type, size, sha256, filename, platform_media FROM attachments \
                 WHERE id = ? AND state = 'stored'",
                vec![text(id)],
            )
            .and_then(|c| c.to_array::<StoredRow>())
            .map_err(sql_err("reading an attachment"))?
            .into_iter()
            .next())
    }

    /// The content of a message that carries the stored upload `id`: its
    /// kind from the stored type. 422 when this conversation has no such
    /// upload.
    pub(super) fn stored_content(
        &self,
        id: &str,
        caption: Option<String>,
    ) -> std::result::Result<Content, ApiError> {
        let row = self.stored_row(id)?.ok_or_else(|| {
            ApiError::new(
                422,
                "attachment_id names no uploaded file of this conversation",
            )
        })?;
        let attachment = Attachment {
            url: Some(att::api_path(&row.id)),
            mime_type: Some(row.content_type.clone()),
            filename: Some(row.filename),
            id: Some(row.id),
            state: Some(AttachmentState::Stored),
            size: Some(row.size.max(0) as u64),
            sha256: Some(row.sha256),
            ..Attachment::default()
        };
        Ok(Content::with_attachment(
            att::kind_for(&row.content_type),
            attachment,
            caption,
        ))
    }

    /// Links an upload to the message that carries it.
    pub(super) fn link_upload(&self, content: &Content, message_id: &str) {
        if let Some(id) = content.attachment().and_then(|a| a.id.as_deref()) {
            let _ = self.sql.exec(
                "UPDATE attachments SET message_id = ? WHERE id = ? AND message_id IS NULL",
                vec![text(message_id), text(id)],
            );
        }
    }

    /// `POST /attachments {id, content_type, size, sha256, filename}`: an
    /// upload the worker has put in R2 for this conversation. 404 when the
    /// conversation does not exist (the worker then deletes the object).
    pub(super) async fn record_upload(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        #[derive(Deserialize)]
        struct In {
            id: String,
            content_type: String,
            size: i64,
            sha256: String,
            filename: String,
        }
        let input: In = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("attachment body: {e}")))?;
        if att::conversation_of(&input.id).as_deref() != Some(conv.id.as_str()) {
            return Err(ApiError::bad_request(
                "attachment id of another conversation",
            ));
        }
        self.sql
            .exec(
                "INSERT INTO attachments (id, state, content_type, size, sha256, filename, created_at) \
                 VALUES (?, 'stored', ?, ?, ?, ?, ?)",
                vec![
                    text(&input.id),
                    text(&input.content_type),
                    int(input.size),
                    text(&input.sha256),
                    text(&input.filename),
                    int(now_ms()),
                ],
            )
            .map_err(sql_err("recording an upload"))?;
        json(201, &serde_json::json!({"id": input.id})).map_err(ApiError::from)
    }

    /// The alarm's part: copy the files whose time has come. Cheap when
    /// nothing is due (one indexed read).
    pub(super) async fn fetch_attachments(&self, now: i64) {
        let due = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(due), 0) AS n FROM attachments WHERE due IS NOT NULL",
            vec![],
            0,
        )
        .unwrap_or(0);
        if due == 0 {
            return;
        }
        if due > now {
            self.schedule_alarm(Some(due)).await;
            return;
        }
        let Ok(Some(conv)) = self.conversation() else {
            return;
        };
        let rows = self
            .sql
            .exec(
                "SELECT id, message_id, source, attempts FROM attachments \
                 WHERE due IS NOT NULL AND due <= ? ORDER BY created_at LIMIT ?",
                vec![int(now), int(PER_ALARM)],
            )
            .and_then(|c| c.to_array::<DueRow>())
            .unwrap_or_default();
        let inbox = self.inbox(&conv).await;
        let max = self.max_attachment_bytes(&conv).await;
        for row in rows {
            let _ = self.sql.exec(
                "UPDATE attachments SET due = ? WHERE id = ?",
                vec![int(now + FETCH_LEASE_MS), text(&row.id)],
            );
            let result = match &inbox {
                Ok(inbox) => self.copy_in(&conv, inbox, &row, max).await,
                Err(e) => Err(FetchError::fatal(e.reason.clone())),
            };
            // Erased while it downloaded: nothing to record.
            if !matches!(self.conversation(), Ok(Some(_))) {
                return;
            }
            if let Err(e) = self.record_copy(&conv, &row, result, max) {
                worker::console_error!(
                    "conversation object: recording an attachment's copy failed: {}",
                    e.reason
                );
            }
        }
        let next = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(due), 0) AS n FROM attachments WHERE due IS NOT NULL",
            vec![],
            0,
        )
        .unwrap_or(0);
        if next > 0 {
            self.schedule_alarm(Some(next)).await;
        }
    }

    /// The workspace's size limit (`settings.attachment_max_mb`), else 25 MB.
    pub(super) async fn max_attachment_bytes(&self, conv: &ConversationRow) -> u64 {
        let settings = match db::database(&self.env) {
            Ok(database) => crate::accounts_db::workspace(&database, &conv.workspace_id)
                .await
                .ok()
                .flatten()
                .and_then(|w| serde_json::from_str(&w.settings).ok()),
            Err(_) => None,
        };
        settings
            .map(|s| att::max_bytes(&s))
            .unwrap_or(att::DEFAULT_MAX_BYTES)
    }

    /// Downloads one file from its platform into R2.
    async fn copy_in(
        &self,
        conv: &ConversationRow,
        inbox: &db::Inbox,
        row: &DueRow,
        max: u64,
    ) -> std::result::Result<Copied, FetchError> {
        let source: Attachment = row
            .source
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| FetchError::fatal("the platform's reference is unreadable"))?;
        let config = Config::from_env(&self.env);
        // The configured API bases are trusted even on private addresses:
        // tests point them at fakes on 127.0.0.1; in production they are
        // graph.facebook.com and api.telegram.org.
        let trusted = vec![
            att::host_of(&config.graph_base),
            att::host_of(&config.telegram_base),
        ];
        let step = fetch::plan(
            &inbox.settings,
            &config.graph_base,
            &config.telegram_base,
            &source,
        )
        .ok_or_else(|| FetchError::fatal("this channel's files cannot be fetched"))?;
        let (get, announced, lookup_type) = match step {
            Step::Download(get) => (get, None, None),
            Step::Lookup(get) => {
                let (status, body) = media::lookup(&get, &trusted, FETCH_TIMEOUT).await?;
                let found =
                    fetch::read_lookup(&inbox.settings, &config.telegram_base, status, &body)?;
                (found.get, found.size, found.mime_type)
            }
        };
        if announced.is_some_and(|n| n > max) {
            return Ok(Copied::TooLarge);
        }
        let (bytes, header_type) = match media::download(&get, &trusted, max, FETCH_TIMEOUT).await?
        {
            Fetched::TooLarge => return Ok(Copied::TooLarge),
            Fetched::Bytes {
                bytes,
                content_type,
            } => (bytes, content_type),
        };
        let claimed = source.mime_type.clone().or(lookup_type).or(header_type);
        let content_type = att::sniff(&bytes, claimed.as_deref());
        let kind = att::kind_for(&content_type);
        let filename = fetch::default_filename(&source, kind, &content_type);
        let sha256 = att::sha256_hex(&bytes);
        let size = bytes.len() as u64;
        // Erased while it downloaded: store nothing.
        if !matches!(self.conversation(), Ok(Some(_))) {
            return Err(FetchError::fatal("the conversation was erased"));
        }
        r2::put(
            &self.env,
            &att::object_key(&conv.workspace_id, &conv.id, &row.id),
            bytes,
            &r2::Stored {
                content_type: &content_type,
                filename: &filename,
                sha256: &sha256,
            },
        )
        .await
        .map_err(|e| FetchError {
            reason: e.reason,
            retry: true,
        })?;
        Ok(Copied::Stored {
            content_type,
            size,
            sha256,
            filename,
        })
    }

    /// Records how a copy went on its row and its message, and pushes
    /// `message_updated` when the message changed.
    fn record_copy(
        &self,
        conv: &ConversationRow,
        row: &DueRow,
        result: std::result::Result<Copied, FetchError>,
        max: u64,
    ) -> std::result::Result<(), ApiError> {
        let now = now_ms();
        let attempts = row.attempts + 1;
        let (state, error) = match &result {
            Ok(Copied::Stored {
                content_type,
                size,
                sha256,
                filename,
            }) => {
                self.sql
                    .exec(
                        "UPDATE attachments SET state = 'stored', content_type = ?, size = ?, \
                         sha256 = ?, filename = ?, due = NULL, error = NULL, attempts = ? WHERE id = ?",
                        vec![
                            text(content_type),
                            int(*size as i64),
                            text(sha256),
                            text(filename),
                            int(attempts),
                            text(&row.id),
                        ],
                    )
                    .map_err(sql_err("recording a stored attachment"))?;
                (AttachmentState::Stored, None)
            }
            Ok(Copied::TooLarge) => (
                AttachmentState::TooLarge,
                Some(format!(
                    "larger than this workspace's limit of {}: kept as the platform's link",
                    att::mb(max)
                )),
            ),
            Err(e) if e.retry && attempts < FETCH_ATTEMPTS => {
                self.sql
                    .exec(
                        "UPDATE attachments SET attempts = ?, due = ?, error = ? WHERE id = ?",
                        vec![
                            int(attempts),
                            int(now + backoff_ms(attempts)),
                            text(&e.reason),
                            text(&row.id),
                        ],
                    )
                    .map_err(sql_err("rescheduling an attachment"))?;
                return Ok(());
            }
            Err(e) => (
                AttachmentState::Failed,
                Some(if e.retry {
                    format!("gave up after {attempts} attempts: {}", e.reason)
                } else {
                    e.reason.clone()
                }),
            ),
        };
        if state != AttachmentState::Stored {
            let name = if state == AttachmentState::TooLarge {
                "too_large"
            } else {
                "failed"
            };
            self.sql
                .exec(
                    "UPDATE attachments SET state = ?, due = NULL, error = ?, attempts = ? WHERE id = ?",
                    vec![text(name), opt_text(error.as_deref()), int(attempts), text(&row.id)],
                )
                .map_err(sql_err("recording a failed attachment"))?;
        }
        let Some(message_id) = row.message_id.as_deref() else {
            return Ok(());
        };
        let Some(stored) = self.message(message_id)? else {
            return Ok(());
        };
        let Some(mut message) = stored.into_message(&conv.id) else {
            return Ok(());
        };
        let caption = message.content.text();
        let kind = message.content.kind();
        let Some(a) = message.content.attachment_mut() else {
            return Ok(());
        };
        a.state = Some(state);
        a.error = error;
        if let Ok(Copied::Stored {
            content_type,
            size,
            sha256,
            filename,
        }) = result
        {
            a.url = Some(att::api_path(&row.id));
            a.media_id = None;
            a.mime_type = Some(content_type.clone());
            a.size = Some(size);
            a.sha256 = Some(sha256);
            a.filename = Some(filename);
            // The bytes decide the kind: an "image" that is a PDF is a file.
            let real = att::kind_for(&content_type);
            if kind != "sticker" && kind != real {
                let attachment = a.clone();
                message.content = Content::with_attachment(
                    real,
                    attachment,
                    (!caption.is_empty()).then_some(caption),
                );
                message.kind = real.to_string();
            }
        }
        let content = serde_json::to_string(&message.content)
            .map_err(|e| ApiError::internal("serializing content", e))?;
        self.sql
            .exec(
                "UPDATE messages SET content = ?, kind = ? WHERE id = ?",
                vec![text(&content), text(&message.kind), text(message_id)],
            )
            .map_err(sql_err("updating a message's attachment"))?;
        self.append(now, EventBody::MessageUpdated { message })?;
        Ok(())
    }

    /// Sends a reply that carries a stored file: its bytes from R2, then
    /// the platform's calls (WhatsApp: upload once, then the message).
    pub(super) async fn send_media(
        &self,
        conv: &ConversationRow,
        inbox: &db::Inbox,
        ctx: &SendContext<'_>,
        content: &Content,
        attachment_id: &str,
    ) -> SendOutcome {
        let Ok(Some(row)) = self.stored_row(attachment_id) else {
            return SendOutcome::Failed {
                error: "the attached file is not stored".into(),
            };
        };
        let key = att::object_key(&conv.workspace_id, &conv.id, &row.id);
        let bytes = match r2::bytes(&self.env, &key).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                return SendOutcome::Failed {
                    error: "the attached file is no longer stored".into(),
                }
            }
            Err(e) => return SendOutcome::Retry { reason: e.reason },
        };
        let config = Config::from_env(&self.env);
        let link = config.public_url.as_ref().map(|base| {
            format!(
                "{base}{}",
                att::signed_link(
                    &config.session_secret,
                    &conv.workspace_id,
                    &row.id,
                    crate::runtime::now_secs()
                )
            )
        });
        let file = MediaFile {
            bytes: &bytes,
            content_type: &row.content_type,
            filename: &row.filename,
            link: link.as_deref(),
        };
        let contact = conv.contact();
        let mut uploaded = row.platform_media.clone();
        loop {
            let built = media_send::build(
                &inbox.settings,
                ctx,
                &contact,
                content,
                &file,
                uploaded.as_deref(),
            );
            match built {
                Err(error) => return SendOutcome::Failed { error },
                Ok(MediaSend::Send(request)) => {
                    let outcome = match platform::send(&request, SEND_TIMEOUT).await {
                        Ok((status, body)) => {
                            inbox.settings.classify_request(&request, status, &body)
                        }
                        Err(reason) => SendOutcome::Retry { reason },
                    };
                    if matches!(outcome, SendOutcome::Sent { .. }) {
                        self.send_caption(inbox, ctx, &contact, content).await;
                    }
                    return outcome;
                }
                Ok(MediaSend::Upload(request)) => {
                    if uploaded.is_some() {
                        return SendOutcome::Failed {
                            error: "the platform asked for a second upload".into(),
                        };
                    }
                    let answer = match platform::send(&request, SEND_TIMEOUT).await {
                        Ok(a) => a,
                        Err(reason) => return SendOutcome::Retry { reason },
                    };
                    match media_send::read_upload(answer.0, &answer.1) {
                        Ok(id) => {
                            let _ = self.sql.exec(
                                "UPDATE attachments SET platform_media = ? WHERE id = ?",
                                vec![text(&id), text(&row.id)],
                            );
                            uploaded = Some(id);
                        }
                        Err(outcome) => return outcome,
                    }
                }
            }
        }
    }

    /// Messenger and Instagram files carry no caption: it follows as a
    /// text. Best effort, once: the file is already delivered, and a retry
    /// of the whole would send the file twice.
    async fn send_caption(
        &self,
        inbox: &db::Inbox,
        ctx: &SendContext<'_>,
        contact: &Contact,
        content: &Content,
    ) {
        let Some(text) = media_send::caption_follow_up(&inbox.settings, content) else {
            return;
        };
        let sent = match inbox.settings.build_send(ctx, contact, &text, None) {
            Ok(request) => match platform::send(&request, SEND_TIMEOUT).await {
                Ok((status, body)) => inbox.settings.classify_request(&request, status, &body),
                Err(reason) => SendOutcome::Retry { reason },
            },
            Err(error) => SendOutcome::Failed { error },
        };
        if !matches!(sent, SendOutcome::Sent { .. }) {
            worker::console_error!(
                "conversation object: a file's caption was not delivered: {sent:?}"
            );
        }
    }

    /// Checks up front that the channel can send this file (a closed
    /// WhatsApp window, a channel without files): nothing is stored if not.
    pub(super) fn check_media_send(
        &self,
        inbox: &db::Inbox,
        ctx: &SendContext<'_>,
        conv: &ConversationRow,
        content: &Content,
    ) -> std::result::Result<(), String> {
        let a = content.attachment();
        let file = MediaFile {
            bytes: &[],
            content_type: a
                .and_then(|a| a.mime_type.as_deref())
                .unwrap_or("application/octet-stream"),
            filename: a
                .and_then(|a| a.filename.as_deref())
                .unwrap_or("attachment"),
            link: Config::from_env(&self.env).public_url.map(|_| "a link"),
        };
        media_send::build(
            &inbox.settings,
            ctx,
            &conv.contact(),
            content,
            &file,
            Some("check"),
        )
        .map(|_| ())
    }
}

/// The stored upload a reply carries, if it carries one.
pub(super) fn stored_attachment_id(content: &Content) -> Option<&str> {
    content
        .attachment()
        .filter(|a| a.state == Some(AttachmentState::Stored))
        .and_then(|a| a.id.as_deref())
}
