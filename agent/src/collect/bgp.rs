//! BGP sessions: v7 `/routing/bgp/session`, v6 `/routing/bgp/peer` (chosen by the version
//! `/system/resource` reports). Instance = the session (v7) or peer (v6) name; states are
//! RFC 4271's in lower case, plus `disabled`.
//!
//! v7 lists a session only while a connection exists, so a session that went away is missing
//! rather than `idle`. `/routing/bgp/connection` lists the configured peers whether connected
//! or not: a connection without a session is reported `idle` (or `disabled`) under the name its
//! session has when it exists, `<connection>-1`, even by an agent that never saw it up. If that
//! menu fails, `crate::poll` still reports the sessions it saw and no longer sees as `idle`.

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

pub fn request_connections() -> Request {
    Request::new("/routing/bgp/connection/print").proplist([
        "name",
        "remote.address",
        "remote.as",
        "disabled",
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

/// The v7 connections that have no session in `out` (the sessions' samples come first).
pub fn parse_connections(rows: &[Attributes], out: &mut Out) {
    let sessions: Vec<String> = out
        .samples
        .iter()
        .filter(|s| s.metric == "bgp_session_state")
        .filter_map(|s| s.instance.clone())
        .collect();
    for row in rows {
        let Some(name) = field(row, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let prefix = format!("{name}-");
        if sessions.iter().any(|s| s.starts_with(&prefix)) {
            continue;
        }
        let disabled = field(row, "disabled").and_then(boolean) == Some(true);
        let instance = format!("{name}-1");
        let sample = if disabled {
            out.state("bgp_session_state", Some(&instance), "disabled")
        } else {
            let sample = out.state("bgp_session_state", Some(&instance), "idle");
            sample.reason = Some("no session: the connection is configured but not up".into());
            sample
        };
        labels(
            sample,
            [
                ("remote_address", field(row, "remote.address")),
                ("remote_as", field(row, "remote.as")),
            ],
        );
    }
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
    fn v7_connections_without_a_session_are_idle_or_disabled() {
        let mut out = out();
        parse_v7(
            &parse_rows(
                "name=transit-1\nremote.address=192.0.2.1\nremote.as=174\nestablished=true\n",
            ),
            &mut out,
        );
        parse_connections(
            &parse_rows(
                "name=transit\nremote.address=192.0.2.1\nremote.as=174\n---\n\
                 name=ixp\nremote.address=192.0.2.9\nremote.as=64999\ndisabled=false\n---\n\
                 name=spare\nremote.address=192.0.2.7\nremote.as=64777\ndisabled=true\n",
            ),
            &mut out,
        );
        crate::collect::assert_valid(&out.samples);
        let states: Vec<_> = out
            .samples
            .iter()
            .filter(|s| s.metric == "bgp_session_state")
            .map(|s| (s.instance.clone().unwrap_or_default(), s.reason.is_some()))
            .collect();
        assert_eq!(
            states,
            vec![
                ("transit-1".to_owned(), false),
                ("ixp-1".to_owned(), true),
                ("spare-1".to_owned(), false),
            ],
            "one sample per connection; the connected one from its session"
        );
        assert_eq!(
            state_of(&out, "bgp_session_state", "ixp-1").as_deref(),
            Some("idle")
        );
        assert_eq!(
            state_of(&out, "bgp_session_state", "spare-1").as_deref(),
            Some("disabled")
        );
        let ixp = out
            .samples
            .iter()
            .find(|s| s.instance.as_deref() == Some("ixp-1"))
            .expect("ixp");
        assert_eq!(ixp.labels["remote_as"], "64999");
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
