//! The collection benchmark: `cargo run --release -p agent --example collect_bench`.
//!
//! 1. One router, every collector, against the simulator answering each command after 20 ms
//!    (`BENCH_LATENCY_MS`): poll times over `BENCH_POLLS` (50) polls on one reused API session.
//!    Baselines in the same run: the same with a new session (connect + login) per poll, as
//!    pollers that reconnect each time do, and with no injected latency.
//! 2. One agent polling 300 routers (`BENCH_ROUTERS`; copies of the demo fleet) on the fast
//!    profile: the agent's pollers run on a single-threaded runtime (one core), the simulated
//!    routers on another thread. Prints the wall time of a round of every router and the agent
//!    thread's CPU time, against the 10 s the fast profile allows.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent::poll::{Poller, Target};
use agent::stats::Stats;
use routeros::session::breaker::BackoffPolicy;
use routeros::sim::{Fleet, FleetOptions, Topology};
use tokio::sync::Semaphore;

const DEMO: &str = include_str!("../../server/demo/isp.toml");
/// The demo's busiest router: a BNG with PPPoE sessions, queues, BGP and OSPF.
const ROUTER: &str = "vie1-bng-1";

fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn target(fleet: &Fleet, topology: &Topology, name: &str) -> Target {
    let credential = topology.credential.as_ref().expect("credential");
    let router = fleet.router(name).expect("in the fleet");
    Target::simulated(
        router,
        &credential.username,
        &credential.password,
        Duration::from_secs(10),
    )
}

async fn start_fleet(topology: &Topology, seed: u64) -> Fleet {
    Fleet::start(topology, &FleetOptions::local(seed))
        .await
        .expect("fleet starts")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn figures(label: &str, mut times: Vec<Duration>, samples: usize) {
    times.sort();
    say(&format!(
        "{label:<44} p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms  ({samples} samples per poll)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    ));
}

/// Polls `target` `polls` times; a new session each time if `fresh`.
async fn poll_times(target: &Target, polls: usize, fresh: bool) -> (Vec<Duration>, usize) {
    let stats = Stats::default();
    let mut poller = Poller::new(target.clone(), BackoffPolicy::default());
    // Connected and logged in before the clock starts, unless reconnecting is the point.
    poller.poll(agent::poll::now(), &stats).await;
    let mut times = Vec::with_capacity(polls);
    let mut samples = 0;
    for _ in 0..polls {
        if fresh {
            poller = Poller::new(target.clone(), BackoffPolicy::default());
        }
        let start = Instant::now();
        samples = poller.poll(agent::poll::now(), &stats).await.samples.len();
        times.push(start.elapsed());
    }
    assert_eq!(Stats::get(&stats.polls_failed), 0, "every poll succeeded");
    (times, samples)
}

/// This thread's CPU time (user + system), from /proc (Linux).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) end with ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() {
    let latency = Duration::from_millis(setting("BENCH_LATENCY_MS", 20) as u64);
    let polls = setting("BENCH_POLLS", 50);
    let routers = setting("BENCH_ROUTERS", 300);
    let topology = Topology::parse(DEMO, "isp.toml").expect("demo parses");

    // The simulated routers get their own thread; the agent side runs on this one.
    let sim = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("sim runtime");
    let agent = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("agent runtime");

    say(&format!(
        "one router ({ROUTER}), every collector, {polls} polls, {} ms per answer:",
        latency.as_millis()
    ));
    let fleet = sim.block_on(start_fleet(&topology, 1));
    let one = target(&fleet, &topology, ROUTER);
    let control = fleet.router(ROUTER).expect("router").control.clone();
    control.set_latency(latency);
    let (times, samples) = agent.block_on(poll_times(&one, polls, false));
    figures("  reused session", times, samples);
    let (times, samples) = agent.block_on(poll_times(&one, polls, true));
    figures("  baseline: new session per poll", times, samples);
    control.set_latency(Duration::ZERO);
    let (times, samples) = agent.block_on(poll_times(&one, polls, false));
    figures("  baseline: reused session, no latency", times, samples);
    sim.block_on(fleet.shutdown());

    let mut fleets: Vec<Fleet> = Vec::new();
    while fleets.iter().map(|f| f.routers().len()).sum::<usize>() < routers {
        let seed = 100 + fleets.len() as u64;
        fleets.push(sim.block_on(start_fleet(&topology, seed)));
    }
    let targets: Vec<Target> = fleets
        .iter()
        .flat_map(|f| f.routers().iter().map(|r| target(f, &topology, &r.name)))
        .take(routers)
        .collect();
    say(&format!(
        "{} routers, one agent on one core (single-threaded runtime), up to 64 polls at once:",
        targets.len()
    ));
    let rounds = 5;
    let (walls, cpu, samples) = agent.block_on(async {
        let stats = Arc::new(Stats::default());
        let limit = Arc::new(Semaphore::new(64));
        let mut pollers: Vec<Poller> = targets
            .into_iter()
            .map(|t| Poller::new(t, BackoffPolicy::default()))
            .collect();
        let mut walls = Vec::new();
        let mut cpu = Duration::ZERO;
        let mut samples = 0;
        // Round 0 connects and logs in; it is not counted.
        for round in 0..=rounds {
            let cpu_start = thread_cpu();
            let start = Instant::now();
            let polls = pollers.iter_mut().map(|p| {
                let (stats, limit) = (stats.clone(), limit.clone());
                async move {
                    let _permit = limit.acquire().await.expect("semaphore");
                    p.poll(agent::poll::now(), &stats).await.samples.len()
                }
            });
            let counts = futures_util::future::join_all(polls).await;
            if round > 0 {
                walls.push(start.elapsed());
                cpu += thread_cpu().saturating_sub(cpu_start);
                samples = counts.iter().sum::<usize>();
            }
        }
        assert_eq!(Stats::get(&stats.polls_failed), 0, "every poll succeeded");
        (walls, cpu, samples)
    });
    let mean_wall = walls.iter().sum::<Duration>() / rounds;
    let cpu_per_round = cpu / rounds;
    say(&format!(
        "  a round of every router: mean {:.2} s wall, {:.2} s agent CPU, {samples} samples",
        mean_wall.as_secs_f64(),
        cpu_per_round.as_secs_f64()
    ));
    say(&format!(
        "  fast profile (10 s): the agent's core is busy {:.0} % of the interval",
        cpu_per_round.as_secs_f64() / 10.0 * 100.0
    ));
    for fleet in fleets {
        sim.block_on(fleet.shutdown());
    }
}
