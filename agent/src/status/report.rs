//! The status report to the server (`POST /api/agent/v1/status`, enrolled agents only): what
//! the local `GET /status` says, for the server's Agents page, every minute. A failed report is
//! logged (a warning when reports start failing, then debug) and never stops or slows the
//! pushes: it runs in its own task, and the next report replaces it.

use std::sync::Arc;
use std::time::Duration;

use telemetry::enroll::{AgentStatus, STATUS_PATH};
use telemetry::UnixMs;
use tokio_util::sync::CancellationToken;

use crate::link::{success, Link};
use crate::queue::Queue;
use crate::stats::Stats;

/// How often an enrolled agent reports.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// The report at `now`.
pub fn status_report(
    queue: &Queue,
    stats: &Stats,
    certificate_not_after: Option<UnixMs>,
    now: UnixMs,
) -> AgentStatus {
    let (batches, bytes) = queue.depth();
    let get = Stats::get;
    let assignment = stats.assignment();
    AgentStatus {
        version: crate::run::VERSION.to_owned(),
        at: now,
        buffer_batches: batches as u64,
        buffer_bytes: bytes,
        oldest_buffered: queue.oldest().map(|e| UnixMs(e.sealed_at_ms)),
        last_push: stats.last_push_ms().map(UnixMs),
        // Every sample the agent collected and will never deliver: over the buffer's caps,
        // not writable to the buffer, refused by the server whole, or unreadable.
        dropped_samples: get(&stats.dropped_samples)
            + get(&stats.unbuffered_samples)
            + get(&stats.dead_letter_samples)
            + get(&stats.corrupt_samples),
        targets: get(&stats.targets),
        certificate_not_after,
        assignment_fetched: assignment
            .as_ref()
            .and_then(|a| a.fetched_at_ms)
            .map(UnixMs),
        assignment_revision: assignment.map(|a| a.revision),
    }
}

/// Posts `status` to `{server_url}/api/agent/v1/status` with `client` (an enrolled agent's:
/// the client certificate authenticates it). A non-2xx answer is an error carrying the
/// server's message ([`crate::link::Refused`]).
pub async fn send_status(
    client: &reqwest::Client,
    server_url: &str,
    status: &AgentStatus,
) -> anyhow::Result<()> {
    let url = format!("{}{STATUS_PATH}", server_url.trim_end_matches('/'));
    let response = client
        .post(&url)
        .json(status)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("posting to {url}: {}", crate::send::error_chain(&e)))?;
    success(response).await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Reporting {
    /// The server's base URL.
    pub server_url: String,
    pub interval: Duration,
}

/// Reports every `config.interval`, the first time at once, until `cancel`.
pub async fn run(
    config: Reporting,
    link: Arc<Link>,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) {
    let mut every = tokio::time::interval(config.interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let status = status_report(
            &queue,
            &stats,
            link.certificate_not_after(),
            crate::poll::now(),
        );
        let client = link.client();
        let sent = tokio::select! {
            () = cancel.cancelled() => return,
            sent = send_status(&client, &config.server_url, &status) => sent,
        };
        match sent {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("status reports reach the server again");
            }
            Ok(()) => tracing::debug!("status reported"),
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %format!("{e:#}"), "status report failed; pushes go on, and reports are retried every interval");
            }
            Err(e) => tracing::debug!(error = %format!("{e:#}"), "status report failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use uuid::Uuid;

    use super::*;
    use crate::queue::{Caps, Sealed};

    #[test]
    fn the_report_says_what_the_status_endpoint_says() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stats = Stats::default();
        let queue = Queue::open(dir.path(), Caps::NONE).expect("open");
        stats.targets.store(4, Ordering::Relaxed);
        let empty = status_report(&queue, &stats, None, UnixMs(5_000));
        assert_eq!(
            empty,
            AgentStatus {
                version: crate::run::VERSION.to_owned(),
                at: UnixMs(5_000),
                buffer_batches: 0,
                buffer_bytes: 0,
                oldest_buffered: None,
                last_push: None,
                dropped_samples: 0,
                targets: 4,
                certificate_not_after: None,
                assignment_revision: None,
                assignment_fetched: None,
            }
        );
        for at in [1_000, 2_000] {
            let sealed = Sealed {
                batch_id: Uuid::new_v4(),
                sealed_at_ms: at,
                samples: 10,
                payload: vec![1; 100],
            };
            queue.push(&sealed, &stats).expect("push");
        }
        stats.mark_pushed();
        stats.dropped_samples.store(1, Ordering::Relaxed);
        stats.unbuffered_samples.store(20, Ordering::Relaxed);
        stats.dead_letter_samples.store(300, Ordering::Relaxed);
        stats.corrupt_samples.store(4_000, Ordering::Relaxed);
        stats.set_assignment(crate::stats::AssignmentSeen {
            revision: "r1".into(),
            fetched_at_ms: Some(4_000),
        });
        let report = status_report(&queue, &stats, Some(UnixMs(9_000)), UnixMs(5_000));
        let (batches, bytes) = queue.depth();
        assert_eq!(
            (report.buffer_batches, report.buffer_bytes),
            (batches as u64, bytes)
        );
        assert_eq!(report.buffer_batches, 2);
        assert_eq!(report.oldest_buffered, Some(UnixMs(1_000)));
        assert_eq!(report.last_push, stats.last_push_ms().map(UnixMs));
        assert!(report.last_push.is_some());
        assert_eq!(report.dropped_samples, 4_321);
        assert_eq!(report.certificate_not_after, Some(UnixMs(9_000)));
        assert_eq!(report.assignment_revision.as_deref(), Some("r1"));
        assert_eq!(report.assignment_fetched, Some(UnixMs(4_000)));
    }
}
