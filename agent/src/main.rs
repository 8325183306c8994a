//! The `ispvm-agent` binary: reads its settings, then polls and forwards until SIGINT or
//! SIGTERM, sealing what it already collected before it exits.

use std::io::Write;
use std::sync::Arc;

use agent::config::Settings;
use agent::fleet::{self, FleetOptions};
use agent::poll::Poller;
use agent::queue::{Caps, Queue};
use agent::run;
use agent::seal::SealConfig;
use agent::send::SendConfig;
use agent::stats::Stats;
use anyhow::Context;
use routeros::session::breaker::BackoffPolicy;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&settings.log_level)
                .context("LOG_LEVEL is not a valid filter")?,
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(start(settings))
}

async fn start(settings: Settings) -> anyhow::Result<()> {
    let fleet = fleet::load(&settings.fleet, &FleetOptions::from_settings(&settings))?;
    tracing::info!(routers = fleet.targets.len(), snmp_devices = fleet.snmp.len(), probes = fleet.probes.len(), fleet = %settings.fleet.display(), "fleet loaded");
    if settings.once {
        return once(fleet).await;
    }
    let queue = Arc::new(
        Queue::open(
            &settings.buffer_dir,
            Caps {
                max_bytes: settings.max_buffer_bytes,
                max_age: settings.max_buffer_age,
            },
        )
        .context("opening the buffer")?,
    );
    let seal = SealConfig {
        agent: run::agent_info(&settings.name),
        max_samples: settings.batch_max_samples,
        max_delay: settings.batch_max_delay,
    };
    let send = SendConfig {
        url: settings.ingest_url().context("no server URL")?,
        token: settings.token.clone().context("no ingest token")?,
        backoff_initial: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        retry_after_max: Duration::from_secs(300),
        timeout: Duration::from_secs(30),
    };
    let cancel = CancellationToken::new();
    tokio::spawn(shutdown_on_signal(cancel.clone()));
    let stats = Arc::new(Stats::default());
    if let Some(addr) = settings.status_addr {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("status endpoint: cannot listen on {addr} (ISPVM_AGENT_STATUS_ADDR)")
        })?;
        tracing::info!(address = %listener.local_addr()?, "status endpoint at GET /status");
        tokio::spawn(agent::status::serve(
            listener,
            settings.name.clone(),
            queue.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    tracing::info!(
        agent = %settings.name,
        server = %send.url,
        buffer = %settings.buffer_dir.display(),
        max_buffer_bytes = settings.max_buffer_bytes,
        max_buffer_age_s = settings.max_buffer_age.as_secs(),
        "agent started"
    );
    run::run(
        fleet,
        seal,
        send,
        queue,
        settings.max_concurrent_polls,
        stats,
        cancel,
    )
    .await?;
    tracing::info!("agent stopped");
    Ok(())
}

/// `--once`: every router and SNMP device polled and every probe run once, concurrently; samples to stdout as
/// JSON lines.
async fn once(fleet: fleet::Fleet) -> anyhow::Result<()> {
    let stats = Stats::default();
    let prober = agent::probe::Prober::new()?;
    let polls = fleet.targets.into_iter().map(|t| {
        let stats = &stats;
        async move {
            let mut poller = Poller::new(t, BackoffPolicy::default());
            poller.poll(agent::poll::now(), stats).await
        }
    });
    let snmp = fleet
        .snmp
        .iter()
        .map(|t| agent::snmp::poll(t, agent::poll::now(), &stats));
    let probes = fleet
        .probes
        .iter()
        .map(|p| prober.run(p, agent::poll::now()));
    let (results, snmp, probed) = futures_util::future::join3(
        futures_util::future::join_all(polls),
        futures_util::future::join_all(snmp),
        futures_util::future::join_all(probes),
    )
    .await;
    let mut stdout = std::io::stdout().lock();
    for sample in results.into_iter().chain(snmp).chain(probed).flatten() {
        serde_json::to_writer(&mut stdout, &sample)?;
        stdout.write_all(b"\n")?;
    }
    Ok(())
}

async fn shutdown_on_signal(cancel: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT: stopping"),
        () = terminate => tracing::info!("SIGTERM: stopping"),
    }
    cancel.cancel();
}
