//! The agent's settings: the only module that reads the command line, the environment and the
//! settings file. Precedence: command line, then environment, then the TOML file
//! (`--config` / `ISPVM_AGENT_CONFIG`), then defaults. Secrets (the ingest token, the routers'
//! password, the enrollment token) come from the environment or a `*_FILE`, never from the
//! command line (it shows in `ps`), and are never logged (`SecretString` prints as redacted).
//!
//! Two commands: `ispvm-agent` polls and pushes ([`Settings`]), `ispvm-agent enroll` enrolls
//! the agent with a one-time token ([`EnrollSettings`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use serde::Deserialize;

mod enroll;

pub use enroll::EnrollSettings;

/// Polls MikroTik routers over the RouterOS API and forwards the samples to an ISPVM server,
/// buffered on disk.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "ispvm-agent", version)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A TOML settings file (keys as the long options, in snake_case).
    #[arg(long, env = "ISPVM_AGENT_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The ISPVM server's base URL, e.g. https://ispvm.example.net (an enrolled agent: its
    /// agent address, by default the one it enrolled at).
    #[arg(long, env = "ISPVM_AGENT_SERVER_URL", global = true)]
    pub server_url: Option<String>,
    /// Where the enrolled agent's key, certificate and CA are kept.
    #[arg(long, env = "ISPVM_AGENT_IDENTITY_DIR", global = true)]
    pub identity_dir: Option<PathBuf>,
    /// The agent's name as enrolled on the server (sent with every batch).
    #[arg(long, env = "ISPVM_AGENT_NAME")]
    pub name: Option<String>,
    /// The routers to poll: `[[device]]` entries and a `[credential]`, as server/demo/isp.toml.
    /// Without it, an enrolled agent polls what the server assigns it.
    #[arg(long, env = "ISPVM_AGENT_FLEET")]
    pub fleet: Option<PathBuf>,
    /// How often an enrolled agent without a fleet file asks the server for its devices
    /// (`60s`).
    #[arg(long, env = "ISPVM_AGENT_ASSIGNMENT_INTERVAL")]
    pub assignment_interval: Option<String>,
    /// Where unsent batches are kept.
    #[arg(long, env = "ISPVM_AGENT_BUFFER_DIR")]
    pub buffer_dir: Option<PathBuf>,
    /// The buffer's size cap (`2GiB`, `500MB`, bytes); over it the oldest batches are dropped.
    #[arg(long, env = "ISPVM_AGENT_MAX_BUFFER_SIZE")]
    pub max_buffer_size: Option<String>,
    /// The buffer's age cap (`72h`, `3d`); older unsent batches are dropped.
    #[arg(long, env = "ISPVM_AGENT_MAX_BUFFER_AGE")]
    pub max_buffer_age: Option<String>,
    /// Interval of routers with `polling = "fast"` (`10s`).
    #[arg(long, env = "ISPVM_AGENT_FAST_INTERVAL")]
    pub fast_interval: Option<String>,
    /// Interval of routers with `polling = "medium"`, the default (`60s`).
    #[arg(long, env = "ISPVM_AGENT_MEDIUM_INTERVAL")]
    pub medium_interval: Option<String>,
    /// Interval of routers with `polling = "slow"` (`300s`).
    #[arg(long, env = "ISPVM_AGENT_SLOW_INTERVAL")]
    pub slow_interval: Option<String>,
    /// At most this many routers are polled at once.
    #[arg(long, env = "ISPVM_AGENT_MAX_CONCURRENT_POLLS")]
    pub max_concurrent_polls: Option<usize>,
    /// A batch is sealed after this long at the latest (`10s`).
    #[arg(long, env = "ISPVM_AGENT_BATCH_MAX_DELAY")]
    pub batch_max_delay: Option<String>,
    /// API-SSL certificates to pin: `<device name>.der` files (as `ispvm-sim --cert-dir` writes).
    #[arg(long, env = "ISPVM_AGENT_TLS_PIN_DIR")]
    pub tls_pin_dir: Option<PathBuf>,
    /// The local status endpoint (`GET /status`): `host:port`, or `off`.
    #[arg(long, env = "ISPVM_AGENT_STATUS_ADDR")]
    pub status_addr: Option<String>,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
    /// Poll every router once, write the samples to stdout as JSON lines, and exit (no server
    /// needed): to check credentials and reachability from a POP.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Enroll this agent with a one-time token from the server's Agents page, given in
    /// ISPVM_AGENT_ENROLL_TOKEN or ISPVM_AGENT_ENROLL_TOKEN_FILE (never on the command line),
    /// and keep its key and certificate in the identity directory.
    Enroll,
}

