//! `/interface/wireless/registration-table`: registered clients, and per client (instance =
//! its MAC in upper case) signal, CCQ and rates.
//!
//! Routers without the wireless package answer with a trap, which `crate::poll` treats as "no
//! radios". A router that has radios reports `wireless_clients` even when it is 0 (all clients
//! gone is news); one without radios reports nothing, so a core router has no such series.

use routeros::{Attributes, Request};

use super::value::{leading_number, number, rate_bps};
use super::{field, labels, Out};

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

pub fn parse(rows: &[Attributes], has_radios: bool, out: &mut Out) {
    if rows.is_empty() && !has_radios {
        return;
    }
    out.number("wireless_clients", None, rows.len() as f64);
    for row in rows {
        let Some(client) = field(row, "mac-address").and_then(mac) else {
            continue;
        };
        let instance = Some(client.as_str());
        if let Some(dbm) = field(row, "signal-strength").and_then(leading_number) {
            if let Some(sample) = out.number("wireless_signal_dbm", instance, dbm) {
                labels(sample, [("interface", field(row, "interface"))]);
            }
        }
        if let Some(ccq) = field(row, "tx-ccq").and_then(number) {
            out.number("wireless_ccq_percent", instance, ccq.clamp(0.0, 100.0));
        }
        if let Some(bps) = field(row, "tx-rate").and_then(rate_bps) {
            out.number("wireless_tx_rate_bps", instance, bps);
        }
        if let Some(bps) = field(row, "rx-rate").and_then(rate_bps) {
            out.number("wireless_rx_rate_bps", instance, bps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows, value_of};

    #[test]
    fn clients_with_signal_ccq_and_rates() {
        let rows = rows("wireless");
        let mut out = out();
        parse(&rows, true, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(
            value_of(&out, "wireless_clients", None),
            Some(rows.len() as f64)
        );
        let client = rows[0]["mac-address"].to_ascii_uppercase();
        let signal = value_of(&out, "wireless_signal_dbm", Some(&client)).expect("signal");
        assert!((-100.0..0.0).contains(&signal));
        assert!(value_of(&out, "wireless_tx_rate_bps", Some(&client)).is_some_and(|r| r > 1e6));
    }

    #[test]
    fn lower_case_macs_are_normalised_and_no_radios_means_no_series() {
        let rows = parse_rows("mac-address=aa:bb:cc:00:11:22\nsignal-strength=-70\n");
        let mut out = out();
        parse(&rows, false, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert!(value_of(&out, "wireless_signal_dbm", Some("AA:BB:CC:00:11:22")).is_some());
        let mut out = crate::collect::fixtures::out();
        parse(&[], false, &mut out);
        assert!(out.samples.is_empty());
        parse(&[], true, &mut out);
        assert_eq!(value_of(&out, "wireless_clients", None), Some(0.0));
    }
}
