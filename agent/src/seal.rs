//! Gathers the pollers' samples (and events, which ride along) into batches and seals them
//! into the buffer.
//!
//! A batch is sealed when it reaches `max_samples` (or the server's event limit) or when its
//! first sample or event has waited `max_delay`, whichever comes first. Sealing gives the batch its `batch_id` (a random UUID):
//! the id is fixed from then on, across retries and restarts, which is what lets the server
//! answer a resent batch `duplicate: true` instead of writing it twice. Samples still waiting
//! to be sealed live only in memory: a `kill -9` loses at most `max_delay` of them, and an
//! orderly shutdown seals them first.

use std::sync::Arc;
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use telemetry::{AgentInfo, Batch};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use crate::poll::Reading;
use crate::queue::{Queue, Sealed};
use crate::stats::Stats;

#[derive(Debug, Clone)]
pub struct SealConfig {
    pub agent: AgentInfo,
    /// At most this many samples per batch (the server accepts 20,000).
    pub max_samples: usize,
    /// Seal a batch at the latest this long after its first sample arrived.
    pub max_delay: Duration,
}

/// The batch as gzip-compressed JSON.
pub fn encode(batch: &Batch) -> Result<Vec<u8>, std::io::Error> {
    use std::io::Write;
    let json = serde_json::to_vec(batch)?;
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::default());
    gz.write_all(&json)?;
    gz.finish()
}

/// Seals a reading's samples and events and writes them to the buffer; logs and counts what
/// could not be written.
async fn seal(
    reading: Reading,
    config: &SealConfig,
    queue: &Arc<Queue>,
    stats: &Arc<Stats>,
    sealed_ids: &broadcast::Sender<Uuid>,
) {
    if reading.is_empty() {
        return;
    }
    let now = crate::poll::now();
    let count = reading.samples.len();
    let events = reading.events.len();
    let batch = Batch {
        batch_id: Uuid::new_v4(),
        agent: config.agent.clone(),
        sent_at: now,
        samples: reading.samples,
        events: reading.events,
    };
    let (queue, stats2) = (queue.clone(), stats.clone());
    let written = tokio::task::spawn_blocking(move || {
        let payload = encode(&batch).map_err(|e| format!("encoding: {e}"))?;
        let sealed = Sealed {
            batch_id: batch.batch_id,
            sealed_at_ms: now.0,
            samples: u32::try_from(count).unwrap_or(u32::MAX),
            payload,
        };
        queue
            .push(&sealed, &stats2)
            .map(|entry| (entry, sealed.payload.len()))
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("sealing task failed: {e}"))
    .and_then(|r| r);
    match written {
        Ok((entry, bytes)) => {
            Stats::add(&stats.sealed_batches, 1);
            Stats::add(&stats.sealed_samples, count as u64);
            tracing::debug!(batch.id = %entry.batch_id, samples = count, events, bytes, "batch sealed");
            // Nobody listens outside tests; a send error only means that.
            let _ = sealed_ids.send(entry.batch_id);
        }
        Err(e) => {
            let total = Stats::add(&stats.unbuffered_samples, count as u64);
            tracing::error!(error = %e, samples = count, events, agent_unbuffered_samples_total = total, "could not buffer a batch; its samples are lost");
        }
    }
}

/// The first `max` samples and `max_events` events of `pending`, taken out of it.
fn take(pending: &mut Reading, max: usize, max_events: usize) -> Reading {
    let samples = pending.samples.split_off(max.min(pending.samples.len()));
    let events = pending
        .events
        .split_off(max_events.min(pending.events.len()));
    std::mem::replace(pending, Reading { samples, events })
}

/// Runs until the pollers are gone (their senders dropped) or `cancel`; then seals what is
/// left. `sealed_ids` hears every batch id as it is buffered.
pub async fn run(
    mut readings: mpsc::Receiver<Reading>,
    config: SealConfig,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    sealed_ids: broadcast::Sender<Uuid>,
    cancel: tokio_util::sync::CancellationToken,
) {
    let max = config.max_samples.max(1);
    // The server refuses a batch with more events than its limit.
    let max_events = telemetry::Limits::default().max_events;
    let mut pending = Reading::default();
    let mut deadline: Option<Instant> = None;
    loop {
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = readings.recv() => match received {
                Some(reading) => {
                    if pending.is_empty() && !reading.is_empty() {
                        deadline = Some(Instant::now() + config.max_delay);
                    }
                    pending.samples.extend(reading.samples);
                    pending.events.extend(reading.events);
                    while pending.samples.len() >= max || pending.events.len() >= max_events {
                        seal(take(&mut pending, max, max_events), &config, &queue, &stats, &sealed_ids).await;
                        deadline = (!pending.is_empty()).then(|| Instant::now() + config.max_delay);
                    }
                }
                None => break,
            },
            () = timer => {
                seal(std::mem::take(&mut pending), &config, &queue, &stats, &sealed_ids).await;
                deadline = None;
            }
            () = cancel.cancelled() => {
                // What the pollers already handed over is sealed too.
                while let Ok(reading) = readings.try_recv() {
                    pending.samples.extend(reading.samples);
                    pending.events.extend(reading.events);
                }
                break;
            }
        }
    }
    while !pending.is_empty() {
        seal(
            take(&mut pending, max, max_events),
            &config,
            &queue,
            &stats,
            &sealed_ids,
        )
        .await;
    }
}
