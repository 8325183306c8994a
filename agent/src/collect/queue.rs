//! `/queue/simple` and `/queue/tree`: bytes and drops (counters), the current rate. Instance =
//! `tree:<name>`, or `simple:<name>:upload` / `:download` for the two directions of a simple
//! queue, whose fields RouterOS prints as `upload/download` pairs.

use routeros::{Attributes, Request};

use super::value::{number, pair};
use super::{field, labels, Out};

const FIELDS: [&str; 6] = ["name", "target", "parent", "bytes", "dropped", "rate"];

pub fn simple_request() -> Request {
    Request::new("/queue/simple/print").proplist(FIELDS)
}

pub fn tree_request() -> Request {
    Request::new("/queue/tree/print").proplist(FIELDS)
}

/// `none` is RouterOS's "no parent".
fn parent(row: &Attributes) -> Option<&str> {
    field(row, "parent").filter(|p| *p != "none")
}

pub fn parse_simple(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        let Some(name) = field(row, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let pairs = |f| field(row, f).and_then(pair);
        let (bytes, dropped, rate) = (pairs("bytes"), pairs("dropped"), pairs("rate"));
        for (i, direction) in ["upload", "download"].into_iter().enumerate() {
            let instance = format!("simple:{name}:{direction}");
            let pick = |p: Option<(f64, f64)>| p.map(|(up, down)| if i == 0 { up } else { down });
            if let Some(sample) =
                pick(bytes).and_then(|v| out.number("queue_bytes_total", Some(&instance), v))
            {
                labels(
                    sample,
                    [("target", field(row, "target")), ("parent", parent(row))],
                );
            }
            if let Some(v) = pick(dropped) {
                out.number("queue_dropped_packets_total", Some(&instance), v);
            }
            if let Some(v) = pick(rate) {
                out.number("queue_rate_bps", Some(&instance), v);
            }
        }
    }
}

pub fn parse_tree(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        let Some(name) = field(row, "name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let instance = format!("tree:{name}");
        let num = |f| field(row, f).and_then(number);
        if let Some(sample) =
            num("bytes").and_then(|v| out.number("queue_bytes_total", Some(&instance), v))
        {
            labels(sample, [("parent", parent(row))]);
        }
        if let Some(v) = num("dropped") {
            out.number("queue_dropped_packets_total", Some(&instance), v);
        }
        if let Some(v) = num("rate") {
            out.number("queue_rate_bps", Some(&instance), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, rows, value_of};

    #[test]
    fn simple_queues_split_into_upload_and_download() {
        let rows = rows("queue-simple");
        let mut out = out();
        parse_simple(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        let name = rows[0]["name"].as_str();
        let (up, down) = pair(&rows[0]["bytes"]).expect("pair");
        assert_eq!(
            value_of(
                &out,
                "queue_bytes_total",
                Some(&format!("simple:{name}:upload"))
            ),
            Some(up)
        );
        assert_eq!(
            value_of(
                &out,
                "queue_bytes_total",
                Some(&format!("simple:{name}:download"))
            ),
            Some(down)
        );
        assert!(value_of(
            &out,
            "queue_rate_bps",
            Some(&format!("simple:{name}:download"))
        )
        .is_some());
    }

    #[test]
    fn tree_queues() {
        let rows = rows("queue-tree");
        let mut out = out();
        parse_tree(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        let name = rows[0]["name"].as_str();
        assert!(value_of(&out, "queue_bytes_total", Some(&format!("tree:{name}"))).is_some());
        assert!(value_of(
            &out,
            "queue_dropped_packets_total",
            Some(&format!("tree:{name}"))
        )
        .is_some());
    }
}
