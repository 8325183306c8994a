//! BGP (v7 `/routing/bgp/session` and `/routing/bgp/connection`, v6 `/routing/bgp/peer`), OSPF
//! neighbours, `/ip/neighbor`
//! and `/tool/netwatch`, all derived from the links (see `model`).

use super::{duration, mac, timestamp, unit, yes, Churn, Ctx, Row};
use crate::sim::model::{Bgp, LOCAL_AS};

/// Well-known transit carriers (they send a full table); other peers send a few hundred.
const TRANSIT: [u32; 12] = [
    174, 701, 1239, 1299, 2914, 3257, 3356, 3491, 5511, 6453, 6762, 6939,
];

/// A session flaps every 3–30 days and is down for 1–5 minutes each time; full tables from
/// transit peers, a few hundred prefixes from IXP route servers, a handful over iBGP.
fn bgp_state(ctx: &Ctx, peer: &Bgp) -> (Option<f64>, u64) {
    let h = ctx.hash(&["bgp", &peer.name]);
    let mut down = ctx.faults.bgp_flap(&ctx.router.name, &peer.name);
    if let Some(link) = &peer.link {
        down = down.union(ctx.faults.link_down(link));
    }
    let now = ctx.now();
    let churn = Churn {
        period: 86_400.0 * (3.0 + 27.0 * unit(h)),
        offset: 3_000_000.0 * unit(h.rotate_left(5)),
        gap: 60.0 + 240.0 * unit(h.rotate_left(9)),
        after_boot: 45.0,
    };
    let up = match churn.up(now, ctx.boot()) {
        _ if down.active(now) => None,
        // Re-established 30 s after a flap ends.
        Some((_, since)) => match down.last_end(now) {
            Some(end) if now < end + 30.0 => None,
            Some(end) => Some(since.max(end + 30.0)),
            None => Some(since),
        },
        None => None,
    };
    let prefixes = if peer.link.is_some() {
        20 + h % 30
    } else if TRANSIT.contains(&peer.remote_as) {
        // A transit carrier's full table.
        990_000 + h % 20_000
    } else {
        200 + h % 800
    };
    (up, prefixes)
}

pub fn bgp_sessions_v7(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    ctx.router
        .bgp
        .iter()
        .enumerate()
        .filter_map(|(i, peer)| {
            // v7 lists sessions only while they exist (connections come and go).
            let (Some(since), prefixes) = bgp_state(ctx, peer) else {
                return None;
            };
            let messages = ((now - since) / 60.0) as u64 + prefixes / 50;
            Some(vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", format!("{}-1", peer.name)),
                ("remote.address", peer.remote_address.to_string()),
                ("remote.as", peer.remote_as.to_string()),
                ("remote.id", peer.remote_address.to_string()),
                ("remote.messages", messages.to_string()),
                ("local.address", ctx.router.address.to_string()),
                ("local.as", LOCAL_AS.to_string()),
                (
                    "local.role",
                    if peer.link.is_some() { "ibgp" } else { "ebgp" }.into(),
                ),
                ("local.messages", (messages / 3).to_string()),
                ("established", yes(true)),
                ("uptime", duration(now - since, ctx.router.version)),
                ("prefix-count", prefixes.to_string()),
                ("hold-time", "3m".into()),
                ("keepalive-time", "1m".into()),
            ])
        })
        .collect()
}

/// v7's configured BGP peers, listed whether or not a session exists (a session is named
/// after its connection: `<connection>-1`).
pub fn bgp_connections_v7(ctx: &Ctx) -> Vec<Row> {
    ctx.router
        .bgp
        .iter()
        .enumerate()
        .map(|(i, peer)| {
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", peer.name.clone()),
                ("remote.address", peer.remote_address.to_string()),
                ("remote.as", peer.remote_as.to_string()),
                (
                    "local.role",
                    if peer.link.is_some() { "ibgp" } else { "ebgp" }.into(),
                ),
                ("as", LOCAL_AS.to_string()),
                ("disabled", yes(false)),
            ]
        })
        .collect()
}

pub fn bgp_peers_v6(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    ctx.router
        .bgp
        .iter()
        .enumerate()
        .map(|(i, peer)| {
            let (up, prefixes) = bgp_state(ctx, peer);
            let mut row = vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", peer.name.clone()),
                ("instance", "default".into()),
                ("remote-address", peer.remote_address.to_string()),
                ("remote-as", peer.remote_as.to_string()),
                ("disabled", yes(false)),
            ];
            match up {
                Some(since) => row.extend([
                    ("remote-id", peer.remote_address.to_string()),
                    ("local-address", ctx.router.address.to_string()),
                    ("uptime", duration(now - since, ctx.router.version)),
                    ("prefix-count", prefixes.to_string()),
                    ("updates-sent", (prefixes / 100).to_string()),
                    ("updates-received", prefixes.to_string()),
                    ("withdrawn-sent", "0".into()),
                    ("withdrawn-received", (prefixes / 20).to_string()),
                    ("state", "established".into()),
                    ("established", yes(true)),
                ]),
                None => row.extend([("state", "active".into()), ("established", yes(false))]),
            }
            row
        })
        .collect()
}

