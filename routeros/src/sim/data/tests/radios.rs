//! The radio menus: which router has which registration table, and their spellings.

use super::*;

#[test]
fn each_router_has_the_tables_of_its_radio_package() {
    let (v6, v7_radio, v7_core) = (
        router("tst-bng-1"),
        router("tst-cpe-1"),
        router("tst-core-1"),
    );
    let has = |r: &Router, path: &str| printer(path, r).is_some();
    assert!(has(&v6, "/interface/wireless/registration-table"));
    assert!(has(&v6, "/caps-man/registration-table"));
    assert!(!has(&v6, "/interface/wifi/registration-table"));
    assert!(has(&v7_radio, "/interface/wifi/registration-table"));
    assert!(!has(&v7_radio, "/interface/wireless/registration-table"));
    assert!(!has(&v7_radio, "/caps-man/registration-table"));
    for path in [
        "/interface/wifi/registration-table",
        "/interface/wireless/registration-table",
        "/caps-man/registration-table",
    ] {
        assert!(!has(&v7_core, path), "a v7 router without radios: {path}");
    }
    // The radio's interface type says which package drives it.
    let types = |r: &Router| -> Vec<(String, String)> {
        print(r, "/interface", NOON)
            .iter()
            .filter(|row| field(row, "type") != "ether" && field(row, "type") != "pppoe-in")
            .map(|row| (field(row, "name").to_owned(), field(row, "type").to_owned()))
            .collect()
    };
    assert_eq!(
        types(&v6),
        [
            ("wlan1".to_owned(), "wlan".to_owned()),
            ("cap1".to_owned(), "cap".to_owned()),
            ("cap2".to_owned(), "cap".to_owned())
        ]
    );
    assert_eq!(types(&v7_radio), [("wlan1".to_owned(), "wifi".to_owned())]);
}

#[test]
fn the_wifi_table_has_a_plain_signal_and_the_link_as_ssid() {
    let cpe = router("tst-cpe-1");
    let rows = print(&cpe, "/interface/wifi/registration-table", NOON);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(field(row, "interface"), "wlan1");
    assert_eq!(field(row, "ssid"), "bng-cpe-radio");
    let signal: f64 = field(row, "signal").parse().expect("a plain number");
    assert!((-80.0..-50.0).contains(&signal), "{signal}");
    assert!(row.iter().all(|(k, _)| *k != "tx-ccq"), "no CCQ: {row:?}");
    // The access point lists the same station on the legacy table, by the same MAC.
    let ap = print(
        &router("tst-bng-1"),
        "/interface/wireless/registration-table",
        NOON,
    );
    assert_eq!(field(&ap[0], "interface"), "wlan1");
    assert_eq!(
        field(&ap[0], "signal-strength"),
        format!("{signal:.0}@6Mbps")
    );
}

#[test]
fn capsman_clients_come_and_go_on_the_cap_interfaces() {
    let bng = router("tst-bng-1");
    let count = |now_ms| print(&bng, "/caps-man/registration-table", now_ms).len();
    let counts: Vec<usize> = (0..48).map(|h| count(NOON + h * 3_600_000)).collect();
    assert!(counts.iter().all(|&n| n <= 6), "{counts:?}");
    assert!(counts.iter().any(|&n| n >= 4), "{counts:?}");
    assert!(counts.iter().any(|&n| n < 6), "someone leaves: {counts:?}");
    let rows = print(&bng, "/caps-man/registration-table", NOON);
    for row in &rows {
        assert!(
            ["cap1", "cap2"].contains(&field(row, "interface")),
            "{row:?}"
        );
        assert_eq!(field(row, "ssid"), "tst-hotspot");
        let signal: f64 = field(row, "rx-signal").parse().expect("dBm");
        assert!((-85.0..-45.0).contains(&signal), "{signal}");
        assert!(field(row, "tx-rate").contains("bps"));
    }
    assert_eq!(
        print(&bng, "/caps-man/registration-table", NOON),
        rows,
        "deterministic"
    );
    // A router that is no CAPsMAN manager has an empty table.
    let mut plain = bng.clone();
    plain.capsman = None;
    assert!(print(&plain, "/caps-man/registration-table", NOON).is_empty());
}

#[test]
fn a_7_12_radio_is_wifiwave2_with_the_wifi_tables_shape() {
    let fleet = FLEET.replace(
        "model = \"SXTsq 5 ac\"\nrouteros = \"7.18.2\"",
        "model = \"SXTsq 5 ac\"\nrouteros = \"7.12.1\"",
    );
    assert_ne!(fleet, FLEET, "the fixture's CPE version moved");
    let routers = Router::build_all(&Topology::parse(&fleet, "fleet.toml").expect("parses"));
    let cpe = routers
        .iter()
        .find(|r| r.name == "tst-cpe-1")
        .expect("in fixture");
    assert!(printer("/interface/wifiwave2/registration-table", cpe).is_some());
    assert!(printer("/interface/wifi/registration-table", cpe).is_none());
    assert!(printer(
        "/interface/wifiwave2/registration-table",
        &router("tst-cpe-1")
    )
    .is_none());
    let radio = print(cpe, "/interface", NOON)
        .into_iter()
        .find(|row| field(row, "name") == "wlan1")
        .expect("wlan1");
    assert_eq!(field(&radio, "type"), "wifiwave2");
    let rows = print(cpe, "/interface/wifiwave2/registration-table", NOON);
    assert_eq!(rows.len(), 1);
    assert_eq!(field(&rows[0], "ssid"), "bng-cpe-radio");
    assert!(field(&rows[0], "signal").parse::<f64>().is_ok());
}
