//! Website visitors in the workspace object: who is on the site now and on
//! which page, from their widget's socket and heartbeats; the widget's rate
//! limits; and the conversations left with the leave-a-message form.
//!
//! A visitor is `online` while their widget holds a socket or its
//! heartbeats arrive, `idle` once a heartbeat is `VISITOR_IDLE_SECS` late,
//! `offline` when the page says it left, the last socket closed, or
//! heartbeats stopped for `VISITOR_OFFLINE_SECS`. Every change of status or
//! page is a `visitor` event on the feed.

use super::*;
use std::cell::Cell;
use switchboard_core::channels::widget::Visit;
use switchboard_core::model::Contact;

const DEFAULT_IDLE_SECS: i64 = 90;
const DEFAULT_OFFLINE_SECS: i64 = 300;
/// Page views and heartbeats a minute per visitor (a heartbeat is every 20 s).
const VISITS_PER_MINUTE: i64 = 30;

#[derive(Deserialize)]
struct Row {
    conversation_id: String,
    contact: String,
    status: String,
    since: i64,
    last_seen: i64,
    visit: Option<String>,
    /// 1 when the conversation is in the index (someone wrote).
    #[serde(default)]
    started: i64,
}

impl Row {
    fn contact(&self) -> Contact {
        serde_json::from_str(&self.contact).unwrap_or_default()
    }
    fn visit(&self) -> Option<Visit> {
        self.visit
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
    }
}

/// What a widget reported (the worker checked the visit and the token).
#[derive(Deserialize)]
struct VisitIn {
    conversation_id: String,
    contact: Contact,
    /// `view` (a page opened), `heartbeat` or `leave`.
    kind: String,
    visit: Option<Visit>,
}

thread_local! {
    static THROTTLE_CALLS: Cell<u32> = const { Cell::new(0) };
}

