//! `/system/resource`: CPU load, memory and uptime, and what the router is: the RouterOS
//! version that decides which BGP menu it has, and the board and architecture that
//! `routerboard.rs` reports with its facts. This print is also the poll's liveness check (`up`).

use routeros::{Attributes, Request};

use super::value::{duration_secs, major_version, number};
use super::{field, Out};

pub const FIELDS: [&str; 7] = [
    "cpu-load",
    "free-memory",
    "total-memory",
    "uptime",
    "version",
    "board-name",
    "architecture-name",
];

/// What the resource print says about the router itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct System {
    /// `7.16.2` of `7.16.2 (stable)`.
    pub version: Option<String>,
    /// `CCR2004-16G-2S+`, `CHR`, `x86`.
    pub board_name: Option<String>,
    /// `arm64`, `x86_64`, `tile`.
    pub architecture: Option<String>,
    /// Seconds since boot.
    pub uptime: Option<f64>,
}

impl System {
    /// The RouterOS major version, if the row said it.
    pub fn major(&self) -> Option<u32> {
        self.version.as_deref().and_then(major_version)
    }
}

pub fn request() -> Request {
    Request::new("/system/resource/print").proplist(FIELDS)
}

/// Emits the gauges and returns what the row says about the router.
pub fn parse(rows: &[Attributes], out: &mut Out) -> System {
    let Some(row) = rows.first() else {
        return System::default();
    };
    let num = |name| field(row, name).and_then(number);
    if let Some(load) = num("cpu-load") {
        out.number("cpu_load_percent", None, load);
    }
    if let Some(total) = num("total-memory") {
        out.number("memory_total_bytes", None, total);
        if let Some(free) = num("free-memory") {
            out.number("memory_used_bytes", None, (total - free).max(0.0));
        }
    }
    let uptime = field(row, "uptime").and_then(duration_secs).map(f64::floor);
    if let Some(uptime) = uptime {
        out.number("uptime_seconds", None, uptime);
    }
    let text = |name| {
        field(row, name)
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_owned)
    };
    System {
        version: text("version"),
        board_name: field(row, "board-name")
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned),
        architecture: text("architecture-name"),
        uptime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, rows, value_of};

    #[test]
    fn v7_and_v6_resources() {
        for (router, major, uptime) in [
            ("v7", 7, 3_456_789.0),
            ("v6", 6, 1_209_600.0 + 86_400.0 + 3_723.0),
        ] {
            let rows = rows(&format!("resource-{router}"));
            let mut out = out();
            let system = parse(&rows, &mut out);
            assert_eq!(system.major(), Some(major));
            assert_eq!(system.uptime, Some(uptime), "{router}");
            assert!(system.board_name.is_some(), "{router}");
            crate::collect::assert_valid(&out.samples);
            assert_eq!(
                value_of(&out, "uptime_seconds", None),
                Some(uptime),
                "{router}"
            );
            let total = value_of(&out, "memory_total_bytes", None).expect("total");
            let used = value_of(&out, "memory_used_bytes", None).expect("used");
            assert!(used > 0.0 && used < total);
            assert!(value_of(&out, "cpu_load_percent", None).is_some());
        }
    }

    #[test]
    fn missing_fields_give_fewer_samples_not_errors() {
        let mut out = out();
        assert_eq!(parse(&[Attributes::new()], &mut out), System::default());
        assert!(out.samples.is_empty());
        assert_eq!(parse(&[], &mut out), System::default());
    }
}
