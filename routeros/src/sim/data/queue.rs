//! `/queue/simple` (one dynamic queue per PPPoE subscriber, as a RADIUS rate limit creates)
//! and `/queue/tree` (download/upload shaping on each uplink).

use super::{bytes_between, iface_traffic, ppp, utilisation, yes, Ctx, Row};

/// `12M` style rates, as RouterOS prints limits.
fn rate(bits: u64) -> String {
    match bits {
        b if b >= 1_000_000_000 && b % 1_000_000_000 == 0 => format!("{}G", b / 1_000_000_000),
        b if b >= 1_000_000 && b % 1_000_000 == 0 => format!("{}M", b / 1_000_000),
        b if b >= 1_000 && b % 1_000 == 0 => format!("{}k", b / 1_000),
        b => b.to_string(),
    }
}

pub fn simple(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    ppp::sessions(ctx)
        .into_iter()
        .map(|s| {
            let h = ctx.hash(&["pppoe-if", &s.name]);
            let down_cap = s.plan_down_mbps as f64 * 125_000.0;
            // Target upload/download, as the queue's "up/down" pairs are written.
            let down = bytes_between(down_cap, 0.12, h, s.since, now);
            let up = bytes_between(down_cap, 0.02, h.rotate_left(3), s.since, now);
            let down_rate = (utilisation(0.12, h, now) * down_cap * 8.0) as u64;
            let up_rate = (utilisation(0.02, h.rotate_left(3), now) * down_cap * 8.0) as u64;
            let max = format!(
                "{}/{}",
                rate(s.plan_up_mbps * 1_000_000),
                rate(s.plan_down_mbps * 1_000_000)
            );
            vec![
                (".id", format!("*{:X}", 0x1000 + s.slot)),
                ("name", format!("<pppoe-{}>", s.name)),
                ("target", format!("<pppoe-{}>", s.name)),
                ("max-limit", max),
                ("limit-at", "0/0".into()),
                ("rate", format!("{up_rate}/{down_rate}")),
                ("bytes", format!("{up}/{down}")),
                ("packets", format!("{}/{}", up / 700, down / 900)),
                ("dropped", format!("0/{}", down / 40_000_000)),
                ("queued-bytes", "0/0".into()),
                ("dynamic", yes(true)),
                ("disabled", yes(false)),
            ]
        })
        .collect()
}

pub fn tree(ctx: &Ctx) -> Vec<Row> {
    let (boot, now) = (ctx.boot(), ctx.now());
    let mut rows = Vec::new();
    for iface in ctx
        .router
        .interfaces
        .iter()
        .filter(|i| i.role == "uplink" && i.linked)
    {
        let (rx, tx) = iface_traffic(ctx, iface, boot, now);
        let limit = iface.speed_mbps * 1_000_000 * 95 / 100;
        // Congestion fills the queues and drops ~3 % of the offered load.
        let congested = ctx.faults.congestion(&iface.links);
        let cap = iface.speed_mbps as f64 * 125_000.0;
        let congestion_drops: f64 = congested
            .clipped(boot, now)
            .map(|(a, b)| (b - a) * cap * 0.03 / 800.0)
            .sum();
        for (direction, parent, bytes) in [
            ("download", "global", rx),
            ("upload", iface.name.as_str(), tx),
        ] {
            let id = rows.len() + 1;
            let h = ctx.hash(&["qtree", &iface.name, direction]);
            let queued = if congested.active(now) {
                (cap * 0.05) as u64
            } else {
                (utilisation(0.3, h, now).max(0.0) * 60_000.0) as u64
            };
            rows.push(vec![
                (".id", format!("*{id:X}")),
                ("name", format!("{direction}-{}", iface.name)),
                ("parent", parent.to_owned()),
                ("packet-mark", format!("{direction}-{}", iface.name)),
                ("limit-at", "0".into()),
                ("max-limit", rate(limit)),
                ("priority", "8".into()),
                ("bytes", bytes.to_string()),
                ("packets", (bytes / 800).to_string()),
                (
                    "dropped",
                    (bytes / 90_000_000 + congestion_drops as u64).to_string(),
                ),
                ("queued-bytes", queued.to_string()),
                ("queued-packets", (queued / 800).to_string()),
                ("invalid", yes(false)),
                ("disabled", yes(false)),
            ]);
        }
    }
    rows
}
