//! The registration tables' parsers, against simulator-shaped fixtures and real spellings.

use super::*;
use crate::collect::fixtures::{out, parse_rows, rows, value_of};

#[test]
fn clients_with_signal_ccq_and_rates() {
    let rows = rows("wireless");
    let mut out = out();
    write(&Table::Wireless.clients(&rows), &mut out);
    crate::collect::assert_valid(&out.samples);
    assert_eq!(
        value_of(&out, "wireless_clients", None),
        Some(rows.len() as f64)
    );
    let client = rows[0]["mac-address"].to_ascii_uppercase();
    let signal = value_of(&out, "wireless_signal_dbm", Some(&client)).expect("signal");
    assert!((-100.0..0.0).contains(&signal));
    assert!(value_of(&out, "wireless_ccq_percent", Some(&client)).is_some());
    assert!(value_of(&out, "wireless_tx_rate_bps", Some(&client)).is_some_and(|r| r > 1e6));
}

#[test]
fn lower_case_macs_are_normalised_and_junk_rows_are_no_clients() {
    let rows = parse_rows(
        "mac-address=aa:bb:cc:00:11:22\nsignal-strength=-70\n---\n\
         mac-address=not-a-mac\nsignal-strength=-50\n---\n\
         signal-strength=-40\n---\n\
         mac-address=AA:BB:CC:00:11:33\nsignal-strength=junk\ntx-ccq=140\ntx-rate=fast\n",
    );
    let mut out = out();
    write(&Table::Wireless.clients(&rows), &mut out);
    crate::collect::assert_valid(&out.samples);
    assert_eq!(
        value_of(&out, "wireless_signal_dbm", Some("AA:BB:CC:00:11:22")),
        Some(-70.0)
    );
    assert_eq!(value_of(&out, "wireless_clients", None), Some(2.0));
    // A client whose values are junk is still a client, with what could be read.
    assert_eq!(
        value_of(&out, "wireless_ccq_percent", Some("AA:BB:CC:00:11:33")),
        Some(100.0)
    );
    assert_eq!(
        value_of(&out, "wireless_signal_dbm", Some("AA:BB:CC:00:11:33")),
        None
    );
}

#[test]
fn an_answered_empty_table_is_zero_clients() {
    let mut out = out();
    write(&[], &mut out);
    assert_eq!(value_of(&out, "wireless_clients", None), Some(0.0));
    assert_eq!(out.samples.len(), 1);
}

#[test]
fn a_client_two_tables_list_counts_once() {
    let local = Table::Wireless.clients(&parse_rows(
        "mac-address=AA:BB:CC:00:11:22\nsignal-strength=-70\ninterface=wlan1\n",
    ));
    let managed = Table::CapsMan.clients(&parse_rows(
        "mac-address=aa:bb:cc:00:11:22\nrx-signal=-60\ninterface=cap1\n---\n\
         mac-address=AA:BB:CC:00:11:44\nrx-signal=-65\ninterface=cap1\n",
    ));
    let mut out = out();
    write(&[local, managed].concat(), &mut out);
    crate::collect::assert_valid(&out.samples);
    assert_eq!(value_of(&out, "wireless_clients", None), Some(2.0));
    assert_eq!(
        value_of(&out, "wireless_signal_dbm", Some("AA:BB:CC:00:11:22")),
        Some(-70.0),
        "the first table's listing"
    );
}

#[test]
fn the_tables_follow_the_interface_types() {
    assert_eq!(tables(&rows("interface-edge")), [Table::Wireless]);
    assert_eq!(tables(&rows("interface")), []);
    let rows = parse_rows(
        "name=cap2\ntype=cap\n---\nname=wifi1\ntype=wifi\n---\nname=cap1\ntype=cap\n---\n\
         name=wlan1\ntype=wlan\n---\nname=ww2\ntype=wifiwave2\n---\nname=x\n",
    );
    assert_eq!(
        tables(&rows),
        [
            Table::Wireless,
            Table::WifiWave2,
            Table::Wifi,
            Table::CapsMan
        ]
    );
}

#[test]
fn wifi_clients_with_signal_rates_interface_and_ssid() {
    let rows = rows("wifi");
    let clients = Table::Wifi.clients(&rows);
    assert_eq!(clients.len(), rows.len());
    let mut out = out();
    write(&clients, &mut out);
    crate::collect::assert_valid(&out.samples);
    let mac = rows[0]["mac-address"].to_ascii_uppercase();
    let signal = value_of(&out, "wireless_signal_dbm", Some(&mac)).expect("signal");
    assert!((-100.0..0.0).contains(&signal), "{signal}");
    assert!(value_of(&out, "wireless_tx_rate_bps", Some(&mac)).is_some_and(|r| r > 1e6));
    assert!(value_of(&out, "wireless_rx_rate_bps", Some(&mac)).is_some_and(|r| r > 1e6));
    assert_eq!(value_of(&out, "wireless_ccq_percent", Some(&mac)), None);
    let sample = out
        .samples
        .iter()
        .find(|s| s.metric == "wireless_signal_dbm")
        .expect("signal sample");
    assert_eq!(sample.labels["interface"], rows[0]["interface"]);
    assert_eq!(sample.labels["ssid"], rows[0]["ssid"]);
}

