//! `ispvm-sim`: serves the routers of a fleet file over the RouterOS API (and, with
//! `--rest-port`, the v7 routers' REST API) until interrupted.
//!
//! This binary is the simulator's only reader of the command line and environment.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;
use routeros::sim::{control, Fleet, FleetOptions, Topology};
use tokio_util::sync::CancellationToken;

/// Simulated MikroTik routers that speak the RouterOS API (and API-SSL).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The fleet file (`[[device]]`, `[[link]]`, optional `[credential]`).
    #[arg(
        long,
        env = "ISPVM_SIM_TOPOLOGY",
        default_value = "server/demo/isp.toml"
    )]
    topology: PathBuf,
    /// Varies all generated data; the same seed gives the same fleet.
    #[arg(long, env = "ISPVM_SIM_SEED", default_value_t = 1)]
    seed: u64,
    /// Listen on this address instead of each device's management address.
    #[arg(long, env = "ISPVM_SIM_BIND")]
    bind: Option<IpAddr>,
    /// Listen on this port instead of each device's API port (0: a free port per router).
    #[arg(long, env = "ISPVM_SIM_PORT")]
    port: Option<u16>,
    /// Also serve the REST API over HTTPS on every RouterOS v7 router, on this port of its
    /// address (0: a free port per router).
    #[arg(long, env = "ISPVM_SIM_REST_PORT")]
    rest_port: Option<u16>,
    /// API user, instead of the file's `[credential]`.
    #[arg(long, env = "ISPVM_SIM_USERNAME", requires = "password")]
    username: Option<String>,
    /// API password, instead of the file's `[credential]`.
    #[arg(
        long,
        env = "ISPVM_SIM_PASSWORD",
        requires = "username",
        hide_env_values = true
    )]
    password: Option<String>,
    /// Once every router listens, write `name address:port tls|plain version` lines here.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Faults to play, one per line, e.g. `+5m link-down vie-grz-fibre-a 10m` (see
    /// `routeros::sim::fault`); times are relative to the start.
    #[arg(long, env = "ISPVM_SIM_SCENARIO")]
    scenario: Option<PathBuf>,
    /// Listen here for fault commands (one per line: a fault, `list` or `clear`).
    #[arg(long, env = "ISPVM_SIM_CONTROL")]
    control: Option<SocketAddr>,
    /// Write each API-SSL router's self-signed certificate here as `<name>.der`, for clients
    /// to trust or pin.
    #[arg(long)]
    cert_dir: Option<PathBuf>,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log_level))
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let topology = Topology::load(&args.topology).map_err(|e| e.to_string())?;
    let options = FleetOptions {
        seed: args.seed,
        credential: args.username.zip(args.password),
        bind: args.bind,
        port: args.port,
        rest_port: args.rest_port,
    };
    let fleet = Fleet::start(&topology, &options)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.scenario {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let count = fleet
            .faults()
            .apply_scenario(&text, control::now_ms())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tracing::info!(faults = count, scenario = %path.display(), "scenario loaded");
    }
    let stop_control = CancellationToken::new();
    let control_task = match args.control {
        None => None,
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("control port {address}: {e}"))?;
            tracing::info!(%address, "fault control port listening");
            Some(tokio::spawn(control::serve(
                listener,
                fleet.faults().clone(),
                stop_control.clone(),
            )))
        }
    };
    if let Some(dir) = &args.cert_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        for router in fleet.routers() {
            if let Some(cert) = &router.certificate {
                let path = dir.join(format!("{}.der", router.name));
                std::fs::write(&path, cert.as_ref())
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
            }
        }
    }
    // Last, so that a watcher of the ready file finds the certificates in place.
    if let Some(path) = &args.ready_file {
        let mut lines = Vec::new();
        for router in fleet.routers() {
            let tls = if router.certificate.is_some() {
                "tls"
            } else {
                "plain"
            };
            writeln!(
                lines,
                "{} {} {tls} {}",
                router.name, router.address, router.version
            )
            .map_err(|e| e.to_string())?;
        }
        // Written whole under a temporary name and renamed, so a watcher never reads half.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, lines)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    tracing::info!(routers = fleet.routers().len(), "simulator ready");
    wait_for_signal().await?;
    tracing::info!("stopping");
    stop_control.cancel();
    if let Some(task) = control_task {
        drop(task.await);
    }
    fleet.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM (how scripts stop background processes).
async fn wait_for_signal() -> Result<(), String> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("installing the SIGTERM handler: {e}"))?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(|e| e.to_string()),
        _ = term.recv() => Ok(()),
    }
}
