//! Telemetry reads, tenant-scoped: a series and a device's series, state intervals (through
//! `telemetry_state_intervals` and `telemetry_device_availability`), raw readings, rollup
//! buckets (through `telemetry_rollup_read`), last values and a fleet's top-N. The SQL functions
//! are the query surface of migrations/20261128000002_telemetry_query.sql, which a TimescaleDB
//! mode can provide over its own storage. No writes: the store is `server/src/ingest/`.

use sqlx::PgExecutor;
use time::{Duration, OffsetDateTime};

use crate::db::rfc3339;
use crate::error::AppError;
use crate::model::device::DeviceId;
use crate::model::telemetry::{ReadTier, SeriesId, StateInterval, TopBy, TopEntry};
use crate::model::user::TenantId;

/// A series' identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub id: SeriesId,
    pub device: DeviceId,
    pub metric: String,
    pub instance: String,
}

/// A tenant's series by id; another tenant's is `NotFound`, like a missing one.
pub async fn series(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: SeriesId,
) -> Result<Series, AppError> {
    let r = sqlx::query!(
        "select id, device_id, metric, instance from series where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Series {
        id: SeriesId(r.id),
        device: DeviceId(r.device_id),
        metric: r.metric,
        instance: r.instance,
    })
}

/// `NotFound` unless the device is the tenant's.
pub async fn check_device(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
) -> Result<(), AppError> {
    sqlx::query_scalar!(
        r#"select 1 as "one!" from device where tenant_id = $1 and id = $2"#,
        tenant.0,
        device.0
    )
    .fetch_optional(db)
    .await?
    .map(|_| ())
    .ok_or(AppError::NotFound)
}

/// One row of the interval functions.
struct IntervalRow {
    start_at: OffsetDateTime,
    end_at: OffsetDateTime,
    state: String,
    reason: Option<String>,
}

impl From<IntervalRow> for StateInterval {
    fn from(r: IntervalRow) -> Self {
        StateInterval {
            start: rfc3339(r.start_at),
            end: rfc3339(r.end_at),
            state: r.state,
            reason: r.reason,
        }
    }
}

/// The state intervals of a tenant's state series over `[t0, t1)` (see the SQL function for
/// the rules); `stale` in whole seconds. Empty if the series is not the tenant's.
pub async fn state_intervals(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    series: SeriesId,
    (t0, t1): (OffsetDateTime, OffsetDateTime),
    stale: Duration,
) -> Result<Vec<StateInterval>, AppError> {
    let rows = sqlx::query_as!(
        IntervalRow,
        r#"select i.start_at as "start_at!", i.end_at as "end_at!", i.state as "state!", i.reason
           from series s
           cross join lateral telemetry_state_intervals(s.id, $3, $4, $5::int8 * interval '1 second') i
           where s.tenant_id = $1 and s.id = $2
           order by i.start_at"#,
        tenant.0,
        series.0,
        t0,
        t1,
        stale.whole_seconds()
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(StateInterval::from).collect())
}

/// The intervals of a tenant's device's `up` series over `[t0, t1)`; all unknown if it was
/// never polled. Empty if the device is not the tenant's.
pub async fn device_availability(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    (t0, t1): (OffsetDateTime, OffsetDateTime),
    stale: Duration,
) -> Result<Vec<StateInterval>, AppError> {
    let rows = sqlx::query_as!(
        IntervalRow,
        r#"select i.start_at as "start_at!", i.end_at as "end_at!", i.state as "state!", i.reason
           from device d
           cross join lateral telemetry_device_availability(d.id, $3, $4, $5::int8 * interval '1 second') i
           where d.tenant_id = $1 and d.id = $2
           order by i.start_at"#,
        tenant.0,
        device.0,
        t0,
        t1,
        stale.whole_seconds()
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(StateInterval::from).collect())
}

/// The numeric raw samples of a series in `[t0, t1)` in time order, preceded by the newest one
/// before `t0` when `with_previous` (a counter's first rate needs it). Read through
/// `telemetry_raw` and `telemetry_latest`: index range scans of the raw partitions, and of the
/// packed days where the window reaches that far back. The caller has checked the series'
/// tenant.
pub async fn raw_readings(
    db: impl PgExecutor<'_>,
    series: SeriesId,
    (t0, t1): (OffsetDateTime, OffsetDateTime),
    with_previous: bool,
) -> Result<Vec<(OffsetDateTime, f64)>, AppError> {
    let rows = sqlx::query!(
        r#"select at as "at!", value as "value!" from (
               select l.at, l.value from telemetry_latest($1, $2, true) l where $4
               union all
               select r.at, r.value from telemetry_raw($1, $2, $3) r where r.value is not null
           ) r
           order by at"#,
        series.0,
        t0,
        t1,
        with_previous
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.at, r.value)).collect())
}

