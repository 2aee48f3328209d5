//! The bodies the worker and the objects exchange. Not public API.

use serde::{Deserialize, Serialize};
use switchboard_core::inbound::InboundEvent;
use switchboard_core::model::Content;
use switchboard_core::wire::{ConversationSummary, SearchDoc};

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

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IngestResult {
    /// New messages stored.
    pub stored: u32,
    /// Messages already stored under the same platform id: not stored again.
    pub duplicates: u32,
    /// Outbound messages moved forward by receipts.
    pub updated: u32,
}

/// `POST /messages` on a conversation: an agent writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendRequest {
    pub agent_id: String,
    pub content: Content,
}

/// `POST /index` on a workspace: a conversation's current summary and the
/// messages it has not indexed for search yet.
#[derive(Debug, Serialize, Deserialize)]
pub struct IndexUpdate {
    pub summary: ConversationSummary,
    #[serde(default)]
    pub docs: Vec<SearchDoc>,
}
