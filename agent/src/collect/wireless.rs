//! Wireless clients from the registration tables of the radio stacks RouterOS has, onto one
//! set of series (instance = the client's MAC in upper case): `wireless_clients`, and per
//! client signal, CCQ (legacy only) and rates, labelled with its interface and SSID.
//!
//! | Table | Stack | Interface type | Signal field |
//! |---|---|---|---|
//! | `/interface/wireless/registration-table` | the legacy `wireless` package (v6, and v7 on older radios) | `wlan` | `signal-strength` (`-62@6Mbps`), plus `tx-ccq` |
//! | `/interface/wifiwave2/registration-table` | the `wifiwave2` package (7.1–7.12, ax radios) | `wifiwave2` | `signal` (`-61`) |
//! | `/interface/wifi/registration-table` | the `wifi` package of 7.13+ (`wifi-qcom`, `wifi-qcom-ac`), a wifi CAPsMAN manager's CAPs included | `wifi` | `signal` |
//! | `/caps-man/registration-table` | the legacy CAPsMAN manager | `cap` | `rx-signal` (as the CAP hears the client) |
//!
//! Rates are spelled alike on all of them (`144.1Mbps`, `866.6Mbps-80MHz/2S/SGI`). Which
//! tables a router has follows from its interface types (see [`tables`]): `crate::poll` asks
//! only those, after `/interface` answered, so a router without radios is never asked and
//! reports no wireless series. A router with radios reports `wireless_clients` even when it is
//! 0 (all clients gone is news), summed over the tables that answered.

use routeros::{Attributes, Request};

use super::value::{leading_number, number, rate_bps};
use super::{field, labels, Out};

/// A registration table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Wireless,
    WifiWave2,
    Wifi,
    CapsMan,
}

impl Table {
    /// Every table, in the order they are asked.
    const ALL: [Table; 4] = [
        Table::Wireless,
        Table::WifiWave2,
        Table::Wifi,
        Table::CapsMan,
    ];

    /// The table that lists the clients of an interface of this type, if any.
    pub fn for_interface_type(kind: &str) -> Option<Table> {
        match kind {
            "wlan" => Some(Table::Wireless),
            "wifiwave2" => Some(Table::WifiWave2),
            "wifi" => Some(Table::Wifi),
            "cap" => Some(Table::CapsMan),
            _ => None,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Table::Wireless => "/interface/wireless/registration-table/print",
            Table::WifiWave2 => "/interface/wifiwave2/registration-table/print",
            Table::Wifi => "/interface/wifi/registration-table/print",
            Table::CapsMan => "/caps-man/registration-table/print",
        }
    }

    /// The field with the client's signal in dBm (leading number).
    fn signal(self) -> &'static str {
        match self {
            Table::Wireless => "signal-strength",
            Table::WifiWave2 | Table::Wifi => "signal",
            Table::CapsMan => "rx-signal",
        }
    }

    /// Only the legacy package reports a CCQ.
    fn ccq(self) -> Option<&'static str> {
        (self == Table::Wireless).then_some("tx-ccq")
    }

    pub fn request(self) -> Request {
        let fields = ["mac-address", "interface", "tx-rate", "rx-rate"];
        // The legacy table has no SSID column (its interface is the SSID's).
        let ssid = (self != Table::Wireless).then_some("ssid");
        Request::new(self.path()).proplist(
            fields
                .into_iter()
                .chain(ssid)
                .chain([self.signal()])
                .chain(self.ccq()),
        )
    }

    /// The clients of this table's rows; rows without a MAC address are skipped.
    pub fn clients(self, rows: &[Attributes]) -> Vec<Client> {
        rows.iter()
            .filter_map(|row| {
                Some(Client {
                    signal_dbm: field(row, self.signal()).and_then(leading_number),
                    ccq_percent: self
                        .ccq()
                        .and_then(|name| field(row, name))
                        .and_then(number)
                        .map(|c| c.clamp(0.0, 100.0)),
                    ..Client::from_row(row)?
                })
            })
            .collect()
    }
}

/// The tables of the radio interfaces in `/interface`'s rows, each once, in a fixed order.
pub fn tables(interfaces: &[Attributes]) -> Vec<Table> {
    let present: Vec<Table> = interfaces
        .iter()
        .filter_map(|row| field(row, "type"))
        .filter_map(Table::for_interface_type)
        .collect();
    Table::ALL
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
mod tests;
