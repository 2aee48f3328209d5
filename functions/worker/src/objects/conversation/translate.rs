//! Translation in the conversation: the customer's language, inbound
//! messages translated for the agents after they are stored (from the
//! alarm: a webhook's answer never waits for a provider), agents' replies
//! translated for the customer before they are sent (waiting at most
//! `OUTBOUND_TIMEOUT`, then the original goes out), and any message on
//! request. Notes never reach a provider: only what
//! `translatable_text` accepts does, and it refuses notes.
//!
//! The cache and the daily quota are the workspace object's (one per
//! workspace: a text translated for one conversation serves all of them,
//! and the quota counts every conversation's calls).

use super::*;
use crate::translation::{self as tr, Setup};
use switchboard_core::translation::{self as core_tr, detect, language, Translation};

/// An agent's reply waits at most this long for its translation.
pub(super) const OUTBOUND_TIMEOUT: Duration = Duration::from_secs(3);
/// An inbound translation (in the background) may take this long.
const INBOUND_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of an inbound translation the provider keeps failing transiently.
const INBOUND_ATTEMPTS: i64 = 4;
/// Inbound messages translated per alarm; the rest on the next.
const PER_ALARM: i64 = 20;

#[derive(Deserialize, Default)]
struct TranslationState {
    translated_seq: i64,
    language: Option<String>,
    language_source: Option<String>,
}

#[derive(Deserialize)]
struct DueRow {
    id: String,
    content: String,
    translate_attempts: i64,
}

/// Where the customer's language came from.
const SOURCE_AGENT: &str = "agent";
const SOURCE_DETECTED: &str = "detected";

impl ConversationObject {
    fn translation_state(&self) -> TranslationState {
        self.sql
            .exec(
                "SELECT translated_seq, language, language_source FROM translation_state WHERE one = 1",
                None,
            )
            .and_then(|c| c.to_array::<TranslationState>())
            .ok()
            .and_then(|v| v.into_iter().next())
            .unwrap_or_default()
    }

    /// The customer's language: an agent's choice, else what the platform
    /// says (Telegram's `language_code`, the widget's browser language),
    /// else what was detected from their messages.
    pub(super) fn customer_language(&self, conv: &ConversationRow) -> Option<String> {
        let state = self.translation_state();
        if state.language_source.as_deref() == Some(SOURCE_AGENT) {
            return state.language;
        }
        conv.contact()
            .language
            .as_deref()
            .and_then(language::normalize)
            .or(state.language)
    }

    fn set_language(&self, lang: Option<&str>, source: &str) -> std::result::Result<(), ApiError> {
        self.sql
            .exec(
                "INSERT INTO translation_state (one, language, language_source) VALUES (1, ?, ?) \
                 ON CONFLICT(one) DO UPDATE SET language = excluded.language, \
                 language_source = excluded.language_source",
                vec![opt_text(lang), text(source)],
            )
            .map_err(sql_err("storing the customer's language"))?;
        Ok(())
    }

    /// The language the agents read: the assignee's, else the workspace's
    /// default, else English.
    async fn agents_language(&self, conv: &ConversationRow, setup: &Setup) -> String {
        if let Some(assignee) = conv.assignee.as_deref() {
            if let Ok(database) = db::database(&self.env) {
                if let Ok(Some(a)) =
                    crate::accounts_db::agent_view(&database, &conv.workspace_id, assignee).await
                {
                    if let Some(l) = a.language.as_deref().and_then(language::normalize) {
                        return l;
                    }
                }
            }
        }
        setup.language.clone().unwrap_or_else(|| "en".into())
    }

