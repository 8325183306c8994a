//! Probes defined on a device's page: an ICMP echo, a TCP connect, a DNS query or an HTTP(S)
//! GET, run from the POP by the agent that serves the device's site (sent in its assignment),
//! beside the reachability probe every device gets. The page shows each probe's last result,
//! read from the series its samples land on (`probe_up` / `probe_rtt_ms`, instance
//! `<kind>:<target>`).

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::error::AppError;
use crate::model::string_enum;

/// Database id of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProbeId(pub i64);

string_enum!(
    /// What a probe checks; the target's syntax depends on it.
    ProbeKind, field = "kind", {
        Icmp => "icmp",
        Tcp => "tcp",
        Dns => "dns",
        Http => "http",
    }
);

impl ProbeKind {
    /// How its target is written, for the form.
    pub fn example(self) -> &'static str {
        match self {
            ProbeKind::Icmp => "an IP address: 10.20.0.1",
            ProbeKind::Tcp => "host:port: 10.20.0.1:443",
            ProbeKind::Dns => "name@server: portal.example@10.20.0.53",
            ProbeKind::Http => "a URL: https://portal.example/health",
        }
    }
}

/// At most this many probes on one device.
pub const MAX_PER_DEVICE: i64 = 50;
/// Seconds between runs: the fast profile's 10 s up to an hour.
pub const INTERVAL_S: (i32, i32) = (10, 3600);
pub const DEFAULT_INTERVAL_S: i32 = 10;
/// Per echo, connect or request.
pub const TIMEOUT_MS: (i32, i32) = (100, 10_000);
pub const DEFAULT_TIMEOUT_MS: i32 = 2000;

/// One probe of a device, with its last result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRow {
    pub id: ProbeId,
    pub kind: ProbeKind,
    pub target: String,
    pub interval_s: i32,
    pub timeout_ms: i32,
    /// None until the agent's first sample arrives.
    pub last: Option<ProbeResult>,
}

/// The newest `probe_up` sample of a probe, with the round trip of that run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// `up` or `down`.
    pub state: String,
    /// Why it is down (the agent's words: `connect: Connection refused`, `HTTP 503 …`).
    pub reason: Option<String>,
    /// The round trip in microseconds, when the run was up.
    pub rtt_us: Option<i64>,
    /// Seconds since the sample.
    pub age_s: i64,
}

impl ProbeResult {
    /// "up · 3.2 ms" or "down: connect: Connection refused".
    pub fn summary(&self) -> String {
        match (&self.reason, self.rtt_us) {
            (Some(reason), _) => format!("{}: {reason}", self.state),
            (None, Some(us)) => format!("{} · {:.1} ms", self.state, us as f64 / 1000.0),
            (None, None) => self.state.clone(),
        }
    }
}

/// A probe's fields as the form sends them (blank interval and timeout take the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeForm {
    pub kind: String,
    pub target: String,
    pub interval_s: String,
    pub timeout_ms: String,
}

/// A checked probe, its target in the one spelling the agent's samples carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInput {
    pub kind: ProbeKind,
    pub target: String,
    pub interval_s: i32,
    pub timeout_ms: i32,
}

impl ProbeForm {
    /// The target is read as the agent will read it (`telemetry::probe::Check`), so a probe
    /// that is stored is one the agent runs.
    #[cfg(feature = "ssr")]
    pub fn validate(&self) -> Result<ProbeInput, AppError> {
        let kind: ProbeKind = self.kind.parse()?;
        let check = telemetry::probe::Check::parse(kind.as_str(), &self.target)
            .map_err(|reason| AppError::invalid("target", reason))?;
        Ok(ProbeInput {
            kind,
            target: check.target(),
            interval_s: whole(
                "interval_s",
                &self.interval_s,
                DEFAULT_INTERVAL_S,
                INTERVAL_S,
                "s",
            )?,
            timeout_ms: whole(
                "timeout_ms",
                &self.timeout_ms,
                DEFAULT_TIMEOUT_MS,
                TIMEOUT_MS,
                "ms",
            )?,
        })
    }
}

/// A whole number within `(min, max)`, or `default` when blank.
#[cfg(feature = "ssr")]
fn whole(
    field: &str,
    raw: &str,
    default: i32,
    (min, max): (i32, i32),
    unit: &str,
) -> Result<i32, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(default);
    }
    raw.parse::<i32>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("must be a whole number of {unit}, {min} to {max}"),
            )
        })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn form(kind: &str, target: &str, interval: &str, timeout: &str) -> ProbeForm {
        ProbeForm {
            kind: kind.into(),
            target: target.into(),
            interval_s: interval.into(),
            timeout_ms: timeout.into(),
        }
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::Invalid { field, .. } => field,
            other => panic!("not Invalid: {other:?}"),
        }
    }

    #[test]
    fn a_probe_form_is_checked_as_the_agent_reads_it() {
        let ok = form("dns", " Portal.Example@10.0.0.53 ", "", "")
            .validate()
            .expect("ok");
        assert_eq!(
            ok,
            ProbeInput {
                kind: ProbeKind::Dns,
                target: "portal.example@10.0.0.53".into(),
                interval_s: 10,
                timeout_ms: 2000,
            },
            "one spelling, the defaults"
        );
        let set = form("HTTP", "https://portal.example/health", "60", "5000")
            .validate()
            .expect("ok");
        assert_eq!(
            (set.kind, set.interval_s, set.timeout_ms),
            (ProbeKind::Http, 60, 5000)
        );
        for (bad, field) in [
            (form("ping", "10.0.0.1", "", ""), "kind"),
            (form("icmp", "router-1", "", ""), "target"),
            (form("tcp", "10.0.0.1", "", ""), "target"),
            (form("icmp", "10.0.0.1", "9", ""), "interval_s"),
            (form("icmp", "10.0.0.1", "3601", ""), "interval_s"),
            (form("icmp", "10.0.0.1", "ten", ""), "interval_s"),
            (form("icmp", "10.0.0.1", "", "99"), "timeout_ms"),
            (form("icmp", "10.0.0.1", "", "10001"), "timeout_ms"),
        ] {
            assert_eq!(field_of(bad.validate().expect_err("bad")), field, "{bad:?}");
        }
    }

    #[test]
    fn a_result_reads_as_one_line() {
        let up = ProbeResult {
            state: "up".into(),
            reason: None,
            rtt_us: Some(3_249),
            age_s: 4,
        };
        assert_eq!(up.summary(), "up · 3.2 ms");
        let down = ProbeResult {
            state: "down".into(),
            reason: Some("connect: Connection refused".into()),
            rtt_us: None,
            age_s: 4,
        };
        assert_eq!(down.summary(), "down: connect: Connection refused");
    }
}
