//! `/system/resource`: CPU load, memory and uptime, and the RouterOS version that decides
//! which BGP menu the router has. This print is also the poll's liveness check (`up`).

use routeros::{Attributes, Request};

use super::value::{duration_secs, major_version, number};
use super::{field, Out};

pub const FIELDS: [&str; 5] = [
    "cpu-load",
    "free-memory",
    "total-memory",
    "uptime",
    "version",
];

pub fn request() -> Request {
    Request::new("/system/resource/print").proplist(FIELDS)
}

/// Emits the gauges and returns the RouterOS major version, if the row says it.
pub fn parse(rows: &[Attributes], out: &mut Out) -> Option<u32> {
    let row = rows.first()?;
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
    if let Some(uptime) = field(row, "uptime").and_then(duration_secs) {
        out.number("uptime_seconds", None, uptime.floor());
    }
    field(row, "version").and_then(major_version)
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
            assert_eq!(parse(&rows, &mut out), Some(major));
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
        assert_eq!(parse(&[Attributes::new()], &mut out), None);
        assert!(out.samples.is_empty());
        assert_eq!(parse(&[], &mut out), None);
    }
}
