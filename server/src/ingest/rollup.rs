//! The rollups: `sample_1m` from raw samples, `sample_1h` from `sample_1m`, `sample_1d` from
//! `sample_1h`, each advanced from its watermark in `rollup_watermark`, plus the buckets late
//! data made dirty (`rollup_dirty`).
//!
//! Order within one [`rollup_once`]: 1m forward, 1m dirty, 1h forward, 1h dirty, 1d forward,
//! 1d dirty. A re-rolled bucket below the next tier's watermark marks that tier's bucket dirty,
//! so a late sample reaches the hour and the day in the same run. Each step commits with its
//! watermark, so a crash loses nothing and repeats at most one step (re-rolling is an upsert of
//! a whole bucket: idempotent). Only one replica runs it: a session advisory lock.

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};
use time::{Duration, OffsetDateTime, Time};

/// The 1m tier stays this far behind the clock. Samples that arrive later than
/// [`super::write::DIRTY_AFTER`] mark their minute dirty; the difference is the margin for a
/// batch's transaction time and clock skew between replicas.
pub const LAG: Duration = Duration::minutes(3);

/// Where a fresh database starts rolling: before the oldest sample ingest accepts (7 days).
const START_BACK: Duration = Duration::days(8);

const LOCK_KEY: i64 = 0x6973_7076_6d00_0001;

/// One tier of rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Minute,
    Hour,
    Day,
}

impl Tier {
    /// The tiers kept in time partitions (by month and by year), made ahead of their writes.
    fn partitioned(self) -> bool {
        self != Tier::Day
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::Minute => "1m",
            Tier::Hour => "1h",
            Tier::Day => "1d",
        }
    }

    fn width(self) -> Duration {
        match self {
            Tier::Minute => Duration::MINUTE,
            Tier::Hour => Duration::HOUR,
            Tier::Day => Duration::DAY,
        }
    }

    /// The most one transaction rolls forward (bounds its size when catching up).
    fn step(self) -> Duration {
        match self {
            Tier::Minute => Duration::HOUR,
            Tier::Hour => Duration::DAY,
            Tier::Day => Duration::days(31),
        }
    }

    fn next(self) -> Option<Tier> {
        match self {
            Tier::Minute => Some(Tier::Hour),
            Tier::Hour => Some(Tier::Day),
            Tier::Day => None,
        }
    }

    /// The start of the bucket that holds `at` (UTC).
    pub fn bucket_of(self, at: OffsetDateTime) -> OffsetDateTime {
        let at = at.to_offset(time::UtcOffset::UTC);
        match self {
            Tier::Minute => minute_of(at),
            Tier::Hour => at.replace_time(Time::MIDNIGHT) + Duration::hours(at.hour().into()),
            Tier::Day => at.replace_time(Time::MIDNIGHT),
        }
    }
}

/// The start of the minute that holds `at` (UTC).
pub fn minute_of(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_time(Time::MIDNIGHT)
        + Duration::hours(at.hour().into())
        + Duration::minutes(at.minute().into())
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupReport {
    /// Rows upserted per tier (1m, 1h, 1d), forward and dirty together.
    pub rows: [u64; 3],
    /// Dirty buckets re-rolled per tier.
    pub dirty_buckets: [u64; 3],
}

/// Rolls every tier up to what `now` allows. `None` when another process holds the lock.
pub async fn rollup_once(
    pool: &PgPool,
    now: OffsetDateTime,
) -> anyhow::Result<Option<RollupReport>> {
    let mut conn = pool.acquire().await.context("acquire a connection")?;
    let locked: bool =
        sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "locked!""#, LOCK_KEY)
            .fetch_one(&mut *conn)
            .await
            .context("take the rollup lock")?;
    if !locked {
        return Ok(None);
    }
    let result = run(&mut conn, now).await;
    let unlocked = sqlx::query_scalar!(r#"select pg_advisory_unlock($1) as "unlocked!""#, LOCK_KEY)
        .fetch_one(&mut *conn)
        .await;
    if let Err(e) = unlocked {
        // The lock ends with the session anyway; drop the connection rather than reuse it.
        conn.detach();
        tracing::warn!(error = %e, "release the rollup lock");
    }
    result.map(Some)
}

async fn run(conn: &mut PgConnection, now: OffsetDateTime) -> anyhow::Result<RollupReport> {
    let mut report = RollupReport::default();
    let mut target = minute_of(now - LAG);
    for (i, tier) in [Tier::Minute, Tier::Hour, Tier::Day]
        .into_iter()
        .enumerate()
    {
        if tier != Tier::Minute {
            target = tier.bucket_of(target);
        }
        let reached = forward(conn, tier, target, now, &mut report.rows[i]).await?;
        let (buckets, rows) = dirty(conn, tier).await?;
        report.dirty_buckets[i] = buckets;
        report.rows[i] += rows;
        target = reached;
    }
    Ok(report)
}

async fn watermark(conn: &mut PgConnection, tier: Tier) -> anyhow::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        "select rolled_to from rollup_watermark where tier = $1",
        tier.name()
    )
    .fetch_optional(conn)
    .await
    .with_context(|| format!("read the {} watermark", tier.name()))
}

