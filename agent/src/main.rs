//! The `ispvm-agent` binary: reads its settings, then polls and forwards until SIGINT or
//! SIGTERM, sealing what it already collected before it exits; or, as `ispvm-agent enroll`,
//! enrolls the agent with a one-time token.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use agent::assignment::FromServer;
use agent::config::{Args, Command, EnrollSettings, Invocation, Settings};
use agent::fleet::{self, FleetOptions};
use agent::identity::renewal::{self, Renewal};
use agent::identity::Identity;
use agent::link::Link;
use agent::poll::Poller;
use agent::queue::{Caps, Queue};
use agent::run::{self, Enrolled, FleetSource};
use agent::seal::SealConfig;
use agent::send::{Policy, Push};
use agent::stats::Stats;
use anyhow::Context;
use clap::Parser;
use routeros::session::breaker::BackoffPolicy;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let invocation = match args.command {
        Some(Command::Enroll) => match Invocation::from_args(args) {
            Ok(invocation) => invocation,
            Err(e) => return enroll_failed(&e),
        },
        None => Invocation::from_args(args)?,
    };
    let log_level = match &invocation {
        Invocation::Run(settings) => &settings.log_level,
        Invocation::Enroll(settings) => &settings.log_level,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(log_level)
                .context("LOG_LEVEL is not a valid filter")?,
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match invocation {
        Invocation::Run(settings) => runtime
            .block_on(start(*settings))
            .map(|()| ExitCode::SUCCESS),
        // One line for the operator, whatever failed.
        Invocation::Enroll(settings) => match runtime.block_on(enroll(settings)) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => enroll_failed(&e),
        },
    }
}

/// The enroll command's errors, settings included, are one line for the operator.
fn enroll_failed(e: &anyhow::Error) -> anyhow::Result<ExitCode> {
    writeln!(std::io::stderr().lock(), "ispvm-agent enroll: {e:#}")?;
    Ok(ExitCode::FAILURE)
}

/// `ispvm-agent enroll`: refuses when already enrolled (a second enrollment would make a new
/// agent on the server and orphan this one), else enrolls and says who the agent is.
async fn enroll(settings: EnrollSettings) -> anyhow::Result<()> {
    let dir = &settings.identity_dir;
    if let Some(existing) = Identity::load(dir)? {
        anyhow::bail!(
            "already enrolled as {} ({}) in {}: to enroll again, remove that directory first",
            existing.name,
            existing.agent_id,
            dir.display()
        );
    }
    let identity =
        agent::identity::enroll(&settings.server_url, &settings.token, run::VERSION, dir).await?;
    let expires = identity
        .not_after
        .to_datetime()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{} ms", identity.not_after.0));
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "enrolled as {}", identity.name)?;
    writeln!(stdout, "agent id: {}", identity.agent_id)?;
    writeln!(
        stdout,
        "certificate valid until {expires} (renewed automatically)"
    )?;
    writeln!(stdout, "identity saved in {}", dir.display())?;
    Ok(())
}

/// How run mode reaches the server: over mTLS with the enrolled identity in the identity
/// directory, else with the bearer token.
fn connect(settings: &Settings) -> anyhow::Result<(Push, Option<Enrolled>)> {
    let policy = Policy::DEFAULT;
    let Some(identity) = Identity::load(&settings.identity_dir)? else {
        let (url, token) = settings.bearer()?;
        let link = Link::bearer(token, policy.timeout)?;
        let push = Push {
            url,
            link: Arc::new(link),
            policy,
        };
        return Ok((push, None));
    };
    let server_url = settings.enrolled_server_url(&identity.server_url)?;
    if settings.token.is_some() {
        tracing::warn!("the agent is enrolled: ISPVM_AGENT_TOKEN is not used");
    }
    let push = Push {
        url: format!("{server_url}{}", telemetry::INGEST_PATH),
        link: Arc::new(Link::for_identity(&identity, policy.timeout)?),
        policy,
    };
    tracing::info!(agent.id = %identity.agent_id, agent = %identity.name, certificate_not_after = identity.not_after.0, identity = %settings.identity_dir.display(), "enrolled: pushing with the client certificate");
    let enrolled = Enrolled {
        identity,
        renewal: Renewal {
            dir: settings.identity_dir.clone(),
            server_url,
            check_every: renewal::CHECK_EVERY,
            retry_initial: renewal::RETRY_INITIAL,
            timeout: policy.timeout,
        },
        status_report_interval: agent::status::report::INTERVAL,
    };
    Ok((push, Some(enrolled)))
}

async fn start(settings: Settings) -> anyhow::Result<()> {
    let options = FleetOptions::from_settings(&settings);
    let file = match &settings.fleet {
        Some(path) => {
            let fleet = fleet::load(path, &options)?;
            tracing::info!(routers = fleet.targets.len(), snmp_devices = fleet.snmp.len(), probes = fleet.probes.len(), fleet = %path.display(), "fleet loaded");
            Some(fleet)
        }
        None => None,
    };
    if settings.once {
        return once(file.context("--once needs a fleet file: set ISPVM_AGENT_FLEET or --fleet")?)
            .await;
    }
    let (push, enrolled) = connect(&settings)?;
    let source = match (file, &enrolled) {
        (Some(fleet), _) => FleetSource::File(fleet),
        (None, Some(enrolled)) => {
            tracing::info!(identity = %settings.identity_dir.display(), interval_s = settings.assignment_interval.as_secs(), "no fleet file: polling the devices the server assigns");
            FleetSource::Server(FromServer {
                server_url: enrolled.renewal.server_url.clone(),
                identity_dir: settings.identity_dir.clone(),
                interval: settings.assignment_interval,
                options,
            })
        }
        (None, None) => anyhow::bail!(
            "no fleet file: set ISPVM_AGENT_FLEET or --fleet, or enroll the agent \
             (`ispvm-agent enroll`) to poll the devices the server assigns it"
        ),
    };
    // An enrolled agent is named by the server.
    let name = match &enrolled {
        Some(enrolled) => enrolled.identity.name.clone(),
        None => settings.name.clone(),
    };
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
        agent: run::agent_info(&name),
        max_samples: settings.batch_max_samples,
        max_delay: settings.batch_max_delay,
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
            name.clone(),
            queue.clone(),
            stats.clone(),
            cancel.clone(),
        ));
    }
    tracing::info!(
        agent = %name,
        server = %push.url,
        buffer = %settings.buffer_dir.display(),
        max_buffer_bytes = settings.max_buffer_bytes,
        max_buffer_age_s = settings.max_buffer_age.as_secs(),
        "agent started"
    );
    run::run(
        source,
        seal,
        push,
        enrolled,
        queue,
        settings.max_concurrent_polls,
        stats,
        cancel,
    )
    .await?;
    tracing::info!("agent stopped");
    Ok(())
}

/// `--once`: every router and SNMP device polled and every probe run once, concurrently; samples,
/// then events, to stdout as JSON lines.
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
    let mut events = Vec::new();
    let routers = results.into_iter().map(|r| {
        events.extend(r.events);
        r.samples
    });
    for sample in routers
        .collect::<Vec<_>>()
        .into_iter()
        .chain(snmp)
        .chain(probed)
        .flatten()
    {
        serde_json::to_writer(&mut stdout, &sample)?;
        stdout.write_all(b"\n")?;
    }
    for event in events {
        serde_json::to_writer(&mut stdout, &event)?;
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
