//! The simulated data: determinism, monotonic counters with reboots, churn, derived
//! neighbours, and the per-version differences collectors must cope with.

use super::*;
use crate::sim::fault::{Fault, Faults};
use crate::sim::topology::Topology;

mod faults;
mod radios;

const FLEET: &str = include_str!("../../../tests/fixtures/fleet.toml");
/// 2026-11-27 12:00:00 UTC.
const NOON: u64 = 1_795_780_800_000;

fn routers() -> Vec<Router> {
    Router::build_all(&Topology::parse(FLEET, "fleet.toml").expect("fixture parses"))
}

fn router(name: &str) -> Router {
    routers()
        .into_iter()
        .find(|r| r.name == name)
        .expect("in fixture")
}

fn print(router: &Router, path: &str, now_ms: u64) -> Vec<Row> {
    print_with(router, path, now_ms, &[])
}

fn print_with(router: &Router, path: &str, now_ms: u64, faults: &[Fault]) -> Vec<Row> {
    let printer = printer(path, router).expect("served path");
    printer(&Ctx {
        router,
        seed: 7,
        now_ms,
        faults: Faults(faults),
    })
}

fn field<'r>(row: &'r Row, name: &str) -> &'r str {
    row.iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {row:?}"))
}

fn counter(router: &Router, iface: &str, now_ms: u64) -> u64 {
    print(router, "/interface", now_ms)
        .iter()
        .find(|r| field(r, "name") == iface)
        .map(|r| field(r, "rx-byte").parse().expect("number"))
        .expect("interface present")
}

#[test]
fn only_mikrotik_devices_are_simulated_and_links_add_ports() {
    let all = routers();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["tst-core-1", "tst-core-2", "tst-bng-1", "tst-cpe-1"]
    );
}

#[test]
fn the_same_instant_prints_the_same_and_seeds_differ() {
    let r = router("tst-core-1");
    for path in ["/interface", "/system/resource", "/routing/bgp/session"] {
        assert_eq!(print(&r, path, NOON), print(&r, path, NOON), "{path}");
    }
    let other_seed = printer("/interface", &r).expect("served")(&Ctx {
        router: &r,
        seed: 8,
        now_ms: NOON,
        faults: Faults::default(),
    });
    assert_ne!(print(&r, "/interface", NOON), other_seed);
}

fn boot_ms(router: &Router, now_ms: u64) -> u64 {
    let ctx = Ctx {
        router,
        seed: 7,
        now_ms,
        faults: Faults::default(),
    };
    (ctx.boot() * 1000.0) as u64
}

#[test]
fn counters_rise_monotonically_and_reset_at_reboot() {
    let r = router("tst-core-1");
    // Every 7 minutes over a day, never decreasing while the router stays up.
    let mut last = (boot_ms(&r, NOON), 0);
    for step in 0..206 {
        let t = NOON + step * 420_000;
        let now = (boot_ms(&r, t), counter(&r, "sfp-sfpplus1", t));
        if now.0 == last.0 {
            assert!(
                now.1 >= last.1,
                "counter went back at {t}: {now:?} < {last:?}"
            );
        }
        last = now;
    }
    // The next reboot (within 80 days) resets it.
    let first_boot = boot_ms(&r, NOON);
    let reboot = (1..80 * 24)
        .map(|h| NOON + h * 3_600_000)
        .map(|t| boot_ms(&r, t))
        .find(|&b| b != first_boot)
        .expect("reboots within 80 days");
    let before = counter(&r, "sfp-sfpplus1", reboot - 1_000);
    let after = counter(&r, "sfp-sfpplus1", reboot + 120_000);
    assert!(after < before / 100, "{before} → {after} across the reboot");
    assert_eq!(
        counter(&r, "sfp-sfpplus1", reboot + 10_000),
        0,
        "links not up yet"
    );
    // A 10 Gbit/s uplink at ~30 % moves far more than a gigabyte per minute.
    let a = counter(&r, "sfp-sfpplus1", NOON);
    let b = counter(&r, "sfp-sfpplus1", NOON + 60_000);
    assert!(b - a > 1_000_000_000, "{a} → {b}");
    // A port with no link is not running and counts nothing.
    let unused = print(&r, "/interface", NOON)
        .into_iter()
        .find(|row| field(row, "name") == "sfp-sfpplus4")
        .expect("present");
    assert_eq!(field(&unused, "running"), "false");
    assert_eq!(field(&unused, "rx-byte"), "0");
}

