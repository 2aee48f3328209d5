//! Storing what a webhook brought: the conversation row and its contact,
//! messages exactly once by platform id, and receipts.

use super::*;

impl ConversationObject {
    /// Stores a message; false when its platform id is already stored
    /// (a redelivery), in which case nothing is written.
    /// `sent_at`: when the platform says it was written, if it says.
    pub(super) fn insert_message(
        &self,
        m: &Message,
        next_attempt_at: Option<i64>,
        sent_at: Option<i64>,
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
                 error, reply_to, sender_id, created_at, next_attempt_at, client_id, sent_at, translation) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
                    opt_text(m.client_id.as_deref()),
                    sent_at.map(int).unwrap_or(SqlStorageValue::Null),
                    m.translation
                        .as_ref()
                        .and_then(|t| serde_json::to_string(t).ok())
                        .map(SqlStorageValue::from)
                        .unwrap_or(SqlStorageValue::Null),
                ],
            )
            .map_err(sql_err("storing a message"))?
            .rows_written();
        Ok(written > 0)
    }

    /// `POST /ingest`: the fetch route, kept for a caller of the previous
    /// version during a deploy (this version's worker calls the JS RPC
    /// method `ingest`, `ingest_rpc` in `mod.rs`). Both run [`Self::store_ingest`].
    pub(super) async fn ingest(&self, req: &mut Request) -> Answer {
        let text = req
            .text()
            .await
            .map_err(|e| ApiError::bad_request(format!("ingest body: {e}")))?;
        let result = self.store_ingest(&text).await?;
        // The counts in a header for the callers of the previous version,
        // which never read the body; the same as JSON for a caller of the
        // version before that.
        let resp = json(200, &result)?;
        resp.headers()
            .set(IngestResult::HEADER, &result.to_header())?;
        Ok(resp)
    }

    /// Stores an ingest (`text`: an [`IngestRequest`] as JSON), whichever
    /// way it came; answers only once every event is written (the output
    /// gate holds the answer until the writes are durable).
    pub(super) async fn store_ingest(
        &self,
        text: &str,
    ) -> std::result::Result<IngestResult, ApiError> {
        // Text, then serde_json: `Request::json` parses into a JS object
        // and walks it with serde_wasm_bindgen, field by field.
        let mut body: IngestRequest = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("ingest body: {e}")))?;
        let events = std::mem::take(&mut body.events);
        let now = now_ms();
        let mut result = IngestResult::default();
        let mut existing = self.conversation()?;
        // A visitor's row exists before their first message (`/open`): that
        // message still starts the conversation, for auto-assignment.
        let mut created = existing
            .as_ref()
            .is_some_and(|c| c.last_inbound_at.is_none() && c.assignee.is_none());
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
        if created && result.stored > 0 {
            if let Some(c) = existing.as_ref() {
                self.auto_assign(c).await;
            }
        }
        if result.stored + result.updated > 0 {
            self.schedule_index().await;
        }
        Ok(result)
    }

    pub(super) fn create_conversation(
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

    pub(super) fn merge_contact(
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

    pub(super) fn edited_contact_fields(&self) -> std::result::Result<Vec<String>, ApiError> {
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

    pub(super) fn store_inbound(
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
        let mut content = m.content;
        let channel = self.conversation()?.map(|c| c.channel).unwrap_or_default();
        let queued = self.prepare_inbound(&channel, conversation_id, &mut content)?;
        let message = Message {
            id: format!("msg_{seq}"),
            conversation_id: conversation_id.to_string(),
            seq,
            direction: m.direction,
            kind: content.kind().to_string(),
            text: content.text(),
            content,
            platform_id: Some(m.platform_id),
            status,
            error: None,
            reply_to: m.reply_to,
            sender_id: None,
            client_id: None,
            created_at: now,
            translation: None,
        };
        // When it was written, as the platform says; never in the future,
        // so a wrong clock can neither hold WhatsApp's window open nor put
        // traffic on days that have not come.
        let sent_at = (m.timestamp_ms > 0).then(|| m.timestamp_ms.min(now));
        if !self.insert_message(&message, None, sent_at)? {
            return Ok(false);
        }
        // Copied from the platform by the alarm, after this answer.
        if let Some((id, source)) = queued {
            self.queue_fetch(&id, &message.id, &source, now)?;
        }
        self.link_upload(&message.content, &message.id);
        // WhatsApp's 24-hour window runs from when the customer wrote;
        // fall back to receipt time.
        let wrote_at = (m.direction == Direction::Inbound).then(|| sent_at.unwrap_or(now));
        self.touch_conversation(now, wrote_at)?;
        self.append(now, EventBody::MessageCreated { message })?;
        Ok(true)
    }

    /// Moves `updated_at` (and `last_inbound_at` for a customer's message),
    /// in the table and in the cached row alike: the hot path keeps its
    /// cache instead of reading the row back for every message.
    pub(super) fn touch_conversation(
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
    pub(super) fn apply_receipt(
        &self,
        r: &Receipt,
        now: i64,
    ) -> std::result::Result<u32, ApiError> {
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

    pub(super) fn set_status(
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
}
