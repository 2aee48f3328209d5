//! What the reports count, read from this conversation's own log for the
//! events an index update covers, and sent with it to the workspace
//! (`switchboard_core::report::ReportFact`). Every fact is derived from
//! stored events alone, so a retried update carries the same facts, and
//! the workspace applies each `seq` once.
//!
//! - opened: the customer's first message (when they wrote it);
//! - messages in and out: every message but notes and activity (echoes of
//!   replies sent from the platform's own tools count as out);
//! - first response: the first reply after the customer's first message,
//!   measured from it, by the agent who wrote it (none for an echo);
//! - resolved: each move to `resolved`, measured from when that cycle
//!   began (the first message, or the first status change after the
//!   previous resolution), by who resolved it (else the assignee).

use super::index::ChangedMessage;
use super::*;
use switchboard_core::report::ReportFact;

/// Kinds that are not traffic with the customer.
fn is_traffic(kind: &str) -> bool {
    kind != "note" && kind != "activity"
}

#[derive(Deserialize)]
struct StatusRow {
    seq: i64,
    at: i64,
    body: String,
}

impl ConversationObject {
    pub(super) fn report_facts(
        &self,
        conv: &ConversationRow,
        rows: &[ChangedMessage],
        after: i64,
        upto: i64,
    ) -> std::result::Result<Vec<ReportFact>, ApiError> {
        let mut facts = Vec::new();
        let covers = |seq: i64| seq > after && seq <= upto;
        let first_inbound = self.first_inbound()?;
        if let Some((seq, at)) = first_inbound.filter(|(seq, _)| covers(*seq)) {
            facts.push(ReportFact::Opened {
                seq,
                at,
                agent: conv.assignee.clone(),
            });
        }
        for m in rows.iter().filter(|m| is_traffic(&m.kind)) {
            let inbound = m.direction == "inbound";
            facts.push(ReportFact::Message {
                seq: m.seq,
                at: m.at(),
                inbound,
                agent: if inbound {
                    conv.assignee.clone()
                } else {
                    m.sender_id.clone()
                },
            });
        }
        if let Some((opened_seq, opened_at)) = first_inbound {
            let replies_here = rows
                .iter()
                .any(|m| m.direction == "outbound" && is_traffic(&m.kind) && m.seq > opened_seq);
            if replies_here {
                if let Some(reply) = self.first_reply(opened_seq)? {
                    if let Some(m) = rows.iter().find(|m| m.seq == reply && covers(reply)) {
                        facts.push(ReportFact::FirstResponse {
                            seq: m.seq,
                            at: m.at(),
                            ms: (m.at() - opened_at).max(0),
                            agent: m.sender_id.clone(),
                        });
                    }
                }
            }
        }
        // `seq` is gapless and every message is an event: when the range
        // holds only messages there is no status change to read.
        if upto - after > rows.len() as i64 {
            self.resolutions(conv, first_inbound, after, upto, &mut facts)?;
        }
        Ok(facts)
    }

    /// The customer's first message `(seq, at)`, once there is one.
    fn first_inbound(&self) -> std::result::Result<Option<(i64, i64)>, ApiError> {
        if let Some(known) = self.first_inbound.get() {
            return Ok(Some(known));
        }
        #[derive(Deserialize)]
        struct Row {
            seq: i64,
            created_at: i64,
            sent_at: Option<i64>,
        }
        let found = self
            .sql
            .exec(
                "SELECT seq, created_at, sent_at FROM messages WHERE direction = 'inbound' \
                 ORDER BY seq LIMIT 1",
                None,
            )
            .and_then(|c| c.to_array::<Row>())
            .map_err(sql_err("finding the first customer message"))?
            .into_iter()
            .next()
            .map(|r| (r.seq, r.sent_at.unwrap_or(r.created_at)));
        if found.is_some() {
            self.first_inbound.set(found);
        }
        Ok(found)
    }

    /// The `seq` of the first reply after the customer's first message.
    fn first_reply(&self, opened_seq: i64) -> std::result::Result<Option<i64>, ApiError> {
        if let Some(known) = self.first_reply.get() {
            return Ok(Some(known));
        }
        let seq = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(seq), 0) AS n FROM messages WHERE direction = 'outbound' \
             AND kind NOT IN ('note', 'activity') AND seq > ?",
            vec![int(opened_seq)],
            0,
        )
        .map_err(sql_err("finding the first reply"))?;
        let found = (seq > 0).then_some(seq);
        if found.is_some() {
            self.first_reply.set(found);
        }
        Ok(found)
    }

    /// A `Resolved` fact for each move to `resolved` in `(after, upto]`.
    fn resolutions(
        &self,
        conv: &ConversationRow,
        first_inbound: Option<(i64, i64)>,
        after: i64,
        upto: i64,
        facts: &mut Vec<ReportFact>,
    ) -> std::result::Result<(), ApiError> {
        let status_rows = |lo: i64| {
            self.sql
                .exec(
                    "SELECT seq, at, body FROM events WHERE type = 'conversation_status' \
                     AND seq > ? AND seq <= ? ORDER BY seq",
                    vec![int(lo), int(upto)],
                )
                .and_then(|c| c.to_array::<StatusRow>())
                .map_err(sql_err("reading status changes"))
        };
        let status_of = |row: &StatusRow| -> (String, Option<String>) {
            let v: serde_json::Value = serde_json::from_str(&row.body).unwrap_or_default();
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            (field("status").unwrap_or_default(), field("by"))
        };
        let here = status_rows(after)?;
        if !here.iter().any(|r| status_of(r).0 == "resolved") {
            return Ok(());
        }
        // Where each cycle began needs the changes before this range too.
        let all = if after > 0 { status_rows(0)? } else { here };
        let mut cycle_start = first_inbound.map_or(conv.created_at, |(_, at)| at);
        let mut resolved = false;
        for row in &all {
            let (status, by) = status_of(row);
            if status == "resolved" {
                if !resolved && row.seq > after {
                    facts.push(ReportFact::Resolved {
                        seq: row.seq,
                        at: row.at,
                        ms: (row.at - cycle_start).max(0),
                        agent: by.or_else(|| conv.assignee.clone()),
                    });
                }
                resolved = true;
            } else if resolved {
                cycle_start = row.at;
                resolved = false;
            }
        }
        Ok(())
    }
}
