//! `/tool/netwatch`: the router's own reachability checks. Instance = `<probe>:<target>` as
//! for the agent's probes: `icmp:<host>` for v6 and v7 `simple`/`icmp` entries,
//! `tcp:<host>:<port>` for `tcp-conn`, `http:<url>` for `http-get`/`https-get`, `dns:…` for
//! `dns`. Other types have no instance format in v1 and are skipped.

use routeros::{Attributes, Request};

use super::value::boolean;
use super::{field, Out};

pub fn request() -> Request {
    Request::new("/tool/netwatch/print").proplist([
        "host",
        "type",
        "port",
        "status",
        "disabled",
        "http-codes",
        "record-type",
        "dns-server",
    ])
}

fn instance(row: &Attributes) -> Option<String> {
    let host = field(row, "host").filter(|h| !h.is_empty())?;
    match field(row, "type").unwrap_or("simple") {
        "simple" | "icmp" => Some(format!("icmp:{host}")),
        "tcp-conn" => Some(format!("tcp:{host}:{}", field(row, "port").unwrap_or("80"))),
        "http-get" => Some(format!("http:http://{host}/")),
        "https-get" => Some(format!("http:https://{host}/")),
        "dns" => {
            let server = field(row, "dns-server").unwrap_or("");
            Some(if server.is_empty() {
                format!("dns:{host}")
            } else {
                format!("dns:{host}@{server}")
            })
        }
        _ => None,
    }
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        if field(row, "disabled").and_then(boolean) == Some(true) {
            continue;
        }
        let Some(instance) = instance(row) else {
            continue;
        };
        let status = match field(row, "status") {
            Some("up") => "up",
            Some("down") => "down",
            _ => "unknown",
        };
        out.state("netwatch_status", Some(&instance), status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, state_of};

    #[test]
    fn entries_by_probe_and_host() {
        let rows = rows("netwatch");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        let host = rows[0]["host"].as_str();
        assert_eq!(
            state_of(&out, "netwatch_status", &format!("icmp:{host}")).as_deref(),
            Some("up")
        );
    }

    #[test]
    fn v7_types_disabled_entries_and_unknown_status() {
        let rows = parse_rows(
            "host=10.0.0.1\ntype=tcp-conn\nport=443\nstatus=down\n---\nhost=10.0.0.2\ntype=icmp\nstatus=up\ndisabled=true\n---\nhost=example.com\ntype=https-get\n---\nhost=10.0.0.3\ntype=future\nstatus=up\n",
        );
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(out.samples.len(), 2);
        assert_eq!(
            state_of(&out, "netwatch_status", "tcp:10.0.0.1:443").as_deref(),
            Some("down")
        );
        assert_eq!(
            state_of(&out, "netwatch_status", "http:https://example.com/").as_deref(),
            Some("unknown")
        );
    }
}
