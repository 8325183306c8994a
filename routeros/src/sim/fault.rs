//! Scripted faults: windows of time in which part of the fleet misbehaves.
//!
//! A fault is data, not an event: the data functions ask "was this link down between t0 and
//! t1?", so counters stay exact integrals (a down link counts nothing, a congested one runs
//! near line rate) and every poll of the same instant still agrees. One text syntax serves the
//! control port and scenario files:
//!
//! ```text
//! [+DELAY] router-down ROUTER DURATION
//! [+DELAY] link-down LINK DURATION
//! [+DELAY] congestion LINK DURATION
//! [+DELAY] packet-loss LINK PERCENT DURATION
//! [+DELAY] bgp-flap ROUTER PEER DURATION
//! [+DELAY] pppoe-disconnect ROUTER DURATION     (subscribers redial over DURATION)
//! ```
//!
//! Durations are `90s`, `5m`, `2h`, `1d` (or plain seconds). A router that was down reboots:
//! its uptime and counters start again when the window ends.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    RouterDown { router: String },
    LinkDown { link: String },
    Congestion { link: String },
    PacketLoss { link: String, percent: u32 },
    BgpFlap { router: String, peer: String },
    PppoeDisconnect { router: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// Unix milliseconds, from inclusive to exclusive.
    pub from_ms: u64,
    pub until_ms: u64,
}

/// `90s`, `5m`, `2h`, `1d` or plain seconds, in milliseconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?} (use 90s, 5m, 2h, 1d)"))?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("bad duration unit in {text:?} (use s, m, h, d)")),
    };
    value
        .checked_mul(scale)
        .ok_or_else(|| format!("duration {text:?} is too long"))
}

impl Fault {
    /// Parses one command line; times are relative to `now_ms`.
    pub fn parse(line: &str, now_ms: u64) -> Result<Self, String> {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let delay = match words.first().and_then(|w| w.strip_prefix('+')) {
            Some(delay) => {
                let delay = parse_duration(delay)?;
                words.remove(0);
                delay
            }
            None => 0,
        };
        let Some((duration, words)) = words.split_last() else {
            return Err("empty fault".into());
        };
        let duration = parse_duration(duration)?;
        let kind = match words {
            ["router-down", router] => FaultKind::RouterDown {
                router: (*router).to_owned(),
            },
            ["link-down", link] => FaultKind::LinkDown {
                link: (*link).to_owned(),
            },
            ["congestion", link] => FaultKind::Congestion {
                link: (*link).to_owned(),
            },
            ["packet-loss", link, percent] => FaultKind::PacketLoss {
                link: (*link).to_owned(),
                percent: percent
                    .trim_end_matches('%')
                    .parse()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| format!("bad loss percentage {percent:?}"))?,
            },
            ["bgp-flap", router, peer] => FaultKind::BgpFlap {
                router: (*router).to_owned(),
                peer: (*peer).to_owned(),
            },
            ["pppoe-disconnect", router] => FaultKind::PppoeDisconnect {
                router: (*router).to_owned(),
            },
            _ => {
                return Err(format!(
                    "unknown fault {line:?}; expected one of: router-down ROUTER, link-down LINK, \
                     congestion LINK, packet-loss LINK PERCENT, bgp-flap ROUTER PEER, \
                     pppoe-disconnect ROUTER, each followed by a duration"
                ))
            }
        };
        let from_ms = now_ms.saturating_add(delay);
        Ok(Self {
            kind,
            from_ms,
            until_ms: from_ms.saturating_add(duration),
        })
    }

    fn window(&self) -> (f64, f64) {
        (self.from_ms as f64 / 1000.0, self.until_ms as f64 / 1000.0)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            FaultKind::RouterDown { router } => write!(f, "router-down {router}")?,
            FaultKind::LinkDown { link } => write!(f, "link-down {link}")?,
            FaultKind::Congestion { link } => write!(f, "congestion {link}")?,
            FaultKind::PacketLoss { link, percent } => write!(f, "packet-loss {link} {percent}")?,
            FaultKind::BgpFlap { router, peer } => write!(f, "bgp-flap {router} {peer}")?,
            FaultKind::PppoeDisconnect { router } => write!(f, "pppoe-disconnect {router}")?,
        }
        write!(
            f,
            " from {} until {} (unix ms)",
            self.from_ms, self.until_ms
        )
    }
}

/// Time windows `(from, until)` in unix seconds, merged and sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Windows(Vec<(f64, f64)>);

