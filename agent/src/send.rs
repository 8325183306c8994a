//! Drains the buffer to `POST /api/ingest/v1/batches`, oldest batch first; while it replays a
//! backlog (what was buffered when the server came back, or when the agent started), batches
//! sealed since take every other send, so live data keeps flowing during a long drain.
//!
//! | answer | what the agent does |
//! |---|---|
//! | 2xx (also `duplicate: true`) | deletes the batch; rejected samples are counted and logged, never resent |
//! | 408, 429, 5xx, no answer | keeps it and retries after exponential back-off with jitter, or after `Retry-After` (429, 503) |
//! | 401, 403, 404 | keeps it and retries with back-off, logging an error: these say the agent's token, its certificate (403 `revoked`) or the server URL is wrong, not that the batch is, and dead-lettering would empty the buffer of good data |
//! | other 4xx | moves it to `dead/` with the status and the server's message: resending cannot succeed |
//!
//! `sent_at` is set at each attempt (the server compares it with its clock to show the
//! agent's skew), so the stored batch is decompressed, stamped and compressed again; its
//! `batch_id` and samples never change.
//!
//! Requests go through the agent's [`Link`]: a bearer token, or an enrolled agent's client
//! certificate, which the renewal swaps while the sender runs.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use flate2::read::GzDecoder;
use secrecy::SecretString;
use telemetry::{Batch, ErrorResponse, IngestResponse};
use tokio_util::sync::CancellationToken;

use crate::link::Link;
use crate::queue::{Entry, Lane, Queue};
use crate::stats::Stats;

/// The sender's back-off and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A longer `Retry-After` is cut to this.
    pub retry_after_max: Duration,
    /// Per request, from connecting to the end of the answer.
    pub timeout: Duration,
}

impl Policy {
    /// The agent's: back-off 1 s doubling to 60 s, `Retry-After` cut to 5 minutes, 30 s per
    /// request.
    pub const DEFAULT: Policy = Policy {
        backoff_initial: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        retry_after_max: Duration::from_secs(300),
        timeout: Duration::from_secs(30),
    };
}

/// Where the batches go and how the agent proves who it is.
#[derive(Debug, Clone)]
pub struct Push {
    /// The full ingest URL (the server's base URL + `telemetry::INGEST_PATH`).
    pub url: String,
    /// The client and its auth (bearer token or client certificate), shared and swappable.
    pub link: Arc<Link>,
    pub policy: Policy,
}

/// A sender with a bearer token, in one literal: how the tests and benchmarks start one
/// ([`run`]). The agent itself builds a [`Push`] ([`drain`]).
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// The full ingest URL (the server's base URL + `telemetry::INGEST_PATH`).
    pub url: String,
    pub token: SecretString,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A longer `Retry-After` is cut to this.
    pub retry_after_max: Duration,
    /// Per request, from connecting to the end of the answer.
    pub timeout: Duration,
}

impl SendConfig {
    pub fn policy(&self) -> Policy {
        Policy {
            backoff_initial: self.backoff_initial,
            backoff_max: self.backoff_max,
            retry_after_max: self.retry_after_max,
            timeout: self.timeout,
        }
    }

    /// The [`Push`] of a bearer-token agent.
    pub fn into_push(self) -> anyhow::Result<Push> {
        let policy = self.policy();
        Ok(Push {
            link: Arc::new(Link::bearer(self.token, self.timeout)?),
            url: self.url,
            policy,
        })
    }
}

/// What to do with a batch after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Retry {
        after: Option<Duration>,
        why: String,
    },
    DeadLetter(String),
}

/// The exponential back-off before attempt `failures + 1`, with jitter in [50 %, 100 %].
pub fn backoff(policy: &Policy, failures: u32) -> Duration {
    let exp = policy
        .backoff_initial
        .saturating_mul(2_u32.saturating_pow(failures.saturating_sub(1).min(30)));
    exp.min(policy.backoff_max)
        .mul_f64(0.5 + rand::random::<f64>() / 2.0)
}

