//! `ConversationObject`: one Durable Object per (inbox, contact) thread.
//!
//! It owns the thread's SQLite: the event log with a gapless `seq`, the
//! messages, the outbox and read positions. It holds the agents' hibernating
//! WebSockets and waiting long-polls, and it alone assigns `seq`, so the
//! order it stores is the order everyone sees.
//!
//! Internal routes (called only by the worker):
//! - `POST /ingest` — a webhook's events for this thread; answers after they
//!   are stored. Platform ids are unique, so a redelivery stores nothing.
//! - `GET /messages?before&limit` — history, oldest first.
//! - `POST /messages` — an agent writes: a note is stored; a reply is stored
//!   `pending`, then sent through the outbox.
//! - `GET /events?since&wait` — every event after `since`, or the next ones
//!   within `wait` seconds.
//! - `GET /live?since` — WebSocket: every event after `since`, then live.
//! - `PATCH /conversation` — status (snoozed until a time), assignee,
//!   labels; each change is an event.
//! - `PATCH /contact` — an agent edits the contact; the fields they set are
//!   no longer overwritten by the platform.
//! - `GET /export` — the transcript (`Transcript` JSON).
//! - `POST /erase` — deletes all of its storage and closes its sockets,
//!   then has the workspace forget the conversation and records the audit
//!   entry; both are retried by the alarm until done.
//!
//! The alarm drives the outbox's retries, reopens a snoozed conversation
//! when its time comes, finishes an erasure, and keeps the workspace index
//! current (a failed notification is retried, never lost).

