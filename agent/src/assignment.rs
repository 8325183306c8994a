//! What an enrolled agent without a fleet file polls: the devices the server assigns it
//! (`telemetry::assignment`), fetched at start and then every `assignment_interval`, applied
//! without a restart.
//!
//! - `fetch.rs`: `GET /api/agent/v1/assignment` with `If-None-Match`, over the client
//!   certificate.
//! - `cache.rs`: the last assignment on disk, in the identity directory (0600, written
//!   atomically), so an agent restarted while the server is unreachable polls what it had.
//! - `apply.rs`: the running pollers, keyed by inventory id; a new assignment stops the pollers
//!   of removed or changed devices and starts the new ones, while the sealer, the buffer and the
//!   sender go on.
//!
//! Samples name devices by inventory id (`DeviceRef::Id`). A device the agent cannot poll (the
//! server listed a problem, or a setting is unusable) is skipped and logged as a warning, once
//! per revision; it is not written as down, since nothing says the device is.
//!
//! Every assigned device with an IP address also gets a reachability probe at the fast
//! interval ([`reachability`]): ICMP echo to its management address (loss, RTT and jitter), or,
//! where the agent may open no ICMP socket, a TCP connect to a RouterOS device's API port. It
//! runs even when the device cannot be polled (a missing login does not make it unreachable).
//! The probes defined on the device's page (`AssignedDevice::probes`, [`probe`]) run beside it,
//! from the POP, with their own interval and timeout.

pub mod apply;
pub mod cache;
pub mod fetch;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use routeros::ClientConfig;
use secrecy::SecretString;
use telemetry::assignment::{AssignedDevice, AssignedProbe, Assignment, SnmpSettings};
use telemetry::DeviceRef;
use tokio_util::sync::CancellationToken;

use crate::fleet::{pin_dir_or_web_pki, FleetOptions};
use crate::link::Link;
use crate::poll::Target;
use crate::probe::{Check, Probe};
use crate::snmp::{SnmpTarget, SNMP_PORT};
use crate::stats::{AssignmentSeen, Stats};
use apply::Pollers;
use fetch::Fetched;

/// Where and how often the assignment is fetched.
#[derive(Debug, Clone)]
pub struct FromServer {
    /// The agent listener's base URL.
    pub server_url: String,
    /// The identity directory, which holds the cache.
    pub identity_dir: PathBuf,
    pub interval: Duration,
    pub options: FleetOptions,
}

/// A device as the agent polls it.
#[derive(Debug)]
pub enum Polled {
    Router(Target),
    Snmp(SnmpTarget),
}

/// What polls `device`, or why it cannot be polled.
pub fn target(device: &AssignedDevice, options: &FleetOptions) -> Result<Polled, String> {
    let why = |fallback: &str| match device.problems.as_slice() {
        [] => fallback.to_owned(),
        problems => problems.join("; "),
    };
    let interval = match device.polling.as_str() {
        "fast" => options.intervals.fast,
        "medium" => options.intervals.medium,
        "slow" => options.intervals.slow,
        other => return Err(format!("polling {other:?} is not fast, medium or slow")),
    };
    let reference = DeviceRef::Id(device.id);
    if device.vendor == "mikrotik" {
        let login = device
            .routeros
            .as_ref()
            .ok_or_else(|| why("no RouterOS login"))?;
        let mut client = ClientConfig::new(
            device.address.clone(),
            login.username.clone(),
            login.password.expose(),
        );
        client.port = device.api_port;
        client.connect_timeout = options.connect_timeout;
        client.request_timeout = options.request_timeout;
        // A REST port on the device means: poll over RouterOS v7's REST API (HTTPS).
        if let Some(port) = device.rest_port {
            client.transport = routeros::Transport::Rest;
            client.port = port;
        }
        if device.api_tls || device.rest_port.is_some() {
            client.tls = Some(pin_dir_or_web_pki(&device.name, options));
        }
        return Ok(Polled::Router(Target {
            name: device.name.clone(),
            device: reference,
            client,
            interval,
            facts_interval: options.intervals.slow.max(interval),
        }));
    }
    let snmp = device
        .snmp
        .as_ref()
        .ok_or_else(|| why("no SNMP settings"))?;
    let secret = |s: &telemetry::assignment::Secret| SecretString::from(s.expose().to_owned());
    let auth = match snmp {
        SnmpSettings::V2c { community } => crate::snmp::auth_from(
            "v2c",
            Some(secret(community)),
            None,
            (None, None),
            (None, None),
        ),
        SnmpSettings::V3 {
            user,
            auth_protocol,
            auth_password,
            privacy,
        } => crate::snmp::auth_from(
            "v3",
            None,
            Some(user.clone()),
            (Some(auth_protocol.clone()), Some(secret(auth_password))),
            match privacy {
                Some(p) => (Some(p.protocol.clone()), Some(secret(&p.password))),
                None => (None, None),
            },
        ),
    }
    .map_err(|e| format!("SNMP settings: {e:#}"))?;
    Ok(Polled::Snmp(SnmpTarget {
        name: device.name.clone(),
        device: reference,
        host: device.address.clone(),
        port: SNMP_PORT,
        auth,
        interval,
        timeout: Duration::from_secs(2),
    }))
}