#[test]
fn wifi_real_spellings_and_junk_rows() {
    // 7.15 on a hAP ax3: a plain signal and rate, an AX rate, a row without a MAC.
    let rows = parse_rows(
        "interface=wifi1\nssid=home\nmac-address=11:22:33:44:55:66\nsignal=-61\n\
         tx-rate=144.1Mbps\nrx-rate=120.1Mbps\n---\n\
         interface=wifi2\nssid=home\nmac-address=11:22:33:44:55:77\nsignal=-48\n\
         tx-rate=1.2Gbps-80MHz/2S/HE-MCS11\nrx-rate=\n---\n\
         interface=wifi1\nsignal=-70\n",
    );
    let clients = Table::Wifi.clients(&rows);
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[0].signal_dbm, Some(-61.0));
    assert_eq!(clients[0].tx_bps, Some(144.1e6));
    assert_eq!(clients[1].tx_bps, Some(1.2e9));
    assert_eq!(clients[1].rx_bps, None);
    assert_eq!(clients[1].ssid.as_deref(), Some("home"));
}

#[test]
fn capsman_clients_with_signal_and_rates() {
    let rows = rows("capsman");
    let clients = Table::CapsMan.clients(&rows);
    assert_eq!(clients.len(), rows.len());
    let mut out = out();
    write(&clients, &mut out);
    crate::collect::assert_valid(&out.samples);
    assert_eq!(
        value_of(&out, "wireless_clients", None),
        Some(rows.len() as f64)
    );
    let mac = rows[0]["mac-address"].to_ascii_uppercase();
    assert!(value_of(&out, "wireless_signal_dbm", Some(&mac)).is_some());
    assert!(value_of(&out, "wireless_tx_rate_bps", Some(&mac)).is_some_and(|r| r > 1e6));
    let sample = out
        .samples
        .iter()
        .find(|s| s.metric == "wireless_signal_dbm")
        .expect("signal sample");
    assert!(sample.labels["interface"].starts_with("cap"));
    assert!(sample.labels.contains_key("ssid"));
}

#[test]
fn capsman_v6_spellings_and_junk_rows() {
    let rows = parse_rows(
        "interface=cap3\nssid=Hotel\nmac-address=F0:9F:C2:00:00:01\nrx-signal=-71\n\
         tx-rate=58.5Mbps-20MHz/1S\nrx-rate=65Mbps-20MHz/1S/SGI\nuptime=1d02:03:04\n---\n\
         interface=cap3\nmac-address=\nrx-signal=-50\n",
    );
    let clients = Table::CapsMan.clients(&rows);
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].signal_dbm, Some(-71.0));
    assert_eq!(clients[0].tx_bps, Some(58.5e6));
    assert_eq!(clients[0].rx_bps, Some(65e6));
    assert_eq!(clients[0].ccq_percent, None);
}

#[test]
fn wifiwave2_clients_as_7_12_writes_them() {
    // 7.12.1 on a hAP ax²: the wifi table's shape under the package's old name.
    let rows = parse_rows(
        "interface=wifi1\nssid=Alpenlink\nmac-address=5c:e9:1e:00:00:01\nsignal=-58\n\
         tx-rate=286.7Mbps-20MHz/2S/HE-MCS11\nrx-rate=229.4Mbps\nuptime=3h12m\n---\n\
         interface=wifi1\nmac-address=bad\nsignal=-40\n",
    );
    let clients = Table::WifiWave2.clients(&rows);
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].mac, "5C:E9:1E:00:00:01");
    assert_eq!(clients[0].signal_dbm, Some(-58.0));
    assert_eq!(clients[0].tx_bps, Some(286.7e6));
    assert_eq!(clients[0].rx_bps, Some(229.4e6));
    assert_eq!(clients[0].ssid.as_deref(), Some("Alpenlink"));
    assert_eq!(clients[0].ccq_percent, None);
}

#[test]
fn each_table_asks_for_its_own_columns() {
    let words = |t: Table| {
        let sentence = t.request().to_sentence("1").expect("a valid request");
        let words: Vec<String> = sentence
            .words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        words.join(" ")
    };
    let legacy = words(Table::Wireless);
    assert!(
        legacy.starts_with("/interface/wireless/registration-table/print"),
        "{legacy}"
    );
    assert!(
        legacy.contains("signal-strength") && legacy.contains("tx-ccq"),
        "{legacy}"
    );
    assert!(!legacy.contains("ssid"), "{legacy}");
    let wave2 = words(Table::WifiWave2);
    assert!(
        wave2.starts_with("/interface/wifiwave2/registration-table/print"),
        "{wave2}"
    );
    assert!(
        wave2.contains(",signal") && wave2.contains("ssid") && !wave2.contains("ccq"),
        "{wave2}"
    );
    let caps = words(Table::CapsMan);
    assert!(
        caps.starts_with("/caps-man/registration-table/print") && caps.contains("rx-signal"),
        "{caps}"
    );
}
