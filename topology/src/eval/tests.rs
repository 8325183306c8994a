//! Reachability, table-driven: chains, diamonds, groups at exactly k−1 and k failures,
//! services; and the single-object evaluation agreeing with the full pass.

use crate::testkit::Net;
use crate::{Failures, Graph, Object, Rule};

/// Checks one expectation both ways: the full pass and the single-object evaluation.
fn assert_state(net: &Net, graph: &Graph, failed: &[&str], name: &str, up: bool) {
    let failures = net.failing(failed);
    let obj = net.obj(name);
    let full = graph.evaluate(&failures).is_up(obj);
    let cone = graph.is_up(obj, &failures);
    assert_eq!(full, Some(up), "{name} with {failed:?} failed (evaluate)");
    assert_eq!(cone, Some(up), "{name} with {failed:?} failed (is_up)");
}

/// Rows of (failed objects, object, expected state).
type Table<'a> = [(&'a [&'a str], &'a str, bool)];

fn check(net: &Net, table: &Table<'_>) {
    let graph = net.build();
    for &(failed, name, up) in table {
        assert_state(net, &graph, failed, name, up);
    }
}

#[test]
fn chain() {
    let mut net = Net::new();
    net.root("core")
        .device("agg")
        .device("cpe")
        .uplink("l1", "core", "agg")
        .uplink("l2", "agg", "cpe");
    check(
        &net,
        &[
            (&[], "cpe", true),
            (&[], "l2", true),
            (&["core"], "cpe", false),
            (&["core"], "l1", false),
            (&["l1"], "agg", false),
            (&["l1"], "cpe", false),
            (&["l2"], "agg", true),
            (&["l2"], "cpe", false),
            // A link does not depend on its downstream end.
            (&["cpe"], "l2", true),
            (&["cpe"], "agg", true),
        ],
    );
}

#[test]
fn diamond_survives_one_failure_not_two() {
    let mut net = Net::new();
    net.root("core")
        .device("agg-a")
        .device("agg-b")
        .device("cpe")
        .uplink("ca", "core", "agg-a")
        .uplink("cb", "core", "agg-b")
        .uplink("a", "agg-a", "cpe")
        .uplink("b", "agg-b", "cpe");
    check(
        &net,
        &[
            (&["agg-a"], "cpe", true),
            (&["b"], "cpe", true),
            (&["agg-a", "b"], "cpe", false),
            (&["a", "b"], "cpe", false),
            (&["ca", "cb"], "cpe", false),
            (&["core"], "cpe", false),
        ],
    );
}

fn lag(rule: Rule) -> Net {
    let mut net = Net::new();
    net.root("core-1")
        .root("core-2")
        .root("core-3")
        .root("core-4")
        .device("site")
        .uplink("l1", "core-1", "site")
        .uplink("l2", "core-2", "site")
        .uplink("l3", "core-3", "site")
        .uplink("l4", "core-4", "site")
        .group("g", rule, &["l1", "l2", "l3", "l4"]);
    net
}

#[test]
fn group_all_needs_every_member() {
    let net = lag(Rule::All);
    check(
        &net,
        &[
            (&[], "site", true),
            (&[], "g", true),
            (&["l3"], "site", false),
            (&["core-1"], "site", false),
            (&["core-1"], "g", false),
        ],
    );
}

#[test]
fn group_any_needs_one_member() {
    let net = lag(Rule::Any);
    check(
        &net,
        &[
            (&["l1", "l2", "l3"], "site", true),
            (&["l1", "l2", "core-3"], "site", true),
            (&["l1", "l2", "l3", "l4"], "site", false),
            (&["l1", "l2", "l3", "core-4"], "g", false),
        ],
    );
}

#[test]
fn group_k_of_n_at_k_minus_one_and_k_failures() {
    // 3 of 4 up: one failure is tolerated, two are not.
    let net = lag(Rule::KOfN(3));
    check(
        &net,
        &[
            (&["l2"], "site", true),
            (&["core-2"], "g", true),
            (&["l2", "l4"], "site", false),
            (&["l2", "core-4"], "g", false),
        ],
    );
    // 2 of 4 up: two failures are tolerated, three are not.
    let net = lag(Rule::KOfN(2));
    check(
        &net,
        &[
            (&["l1", "l2"], "site", true),
            (&["l1", "l2", "l3"], "site", false),
        ],
    );
}

#[test]
fn grouped_and_ungrouped_uplinks_are_alternatives() {
    // The LAG (both links needed) or the backup link.
    let mut net = Net::new();
    net.root("core")
        .root("backup")
        .device("site")
        .uplink("lag-1", "core", "site")
        .uplink("lag-2", "core", "site")
        .uplink("lte", "backup", "site")
        .group("lag", Rule::All, &["lag-1", "lag-2"]);
    check(
        &net,
        &[
            (&["lag-1"], "site", true),
            (&["lte"], "site", true),
            (&["lag-1", "lte"], "site", false),
            (&["core", "backup"], "site", false),
        ],
    );
}

#[test]
fn group_with_device_members_for_services() {
    let mut net = Net::new();
    net.root("bng-1")
        .root("bng-2")
        .root("core")
        .device("cpe")
        .uplink("wan", "core", "cpe")
        .group("bng-pair", Rule::Any, &["bng-1", "bng-2"])
        .service("acme", &["cpe", "bng-pair"])
        .service("acme-voip", &["acme"]);
    check(
        &net,
        &[
            (&[], "acme-voip", true),
            (&["bng-1"], "acme", true),
            (&["bng-1", "bng-2"], "acme", false),
            (&["bng-1", "bng-2"], "acme-voip", false),
            (&["wan"], "acme", false),
            (&["wan"], "acme-voip", false),
        ],
    );
}

#[test]
fn service_needs_every_dependency() {
    let mut net = Net::new();
    net.root("core")
        .device("a")
        .device("b")
        .uplink("la", "core", "a")
        .uplink("lb", "core", "b")
        .service("l2vpn", &["a", "b", "la"])
        .service("empty", &[]);
    check(
        &net,
        &[
            (&[], "l2vpn", true),
            (&["b"], "l2vpn", false),
            (&["la"], "l2vpn", false),
            (&["core"], "empty", true),
        ],
    );
}

#[test]
fn unanchored_device_is_down_and_unknown_ids_are_none() {
    let mut net = Net::new();
    net.root("core").device("orphan").device("child");
    net.uplink("l", "orphan", "child");
    let graph = net.build();
    let state = graph.evaluate(&Failures::none());
    assert_eq!(state.device(net.dev("orphan")), Some(false));
    assert_eq!(state.device(net.dev("child")), Some(false));
    assert_eq!(state.device(net.dev("core")), Some(true));
    let unknown = Object::Device(crate::DeviceId(999));
    assert_eq!(state.is_up(unknown), None);
    assert_eq!(graph.is_up(unknown, &Failures::none()), None);
    assert_eq!(
        net.names(state.down().iter()),
        ["child", "l", "orphan"].map(String::from)
    );
}
