//! The drain benchmark: `cargo run --release -p server --example drain_bench`.
//!
//! How fast an agent catches up after an outage, against how fast its POP produces data. It
//! creates a scratch database on the server of `DATABASE_URL` (dropped at the end), serves the
//! app in this process (web only, as `ispvm bench ingest`), and starts the demo fleet's simulator.
//!
//! 1. Live rate: every demo router polled once with the agent's `Poller`; each poll's samples
//!    divided by the router's interval (its profile in the demo file: 10 s, 60 s or 300 s).
//! 2. Backlog: `BENCH_HOURS` (24) of those polls, restamped at each router's interval, sealed
//!    into 10,000-sample batches in time order and written to the agent's disk buffer, as an
//!    agent cut off from the server for that long would have left it.
//! 3. Drain: the agent's sender pushes the buffer to the app while the agent's live collection
//!    polls the simulated fleet at the real intervals into the same buffer (live batches take
//!    turns with the backlog). Prints the drain time and rate, the ratio to the live rate, and
//!    the live batches delivered before the backlog was through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::poll::{Poller, Target};
use agent::queue::{Caps, Queue, Sealed};
use agent::run::{agent_info, start_collection};
use agent::seal::SealConfig;
use agent::send::SendConfig;
use agent::stats::Stats;
use anyhow::Context;
use routeros::session::breaker::BackoffPolicy;
use routeros::sim::{Fleet, FleetOptions, Topology};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;
use telemetry::{Batch, Sample, UnixMs};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use server::bench::{bench_site, in_scratch_db, say, serve, setting};

const DEMO: &str = include_str!("../demo/isp.toml");
/// What the agent seals at most per batch (its default).
const BATCH: usize = 10_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let hours = setting("BENCH_HOURS", 24);
    in_scratch_db("drain", None, async |_, pool| run(pool, hours).await).await
}

/// The demo routers as the agent's fleet file gives them (name, interval), pointed at the
/// simulated routers.
fn targets(fleet: &Fleet, topology: &Topology) -> anyhow::Result<Vec<Target>> {
    let options = agent::fleet::FleetOptions::defaults();
    let credential = topology.credential.as_ref().context("demo credential")?;
    agent::fleet::parse(DEMO, &options)?
        .targets
        .into_iter()
        .map(|t| {
            let router = fleet.router(&t.name).context("demo router in the fleet")?;
            Ok(Target::simulated(
                router,
                &credential.username,
                &credential.password,
                t.interval,
            ))
        })
        .collect()
}