/// The settings file: the same keys as the long options, plus the secrets' `*_file` paths.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server_url: Option<String>,
    identity_dir: Option<PathBuf>,
    name: Option<String>,
    fleet: Option<PathBuf>,
    assignment_interval: Option<String>,
    buffer_dir: Option<PathBuf>,
    max_buffer_size: Option<String>,
    max_buffer_age: Option<String>,
    fast_interval: Option<String>,
    medium_interval: Option<String>,
    slow_interval: Option<String>,
    max_concurrent_polls: Option<usize>,
    batch_max_delay: Option<String>,
    tls_pin_dir: Option<PathBuf>,
    status_addr: Option<String>,
    log_level: Option<String>,
    token_file: Option<PathBuf>,
    router_password_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub fast: Duration,
    pub medium: Duration,
    pub slow: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Required unless `--once` or enrolled (an enrolled agent uses the URL it enrolled at).
    pub server_url: Option<String>,
    /// The ingest bearer token; required unless `--once` or enrolled.
    pub token: Option<SecretString>,
    pub identity_dir: PathBuf,
    pub name: String,
    /// The fleet file; `None`: an enrolled agent's devices come from the server.
    pub fleet: Option<PathBuf>,
    /// How often the server's assignment is fetched (when there is no fleet file).
    pub assignment_interval: Duration,
    pub buffer_dir: PathBuf,
    pub max_buffer_bytes: u64,
    pub max_buffer_age: Duration,
    pub intervals: Intervals,
    pub max_concurrent_polls: usize,
    pub batch_max_delay: Duration,
    pub batch_max_samples: usize,
    pub tls_pin_dir: Option<PathBuf>,
    /// Overrides the fleet file's `[credential]` password.
    pub router_password: Option<SecretString>,
    /// `None` when turned off.
    pub status_addr: Option<std::net::SocketAddr>,
    pub log_level: String,
    pub once: bool,
}

/// 2 GiB: at the demo fleet's rate (docs/agent.md) this holds about 13 days, well over the
/// 72 hours the agent must bridge.
pub const DEFAULT_MAX_BUFFER_BYTES: u64 = 2 << 30;

/// Local only by default: the status tells the buffer's state, not for the whole network.
pub const DEFAULT_STATUS_ADDR: &str = "127.0.0.1:9108";

pub const DEFAULT_IDENTITY_DIR: &str = "/var/lib/ispvm-agent/identity";

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Poll and push (or `--once`).
    Run(Box<Settings>),
    /// `ispvm-agent enroll`.
    Enroll(EnrollSettings),
}

impl Invocation {
    /// Reads the process's command line and environment.
    pub fn from_process() -> anyhow::Result<Self> {
        Self::from_args(Args::parse())
    }

    /// Resolves `args` (as clap read them from the process) with the process's environment.
    pub fn from_args(args: Args) -> anyhow::Result<Self> {
        Self::resolve(args, &|name| std::env::var(name).ok())
    }

    /// Resolves `args` (command line and environment, as clap read them), the file they name,
    /// and the secrets, read through `env` (tests pass a map).
    pub fn resolve(args: Args, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        match args.command {
            None => Settings::resolve(args, env).map(|s| Invocation::Run(Box::new(s))),
            Some(Command::Enroll) => EnrollSettings::resolve(args, env).map(Invocation::Enroll),
        }
    }
}

fn read_file(path: Option<&Path>) -> anyhow::Result<File> {
    let Some(path) = path else {
        return Ok(File::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str::<File>(&text).with_context(|| format!("parsing {}", path.display()))
}

fn identity_dir(cli: Option<PathBuf>, file: Option<PathBuf>) -> PathBuf {
    cli.or(file)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_IDENTITY_DIR))
}

