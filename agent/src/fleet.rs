//! The routers to poll, from a TOML file in the demo fleet's format (server/demo/isp.toml):
//! `[[device]]` entries with `name`, `address`, `api_port`, `api_tls`, `polling` (`fast`,
//! `medium`, `slow`) and optionally `id` (the inventory id samples then carry instead of the
//! name), `tls_fingerprint` (SHA-256 of the router's API-SSL or REST certificate, hex),
//! `rest_port` (poll a RouterOS v7 router over its REST API on this HTTPS port instead) and
//! `vendor`
//! (devices of other vendors are skipped); and one `[credential]` with `username` and
//! `password` or `password_file`. `[[probe]]` entries add the agent's own probes: `device`
//! (whose series they are), `kind` (`icmp`, `tcp`, `http`), `target` (`10.0.0.1`,
//! `10.0.0.1:8291`, `https://portal.example/health`), optional `interval` (the fast interval)
//! and `timeout` (`2s`). A device of another vendor with a `[device.snmp]` table is polled over
//! SNMP: `version` (`v2c`, the default, or `v3`), `port` (161), `timeout` (`2s`), for v2c
//! `community`, for v3 `user`, `auth_protocol` (`sha`), `auth_password`, and for authPriv
//! `privacy_protocol` (`aes`) and `privacy_password`. Other tables and fields are ignored, so
//! the demo file works as it is.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use routeros::client::{API_PORT, API_SSL_PORT};
use routeros::tls::{Fingerprint, TlsConfig, Verification};
use routeros::ClientConfig;
use routeros::Transport;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use telemetry::DeviceRef;

use crate::config::{Intervals, Settings};
use crate::poll::Target;
use crate::probe::{Check, Probe};
use crate::snmp::{SnmpTarget, SNMP_PORT};

