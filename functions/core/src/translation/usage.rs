//! Usage per workspace per day (characters and calls) and the optional
//! daily quota. Days are UTC days since the epoch.

use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// The UTC day (days since the epoch) of a time in milliseconds.
pub fn day_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(DAY_MS)
}

/// One day's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub day: i64,
    pub chars: i64,
    pub calls: i64,
}

/// Whether a call of `chars` characters may be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The quota would be exceeded; the reason the message carries.
    OverQuota(String),
}

/// Counts characters, not tokens: what LibreTranslate limits and most
/// providers bill. `used` is today's usage; `quota` the daily limit.
pub fn admit(used: &Usage, quota: Option<i64>, chars: i64) -> Admission {
    match quota {
        Some(q) if used.chars.saturating_add(chars) > q => Admission::OverQuota(format!(
            "the workspace's daily translation quota is reached ({} of {q} characters used today)",
            used.chars
        )),
        _ => Admission::Allowed,
    }
}

/// Today's usage after a call: a new day starts from zero.
pub fn record(used: &Usage, today: i64, chars: i64) -> Usage {
    let base = if used.day == today {
        *used
    } else {
        Usage {
            day: today,
            ..Usage::default()
        }
    };
    Usage {
        day: today,
        chars: base.chars.saturating_add(chars.max(0)),
        calls: base.calls.saturating_add(1),
    }
}

/// Characters as a provider counts them (Unicode scalar values).
pub fn chars(text: &str) -> i64 {
    text.chars().count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_admits_up_to_the_limit() {
        let used = Usage {
            day: 1,
            chars: 90,
            calls: 3,
        };
        assert_eq!(admit(&used, None, 1_000_000), Admission::Allowed);
        assert_eq!(admit(&used, Some(100), 10), Admission::Allowed);
        assert!(
            matches!(admit(&used, Some(100), 11), Admission::OverQuota(r) if r.contains("90 of 100"))
        );
        assert!(matches!(admit(&used, Some(0), 1), Admission::OverQuota(_)));
    }

    #[test]
    fn a_new_day_starts_at_zero() {
        let used = Usage {
            day: 1,
            chars: 90,
            calls: 3,
        };
        assert_eq!(
            record(&used, 1, 5),
            Usage {
                day: 1,
                chars: 95,
                calls: 4
            }
        );
        assert_eq!(
            record(&used, 2, 5),
            Usage {
                day: 2,
                chars: 5,
                calls: 1
            }
        );
        assert_eq!(day_of(DAY_MS * 3 + 5), 3);
        assert_eq!(day_of(-1), -1);
        assert_eq!(chars("Grüße"), 5);
    }
}
