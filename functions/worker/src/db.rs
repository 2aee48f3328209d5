//! D1: workspaces, agents and inboxes. Configuration only — written rarely,
//! and inboxes are read through a short in-isolate cache because every
//! webhook needs its inbox.

use crate::http::{ApiError, ApiResult};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use switchboard_core::channels::{Channel, Settings};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

pub fn database(env: &Env) -> ApiResult<D1Database> {
    // Inbox rows hold sealed secrets: no D1 without the keys to read them.
    crate::sealing::install(env)?;
    env.d1("DB")
        .map_err(|e| ApiError::internal("D1 binding DB is missing (check wrangler.toml)", e))
}

/// A failed D1 call: logged with `what`, a bare 500 for the client.
pub(crate) fn d1_err(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| ApiError::internal(what, e)
}

/// A failed write that creates an agent: a taken email is the caller's 409.
pub(crate) fn agent_insert_err(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| {
        if e.to_string().contains("UNIQUE") {
            ApiError::new(
                409,
                "an account with this email already exists; log in instead",
            )
        } else {
            ApiError::internal(what, e)
        }
    }
}

/// A failed write of a canned response: a taken shortcode is the caller's 409.
fn shortcode_err(what: &'static str) -> impl Fn(worker::Error) -> ApiError {
    move |e| {
        if e.to_string().contains("UNIQUE") {
            ApiError::new(
                409,
                "this workspace already has a canned response with that shortcode",
            )
        } else {
            ApiError::internal(what, e)
        }
    }
}

pub(crate) fn num(v: i64) -> JsValue {
    JsValue::from(v as f64)
}

pub(crate) fn stmt(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
) -> ApiResult<D1PreparedStatement> {
    db.prepare(sql)
        .bind(binds)
        .map_err(d1_err("binding a D1 statement"))
}

pub(crate) async fn run(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    what: &'static str,
) -> ApiResult<usize> {
    let result = stmt(db, sql, binds)?.run().await.map_err(d1_err(what))?;
    Ok(result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

pub(crate) async fn first<T: for<'de> Deserialize<'de>>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    what: &'static str,
) -> ApiResult<Option<T>> {
    stmt(db, sql, binds)?
        .first::<T>(None)
        .await
        .map_err(d1_err(what))
}

/// The `n` of a `SELECT COUNT(*) AS n …` query.
pub(crate) async fn count(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    what: &'static str,
) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let n: Option<N> = first(db, sql, binds, what).await?;
    Ok(n.map_or(0, |n| n.n))
}

pub(crate) async fn all<T: for<'de> Deserialize<'de>>(
    db: &D1Database,
    sql: &str,
    binds: &[JsValue],
    what: &'static str,
) -> ApiResult<Vec<T>> {
    stmt(db, sql, binds)?
        .all()
        .await
        .map_err(d1_err(what))?
        .results::<T>()
        .map_err(d1_err(what))
}

#[derive(Debug, Clone, Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub role: String,
    pub token_version: i64,
    pub password_hash: String,
    pub password_salt: String,
    pub password_iterations: i64,
    pub removed_at: Option<i64>,
}

const AGENT_COLUMNS: &str = "id, workspace_id, name, email, role, language, token_version, \
     password_hash, password_salt, password_iterations, removed_at";

pub struct NewWorkspace<'a> {
    pub workspace_id: &'a str,
    pub workspace_name: &'a str,
    pub agent_id: &'a str,
    pub agent_name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub password_salt: &'a str,
    pub iterations: u32,
    pub now_ms: i64,
}