/// Rolls the tier forward from its watermark to `target` in steps; returns the new watermark.
async fn forward(
    conn: &mut PgConnection,
    tier: Tier,
    target: OffsetDateTime,
    now: OffsetDateTime,
    rows: &mut u64,
) -> anyhow::Result<OffsetDateTime> {
    let mut from = match watermark(conn, tier).await? {
        Some(w) => w,
        None => Tier::Day.bucket_of(now - START_BACK),
    };
    while from < target {
        let to = (from + tier.step()).min(target);
        ensure_partitions(&mut *conn, tier, from, to - tier.width()).await?;
        let mut tx = conn.begin().await.context("begin a rollup step")?;
        *rows += roll(&mut tx, tier, from, to, None).await?;
        sqlx::query!(
            r#"insert into rollup_watermark (tier, rolled_to) values ($1, $2)
               on conflict (tier) do update set rolled_to = excluded.rolled_to, updated_at = now()"#,
            tier.name(),
            to
        )
        .execute(&mut *tx)
        .await
        .context("advance the watermark")?;
        tx.commit().await.context("commit a rollup step")?;
        from = to;
    }
    Ok(from)
}

/// Creates the partitions of `tier` for the buckets in [`first`, `last`] that have none (a
/// short transaction of its own: creating a partition locks its parent). The maintenance job
/// makes them ahead; this catches late data and a clock far from the last run.
pub async fn ensure_partitions<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    tier: Tier,
    first: OffsetDateTime,
    last: OffsetDateTime,
) -> anyhow::Result<i32> {
    if !tier.partitioned() {
        return Ok(0);
    }
    sqlx::query_scalar!(
        r#"select telemetry_ensure_rollup_partitions($1, $2, $3) as "created!""#,
        tier.name(),
        first,
        last
    )
    .fetch_one(conn)
    .await
    .with_context(|| format!("create {} partitions", tier.name()))
}

/// Re-rolls the tier's dirty buckets, oldest first, one bucket per transaction; marks the next
/// tier's bucket dirty where that one is already rolled. Returns (buckets, rows).
async fn dirty(conn: &mut PgConnection, tier: Tier) -> anyhow::Result<(u64, u64)> {
    let (mut buckets, mut rows) = (0, 0);
    let next_watermark = match tier.next() {
        Some(next) => watermark(conn, next).await?,
        None => None,
    };
    if tier.partitioned() {
        let span = sqlx::query!(
            "select min(bucket) as first, max(bucket) as last from rollup_dirty where tier = $1",
            tier.name()
        )
        .fetch_one(&mut *conn)
        .await
        .context("find the dirty buckets")?;
        if let (Some(first), Some(last)) = (span.first, span.last) {
            ensure_partitions(&mut *conn, tier, first, last).await?;
        }
    }
    loop {
        let mut tx = conn.begin().await.context("begin a dirty step")?;
        let Some(bucket) = sqlx::query_scalar!(
            "select min(bucket) from rollup_dirty where tier = $1",
            tier.name()
        )
        .fetch_one(&mut *tx)
        .await
        .context("find a dirty bucket")?
        else {
            break;
        };
        let series: Vec<i64> = sqlx::query_scalar!(
            "delete from rollup_dirty where tier = $1 and bucket = $2 returning series_id",
            tier.name(),
            bucket
        )
        .fetch_all(&mut *tx)
        .await
        .context("take the dirty series")?;
        rows += roll(&mut tx, tier, bucket, bucket + tier.width(), Some(&series)).await?;
        if let (Some(next), Some(rolled_to)) = (tier.next(), next_watermark) {
            let upper = next.bucket_of(bucket);
            if upper < rolled_to {
                sqlx::query!(
                    r#"insert into rollup_dirty (tier, series_id, bucket)
                       select $1, unnest($2::int8[]), $3
                       on conflict do nothing"#,
                    next.name(),
                    &series,
                    upper
                )
                .execute(&mut *tx)
                .await
                .context("mark the next tier dirty")?;
            }
        }
        tx.commit().await.context("commit a dirty step")?;
        buckets += 1;
    }
    Ok((buckets, rows))
}

/// A rollup statement: `$insert` (`insert into sample_<tier> as r (...) select ...`) and the
/// conflict clause every tier shares: a re-rolled bucket replaces its whole row. sqlx checks a
/// query of `+`-joined literals like a single one (a `const` fragment it could not check).
macro_rules! upsert_buckets {
    ($insert:tt, $($arg:expr),+ $(,)?) => {
        sqlx::query!(
            $insert
                + " on conflict (series_id, bucket) do update set
                   count = excluded.count, min = excluded.min, max = excluded.max,
                   sum = excluded.sum, last = excluded.last, last_at = excluded.last_at,
                   hist_keys = excluded.hist_keys, hist_counts = excluded.hist_counts",
            $($arg),+
        )
    };
}

