//! Telemetry reads: state intervals (a series', a device's availability), the last values of a
//! device, a series over a window (tier by span, counters as rates) and a fleet's top-N. Any
//! staff role of the tenant reads; customers may not (yet). Windows are RFC 3339 `[t0, t1)`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::telemetry::{LastValue, SeriesRange, StateInterval, TopEntry};

/// The intervals of a state series over `[t0, t1)`; `stale_seconds` is how long one sample
/// vouches for its state (default 900).
#[server(prefix = "/api", endpoint = "state_intervals")]
pub async fn state_intervals(
    series: i64,
    t0: String,
    t1: String,
    stale_seconds: Option<i64>,
) -> Result<Vec<StateInterval>, AppError> {
    ssr::state_intervals(series, t0, t1, stale_seconds).await
}

/// A device's availability: the intervals of its `up` series (all unknown if never polled).
#[server(prefix = "/api", endpoint = "device_availability")]
pub async fn device_availability(
    device: i64,
    t0: String,
    t1: String,
    stale_seconds: Option<i64>,
) -> Result<Vec<StateInterval>, AppError> {
    ssr::device_availability(device, t0, t1, stale_seconds).await
}

/// The newest sample of each series of a device.
#[server(prefix = "/api", endpoint = "last_values")]
pub async fn last_values(device: i64) -> Result<Vec<LastValue>, AppError> {
    ssr::last_values(device).await
}

/// A gauge or counter series over `[t0, t1)`, from the tier the span picks.
#[server(prefix = "/api", endpoint = "read_range")]
pub async fn read_range(series: i64, t0: String, t1: String) -> Result<SeriesRange, AppError> {
    ssr::read_range(series, t0, t1).await
}