pub fn ospf_neighbors(ctx: &Ctx) -> Vec<Row> {
    let (boot, now) = (ctx.boot(), ctx.now());
    let v7 = ctx.router.version.is_v7();
    ctx.router
        .ospf
        .iter()
        .enumerate()
        .filter_map(|(i, peer)| {
            // Gone while the link (or the neighbour) is down; Full again 40 s after. Each
            // adjacency also resets on its own every 10–60 days (a neighbour's maintenance).
            let down = ctx.faults.link_down(&peer.link);
            let h = ctx.hash(&["ospf-reset", &peer.link.id]);
            let reset = Churn {
                period: 86_400.0 * (10.0 + 50.0 * unit(h)),
                offset: 5_000_000.0 * unit(h.rotate_left(3)),
                gap: 40.0,
                after_boot: 0.0,
            };
            let natural = reset.up(now, boot).map_or(now, |(_, since)| since);
            let since = down.last_end(now).unwrap_or(0.0).max(boot).max(natural) + 40.0;
            if down.active(now) || now < since {
                return None;
            }
            let adjacency = duration(now - since, ctx.router.version);
            let mut row = vec![
                (".id", format!("*{:X}", i + 1)),
                ("instance", if v7 { "default-v2" } else { "default" }.into()),
                ("router-id", peer.address.to_string()),
                ("address", peer.remote_ip.to_string()),
                ("interface", peer.interface.clone()),
                ("priority", "128".into()),
                ("state", if v7 { "Full" } else { "full" }.into()),
                (
                    "state-changes",
                    // Each outage walks the adjacency down and up again: ~6 changes.
                    (5 + ctx.hash(&["ospf", &peer.device]) % 4 + 6 * down.starts(boot, now) as u64)
                        .to_string(),
                ),
                ("adjacency", adjacency),
            ];
            if v7 {
                row.insert(2, ("area", "backbone-v2".into()));
                row.push(("timeout", "38s".into()));
            } else {
                row.push(("dr-address", "0.0.0.0".into()));
                row.push(("backup-dr-address", "0.0.0.0".into()));
            }
            Some(row)
        })
        .collect()
}

pub fn ip_neighbors(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    ctx.router
        .neighbors
        .iter()
        .enumerate()
        .filter(|(_, peer)| !ctx.faults.link_down(&peer.link).active(now))
        .map(|(i, peer)| {
            let mut row = vec![
                (".id", format!("*{:X}", i + 1)),
                ("interface", peer.interface.clone()),
                ("address", peer.address.to_string()),
                (
                    "mac-address",
                    mac(crate::sim::data::mix(
                        ctx.seed,
                        &[&peer.device, "iface", &peer.remote_interface],
                    )),
                ),
                ("identity", peer.device.clone()),
                ("platform", "MikroTik".into()),
                ("version", format!("{} (stable)", peer.version)),
                ("board", peer.model.clone()),
                ("interface-name", peer.remote_interface.clone()),
                (
                    "uptime",
                    duration(now - ctx.boot_of(&peer.device), peer.version),
                ),
                ("age", format!("{}s", (now as u64) % 60)),
            ];
            if ctx.router.version.is_v7() {
                row.push(("discovered-by", "cdp,lldp,mndp".into()));
                row.push(("system-caps", "bridge,router".into()));
                row.push(("system-caps-enabled", "bridge,router".into()));
            }
            row
        })
        .collect()
}

pub fn netwatch(ctx: &Ctx) -> Vec<Row> {
    let (boot, now) = (ctx.boot(), ctx.now());
    ctx.router
        .netwatch
        .iter()
        .enumerate()
        .map(|(i, peer)| {
            let down = ctx.faults.link_down(&peer.link);
            let (status, since) = match down.started(now) {
                Some(from) => ("down", from),
                None => ("up", down.last_end(now).unwrap_or(0.0).max(boot + 60.0)),
            };
            let mut row = vec![
                (".id", format!("*{:X}", i + 1)),
                ("host", peer.address.to_string()),
                ("comment", format!("upstream {}", peer.device)),
                (
                    "interval",
                    if ctx.router.version.is_v7() {
                        "10s"
                    } else {
                        "00:00:10"
                    }
                    .into(),
                ),
                ("status", status.into()),
                ("since", timestamp(since, ctx.router.version)),
                ("disabled", yes(false)),
            ];
            if ctx.router.version.is_v7() {
                row.insert(2, ("type", "simple".into()));
            }
            row
        })
        .collect()
}
