//! Store-and-forward: the agent keeps collecting while the server is away, and every sealed
//! batch arrives exactly once when it is back, through 503s, 429s, a lost answer, an agent
//! restart and a corrupt file.

use std::collections::HashSet;
use std::sync::Mutex;

use agent::probe::Prober;
use agent::queue::Sealed;
use agent::run::{agent_info, start_collection};
use agent::seal::SealConfig;
use agent::send::SendConfig;
use secrecy::SecretString;
use telemetry::{Batch, UnixMs};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::server::{self, Answer, Ingest};
use super::*;

fn send_config(url: String) -> SendConfig {
    SendConfig {
        url,
        token: SecretString::from(server::TOKEN),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        retry_after_max: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
    }
}

fn seal_config() -> SealConfig {
    SealConfig {
        agent: agent_info("test-pop"),
        max_samples: 10_000,
        max_delay: Duration::from_millis(150),
    }
}

/// Collects the simulated demo routers every 100 ms into `queue`; returns the cancel token,
/// the collection, and the ids of the batches sealed so far (growing).
async fn collect_into(
    fleet: &Fleet,
    topology: &Topology,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
) -> (
    CancellationToken,
    agent::run::Collection,
    Arc<Mutex<Vec<Uuid>>>,
    tokio::task::JoinHandle<()>,
) {
    let targets = ["vie1-edge-1", "vie1-core-2", "vie1-bng-1", "sbg1-bng-1"]
        .iter()
        .map(|n| target(fleet, topology, n, None, Duration::from_millis(100)))
        .collect();
    let cancel = CancellationToken::new();
    let collection = start_collection(
        agent::fleet::Fleet::routers(targets),
        Arc::new(Prober::new().expect("prober")),
        no_backoff(),
        4,
        seal_config(),
        queue,
        stats,
        cancel.clone(),
    );
    let sealed = Arc::new(Mutex::new(Vec::new()));
    let mut ids = collection.sealed.subscribe();
    let list = sealed.clone();
    // Ends when the collection (which holds the sending side) is dropped.
    let listener = tokio::spawn(async move {
        while let Ok(id) = ids.recv().await {
            list.lock().expect("lock").push(id);
        }
    });
    (cancel, collection, sealed, listener)
}

async fn wait_sealed(sealed: &Mutex<Vec<Uuid>>, stats: &Stats, n: u64) {
    // The sealer reports through `stats`; wait on it without a fixed sleep.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while Stats::get(&stats.sealed_batches) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} batches not sealed in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = sealed;
}

async fn stop_collection(cancel: CancellationToken, mut collection: agent::run::Collection) {
    cancel.cancel();
    while let Some(ended) = collection.tasks.join_next().await {
        ended.expect("collection task");
    }
}

fn assert_exactly_once(ingest: &Ingest, sealed: &[Uuid]) {
    let record = ingest.record.lock().expect("lock");
    let sealed_set: HashSet<&Uuid> = sealed.iter().collect();
    assert_eq!(sealed_set.len(), sealed.len(), "sealed ids are unique");
    let written: HashSet<&Uuid> = record.written.keys().collect();
    assert_eq!(
        written, sealed_set,
        "every sealed batch arrived, and nothing else"
    );
    assert!(record.written.values().all(|&n| n == 1));
    // The order (the replay and the live lane, each in seal order) is checked end to end
    // against the real server in server/tests/it/agent.rs.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_of_the_server_loses_nothing_and_duplicates_nothing() {
    let (fleet, topology) = demo_fleet().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("queue"));
    let stats = Arc::new(Stats::default());
    let ingest = Ingest::new();
    let running = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let url = running.url();
    let (cancel, collection, sealed, listener) =
        collect_into(&fleet, &topology, queue.clone(), stats.clone()).await;
    let send_cancel = CancellationToken::new();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        send_config(url),
        stats.clone(),
        send_cancel.clone(),
    ));

    ingest.wait_written(2).await;
    // The server goes away; collection goes on into the buffer.
    let stopped = running.stop().await;
    let before = Stats::get(&stats.sealed_batches);
    wait_sealed(&sealed, &stats, before + 4).await;
    assert!(
        queue.depth().0 >= 3,
        "the backlog is on disk: {:?}",
        queue.depth()
    );
    assert!(ingest.record.lock().expect("lock").written.len() <= before as usize + 1);

    // Back, but busy at first, and one answer gets lost after the write.
    ingest.script(&[
        Answer::Unavailable,
        Answer::Busy,
        Answer::TakeThenFail,
        Answer::Unavailable,
    ]);
    let running = server::restart(ingest.clone(), stopped).await;
    let sealed_now = Stats::get(&stats.sealed_batches);
    wait_sealed(&sealed, &stats, sealed_now + 2).await;
    stop_collection(cancel, collection).await;
    listener.await.expect("listener");

    let sealed = sealed.lock().expect("lock").clone();
    assert_eq!(sealed.len() as u64, Stats::get(&stats.sealed_batches));
    ingest.wait_written(sealed.len()).await;
    // The last batch is deleted right after its answer; wait for that too.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.depth().0 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_exactly_once(&ingest, &sealed);
    assert_eq!(
        ingest.record.lock().expect("lock").samples,
        Stats::get(&stats.sealed_samples)
    );
    assert_eq!(queue.depth(), (0, 0));
    assert!(
        Stats::get(&stats.duplicate_batches) >= 1,
        "the lost answer was retried and deduplicated"
    );
    assert_eq!(Stats::get(&stats.dead_letter_batches), 0);
    assert!(
        ingest.record.lock().expect("lock").script.is_empty(),
        "503, 429 and the lost answer were all met"
    );
    send_cancel.cancel();
    sender.await.expect("sender").expect("sender ok");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_sends_what_the_previous_one_buffered() {
    let (fleet, topology) = demo_fleet().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // No server yet: everything stays in the buffer.
    let ingest = Ingest::new();
    let reserved = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let stopped = reserved.stop().await;
    let url = format!("http://{}{}", stopped.address, telemetry::INGEST_PATH);
    let sealed_before = {
        let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("queue"));
        let stats = Arc::new(Stats::default());
        let (cancel, collection, sealed, listener) =
            collect_into(&fleet, &topology, queue.clone(), stats.clone()).await;
        let sender = tokio::spawn(agent::send::run(
            queue.clone(),
            send_config(url.clone()),
            stats.clone(),
            cancel.clone(),
        ));
        wait_sealed(&sealed, &stats, 4).await;
        // The agent stops (the sealer seals what it holds); the queue is dropped with it.
        stop_collection(cancel, collection).await;
        listener.await.expect("listener");
        sender.await.expect("sender").expect("sender ok");
        assert_eq!(Stats::get(&stats.sent_batches), 0);
        let ids = sealed.lock().expect("lock").clone();
        assert_eq!(queue.depth().0, ids.len());
        ids
    };
    // A new agent process: the queue is re-read from disk, in order.
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("reopen"));
    assert_eq!(queue.depth().0, sealed_before.len());
    let running = server::restart(ingest.clone(), stopped).await;
    let stats = Arc::new(Stats::default());
    let cancel = CancellationToken::new();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        send_config(url),
        stats.clone(),
        cancel.clone(),
    ));
    ingest.wait_written(sealed_before.len()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.depth().0 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_exactly_once(&ingest, &sealed_before);
    cancel.cancel();
    sender.await.expect("sender").expect("sender ok");
    running.stop().await;
}

