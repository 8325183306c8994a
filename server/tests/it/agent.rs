//! The agent → server path end to end (issue 7's chaos test): the agent's pipeline (its
//! library: pollers, sealer, disk buffer, sender) polls the simulated demo fleet over the
//! RouterOS API and pushes to the real app, which is stopped mid-run and started again on the
//! same address; a TCP probe of the agent's runs alongside. Every sealed sample must be stored
//! exactly once, the replay must come in order, and live batches must keep arriving while the
//! backlog drains. The agent killed with SIGKILL is the agent crate's test
//! (`agent/tests/it/crash.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::poll::Target;
use agent::probe::{Check, Probe, Prober};
use agent::queue::{Caps, Queue};
use agent::run::{agent_info, start_collection};
use agent::seal::SealConfig;
use agent::send::SendConfig;
use agent::stats::Stats;
use routeros::session::breaker::BackoffPolicy;
use routeros::sim::{Fleet, FleetOptions, Topology};
use secrecy::SecretString;
use sqlx::PgPool;
use telemetry::DeviceRef;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ingest::devices_in;
use crate::{count, respawn_app, spawn_app};

const DEMO: &str = include_str!("../../demo/isp.toml");
/// Routers of the demo ISP without PPPoE, so that each poll is a few dozen samples.
const ROUTERS: [&str; 4] = ["vie1-edge-1", "vie1-core-2", "grz1-core-1", "lnz1-core-1"];