/// Creates a workspace and its owner in one batch (a D1 batch is a
/// transaction). A taken email gets 409.
pub async fn create_workspace(db: &D1Database, w: &NewWorkspace<'_>) -> ApiResult<()> {
    if agent_by_email(db, w.email).await?.is_some() {
        return Err(ApiError::new(
            409,
            "an account with this email already exists; log in instead",
        ));
    }
    let ws = db
        .prepare("INSERT INTO workspaces (id, name, created_at) VALUES (?1, ?2, ?3)")
        .bind(&[
            w.workspace_id.into(),
            w.workspace_name.into(),
            (w.now_ms as f64).into(),
        ])
        .map_err(d1_err("binding workspace insert"))?;
    let agent = db
        .prepare(
            "INSERT INTO agents (id, workspace_id, name, email, password_hash, password_salt, \
             password_iterations, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'owner', ?8)",
        )
        .bind(&[
            w.agent_id.into(),
            w.workspace_id.into(),
            w.agent_name.into(),
            w.email.into(),
            w.password_hash.into(),
            w.password_salt.into(),
            JsValue::from(w.iterations),
            (w.now_ms as f64).into(),
        ])
        .map_err(d1_err("binding agent insert"))?;
    db.batch(vec![ws, agent])
        .await
        .map_err(agent_insert_err("creating a workspace in D1"))?;
    Ok(())
}

pub async fn agent_by_email(db: &D1Database, email: &str) -> ApiResult<Option<AgentRow>> {
    db.prepare(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE email = ?1 AND removed_at IS NULL"
    ))
    .bind(&[email.into()])
    .map_err(d1_err("binding agent lookup"))?
    .first::<AgentRow>(None)
    .await
    .map_err(d1_err("looking up an agent by email"))
}

/// The agent, only if it belongs to `workspace_id`.
pub async fn agent(
    db: &D1Database,
    workspace_id: &str,
    agent_id: &str,
) -> ApiResult<Option<AgentRow>> {
    db.prepare(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1 AND workspace_id = ?2"
    ))
    .bind(&[agent_id.into(), workspace_id.into()])
    .map_err(d1_err("binding agent lookup"))?
    .first::<AgentRow>(None)
    .await
    .map_err(d1_err("looking up an agent"))
}

/// An inbox with its parsed settings.
#[derive(Debug, Clone)]
pub struct Inbox {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub settings: Settings,
    pub options: InboxOptions,
    pub created_at: i64,
}

/// What an inbox does besides its channel: options admins set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
pub struct InboxOptions {
    /// New conversations go round-robin to the workspace's online agents.
    #[serde(default)]
    pub auto_assign: bool,
    /// Telegram: whether `setWebhook` took (set by the server, never by a
    /// client: `routes/inbox_setup.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookState>,
}

/// The last attempt to register an inbox's webhook with its platform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct WebhookState {
    /// `registered` or `failed`.
    pub status: String,
    /// The platform's reason (or why it could not be reached), when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The URL that was registered.
    pub url: String,
    /// When it was tried, ms since the epoch.
    pub at: i64,
}

impl Inbox {
    pub fn channel(&self) -> Channel {
        self.settings.channel()
    }
}

#[derive(Deserialize)]
struct InboxRow {
    id: String,
    workspace_id: String,
    channel: String,
    name: String,
    settings: String,
    #[serde(default)]
    options: Option<String>,
    created_at: i64,
}

impl InboxRow {
    /// The inbox, or None when its row no longer parses (a channel this
    /// build does not know). A row sealed with a key this server lacks is a
    /// 503 naming the problem, never a silent "no such inbox".
    fn into_inbox(self) -> ApiResult<Option<Inbox>> {
        let Some(channel) = Channel::parse(&self.channel) else {
            return Ok(None);
        };
        let settings = crate::sealing::open(&self.id, &self.settings).map_err(|e| {
            worker::console_error!(
                "inbox {}: its settings do not open ({e}); set SECRETS_KEY_PREVIOUS to the key that sealed them",
                self.id
            );
            ApiError::new(
                503,
                "this inbox's secrets are sealed with a key the server does not have (see the server log)",
            )
        })?;
        let Some(settings) = serde_json::from_str(&settings)
            .ok()
            .and_then(|value| Settings::from_json(channel, value).ok())
        else {
            return Ok(None);
        };
        let options = self
            .options
            .as_deref()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default();
        Ok(Some(Inbox {
            id: self.id,
            workspace_id: self.workspace_id,
            name: self.name,
            settings,
            options,
            created_at: self.created_at,
        }))
    }
}