/// One rollup bucket of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub bucket: OffsetDateTime,
    pub count: i32,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub last: f64,
    pub last_at: OffsetDateTime,
    pub p95: Option<f64>,
}

/// The buckets of a series in `[from, to)` from a rollup tier, in time order (a primary-key
/// range scan). The caller has checked the series' tenant; `tier` is not raw.
pub async fn rollup_buckets(
    db: impl PgExecutor<'_>,
    tier: ReadTier,
    series: SeriesId,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<Bucket>, AppError> {
    let rows = sqlx::query!(
        r#"select bucket as "bucket!", count as "count!", min as "min!", max as "max!",
                  sum as "sum!", last as "last!", last_at as "last_at!", p95
           from telemetry_rollup_read($1, $2, $3, $4)
           order by bucket"#,
        tier.as_str(),
        series.0,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Bucket {
            bucket: r.bucket,
            count: r.count,
            min: r.min,
            max: r.max,
            sum: r.sum,
            last: r.last,
            last_at: r.last_at,
            p95: r.p95,
        })
        .collect())
}

/// The newest sample of a series, and for numbers the one before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Last {
    pub series: Series,
    pub at: OffsetDateTime,
    pub value: Option<f64>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub previous: Option<(OffsetDateTime, f64)>,
}

/// The newest raw sample of every series of a tenant's device (series whose raw samples have
/// all aged out are left out), by metric and instance. Each is `telemetry_latest`: a backward
/// scan of `sample_series_at` that stops at the first row (the newest packed day only where the
/// raw partitions hold none). The caller has checked the device.
pub async fn last_values(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Vec<Last>, AppError> {
    let rows = sqlx::query!(
        r#"select s.id, s.device_id, s.metric, s.instance, l.at as "at!", l.value, l.state, l.reason,
                  p.at as "previous_at?", p.value as "previous_value?"
           from series s
           cross join lateral telemetry_latest(s.id, 'infinity', false) l
           left join lateral (
               select x.at, x.value from telemetry_latest(s.id, l.at, true) x
               where l.value is not null
           ) p on true
           where s.tenant_id = $1 and s.device_id = $2
           order by s.metric, s.instance"#,
        tenant.0,
        device.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Last {
            series: Series {
                id: SeriesId(r.id),
                device: DeviceId(r.device_id),
                metric: r.metric,
                instance: r.instance,
            },
            at: r.at,
            value: r.value,
            state: r.state,
            reason: r.reason,
            previous: r.previous_at.zip(r.previous_value),
        })
        .collect())
}

/// A tenant's series of the gauge `metric` ranked by the average or the maximum of their
/// values in `[t0, t1)`, read from `tier` (rollup buckets that start in the window's first
/// bucket or later); ties by series id. Series without data in the window are left out.
pub async fn top_gauges(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    metric: &str,
    tier: ReadTier,
    (t0, t1): (OffsetDateTime, OffsetDateTime),
    by: TopBy,
    n: i64,
) -> Result<Vec<TopEntry>, AppError> {
    let by_max = by == TopBy::Max;
    // Two statements rather than one dynamic one: raw rows and rollup buckets aggregate
    // differently (avg of values, sum of sums over sum of counts).
    let rows: Vec<Ranked> = if tier == ReadTier::Raw {
        sqlx::query!(
            r#"select s.id, s.device_id, d.name, s.instance,
                      avg(x.value) as "avg!", max(x.value) as "max!"
               from series s
               join device d on d.tenant_id = s.tenant_id and d.id = s.device_id
               cross join lateral telemetry_raw(s.id, $3, $4) x
               where s.tenant_id = $1 and s.metric = $2 and x.value is not null
               group by s.id, d.name
               order by case when $5 then max(x.value) else avg(x.value) end desc, s.id
               limit $6"#,
            tenant.0,
            metric,
            t0,
            t1,
            by_max,
            n
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.device_id, r.name, r.instance, r.avg, r.max))
        .collect()
    } else {
        sqlx::query!(
            r#"select s.id, s.device_id, d.name, s.instance,
                      sum(r.sum) / sum(r.count) as "avg!", max(r.max) as "max!"
               from series s
               join device d on d.tenant_id = s.tenant_id and d.id = s.device_id
               cross join lateral telemetry_rollup_read($3, s.id, $4, $5) r
               where s.tenant_id = $1 and s.metric = $2
               group by s.id, d.name
               order by case when $6 then max(r.max) else sum(r.sum) / sum(r.count) end desc,
                        s.id
               limit $7"#,
            tenant.0,
            metric,
            tier.as_str(),
            tier.bucket_of(t0),
            t1,
            by_max,
            n
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.device_id, r.name, r.instance, r.avg, r.max))
        .collect()
    };
    Ok(entries(rows, by))
}

