//! Probes run by the agent itself, from the POP: ICMP echo, TCP connect, a DNS query and
//! HTTP(S) GET.
//!
//! Each run of a probe writes `probe_up` (`down` with the reason: a probe that fails is
//! evidence, never only a log line) and `probe_rtt_ms`; an ICMP run sends a burst of
//! [`ECHOES`] echoes [`ECHO_GAP`] apart and also writes `probe_loss_percent` and
//! `probe_jitter_ms` (the mean absolute difference of consecutive round trips, as RFC 3550's
//! interarrival jitter without its smoothing). The series' instance is the target,
//! `icmp:10.0.0.1`, `tcp:10.0.0.1:8291`, `dns:portal.example@10.0.0.53`,
//! `http:https://portal.example/health` (docs/metrics.md). A DNS probe asks one server for the
//! name's A record once (recursion desired, no retry) and is up when it answers NOERROR with at
//! least one record; NXDOMAIN, SERVFAIL, REFUSED and an empty answer are down with that reason.
//! ICMP uses the unprivileged ICMP socket where the kernel allows it
//! (`net.ipv4.ping_group_range`), else a raw socket (root or CAP_NET_RAW); when neither can be
//! opened, ICMP probes report `down` with that reason.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use telemetry::{DeviceRef, Sample, UnixMs};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::collect::Out;

/// Echoes per ICMP run, and the gap between them.
pub const ECHOES: u16 = 5;
pub const ECHO_GAP: Duration = Duration::from_millis(200);

pub use telemetry::probe::Check;

/// One probe: from the fleet file, a device's probes in the server's assignment, or a
/// device's reachability probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The device whose series the samples belong to.
    pub device: DeviceRef,
    pub check: Check,
    pub interval: Duration,
    /// Per echo, connect or request.
    pub timeout: Duration,
}

/// What the probes share: the HTTP client and the ICMP socket (or why there is none).
pub struct Prober {
    http: reqwest::Client,
    icmp: Result<surge_ping::Client, String>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("icmp", &self.icmp.as_ref().map(|_| "open"))
            .finish_non_exhaustive()
    }
}

impl Prober {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the probes' HTTP client")?;
        let icmp = surge_ping::Client::new(&surge_ping::Config::default())
            .map_err(|e| format!("cannot open an ICMP socket: {e}"));
        if let Err(e) = &icmp {
            tracing::warn!(error = %e, "ICMP probes will report down");
        }
        Ok(Self { http, icmp })
    }

    /// Whether ICMP probes can run (an ICMP socket could be opened).
    pub fn icmp_available(&self) -> bool {
        self.icmp.is_ok()
    }

    /// Runs `probe` once; its samples are stamped `ts`.
    pub async fn run(&self, probe: &Probe, ts: UnixMs) -> Vec<Sample> {
        let mut out = Out::new(probe.device.clone(), ts);
        let instance = probe.check.instance();
        let instance = Some(instance.as_str());
        let result = match &probe.check {
            Check::Icmp(ip) => self.icmp(*ip, probe.timeout).await.map(|echo| {
                out.number("probe_loss_percent", instance, echo.loss_percent);
                if let Some(jitter) = echo.jitter_ms {
                    out.number("probe_jitter_ms", instance, jitter);
                }
                echo.rtt_ms
            }),
            Check::Tcp(target) => tcp(target, probe.timeout).await,
            Check::Http(url) => self.http(url, probe.timeout).await,
            Check::Dns { name, server } => dns(name, *server, probe.timeout).await,
        };
        match result {
            Ok(rtt_ms) => {
                out.state("probe_up", instance, "up");
                out.number("probe_rtt_ms", instance, rtt_ms);
            }
            Err(reason) => {
                out.state("probe_up", instance, "down").reason =
                    Some(crate::poll::truncate(reason, telemetry::MAX_REASON_BYTES));
            }
        }
        out.samples
    }

    async fn icmp(&self, ip: IpAddr, timeout: Duration) -> Result<Echoes, String> {
        let client = self.icmp.as_ref().map_err(Clone::clone)?;
        let mut pinger = client
            .pinger(ip, surge_ping::PingIdentifier(rand::random()))
            .await;
        pinger.timeout(timeout);
        let payload = [0_u8; 56];
        let mut rtts = Vec::new();
        let mut last_error = String::new();
        for seq in 0..ECHOES {
            if seq > 0 {
                tokio::time::sleep(ECHO_GAP).await;
            }
            match pinger.ping(surge_ping::PingSequence(seq), &payload).await {
                Ok((_, rtt)) => rtts.push(rtt.as_secs_f64() * 1e3),
                Err(e) => last_error = e.to_string(),
            }
        }
        Echoes::of(&rtts, ECHOES).ok_or_else(|| format!("no echo reply: {last_error}"))
    }

    async fn http(&self, url: &str, timeout: Duration) -> Result<f64, String> {
        let start = Instant::now();
        let response = self
            .http
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("timeout after {} ms", timeout.as_millis())
                } else {
                    crate::send::error_chain(&e)
                }
            })?;
        let rtt = start.elapsed().as_secs_f64() * 1e3;
        let status = response.status();
        if status.is_success() || status.is_redirection() {
            Ok(rtt)
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

async fn tcp(target: &str, timeout: Duration) -> Result<f64, String> {
    let start = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(target)).await {
        Ok(Ok(_stream)) => Ok(start.elapsed().as_secs_f64() * 1e3),
        Ok(Err(e)) => Err(format!("connect: {e}")),
        Err(_) => Err(format!("timeout after {} ms", timeout.as_millis())),
    }
}