pub async fn create_inbox(db: &D1Database, inbox: &Inbox, settings_json: &str) -> ApiResult<()> {
    db.prepare(
        "INSERT INTO inboxes (id, workspace_id, channel, name, settings, options, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&[
        inbox.id.as_str().into(),
        inbox.workspace_id.as_str().into(),
        inbox.channel().as_str().into(),
        inbox.name.as_str().into(),
        crate::sealing::seal(&inbox.id, settings_json)?.into(),
        serde_json::to_string(&inbox.options)
            .unwrap_or_else(|_| "{}".into())
            .into(),
        (inbox.created_at as f64).into(),
    ])
    .map_err(d1_err("binding inbox insert"))?
    .run()
    .await
    .map_err(d1_err("inserting an inbox"))?;
    forget_inbox(&inbox.id);
    Ok(())
}

/// Replaces an inbox's options (its webhook state, `auto_assign`).
pub async fn set_inbox_options(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    options: &InboxOptions,
) -> ApiResult<()> {
    let options =
        serde_json::to_string(options).map_err(|e| ApiError::internal("inbox options", e))?;
    db.prepare(
        "UPDATE inboxes SET options = ?3 WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    )
    .bind(&[id.into(), workspace_id.into(), options.into()])
    .map_err(d1_err("binding inbox options"))?
    .run()
    .await
    .map_err(d1_err("updating inbox options"))?;
    forget_inbox(id);
    Ok(())
}

pub async fn inboxes_of(db: &D1Database, workspace_id: &str) -> ApiResult<Vec<Inbox>> {
    let rows = db
        .prepare(
            "SELECT id, workspace_id, channel, name, settings, options, created_at FROM inboxes \
             WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY created_at",
        )
        .bind(&[workspace_id.into()])
        .map_err(d1_err("binding inbox list"))?
        .all()
        .await
        .map_err(d1_err("listing inboxes"))?
        .results::<InboxRow>()
        .map_err(d1_err("reading inbox rows"))?;
    let mut inboxes = Vec::with_capacity(rows.len());
    for row in rows {
        inboxes.extend(row.into_inbox()?);
    }
    Ok(inboxes)
}

/// How long an inbox stays in the isolate's cache. Webhooks of an inbox
/// deleted in another isolate may be accepted for at most this long.
const INBOX_CACHE_MS: i64 = 10_000;

/// How long "no such inbox" is remembered. Ids are random, so an id that
/// names no live inbox never starts to (deletion is final, and a new inbox
/// gets a fresh id): a flood of webhooks for unknown or deleted inboxes is
/// refused from memory after the first, without a D1 query each.
const MISSING_INBOX_CACHE_MS: i64 = 10 * 60_000;

/// Bounds on each cache. The two are apart so a flood of made-up ids can
/// push out only other made-up ids, never the inboxes real traffic uses.
const INBOX_CACHE_MAX: usize = 10_000;
const MISSING_INBOX_CACHE_MAX: usize = 50_000;

/// Inbox id → (when it was read, the inbox).
type InboxCache = HashMap<String, (i64, Rc<Inbox>)>;
/// Inbox id → when D1 said it names no live inbox.
type MissingInboxCache = HashMap<String, i64>;

thread_local! {
    static INBOX_CACHE: RefCell<InboxCache> = RefCell::new(HashMap::new());
    static MISSING_INBOX_CACHE: RefCell<MissingInboxCache> = RefCell::new(HashMap::new());
    static INBOX_QUERIES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

pub fn forget_inbox(id: &str) {
    INBOX_CACHE.with(|c| c.borrow_mut().remove(id));
    MISSING_INBOX_CACHE.with(|c| c.borrow_mut().remove(id));
}

/// How many inbox lookups this isolate has sent to D1 (reported by
/// `/healthz` only when the `DEBUG_COUNTERS` var is set, for tests).
pub fn inbox_queries() -> u64 {
    INBOX_QUERIES.with(|n| n.get())
}

/// A live (not deleted) inbox by id, through the caches.
pub async fn inbox(db: &D1Database, id: &str, now_ms: i64) -> ApiResult<Option<Rc<Inbox>>> {
    let hit = INBOX_CACHE.with(|c| {
        c.borrow()
            .get(id)
            .filter(|(at, _)| now_ms - at < INBOX_CACHE_MS)
            .map(|(_, inbox)| inbox.clone())
    });
    if let Some(inbox) = hit {
        return Ok(Some(inbox));
    }
    let known_missing = MISSING_INBOX_CACHE.with(|c| {
        c.borrow()
            .get(id)
            .is_some_and(|at| now_ms - at < MISSING_INBOX_CACHE_MS)
    });
    if known_missing {
        return Ok(None);
    }
    INBOX_QUERIES.with(|n| n.set(n.get() + 1));
    let row = db
        .prepare(
            "SELECT id, workspace_id, channel, name, settings, options, created_at FROM inboxes \
             WHERE id = ?1 AND deleted_at IS NULL",
        )
        .bind(&[id.into()])
        .map_err(d1_err("binding inbox lookup"))?
        .first::<InboxRow>(None)
        .await
        .map_err(d1_err("looking up an inbox"))?;
    let inbox = match row {
        Some(row) => row.into_inbox()?.map(Rc::new),
        None => None,
    };
    match &inbox {
        Some(found) => INBOX_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= INBOX_CACHE_MAX {
                c.retain(|_, (at, _)| now_ms - *at < INBOX_CACHE_MS);
                if c.len() >= INBOX_CACHE_MAX {
                    c.clear();
                }
            }
            c.insert(id.to_string(), (now_ms, found.clone()));
        }),
        None => MISSING_INBOX_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= MISSING_INBOX_CACHE_MAX {
                c.retain(|_, at| now_ms - *at < MISSING_INBOX_CACHE_MS);
                if c.len() >= MISSING_INBOX_CACHE_MAX {
                    c.clear();
                }
            }
            c.insert(id.to_string(), now_ms);
        }),
    }
    Ok(inbox)
}

