//! `WorkspaceObject`: one Durable Object per workspace.
//!
//! It keeps the conversation index (what the list shows), kept current by
//! the conversation objects after each of their changes; the full-text
//! search index (FTS5) over message text; agent presence, derived from their
//! dashboard sockets; and the feed of all of it, with its own gapless `seq`.
//!
//! Internal routes (called only by the worker and the conversation objects):
//! - `POST /index` — a conversation's summary and its new messages; the
//!   summary is applied only if newer, messages are indexed once.
//! - `GET /conversations?status&channel&assignee&label&cursor&limit` — the
//!   list, newest first, paged with a cursor.
//! - `GET /search?q&cursor&limit` — messages matching `q`, newest first.
//! - `GET /export/conversations?from&after&limit` — ids of conversations
//!   active since `from`, by id (the workspace export's outer loop).
//! - `GET /feed?since&wait` — feed events after `since` (long-poll twin).
//! - `GET /live?since` — WebSocket: feed events after `since`, then live.
//! - `POST /round-robin` — the next online agent after the last one given
//!   (for auto-assignment), or none.
//! - `POST /erase` — forgets a conversation: its index entry, labels and
//!   search documents; feed events about it become tombstones.
//! - `GET /labels`, `POST /labels/rewrite` — how many conversations carry
//!   each label; a catalog rename or delete carried to every conversation
//!   (see `workspace/labels.rs`; the alarm finishes long ones).
//! - `POST /report` — report figures over UTC ranges, from the rollups the
//!   index updates feed (`super::reports`).
//! - `POST /visitor`, `POST /visit`, `GET /visitors`, `POST /throttle`,
//!   `POST /offline`: website visitors (see `workspace/visitors.rs`); the
//!   alarm turns visitors whose heartbeats stopped idle, then offline.
//! - `POST /tickets/consume` — single use of socket tickets (see
//!   `workspace/tickets.rs`).
//! - `POST /translation/begin`, `POST /translation/put`, `GET
//!   /translation/usage`: the translation cache and daily usage (see
//!   `workspace/translation.rs`).

use super::internal::{
    rpc_answer, ExportConversations, IndexUpdate, RoundRobinAnswer, WorkspaceErase,
};
use super::schema::Schema;
use super::sockets::{self, SocketIdentity, Waiters};
use super::sql::{int, opt_text, scalar, sql_err, text, Body};
use super::{HEADER_AGENT, HEADER_WORKSPACE};
use crate::http::{error_response, json, query, query_int, ApiError};
use crate::runtime::now_ms;
use serde::Deserialize;
use std::cell::Cell;
use std::time::Duration;
use switchboard_core::search::fts_query;
use switchboard_core::wire::{FeedBody, FeedEvent, MAX_EVENTS_PER_PAGE, MAX_WAIT_SECS};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorage,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage,
};

/// The object's tables, versioned (see `objects::schema`).
const SCHEMA: Schema = Schema {
    object: "workspace object",
    tables: &[
        TABLES,
        super::reports::SCHEMA,
        translation::SCHEMA,
        labels::SCHEMA,
        tickets::SCHEMA,
    ],
    added_columns: &[],
    after_columns: &[],
    steps: &[
        // The first release's list index lacked the id its cursor pages by.
        (
            2,
            "DROP INDEX IF EXISTS conversations_by_time; \
             CREATE INDEX conversations_by_time ON conversations(updated_at DESC, id);",
        ),
    ],
};

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, inbox_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
  assignee TEXT, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations(updated_at DESC, id);
