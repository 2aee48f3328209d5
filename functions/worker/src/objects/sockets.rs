//! What both objects do with clients: hibernating WebSockets that carry
//! their identity in an attachment, broadcasts, and long-polls waiting for
//! the next event.

use futures::channel::oneshot;
use futures::future::select;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::time::Duration;
use worker::{Delay, Response, State, WebSocket, WebSocketPair};

/// Who is on the other end of a socket; survives hibernation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocketIdentity {
    /// `agent` or `visitor`.
    pub role: String,
    pub id: String,
    pub workspace_id: String,
    /// A dashboard that said it is away (presence).
    #[serde(default)]
    pub away: bool,
}

/// Answers `ping` with `pong` in the runtime, without waking the object,
/// so idle sockets cost nothing.
pub fn enable_auto_pong(state: &State) {
    if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
        state.set_websocket_auto_response(&pair);
    }
}

/// Accepts a hibernating socket for `identity`, tagged with its id and its
/// role; returns the server end (to send the resume burst on) and the 101
/// answer carrying the client end.
pub fn accept(state: &State, identity: &SocketIdentity) -> worker::Result<(WebSocket, Response)> {
    let pair = WebSocketPair::new()?;
    state.accept_websocket_with_tags(
        &pair.server,
        &[identity.id.as_str(), identity.role.as_str()],
    );
    pair.server.serialize_attachment(identity)?;
    let response = Response::from_websocket(pair.client)?;
    Ok((pair.server, response))
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A runtime WebSocket, for `send` with a string already in JS: one
    /// frame is copied out of wasm once, not once per socket.
    #[wasm_bindgen(extends = js_sys::Object)]
    type JsSocket;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_js_string(
        this: &JsSocket,
        data: &js_sys::JsString,
    ) -> std::result::Result<(), wasm_bindgen::JsValue>;
}

/// Sends `frame` to each of `sockets`, converted to a JS string once. A
/// socket that fails is closing; it is dropped by the runtime.
fn send_all(sockets: Vec<WebSocket>, frame: &str) {
    if sockets.is_empty() {
        return;
    }
    let frame = js_sys::JsString::from(frame);
    for ws in &sockets {
        let socket: &web_sys::WebSocket = ws.as_ref();
        let _ = wasm_bindgen::JsCast::unchecked_ref::<JsSocket>(socket).send_js_string(&frame);
    }
}

/// Sends `frame` to every socket of the object.
pub fn broadcast(state: &State, frame: &str) {
    send_all(state.get_websockets(), frame);
}

/// Sends `frame` to the sockets tagged `tag` (a role or an id) only.
pub fn broadcast_to(state: &State, tag: &str, frame: &str) {
    send_all(state.get_websockets_with_tag(tag), frame);
}

/// Sends every event after `since` on `ws`, page by page. Called in the
/// same turn as [`accept`], before anything else can be stored, so the
/// replay and the live stream meet with no gap and no duplicate.
pub fn replay<E>(
    ws: &WebSocket,
    since: i64,
    page_after: impl Fn(i64) -> Result<Vec<String>, E>,
) -> Result<(), E>
where
    E: From<worker::Error>,
{
    let mut cursor = since;
    loop {
        let page = page_after(cursor)?;
        for event in &page {
            ws.send_with_str(event)?;
        }
        // Events are gapless, so the page ends at cursor + its length.
        cursor += page.len() as i64;
        if (page.len() as i64) < switchboard_core::wire::MAX_EVENTS_PER_PAGE {
            return Ok(());
        }
    }
}

/// Answers a client's close frame (the runtime leaves that to us).
pub fn close_reply(ws: &WebSocket, code: usize) {
    // 1005 and 1006 are reserved: they may be received but never sent.
    let code = match u16::try_from(code) {
        Ok(c) if c != 1005 && c != 1006 => c,
        _ => 1000,
    };
    let _ = ws.close(Some(code), Some("closing"));
}

/// Long-polls waiting for the object's next event.
#[derive(Default)]
pub struct Waiters {
    waiting: RefCell<Vec<oneshot::Sender<()>>>,
}

impl Waiters {
    /// Waits until [`Waiters::wake_all`] or `timeout`, whichever is first.
    pub async fn wait(&self, timeout: Duration) {
        let (tx, rx) = oneshot::channel();
        self.waiting.borrow_mut().push(tx);
        let delay = Delay::from(timeout);
        // Woken or timed out: either way the caller reads the log again.
        let _woken_or_timed_out = select(rx, delay).await;
        // Drop senders whose long-poll timed out.
        self.waiting.borrow_mut().retain(|tx| !tx.is_canceled());
    }

    pub fn wake_all(&self) {
        for tx in self.waiting.borrow_mut().drain(..) {
            let _ = tx.send(());
        }
    }
}