// ---- Canned responses and the audit log ----

/// A canned response: text an agent inserts by its shortcode.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: String,
    pub shortcode: String,
    pub text: String,
    pub created_at: i64,
}

pub async fn canned_responses(
    db: &D1Database,
    workspace_id: &str,
) -> ApiResult<Vec<CannedResponse>> {
    db.prepare(
        "SELECT id, shortcode, text, created_at FROM canned_responses WHERE workspace_id = ?1 \
         ORDER BY shortcode",
    )
    .bind(&[workspace_id.into()])
    .map_err(d1_err("binding canned response list"))?
    .all()
    .await
    .map_err(d1_err("listing canned responses"))?
    .results::<CannedResponse>()
    .map_err(d1_err("reading canned responses"))
}

pub async fn canned_by_shortcode(
    db: &D1Database,
    workspace_id: &str,
    shortcode: &str,
) -> ApiResult<Option<CannedResponse>> {
    db.prepare(
        "SELECT id, shortcode, text, created_at FROM canned_responses \
         WHERE workspace_id = ?1 AND shortcode = ?2",
    )
    .bind(&[workspace_id.into(), shortcode.into()])
    .map_err(d1_err("binding canned response lookup"))?
    .first::<CannedResponse>(None)
    .await
    .map_err(d1_err("looking up a canned response"))
}

