//! SNMP polling of devices without the RouterOS API (switches, other vendors' routers, CPEs):
//! v2c with a community, or v3 with a user (authNoPriv or authPriv), over the `snmp2` crate.
//!
//! A poll GETs `sysUpTime.0` and `hrSystemUptime.0` first: the answer is the liveness evidence
//! (`up` with `via = snmp`), a timeout or an SNMP error is `up = down` with the reason. Then it
//! walks the columns it uses of `ifTable`/`ifXTable` and `hrProcessorLoad` with GETBULK, all
//! columns in one request, and writes the same interface series a RouterOS poll writes
//! (docs/metrics.md): 64-bit counters where the device has them, `ifOperStatus`/`ifAdminStatus`
//! as `interface_running` (`disabled` when administratively down), `ifHighSpeed` as the speed.
//!
//! Each poll opens its own UDP session: `snmp2`'s session does not skip a late reply to an
//! earlier, timed-out request (it fails the next request with a request id mismatch), and a
//! socket per poll costs nothing. A v3 poll therefore pays one extra round trip (engine
//! discovery).

mod walk;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use snmp2::v3::{Auth, AuthProtocol, Cipher, Security};
use snmp2::AsyncSession;
use telemetry::{DeviceRef, Sample, UnixMs};

use crate::collect::{labels, Out};
use crate::poll::{truncate, Polled};
use crate::stats::Stats;
pub use walk::{Column, Owned, Table};

pub const SNMP_PORT: u16 = 161;

/// How the agent logs in.
#[derive(Clone)]
pub enum SnmpAuth {
    V2c {
        community: SecretString,
    },
    V3 {
        user: String,
        protocol: AuthProtocol,
        password: SecretString,
        /// authPriv: the cipher and its password; authNoPriv when absent.
        privacy: Option<(Cipher, SecretString)>,
    },
}

impl std::fmt::Debug for SnmpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::V2c { .. } => f.write_str("V2c { community: [redacted] }"),
            Self::V3 {
                user,
                protocol,
                privacy,
                ..
            } => f
                .debug_struct("V3")
                .field("user", user)
                .field("protocol", protocol)
                .field("privacy", &privacy.as_ref().map(|(c, _)| c))
                .finish_non_exhaustive(),
        }
    }
}

impl SnmpAuth {
    /// `md5`, `sha` (SHA-1), `sha224` … `sha512`, as net-snmp spells them.
    pub fn parse_protocol(text: &str) -> anyhow::Result<AuthProtocol> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "md5" => AuthProtocol::Md5,
            "sha" | "sha1" => AuthProtocol::Sha1,
            "sha224" => AuthProtocol::Sha224,
            "sha256" => AuthProtocol::Sha256,
            "sha384" => AuthProtocol::Sha384,
            "sha512" => AuthProtocol::Sha512,
            other => {
                bail!("auth protocol {other:?} is not md5, sha, sha224, sha256, sha384 or sha512")
            }
        })
    }

    /// `des`, `aes` (AES-128), `aes192`, `aes256`.
    pub fn parse_cipher(text: &str) -> anyhow::Result<Cipher> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "des" => Cipher::Des,
            "aes" | "aes128" => Cipher::Aes128,
            "aes192" => Cipher::Aes192,
            "aes256" => Cipher::Aes256,
            other => bail!("privacy protocol {other:?} is not des, aes, aes192 or aes256"),
        })
    }
}

/// One device polled over SNMP.
#[derive(Debug, Clone)]
pub struct SnmpTarget {
    /// The inventory name, for logs.
    pub name: String,
    pub device: DeviceRef,
    /// Host name or address.
    pub host: String,
    pub port: u16,
    pub auth: SnmpAuth,
    pub interval: Duration,
    /// Per request; a poll makes a handful.
    pub timeout: Duration,
}

