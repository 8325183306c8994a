//! The I/O around the collectors: one `routeros::Session` per router, reused across polls;
//! each router polled on its own interval; polls of different routers concurrent up to a cap.
//!
//! A poll first prints `/system/resource`: its answer is the liveness evidence (`up`), and its
//! failure (timeout, refused connection or login, a trap, the circuit breaker holding off) is
//! written as `up = down` with the reason; it is never only logged. The other menus then run
//! at once on the same connection (commands are multiplexed by tag); the wireless
//! registration tables the router's interface types call for follow once `/interface`
//! answered. One of them failing does not make the router down: it is logged and counted, and
//! its series just miss a point. A trap ("no such command") means the router lacks that menu
//! (a package it does not have): nothing to report, only a debug line.
//!
//! `/ip/neighbor` runs with them once every [`NEIGHBOR_INTERVAL`] (discovery changes slowly),
//! each time sending the whole table as `neighbor` events. `/system/routerboard` (the device's
//! facts) is read on the slow interval, and again at once when the resource print shows a
//! reboot or another RouterOS version: that is when the firmware and the version change.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use routeros::session::breaker::BackoffPolicy;
use routeros::{Attributes, ClientConfig, Error, Response, Session, Transport};
use telemetry::{DeviceRef, Event, Sample, UnixMs};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::collect::resource;
use crate::collect::wireless::{self, Table};
use crate::collect::{self, Collector, Out, PollContext};
use crate::stats::Stats;
pub use facts::FactsRead;

mod facts;

/// One router to poll, as the fleet file describes it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The inventory name, for logs.
    pub name: String,
    /// How samples name the device: its inventory id if known, else its name.
    pub device: DeviceRef,
    pub client: ClientConfig,
    pub interval: Duration,
    /// How often `/system/routerboard` is read: the slow interval (or `interval`, if longer).
    pub facts_interval: Duration,
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
            facts_interval: crate::fleet::FleetOptions::defaults()
                .intervals
                .slow
                .max(interval),
        }
    }

    /// The same router polled over its REST service (`/rest` over HTTPS), its certificate
    /// pinned: what the tests comparing the two transports poll.
    pub fn simulated_rest(
        router: &routeros::sim::RunningRouter,
        username: &str,
        password: &str,
        interval: Duration,
    ) -> Option<Self> {
        let rest = router.rest.as_ref()?;
        let mut target = Self::simulated(router, username, password, interval);
        target.client.host = rest.address.ip().to_string();
        target.client.port = rest.address.port();
        target.client.transport = Transport::Rest;
        target.client.tls = Some(routeros::tls::TlsConfig {
            verification: routeros::tls::Verification::Pinned(routeros::tls::Fingerprint::of(
                &rest.certificate,
            )),
            server_name: None,
        });
        Some(target)
    }

    /// `up`'s `via` label.
    fn via(&self) -> &'static str {
        match (self.client.transport, &self.client.tls) {
            (Transport::Rest, _) => "rest",
            (Transport::Api, Some(_)) => "api_ssl",
            (Transport::Api, None) => "api",
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
    /// The last answer of `/system/routerboard` (or its trap).
    facts: Option<FactsRead>,
}

/// What became of one request after the resource print.
enum Answer {
    Rows(Vec<Attributes>),
    /// A trap: the router does not have the menu.
    Absent,
    Failed,
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
            facts: None,
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
        let system = resource::parse(&resource.rows, &mut out);
        if let Some(major) = system.major() {
            self.major = Some(major);
        }
        let facts_due = self
            .facts
            .as_ref()
            .is_none_or(|read| read.due(ts, &system, &self.target));
        let mut collectors = Collector::after_resource(self.major.unwrap_or(7), facts_due);
        if self.neighbors_due(ts) {
            collectors.push(Collector::Neighbor);
        }
        let results = self.call_all(collectors, |c| c.request()).await;
        let ctx = PollContext { system };
        let mut succeeded = Vec::new();
        let mut tables = Vec::new();
        // A router without the menu (a trap) has no facts to read until the next interval.
        let mut facts_read = false;
        for (collector, result) in results {
            // Connections are judged against the sessions: not without them.
            if collector == Collector::BgpConnection && !succeeded.contains(&Collector::BgpV7) {
                continue;
            }
            match self.answer(&collector, result, stats) {
                Answer::Rows(rows) => {
                    if collector == Collector::Interface {
                        tables = wireless::tables(&rows);
                    }
                    collector.parse(&rows, &ctx, &mut out);
                    succeeded.push(collector);
                    facts_read |= collector == Collector::Routerboard;
                }
                Answer::Absent => facts_read |= collector == Collector::Routerboard,
                Answer::Failed => {}
            }
        }
        if succeeded.contains(&Collector::Neighbor) {
            self.neighbors_read = Some(ts);
        }
        if facts_read {
            self.facts = Some(FactsRead {
                at: ts,
                system: ctx.system.clone(),
            });
        }
        self.registrations(tables, stats, &mut out).await;
        self.vanished(&succeeded, &mut out);
        out.into()
    }

    /// Sends `items`' requests at once on the router's session; the answers in their order.
    async fn call_all<T: Copy>(
        &self,
        items: Vec<T>,
        request: impl Fn(T) -> routeros::Request,
    ) -> Vec<(T, Result<Response, Error>)> {
        let calls = items.into_iter().map(|item| {
            let session = self.session.clone();
            let request = request(item);
            async move { (item, session.call(&request).await) }
        });
        futures_util::future::join_all(calls).await
    }

    /// The rows of one answer. A trap means a menu the router does not have (no wireless
    /// package, no BGP): nothing to report. Any other failure is logged and counted; the
    /// router is not down for it.
    fn answer(
        &self,
        what: &dyn std::fmt::Debug,
        result: Result<Response, Error>,
        stats: &Stats,
    ) -> Answer {
        match result {
            Ok(response) => Answer::Rows(response.rows),
            Err(Error::Trap { message, .. }) => {
                tracing::debug!(router = %self.target.name, menu = ?what, %message, "menu not available");
                Answer::Absent
            }
            Err(e) => {
                stats.count_collector_failure();
                tracing::warn!(router = %self.target.name, menu = ?what, error = %e, "menu failed; its series miss this poll");
                Answer::Failed
            }
        }
    }

    /// Asks the registration tables of the router's radios and writes their clients, if any
    /// table answered.
    async fn registrations(&self, tables: Vec<Table>, stats: &Stats, out: &mut Out) {
        if tables.is_empty() {
            return;
        }
        let mut clients = Vec::new();
        let mut answered = false;
        for (table, result) in self.call_all(tables, Table::request).await {
            if let Answer::Rows(rows) = self.answer(&table, result, stats) {
                clients.extend(table.clients(&rows));
                answered = true;
            }
        }
        if answered {
            wireless::write(&clients, out);
        }
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
