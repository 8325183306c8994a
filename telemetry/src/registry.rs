//! The metric registry: every metric an agent may send, with its kind, unit, instance kind,
//! allowed labels and value range. `docs/metrics.md` shows the same table (a test compares them).

mod v1;

use std::collections::HashMap;

use crate::instance::InstanceKind;

/// How a metric's values behave, and so how the server stores and rolls them up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricKind {
    /// A level sampled at a point in time (CPU load, a temperature). Rolled up as min/max/avg.
    Gauge,
    /// A cumulative count since some start (interface bytes). Sent raw; the server turns it into
    /// a rate per second. A decrease means the counter restarted (reboot, wrap), never a negative
    /// rate. Names end in `_total`.
    Counter,
    /// One of a closed set of states, sent as a string (`up`/`down`). Stored as state intervals;
    /// a sample may carry a `reason` (why the device is `down`).
    State(&'static [&'static str]),
}

impl MetricKind {
    /// The name used in the docs: `gauge`, `counter`, `state`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
            MetricKind::State(_) => "state",
        }
    }
}

/// The unit of a numeric metric; also part of its name (`rtt_ms`, `rx_bytes_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// State metrics have no unit.
    None,
    /// A plain count (sessions, prefixes, clients).
    Count,
    /// 0–100.
    Percent,
    Bytes,
    Packets,
    Seconds,
    Milliseconds,
    BitsPerSecond,
    Celsius,
    Volts,
    /// Radio signal strength, decibel-milliwatts.
    Dbm,
}

impl Unit {
    /// The symbol shown in the docs and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::None => "-",
            Unit::Count => "count",
            Unit::Percent => "%",
            Unit::Bytes => "bytes",
            Unit::Packets => "packets",
            Unit::Seconds => "s",
            Unit::Milliseconds => "ms",
            Unit::BitsPerSecond => "bit/s",
            Unit::Celsius => "°C",
            Unit::Volts => "V",
            Unit::Dbm => "dBm",
        }
    }
}

/// One metric of the contract. A series is identified by (device, metric name, instance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSpec {
    /// snake_case, with the unit in the name where it has one.
    pub name: &'static str,
    pub kind: MetricKind,
    pub unit: Unit,
    /// What the sample's `instance` names; [`InstanceKind::None`] means no instance.
    pub instance: InstanceKind,
    /// Label names a sample may carry. Labels are attributes of the series (the latest value
    /// wins), not part of its identity.
    pub labels: &'static [&'static str],
    /// Inclusive bounds of a numeric value, if any.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// One line for the docs.
    pub help: &'static str,
}

/// The registry a server validates against: a table of [`MetricSpec`]s indexed by name.
#[derive(Debug, Clone)]
pub struct Registry {
    specs: &'static [MetricSpec],
    by_name: HashMap<&'static str, &'static MetricSpec>,
}

/// A registry table that breaks a rule every metric must follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metric `{metric}`: {problem}")]
pub struct RegistryError {
    pub metric: &'static str,
    pub problem: &'static str,
}

impl Registry {
    /// The metrics of ingest v1 (the table in `docs/metrics.md`).
    pub fn v1() -> Registry {
        Registry::index(v1::METRICS)
    }

    /// A registry over another table (an extended one, or a test's), checked: names unique and
    /// snake_case, counters end in `_total`, state metrics have states and no unit or range,
    /// labels snake_case and unique, `min <= max`.
    pub fn new(specs: &'static [MetricSpec]) -> Result<Registry, RegistryError> {
        for (i, spec) in specs.iter().enumerate() {
            check_spec(spec)?;
            if specs[..i].iter().any(|other| other.name == spec.name) {
                return Err(err(spec, "the name is listed twice"));
            }
        }
        Ok(Registry::index(specs))
    }

    fn index(specs: &'static [MetricSpec]) -> Registry {
        let by_name = specs.iter().map(|spec| (spec.name, spec)).collect();
        Registry { specs, by_name }
    }

    /// The spec of a metric name, if the registry knows it.
    pub fn get(&self, name: &str) -> Option<&'static MetricSpec> {
        self.by_name.get(name).copied()
    }

    /// Every metric, in table order.
    pub fn specs(&self) -> &'static [MetricSpec] {
        self.specs
    }
}

fn err(spec: &MetricSpec, problem: &'static str) -> RegistryError {
    RegistryError {
        metric: spec.name,
        problem,
    }
}

