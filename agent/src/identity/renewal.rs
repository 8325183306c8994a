//! The renewal task of an enrolled agent: at start and then every hour it checks whether less
//! than a third of the certificate's lifetime is left, renews it, saves the new identity and
//! swaps the new client into the [`Link`], so pushes and status reports carry on with it. A
//! failed renewal is retried with back-off, logged as a warning, and as an error once the
//! certificate expires within a day (or the server says the agent is revoked).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use telemetry::UnixMs;
use tokio_util::sync::CancellationToken;

use super::enroll::renew_at;
use super::Identity;
use crate::link::{Link, Refused};

/// How often the certificate's validity is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(3_600);
/// The first wait after a failed renewal; it doubles up to the check interval.
pub const RETRY_INITIAL: Duration = Duration::from_secs(60);

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone)]
pub struct Renewal {
    /// The identity directory, where the renewed identity is saved.
    pub dir: PathBuf,
    /// The server's base URL (the setting, else the enrolled one).
    pub server_url: String,
    pub check_every: Duration,
    pub retry_initial: Duration,
    /// The new client's request timeout.
    pub timeout: Duration,
}

/// The wait before attempt `failures + 1`: `initial` doubling, at most `max`.
pub fn retry_wait(initial: Duration, max: Duration, failures: u32) -> Duration {
    initial
        .saturating_mul(2_u32.saturating_pow(failures.saturating_sub(1).min(30)))
        .min(max)
}

/// Whether a failed renewal is an error rather than a warning: the certificate expires within
/// a day (or has), so pushes are about to stop.
pub fn urgent(not_after: UnixMs, now: UnixMs) -> bool {
    not_after.0.saturating_sub(now.0) < DAY_MS
}

/// Renews `identity` whenever it is due, until `cancel`.
pub async fn run(
    mut identity: Identity,
    config: Renewal,
    link: Arc<Link>,
    cancel: CancellationToken,
) {
    let mut failures: u32 = 0;
    loop {
        let wait = if identity.renewal_due(crate::poll::now()) {
            let renewed = tokio::select! {
                () = cancel.cancelled() => return,
                renewed = renew_at(&identity, &config.server_url, &config.dir) => renewed,
            };
            match renewed {
                Ok(new) => {
                    failures = 0;
                    if let Err(e) = link.use_identity(&new, config.timeout) {
                        tracing::error!(error = %format!("{e:#}"), "the renewed certificate is saved but not usable; pushing with the old one until a restart");
                    }
                    if new.name != identity.name {
                        tracing::info!(agent = %new.name, "the server renamed the agent; batches carry the new name after a restart");
                    }
                    tracing::info!(agent.id = %new.agent_id, certificate_not_after = new.not_after.0, "certificate renewed");
                    identity = new;
                    config.check_every
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = retry_wait(config.retry_initial, config.check_every, failures);
                    let error = format!("{e:#}");
                    let revoked = e
                        .downcast_ref::<Refused>()
                        .is_some_and(|r| r.error == "revoked");
                    let not_after = identity.not_after.0;
                    let retry_in_s = wait.as_secs();
                    if revoked || urgent(identity.not_after, crate::poll::now()) {
                        tracing::error!(%error, certificate_not_after = not_after, failures, retry_in_s, "certificate renewal failed");
                    } else {
                        tracing::warn!(%error, certificate_not_after = not_after, failures, retry_in_s, "certificate renewal failed");
                    }
                    wait
                }
            }
        } else {
            config.check_every
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_the_check_interval() {
        let waits: Vec<u64> = [1, 2, 3, 6, 7, 100]
            .into_iter()
            .map(|f| retry_wait(RETRY_INITIAL, CHECK_EVERY, f).as_secs())
            .collect();
        assert_eq!(waits, [60, 120, 240, 1_920, 3_600, 3_600]);
    }

    #[test]
    fn a_failure_is_urgent_within_a_day_of_expiry() {
        let now = UnixMs(1_000 * DAY_MS);
        assert!(!urgent(UnixMs(now.0 + DAY_MS), now));
        assert!(urgent(UnixMs(now.0 + DAY_MS - 1), now));
        assert!(urgent(UnixMs(now.0 - 1), now), "expired");
    }
}