impl Settings {
    /// Resolves the run mode's settings (see [`Invocation::resolve`]). The server URL and the
    /// token are checked later ([`Settings::bearer`]): an enrolled agent needs neither.
    pub fn resolve(args: Args, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = read_file(args.config.as_deref())?;
        let token = secret(env, "ISPVM_AGENT_TOKEN", file.token_file.as_deref())?;
        let router_password = secret(
            env,
            "ISPVM_AGENT_ROUTER_PASSWORD",
            file.router_password_file.as_deref(),
        )?;
        let interval = |cli: Option<String>, file: Option<String>, default: &str, what: &str| {
            let text = cli.or(file).unwrap_or_else(|| default.to_owned());
            parse_duration(&text).with_context(|| format!("{what} {text:?}"))
        };
        let intervals = Intervals {
            fast: interval(
                args.fast_interval,
                file.fast_interval,
                "10s",
                "fast interval",
            )?,
            medium: interval(
                args.medium_interval,
                file.medium_interval,
                "60s",
                "medium interval",
            )?,
            slow: interval(
                args.slow_interval,
                file.slow_interval,
                "300s",
                "slow interval",
            )?,
        };
        let batch_max_delay = interval(
            args.batch_max_delay,
            file.batch_max_delay,
            "10s",
            "batch max delay",
        )?;
        let max_buffer_bytes = match args.max_buffer_size.or(file.max_buffer_size) {
            Some(text) => parse_size(&text).with_context(|| format!("buffer size {text:?}"))?,
            None => DEFAULT_MAX_BUFFER_BYTES,
        };
        let max_buffer_age = interval(
            args.max_buffer_age,
            file.max_buffer_age,
            "72h",
            "buffer age cap",
        )?;
        let status_addr = match args
            .status_addr
            .or(file.status_addr)
            .unwrap_or_else(|| DEFAULT_STATUS_ADDR.to_owned())
            .trim()
        {
            "off" => None,
            text => Some(text.parse().with_context(|| {
                format!("status address {text:?}: expected host:port (e.g. 127.0.0.1:9108) or off")
            })?),
        };
        let server_url = args.server_url.or(file.server_url);
        if let (false, Some(url)) = (args.once, &server_url) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("server URL {url:?} must start with https:// (or http:// on a trusted link)");
            }
        }
        let assignment_interval = interval(
            args.assignment_interval,
            file.assignment_interval,
            "60s",
            "assignment interval",
        )?;
        let fleet = args.fleet.or(file.fleet);
        if args.once && fleet.is_none() {
            bail!("--once needs a fleet file: set ISPVM_AGENT_FLEET or --fleet");
        }
        Ok(Self {
            server_url,
            token,
            identity_dir: identity_dir(args.identity_dir, file.identity_dir),
            name: args
                .name
                .or(file.name)
                .unwrap_or_else(|| "ispvm-agent".to_owned()),
            fleet,
            assignment_interval,
            buffer_dir: args
                .buffer_dir
                .or(file.buffer_dir)
                .unwrap_or_else(|| PathBuf::from("/var/lib/ispvm-agent")),
            max_buffer_bytes,
            max_buffer_age,
            intervals,
            max_concurrent_polls: args
                .max_concurrent_polls
                .or(file.max_concurrent_polls)
                .unwrap_or(16)
                .max(1),
            batch_max_delay,
            batch_max_samples: 10_000,
            tls_pin_dir: args.tls_pin_dir.or(file.tls_pin_dir),
            router_password,
            status_addr,
            log_level: args
                .log_level
                .or(file.log_level)
                .unwrap_or_else(|| "info".to_owned()),
            once: args.once,
        })
    }

    /// The ingest URL.
    pub fn ingest_url(&self) -> Option<String> {
        self.server_url
            .as_ref()
            .map(|base| format!("{}{}", base.trim_end_matches('/'), telemetry::INGEST_PATH))
    }

    /// The ingest URL and token of an agent that is not enrolled.
    pub fn bearer(&self) -> anyhow::Result<(String, SecretString)> {
        let url = self.ingest_url().context(
            "no server URL: set ISPVM_AGENT_SERVER_URL or --server-url (or enroll the agent: \
             `ispvm-agent enroll`)",
        )?;
        let token = self.token.clone().context(
            "no ingest token: set ISPVM_AGENT_TOKEN or ISPVM_AGENT_TOKEN_FILE, or enroll the \
             agent (`ispvm-agent enroll`)",
        )?;
        Ok((url, token))
    }

    /// The base URL of an enrolled agent: the setting, else `enrolled_at`; `https://` only,
    /// since the client certificate needs TLS.
    pub fn enrolled_server_url(&self, enrolled_at: &str) -> anyhow::Result<String> {
        let url = self
            .server_url
            .as_deref()
            .unwrap_or(enrolled_at)
            .trim_end_matches('/');
        if !url.starts_with("https://") {
            bail!("server URL {url:?} must start with https://: an enrolled agent pushes with its client certificate, over TLS");
        }
        Ok(url.to_owned())
    }
}

/// `NAME` from the environment, or the file named by `NAME_FILE` (from the environment, else
/// the settings file's `*_file`), trimmed of trailing newlines; as for the server, `NAME` and
/// `NAME_FILE` together are an error, and an empty value counts as unset.
fn secret(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    file_from_settings: Option<&Path>,
) -> anyhow::Result<Option<SecretString>> {
    let direct = env(name).filter(|v| !v.trim().is_empty());
    let file = env(&format!("{name}_FILE")).filter(|v| !v.trim().is_empty());
    if direct.is_some() && file.is_some() {
        bail!("set {name} or {name}_FILE, not both");
    }
    if let Some(value) = direct {
        return Ok(Some(SecretString::from(value)));
    }
    let path = file
        .map(PathBuf::from)
        .or_else(|| file_from_settings.map(Path::to_owned));
    let Some(path) = path else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {name}_FILE {}", path.display()))?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        bail!("{name}_FILE {} is empty", path.display());
    }
    Ok(Some(SecretString::from(value.to_owned())))
}

/// `500ms`, `10s`, `5m`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let value: f64 = number.trim().parse().context("not a number")?;
    let seconds = match unit {
        "ms" => value / 1_000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3_600.0,
        "d" => value * 86_400.0,
        _ => bail!("unknown unit {unit:?} (ms, s, m, h, d)"),
    };
    if !seconds.is_finite() || seconds <= 0.0 {
        bail!("must be positive");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `2GiB`, `500MiB`, `1GB`, `1048576`.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let value: f64 = number.trim().parse().context("not a number")?;
    let multiplier: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("unknown unit {other:?} (B, MB, GB, MiB, GiB)"),
    };
    let bytes = value * multiplier;
    if !bytes.is_finite() || bytes < 1.0 {
        bail!("must be positive");
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests;
