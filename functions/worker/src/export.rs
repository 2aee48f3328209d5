//! Streaming exports: a conversation's transcript, or every conversation's
//! messages over a date range, as JSON or CSV, written a page at a time.
//!
//! The response body is a `ReadableStream` that pulls: the runtime asks
//! for the next chunk only when the client has taken the last one, and each
//! chunk is one page (at most [`PAGE`] messages) read from the conversation's
//! object. So an export of 100,000 messages holds one page in memory, not
//! the history, and a slow client slows the export instead of filling the
//! isolate. The conversations come from the workspace object by id
//! (`/export/conversations`), a page of ids at a time.
//!
//! A failure after the first byte cannot change the status any more: the
//! stream is aborted (logged), so the client sees a truncated download, never
//! a silently short one that looks complete (JSON does not parse; the CSV
//! transfer ends with an error).

use crate::http::{ApiError, ApiResult};
use crate::objects::internal::{ExportConversations, ExportPage};
use crate::objects::{self, HEADER_WORKSPACE};
use std::collections::VecDeque;
use switchboard_core::model::Message;
use switchboard_core::transcript::{
    attachments_of, csv_header, csv_row, TranscriptAttachment, TranscriptHeader,
};
use worker::{Env, Method, Response};

/// Messages per page read from a conversation's object.
pub const PAGE: i64 = 500;
/// Conversation ids per page read from the workspace's object.
const ID_PAGE: i64 = 200;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    pub fn parse(v: Option<String>) -> ApiResult<Format> {
        match v.as_deref() {
            None | Some("") | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(_) => Err(ApiError::bad_request("format must be json or csv")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// What an export holds.
pub enum Scope {
    /// One conversation, every message: `{conversation, exported_at, messages}`.
    Conversation(String),
    /// Every conversation's messages with `created_at` in `[from, to)`:
    /// `{from, to, exported_at, conversations: [{conversation, messages}]}`.
    Range { from: i64, to: i64 },
}

struct Current {
    id: String,
    after: i64,
    /// Its header (JSON) has been written.
    opened: bool,
    /// Messages written for it so far (commas between them).
    written: u64,
    /// The files its messages carry, listed with their links after the
    /// messages (JSON); small records, one per file, not the files.
    attachments: Vec<TranscriptAttachment>,
}

/// The export's state between pulls.
struct Pager {
    env: Env,
    workspace_id: String,
    format: Format,
    scope: Scope,
    exported_at: i64,
    started: bool,
    done: bool,
    /// The first page, read before the answer's status was chosen.
    prefetched: Option<ExportPage>,
    ids: VecDeque<String>,
    ids_after: Option<String>,
    ids_exhausted: bool,
    current: Option<Current>,
    conversations_written: u64,
}

/// The first page of a conversation's export: 404 when it does not exist
/// in the caller's workspace (so the answer can still say so).
pub async fn first_page(env: &Env, workspace_id: &str, id: &str) -> ApiResult<ExportPage> {
    page(env, workspace_id, id, 0, i64::MIN, i64::MAX)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// The streaming answer. `first` is the conversation's first page for
/// [`Scope::Conversation`].
pub fn respond(
    env: &Env,
    workspace_id: &str,
    format: Format,
    scope: Scope,
    first: Option<ExportPage>,
    exported_at: i64,
) -> ApiResult<Response> {
    let single = match &scope {
        Scope::Conversation(id) => Some(id.clone()),
        Scope::Range { .. } => None,
    };
    let pager = Pager {
        env: env.clone(),
        workspace_id: workspace_id.to_string(),
        format,
        scope,
        exported_at,
        started: false,
        done: false,
        prefetched: first,
        ids: single.into_iter().collect(),
        ids_after: None,
        ids_exhausted: false,
        current: None,
        conversations_written: 0,
    };
    let stream = futures::stream::unfold(pager, |mut p| async move {
        if p.done {
            return None;
        }
        match p.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<Vec<u8>, worker::Error>(chunk), p)),
            Ok(None) => None,
            Err(e) => {
                worker::console_error!("export aborted: {}", e.reason);
                p.done = true;
                Some((Err(worker::Error::RustError(e.reason)), p))
            }
        }
    });
    Ok(Response::from_stream(stream)?)
}

/// One page of `id`'s messages after `after` in `[from, to)`; none when
/// the conversation is not there (erased meanwhile, or never was).
async fn page(
    env: &Env,
    workspace_id: &str,
    id: &str,
    after: i64,
    from: i64,
    to: i64,
) -> ApiResult<Option<ExportPage>> {
    let stub = objects::conversation_stub(env, workspace_id, id)?;
    let path = format!("/export?after={after}&limit={PAGE}&from={from}&to={to}");
    let identity = [(HEADER_WORKSPACE, workspace_id)];
    let mut resp = objects::call(
        &stub,
        objects::internal_request(Method::Get, &path, None, &identity)?,
    )
    .await?;
    match resp.status_code() {
        200 => {
            Ok(Some(resp.json().await.map_err(|e| {
                ApiError::internal("reading an export page", e)
            })?))
        }
        404 => Ok(None),
        other => Err(ApiError::internal(
            "a conversation refused an export page",
            other,
        )),
    }
}

impl Pager {
    fn range(&self) -> (i64, i64) {
        match self.scope {
            Scope::Conversation(_) => (i64::MIN, i64::MAX),
            Scope::Range { from, to } => (from, to),
        }
    }

    fn is_range(&self) -> bool {
        matches!(self.scope, Scope::Range { .. })
    }

    /// The next non-empty chunk, or none at the end.
    async fn next_chunk(&mut self) -> ApiResult<Option<Vec<u8>>> {
        let mut out = String::new();
        if !self.started {
            self.started = true;
            out.push_str(&self.prologue());
        }
        loop {
            if self.current.is_none() {
                match self.next_conversation().await? {
                    Some(id) => {
                        self.current = Some(Current {
                            id,
                            after: 0,
                            opened: false,
                            written: 0,
                            attachments: Vec::new(),
                        })
                    }
                    None => {
                        out.push_str(&self.epilogue());
                        self.done = true;
                        return Ok((!out.is_empty()).then(|| out.into_bytes()));
                    }
                }
            }
            let Some(cur) = self.current.as_ref() else {
                continue;
            };
            let (id, after) = (cur.id.clone(), cur.after);
            let fetched = match self.prefetched.take() {
                Some(p) => Some(p),
                None => {
                    let (from, to) = self.range();
                    page(&self.env, &self.workspace_id, &id, after, from, to).await?
                }
            };
            let Some(p) = fetched else {
                // Gone (erased during the export): what was written is closed.
                self.finish_current(&mut out);
                continue;
            };
            self.write_page(&mut out, &p);
            match (p.next, self.current.as_mut()) {
                (Some(next), Some(cur)) => cur.after = next,
                _ => self.finish_current(&mut out),
            }
            if !out.is_empty() {
                return Ok(Some(out.into_bytes()));
            }
        }
    }

    async fn next_conversation(&mut self) -> ApiResult<Option<String>> {
        if let Some(id) = self.ids.pop_front() {
            return Ok(Some(id));
        }
        let Scope::Range { from, .. } = self.scope else {
            return Ok(None);
        };
        if self.ids_exhausted {
            return Ok(None);
        }
        let stub = objects::workspace_stub(&self.env, &self.workspace_id)?;
        let after = self.ids_after.clone().unwrap_or_default();
        let path = format!("/export/conversations?from={from}&after={after}&limit={ID_PAGE}");
        let mut resp = objects::call(
            &stub,
            objects::internal_request(Method::Get, &path, None, &[])?,
        )
        .await?;
        if resp.status_code() != 200 {
            return Err(ApiError::internal(
                "the workspace refused to list conversations to export",
                resp.status_code(),
            ));
        }
        let listed: ExportConversations = resp
            .json()
            .await
            .map_err(|e| ApiError::internal("reading conversations to export", e))?;
        self.ids_exhausted = listed.next.is_none();
        self.ids_after = listed.next;
        self.ids = listed.ids.into();
        Ok(self.ids.pop_front())
    }

    fn write_page(&mut self, out: &mut String, p: &ExportPage) {
        let single = !self.is_range();
        let format = self.format;
        let exported_at = self.exported_at;
        let first_conversation = self.conversations_written == 0;
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        // A range export leaves out conversations with nothing in range.
        if !cur.opened && (single || !p.messages.is_empty()) {
            cur.opened = true;
            self.conversations_written += 1;
            if format == Format::Json {
                out.push_str(&open_json(
                    &p.conversation,
                    single.then_some(exported_at),
                    first_conversation,
                ));
            }
        }
        for m in &p.messages {
            match format {
                Format::Json => {
                    if cur.written > 0 {
                        out.push(',');
                    }
                    out.push_str(&message_json(m));
                }
                Format::Csv => out.push_str(&csv_row((!single).then_some(cur.id.as_str()), m)),
            }
            cur.written += 1;
        }
        if format == Format::Json {
            cur.attachments.extend(attachments_of(&p.messages));
        }
    }

    fn finish_current(&mut self, out: &mut String) {
        if let Some(cur) = self.current.take() {
            if cur.opened && self.format == Format::Json {
                let listed =
                    serde_json::to_string(&cur.attachments).unwrap_or_else(|_| "[]".into());
                out.push_str("],\"attachments\":");
                out.push_str(&listed);
                out.push('}');
            }
        }
    }

    fn prologue(&self) -> String {
        match (&self.scope, self.format) {
            (Scope::Conversation(_), Format::Json) => String::new(),
            (Scope::Range { from, to }, Format::Json) => format!(
                "{{\"from\":{from},\"to\":{to},\"exported_at\":{},\"conversations\":[",
                self.exported_at
            ),
            (scope, Format::Csv) => csv_header(matches!(scope, Scope::Range { .. })),
        }
    }

    fn epilogue(&self) -> String {
        match (&self.scope, self.format) {
            (Scope::Range { .. }, Format::Json) => "]}".to_string(),
            _ => String::new(),
        }
    }
}

/// `{"conversation":…,"messages":[` (with `exported_at` for a single
/// conversation's export, the transcript's shape), after a comma between
/// conversations of a range export.
fn open_json(header: &TranscriptHeader, exported_at: Option<i64>, first: bool) -> String {
    let header = serde_json::to_string(header).unwrap_or_else(|_| "null".into());
    let comma = if first { "" } else { "," };
    match exported_at {
        Some(at) => {
            format!("{comma}{{\"conversation\":{header},\"exported_at\":{at},\"messages\":[")
        }
        None => format!("{comma}{{\"conversation\":{header},\"messages\":["),
    }
}

fn message_json(m: &Message) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "null".into())
}