/// The reachability probe of `device`, every fast interval: ICMP echo to its management address
/// when `icmp` (the agent can open an ICMP socket), else a TCP connect to a RouterOS device's
/// API port; none for an SNMP device without ICMP (UDP has no connect to time) or an address
/// that is not an IP address.
pub fn reachability(device: &AssignedDevice, icmp: bool, options: &FleetOptions) -> Option<Probe> {
    let ip: IpAddr = device.address.parse().ok()?;
    let check = if icmp {
        Check::Icmp(ip)
    } else if device.vendor == "mikrotik" {
        Check::Tcp(SocketAddr::new(ip, device.api_port).to_string())
    } else {
        return None;
    };
    Some(Probe {
        device: DeviceRef::Id(device.id),
        check,
        interval: options.intervals.fast,
        timeout: Duration::from_secs(2),
    })
}

/// A probe defined on `device`'s page, as the agent runs it, or why it cannot run (a kind or
/// target this agent's version does not read, an interval or timeout out of range).
pub fn probe(device: &AssignedDevice, p: &AssignedProbe) -> Result<Probe, String> {
    let check = Check::parse(&p.kind, &p.target)?;
    if p.interval_s == 0 {
        return Err("an interval of 0 s".to_owned());
    }
    if p.timeout_ms == 0 {
        return Err("a timeout of 0 ms".to_owned());
    }
    Ok(Probe {
        device: DeviceRef::Id(device.id),
        check,
        interval: Duration::from_secs(u64::from(p.interval_s)),
        timeout: Duration::from_millis(u64::from(p.timeout_ms)),
    })
}

/// Polls what the server assigns until `cancel`: the cached assignment at once if there is
/// one, then the server's, fetched every `config.interval` (the first time at once). A fetch
/// that fails is logged (a warning when fetches start failing, an error when the agent is
/// refused, then debug) and the pollers go on with what they have.
pub async fn run(
    config: FromServer,
    link: Arc<Link>,
    mut pollers: Pollers,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) {
    let mut current: Option<String> = None;
    match cache::load(&config.identity_dir) {
        Ok(Some(cached)) => {
            tracing::info!(revision = %cached.revision, devices = cached.devices.len(), "polling the cached assignment until the server answers");
            stats.set_assignment(AssignmentSeen {
                revision: cached.revision.clone(),
                fetched_at_ms: None,
            });
            pollers.apply(&cached, &config.options);
            current = Some(cached.revision);
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "the cached assignment is unreadable; waiting for the server's")
        }
    }
    let mut every = tokio::time::interval(config.interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = every.tick() => {}
        }
        let client = link.client();
        let fetched = tokio::select! {
            () = cancel.cancelled() => break,
            fetched = fetch::fetch(&client, &config.server_url, current.as_deref()) => fetched,
        };
        match fetched {
            Ok(fetched) => {
                if failing {
                    failing = false;
                    tracing::info!("the server answers the assignment requests again");
                }
                match fetched {
                    Fetched::Unchanged => stats.mark_assignment_fetched(),
                    Fetched::New(assignment) => {
                        receive(&config, &assignment, &mut pollers, &stats);
                        current = Some(assignment.revision);
                    }
                }
            }
            Err(e) if !failing => {
                failing = true;
                let refused = e
                    .downcast_ref::<crate::link::Refused>()
                    .is_some_and(|r| r.status == 403);
                if refused {
                    tracing::error!(error = %format!("{e:#}"), "the server refuses the agent's assignment request; polling the last assignment");
                } else {
                    tracing::warn!(error = %format!("{e:#}"), "fetching the assignment failed; polling the last one, retrying every interval");
                }
            }
            Err(e) => tracing::debug!(error = %format!("{e:#}"), "fetching the assignment failed"),
        }
    }
    // Dropping the pollers' sender lets the sealer finish once their tasks have ended.
    drop(pollers);
}

/// A new assignment: cached, applied, its skipped devices logged.
fn receive(config: &FromServer, assignment: &Assignment, pollers: &mut Pollers, stats: &Stats) {
    if let Err(e) = cache::save(&config.identity_dir, assignment) {
        tracing::warn!(error = %format!("{e:#}"), "could not cache the assignment; a restart without the server polls the older one");
    }
    let applied = pollers.apply(assignment, &config.options);
    for (id, reason) in &applied.skipped {
        tracing::warn!(device.id = id, reason = %reason, "assigned device not polled");
    }
    for (device, probe, reason) in &applied.skipped_probes {
        tracing::warn!(device.id = device, probe.id = probe, reason = %reason, "assigned probe not run");
    }
    tracing::info!(
        revision = %assignment.revision,
        sites = %assignment.sites.join(","),
        devices = assignment.devices.len(),
        started = applied.started.len(),
        stopped = applied.stopped.len(),
        skipped = applied.skipped.len(),
        "new assignment applied"
    );
    stats.set_assignment(AssignmentSeen {
        revision: assignment.revision.clone(),
        fetched_at_ms: Some(crate::poll::now().0),
    });
}
