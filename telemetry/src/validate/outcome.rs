//! What validation gives back: the accepted samples and events, the rejections, and the
//! response built from them; and the hook for the server's own rejections.

use uuid::Uuid;

use crate::registry::MetricSpec;
use crate::response::{IngestResponse, RejectReason, RejectedSummary, Tally, MAX_EXAMPLES};
use crate::wire::{AgentInfo, Event, Sample, UnixMs};

/// Why one sample or event (by its index in the batch) was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: usize,
    pub reason: RejectReason,
    /// Names the sample, metric, device and what was wrong.
    pub message: String,
}

/// An accepted sample, with the spec of its metric (so the writer knows its kind).
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedSample {
    /// Its index in the batch's `samples`.
    pub index: usize,
    pub spec: &'static MetricSpec,
    pub sample: Sample,
}

/// An accepted event.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedEvent {
    /// Its index in the batch's `events`.
    pub index: usize,
    pub event: Event,
}

/// A batch after validation: what to write and what was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub batch_id: Uuid,
    pub agent: AgentInfo,
    pub sent_at: UnixMs,
    pub samples: Vec<AcceptedSample>,
    pub events: Vec<AcceptedEvent>,
    /// In index order.
    pub sample_rejections: Vec<Rejection>,
    /// In index order.
    pub event_rejections: Vec<Rejection>,
}

impl Validated {
    /// Rejects accepted samples for which `judge` returns a reason and message: the server's
    /// own checks (a device name or id unknown in the agent's tenant, a series limit).
    pub fn reject_samples(
        &mut self,
        mut judge: impl FnMut(&AcceptedSample) -> Option<(RejectReason, String)>,
    ) {
        let rejections = &mut self.sample_rejections;
        self.samples.retain(|accepted| match judge(accepted) {
            Some((reason, message)) => {
                rejections.push(Rejection {
                    index: accepted.index,
                    reason,
                    message,
                });
                false
            }
            None => true,
        });
        rejections.sort_by_key(|r| r.index);
    }

    /// Like [`Validated::reject_samples`], for events.
    pub fn reject_events(
        &mut self,
        mut judge: impl FnMut(&AcceptedEvent) -> Option<(RejectReason, String)>,
    ) {
        let rejections = &mut self.event_rejections;
        self.events.retain(|accepted| match judge(accepted) {
            Some((reason, message)) => {
                rejections.push(Rejection {
                    index: accepted.index,
                    reason,
                    message,
                });
                false
            }
            None => true,
        });
        rejections.sort_by_key(|r| r.index);
    }

    /// The 200 answer for this batch (not a duplicate).
    pub fn response(&self) -> IngestResponse {
        IngestResponse {
            batch_id: self.batch_id,
            duplicate: false,
            samples: tally(self.samples.len(), &self.sample_rejections),
            events: tally(self.events.len(), &self.event_rejections),
        }
    }
}

fn tally(accepted: usize, rejections: &[Rejection]) -> Tally {
    let mut tally = Tally {
        accepted: accepted as u64,
        ..Tally::default()
    };
    for rejection in rejections {
        let summary = tally
            .rejected
            .entry(rejection.reason)
            .or_insert_with(|| RejectedSummary {
                count: 0,
                examples: Vec::new(),
                message: rejection.message.clone(),
            });
        summary.count += 1;
        if summary.examples.len() < MAX_EXAMPLES {
            summary.examples.push(rejection.index);
        }
    }
    tally
}
