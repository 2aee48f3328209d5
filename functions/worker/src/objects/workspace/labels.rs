//! Labels in the workspace object: how many conversations carry each one
//! (from the index's `conversation_labels`), and carrying a rename or a
//! delete of a catalog label to every conversation that carries it.
//!
//! A rewrite is a durable job (`label_jobs`), run in order: each step takes
//! a batch of conversations that still carry the old name from the index,
//! asks each conversation object to rewrite its own labels (one `labels`
//! event there, by the admin who asked, so open dashboards see it live),
//! and moves the index rows at once so counts follow. The first batches run
//! inside the request; the alarm finishes larger jobs, and retries a batch
//! a conversation could not take. A conversation labelled with the old name
//! while the job runs is picked up by it too.

use super::*;
use crate::objects::internal::{LabelRewrite, LabelRewriteJob};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS label_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, workspace_id TEXT NOT NULL, from_label TEXT NOT NULL,
  to_label TEXT, agent_id TEXT NOT NULL, created_at INTEGER NOT NULL
);
";

/// Conversations asked at once, and at most per request (the alarm does the rest).
const BATCH: i64 = 25;
const INLINE_BUDGET: usize = 100;
const ALARM_BUDGET: usize = 500;
/// After a conversation refused (not a 404), wait this long before retrying.
const RETRY_MS: u64 = 5_000;

#[derive(Deserialize)]
struct Job {
    id: i64,
    workspace_id: String,
    from_label: String,
    to_label: Option<String>,
    agent_id: String,
}

#[derive(Deserialize)]
struct LabelCount {
    label: String,
    n: i64,
}

#[derive(Deserialize)]
struct ConversationId {
    conversation_id: String,
}

/// What is left after a run.
enum Left {
    Nothing,
    More,
    Retry,
}

impl WorkspaceObject {
    /// `GET /labels`: `{counts: {label: n}, pending: [{from, to}]}`.
    pub(super) fn label_counts(&self) -> Answer {
        let counts = self
            .sql
            .exec(
                "SELECT label, COUNT(*) AS n FROM conversation_labels GROUP BY label",
                None,
            )
            .and_then(|c| c.to_array::<LabelCount>())
            .map_err(sql_err("counting labels"))?;
        let counts: serde_json::Map<String, serde_json::Value> =
            counts.into_iter().map(|c| (c.label, c.n.into())).collect();
        let pending: Vec<serde_json::Value> = self
            .pending_jobs()?
            .into_iter()
            .map(|j| serde_json::json!({ "from": j.from_label, "to": j.to_label }))
            .collect();
        json(
            200,
            &serde_json::json!({ "counts": counts, "pending": pending }),
        )
        .map_err(ApiError::from)
    }

    fn pending_jobs(&self) -> std::result::Result<Vec<Job>, ApiError> {
        self.sql
            .exec(
                "SELECT id, workspace_id, from_label, to_label, agent_id FROM label_jobs ORDER BY id",
                None,
            )
            .and_then(|c| c.to_array::<Job>())
            .map_err(sql_err("reading label jobs"))
    }

