//! The event log: appending with the next `seq`, reading it back (history,
//! long-poll, the resume burst of a socket) and read positions.

use super::*;

impl ConversationObject {
    /// Stores an event with the next `seq` and pushes it to every socket and
    /// waiting long-poll. Output gates hold the pushes until the write is
    /// durable, so no client ever sees an event that could be lost.
    pub(super) fn append(&self, at: i64, body: EventBody) -> std::result::Result<i64, ApiError> {
        let seq = self.last_seq.get() + 1;
        let event = Event { seq, at, body };
        let json = serde_json::to_string(&event)
            .map_err(|e| ApiError::internal("serializing an event", e))?;
        let private = event.body.is_private();
        self.sql
            .exec(
                "INSERT INTO events (seq, type, at, body, private) VALUES (?, ?, ?, ?, ?)",
                vec![
                    int(seq),
                    text(event.body.type_name()),
                    int(at),
                    text(&json),
                    int(private.into()),
                ],
            )
            .map_err(sql_err("storing an event"))?;
        self.last_seq.set(seq);
        if private {
            sockets::broadcast_to(&self.state, ROLE_AGENT, &json);
        } else {
            sockets::broadcast(&self.state, &json);
        }
        self.waiters.wake_all();
        Ok(seq)
    }

    /// `GET /messages?before=<seq>&limit=<n>`: oldest first.
    pub(super) fn list_messages(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let before = crate::http::query_int(req, "before")?.unwrap_or(i64::MAX);
        let limit = crate::http::query_int(req, "limit")?
            .unwrap_or(50)
            .clamp(1, 200);
        let rows = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?"),
                vec![int(before), int(limit)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("listing messages"))?;
        let mut messages: Vec<Message> = rows
            .into_iter()
            .filter_map(|r| r.into_message(&conv.id))
            .collect();
        messages.reverse();
        json(200, &serde_json::json!({ "messages": messages })).map_err(ApiError::from)
    }

    /// A page of events after `since`; for a visitor, only public ones.
    pub(super) fn events_after(
        &self,
        since: i64,
        reader: &Reader,
    ) -> std::result::Result<Vec<String>, ApiError> {
        let query = match reader {
            Reader::Agent(_) => "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            Reader::Visitor => {
                "SELECT body FROM events WHERE seq > ? AND private = 0 ORDER BY seq LIMIT ?"
            }
        };
        let rows = self
            .sql
            .exec(query, vec![int(since), int(MAX_EVENTS_PER_PAGE)])
            .and_then(|c| c.to_array::<Body>())
            .map_err(sql_err("reading events"))?;
        Ok(rows.into_iter().map(|b| b.body).collect())
    }

    /// `GET /events?since=<seq>&wait=<seconds>`.
    pub(super) async fn poll_events(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let reader = self.reader(req, &conv)?;
        let since = crate::http::query_int(req, "since")?.unwrap_or(0);
        let wait = crate::http::query_int(req, "wait")?
            .unwrap_or(0)
            .clamp(0, MAX_WAIT_SECS.into());
        let mut events = self.events_after(since, &reader)?;
        if events.is_empty() && wait > 0 {
            self.waiters.wait(Duration::from_secs(wait as u64)).await;
            events = self.events_after(since, &reader)?;
        }
        // The stored bodies are already JSON: splice them, don't re-encode.
        let body = format!(
            "{{\"events\":[{}],\"last_seq\":{}}}",
            events.join(","),
            self.last_seq.get()
        );
        let mut resp = Response::ok(body)?;
        resp.headers_mut().set("content-type", "application/json")?;
        Ok(resp)
    }

    /// `GET /live?since=<seq>`: the resume burst, then the live stream. Both
    /// happen in one turn of this single-threaded object, so nothing can be
    /// stored between them: no gap, no duplicate.
    pub(super) fn live(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        let reader = self.reader(req, &conv)?;
        let since = crate::http::query_int(req, "since")?.unwrap_or(0);
        let identity = match &reader {
            Reader::Agent(agent) if !agent.is_empty() => SocketIdentity {
                role: ROLE_AGENT.into(),
                id: agent.clone(),
                workspace_id: conv.workspace_id.clone(),
                away: false,
            },
            Reader::Agent(_) => return Err(ApiError::unauthorized("no agent")),
            Reader::Visitor => SocketIdentity {
                role: ROLE_VISITOR.into(),
                id: conv.id.clone(),
                workspace_id: conv.workspace_id.clone(),
                away: false,
            },
        };
        let (server, response) = sockets::accept(&self.state, &identity)?;
        sockets::replay(&server, since, |cursor| self.events_after(cursor, &reader))?;
        if matches!(reader, Reader::Visitor) {
            self.visitor_presence(&conv, true);
        }
        Ok(response)
    }

    /// Tells the workspace's feed that this conversation's visitor came
    /// online or went offline. In the background: a socket never waits for
    /// it, and a lost notice only leaves the online list stale.
    pub(super) fn visitor_presence(&self, conv: &ConversationRow, online: bool) {
        let env = self.env.clone();
        let workspace_id = conv.workspace_id.clone();
        let body = serde_json::json!({
            "conversation_id": conv.id,
            "contact": conv.contact(),
            "online": online,
        })
        .to_string();
        self.state.wait_until(async move {
            let told = async {
                let stub = crate::objects::workspace_stub(&env, &workspace_id)?;
                let req =
                    crate::objects::internal_request(Method::Post, "/visitor", Some(body), &[])?;
                crate::objects::call(&stub, req).await.map(|_| ())
            }
            .await;
            if let Err(e) = told {
                worker::console_error!(
                    "conversation object: telling the feed about a visitor failed: {}",
                    e.reason
                );
            }
        });
    }

    /// `POST /read` `{seq}`: the long-poll client's way to record reading.
    pub(super) async fn read_over_http(&self, req: &mut Request) -> Answer {
        self.conversation_for(req)?;
        let agent = req
            .headers()
            .get(HEADER_AGENT)
            .ok()
            .flatten()
            .ok_or_else(|| ApiError::unauthorized("no agent"))?;
        #[derive(Deserialize)]
        struct ReadIn {
            seq: i64,
        }
        let body: ReadIn = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("read body: {e}")))?;
        self.mark_read(&agent, body.seq).await?;
        json(
            200,
            &serde_json::json!({ "read_seq": body.seq.clamp(0, self.last_seq.get()) }),
        )
        .map_err(ApiError::from)
    }

    /// Records that `reader` has read up to `seq`, and pushes it.
    pub(super) async fn mark_read(
        &self,
        reader: &str,
        seq: i64,
    ) -> std::result::Result<(), ApiError> {
        let seq = seq.clamp(0, self.last_seq.get());
        let previous = scalar(
            &self.sql,
            "SELECT read_seq AS n FROM reads WHERE reader = ?",
            vec![text(reader)],
            0,
        )
        .map_err(sql_err("reading a read position"))?;
        if seq <= previous {
            return Ok(());
        }
        self.sql
            .exec(
                "INSERT INTO reads (reader, read_seq) VALUES (?, ?) \
                 ON CONFLICT(reader) DO UPDATE SET read_seq = MAX(read_seq, excluded.read_seq)",
                vec![text(reader), int(seq)],
            )
            .map_err(sql_err("recording a read position"))?;
        self.unread.set(None);
        self.append(
            now_ms(),
            EventBody::Read {
                reader: reader.to_string(),
                read_seq: seq,
            },
        )?;
        self.schedule_index().await;
        Ok(())
    }
}
