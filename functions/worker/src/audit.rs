//! The audit log's writer for actions taken in a request: who (the
//! caller), what, on which id, when. Details are ids and settings, never
//! personal data. A failed write is logged and does not undo the action
//! (which has already happened); erasure records its own entry with
//! retries (`objects/conversation/erasure.rs`).

use crate::auth::Agent;
use crate::db::{self, AuditEntry};
use crate::runtime::{new_id, now_ms};
use worker::D1Database;

pub async fn record(
    database: &D1Database,
    by: &Agent,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) {
    let id = match new_id("au_") {
        Ok(id) => id,
        Err(e) => {
            worker::console_error!("audit: no id for {action}: {e}");
            return;
        }
    };
    let detail = detail.to_string();
    let entry = AuditEntry {
        id: &id,
        workspace_id: &by.workspace_id,
        actor_id: &by.agent_id,
        action,
        target,
        detail: &detail,
        at: now_ms(),
    };
    if let Err(e) = db::record_audit(database, &entry).await {
        worker::console_error!("audit: recording {action} failed: {}", e.reason);
    }
}