/// A tenant's series of the counter `metric` ranked by their rate per second in `[t0, t1)`:
/// the average (the increase over the time between consecutive readings, intervals where the
/// counter restarted left out) or the maximum rate of one interval. Readings are the raw
/// samples, or on a rollup tier each bucket's last sample (`last`, `last_at`). Ties by series
/// id; series with fewer than two readings in the window are left out.
pub async fn top_counters(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    metric: &str,
    tier: ReadTier,
    (t0, t1): (OffsetDateTime, OffsetDateTime),
    by: TopBy,
    n: i64,
) -> Result<Vec<TopEntry>, AppError> {
    let by_max = by == TopBy::Max;
    let rows: Vec<Ranked> = if tier == ReadTier::Raw {
        sqlx::query!(
            r#"select s.id, s.device_id, d.name, s.instance,
                      sum(r.delta) / sum(r.seconds) as "avg!", max(r.delta / r.seconds) as "max!"
               from series s
               join device d on d.tenant_id = s.tenant_id and d.id = s.device_id
               cross join lateral (
                   select x.value - lag(x.value) over w as delta,
                          extract(epoch from x.at - lag(x.at) over w)::float8 as seconds
                   from telemetry_raw(s.id, $3, $4) x
                   where x.value is not null
                   window w as (order by x.at)
               ) r
               where s.tenant_id = $1 and s.metric = $2 and r.delta >= 0 and r.seconds > 0
               group by s.id, d.name
               order by case when $5 then max(r.delta / r.seconds)
                             else sum(r.delta) / sum(r.seconds) end desc,
                        s.id
               limit $6"#,
            tenant.0,
            metric,
            t0,
            t1,
            by_max,
            n
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.device_id, r.name, r.instance, r.avg, r.max))
        .collect()
    } else {
        sqlx::query!(
            r#"select s.id, s.device_id, d.name, s.instance,
                      sum(r.delta) / sum(r.seconds) as "avg!", max(r.delta / r.seconds) as "max!"
               from series s
               join device d on d.tenant_id = s.tenant_id and d.id = s.device_id
               cross join lateral (
                   select b.last - lag(b.last) over w as delta,
                          extract(epoch from b.last_at - lag(b.last_at) over w)::float8
                              as seconds
                   from telemetry_rollup_read($3, s.id, $4, $5) b
                   window w as (order by b.bucket)
               ) r
               where s.tenant_id = $1 and s.metric = $2 and r.delta >= 0 and r.seconds > 0
               group by s.id, d.name
               order by case when $6 then max(r.delta / r.seconds)
                             else sum(r.delta) / sum(r.seconds) end desc,
                        s.id
               limit $7"#,
            tenant.0,
            metric,
            tier.as_str(),
            tier.bucket_of(t0),
            t1,
            by_max,
            n
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.device_id, r.name, r.instance, r.avg, r.max))
        .collect()
    };
    Ok(entries(rows, by))
}

/// (series, device, device name, instance, avg, max) of a ranked series.
type Ranked = (i64, i64, String, String, f64, f64);

fn entries(rows: Vec<Ranked>, by: TopBy) -> Vec<TopEntry> {
    rows.into_iter()
        .map(|(id, device, device_name, instance, avg, max)| TopEntry {
            series: SeriesId(id),
            device: DeviceId(device),
            device_name,
            instance,
            value: if by == TopBy::Max { max } else { avg },
        })
        .collect()
}
