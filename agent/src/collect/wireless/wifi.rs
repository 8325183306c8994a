//! `/interface/wifi/registration-table`: the clients of the `wifi` package (RouterOS 7.13+),
//! including a wifi CAPsMAN manager's CAPs. `signal` is a plain number in dBm (`-61`); rates
//! are spelled as on the legacy table (`144.1Mbps`, `866.6Mbps-80MHz/2S/SGI`). The package
//! has no CCQ.

use routeros::{Attributes, Request};

use super::super::field;
use super::super::value::leading_number;
use super::Client;

pub fn request() -> Request {
    Request::new("/interface/wifi/registration-table/print").proplist([
        "mac-address",
        "interface",
        "ssid",
        "signal",
        "tx-rate",
        "rx-rate",
    ])
}

pub fn clients(rows: &[Attributes]) -> Vec<Client> {
    rows.iter()
        .filter_map(|row| {
            Some(Client {
                signal_dbm: field(row, "signal").and_then(leading_number),
                ..Client::from_row(row)?
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, value_of};
    use crate::collect::wireless::write;

    #[test]
    fn clients_with_signal_rates_interface_and_ssid() {
        let rows = rows("wifi");
        let clients = clients(&rows);
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
    fn real_spellings_and_junk_rows() {
        // 7.15 on a hAP ax3: a plain signal and rate, an AX rate, a row without a MAC.
        let rows = parse_rows(
            "interface=wifi1\nssid=home\nmac-address=11:22:33:44:55:66\nsignal=-61\n\
             tx-rate=144.1Mbps\nrx-rate=120.1Mbps\n---\n\
             interface=wifi2\nssid=home\nmac-address=11:22:33:44:55:77\nsignal=-48\n\
             tx-rate=1.2Gbps-80MHz/2S/HE-MCS11\nrx-rate=\n---\n\
             interface=wifi1\nsignal=-70\n",
        );
        let clients = clients(&rows);
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].signal_dbm, Some(-61.0));
        assert_eq!(clients[0].tx_bps, Some(144.1e6));
        assert_eq!(clients[1].tx_bps, Some(1.2e9));
        assert_eq!(clients[1].rx_bps, None);
        assert_eq!(clients[1].ssid.as_deref(), Some("home"));
    }
}