/// Stores a new canned response; a shortcode the workspace already has gets 409.
pub async fn create_canned(
    db: &D1Database,
    workspace_id: &str,
    c: &CannedResponse,
) -> ApiResult<()> {
    db.prepare(
        "INSERT INTO canned_responses (id, workspace_id, shortcode, text, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&[
        c.id.as_str().into(),
        workspace_id.into(),
        c.shortcode.as_str().into(),
        c.text.as_str().into(),
        (c.created_at as f64).into(),
    ])
    .map_err(d1_err("binding canned response insert"))?
    .run()
    .await
    .map_err(shortcode_err("inserting a canned response"))?;
    Ok(())
}

/// Rewrites a canned response of the workspace; `None` when it has none by
/// that id, 409 when the new shortcode is another one's.
pub async fn update_canned(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    shortcode: &str,
    text: &str,
) -> ApiResult<Option<CannedResponse>> {
    db.prepare(
        "UPDATE canned_responses SET shortcode = ?3, text = ?4 WHERE id = ?1 AND workspace_id = ?2 \
         RETURNING id, shortcode, text, created_at",
    )
    .bind(&[id.into(), workspace_id.into(), shortcode.into(), text.into()])
    .map_err(d1_err("binding canned response update"))?
    .first::<CannedResponse>(None)
    .await
    .map_err(shortcode_err("updating a canned response"))
}

/// Deletes a canned response of the workspace; false when there was none.
pub async fn delete_canned(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    let result = db
        .prepare("DELETE FROM canned_responses WHERE id = ?1 AND workspace_id = ?2")
        .bind(&[id.into(), workspace_id.into()])
        .map_err(d1_err("binding canned response delete"))?
        .run()
        .await
        .map_err(d1_err("deleting a canned response"))?;
    let changed = result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(changed > 0)
}

/// An accountable action: who did what to which id. Never personal data.
pub struct AuditEntry<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    /// JSON.
    pub detail: &'a str,
    pub at: i64,
}

/// Records an audit entry once: the same `id` again is a no-op, so a
/// retried action is recorded once.
pub async fn record_audit(db: &D1Database, e: &AuditEntry<'_>) -> ApiResult<()> {
    db.prepare(
        "INSERT OR IGNORE INTO audit_log (id, workspace_id, actor_id, action, target, detail, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&[
        e.id.into(),
        e.workspace_id.into(),
        e.actor_id.into(),
        e.action.into(),
        e.target.into(),
        e.detail.into(),
        (e.at as f64).into(),
    ])
    .map_err(d1_err("binding audit insert"))?
    .run()
    .await
    .map_err(d1_err("recording an audit entry"))?;
    Ok(())
}

#[derive(Debug, serde::Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    pub actor_id: String,
    /// The agent's name (kept after they are removed); none for an API key.
    pub actor_name: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub created_at: i64,
}

/// The workspace's audit log, newest first (ties by id), entries after
/// the page's last one: before `before` (ms), or at `before` with an id
/// after `after_id` (so entries of the same millisecond are not skipped).
pub async fn audit_log(
    db: &D1Database,
    workspace_id: &str,
    before: i64,
    after_id: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<AuditRow>> {
    db.prepare(
        "SELECT l.id, l.actor_id, a.name AS actor_name, l.action, l.target, l.detail, \
         l.created_at FROM audit_log l LEFT JOIN agents a ON a.id = l.actor_id \
         WHERE l.workspace_id = ?1 AND (l.created_at < ?2 OR (l.created_at = ?2 AND l.id > ?4)) \
         ORDER BY l.created_at DESC, l.id LIMIT ?3",
    )
    .bind(&[
        workspace_id.into(),
        (before as f64).into(),
        (limit as f64).into(),
        // Without an id nothing of that millisecond follows ("~" sorts after every id).
        after_id.unwrap_or("~").into(),
    ])
    .map_err(d1_err("binding audit list"))?
    .all()
    .await
    .map_err(d1_err("listing the audit log"))?
    .results::<AuditRow>()
    .map_err(d1_err("reading audit rows"))
}
