//! When to read a router's facts (`/system/routerboard`) again: they change only with an
//! upgrade, a firmware upgrade (which takes a reboot) or a board swap, so on the slow interval,
//! and at once after a reboot or a RouterOS version change.

use std::time::Duration;

use telemetry::UnixMs;

use super::Target;
use crate::collect::resource::System;

/// When the router's facts were last read, and what its resource print said then.
#[derive(Debug, Clone, PartialEq)]
pub struct FactsRead {
    pub at: UnixMs,
    pub system: System,
}

impl FactsRead {
    /// Whether to read the facts again at `now`: the interval is up (within half a poll, so a
    /// poll a little early does not wait a whole poll more), or the router rebooted (its
    /// uptime went down) or runs another RouterOS version since.
    pub fn due(&self, now: UnixMs, system: &System, target: &Target) -> bool {
        let elapsed = Duration::from_millis(u64::try_from(now.0 - self.at.0).unwrap_or(0));
        let rebooted = matches!(
            (system.uptime, self.system.uptime),
            (Some(now), Some(then)) if now < then
        );
        elapsed + target.interval / 2 >= target.facts_interval
            || rebooted
            || system.version != self.system.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use routeros::ClientConfig;
    use telemetry::DeviceRef;

    #[test]
    fn facts_are_due_on_the_slow_interval_after_a_reboot_or_an_upgrade() {
        let target = Target {
            name: "r1".into(),
            device: DeviceRef::Name("r1".into()),
            client: ClientConfig::new("127.0.0.1", "u", "p"),
            interval: Duration::from_secs(10),
            facts_interval: Duration::from_secs(300),
        };
        let system = |version: &str, uptime: f64| System {
            version: Some(version.into()),
            uptime: Some(uptime),
            ..System::default()
        };
        let read = FactsRead {
            at: UnixMs(1_000_000),
            system: system("7.15.3", 5_000.0),
        };
        let at = |secs: i64| UnixMs(1_000_000 + secs * 1_000);
        assert!(!read.due(at(10), &system("7.15.3", 5_010.0), &target));
        assert!(!read.due(at(290), &system("7.15.3", 5_290.0), &target));
        // Within half a poll of the interval: this poll, not the next one.
        assert!(read.due(at(296), &system("7.15.3", 5_296.0), &target));
        assert!(
            read.due(at(20), &system("7.15.3", 12.0), &target),
            "rebooted"
        );
        assert!(
            read.due(at(20), &system("7.16.2", 5_020.0), &target),
            "upgraded"
        );
        // A clock that went back counts as no time elapsed.
        assert!(!read.due(at(-60), &system("7.15.3", 5_060.0), &target));
    }
}
