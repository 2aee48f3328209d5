//! The agents' tools: status (and snooze), assignment (and round-robin),
//! labels, contact edits, export.

use super::*;

impl ConversationObject {
    /// Sets the status (and when a snooze ends) and appends the event.
    pub(super) fn set_conversation_status(
        &self,
        c: &mut ConversationRow,
        status: &str,
        snoozed_until: Option<i64>,
        by: Option<&str>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        self.write_conversation(
            "UPDATE conversation SET status = ?, snoozed_until = ? WHERE one = 1",
            vec![
                text(status),
                snoozed_until.map(int).unwrap_or(SqlStorageValue::Null),
            ],
            "updating the status",
        )?;
        c.status = status.to_string();
        c.snoozed_until = snoozed_until;
        self.append(
            now,
            EventBody::ConversationStatus {
                status: status.to_string(),
                snoozed_until,
                by: by.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// Reopens a snoozed conversation whose time has come.
    pub(super) fn wake_if_snooze_over(&self, now: i64) -> std::result::Result<(), ApiError> {
        let Some(mut c) = self.conversation()? else {
            return Ok(());
        };
        match c.snoozed_until {
            Some(until) if c.status == "snoozed" && until <= now => {
                self.set_conversation_status(&mut c, "open", None, None, now)
            }
            _ => Ok(()),
        }
    }

    /// A new conversation of an inbox with `auto_assign` goes to the next
    /// online agent of the workspace, round-robin. A failure leaves it
    /// unassigned (logged): the message is stored either way.
    pub(super) async fn auto_assign(&self, c: &ConversationRow) {
        let inbox = match self.inbox(c).await {
            Ok(inbox) => inbox,
            Err(_) => return,
        };
        if !inbox.options.auto_assign || c.assignee.is_some() {
            return;
        }
        let picked = async {
            let stub = crate::objects::workspace_stub(&self.env, &c.workspace_id)?;
            let req = crate::objects::internal_request(
                Method::Post,
                "/round-robin",
                Some("{}".into()),
                &[],
            )?;
            let mut resp = crate::objects::call(&stub, req).await?;
            if resp.status_code() != 200 {
                return Err(ApiError::new(resp.status_code(), "round-robin refused"));
            }
            let answer: RoundRobinAnswer = resp.json().await?;
            Ok::<_, ApiError>(answer.agent_id)
        }
        .await;
        match picked {
            Ok(Some(agent)) => {
                // Someone may have assigned it while we asked: theirs wins.
                if let Ok(Some(now_row)) = self.conversation() {
                    if now_row.assignee.is_none() {
                        if let Err(e) = self.set_assignee(Some(&agent), None, now_ms()) {
                            worker::console_error!(
                                "conversation object: auto-assigning failed: {}",
                                e.reason
                            );
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => worker::console_error!(
                "conversation object: asking for the next agent failed: {}",
                e.reason
            ),
        }
    }

    pub(super) fn set_assignee(
        &self,
        assignee: Option<&str>,
        by: Option<&str>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        self.write_conversation(
            "UPDATE conversation SET assignee = ? WHERE one = 1",
            vec![opt_text(assignee)],
            "updating the assignee",
        )?;
        self.append(
            now,
            EventBody::Assigned {
                assignee: assignee.map(str::to_string),
                by: by.map(str::to_string),
            },
        )?;
        Ok(())
    }

    /// `PATCH /conversation`: status, snooze, assignee, labels. Every
    /// change is one event; nothing changes unless all of it is valid.
    pub(super) async fn patch_conversation(&self, req: &mut Request) -> Answer {
        let mut conv = self.conversation_for(req)?;
        let patch: ConversationPatch = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("conversation patch: {e}")))?;
        let now = now_ms();
        let by = Some(patch.agent_id.as_str());
        // Check everything before changing anything.
        let status = match (patch.status.as_deref(), patch.snoozed_until) {
            (None, None) => None,
            (None, Some(until)) if conv.status == "snoozed" => Some(("snoozed", Some(until))),
            (None, Some(_)) => {
                return Err(ApiError::bad_request(
                    "snoozed_until goes with status \"snoozed\"",
                ))
            }
            (Some("snoozed"), until) => Some(("snoozed", until)),
            (Some(s), None) => match STATUSES.iter().find(|k| **k == s) {
                Some(known) => Some((*known, None)),
                None => {
                    return Err(ApiError::bad_request(
                        "status must be one of open, pending, resolved, snoozed",
                    ))
                }
            },
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "snoozed_until goes with status \"snoozed\" only",
                ))
            }
        };
        if let Some(("snoozed", until)) = status {
            match until {
                Some(t) if t > now => {}
                _ => {
                    return Err(ApiError::bad_request(
                        "snoozing needs snoozed_until: a time in the future, in ms since the epoch",
                    ))
                }
            }
        }
        let labels_json = match &patch.labels {
            Some(l) => Some(
                serde_json::to_string(l)
                    .map_err(|e| ApiError::internal("serializing labels", e))?,
            ),
            None => None,
        };
        if let Some((s, until)) = status {
            if s != conv.status || until != conv.snoozed_until {
                self.set_conversation_status(&mut conv, s, until, by, now)?;
            }
        }
        if let Some(assignee) = &patch.assignee {
            if *assignee != conv.assignee {
                self.set_assignee(assignee.as_deref(), by, now)?;
                conv.assignee = assignee.clone();
            }
        }
        if let (Some(labels), Some(labels_json)) = (patch.labels, labels_json) {
            if labels != conv.labels() {
                self.write_conversation(
                    "UPDATE conversation SET labels = ? WHERE one = 1",
                    vec![text(&labels_json)],
                    "updating labels",
                )?;
                conv.labels = labels_json;
                self.append(
                    now,
                    EventBody::Labels {
                        labels,
                        by: by.map(str::to_string),
                    },
                )?;
            }
        }
        // The snooze's end joins the alarm; the index learns of it all.
        self.schedule_index().await;
        json(200, &self.summary(&conv)?).map_err(ApiError::from)
    }

    /// `PATCH /contact`: an agent edits name, email, phone or notes.
    pub(super) async fn patch_contact(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let patch: ContactPatch = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("contact patch: {e}")))?;
        let before = conv.contact();
        let mut contact = before.clone();
        let mut edited: Vec<&str> = Vec::new();
        let fields = [
            ("name", patch.name, &mut contact.name),
            ("email", patch.email, &mut contact.email),
            ("phone", patch.phone, &mut contact.phone),
            ("notes", patch.notes, &mut contact.notes),
        ];
        for (field, value, slot) in fields {
            if let Some(value) = value {
                *slot = value;
                edited.push(field);
            }
        }
        for field in edited {
            self.sql
                .exec(
                    "INSERT OR IGNORE INTO contact_edits (field) VALUES (?)",
                    vec![text(field)],
                )
                .map_err(sql_err("recording a contact edit"))?;
        }
        if contact != before {
            let contact_json = serde_json::to_string(&contact)
                .map_err(|e| ApiError::internal("serializing a contact", e))?;
            self.write_conversation(
                "UPDATE conversation SET contact = ? WHERE one = 1",
                vec![text(&contact_json)],
                "updating the contact",
            )?;
            self.append(
                now_ms(),
                EventBody::ContactUpdated {
                    contact: contact.clone(),
                    by: Some(patch.agent_id),
                },
            )?;
            self.schedule_index().await;
        }
        json(200, &contact).map_err(ApiError::from)
    }

    /// `GET /export`: every message, oldest first, with the conversation.
    pub(super) fn export(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let rows = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq"),
                None,
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading messages to export"))?;
        let messages: Vec<Message> = rows
            .into_iter()
            .filter_map(|r| r.into_message(&conv.id))
            .collect();
        let attachments = switchboard_core::transcript::attachments_of(&messages);
        let transcript = Transcript {
            conversation: TranscriptHeader {
                id: conv.id.clone(),
                inbox_id: conv.inbox_id.clone(),
                channel: conv.channel.clone(),
                contact: conv.contact(),
                status: conv.status.clone(),
                snoozed_until: conv.snoozed_until,
                assignee: conv.assignee.clone(),
                labels: conv.labels(),
                created_at: conv.created_at,
            },
            messages,
            attachments,
            exported_at: now_ms(),
        };
        json(200, &transcript).map_err(ApiError::from)
    }
}