    /// `POST /labels/rewrite` (a `LabelRewriteJob`): records the job, runs
    /// what fits in this request, leaves the rest to the alarm. Answers
    /// `{conversations, pending}`: how many carried the old name, and
    /// whether some are still to do.
    pub(super) async fn rewrite_labels(&self, req: &mut Request) -> Answer {
        let job: LabelRewriteJob = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("label rewrite: {e}")))?;
        let carried = scalar(
            &self.sql,
            "SELECT COUNT(*) AS n FROM conversation_labels WHERE label = ?",
            vec![text(&job.from)],
            0,
        )
        .map_err(sql_err("counting a label"))?;
        if job.to.as_deref() != Some(job.from.as_str()) {
            self.sql
                .exec(
                    "INSERT INTO label_jobs (workspace_id, from_label, to_label, agent_id, created_at) \
                     VALUES (?, ?, ?, ?, ?)",
                    vec![
                        text(&job.workspace_id),
                        text(&job.from),
                        opt_text(job.to.as_deref()),
                        text(&job.agent_id),
                        int(now_ms()),
                    ],
                )
                .map_err(sql_err("recording a label job"))?;
        }
        let left = self.run_label_jobs(INLINE_BUDGET).await;
        self.after_label_run(&left).await;
        json(
            200,
            &serde_json::json!({ "conversations": carried, "pending": !matches!(left, Left::Nothing) }),
        )
        .map_err(ApiError::from)
    }

    /// The alarm's part: more of the jobs, and the alarm again if needed.
    pub(super) async fn label_alarm(&self) {
        let left = self.run_label_jobs(ALARM_BUDGET).await;
        self.after_label_run(&left).await;
    }

    async fn after_label_run(&self, left: &Left) {
        let wait = match left {
            Left::Nothing => return,
            Left::More => 0,
            Left::Retry => RETRY_MS,
        };
        if let Err(e) = self
            .state
            .storage()
            .set_alarm(Duration::from_millis(wait))
            .await
        {
            worker::console_error!("workspace object: setting the label alarm failed: {e}");
        }
    }

    /// Runs jobs in order until `budget` conversations were asked.
    async fn run_label_jobs(&self, budget: usize) -> Left {
        let mut asked = 0usize;
        loop {
            let job = match self.pending_jobs() {
                Ok(jobs) => match jobs.into_iter().next() {
                    Some(j) => j,
                    None => return Left::Nothing,
                },
                Err(e) => {
                    worker::console_error!("workspace object: {}", e.reason);
                    return Left::Retry;
                }
            };
            if asked >= budget {
                return Left::More;
            }
            let ids = self
                .sql
                .exec(
                    "SELECT conversation_id FROM conversation_labels WHERE label = ? \
                     ORDER BY conversation_id LIMIT ?",
                    vec![text(&job.from_label), int(BATCH)],
                )
                .and_then(|c| c.to_array::<ConversationId>());
            let ids = match ids {
                Ok(ids) => ids,
                Err(e) => {
                    worker::console_error!("workspace object: reading labelled conversations: {e}");
                    return Left::Retry;
                }
            };
            if ids.is_empty() {
                if let Err(e) = self
                    .sql
                    .exec("DELETE FROM label_jobs WHERE id = ?", vec![int(job.id)])
                {
                    worker::console_error!("workspace object: finishing a label job: {e}");
                    return Left::Retry;
                }
                continue;
            }
            asked += ids.len();
            let calls = ids
                .iter()
                .map(|c| self.rewrite_one(&job, &c.conversation_id));
            let answers = futures::future::join_all(calls).await;
            let mut refused = false;
            for (c, done) in ids.iter().zip(answers) {
                if !done {
                    refused = true;
                    continue;
                }
                // The index follows at once; the conversation's own update
                // confirms it later.
                let inserted = match &job.to_label {
                    Some(to) => self
                        .sql
                        .exec(
                            "INSERT OR IGNORE INTO conversation_labels (label, conversation_id) \
                             VALUES (?, ?)",
                            vec![text(to), text(&c.conversation_id)],
                        )
                        .map(|_| ()),
                    None => Ok(()),
                };
                let moved = inserted.and_then(|_| {
                    self.sql
                        .exec(
                            "DELETE FROM conversation_labels WHERE label = ? AND conversation_id = ?",
                            vec![text(&job.from_label), text(&c.conversation_id)],
                        )
                        .map(|_| ())
                });
                if let Err(e) = moved {
                    worker::console_error!("workspace object: moving a label in the index: {e}");
                    refused = true;
                }
            }
            if refused {
                return Left::Retry;
            }
        }
    }

    /// Asks one conversation to rewrite its labels; true when it did (or
    /// no longer exists: an erased conversation carries nothing).
    async fn rewrite_one(&self, job: &Job, conversation_id: &str) -> bool {
        let body = LabelRewrite {
            agent_id: job.agent_id.clone(),
            from: job.from_label.clone(),
            to: job.to_label.clone(),
        };
        let answer = async {
            let body = serde_json::to_string(&body)
                .map_err(|e| ApiError::internal("serializing a label rewrite", e))?;
            let stub =
                crate::objects::conversation_stub(&self.env, &job.workspace_id, conversation_id)?;
            let req = crate::objects::internal_request(
                Method::Post,
                "/labels/rewrite",
                Some(body),
                &[(HEADER_WORKSPACE, job.workspace_id.as_str())],
            )?;
            let resp = crate::objects::call(&stub, req).await?;
            Ok::<u16, ApiError>(resp.status_code())
        }
        .await;
        match answer {
            Ok(200 | 404) => true,
            Ok(status) => {
                worker::console_error!(
                    "workspace object: a conversation answered {status} to a label rewrite (will retry)"
                );
                false
            }
            Err(e) => {
                worker::console_error!(
                    "workspace object: a label rewrite failed (will retry): {}",
                    e.reason
                );
                false
            }
        }
    }
}
