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
//! - `POST /labels/rewrite` — the workspace renamed or deleted a label:
//!   rewrite this conversation's labels (one event when it carried it).
//! - `PATCH /contact` — an agent edits the contact; the fields they set are
//!   no longer overwritten by the platform.
//! - `GET /export?after&limit&from&to` — a page of the transcript (`ExportPage`).
//! - `POST /open` — a website visitor's session: creates the row, no event.
//! - `POST /translate` — translates a stored message on request;
//!   `GET`/`PATCH /language` — the customer's language (see `translate`).
//! - `POST /attachments` — records an upload the worker put in R2.
//! - `POST /erase` — deletes all of its storage and closes its sockets,
//!   then has the workspace forget the conversation and records the audit
//!   entry; both are retried by the alarm until done.
//!
//! The alarm copies inbound attachments into R2 (`attachments`), drives the outbox's retries, reopens a snoozed conversation
//! when its time comes, finishes an erasure, and keeps the workspace index
//! current (a failed notification is retried, never lost).
//!
//! This file holds the object, its tables and its routing; the methods live
//! by concern: `ingest` (webhooks → messages), `log` (events, history,
//! sockets, reads), `outbox` (agents' writes, sends and retries), `index`
//! (the alarm's schedule, the workspace index), `report` (what the reports
//! count, sent with the index updates), `tools` (status, assignment,
//! labels, contact edits, export) and `erasure`.

mod attachments;
mod erasure;
mod index;
mod ingest;
mod log;
mod outbox;
mod report;
mod tools;
mod translate;
mod visitor;

use super::internal::{
    ContactPatch, ConversationPatch, EraseRequest, ExportPage, IndexUpdate, IngestRequest,
    IngestResult, LabelRewrite, RoundRobinAnswer, SendRequest, WorkspaceErase,
};
use super::schema::Schema;
use super::sockets::{self, SocketIdentity, Waiters};
use super::sql::{int, opt_text, scalar, sql_err, text, Body};
use super::{HEADER_AGENT, HEADER_VISITOR, HEADER_WORKSPACE};
use crate::config::Config;
use crate::db;
use crate::http::{error_response, json, query_int, ApiError};
use crate::platform;
use crate::runtime::now_ms;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use switchboard_core::channels::SendContext;
use switchboard_core::inbound::{InboundEvent, InboundMessage, Receipt, ReceiptTarget};
use switchboard_core::model::{Contact, Content, Direction, Message, MessageStatus};
use switchboard_core::outbound::SendOutcome;
use switchboard_core::transcript::TranscriptHeader;
use switchboard_core::wire::{
    ConversationSummary, Event, EventBody, LastMessage, SearchDoc, MAX_EVENTS_PER_PAGE,
    MAX_WAIT_SECS,
};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorage,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage,
};