impl Windows {
    pub fn of<'f>(faults: impl Iterator<Item = &'f Fault>) -> Self {
        Self(faults.map(Fault::window).collect()).union(Self::default())
    }

    pub fn union(self, other: Self) -> Self {
        let mut all = self.0;
        all.extend(other.0);
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for (from, until) in all {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(until),
                _ => merged.push((from, until)),
            }
        }
        Self(merged)
    }

    pub fn active(&self, t: f64) -> bool {
        self.0.iter().any(|&(from, until)| from <= t && t < until)
    }

    /// The parts of the windows inside `[from, to]`.
    pub fn clipped(&self, from: f64, to: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.0
            .iter()
            .map(move |&(a, b)| (a.max(from), b.min(to)))
            .filter(|(a, b)| a < b)
    }

    /// The parts of `[from, to]` outside every window.
    pub fn gaps(&self, from: f64, to: f64) -> Vec<(f64, f64)> {
        let mut gaps = Vec::new();
        let mut start = from;
        for (a, b) in self.clipped(from, to) {
            if start < a {
                gaps.push((start, a));
            }
            start = start.max(b);
        }
        if start < to {
            gaps.push((start, to));
        }
        gaps
    }

    /// The end of the last window that ended by `t`.
    pub fn last_end(&self, t: f64) -> Option<f64> {
        self.0
            .iter()
            .rev()
            .find(|&&(_, until)| until <= t)
            .map(|&(_, until)| until)
    }

    /// The start of the window active at `t`.
    pub fn started(&self, t: f64) -> Option<f64> {
        self.0
            .iter()
            .find(|&&(from, until)| from <= t && t < until)
            .map(|&(from, _)| from)
    }

    /// How many windows began in `(after, t]`.
    pub fn starts(&self, after: f64, t: f64) -> usize {
        self.0
            .iter()
            .filter(|&&(from, _)| after < from && from <= t)
            .count()
    }
}

/// The faults in force, as the data functions query them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults<'a>(pub &'a [Fault]);

impl Faults<'_> {
    pub fn router_down(&self, router: &str) -> Windows {
        Windows::of(
            self.0
                .iter()
                .filter(|f| matches!(&f.kind, FaultKind::RouterDown { router: r } if r == router)),
        )
    }

    /// A link is down when it is cut or when either end router is down; a port with several
    /// links, when any of them is.
    pub fn links_down(&self, links: &[super::model::LinkRef]) -> Windows {
        Windows::of(self.0.iter().filter(|f| match &f.kind {
            FaultKind::LinkDown { link } => links.iter().any(|l| l.id == *link),
            FaultKind::RouterDown { router } => links.iter().any(|l| l.ends.contains(router)),
            _ => false,
        }))
    }

    pub fn link_down(&self, link: &super::model::LinkRef) -> Windows {
        self.links_down(std::slice::from_ref(link))
    }

    pub fn congestion(&self, links: &[super::model::LinkRef]) -> Windows {
        Windows::of(self.0.iter().filter(|f| {
            matches!(&f.kind, FaultKind::Congestion { link } if links.iter().any(|l| l.id == *link))
        }))
    }

    /// Loss windows on any of these links, each with its percentage.
    pub fn packet_loss<'s>(
        &'s self,
        links: &'s [super::model::LinkRef],
    ) -> impl Iterator<Item = (f64, f64, u32)> + 's {
        self.0.iter().filter_map(move |f| match &f.kind {
            FaultKind::PacketLoss { link, percent } if links.iter().any(|l| l.id == *link) => {
                let (from, until) = f.window();
                Some((from, until, *percent))
            }
            _ => None,
        })
    }

    pub fn bgp_flap(&self, router: &str, peer: &str) -> Windows {
        Windows::of(self.0.iter().filter(|f| {
            matches!(&f.kind, FaultKind::BgpFlap { router: r, peer: p } if r == router && p == peer)
        }))
    }

    /// Mass disconnects of this router's PPPoE subscribers, as (time, redial spread) pairs.
    pub fn pppoe_disconnects<'s>(
        &'s self,
        router: &'s str,
    ) -> impl Iterator<Item = (f64, f64)> + 's {
        self.0.iter().filter_map(move |f| match &f.kind {
            FaultKind::PppoeDisconnect { router: r } if r == router => {
                let (from, until) = f.window();
                Some((from, until - from))
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
