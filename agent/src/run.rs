//! Wires the stages: a polling task per router, SNMP device and probe → the sealer → the
//! buffer → the sender, under one cancellation token; for an enrolled agent also the
//! certificate renewal and the status reports, and without a fleet file the assignment loop
//! that starts and stops the pollers. `main` and the integration tests both start the agent
//! here.

use std::sync::Arc;
use std::time::Duration;

use routeros::session::breaker::BackoffPolicy;
use telemetry::AgentInfo;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::assignment::apply::Pollers;
use crate::assignment::FromServer;
use crate::fleet::Fleet;
use crate::identity::renewal::{self, Renewal};
use crate::identity::Identity;
use crate::poll::{self, Poller};
use crate::probe::{self, Prober};
use crate::queue::Queue;
use crate::seal::{self, SealConfig};
use crate::send::{self, Push};
use crate::stats::Stats;
use crate::status::report::Reporting;

/// The agent's version, sent with every batch.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn agent_info(name: &str) -> AgentInfo {
    AgentInfo {
        name: name.to_owned(),
        version: VERSION.to_owned(),
    }
}

/// The collecting half: pollers, probes and the sealer, writing to `queue`.
#[derive(Debug)]
pub struct Collection {
    pub tasks: JoinSet<()>,
    /// Hears every batch id when it is buffered.
    pub sealed: broadcast::Sender<Uuid>,
}