fn sealed_batch(n: i64) -> Sealed {
    let batch = Batch {
        batch_id: Uuid::new_v4(),
        agent: agent_info("test-pop"),
        sent_at: UnixMs(0),
        samples: vec![Sample {
            device: DeviceRef::Name("r1".into()),
            metric: "cpu_load_percent".into(),
            instance: None,
            ts: UnixMs(agent::poll::now().0 - n),
            value: Value::Number(5.0),
            reason: None,
            labels: Default::default(),
        }],
        events: Vec::new(),
    };
    Sealed {
        batch_id: batch.batch_id,
        sealed_at_ms: batch.samples[0].ts.0,
        samples: 1,
        payload: agent::seal::encode(&batch).expect("encode"),
    }
}

#[tokio::test]
async fn a_corrupt_file_is_set_aside_and_a_refused_batch_dead_lettered_the_rest_sends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Arc::new(Stats::default());
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("queue"));
    let entries: Vec<_> = (0..4)
        .map(|n| queue.push(&sealed_batch(n), &stats).expect("push"))
        .collect();
    // Bit rot in the second batch.
    let file = dir.path().join("queue").join(format!(
        "{:016x}-{}.batch",
        entries[1].seq, entries[1].batch_id
    ));
    let mut bytes = std::fs::read(&file).expect("read");
    bytes[60] ^= 0x55;
    std::fs::write(&file, bytes).expect("write");
    let ingest = Ingest::new();
    // The third is refused as malformed (a 400): it must not block the fourth.
    ingest.script(&[Answer::Ok, Answer::BadRequest]);
    let running = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let cancel = CancellationToken::new();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        send_config(running.url()),
        stats.clone(),
        cancel.clone(),
    ));
    ingest.wait_written(2).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while queue.depth().0 > 0 {
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    {
        let record = ingest.record.lock().expect("lock");
        assert_eq!(record.order, vec![entries[0].batch_id, entries[3].batch_id]);
        assert_eq!(record.refused, 1);
    }
    assert_eq!(Stats::get(&stats.corrupt_batches), 1);
    assert_eq!(Stats::get(&stats.dead_letter_batches), 1);
    let corrupt_reason = dir.path().join("corrupt").join(format!(
        "{:016x}-{}.reason",
        entries[1].seq, entries[1].batch_id
    ));
    assert_eq!(
        std::fs::read_to_string(corrupt_reason)
            .expect("reason")
            .trim(),
        "checksum mismatch"
    );
    let dead_reason = dir.path().join("dead").join(format!(
        "{:016x}-{}.reason",
        entries[2].seq, entries[2].batch_id
    ));
    assert_eq!(
        std::fs::read_to_string(dead_reason).expect("reason").trim(),
        "HTTP 400: malformed: scripted"
    );
    assert!(dir
        .path()
        .join("dead")
        .join(format!(
            "{:016x}-{}.batch",
            entries[2].seq, entries[2].batch_id
        ))
        .exists());
    cancel.cancel();
    sender.await.expect("sender").expect("sender ok");
    running.stop().await;
}

#[tokio::test]
async fn a_wrong_token_keeps_the_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Arc::new(Stats::default());
    let queue = Arc::new(Queue::open(dir.path(), Caps::NONE).expect("queue"));
    queue.push(&sealed_batch(0), &stats).expect("push");
    let ingest = Ingest::new();
    let running = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let mut config = send_config(running.url());
    config.token = SecretString::from("wrong");
    let cancel = CancellationToken::new();
    let sender = tokio::spawn(agent::send::run(
        queue.clone(),
        config,
        stats.clone(),
        cancel.clone(),
    ));
    // A few refused attempts, then stop: the batch is still buffered, nothing dead-lettered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ingest.record.lock().expect("lock").unauthorized < 3 {
        assert!(tokio::time::Instant::now() < deadline, "no retries");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    sender.await.expect("sender").expect("sender ok");
    assert_eq!(queue.depth().0, 1);
    assert_eq!(Stats::get(&stats.dead_letter_batches), 0);
    running.stop().await;
}
