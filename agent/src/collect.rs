//! Collectors: one file per RouterOS menu, each a request (with `.proplist`, so only the fields
//! used travel) and a pure parser from the `!re` attribute maps to telemetry samples (or, for
//! `/ip/neighbor`, events).
//!
//! No I/O here: `crate::poll` sends the requests on the router's session and hands the rows
//! to these parsers. Metric names and instance formats are those of `telemetry`'s v1 registry
//! (docs/metrics.md); the tests validate every produced sample against it. Counters are sent
//! raw, as the router reports them: the server turns them into rates and reads a decrease as a
//! restart (reboot or wrap), so the agent keeps no state for them.

pub mod bgp;
pub mod health;
pub mod interface;
pub mod neighbor;
pub mod netwatch;
pub mod ospf;
pub mod ppp;
pub mod queue;
pub mod resource;
pub mod routerboard;
pub mod value;
pub mod wireless;

#[cfg(test)]
mod fixtures;

use std::collections::BTreeMap;

use routeros::{Attributes, Request};
use telemetry::{DeviceRef, Event, EventDetail, Sample, UnixMs, Value};

/// One collector per menu the agent reads. `Resource` runs first on every poll: it is the
/// liveness check (`up`) and tells the RouterOS version, which picks the BGP menu. The
/// wireless registration tables are not here: which of them a router has follows from its
/// interface types, so `crate::poll` asks them once `Interface` answered
/// ([`wireless::tables`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    Resource,
    Health,
    Interface,
    Ethernet,
    Ppp,
    BgpV7,
    /// v7's configured peers: a connection without a session is `idle`. After `BgpV7`, whose
    /// samples it reads; skipped when that failed.
    BgpConnection,
    BgpV6,
    Ospf,
    QueueSimple,
    QueueTree,
    Netwatch,
    /// `/ip/neighbor`, on its own slower schedule (see `crate::poll::NEIGHBOR_INTERVAL`).
    Neighbor,
    /// The device's facts: on the slow interval, not every poll (see `crate::poll`).
    Routerboard,
}

impl Collector {
    /// What runs after `Resource`, for a router of this major version (v7 has
    /// `/routing/bgp/session` and `/routing/bgp/connection`, v6 `/routing/bgp/peer`), with
    /// `Routerboard` when its facts are due, in the order their answers are parsed.
    pub fn after_resource(major: u32, facts: bool) -> Vec<Collector> {
        use Collector::*;
        let bgp: &[Collector] = if major >= 7 {
            &[BgpV7, BgpConnection]
        } else {
            &[BgpV6]
        };
        let mut all = vec![Health, Interface, Ethernet, Ppp];
        all.extend_from_slice(bgp);
        all.extend([Ospf, QueueSimple, QueueTree, Netwatch]);
        if facts {
            all.push(Routerboard);
        }
        all
    }

    pub fn request(self) -> Request {
        match self {
            Collector::Resource => resource::request(),
            Collector::Health => health::request(),
            Collector::Interface => interface::request(),
            Collector::Ethernet => interface::ethernet_request(),
            Collector::Ppp => ppp::request(),
            Collector::BgpV7 => bgp::request_v7(),
            Collector::BgpConnection => bgp::request_connections(),
            Collector::BgpV6 => bgp::request_v6(),
            Collector::Ospf => ospf::request(),
            Collector::QueueSimple => queue::simple_request(),
            Collector::QueueTree => queue::tree_request(),
            Collector::Netwatch => netwatch::request(),
            Collector::Neighbor => neighbor::request(),
            Collector::Routerboard => routerboard::request(),
        }
    }

    /// Turns the rows of this collector's request into samples. `Routerboard` reports its facts
    /// with what this poll's resource print said (`ctx`).
    pub fn parse(self, rows: &[Attributes], ctx: &PollContext, out: &mut Out) {
        match self {
            Collector::Resource => {
                resource::parse(rows, out);
            }
            Collector::Health => health::parse(rows, out),
            Collector::Interface => interface::parse(rows, out),
            Collector::Ethernet => interface::parse_ethernet(rows, out),
            Collector::Ppp => ppp::parse(rows, out),
            Collector::BgpV7 => bgp::parse_v7(rows, out),
            Collector::BgpConnection => bgp::parse_connections(rows, out),
            Collector::BgpV6 => bgp::parse_v6(rows, out),
            Collector::Ospf => ospf::parse(rows, out),
            Collector::QueueSimple => queue::parse_simple(rows, out),
            Collector::QueueTree => queue::parse_tree(rows, out),
            Collector::Netwatch => netwatch::parse(rows, out),
            Collector::Neighbor => neighbor::parse(rows, out),
            Collector::Routerboard => routerboard::parse(rows, &ctx.system, out),
        }
    }
}

