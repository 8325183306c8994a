//! Validation of a decoded [`Batch`]: batch-level errors refuse the whole batch
//! ([`BatchError`]); everything else is judged per sample and per event, and the batch is
//! accepted except for the rejected ones ([`Validated`]).
//!
//! Pure: the caller passes the registry, its clock (`now`) and the limits. The server adds the
//! checks that need its database (device lookup, series limits) with
//! [`Validated::reject_samples`] / [`Validated::reject_events`] before writing.

pub(crate) mod event;
mod outcome;
pub(crate) mod sample;

use hashbrown::HashSet;

use serde::{Deserialize, Serialize};

use crate::registry::{MetricSpec, Registry};
use crate::response::{ErrorResponse, RejectReason};
use crate::shown;
use crate::wire::{Batch, DeviceRef, Sample, UnixMs, MAX_DEVICE_NAME_CHARS};

pub use outcome::{AcceptedEvent, AcceptedSample, Rejection, Validated};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Longest accepted `agent.name` / `agent.version`, in characters.
pub const MAX_AGENT_FIELD_CHARS: usize = 100;

/// The per-batch limits the server enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// More samples than this refuse the batch (`too_many_samples`). 20,000 samples are about
    /// 0.1 s of the writer's target rate, so one agent's batch cannot hold the writer for long,
    /// and a 10,000-sample batch (a POP's 10 s of data, or a replay chunk) fits twice.
    pub max_samples: usize,
    /// More events than this refuse the batch (`too_many_events`).
    pub max_events: usize,
    /// Samples older than `now - max_age_ms` are rejected (`too_old`). Seven days: the agent
    /// keeps 72 h of backlog by default (issue 7), so this leaves room for a raised buffer cap
    /// or a long-weekend outage, and it bounds how far back rollups must be re-rolled, so older
    /// partitions are final and can be compressed.
    pub max_age_ms: i64,
    /// Samples later than `now + max_future_ms` are rejected (`in_future`). Five minutes tolerates
    /// the skew of a clock that is merely drifting; a clock that is wrong by more would put
    /// samples ahead of every "last value" and rollup watermark.
    pub max_future_ms: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_samples: 20_000,
            max_events: 5_000,
            max_age_ms: 7 * DAY_MS,
            max_future_ms: 5 * MINUTE_MS,
        }
    }
}

/// A problem with the batch as a whole: nothing of it is written (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the body is not a valid ingest v1 batch: {0}")]
    Malformed(String),
    #[error(
        "batch_id is the nil UUID; send a fresh random (v4) or time-ordered (v7) UUID per batch"
    )]
    NilBatchId,
    #[error("the batch has {count} samples and at most {max} are accepted; split it")]
    TooManySamples { count: usize, max: usize },
    #[error("the batch has {count} events and at most {max} are accepted; split it")]
    TooManyEvents { count: usize, max: usize },
    #[error("agent.{field} must be 1 to {MAX_AGENT_FIELD_CHARS} characters")]
    BadAgent { field: &'static str },
}

