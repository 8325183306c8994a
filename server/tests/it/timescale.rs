//! TimescaleDB mode (migrations/20261128000009_timescaledb.sql). The `timescaledb_` tests need a
//! test server with the extension installed and preloaded: elsewhere the migration keeps the
//! plain mode and they print why they were skipped (nextest shows their output: see
//! .config/nextest.toml). How they were run: docs/metrics.md, "Storage modes".
//!
//! The policies' jobs are run here with `run_job`, in the order the schedule would run them,
//! rather than waited for.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use server::config::TelemetryConfig;
use server::ingest::timescale::{self, PolicyKind, StorageMode};

use crate::ingest::{batch, ms, setup, ProbeSamples};

/// True when the test database is in TimescaleDB mode; otherwise says why the test is skipped.
async fn timescaledb(pool: &PgPool, test: &str) -> bool {
    if StorageMode::read(pool).await.expect("storage mode") == StorageMode::TimescaleDb {
        return true;
    }
    let available: bool = sqlx::query_scalar("select timescaledb_available from storage_mode")
        .fetch_one(pool)
        .await
        .expect("storage_mode");
    eprintln!(
        "SKIPPED {test}: the test database is in plain mode (TimescaleDB {} on this PostgreSQL \
         server); see docs/metrics.md, \"Storage modes\"",
        if available {
            "available but not chosen"
        } else {
            "not installed or not preloaded"
        }
    );
    false
}

/// Runs the policy job of `proc` (`policy_refresh_continuous_aggregate`, `policy_retention`,
/// `policy_compression`) on `relation` (a hypertable, or a continuous aggregate: its jobs are
/// listed under its view's name) once, now.
async fn run_policy(pool: &PgPool, proc: &str, relation: &str) {
    let job: i32 = sqlx::query_scalar(
        "select j.job_id from timescaledb_information.jobs j
         where j.proc_name = $1 and j.hypertable_name = $2",
    )
    .bind(proc)
    .bind(relation)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("the {proc} job of {relation}: {e}"));
    // A procedure that commits as it goes: simple protocol, outside any transaction.
    sqlx::raw_sql(&format!("call run_job({job})"))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("run the {proc} job of {relation}: {e}"));
}

async fn refresh_rollups(pool: &PgPool) {
    for relation in ["sample_1m", "sample_1h", "sample_1d"] {
        run_policy(pool, "policy_refresh_continuous_aggregate", relation).await;
    }
}

type Buckets = Vec<(i64, OffsetDateTime, i64, f64, f64, f64, f64, Vec<i64>)>;

