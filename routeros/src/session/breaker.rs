//! When to try a router again: exponential back-off, then a circuit breaker. Pure: time is an
//! argument, so the policy is tested without clocks or sleeps.
//!
//! After failure k (k < `open_after`) the next attempt waits `initial × 2^(k-1)`, capped at
//! `max`. The `open_after`-th consecutive failure opens the circuit for `open_for`: every call
//! is refused at once, so a dead router costs nothing and is not hammered. When that time is
//! up one probe is let through (half-open): success closes the circuit, failure opens it again.
//! A refused login opens it at once: repeating wrong credentials only locks accounts.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub open_after: u32,
    pub open_for: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            open_after: 5,
            open_for: Duration::from_secs(300),
        }
    }
}

/// The answer to "may I contact the router now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Go,
    BackingOff { retry_in: Duration },
    Open { retry_in: Duration },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    policy: BackoffPolicy,
    failures: u32,
    /// No attempt before this instant.
    not_before: Option<Instant>,
    open: bool,
    last_error: String,
}

impl Breaker {
    pub fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            not_before: None,
            open: false,
            last_error: String::new(),
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn last_error(&self) -> &str {
        &self.last_error
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.not_before {
            Some(t) if now < t => {
                let retry_in = t - now;
                if self.open {
                    Admission::Open { retry_in }
                } else {
                    Admission::BackingOff { retry_in }
                }
            }
            _ => {
                if self.open {
                    // Half-open: this caller is the probe; everyone else waits another period.
                    self.not_before = Some(now + self.policy.open_for);
                }
                Admission::Go
            }
        }
    }

    pub fn on_success(&mut self) {
        self.failures = 0;
        self.not_before = None;
        self.open = false;
    }

    /// Records a failure at `now`; `open_now` for failures that retrying cannot fix.
    pub fn on_failure(&mut self, now: Instant, error: &str, open_now: bool) {
        self.failures = self.failures.saturating_add(1);
        self.last_error = error.to_owned();
        if open_now || self.open || self.failures >= self.policy.open_after {
            self.open = true;
            self.not_before = Some(now + self.policy.open_for);
        } else {
            let doublings = self.failures.saturating_sub(1).min(31);
            let wait = self
                .policy
                .initial
                .saturating_mul(1_u32 << doublings)
                .min(self.policy.max);
            self.not_before = Some(now + wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial: S,
            max: 5 * S,
            open_after: 5,
            open_for: 100 * S,
        }
    }

    #[test]
    fn back_off_doubles_up_to_the_cap_then_the_circuit_opens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        assert_eq!(b.admit(t0), Admission::Go);
        let mut now = t0;
        // Waits after failures 1..4: 1, 2, 4, 5 (capped) seconds.
        for (k, wait) in [1, 2, 4, 5].into_iter().enumerate() {
            b.on_failure(now, "refused", false);
            assert_eq!(b.failures(), k as u32 + 1);
            assert_eq!(b.admit(now), Admission::BackingOff { retry_in: wait * S });
            let almost = now + wait * S - Duration::from_millis(1);
            assert!(matches!(b.admit(almost), Admission::BackingOff { .. }));
            now += wait * S;
            assert_eq!(b.admit(now), Admission::Go);
        }
        b.on_failure(now, "refused", false);
        assert_eq!(b.admit(now), Admission::Open { retry_in: 100 * S });
        assert_eq!(b.last_error(), "refused");
    }

    #[test]
    fn half_open_lets_one_probe_through() {
        let t0 = Instant::now();
        let mut b = Breaker::new(BackoffPolicy {
            open_after: 1,
            ..policy()
        });
        b.on_failure(t0, "timeout", false);
        assert_eq!(b.admit(t0 + 10 * S), Admission::Open { retry_in: 90 * S });
        let t1 = t0 + 100 * S;
        assert_eq!(b.admit(t1), Admission::Go, "the probe");
        assert_eq!(
            b.admit(t1),
            Admission::Open { retry_in: 100 * S },
            "others wait while it runs"
        );
        // The probe fails: open again for a full period.
        b.on_failure(t1 + S, "timeout", false);
        assert_eq!(b.admit(t1 + S), Admission::Open { retry_in: 100 * S });
        // The next probe succeeds: closed, no waiting.
        let t2 = t1 + 101 * S;
        assert_eq!(b.admit(t2), Admission::Go);
        b.on_success();
        assert_eq!(b.admit(t2), Admission::Go);
        assert_eq!(b.failures(), 0);
    }

    #[test]
    fn a_refused_login_opens_at_once() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        b.on_failure(t0, "invalid user name or password", true);
        assert_eq!(b.admit(t0), Admission::Open { retry_in: 100 * S });
    }

    #[test]
    fn success_resets_the_back_off() {
        let t0 = Instant::now();
        let mut b = Breaker::new(policy());
        for _ in 0..3 {
            b.on_failure(t0, "x", false);
        }
        b.on_success();
        b.on_failure(t0, "x", false);
        assert_eq!(b.admit(t0), Admission::BackingOff { retry_in: S });
    }
}
