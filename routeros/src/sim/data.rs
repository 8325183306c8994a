//! What each simulated path prints: pure functions of (router, seed, time).
//!
//! Nothing here keeps state. Counters are closed-form integrals of a rate curve since the
//! router's last boot, so two polls see exact, monotonic differences and a reboot resets them,
//! like on a real router. Churn (PPPoE redials, BGP flaps, reboots) comes from fixed
//! per-object periods and phases, so every poll of the same instant agrees.

mod interface;
mod ppp;
mod queue;
mod routing;
mod system;
mod wireless;

use super::fault::Faults;
use super::model::{Router, Version};

/// One printed item: attribute names and values, in the order RouterOS prints them.
pub type Row = Vec<(&'static str, String)>;

/// Everything a path function may look at.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub router: &'a Router,
    pub seed: u64,
    /// Unix time in milliseconds.
    pub now_ms: u64,
    pub faults: Faults<'a>,
}

/// Prints one menu's items.
pub type Printer = fn(&Ctx) -> Vec<Row>;

/// The paths the simulator serves, each with its `print` function.
const PATHS: &[(&str, Printer)] = &[
    ("/system/resource", system::resource),
    ("/system/health", system::health),
    ("/system/routerboard", system::routerboard),
    ("/system/identity", system::identity),
    ("/interface", interface::interfaces),
    ("/interface/ethernet", interface::ethernet),
    (
        "/interface/wireless/registration-table",
        wireless::registrations,
    ),
    (
        "/interface/wifiwave2/registration-table",
        wireless::wifi_registrations,
    ),
    (
        "/interface/wifi/registration-table",
        wireless::wifi_registrations,
    ),
    (
        "/caps-man/registration-table",
        wireless::capsman_registrations,
    ),
    ("/ppp/active", ppp::active),
    ("/routing/bgp/session", routing::bgp_sessions_v7),
    ("/routing/bgp/connection", routing::bgp_connections_v7),
    ("/routing/bgp/peer", routing::bgp_peers_v6),
    ("/routing/ospf/neighbor", routing::ospf_neighbors),
    ("/queue/simple", queue::simple),
    ("/queue/tree", queue::tree),
    ("/ip/neighbor", routing::ip_neighbors),
    ("/tool/netwatch", routing::netwatch),
];

/// The print function for a menu path, if this router has that menu. v6 has no
/// `/routing/bgp/session` or `/routing/bgp/connection`, and v7 no `/routing/bgp/peer`, as on
/// real routers. The simulated v6 routers have the legacy `wireless` package (with CAPsMAN),
/// the v7 ones the `wifiwave2` (before 7.13) or `wifi` package, and only if they have a radio
/// (a CCR has none).
pub fn printer(path: &str, router: &Router) -> Option<Printer> {
    let v7 = router.version.is_v7();
    let stack = router.version.radio_type();
    let radio = v7 && router.interfaces.iter().any(|i| i.kind == stack);
    match path {
        "/routing/bgp/session" | "/routing/bgp/connection" if !v7 => None,
        "/routing/bgp/peer" if v7 => None,
        "/interface/wireless/registration-table" | "/caps-man/registration-table" if v7 => None,
        "/interface/wifi/registration-table" if !radio || stack != "wifi" => None,
        "/interface/wifiwave2/registration-table" if !radio || stack != "wifiwave2" => None,
        _ => PATHS.iter().find(|(p, _)| *p == path).map(|(_, f)| *f),
    }
}

/// True when `path` is a prefix of a served path (then an unknown command under it is "no such
/// command", otherwise "no such command prefix").
pub fn is_menu(path: &str) -> bool {
    PATHS
        .iter()
        .any(|(p, _)| *p == path || p.starts_with(&format!("{path}/")))
}

/// A 64-bit hash of the seed and some labels (FNV-1a, then the splitmix64 finaliser).
pub fn mix(seed: u64, labels: &[&str]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for label in labels {
        for &b in label.as_bytes().iter().chain([0xFF].iter()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A number in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1_u64 << 53) as f64
}

impl Ctx<'_> {
    pub fn now(&self) -> f64 {
        self.now_ms as f64 / 1000.0
    }

    pub fn hash(&self, labels: &[&str]) -> u64 {
        let mut all = vec![self.router.name.as_str()];
        all.extend_from_slice(labels);
        mix(self.seed, &all)
    }

    /// When this router last booted.
    pub fn boot(&self) -> f64 {
        self.boot_of(&self.router.name)
    }

    /// When a router last booted: every 20–80 days at a fixed phase, and at the end of a
    /// `router-down` fault.
    pub fn boot_of(&self, router: &str) -> f64 {
        let h = mix(self.seed, &[router, "boot"]);
        let period = 86_400.0 * (20.0 + 60.0 * unit(h));
        let offset = period * unit(h.rotate_left(17));
        let now = self.now();
        let natural = now - (now + offset).rem_euclid(period);
        match self.faults.router_down(router).last_end(now) {
            Some(end) if end > natural => end,
            _ => natural,
        }
    }

    pub fn uptime(&self) -> String {
        duration(self.now() - self.boot(), self.router.version)
    }
}

/// A recurring on/off cycle: up for most of `period`, down for `gap` at its start.
#[derive(Debug, Clone, Copy)]
pub struct Churn {
    pub period: f64,
    pub offset: f64,
    pub gap: f64,
    /// How long after boot this comes up.
    pub after_boot: f64,
}