/// What a parser may need to know beyond its own rows.
#[derive(Debug, Clone, Default)]
pub struct PollContext {
    /// What this poll's `/system/resource` print said about the router.
    pub system: resource::System,
}

/// The samples and events of one poll of one device, all stamped with the poll's time.
#[derive(Debug, Clone)]
pub struct Out {
    device: DeviceRef,
    ts: UnixMs,
    pub samples: Vec<Sample>,
    pub events: Vec<Event>,
}

impl Out {
    pub fn new(device: DeviceRef, ts: UnixMs) -> Self {
        Self {
            device,
            ts,
            samples: Vec::new(),
            events: Vec::new(),
        }
    }

    /// An event of the device at the poll's time.
    pub fn event(&mut self, detail: EventDetail) {
        self.events.push(Event {
            device: self.device.clone(),
            ts: self.ts,
            detail,
        });
    }

    /// A gauge or counter sample. Non-finite numbers are not sent (the server would reject
    /// them, and a parser never produces one from RouterOS's integers).
    pub fn number(
        &mut self,
        metric: &str,
        instance: Option<&str>,
        value: f64,
    ) -> Option<&mut Sample> {
        if !value.is_finite() {
            return None;
        }
        Some(self.push(metric, instance, Value::Number(value)))
    }

    /// A state sample.
    pub fn state(&mut self, metric: &str, instance: Option<&str>, value: &str) -> &mut Sample {
        self.push(metric, instance, Value::State(value.to_owned()))
    }

    fn push(&mut self, metric: &str, instance: Option<&str>, value: Value) -> &mut Sample {
        self.samples.push(Sample {
            device: self.device.clone(),
            metric: metric.to_owned(),
            instance: instance.map(str::to_owned),
            ts: self.ts,
            value,
            reason: None,
            labels: BTreeMap::new(),
        });
        let last = self.samples.len() - 1;
        &mut self.samples[last]
    }
}

/// Adds the labels whose values are present and non-empty.
pub fn labels<'a>(
    sample: &mut Sample,
    pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) {
    for (name, value) in pairs {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            sample.labels.insert(name.to_owned(), value.to_owned());
        }
    }
}

/// A field of a row, if present.
pub fn field<'r>(row: &'r Attributes, name: &str) -> Option<&'r str> {
    row.get(name).map(String::as_str)
}

/// Validates samples and events against the v1 contract as the server would (tests only).
#[cfg(test)]
fn validated(samples: &[Sample], events: &[Event]) -> telemetry::Validated {
    use telemetry::{validate, AgentInfo, Batch, Limits, Registry};
    let now = samples
        .first()
        .map(|s| s.ts)
        .or_else(|| events.first().map(|e| e.ts))
        .unwrap_or(UnixMs(0));
    let batch = Batch {
        batch_id: uuid::Uuid::from_u128(1),
        agent: AgentInfo {
            name: "test".into(),
            version: "0".into(),
        },
        sent_at: now,
        samples: samples.to_vec(),
        events: events.to_vec(),
    };
    validate(batch, &Registry::v1(), now, &Limits::default()).expect("batch-level valid")
}

/// Validates samples against the v1 registry as the server would (tests only).
#[cfg(test)]
pub fn assert_valid(samples: &[Sample]) {
    let v = validated(samples, &[]);
    assert!(
        v.sample_rejections.is_empty(),
        "rejected: {:#?}",
        v.sample_rejections
    );
}

/// Validates events as the server would (tests only).
#[cfg(test)]
pub fn assert_valid_events(events: &[Event]) {
    let v = validated(&[], events);
    assert!(
        v.event_rejections.is_empty(),
        "rejected: {:#?}",
        v.event_rejections
    );
}
