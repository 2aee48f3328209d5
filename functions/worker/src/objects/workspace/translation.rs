//! The workspace's translation cache and usage: one place per workspace,
//! so a text translated in one conversation ("Danke!", "Where is my
//! order?") is served to every other, and the daily quota counts every
//! call the workspace makes. The conversation objects ask before a
//! provider call (`POST /translation/begin`) and hand back the result
//! (`POST /translation/put`); the call itself is theirs, so this object
//! never waits on a provider.

use super::*;
use switchboard_core::translation::usage::{self, Admission, Usage};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS translation_cache (
  key TEXT PRIMARY KEY, text TEXT NOT NULL, source TEXT, provider TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS translation_cache_by_age ON translation_cache(at);
CREATE TABLE IF NOT EXISTS translation_usage (
  day INTEGER PRIMARY KEY, chars INTEGER NOT NULL, calls INTEGER NOT NULL
);
";

/// Entries kept; the oldest go first (one cached text is small).
const CACHE_ENTRIES: i64 = 20_000;

#[derive(Deserialize)]
struct Begin {
    key: String,
    chars: i64,
    #[serde(default)]
    quota: Option<i64>,
    /// True to count the call (a miss that will call the provider).
    #[serde(default = "yes")]
    call: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Put {
    key: String,
    text: String,
    #[serde(default)]
    source: Option<String>,
    provider: String,
}

#[derive(Deserialize)]
struct Hit {
    text: String,
    source: Option<String>,
    provider: String,
}

impl WorkspaceObject {
    /// `POST /translation/begin {key, chars, quota?}`: the cached text
    /// (`{"hit": {text, source, provider}}`), or the quota's word: `{"go":
    /// true}` (the call is counted now) or `{"refused": "…"}`.
    pub(super) async fn translation_begin(&self, req: &mut Request) -> Answer {
        let b: Begin = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("translation begin: {e}")))?;
        let hit = self
            .sql
            .exec(
                "SELECT text, source, provider FROM translation_cache WHERE key = ?",
                vec![text(&b.key)],
            )
            .and_then(|c| c.to_array::<Hit>())
            .map_err(sql_err("reading the translation cache"))?
            .into_iter()
            .next();
        if let Some(h) = hit {
            return json(
                200,
                &serde_json::json!({"hit": {"text": h.text, "source": h.source, "provider": h.provider}}),
            )
            .map_err(ApiError::from);
        }
        let today = usage::day_of(crate::runtime::now_ms());
        let used = self.usage_on(today)?;
        if let Admission::OverQuota(reason) = usage::admit(&used, b.quota, b.chars) {
            return json(200, &serde_json::json!({ "refused": reason })).map_err(ApiError::from);
        }
        if b.call {
            let next = usage::record(&used, today, b.chars);
            self.sql
                .exec(
                    "INSERT INTO translation_usage (day, chars, calls) VALUES (?, ?, ?) \
                     ON CONFLICT(day) DO UPDATE SET chars = excluded.chars, calls = excluded.calls",
                    vec![int(next.day), int(next.chars), int(next.calls)],
                )
                .map_err(sql_err("counting translation usage"))?;
        }
        json(200, &serde_json::json!({ "go": true })).map_err(ApiError::from)
    }

    /// `POST /translation/put {key, text, source?, provider}`.
    pub(super) async fn translation_put(&self, req: &mut Request) -> Answer {
        let p: Put = req
            .json()
            .await
            .map_err(|e| ApiError::bad_request(format!("translation put: {e}")))?;
        let now = crate::runtime::now_ms();
        self.sql
            .exec(
                "INSERT INTO translation_cache (key, text, source, provider, at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT(key) DO UPDATE SET text = excluded.text, at = excluded.at",
                vec![
                    text(&p.key),
                    text(&p.text),
                    opt_text(p.source.as_deref()),
                    text(&p.provider),
                    int(now),
                ],
            )
            .map_err(sql_err("storing a translation"))?;
        let _ = self.sql.exec(
            "DELETE FROM translation_cache WHERE key IN (SELECT key FROM translation_cache \
             ORDER BY at DESC LIMIT -1 OFFSET ?)",
            vec![int(CACHE_ENTRIES)],
        );
        json(200, &serde_json::json!({"stored": true})).map_err(ApiError::from)
    }

    /// `GET /translation/usage`: today's characters and calls (UTC day).
    pub(super) fn translation_usage(&self) -> Answer {
        let today = usage::day_of(crate::runtime::now_ms());
        json(200, &self.usage_on(today)?).map_err(ApiError::from)
    }

    fn usage_on(&self, day: i64) -> std::result::Result<Usage, ApiError> {
        Ok(self
            .sql
            .exec(
                "SELECT day, chars, calls FROM translation_usage WHERE day = ?",
                vec![int(day)],
            )
            .and_then(|c| c.to_array::<Usage>())
            .map_err(sql_err("reading translation usage"))?
            .into_iter()
            .next()
            .unwrap_or(Usage {
                day,
                ..Usage::default()
            }))
    }
}