#[derive(Debug, Deserialize)]
struct FleetFile {
    credential: Option<Credential>,
    #[serde(default, rename = "device")]
    devices: Vec<Device>,
    #[serde(default, rename = "probe")]
    probes: Vec<ProbeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeEntry {
    device: String,
    kind: String,
    target: String,
    interval: Option<String>,
    timeout: Option<String>,
}

/// What the agent polls and probes.
#[derive(Debug)]
pub struct Fleet {
    /// RouterOS devices, polled over the API.
    pub targets: Vec<Target>,
    /// Other devices, polled over SNMP.
    pub snmp: Vec<SnmpTarget>,
    pub probes: Vec<Probe>,
}

impl Fleet {
    /// Only RouterOS devices, no SNMP devices and no probes.
    pub fn routers(targets: Vec<Target>) -> Self {
        Self {
            targets,
            snmp: Vec::new(),
            probes: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Credential {
    username: String,
    password: Option<SecretString>,
    password_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Deserialize)]
struct Device {
    name: String,
    id: Option<i64>,
    vendor: Option<String>,
    address: String,
    api_port: Option<u16>,
    #[serde(default)]
    api_tls: bool,
    rest_port: Option<u16>,
    polling: Option<String>,
    tls_fingerprint: Option<String>,
    snmp: Option<SnmpEntry>,
}

impl Device {
    fn is_mikrotik(&self) -> bool {
        self.vendor
            .as_deref()
            .is_none_or(|v| v.eq_ignore_ascii_case("mikrotik"))
    }

    fn interval(&self, options: &FleetOptions) -> anyhow::Result<Duration> {
        Ok(match self.polling.as_deref().unwrap_or("medium") {
            "fast" => options.intervals.fast,
            "medium" => options.intervals.medium,
            "slow" => options.intervals.slow,
            other => bail!(
                "device {}: polling {other:?} is not fast, medium or slow",
                self.name
            ),
        })
    }

    fn reference(&self) -> DeviceRef {
        match self.id {
            Some(id) => DeviceRef::Id(id),
            None => DeviceRef::Name(self.name.clone()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnmpEntry {
    version: Option<String>,
    port: Option<u16>,
    timeout: Option<String>,
    community: Option<SecretString>,
    user: Option<String>,
    auth_protocol: Option<String>,
    auth_password: Option<SecretString>,
    privacy_protocol: Option<String>,
    privacy_password: Option<SecretString>,
}

/// What the fleet file's targets need from the settings.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub intervals: Intervals,
    pub router_password: Option<SecretString>,
    pub tls_pin_dir: Option<std::path::PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl FleetOptions {
    /// The agent's defaults (10 s / 60 s / 300 s, connect 5 s, request 10 s) and no password
    /// override or pin directory: what the tests and the benchmarks read the demo file with.
    pub fn defaults() -> Self {
        Self {
            intervals: Intervals {
                fast: Duration::from_secs(10),
                medium: Duration::from_secs(60),
                slow: Duration::from_secs(300),
            },
            router_password: None,
            tls_pin_dir: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }

    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            intervals: settings.intervals,
            router_password: settings.router_password.clone(),
            tls_pin_dir: settings.tls_pin_dir.clone(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }
}

pub fn load(path: &Path, options: &FleetOptions) -> anyhow::Result<Fleet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text, options).with_context(|| format!("fleet file {}", path.display()))
}

/// A fleet file's routers, SNMP devices and probes.
pub fn parse(text: &str, options: &FleetOptions) -> anyhow::Result<Fleet> {
    let file: FleetFile = toml::from_str(text).context("parsing")?;
    Ok(Fleet {
        targets: routers(&file, options)?,
        probes: probes(&file, options)?,
        snmp: snmp(file, options)?,
    })
}

/// The `[[probe]]` entries.
fn probes(file: &FleetFile, options: &FleetOptions) -> anyhow::Result<Vec<Probe>> {
    let ids: std::collections::HashMap<&str, i64> = file
        .devices
        .iter()
        .filter_map(|d| Some((d.name.as_str(), d.id?)))
        .collect();
    file.probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let what = || format!("probe {} ({} {})", i + 1, p.kind, p.target);
            let duration = |text: &Option<String>, default: Duration| match text {
                Some(t) => crate::config::parse_duration(t),
                None => Ok(default),
            };
            Ok(Probe {
                device: match ids.get(p.device.as_str()) {
                    Some(id) => DeviceRef::Id(*id),
                    None => DeviceRef::Name(p.device.clone()),
                },
                check: Check::parse(&p.kind, &p.target)
                    .map_err(anyhow::Error::msg)
                    .with_context(what)?,
                interval: duration(&p.interval, options.intervals.fast)
                    .with_context(|| format!("{}: interval", what()))?,
                timeout: duration(&p.timeout, Duration::from_secs(2))
                    .with_context(|| format!("{}: timeout", what()))?,
            })
        })
        .collect()
}

/// The RouterOS devices.
fn routers(file: &FleetFile, options: &FleetOptions) -> anyhow::Result<Vec<Target>> {
    let routers: Vec<&Device> = file.devices.iter().filter(|d| d.is_mikrotik()).collect();
    if routers.is_empty() {
        return Ok(Vec::new());
    }
    let credential = file
        .credential
        .as_ref()
        .context("no [credential] with the routers' API username and password")?;
    let password = match (
        &options.router_password,
        &credential.password,
        &credential.password_file,
    ) {
        (Some(p), _, _) => p.clone(),
        (None, Some(p), _) => p.clone(),
        (None, None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading password_file {}", path.display()))?;
            SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned())
        }
        (None, None, None) => bail!("[credential] has neither password nor password_file"),
    };
    let mut targets = Vec::new();
    for device in routers {
        let mut client = ClientConfig::new(
            device.address.clone(),
            credential.username.clone(),
            password.expose_secret(),
        );
        client.port = device.api_port.unwrap_or(if device.api_tls {
            API_SSL_PORT
        } else {
            API_PORT
        });
        client.connect_timeout = options.connect_timeout;
        client.request_timeout = options.request_timeout;
        if let Some(port) = device.rest_port {
            client.transport = Transport::Rest;
            client.port = port;
        }
        if device.api_tls || device.rest_port.is_some() {
            client.tls = Some(tls(device, options)?);
        }
        let interval = device.interval(options)?;
        targets.push(Target {
            name: device.name.clone(),
            device: device.reference(),
            client,
            interval,
            facts_interval: options.intervals.slow.max(interval),
        });
    }
    Ok(targets)
}

/// The devices of other vendors that have a `[device.snmp]` table (the others are skipped).
fn snmp(file: FleetFile, options: &FleetOptions) -> anyhow::Result<Vec<SnmpTarget>> {
    file.devices
        .into_iter()
        .filter(|d| !d.is_mikrotik())
        .filter_map(|mut d| Some((d.snmp.take()?, d)))
        .map(|(snmp, device)| {
            let what = || format!("device {}: [device.snmp]", device.name);
            let auth = crate::snmp::auth_from(
                snmp.version.as_deref().unwrap_or("v2c"),
                snmp.community,
                snmp.user,
                (snmp.auth_protocol, snmp.auth_password),
                (snmp.privacy_protocol, snmp.privacy_password),
            )
            .with_context(what)?;
            let timeout = match &snmp.timeout {
                Some(t) => crate::config::parse_duration(t).with_context(what)?,
                None => Duration::from_secs(2),
            };
            Ok(SnmpTarget {
                name: device.name.clone(),
                device: device.reference(),
                host: device.address.clone(),
                port: snmp.port.unwrap_or(SNMP_PORT),
                auth,
                interval: device.interval(options)?,
                timeout,
            })
        })
        .collect()
}

/// Pinned if the file or the pin directory gives the certificate; otherwise the Web PKI chain
/// (a router with a self-signed certificate then fails its polls with a TLS reason).
fn tls(device: &Device, options: &FleetOptions) -> anyhow::Result<TlsConfig> {
    if let Some(hex) = &device.tls_fingerprint {
        let f = Fingerprint::parse(hex)
            .with_context(|| format!("device {}: tls_fingerprint", device.name))?;
        return Ok(pinned(f));
    }
    Ok(pin_dir_or_web_pki(&device.name, options))
}

fn pinned(fingerprint: Fingerprint) -> TlsConfig {
    TlsConfig {
        verification: Verification::Pinned(fingerprint),
        server_name: None,
    }
}

/// The certificate `<name>.der` of the pin directory if there is one, else the Web PKI chain:
/// for the file's devices without a `tls_fingerprint` and for the server's (the inventory
/// keeps no fingerprint).
pub fn pin_dir_or_web_pki(name: &str, options: &FleetOptions) -> TlsConfig {
    if let Some(dir) = &options.tls_pin_dir {
        let path = dir.join(format!("{name}.der"));
        if let Ok(der) = std::fs::read(&path) {
            return pinned(Fingerprint::of(&der));
        }
    }
    TlsConfig::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FleetOptions {
        FleetOptions::defaults()
    }

    #[test]
    fn the_demo_fleet_file_works_as_it_is() {
        let text = include_str!("../../server/demo/isp.toml");
        let targets = parse(text, &options()).expect("parses").targets;
        assert!(targets.len() >= 10, "{}", targets.len());
        let edge = targets
            .iter()
            .find(|t| t.name == "vie1-edge-1")
            .expect("edge");
        assert_eq!(edge.client.host, "127.0.1.1");
        assert_eq!(edge.client.port, 8728);
        assert_eq!(edge.interval, Duration::from_secs(10));
        assert_eq!(edge.device, DeviceRef::Name("vie1-edge-1".into()));
        assert!(targets.iter().any(|t| t.client.tls.is_some()));
        assert!(targets
            .iter()
            .any(|t| t.interval == Duration::from_secs(60)));
    }

    #[test]
    fn other_vendors_with_snmp_settings_are_polled_over_snmp() {
        let text = r#"
            [[device]]
            name = "sw-1"
            id = 40
            vendor = "generic_snmp"
            address = "10.0.0.9"
            polling = "fast"
            [device.snmp]
            community = "c0mmunity"
            [[device]]
            name = "olt-1"
            vendor = "generic_snmp"
            address = "10.0.0.10"
            [device.snmp]
            version = "v3"
            port = 1161
            timeout = "5s"
            user = "ispvm"
            auth_protocol = "sha256"
            auth_password = "auth-pass-1"
            privacy_password = "priv-pass-1"
            [[device]]
            name = "no-snmp"
            vendor = "generic_snmp"
            address = "10.0.0.11"
        "#;
        // No MikroTik device, so no [credential] is needed.
        let fleet = parse(text, &options()).expect("parses");
        assert!(fleet.targets.is_empty());
        let snmp = fleet.snmp;
        assert_eq!(snmp.len(), 2, "the device without [device.snmp] is skipped");
        assert_eq!(snmp[0].device, DeviceRef::Id(40));
        assert_eq!(
            (snmp[0].port, snmp[0].interval, snmp[0].timeout),
            (161, Duration::from_secs(10), Duration::from_secs(2))
        );
        assert!(matches!(snmp[0].auth, crate::snmp::SnmpAuth::V2c { .. }));
        assert_eq!(snmp[1].port, 1161);
        assert_eq!(snmp[1].timeout, Duration::from_secs(5));
        assert!(matches!(
            &snmp[1].auth,
            crate::snmp::SnmpAuth::V3 {
                privacy: Some(_),
                ..
            }
        ));
        let typo = text.replace("community = ", "comunity = ");
        assert!(
            format!("{:#}", parse(&typo, &options()).expect_err("unknown field"))
                .contains("comunity")
        );
        let no_user = text.replace("user = \"ispvm\"", "");
        let err = parse(&no_user, &options()).expect_err("v3 without a user");
        assert!(
            format!("{err:#}").contains("device olt-1: [device.snmp]: v3 needs a user"),
            "{err:#}"
        );
    }

    #[test]
    fn ids_pins_vendors_and_bad_profiles() {
        let text = r#"
            [credential]
            username = "u"
            password = "p"
            [[device]]
            name = "a"
            id = 17
            address = "10.0.0.1"
            api_tls = true
            polling = "slow"
            tls_fingerprint = "0000000000000000000000000000000000000000000000000000000000000000"
            [[device]]
            name = "switch"
            vendor = "cisco"
            address = "10.0.0.2"
        "#;
        let targets = parse(text, &options()).expect("parses").targets;
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].device, DeviceRef::Id(17));
        assert_eq!(targets[0].client.port, 8729);
        assert!(matches!(
            targets[0].client.tls.as_ref().map(|t| &t.verification),
            Some(Verification::Pinned(_))
        ));
        let bad = text.replace("\"slow\"", "\"often\"");
        let probes = format!(
            "{text}\n[[probe]]\ndevice = \"a\"\nkind = \"tcp\"\ntarget = \"10.0.0.1:8291\"\n\
             [[probe]]\ndevice = \"cpe-9\"\nkind = \"icmp\"\ntarget = \"10.9.0.1\"\ninterval = \"30s\"\n"
        );
        let parsed = parse(&probes, &options()).expect("probes parse").probes;
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[0].device,
            DeviceRef::Id(17),
            "the device's id when it has one"
        );
        assert_eq!(
            parsed[0].interval,
            Duration::from_secs(10),
            "the fast interval"
        );
        assert_eq!(parsed[1].device, DeviceRef::Name("cpe-9".into()));
        assert_eq!(parsed[1].interval, Duration::from_secs(30));
        assert_eq!(parsed[1].timeout, Duration::from_secs(2));
        let wrong = probes.replace("10.9.0.1", "cpe-9.example");
        let err = parse(&wrong, &options()).expect_err("not an IP");
        assert!(
            format!("{err:#}").contains("probe 2 (icmp cpe-9.example)"),
            "{err:#}"
        );
        assert!(parse(&bad, &options()).is_err());
        assert!(parse("[[device]]\nname=\"a\"\naddress=\"x\"\n", &options()).is_err());
    }
}
