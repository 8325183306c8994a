//! `/interface` (with counters) and `/interface/ethernet` (link speed).

use super::iface_traffic as traffic;
use super::{bytes_between, mac, ppp, yes, Ctx, Row};

/// Average frame sizes for packet counters derived from byte counters.
const RX_FRAME: u64 = 900;
const TX_FRAME: u64 = 700;

pub fn interfaces(ctx: &Ctx) -> Vec<Row> {
    let boot = ctx.boot();
    let now = ctx.now();
    let mut rows: Vec<Row> = ctx
        .router
        .interfaces
        .iter()
        .enumerate()
        .map(|(i, iface)| {
            let (rx, tx) = traffic(ctx, iface, boot, now);
            let h = ctx.hash(&["iface", &iface.name]);
            let down = ctx.faults.links_down(&iface.links);
            let link_downs = (h % 4) as usize + down.starts(boot, now);
            let last_up = down.last_end(now).unwrap_or(0.0).max(boot + 20.0);
            let (rx_errors, tx_drops) = loss(ctx, iface, boot, now);
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", iface.name.clone()),
                ("default-name", iface.name.clone()),
                ("type", iface.kind.clone()),
                ("mtu", "1500".into()),
                ("actual-mtu", "1500".into()),
                ("l2mtu", "1592".into()),
                ("mac-address", mac(h)),
                (
                    "last-link-up-time",
                    super::timestamp(last_up, ctx.router.version),
                ),
                ("link-downs", link_downs.to_string()),
                ("rx-byte", rx.to_string()),
                ("tx-byte", tx.to_string()),
                ("rx-packet", (rx / RX_FRAME).to_string()),
                ("tx-packet", (tx / TX_FRAME).to_string()),
                ("rx-drop", "0".into()),
                ("tx-drop", (tx / 50_000_000 + tx_drops).to_string()),
                ("rx-error", rx_errors.to_string()),
                ("tx-error", "0".into()),
                ("running", yes(iface.linked && !down.active(now))),
                ("disabled", yes(false)),
                ("dynamic", yes(false)),
            ]
        })
        .collect();
    // Every PPPoE session is a dynamic `<pppoe-name>` interface, as on a real BNG.
    let base = rows.len();
    for (i, session) in ppp::sessions(ctx).iter().enumerate() {
        let h = ctx.hash(&["pppoe-if", &session.name]);
        let cap = session.plan_down_mbps as f64 * 125_000.0;
        // Seen from the BNG, the subscriber's download leaves as tx.
        let tx = bytes_between(cap, 0.12, h, session.since, now);
        let rx = bytes_between(cap, 0.02, h.rotate_left(3), session.since, now);
        rows.push(vec![
            (".id", format!("*{:X}", 0x100 + base + i)),
            ("name", format!("<pppoe-{}>", session.name)),
            ("type", "pppoe-in".into()),
            ("mtu", "1480".into()),
            ("actual-mtu", "1480".into()),
            ("rx-byte", rx.to_string()),
            ("tx-byte", tx.to_string()),
            ("rx-packet", (rx / RX_FRAME).to_string()),
            ("tx-packet", (tx / TX_FRAME).to_string()),
            ("running", yes(true)),
            ("disabled", yes(false)),
            ("dynamic", yes(true)),
        ]);
    }
    rows
}

/// Frames lost on the port's links during `packet-loss` faults: (rx errors, tx drops).
fn loss(ctx: &Ctx, iface: &crate::sim::model::Iface, boot: f64, now: f64) -> (u64, u64) {
    let cap = iface.speed_mbps as f64 * 125_000.0;
    let h = ctx.hash(&["loss", &iface.name]);
    let mut lost = (0, 0);
    for (from, until, percent) in ctx.faults.packet_loss(&iface.links) {
        let (a, b) = (from.max(boot), until.min(now));
        if a < b {
            let frames = bytes_between(cap, 0.2, h, a, b) / RX_FRAME;
            lost.0 += frames * u64::from(percent) / 100;
            lost.1 += frames * u64::from(percent) / 200;
        }
    }
    lost
}

/// `speed` as RouterOS 7 names Ethernet modes (v6 prints `1Gbps`, `10Gbps`).
fn speed_name(mbps: u64, v7: bool) -> String {
    let v6 = match mbps {
        0..=10 => "10Mbps",
        11..=100 => "100Mbps",
        101..=1_000 => "1Gbps",
        1_001..=2_500 => "2.5Gbps",
        2_501..=10_000 => "10Gbps",
        10_001..=25_000 => "25Gbps",
        25_001..=40_000 => "40Gbps",
        _ => "100Gbps",
    };
    if !v7 {
        return v6.into();
    }
    match mbps {
        0..=10 => "10M-baseT-full",
        11..=100 => "100M-baseT-full",
        101..=1_000 => "1G-baseT-full",
        1_001..=2_500 => "2.5G-baseT",
        2_501..=10_000 => "10G-baseSR-LR",
        10_001..=25_000 => "25G-baseSR-LR",
        25_001..=40_000 => "40G-baseSR4-LR4",
        _ => "100G-baseSR4-LR4",
    }
    .into()
}

pub fn ethernet(ctx: &Ctx) -> Vec<Row> {
    ctx.router
        .interfaces
        .iter()
        .enumerate()
        .filter(|(_, iface)| iface.kind == "ether")
        .map(|(i, iface)| {
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", iface.name.clone()),
                ("default-name", iface.name.clone()),
                ("mac-address", mac(ctx.hash(&["iface", &iface.name]))),
                (
                    "speed",
                    speed_name(iface.speed_mbps, ctx.router.version.is_v7()),
                ),
                ("auto-negotiation", yes(true)),
                ("running", yes(iface.linked)),
                ("disabled", yes(false)),
            ]
        })
        .collect()
}
