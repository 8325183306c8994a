//! The I/O around the collectors: one `routeros::Session` per router, reused across polls;
//! each router polled on its own interval; polls of different routers concurrent up to a cap.
//!
//! A poll first prints `/system/resource`: its answer is the liveness evidence (`up`), and its
//! failure (timeout, refused connection or login, a trap, the circuit breaker holding off) is
//! written as `up = down` with the reason; it is never only logged. The other menus then run
//! at once on the same connection (commands are multiplexed by tag). One of them failing
//! does not make the router down: it is logged and counted, and its series just miss a point.
//! `/ip/neighbor` runs with them once every [`NEIGHBOR_INTERVAL`] (discovery changes slowly),
//! each time sending the whole table as `neighbor` events.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use routeros::session::breaker::BackoffPolicy;
use routeros::{ClientConfig, Error, Session};
use telemetry::{DeviceRef, Event, Sample, UnixMs};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::collect::{self, interface, resource, Collector, Out, PollContext};
use crate::stats::Stats;

/// One router to poll, as the fleet file describes it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The inventory name, for logs.
    pub name: String,
    /// How samples name the device: its inventory id if known, else its name.
    pub device: DeviceRef,
    pub client: ClientConfig,
    pub interval: Duration,
}

impl Target {
    /// A router of a running simulator (`routeros::sim`), its API-SSL certificate pinned, polled
    /// every `interval`: what the integration tests, the server's agent test and the collection
    /// benchmark poll.
    pub fn simulated(
        router: &routeros::sim::RunningRouter,
        username: &str,
        password: &str,
        interval: Duration,
    ) -> Self {
        let mut client = ClientConfig::new(
            router.address.ip().to_string(),
            username.to_owned(),
            password,
        );
        client.port = router.address.port();
        client.connect_timeout = Duration::from_secs(2);
        client.request_timeout = Duration::from_secs(5);
        if let Some(cert) = &router.certificate {
            client.tls = Some(routeros::tls::TlsConfig {
                verification: routeros::tls::Verification::Pinned(routeros::tls::Fingerprint::of(
                    cert,
                )),
                server_name: None,
            });
        }
        Self {
            name: router.name.clone(),
            device: DeviceRef::Name(router.name.clone()),
            client,
            interval,
        }
    }

    /// `up`'s `via` label.
    fn via(&self) -> &'static str {
        if self.client.tls.is_some() {
            "api_ssl"
        } else {
            "api"
        }
    }
}

/// How often a router's neighbour table is read: the slow polling interval, as links change
/// rarely and the server only needs each neighbour's latest sighting.
pub const NEIGHBOR_INTERVAL: Duration = Duration::from_secs(300);

/// What one poll hands on to be sealed: its samples and events.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub samples: Vec<Sample>,
    pub events: Vec<Event>,
}

impl Reading {
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.events.is_empty()
    }
}

impl From<Vec<Sample>> for Reading {
    fn from(samples: Vec<Sample>) -> Reading {
        Reading {
            samples,
            events: Vec::new(),
        }
    }
}

impl From<Out> for Reading {
    fn from(out: Out) -> Reading {
        Reading {
            samples: out.samples,
            events: out.events,
        }
    }
}

