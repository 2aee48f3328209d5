//! Visitor monitoring: page views and heartbeats from the moment the
//! widget loads, and whether anyone is there to chat.

use super::{visitor, widget_settings, Cors};
use crate::http::{body_bytes, json, ApiError, ApiResult};
use crate::objects;
use crate::runtime::now_ms;
use js_sys::{Array, Function, Object, Reflect};
use serde::Deserialize;
use switchboard_core::channels::widget::{BusinessHours, Visit, WidgetSettings};
use switchboard_core::model::Contact;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Env, Method, Request, Response};

#[derive(Deserialize)]
struct VisitIn {
    /// For `navigator.sendBeacon`, which cannot send headers.
    token: Option<String>,
    /// `view` (a page opened), `heartbeat` or `leave`.
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    referrer: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    time_zone: String,
}

/// # `POST /api/widget/visit` `{kind, url?, title?, referrer?, language?, time_zone?, token?}`
/// A page view (`view`, with the page), a `heartbeat` or a `leave` (the
/// page closes; sent as a beacon, so the token may come in the body). The
/// visitor shows on `GET /api/visitors` and the feed. Answers
/// `{available, agents_online, open}`: whether the widget should offer chat
/// (an agent is online and it is within business hours) or the
/// leave-a-message form. 429 past 30 reports a minute.
pub async fn visit(mut req: Request, env: &Env, cors: &Cors) -> ApiResult<Response> {
    let bytes = body_bytes(&mut req, 16 * 1024).await?;
    let input: VisitIn = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let v = visitor(&req, env, cors, input.token.as_deref()).await?;
    let visit = match input.kind.as_str() {
        "view" => Some(
            Visit::from_report(
                &input.url,
                &input.title,
                &input.referrer,
                &input.language,
                &input.time_zone,
            )
            .map_err(ApiError::bad_request)?,
        ),
        "heartbeat" | "leave" => None,
        _ => {
            return Err(ApiError::bad_request(
                "kind must be view, heartbeat or leave",
            ))
        }
    };
    let body = serde_json::json!({
        "conversation_id": v.conversation_id,
        "contact": Contact { external_id: v.external_id.clone(), ..Contact::default() },
        "kind": input.kind,
        "visit": visit,
    })
    .to_string();
    let stub = objects::workspace_stub(env, &v.workspace_id)?;
    let mut answer = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/visit", Some(body), &[])?,
    )
    .await?;
    if answer.status_code() == 429 {
        let wait = answer
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        return Err(ApiError::too_many("too many page reports; slow down", wait));
    }
    #[derive(Deserialize)]
    struct Answer {
        agents_online: i64,
    }
    let Answer { agents_online } = answer
        .json()
        .await
        .map_err(|e| ApiError::internal("reading a visit answer", e))?;
    let open = within_hours(widget_settings(&v.inbox)?, now_ms());
    Ok(json(
        200,
        &serde_json::json!({
            "available": open && agents_online > 0,
            "agents_online": agents_online,
            "open": open,
        }),
    )?)
}

/// Within the inbox's business hours now (always, without a schedule).
fn within_hours(settings: &WidgetSettings, now: i64) -> bool {
    let Some(hours) = &settings.business_hours else {
        return true;
    };
    let local = local_time(&hours.time_zone, now).or_else(|| {
        worker::console_error!("widget: unknown time zone {}; using UTC", hours.time_zone);
        local_time("UTC", now)
    });
    local.is_some_and(|(day, minute)| BusinessHours::is_open(hours, day, minute))
}

/// The weekday (0 = Monday) and minute of the day at `now` in `time_zone`,
/// from the runtime's `Intl` (it throws on an unknown zone: caught here).
fn local_time(time_zone: &str, now: i64) -> Option<(usize, u32)> {
    let global = js_sys::global();
    let intl = Reflect::get(&global, &"Intl".into()).ok()?;
    let ctor: Function = Reflect::get(&intl, &"DateTimeFormat".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    for (k, v) in [
        ("timeZone", time_zone),
        ("weekday", "short"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("hourCycle", "h23"),
    ] {
        Reflect::set(&options, &k.into(), &v.into()).ok()?;
    }
    let args = Array::of2(&"en-US".into(), &options);
    let format = Reflect::construct(&ctor, &args).ok()?;
    let to_parts: Function = Reflect::get(&format, &"formatToParts".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let date = js_sys::Date::new(&JsValue::from_f64(now as f64));
    let parts: Array = to_parts.call1(&format, &date).ok()?.dyn_into().ok()?;
    let (mut day, mut hour, mut minute) = (None, None, None);
    for part in parts.iter() {
        let get = |k: &str| {
            Reflect::get(&part, &k.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let value = get("value").unwrap_or_default();
        match get("type").as_deref() {
            Some("weekday") => {
                day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                    .iter()
                    .position(|d| *d == value)
            }
            Some("hour") => hour = value.parse::<u32>().ok().map(|h| h % 24),
            Some("minute") => minute = value.parse::<u32>().ok(),
            _ => {}
        }
    }
    Some((day?, hour? * 60 + minute?))
}
