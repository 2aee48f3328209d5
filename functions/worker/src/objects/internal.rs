//! The bodies the worker and the objects exchange. Not public API.

use crate::http::ApiError;
use serde::{Deserialize, Serialize};
use switchboard_core::inbound::InboundEvent;
use switchboard_core::model::Content;
use switchboard_core::wire::{ConversationSummary, SearchDoc};

/// `GET /export` on a conversation: one page of its transcript.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportPage {
    pub conversation: switchboard_core::transcript::TranscriptHeader,
    /// Oldest first.
    pub messages: Vec<switchboard_core::model::Message>,
    /// The `after` of the next page; none at the end.
    pub next: Option<i64>,
}

/// `GET /export/conversations` on the workspace: ids of conversations that
/// may hold messages in the export's range, by id.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExportConversations {
    pub ids: Vec<String>,
    /// The `after` of the next page; none at the end.
    pub next: Option<String>,
}

/// `POST /ingest` on a conversation: one webhook's events for this thread,
/// in the platform's order.
#[derive(Debug, Serialize, Deserialize)]
pub struct IngestRequest {
    pub workspace_id: String,
    pub inbox_id: String,
    pub channel: String,
    pub conversation_id: String,
    pub events: Vec<InboundEvent>,
}

/// An ingest's counts. This version's worker gets them from the JS RPC
/// `ingest` ([`IngestResult::to_rpc_answer`]). The fetch route `POST
/// /ingest`, kept for a caller of the previous version during a deploy,
/// answers a 200 whose [`IngestResult::HEADER`] carries them (`stored
/// duplicates updated`; that caller reads no body), and the same counts
/// as JSON in the body for the version before that.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestResult {
    /// New messages stored.
    pub stored: u32,
    /// Messages already stored under the same platform id: not stored again.
    pub duplicates: u32,
    /// Outbound messages moved forward by receipts.
    pub updated: u32,
}

impl IngestResult {
    pub const HEADER: &'static str = "x-sb-ingest";

    /// The header's value: `stored duplicates updated`.
    pub fn to_header(&self) -> String {
        format!("{} {} {}", self.stored, self.duplicates, self.updated)
    }

    /// Reads [`IngestResult::to_header`]'s value; `None` unless it is
    /// exactly three numbers.
    pub fn from_header(value: &str) -> Option<IngestResult> {
        let mut parts = value.split(' ').map(|n| n.parse::<u32>().ok());
        let result = IngestResult {
            stored: parts.next()??,
            duplicates: parts.next()??,
            updated: parts.next()??,
        };
        parts.next().is_none().then_some(result)
    }

    /// The JS RPC `ingest`'s answer (`ConversationObject::ingest_rpc`): one
    /// string, `200 stored duplicates updated` when stored, `{status}
    /// {reason}` when the object refused (a 4xx reaches a widget visitor
    /// as the fetch route's refusal did). A string crosses RPC as one
    /// structured-clone value and the wasm boundary as one copy.
    pub fn to_rpc_answer(answer: Result<IngestResult, ApiError>) -> String {
        rpc_answer(answer.map(|result| result.to_header()))
    }

    /// Reads [`IngestResult::to_rpc_answer`]'s string; `None` when it is
    /// not one (the object's answer is ours, so that is a bug, not input).
    pub fn from_rpc_answer(answer: &str) -> Option<Result<IngestResult, ApiError>> {
        match read_rpc_answer(answer)? {
            Ok(counts) => Self::from_header(counts).map(Ok),
            Err(e) => Some(Err(e)),
        }
    }
}

/// An object's answer to a JS RPC call, as one string (it crosses RPC as
/// one structured-clone value and the wasm boundary as one copy): `200
/// {detail}` when done, `{status} {reason}` when the object refused.
pub fn rpc_answer<D: std::fmt::Display>(answer: Result<D, ApiError>) -> String {
    match answer {
        Ok(detail) => format!("200 {detail}"),
        Err(e) => format!("{} {}", e.status, e.reason),
    }
}

/// Reads [`rpc_answer`]'s string into the detail or the refusal; `None`
/// when it is not one (the answer is ours, so that is a bug, not input).
pub fn read_rpc_answer(answer: &str) -> Option<Result<&str, ApiError>> {
    let (status, rest) = answer.split_once(' ')?;
    match status.parse::<u16>().ok()? {
        200 => Some(Ok(rest)),
        status @ 400..=599 => Some(Err(ApiError::new(status, rest))),
        _ => None,
    }
}

/// `POST /messages` on a conversation: an agent writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendRequest {
    pub agent_id: String,
    pub content: Content,
    /// The agent's client's id for the message: a repeat is stored once.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `Some(false)`: send the original, not a translation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translate: Option<bool>,
}

/// `POST /index` on a workspace: a conversation's current summary and the
/// messages it has not indexed for search yet.
#[derive(Debug, Serialize, Deserialize)]
pub struct IndexUpdate {
    pub summary: ConversationSummary,
    #[serde(default)]
    pub docs: Vec<SearchDoc>,
    /// What the reports count, for the events this update covers.
    #[serde(default)]
    pub report: Vec<switchboard_core::report::ReportFact>,
}

/// Deserializes a field that is present (even as `null`) into `Some`, so
/// `Option<Option<T>>` tells "absent" (`None`) from "set to null"
/// (`Some(None)`).
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `PATCH /conversation` on a conversation: what an agent changes. Absent
/// fields stay as they are. The worker has checked the assignee belongs to
/// the workspace and the labels' shape.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ConversationPatch {
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    /// `Some(None)` unassigns.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

/// `PATCH /contact` on a conversation: the fields an agent edits; `Some(None)`
/// clears one. A field an agent set is no longer overwritten by what the
/// platform says.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ContactPatch {
    pub agent_id: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub notes: Option<Option<String>>,
}

/// `POST /erase` on a conversation: who asked.
#[derive(Debug, Serialize, Deserialize)]
pub struct EraseRequest {
    pub actor_id: String,
}

/// `POST /erase` on a workspace: forget everything of this conversation.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkspaceErase {
    pub conversation_id: String,
}

/// `POST /labels/rewrite` on a workspace: carry a catalog rename (`to`) or
/// delete (no `to`) of label `from` to every conversation carrying it.
#[derive(Debug, Serialize, Deserialize)]
pub struct LabelRewriteJob {
    pub workspace_id: String,
    pub agent_id: String,
    pub from: String,
    pub to: Option<String>,
}

/// `POST /labels/rewrite` on a conversation: the same, for its own labels.
#[derive(Debug, Serialize, Deserialize)]
pub struct LabelRewrite {
    pub agent_id: String,
    pub from: String,
    pub to: Option<String>,
}

/// `POST /round-robin` on a workspace: the next online agent, if any.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RoundRobinAnswer {
    pub agent_id: Option<String>,
}
