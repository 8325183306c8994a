//! The metrics of ingest v1: what the RouterOS collectors and the probes of issue 7 produce.
//! Within v1 this table only grows; a metric is never renamed or given another kind or unit.

use super::{MetricKind, MetricSpec, Unit};
use crate::instance::InstanceKind;

const UP_DOWN: &[&str] = &["up", "down"];

const fn gauge(
    name: &'static str,
    unit: Unit,
    instance: InstanceKind,
    help: &'static str,
) -> MetricSpec {
    MetricSpec {
        name,
        kind: MetricKind::Gauge,
        unit,
        instance,
        labels: &[],
        min: None,
        max: None,
        help,
    }
}

/// A gauge that cannot be negative (a size, a duration, a count).
const fn level(
    name: &'static str,
    unit: Unit,
    instance: InstanceKind,
    help: &'static str,
) -> MetricSpec {
    MetricSpec {
        min: Some(0.0),
        ..gauge(name, unit, instance, help)
    }
}

/// A gauge in 0–100 %.
const fn percent(name: &'static str, instance: InstanceKind, help: &'static str) -> MetricSpec {
    MetricSpec {
        min: Some(0.0),
        max: Some(100.0),
        ..gauge(name, Unit::Percent, instance, help)
    }
}

const fn counter(
    name: &'static str,
    unit: Unit,
    instance: InstanceKind,
    help: &'static str,
) -> MetricSpec {
    MetricSpec {
        kind: MetricKind::Counter,
        ..level(name, unit, instance, help)
    }
}

const fn state(
    name: &'static str,
    states: &'static [&'static str],
    instance: InstanceKind,
    help: &'static str,
) -> MetricSpec {
    MetricSpec {
        kind: MetricKind::State(states),
        ..gauge(name, Unit::None, instance, help)
    }
}

const fn labels(spec: MetricSpec, labels: &'static [&'static str]) -> MetricSpec {
    MetricSpec { labels, ..spec }
}

use InstanceKind as I;