/// Decompresses a stored batch, stamps `sent_at` and compresses it again.
fn restamp(payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut json = Vec::new();
    GzDecoder::new(payload)
        .read_to_end(&mut json)
        .map_err(|e| format!("payload is not gzip: {e}"))?;
    let mut batch = Batch::from_json(&json).map_err(|e| format!("payload: {e}"))?;
    batch.sent_at = crate::poll::now();
    crate::seal::encode(&batch).map_err(|e| format!("re-encoding: {e}"))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    // Seconds; the HTTP-date form is rare for APIs and falls back to the back-off.
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

async fn attempt(push: &Push, entry: &Entry, body: Vec<u8>, stats: &Stats) -> Outcome {
    let config = &push.policy;
    let request = push
        .link
        .post(&push.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::CONTENT_ENCODING, "gzip")
        .timeout(config.timeout)
        .body(body);
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Retry {
                after: None,
                why: format!("no answer: {}", error_chain(&e)),
            }
        }
    };
    let status = response.status();
    let after = retry_after(&response).map(|d| d.min(config.retry_after_max));
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        match serde_json::from_str::<IngestResponse>(&text) {
            Ok(answer) => {
                if answer.duplicate {
                    Stats::add(&stats.duplicate_batches, 1);
                    tracing::debug!(batch.id = %entry.batch_id, "server had this batch already");
                }
                let rejected = answer.samples.rejected_total() + answer.events.rejected_total();
                if rejected > 0 {
                    let total = Stats::add(&stats.rejected_samples, rejected);
                    for (reason, summary) in &answer.samples.rejected {
                        tracing::warn!(batch.id = %entry.batch_id, ?reason, count = summary.count, message = %summary.message, agent_rejected_samples_total = total, "server rejected samples");
                    }
                }
            }
            // Delivered all the same: the status is what counts.
            Err(e) => {
                tracing::warn!(batch.id = %entry.batch_id, error = %e, "unreadable 2xx answer")
            }
        }
        return Outcome::Delivered;
    }
    let message = serde_json::from_str::<ErrorResponse>(&text)
        .map(|e| format!("{}: {}", e.error, e.message))
        .unwrap_or_else(|_| text.chars().take(300).collect());
    let why = format!("HTTP {}: {message}", status.as_u16());
    match status.as_u16() {
        408 | 429 => Outcome::Retry { after, why },
        401 | 403 | 404 => {
            tracing::error!(status = status.as_u16(), %message, "the server refuses the agent (its token or certificate, revoked, or a wrong URL); batches are kept");
            Outcome::Retry { after: None, why }
        }
        400..=499 => Outcome::DeadLetter(why),
        503 => Outcome::Retry { after, why },
        _ => Outcome::Retry { after: None, why },
    }
}

pub(crate) use routeros::error_chain;

/// Sends with a bearer token until cancelled ([`drain`] with [`SendConfig::into_push`]).
pub async fn run(
    queue: Arc<Queue>,
    config: SendConfig,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    drain(queue, config.into_push()?, stats, cancel).await
}

/// Sends until cancelled. A batch in flight when cancelled stays in the buffer.
pub async fn drain(
    queue: Arc<Queue>,
    push: Push,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut failures: u32 = 0;
    // Batches up to this one are the backlog being replayed; `prefer` alternates the lanes.
    let mut backlog_end = queue.newest_seq();
    let mut prefer = Lane::Live;
    loop {
        let Some((entry, lane)) = queue.next(backlog_end, prefer) else {
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = queue.wait_for_push() => continue,
            }
        };
        let q = queue.clone();
        let e = entry.clone();
        let body =
            tokio::task::spawn_blocking(move || q.read(&e).and_then(|s| restamp(&s.payload)))
                .await
                .map_err(|e| anyhow::anyhow!("reading task failed: {e}"))?;
        let body = match body {
            Ok(body) => body,
            Err(reason) => {
                let total = Stats::add(&stats.corrupt_batches, 1);
                Stats::add(&stats.corrupt_samples, u64::from(entry.samples));
                tracing::error!(batch.id = %entry.batch_id, %reason, agent_corrupt_batches_total = total, "unreadable buffered batch moved to corrupt/");
                queue.quarantine(&entry, &reason);
                continue;
            }
        };
        let outcome = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            outcome = attempt(&push, &entry, body, &stats) => outcome,
        };
        match outcome {
            Outcome::Delivered => {
                if failures > 0 {
                    // Everything buffered until now is the backlog; what is sealed from now
                    // on is live.
                    backlog_end = queue.newest_seq();
                    let (batches, bytes) = queue.depth();
                    tracing::info!(
                        attempts = failures + 1,
                        backlog_batches = batches,
                        backlog_bytes = bytes,
                        "server reachable again; replaying the backlog"
                    );
                }
                failures = 0;
                prefer = match lane {
                    Lane::Live => Lane::Backlog,
                    Lane::Backlog => Lane::Live,
                };
                Stats::add(&stats.sent_batches, 1);
                stats.mark_pushed();
                queue.remove(&entry);
            }
            Outcome::DeadLetter(why) => {
                failures = 0;
                let total = Stats::add(&stats.dead_letter_batches, 1);
                Stats::add(&stats.dead_letter_samples, u64::from(entry.samples));
                tracing::error!(batch.id = %entry.batch_id, reason = %why, agent_dead_letter_batches_total = total, "server refused the batch; moved to dead/");
                queue.dead_letter(&entry, &why);
            }
            Outcome::Retry { after, why } => {
                failures = failures.saturating_add(1);
                let wait = after.unwrap_or_else(|| backoff(&push.policy, failures));
                let (batches, bytes) = queue.depth();
                // Loud at first and then every tenth time: an outage of days must not flood
                // the log, but must stay visible in it.
                if failures <= 3 || failures.is_multiple_of(10) {
                    tracing::warn!(batch.id = %entry.batch_id, reason = %why, failures, retry_in_ms = wait.as_millis() as u64, buffered_batches = batches, buffered_bytes = bytes, "send failed; will retry");
                } else {
                    tracing::debug!(batch.id = %entry.batch_id, reason = %why, failures, "send failed; will retry");
                }
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let config = SendConfig {
            url: String::new(),
            token: SecretString::from("t"),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retry_after_max: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
        };
        assert_eq!(config.policy(), Policy::DEFAULT);
        for (failures, full) in [(1, 1), (2, 2), (3, 4), (7, 60), (40, 60)] {
            let wait = backoff(&Policy::DEFAULT, failures);
            let full = Duration::from_secs(full);
            assert!(wait <= full && wait >= full / 2, "{failures}: {wait:?}");
        }
    }
}