impl Churn {
    /// `Some((cycle number, up since))` when up at `now`.
    pub fn up(&self, now: f64, boot: f64) -> Option<(u64, f64)> {
        let shifted = now + self.offset;
        let cycle = (shifted / self.period).floor();
        let phase = shifted - cycle * self.period;
        if phase < self.gap || now < boot + self.after_boot {
            return None;
        }
        let since = (now - (phase - self.gap)).max(boot + self.after_boot);
        Some((cycle as u64, since))
    }
}

/// Bytes moved since `since` by a flow of capacity `cap` (bytes/s) whose utilisation follows
/// a daily curve (peak at 19:00 UTC) plus a faster wobble:
/// `u(t) = base·(1 + 0.6·sin(2πt/86400 + φ1) + 0.3·sin(2πt/P2 + φ2))`, never below 0.1·base.
/// The integral is closed-form, so the counter is exact and monotonic.
pub fn bytes_between(cap: f64, base: f64, h: u64, since: f64, now: f64) -> u64 {
    use std::f64::consts::TAU;
    let p1 = 86_400.0;
    let phi1 = TAU * (0.25 - 68_400.0 / p1) + 0.3 * (unit(h) - 0.5);
    let p2 = 600.0 + 1_800.0 * unit(h.rotate_left(7));
    let phi2 = TAU * unit(h.rotate_left(29));
    let wave = |t: f64| {
        -0.6 * p1 / TAU * (TAU * t / p1 + phi1).cos() - 0.3 * p2 / TAU * (TAU * t / p2 + phi2).cos()
    };
    if now <= since {
        return 0;
    }
    let integral = (now - since) + wave(now) - wave(since);
    (cap * base * integral.max(0.0)) as u64
}

/// Utilisation right now (same curve as `bytes_between`), for rates and loads.
pub fn utilisation(base: f64, h: u64, now: f64) -> f64 {
    use std::f64::consts::TAU;
    let phi1 = TAU * (0.25 - 68_400.0 / 86_400.0) + 0.3 * (unit(h) - 0.5);
    let p2 = 600.0 + 1_800.0 * unit(h.rotate_left(7));
    let phi2 = TAU * unit(h.rotate_left(29));
    base * (1.0 + 0.6 * (TAU * now / 86_400.0 + phi1).sin() + 0.3 * (TAU * now / p2 + phi2).sin())
}

/// Bytes received and sent by an interface since boot. The average load depends on the port's
/// role: uplinks mostly receive (subscribers download), downlinks mostly send.
pub fn iface_traffic(ctx: &Ctx, iface: &super::model::Iface, boot: f64, now: f64) -> (u64, u64) {
    if !iface.linked {
        return (0, 0);
    }
    let (rx, tx) = match iface.role.as_str() {
        "uplink" => (0.30, 0.07),
        "downlink" | "customer" => (0.07, 0.30),
        "management" => (0.000_5, 0.000_3),
        _ => (0.15, 0.15),
    };
    let cap = iface.speed_mbps as f64 * 125_000.0;
    let h = ctx.hash(&["traffic", &iface.name]);
    // Links come up a little after boot.
    let since = boot + 20.0;
    let down = ctx.faults.links_down(&iface.links);
    let congested = ctx.faults.congestion(&iface.links);
    // A down link moves nothing: count only the stretches it was up, so a counter frozen by an
    // outage reads exactly the same all through it. A congested link runs at 97 % of line
    // rate in its busy direction.
    let up = down.gaps(since, now);
    let count = |base: f64, h: u64, busy: bool| -> u64 {
        up.iter()
            .map(|&(a, b)| {
                let mut bytes = bytes_between(cap, base, h, a, b);
                if busy {
                    for (c, d) in congested.clipped(a, b) {
                        let normal = bytes_between(cap, base, h, c, d);
                        bytes = (bytes + (0.97 * cap * (d - c)) as u64).saturating_sub(normal);
                    }
                }
                bytes
            })
            .sum()
    };
    (
        count(rx, h, rx >= tx),
        count(tx, h.rotate_left(13), tx > rx),
    )
}

/// A RouterOS duration: `1w2d3h4m5s` on v7, `1w2d03:04:05` on v6.
pub fn duration(seconds: f64, version: Version) -> String {
    let total = seconds.max(0.0) as u64;
    let (w, d) = (total / 604_800, total % 604_800 / 86_400);
    let (h, m, s) = (total % 86_400 / 3_600, total % 3_600 / 60, total % 60);
    let mut out = String::new();
    if w > 0 {
        out.push_str(&format!("{w}w"));
    }
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    if version.is_v7() {
        for (value, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
            if value > 0 {
                out.push_str(&format!("{value}{unit}"));
            }
        }
        if out.is_empty() {
            out.push_str("0s");
        }
    } else {
        out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    }
    out
}

/// A wall-clock time as RouterOS prints it: `2026-11-27 10:00:00` on v7 (7.10+),
/// `nov/27/2026 10:00:00` on v6.
pub fn timestamp(unix: f64, version: Version) -> String {
    let secs = unix.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let clock = format!("{:02}:{:02}:{:02}", rem / 3_600, rem % 3_600 / 60, rem % 60);
    if version.is_v7() {
        format!("{year}-{month:02}-{day:02} {clock}")
    } else {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        let name = MONTHS[(month as usize).clamp(1, 12) - 1];
        format!("{name}/{day:02}/{year} {clock}")
    }
}

/// A MikroTik MAC address (OUI 48:A9:8A) derived from a hash.
pub fn mac(h: u64) -> String {
    let b = h.to_be_bytes();
    format!("48:A9:8A:{:02X}:{:02X}:{:02X}", b[5], b[6], b[7])
}

pub fn yes(value: bool) -> String {
    if value { "true" } else { "false" }.to_owned()
}

#[cfg(test)]
mod tests;
