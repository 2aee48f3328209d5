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
}

/// Answers `ping` with `pong` in the runtime, without waking the object,
/// so idle sockets cost nothing.
pub fn enable_auto_pong(state: &State) {
    if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
        state.set_websocket_auto_response(&pair);
    }
}

/// Accepts a hibernating socket for `identity`; returns the server end (to
/// send the resume burst on) and the 101 answer carrying the client end.
pub fn accept(state: &State, identity: &SocketIdentity) -> worker::Result<(WebSocket, Response)> {
    let pair = WebSocketPair::new()?;
    state.accept_web_socket(&pair.server);
    pair.server.serialize_attachment(identity)?;
    let response = Response::from_websocket(pair.client)?;
    Ok((pair.server, response))
}

/// Sends `frame` to every socket of the object. A socket that fails is
/// closing; it is dropped by the runtime.
pub fn broadcast(state: &State, frame: &str) {
    for ws in state.get_websockets() {
        let _ = ws.send_with_str(frame);
    }
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
