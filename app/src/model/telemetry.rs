//! Telemetry reads as the browser sees them (state intervals, points, last values, a fleet's
//! top-N) and their pure rules: which tier a window is read from, counter rates, the checks of
//! a read's arguments. The semantics are in docs/metrics.md, "Reading telemetry".

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::error::AppError;
use crate::model::device::DeviceId;
use crate::model::string_enum;

/// Database id of a series (device, metric, instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesId(pub i64);

/// One interval of a state series: `[start, end)` in RFC 3339 UTC. `state` is one of the
/// metric's states, or `unknown` where no sample vouches for the time; `reason` is the reason
/// of the interval's first sample (why `up` went `down`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateInterval {
    pub start: String,
    pub end: String,
    pub state: String,
    pub reason: Option<String>,
}

/// Where a window is read from, chosen by [`ReadTier::for_span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReadTier {
    #[serde(rename = "raw")]
    Raw,
    #[serde(rename = "1m")]
    Minute,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "1d")]
    Day,
}

/// The longest window read from raw samples.
pub const RAW_MAX_SPAN: Duration = Duration::hours(6);
/// The longest window read from the 1m rollup.
pub const MINUTE_MAX_SPAN: Duration = Duration::days(7);
/// The longest window read from the 1h rollup; longer ones read the 1d rollup.
pub const HOUR_MAX_SPAN: Duration = Duration::days(90);

impl ReadTier {
    /// The tier for a window of `span`: raw up to 6 h, 1m up to 7 d, 1h up to 90 d, 1d beyond
    /// (each bound inclusive). That keeps a chart at a few hundred to a few thousand points
    /// (6 h of 10 s polls is 2,160; 7 d of minutes 10,080; 90 d of hours 2,160).
    pub fn for_span(span: Duration) -> ReadTier {
        if span <= RAW_MAX_SPAN {
            ReadTier::Raw
        } else if span <= MINUTE_MAX_SPAN {
            ReadTier::Minute
        } else if span <= HOUR_MAX_SPAN {
            ReadTier::Hour
        } else {
            ReadTier::Day
        }
    }

    /// The tier's name in the database (`rollup_watermark.tier`) and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadTier::Raw => "raw",
            ReadTier::Minute => "1m",
            ReadTier::Hour => "1h",
            ReadTier::Day => "1d",
        }
    }

    /// A rollup's bucket width; `None` for raw samples.
    pub fn width(self) -> Option<Duration> {
        match self {
            ReadTier::Raw => None,
            ReadTier::Minute => Some(Duration::MINUTE),
            ReadTier::Hour => Some(Duration::HOUR),
            ReadTier::Day => Some(Duration::DAY),
        }
    }

    /// The start of the bucket holding `at` (UTC buckets, as the rollups bin them); `at` itself
    /// for raw samples.
    pub fn bucket_of(self, at: OffsetDateTime) -> OffsetDateTime {
        let Some(width) = self.width() else {
            return at;
        };
        let width_s = width.whole_seconds();
        let t = at.unix_timestamp();
        let floor = t - t.rem_euclid(width_s);
        OffsetDateTime::from_unix_timestamp(floor).unwrap_or(at)
    }
}

/// One point of a series. Raw gauges: `avg` is the sample's value. Rollups: `avg` is
/// sum / count of the bucket, with its `min`, `max` and `p95` (the histogram's, within 2 %).
/// Counters, read as a rate per second: `avg` is the rate since the previous sample (raw) or
/// the previous bucket's last sample (rollups); they have no min, max or p95.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The sample's time, or the bucket's start (RFC 3339 UTC).
    pub at: String,
    pub avg: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub p95: Option<f64>,
}

/// A series over a window, as `read_range` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRange {
    pub series: SeriesId,
    pub metric: String,
    pub instance: String,
    pub tier: ReadTier,
    /// True for counters: the points are rates per second, not the raw counts.
    pub rate: bool,
    pub points: Vec<Point>,
}

