//! Translation in the worker: the workspace's settings (from D1, the API
//! key sealed at rest), and performing a provider's call (HTTP, or the
//! Workers AI binding) through the workspace object's cache and quota.
//! What to call and how to read the answer is the core's
//! (`switchboard_core::translation`).

use crate::http::{ApiError, ApiResult};
use crate::objects;
use futures::future::{select, Either};
use serde::Deserialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use switchboard_core::translation::{
    cache, language, usage, Provider, ProviderCall, ProviderChoice, Translation,
    TranslationSettings, MAX_CHARS,
};
use worker::{Delay, Env, Method};

/// The settings key that holds the translation settings, and the one that
/// holds the workspace's default language.
pub const SETTINGS_KEY: &str = "translation";
pub const LANGUAGE_KEY: &str = "language";

/// The binding Workers AI is reached through (production only).
pub const AI_BINDING: &str = "AI";

pub const NOT_BOUND: &str = "Workers AI is not bound here: add [env.production.ai] binding = \"AI\" to wrangler.toml and deploy with --env production (docs/DEPLOY.md)";

/// A workspace's translation setup, the key opened.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub settings: TranslationSettings,
    /// The workspace's default language (agents without their own).
    pub language: Option<String>,
}

/// The stored settings under `translation` (the key still sealed).
pub fn stored(settings: &serde_json::Map<String, Value>) -> TranslationSettings {
    settings
        .get(SETTINGS_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Seals the API key of settings about to be stored.
pub fn seal(workspace_id: &str, mut s: TranslationSettings) -> ApiResult<TranslationSettings> {
    if let ProviderChoice::Libretranslate {
        api_key: Some(k), ..
    } = &mut s.provider
    {
        *k = crate::sealing::seal(workspace_id, k)?;
    }
    Ok(s)
}

pub fn opened(workspace_id: &str, s: TranslationSettings) -> ApiResult<TranslationSettings> {
    open(workspace_id, s)
}

fn open(workspace_id: &str, mut s: TranslationSettings) -> ApiResult<TranslationSettings> {
    if let ProviderChoice::Libretranslate {
        api_key: Some(k), ..
    } = &mut s.provider
    {
        *k = crate::sealing::open(workspace_id, k).map_err(|e| {
            worker::console_error!(
                "workspace {workspace_id}: its translation key does not open ({e})"
            );
            ApiError::new(
                503,
                "the translation API key is sealed with a key the server does not have",
            )
        })?;
    }
    Ok(s)
}

/// How long settings stay in the isolate's cache (as inboxes do).
const CACHE_MS: i64 = 10_000;

thread_local! {
    static SETUPS: RefCell<HashMap<String, (i64, Rc<Setup>)>> = RefCell::new(HashMap::new());
}

pub fn forget(workspace_id: &str) {
    SETUPS.with(|c| c.borrow_mut().remove(workspace_id));
}

/// The workspace's setup, through the cache.
pub async fn setup(env: &Env, workspace_id: &str) -> ApiResult<Rc<Setup>> {
    let now = crate::runtime::now_ms();
    let hit = SETUPS.with(|c| {
        c.borrow()
            .get(workspace_id)
            .filter(|(at, _)| now - at < CACHE_MS)
            .map(|(_, s)| s.clone())
    });
    if let Some(s) = hit {
        return Ok(s);
    }
    let database = crate::db::database(env)?;
    let settings: serde_json::Map<String, Value> =
        crate::accounts_db::workspace(&database, workspace_id)
            .await?
            .and_then(|w| serde_json::from_str(&w.settings).ok())
            .unwrap_or_default();
    let setup = Rc::new(Setup {
        settings: open(workspace_id, stored(&settings))?,
        language: settings
            .get(LANGUAGE_KEY)
            .and_then(Value::as_str)
            .and_then(language::normalize),
    });
    SETUPS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 10_000 {
            c.clear();
        }
        c.insert(workspace_id.to_string(), (now, setup.clone()));
    });
    Ok(setup)
}

/// The provider to call, None when translation is off; the reason when
/// the chosen one cannot work here (Workers AI without its binding).
pub fn provider(env: &Env, settings: &TranslationSettings) -> Result<Option<Provider>, String> {
    match &settings.provider {
        ProviderChoice::Off => Ok(None),
        ProviderChoice::Libretranslate { url, api_key } => Ok(Some(Provider::LibreTranslate {
            url: url.clone(),
            api_key: api_key.clone(),
        })),
        ProviderChoice::WorkersAi => match env.ai(AI_BINDING) {
            Ok(_) => Ok(Some(Provider::WorkersAi)),
            Err(_) => Err(NOT_BOUND.to_string()),
        },
    }
}

/// How an attempt ended: the translation (done, or untranslated with the
/// reason) and whether trying again later may help.
pub struct Attempt {
    pub translation: Translation,
    pub retry: bool,
}