#[allow(clippy::too_many_arguments)] // the stages' settings, each used once here
pub fn start_collection(
    fleet: Fleet,
    prober: Arc<Prober>,
    policy: BackoffPolicy,
    max_concurrent_polls: usize,
    seal_config: SealConfig,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> Collection {
    let mut tasks = JoinSet::new();
    let (tx, rx) = mpsc::channel::<poll::Reading>(1_024);
    let limit = Arc::new(Semaphore::new(max_concurrent_polls.max(1)));
    for target in fleet.snmp {
        tasks.spawn(poll::run_every(
            target,
            limit.clone(),
            tx.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    for target in fleet.targets {
        tasks.spawn(poll::run_every(
            Poller::new(target, policy),
            limit.clone(),
            tx.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    for one in fleet.probes {
        tasks.spawn(probe::run_probe(
            prober.clone(),
            one,
            tx.clone(),
            cancel.clone(),
        ));
    }
    drop(tx);
    let sealed = spawn_sealer(&mut tasks, rx, seal_config, queue, stats, cancel);
    Collection { tasks, sealed }
}

/// The sealer, until its senders are gone or `cancel`.
fn spawn_sealer(
    tasks: &mut JoinSet<()>,
    rx: mpsc::Receiver<poll::Reading>,
    seal_config: SealConfig,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> broadcast::Sender<Uuid> {
    let (sealed, _) = broadcast::channel(4_096);
    tasks.spawn(seal::run(
        rx,
        seal_config,
        queue,
        stats,
        sealed.clone(),
        cancel,
    ));
    sealed
}

/// The collecting half of an agent fed by the server: the assignment loop, which starts and
/// stops pollers as assignments come, and the sealer.
#[allow(clippy::too_many_arguments)] // the stages' settings, each used once here
pub fn start_assigned_collection(
    from: FromServer,
    link: Arc<crate::link::Link>,
    prober: Arc<Prober>,
    max_concurrent_polls: usize,
    seal_config: SealConfig,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> Collection {
    let mut tasks = JoinSet::new();
    let (tx, rx) = mpsc::channel::<poll::Reading>(1_024);
    let pollers = Pollers::new(
        tx,
        Arc::new(Semaphore::new(max_concurrent_polls.max(1))),
        BackoffPolicy::default(),
        prober,
        stats.clone(),
        cancel.clone(),
    );
    tasks.spawn(crate::assignment::run(
        from,
        link,
        pollers,
        stats.clone(),
        cancel.clone(),
    ));
    let sealed = spawn_sealer(&mut tasks, rx, seal_config, queue, stats, cancel);
    Collection { tasks, sealed }
}

/// Where the devices to poll come from.
#[derive(Debug)]
pub enum FleetSource {
    /// The fleet file (`--fleet`), read once at start.
    File(Fleet),
    /// The server's assignment (an enrolled agent without a fleet file).
    Server(FromServer),
}

/// An enrolled agent's work besides pushing: renewing its certificate, reporting its status.
#[derive(Debug)]
pub struct Enrolled {
    pub identity: Identity,
    /// Where renewals go and are saved; status reports go to its `server_url` too.
    pub renewal: Renewal,
    pub status_report_interval: Duration,
}

/// The whole agent, until `cancel`; then the sealer seals what the pollers handed over.
#[allow(clippy::too_many_arguments)] // the stages' settings, each used once here
pub async fn run(
    fleet: FleetSource,
    seal_config: SealConfig,
    push: Push,
    enrolled: Option<Enrolled>,
    queue: Arc<Queue>,
    max_concurrent_polls: usize,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    // The caps of a buffer left by an earlier run (the age cap above all: it may have been
    // off for days) apply before anything is sent.
    queue.apply_caps(&stats);
    let prober = Arc::new(Prober::new()?);
    let mut collection = match fleet {
        FleetSource::File(fleet) => {
            let targets = (fleet.targets.len() + fleet.snmp.len() + fleet.probes.len()) as u64;
            Stats::add(&stats.targets, targets);
            start_collection(
                fleet,
                prober,
                BackoffPolicy::default(),
                max_concurrent_polls,
                seal_config,
                queue.clone(),
                stats.clone(),
                cancel.clone(),
            )
        }
        FleetSource::Server(from) => {
            if enrolled.is_none() {
                anyhow::bail!("the server's assignment needs an enrolled agent");
            }
            start_assigned_collection(
                from,
                push.link.clone(),
                prober,
                max_concurrent_polls,
                seal_config,
                queue.clone(),
                stats.clone(),
                cancel.clone(),
            )
        }
    };
    tokio::spawn(report(queue.clone(), stats.clone(), cancel.clone()));
    if let Some(enrolled) = enrolled {
        let reporting = Reporting {
            server_url: enrolled.renewal.server_url.clone(),
            interval: enrolled.status_report_interval,
        };
        tokio::spawn(crate::status::report::run(
            reporting,
            push.link.clone(),
            queue.clone(),
            stats.clone(),
            cancel.clone(),
        ));
        tokio::spawn(renewal::run(
            enrolled.identity,
            enrolled.renewal,
            push.link.clone(),
            cancel.clone(),
        ));
    }
    let sender = tokio::spawn(send::drain(queue, push, stats, cancel.clone()));
    while let Some(ended) = collection.tasks.join_next().await {
        if let Err(e) = ended {
            tracing::error!(error = %e, "a collection task failed");
        }
    }
    match sender.await {
        Ok(result) => result,
        Err(e) => Err(anyhow::anyhow!("the sender task failed: {e}")),
    }
}

/// Logs the agent's counters every minute (the status endpoint answers them at any time).
async fn report(queue: Arc<Queue>, stats: Arc<Stats>, cancel: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.tick().await;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let (batches, bytes) = queue.depth();
        let get = Stats::get;
        tracing::info!(
            polls_ok = get(&stats.polls_ok),
            polls_failed = get(&stats.polls_failed),
            collector_failures = get(&stats.collector_failures),
            sealed_batches = get(&stats.sealed_batches),
            sent_batches = get(&stats.sent_batches),
            duplicate_batches = get(&stats.duplicate_batches),
            rejected_samples = get(&stats.rejected_samples),
            buffered_batches = batches,
            buffered_bytes = bytes,
            agent_dropped_batches_total = get(&stats.dropped_batches),
            agent_dropped_samples_total = get(&stats.dropped_samples),
            dead_letter_batches = get(&stats.dead_letter_batches),
            corrupt_batches = get(&stats.corrupt_batches),
            "agent status"
        );
    }
}