use super::internal::{
    ContactPatch, ConversationPatch, EraseRequest, IndexUpdate, IngestRequest, IngestResult,
    RoundRobinAnswer, SendRequest, WorkspaceErase,
};
use super::sockets::{self, SocketIdentity, Waiters};
use super::sql::{int, opt_text, scalar, sql_err, text, Body};
use super::{HEADER_AGENT, HEADER_VISITOR, HEADER_WORKSPACE};
use crate::config::Config;
use crate::db;
use crate::http::{error_response, json, ApiError};
use crate::platform;
use crate::runtime::now_ms;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use switchboard_core::channels::SendContext;
use switchboard_core::inbound::{InboundEvent, InboundMessage, Receipt, ReceiptTarget};
use switchboard_core::model::{Contact, Content, Direction, Message, MessageStatus};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::transcript::{Transcript, TranscriptHeader};
use switchboard_core::wire::{
    ConversationSummary, Event, EventBody, LastMessage, SearchDoc, MAX_EVENTS_PER_PAGE,
    MAX_WAIT_SECS,
};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorage,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversation (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  id TEXT NOT NULL, workspace_id TEXT NOT NULL, inbox_id TEXT NOT NULL, channel TEXT NOT NULL,
  contact TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', assignee TEXT,
  labels TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_inbound_at INTEGER,
  indexed_seq INTEGER NOT NULL DEFAULT 0, snoozed_until INTEGER
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL,
  private INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, direction TEXT NOT NULL, kind TEXT NOT NULL,
  text TEXT NOT NULL, content TEXT NOT NULL, platform_id TEXT UNIQUE, status TEXT NOT NULL,
  error TEXT, reply_to TEXT, sender_id TEXT, created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER
);
CREATE INDEX IF NOT EXISTS messages_by_seq ON messages(seq);
CREATE INDEX IF NOT EXISTS outbox ON messages(next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS reads (reader TEXT PRIMARY KEY, read_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contact_edits (field TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS erasure (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  conversation_id TEXT NOT NULL, workspace_id TEXT NOT NULL, actor_id TEXT NOT NULL,
  audit_id TEXT NOT NULL, at INTEGER NOT NULL,
  index_done INTEGER NOT NULL DEFAULT 0, audit_done INTEGER NOT NULL DEFAULT 0
);
";

/// Columns added after the first release, for objects created before them.
const ADDED_COLUMNS: [(&str, &str, &str); 2] = [
    ("conversation", "snoozed_until", "INTEGER"),
    // 1 for events only agents may see (EventBody::is_private).
    ("events", "private", "INTEGER NOT NULL DEFAULT 0"),
];

/// Socket roles, also their tags.
const ROLE_AGENT: &str = "agent";
const ROLE_VISITOR: &str = "visitor";

/// Who reads the event log.
enum Reader {
    /// An agent (their id; empty for internal callers).
    Agent(String),
    /// The conversation's own visitor: public events only.
    Visitor,
}

const STATUSES: [&str; 4] = ["open", "pending", "resolved", "snoozed"];

/// How long one send may take before it counts as a timeout (and is retried).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A send in flight holds its message for this long; if the object dies
/// mid-send, the alarm retries after it.
const SEND_LEASE_MS: i64 = 30_000;
/// Attempts before a reply the platform keeps refusing transiently fails.
const MAX_ATTEMPTS: i64 = 8;
/// The index hears of a change this soon after it when the conversation
/// was quiet, and at most once per `INDEX_EVERY_MS` while it is busy: a
/// burst shares one notification (one call to the workspace object instead
/// of one per message), measured to be ~40% of the CPU per message.
const INDEX_DELAY_MS: i64 = 20;
const INDEX_EVERY_MS: i64 = 1_000;
/// When the index notification fails, try again after this long.
const INDEX_RETRY_MS: i64 = 2_000;

#[durable_object]
pub struct ConversationObject {
    state: State,
    env: Env,
    sql: SqlStorage,
    /// The last `seq` stored; loaded once, then kept by this single writer.
    last_seq: Cell<i64>,
    waiters: Waiters,
    /// The alarm as last set or read (`None` inside: no alarm); `None`
    /// outside until read once, so the hot path needs no storage read.
    alarm_at: Cell<Option<Option<i64>>>,
    /// The conversation row as last read or written here (this object is
    /// its only writer); `None` until read. Every write to the row goes
    /// through [`ConversationObject::write_conversation`], which drops it.
    conversation_cache: RefCell<Option<ConversationRow>>,
    /// The outbox's earliest next attempt (`Some(None)`: nothing pending);
    /// `None` until read. Dropped by every write to a reply's send state.
    outbox_next: Cell<Option<Option<i64>>>,
    /// When the workspace index was last sent an update (ms), for pacing.
    indexed_at: Cell<i64>,
}

#[derive(Clone, Deserialize)]
struct ConversationRow {
    id: String,
    workspace_id: String,
    inbox_id: String,
    channel: String,
    contact: String,
    status: String,
    assignee: Option<String>,
    labels: String,
    created_at: i64,
    updated_at: i64,
    last_inbound_at: Option<i64>,
    indexed_seq: i64,
    snoozed_until: Option<i64>,
}

#[derive(Deserialize)]
struct MessageRow {
    id: String,
    seq: i64,
    direction: String,
    text: String,
    content: String,
    platform_id: Option<String>,
    status: String,
    error: Option<String>,
    reply_to: Option<String>,
    sender_id: Option<String>,
    created_at: i64,
    attempts: i64,
}

const MESSAGE_COLUMNS: &str = "id, seq, direction, text, content, platform_id, status, error, \
     reply_to, sender_id, created_at, attempts";

impl ConversationRow {
    fn contact(&self) -> Contact {
        serde_json::from_str(&self.contact).unwrap_or_default()
    }

    fn labels(&self) -> Vec<String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }
}

impl MessageRow {
    fn into_message(self, conversation_id: &str) -> Option<Message> {
        let content: Content = serde_json::from_str(&self.content).ok()?;
        Some(Message {
            id: self.id,
            conversation_id: conversation_id.to_string(),
            seq: self.seq,
            direction: Direction::parse(&self.direction)?,
            kind: content.kind().to_string(),
            text: self.text,
            content,
            platform_id: self.platform_id,
            status: MessageStatus::parse(&self.status)?,
            error: self.error,
            reply_to: self.reply_to,
            sender_id: self.sender_id,
            created_at: self.created_at,
        })
    }
}

impl DurableObject for ConversationObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            worker::console_error!("conversation object: creating its tables failed: {e}");
        }
        for (table, column, decl) in ADDED_COLUMNS {
            add_column_if_missing(&sql, table, column, decl);
        }
        let last_seq = scalar(
            &sql,
            "SELECT COALESCE(MAX(seq), 0) AS n FROM events",
            vec![],
            0,
        )
        .unwrap_or_else(|e| {
            worker::console_error!("conversation object: reading its last seq failed: {e}");
            0
        });
        sockets::enable_auto_pong(&state);
        ConversationObject {
            state,
            env,
            sql,
            last_seq: Cell::new(last_seq),
            waiters: Waiters::default(),
            alarm_at: Cell::new(None),
            conversation_cache: RefCell::new(None),
            outbox_next: Cell::new(None),
            indexed_at: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/ingest") => self.ingest(&mut req).await,
            (Method::Get, "/messages") => self.list_messages(&req),
            (Method::Post, "/messages") => self.write(&mut req).await,
            (Method::Get, "/events") => self.poll_events(&req).await,
            (Method::Get, "/live") => self.live(&req),
            (Method::Post, "/read") => self.read_over_http(&mut req).await,
            (Method::Patch, "/conversation") => self.patch_conversation(&mut req).await,
            (Method::Patch, "/contact") => self.patch_contact(&mut req).await,
            (Method::Get, "/export") => self.export(&req),
            (Method::Post, "/erase") => self.erase(&mut req).await,
            _ => Err(ApiError::not_found("conversation route")),
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => error_response(&e),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        // This alarm is spent; anything set from here on is a new one.
        self.alarm_at.set(Some(None));
        let now = now_ms();
        let erasure_ok = self.finish_erasure().await;
        if let Err(e) = self.wake_if_snooze_over(now) {
            worker::console_error!(
                "conversation object: reopening a snoozed conversation failed: {}",
                e.reason
            );
        }
        self.retry_outbox(now).await;
        let index_ok = self.notify_index().await;
        self.schedule_alarm(if index_ok && erasure_ok {
            None
        } else {
            Some(now + INDEX_RETRY_MS)
        })
        .await;
        Response::ok("")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let WebSocketIncomingMessage::String(text) = message else {
            return Ok(());
        };
        let Ok(Some(who)) = ws.deserialize_attachment::<SocketIdentity>() else {
            return Ok(());
        };
        #[derive(Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum ClientFrame {
            Typing,
            Read { seq: i64 },
        }
        match serde_json::from_str::<ClientFrame>(&text) {
            // Typing is pushed to the others, never stored.
            Ok(ClientFrame::Typing) => {
                let frame = serde_json::json!({"type": "typing", "who": who.id, "role": who.role});
                let frame = frame.to_string();
                for other in self.state.get_websockets() {
                    if other != ws {
                        let _ = other.send_with_str(&frame);
                    }
                }
            }
            Ok(ClientFrame::Read { seq }) => {
                if let Err(e) = self.mark_read(&who.id, seq).await {
                    worker::console_error!(
                        "conversation object: recording a read position failed: {}",
                        e.reason
                    );
                }
            }
            Err(_) => {
                let _ = ws.send_with_str(r#"{"type":"error","error":"unknown frame; expected {\"type\":\"typing\"} or {\"type\":\"read\",\"seq\":N}"}"#);
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        sockets::close_reply(&ws, code);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

type Answer = std::result::Result<Response, ApiError>;

impl ConversationObject {
    fn conversation(&self) -> std::result::Result<Option<ConversationRow>, ApiError> {
        if let Some(row) = self.conversation_cache.borrow().as_ref() {
            return Ok(Some(row.clone()));
        }
        let rows = self
            .sql
            .exec(
                "SELECT id, workspace_id, inbox_id, channel, contact, status, assignee, labels, \
                 created_at, updated_at, last_inbound_at, indexed_seq, snoozed_until \
                 FROM conversation WHERE one = 1",
                None,
            )
            .and_then(|c| c.to_array::<ConversationRow>())
            .map_err(sql_err("reading the conversation row"))?;
        let row = rows.into_iter().next();
        self.conversation_cache.replace(row.clone());
        Ok(row)
    }

    /// Writes the conversation row (and forgets the cached copy).
    fn write_conversation(
        &self,
        query: &str,
        binds: Vec<SqlStorageValue>,
        what: &'static str,
    ) -> std::result::Result<(), ApiError> {
        self.conversation_cache.replace(None);
        self.sql.exec(query, binds).map_err(sql_err(what))?;
        Ok(())
    }

    /// The conversation, only for a caller of its own workspace: anything
    /// else is a 404, the same answer as for an id that does not exist.
    fn conversation_for(&self, req: &Request) -> std::result::Result<ConversationRow, ApiError> {
        let ws = req.headers().get(HEADER_WORKSPACE).ok().flatten();
        match self.conversation()? {
            Some(c) if Some(&c.workspace_id) == ws.as_ref() => Ok(c),
            _ => Err(ApiError::not_found("conversation")),
        }
    }

    /// Who is reading: an agent sees every event, a visitor (of this very
    /// conversation) only the public ones.
    fn reader(
        &self,
        req: &Request,
        conv: &ConversationRow,
    ) -> std::result::Result<Reader, ApiError> {
        let header = |name| req.headers().get(name).ok().flatten();
        match (header(HEADER_AGENT), header(HEADER_VISITOR)) {
            (_, Some(visitor)) if visitor == conv.id => Ok(Reader::Visitor),
            (_, Some(_)) => Err(ApiError::not_found("conversation")),
            (Some(agent), None) => Ok(Reader::Agent(agent)),
            (None, None) => Ok(Reader::Agent(String::new())),
        }
    }

    /// Stores an event with the next `seq` and pushes it to every socket and
    /// waiting long-poll. Output gates hold the pushes until the write is
    /// durable, so no client ever sees an event that could be lost.
    fn append(&self, at: i64, body: EventBody) -> std::result::Result<i64, ApiError> {
        let seq = self.last_seq.get() + 1;
        let event = Event { seq, at, body };
        let json = serde_json::to_string(&event)
            .map_err(|e| ApiError::internal("serializing an event", e))?;
        let private = event.body.is_private();
        self.sql
            .exec(
                "INSERT INTO events (seq, type, at, body, private) VALUES (?, ?, ?, ?, ?)",
                vec![
                    int(seq),
                    text(event.body.type_name()),
                    int(at),
                    text(&json),
                    int(private.into()),
                ],
            )
            .map_err(sql_err("storing an event"))?;
        self.last_seq.set(seq);
        if private {
            sockets::broadcast_to(&self.state, ROLE_AGENT, &json);
        } else {
            sockets::broadcast(&self.state, &json);
        }
        self.waiters.wake_all();
        Ok(seq)
    }

    /// Stores a message; false when its platform id is already stored
    /// (a redelivery), in which case nothing is written.
    fn insert_message(
        &self,
        m: &Message,
        next_attempt_at: Option<i64>,
    ) -> std::result::Result<bool, ApiError> {
        let content = serde_json::to_string(&m.content)
            .map_err(|e| ApiError::internal("serializing content", e))?;
        if next_attempt_at.is_some() {
            self.outbox_next.set(None);
        }
        let written = self
            .sql
            .exec(
                "INSERT INTO messages (id, seq, direction, kind, text, content, platform_id, status, \
                 error, reply_to, sender_id, created_at, next_attempt_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                vec![
                    text(&m.id),
                    int(m.seq),
                    text(m.direction.as_str()),
                    text(&m.kind),
                    text(&m.text),
                    text(&content),
                    opt_text(m.platform_id.as_deref()),
                    text(m.status.as_str()),
                    opt_text(m.error.as_deref()),
                    opt_text(m.reply_to.as_deref()),
                    opt_text(m.sender_id.as_deref()),
                    int(m.created_at),
                    next_attempt_at.map(int).unwrap_or(SqlStorageValue::Null),
                ],
            )
            .map_err(sql_err("storing a message"))?
            .rows_written();
        Ok(written > 0)
    }

    /// `POST /ingest`.
    async fn ingest(&self, req: &mut Request) -> Answer {
        let mut body: IngestRequest = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("ingest body: {e}")))?;
        let events = std::mem::take(&mut body.events);
        let now = now_ms();
        let mut result = IngestResult::default();
        let mut existing = self.conversation()?;
        let mut created = false;
        for event in events {
            match event {
                InboundEvent::Message(m) => {
                    if existing.is_none() {
                        self.create_conversation(&body, &m.contact, now)?;
                        existing = self.conversation()?;
                        created = true;
                    } else if let Some(c) = existing.as_mut() {
                        self.merge_contact(c, &m.contact, now)?;
                    }
                    let inbound = m.direction == Direction::Inbound;
                    // Platform ids are unique: a redelivery stores nothing.
                    if !self.store_inbound(&body.conversation_id, m, now)? {
                        result.duplicates += 1;
                        continue;
                    }
                    result.stored += 1;
                    // A customer writing again reopens a resolved or
                    // snoozed conversation at once.
                    if let Some(c) = existing.as_mut() {
                        if inbound && (c.status == "resolved" || c.status == "snoozed") {
                            self.set_conversation_status(c, "open", None, None, now)?;
                        }
                    }
                }
                InboundEvent::Receipt(r) => {
                    if existing.is_some() {
                        result.updated += self.apply_receipt(&r, now)?;
                    }
                }
            }
        }
        if created {
            if let Some(c) = existing.as_ref() {
                self.auto_assign(c).await;
            }
        }
        if result.stored + result.updated > 0 {
            self.schedule_index().await;
        }
        json(200, &result).map_err(ApiError::from)
    }

    fn create_conversation(
        &self,
        body: &IngestRequest,
        contact: &Contact,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        let contact_json = serde_json::to_string(contact)
            .map_err(|e| ApiError::internal("serializing a contact", e))?;
        self.write_conversation(
            "INSERT INTO conversation (one, id, workspace_id, inbox_id, channel, contact, created_at, updated_at) \
                 VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                    text(&body.conversation_id),
                    text(&body.workspace_id),
                    text(&body.inbox_id),
                    text(&body.channel),
                    text(&contact_json),
                    int(now),
                    int(now),
                ],
            "creating the conversation row",
        )?;
        Ok(())
    }

    fn merge_contact(
        &self,
        c: &mut ConversationRow,
        incoming: &Contact,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        let before = c.contact();
        let mut contact = before.clone();
        contact.merge(incoming);
        if contact == before {
            return Ok(());
        }
        // Something would change: what an agent edited stays theirs.
        let edited = self.edited_contact_fields()?;
        if !edited.is_empty() {
            let mut masked = incoming.clone();
            for field in &edited {
                match field.as_str() {
                    "name" => masked.name = None,
                    "email" => masked.email = None,
                    "phone" => masked.phone = None,
                    _ => {}
                }
            }
            contact = before.clone();
            contact.merge(&masked);
            if contact == before {
                return Ok(());
            }
        }
        let contact_json = serde_json::to_string(&contact)
            .map_err(|e| ApiError::internal("serializing a contact", e))?;
        self.write_conversation(
            "UPDATE conversation SET contact = ? WHERE one = 1",
            vec![text(&contact_json)],
            "updating the contact",
        )?;
        c.contact = contact_json;
        self.append(now, EventBody::ContactUpdated { contact, by: None })?;
        Ok(())
    }

    fn edited_contact_fields(&self) -> std::result::Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Field {
            field: String,
        }
        Ok(self
            .sql
            .exec("SELECT field FROM contact_edits", None)
            .and_then(|c| c.to_array::<Field>())
            .map_err(sql_err("reading contact edits"))?
            .into_iter()
            .map(|f| f.field)
            .collect())
    }

    fn store_inbound(
        &self,
        conversation_id: &str,
        m: InboundMessage,
        now: i64,
    ) -> std::result::Result<bool, ApiError> {
        let seq = self.last_seq.get() + 1;
        let status = match m.direction {
            Direction::Inbound => MessageStatus::Received,
            // An echo was sent by the business from another tool.
            Direction::Outbound => MessageStatus::Sent,
        };
        let message = Message {
            id: format!("msg_{seq}"),
            conversation_id: conversation_id.to_string(),
            seq,
            direction: m.direction,
            kind: m.content.kind().to_string(),
            text: m.content.text(),
            content: m.content,
            platform_id: Some(m.platform_id),
            status,
            error: None,
            reply_to: m.reply_to,
            sender_id: None,
            created_at: now,
        };
        if !self.insert_message(&message, None)? {
            return Ok(false);
        }
        // WhatsApp's 24-hour window runs from when the customer wrote,
        // which the platform says; fall back to receipt time. Never in the
        // future, so a wrong clock cannot hold the window open.
        let wrote_at = (m.direction == Direction::Inbound).then(|| {
            if m.timestamp_ms > 0 {
                m.timestamp_ms.min(now)
            } else {
                now
            }
        });
        self.touch_conversation(now, wrote_at)?;
        self.append(now, EventBody::MessageCreated { message })?;
        Ok(true)
    }

    /// Moves `updated_at` (and `last_inbound_at` for a customer's message),
    /// in the table and in the cached row alike: the hot path keeps its
    /// cache instead of reading the row back for every message.
    fn touch_conversation(
        &self,
        now: i64,
        last_inbound: Option<i64>,
    ) -> std::result::Result<(), ApiError> {
        self.sql
            .exec(
                "UPDATE conversation SET updated_at = ?, \
                 last_inbound_at = MAX(COALESCE(last_inbound_at, 0), COALESCE(?, 0)) WHERE one = 1",
                vec![
                    int(now),
                    last_inbound.map(int).unwrap_or(SqlStorageValue::Null),
                ],
            )
            .map_err(sql_err("touching the conversation"))?;
        if let Some(row) = self.conversation_cache.borrow_mut().as_mut() {
            row.updated_at = now;
            if let Some(at) = last_inbound {
                row.last_inbound_at = Some(row.last_inbound_at.unwrap_or(0).max(at));
            }
        }
        Ok(())
    }

    /// Moves outbound messages forward; returns how many moved.
    fn apply_receipt(&self, r: &Receipt, now: i64) -> std::result::Result<u32, ApiError> {
        let rows = match &r.target {
            ReceiptTarget::Ids { platform_ids } => {
                let mut rows = Vec::new();
                for id in platform_ids {
                    rows.extend(
                        self.sql
                            .exec(
                                &format!(
                                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE platform_id = ?"
                                ),
                                vec![text(id)],
                            )
                            .and_then(|c| c.to_array::<MessageRow>())
                            .map_err(sql_err("finding receipted messages"))?,
                    );
                }
                rows
            }
            ReceiptTarget::Watermark { watermark_ms } => self
                .sql
                .exec(
                    &format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE direction = 'outbound' \
                         AND created_at <= ? AND status IN ('sent', 'delivered') ORDER BY seq"
                    ),
                    vec![int(*watermark_ms)],
                )
                .and_then(|c| c.to_array::<MessageRow>())
                .map_err(sql_err("finding receipted messages"))?,
        };
        let mut moved = 0;
        for row in rows {
            let Some(current) = MessageStatus::parse(&row.status) else {
                continue;
            };
            if row.direction != "outbound" || !current.advances_to(r.status) {
                continue;
            }
            self.set_status(&row.id, r.status, None, r.error.as_deref(), now)?;
            moved += 1;
        }
        Ok(moved)
    }

    fn set_status(
        &self,
        message_id: &str,
        status: MessageStatus,
        platform_id: Option<&str>,
        error: Option<&str>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        self.outbox_next.set(None);
        self.sql
            .exec(
                "UPDATE messages SET status = ?, platform_id = COALESCE(?, platform_id), error = ?, \
                 next_attempt_at = NULL WHERE id = ?",
                vec![text(status.as_str()), opt_text(platform_id), opt_text(error), text(message_id)],
            )
            .map_err(sql_err("updating a message's status"))?;
        self.append(
            now,
            EventBody::MessageStatus {
                message_id: message_id.to_string(),
                status,
                platform_id: platform_id.map(str::to_string),
                error: error.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// `GET /messages?before=<seq>&limit=<n>`: oldest first.
    fn list_messages(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let before = crate::http::query_int(req, "before")?.unwrap_or(i64::MAX);
        let limit = crate::http::query_int(req, "limit")?
            .unwrap_or(50)
            .clamp(1, 200);
        let rows = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?"),
                vec![int(before), int(limit)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("listing messages"))?;
        let mut messages: Vec<Message> = rows
            .into_iter()
            .filter_map(|r| r.into_message(&conv.id))
            .collect();
        messages.reverse();
        json(200, &serde_json::json!({ "messages": messages })).map_err(ApiError::from)
    }

    /// A page of events after `since`; for a visitor, only public ones.
    fn events_after(
        &self,
        since: i64,
        reader: &Reader,
    ) -> std::result::Result<Vec<String>, ApiError> {
        let query = match reader {
            Reader::Agent(_) => "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            Reader::Visitor => {
                "SELECT body FROM events WHERE seq > ? AND private = 0 ORDER BY seq LIMIT ?"
            }
        };
        let rows = self
            .sql
            .exec(query, vec![int(since), int(MAX_EVENTS_PER_PAGE)])
            .and_then(|c| c.to_array::<Body>())
            .map_err(sql_err("reading events"))?;
        Ok(rows.into_iter().map(|b| b.body).collect())
    }

    /// `GET /events?since=<seq>&wait=<seconds>`.
    async fn poll_events(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let reader = self.reader(req, &conv)?;
        let since = crate::http::query_int(req, "since")?.unwrap_or(0);
        let wait = crate::http::query_int(req, "wait")?
            .unwrap_or(0)
            .clamp(0, MAX_WAIT_SECS.into());
        let mut events = self.events_after(since, &reader)?;
        if events.is_empty() && wait > 0 {
            self.waiters.wait(Duration::from_secs(wait as u64)).await;
            events = self.events_after(since, &reader)?;
        }
        // The stored bodies are already JSON: splice them, don't re-encode.
        let body = format!(
            "{{\"events\":[{}],\"last_seq\":{}}}",
            events.join(","),
            self.last_seq.get()
        );
        let mut resp = Response::ok(body)?;
        resp.headers_mut().set("content-type", "application/json")?;
        Ok(resp)
    }

    /// `GET /live?since=<seq>`: the resume burst, then the live stream. Both
    /// happen in one turn of this single-threaded object, so nothing can be
    /// stored between them: no gap, no duplicate.
    fn live(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let reader = self.reader(req, &conv)?;
        let since = crate::http::query_int(req, "since")?.unwrap_or(0);
        let identity = match &reader {
            Reader::Agent(agent) if !agent.is_empty() => SocketIdentity {
                role: ROLE_AGENT.into(),
                id: agent.clone(),
                workspace_id: conv.workspace_id.clone(),
                away: false,
            },
            Reader::Agent(_) => return Err(ApiError::unauthorized("no agent")),
            Reader::Visitor => SocketIdentity {
                role: ROLE_VISITOR.into(),
                id: conv.id.clone(),
                workspace_id: conv.workspace_id.clone(),
                away: false,
            },
        };
        let (server, response) = sockets::accept(&self.state, &identity)?;
        sockets::replay(&server, since, |cursor| self.events_after(cursor, &reader))?;
        Ok(response)
    }

    /// `POST /messages`: an agent's note or reply.
    async fn write(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let body: SendRequest = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("message body: {e}")))?;
        let now = now_ms();
        let inbox = if body.content.leaves_switchboard() {
            Some(self.inbox(&conv).await?)
        } else {
            None
        };
        // The widget's replies reach the visitor over this object's own
        // sockets: stored is delivered, there is nothing to send.
        let leaves = inbox.as_ref().is_some_and(|i| !i.settings.delivers_live());
        let seq = self.last_seq.get() + 1;
        let mut message = Message {
            id: format!("msg_{seq}"),
            conversation_id: conv.id.clone(),
            seq,
            direction: Direction::Outbound,
            kind: body.content.kind().to_string(),
            text: body.content.text(),
            content: body.content,
            platform_id: None,
            status: if leaves {
                MessageStatus::Pending
            } else {
                MessageStatus::Sent
            },
            error: None,
            reply_to: None,
            sender_id: Some(body.agent_id),
            created_at: now,
        };
        if let Some(inbox) = inbox.as_ref().filter(|_| leaves) {
            // Refuse up front what the channel cannot send (a closed
            // WhatsApp window, a kind it lacks): nothing is stored.
            let config = Config::from_env(&self.env);
            let key = format!("{}/{}", conv.id, message.id);
            inbox
                .settings
                .build_send(
                    &send_context(&config, &conv, now, &key),
                    &conv.contact(),
                    &message.content,
                    None,
                )
                .map_err(|reason| ApiError::new(422, reason))?;
        }
        self.insert_message(&message, leaves.then_some(now + SEND_LEASE_MS))?;
        self.write_conversation(
            "UPDATE conversation SET updated_at = ? WHERE one = 1",
            vec![int(now)],
            "touching the conversation",
        )?;
        self.append(
            now,
            EventBody::MessageCreated {
                message: message.clone(),
            },
        )?;
        if leaves {
            self.schedule_alarm(Some(now + SEND_LEASE_MS)).await;
            if let Some(updated) = self.attempt_send(&conv, &message.id, 0).await {
                message.status = updated.status;
                message.platform_id = updated.platform_id;
                message.error = updated.error;
            }
        }
        self.schedule_index().await;
        json(201, &message).map_err(ApiError::from)
    }

    async fn inbox(
        &self,
        conv: &ConversationRow,
    ) -> std::result::Result<std::rc::Rc<db::Inbox>, ApiError> {
        let database = db::database(&self.env)?;
        db::inbox(&database, &conv.inbox_id, now_ms())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    409,
                    "this conversation's inbox was deleted; replies cannot be sent",
                )
            })
    }

    /// One delivery attempt of a pending reply. Returns the message as it
    /// stands afterwards.
    async fn attempt_send(
        &self,
        conv: &ConversationRow,
        message_id: &str,
        attempts: i64,
    ) -> Option<Message> {
        let row = self.message(message_id).ok().flatten()?;
        if row.status != "pending" {
            return row.into_message(&conv.id);
        }
        let now = now_ms();
        let outcome = match self.inbox(conv).await {
            Err(e) => SendOutcome::Failed { error: e.reason },
            Ok(inbox) => {
                let config = Config::from_env(&self.env);
                let key = format!("{}/{}", conv.id, row.id);
                let content: Option<Content> = serde_json::from_str(&row.content).ok();
                match content.map(|c| {
                    inbox.settings.build_send(
                        &send_context(&config, conv, now, &key),
                        &conv.contact(),
                        &c,
                        row.reply_to.as_deref(),
                    )
                }) {
                    None => SendOutcome::Failed {
                        error: "stored content is unreadable".into(),
                    },
                    Some(Err(reason)) => SendOutcome::Failed { error: reason },
                    Some(Ok(request)) => match platform::send(&request, SEND_TIMEOUT).await {
                        Ok((status, body)) => {
                            inbox.settings.classify_request(&request, status, &body)
                        }
                        Err(reason) => SendOutcome::Retry { reason },
                    },
                }
            }
        };
        // Erased while the send was in flight: there is nothing to record.
        if !matches!(self.conversation(), Ok(Some(_))) {
            return None;
        }
        let now = now_ms();
        let result = match outcome {
            SendOutcome::Sent { platform_id } => self.set_status(
                message_id,
                MessageStatus::Sent,
                Some(&platform_id),
                None,
                now,
            ),
            SendOutcome::Failed { error } => {
                self.set_status(message_id, MessageStatus::Failed, None, Some(&error), now)
            }
            SendOutcome::Retry { reason } => {
                let attempts = attempts + 1;
                if attempts >= MAX_ATTEMPTS {
                    let error = format!("gave up after {attempts} attempts: {reason}");
                    self.set_status(message_id, MessageStatus::Failed, None, Some(&error), now)
                } else {
                    let next = now + backoff_ms(attempts);
                    self.outbox_next.set(None);
                    let _ = self.sql.exec(
                        "UPDATE messages SET attempts = ?, next_attempt_at = ?, error = ? WHERE id = ?",
                        vec![int(attempts), int(next), text(&reason), text(message_id)],
                    );
                    self.schedule_alarm(Some(next)).await;
                    Ok(())
                }
            }
        };
        if let Err(e) = result {
            worker::console_error!(
                "conversation object: recording a send outcome failed: {}",
                e.reason
            );
        }
        self.message(message_id)
            .ok()
            .flatten()?
            .into_message(&conv.id)
    }

    fn message(&self, id: &str) -> std::result::Result<Option<MessageRow>, ApiError> {
        Ok(self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"),
                vec![text(id)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading a message"))?
            .into_iter()
            .next())
    }

    /// When the outbox next has a reply to send, if ever: read once, then
    /// kept until a reply's send state changes.
    fn outbox_next_attempt(&self) -> Option<i64> {
        if let Some(known) = self.outbox_next.get() {
            return known;
        }
        let next = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(next_attempt_at), 0) AS n FROM messages WHERE status = 'pending'",
            vec![],
            0,
        )
        .ok()?;
        let next = (next > 0).then_some(next);
        self.outbox_next.set(Some(next));
        next
    }

    /// Sends every pending reply whose time has come.
    async fn retry_outbox(&self, now: i64) {
        if self.outbox_next_attempt().is_none_or(|next| next > now) {
            return;
        }
        let Ok(Some(conv)) = self.conversation() else {
            return;
        };
        let due = self
            .sql
            .exec(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'pending' \
                     AND next_attempt_at <= ? ORDER BY seq"
                ),
                vec![int(now)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .unwrap_or_default();
        for row in due {
            // Lease it before the send, so a crash mid-send retries later.
            self.outbox_next.set(None);
            let _ = self.sql.exec(
                "UPDATE messages SET next_attempt_at = ? WHERE id = ?",
                vec![int(now + SEND_LEASE_MS), text(&row.id)],
            );
            self.attempt_send(&conv, &row.id, row.attempts).await;
        }
    }

    /// Sets the alarm to the earliest of `at`, the outbox's next attempt and
    /// the alarm already set.
    async fn schedule_alarm(&self, at: Option<i64>) {
        let storage = self.state.storage();
        let next_send = self.outbox_next_attempt();
        let snooze_ends = self
            .conversation()
            .ok()
            .flatten()
            .filter(|c| c.status == "snoozed")
            .and_then(|c| c.snoozed_until)
            .filter(|n| *n > 0);
        let existing = match self.alarm_at.get() {
            Some(known) => known,
            None => storage.get_alarm().await.ok().flatten(),
        };
        let wanted = [at, next_send, snooze_ends, existing]
            .into_iter()
            .flatten()
            .min();
        self.alarm_at.set(Some(existing));
        if let Some(t) = wanted {
            if existing != Some(t) {
                match storage
                    .set_alarm(Duration::from_millis((t - now_ms()).max(0) as u64))
                    .await
                {
                    Ok(()) => self.alarm_at.set(Some(Some(t))),
                    Err(e) => {
                        self.alarm_at.set(None);
                        worker::console_error!(
                            "conversation object: setting the alarm failed: {e}"
                        );
                    }
                }
            }
        }
    }

    /// Asks the alarm to bring the workspace index up to date: at once if
    /// it was last told a while ago, else when a second has passed since, so
    /// a busy conversation costs the index one call a second. The
    /// conversation's own sockets are never delayed by it.
    async fn schedule_index(&self) {
        let soonest = now_ms() + INDEX_DELAY_MS;
        let at = soonest.max(self.indexed_at.get() + INDEX_EVERY_MS + self.index_spread());
        self.schedule_alarm(Some(at)).await;
    }

    /// 0–499 ms, fixed per conversation: conversations that got busy at the
    /// same moment would otherwise all notify the index at the same moment,
    /// once a second, and stall everything else behind that burst.
    fn index_spread(&self) -> i64 {
        let id = self.state.id().to_string();
        let hash = id
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        i64::from(hash % 500)
    }

    fn summary(&self, c: &ConversationRow) -> std::result::Result<ConversationSummary, ApiError> {
        let last = self
            .sql
            .exec(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE kind NOT IN ('note', 'activity') \
                     ORDER BY seq DESC LIMIT 1"
                ),
                None,
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading the last message"))?
            .into_iter()
            .next()
            .and_then(|r| r.into_message(&c.id))
            .map(|m| LastMessage {
                id: m.id,
                seq: m.seq,
                direction: m.direction,
                kind: m.kind,
                text: m.text,
                created_at: m.created_at,
            });
        let unread = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound' AND seq > \
             (SELECT COALESCE(MAX(read_seq), 0) FROM reads WHERE reader LIKE 'ag_%')",
            vec![],
            0,
        )
        .map_err(sql_err("counting unread messages"))?;
        Ok(ConversationSummary {
            id: c.id.clone(),
            inbox_id: c.inbox_id.clone(),
            channel: c.channel.clone(),
            contact: c.contact(),
            status: c.status.clone(),
            snoozed_until: c.snoozed_until,
            assignee: c.assignee.clone(),
            labels: c.labels(),
            last_message: last,
            unread,
            last_seq: self.last_seq.get(),
            updated_at: c.updated_at,
        })
    }

    /// Brings the workspace index up to date: the conversation's summary
    /// and the messages it has not indexed yet (for search), in pages.
    /// Returns false when the index could not be reached (the alarm retries).
    async fn notify_index(&self) -> bool {
        const DOCS_PER_CALL: i64 = 500;
        let Ok(Some(conv)) = self.conversation() else {
            return true;
        };
        let mut indexed = conv.indexed_seq;
        // Bounded: a backlog larger than this is finished by the next alarm.
        for _ in 0..20 {
            let seq = self.last_seq.get();
            if indexed >= seq {
                return true;
            }
            let docs = match self.docs_after(indexed, DOCS_PER_CALL) {
                Ok(d) => d,
                Err(_) => return false,
            };
            let full = docs.len() as i64 >= DOCS_PER_CALL;
            // A full page indexes up to its last message; the rest follows.
            let upto = match docs.last() {
                Some(d) if full => d.seq,
                _ => seq,
            };
            let Ok(summary) = self.summary(&conv) else {
                return false;
            };
            let update = IndexUpdate { summary, docs };
            self.indexed_at.set(now_ms());
            match self.send_index(&conv.workspace_id, &update).await {
                Ok(()) => {
                    if self
                        .sql
                        .exec(
                            "UPDATE conversation SET indexed_seq = ? WHERE one = 1",
                            vec![int(upto)],
                        )
                        .is_ok()
                    {
                        if let Some(row) = self.conversation_cache.borrow_mut().as_mut() {
                            row.indexed_seq = upto;
                        }
                    }
                    indexed = upto;
                }
                Err(e) => {
                    worker::console_error!(
                        "conversation object: updating the workspace index failed (will retry): {}",
                        e.reason
                    );
                    return false;
                }
            }
        }
        self.last_seq.get() <= indexed
    }

    fn docs_after(&self, seq: i64, limit: i64) -> std::result::Result<Vec<SearchDoc>, ApiError> {
        #[derive(Deserialize)]
        struct DocRow {
            id: String,
            seq: i64,
            direction: String,
            kind: String,
            text: String,
            created_at: i64,
        }
        let rows = self
            .sql
            .exec(
                "SELECT id, seq, direction, kind, text, created_at FROM messages \
                 WHERE seq > ? AND text != '' ORDER BY seq LIMIT ?",
                vec![int(seq), int(limit)],
            )
            .and_then(|c| c.to_array::<DocRow>())
            .map_err(sql_err("reading messages to index"))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(SearchDoc {
                    message_id: r.id,
                    seq: r.seq,
                    direction: Direction::parse(&r.direction)?,
                    kind: r.kind,
                    text: r.text,
                    created_at: r.created_at,
                })
            })
            .collect())
    }

    async fn send_index(
        &self,
        workspace_id: &str,
        update: &IndexUpdate,
    ) -> std::result::Result<(), ApiError> {
        let stub = super::workspace_stub(&self.env, workspace_id)?;
        let body = serde_json::to_string(update)
            .map_err(|e| ApiError::internal("serializing an index update", e))?;
        let req = super::internal_request(Method::Post, "/index", Some(body), &[])?;
        let resp = super::call(&stub, req).await?;
        if resp.status_code() == 200 {
            Ok(())
        } else {
            Err(ApiError::new(
                resp.status_code(),
                "workspace index refused the update",
            ))
        }
    }

    /// `POST /read` `{seq}`: the long-poll client's way to record reading.
    async fn read_over_http(&self, req: &mut Request) -> Answer {
        self.conversation_for(req)?;
        let agent = req
            .headers()
            .get(HEADER_AGENT)
            .ok()
            .flatten()
            .ok_or_else(|| ApiError::unauthorized("no agent"))?;
        #[derive(Deserialize)]
        struct ReadIn {
            seq: i64,
        }
        let body: ReadIn = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("read body: {e}")))?;
        self.mark_read(&agent, body.seq).await?;
        json(
            200,
            &serde_json::json!({ "read_seq": body.seq.clamp(0, self.last_seq.get()) }),
        )
        .map_err(ApiError::from)
    }

    /// Records that `reader` has read up to `seq`, and pushes it.
    async fn mark_read(&self, reader: &str, seq: i64) -> std::result::Result<(), ApiError> {
        let seq = seq.clamp(0, self.last_seq.get());
        let previous = scalar(
            &self.sql,
            "SELECT read_seq AS n FROM reads WHERE reader = ?",
            vec![text(reader)],
            0,
        )
        .map_err(sql_err("reading a read position"))?;
        if seq <= previous {
            return Ok(());
        }
        self.sql
            .exec(
                "INSERT INTO reads (reader, read_seq) VALUES (?, ?) \
                 ON CONFLICT(reader) DO UPDATE SET read_seq = MAX(read_seq, excluded.read_seq)",
                vec![text(reader), int(seq)],
            )
            .map_err(sql_err("recording a read position"))?;
        self.append(
            now_ms(),
            EventBody::Read {
                reader: reader.to_string(),
                read_seq: seq,
            },
        )?;
        self.schedule_index().await;
        Ok(())
    }
}

