//! `/caps-man/registration-table`: the clients of the legacy CAPsMAN manager (v6, and v7 with
//! the `wireless` package), on its `cap` interfaces. `rx-signal` is the client's signal in dBm
//! as the CAP hears it; rates as on the legacy wireless table. No CCQ.

use routeros::{Attributes, Request};

use super::super::field;
use super::super::value::leading_number;
use super::Client;

pub fn request() -> Request {
    Request::new("/caps-man/registration-table/print").proplist([
        "mac-address",
        "interface",
        "ssid",
        "rx-signal",
        "tx-rate",
        "rx-rate",
    ])
}

pub fn clients(rows: &[Attributes]) -> Vec<Client> {
    rows.iter()
        .filter_map(|row| {
            Some(Client {
                signal_dbm: field(row, "rx-signal").and_then(leading_number),
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
    fn managed_clients_with_signal_and_rates() {
        let rows = rows("capsman");
        let clients = clients(&rows);
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
    fn v6_spellings_and_junk_rows() {
        let rows = parse_rows(
            "interface=cap3\nssid=Hotel\nmac-address=F0:9F:C2:00:00:01\nrx-signal=-71\n\
             tx-rate=58.5Mbps-20MHz/1S\nrx-rate=65Mbps-20MHz/1S/SGI\nuptime=1d02:03:04\n---\n\
             interface=cap3\nmac-address=\nrx-signal=-50\n",
        );
        let clients = clients(&rows);
        assert_eq!(clients.len(), 1);
        assert_eq!(clients[0].signal_dbm, Some(-71.0));
        assert_eq!(clients[0].tx_bps, Some(58.5e6));
        assert_eq!(clients[0].rx_bps, Some(65e6));
        assert_eq!(clients[0].ccq_percent, None);
    }
}