    /// The alarm's part: detect the language of customers' new messages,
    /// queue them for translation when the workspace translates, and try
    /// those whose time has come. Cheap when nothing is new or due.
    pub(super) async fn translate_inbound(&self, now: i64) {
        let state = self.translation_state();
        let due = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(translate_due), 0) AS n FROM messages WHERE translate_due IS NOT NULL",
            vec![],
            0,
        )
        .unwrap_or(0);
        let has_new = self.last_seq.get() > state.translated_seq;
        if !has_new && (due == 0 || due > now) {
            if due > now {
                self.schedule_alarm(Some(due)).await;
            }
            return;
        }
        let Ok(Some(conv)) = self.conversation() else {
            return;
        };
        if has_new {
            if let Err(e) = self.take_new_inbound(&conv, &state, now).await {
                worker::console_error!(
                    "conversation object: queueing translations failed: {}",
                    e.reason
                );
                return;
            }
        }
        let rows = self
            .sql
            .exec(
                "SELECT id, content, translate_attempts FROM messages \
                 WHERE translate_due IS NOT NULL AND translate_due <= ? ORDER BY seq LIMIT ?",
                vec![int(now), int(PER_ALARM)],
            )
            .and_then(|c| c.to_array::<DueRow>())
            .unwrap_or_default();
        if !rows.is_empty() {
            match tr::setup(&self.env, &conv.workspace_id).await {
                Ok(setup) => {
                    for row in rows {
                        self.translate_due_row(&conv, &setup, row).await;
                    }
                }
                Err(e) => {
                    worker::console_error!(
                        "conversation object: translation settings: {}",
                        e.reason
                    );
                    self.schedule_alarm(Some(now + 5_000)).await;
                    return;
                }
            }
        }
        // Retries still waiting keep the alarm set for them.
        let next = scalar(
            &self.sql,
            "SELECT COALESCE(MIN(translate_due), 0) AS n FROM messages WHERE translate_due IS NOT NULL",
            vec![],
            0,
        )
        .unwrap_or(0);
        if next > 0 {
            self.schedule_alarm(Some(next)).await;
        }
    }

    /// Customers' messages after the watermark: their language (a short or
    /// ambiguous text keeps the previous one), and, when the workspace
    /// translates, a place in the queue.
    async fn take_new_inbound(
        &self,
        conv: &ConversationRow,
        state: &TranslationState,
        now: i64,
    ) -> std::result::Result<(), ApiError> {
        let upto = self.last_seq.get();
        let setup = tr::setup(&self.env, &conv.workspace_id).await?;
        if !setup.settings.is_on() {
            // Nothing to detect for: the watermark moves, no CPU spent.
            return self.move_watermark(upto);
        }
        let rows = self
            .sql
            .exec(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq > ? AND seq <= ? \
                     AND direction = 'inbound' ORDER BY seq"
                ),
                vec![int(state.translated_seq), int(upto)],
            )
            .and_then(|c| c.to_array::<MessageRow>())
            .map_err(sql_err("reading new messages to translate"))?;
        let mut queue = Vec::new();
        let mut lang = state.language.clone();
        for row in rows {
            let Ok(content) = serde_json::from_str::<Content>(&row.content) else {
                continue;
            };
            if let Some(t) = core_tr::translatable_text(&content) {
                lang = detect::detect(t, lang.as_deref());
                queue.push(row.id);
            }
        }
        if state.language_source.as_deref() != Some(SOURCE_AGENT)
            && lang.is_some()
            && lang != state.language
        {
            self.set_language(lang.as_deref(), SOURCE_DETECTED)?;
        }
        self.move_watermark(upto)?;
        for id in queue {
            self.sql
                .exec(
                    "UPDATE messages SET translate_due = ? WHERE id = ? AND translation IS NULL",
                    vec![int(now), text(&id)],
                )
                .map_err(sql_err("queueing a translation"))?;
        }
        Ok(())
    }

    fn move_watermark(&self, upto: i64) -> std::result::Result<(), ApiError> {
        self.sql
            .exec(
                "INSERT INTO translation_state (one, translated_seq) VALUES (1, ?) \
                 ON CONFLICT(one) DO UPDATE SET translated_seq = MAX(translated_seq, excluded.translated_seq)",
                vec![int(upto)],
            )
            .map_err(sql_err("moving the translation watermark"))?;
        Ok(())
    }

    async fn translate_due_row(&self, conv: &ConversationRow, setup: &Setup, row: DueRow) {
        let content: Option<Content> = serde_json::from_str(&row.content).ok();
        let Some(original) = content
            .as_ref()
            .and_then(core_tr::translatable_text)
            .map(str::to_string)
        else {
            let _ = self.sql.exec(
                "UPDATE messages SET translate_due = NULL WHERE id = ?",
                vec![text(&row.id)],
            );
            return;
        };
        let target = self.agents_language(conv, setup).await;
        let source = detect::detect(&original, None).or_else(|| self.customer_language(conv));
        if source
            .as_deref()
            .is_some_and(|s| language::same(s, &target))
        {
            let _ = self.sql.exec(
                "UPDATE messages SET translate_due = NULL WHERE id = ?",
                vec![text(&row.id)],
            );
            return;
        }
        let attempt = tr::translate(
            &self.env,
            setup,
            &conv.workspace_id,
            &original,
            source.as_deref(),
            &target,
            INBOUND_TIMEOUT,
        )
        .await;
        // Erased while the provider answered: nothing to record.
        if !matches!(self.conversation(), Ok(Some(_)))
            || self.message(&row.id).ok().flatten().is_none()
        {
            return;
        }
        let mut translation = attempt.translation;
        let attempts = row.translate_attempts + 1;
        let retry_at = (attempt.retry && attempts < INBOUND_ATTEMPTS)
            .then(|| now_ms() + 5_000 * 4i64.pow((attempts - 1).clamp(0, 4) as u32));
        translation.pending = retry_at.is_some();
        // The provider's detection names the customer's language when
        // nothing else did.
        if let (Some(found), None) = (translation.source.as_deref(), self.customer_language(conv)) {
            if found != "auto" && translation.text.is_some() {
                let _ = self.set_language(Some(found), SOURCE_DETECTED);
            }
        }
        // Identical text back: the message was in the agents' language.
        if translation.text.as_deref() == Some(original.as_str()) {
            let _ = self.sql.exec(
                "UPDATE messages SET translate_due = NULL WHERE id = ?",
                vec![text(&row.id)],
            );
            return;
        }
        if let Err(e) = self.store_translation(&row.id, &translation, retry_at, attempts) {
            worker::console_error!(
                "conversation object: storing a translation failed: {}",
                e.reason
            );
        }
    }

    /// Records a translation on its message and pushes `message_translated`.
    fn store_translation(
        &self,
        message_id: &str,
        translation: &Translation,
        retry_at: Option<i64>,
        attempts: i64,
    ) -> std::result::Result<(), ApiError> {
        let json_text = serde_json::to_string(translation)
            .map_err(|e| ApiError::internal("serializing a translation", e))?;
        self.sql
            .exec(
                "UPDATE messages SET translation = ?, translate_due = ?, translate_attempts = ? WHERE id = ?",
                vec![
                    text(&json_text),
                    retry_at.map(int).unwrap_or(SqlStorageValue::Null),
                    int(attempts),
                    text(message_id),
                ],
            )
            .map_err(sql_err("storing a translation"))?;
        self.append(
            now_ms(),
            EventBody::MessageTranslated {
                message_id: message_id.to_string(),
                translation: translation.clone(),
            },
        )?;
        Ok(())
    }

    /// An agent's reply, translated for the customer before it is sent:
    /// None when nothing needs translating (translation off, a note, the
    /// customer's language unknown or the agent's own); otherwise the
    /// translation, or why there is none (the original is sent then).
    pub(super) async fn outbound_translation(
        &self,
        conv: &ConversationRow,
        body: &SendRequest,
    ) -> Option<Translation> {
        let original = core_tr::translatable_text(&body.content)?.to_string();
        let target = self.customer_language(conv)?;
        let setup = match tr::setup(&self.env, &conv.workspace_id).await {
            Ok(s) => s,
            Err(e) => {
                return Some(Translation::untranslated(&target, None, e.reason));
            }
        };
        if !setup.settings.is_on() {
            return None;
        }
        let agent_language = match db::database(&self.env) {
            Ok(database) => {
                crate::accounts_db::agent_view(&database, &conv.workspace_id, &body.agent_id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|a| a.language)
            }
            Err(_) => None,
        };
        let source = agent_language
            .as_deref()
            .and_then(language::normalize)
            .or_else(|| setup.language.clone())
            .or_else(|| detect::detect(&original, None));
        if source
            .as_deref()
            .is_some_and(|s| language::same(s, &target))
        {
            return None;
        }
        if body.translate == Some(false) {
            return Some(Translation::untranslated(
                &target,
                source.as_deref(),
                "the agent chose to send the original",
            ));
        }
        let attempt = tr::translate(
            &self.env,
            &setup,
            &conv.workspace_id,
            &original,
            source.as_deref(),
            &target,
            OUTBOUND_TIMEOUT,
        )
        .await;
        let mut t = attempt.translation;
        if t.error.is_some() {
            t.error = t.error.map(|e| format!("sent untranslated: {e}"));
        }
        Some(t)
    }

    /// `POST /translate {message_id, agent_id, target?}`: translates a
    /// stored message now (into `target`, else the agents' language for a
    /// customer's message, the customer's for an agent's), records it and
    /// pushes `message_translated`. Notes are refused (422): they never
    /// reach a provider.
    pub(super) async fn translate_on_request(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        #[derive(Deserialize)]
        struct In {
            message_id: String,
            #[serde(default)]
            target: Option<String>,
        }
        let input: In = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("translate body: {e}")))?;
        let row = self
            .message(&input.message_id)?
            .ok_or_else(|| ApiError::not_found("message"))?;
        let content: Content = serde_json::from_str(&row.content)
            .map_err(|e| ApiError::internal("reading a stored message", e))?;
        let original = core_tr::translatable_text(&content)
            .ok_or_else(|| {
                ApiError::new(
                    422,
                    "this message has no text to translate (notes are never translated)",
                )
            })?
            .to_string();
        let setup = tr::setup(&self.env, &conv.workspace_id).await?;
        if !setup.settings.is_on() {
            return Err(ApiError::new(
                409,
                "translation is off for this workspace (PATCH /api/workspace {\"translation\": …})",
            ));
        }
        tr::provider(&self.env, &setup.settings).map_err(|reason| ApiError::new(409, reason))?;
        let inbound = row.direction == "inbound";
        let target = match input.target.as_deref() {
            Some(t) => language::normalize(t)
                .ok_or_else(|| ApiError::bad_request("target must be a language tag such as de"))?,
            None if inbound => self.agents_language(&conv, &setup).await,
            None => self.customer_language(&conv).ok_or_else(|| {
                ApiError::new(422, "the customer's language is not known; send target")
            })?,
        };
        let source = detect::detect(&original, None).or_else(|| {
            if inbound {
                self.customer_language(&conv)
            } else {
                setup.language.clone()
            }
        });
        let attempt = tr::translate(
            &self.env,
            &setup,
            &conv.workspace_id,
            &original,
            source.as_deref(),
            &target,
            OUTBOUND_TIMEOUT,
        )
        .await;
        if self.message(&row.id)?.is_none() {
            return Err(ApiError::not_found("message"));
        }
        // An agent's reply keeps what it was sent with; the answer carries
        // the new translation and so does the event.
        let translation = attempt.translation;
        if inbound {
            self.store_translation(&row.id, &translation, None, row.attempts)?;
        } else {
            self.append(
                now_ms(),
                EventBody::MessageTranslated {
                    message_id: row.id.clone(),
                    translation: translation.clone(),
                },
            )?;
        }
        json(
            200,
            &serde_json::json!({"message_id": row.id, "translation": translation}),
        )
        .map_err(ApiError::from)
    }

    /// `PATCH /language {language}`: an agent sets the customer's language
    /// (`null` goes back to the platform's or the detected one).
    pub(super) async fn patch_language(&self, req: &mut Request) -> Answer {
        let conv = self.conversation_for(req)?;
        #[derive(Deserialize)]
        struct In {
            language: Option<String>,
        }
        let input: In = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("language body: {e}")))?;
        match input.language.as_deref() {
            Some(l) => {
                let l = language::normalize(l).ok_or_else(|| {
                    ApiError::bad_request("language must be a language tag such as de or pt-BR")
                })?;
                self.set_language(Some(&l), SOURCE_AGENT)?;
            }
            None => self.set_language(None, SOURCE_DETECTED)?,
        }
        json(200, &self.language_view(&conv)).map_err(ApiError::from)
    }

    /// `{language, language_source}`: agent, platform, detected or unknown.
    fn language_view(&self, conv: &ConversationRow) -> serde_json::Value {
        let state = self.translation_state();
        let source = if state.language_source.as_deref() == Some(SOURCE_AGENT) {
            "agent"
        } else if conv.contact().language.is_some() {
            "platform"
        } else if state.language.is_some() {
            "detected"
        } else {
            "unknown"
        };
        serde_json::json!({"language": self.customer_language(conv), "language_source": source})
    }

    /// `GET /language`: the customer's language and where it came from.
    pub(super) fn get_language(&self, req: &Request) -> Answer {
        let conv = self.conversation_for(req)?;
        json(200, &self.language_view(&conv)).map_err(ApiError::from)
    }
}

/// What an outbound message sends: the translation when there is one.
pub(super) fn sent_content(content: &Content, translation: Option<&Translation>) -> Content {
    match translation.and_then(|t| t.text.as_deref()) {
        Some(text) => core_tr::with_text(content, text),
        None => content.clone(),
    }
}
