//! The alarm's schedule and the workspace index: what the list shows of
//! this conversation and the messages search has not seen yet.

use super::*;

impl ConversationObject {
    /// Sets the alarm to the earliest of `at`, the outbox's next attempt and
    /// the alarm already set.
    pub(super) async fn schedule_alarm(&self, at: Option<i64>) {
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
    pub(super) async fn schedule_index(&self) {
        let soonest = now_ms() + INDEX_DELAY_MS;
        let at = soonest.max(self.indexed_at.get() + INDEX_EVERY_MS + self.index_spread());
        self.schedule_alarm(Some(at)).await;
    }

    /// 0–499 ms, fixed per conversation: conversations that got busy at the
    /// same moment would otherwise all notify the index at the same moment,
    /// once a second, and stall everything else behind that burst.
    pub(super) fn index_spread(&self) -> i64 {
        let id = self.state.id().to_string();
        let hash = id
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        i64::from(hash % 500)
    }

    pub(super) fn summary(
        &self,
        c: &ConversationRow,
    ) -> std::result::Result<ConversationSummary, ApiError> {
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
        let unread = self.unread_count()?;
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

    /// Customer messages after the furthest any agent has read. Counted in
    /// full once, then over the messages stored since only: a message keeps
    /// its `seq` and direction, and every move of a read position drops the
    /// count. A long unread conversation would otherwise cost every index
    /// update a scan of all of it.
    fn unread_count(&self) -> std::result::Result<i64, ApiError> {
        let last = self.last_seq.get();
        let count =
            match self.unread.get() {
                Some((upto, n)) if upto <= last => n + scalar(
                    &self.sql,
                    "SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound' AND seq > ?",
                    vec![int(upto)],
                    0,
                )
                .map_err(sql_err("counting unread messages"))?,
                _ => scalar(
                    &self.sql,
                    "SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound' AND seq > \
                 (SELECT COALESCE(MAX(read_seq), 0) FROM reads WHERE reader LIKE 'ag_%')",
                    vec![],
                    0,
                )
                .map_err(sql_err("counting unread messages"))?,
            };
        self.unread.set(Some((last, count)));
        Ok(count)
    }

    /// Brings the workspace index up to date: the conversation's summary
    /// and the messages it has not indexed yet (for search), in pages.
    /// Returns false when the index could not be reached (the alarm retries).
    pub(super) async fn notify_index(&self) -> bool {
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
            let rows = match self.changed_messages(indexed, DOCS_PER_CALL) {
                Ok(r) => r,
                Err(_) => return false,
            };
            let full = rows.len() as i64 >= DOCS_PER_CALL;
            // A full page indexes up to its last message; the rest follows.
            let upto = match rows.last() {
                Some(r) if full => r.seq,
                _ => seq,
            };
            let Ok(report) = self.report_facts(&conv, &rows, indexed, upto) else {
                return false;
            };
            let Ok(summary) = self.summary(&conv) else {
                return false;
            };
            let docs = rows
                .into_iter()
                .filter_map(ChangedMessage::into_doc)
                .collect();
            let update = IndexUpdate {
                summary,
                docs,
                report,
            };
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

    /// Up to `limit` messages after `seq`, in order: what search and the
    /// reports have not seen yet.
    pub(super) fn changed_messages(
        &self,
        seq: i64,
        limit: i64,
    ) -> std::result::Result<Vec<ChangedMessage>, ApiError> {
        self.sql
            .exec(
                "SELECT id, seq, direction, kind, text, created_at, sent_at, sender_id \
                 FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                vec![int(seq), int(limit)],
            )
            .and_then(|c| c.to_array::<ChangedMessage>())
            .map_err(sql_err("reading messages to index"))
    }

    pub(super) async fn send_index(
        &self,
        workspace_id: &str,
        update: &IndexUpdate,
    ) -> std::result::Result<(), ApiError> {
        let stub = crate::objects::workspace_stub(&self.env, workspace_id)?;
        let body = serde_json::to_string(update)
            .map_err(|e| ApiError::internal("serializing an index update", e))?;
        crate::objects::index(stub, &body).await
    }
}

#[derive(Deserialize)]
pub(super) struct ChangedMessage {
    pub(super) id: String,
    pub(super) seq: i64,
    pub(super) direction: String,
    pub(super) kind: String,
    pub(super) text: String,
    pub(super) created_at: i64,
    pub(super) sent_at: Option<i64>,
    pub(super) sender_id: Option<String>,
}

impl ChangedMessage {
    /// When it was written: the platform's time if it said, else when stored.
    pub(super) fn at(&self) -> i64 {
        self.sent_at.unwrap_or(self.created_at)
    }

    fn into_doc(self) -> Option<SearchDoc> {
        if self.text.is_empty() {
            return None;
        }
        Some(SearchDoc {
            message_id: self.id,
            seq: self.seq,
            direction: Direction::parse(&self.direction)?,
            kind: self.kind,
            text: self.text,
            created_at: self.created_at,
        })
    }
}
