//! Reports: how the team is doing, per day, channel, inbox or agent, in the
//! workspace's time zone, answered from the workspace object's rollups
//! (`objects::reports`). Definitions: `switchboard_core::report` and the
//! conversation object's `report` module.

use crate::accounts_db;
use crate::auth;
use crate::http::{json, query, ApiError, ApiResult};
use crate::objects;
use crate::time_zone::TimeZone;
use switchboard_core::report::{
    day_buckets, hour_buckets, local_day_start, parse_date, Bucket, GroupBy, ReportAnswer,
    ReportQuery,
};
use worker::{Env, Method, Request, Response};

/// The longest range one report covers (by hour: 31 days).
const MAX_DAYS: i64 = 366;
const MAX_HOUR_DAYS: i64 = 31;

/// # `GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=day|hour|channel|inbox|agent`
/// Figures for the local days `from` to `to` (inclusive, at most 366) in
/// the workspace's time zone (`settings.time_zone`, an IANA name; UTC when
/// unset): conversations opened and resolved, messages in and out, first
/// response and resolution times (count, median and 90th percentile,
/// nearest-rank, in ms). `group_by=day` (the default) gives one row per
/// day, empty days included; `hour` one per local hour (at most 31 days;
/// keys carry the offset, so a repeated hour is two keys); `channel`,
/// `inbox` and `agent` one row per
/// value with traffic in the range (`key: null` is traffic without an
/// agent). `totals` covers the whole range. Any agent of the workspace may
/// read it; it only ever sees its own workspace's rollups. 400 for a bad
/// range or grouping, 422 when the workspace's time zone is not one the
/// runtime knows (nothing is guessed).
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (agent, database) = auth::caller(&req, env).await?;
    let day = |name: &str| -> ApiResult<i64> {
        let v = query(&req, name)
            .ok_or_else(|| ApiError::bad_request(format!("{name} is required (YYYY-MM-DD)")))?;
        parse_date(&v)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a date as YYYY-MM-DD")))
    };
    let (from, to) = (day("from")?, day("to")?);
    if to < from || to - from >= MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "to must be on or after from, and at most {MAX_DAYS} days in all"
        )));
    }
    let group_by = match query(&req, "group_by") {
        None => GroupBy::Day,
        Some(g) => GroupBy::parse(&g).ok_or_else(|| {
            ApiError::bad_request("group_by must be day, hour, channel, inbox or agent")
        })?,
    };
    if group_by == GroupBy::Hour && to - from >= MAX_HOUR_DAYS {
        return Err(ApiError::bad_request(format!(
            "group_by=hour covers at most {MAX_HOUR_DAYS} days"
        )));
    }
    let workspace = accounts_db::workspace(&database, &agent.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let settings: serde_json::Value = serde_json::from_str(&workspace.settings).unwrap_or_default();
    let zone_name = match settings.get("time_zone") {
        None | Some(serde_json::Value::Null) => "UTC".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => String::new(),
    };
    let zone = TimeZone::new(&zone_name).ok_or_else(|| {
        ApiError::new(
            422,
            "the workspace's time_zone is not a known IANA time zone; set settings.time_zone",
        )
    })?;
    let offset = |t: i64| zone.offset_at(t);
    let buckets = match group_by {
        GroupBy::Day => day_buckets(from, to, &offset),
        GroupBy::Hour => hour_buckets(from, to, &offset),
        _ => local_day_start(from, &offset)
            .zip(local_day_start(to + 1, &offset))
            .map(|(start, end)| {
                vec![Bucket {
                    key: String::new(),
                    start,
                    end,
                }]
            }),
    }
    .ok_or_else(|| ApiError::internal("computing report days", &zone_name))?;
    let body = serde_json::to_string(&ReportQuery { group_by, buckets })
        .map_err(|e| ApiError::internal("serializing a report query", e))?;
    let stub = objects::workspace_stub(env, &agent.workspace_id)?;
    let mut answer = objects::call(
        &stub,
        objects::internal_request(Method::Post, "/report", Some(body), &[])?,
    )
    .await?;
    if answer.status_code() != 200 {
        return Err(ApiError::internal(
            "the workspace object refused a report",
            answer.status_code(),
        ));
    }
    let report: ReportAnswer = answer
        .json()
        .await
        .map_err(|e| ApiError::internal("reading a report", e))?;
    Ok(json(
        200,
        &serde_json::json!({
            "from": switchboard_core::report::format_date(from),
            "to": switchboard_core::report::format_date(to),
            "time_zone": zone_name,
            "group_by": group_by,
            "rows": report.rows,
            "totals": report.totals,
        }),
    )?)
}
