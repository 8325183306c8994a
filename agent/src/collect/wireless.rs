//! Wireless clients from the registration tables of the three radio stacks RouterOS has, onto
//! one set of series (instance = the client's MAC in upper case): `wireless_clients`, and per
//! client signal, CCQ (legacy only) and rates, labelled with its interface and SSID.
//!
//! - `/interface/wireless/registration-table`: the legacy `wireless` package (v6, and v7 on
//!   older radios), interfaces of type `wlan`. Parsed here.
//! - `/interface/wifi/registration-table`: the `wifi` package of RouterOS 7.13+ (`wifi-qcom`,
//!   `wifi-qcom-ac`), interfaces of type `wifi`; a wifi CAPsMAN manager lists its CAPs'
//!   clients here too. `wireless/wifi.rs`.
//! - `/caps-man/registration-table`: the legacy CAPsMAN manager, whose managed radios are
//!   interfaces of type `cap`. `wireless/capsman.rs`.
//!
//! Which tables a router has follows from its interface types (see [`tables`]): `crate::poll`
//! asks only those, after `/interface` answered, so a router without radios is never asked
//! and reports no wireless series. A router with radios reports `wireless_clients` even when
//! it is 0 (all clients gone is news), summed over the tables that answered.

pub mod capsman;
pub mod wifi;

use routeros::{Attributes, Request};

use super::value::{leading_number, number, rate_bps};
use super::{field, labels, Out};

/// A registration table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Wireless,
    Wifi,
    CapsMan,
}

impl Table {
    /// The table that lists the clients of an interface of this type, if any.
    pub fn for_interface_type(kind: &str) -> Option<Table> {
        match kind {
            "wlan" => Some(Table::Wireless),
            "wifi" => Some(Table::Wifi),
            "cap" => Some(Table::CapsMan),
            _ => None,
        }
    }

    pub fn request(self) -> Request {
        match self {
            Table::Wireless => request(),
            Table::Wifi => wifi::request(),
            Table::CapsMan => capsman::request(),
        }
    }

    /// The clients of this table's rows; rows without a MAC address are skipped.
    pub fn clients(self, rows: &[Attributes]) -> Vec<Client> {
        match self {
            Table::Wireless => clients(rows),
            Table::Wifi => wifi::clients(rows),
            Table::CapsMan => capsman::clients(rows),
        }
    }
}

/// The tables of the radio interfaces in `/interface`'s rows, each once, in a fixed order.
pub fn tables(interfaces: &[Attributes]) -> Vec<Table> {
    let present: Vec<Table> = interfaces
        .iter()
        .filter_map(|row| field(row, "type"))
        .filter_map(Table::for_interface_type)
        .collect();
    [Table::Wireless, Table::Wifi, Table::CapsMan]
        .into_iter()
        .filter(|t| present.contains(t))
        .collect()
}

/// One registered client, as any of the tables describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Client {
    /// Upper case, `AA:BB:CC:DD:EE:FF`.
    pub mac: String,
    pub interface: Option<String>,
    pub ssid: Option<String>,
    pub signal_dbm: Option<f64>,
    pub ccq_percent: Option<f64>,
    pub tx_bps: Option<f64>,
    pub rx_bps: Option<f64>,
}

impl Client {
    /// The common fields of a row: MAC, interface, SSID and rates; `None` without a MAC.
    fn from_row(row: &Attributes) -> Option<Client> {
        let text = |name| {
            field(row, name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Some(Client {
            mac: field(row, "mac-address").and_then(mac)?,
            interface: text("interface"),
            ssid: text("ssid"),
            tx_bps: field(row, "tx-rate").and_then(rate_bps),
            rx_bps: field(row, "rx-rate").and_then(rate_bps),
            ..Client::default()
        })
    }
}

/// A MAC address in the registry's format (upper case), if it is one.
fn mac(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let parts: Vec<&str> = upper.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then_some(upper)
}

pub fn request() -> Request {
    Request::new("/interface/wireless/registration-table/print").proplist([
        "mac-address",
        "interface",
        "signal-strength",
        "tx-ccq",
        "tx-rate",
        "rx-rate",
    ])
}

/// The legacy table's clients: `signal-strength` is `-62@6Mbps` (the signal of the last frame
/// and its rate), `tx-ccq` a percentage.
pub fn clients(rows: &[Attributes]) -> Vec<Client> {
    rows.iter()
        .filter_map(|row| {
            Some(Client {
                signal_dbm: field(row, "signal-strength").and_then(leading_number),
                ccq_percent: field(row, "tx-ccq")
                    .and_then(number)
                    .map(|c| c.clamp(0.0, 100.0)),
                ..Client::from_row(row)?
            })
        })
        .collect()
}

/// Writes the clients of the tables that answered: `wireless_clients` (each MAC once: a
/// client that two tables list is one client) and the per-client series of its first listing.
pub fn write(clients: &[Client], out: &mut Out) {
    let mut seen: Vec<&str> = Vec::new();
    for client in clients {
        if seen.contains(&client.mac.as_str()) {
            continue;
        }
        seen.push(&client.mac);
        let instance = Some(client.mac.as_str());
        if let Some(dbm) = client.signal_dbm {
            if let Some(sample) = out.number("wireless_signal_dbm", instance, dbm) {
                labels(
                    sample,
                    [
                        ("interface", client.interface.as_deref()),
                        ("ssid", client.ssid.as_deref()),
                    ],
                );
            }
        }
        if let Some(ccq) = client.ccq_percent {
            out.number("wireless_ccq_percent", instance, ccq);
        }
        if let Some(bps) = client.tx_bps {
            out.number("wireless_tx_rate_bps", instance, bps);
        }
        if let Some(bps) = client.rx_bps {
            out.number("wireless_rx_rate_bps", instance, bps);
        }
    }
    out.number("wireless_clients", None, seen.len() as f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, value_of};

    #[test]
    fn clients_with_signal_ccq_and_rates() {
        let rows = rows("wireless");
        let mut out = out();
        write(&clients(&rows), &mut out);
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
        write(&clients(&rows), &mut out);
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
        let local = clients(&parse_rows(
            "mac-address=AA:BB:CC:00:11:22\nsignal-strength=-70\ninterface=wlan1\n",
        ));
        let managed = capsman::clients(&parse_rows(
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
            [Table::Wireless, Table::Wifi, Table::CapsMan]
        );
    }
}
