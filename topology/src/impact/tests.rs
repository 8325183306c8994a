//! Blast radius, dependents and upstream sets on small named networks.

use crate::testkit::Net;
use crate::{DeviceId, Object, Rule};

/// core-1, core-2 → agg (dual-homed) → acc → cpe-1, cpe-2; cpe-2 also has a backup from
/// core-2 through an All group of two links; services on top.
fn network() -> Net {
    let mut net = Net::new();
    net.root("core-1")
        .root("core-2")
        .device("agg")
        .device("acc")
        .device("cpe-1")
        .device("cpe-2")
        .uplink("agg-1", "core-1", "agg")
        .uplink("agg-2", "core-2", "agg")
        .uplink("acc-up", "agg", "acc")
        .uplink("cpe-1-up", "acc", "cpe-1")
        .uplink("cpe-2-up", "acc", "cpe-2")
        .uplink("cpe-2-b1", "core-2", "cpe-2")
        .uplink("cpe-2-b2", "core-2", "cpe-2")
        .group("cpe-2-backup", Rule::All, &["cpe-2-b1", "cpe-2-b2"])
        .service("svc-1", &["cpe-1"])
        .service("svc-2", &["cpe-2"])
        .service("svc-both", &["svc-1", "svc-2"]);
    net
}

fn downstream(net: &Net, name: &str) -> Vec<String> {
    let graph = net.build();
    let set = graph.downstream(net.obj(name)).expect("known object");
    net.names(set.iter())
}

#[test]
fn blast_radius_honours_redundancy() {
    let net = network();
    let cases: &[(&str, &[&str])] = &[
        // agg is dual-homed: losing one core takes only that core's links.
        ("core-1", &["agg-1"]),
        ("core-2", &["agg-2", "cpe-2-b1", "cpe-2-b2", "cpe-2-backup"]),
        // cpe-2 survives on its backup group; cpe-1 and what rides on it do not.
        (
            "acc",
            &["cpe-1", "cpe-1-up", "cpe-2-up", "svc-1", "svc-both"],
        ),
        ("cpe-2-b1", &["cpe-2-backup"]),
        ("cpe-1-up", &["cpe-1", "svc-1", "svc-both"]),
        ("svc-2", &["svc-both"]),
        ("cpe-1", &["svc-1", "svc-both"]),
    ];
    for &(failed, expected) in cases {
        assert_eq!(downstream(&net, failed), expected, "failing {failed}");
    }
}

#[test]
fn dependents_ignore_redundancy() {
    let net = network();
    let graph = net.build();
    let set = graph.dependents(net.obj("core-1")).expect("known");
    assert_eq!(
        net.names(set.iter()),
        [
            "acc", "acc-up", "agg", "agg-1", "cpe-1", "cpe-1-up", "cpe-2", "cpe-2-up", "svc-1",
            "svc-2", "svc-both"
        ]
        .map(String::from)
    );
    let radius = graph.downstream(net.obj("core-1")).expect("known");
    assert!(radius.iter().all(|o| set.contains(o)));
}

#[test]
fn upstream_set_covers_every_path_and_group_member() {
    let net = network();
    let graph = net.build();
    let set = graph.upstream_set(net.obj("cpe-2")).expect("known");
    assert_eq!(
        net.names(set.iter()),
        [
            "acc",
            "acc-up",
            "agg",
            "agg-1",
            "agg-2",
            "core-1",
            "core-2",
            "cpe-2-b1",
            "cpe-2-b2",
            "cpe-2-backup",
            "cpe-2-up"
        ]
        .map(String::from)
    );
    let set = graph.upstream_set(net.obj("svc-1")).expect("known");
    assert!(set.contains(net.dev("core-2")));
    assert!(!set.contains(net.dev("cpe-2")));
}

#[test]
fn already_down_objects_have_no_blast_radius() {
    let mut net = Net::new();
    net.root("core").device("orphan").device("cpe");
    net.uplink("l", "orphan", "cpe").service("s", &["cpe"]);
    let graph = net.build();
    let radius = graph.downstream(net.obj("orphan")).expect("known");
    assert!(radius.is_empty());
    assert_eq!(
        graph.dependents(net.obj("orphan")).map(|s| s.len()),
        Some(3)
    );
}

#[test]
fn unknown_objects_are_none() {
    let graph = network().build();
    let unknown = Object::Device(DeviceId(12345));
    assert!(graph.downstream(unknown).is_none());
    assert!(graph.dependents(unknown).is_none());
    assert!(graph.upstream_set(unknown).is_none());
}
