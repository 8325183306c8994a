//! Sign-in throttling policy (pure). The counts come from `db::login_attempts`; this decides.
//!
//! Failures are counted per typed username, whether or not the account exists, so that the
//! answer never reveals which usernames are real, and per source address, so that one host
//! cannot spray passwords across accounts.

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: i64,
    pub max_failures_per_ip: i64,
}

/// Recent failures as counted in the database over `policy.window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentFailures {
    pub account: i64,
    /// Oldest failure of the account inside the window: the lock lifts when it ages out.
    pub account_oldest: Option<OffsetDateTime>,
    pub ip: i64,
    pub ip_oldest: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Refuse, with the message to show.
    Refuse(String),
}

impl ThrottlePolicy {
    pub fn judge(&self, recent: &RecentFailures, now: OffsetDateTime) -> Verdict {
        let wait = |oldest: Option<OffsetDateTime>| {
            let until = oldest.unwrap_or(now) + self.window;
            let minutes = ((until - now).whole_seconds().max(1) + 59) / 60;
            if minutes == 1 {
                "1 minute".to_owned()
            } else {
                format!("{minutes} minutes")
            }
        };
        if recent.ip >= self.max_failures_per_ip {
            return Verdict::Refuse(format!(
                "Too many failed sign-in attempts from your address. Try again in {}.",
                wait(recent.ip_oldest)
            ));
        }
        if recent.account >= self.max_failures_per_account {
            return Verdict::Refuse(format!(
                "Too many failed sign-in attempts for this username. Try again in {}.",
                wait(recent.account_oldest)
            ));
        }
        Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        window: Duration::minutes(15),
        max_failures_per_account: 5,
        max_failures_per_ip: 20,
    };

    fn recent(account: i64, ip: i64, oldest_ago: Duration, now: OffsetDateTime) -> RecentFailures {
        RecentFailures {
            account,
            account_oldest: Some(now - oldest_ago),
            ip,
            ip_oldest: Some(now - oldest_ago),
        }
    }

    #[test]
    fn allows_below_the_limits() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            POLICY.judge(&recent(4, 19, Duration::minutes(1), now), now),
            Verdict::Allow
        );
    }

    #[test]
    fn refuses_an_account_at_its_limit_and_says_how_long() {
        let now = OffsetDateTime::now_utc();
        let v = POLICY.judge(&recent(5, 5, Duration::minutes(5), now), now);
        assert_eq!(
            v,
            Verdict::Refuse(
                "Too many failed sign-in attempts for this username. Try again in 10 minutes."
                    .into()
            )
        );
    }

    #[test]
    fn the_address_limit_wins_over_the_account_limit() {
        let now = OffsetDateTime::now_utc();
        let v = POLICY.judge(&recent(9, 20, Duration::seconds(14 * 60 + 30), now), now);
        assert_eq!(
            v,
            Verdict::Refuse(
                "Too many failed sign-in attempts from your address. Try again in 1 minute.".into()
            )
        );
    }
}
