//! A WebSocket client for the live endpoints.

use serde_json::Value;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub struct Live {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
}

impl Live {
    /// Connects to `url` (`ws://…`); panics with the server's answer if the
    /// upgrade is refused.
    pub fn connect(url: &str) -> Live {
        Self::try_connect(url).unwrap_or_else(|e| panic!("WebSocket {url} refused: {e}"))
    }

    /// Connects, or returns the HTTP status the server refused with.
    pub fn try_connect(url: &str) -> Result<Live, String> {
        match tungstenite::connect(url) {
            Ok((socket, _)) => Ok(Live { socket }),
            Err(tungstenite::Error::Http(resp)) => Err(format!("{}", resp.status().as_u16())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn set_timeout(&mut self, d: Duration) {
        if let MaybeTlsStream::Plain(s) = self.socket.get_mut() {
            let _ = s.set_read_timeout(Some(d));
        }
    }

    /// The next JSON text frame within `timeout`, or None.
    pub fn next_json(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            self.set_timeout(left.max(Duration::from_millis(1)));
            match self.socket.read() {
                Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return None
                }
                Err(_) => return None,
            }
        }
    }

    /// The next frame that has a `seq` (skips typing and other ephemera).
    pub fn next_event(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let v = self.next_json(left)?;
            if v.get("seq").is_some() {
                return Some(v);
            }
        }
    }

    /// The next event whose `type` is `kind`, skipping others.
    pub fn next_of_type(&mut self, kind: &str, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let v = self.next_json(left)?;
            if v["type"] == kind {
                return Some(v);
            }
        }
    }

    pub fn send_text(&mut self, text: &str) {
        let _ = self.socket.send(Message::text(text));
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
    }
}
