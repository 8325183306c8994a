//! `/ppp/active`: PPPoE subscribers who come and go.
//!
//! Each subscriber slot redials on its own cycle (every 6 h to 4 days, offline for 20 s to
//! 10 min in between), and all of them come back within minutes of a router boot, so the count
//! dips and recovers like a real BNG's.

use std::net::Ipv4Addr;

use super::{duration, mac, unit, Churn, Ctx, Row};

#[derive(Debug, Clone)]
pub struct Session {
    pub slot: u32,
    pub name: String,
    /// When this session came up (unix seconds).
    pub since: f64,
    /// Changes at every redial, as RouterOS's internal ids do.
    pub id: u64,
    pub address: Ipv4Addr,
    pub caller_id: String,
    pub plan_down_mbps: u64,
    pub plan_up_mbps: u64,
}

const PLANS: [(u64, u64); 4] = [(50, 10), (100, 20), (300, 50), (1000, 100)];

/// The sessions up right now, in slot order.
pub fn sessions(ctx: &Ctx) -> Vec<Session> {
    let Some((count, prefix)) = &ctx.router.pppoe else {
        return Vec::new();
    };
    let (boot, now) = (ctx.boot(), ctx.now());
    (0..*count)
        .filter_map(|slot| {
            let name = format!("{prefix}{:04}", slot + 1);
            let h = ctx.hash(&["ppp", &name]);
            let churn = Churn {
                period: 6.0 * 3_600.0 + 90.0 * 3_600.0 * unit(h),
                offset: 400_000.0 * unit(h.rotate_left(11)),
                gap: 20.0 + 580.0 * unit(h.rotate_left(23)),
                after_boot: 30.0 + 300.0 * unit(h.rotate_left(37)),
            };
            let (mut cycle, mut since) = churn.up(now, boot)?;
            // A mass disconnect drops everyone; each redials at its own moment within the spread.
            for (at, spread) in ctx.faults.pppoe_disconnects(&ctx.router.name) {
                let back = at + 5.0 + (spread - 5.0).max(0.0) * unit(h.rotate_left(41));
                if at <= now && now < back {
                    return None;
                }
                if since < back && back <= now {
                    since = back;
                    cycle ^= back as u64;
                }
            }
            let (plan_down_mbps, plan_up_mbps) = PLANS[(h % PLANS.len() as u64) as usize];
            // 100.64.0.0/10 (RFC 6598), a fresh address on most redials.
            let host = (h.rotate_left(31) ^ cycle.wrapping_mul(0x9E37)) as u32 & 0x003F_FFFF;
            Some(Session {
                slot,
                name,
                since,
                id: super::mix(h, &[&cycle.to_string()]) & 0xFFFF_FFFF,
                address: Ipv4Addr::from(0x6440_0000 | host.max(2)),
                caller_id: mac(h.rotate_left(47)),
                plan_down_mbps,
                plan_up_mbps,
            })
        })
        .collect()
}

pub fn active(ctx: &Ctx) -> Vec<Row> {
    let now = ctx.now();
    sessions(ctx)
        .into_iter()
        .map(|s| {
            vec![
                (".id", format!("*{:X}", s.id)),
                ("name", s.name),
                ("service", "pppoe".into()),
                ("caller-id", s.caller_id),
                ("address", s.address.to_string()),
                ("uptime", duration(now - s.since, ctx.router.version)),
                ("encoding", String::new()),
                ("session-id", format!("0x{:08X}", s.id ^ 0x8100_0000)),
                ("limit-bytes-in", "0".into()),
                ("limit-bytes-out", "0".into()),
                ("radius", "false".into()),
            ]
        })
        .collect()
}
