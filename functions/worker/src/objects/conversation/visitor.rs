//! A website visitor's conversation exists from their first session, so an
//! agent can write first (a proactive message) and the widget can hold its
//! socket before anyone wrote.

use super::*;

#[derive(Deserialize)]
pub(super) struct OpenRequest {
    #[serde(flatten)]
    conversation: IngestRequest,
    contact: Contact,
}

impl ConversationObject {
    /// `POST /open` `{workspace_id, inbox_id, channel, conversation_id,
    /// events: [], contact}`: creates the conversation row if it does not
    /// exist yet. No event is stored, so the index does not list it until
    /// someone writes.
    pub(super) async fn open_for_visitor(&self, req: &mut Request) -> Answer {
        let body: OpenRequest = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("open body: {e}")))?;
        let created = self.conversation()?.is_none();
        if created {
            self.create_conversation(&body.conversation, &body.contact, now_ms())?;
        }
        json(200, &serde_json::json!({ "created": created })).map_err(ApiError::from)
    }
}