/// A router's poller: its session and what it remembers between polls.
#[derive(Debug)]
pub struct Poller {
    target: Target,
    session: Session,
    /// The RouterOS major version of the last good resource print.
    major: Option<u32>,
    /// Sessions and adjacencies seen before, with their labels: see [`Poller::vanished`].
    remembered: HashMap<(&'static str, String), BTreeMap<String, String>>,
    /// When the neighbour table was last read successfully (the poll's timestamp).
    neighbors_read: Option<UnixMs>,
}

/// State series whose objects disappear from the print when they go down, and the state a
/// missing one is reported in.
const VANISHING: [(&str, &str, Collector); 2] = [
    ("bgp_session_state", "idle", Collector::BgpV7),
    ("ospf_neighbor_state", "down", Collector::Ospf),
];

impl Poller {
    pub fn new(target: Target, policy: BackoffPolicy) -> Self {
        let session = Session::new(target.client.clone(), policy);
        Self {
            target,
            session,
            major: None,
            remembered: HashMap::new(),
            neighbors_read: None,
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// True when the neighbour table is due at `ts`: never read, or read
    /// [`NEIGHBOR_INTERVAL`] ago (a clock that went back counts as due).
    fn neighbors_due(&self, ts: UnixMs) -> bool {
        let interval = i64::try_from(NEIGHBOR_INTERVAL.as_millis()).unwrap_or(i64::MAX);
        self.neighbors_read
            .is_none_or(|read| ts.0 < read.0 || ts.0 - read.0 >= interval)
    }

    /// Polls every collector once (the neighbour table when due); everything is stamped `ts`.
    pub async fn poll(&mut self, ts: UnixMs, stats: &Stats) -> Reading {
        let mut out = Out::new(self.target.device.clone(), ts);
        let via = self.target.via();
        let resource = match self.session.call(&Collector::Resource.request()).await {
            Ok(response) => response,
            Err(e) => {
                stats.count_poll(false);
                tracing::debug!(router = %self.target.name, error = %e, "poll failed");
                let sample = out.state("up", None, "down");
                sample.reason = Some(reason(&e));
                collect::labels(sample, [("via", Some(via))]);
                return out.into();
            }
        };
        stats.count_poll(true);
        let sample = out.state("up", None, "up");
        collect::labels(sample, [("via", Some(via))]);
        if let Some(major) = resource::parse(&resource.rows, &mut out) {
            self.major = Some(major);
        }
        let mut collectors = Collector::after_resource(self.major.unwrap_or(7));
        if self.neighbors_due(ts) {
            collectors.push(Collector::Neighbor);
        }
        let calls = collectors.iter().map(|&c| {
            let session = self.session.clone();
            async move { (c, session.call(&c.request()).await) }
        });
        let results = futures_util::future::join_all(calls).await;
        let ctx = PollContext {
            has_wireless: results.iter().any(|(c, r)| {
                *c == Collector::Interface
                    && r.as_ref().is_ok_and(|r| interface::has_wireless(&r.rows))
            }),
        };
        let mut succeeded = Vec::new();
        for (collector, result) in results {
            // Connections are judged against the sessions: not without them.
            if collector == Collector::BgpConnection && !succeeded.contains(&Collector::BgpV7) {
                continue;
            }
            match result {
                Ok(response) => {
                    collector.parse(&response.rows, &ctx, &mut out);
                    succeeded.push(collector);
                }
                // A menu the router does not have (no wireless package, no BGP) answers with
                // a trap: nothing to report.
                Err(Error::Trap { message, .. }) => {
                    tracing::debug!(router = %self.target.name, ?collector, %message, "menu not available");
                }
                Err(e) => {
                    stats.count_collector_failure();
                    tracing::warn!(router = %self.target.name, ?collector, error = %e, "collector failed; its series miss this poll");
                }
            }
        }
        if succeeded.contains(&Collector::Neighbor) {
            self.neighbors_read = Some(ts);
        }
        self.vanished(&succeeded, &mut out);
        out.into()
    }

    /// v7 lists BGP sessions, and every version lists OSPF neighbours, only while they exist:
    /// a session that went down is missing, not `idle`. A series seen before and missing now
    /// (while its menu answered) is reported `idle`/`down` with that reason, so the server
    /// sees the outage instead of a stale last value. Forgotten when the agent restarts.
    fn vanished(&mut self, succeeded: &[Collector], out: &mut Out) {
        for (metric, missing_state, collector) in VANISHING {
            if !succeeded.contains(&collector) {
                continue;
            }
            let present: Vec<(String, BTreeMap<String, String>)> = out
                .samples
                .iter()
                .filter(|s| s.metric == metric)
                .filter_map(|s| Some((s.instance.clone()?, s.labels.clone())))
                .collect();
            for (instance, labels) in &present {
                self.remembered
                    .insert((metric, instance.clone()), labels.clone());
            }
            let gone: Vec<(String, BTreeMap<String, String>)> = self
                .remembered
                .iter()
                .filter(|((m, i), _)| *m == metric && !present.iter().any(|(p, _)| p == i))
                .map(|((_, i), l)| (i.clone(), l.clone()))
                .collect();
            for (instance, labels) in gone {
                let sample = out.state(metric, Some(&instance), missing_state);
                sample.reason = Some("no longer listed by the router".into());
                sample.labels = labels;
            }
        }
    }
}

/// The reason of a failed poll, short enough for the registry's 256-byte limit.
pub fn reason(error: &Error) -> String {
    let text = match error {
        Error::ConnectTimeout { timeout, .. } => {
            format!("timeout: no connection within {timeout:?}")
        }
        Error::Connect { source, .. } => format!("connection failed: {source}"),
        Error::Tls { source, .. } => format!("TLS handshake failed: {source}"),
        Error::TlsConfig(m) => format!("TLS settings: {m}"),
        Error::LoginRefused { message, .. } => format!("login refused: {message}"),
        Error::RequestTimeout {
            timeout, command, ..
        } => {
            format!("timeout: no answer to {command} within {timeout:?}")
        }
        Error::Trap { message, .. } => format!("trap: {message}"),
        Error::Fatal { message, .. } => format!("session ended by the router: {message}"),
        Error::Protocol { detail, .. } => format!("protocol error: {detail}"),
        Error::ConnectionLost { detail, .. } => format!("connection lost: {detail}"),
        Error::InvalidRequest(e) => format!("invalid request: {e}"),
        // The breaker holds off after failures: the reason is the last real one.
        Error::CircuitOpen { last_error, .. } => format!("not polled (circuit open): {last_error}"),
        Error::BackingOff { last_error, .. } => format!("not polled (backing off): {last_error}"),
    };
    truncate(text, telemetry::MAX_REASON_BYTES)
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
pub fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Now, as a sample timestamp.
pub fn now() -> UnixMs {
    UnixMs::from_datetime(time::OffsetDateTime::now_utc())
}

/// Ticks every `interval`, the first time after a random part of it, so that a fleet's polls
/// and probes spread out; a missed tick is skipped, not bunched.
pub fn spread_ticker(interval: Duration) -> tokio::time::Interval {
    let interval = interval.max(Duration::from_millis(1));
    let first = interval.mul_f64(rand::random::<f64>());
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + first, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticker
}

/// What a polling task polls on its interval: a router's [`Poller`], an SNMP device.
pub trait Polled: Send + 'static {
    fn interval(&self) -> Duration;
    /// One poll; its samples and events are stamped `ts`.
    fn poll_once(&mut self, ts: UnixMs, stats: &Stats) -> impl Future<Output = Reading> + Send;
}

impl Polled for Poller {
    fn interval(&self) -> Duration {
        self.target.interval
    }

    fn poll_once(&mut self, ts: UnixMs, stats: &Stats) -> impl Future<Output = Reading> + Send {
        self.poll(ts, stats)
    }
}

/// Polls `device` every interval (see [`spread_ticker`]), each poll holding a permit of
/// `limit`, and hands the readings on, until cancelled or until they have nowhere to go.
pub async fn run_every(
    mut device: impl Polled,
    limit: Arc<Semaphore>,
    samples: mpsc::Sender<Reading>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) {
    let mut ticker = spread_ticker(device.interval());
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let Ok(_permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let batch = tokio::select! {
            () = cancel.cancelled() => return,
            batch = device.poll_once(now(), &stats) => batch,
        };
        if samples.send(batch).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_short_and_name_the_cause() {
        let e = Error::LoginRefused {
            peer: "p".into(),
            user: "u".into(),
            message: "invalid user name or password (6)".into(),
        };
        assert_eq!(
            reason(&e),
            "login refused: invalid user name or password (6)"
        );
        let long = Error::Protocol {
            peer: "p".into(),
            detail: "é".repeat(400),
        };
        let r = reason(&long);
        assert!(r.len() <= telemetry::MAX_REASON_BYTES && r.starts_with("protocol error"));
    }
}