/// SNMPv2-MIB sysUpTime.0 (the SNMP agent's uptime) and HOST-RESOURCES-MIB hrSystemUptime.0
/// (the host's, preferred when the device has it: an agent restart is not a reboot).
const SYS_UPTIME: [u64; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const HR_SYSTEM_UPTIME: [u64; 10] = [1, 3, 6, 1, 2, 1, 25, 1, 1, 0];

/// The table columns a poll walks. Multicast and broadcast packets are added to the unicast
/// ones (RouterOS counts them all).
pub const COLUMNS: [Column; 22] = [
    Column::new("ifDescr", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2]),
    Column::new("ifType", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3]),
    Column::new("ifSpeed", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 5]),
    Column::new("ifAdminStatus", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7]),
    Column::new("ifOperStatus", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8]),
    Column::new("ifInOctets", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 10]),
    Column::new("ifInDiscards", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 13]),
    Column::new("ifInErrors", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 14]),
    Column::new("ifOutOctets", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 16]),
    Column::new("ifOutDiscards", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 19]),
    Column::new("ifOutErrors", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 20]),
    Column::new("ifName", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1]),
    Column::new("ifHCInOctets", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6]),
    Column::new("ifHCInUcastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 7]),
    Column::new("ifHCInMulticastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 8]),
    Column::new("ifHCInBroadcastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 9]),
    Column::new("ifHCOutOctets", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10]),
    Column::new("ifHCOutUcastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 11]),
    Column::new("ifHCOutMulticastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 12]),
    Column::new("ifHCOutBroadcastPkts", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 13]),
    Column::new("ifHighSpeed", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15]),
    Column::new("hrProcessorLoad", &[1, 3, 6, 1, 2, 1, 25, 3, 3, 1, 2]),
];

/// Why a poll failed, for `up`'s reason.
#[derive(Debug, thiserror::Error)]
pub enum SnmpError {
    #[error("timeout: no SNMP answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach {0}: {1}")]
    Socket(String, std::io::Error),
    #[error("SNMP error: {0:?}")]
    Protocol(snmp2::Error),
    #[error("SNMP error status {0} ({1})")]
    Status(u32, &'static str),
    #[error("the device answered neither sysUpTime nor hrSystemUptime")]
    NoUptime,
}

/// RFC 3416's error-status names.
fn status_name(status: u32) -> &'static str {
    match status {
        1 => "tooBig",
        2 => "noSuchName",
        3 => "badValue",
        4 => "readOnly",
        5 => "genErr",
        6 => "noAccess",
        13 => "resourceUnavailable",
        16 => "authorizationError",
        _ => "other",
    }
}

/// A request's answer, or why there is none: the timeout, a protocol error, or an error
/// status from the agent.
fn answer<'a>(
    result: Result<Result<snmp2::Pdu<'a>, snmp2::Error>, tokio::time::error::Elapsed>,
    timeout: Duration,
) -> Result<snmp2::Pdu<'a>, SnmpError> {
    let pdu = result
        .map_err(|_| SnmpError::Timeout(timeout))?
        .map_err(SnmpError::Protocol)?;
    if pdu.error_status != 0 {
        return Err(SnmpError::Status(
            pdu.error_status,
            status_name(pdu.error_status),
        ));
    }
    Ok(pdu)
}

/// An open session with its per-request timeout.
pub struct Snmp {
    session: AsyncSession,
    timeout: Duration,
}

impl Snmp {
    pub async fn open(target: &SnmpTarget) -> Result<Self, SnmpError> {
        let address = format!("{}:{}", target.host, target.port);
        let socket = |e| SnmpError::Socket(address.clone(), e);
        let mut session = match &target.auth {
            SnmpAuth::V2c { community } => AsyncSession::new_v2c(
                address.as_str(),
                community.expose_secret().as_bytes(),
                rand::random::<i32>().abs(),
            )
            .await
            .map_err(socket)?,
            SnmpAuth::V3 {
                user,
                protocol,
                password,
                privacy,
            } => {
                let mut security =
                    Security::new(user.as_bytes(), password.expose_secret().as_bytes())
                        .with_auth_protocol(*protocol);
                if let Some((cipher, secret)) = privacy {
                    security = security.with_auth(Auth::AuthPriv {
                        cipher: *cipher,
                        privacy_password: secret.expose_secret().as_bytes().to_vec(),
                    });
                }
                AsyncSession::new_v3(address.as_str(), rand::random::<i32>().abs(), security)
                    .await
                    .map_err(socket)?
            }
        };
        let timeout = target.timeout;
        tokio::time::timeout(timeout, session.init())
            .await
            .map_err(|_| SnmpError::Timeout(timeout))?
            .map_err(SnmpError::Protocol)?;
        Ok(Self { session, timeout })
    }

    /// GETs `oids`, the answers in order ([`Owned::Missing`] for noSuchObject/noSuchInstance).
    pub async fn get(&mut self, oids: &[&[u64]]) -> Result<Vec<Owned>, SnmpError> {
        let oids: Vec<snmp2::Oid<'static>> = oids.iter().map(|o| walk::oid(o)).collect();
        let refs: Vec<&snmp2::Oid<'_>> = oids.iter().collect();
        let timeout = self.timeout;
        let pdu = answer(
            tokio::time::timeout(timeout, self.session.get_many(&refs)).await,
            timeout,
        )?;
        Ok(pdu.varbinds.map(|(_, v)| Owned::from_value(&v)).collect())
    }