#[test]
fn pppoe_sessions_churn_but_most_are_up() {
    let r = router("tst-bng-1");
    let now = print(&r, "/ppp/active", NOON);
    assert!(now.len() >= 30 && now.len() <= 40, "{} of 40 up", now.len());
    let names = |rows: &[Row]| -> Vec<String> {
        rows.iter()
            .map(|row| field(row, ".id").to_owned())
            .collect()
    };
    let tomorrow = print(&r, "/ppp/active", NOON + 86_400_000);
    assert_ne!(names(&now), names(&tomorrow), "sessions redial over a day");
    assert!(field(&now[0], "name").starts_with("tst-"));
    assert!(field(&now[0], "address").starts_with("100."));
    // Each session is also a dynamic interface and a dynamic simple queue.
    let dynamic = print(&r, "/interface", NOON)
        .into_iter()
        .filter(|row| field(row, "type") == "pppoe-in")
        .count();
    assert_eq!(dynamic, now.len());
    assert_eq!(print(&r, "/queue/simple", NOON).len(), now.len());
}

#[test]
fn links_become_neighbours_sessions_and_registrations() {
    let core = router("tst-core-1");
    let neighbours: Vec<String> = print(&core, "/ip/neighbor", NOON)
        .iter()
        .map(|row| format!("{}@{}", field(row, "identity"), field(row, "interface")))
        .collect();
    assert_eq!(
        neighbours,
        ["tst-core-2@sfp-sfpplus2", "tst-bng-1@sfp-sfpplus3"]
    );
    let ospf = print(&core, "/routing/ospf/neighbor", NOON);
    assert_eq!(ospf.len(), 1, "only the core-core link is routed: {ospf:?}");
    assert_eq!(field(&ospf[0], "router-id"), "127.77.0.2");
    assert_eq!(field(&ospf[0], "state"), "Full");
    let bgp: Vec<(String, String)> = core
        .bgp
        .iter()
        .map(|b| (b.name.clone(), b.remote_as.to_string()))
        .collect();
    assert_eq!(
        bgp,
        [
            ("transit-a".into(), "1299".into()),
            ("ibgp-tst-core-2".into(), "64500".into())
        ]
    );
    let bng = router("tst-bng-1");
    let registrations = print(&bng, "/interface/wireless/registration-table", NOON);
    assert_eq!(registrations.len(), 1);
    assert_eq!(field(&registrations[0], "radio-name"), "tst-cpe-1");
    let cpe = router("tst-cpe-1");
    let watched = print(&cpe, "/tool/netwatch", NOON);
    assert_eq!(field(&watched[0], "host"), "127.77.0.3");
}

#[test]
fn versions_differ_where_real_routers_differ() {
    let v6 = router("tst-bng-1");
    let v7 = router("tst-core-1");
    assert!(printer("/routing/bgp/peer", &v6).is_some());
    assert!(printer("/routing/bgp/session", &v6).is_none());
    assert!(printer("/routing/bgp/peer", &v7).is_none());
    assert!(printer("/routing/bgp/connection", &v6).is_none());
    // v7 lists every configured connection, with or without a session.
    let connections = print(&v7, "/routing/bgp/connection", NOON);
    assert_eq!(connections.len(), v7.bgp.len());
    assert!(connections
        .iter()
        .all(|c| v7.bgp.iter().any(|p| field(c, "name") == p.name)));
    // v6 health is one item with a field per sensor; v7 one item per sensor.
    assert_eq!(print(&v6, "/system/health", NOON).len(), 1);
    let sensors = print(&v7, "/system/health", NOON);
    assert!(sensors
        .iter()
        .any(|row| field(row, "name") == "cpu-temperature" && field(row, "type") == "C"));
    assert_eq!(duration(93_784.0, Version(7, 16, 2)), "1d2h3m4s");
    assert_eq!(duration(93_784.0, Version(6, 49, 17)), "1d02:03:04");
    assert_eq!(duration(0.0, Version(7, 16, 2)), "0s");
    assert_eq!(duration(1_209_600.0, Version(7, 1, 0)), "2w");
}

