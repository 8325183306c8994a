//! `/interface` (traffic counters and link state, every interface including PPPoE's dynamic
//! ones) and `/interface/ethernet` (the link speed). Instance = the interface name.
//!
//! Counters go out raw; the server makes rates and treats a decrease as a restart.

use routeros::{Attributes, Request};

use super::value::{boolean, link_speed_bps, number};
use super::{field, labels, Out};

const COUNTERS: [(&str, &str); 8] = [
    ("rx-byte", "interface_rx_bytes_total"),
    ("tx-byte", "interface_tx_bytes_total"),
    ("rx-packet", "interface_rx_packets_total"),
    ("tx-packet", "interface_tx_packets_total"),
    ("rx-error", "interface_rx_errors_total"),
    ("tx-error", "interface_tx_errors_total"),
    ("rx-drop", "interface_rx_drops_total"),
    ("tx-drop", "interface_tx_drops_total"),
];

pub fn request() -> Request {
    let mut fields = vec!["name", "type", "running", "disabled"];
    fields.extend(COUNTERS.iter().map(|(f, _)| *f));
    Request::new("/interface/print").proplist(fields)
}

pub fn ethernet_request() -> Request {
    Request::new("/interface/ethernet/print").proplist(["name", "speed", "running"])
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        let Some(name) = field(row, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        for (attr, metric) in COUNTERS {
            if let Some(v) = field(row, attr).and_then(number) {
                out.number(metric, Some(name), v);
            }
        }
        let disabled = field(row, "disabled").and_then(boolean) == Some(true);
        let running = field(row, "running").and_then(boolean);
        let state = match (disabled, running) {
            (true, _) => "disabled",
            (false, Some(true)) => "up",
            (false, Some(false)) => "down",
            (false, None) => continue,
        };
        let sample = out.state("interface_running", Some(name), state);
        labels(sample, [("type", field(row, "type"))]);
    }
}

/// The configured speed of running Ethernet ports (a port without link has no speed).
pub fn parse_ethernet(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        let (Some(name), Some(speed)) = (field(row, "name"), field(row, "speed")) else {
            continue;
        };
        if field(row, "running").and_then(boolean) == Some(false) {
            continue;
        }
        if let Some(bps) = link_speed_bps(speed) {
            out.number("interface_speed_bps", Some(name), bps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, rows, state_of, value_of};

    #[test]
    fn counters_and_link_state_per_interface() {
        let rows = rows("interface");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        let name = rows[0]["name"].as_str();
        assert_eq!(
            value_of(&out, "interface_rx_bytes_total", Some(name)),
            rows[0]["rx-byte"].parse().ok()
        );
        assert_eq!(
            state_of(&out, "interface_running", name).as_deref(),
            Some("up")
        );
        // A state per interface, and its counters.
        let states = out
            .samples
            .iter()
            .filter(|s| s.metric == "interface_running")
            .count();
        assert_eq!(states, rows.len());
        assert!(out.samples.len() > rows.len() * 4);
    }

    #[test]
    fn disabled_down_and_dynamic_interfaces() {
        let mut out = out();
        parse(&rows("interface-edge"), &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(
            state_of(&out, "interface_running", "ether5").as_deref(),
            Some("disabled")
        );
        assert_eq!(
            state_of(&out, "interface_running", "ether6").as_deref(),
            Some("down")
        );
        assert_eq!(
            state_of(&out, "interface_running", "<pppoe-anna>").as_deref(),
            Some("up")
        );
        let running = out
            .samples
            .iter()
            .find(|s| s.metric == "interface_running")
            .expect("state");
        assert!(running.labels.contains_key("type"));
    }

    #[test]
    fn ethernet_speeds() {
        let mut out = out();
        parse_ethernet(&rows("ethernet"), &mut out);
        crate::collect::assert_valid(&out.samples);
        assert!(!out.samples.is_empty());
        assert!(out
            .samples
            .iter()
            .all(|s| matches!(s.value, telemetry::Value::Number(v) if v >= 1e6)));
    }
}