/// The newest sample of one series of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastValue {
    pub series: SeriesId,
    pub metric: String,
    pub instance: String,
    pub at: String,
    /// Gauges and counters (a counter's raw count).
    pub value: Option<f64>,
    /// State metrics.
    pub state: Option<String>,
    pub reason: Option<String>,
    /// Counters: the rate per second between the last two samples, unless the counter
    /// restarted between them or there is only one.
    pub rate: Option<f64>,
}

string_enum!(
    /// What `top_n` ranks series by: the window's average or its maximum.
    TopBy, field = "by", {
        Avg => "avg",
        Max => "max",
    }
);

/// One row of a fleet's top-N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopEntry {
    pub series: SeriesId,
    pub device: DeviceId,
    pub device_name: String,
    pub instance: String,
    pub value: f64,
}

/// The longest window any read accepts (a year and a bit: a yearly report from the 1d tier).
pub const MAX_SPAN: Duration = Duration::days(400);
/// How long a state sample vouches for its state when the caller does not say: three times
/// the agent's slowest default polling profile (300 s), so that no router polled on time is
/// ever shown as unknown between its polls.
pub const DEFAULT_STALE: Duration = Duration::seconds(900);
/// The most rows `top_n` returns.
pub const MAX_TOP_N: i64 = 100;

/// Reads a window `[t0, t1)` given as RFC 3339 timestamps: `t0 < t1`, at most [`MAX_SPAN`].
pub fn parse_window(t0: &str, t1: &str) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let parse = |field: &str, raw: &str| {
        OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
            AppError::invalid(
                field,
                "must be an RFC 3339 time such as 2026-11-28T10:00:00Z",
            )
        })
    };
    let (start, end) = (parse("t0", t0)?, parse("t1", t1)?);
    if start >= end {
        return Err(AppError::invalid("t1", "must be after t0"));
    }
    if end - start > MAX_SPAN {
        return Err(AppError::invalid(
            "t1",
            "the window must be at most 400 days",
        ));
    }
    Ok((start, end))
}

/// The staleness limit of a state read: `seconds` if given (1 s to 1 day), else
/// [`DEFAULT_STALE`].
pub fn stale_limit(seconds: Option<i64>) -> Result<Duration, AppError> {
    match seconds {
        None => Ok(DEFAULT_STALE),
        Some(s) if (1..=86_400).contains(&s) => Ok(Duration::seconds(s)),
        Some(_) => Err(AppError::invalid(
            "stale_seconds",
            "must be between 1 and 86400",
        )),
    }
}

/// Checks `top_n`'s row count.
pub fn top_count(n: i64) -> Result<i64, AppError> {
    if (1..=MAX_TOP_N).contains(&n) {
        Ok(n)
    } else {
        Err(AppError::invalid("n", "must be between 1 and 100"))
    }
}