/// Every continuous aggregate against a brute-force aggregation of the raw rows, histograms
/// (packed key << 32 | count pairs) included.
async fn assert_rollups_match_raw(pool: &PgPool) {
    for (view, width) in [
        ("sample_1m", "1 minute"),
        ("sample_1h", "1 hour"),
        ("sample_1d", "1 day"),
    ] {
        let brute: Buckets = sqlx::query_as(
            "with keyed as (
                 select series_id, date_bin($1::interval, at, timestamptz '2000-01-01 00:00:00+00') as b,
                        telemetry_hist_key(value)::int8 as k, count(*) as n
                 from sample where value is not null group by 1, 2, 3
             ),
             hist as (
                 select series_id, b, array_agg(k * 4294967296 + n order by k) as hist
                 from keyed group by 1, 2
             )
             select s.series_id, s.b, count(*), min(s.value), max(s.value), sum(s.value),
                    (array_agg(s.value order by s.at desc))[1], h.hist
             from (select *, date_bin($1::interval, at, timestamptz '2000-01-01 00:00:00+00') as b
                   from sample where value is not null) s
             join hist h using (series_id, b)
             group by s.series_id, s.b, h.hist
             order by 1, 2",
        )
        .bind(width)
        .fetch_all(pool)
        .await
        .expect("brute force");
        let rolled: Buckets = sqlx::query_as(&format!(
            "select series_id, bucket, count::int8, min, max, sum, last, hist from {view} order by 1, 2"
        ))
        .fetch_all(pool)
        .await
        .expect("rollup");
        assert!(!brute.is_empty(), "{view}");
        assert_eq!(rolled, brute, "{view}");
    }
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn timescaledb_rollups_equal_a_brute_force_aggregation_with_late_data(pool: PgPool) {
    if !timescaledb(&pool, "timescaledb_rollups_equal_a_brute_force_aggregation").await {
        return;
    }
    let f = setup(pool, &[]).await;
    let pool = &f.app.pool;
    let hypertable: bool = sqlx::query_scalar(
        "select exists (select 1 from timescaledb_information.hypertables
                        where hypertable_name = 'sample')",
    )
    .fetch_one(pool)
    .await
    .expect("hypertables");
    assert!(hypertable, "sample is a hypertable");
    let now = OffsetDateTime::now_utc();
    let mut samples = ProbeSamples::new(f.core, now);
    let (first, late) = (samples.take(3000), samples.take(1000));
    f.post(&batch("4c1e6a4e-0000-4000-8000-000000000020", first))
        .await;
    refresh_rollups(pool).await;
    assert_rollups_match_raw(pool).await;
    let minutes_before: i64 = sqlx::query_scalar("select count(*) from sample_1m")
        .fetch_one(pool)
        .await
        .expect("count");

    // Late samples: the aggregates' invalidation re-rolls their buckets on the next refresh.
    f.post(&batch("4c1e6a4e-0000-4000-8000-000000000021", late))
        .await;
    refresh_rollups(pool).await;
    assert_rollups_match_raw(pool).await;
    let minutes_after: i64 = sqlx::query_scalar("select count(*) from sample_1m")
        .fetch_one(pool)
        .await
        .expect("count");
    assert!(minutes_after > minutes_before, "late data made new minutes");

    // The read surface is the one plain mode has: p95 from the bucket's histogram.
    let (series, hour): (i64, OffsetDateTime) =
        sqlx::query_as("select series_id, bucket from sample_1h order by count desc limit 1")
            .fetch_one(pool)
            .await
            .expect("an hour");
    let (count, p95): (i32, f64) = sqlx::query_as(
        "select count, p95 from telemetry_rollup_read('1h', $1, $2, $2 + interval '1 hour')",
    )
    .bind(series)
    .bind(hour)
    .fetch_one(pool)
    .await
    .expect("rollup read");
    let (total, expected): (i64, f64) = sqlx::query_as(
        "select sum(n)::int8, telemetry_hist_quantile(
                    array_agg(k order by k), array_agg(n::int order by k), 0.95)
         from (select telemetry_hist_key(value) as k, count(*) as n from sample
               where series_id = $1 and at >= $2 and at < $2 + interval '1 hour'
               group by 1) keyed",
    )
    .bind(series)
    .bind(hour)
    .fetch_one(pool)
    .await
    .expect("brute p95");
    assert_eq!(i64::from(count), total);
    assert_eq!(p95, expected);
}

/// The ages the `kind` policies of `relation` act at, from TimescaleDB's job list.
async fn policy_days(pool: &PgPool, kind: PolicyKind, relation: &str) -> Vec<String> {
    let (proc, key) = match kind {
        PolicyKind::Retention => ("policy_retention", "drop_after"),
        PolicyKind::Compression => ("policy_compression", "compress_after"),
    };
    sqlx::query_scalar(
        "select j.config ->> $2 from timescaledb_information.jobs j
         where j.proc_name = $1 and j.hypertable_name = $3",
    )
    .bind(proc)
    .bind(key)
    .bind(relation)
    .fetch_all(pool)
    .await
    .expect("jobs")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn timescaledb_policies_follow_the_settings_compress_and_drop_old_chunks(pool: PgPool) {
    if !timescaledb(&pool, "timescaledb_policies_follow_the_settings").await {
        return;
    }
    let f = setup(pool, &[]).await;
    let pool = &f.app.pool;
    let mut settings = TelemetryConfig::default();
    let changed = timescale::apply_policies(pool, &settings)
        .await
        .expect("policies");
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert_eq!(
        timescale::apply_policies(pool, &settings)
            .await
            .expect("policies"),
        vec![],
        "a policy already right is left alone"
    );
    settings.retention_raw_days = 10;
    let changed = timescale::apply_policies(pool, &settings)
        .await
        .expect("policies");
    assert_eq!(changed, vec![timescale::policies(&settings)[0].clone()]);
    assert_eq!(
        policy_days(pool, PolicyKind::Retention, "sample").await,
        vec!["10 days"]
    );
    assert_eq!(
        policy_days(pool, PolicyKind::Compression, "sample").await,
        vec!["3 days"]
    );
    assert_eq!(
        policy_days(pool, PolicyKind::Retention, "sample_1m").await,
        vec!["365 days"]
    );
    assert_eq!(
        policy_days(pool, PolicyKind::Retention, "sample_1h").await,
        vec!["1825 days"]
    );

    // Samples five days old (older than the compression age) with an outage in them.
    let now = OffsetDateTime::now_utc();
    let start = now - Duration::days(5);
    let samples: Vec<serde_json::Value> = (0..360)
        .map(|i| {
            let up = !(100..130).contains(&i);
            let mut s = serde_json::json!({"device": f.core, "metric": "up",
                "ts": ms(start + Duration::seconds(10 * i)),
                "value": if up { "up" } else { "down" }});
            if !up {
                s["reason"] = "timeout".into();
            }
            s
        })
        .collect();
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000030",
        serde_json::Value::Array(samples),
    ))
    .await;
    let intervals = |pool: PgPool| async move {
        sqlx::query_as::<_, (OffsetDateTime, OffsetDateTime, String)>(
            "select start_at, end_at, state from telemetry_device_availability(
                 (select device_id from series where metric = 'up'), $1, $2, interval '30 s')",
        )
        .bind(start - Duration::minutes(5))
        .bind(start + Duration::hours(2))
        .fetch_all(&pool)
        .await
        .expect("availability")
    };
    let before = intervals(pool.clone()).await;
    assert_eq!(
        before.iter().map(|i| i.2.as_str()).collect::<Vec<_>>(),
        ["unknown", "up", "down", "up", "unknown"]
    );

    run_policy(pool, "policy_compression", "sample").await;
    let compressed: i64 = sqlx::query_scalar(
        "select count(*) from chunk_compression_stats('sample')
         where compression_status = 'Compressed'",
    )
    .fetch_one(pool)
    .await
    .expect("compression stats");
    assert!(compressed >= 1, "the five-day-old chunk is compressed");
    assert_eq!(
        intervals(pool.clone()).await,
        before,
        "compressed rows read the same"
    );

    // A chunk older than the raw retention goes whole; the five-day-old one stays.
    sqlx::query(
        "insert into sample (series_id, at, value)
         select id, now() - interval '40 days', 1 from series where metric = 'up'",
    )
    .execute(pool)
    .await
    .expect("an old row");
    run_policy(pool, "policy_retention", "sample").await;
    let (old, kept): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where at < now() - interval '10 days'), count(*) from sample",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!((old, kept), (0, 360));
}