fn check_spec(spec: &MetricSpec) -> Result<(), RegistryError> {
    if !is_snake_case(spec.name) {
        return Err(err(spec, "the name is not snake_case"));
    }
    if !spec.labels.iter().all(|l| is_snake_case(l)) {
        return Err(err(spec, "a label name is not snake_case"));
    }
    if (1..spec.labels.len()).any(|i| spec.labels[..i].contains(&spec.labels[i])) {
        return Err(err(spec, "a label is listed twice"));
    }
    if let (Some(min), Some(max)) = (spec.min, spec.max) {
        if min > max {
            return Err(err(spec, "min is above max"));
        }
    }
    match spec.kind {
        MetricKind::Counter if !spec.name.ends_with("_total") => {
            Err(err(spec, "a counter's name must end in `_total`"))
        }
        MetricKind::Counter if spec.min != Some(0.0) => Err(err(spec, "a counter's min must be 0")),
        MetricKind::State([]) => Err(err(spec, "a state metric has no states")),
        MetricKind::State(states) if !states.iter().all(|s| is_snake_case(s)) => {
            Err(err(spec, "a state is not snake_case"))
        }
        MetricKind::State(_)
            if spec.unit != Unit::None || spec.min.is_some() || spec.max.is_some() =>
        {
            Err(err(spec, "a state metric has a unit or a range"))
        }
        MetricKind::Gauge | MetricKind::Counter if spec.unit == Unit::None => {
            Err(err(spec, "a numeric metric needs a unit"))
        }
        _ => Ok(()),
    }
}

fn is_snake_case(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.ends_with('_')
        && !s.contains("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v1_table_passes_the_checks_of_new() {
        let registry = Registry::new(v1::METRICS).map_err(|e| e.to_string());
        assert!(registry.is_ok(), "{registry:?}");
    }

    #[test]
    fn lookup_by_name() {
        let registry = Registry::v1();
        let spec = registry.get("cpu_load_percent");
        assert_eq!(spec.map(|s| s.unit), Some(Unit::Percent));
        assert!(registry.get("cpu_load").is_none());
        assert_eq!(registry.specs().len(), v1::METRICS.len());
    }

    const fn gauge(name: &'static str) -> MetricSpec {
        MetricSpec {
            name,
            kind: MetricKind::Gauge,
            unit: Unit::Count,
            instance: InstanceKind::None,
            labels: &[],
            min: None,
            max: None,
            help: "",
        }
    }

    fn problem(specs: &'static [MetricSpec]) -> String {
        match Registry::new(specs) {
            Ok(_) => "accepted".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn new_rejects_bad_tables_naming_the_metric() {
        static TWICE: [MetricSpec; 2] = [gauge("a_count"), gauge("a_count")];
        assert_eq!(
            problem(&TWICE),
            "metric `a_count`: the name is listed twice"
        );
        static CAMEL: [MetricSpec; 1] = [gauge("cpuLoad")];
        assert_eq!(
            problem(&CAMEL),
            "metric `cpuLoad`: the name is not snake_case"
        );
        static COUNTER: [MetricSpec; 1] = [MetricSpec {
            kind: MetricKind::Counter,
            min: Some(0.0),
            ..gauge("rx_bytes")
        }];
        assert_eq!(
            problem(&COUNTER),
            "metric `rx_bytes`: a counter's name must end in `_total`"
        );
        static NO_STATES: [MetricSpec; 1] = [MetricSpec {
            kind: MetricKind::State(&[]),
            unit: Unit::None,
            ..gauge("link")
        }];
        assert_eq!(
            problem(&NO_STATES),
            "metric `link`: a state metric has no states"
        );
        static RANGE: [MetricSpec; 1] = [MetricSpec {
            min: Some(2.0),
            max: Some(1.0),
            ..gauge("x")
        }];
        assert_eq!(problem(&RANGE), "metric `x`: min is above max");
        static LABELS: [MetricSpec; 1] = [MetricSpec {
            labels: &["a", "a"],
            ..gauge("y")
        }];
        assert_eq!(problem(&LABELS), "metric `y`: a label is listed twice");
        static NO_UNIT: [MetricSpec; 1] = [MetricSpec {
            unit: Unit::None,
            ..gauge("z")
        }];
        assert_eq!(
            problem(&NO_UNIT),
            "metric `z`: a numeric metric needs a unit"
        );
    }
}