/// One A query to `server`, timed from send to the matching answer.
async fn dns(name: &str, server: SocketAddr, timeout: Duration) -> Result<f64, String> {
    use hickory_proto::op::{Message, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};
    let name = Name::from_ascii(name).map_err(|e| format!("bad name: {e}"))?;
    let id: u16 = rand::random();
    let mut query = Message::new();
    query
        .set_id(id)
        .set_recursion_desired(true)
        .add_query(Query::query(name, RecordType::A));
    let bytes = query
        .to_vec()
        .map_err(|e| format!("encoding the query: {e}"))?;
    let local: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = tokio::net::UdpSocket::bind(local)
        .await
        .map_err(|e| format!("socket: {e}"))?;
    socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let start = Instant::now();
    let exchange = async {
        socket
            .send(&bytes)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut buf = vec![0_u8; 4_096];
        // Anything that is not the answer to this query (a late answer to an earlier one on a
        // reused port, garbage) is skipped until the timeout.
        loop {
            let n = socket
                .recv(&mut buf)
                .await
                .map_err(|e| format!("receive: {e}"))?;
            if let Ok(answer) = Message::from_vec(&buf[..n]) {
                if answer.id() == id {
                    return Ok::<_, String>(answer);
                }
            }
        }
    };
    let answer = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("timeout after {} ms", timeout.as_millis()))??;
    let rtt = start.elapsed().as_secs_f64() * 1e3;
    match answer.response_code() {
        ResponseCode::NoError if !answer.answers().is_empty() => Ok(rtt),
        ResponseCode::NoError => Err("no A record (empty answer)".into()),
        ResponseCode::NXDomain => Err("NXDOMAIN: the name does not exist".into()),
        code => Err(code.to_str().to_owned()),
    }
}

/// The figures of one ICMP burst.
#[derive(Debug, Clone, PartialEq)]
pub struct Echoes {
    pub rtt_ms: f64,
    pub loss_percent: f64,
    /// `None` with fewer than two replies.
    pub jitter_ms: Option<f64>,
}

impl Echoes {
    /// From the round trips of the replies (in send order) out of `sent` echoes; `None` when
    /// nothing came back.
    pub fn of(rtts: &[f64], sent: u16) -> Option<Self> {
        if rtts.is_empty() || sent == 0 {
            return None;
        }
        let replies = rtts.len() as f64;
        let jitter = (rtts.len() > 1)
            .then(|| rtts.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (replies - 1.0));
        Some(Self {
            rtt_ms: rtts.iter().sum::<f64>() / replies,
            loss_percent: (1.0 - replies / f64::from(sent)).max(0.0) * 100.0,
            jitter_ms: jitter,
        })
    }
}

/// Runs `probe` every `interval` (see [`crate::poll::spread_ticker`]) until cancelled.
pub async fn run_probe(
    prober: Arc<Prober>,
    probe: Probe,
    samples: mpsc::Sender<crate::poll::Reading>,
    cancel: CancellationToken,
) {
    let mut ticker = crate::poll::spread_ticker(probe.interval);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let batch = tokio::select! {
            () = cancel.cancelled() => return,
            batch = prober.run(&probe, crate::poll::now()) => batch,
        };
        if samples.send(batch.into()).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
