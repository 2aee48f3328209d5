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
    #[serde(default)]
    is_transient: bool,
    error_data: Option<GraphErrorData>,
}

#[derive(Deserialize)]
struct GraphErrorData {
    details: Option<String>,
}

/// Graph API error codes that mean "slow down" even when the HTTP status is
/// a 400: application and page rate limits (4, 17, 32, 613), Messenger's
/// 80007, WhatsApp's throughput (130429) and pair (131056) limits, and the
/// temporary errors 1 and 2.
const GRAPH_RETRY_CODES: &[i64] = &[1, 2, 4, 17, 32, 613, 80007, 130429, 131056];

/// Reads a Graph API answer whose success body names the new message's id in
/// `id_field` (`message_id` for Messenger and Instagram).
pub fn classify_graph(status: u16, body: &[u8], id_field: &str) -> SendOutcome {
    classify_graph_with(status, body, |v| {
        v.get(id_field).and_then(|x| x.as_str()).map(str::to_string)
    })
    .unwrap_or_else(|| SendOutcome::Failed {
        error: format!("the platform answered {status} without a {id_field}"),
    })
}

/// Reads a Graph API answer; on success `find_id` picks the message id out of
/// the body (`None` when it is missing, which the caller turns into an error).
pub fn classify_graph_with(
    status: u16,
    body: &[u8],
    find_id: impl FnOnce(&serde_json::Value) -> Option<String>,
) -> Option<SendOutcome> {
    if (200..300).contains(&status) {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        return find_id(&v)
            .filter(|id| !id.is_empty())
            .map(|platform_id| SendOutcome::Sent { platform_id });
    }
    let parsed = serde_json::from_slice::<GraphError>(body)
        .ok()
        .and_then(|e| e.error);
    let mut transient = is_transient(status);
    let detail = match parsed {
        Some(e) => {
            if e.is_transient || e.code.is_some_and(|c| GRAPH_RETRY_CODES.contains(&c)) {
                transient = true;
            }
            let mut d = match (e.message, e.code) {
                (Some(m), Some(c)) => format!("{m} (code {c})"),
                (Some(m), None) => m,
                (None, Some(c)) => format!("code {c}"),
                (None, None) => String::new(),
            };
            if let Some(details) = e.error_data.and_then(|x| x.details) {
                if !details.is_empty() {
                    d = if d.is_empty() {
                        details
                    } else {
                        format!("{d}: {details}")
                    };
                }
            }
            d
        }
        None => String::new(),
    };
    Some(refusal(status, &detail, transient))
}

/// A non-2xx answer as an outcome: `Retry` when `transient`, else `Failed`,
/// with the platform's own words when it gave any.
pub fn refusal(status: u16, detail: &str, transient: bool) -> SendOutcome {
    let error = if detail.is_empty() {
        format!("the platform answered {status}")
    } else {
        format!("the platform answered {status}: {detail}")
    };
    if transient {
        SendOutcome::Retry { reason: error }
    } else {
        SendOutcome::Failed { error }
    }
}