/// The rate per second of a counter between consecutive readings `(time, count)`, in time
/// order: entry `i` is the rate over `(i - 1, i]`, `None` for the first reading, for two
/// readings at the same time, and where the count went down: a decrease means the counter
/// restarted (a reboot, a wrap), and what it counted across the restart is unknowable, so the
/// interval is skipped rather than shown as a negative or a guessed rate.
pub fn counter_rates(readings: &[(OffsetDateTime, f64)]) -> Vec<Option<f64>> {
    let mut rates = Vec::with_capacity(readings.len());
    let mut previous: Option<(OffsetDateTime, f64)> = None;
    for &(at, count) in readings {
        let rate = previous.and_then(|(before, before_count)| {
            let seconds = (at - before).as_seconds_f64();
            (seconds > 0.0 && count >= before_count).then_some((count - before_count) / seconds)
        });
        rates.push(rate);
        previous = Some((at, count));
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_tier_follows_the_span_with_inclusive_bounds() {
        let ns = Duration::nanoseconds(1);
        let cases = [
            (Duration::seconds(1), ReadTier::Raw),
            (Duration::hours(6), ReadTier::Raw),
            (Duration::hours(6) + ns, ReadTier::Minute),
            (Duration::days(7), ReadTier::Minute),
            (Duration::days(7) + ns, ReadTier::Hour),
            (Duration::days(90), ReadTier::Hour),
            (Duration::days(90) + ns, ReadTier::Day),
            (Duration::days(400), ReadTier::Day),
        ];
        for (span, tier) in cases {
            assert_eq!(ReadTier::for_span(span), tier, "{span}");
        }
    }

    #[test]
    fn tiers_travel_as_their_database_names() {
        for tier in [
            ReadTier::Raw,
            ReadTier::Minute,
            ReadTier::Hour,
            ReadTier::Day,
        ] {
            let json = serde_json::to_string(&tier).expect("json");
            assert_eq!(json, format!("\"{}\"", tier.as_str()));
        }
    }

    #[test]
    fn buckets_are_utc_minutes_hours_and_days() {
        let at = datetime!(2026-11-28 10:17:42.5 UTC);
        assert_eq!(ReadTier::Raw.bucket_of(at), at);
        assert_eq!(
            ReadTier::Minute.bucket_of(at),
            datetime!(2026-11-28 10:17 UTC)
        );
        assert_eq!(
            ReadTier::Hour.bucket_of(at),
            datetime!(2026-11-28 10:00 UTC)
        );
        assert_eq!(ReadTier::Day.bucket_of(at), datetime!(2026-11-28 00:00 UTC));
        let vienna = datetime!(2026-11-28 00:30 +01:00);
        assert_eq!(
            ReadTier::Day.bucket_of(vienna),
            datetime!(2026-11-27 00:00 UTC)
        );
    }

    #[test]
    fn counter_rates_skip_restarts_and_repeats() {
        let t = |s: i64| datetime!(2026-11-28 10:00 UTC) + Duration::seconds(s);
        let readings = [
            (t(0), 1000.0),
            (t(10), 2000.0), // +1000 in 10 s
            (t(20), 2000.0), // idle
            (t(30), 500.0),  // restarted: skipped
            (t(40), 1500.0), // counts again from the restart
            (t(40), 1600.0), // same instant: no rate
        ];
        assert_eq!(
            counter_rates(&readings),
            vec![None, Some(100.0), Some(0.0), None, Some(100.0), None]
        );
        assert!(counter_rates(&[]).is_empty());
    }

    #[test]
    fn windows_are_ordered_bounded_rfc3339() {
        let (t0, t1) =
            parse_window("2026-11-28T10:00:00Z", " 2026-11-28T11:30:00Z ").expect("window");
        assert_eq!(t1 - t0, Duration::minutes(90));
        let field = |r: Result<_, AppError>| r.expect_err("refused").field().map(str::to_owned);
        // The same instant in another offset: an empty window.
        assert_eq!(
            field(parse_window(
                "2026-11-28T10:00:00Z",
                "2026-11-28T11:00:00+01:00"
            ))
            .as_deref(),
            Some("t1")
        );
        assert_eq!(
            field(parse_window("yesterday", "2026-11-28T11:00:00Z")).as_deref(),
            Some("t0")
        );
        assert_eq!(
            field(parse_window("2025-01-01T00:00:00Z", "2026-11-28T11:00:00Z")).as_deref(),
            Some("t1")
        );
    }

    #[test]
    fn stale_limits_and_top_counts_are_bounded() {
        assert_eq!(stale_limit(None), Ok(DEFAULT_STALE));
        assert_eq!(stale_limit(Some(30)), Ok(Duration::seconds(30)));
        assert!(stale_limit(Some(0)).is_err());
        assert!(stale_limit(Some(86_401)).is_err());
        assert_eq!(top_count(1), Ok(1));
        assert_eq!(top_count(100), Ok(100));
        assert!(top_count(0).is_err());
        assert!(top_count(101).is_err());
    }
}
