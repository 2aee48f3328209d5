//! `WorkspaceObject`: one Durable Object per workspace.
//!
//! It keeps the conversation index (what the list shows), kept current by
//! the conversation objects after each of their changes, and the feed of
//! those changes with its own gapless `seq`, for dashboards.
//!
//! Internal routes (called only by the worker and the conversation objects):
//! - `POST /index` — a conversation's summary; applied only if newer.
//! - `GET /conversations?status` — the list, newest first.
//! - `GET /feed?since&wait` — feed events after `since` (long-poll twin).
//! - `GET /live?since` — WebSocket: feed events after `since`, then live.

use super::sockets::{self, SocketIdentity, Waiters};
use super::{HEADER_AGENT, HEADER_WORKSPACE};
use crate::http::{error_response, json, query, query_int, ApiError};
use crate::runtime::now_ms;
use serde::Deserialize;
use std::cell::Cell;
use std::time::Duration;
use switchboard_core::wire::{
    ConversationSummary, FeedBody, FeedEvent, MAX_EVENTS_PER_PAGE, MAX_WAIT_SECS,
};
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, SqlStorage,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, inbox_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,
  assignee TEXT, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations(updated_at DESC);
CREATE TABLE IF NOT EXISTS feed (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
";

#[durable_object]
pub struct WorkspaceObject {
    state: State,
    #[allow(dead_code)]
    env: Env,
    sql: SqlStorage,
    last_seq: Cell<i64>,
    waiters: Waiters,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct Summary {
    summary: String,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

type Answer = std::result::Result<Response, ApiError>;

fn sql_err(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| ApiError::internal(what, e)
}

fn int(v: i64) -> SqlStorageValue {
    SqlStorageValue::from(v)
}

fn text(v: &str) -> SqlStorageValue {
    SqlStorageValue::from(v.to_string())
}

impl DurableObject for WorkspaceObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            worker::console_error!("workspace object: creating its tables failed: {e}");
        }
        let last_seq = sql
            .exec("SELECT COALESCE(MAX(seq), 0) AS n FROM feed", None)
            .and_then(|c| c.to_array::<Count>())
            .ok()
            .and_then(|r| r.into_iter().next())
            .map(|c| c.n)
            .unwrap_or(0);
        sockets::enable_auto_pong(&state);
        WorkspaceObject {
            state,
            env,
            sql,
            last_seq: Cell::new(last_seq),
            waiters: Waiters::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/index") => self.index(&mut req).await,
            (Method::Get, "/conversations") => self.list(&req),
            (Method::Get, "/feed") => self.poll_feed(&req).await,
            (Method::Get, "/live") => self.live(&req),
            _ => Err(ApiError::not_found("workspace route")),
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => error_response(&e),
        }
    }

    async fn websocket_message(&self, _ws: WebSocket, _m: WebSocketIncomingMessage) -> Result<()> {
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        let code = if code == 1005 || code == 1006 {
            1000
        } else {
            code as u16
        };
        let _ = ws.close(Some(code), Some("closing"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

impl WorkspaceObject {
    /// `POST /index`: upserts a conversation's summary unless the index
    /// already holds a newer one, then pushes it on the feed.
    async fn index(&self, req: &mut Request) -> Answer {
        let summary: ConversationSummary = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("summary body: {e}")))?;
        let stored = self
            .sql
            .exec(
                "SELECT last_seq AS n FROM conversations WHERE id = ?",
                vec![text(&summary.id)],
            )
            .and_then(|c| c.to_array::<Count>())
            .map_err(sql_err("reading an index entry"))?
            .into_iter()
            .next()
            .map(|c| c.n);
        if stored.is_some_and(|s| s >= summary.last_seq) {
            return json(200, &serde_json::json!({ "applied": false })).map_err(ApiError::from);
        }
        let summary_json = serde_json::to_string(&summary)
            .map_err(|e| ApiError::internal("serializing a summary", e))?;
        self.sql
            .exec(
                "INSERT INTO conversations (id, inbox_id, channel, status, assignee, updated_at, last_seq, summary) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, \
                 assignee = excluded.assignee, updated_at = excluded.updated_at, last_seq = excluded.last_seq, \
                 summary = excluded.summary",
                vec![
                    text(&summary.id),
                    text(&summary.inbox_id),
                    text(&summary.channel),
                    text(&summary.status),
                    summary.assignee.as_deref().map(text).unwrap_or(SqlStorageValue::Null),
                    int(summary.updated_at),
                    int(summary.last_seq),
                    text(&summary_json),
                ],
            )
            .map_err(sql_err("writing an index entry"))?;
        self.append(FeedBody::Conversation {
            conversation: summary,
        })?;
        json(200, &serde_json::json!({ "applied": true })).map_err(ApiError::from)
    }

    fn append(&self, body: FeedBody) -> std::result::Result<i64, ApiError> {
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

    /// `GET /conversations?status=open|pending|resolved|snoozed|all`.
    fn list(&self, req: &Request) -> Answer {
        let status = query(req, "status").unwrap_or_else(|| "open".into());
        let limit = query_int(req, "limit")?.unwrap_or(50).clamp(1, 200);
        let rows = if status == "all" {
            self.sql.exec(
                "SELECT summary FROM conversations ORDER BY updated_at DESC, id LIMIT ?",
                vec![int(limit)],
            )
        } else if ["open", "pending", "resolved", "snoozed"].contains(&status.as_str()) {
            self.sql.exec(
                "SELECT summary FROM conversations WHERE status = ? ORDER BY updated_at DESC, id LIMIT ?",
                vec![text(&status), int(limit)],
            )
        } else {
            return Err(ApiError::bad_request(
                "status must be one of open, pending, resolved, snoozed, all",
            ));
        }
        .and_then(|c| c.to_array::<Summary>())
        .map_err(sql_err("listing conversations"))?;
        let body = format!(
            "{{\"conversations\":[{}]}}",
            rows.into_iter()
                .map(|r| r.summary)
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut resp = Response::ok(body)?;
        resp.headers_mut().set("content-type", "application/json")?;
        Ok(resp)
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
        let body = format!(
            "{{\"events\":[{}],\"last_seq\":{}}}",
            events.join(","),
            self.last_seq.get()
        );
        let mut resp = Response::ok(body)?;
        resp.headers_mut().set("content-type", "application/json")?;
        Ok(resp)
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
            id: agent,
            workspace_id,
        };
        let (server, response) = sockets::accept(&self.state, &identity)?;
        let mut cursor = since;
        loop {
            let page = self.feed_after(cursor)?;
            for e in &page {
                server.send_with_str(e)?;
            }
            cursor += page.len() as i64;
            if (page.len() as i64) < MAX_EVENTS_PER_PAGE {
                break;
            }
        }
        Ok(response)
    }
}