/// Recomputes the tier's buckets in `[from, to)` from the tier below, for all series or only
/// `series`. Whole buckets are recomputed and upserted, so repeating it is harmless.
async fn roll(
    conn: &mut PgConnection,
    tier: Tier,
    from: OffsetDateTime,
    to: OffsetDateTime,
    series: Option<&[i64]>,
) -> anyhow::Result<u64> {
    let done = match tier {
        // From raw: group by (series, minute, histogram key) in one scan, then by minute.
        Tier::Minute => upsert_buckets!(
            r#"insert into sample_1m as r (series_id, bucket, count, min, max, sum, last, last_at,
                                           hist_keys, hist_counts)
               select series_id, bucket, sum(n)::int, min(lo), max(hi), sum(total),
                      (array_agg(newest order by newest_at desc))[1], max(newest_at),
                      array_agg(k order by k), array_agg(n::int order by k)
               from (
                   select series_id,
                          date_bin('1 minute', at, timestamptz '2000-01-01 00:00:00+00') as bucket,
                          telemetry_hist_key(value) as k, count(*) as n, min(value) as lo,
                          max(value) as hi, sum(value) as total,
                          (array_agg(value order by at desc))[1] as newest, max(at) as newest_at
                   from sample
                   where at >= $1 and at < $2 and value is not null
                     and ($3::int8[] is null or series_id = any($3))
                   group by 1, 2, 3
               ) per_key
               group by series_id, bucket"#,
            from,
            to,
            series
        )
        .execute(conn)
        .await,
        Tier::Hour => upsert_buckets!(
            r#"insert into sample_1h as r (series_id, bucket, count, min, max, sum, last, last_at,
                                           hist_keys, hist_counts)
               select a.series_id, a.bucket, a.n, a.lo, a.hi, a.total, a.newest, a.newest_at,
                      h.keys, h.counts
               from (
                   select series_id,
                          date_bin('1 hour', bucket, timestamptz '2000-01-01 00:00:00+00') as bucket,
                          sum(count)::int as n, min(min) as lo, max(max) as hi, sum(sum) as total,
                          (array_agg(last order by last_at desc))[1] as newest,
                          max(last_at) as newest_at
                   from sample_1m
                   where bucket >= $1 and bucket < $2
                     and ($3::int8[] is null or series_id = any($3))
                   group by 1, 2
               ) a
               join (
                   select series_id, bucket, array_agg(k order by k) as keys,
                          array_agg(n order by k) as counts
                   from (
                       select m.series_id,
                              date_bin('1 hour', m.bucket, timestamptz '2000-01-01 00:00:00+00')
                                  as bucket,
                              u.k, sum(u.n)::int as n
                       from sample_1m m, unnest(m.hist_keys, m.hist_counts) as u(k, n)
                       where m.bucket >= $1 and m.bucket < $2
                         and ($3::int8[] is null or m.series_id = any($3))
                       group by 1, 2, 3
                   ) per_key
                   group by 1, 2
               ) h on h.series_id = a.series_id and h.bucket = a.bucket"#,
            from,
            to,
            series
        )
        .execute(conn)
        .await,
        Tier::Day => upsert_buckets!(
            r#"insert into sample_1d as r (series_id, bucket, count, min, max, sum, last, last_at,
                                           hist_keys, hist_counts)
               select a.series_id, a.bucket, a.n, a.lo, a.hi, a.total, a.newest, a.newest_at,
                      h.keys, h.counts
               from (
                   select series_id,
                          date_bin('1 day', bucket, timestamptz '2000-01-01 00:00:00+00') as bucket,
                          sum(count)::int as n, min(min) as lo, max(max) as hi, sum(sum) as total,
                          (array_agg(last order by last_at desc))[1] as newest,
                          max(last_at) as newest_at
                   from sample_1h
                   where bucket >= $1 and bucket < $2
                     and ($3::int8[] is null or series_id = any($3))
                   group by 1, 2
               ) a
               join (
                   select series_id, bucket, array_agg(k order by k) as keys,
                          array_agg(n order by k) as counts
                   from (
                       select m.series_id,
                              date_bin('1 day', m.bucket, timestamptz '2000-01-01 00:00:00+00')
                                  as bucket,
                              u.k, sum(u.n)::int as n
                       from sample_1h m, unnest(m.hist_keys, m.hist_counts) as u(k, n)
                       where m.bucket >= $1 and m.bucket < $2
                         and ($3::int8[] is null or m.series_id = any($3))
                       group by 1, 2, 3
                   ) per_key
                   group by 1, 2
               ) h on h.series_id = a.series_id and h.bucket = a.bucket"#,
            from,
            to,
            series
        )
        .execute(conn)
        .await,
    };
    Ok(done
        .with_context(|| format!("roll up {} buckets", tier.name()))?
        .rows_affected())
}
