//! `/ip/neighbor`: the router's neighbour table (MNDP, LLDP, CDP), sent as one `neighbor`
//! event per row on every neighbour poll (see `crate::poll`: every 300 s, discovery changes
//! slowly). The server keeps the latest of each for the inventory's discovery review.
//!
//! Spellings: v7 names a bridge port's neighbour `interface=ether2,bridge` (the port first);
//! v6 has no `discovered-by`; a neighbour heard only over IPv6 has `address6` and no
//! `address`. Rows the server would refuse (no interface, nothing that names the neighbour)
//! are skipped; control characters are dropped and long fields cut to the contract's limits.

use routeros::{Attributes, Request};
use telemetry::{
    EventDetail, MAX_NEIGHBOR_ADDRESS_BYTES, MAX_NEIGHBOR_INTERFACE_BYTES, MAX_NEIGHBOR_PROTOCOLS,
    MAX_NEIGHBOR_PROTOCOL_BYTES, MAX_NEIGHBOR_TEXT_BYTES,
};

use super::{field, Out};
use crate::poll::truncate;

pub fn request() -> Request {
    Request::new("/ip/neighbor/print").proplist([
        "interface",
        "address",
        "address4",
        "address6",
        "mac-address",
        "identity",
        "platform",
        "board",
        "interface-name",
        "discovered-by",
    ])
}

/// A field without control characters, cut to `max` bytes; empty if absent.
fn text(row: &Attributes, name: &str, max: usize) -> String {
    let clean: String = field(row, name)
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    truncate(clean.trim().to_owned(), max)
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        let interface = text(row, "interface", usize::MAX);
        let interface = interface.split(',').next().unwrap_or("").trim();
        let interface = truncate(interface.to_owned(), MAX_NEIGHBOR_INTERFACE_BYTES);
        let address = ["address", "address4", "address6"]
            .iter()
            .map(|name| text(row, name, MAX_NEIGHBOR_ADDRESS_BYTES))
            .find(|a| !a.is_empty())
            .unwrap_or_default();
        let identity = text(row, "identity", MAX_NEIGHBOR_TEXT_BYTES);
        let mac = text(row, "mac-address", MAX_NEIGHBOR_ADDRESS_BYTES);
        if interface.is_empty() || (identity.is_empty() && address.is_empty() && mac.is_empty()) {
            continue;
        }
        let protocols = text(row, "discovered-by", usize::MAX)
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .take(MAX_NEIGHBOR_PROTOCOLS)
            .map(|p| truncate(p.to_owned(), MAX_NEIGHBOR_PROTOCOL_BYTES))
            .collect();
        out.event(EventDetail::Neighbor {
            interface,
            identity,
            address,
            mac,
            platform: text(row, "platform", MAX_NEIGHBOR_TEXT_BYTES),
            board: text(row, "board", MAX_NEIGHBOR_TEXT_BYTES),
            remote_interface: text(row, "interface-name", MAX_NEIGHBOR_INTERFACE_BYTES),
            protocols,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows};

    /// The (interface, identity, address, remote interface, protocols) of each event.
    fn seen(out: &Out) -> Vec<(String, String, String, String, Vec<String>)> {
        out.events
            .iter()
            .filter_map(|e| match &e.detail {
                EventDetail::Neighbor {
                    interface,
                    identity,
                    address,
                    remote_interface,
                    protocols,
                    ..
                } => Some((
                    interface.clone(),
                    identity.clone(),
                    address.clone(),
                    remote_interface.clone(),
                    protocols.clone(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn v7_rows_from_the_simulator() {
        let rows = rows("neighbor-v7");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid_events(&out.events);
        assert_eq!(out.events.len(), rows.len());
        let first = &seen(&out)[0];
        assert_eq!(first.0, rows[0]["interface"]);
        assert_eq!(first.1, rows[0]["identity"]);
        assert_eq!(first.3, rows[0]["interface-name"]);
        assert_eq!(first.4, ["cdp", "lldp", "mndp"]);
        assert!(out.samples.is_empty());
    }

    #[test]
    fn v6_rows_have_no_protocols() {
        let rows = rows("neighbor-v6");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid_events(&out.events);
        assert_eq!(out.events.len(), rows.len());
        assert!(seen(&out).iter().all(|s| s.4.is_empty() && !s.1.is_empty()));
    }

    #[test]
    fn bridge_ports_ipv6_only_neighbours_and_junk_rows() {
        let rows = parse_rows(concat!(
            "interface=ether2,bridge\nidentity=sw-1\nmac-address=4C:5E:0C:00:00:02\ndiscovered-by=lldp\n---\n",
            "interface=ether3\naddress6=fe80::1\nplatform=Cisco IOS\ninterface-name=GigabitEthernet0/1\ndiscovered-by=cdp\n---\n",
            "interface=ether4\nidentity=ro\x07gue\n---\n",
            "identity=no-interface\n---\n",
            "interface=ether5\nplatform=MikroTik\n---\n",
        ));
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid_events(&out.events);
        let s = seen(&out);
        assert_eq!(s.len(), 3, "{s:#?}");
        assert_eq!((s[0].0.as_str(), s[0].1.as_str()), ("ether2", "sw-1"));
        assert_eq!(
            (s[1].2.as_str(), s[1].3.as_str()),
            ("fe80::1", "GigabitEthernet0/1")
        );
        assert_eq!(s[2].1, "rogue");
    }
}
