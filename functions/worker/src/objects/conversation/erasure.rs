//! Erasing the contact (GDPR): this object's storage at once, then the
//! conversation's files in R2, the workspace's index, search and feed, and the audit entry, retried by the
//! alarm until done.

use super::*;

impl ConversationObject {
    /// `POST /erase`: deletes everything this object stores and closes its
    /// sockets, then finishes with the workspace index and the audit log
    /// (retried by the alarm if either cannot be reached now). Answers 200
    /// when all of it is done, 202 when the rest is left to the alarm.
    pub(super) async fn erase(&self, req: &mut Request) -> Answer {
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
        SCHEMA
            .recreate(&self.sql)
            .map_err(sql_err("recreating the tables after erasure"))?;
        self.last_seq.set(0);
        self.first_inbound.set(None);
        self.first_reply.set(None);
        self.unread.set(None);
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
        self.erasure_pending.set(Some(true));
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
    pub(super) async fn finish_erasure(&self) -> bool {
        #[derive(Deserialize)]
        struct Pending {
            conversation_id: String,
            workspace_id: String,
            actor_id: String,
            audit_id: String,
            at: i64,
            index_done: i64,
            audit_done: i64,
            attachments_done: i64,
        }
        if self.erasure_pending.get() == Some(false) {
            return true;
        }
        let pending = self
            .sql
            .exec(
                "SELECT conversation_id, workspace_id, actor_id, audit_id, at, index_done, \
                 audit_done, attachments_done FROM erasure WHERE one = 1",
                None,
            )
            .and_then(|c| c.to_array::<Pending>());
        let p = match pending {
            Ok(rows) => match rows.into_iter().next() {
                Some(p) => p,
                None => {
                    self.erasure_pending.set(Some(false));
                    return true;
                }
            },
            Err(e) => {
                worker::console_error!("conversation object: reading an erasure failed: {e}");
                return false;
            }
        };
        if p.attachments_done == 0 {
            let prefix = switchboard_core::attachments::conversation_prefix(
                &p.workspace_id,
                &p.conversation_id,
            );
            if let Err(e) = crate::r2::delete_prefix(&self.env, &prefix).await {
                worker::console_error!(
                    "conversation object: deleting the erased conversation's files failed (will retry): {}",
                    e.reason
                );
                return false;
            }
            let _ = self
                .sql
                .exec("UPDATE erasure SET attachments_done = 1", None);
        }
        if p.index_done == 0 {
            let forgotten = async {
                let stub = crate::objects::workspace_stub(&self.env, &p.workspace_id)?;
                let body = serde_json::to_string(&WorkspaceErase {
                    conversation_id: p.conversation_id.clone(),
                })
                .map_err(|e| ApiError::internal("serializing an erasure", e))?;
                let req =
                    crate::objects::internal_request(Method::Post, "/erase", Some(body), &[])?;
                let resp = crate::objects::call(&stub, req).await?;
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
        if self.sql.exec("DELETE FROM erasure", None).is_ok() {
            self.erasure_pending.set(Some(false));
        }
        true
    }
}
