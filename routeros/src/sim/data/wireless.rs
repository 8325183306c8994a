//! The registration tables: `/interface/wireless/registration-table` (v6, the legacy
//! `wireless` package), `/interface/wifi/registration-table` (7.13+, the `wifi` package) and
//! `/interface/wifiwave2/registration-table` (7.1–7.12, the same table under the package's
//! earlier name), and the legacy CAPsMAN manager's `/caps-man/registration-table`, each with the fields and
//! spellings of its package.

use super::{bytes_between, duration, mac, unit, utilisation, yes, Churn, Ctx, Row};
use crate::sim::model::Peer;

/// One end's view of a wireless link that is on the air.
struct Radio<'p> {
    peer: &'p Peer,
    /// Hash of the link, the same at both ends.
    h: u64,
    /// Registered since (Unix seconds).
    since: f64,
    signal: f64,
    rx: u64,
    tx: u64,
}

/// The wireless links on the air, with a signal that wanders a few dB around a per-link level.
fn radios<'c>(ctx: &'c Ctx<'c>) -> impl Iterator<Item = Radio<'c>> + 'c {
    let boot = ctx.boot();
    let now = ctx.now();
    ctx.router.wireless.iter().filter_map(move |peer| {
        // A station off the air is not registered; it re-registers when back.
        let down = ctx.faults.link_down(&peer.link);
        if down.active(now) {
            return None;
        }
        let since = down.last_end(now).unwrap_or(0.0).max(boot + 40.0);
        let link = [ctx.router.name.as_str(), peer.device.as_str()];
        let pair = if link[0] < link[1] {
            link
        } else {
            [link[1], link[0]]
        };
        let h = super::mix(ctx.seed, &["radio", pair[0], pair[1]]);
        let wobble = 3.0 * (now / 47.0 + 6.0 * unit(h)).sin();
        Some(Radio {
            peer,
            h,
            since,
            signal: -58.0 - 12.0 * unit(h) + wobble,
            rx: bytes_between(37_500_000.0, 0.2, h, since, now),
            tx: bytes_between(37_500_000.0, 0.05, h.rotate_left(5), since, now),
        })
    })
}

/// The station's MAC address as the other end sees it.
fn station_mac(ctx: &Ctx, peer: &Peer) -> String {
    mac(ctx.seed ^ super::mix(0, &[&peer.device, "wlan"]))
}

/// Legacy `wireless`: one registration per wireless neighbour.
pub fn registrations(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    radios(ctx)
        .enumerate()
        .map(|(i, r)| {
            let ccq = (70.0 + 25.0 * utilisation(1.0, r.h, now).clamp(0.0, 1.0)) as u32;
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("interface", r.peer.interface.clone()),
                ("radio-name", r.peer.device.clone()),
                ("mac-address", station_mac(ctx, r.peer)),
                ("ap", yes(false)),
                ("wds", yes(false)),
                ("rx-rate", "866.6Mbps-80MHz/2S/SGI".into()),
                ("tx-rate", "780Mbps-80MHz/2S".into()),
                ("packets", format!("{},{}", r.rx / 900, r.tx / 700)),
                ("bytes", format!("{},{}", r.rx, r.tx)),
                ("uptime", duration(now - r.since, ctx.router.version)),
                ("last-activity", "0.010".into()),
                ("signal-strength", format!("{:.0}@6Mbps", r.signal)),
                ("signal-to-noise", format!("{:.0}", r.signal + 104.0)),
                ("tx-ccq", ccq.to_string()),
                ("distance", (1 + r.h % 12).to_string()),
                ("routeros-version", r.peer.version.to_string()),
            ]
        })
        .collect()
}

/// The `wifi` package (7.13+) and `wifiwave2` before it: the SSID is the link's id, `signal` a
/// plain number, no CCQ.
pub fn wifi_registrations(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    radios(ctx)
        .enumerate()
        .map(|(i, r)| {
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("interface", r.peer.interface.clone()),
                ("ssid", r.peer.link.id.clone()),
                ("mac-address", station_mac(ctx, r.peer)),
                ("uptime", duration(now - r.since, ctx.router.version)),
                ("last-activity", "10ms".into()),
                ("signal", format!("{:.0}", r.signal)),
                ("auth-type", "wpa2-psk".into()),
                ("band", "5ghz-ac".into()),
                ("tx-rate", "780Mbps-80MHz/2S".into()),
                ("rx-rate", "866.6Mbps-80MHz/2S/SGI".into()),
                ("packets", format!("{},{}", r.rx / 900, r.tx / 700)),
                ("bytes", format!("{},{}", r.rx, r.tx)),
                ("authorized", yes(true)),
            ]
        })
        .collect()
}

/// The CAPsMAN manager's clients: phones and laptops on its `cap` interfaces, each present
/// for hours at a time with a short absence every cycle, so the count moves.
pub fn capsman_registrations(ctx: &Ctx) -> Vec<Row> {
    const RATES: [&str; 4] = [
        "54Mbps",
        "72.2Mbps-20MHz/1S/SGI",
        "144.4Mbps-20MHz/2S/SGI",
        "433.3Mbps-80MHz/1S/SGI",
    ];
    let Some(capsman) = &ctx.router.capsman else {
        return Vec::new();
    };
    let (boot, now) = (ctx.boot(), ctx.now());
    (0..capsman.clients)
        .filter_map(|i| {
            let h = ctx.hash(&["capsman-client", &i.to_string()]);
            let churn = Churn {
                period: 3_600.0 * (1.0 + 5.0 * unit(h)),
                offset: 86_400.0 * unit(h.rotate_left(11)),
                gap: 300.0 + 1_500.0 * unit(h.rotate_left(23)),
                after_boot: 90.0,
            };
            let (_, since) = churn.up(now, boot)?;
            let wobble = 4.0 * (now / 31.0 + 6.0 * unit(h)).sin();
            let rate = |k: u32| RATES[((h >> k) % RATES.len() as u64) as usize];
            let rx = bytes_between(2_000_000.0, 0.05, h, since, now);
            let tx = bytes_between(2_000_000.0, 0.2, h.rotate_left(7), since, now);
            Some(vec![
                (".id", format!("*{:X}", i + 1)),
                ("interface", format!("cap{}", 1 + i % capsman.caps.max(1))),
                ("ssid", capsman.ssid.clone()),
                ("mac-address", mac(h)),
                ("uptime", duration(now - since, ctx.router.version)),
                (
                    "rx-signal",
                    format!("{:.0}", -52.0 - 26.0 * unit(h) + wobble),
                ),
                ("tx-rate", rate(3).into()),
                ("rx-rate", rate(9).into()),
                ("packets", format!("{},{}", rx / 600, tx / 900)),
                ("bytes", format!("{rx},{tx}")),
            ])
        })
        .collect()
}
