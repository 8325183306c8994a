//! The telemetry store's background work: raw and rollup partitions created ahead, rollups,
//! compaction of old raw days, and retention (whole partitions dropped: raw by day, 1m by month,
//! 1h by year; packed raw days and old batch ids deleted). Each job is a function tests call
//! with their own `now`; [`spawn`] runs them under the server's cancellation token.
//! Single-writer jobs take a Postgres advisory lock, so replicas are safe.
//!
//! In TimescaleDB mode the extension's policies do the partitions', rollups' and retention's
//! work; what runs here is [`super::timescale::apply_policies`] and the batch-id pruning.

use anyhow::Context;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration as StdDuration;
use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::rollup;
use super::timescale::{self, StorageMode};
use crate::config::TelemetryConfig;

/// Days of raw partitions kept ready before today (the replay window is 7 days).
const PARTITIONS_BEHIND: i64 = 7;
/// Days of raw partitions created ahead of today.
pub const PARTITIONS_AHEAD: i64 = 2;
/// Batch ids are kept a day longer than the replay window: a retry older than that would be
/// rejected as too_old anyway.
const BATCH_ID_RETENTION: Duration = Duration::days(8);
const RETENTION_LOCK_KEY: i64 = 0x6973_7076_6d00_0002;
/// The youngest a raw day may be before plain mode packs it, whatever
/// `TELEMETRY_COMPRESS_AFTER_DAYS` says: the replay window (7 days) and a day more, so that no
/// sample can still arrive for a packed day.
const COMPACT_MIN_DAYS: u32 = 8;

/// Creates the raw partitions from 7 days back to [`PARTITIONS_AHEAD`] days ahead of `now`,
/// and the 1m and 1h partitions those days fall in. Returns how many it created.
pub async fn ensure_partitions(pool: &PgPool, now: OffsetDateTime) -> anyhow::Result<i32> {
    let today = now.to_offset(time::UtcOffset::UTC).date();
    let (first, last) = (
        today - Duration::days(PARTITIONS_BEHIND),
        today + Duration::days(PARTITIONS_AHEAD),
    );
    let raw = super::store::ensure_partitions(pool, first, last)
        .await
        .context("create raw partitions")?;
    let (first, last) = (first.midnight().assume_utc(), last.midnight().assume_utc());
    let mut rollups = 0;
    for tier in [rollup::Tier::Minute, rollup::Tier::Hour] {
        rollups += rollup::ensure_partitions(pool, tier, first, last).await?;
    }
    Ok(raw + rollups)
}

/// What one retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Raw partitions, by day.
    pub dropped_partitions: Vec<String>,
    /// 1m partitions (by month) and 1h partitions (by year) that ended before their cutoff.
    pub dropped_1m: Vec<String>,
    pub dropped_1h: Vec<String>,
    /// Packed raw days (one row per series and day) past the raw retention.
    pub deleted_packed: u64,
    pub deleted_batches: u64,
}

/// A transaction holding the retention lock (retention and packing take turns with it), or
/// `None` when another process holds it.
async fn begin_locked(pool: &PgPool) -> anyhow::Result<Option<Transaction<'static, Postgres>>> {
    let mut tx = pool
        .begin()
        .await
        .context("begin a retention transaction")?;
    let locked = sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock($1) as "locked!""#,
        RETENTION_LOCK_KEY
    )
    .fetch_one(&mut *tx)
    .await
    .context("take the retention lock")?;
    Ok(locked.then_some(tx))
}

/// Applies the retention settings at `now`. Raw partitions go only once the 1m rollup has
/// passed them. `None` when another process holds the lock.
pub async fn retention_once(
    pool: &PgPool,
    settings: &TelemetryConfig,
    now: OffsetDateTime,
) -> anyhow::Result<Option<RetentionReport>> {
    let Some(mut tx) = begin_locked(pool).await? else {
        return Ok(None);
    };
    let days = |n: u32| Duration::days(i64::from(n));
    let raw_cutoff = now - days(settings.retention_raw_days);
    let rolled = sqlx::query_scalar!("select rolled_to from rollup_watermark where tier = '1m'")
        .fetch_optional(&mut *tx)
        .await
        .context("read the 1m watermark")?;
    let raw_cutoff = rolled.map_or(raw_cutoff, |r| r.min(raw_cutoff));
    let dropped_partitions: Vec<String> = sqlx::query_scalar!(
        r#"select name as "name!" from telemetry_drop_raw_partitions($1) as name"#,
        raw_cutoff
    )
    .fetch_all(&mut *tx)
    .await
    .context("drop old raw partitions")?;
    let deleted_packed = sqlx::query!(
        "delete from sample_packed where day < $1",
        raw_cutoff.to_offset(time::UtcOffset::UTC).date()
    )
    .execute(&mut *tx)
    .await
    .context("delete old packed days")?
    .rows_affected();
    // A partition goes when its whole month (year) is older than the cutoff: rows keep up to
    // a month (a year) longer than the setting, and no row is deleted one by one.
    let dropped_1m: Vec<String> = sqlx::query_scalar!(
        r#"select name as "name!" from telemetry_drop_rollup_partitions('1m', $1) as name"#,
        now - days(settings.retention_1m_days)
    )
    .fetch_all(&mut *tx)
    .await
    .context("drop old 1m partitions")?;
    let dropped_1h: Vec<String> = sqlx::query_scalar!(
        r#"select name as "name!" from telemetry_drop_rollup_partitions('1h', $1) as name"#,
        now - days(settings.retention_1h_days)
    )
    .fetch_all(&mut *tx)
    .await
    .context("drop old 1h partitions")?;
    let deleted_batches = prune_batch_ids(&mut *tx, now).await?;
    tx.commit().await.context("commit retention")?;
    Ok(Some(RetentionReport {
        dropped_partitions,
        dropped_1m,
        dropped_1h,
        deleted_packed,
        deleted_batches,
    }))
}