impl BatchError {
    /// The stable code of the error body (`{"error": code, "message": …}`).
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Malformed(_) => "malformed",
            BatchError::NilBatchId => "nil_batch_id",
            BatchError::TooManySamples { .. } => "too_many_samples",
            BatchError::TooManyEvents { .. } => "too_many_events",
            BatchError::BadAgent { .. } => "bad_agent",
        }
    }

    /// The error body the server answers with.
    pub fn to_response(&self) -> ErrorResponse {
        ErrorResponse {
            error: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

/// The accepted time range `[oldest, newest]` of one validation.
#[derive(Debug, Clone, Copy)]
struct Window {
    oldest: i64,
    newest: i64,
}

impl Window {
    fn check(self, ts: UnixMs) -> Result<(), (RejectReason, String)> {
        if ts.0 < self.oldest {
            Err((
                RejectReason::TooOld,
                format!(
                    "timestamp {} ms is older than the replay window (from {} ms)",
                    ts.0, self.oldest
                ),
            ))
        } else if ts.0 > self.newest {
            Err((RejectReason::InFuture, format!("timestamp {} ms is ahead of the server clock beyond the allowed skew (up to {} ms)", ts.0, self.newest)))
        } else {
            Ok(())
        }
    }
}

/// Validates a decoded batch against the registry at server time `now`.
///
/// Batch-level checks come first (batch id, agent fields, counts). Then each sample is judged
/// by the first failing check, in this order: metric known, device reference, timestamp window,
/// instance, labels, value type, finite, range, state, reason length, duplicate in the batch.
/// Each event: device, timestamp, kind, then the kind's own fields.
pub fn validate(
    batch: Batch,
    registry: &Registry,
    now: UnixMs,
    limits: &Limits,
) -> Result<Validated, BatchError> {
    if batch.batch_id.is_nil() {
        return Err(BatchError::NilBatchId);
    }
    for (field, value) in [
        ("name", &batch.agent.name),
        ("version", &batch.agent.version),
    ] {
        if value.is_empty() || value.chars().count() > MAX_AGENT_FIELD_CHARS {
            return Err(BatchError::BadAgent { field });
        }
    }
    if batch.samples.len() > limits.max_samples {
        return Err(BatchError::TooManySamples {
            count: batch.samples.len(),
            max: limits.max_samples,
        });
    }
    if batch.events.len() > limits.max_events {
        return Err(BatchError::TooManyEvents {
            count: batch.events.len(),
            max: limits.max_events,
        });
    }
    let window = Window {
        oldest: now.0.saturating_sub(limits.max_age_ms),
        newest: now.0.saturating_add(limits.max_future_ms),
    };

    let verdicts = judge_samples(&batch.samples, registry, window);
    let mut samples = Vec::with_capacity(batch.samples.len());
    let mut sample_rejections = Vec::new();
    for ((index, sample), verdict) in batch.samples.into_iter().enumerate().zip(verdicts) {
        match verdict {
            Ok(spec) => samples.push(AcceptedSample {
                index,
                spec,
                sample,
            }),
            Err((reason, problem)) => sample_rejections.push(Rejection {
                index,
                reason,
                message: format!(
                    "sample {index} ({} on device {}): {problem}",
                    shown(&sample.metric),
                    sample.device
                ),
            }),
        }
    }

    let mut events = Vec::with_capacity(batch.events.len());
    let mut event_rejections = Vec::new();
    for (index, event) in batch.events.into_iter().enumerate() {
        match event::check(&event, registry, window) {
            Ok(()) => events.push(AcceptedEvent { index, event }),
            Err((reason, problem)) => event_rejections.push(Rejection {
                index,
                reason,
                message: format!("event {index} (device {}): {problem}", event.device),
            }),
        }
    }

    Ok(Validated {
        batch_id: batch.batch_id,
        agent: batch.agent,
        sent_at: batch.sent_at,
        samples,
        events,
        sample_rejections,
        event_rejections,
    })
}

type Verdict = Result<&'static MetricSpec, (RejectReason, String)>;

/// One verdict per sample; the duplicate check borrows the samples, so it runs before they
/// are moved into the result.
fn judge_samples(samples: &[Sample], registry: &Registry, window: Window) -> Vec<Verdict> {
    let mut seen: HashSet<(&DeviceRef, &str, Option<&str>, UnixMs)> =
        HashSet::with_capacity(samples.len());
    samples
        .iter()
        .map(|s| {
            let spec = sample::check(s, registry, window)?;
            if seen.insert((&s.device, s.metric.as_str(), s.instance.as_deref(), s.ts)) {
                Ok(spec)
            } else {
                Err((
                    RejectReason::DuplicateSample,
                    format!(
                        "a sample of the same series at {} ms came earlier in the batch",
                        s.ts.0
                    ),
                ))
            }
        })
        .collect()
}

/// Rejects a device reference that can match no device; the server then looks up the rest.
fn check_device(device: &DeviceRef) -> Result<(), (RejectReason, String)> {
    let ok = match device {
        DeviceRef::Id(id) => *id > 0,
        DeviceRef::Name(name) => !name.is_empty() && name.chars().count() <= MAX_DEVICE_NAME_CHARS,
    };
    if ok {
        Ok(())
    } else {
        Err((
            RejectReason::UnknownDevice,
            format!("the device reference can match no device (ids are positive, names 1 to {MAX_DEVICE_NAME_CHARS} characters)"),
        ))
    }
}

/// Rejects a free-text field longer than `max` bytes.
fn check_len(field: &str, value: &str, max: usize) -> Result<(), (RejectReason, String)> {
    if value.len() > max {
        Err((
            RejectReason::TooLong,
            format!("{field} is {} bytes, over the limit of {max}", value.len()),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
