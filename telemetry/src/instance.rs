//! Instance kinds: what a sample's `instance` names (an interface, a BGP peer, …) and the format
//! each one must have. The instance is part of the series identity, so a format that lets one
//! thing be spelled two ways (a MAC address in lower and upper case) would split its history.

use std::net::Ipv4Addr;

/// The longest instance string accepted, in bytes.
pub const MAX_INSTANCE_BYTES: usize = 200;

/// What a metric's instance identifies on its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    /// A device-wide metric: the sample has no instance.
    None,
    /// An interface name as RouterOS shows it (`ether1`, `vlan100-cust`).
    Interface,
    /// The BGP session (v7) or peer (v6) name.
    BgpPeer,
    /// The neighbour's router ID, dotted quad; `<router-id>@<interface>` when the same router is a
    /// neighbour over two interfaces.
    OspfNeighbor,
    /// The PPP user name of an active PPPoE session (stable across reconnects, unlike its id).
    PppoeSession,
    /// `tree:<name>` for a queue tree entry; `simple:<name>:upload` or `simple:<name>:download`
    /// for one direction of a simple queue.
    Queue,
    /// The client's MAC address in upper case, `AA:BB:CC:DD:EE:FF`.
    WirelessClient,
    /// `<probe>:<target>`, probe one of `icmp`, `tcp`, `dns`, `http` (`icmp:10.0.0.1`,
    /// `tcp:10.0.0.1:443`, `dns:example.com@10.0.0.53`, `http:https://example.com/health`).
    ProbeTarget,
    /// A `/system/health` sensor name (`cpu-temperature`, `psu1-voltage`).
    Sensor,
}

/// The probe kinds a [`InstanceKind::ProbeTarget`] may start with.
pub const PROBES: [&str; 4] = ["icmp", "tcp", "dns", "http"];

impl InstanceKind {
    /// The name used in the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceKind::None => "none",
            InstanceKind::Interface => "interface",
            InstanceKind::BgpPeer => "bgp_peer",
            InstanceKind::OspfNeighbor => "ospf_neighbor",
            InstanceKind::PppoeSession => "pppoe_session",
            InstanceKind::Queue => "queue",
            InstanceKind::WirelessClient => "wireless_client",
            InstanceKind::ProbeTarget => "probe_target",
            InstanceKind::Sensor => "sensor",
        }
    }

    /// Checks a sample's instance against this kind; the error says what is wrong with it.
    pub fn check(self, instance: Option<&str>) -> Result<(), String> {
        let Some(value) = instance else {
            return match self {
                InstanceKind::None => Ok(()),
                kind => Err(format!("needs an instance of kind {}", kind.as_str())),
            };
        };
        if self == InstanceKind::None {
            return Err("is device-wide and takes no instance".to_owned());
        }
        if value.is_empty() {
            return Err("has an empty instance".to_owned());
        }
        if value.len() > MAX_INSTANCE_BYTES {
            return Err(format!(
                "has an instance longer than {MAX_INSTANCE_BYTES} bytes"
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("has an instance with a control character".to_owned());
        }
        let ok = match self {
            InstanceKind::OspfNeighbor => is_ospf_neighbor(value),
            InstanceKind::Queue => is_queue(value),
            InstanceKind::WirelessClient => is_upper_mac(value),
            InstanceKind::ProbeTarget => is_probe_target(value),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "has instance {value:?}, which is not a valid {}",
                self.as_str()
            ))
        }
    }
}

fn is_ospf_neighbor(value: &str) -> bool {
    let (router_id, interface) = match value.split_once('@') {
        Some((id, interface)) => (id, Some(interface)),
        None => (value, None),
    };
    router_id.parse::<Ipv4Addr>().is_ok() && interface.is_none_or(|i| !i.is_empty())
}

fn is_queue(value: &str) -> bool {
    if let Some(name) = value.strip_prefix("tree:") {
        return !name.is_empty();
    }
    value
        .strip_prefix("simple:")
        .and_then(|rest| {
            rest.strip_suffix(":upload")
                .or_else(|| rest.strip_suffix(":download"))
        })
        .is_some_and(|name| !name.is_empty())
}

fn is_upper_mac(value: &str) -> bool {
    let parts: Vec<&str> = value.split(':').collect();
    parts.len() == 6
        && parts.iter().all(|p| {
            p.len() == 2
                && p.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, 'A'..='F'))
        })
}

fn is_probe_target(value: &str) -> bool {
    value
        .split_once(':')
        .is_some_and(|(probe, target)| PROBES.contains(&probe) && !target.is_empty())
}

#[cfg(test)]
mod tests {
    use super::InstanceKind::{self, *};

    fn ok(kind: InstanceKind, value: &str) -> bool {
        kind.check(Some(value)).is_ok()
    }

    #[test]
    fn presence_follows_the_kind() {
        assert!(None.check(Option::None).is_ok());
        assert_eq!(
            None.check(Some("ether1")),
            Err("is device-wide and takes no instance".into())
        );
        assert_eq!(
            Interface.check(Option::None),
            Err("needs an instance of kind interface".into())
        );
        assert_eq!(
            Interface.check(Some("")),
            Err("has an empty instance".into())
        );
    }

    #[test]
    fn free_names_refuse_control_characters_and_overlong_values() {
        assert!(ok(Interface, "vlan100 customer A"));
        assert!(!ok(Interface, "ether1\n"));
        assert!(ok(Sensor, &"x".repeat(super::MAX_INSTANCE_BYTES)));
        assert!(!ok(Sensor, &"x".repeat(super::MAX_INSTANCE_BYTES + 1)));
    }

    #[test]
    fn structured_kinds() {
        assert!(ok(OspfNeighbor, "10.0.0.1"));
        assert!(ok(OspfNeighbor, "10.0.0.1@ether2"));
        assert!(!ok(OspfNeighbor, "10.0.0.1@"));
        assert!(!ok(OspfNeighbor, "core-1"));
        assert!(ok(Queue, "tree:cust-42"));
        assert!(ok(Queue, "simple:a:b:upload"));
        assert!(ok(Queue, "simple:cust-42:download"));
        assert!(!ok(Queue, "simple:cust-42"));
        assert!(!ok(Queue, "simple::upload"));
        assert!(!ok(Queue, "cust-42"));
        assert!(ok(WirelessClient, "AA:BB:CC:00:11:22"));
        assert!(!ok(WirelessClient, "aa:bb:cc:00:11:22"));
        assert!(!ok(WirelessClient, "AA:BB:CC:00:11"));
        assert!(ok(ProbeTarget, "icmp:10.0.0.1"));
        assert!(ok(ProbeTarget, "http:https://example.com/health"));
        assert!(!ok(ProbeTarget, "udp:10.0.0.1"));
        assert!(!ok(ProbeTarget, "icmp:"));
        assert_eq!(
            ProbeTarget.check(Some("ping:1.1.1.1")),
            Err("has instance \"ping:1.1.1.1\", which is not a valid probe_target".into())
        );
    }
}