/// The agents' tools: status, assignment, labels, contact edits, export and
/// erasure.
impl ConversationObject {
    /// Sets the status (and when a snooze ends) and appends the event.
    fn set_conversation_status(
        &self,
        c: &mut ConversationRow,
        status: &str,
        snoozed_until: Option<i64>,
        by: Option<&str>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        self.write_conversation(
            "UPDATE conversation SET status = ?, snoozed_until = ? WHERE one = 1",
            vec![
                text(status),
                snoozed_until.map(int).unwrap_or(SqlStorageValue::Null),
            ],
            "updating the status",
        )?;
        c.status = status.to_string();
        c.snoozed_until = snoozed_until;
        self.append(
            now,
            EventBody::ConversationStatus {
                status: status.to_string(),
                snoozed_until,
                by: by.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// Reopens a snoozed conversation whose time has come.
    fn wake_if_snooze_over(&self, now: i64) -> std::result::Result<(), ApiError> {
        let Some(mut c) = self.conversation()? else {
            return Ok(());
        };
        match c.snoozed_until {
            Some(until) if c.status == "snoozed" && until <= now => {
                self.set_conversation_status(&mut c, "open", None, None, now)
            }
            _ => Ok(()),
        }
    }

    /// A new conversation of an inbox with `auto_assign` goes to the next
    /// online agent of the workspace, round-robin. A failure leaves it
    /// unassigned (logged): the message is stored either way.
    async fn auto_assign(&self, c: &ConversationRow) {
        let inbox = match self.inbox(c).await {
            Ok(inbox) => inbox,
            Err(_) => return,
        };
        if !inbox.options.auto_assign || c.assignee.is_some() {
            return;
        }
        let picked = async {
            let stub = super::workspace_stub(&self.env, &c.workspace_id)?;
            let req =
                super::internal_request(Method::Post, "/round-robin", Some("{}".into()), &[])?;
            let mut resp = super::call(&stub, req).await?;
            if resp.status_code() != 200 {
                return Err(ApiError::new(resp.status_code(), "round-robin refused"));
            }
            let answer: RoundRobinAnswer = resp.json().await?;
            Ok::<_, ApiError>(answer.agent_id)
        }
        .await;
        match picked {
            Ok(Some(agent)) => {
                // Someone may have assigned it while we asked: theirs wins.
                if let Ok(Some(now_row)) = self.conversation() {
                    if now_row.assignee.is_none() {
                        if let Err(e) = self.set_assignee(Some(&agent), None, now_ms()) {
                            worker::console_error!(
                                "conversation object: auto-assigning failed: {}",
                                e.reason
                            );
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => worker::console_error!(
                "conversation object: asking for the next agent failed: {}",
                e.reason
            ),
        }
    }

    fn set_assignee(
        &self,
        assignee: Option<&str>,
        by: Option<&str>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        self.write_conversation(
            "UPDATE conversation SET assignee = ? WHERE one = 1",
            vec![opt_text(assignee)],
            "updating the assignee",
        )?;
        self.append(
            now,
            EventBody::Assigned {
                assignee: assignee.map(str::to_string),
                by: by.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// `PATCH /conversation`: status, snooze, assignee, labels. Every
    /// change is one event; nothing changes unless all of it is valid.
    async fn patch_conversation(&self, req: &mut Request) -> Answer {
        let mut conv = self.conversation_for(req)?;
        let patch: ConversationPatch = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("conversation patch: {e}")))?;
        let now = now_ms();
        let by = Some(patch.agent_id.as_str());
        // Check everything before changing anything.
        let status = match (patch.status.as_deref(), patch.snoozed_until) {
            (None, None) => None,
            (None, Some(until)) if conv.status == "snoozed" => Some(("snoozed", Some(until))),
            (None, Some(_)) => {
                return Err(ApiError::bad_request(
                    "snoozed_until goes with status \"snoozed\"",
                ))
            }
            (Some("snoozed"), until) => Some(("snoozed", until)),
            (Some(s), None) => match STATUSES.iter().find(|k| **k == s) {
                Some(known) => Some((*known, None)),
                None => {
                    return Err(ApiError::bad_request(
                        "status must be one of open, pending, resolved, snoozed",
                    ))
                }
            },
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "snoozed_until goes with status \"snoozed\" only",
                ))
            }
        };
        if let Some(("snoozed", until)) = status {
            match until {
                Some(t) if t > now => {}
                _ => {
                    return Err(ApiError::bad_request(
                        "snoozing needs snoozed_until: a time in the future, in ms since the epoch",
                    ))
                }
            }
        }
        let labels_json = match &patch.labels {
            Some(l) => Some(
                serde_json::to_string(l)
                    .map_err(|e| ApiError::internal("serializing labels", e))?,
            ),
            None => None,
        };
        if let Some((s, until)) = status {
            if s != conv.status || until != conv.snoozed_until {
                self.set_conversation_status(&mut conv, s, until, by, now)?;
            }
        }
        if let Some(assignee) = &patch.assignee {
            if *assignee != conv.assignee {
                self.set_assignee(assignee.as_deref(), by, now)?;
                conv.assignee = assignee.clone();
            }
        }
        if let (Some(labels), Some(labels_json)) = (patch.labels, labels_json) {
            if labels != conv.labels() {
                self.write_conversation(
                    "UPDATE conversation SET labels = ? WHERE one = 1",
                    vec![text(&labels_json)],
                    "updating labels",
                )?;
                conv.labels = labels_json;
                self.append(
                    now,
                    EventBody::Labels {
                        labels,
                        by: by.map(str::to_string),
                    },
                )?;
            }
        }
        // The snooze's end joins the alarm; the index learns of it all.
        self.schedule_index().await;
        json(200, &self.summary(&conv)?).map_err(ApiError::from)
    }

    /// `PATCH /contact`: an agent edits name, email, phone or notes.
    async fn patch_contact(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let patch: ContactPatch = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("contact patch: {e}")))?;
        let before = conv.contact();
        let mut contact = before.clone();
        let mut edited: Vec<&str> = Vec::new();
        let fields = [
            ("name", patch.name, &mut contact.name),
            ("email", patch.email, &mut contact.email),
            ("phone", patch.phone, &mut contact.phone),
            ("notes", patch.notes, &mut contact.notes),
        ];
        for (field, value, slot) in fields {
            if let Some(value) = value {
                *slot = value;
                edited.push(field);
            }
        }
        for field in edited {
            self.sql
                .exec(
                    "INSERT OR IGNORE INTO contact_edits (field) VALUES (?)",
                    vec![text(field)],
                )
                .map_err(sql_err("recording a contact edit"))?;
        }
        if contact != before {
            let contact_json = serde_json::to_string(&contact)
                .map_err(|e| ApiError::internal("serializing a contact", e))?;
            self.write_conversation(
                "UPDATE conversation SET contact = ? WHERE one = 1",
                vec![text(&contact_json)],
                "updating the contact",
            )?;
            self.append(
                now_ms(),
                EventBody::ContactUpdated {
                    contact: contact.clone(),
                    by: Some(patch.agent_id),
                },
            )?;
            self.schedule_index().await;
        }
        json(200, &contact).map_err(ApiError::from)
    }

    /// `GET /export`: every message, oldest first, with the conversation.
    fn export(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let rows = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq"),
                None,
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading messages to export"))?;
        let messages = rows
            .into_iter()
            .filter_map(|r| r.into_message(&conv.id))
            .collect();
        let transcript = Transcript {
            conversation: TranscriptHeader {
                id: conv.id.clone(),
                inbox_id: conv.inbox_id.clone(),
                channel: conv.channel.clone(),
                contact: conv.contact(),
                status: conv.status.clone(),
                snoozed_until: conv.snoozed_until,
                assignee: conv.assignee.clone(),
                labels: conv.labels(),
                created_at: conv.created_at,
            },
            messages,
            exported_at: now_ms(),
        };
        json(200, &transcript).map_err(ApiError::from)
    }

    /// `POST /erase`: deletes everything this object stores and closes its
    /// sockets, then finishes with the workspace index and the audit log
    /// (retried by the alarm if either cannot be reached now). Answers 200
    /// when all of it is done, 202 when the rest is left to the alarm.
    async fn erase(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let body: EraseRequest = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("erase body: {e}")))?;
        let audit_id = crate::runtime::new_id("au_")?;
        let storage = self.state.storage();
        storage.delete_alarm().await?;
        storage.delete_all().await?;
        self.alarm_at.set(Some(None));
        self.conversation_cache.replace(None);
        self.outbox_next.set(Some(None));
        self.sql
            .exec(SCHEMA, None)
            .map_err(sql_err("recreating the tables after erasure"))?;
        self.last_seq.set(0);
        // What is left to do, with ids only: nothing of the contact.
        self.sql
            .exec(
                "INSERT INTO erasure (one, conversation_id, workspace_id, actor_id, audit_id, at) \
                 VALUES (1, ?, ?, ?, ?, ?)",
                vec![
                    text(&conv.id),
                    text(&conv.workspace_id),
                    text(&body.actor_id),
                    text(&audit_id),
                    int(now_ms()),
                ],
            )
            .map_err(sql_err("recording an erasure"))?;
        for ws in self.state.get_websockets() {
            let _ = ws.close(Some(1000), Some("conversation erased"));
        }
        self.waiters.wake_all();
        let done = self.finish_erasure().await;
        if !done {
            self.schedule_alarm(Some(now_ms() + INDEX_RETRY_MS)).await;
        }
        json(
            if done { 200 } else { 202 },
            &serde_json::json!({ "erased": conv.id, "complete": done }),
        )
        .map_err(ApiError::from)
    }

    /// The rest of an erasure: the workspace forgets the conversation, and
    /// the audit log records who erased it. True when nothing is left.
    async fn finish_erasure(&self) -> bool {
        #[derive(Deserialize)]
        struct Pending {
            conversation_id: String,
            workspace_id: String,
            actor_id: String,
            audit_id: String,
            at: i64,
            index_done: i64,
            audit_done: i64,
        }
        let pending = self
            .sql
            .exec(
                "SELECT conversation_id, workspace_id, actor_id, audit_id, at, index_done, \
                 audit_done FROM erasure WHERE one = 1",
                None,
            )
            .and_then(|c| c.to_array::<Pending>());
        let p = match pending {
            Ok(rows) => match rows.into_iter().next() {
                Some(p) => p,
                None => return true,
            },
            Err(e) => {
                worker::console_error!("conversation object: reading an erasure failed: {e}");
                return false;
            }
        };
        if p.index_done == 0 {
            let forgotten = async {
                let stub = super::workspace_stub(&self.env, &p.workspace_id)?;
                let body = serde_json::to_string(&WorkspaceErase {
                    conversation_id: p.conversation_id.clone(),
                })
                .map_err(|e| ApiError::internal("serializing an erasure", e))?;
                let req = super::internal_request(Method::Post, "/erase", Some(body), &[])?;
                let resp = super::call(&stub, req).await?;
                if resp.status_code() == 200 {
                    Ok(())
                } else {
                    Err(ApiError::new(
                        resp.status_code(),
                        "workspace refused the erasure",
                    ))
                }
            }
            .await;
            if let Err(e) = forgotten {
                worker::console_error!(
                    "conversation object: erasing from the index failed (will retry): {}",
                    e.reason
                );
                return false;
            }
            // A customer who wrote again since has a new conversation under
            // the same id: have the index take it afresh.
            let _ = self.sql.exec("UPDATE erasure SET index_done = 1", None);
            let _ = self.write_conversation(
                "UPDATE conversation SET indexed_seq = 0",
                vec![],
                "restarting the index after erasure",
            );
        }
        if p.audit_done == 0 {
            let recorded = async {
                let database = db::database(&self.env)?;
                db::record_audit(
                    &database,
                    &db::AuditEntry {
                        id: &p.audit_id,
                        workspace_id: &p.workspace_id,
                        actor_id: &p.actor_id,
                        action: "erase_contact",
                        target: &p.conversation_id,
                        detail: "{}",
                        at: p.at,
                    },
                )
                .await
            }
            .await;
            if let Err(e) = recorded {
                worker::console_error!(
                    "conversation object: recording the erasure's audit entry failed (will retry): {}",
                    e.reason
                );
                return false;
            }
        }
        let _ = self.sql.exec("DELETE FROM erasure", None);
        true
    }
}

/// Adds `column` to `table` when an object created before it lacks it.
fn add_column_if_missing(sql: &SqlStorage, table: &str, column: &str, decl: &str) {
    #[derive(Deserialize)]
    struct Col {
        name: String,
    }
    let columns = sql
        .exec(&format!("PRAGMA table_info({table})"), None)
        .and_then(|c| c.to_array::<Col>());
    match columns {
        Ok(cols) if cols.iter().any(|c| c.name == column) => {}
        Ok(_) => {
            if let Err(e) = sql.exec(
                &format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"),
                None,
            ) {
                worker::console_error!("conversation object: adding {table}.{column} failed: {e}");
            }
        }
        Err(e) => {
            worker::console_error!("conversation object: reading {table}'s columns failed: {e}")
        }
    }
}

fn send_context<'a>(
    config: &'a Config,
    conv: &ConversationRow,
    now: i64,
    message_key: &'a str,
) -> SendContext<'a> {
    SendContext {
        graph_base: &config.graph_base,
        telegram_base: &config.telegram_base,
        now_ms: now,
        last_inbound_ms: conv.last_inbound_at,
        message_key: Some(message_key),
    }
}

/// 5 s, 20 s, 80 s, … capped at an hour.
fn backoff_ms(attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 10) as u32;
    (5_000i64.saturating_mul(4i64.saturating_pow(exp))).min(3_600_000)
}