/// The mode asked for at migrate time (`ispvm.storage_mode`, from TELEMETRY_STORAGE): `plain`
/// is always plain; `timescaledb` is TimescaleDB mode or a migration that fails saying why.
#[sqlx::test(migrations = false)]
async fn the_storage_mode_asked_for_is_kept_or_refused_with_the_reason(
    pool_options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let migrate = |mode: &'static str| {
        let (pool_options, connect) = (pool_options.clone(), connect.clone());
        async move {
            let pool = pool_options
                .connect_with(connect.options([("ispvm.storage_mode", mode)]))
                .await
                .expect("connect");
            let result = server::migrate::MIGRATOR.run(&pool).await;
            (pool, result)
        }
    };
    let (pool, result) = migrate("plain").await;
    result.expect("plain migrates");
    assert_eq!(
        StorageMode::read(&pool).await.expect("mode"),
        StorageMode::Plain
    );
    let available: bool = sqlx::query_scalar("select timescaledb_available from storage_mode")
        .fetch_one(&pool)
        .await
        .expect("storage_mode");
    pool.close().await;

    // A second database of the same test server, asked for TimescaleDB.
    let admin = pool_options
        .clone()
        .connect_with(connect.clone())
        .await
        .expect("connect");
    // Each test runs in its own process (nextest); the test database's own name is too long to
    // extend (63 bytes at most).
    let name = format!("ispvm_storage_mode_{}", std::process::id());
    for sql in [
        format!("drop database if exists {name}"),
        format!("create database {name}"),
    ] {
        sqlx::raw_sql(&sql)
            .execute(&admin)
            .await
            .expect("a second database");
    }
    let second = connect.clone().database(&name);
    let pool = pool_options
        .clone()
        .connect_with(second.options([("ispvm.storage_mode", "timescaledb")]))
        .await
        .expect("connect");
    let result = server::migrate::MIGRATOR.run(&pool).await;
    if available {
        result.expect("timescaledb migrates");
        assert_eq!(
            StorageMode::read(&pool).await.expect("mode"),
            StorageMode::TimescaleDb
        );
    } else {
        let error = result.expect_err("no TimescaleDB here").to_string();
        assert!(
            error.contains("TimescaleDB mode was asked for, but"),
            "{error}"
        );
        let tables: i64 =
            sqlx::query_scalar("select count(*) from pg_tables where tablename = 'storage_mode'")
                .fetch_one(&pool)
                .await
                .expect("tables");
        assert_eq!(tables, 1, "the migrations before it stay applied");
    }
    pool.close().await;
    sqlx::raw_sql(&format!("drop database {name}"))
        .execute(&admin)
        .await
        .expect("drop the second database");
}
