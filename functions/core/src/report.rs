//! Reports: what each conversation tells the workspace about its traffic,
//! how the workspace rolls it up, and the calendar arithmetic that turns a
//! workspace's local days into UTC ranges.
//!
//! Counts are rolled up per quarter hour of UTC ([`SLOT_MS`]): every time
//! zone in use today is a whole number of quarter hours from UTC, so a local
//! day (or hour) is always a whole number of slots, and a report in any
//! time zone — including after the workspace changes its own — sums exact
//! slots. Durations (first response, resolution) are kept one per
//! conversation event, so medians and percentiles are exact, not estimated
//! from buckets.

use serde::{Deserialize, Serialize};

/// The rollup's granularity: a quarter of an hour.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// The slot `at` falls in (its start, ms since the epoch).
pub fn slot_of(at: i64) -> i64 {
    at - at.rem_euclid(SLOT_MS)
}

/// One thing a report counts, derived from a conversation's log. `seq` is
/// the event it comes from: the workspace applies each conversation's facts
/// once, in `seq` order, whatever is retried. `at` is when it happened (ms):
/// for a customer's message, when the platform says they wrote it (never
/// later than it arrived).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ReportFact {
    /// The customer's first message: the conversation opened.
    Opened {
        seq: i64,
        at: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// A message to or from the customer (notes and activity excluded).
    Message {
        seq: i64,
        at: i64,
        inbound: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// The first reply after the customer's first message, `ms` after it.
    FirstResponse {
        seq: i64,
        at: i64,
        ms: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// The conversation was resolved, `ms` after it (re)opened.
    Resolved {
        seq: i64,
        at: i64,
        ms: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
}

impl ReportFact {
    pub fn seq(&self) -> i64 {
        match self {
            ReportFact::Opened { seq, .. }
            | ReportFact::Message { seq, .. }
            | ReportFact::FirstResponse { seq, .. }
            | ReportFact::Resolved { seq, .. } => *seq,
        }
    }
}

/// What a report's rows are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Day,
    Hour,
    Channel,
    Inbox,
    Agent,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "day" => Some(GroupBy::Day),
            "hour" => Some(GroupBy::Hour),
            "channel" => Some(GroupBy::Channel),
            "inbox" => Some(GroupBy::Inbox),
            "agent" => Some(GroupBy::Agent),
            _ => None,
        }
    }
}

/// A half-open UTC range `[start, end)` and the row key it reports under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub key: String,
    pub start: i64,
    pub end: i64,
}

/// What the worker asks the workspace object: with `Day` or `Hour`, one
/// row per bucket (empty ones included); otherwise one row per channel,
/// inbox or agent over the buckets' whole span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub group_by: GroupBy,
    pub buckets: Vec<Bucket>,
}

/// A distribution of durations: how many, the median and the 90th
/// percentile, both nearest-rank (the smallest value with at least that
/// share of the values at or below it; always a measured value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    /// In `totals` only: how many durations fall in each bin of
    /// [`HISTOGRAM_BOUNDS_MS`] (one more bin than bounds: the last is "24 h
    /// and longer"), for the page's response-time chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Vec<i64>>,
}

/// The histogram's bins end (exclusive) at 1 min, 5 min, 15 min, 1 h, 4 h
/// and 24 h: the lengths a support manager reads response times in.
pub const HISTOGRAM_BOUNDS_MS: [i64; 6] = [
    60_000,
    5 * 60_000,
    15 * 60_000,
    3_600_000,
    4 * 3_600_000,
    24 * 3_600_000,
];