/// The simulated routers as poll targets (the agent's fleet file does the same for a POP).
fn targets(fleet: &Fleet, topology: &Topology, interval: Duration) -> Vec<Target> {
    let credential = topology.credential.as_ref().expect("credential");
    ROUTERS
        .iter()
        .map(|name| {
            let router = fleet.router(name).expect("in the fleet");
            Target::simulated(router, &credential.username, &credential.password, interval)
        })
        .collect()
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "not within 60 s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The arrival order (as seal indices) is the seal order except that a later run of it, the
/// live lane `k..`, may overtake the backlog `..k`: each of the two is in seal order. Returns
/// the `k`s for which that holds.
fn lane_splits(arrival: &[usize]) -> Vec<usize> {
    let increasing = |lane: Vec<usize>| lane.windows(2).all(|w| w[0] < w[1]);
    (0..=arrival.len())
        .filter(|&k| {
            increasing(arrival.iter().copied().filter(|&i| i < k).collect())
                && increasing(arrival.iter().copied().filter(|&i| i >= k).collect())
        })
        .collect()
}

#[test]
fn lane_splits_accepts_two_ordered_lanes_only() {
    assert_eq!(lane_splits(&[0, 1, 2]), vec![0, 1, 2, 3]);
    // 2 and 3 overtook 1: the backlog is ..2.
    assert_eq!(lane_splits(&[0, 2, 1, 3]), vec![2]);
    assert_eq!(lane_splits(&[0, 3, 1, 4, 2]), vec![3]);
    // Out of order within a lane, whatever the split.
    assert!(lane_splits(&[1, 0, 3, 2]).is_empty());
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_server_outage_loses_nothing_duplicates_nothing_and_live_data_flows_during_the_replay(
    pool: PgPool,
) {
    let app = spawn_app(pool).await;
    let tenant = server::admin::create_tenant(&app.pool, "Tenant A", "isp-a")
        .await
        .expect("tenant")
        .0;
    devices_in(&app.pool, tenant, &ROUTERS).await;
    let token = server::ingest::token::create(&app.pool, "isp-a", "pop-vie")
        .await
        .expect("token");

    let topology = Topology::parse(DEMO, "isp.toml").expect("demo parses");
    let fleet = Fleet::start(&topology, &FleetOptions::local(7))
        .await
        .expect("fleet");
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("queue"));
    let stats = Arc::new(Stats::default());
    let collect = CancellationToken::new();
    // Time compressed: polls every 200 ms, a batch sealed every 30 ms.
    // A probe of the agent's own too: a TCP connect to the edge router's API port.
    let edge = fleet.router(ROUTERS[0]).expect("edge").address.to_string();
    let probe = Probe {
        device: DeviceRef::Name(ROUTERS[0].to_owned()),
        check: Check::Tcp(edge.clone()),
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
    };
    let mut collection = start_collection(
        agent::fleet::Fleet {
            targets: targets(&fleet, &topology, Duration::from_millis(200)),
            snmp: Vec::new(),
            probes: vec![probe],
        },
        Arc::new(Prober::new().expect("prober")),
        BackoffPolicy {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            open_after: u32::MAX,
            open_for: Duration::ZERO,
        },
        4,
        SealConfig {
            agent: agent_info("pop-vie"),
            max_samples: 10_000,
            max_delay: Duration::from_millis(30),
        },
        queue.clone(),
        stats.clone(),
        collect.clone(),
    );
    let sealed = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let mut ids = collection.sealed.subscribe();
    let list = sealed.clone();
    let listener = tokio::spawn(async move {
        while let Ok(id) = ids.recv().await {
            list.lock().expect("lock").push(id);
        }
    });
    let sealed_count = || sealed.lock().expect("lock").len();
    let send = CancellationToken::new();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        SendConfig {
            url: app.url(telemetry::INGEST_PATH),
            token: SecretString::from(token),
            backoff_initial: Duration::from_millis(10),
            backoff_max: Duration::from_millis(100),
            retry_after_max: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        },
        stats.clone(),
        send.clone(),
    ));
    let pool = app.pool.clone();
    wait_until("5 batches stored", async || {
        count(&pool, "ingest_batch").await >= 5
    })
    .await;

    // The server stops; the agent goes on collecting into its buffer.
    let stopped = app.stop().await;
    let pool = stopped.pool.clone();
    let stored_before = count(&pool, "ingest_batch").await;
    let down_at = sealed_count();
    wait_until("100 batches buffered during the outage", async || {
        sealed_count() >= down_at + 100
    })
    .await;
    assert_eq!(
        count(&pool, "ingest_batch").await,
        stored_before,
        "nothing is stored while the server is down"
    );
    assert!(queue.depth().0 >= 100, "the backlog is on disk");

    // Back: the replay starts, and live batches keep being sealed and sent.
    let restarted_at = sealed_count();
    let app = respawn_app(stopped).await;
    wait_until("30 live batches sealed after the restart", async || {
        sealed_count() >= restarted_at + 30
    })
    .await;
    collect.cancel();
    while let Some(ended) = collection.tasks.join_next().await {
        ended.expect("collection task");
    }
    drop(collection);
    listener.await.expect("listener");
    let queue_left = queue.clone();
    wait_until("the buffer drained", async || queue_left.depth().0 == 0).await;
    send.cancel();
    sender.await.expect("sender").expect("sender ok");

    // Exactly once: every sealed batch is stored, once, and nothing else is.
    let sealed = sealed.lock().expect("lock").clone();
    let seal_index: HashMap<Uuid, usize> =
        sealed.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    assert_eq!(seal_index.len(), sealed.len(), "batch ids are unique");
    let arrived: Vec<Uuid> =
        sqlx::query_scalar("select batch_id from ingest_batch order by received_at, batch_id")
            .fetch_all(&pool)
            .await
            .expect("batches");
    assert_eq!(
        arrived.iter().collect::<HashSet<_>>(),
        sealed.iter().collect::<HashSet<_>>(),
        "every sealed batch arrived, and nothing else"
    );
    let (accepted, rejected): (i64, i64) = sqlx::query_as(
        "select sum(samples_accepted)::bigint, sum(samples_rejected)::bigint from ingest_batch",
    )
    .fetch_one(&pool)
    .await
    .expect("sums");
    let samples = Stats::get(&stats.sealed_samples) as i64;
    assert_eq!((accepted, rejected), (samples, 0));
    assert_eq!(
        count(&pool, "sample").await,
        samples,
        "every sample stored once"
    );
    let repeated: i64 = sqlx::query_scalar(
        "select count(*) from (select 1 from sample group by series_id, at having count(*) > 1) r",
    )
    .fetch_one(&pool)
    .await
    .expect("repeats");
    assert_eq!(repeated, 0, "no sample is stored twice");
    assert_eq!(Stats::get(&stats.dead_letter_batches), 0);
    assert_eq!(Stats::get(&stats.dropped_batches), 0);
    let probed: i64 = sqlx::query_scalar(
        "select count(*) from sample x join series s on s.id = x.series_id
          where s.metric = 'probe_up' and s.instance = $1 and x.state = 'up'",
    )
    .bind(format!("tcp:{edge}"))
    .fetch_one(&pool)
    .await
    .expect("probe samples");
    assert!(probed > 5, "the TCP probe's samples arrived too: {probed}");

    // Order: the replay (sealed before the restart) came in seal order, the live lane too,
    // and live batches overtook the replay: they did not wait for the drain to end.
    let arrival: Vec<usize> = arrived.iter().map(|id| seal_index[id]).collect();
    let splits = lane_splits(&arrival);
    assert!(
        splits.iter().any(|&k| k >= restarted_at),
        "arrival is the backlog and the live lane, each in seal order: {arrival:?}"
    );
    let last_replayed = arrival
        .iter()
        .rposition(|&i| i < restarted_at)
        .expect("the backlog arrived");
    let overtaking = arrival[..last_replayed]
        .iter()
        .filter(|&&i| i >= restarted_at)
        .count();
    assert!(
        overtaking > 0,
        "live batches arrived during the replay of the backlog: {arrival:?}"
    );
    drop(app);
    fleet.shutdown().await;
}