pub(super) const METRICS: &[MetricSpec] = &[
    // Availability evidence: one per poll, success or not (a failed poll is data).
    labels(
        state(
            "up",
            UP_DOWN,
            I::None,
            "The device answered its poll; `down` carries the reason",
        ),
        &["via"],
    ),
    // /system/resource, /system/health
    percent("cpu_load_percent", I::None, "CPU load, all cores"),
    // /system/routerboard with /system/resource's version, board and architecture: what the
    // device is (slow profile). The facts are labels, so the series keeps the latest of them.
    labels(
        state(
            "device_info",
            &["routerboard", "chr", "x86", "other"],
            I::None,
            "What the device is (RouterBOARD, CHR, x86); the facts are its labels",
        ),
        &[
            "model",
            "serial_number",
            "board_name",
            "architecture",
            "routeros_version",
            "firmware_type",
            "factory_firmware",
        ],
    ),
    labels(
        state(
            "firmware_upgrade_pending",
            &["no", "yes"],
            I::None,
            "The RouterBOOT firmware is not the one the installed RouterOS brings; `yes` until `/system/routerboard/upgrade` and a reboot",
        ),
        &["current_firmware", "upgrade_firmware"],
    ),
    level("memory_used_bytes", Unit::Bytes, I::None, "Memory in use"),
    level(
        "memory_total_bytes",
        Unit::Bytes,
        I::None,
        "Memory installed",
    ),
    level(
        "uptime_seconds",
        Unit::Seconds,
        I::None,
        "Time since boot; a decrease is a reboot",
    ),
    gauge(
        "temperature_celsius",
        Unit::Celsius,
        I::Sensor,
        "A temperature sensor",
    ),
    gauge("voltage_volts", Unit::Volts, I::Sensor, "A voltage sensor"),
    // /interface
    counter(
        "interface_rx_bytes_total",
        Unit::Bytes,
        I::Interface,
        "Bytes received",
    ),
    counter(
        "interface_tx_bytes_total",
        Unit::Bytes,
        I::Interface,
        "Bytes sent",
    ),
    counter(
        "interface_rx_packets_total",
        Unit::Packets,
        I::Interface,
        "Packets received",
    ),
    counter(
        "interface_tx_packets_total",
        Unit::Packets,
        I::Interface,
        "Packets sent",
    ),
    counter(
        "interface_rx_errors_total",
        Unit::Packets,
        I::Interface,
        "Receive errors",
    ),
    counter(
        "interface_tx_errors_total",
        Unit::Packets,
        I::Interface,
        "Transmit errors",
    ),
    counter(
        "interface_rx_drops_total",
        Unit::Packets,
        I::Interface,
        "Received packets dropped",
    ),
    counter(
        "interface_tx_drops_total",
        Unit::Packets,
        I::Interface,
        "Packets dropped before sending",
    ),
    labels(
        state(
            "interface_running",
            &["up", "down", "disabled"],
            I::Interface,
            "Link state; `disabled` is administratively off (not an outage)",
        ),
        &["type"],
    ),
    level(
        "interface_speed_bps",
        Unit::BitsPerSecond,
        I::Interface,
        "Negotiated link speed",
    ),
    // /ppp/active
    level(
        "pppoe_sessions",
        Unit::Count,
        I::None,
        "Active PPPoE sessions",
    ),
    labels(
        level(
            "pppoe_session_uptime_seconds",
            Unit::Seconds,
            I::PppoeSession,
            "Session uptime; a decrease is a reconnect",
        ),
        &["address", "caller_id", "service"],
    ),
    // /routing/bgp/session (v7), /routing/bgp/peer (v6); RFC 4271 states
    labels(
        state(
            "bgp_session_state",
            &[
                "idle",
                "connect",
                "active",
                "opensent",
                "openconfirm",
                "established",
                "disabled",
            ],
            I::BgpPeer,
            "BGP session state",
        ),
        &["remote_address", "remote_as"],
    ),
    level(
        "bgp_prefixes_received",
        Unit::Count,
        I::BgpPeer,
        "Prefixes received from the peer",
    ),
    // /routing/ospf/neighbor; RFC 2328 states
    labels(
        state(
            "ospf_neighbor_state",
            &[
                "down", "attempt", "init", "two_way", "exstart", "exchange", "loading", "full",
            ],
            I::OspfNeighbor,
            "OSPF adjacency state",
        ),
        &["address", "interface"],
    ),
    // /queue/simple, /queue/tree
    labels(
        counter(
            "queue_bytes_total",
            Unit::Bytes,
            I::Queue,
            "Bytes through the queue",
        ),
        &["target", "parent"],
    ),
    counter(
        "queue_dropped_packets_total",
        Unit::Packets,
        I::Queue,
        "Packets the queue dropped",
    ),
    level(
        "queue_rate_bps",
        Unit::BitsPerSecond,
        I::Queue,
        "Current rate as RouterOS reports it",
    ),
    // wireless / CAPsMAN registration tables
    level(
        "wireless_clients",
        Unit::Count,
        I::None,
        "Registered wireless clients",
    ),
    labels(
        gauge(
            "wireless_signal_dbm",
            Unit::Dbm,
            I::WirelessClient,
            "Client signal strength",
        ),
        &["interface", "ssid"],
    ),
    percent(
        "wireless_ccq_percent",
        I::WirelessClient,
        "Client connection quality (CCQ)",
    ),
    level(
        "wireless_tx_rate_bps",
        Unit::BitsPerSecond,
        I::WirelessClient,
        "Rate towards the client",
    ),
    level(
        "wireless_rx_rate_bps",
        Unit::BitsPerSecond,
        I::WirelessClient,
        "Rate from the client",
    ),
    // /tool/netwatch (the router's own checks)
    state(
        "netwatch_status",
        &["up", "down", "unknown"],
        I::ProbeTarget,
        "A netwatch entry's status",
    ),
    // The agent's probes: ICMP echo, TCP connect, DNS query, HTTP(S) request
    state(
        "probe_up",
        UP_DOWN,
        I::ProbeTarget,
        "The probe succeeded; `down` carries the reason",
    ),
    level(
        "probe_rtt_ms",
        Unit::Milliseconds,
        I::ProbeTarget,
        "Round trip (ICMP), connect (TCP), query (DNS) or response (HTTP) time",
    ),
    percent(
        "probe_loss_percent",
        I::ProbeTarget,
        "Probes lost in the interval",
    ),
    level(
        "probe_jitter_ms",
        Unit::Milliseconds,
        I::ProbeTarget,
        "RTT variation in the interval",
    ),
];
