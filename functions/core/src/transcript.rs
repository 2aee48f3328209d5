//! A conversation's transcript, exported as JSON or CSV
//! (`GET /api/conversations/{id}/export`), and the workspace export over a
//! date range (`GET /api/export`).
//!
//! The JSON form is [`Transcript`] as is. The CSV form has one row per
//! message, RFC 4180 quoting (a field with a comma, a quote or a line break
//! is quoted, quotes doubled), CRLF line ends, and a header row. The
//! worker streams both a page of messages at a time with [`csv_header`] and
//! [`csv_row`]; [`to_csv`] is the same text for a transcript in memory.

use crate::model::{Contact, Direction, Message};
use serde::{Deserialize, Serialize};

/// Everything a conversation holds that a person would read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub conversation: TranscriptHeader,
    /// Every message, oldest first: inbound, replies, notes, activity.
    pub messages: Vec<Message>,
    /// Every file the messages carry, with its download link.
    #[serde(default)]
    pub attachments: Vec<TranscriptAttachment>,
    /// Milliseconds since the epoch.
    pub exported_at: i64,
}

/// A file of the conversation: which message carries it and where to get it
/// (`/api/attachments/{id}` once stored; the platform's link otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptAttachment {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// The files `messages` carry, in order.
pub fn attachments_of(messages: &[Message]) -> Vec<TranscriptAttachment> {
    messages
        .iter()
        .filter_map(|m| {
            m.content.attachment().map(|a| TranscriptAttachment {
                message_id: m.id.clone(),
                id: a.id.clone(),
                url: a.url.clone(),
                mime_type: a.mime_type.clone(),
                filename: a.filename.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptHeader {
    pub id: String,
    pub inbox_id: String,
    pub channel: String,
    pub contact: Contact,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    pub assignee: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub created_at: i64,
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 9] = [
    "seq",
    "created_at",
    "direction",
    "kind",
    "sender",
    "status",
    "text",
    "message_id",
    "platform_id",
];

/// The transcript as CSV: a header row, then one row per message.
pub fn to_csv(t: &Transcript) -> String {
    let mut out = csv_header(false);
    for m in &t.messages {
        out.push_str(&csv_row(None, m));
    }
    out
}

/// The header row; with `conversation_id` first for the workspace export.
pub fn csv_header(with_conversation: bool) -> String {
    let mut out = String::new();
    let first = with_conversation.then(|| "conversation_id".to_string());
    push_row(
        &mut out,
        first
            .into_iter()
            .chain(CSV_HEADER.iter().map(|h| h.to_string())),
    );
    out
}

/// One message's row (CRLF included), after its conversation's id when
/// `conversation` is given.
pub fn csv_row(conversation: Option<&str>, m: &Message) -> String {
    let sender = match (m.direction, &m.sender_id) {
        (Direction::Inbound, _) => "customer".to_string(),
        (Direction::Outbound, Some(agent)) => agent.clone(),
        (Direction::Outbound, None) => "business".to_string(),
    };
    let mut out = String::new();
    push_row(
        &mut out,
        conversation.map(str::to_string).into_iter().chain([
            m.seq.to_string(),
            iso8601(m.created_at),
            m.direction.as_str().to_string(),
            m.kind.clone(),
            sender,
            m.status.as_str().to_string(),
            m.text.clone(),
            m.id.clone(),
            m.platform_id.clone().unwrap_or_default(),
        ]),
    );
    out
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (n, f) in fields.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(&f));
    }
    out.push_str("\r\n");
}

/// One field, quoted when it must be. A cell a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading
/// `'`, so a customer's `=HYPERLINK(…)` stays text when an agent opens the
/// export (OWASP's advice for CSV injection).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Content, MessageStatus};

    #[test]
    fn dates_are_utc_iso() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_763_000_000_000), "2025-11-13T02:13:20.000Z");
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_defused() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("+1 555"), "'+1 555");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tcmd"), "'\tcmd");
        assert_eq!(csv_field("\r=1"), "\"'\r=1\"");
        // Ordinary text is untouched; the quote rules still apply.
        assert_eq!(csv_field("hello, world"), "\"hello, world\"");
        assert_eq!(csv_field("a=b"), "a=b");
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_message() {
        let t = Transcript {
            attachments: vec![],
            conversation: TranscriptHeader {
                id: "cv_1".into(),
                inbox_id: "in_1".into(),
                channel: "messenger".into(),
                contact: Contact::new("psid"),
                status: "open".into(),
                snoozed_until: None,
                assignee: None,
                labels: vec![],
                created_at: 0,
            },
            messages: vec![Message {
                id: "msg_1".into(),
                conversation_id: "cv_1".into(),
                seq: 1,
                direction: Direction::Inbound,
                kind: "text".into(),
                text: "a, \"b\"\nc".into(),
                content: Content::Text {
                    text: "a, \"b\"\nc".into(),
                },
                platform_id: Some("m1".into()),
                status: MessageStatus::Received,
                error: None,
                reply_to: None,
                sender_id: None,
                client_id: None,
                translation: None,
                created_at: 0,
            }],
            exported_at: 0,
        };
        assert_eq!(
            to_csv(&t),
            "seq,created_at,direction,kind,sender,status,text,message_id,platform_id\r\n\
             1,1970-01-01T00:00:00.000Z,inbound,text,customer,received,\"a, \"\"b\"\"\nc\",msg_1,m1\r\n"
        );
        let m = t.messages.first().unwrap();
        assert_eq!(
            format!("{}{}", csv_header(true), csv_row(Some("cv_1"), m)),
            "conversation_id,seq,created_at,direction,kind,sender,status,text,message_id,platform_id\r\n\
             cv_1,1,1970-01-01T00:00:00.000Z,inbound,text,customer,received,\"a, \"\"b\"\"\nc\",msg_1,m1\r\n"
        );
    }
}
