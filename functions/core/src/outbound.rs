//! Outbound sends, as plain data: the request to make and how to read the
//! platform's answer. The worker performs the fetch; the outbox in the
//! conversation's object decides what to do with the [`SendOutcome`].

use serde::Deserialize;

/// An HTTP request to a platform.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the platform's answer means for the message.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// Accepted; the platform's id for the message.
    Sent { platform_id: String },
    /// The platform is down or rate-limiting: try again later.
    Retry { reason: String },
    /// The platform refused it for good; the agent sees `error`.
    Failed { error: String },
}

/// Whether a status means "try again later": 5xx, 429 and 408.
pub fn is_transient(status: u16) -> bool {
    status >= 500 || status == 429 || status == 408
}

#[derive(Deserialize)]
struct GraphError {
    error: Option<GraphErrorBody>,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    message: Option<String>,
    code: Option<i64>,
}

/// Reads a Graph API answer whose success body names the new message's id in
/// `id_field` (`message_id` for Messenger and Instagram).
pub fn classify_graph(status: u16, body: &[u8], id_field: &str) -> SendOutcome {
    if (200..300).contains(&status) {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        return match v.get(id_field).and_then(|x| x.as_str()) {
            Some(id) => SendOutcome::Sent {
                platform_id: id.to_string(),
            },
            None => SendOutcome::Failed {
                error: format!("the platform answered {status} without a {id_field}"),
            },
        };
    }
    let detail = serde_json::from_slice::<GraphError>(body)
        .ok()
        .and_then(|e| e.error)
        .map(|e| match (e.message, e.code) {
            (Some(m), Some(c)) => format!("{m} (code {c})"),
            (Some(m), None) => m,
            (None, Some(c)) => format!("code {c}"),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let error = if detail.is_empty() {
        format!("the platform answered {status}")
    } else {
        format!("the platform answered {status}: {detail}")
    };
    if is_transient(status) {
        SendOutcome::Retry { reason: error }
    } else {
        SendOutcome::Failed { error }
    }
}