#[test]
fn timestamps_follow_the_calendar() {
    let t = NOON as f64 / 1000.0;
    assert_eq!(timestamp(t, Version(7, 16, 2)), "2026-11-27 12:00:00");
    assert_eq!(timestamp(t, Version(6, 49, 17)), "nov/27/2026 12:00:00");
    assert_eq!(
        timestamp(951_782_400.0, Version(7, 16, 2)),
        "2000-02-29 00:00:00"
    );
}

#[test]
fn the_demo_fleet_file_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/demo/isp.toml");
    let topology = Topology::load(&path).expect("the demo fleet parses");
    let routers = Router::build_all(&topology);
    assert!(routers.len() >= 10, "{} routers", routers.len());
    assert!(routers.iter().any(|r| !r.version.is_v7()));
    assert!(routers.iter().any(|r| r.api_tls));
}

#[test]
fn topology_errors_name_the_problem() {
    let bad_link = r#"
        [[device]]
        name = "a"
        address = "127.0.0.1"
        [[link]]
        id = "l1"
        a = "a"
        b = "ghost:ether1"
    "#;
    let err = Topology::parse(bad_link, "t.toml").expect_err("dangling");
    assert_eq!(err.to_string(), "link \"l1\": no device named \"ghost\"");
    let bad_version = "[[device]]\nname = \"a\"\naddress = \"127.0.0.1\"\nrouteros = \"seven\"\n";
    let err = Topology::parse(bad_version, "t.toml").expect_err("version");
    assert!(err.to_string().contains("\"seven\""), "{err}");
}

#[test]
fn an_ospf_link_without_ports_adds_only_missing_adjacencies() {
    let text = r#"
        [[device]]
        name = "a"
        role = "core"
        address = "127.0.0.1"
        interfaces = [
          { name = "ether1", role = "management" },
          { name = "sfp1", role = "uplink" },
        ]
        [[device]]
        name = "b"
        role = "core"
        address = "127.0.0.2"
        [[device]]
        name = "c"
        role = "core"
        address = "127.0.0.3"
        [[link]]
        id = "a-b-fibre"
        a = "a:sfp2"
        b = "b:sfp1"
        kind = "ptp"
        [[link]]
        id = "a-b-ospf"
        a = "a"
        b = "b"
        kind = "ospf"
        [[link]]
        id = "a-c-ospf"
        a = "a"
        b = "c"
        kind = "ospf"
    "#;
    let topology = Topology::parse(text, "t.toml").expect("parses");
    let a = Router::build_all(&topology).remove(0);
    let adjacencies: Vec<(&str, &str)> = a
        .ospf
        .iter()
        .map(|p| (p.device.as_str(), p.interface.as_str()))
        .collect();
    assert_eq!(adjacencies, [("b", "sfp2"), ("c", "sfp1")]);
}

#[test]
fn routerboards_print_their_firmware_and_a_chr_only_that_it_is_none() {
    let behind: Vec<bool> = routers()
        .iter()
        .map(|r| {
            let row = &print(r, "/system/routerboard", NOON)[0];
            assert_eq!(field(row, "routerboard"), "true");
            assert_eq!(field(row, "model"), r.model);
            assert_eq!(field(row, "upgrade-firmware"), r.version.to_string());
            field(row, "current-firmware") != field(row, "upgrade-firmware")
        })
        .collect();
    let expected: Vec<bool> = routers()
        .iter()
        .map(|r| system::firmware_behind(&r.name))
        .collect();
    assert_eq!(behind, expected);
    let mut chr = router("tst-core-1");
    chr.model = "CHR".into();
    assert_eq!(
        print(&chr, "/system/routerboard", NOON),
        [vec![("routerboard", "false".to_owned())]]
    );
    let resource = &print(&chr, "/system/resource", NOON)[0];
    assert_eq!(field(resource, "board-name"), "CHR");
    assert_eq!(field(resource, "architecture-name"), "x86_64");
}
