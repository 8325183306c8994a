//! Faults in the data: each checked before, during and after its window (NOON+1m .. NOON+6m).

use super::*;

const FROM: u64 = NOON + 60_000;
const UNTIL: u64 = NOON + 360_000;

fn fault(line: &str) -> Vec<Fault> {
    vec![Fault::parse(line, FROM).expect("valid fault")]
}

fn row_named(rows: Vec<Row>, key: &str, value: &str) -> Option<Row> {
    rows.into_iter().find(|r| field(r, key) == value)
}

fn iface_at(router: &Router, iface: &str, t: u64, faults: &[Fault]) -> Row {
    row_named(print_with(router, "/interface", t, faults), "name", iface).expect("present")
}

fn number(row: &Row, key: &str) -> u64 {
    field(row, key).parse().expect("numeric")
}

#[test]
fn a_cut_link_stops_both_ends_and_its_neighbours() {
    let faults = fault("link-down core-bng 5m");
    let (core, bng) = (router("tst-core-1"), router("tst-bng-1"));
    let during = FROM + 120_000;
    for (r, port) in [(&core, "sfp-sfpplus3"), (&bng, "ether1")] {
        let before = iface_at(r, port, FROM - 1_000, &faults);
        let early = iface_at(r, port, FROM + 10_000, &faults);
        let late = iface_at(r, port, during, &faults);
        let after = iface_at(r, port, UNTIL + 60_000, &faults);
        assert_eq!(field(&before, "running"), "true");
        assert_eq!(field(&late, "running"), "false", "{port} during");
        assert_eq!(field(&after, "running"), "true");
        assert_eq!(
            number(&early, "rx-byte"),
            number(&late, "rx-byte"),
            "frozen"
        );
        assert!(number(&after, "rx-byte") > number(&late, "rx-byte"));
        assert_eq!(
            number(&after, "link-downs"),
            number(&before, "link-downs") + 1
        );
    }
    let identities = |t| -> Vec<String> {
        print_with(&core, "/ip/neighbor", t, &faults)
            .iter()
            .map(|r| field(r, "identity").to_owned())
            .collect()
    };
    assert_eq!(identities(during), ["tst-core-2"]);
    assert_eq!(identities(UNTIL + 1_000), ["tst-core-2", "tst-bng-1"]);
    let watch = |t| print_with(&bng, "/tool/netwatch", t, &faults).remove(0);
    assert_eq!(field(&watch(during), "status"), "down");
    assert_eq!(
        field(&watch(during), "since"),
        timestamp(FROM as f64 / 1000.0, bng.version)
    );
    assert_eq!(field(&watch(UNTIL + 1_000), "status"), "up");
}

#[test]
fn a_router_down_drops_its_adjacencies_and_comes_back_rebooted() {
    let faults = fault("router-down tst-core-2 5m");
    let core = router("tst-core-1");
    let during = FROM + 120_000;
    let ospf = |t| print_with(&core, "/routing/ospf/neighbor", t, &faults).len();
    assert_eq!(ospf(FROM - 1_000), 1);
    assert_eq!(ospf(during), 0);
    assert_eq!(ospf(UNTIL + 10_000), 0, "adjacency still forming");
    assert_eq!(ospf(UNTIL + 60_000), 1);
    let ibgp = |t| {
        row_named(
            print_with(&core, "/routing/bgp/session", t, &faults),
            "name",
            "ibgp-tst-core-2-1",
        )
    };
    assert!(ibgp(during).is_none());
    let back = ibgp(UNTIL + 90_000).expect("re-established");
    assert_eq!(field(&back, "uptime"), "1m");
    // The router itself restarts its clock when the window ends.
    let core2 = router("tst-core-2");
    let resource = print_with(&core2, "/system/resource", UNTIL + 75_000, &faults).remove(0);
    assert_eq!(field(&resource, "uptime"), "1m15s");
    let port = iface_at(&core2, "sfp-sfpplus1", UNTIL + 10_000, &faults);
    assert_eq!(number(&port, "rx-byte"), 0, "counters restart at boot");
}

#[test]
fn congestion_runs_the_busy_direction_at_line_rate() {
    let faults = fault("congestion core-bng 5m");
    let core = router("tst-core-1");
    // sfp-sfpplus3 is a 10 Gbit/s downlink: busy sending.
    let tx = |t| number(&iface_at(&core, "sfp-sfpplus3", t, &faults), "tx-byte");
    let moved = tx(FROM + 120_000) - tx(FROM + 60_000);
    let line_rate = 0.97 * 1_250_000_000.0 * 60.0;
    assert!(
        (moved as f64 - line_rate).abs() < 1e6,
        "{moved} vs {line_rate}"
    );
    let normal = tx(UNTIL + 120_000) - tx(UNTIL + 60_000);
    assert!((normal as f64) < line_rate * 0.8, "{normal}");
}

#[test]
fn packet_loss_counts_errors() {
    let faults = fault("packet-loss core-bng 20 5m");
    let bng = router("tst-bng-1");
    let errors = |t| number(&iface_at(&bng, "ether1", t, &faults), "rx-error");
    assert_eq!(errors(FROM), 0);
    assert!(errors(FROM + 60_000) > 1_000);
    assert!(errors(UNTIL + 60_000) == errors(UNTIL));
}

#[test]
fn a_bgp_flap_drops_one_session() {
    let faults = fault("bgp-flap tst-core-1 transit-a 5m");
    let core = router("tst-core-1");
    let names = |t| -> Vec<String> {
        print_with(&core, "/routing/bgp/session", t, &faults)
            .iter()
            .map(|r| field(r, "name").to_owned())
            .collect()
    };
    assert_eq!(names(FROM + 1_000), ["ibgp-tst-core-2-1"]);
    assert_eq!(names(UNTIL + 90_000), ["transit-a-1", "ibgp-tst-core-2-1"]);
}

#[test]
fn a_mass_pppoe_disconnect_empties_the_bng_and_subscribers_redial() {
    let faults = fault("pppoe-disconnect tst-bng-1 5m");
    let bng = router("tst-bng-1");
    let count = |t| print_with(&bng, "/ppp/active", t, &faults).len();
    let before = count(FROM - 1_000);
    assert!(before >= 30, "{before}");
    assert_eq!(count(FROM + 1_000), 0);
    let halfway = count(FROM + 150_000);
    assert!(halfway > 0 && halfway < before, "{halfway} of {before}");
    assert!(count(UNTIL + 1_000) + 2 >= before, "most are back");
}