    /// Walks `columns` together with GETBULK until each leaves its column.
    pub async fn walk(&mut self, columns: &[Column]) -> Result<Table, SnmpError> {
        let mut table = Table::default();
        let mut cursors: Vec<(usize, Vec<u64>)> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.prefix.to_vec()))
            .collect();
        // A device that keeps answering inside a column forever (a broken agent repeating an
        // OID) must not hold the poll: walk::Step refuses an OID that does not increase.
        while !cursors.is_empty() {
            let oids: Vec<snmp2::Oid<'static>> =
                cursors.iter().map(|(_, at)| walk::oid(at)).collect();
            let refs: Vec<&snmp2::Oid<'_>> = oids.iter().collect();
            // Some 100 varbinds per answer: a few kB, well inside one datagram.
            let repetitions = (100 / cursors.len()).clamp(2, 25) as u32;
            let timeout = self.timeout;
            let pdu = answer(
                tokio::time::timeout(timeout, self.session.getbulk(&refs, 0, repetitions)).await,
                timeout,
            )?;
            let answers: Vec<(Vec<u64>, Owned)> = pdu
                .varbinds
                .map(|(oid, value)| (walk::arcs(&oid), Owned::from_value(&value)))
                .collect();
            cursors = walk::step(columns, cursors, answers, &mut table);
        }
        Ok(table)
    }
}

/// Polls `target` once; the samples are stamped `ts`. The uptime answer decides `up`; a walk
/// that fails after it (a busy agent timing out mid-table) is logged and counted like a failed
/// RouterOS menu: the interfaces miss this poll, the device is not down.
pub async fn poll(target: &SnmpTarget, ts: UnixMs, stats: &Stats) -> Vec<Sample> {
    let mut out = Out::new(target.device.clone(), ts);
    let mut snmp = match uptime(target, &mut out).await {
        Ok(snmp) => snmp,
        Err(e) => {
            stats.count_poll(false);
            tracing::debug!(device = %target.name, error = %e, "SNMP poll failed");
            let sample = out.state("up", None, "down");
            sample.reason = Some(truncate(e.to_string(), telemetry::MAX_REASON_BYTES));
            labels(sample, [("via", Some("snmp"))]);
            return out.samples;
        }
    };
    stats.count_poll(true);
    match snmp.walk(&COLUMNS).await {
        Ok(table) => parse(&table, &mut out),
        Err(e) => {
            stats.count_collector_failure();
            tracing::warn!(device = %target.name, error = %e, "SNMP walk failed; the interfaces miss this poll");
        }
    }
    out.samples
}

/// Opens the session and reads the uptime: `up`, `uptime_seconds`.
async fn uptime(target: &SnmpTarget, out: &mut Out) -> Result<Snmp, SnmpError> {
    let mut snmp = Snmp::open(target).await?;
    let uptime = snmp.get(&[&HR_SYSTEM_UPTIME, &SYS_UPTIME]).await?;
    let ticks = uptime
        .iter()
        .find_map(Owned::number)
        .ok_or(SnmpError::NoUptime)?;
    let sample = out.state("up", None, "up");
    labels(sample, [("via", Some("snmp"))]);
    out.number("uptime_seconds", None, ticks / 100.0);
    Ok(snmp)
}

