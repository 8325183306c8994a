//! Validation: cycles, dangling references, invalid groups, duplicate ids, roots with uplinks;
//! each message must name the objects by kind and name.

use crate::testkit::Net;
use crate::{DeviceId, GraphBuilder, GraphError, GroupId, LinkId, Member, Object, Rule};
use crate::{ObjectKind, ServiceId};

fn error(net: &Net) -> GraphError {
    net.try_build().expect_err("the graph should be rejected")
}

#[test]
fn device_cycle_names_devices_and_links_in_dependency_order() {
    let mut net = Net::new();
    net.root("core-0")
        .device("core-1")
        .device("agg-2")
        .uplink("core-0 to core-1", "core-0", "core-1")
        .uplink("agg-2 to core-1", "agg-2", "core-1")
        .uplink("core-1 to agg-2", "core-1", "agg-2");
    let err = error(&net);
    assert_eq!(
        err.to_string(),
        "dependency cycle: device core-1 → link agg-2 to core-1 → device agg-2 \
         → link core-1 to agg-2 → device core-1"
    );
    assert!(matches!(err, GraphError::Cycle { ref path } if path.len() == 5));
}

#[test]
fn self_loop_is_a_cycle() {
    let mut net = Net::new();
    net.device("cpe").uplink("loop", "cpe", "cpe");
    assert_eq!(
        error(&net).to_string(),
        "dependency cycle: device cpe → link loop → device cpe"
    );
}

#[test]
fn service_cycle_names_services() {
    // Net adds dependencies only on objects that exist, so build the loop by hand.
    let mut b = GraphBuilder::new();
    b.add_device(DeviceId(1), "core", true)
        .add_service(
            ServiceId(1),
            "vpn-a",
            [DeviceId(1).into(), ServiceId(2).into()],
        )
        .add_service(ServiceId(2), "vpn-b", [ServiceId(1).into()]);
    assert_eq!(
        b.build().expect_err("cycle").to_string(),
        "dependency cycle: service vpn-a → service vpn-b → service vpn-a"
    );
}

#[test]
fn cycle_through_a_group_member() {
    // agg's only uplink is in a group that also needs agg's own child: agg → group → cpe → agg.
    let mut net = Net::new();
    net.root("core")
        .device("agg")
        .device("cpe")
        .uplink("up", "core", "agg")
        .uplink("down", "agg", "cpe")
        .group("pair", Rule::All, &["up", "cpe"]);
    assert_eq!(
        error(&net).to_string(),
        "dependency cycle: device agg → group pair → device cpe → link down → device agg"
    );
}

#[test]
fn redundant_paths_are_not_cycles() {
    let mut net = Net::new();
    net.root("core-1")
        .root("core-2")
        .device("agg")
        .device("cpe")
        .uplink("a1", "core-1", "agg")
        .uplink("a2", "core-2", "agg")
        .uplink("c1", "agg", "cpe")
        .uplink("c2", "core-1", "cpe")
        .service("svc", &["cpe", "agg", "a1"]);
    assert!(net.try_build().is_ok());
}

#[test]
fn dangling_references_name_referrer_and_missing_object() {
    let cases: Vec<(&str, GraphBuilder, &str)> = vec![
        (
            "link to a missing upstream",
            {
                let mut b = GraphBuilder::new();
                b.add_device(DeviceId(1), "cpe", false).add_uplink(
                    LinkId(1),
                    "wan",
                    DeviceId(9),
                    DeviceId(1),
                );
                b
            },
            "link wan refers to device #9, which does not exist",
        ),
        (
            "group with a missing link",
            {
                let mut b = GraphBuilder::new();
                b.add_group(GroupId(1), "lag", Rule::Any, [Member::Link(LinkId(4))]);
                b
            },
            "group lag refers to link #4, which does not exist",
        ),
        (
            "service on a missing service",
            {
                let mut b = GraphBuilder::new();
                b.add_service(ServiceId(1), "acme", [Object::Service(ServiceId(2))]);
                b
            },
            "service acme refers to service #2, which does not exist",
        ),
    ];
    for (case, b, message) in cases {
        let err = b.build().expect_err(case);
        assert!(matches!(err, GraphError::Dangling { .. }), "{case}");
        assert_eq!(err.to_string(), message, "{case}");
    }
}

#[test]
fn invalid_groups_are_rejected_with_reason() {
    let cases: Vec<(Rule, Vec<&str>, &str)> = vec![
        (Rule::Any, vec![], "invalid group g: it has no members"),
        (
            Rule::KOfN(0),
            vec!["l1", "l2"],
            "invalid group g: rule 0 of n needs 0 of its 2 members up, so it could never be down",
        ),
        (
            Rule::KOfN(3),
            vec!["l1", "l2"],
            "invalid group g: rule 3 of n needs 3 members up but it has only 2, \
             so it could never be up",
        ),
        (
            Rule::All,
            vec!["l1", "l1"],
            "invalid group g: it lists link l1 twice",
        ),
    ];
    for (rule, members, message) in cases {
        let mut net = Net::new();
        net.root("core")
            .device("cpe")
            .uplink("l1", "core", "cpe")
            .uplink("l2", "core", "cpe")
            .group("g", rule, &members);
        let err = error(&net);
        assert!(matches!(err, GraphError::InvalidGroup { .. }), "{rule:?}");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn duplicate_ids_name_both_objects() {
    let mut b = GraphBuilder::new();
    b.add_device(DeviceId(7), "core-1", true)
        .add_device(DeviceId(7), "core-2", true);
    let err = b.build().expect_err("duplicate");
    assert_eq!(
        err,
        GraphError::Duplicate {
            kind: ObjectKind::Device,
            id: 7,
            first: "core-1".into(),
            second: "core-2".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "duplicate device id 7: device core-1 and device core-2 both use it"
    );
    // Ids are per kind: a link may share a device's number.
    let mut b = GraphBuilder::new();
    b.add_device(DeviceId(7), "core", true)
        .add_device(DeviceId(8), "cpe", false)
        .add_uplink(LinkId(7), "wan", DeviceId(7), DeviceId(8));
    assert!(b.build().is_ok());
}

#[test]
fn a_root_cannot_have_an_uplink() {
    let mut net = Net::new();
    net.root("core-1")
        .root("core-2")
        .uplink("x", "core-1", "core-2");
    assert_eq!(
        error(&net).to_string(),
        "device core-2 is marked as a root but is the downstream end of link x; \
         a root has no upstream"
    );
}

#[test]
fn empty_graph_builds() {
    let graph = GraphBuilder::new().build().expect("empty is valid");
    assert_eq!(graph.device_count() + graph.service_count(), 0);
}