CREATE TABLE IF NOT EXISTS conversation_labels (
  label TEXT NOT NULL, conversation_id TEXT NOT NULL, PRIMARY KEY (label, conversation_id)
);
CREATE INDEX IF NOT EXISTS conversation_labels_by_conversation ON conversation_labels(conversation_id);
CREATE TABLE IF NOT EXISTS docs (
  id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, message_id TEXT NOT NULL,
  seq INTEGER NOT NULL, direction TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
  created_at INTEGER NOT NULL, UNIQUE (conversation_id, message_id)
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(text, content='docs', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS docs_fts_insert AFTER INSERT ON docs BEGIN
  INSERT INTO docs_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS docs_fts_delete AFTER DELETE ON docs BEGIN
  INSERT INTO docs_fts(docs_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE IF NOT EXISTS presence (agent_id TEXT PRIMARY KEY, status TEXT NOT NULL);
DROP TABLE IF EXISTS visitors;
CREATE TABLE IF NOT EXISTS site_visitors (
  conversation_id TEXT PRIMARY KEY, contact TEXT NOT NULL, status TEXT NOT NULL,
  since INTEGER NOT NULL, last_seen INTEGER NOT NULL, visit TEXT
);
CREATE TABLE IF NOT EXISTS offline_conversations (conversation_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feed (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS round_robin (one INTEGER PRIMARY KEY CHECK (one = 1), last_agent TEXT NOT NULL);
";

mod labels;
mod tickets;
mod translation;
mod visitors;

#[durable_object]
pub struct WorkspaceObject {
    state: State,
    env: Env,
    sql: SqlStorage,
    last_seq: Cell<i64>,
    waiters: Waiters,
}

#[derive(Deserialize)]
struct Summary {
    summary: String,
}

type Answer = std::result::Result<Response, ApiError>;

/// Search documents per `INSERT`: 1 + 6 × 16 = 97 bound parameters.
const DOCS_PER_INSERT: usize = 16;

fn json_text(body: String) -> Answer {
    let mut resp = Response::ok(body)?;
    resp.headers_mut().set("content-type", "application/json")?;
    Ok(resp)
}

impl DurableObject for WorkspaceObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        SCHEMA.ensure(&sql);
        let last_seq = scalar(
            &sql,
            "SELECT COALESCE(MAX(seq), 0) AS n FROM feed",
            vec![],
            0,
        )
        .unwrap_or(0);
        sockets::enable_auto_pong(&state);
        let object = WorkspaceObject {
            state,
            env,
            sql,
            last_seq: Cell::new(last_seq),
            waiters: Waiters::default(),
        };
        // After a restart no socket survives: nobody recorded online is.
        object.reconcile_presence();
        object
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/index") => self.index(&mut req).await,
            (Method::Get, "/conversations") => self.list(&req),
            (Method::Get, "/export/conversations") => self.export_conversations(&req),
            (Method::Get, "/search") => self.search(&req),
            (Method::Post, "/visitor") => self.visitor(&mut req).await,
            (Method::Post, "/visit") => self.visit(&mut req).await,
            (Method::Get, "/visitors") => self.visitors(),
            (Method::Post, "/throttle") => self.throttle(&mut req).await,
            (Method::Post, "/tickets/consume") => self.consume_ticket(&mut req).await,
            (Method::Post, "/offline") => self.mark_offline(&mut req).await,
            (Method::Get, "/feed") => self.poll_feed(&req).await,
            (Method::Get, "/live") => self.live(&req),
            (Method::Post, "/round-robin") => self.round_robin(),
            (Method::Post, "/erase") => self.erase(&mut req).await,
            (Method::Post, "/report") => self.report(&mut req).await,
            (Method::Get, "/labels") => self.label_counts(),
            (Method::Post, "/labels/rewrite") => self.rewrite_labels(&mut req).await,
            (Method::Post, "/translation/begin") => self.translation_begin(&mut req).await,
            (Method::Post, "/translation/put") => self.translation_put(&mut req).await,
            (Method::Get, "/translation/usage") => self.translation_usage(),
            _ => Err(ApiError::not_found("workspace route")),
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => error_response(&e),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.sweep_visitors().await;
        // After the sweep, which may set a later alarm: label work wants a sooner one.
        self.label_alarm().await;
        Response::ok("")
    }

    /// Dashboards may say `{"type":"presence","status":"away"|"online"}`.
    async fn websocket_message(&self, ws: WebSocket, m: WebSocketIncomingMessage) -> Result<()> {
        #[derive(Deserialize)]
        struct PresenceFrame {
            #[serde(rename = "type")]
            kind: String,
            status: String,
        }
        let WebSocketIncomingMessage::String(frame) = m else {
            return Ok(());
        };
        let Ok(Some(mut who)) = ws.deserialize_attachment::<SocketIdentity>() else {
            return Ok(());
        };
        match serde_json::from_str::<PresenceFrame>(&frame) {
            Ok(p) if p.kind == "presence" && (p.status == "away" || p.status == "online") => {
                who.away = p.status == "away";
                ws.serialize_attachment(&who)?;
                self.update_presence(&who.id, None);
            }
            _ => {
                let _ = ws.send_with_str(
                    r#"{"type":"error","error":"unknown frame; expected {\"type\":\"presence\",\"status\":\"away\"|\"online\"}"}"#,
                );
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
        if let Ok(Some(who)) = ws.deserialize_attachment::<SocketIdentity>() {
            self.update_presence(&who.id, Some(&ws));
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        if let Ok(Some(who)) = ws.deserialize_attachment::<SocketIdentity>() {
            self.update_presence(&who.id, Some(&ws));
        }
        Ok(())
    }
}

/// The methods `functions/worker/shim.mjs` forwards from its
/// `WorkspaceObject` (a class that extends `DurableObject`, which workerd
/// requires for JS RPC) to this one.
#[wasm_bindgen::prelude::wasm_bindgen]
impl WorkspaceObject {
    /// `index(body)`: a conversation object's alarm brings its summary and
    /// new messages (issue 14: an RPC call costs less than a `Request` and a
    /// `Response`). The same work and guarantees as `POST /index`; answers
    /// with [`rpc_answer`]: `200 applied`, `200 unchanged` or a refusal.
    #[wasm_bindgen(js_name = index)]
    pub fn index_rpc(&self, body: String) -> String {
        rpc_answer(
            self.store_index(&body)
                .map(|applied| if applied { "applied" } else { "unchanged" }),
        )
    }
}

impl WorkspaceObject {
    /// `POST /index`: indexes new messages for search, then upserts the
    /// summary unless the index already holds a newer one, and pushes it.
    /// The fetch route, kept for a caller of the previous
    /// version during a deploy (this version's conversation objects call
    /// the JS RPC method `index`, `index_rpc` below). Both run
    /// [`Self::store_index`].
    async fn index(&self, req: &mut Request) -> Answer {
        // Text, then serde_json (not `Request::json`'s serde_wasm_bindgen walk).
        let body = req
            .text()
            .await
            .map_err(|e| ApiError::bad_request(format!("index body: {e}")))?;
        let applied = self.store_index(&body)?;
        json(200, &serde_json::json!({ "applied": applied })).map_err(ApiError::from)
    }

    /// Applies an [`IndexUpdate`] (`body`, as JSON): reports, search
    /// documents, then the summary unless a newer one is stored; false
    /// when it was not newer. A repeat changes nothing.
    fn store_index(&self, body: &str) -> std::result::Result<bool, ApiError> {
        let update: IndexUpdate = serde_json::from_str(body)
            .map_err(|e| ApiError::bad_request(format!("index body: {e}")))?;
        let summary = update.summary;
        // Facts carry their own progress mark: a later page of the same
        // summary still brings new ones.
        super::reports::apply(&self.sql, &summary, &update.report)?;
        // UNIQUE(conversation_id, message_id) makes a repeated update a
        // no-op. Many rows per statement, within a Durable Object's limit of
        // 100 bound parameters: the conversation's id once as ?1, then six
        // per message.
        for page in update.docs.chunks(DOCS_PER_INSERT) {
            let rows: Vec<String> = (0..page.len())
                .map(|i| {
                    let n = 2 + i * 6;
                    format!(
                        "(?1, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                        n,
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5
                    )
                })
                .collect();
            let mut values = Vec::with_capacity(1 + page.len() * 6);
            values.push(text(&summary.id));
            for doc in page {
                values.extend([
                    text(&doc.message_id),
                    int(doc.seq),
                    text(doc.direction.as_str()),
                    text(&doc.kind),
                    text(&doc.text),
                    int(doc.created_at),
                ]);
            }
            self.sql
                .exec(
                    &format!(
                        "INSERT OR IGNORE INTO docs (conversation_id, message_id, seq, direction, \
                         kind, text, created_at) VALUES {}",
                        rows.join(", ")
                    ),
                    values,
                )
                .map_err(sql_err("indexing messages for search"))?;
        }
        let stored = scalar(
            &self.sql,
            "SELECT last_seq AS n FROM conversations WHERE id = ?",
            vec![text(&summary.id)],
            -1,
        )
        .map_err(sql_err("reading an index entry"))?;
        if stored >= summary.last_seq {
            return Ok(false);
        }
        let summary_json = serde_json::to_string(&summary)
            .map_err(|e| ApiError::internal("serializing a summary", e))?;
        self.sql
            .exec(
                "INSERT INTO conversations (id, inbox_id, channel, status, assignee, updated_at, \
                 last_seq, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET \
                 status = excluded.status, assignee = excluded.assignee, \
                 updated_at = excluded.updated_at, last_seq = excluded.last_seq, \
                 summary = excluded.summary",
                vec![
                    text(&summary.id),
                    text(&summary.inbox_id),
                    text(&summary.channel),
                    text(&summary.status),
                    opt_text(summary.assignee.as_deref()),
                    int(summary.updated_at),
                    int(summary.last_seq),
                    text(&summary_json),
                ],
            )
            .map_err(sql_err("writing an index entry"))?;
        // Found through `conversation_labels_by_conversation`: the primary
        // key leads with the label, and this runs on every index update.
        self.sql
            .exec(
                "DELETE FROM conversation_labels WHERE conversation_id = ?",
                vec![text(&summary.id)],
            )
            .map_err(sql_err("clearing labels"))?;
        for label in &summary.labels {
            self.sql
                .exec(
                    "INSERT OR IGNORE INTO conversation_labels (label, conversation_id) VALUES (?, ?)",
                    vec![text(label), text(&summary.id)],
                )
                .map_err(sql_err("writing a label"))?;
        }
        self.append(FeedBody::Conversation {
            conversation: Box::new(summary),
        })?;
        Ok(true)
    }

    /// `GET /export/conversations?from=<ms>&after=<id>&limit=<n>`: the ids
    /// of conversations whose last activity is at or after `from` (a
    /// message stored then or later moved `updated_at` past it), above
    /// `after`, by id. By id, not by time: a conversation that changes
    /// during an export keeps its place, so none is skipped or repeated.
    fn export_conversations(&self, req: &Request) -> Answer {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let from = query_int(req, "from")?.unwrap_or(0);
        let after = query(req, "after").unwrap_or_default();
        let limit = query_int(req, "limit")?.unwrap_or(200).clamp(1, 1000);
        let ids: Vec<String> = self
            .sql
            .exec(
                "SELECT id FROM conversations WHERE id > ? AND updated_at >= ? ORDER BY id LIMIT ?",
                vec![text(&after), int(from), int(limit)],
            )
            .and_then(|c| c.to_array::<Row>())
            .map_err(sql_err("listing conversations to export"))?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let next = match ids.len() as i64 >= limit {
            true => ids.last().cloned(),
            false => None,
        };
        json(200, &ExportConversations { ids, next }).map_err(ApiError::from)
    }

    /// `POST /report` (a `ReportQuery`): figures from the report rollups.
    async fn report(&self, req: &mut Request) -> Answer {
        let query: switchboard_core::report::ReportQuery = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("report query: {e}")))?;
        json(200, &super::reports::answer(&self.sql, &query)?).map_err(ApiError::from)
    }

    /// `POST /round-robin`: the online agent after the one given last (by
    /// id, wrapping around), remembered for next time. `away` and
    /// `offline` agents are skipped.
    fn round_robin(&self) -> Answer {
        #[derive(Deserialize)]
        struct Row {
            agent_id: String,
        }
        let next = |after: &str| -> std::result::Result<Option<String>, ApiError> {
            Ok(self
                .sql
                .exec(
                    "SELECT agent_id FROM presence WHERE status = 'online' AND agent_id > ? \
                     ORDER BY agent_id LIMIT 1",
                    vec![text(after)],
                )
                .and_then(|c| c.to_array::<Row>())
                .map_err(sql_err("finding the next online agent"))?
                .into_iter()
                .next()
                .map(|r| r.agent_id))
        };
        let last = self
            .sql
            .exec(
                "SELECT last_agent AS agent_id FROM round_robin WHERE one = 1",
                None,
            )
            .and_then(|c| c.to_array::<Row>())
            .map_err(sql_err("reading the round-robin pointer"))?
            .into_iter()
            .next()
            .map(|r| r.agent_id)
            .unwrap_or_default();
        let picked = match next(&last)? {
            Some(a) => Some(a),
            None => next("")?,
        };
        if let Some(agent) = &picked {
            self.sql
                .exec(
                    "INSERT INTO round_robin (one, last_agent) VALUES (1, ?) \
                     ON CONFLICT(one) DO UPDATE SET last_agent = excluded.last_agent",
                    vec![text(agent)],
                )
                .map_err(sql_err("moving the round-robin pointer"))?;
        }
        json(200, &RoundRobinAnswer { agent_id: picked }).map_err(ApiError::from)
    }

    /// `POST /erase` `{conversation_id}`: removes the conversation's index
    /// entry, labels and search documents (and compacts the search index so
    /// no deleted text lingers in it), replaces every feed event about it
    /// with a tombstone of the same `seq`, then pushes one more tombstone so
    /// open dashboards drop it. Repeating it changes nothing more.
    async fn erase(&self, req: &mut Request) -> Answer {
        let body: WorkspaceErase = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("erase body: {e}")))?;
        let id = body.conversation_id;
        let known = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM conversations WHERE id = ?",
            vec![text(&id)],
            0,
        )
        .map_err(sql_err("reading an index entry"))?
            > 0;
        for statement in [
            "DELETE FROM conversations WHERE id = ?",
            "DELETE FROM conversation_labels WHERE conversation_id = ?",
            "DELETE FROM docs WHERE conversation_id = ?",
            "DELETE FROM site_visitors WHERE conversation_id = ?",
            "DELETE FROM offline_conversations WHERE conversation_id = ?",
        ] {
            self.sql
                .exec(statement, vec![text(&id)])
                .map_err(sql_err("erasing a conversation from the index"))?;
        }
        super::reports::forget(&self.sql, &id)?;
        // FTS5 keeps deleted terms in old segments until they are merged.
        self.sql
            .exec("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')", None)
            .map_err(sql_err("compacting the search index"))?;
        #[derive(Deserialize)]
        struct Mention {
            seq: i64,
            at: i64,
        }
        let mentions = self
            .sql
            .exec(
                "SELECT seq, at FROM feed WHERE (json_extract(body, '$.type') = 'conversation' \
                 AND json_extract(body, '$.conversation.id') = ?) OR \
                 (json_extract(body, '$.type') = 'visitor' AND json_extract(body, '$.conversation_id') = ?)",
                vec![text(&id), text(&id)],
            )
            .and_then(|c| c.to_array::<Mention>())
            .map_err(sql_err("finding feed events to erase"))?;
        let tombstoned = mentions.len();
        for m in mentions {
            let tombstone = serde_json::to_string(&FeedEvent {
                seq: m.seq,
                at: m.at,
                body: FeedBody::Erased {
                    conversation_id: id.clone(),
                },
            })
            .map_err(|e| ApiError::internal("serializing a tombstone", e))?;
            self.sql
                .exec(
                    "UPDATE feed SET body = ? WHERE seq = ?",
                    vec![text(&tombstone), int(m.seq)],
                )
                .map_err(sql_err("replacing a feed event with a tombstone"))?;
        }
        if known || tombstoned > 0 {
            self.append(FeedBody::Erased {
                conversation_id: id,
            })?;
        }
        json(200, &serde_json::json!({ "tombstoned": tombstoned })).map_err(ApiError::from)
    }

    pub(super) fn append(&self, body: FeedBody) -> std::result::Result<i64, ApiError> {
        let seq = self.last_seq.get() + 1;
        let at = now_ms();
        let json = serde_json::to_string(&FeedEvent { seq, at, body })
            .map_err(|e| ApiError::internal("serializing a feed event", e))?;
        self.sql
            .exec(
                "INSERT INTO feed (seq, at, body) VALUES (?, ?, ?)",
                vec![int(seq), int(at), text(&json)],
            )
            .map_err(sql_err("storing a feed event"))?;
        self.last_seq.set(seq);
        sockets::broadcast(&self.state, &json);
        self.waiters.wake_all();
        Ok(seq)
    }

    /// `GET /conversations?status=…&channel=…&assignee=<agent id|none>&label=…&cursor=…&limit=…`
    fn list(&self, req: &Request) -> Answer {
        let status = query(req, "status").unwrap_or_else(|| "open".into());
        let limit = query_int(req, "limit")?.unwrap_or(50).clamp(1, 200);
        let mut sql = String::from("SELECT c.summary FROM conversations c");
        let mut binds: Vec<SqlStorageValue> = Vec::new();
        let mut conditions: Vec<&str> = Vec::new();
        if let Some(label) = query(req, "label") {
            sql.push_str(" JOIN conversation_labels l ON l.conversation_id = c.id AND l.label = ?");
            binds.push(text(&label));
        }
        // Left with the widget's leave-a-message form while nobody was there.
        match query(req, "offline").as_deref() {
            None | Some("false") => {}
            Some("true") => {
                sql.push_str(" JOIN offline_conversations o ON o.conversation_id = c.id")
            }
            Some(_) => return Err(ApiError::bad_request("offline must be true or false")),
        }
        match status.as_str() {
            "all" => {}
            "open" | "pending" | "resolved" | "snoozed" => {
                conditions.push("c.status = ?");
                binds.push(text(&status));
            }
            _ => {
                return Err(ApiError::bad_request(
                    "status must be one of open, pending, resolved, snoozed, all",
                ))
            }
        }
        if let Some(channel) = query(req, "channel") {
            conditions.push("c.channel = ?");
            binds.push(text(&channel));
        }
        match query(req, "assignee").as_deref() {
            None => {}
            Some("none") => conditions.push("c.assignee IS NULL"),
            Some(agent) => {
                conditions.push("c.assignee = ?");
                binds.push(text(agent));
            }
        }
        if let Some(cursor) = query(req, "cursor") {
            let (at, id) = cursor
                .split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| ApiError::bad_request("cursor is not one this API gave"))?;
            conditions.push("(c.updated_at < ? OR (c.updated_at = ? AND c.id > ?))");
            binds.extend([int(at), int(at), text(&id)]);
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY c.updated_at DESC, c.id LIMIT ?");
        binds.push(int(limit + 1));
        let mut rows: Vec<String> = self
            .sql
            .exec(&sql, binds)
            .and_then(|c| c.to_array::<Summary>())
            .map_err(sql_err("listing conversations"))?
            .into_iter()
            .map(|r| r.summary)
            .collect();
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().and_then(|last| {
                #[derive(Deserialize)]
                struct Key {
                    id: String,
                    updated_at: i64,
                }
                let k: Key = serde_json::from_str(last).ok()?;
                Some(format!("{}:{}", k.updated_at, k.id))
            })
        } else {
            None
        };
        let cursor_json = serde_json::to_string(&next_cursor).unwrap_or_else(|_| "null".into());
        json_text(format!(
            "{{\"conversations\":[{}],\"next_cursor\":{cursor_json}}}",
            rows.join(",")
        ))
    }

    /// `GET /search?q=…&cursor=…&limit=…`: matching messages, newest first,
    /// each with its conversation's summary.
    fn search(&self, req: &Request) -> Answer {
        let typed = query(req, "q").unwrap_or_default();
        let Some(fts) = fts_query(&typed) else {
            return Err(ApiError::bad_request("q must contain at least one word"));
        };
        let limit = query_int(req, "limit")?.unwrap_or(20).clamp(1, 100);
        let before = query_int(req, "cursor")?.unwrap_or(i64::MAX);
        #[derive(Deserialize, serde::Serialize)]
        struct Hit {
            id: i64,
            conversation_id: String,
            message_id: String,
            seq: i64,
            direction: String,
            kind: String,
            text: String,
            created_at: i64,
            summary: Option<String>,
        }
        // FTS5 walks its doclist by rowid, newest first, and stops at limit.
        let hits = self
            .sql
            .exec(
                "SELECT d.id, d.conversation_id, d.message_id, d.seq, d.direction, d.kind, d.text, \
                 d.created_at, c.summary FROM (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? \
                 AND rowid < ? ORDER BY rowid DESC LIMIT ?) f JOIN docs d ON d.id = f.rowid \
                 LEFT JOIN conversations c ON c.id = d.conversation_id ORDER BY d.id DESC",
                vec![text(&fts), int(before), int(limit + 1)],
            )
            .and_then(|c| c.to_array::<Hit>())
            .map_err(sql_err("searching messages"))?;
        let more = hits.len() as i64 > limit;
        let hits: Vec<Hit> = hits.into_iter().take(limit as usize).collect();
        let next_cursor = if more {
            hits.last().map(|h| h.id)
        } else {
            None
        };
        let results: Vec<serde_json::Value> = hits
            .into_iter()
            .map(|h| {
                let conversation: serde_json::Value = h
                    .summary
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or(serde_json::Value::Null);
                serde_json::json!({
                    "message": {
                        "id": h.message_id, "conversation_id": h.conversation_id, "seq": h.seq,
                        "direction": h.direction, "kind": h.kind, "text": h.text,
                        "created_at": h.created_at,
                    },
                    "conversation": conversation,
                })
            })
            .collect();
        json(
            200,
            &serde_json::json!({ "results": results, "next_cursor": next_cursor }),
        )
        .map_err(ApiError::from)
    }

    fn feed_after(&self, since: i64) -> std::result::Result<Vec<String>, ApiError> {
        Ok(self
            .sql
            .exec(
                "SELECT body FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
                vec![int(since), int(MAX_EVENTS_PER_PAGE)],
            )
            .and_then(|c| c.to_array::<Body>())
            .map_err(sql_err("reading the feed"))?
            .into_iter()
            .map(|b| b.body)
            .collect())
    }

    /// `GET /feed?since&wait`: the long-poll twin of `/live`.
    async fn poll_feed(&self, req: &Request) -> Answer {
        let since = query_int(req, "since")?.unwrap_or(0);
        let wait = query_int(req, "wait")?
            .unwrap_or(0)
            .clamp(0, MAX_WAIT_SECS.into());
        let mut events = self.feed_after(since)?;
        if events.is_empty() && wait > 0 {
            self.waiters.wait(Duration::from_secs(wait as u64)).await;
            events = self.feed_after(since)?;
        }
        json_text(format!(
            "{{\"events\":[{}],\"last_seq\":{}}}",
            events.join(","),
            self.last_seq.get()
        ))
    }

    /// `GET /live?since`: the resume burst then the live feed, in one turn.
    fn live(&self, req: &Request) -> Answer {
        let header = |name| req.headers().get(name).ok().flatten();
        let (Some(agent), Some(workspace_id)) = (header(HEADER_AGENT), header(HEADER_WORKSPACE))
        else {
            return Err(ApiError::unauthorized("no agent"));
        };
        let since = query_int(req, "since")?.unwrap_or(0);
        let identity = SocketIdentity {
            role: "agent".into(),
            id: agent.clone(),
            workspace_id,
            away: false,
        };
        let (server, response) = sockets::accept(&self.state, &identity)?;
        sockets::replay(&server, since, |cursor| self.feed_after(cursor))?;
        self.update_presence(&agent, None);
        Ok(response)
    }

    /// Derives an agent's presence from their sockets (ignoring `closing`)
    /// and pushes it on the feed when it changed.
    fn update_presence(&self, agent_id: &str, closing: Option<&WebSocket>) {
        let mut online = false;
        let mut away = false;
        for ws in self.state.get_websockets_with_tag(agent_id) {
            if closing.is_some_and(|c| *c == ws) {
                continue;
            }
            match ws.deserialize_attachment::<SocketIdentity>() {
                Ok(Some(who)) if who.away => away = true,
                Ok(Some(_)) => online = true,
                _ => {}
            }
        }
        let status = if online {
            "online"
        } else if away {
            "away"
        } else {
            "offline"
        };
        self.set_presence(agent_id, status);
    }

    fn set_presence(&self, agent_id: &str, status: &str) {
        let unchanged = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM presence WHERE agent_id = ? AND status = ?",
            vec![text(agent_id), text(status)],
            0,
        )
        .unwrap_or(0)
            > 0;
        if unchanged || (status == "offline" && !self.known_agent(agent_id)) {
            return;
        }
        let stored = self.sql.exec(
            "INSERT INTO presence (agent_id, status) VALUES (?, ?) \
             ON CONFLICT(agent_id) DO UPDATE SET status = excluded.status",
            vec![text(agent_id), text(status)],
        );
        if let Err(e) = stored {
            worker::console_error!("workspace object: recording presence failed: {e}");
            return;
        }
        if let Err(e) = self.append(FeedBody::Presence {
            agent_id: agent_id.to_string(),
            status: status.to_string(),
        }) {
            worker::console_error!("workspace object: pushing presence failed: {}", e.reason);
        }
    }

    fn known_agent(&self, agent_id: &str) -> bool {
        scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM presence WHERE agent_id = ?",
            vec![text(agent_id)],
            0,
        )
        .unwrap_or(0)
            > 0
    }

    fn reconcile_presence(&self) {
        #[derive(Deserialize)]
        struct Row {
            agent_id: String,
        }
        let rows = self
            .sql
            .exec(
                "SELECT agent_id FROM presence WHERE status != 'offline'",
                None,
            )
            .and_then(|c| c.to_array::<Row>())
            .unwrap_or_default();
        for r in rows {
            self.update_presence(&r.agent_id, None);
        }
    }
}
