//! Agents' writes and the outbox: a reply is stored `pending`, sent, and
//! marked `sent` or `failed`; transient failures are retried from the alarm.

use super::*;

impl ConversationObject {
    /// `POST /messages`: an agent's note or reply. A repeat of a stored
    /// `client_id` is answered 200 with the stored message, nothing written
    /// or sent again (409 if it names a different message).
    pub(super) async fn write(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let mut body: SendRequest = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("message body: {e}")))?;
        // A file is named by its upload's id; the record fills in the rest.
        if let Some(a) = body.content.attachment() {
            let id =
                a.id.clone()
                    .ok_or_else(|| ApiError::bad_request("an attachment must be uploaded first"))?;
            let caption = body.content.text();
            body.content = self.stored_content(&id, (!caption.is_empty()).then_some(caption))?;
        }
        if let Some(stored) = self.repeat_of(&conv, &body)? {
            return json(200, &stored).map_err(ApiError::from);
        }
        let inbox = if body.content.leaves_switchboard() {
            Some(self.inbox(&conv).await?)
        } else {
            None
        };
        // Into the customer's language, waiting at most a few seconds.
        let translation = if inbox.is_some() {
            self.outbound_translation(&conv, &body).await
        } else {
            None
        };
        // The inbox read (and the translation) let other requests in: the twin of this one may
        // have been stored meanwhile. From here to the insert nothing
        // awaits, so the check and the write are one turn of the object.
        if let Some(stored) = self.repeat_of(&conv, &body)? {
            return json(200, &stored).map_err(ApiError::from);
        }
        let now = now_ms();
        // The widget's replies reach the visitor over this object's own
        // sockets: stored is delivered, there is nothing to send.
        let leaves = inbox.as_ref().is_some_and(|i| !i.settings.delivers_live());
        let seq = self.last_seq.get() + 1;
        let mut message = Message {
            id: format!("msg_{seq}"),
            conversation_id: conv.id.clone(),
            seq,
            direction: Direction::Outbound,
            kind: body.content.kind().to_string(),
            text: body.content.text(),
            content: body.content,
            platform_id: None,
            status: if leaves {
                MessageStatus::Pending
            } else {
                MessageStatus::Sent
            },
            error: None,
            reply_to: None,
            sender_id: Some(body.agent_id),
            client_id: body.client_id,
            created_at: now,
            translation,
        };
        if let Some(inbox) = inbox.as_ref().filter(|_| leaves) {
            // Refuse up front what the channel cannot send (a closed
            // WhatsApp window, a kind it lacks): nothing is stored.
            let config = Config::from_env(&self.env);
            let key = format!("{}/{}", conv.id, message.id);
            let ctx = send_context(&config, &conv, now, &key);
            let sent = translate::sent_content(&message.content, message.translation.as_ref());
            match attachments::stored_attachment_id(&sent) {
                Some(_) => self.check_media_send(inbox, &ctx, &conv, &sent),
                None => inbox
                    .settings
                    .build_send(&ctx, &conv.contact(), &sent, None)
                    .map(|_| ()),
            }
            .map_err(|reason| ApiError::new(422, reason))?;
        }
        if !self.insert_message(&message, leaves.then_some(now + SEND_LEASE_MS), None)? {
            return Err(ApiError::internal(
                "storing an agent's message",
                "the insert conflicted after the client_id check",
            ));
        }
        self.link_upload(&message.content, &message.id);
        self.write_conversation(
            "UPDATE conversation SET updated_at = ? WHERE one = 1",
            vec![int(now)],
            "touching the conversation",
        )?;
        self.append(
            now,
            EventBody::MessageCreated {
                message: message.clone(),
            },
        )?;
        if leaves {
            self.schedule_alarm(Some(now + SEND_LEASE_MS)).await;
            if let Some(updated) = self.attempt_send(&conv, &message.id, 0).await {
                message.status = updated.status;
                message.platform_id = updated.platform_id;
                message.error = updated.error;
            }
        }
        self.schedule_index().await;
        json(201, &message).map_err(ApiError::from)
    }

    /// The stored message a write repeats (same `client_id`), if any.
    fn repeat_of(
        &self,
        conv: &ConversationRow,
        body: &SendRequest,
    ) -> std::result::Result<Option<Message>, ApiError> {
        let Some(client_id) = body.client_id.as_deref() else {
            return Ok(None);
        };
        let Some(row) = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_id = ?"),
                vec![text(client_id)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("finding a message by client_id"))?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let same_sender = row.sender_id.as_deref() == Some(body.agent_id.as_str());
        let Some(stored) = row.into_message(&conv.id) else {
            return Err(ApiError::internal(
                "reading a stored message",
                "unreadable row",
            ));
        };
        if !same_sender || stored.content != body.content {
            return Err(ApiError::new(
                409,
                "client_id was already used for a different message in this conversation",
            ));
        }
        Ok(Some(stored))
    }

    pub(super) async fn inbox(
        &self,
        conv: &ConversationRow,
    ) -> std::result::Result<std::rc::Rc<db::Inbox>, ApiError> {
        let database = db::database(&self.env)?;
        db::inbox(&database, &conv.inbox_id, now_ms())
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    409,
                    "this conversation's inbox was deleted; replies cannot be sent",
                )
            })
    }

    /// One delivery attempt of a pending reply. Returns the message as it
    /// stands afterwards.
    pub(super) async fn attempt_send(
        &self,
        conv: &ConversationRow,
        message_id: &str,
        attempts: i64,
    ) -> Option<Message> {
        let row = self.message(message_id).ok().flatten()?;
        if row.status != "pending" {
            return row.into_message(&conv.id);
        }
        let now = now_ms();
        let outcome = match self.inbox(conv).await {
            Err(e) => SendOutcome::Failed { error: e.reason },
            Ok(inbox) => {
                let config = Config::from_env(&self.env);
                let key = format!("{}/{}", conv.id, row.id);
                let translation = row
                    .translation
                    .as_deref()
                    .and_then(|t| serde_json::from_str(t).ok());
                let content: Option<Content> = serde_json::from_str::<Content>(&row.content)
                    .ok()
                    .map(|c| translate::sent_content(&c, translation.as_ref()));
                let ctx = send_context(&config, conv, now, &key);
                match content {
                    None => SendOutcome::Failed {
                        error: "stored content is unreadable".into(),
                    },
                    Some(c) => match attachments::stored_attachment_id(&c) {
                        Some(id) => self.send_media(conv, &inbox, &ctx, &c, id).await,
                        None => match inbox.settings.build_send(
                            &ctx,
                            &conv.contact(),
                            &c,
                            row.reply_to.as_deref(),
                        ) {
                            Err(reason) => SendOutcome::Failed { error: reason },
                            Ok(request) => match platform::send(&request, SEND_TIMEOUT).await {
                                Ok((status, body)) => {
                                    inbox.settings.classify_request(&request, status, &body)
                                }
                                Err(reason) => SendOutcome::Retry { reason },
                            },
                        },
                    },
                }
            }
        };
        // Erased while the send was in flight: there is nothing to record.
        if !matches!(self.conversation(), Ok(Some(_))) {
            return None;
        }
        let now = now_ms();
        let result = match outcome {
            SendOutcome::Sent { platform_id } => self.set_status(
                message_id,
                MessageStatus::Sent,
                Some(&platform_id),
                None,
                now,
            ),
            SendOutcome::Failed { error } => {
                self.set_status(message_id, MessageStatus::Failed, None, Some(&error), now)
            }
            SendOutcome::Retry { reason } => {
                let attempts = attempts + 1;
                if attempts >= MAX_ATTEMPTS {
                    let error = format!("gave up after {attempts} attempts: {reason}");
                    self.set_status(message_id, MessageStatus::Failed, None, Some(&error), now)
                } else {
                    let next = now + backoff_ms(attempts);
                    self.outbox_next.set(None);
                    let _ = self.sql.exec(
                        "UPDATE messages SET attempts = ?, next_attempt_at = ?, error = ? WHERE id = ?",
                        vec![int(attempts), int(next), text(&reason), text(message_id)],
                    );
                    self.schedule_alarm(Some(next)).await;
                    Ok(())
                }
            }
        };
        if let Err(e) = result {
            worker::console_error!(
                "conversation object: recording a send outcome failed: {}",
                e.reason
            );
        }
        self.message(message_id)
            .ok()
            .flatten()?
            .into_message(&conv.id)
    }

    pub(super) fn message(&self, id: &str) -> std::result::Result<Option<MessageRow>, ApiError> {
        Ok(self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"),
                vec![text(id)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading a message"))?
            .into_iter()
            .next())
    }

    /// When the outbox next has a reply to send, if ever: read once, then
    /// kept until a reply's send state changes.
    pub(super) fn outbox_next_attempt(&self) -> Option<i64> {
        if let Some(known) = self.outbox_next.get() {
            return known;
        }
        let next = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(next_attempt_at), 0) AS n FROM messages WHERE status = 'pending'",
            vec![],
            0,
        )
        .ok()?;
        let next = (next > 0).then_some(next);
        self.outbox_next.set(Some(next));
        next
    }

    /// Sends every pending reply whose time has come.
    pub(super) async fn retry_outbox(&self, now: i64) {
        if self.outbox_next_attempt().is_none_or(|next| next > now) {
            return;
        }
        let Ok(Some(conv)) = self.conversation() else {
            return;
        };
        let due = self
            .sql
            .exec(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'pending' \
                     AND next_attempt_at <= ? ORDER BY seq"
                ),
                vec![int(now)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .unwrap_or_default();
        for row in due {
            // Lease it before the send, so a crash mid-send retries later.
            self.outbox_next.set(None);
            let _ = self.sql.exec(
                "UPDATE messages SET next_attempt_at = ? WHERE id = ?",
                vec![int(now + SEND_LEASE_MS), text(&row.id)],
            );
            self.attempt_send(&conv, &row.id, row.attempts).await;
        }
    }
}

fn send_context<'a>(
    config: &'a Config,
    conv: &ConversationRow,
    now: i64,
    message_key: &'a str,
) -> SendContext<'a> {
    SendContext {
        graph_base: &config.graph_base,
        telegram_base: &config.telegram_base,
        now_ms: now,
        last_inbound_ms: conv.last_inbound_at,
        message_key: Some(message_key),
    }
}

/// 5 s, 20 s, 80 s, … capped at an hour.
fn backoff_ms(attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 10) as u32;
    (5_000i64.saturating_mul(4i64.saturating_pow(exp))).min(3_600_000)
}
