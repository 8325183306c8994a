//! The ingest benchmark: `ispvm bench ingest` (build with `--release`; a debug build says its
//! figures mean nothing).
//!
//! Creates a scratch database on the server of `DATABASE_URL` (dropped at the end), serves the
//! app on 127.0.0.1:0 in this process, and sends a fleet's samples (devices × 50 series) as
//! gzip JSON batches of 10,000 samples with concurrent clients, end to end (HTTP → committed
//! rows). In the same run, as baselines, it writes the same rows into the same table with
//! binary `COPY` (what the write path uses) and with an `unnest` insert. All bodies are
//! compressed before the clock starts. Then the batch latency at a fixed 5,000 samples/s
//! (1,000-sample batches, five a second, sent on schedule whatever the answers take), and the
//! on-disk size of a day of 10-second samples of 100 series before and after compaction (plain
//! mode: the day packed into `sample_packed`; TimescaleDB mode: its chunk compressed).
//! Settings: `BENCH_DEVICES` (2000), `BENCH_ROUNDS` (6, so 600,000 samples), `BENCH_CLIENTS`
//! (4), `BENCH_PACED_SECS` (20). The storage mode is the scratch database's: point
//! `DATABASE_URL` at a server with TimescaleDB preloaded to measure that mode.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{bench_site, in_scratch_db, percentile, say, serve, setting};
use crate::config::Config;
use crate::ingest::store::{self, SampleRows};

const SERIES_PER_DEVICE: usize = 50;
const BATCH: usize = 10_000;

/// One device's 50 series: up, CPU, 24 interfaces × rx/tx bytes.
fn series() -> Vec<(String, Option<String>)> {
    let mut s = vec![
        ("up".to_owned(), None),
        ("cpu_load_percent".to_owned(), None),
    ];
    for i in 1..=24 {
        s.push(("interface_rx_bytes_total".into(), Some(format!("ether{i}"))));
        s.push(("interface_tx_bytes_total".into(), Some(format!("ether{i}"))));
    }
    debug_assert_eq!(s.len(), SERIES_PER_DEVICE);
    s
}

fn sample(device: i64, metric: &str, instance: &Option<String>, ts: i64, n: i64) -> Value {
    let value = match metric {
        "up" => json!("up"),
        "cpu_load_percent" => json!((device * 7 + n) % 100),
        _ => json!(1_000_000_000 + n * 12_345 + device),
    };
    let mut s = json!({"device": device, "metric": metric, "ts": ts, "value": value});
    if let Some(i) = instance {
        s["instance"] = json!(i);
    }
    s
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

/// The gzip bodies of one round: every series once at `ts`, in batches of `batch` samples.
fn round_bodies(
    devices: &[i64],
    ts: i64,
    round: i64,
    batch: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let all: Vec<Value> = devices
        .iter()
        .flat_map(|&d| {
            series()
                .into_iter()
                .map(move |(m, i)| sample(d, &m, &i, ts, round))
        })
        .collect();
    all.chunks(batch)
        .map(|chunk| {
            let batch = json!({
                "batch_id": uuid::Uuid::new_v4(),
                "agent": {"name": "bench", "version": "0"},
                "sent_at": ts,
                "samples": chunk,
            });
            gzip(&serde_json::to_vec(&batch)?)
        })
        .collect()
}

/// Posts one gzip batch; an answer other than 200 with every sample accepted is an error.
async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> anyhow::Result<()> {
    let res = client
        .post(url)
        .bearer_auth(token)
        .header("content-encoding", "gzip")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = res.status();
    let answer: Value = res.json().await?;
    anyhow::ensure!(status == 200, "{status}: {answer}");
    anyhow::ensure!(
        answer["samples"]["rejected"] == json!({}),
        "rejections: {answer}"
    );
    Ok(())
}

/// Sends the bodies with `clients` concurrent clients; returns (seconds, batch latencies ms).
async fn send_all(
    url: &str,
    token: &str,
    bodies: Vec<Vec<u8>>,
    clients: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let queue = queue.clone();
        let url = url.to_owned();
        let token = token.to_owned();
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            loop {
                let body = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(body) = body else { break };
                let t = Instant::now();
                post_batch(&client, &url, &token, body).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    latencies.sort_by(f64::total_cmp);
    Ok((started.elapsed().as_secs_f64(), latencies))
}

/// Runs the benchmark with the `BENCH_*` settings on a scratch database of `DATABASE_URL`.
pub async fn run_from_env() -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        say("warning: a debug build; build with --release for figures worth recording");
    }
    let devices_n = setting("BENCH_DEVICES", 2000);
    let rounds = setting("BENCH_ROUNDS", 6);
    let clients = setting("BENCH_CLIENTS", 4);
    in_scratch_db("ingest", None, async |config, pool| {
        run(config, pool, devices_n, rounds, clients).await
    })
    .await
}

