//! `/ppp/active`: the number of PPPoE sessions, and each session's uptime (instance = the PPP
//! user name, stable across reconnects, unlike the session id; a decrease is a reconnect).

use std::collections::HashSet;

use routeros::{Attributes, Query, Request};

use super::value::duration_secs;
use super::{field, labels, Out};

pub fn request() -> Request {
    // Only PPPoE: L2TP, SSTP and OpenVPN sessions live in the same menu.
    Request::new("/ppp/active/print")
        .proplist(["name", "service", "caller-id", "address", "uptime"])
        .query(Query::eq("service", "pppoe"))
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    let sessions: Vec<&Attributes> = rows
        .iter()
        .filter(|r| field(r, "service").is_none_or(|s| s == "pppoe"))
        .collect();
    out.number("pppoe_sessions", None, sessions.len() as f64);
    // A user with two sessions at once (a misconfigured limit) would be one series twice: the
    // first wins, as the server would keep it.
    let mut seen = HashSet::new();
    for row in sessions {
        let Some(name) = field(row, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let Some(uptime) = field(row, "uptime").and_then(duration_secs) else {
            continue;
        };
        if !seen.insert(name) {
            continue;
        }
        if let Some(sample) = out.number("pppoe_session_uptime_seconds", Some(name), uptime.floor())
        {
            labels(
                sample,
                [
                    ("address", field(row, "address")),
                    ("caller_id", field(row, "caller-id")),
                    ("service", field(row, "service")),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, value_of};

    #[test]
    fn count_and_per_session_uptime_with_labels() {
        let rows = rows("ppp");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(
            value_of(&out, "pppoe_sessions", None),
            Some(rows.len() as f64)
        );
        let first = &out.samples[1];
        assert_eq!(first.instance.as_deref(), Some(rows[0]["name"].as_str()));
        assert_eq!(first.labels["address"], rows[0]["address"]);
        assert_eq!(first.labels["caller_id"], rows[0]["caller-id"]);
    }

    #[test]
    fn a_user_twice_is_one_series_and_zero_sessions_is_a_sample() {
        let rows = parse_rows("name=a\nservice=pppoe\nuptime=1m\n---\nname=a\nservice=pppoe\nuptime=2m\n---\nname=b\nservice=l2tp\nuptime=1m\n");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(value_of(&out, "pppoe_sessions", None), Some(2.0));
        assert_eq!(
            value_of(&out, "pppoe_session_uptime_seconds", Some("a")),
            Some(60.0)
        );
        let mut out = crate::collect::fixtures::out();
        parse(&[], &mut out);
        assert_eq!(value_of(&out, "pppoe_sessions", None), Some(0.0));
    }
}
