//! BGP sessions: v7 `/routing/bgp/session`, v6 `/routing/bgp/peer` (chosen by the version
//! `/system/resource` reports). Instance = the session (v7) or peer (v6) name; states are
//! RFC 4271's in lower case, plus `disabled`.
//!
//! v7 lists a session only while a connection exists, so a session that went away is missing
//! rather than `idle`; `crate::poll` remembers the sessions it saw and reports a missing one
//! as `idle`.

use routeros::{Attributes, Request};

use super::value::{boolean, number};
use super::{field, labels, Out};

pub const STATES: [&str; 7] = [
    "idle",
    "connect",
    "active",
    "opensent",
    "openconfirm",
    "established",
    "disabled",
];

pub fn request_v7() -> Request {
    Request::new("/routing/bgp/session/print").proplist([
        "name",
        "remote.address",
        "remote.as",
        "established",
        "state",
        "disabled",
        "prefix-count",
    ])
}

pub fn request_v6() -> Request {
    Request::new("/routing/bgp/peer/print").proplist([
        "name",
        "remote-address",
        "remote-as",
        "state",
        "established",
        "disabled",
        "prefix-count",
    ])
}

/// The RFC 4271 state of a row: `disabled` first, then `state` if it is one we know, else
/// `established` (v7 prints only that flag on most versions).
fn state(row: &Attributes) -> Option<&'static str> {
    if field(row, "disabled").and_then(boolean) == Some(true) {
        return Some("disabled");
    }
    if let Some(state) = field(row, "state") {
        let lower = state.to_ascii_lowercase().replace(['-', ' ', '_'], "");
        if let Some(known) = STATES.iter().find(|s| **s == lower) {
            return Some(known);
        }
    }
    match field(row, "established").and_then(boolean)? {
        true => Some("established"),
        false => Some("idle"),
    }
}

fn parse(rows: &[Attributes], out: &mut Out, address: &str, asn: &str) {
    for row in rows {
        let (Some(name), Some(state)) = (field(row, "name").filter(|n| !n.is_empty()), state(row))
        else {
            continue;
        };
        let sample = out.state("bgp_session_state", Some(name), state);
        labels(
            sample,
            [
                ("remote_address", field(row, address)),
                ("remote_as", field(row, asn)),
            ],
        );
        if let Some(prefixes) = field(row, "prefix-count").and_then(number) {
            out.number("bgp_prefixes_received", Some(name), prefixes);
        }
    }
}

pub fn parse_v7(rows: &[Attributes], out: &mut Out) {
    parse(rows, out, "remote.address", "remote.as");
}

pub fn parse_v6(rows: &[Attributes], out: &mut Out) {
    parse(rows, out, "remote-address", "remote-as");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, state_of, value_of};

    #[test]
    fn v7_sessions() {
        let rows = rows("bgp-v7");
        let mut out = out();
        parse_v7(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        let name = rows[0]["name"].as_str();
        assert_eq!(
            state_of(&out, "bgp_session_state", name).as_deref(),
            Some("established")
        );
        assert!(value_of(&out, "bgp_prefixes_received", Some(name)).is_some());
        let sample = &out.samples[0];
        assert_eq!(sample.labels["remote_as"], rows[0]["remote.as"]);
    }

    #[test]
    fn v6_peers_in_every_state() {
        let mut out = out();
        parse_v6(&rows("bgp-v6"), &mut out);
        let extra = parse_rows(
            "name=x\nstate=OpenSent\n---\nname=y\nstate=active\ndisabled=true\n---\nname=z\nstate=weird\nestablished=false\n",
        );
        parse_v6(&extra, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(
            state_of(&out, "bgp_session_state", "x").as_deref(),
            Some("opensent")
        );
        assert_eq!(
            state_of(&out, "bgp_session_state", "y").as_deref(),
            Some("disabled")
        );
        assert_eq!(
            state_of(&out, "bgp_session_state", "z").as_deref(),
            Some("idle")
        );
    }
}