async fn run(
    config: &Config,
    pool: PgPool,
    devices_n: usize,
    rounds: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let (tenant, site) = bench_site(&pool).await?;
    let devices: Vec<i64> = sqlx::query_scalar(
        "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address)
         select $1, $2, 'r' || g, 'mikrotik', 'access', '10.0.0.1'
         from generate_series(1, $3) g returning id",
    )
    .bind(tenant)
    .bind(site)
    .bind(devices_n as i32)
    .fetch_all(&pool)
    .await?;
    let token = crate::ingest::token::create(&pool, "bench", "bench").await?;

    let (addr, shutdown) = serve(&pool).await?;
    let ingest_url = format!("http://{addr}{}", telemetry::INGEST_PATH);

    let per_round = devices.len() * SERIES_PER_DEVICE;
    let total = per_round * rounds;
    say(&format!(
        "ingest benchmark: {} devices × {SERIES_PER_DEVICE} series, {rounds} rounds = {total} samples \
         in batches of {BATCH}, {clients} clients, pool {} connections",
        devices.len(),
        config.db_max_connections
    ));
    let now_ms = telemetry::UnixMs::from_datetime(OffsetDateTime::now_utc()).0;

    // Cold: the first round creates the series.
    let bodies = round_bodies(&devices, now_ms - 55_000, 0, BATCH)?;
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let (secs, _) = send_all(&ingest_url, &token, bodies, clients).await?;
    say(&format!(
        "  cold (creates {per_round} series): {:.0} samples/s ({:.1} gzip bytes/sample)",
        per_round as f64 / secs,
        bytes as f64 / per_round as f64
    ));

    // Warm: series exist; `rounds` rounds at later timestamps. All timestamps are under a
    // minute old, as a live fleet's are (older ones would also mark rollup buckets dirty).
    let mut bodies = Vec::new();
    for r in 0..rounds {
        bodies.extend(round_bodies(
            &devices,
            now_ms - 45_000 + r as i64 * 1_000,
            r as i64 + 1,
            BATCH,
        )?);
    }
    let (secs, latencies) = send_all(&ingest_url, &token, bodies, clients).await?;
    let http_rate = total as f64 / secs;
    say(&format!(
        "  HTTP end to end: {http_rate:.0} samples/s ({total} in {secs:.2} s); batch latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    ));

    // The same rows straight into the same table.
    let ids: Vec<i64> = sqlx::query_scalar("select id from series order by id")
        .fetch_all(&pool)
        .await?;
    let mut chunks = Vec::new();
    let base = OffsetDateTime::now_utc() - time::Duration::minutes(40);
    for r in 0..rounds {
        let mut rows = SampleRows::default();
        for (i, id) in ids.iter().enumerate() {
            rows.push(
                *id,
                base + time::Duration::seconds(r as i64 * 10),
                Some(1e9 + i as f64),
                None,
                None,
            );
            if rows.len() == BATCH {
                chunks.push(std::mem::take(&mut rows));
            }
        }
        if !rows.is_empty() {
            chunks.push(rows);
        }
    }
    let rows_n: usize = chunks.iter().map(SampleRows::len).sum();
    let copy_secs = timed_writes(&pool, &chunks, clients, Method::Copy).await?;
    let copy_rate = rows_n as f64 / copy_secs;
    let unnest_secs = timed_writes(&pool, &chunks, clients, Method::Unnest).await?;
    let unnest_rate = rows_n as f64 / unnest_secs;
    say(&format!(
        "  baseline binary COPY, {BATCH}-row chunks, {clients} connections: {copy_rate:.0} rows/s"
    ));
    say(&format!(
        "  baseline unnest insert, {BATCH}-row chunks, {clients} connections: {unnest_rate:.0} rows/s"
    ));
    let raw_bytes: i64 = sqlx::query_scalar(
        "select sum(pg_total_relation_size(c.oid))::int8 from pg_inherits i
         join pg_class c on c.oid = i.inhrelid where i.inhparent = 'sample'::regclass",
    )
    .fetch_one(&pool)
    .await?;
    let raw_rows: i64 = sqlx::query_scalar("select count(*) from sample")
        .fetch_one(&pool)
        .await?;
    let bytes_per_sample = raw_bytes as f64 / raw_rows as f64;
    say(&format!(
        "  raw storage: {bytes_per_sample:.1} bytes/sample with indexes ({raw_rows} rows)"
    ));
    let paced_secs = setting("BENCH_PACED_SECS", 20);
    let paced = paced_latencies(&ingest_url, &token, &devices, now_ms, paced_secs).await?;
    say(&format!(
        "  at a fixed 5,000 samples/s ({} batches of {PACED_BATCH} in {paced_secs} s): batch latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        paced.len(),
        percentile(&paced, 0.5),
        percentile(&paced, 0.95),
        percentile(&paced, 0.99)
    ));
    let compact = compacted_size(config, &pool).await?;
    say(&format!(
        "  a day of 10 s samples, {} rows ({} storage): {:.1} bytes/sample as written, {:.1} compacted",
        compact.rows, compact.mode, compact.before, compact.after
    ));
    say(&serde_json::to_string(&json!({
        "samples_per_s": http_rate.round(),
        "copy_baseline_per_s": copy_rate.round(),
        "unnest_baseline_per_s": unnest_rate.round(),
        "ratio": (http_rate / copy_rate * 100.0).round() / 100.0,
        "p50_ms": percentile(&latencies, 0.5).round(),
        "p95_ms": percentile(&latencies, 0.95).round(),
        "p95_ms_at_5k": (percentile(&paced, 0.95) * 10.0).round() / 10.0,
        "bytes_per_sample_raw": (bytes_per_sample * 10.0).round() / 10.0,
        "storage_mode": compact.mode,
        "bytes_per_sample_compact": (compact.after * 10.0).round() / 10.0,
    }))?);
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

const PACED_BATCH: usize = 1_000;

/// Sends 1,000-sample batches five times a second for `secs` seconds (5,000 samples/s), each
/// on its own schedule (a slow answer delays no later batch); returns the sorted latencies, ms.
async fn paced_latencies(
    url: &str,
    token: &str,
    devices: &[i64],
    now_ms: i64,
    secs: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut bodies = Vec::new();
    let mut round = 0;
    while bodies.len() < secs * 5 {
        bodies.extend(round_bodies(
            devices,
            now_ms - 30_000 + round,
            100 + round,
            PACED_BATCH,
        )?);
        round += 1;
    }
    bodies.truncate(secs * 5);
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies {
        tick.tick().await;
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tasks.spawn(async move {
            let t = Instant::now();
            post_batch(&client, &url, &token, body).await?;
            anyhow::Ok(t.elapsed().as_secs_f64() * 1000.0)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.push(done??);
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

struct Compaction {
    mode: &'static str,
    rows: i64,
    /// Bytes per sample, indexes included, as written and compacted.
    before: f64,
    after: f64,
}

/// Writes a day (ten days ago) of 10-second samples of the first 100 series, as a fleet makes
/// them (counters rising by a varying rate, a CPU gauge wandering, `up` states; each poll a few
/// milliseconds late, as an agent stamps them), and measures that day's storage as written and
/// compacted: plain mode packs the day (`maintenance::compact_once` after a rollup has set the
/// 1m watermark), TimescaleDB mode compresses its chunk.
async fn compacted_size(config: &Config, pool: &PgPool) -> anyhow::Result<Compaction> {
    use crate::ingest::timescale::StorageMode;
    let mode = StorageMode::read(pool).await?;
    let now = OffsetDateTime::now_utc();
    let day = now.date() - time::Duration::days(10);
    let start = day.midnight().assume_utc();
    let (from, to) = (start, start + time::Duration::DAY);
    if mode == StorageMode::Plain {
        store::ensure_partitions(pool, day, day).await?;
    }
    let series: Vec<(i64, String)> =
        sqlx::query_as("select id, metric from series order by id limit 100")
            .fetch_all(pool)
            .await?;
    let mut rows = SampleRows::default();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = move || {
        // xorshift: varied, repeatable values without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut chunks = Vec::new();
    for (id, metric) in &series {
        let (mut counter, mut gauge) = (1e9, 30.0_f64);
        for i in 0..8640 {
            let late = time::Duration::milliseconds((noise() % 40) as i64);
            let at = start + time::Duration::seconds(i * 10) + late;
            match metric.as_str() {
                "up" => rows.push(*id, at, None, Some("up".into()), None),
                "cpu_load_percent" => {
                    gauge = (gauge + (noise() % 7) as f64 - 3.0).clamp(0.0, 100.0);
                    rows.push(*id, at, Some(gauge), None, None);
                }
                _ => {
                    counter += (noise() % 20_000_000) as f64;
                    rows.push(*id, at, Some(counter), None, None);
                }
            }
            if rows.len() == BATCH {
                chunks.push(std::mem::take(&mut rows));
            }
        }
    }
    chunks.push(rows);
    timed_writes(pool, &chunks, 4, Method::Copy).await?;
    let count: i64 = sqlx::query_scalar("select count(*) from sample where at >= $1 and at < $2")
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
    let size = |sql: &'static str| async move {
        let bytes: i64 = sqlx::query_scalar(sql).bind(from).fetch_one(pool).await?;
        anyhow::Ok(bytes as f64 / count as f64)
    };
    Ok(match mode {
        StorageMode::Plain => {
            let before = size(
                "select pg_total_relation_size(format('sample_%s', to_char($1 at time zone 'UTC', 'YYYYMMDD'))::regclass)",
            )
            .await?;
            crate::ingest::rollup::rollup_once(pool, now).await?;
            let packed = crate::ingest::maintenance::compact_once(pool, &config.telemetry, now)
                .await?
                .unwrap_or_default();
            anyhow::ensure!(packed.len() == 1, "packed {packed:?}, not the one old day");
            // The packed rows (their TOAST data, the primary key and the BRIN index): only
            // this day is packed in the scratch database.
            let packed_bytes: i64 =
                sqlx::query_scalar("select pg_total_relation_size('sample_packed')")
                    .fetch_one(pool)
                    .await?;
            Compaction {
                mode: "plain",
                rows: count,
                before,
                after: packed_bytes as f64 / count as f64,
            }
        }
        StorageMode::TimescaleDb => {
            // The day's chunk: the one whose range starts at its midnight.
            let chunk_bytes = "select sum(d.total_bytes)::int8
                 from timescaledb_information.chunks c
                 join chunks_detailed_size('sample') d on d.chunk_name = c.chunk_name
                 where c.hypertable_name = 'sample' and c.range_start = $1";
            let before = size(chunk_bytes).await?;
            sqlx::query(
                "select compress_chunk(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass)
                 from timescaledb_information.chunks c
                 where c.hypertable_name = 'sample' and c.range_start = $1",
            )
            .bind(from)
            .execute(pool)
            .await?;
            let after = size(
                "select sum(s.after_compression_total_bytes)::int8
                 from timescaledb_information.chunks c
                 join chunk_compression_stats('sample') s on s.chunk_name = c.chunk_name
                 where c.hypertable_name = 'sample' and c.range_start = $1",
            )
            .await?;
            Compaction {
                mode: "timescaledb",
                rows: count,
                before,
                after,
            }
        }
    })
}

#[derive(Clone, Copy)]
enum Method {
    Copy,
    Unnest,
}

/// Writes the chunks with `parallel` connections, each chunk in its own transaction; seconds.
async fn timed_writes(
    pool: &PgPool,
    chunks: &[SampleRows],
    parallel: usize,
    method: Method,
) -> anyhow::Result<f64> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(chunks.to_vec()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..parallel {
        let queue = queue.clone();
        let pool = pool.clone();
        tasks.spawn(async move {
            loop {
                let chunk = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(rows) = chunk else { break };
                let mut tx = pool.begin().await?;
                match method {
                    Method::Copy => store::copy_samples(&mut tx, &rows).await?,
                    Method::Unnest => store::insert_samples(&mut *tx, &rows).await?,
                };
                tx.commit().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed().as_secs_f64())
}
