//! Upstream paths: every route to a root, dead ends skipped, the limit honoured.

use crate::testkit::Net;
use crate::{DeviceId, Hop};

fn net() -> Net {
    let mut net = Net::new();
    net.root("core-1")
        .root("core-2")
        .device("dead-end")
        .device("agg")
        .device("cpe")
        .uplink("a1", "core-1", "agg")
        .uplink("a2", "core-2", "agg")
        .uplink("c1", "agg", "cpe")
        .uplink("c2", "dead-end", "cpe")
        .uplink("c3", "core-2", "cpe");
    net
}

fn render(net: &Net, paths: &[Vec<Hop>]) -> Vec<String> {
    paths
        .iter()
        .map(|path| {
            path.iter()
                .map(|hop| {
                    let link = net.names([hop.link.into()]).join("");
                    let device = net.names([hop.device.into()]).join("");
                    format!("{link}>{device}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn all_paths_in_uplink_order_without_dead_ends() {
    let net = net();
    let graph = net.build();
    let paths = graph.upstream_paths(net.dev("cpe"), 10).expect("known");
    assert_eq!(
        render(&net, &paths),
        ["c1>agg a1>core-1", "c1>agg a2>core-2", "c3>core-2"]
    );
}

#[test]
fn limit_roots_and_unanchored_devices() {
    let net = net();
    let graph = net.build();
    let cpe = net.dev("cpe");
    assert_eq!(graph.upstream_paths(cpe, 2).map(|p| p.len()), Some(2));
    assert_eq!(graph.upstream_paths(cpe, 0), Some(vec![]));
    assert_eq!(
        graph.upstream_paths(net.dev("core-1"), 5),
        Some(vec![vec![]])
    );
    assert_eq!(graph.upstream_paths(net.dev("dead-end"), 5), Some(vec![]));
    assert_eq!(graph.upstream_paths(DeviceId(999), 5), None);
}

#[test]
fn paths_lie_inside_the_upstream_set() {
    let net = net();
    let graph = net.build();
    let cpe = net.dev("cpe");
    let set = graph.upstream_set(cpe).expect("known");
    for path in graph.upstream_paths(cpe, 10).expect("known") {
        for hop in path {
            assert!(set.contains(hop.link) && set.contains(hop.device));
        }
    }
}