const TABLES: &str = "
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
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, client_id TEXT, sent_at INTEGER,
  translation TEXT, translate_due INTEGER, translate_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS translation_state (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  translated_seq INTEGER NOT NULL DEFAULT 0,
  language TEXT, language_source TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_seq ON messages(seq);
CREATE INDEX IF NOT EXISTS outbox ON messages(next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS reads (reader TEXT PRIMARY KEY, read_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contact_edits (field TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS attachments (
  id TEXT PRIMARY KEY, message_id TEXT, state TEXT NOT NULL, source TEXT,
  content_type TEXT, size INTEGER, sha256 TEXT, filename TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, due INTEGER, error TEXT, platform_media TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_due ON attachments(due) WHERE due IS NOT NULL;
CREATE TABLE IF NOT EXISTS erasure (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  conversation_id TEXT NOT NULL, workspace_id TEXT NOT NULL, actor_id TEXT NOT NULL,
  audit_id TEXT NOT NULL, at INTEGER NOT NULL,
  index_done INTEGER NOT NULL DEFAULT 0, audit_done INTEGER NOT NULL DEFAULT 0
);
";

/// The object's tables, versioned (see `objects::schema`).
const SCHEMA: Schema = Schema {
    object: "conversation object",
    tables: &[TABLES],
    added_columns: &ADDED_COLUMNS,
    after_columns: &[ADDED_INDEXES],
    steps: &[],
};

/// Columns added after the first release, for objects created before them.
const ADDED_COLUMNS: [(&str, &str, &str); 9] = [
    // Labels arrived after the first release's objects had their table.
    ("conversation", "labels", "TEXT NOT NULL DEFAULT '[]'"),
    ("conversation", "snoozed_until", "INTEGER"),
    // 1 for events only agents may see (EventBody::is_private).
    ("events", "private", "INTEGER NOT NULL DEFAULT 0"),
    // An agent's own id for a reply (idempotent writes).
    ("messages", "client_id", "TEXT"),
    // When the platform says the message was written (reports count by it).
    ("messages", "sent_at", "INTEGER"),
    // Translation (`translate.rs`): the Translation JSON (Message.translation),
    // when an inbound message's translation is next tried (NULL: not
    // queued), and how often it was.
    ("messages", "translation", "TEXT"),
    ("messages", "translate_due", "INTEGER"),
    (
        "messages",
        "translate_attempts",
        "INTEGER NOT NULL DEFAULT 0",
    ),
    // Erasure deletes the conversation's files in R2 (attachments).
    ("erasure", "attachments_done", "INTEGER NOT NULL DEFAULT 0"),
];

/// Indexes on added columns, made once those columns exist.
const ADDED_INDEXES: &str = "
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id ON messages(client_id) \
  WHERE client_id IS NOT NULL;
";

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
    /// The customer's first message `(seq, at)` and the first reply's
    /// `seq`, once they exist (they never change): the reports' anchors.
    first_inbound: Cell<Option<(i64, i64)>>,
    first_reply: Cell<Option<i64>>,
    /// `(upto, n)`: `n` customer messages unread by every agent among the
    /// `seq`s up to `upto`, as the index last counted; `None` until counted
    /// and after any read position moves.
    unread: Cell<Option<(i64, i64)>>,
    /// `Some(false)` once the alarm found no erasure to finish (only
    /// `/erase` records one); `None` until read. Spares every alarm a read.
    erasure_pending: Cell<Option<bool>>,
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
    client_id: Option<String>,
    #[serde(default)]
    translation: Option<String>,
}

const MESSAGE_COLUMNS: &str = "id, seq, direction, text, content, platform_id, status, error, \
     reply_to, sender_id, created_at, attempts, client_id, translation";

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
            client_id: self.client_id,
            created_at: self.created_at,
            translation: self
                .translation
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
        })
    }
}

impl DurableObject for ConversationObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        SCHEMA.ensure(&sql);
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
            first_inbound: Cell::new(None),
            first_reply: Cell::new(None),
            unread: Cell::new(None),
            erasure_pending: Cell::new(None),
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
            (Method::Post, "/labels/rewrite") => self.rewrite_labels(&mut req).await,
            (Method::Get, "/export") => self.export(&req),
            (Method::Post, "/erase") => self.erase(&mut req).await,
            (Method::Post, "/attachments") => self.record_upload(&mut req).await,
            (Method::Post, "/open") => self.open_for_visitor(&mut req).await,
            (Method::Post, "/translate") => self.translate_on_request(&mut req).await,
            (Method::Get, "/language") => self.get_language(&req),
            (Method::Patch, "/language") => self.patch_language(&mut req).await,
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
        // After the index: a slow platform or provider never holds the
        // list back.
        self.fetch_attachments(now).await;
        self.translate_inbound(now).await;
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
        self.visitor_left(&ws);
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.visitor_left(&ws);
        Ok(())
    }
}

type Answer = std::result::Result<Response, ApiError>;

/// The object's JS RPC methods. workerd accepts RPC only to a class that
/// extends `DurableObject`, which a `#[durable_object]` class does not, so
/// `functions/worker/shim.mjs` exports `ConversationObject` as such a class
/// wrapping this one and forwards each method here; the work is all Rust.
#[wasm_bindgen::prelude::wasm_bindgen]
impl ConversationObject {
    /// `ingest(body)`: the worker's webhook and widget messages (issue 14:
    /// an RPC call costs less than building, sending and routing a
    /// `Request` and reading a `Response`). The same work and guarantees
    /// as `POST /ingest`; answers with [`IngestResult::to_rpc_answer`].
    #[wasm_bindgen(js_name = ingest)]
    pub async fn ingest_rpc(&self, body: String) -> String {
        IngestResult::to_rpc_answer(self.store_ingest(&body).await)
    }
}

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

    /// When `closing` was the visitor's last socket, the visitor is offline.
    fn visitor_left(&self, closing: &WebSocket) {
        if !self
            .state
            .get_tags(closing)
            .iter()
            .any(|t| t == ROLE_VISITOR)
        {
            return;
        }
        let others = self
            .state
            .get_websockets_with_tag(ROLE_VISITOR)
            .into_iter()
            .filter(|ws| ws != closing)
            .count();
        if others == 0 {
            if let Ok(Some(conv)) = self.conversation() {
                self.visitor_presence(&conv, false);
            }
        }
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
}