/// The samples of one walk: interfaces by `ifName` (else `ifDescr`), and the CPU load as the
/// mean of `hrProcessorLoad` over the processors.
pub fn parse(table: &Table, out: &mut Out) {
    let names: BTreeMap<u64, String> = table
        .column("ifDescr")
        .iter()
        .chain(table.column("ifName").iter())
        .filter_map(|(index, v)| Some((*index, v.text()?.trim().to_owned())))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    let number = |column: &str, index: u64| table.get(column, index).and_then(Owned::number);
    let sum = |columns: &[&str], index: u64| -> Option<f64> {
        let values: Vec<f64> = columns.iter().filter_map(|c| number(c, index)).collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    for (&index, name) in &names {
        let name = name.as_str();
        let counters = [
            (
                "interface_rx_bytes_total",
                number("ifHCInOctets", index).or_else(|| number("ifInOctets", index)),
            ),
            (
                "interface_tx_bytes_total",
                number("ifHCOutOctets", index).or_else(|| number("ifOutOctets", index)),
            ),
            (
                "interface_rx_packets_total",
                sum(
                    &[
                        "ifHCInUcastPkts",
                        "ifHCInMulticastPkts",
                        "ifHCInBroadcastPkts",
                    ],
                    index,
                ),
            ),
            (
                "interface_tx_packets_total",
                sum(
                    &[
                        "ifHCOutUcastPkts",
                        "ifHCOutMulticastPkts",
                        "ifHCOutBroadcastPkts",
                    ],
                    index,
                ),
            ),
            ("interface_rx_errors_total", number("ifInErrors", index)),
            ("interface_tx_errors_total", number("ifOutErrors", index)),
            ("interface_rx_drops_total", number("ifInDiscards", index)),
            ("interface_tx_drops_total", number("ifOutDiscards", index)),
        ];
        for (metric, value) in counters {
            if let Some(v) = value {
                out.number(metric, Some(name), v);
            }
        }
        // ifAdminStatus 2 = down (administratively); ifOperStatus 1 = up, anything else
        // (down, testing, dormant, notPresent, lowerLayerDown) is not passing traffic.
        let status = |column: &str| number(column, index).map(|v| v as i64);
        let state = match (status("ifAdminStatus"), status("ifOperStatus")) {
            (Some(2), _) => Some("disabled"),
            (_, Some(1)) => Some("up"),
            (_, Some(_)) => Some("down"),
            _ => None,
        };
        if let Some(state) = state {
            let kind = number("ifType", index).map(|t| if_type(t as u64));
            let sample = out.state("interface_running", Some(name), state);
            labels(sample, [("type", kind.as_deref())]);
        }
        // ifHighSpeed is in Mbit/s; ifSpeed (bit/s) saturates at 4.29 Gbit/s.
        let speed = number("ifHighSpeed", index)
            .filter(|s| *s > 0.0)
            .map(|s| s * 1e6)
            .or_else(|| number("ifSpeed", index).filter(|s| *s > 0.0));
        if let (Some(speed), Some("up")) = (speed, state) {
            out.number("interface_speed_bps", Some(name), speed);
        }
    }
    let loads: Vec<f64> = table
        .column("hrProcessorLoad")
        .values()
        .filter_map(Owned::number)
        .collect();
    if !loads.is_empty() {
        out.number(
            "cpu_load_percent",
            None,
            loads.iter().sum::<f64>() / loads.len() as f64,
        );
    }
}

/// IANAifType as the `type` label, in RouterOS's words where it has one.
fn if_type(number: u64) -> String {
    match number {
        6 | 62 | 117 => "ether".into(),
        24 => "loopback".into(),
        23 => "ppp".into(),
        53 => "virtual".into(),
        71 => "wlan".into(),
        131 => "tunnel".into(),
        135 | 136 => "vlan".into(),
        161 => "bonding".into(),
        209 => "bridge".into(),
        other => format!("iftype-{other}"),
    }
}

impl Polled for SnmpTarget {
    fn interval(&self) -> Duration {
        self.interval
    }

    async fn poll_once(&mut self, ts: UnixMs, stats: &Stats) -> crate::poll::Reading {
        crate::poll::Reading::from(poll(self, ts, stats).await)
    }
}

/// A fleet file's `[device.snmp]` table.
pub fn auth_from(
    version: &str,
    community: Option<SecretString>,
    user: Option<String>,
    auth: (Option<String>, Option<SecretString>),
    privacy: (Option<String>, Option<SecretString>),
) -> anyhow::Result<SnmpAuth> {
    match version {
        "v2c" | "2c" | "2" => Ok(SnmpAuth::V2c {
            community: community.context("v2c needs a community")?,
        }),
        "v3" | "3" => {
            let user = user.filter(|u| !u.is_empty()).context("v3 needs a user")?;
            let (protocol, password) = auth;
            let password = password.context("v3 needs auth_password (authNoPriv at least)")?;
            if password.expose_secret().len() < 8 {
                bail!("v3 auth_password must be at least 8 characters (RFC 3414)");
            }
            let protocol = SnmpAuth::parse_protocol(protocol.as_deref().unwrap_or("sha"))?;
            let privacy = match privacy {
                (None, None) => None,
                (cipher, Some(secret)) => {
                    if secret.expose_secret().len() < 8 {
                        bail!("v3 privacy_password must be at least 8 characters (RFC 3414)");
                    }
                    Some((
                        SnmpAuth::parse_cipher(cipher.as_deref().unwrap_or("aes"))?,
                        secret,
                    ))
                }
                (Some(_), None) => bail!("v3 privacy needs privacy_password"),
            };
            Ok(SnmpAuth::V3 {
                user,
                protocol,
                password,
                privacy,
            })
        }
        other => bail!("SNMP version {other:?} is not v2c or v3"),
    }
}

#[cfg(test)]
mod tests;
