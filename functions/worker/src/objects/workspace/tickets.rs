//! Single use of socket tickets (`switchboard_core::ticket`). The worker
//! checks a ticket's MAC and expiry itself; before it opens the socket it
//! asks here whether the ticket's nonce is new. The nonce is recorded in
//! this object's SQLite, which is durable: a ticket replayed after a
//! restart of the server (or of this object) is still refused. Rows are
//! kept only until the ticket would have expired anyway, so the table
//! holds at most the tickets of the last 30 seconds.

use super::*;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS used_tickets (nonce TEXT PRIMARY KEY, exp INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS used_tickets_by_exp ON used_tickets(exp);
";

#[derive(Deserialize)]
struct Consume {
    nonce: String,
    /// The ticket's expiry, unix seconds.
    exp: i64,
}

impl WorkspaceObject {
    /// `POST /tickets/consume {nonce, exp}`: `{"fresh": true}` the first
    /// time a nonce is offered, `{"fresh": false}` after. One turn of the
    /// object, so two sockets racing with one ticket cannot both win.
    pub(super) async fn consume_ticket(&self, req: &mut Request) -> Answer {
        let body: Consume = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("ticket body: {e}")))?;
        let now_secs = now_ms() / 1000;
        self.sql
            .exec(
                "DELETE FROM used_tickets WHERE exp <= ?",
                vec![int(now_secs)],
            )
            .map_err(sql_err("forgetting expired tickets"))?;
        let before = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM used_tickets WHERE nonce = ?",
            vec![text(&body.nonce)],
            0,
        )
        .map_err(sql_err("looking up a ticket"))?;
        if before == 0 {
            self.sql
                .exec(
                    "INSERT INTO used_tickets (nonce, exp) VALUES (?, ?)",
                    vec![text(&body.nonce), int(body.exp)],
                )
                .map_err(sql_err("recording a ticket"))?;
        }
        json(200, &serde_json::json!({ "fresh": before == 0 })).map_err(ApiError::from)
    }
}