impl Attempt {
    fn failed(target: &str, source: Option<&str>, reason: impl Into<String>, retry: bool) -> Self {
        Attempt {
            translation: Translation::untranslated(target, source, reason),
            retry,
        }
    }
}

#[derive(Deserialize)]
struct BeginAnswer {
    #[serde(default)]
    hit: Option<CachedText>,
    #[serde(default)]
    refused: Option<String>,
}

#[derive(Deserialize)]
struct CachedText {
    text: String,
    source: Option<String>,
    provider: String,
}

async fn workspace_call(
    env: &Env,
    workspace_id: &str,
    path: &str,
    body: Value,
) -> ApiResult<Value> {
    let stub = objects::workspace_stub(env, workspace_id)?;
    let req = objects::internal_request(Method::Post, path, Some(body.to_string()), &[])?;
    let mut resp = objects::call(&stub, req).await?;
    if resp.status_code() != 200 {
        return Err(ApiError::internal(
            "asking the workspace about a translation",
            resp.status_code(),
        ));
    }
    resp.json::<Value>()
        .await
        .map_err(|e| ApiError::internal("reading the workspace's translation answer", e))
}

/// Translates `text` from `source` (None: the provider detects it) into
/// `target`: from the workspace's cache when it has it, else through the
/// provider (counted against the daily quota), waiting at most `timeout`
/// for the provider.
pub async fn translate(
    env: &Env,
    setup: &Setup,
    workspace_id: &str,
    text: &str,
    source: Option<&str>,
    target: &str,
    timeout: Duration,
) -> Attempt {
    let provider = match provider(env, &setup.settings) {
        Ok(Some(p)) => p,
        Ok(None) => return Attempt::failed(target, source, "translation is off", false),
        Err(reason) => return Attempt::failed(target, source, reason, false),
    };
    let chars = usage::chars(text);
    if chars as usize > MAX_CHARS {
        return Attempt::failed(
            target,
            source,
            format!("the text is longer than {MAX_CHARS} characters"),
            false,
        );
    }
    let key = cache::key(text, source.unwrap_or("auto"), target);
    let begin = workspace_call(
        env,
        workspace_id,
        "/translation/begin",
        json!({"key": key, "chars": chars, "quota": setup.settings.daily_quota_chars}),
    )
    .await
    .ok()
    .and_then(|v| serde_json::from_value::<BeginAnswer>(v).ok());
    let Some(begin) = begin else {
        return Attempt::failed(
            target,
            source,
            "the workspace's translation cache did not answer",
            true,
        );
    };
    if let Some(hit) = begin.hit {
        let src = hit.source.or(source.map(str::to_string));
        return Attempt {
            translation: Translation::done(
                target,
                src.as_deref().unwrap_or("auto"),
                hit.text,
                &hit.provider,
                true,
            ),
            retry: false,
        };
    }
    if let Some(reason) = begin.refused {
        return Attempt::failed(target, source, reason, false);
    }
    let call = match provider.translate(text, source, target) {
        Ok(call) => call,
        Err(e) => return Attempt::failed(target, source, e.reason, e.retry),
    };
    let answer = match call {
        ProviderCall::Http(request) => match crate::platform::send(&request, timeout).await {
            Ok((status, body)) => provider.read_http(status, &body),
            Err(reason) => Err(switchboard_core::translation::ProviderError::retry(
                reason.replace("the platform", "the translation service"),
            )),
        },
        ProviderCall::Ai { model, input } => run_ai(env, model, input, timeout)
            .await
            .and_then(|out| provider.read_ai(&out)),
    };
    match answer {
        Err(e) => Attempt::failed(target, source, e.reason, e.retry),
        Ok(done) => {
            let src = done
                .detected
                .clone()
                .or(source.map(str::to_string))
                .unwrap_or_else(|| "auto".into());
            let _ = workspace_call(
                env,
                workspace_id,
                "/translation/put",
                json!({"key": key, "text": done.text, "source": src, "provider": provider.name()}),
            )
            .await;
            Attempt {
                translation: Translation::done(target, &src, done.text, provider.name(), false),
                retry: false,
            }
        }
    }
}

async fn run_ai(
    env: &Env,
    model: &str,
    input: Value,
    timeout: Duration,
) -> Result<Value, switchboard_core::translation::ProviderError> {
    use switchboard_core::translation::ProviderError;
    let ai = env
        .ai(AI_BINDING)
        .map_err(|_| ProviderError::refused(NOT_BOUND))?;
    let model = model.to_string();
    let run = Box::pin(async move { ai.run::<Value, Value>(model, input).await });
    match select(run, Delay::from(timeout)).await {
        Either::Left((Ok(out), _)) => Ok(out),
        Either::Left((Err(e), _)) => Err(ProviderError::retry(format!("Workers AI failed: {e}"))),
        Either::Right(_) => Err(ProviderError::retry(format!(
            "Workers AI did not answer within {}s",
            timeout.as_secs()
        ))),
    }
}