/// The tenant's `n` series of a gauge or counter `metric` with the highest average (or, with
/// `by = "max"`, maximum) over `[t0, t1)`; counters by their rate per second.
#[server(prefix = "/api", endpoint = "top_n")]
pub async fn top_n(
    metric: String,
    t0: String,
    t1: String,
    n: i64,
    by: Option<String>,
) -> Result<Vec<TopEntry>, AppError> {
    ssr::top_n(metric, t0, t1, n, by).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use ::telemetry::MetricKind;

    use crate::api::server::staff_caller;
    use crate::db;
    use crate::error::AppError;
    use crate::model::device::DeviceId;
    use crate::model::telemetry::{
        counter_rates, parse_window, stale_limit, top_count, LastValue, Point, ReadTier, SeriesId,
        SeriesRange, StateInterval, TopBy, TopEntry,
    };

    /// The registry kind of a stored series' metric. A series is only created for a metric
    /// the registry knows, so an unknown one is a server fault.
    fn kind_of(metric: &str) -> Result<MetricKind, AppError> {
        ::telemetry::Registry::v1()
            .get(metric)
            .map(|spec| spec.kind)
            .ok_or_else(|| {
                tracing::error!(metric, "series of a metric the registry does not know");
                AppError::Internal
            })
    }

    pub async fn state_intervals(
        series: i64,
        t0: String,
        t1: String,
        stale_seconds: Option<i64>,
    ) -> Result<Vec<StateInterval>, AppError> {
        let (state, me) = staff_caller().await?;
        let window = parse_window(&t0, &t1)?;
        let stale = stale_limit(stale_seconds)?;
        let found = db::telemetry::series(&state.pool, me.tenant_id, SeriesId(series)).await?;
        if !matches!(kind_of(&found.metric)?, MetricKind::State(_)) {
            return Err(AppError::invalid(
                "series",
                "is not a state metric: read its values instead",
            ));
        }
        db::telemetry::state_intervals(&state.pool, me.tenant_id, found.id, window, stale).await
    }

    pub async fn device_availability(
        device: i64,
        t0: String,
        t1: String,
        stale_seconds: Option<i64>,
    ) -> Result<Vec<StateInterval>, AppError> {
        let (state, me) = staff_caller().await?;
        let window = parse_window(&t0, &t1)?;
        let stale = stale_limit(stale_seconds)?;
        db::telemetry::check_device(&state.pool, me.tenant_id, DeviceId(device)).await?;
        db::telemetry::device_availability(
            &state.pool,
            me.tenant_id,
            DeviceId(device),
            window,
            stale,
        )
        .await
    }

    pub async fn last_values(device: i64) -> Result<Vec<LastValue>, AppError> {
        let (state, me) = staff_caller().await?;
        db::telemetry::check_device(&state.pool, me.tenant_id, DeviceId(device)).await?;
        let rows = db::telemetry::last_values(&state.pool, me.tenant_id, DeviceId(device)).await?;
        let mut values = Vec::with_capacity(rows.len());
        for r in rows {
            let rate = match (kind_of(&r.series.metric)?, r.previous, r.value) {
                (MetricKind::Counter, Some(before), Some(value)) => {
                    counter_rates(&[before, (r.at, value)])[1]
                }
                _ => None,
            };
            values.push(LastValue {
                series: r.series.id,
                metric: r.series.metric,
                instance: r.series.instance,
                at: db::rfc3339(r.at),
                value: r.value,
                state: r.state,
                reason: r.reason,
                rate,
            });
        }
        Ok(values)
    }

    pub async fn read_range(series: i64, t0: String, t1: String) -> Result<SeriesRange, AppError> {
        let (state, me) = staff_caller().await?;
        let (t0, t1) = parse_window(&t0, &t1)?;
        let found = db::telemetry::series(&state.pool, me.tenant_id, SeriesId(series)).await?;
        let counter = match kind_of(&found.metric)? {
            MetricKind::Gauge => false,
            MetricKind::Counter => true,
            MetricKind::State(_) => {
                return Err(AppError::invalid(
                    "series",
                    "is a state metric: read its intervals instead",
                ))
            }
        };
        let tier = ReadTier::for_span(t1 - t0);
        let points = match tier.width() {
            None => {
                let readings =
                    db::telemetry::raw_readings(&state.pool, found.id, (t0, t1), counter).await?;
                if counter {
                    rate_points(&readings, |i| readings[i].0)
                } else {
                    readings
                        .iter()
                        .map(|&(at, value)| Point {
                            at: db::rfc3339(at),
                            avg: value,
                            min: None,
                            max: None,
                            p95: None,
                        })
                        .collect()
                }
            }
            Some(width) => {
                // A counter's first rate needs the bucket before the window.
                let from = if counter {
                    tier.bucket_of(t0) - width
                } else {
                    tier.bucket_of(t0)
                };
                let buckets =
                    db::telemetry::rollup_buckets(&state.pool, tier, found.id, from, t1).await?;
                if counter {
                    let lasts: Vec<_> = buckets.iter().map(|b| (b.last_at, b.last)).collect();
                    rate_points(&lasts, |i| buckets[i].bucket)
                } else {
                    buckets
                        .iter()
                        .map(|b| Point {
                            at: db::rfc3339(b.bucket),
                            avg: b.sum / f64::from(b.count),
                            min: Some(b.min),
                            max: Some(b.max),
                            p95: b.p95,
                        })
                        .collect()
                }
            }
        };
        Ok(SeriesRange {
            series: found.id,
            metric: found.metric,
            instance: found.instance,
            tier,
            rate: counter,
            points,
        })
    }

    /// A counter's readings as rate points, each at `at(i)` (the sample, or its bucket);
    /// readings with no rate (the first, after a restart) give no point.
    fn rate_points(
        readings: &[(time::OffsetDateTime, f64)],
        at: impl Fn(usize) -> time::OffsetDateTime,
    ) -> Vec<Point> {
        counter_rates(readings)
            .into_iter()
            .enumerate()
            .filter_map(|(i, rate)| {
                rate.map(|avg| Point {
                    at: db::rfc3339(at(i)),
                    avg,
                    min: None,
                    max: None,
                    p95: None,
                })
            })
            .collect()
    }

    pub async fn top_n(
        metric: String,
        t0: String,
        t1: String,
        n: i64,
        by: Option<String>,
    ) -> Result<Vec<TopEntry>, AppError> {
        let (state, me) = staff_caller().await?;
        let window = parse_window(&t0, &t1)?;
        let n = top_count(n)?;
        let by: TopBy = match by.as_deref().map(str::trim) {
            None | Some("") => TopBy::Avg,
            Some(raw) => raw.parse()?,
        };
        let metric = metric.trim();
        let tier = ReadTier::for_span(window.1 - window.0);
        let pool = &state.pool;
        match ::telemetry::Registry::v1().get(metric).map(|s| s.kind) {
            Some(MetricKind::Gauge) => {
                db::telemetry::top_gauges(pool, me.tenant_id, metric, tier, window, by, n).await
            }
            Some(MetricKind::Counter) => {
                db::telemetry::top_counters(pool, me.tenant_id, metric, tier, window, by, n).await
            }
            Some(MetricKind::State(_)) => Err(AppError::invalid(
                "metric",
                "is a state metric: states are not ranked",
            )),
            None => Err(AppError::invalid("metric", "is not in the metric registry")),
        }
    }
}