async fn run(pool: PgPool, hours: usize) -> anyhow::Result<()> {
    let topology = Topology::parse(DEMO, "isp.toml")?;
    let fleet = Fleet::start(&topology, &FleetOptions::local(5)).await?;
    let targets = targets(&fleet, &topology)?;
    let (tenant, site) = bench_site(&pool).await?;
    for t in &targets {
        sqlx::query(
            "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address)
             values ($1, $2, $3, 'mikrotik', 'core', '10.0.0.1')",
        )
        .bind(tenant)
        .bind(site)
        .bind(&t.name)
        .execute(&pool)
        .await?;
    }
    let token = server::ingest::token::create(&pool, "bench", "pop-bench").await?;
    let now = OffsetDateTime::now_utc();
    let (addr, shutdown) = serve(&pool).await?;

    // 1. One poll of every router: the live rate, and the backlog's templates.
    let stats = Arc::new(Stats::default());
    let mut templates: Vec<(Duration, Vec<Sample>)> = Vec::new();
    for t in &targets {
        let mut poller = Poller::new(t.clone(), BackoffPolicy::default());
        let samples = poller.poll(agent::poll::now(), &stats).await.samples;
        templates.push((t.interval, samples));
    }
    let live_rate: f64 = templates
        .iter()
        .map(|(interval, s)| s.len() as f64 / interval.as_secs_f64())
        .sum();
    say(&format!(
        "drain benchmark: {} demo routers, live rate {live_rate:.0} samples/s",
        targets.len()
    ));

    // 2. The backlog, in time order, as the sealer would have written it.
    let dir = tempfile::tempdir()?;
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE)?);
    let built = Instant::now();
    let end_ms = UnixMs::from_datetime(now).0 - 60_000;
    let start_ms = end_ms - hours as i64 * 3_600_000;
    let mut polls: Vec<(i64, usize)> = Vec::new();
    for (i, (interval, _)) in templates.iter().enumerate() {
        let step = interval.as_millis() as i64;
        polls.extend(
            (0..)
                .map(|k| start_ms + k * step)
                .take_while(|&t| t < end_ms)
                .map(|t| (t, i)),
        );
    }
    polls.sort_unstable();
    let (mut pending, mut backlog_samples, mut backlog_batches) = (Vec::new(), 0_usize, 0_usize);
    for (ts, i) in polls {
        pending.extend(templates[i].1.iter().map(|s| Sample {
            ts: UnixMs(ts),
            ..s.clone()
        }));
        while pending.len() >= BATCH {
            let rest = pending.split_off(BATCH);
            backlog_samples += pending.len();
            backlog_batches += 1;
            seal(&queue, &stats, std::mem::replace(&mut pending, rest), ts)?;
        }
    }
    if !pending.is_empty() {
        backlog_samples += pending.len();
        backlog_batches += 1;
        seal(&queue, &stats, pending, end_ms)?;
    }
    let (_, backlog_bytes) = queue.depth();
    let backlog_end = queue.newest_seq().context("a backlog")?;
    say(&format!(
        "  backlog: {hours} h = {backlog_samples} samples in {backlog_batches} batches, {:.1} MB on disk (built in {:.1} s)",
        backlog_bytes as f64 / 1e6,
        built.elapsed().as_secs_f64()
    ));

    // 3. Drain, with live collection going on.
    let cancel = CancellationToken::new();
    let collection = start_collection(
        agent::fleet::Fleet::routers(targets),
        Arc::new(agent::probe::Prober::new()?),
        BackoffPolicy::default(),
        64,
        SealConfig {
            agent: agent_info("pop-bench"),
            max_samples: BATCH,
            max_delay: Duration::from_secs(1),
        },
        queue.clone(),
        stats.clone(),
        cancel.clone(),
    );
    let send = SendConfig {
        url: format!("http://{addr}{}", telemetry::INGEST_PATH),
        token: SecretString::from(token),
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_secs(5),
        retry_after_max: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
    };
    let sealed_before = Stats::get(&stats.sealed_batches);
    let started = Instant::now();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        send,
        stats.clone(),
        cancel.clone(),
    ));
    while queue.oldest().is_some_and(|e| e.seq <= backlog_end) {
        anyhow::ensure!(
            Stats::get(&stats.dead_letter_batches) == 0 && Stats::get(&stats.rejected_samples) == 0,
            "the server refused part of the backlog"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain = started.elapsed().as_secs_f64();
    let sent = Stats::get(&stats.sent_batches) as usize;
    let live_sealed = Stats::get(&stats.sealed_batches) - sealed_before;
    let live_sent = sent.saturating_sub(backlog_batches);
    cancel.cancel();
    let _ = sender.await?;
    drop(collection);
    shutdown.cancel();
    let stored: i64 = sqlx::query_scalar("select count(*) from sample")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(
        stored as usize >= backlog_samples,
        "only {stored} of {backlog_samples} backlog samples stored"
    );
    let rate = backlog_samples as f64 / drain;
    say(&format!(
        "  drain: {backlog_samples} samples in {drain:.1} s = {rate:.0} samples/s, {:.0}× the live rate",
        rate / live_rate
    ));
    say(&format!(
        "  live during the drain: {live_sent} of {live_sealed} live batches delivered before the backlog was through"
    ));
    say(&serde_json::to_string(&json!({
        "hours": hours,
        "live_samples_per_s": live_rate.round(),
        "backlog_samples": backlog_samples,
        "drain_s": (drain * 10.0).round() / 10.0,
        "drain_samples_per_s": rate.round(),
        "drain_to_live": (rate / live_rate).round(),
        "live_batches_sent_during_drain": live_sent,
    }))?);
    fleet.shutdown().await;
    Ok(())
}

/// Writes one batch to the buffer as the sealer does, sealed at `ts`.
fn seal(queue: &Queue, stats: &Stats, samples: Vec<Sample>, ts: i64) -> anyhow::Result<()> {
    let batch = Batch {
        batch_id: uuid::Uuid::new_v4(),
        agent: agent_info("pop-bench"),
        sent_at: UnixMs(ts),
        samples,
        events: Vec::new(),
    };
    let sealed = Sealed {
        batch_id: batch.batch_id,
        sealed_at_ms: ts,
        samples: batch.samples.len() as u32,
        payload: agent::seal::encode(&batch)?,
    };
    queue.push(&sealed, stats)?;
    Ok(())
}