/// The histogram bin of a duration.
pub fn histogram_bin(ms: i64) -> usize {
    HISTOGRAM_BOUNDS_MS.iter().filter(|b| ms >= **b).count()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The day (`YYYY-MM-DD`), hour (`YYYY-MM-DDTHH:MM±HH:MM`, local, with
    /// its offset), channel, inbox id or agent id; `null` for
    /// traffic without an agent (and for the totals).
    pub key: Option<String>,
    pub conversations_opened: i64,
    pub conversations_resolved: i64,
    pub messages_in: i64,
    pub messages_out: i64,
    pub first_response: Durations,
    pub resolution: Durations,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportAnswer {
    pub rows: Vec<ReportRow>,
    pub totals: ReportRow,
}

/// The 1-based rank of the nearest-rank `p`th percentile of `n` values.
pub fn nearest_rank(n: i64, p: i64) -> i64 {
    ((n * p) + 99) / 100
}

impl Durations {
    /// The count, median and 90th percentile of durations sorted ascending.
    pub fn of_sorted(sorted: &[i64]) -> Durations {
        let n = i64::try_from(sorted.len()).unwrap_or(i64::MAX);
        let pick = |p: i64| {
            usize::try_from(nearest_rank(n, p) - 1)
                .ok()
                .and_then(|i| sorted.get(i).copied())
        };
        Durations {
            count: n,
            median_ms: pick(50),
            p90_ms: pick(90),
            histogram: None,
        }
    }

    /// The same, with how many fall in each bin of [`HISTOGRAM_BOUNDS_MS`].
    pub fn with_histogram(sorted: &[i64]) -> Durations {
        let mut bins = vec![0; HISTOGRAM_BOUNDS_MS.len() + 1];
        for ms in sorted {
            if let Some(b) = bins.get_mut(histogram_bin(*ms)) {
                *b += 1;
            }
        }
        Durations {
            histogram: Some(bins),
            ..Durations::of_sorted(sorted)
        }
    }
}

/// `YYYY-MM-DD` → days since 1970-01-01; `None` for anything else.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 → `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The UTC instant a local day starts, given `offset_at(t)`: the zone's
/// offset from UTC (ms, east positive) at instant `t`. Across a change of
/// offset the answer is the first instant whose local date is that day.
pub fn local_day_start(days: i64, offset_at: &impl Fn(i64) -> Option<i64>) -> Option<i64> {
    let wall = days.checked_mul(DAY_MS)?;
    // Two rounds settle the offset in force at that instant.
    let mut t = wall - offset_at(wall)?;
    t = wall - offset_at(t)?;
    // Midnight skipped by a change (clocks jump forward at 00:00): the day
    // starts when the new offset takes over, found by halving.
    if t + offset_at(t)? != wall {
        let (mut lo, mut hi) = (t - DAY_MS, t + DAY_MS);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if (mid + offset_at(mid)?).div_euclid(DAY_MS) >= days {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        t = hi;
    }
    Some(t)
}

/// One bucket per local day from `from` to `to` (days since the epoch,
/// inclusive), each `[its start, the next day's start)`.
pub fn day_buckets(
    from: i64,
    to: i64,
    offset_at: &impl Fn(i64) -> Option<i64>,
) -> Option<Vec<Bucket>> {
    let mut out = Vec::new();
    let mut start = local_day_start(from, offset_at)?;
    let mut offset = offset_at(start)?;
    for day in from..=to {
        // Most days start at the previous day's offset: one look-up
        // confirms it; a change of offset takes the careful way.
        let wall = (day + 1).checked_mul(DAY_MS)?;
        let guess = wall - offset;
        let end = if offset_at(guess)? == offset {
            guess
        } else {
            let end = local_day_start(day + 1, offset_at)?;
            offset = offset_at(end)?;
            end
        };
        out.push(Bucket {
            key: format_date(day),
            start,
            end,
        });
        start = end;
    }
    Some(out)
}

/// One bucket per local hour of the days `from` to `to`: 23 or 25 on a day
/// the clocks change. Keys are local times with their offset, so the hour
/// a fall-back change repeats is two distinct keys.
pub fn hour_buckets(
    from: i64,
    to: i64,
    offset_at: &impl Fn(i64) -> Option<i64>,
) -> Option<Vec<Bucket>> {
    const HOUR_MS: i64 = 3600 * 1000;
    let mut out = Vec::new();
    for day in day_buckets(from, to, offset_at)? {
        let mut start = day.start;
        while start < day.end {
            let end = (start + HOUR_MS).min(day.end);
            let offset = offset_at(start)?;
            let wall = start + offset;
            let minutes = wall.rem_euclid(DAY_MS) / 60_000;
            let off = offset.abs() / 60_000;
            out.push(Bucket {
                key: format!(
                    "{}T{:02}:{:02}{}{:02}:{:02}",
                    format_date(wall.div_euclid(DAY_MS)),
                    minutes / 60,
                    minutes % 60,
                    if offset < 0 { '-' } else { '+' },
                    off / 60,
                    off % 60
                ),
                start,
                end,
            });
            start = end;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-12-01"), Some(20_788));
        assert_eq!(format_date(20_788), "2026-12-01");
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        for d in -700_000..2_900_000 {
            if d % 997 == 0 {
                assert_eq!(parse_date(&format_date(d)), Some(d), "{d}");
            }
        }
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026-01-01x",
            "",
            "2026-01-32",
            "+026-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_pick_nearest_ranks_and_fill_every_bin() {
        assert_eq!(Durations::of_sorted(&[]), Durations::default());
        let ms: Vec<i64> = (1..=10).map(|i| i * 1000).collect();
        let d = Durations::of_sorted(&ms);
        assert_eq!(
            (d.count, d.median_ms, d.p90_ms),
            (10, Some(5000), Some(9000))
        );
        let h = Durations::with_histogram(&[0, 59_999, 60_000, 3_600_000, 90_000_000]);
        assert_eq!(h.histogram, Some(vec![2, 1, 0, 0, 1, 0, 1]));
        assert_eq!(h.median_ms, Some(60_000));
    }

    #[test]
    fn nearest_rank_picks_a_measured_value() {
        // n = 1: both are the only value; n = 2: the median is the lower.
        assert_eq!((nearest_rank(1, 50), nearest_rank(1, 90)), (1, 1));
        assert_eq!((nearest_rank(2, 50), nearest_rank(2, 90)), (1, 2));
        assert_eq!((nearest_rank(10, 50), nearest_rank(10, 90)), (5, 9));
        assert_eq!((nearest_rank(11, 50), nearest_rank(11, 90)), (6, 10));
    }

    #[test]
    fn histogram_bins_end_at_their_bounds() {
        assert_eq!(histogram_bin(0), 0);
        assert_eq!(histogram_bin(59_999), 0);
        assert_eq!(histogram_bin(60_000), 1);
        assert_eq!(histogram_bin(15 * 60_000 - 1), 2);
        assert_eq!(histogram_bin(24 * 3_600_000 - 1), 5);
        assert_eq!(histogram_bin(24 * 3_600_000), 6);
        assert_eq!(histogram_bin(i64::MAX), HISTOGRAM_BOUNDS_MS.len());
    }

    #[test]
    fn slots_are_quarter_hours() {
        assert_eq!(slot_of(0), 0);
        assert_eq!(slot_of(SLOT_MS - 1), 0);
        assert_eq!(slot_of(SLOT_MS), SLOT_MS);
        assert_eq!(slot_of(-1), -SLOT_MS);
    }

    const H: i64 = 3600 * 1000;

    #[test]
    fn fixed_offsets_move_the_day() {
        let kolkata = |_t: i64| Some(5 * H + 30 * 60 * 1000);
        let day = parse_date("2026-12-01").unwrap();
        let b = day_buckets(day, day + 1, &kolkata).unwrap();
        assert_eq!(b[0].key, "2026-12-01");
        assert_eq!(b[0].start, day * DAY_MS - (5 * H + 30 * 60 * 1000));
        assert_eq!(b[0].end - b[0].start, DAY_MS);
        assert_eq!(b[1].start, b[0].end);
        assert_eq!(b[0].start % SLOT_MS, 0, "a local day is whole slots");
        let utc = |_t: i64| Some(0);
        assert_eq!(day_buckets(day, day, &utc).unwrap()[0].start, day * DAY_MS);
    }

    /// A zone at UTC−5 that moves to UTC−4 at `change` (like New York in spring).
    fn dst(change: i64) -> impl Fn(i64) -> Option<i64> {
        move |t| Some(if t >= change { -4 * H } else { -5 * H })
    }

    #[test]
    fn a_day_with_a_clock_change_is_23_hours() {
        let day = parse_date("2026-03-08").unwrap();
        // 02:00 local (UTC−5) is 07:00 UTC.
        let change = day * DAY_MS + 7 * H;
        let b = day_buckets(day, day + 1, &dst(change)).unwrap();
        assert_eq!(b[0].start, day * DAY_MS + 5 * H);
        assert_eq!(b[0].end - b[0].start, 23 * H);
        assert_eq!(b[1].end - b[1].start, 24 * H);
    }

    #[test]
    fn buckets_agree_with_the_careful_way_across_changes() {
        let from = parse_date("2026-02-01").unwrap();
        let spring = parse_date("2026-03-08").unwrap() * DAY_MS + 7 * H;
        let fall = parse_date("2026-11-01").unwrap() * DAY_MS + 6 * H;
        let zone = move |t: i64| {
            Some(if (spring..fall).contains(&t) {
                -4 * H
            } else {
                -5 * H
            })
        };
        let b = day_buckets(from, from + 365, &zone).unwrap();
        for (i, bucket) in b.iter().enumerate() {
            let day = from + i as i64;
            assert_eq!(bucket.key, format_date(day));
            assert_eq!(
                Some(bucket.start),
                local_day_start(day, &zone),
                "{}",
                bucket.key
            );
            assert_eq!(
                Some(bucket.end),
                local_day_start(day + 1, &zone),
                "{}",
                bucket.key
            );
        }
        let lengths: Vec<i64> = b
            .iter()
            .map(|x| (x.end - x.start) / H)
            .filter(|h| *h != 24)
            .collect();
        assert_eq!(lengths, [23, 25]);
    }

    #[test]
    fn hours_carry_their_offset_and_follow_clock_changes() {
        let kolkata = |_t: i64| Some(5 * H + 30 * 60 * 1000);
        let day = parse_date("2026-12-01").unwrap();
        let h = hour_buckets(day, day, &kolkata).unwrap();
        assert_eq!(h.len(), 24);
        assert_eq!(h[0].key, "2026-12-01T00:00+05:30");
        assert_eq!(h[23].key, "2026-12-01T23:00+05:30");
        assert_eq!(h[0].start % SLOT_MS, 0);
        let fall_day = parse_date("2026-11-01").unwrap();
        let fall = fall_day * DAY_MS + 6 * H; // 02:00 at UTC−4 → 01:00 at UTC−5
        let zone = move |t: i64| Some(if t < fall { -4 * H } else { -5 * H });
        let h = hour_buckets(fall_day, fall_day, &zone).unwrap();
        let keys: Vec<&str> = h.iter().map(|b| b.key.as_str()).take(4).collect();
        assert_eq!(
            keys,
            [
                "2026-11-01T00:00-04:00",
                "2026-11-01T01:00-04:00",
                "2026-11-01T01:00-05:00",
                "2026-11-01T02:00-05:00"
            ]
        );
        assert_eq!(h.len(), 25);
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_change() {
        // Clocks jump from 00:00 to 01:00 local: the day starts at the jump.
        let day = parse_date("2026-09-06").unwrap();
        let change = day * DAY_MS + 5 * H; // 00:00 at UTC−5
        let start = local_day_start(day, &dst(change)).unwrap();
        assert_eq!(start, change);
        assert_eq!(local_day_start(day, &|_t| None), None);
    }
}