impl WorkspaceObject {
    fn visitor_secs(&self, name: &str, default: i64) -> i64 {
        self.env
            .var(name)
            .ok()
            .and_then(|v| v.to_string().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    }

    fn visitor_row(&self, id: &str) -> std::result::Result<Option<Row>, ApiError> {
        Ok(self
            .sql
            .exec(
                "SELECT conversation_id, contact, status, since, last_seen, visit \
                 FROM site_visitors WHERE conversation_id = ?",
                vec![text(id)],
            )
            .and_then(|c| c.to_array::<Row>())
            .map_err(sql_err("reading a visitor"))?
            .into_iter()
            .next())
    }

    /// Stores the visitor as `status` (keeping what is not given) and pushes
    /// a feed event when the status or the page changed.
    fn set_visitor(
        &self,
        id: &str,
        contact: &Contact,
        status: &str,
        visit: Option<Visit>,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        let before = self.visitor_row(id)?;
        let was = before.as_ref().map_or("offline", |r| r.status.as_str());
        let mut merged = before.as_ref().map(Row::contact).unwrap_or_default();
        merged.merge(contact);
        if merged.external_id.is_empty() {
            merged.external_id = contact.external_id.clone();
        }
        let page_changed = visit.as_ref().is_some_and(|v| {
            before
                .as_ref()
                .and_then(Row::visit)
                .is_none_or(|old| old.url != v.url || old.title != v.title)
        });
        let mut visit = visit.or_else(|| before.as_ref().and_then(Row::visit));
        if let Some(v) = visit.as_mut() {
            v.last_seen = now;
        }
        let since = match &before {
            Some(r) if r.status != "offline" => r.since,
            _ => now,
        };
        let contact_json = serde_json::to_string(&merged)
            .map_err(|e| ApiError::internal("serializing a contact", e))?;
        let visit_json = visit.as_ref().and_then(|v| serde_json::to_string(v).ok());
        self.sql
            .exec(
                "INSERT INTO site_visitors (conversation_id, contact, status, since, last_seen, visit) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(conversation_id) DO UPDATE SET \
                 contact = excluded.contact, status = excluded.status, since = excluded.since, \
                 last_seen = excluded.last_seen, visit = excluded.visit",
                vec![
                    text(id),
                    text(&contact_json),
                    text(status),
                    int(since),
                    int(now),
                    opt_text(visit_json.as_deref()),
                ],
            )
            .map_err(sql_err("recording a visitor"))?;
        if was != status || page_changed {
            self.append(FeedBody::Visitor {
                conversation_id: id.to_string(),
                contact: merged,
                status: status.to_string(),
                visit: visit.map(Box::new),
            })?;
        }
        Ok(())
    }

    /// `POST /visitor` `{conversation_id, contact, online}`: the visitor's
    /// socket opened, or their last one closed.
    pub(super) async fn visitor(&self, req: &mut Request) -> Answer {
        #[derive(Deserialize)]
        struct SocketNotice {
            conversation_id: String,
            contact: Contact,
            online: bool,
        }
        let v: SocketNotice = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("visitor body: {e}")))?;
        let status = if v.online { "online" } else { "offline" };
        self.set_visitor(&v.conversation_id, &v.contact, status, None, now_ms())?;
        if v.online {
            self.schedule_sweep().await;
        }
        json(200, &serde_json::json!({ "online": v.online })).map_err(ApiError::from)
    }

    /// `POST /visit` `{conversation_id, contact, kind, visit?}`: a page view,
    /// heartbeat or leave. Answers how many agents are online, which the
    /// widget needs to offer chat or the leave-a-message form.
    pub(super) async fn visit(&self, req: &mut Request) -> Answer {
        let v: VisitIn = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("visit body: {e}")))?;
        let now = now_ms();
        // Each page report may push a feed event: a page cannot flood the feed.
        let key = format!("visit:{}", v.conversation_id);
        if let Some(wait) = self.count(&key, VISITS_PER_MINUTE, 60, now)? {
            return Err(ApiError::too_many("too many page reports; slow down", wait));
        }
        match v.kind.as_str() {
            "view" => {
                let visit = v.visit.map(|mut visit| {
                    visit.page_since = now;
                    visit
                });
                self.set_visitor(&v.conversation_id, &v.contact, "online", visit, now)?;
            }
            "heartbeat" => self.set_visitor(&v.conversation_id, &v.contact, "online", None, now)?,
            "leave" => self.set_visitor(&v.conversation_id, &v.contact, "offline", None, now)?,
            _ => {
                return Err(ApiError::bad_request(
                    "kind must be view, heartbeat or leave",
                ))
            }
        }
        if v.kind != "leave" {
            self.schedule_sweep().await;
        }
        let agents_online = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM presence WHERE status = 'online'",
            vec![],
            0,
        )
        .map_err(sql_err("counting online agents"))?;
        json(200, &serde_json::json!({ "agents_online": agents_online })).map_err(ApiError::from)
    }

    /// `GET /visitors`: visitors online or idle now, with their page.
    pub(super) fn visitors(&self) -> Answer {
        let rows = self
            .sql
            .exec(
                "SELECT v.conversation_id, v.contact, v.status, v.since, v.last_seen, v.visit, \
                 (c.id IS NOT NULL) AS started FROM site_visitors v \
                 LEFT JOIN conversations c ON c.id = v.conversation_id \
                 WHERE v.status != 'offline' ORDER BY v.since",
                None,
            )
            .and_then(|c| c.to_array::<Row>())
            .map_err(sql_err("listing online visitors"))?;
        let visitors: Vec<serde_json::Value> = rows
            .into_iter()
            .map(|row| {
                let visit = row.visit();
                serde_json::json!({
                    "conversation_id": row.conversation_id,
                    "contact": row.contact(),
                    "status": row.status,
                    "since": row.since,
                    "last_seen": row.last_seen,
                    "time_on_page_ms": visit.as_ref().map(|v| (v.last_seen - v.page_since).max(0)),
                    "visit": visit,
                    "conversation_started": row.started != 0,
                })
            })
            .collect();
        json(200, &serde_json::json!({ "visitors": visitors })).map_err(ApiError::from)
    }

    async fn schedule_sweep(&self) {
        let storage = self.state.storage();
        if matches!(storage.get_alarm().await, Ok(Some(_))) {
            return;
        }
        let idle_ms = self.visitor_secs("VISITOR_IDLE_SECS", DEFAULT_IDLE_SECS) * 1000;
        if let Err(e) = storage
            .set_alarm(Duration::from_millis(idle_ms as u64))
            .await
        {
            worker::console_error!("workspace object: setting the visitor alarm failed: {e}");
        }
    }

    /// The alarm: visitors whose heartbeats are late turn idle, then
    /// offline; the alarm comes back while anyone is still on the site.
    pub(super) async fn sweep_visitors(&self) {
        let now = now_ms();
        let idle_ms = self.visitor_secs("VISITOR_IDLE_SECS", DEFAULT_IDLE_SECS) * 1000;
        let offline_ms = self.visitor_secs("VISITOR_OFFLINE_SECS", DEFAULT_OFFLINE_SECS) * 1000;
        let rows = self
            .sql
            .exec(
                "SELECT conversation_id, contact, status, since, last_seen, visit \
                 FROM site_visitors WHERE status != 'offline'",
                None,
            )
            .and_then(|c| c.to_array::<Row>())
            .unwrap_or_default();
        let mut next: Option<i64> = None;
        for r in rows {
            let quiet = now - r.last_seen;
            let status = if quiet >= offline_ms {
                "offline"
            } else if quiet >= idle_ms {
                "idle"
            } else {
                "online"
            };
            if status != r.status {
                let moved = self
                    .sql
                    .exec(
                        "UPDATE site_visitors SET status = ? WHERE conversation_id = ?",
                        vec![text(status), text(&r.conversation_id)],
                    )
                    .map_err(sql_err("moving a visitor"))
                    .and_then(|_| {
                        self.append(FeedBody::Visitor {
                            conversation_id: r.conversation_id.clone(),
                            contact: r.contact(),
                            status: status.to_string(),
                            visit: r.visit().map(Box::new),
                        })
                    });
                if let Err(e) = moved {
                    worker::console_error!("workspace object: {}", e.reason);
                }
            }
            let due = match status {
                "online" => Some(r.last_seen + idle_ms),
                "idle" => Some(r.last_seen + offline_ms),
                _ => None,
            };
            next = [next, due].into_iter().flatten().min();
        }
        if let Some(at) = next {
            let wait = (at - now).max(200) as u64;
            if let Err(e) = self
                .state
                .storage()
                .set_alarm(Duration::from_millis(wait))
                .await
            {
                worker::console_error!("workspace object: setting the visitor alarm failed: {e}");
            }
        }
    }

    /// Counts one request against `key`'s fixed window of `window_secs`;
    /// the seconds until it may try again when that makes it over `limit`.
    fn count(
        &self,
        key: &str,
        limit: i64,
        window_secs: i64,
        now: i64,
    ) -> std::result::Result<Option<i64>, ApiError> {
        #[derive(Deserialize)]
        struct Window {
            window_start: i64,
            count: i64,
        }
        let window_ms = window_secs.max(1) * 1000;
        let current = self
            .sql
            .exec(
                "SELECT window_start, count FROM throttle WHERE key = ?",
                vec![text(key)],
            )
            .and_then(|c| c.to_array::<Window>())
            .map_err(sql_err("reading a rate limit"))?
            .into_iter()
            .next()
            .filter(|w| now - w.window_start < window_ms);
        let (start, count) = match current {
            Some(w) => (w.window_start, w.count + 1),
            None => (now, 1),
        };
        self.sql
            .exec(
                "INSERT INTO throttle (key, window_start, count) VALUES (?, ?, ?) \
                 ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start, \
                 count = excluded.count",
                vec![text(key), int(start), int(count)],
            )
            .map_err(sql_err("counting a rate limit"))?;
        let calls = THROTTLE_CALLS.with(|c| {
            c.set(c.get().wrapping_add(1));
            c.get()
        });
        if calls.is_multiple_of(200) {
            let _ = self.sql.exec(
                "DELETE FROM throttle WHERE window_start < ?",
                vec![int(now - 3_600_000)],
            );
        }
        Ok((count > limit).then(|| ((start + window_ms - now + 999) / 1000).max(1)))
    }

    /// `POST /throttle` `{keys: [{key, limit, window_secs}]}`: counts one
    /// request against each key's fixed window; `allowed: false` with
    /// `retry_after` (seconds) when any key is over its limit.
    pub(super) async fn throttle(&self, req: &mut Request) -> Answer {
        #[derive(Deserialize)]
        struct Key {
            key: String,
            limit: i64,
            window_secs: i64,
        }
        #[derive(Deserialize)]
        struct ThrottleIn {
            keys: Vec<Key>,
        }
        let body: ThrottleIn = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("throttle body: {e}")))?;
        let now = now_ms();
        let mut retry_after = 0i64;
        for k in body.keys {
            if let Some(wait) = self.count(&k.key, k.limit, k.window_secs, now)? {
                retry_after = retry_after.max(wait);
            }
        }
        json(
            200,
            &serde_json::json!({ "allowed": retry_after == 0, "retry_after": retry_after }),
        )
        .map_err(ApiError::from)
    }

    /// `POST /offline` `{conversation_id}`: the conversation was started
    /// with the leave-a-message form (listed by `?offline=true`).
    pub(super) async fn mark_offline(&self, req: &mut Request) -> Answer {
        let body: WorkspaceErase = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("offline body: {e}")))?;
        self.sql
            .exec(
                "INSERT OR IGNORE INTO offline_conversations (conversation_id, at) VALUES (?, ?)",
                vec![text(&body.conversation_id), int(now_ms())],
            )
            .map_err(sql_err("marking a conversation offline"))?;
        json(200, &serde_json::json!({ "offline": true })).map_err(ApiError::from)
    }
}