/// Packs every raw day that can no longer change into `sample_packed` (one row per series and
/// day; see migrations/20261129000001_plain_compaction.sql) and drops its partition, oldest
/// first, one day per transaction. A day qualifies once it ended `compress_after_days` (at least
/// [`COMPACT_MIN_DAYS`]) before `now` and the 1m rollup has passed it. Returns the partitions
/// packed, or `None` when another process held the retention lock before any was. Plain mode
/// only.
pub async fn compact_once(
    pool: &PgPool,
    settings: &TelemetryConfig,
    now: OffsetDateTime,
) -> anyhow::Result<Option<Vec<String>>> {
    let age = Duration::days(i64::from(
        settings.compress_after_days.max(COMPACT_MIN_DAYS),
    ));
    let mut packed = Vec::new();
    loop {
        let Some(mut tx) = begin_locked(pool).await? else {
            return Ok((!packed.is_empty()).then_some(packed));
        };
        let rolled =
            sqlx::query_scalar!("select rolled_to from rollup_watermark where tier = '1m'")
                .fetch_optional(&mut *tx)
                .await
                .context("read the 1m watermark")?;
        let Some(rolled) = rolled else {
            return Ok(Some(packed));
        };
        let part = sqlx::query_scalar!(
            "select telemetry_compact_raw_partition($1)",
            (now - age).min(rolled)
        )
        .fetch_one(&mut *tx)
        .await
        .context("pack a raw day")?;
        let Some(part) = part else {
            return Ok(Some(packed));
        };
        tx.commit().await.context("commit a packed day")?;
        packed.push(part);
    }
}

/// Deletes the batch ids older than [`BATCH_ID_RETENTION`]; returns how many.
async fn prune_batch_ids(
    db: impl sqlx::PgExecutor<'_>,
    now: OffsetDateTime,
) -> anyhow::Result<u64> {
    Ok(sqlx::query!(
        "delete from ingest_batch where received_at < $1",
        now - BATCH_ID_RETENTION
    )
    .execute(db)
    .await
    .context("delete old batch ids")?
    .rows_affected())
}

/// The telemetry loops of `serve`: plain mode, rollups every 30 s and partitions, retention and
/// compaction hourly (and at start); TimescaleDB mode, the policies and batch ids hourly (and
/// at start).
pub fn spawn(
    tasks: &mut JoinSet<(&'static str, anyhow::Result<()>)>,
    pool: PgPool,
    mode: StorageMode,
    settings: TelemetryConfig,
    shutdown: CancellationToken,
) {
    if mode == StorageMode::TimescaleDb {
        tasks.spawn(async move {
            let result =
                crate::background::every(StdDuration::from_secs(3600), shutdown, || async {
                    for policy in timescale::apply_policies(&pool, &settings).await? {
                        tracing::info!(relation = policy.relation, kind = ?policy.kind,
                        days = policy.days, "set a TimescaleDB policy");
                    }
                    prune_batch_ids(&pool, OffsetDateTime::now_utc()).await?;
                    Ok(())
                })
                .await;
            ("telemetry-policies", result)
        });
        return;
    }
    let rollup_pool = pool.clone();
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let result = crate::background::every(StdDuration::from_secs(30), stop, || async {
            if let Some(report) =
                rollup::rollup_once(&rollup_pool, OffsetDateTime::now_utc()).await?
            {
                tracing::debug!(
                    rows_1m = report.rows[0],
                    rows_1h = report.rows[1],
                    rows_1d = report.rows[2],
                    dirty_1m = report.dirty_buckets[0],
                    "rolled up telemetry"
                );
            }
            Ok(())
        })
        .await;
        ("telemetry-rollup", result)
    });
    tasks.spawn(async move {
        let result = crate::background::every(StdDuration::from_secs(3600), shutdown, || async {
            let now = OffsetDateTime::now_utc();
            let created = ensure_partitions(&pool, now).await?;
            if created > 0 {
                tracing::info!(created, "created sample partitions");
            }
            if let Some(report) = retention_once(&pool, &settings, now).await? {
                if report.deleted_packed > 0 {
                    tracing::info!(
                        rows = report.deleted_packed,
                        "deleted packed raw days past retention"
                    );
                }
                let dropped = [
                    &report.dropped_partitions,
                    &report.dropped_1m,
                    &report.dropped_1h,
                ];
                if dropped.iter().any(|d| !d.is_empty()) {
                    tracing::info!(
                        dropped = dropped.map(|d| d.join(",")).join(","),
                        "applied telemetry retention"
                    );
                }
            }
            if let Some(packed) = compact_once(&pool, &settings, now).await? {
                if !packed.is_empty() {
                    tracing::info!(days = packed.join(","), "packed old raw days");
                }
            }
            Ok(())
        })
        .await;
        ("telemetry-maintenance", result)
    });
}
