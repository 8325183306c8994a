//! The agent↔server ingest contract, v1: the metric registry, the wire format of
//! `POST /api/ingest/v1/batches`, and its validation. `docs/metrics.md` is the readable form;
//! tests keep the two in step.
//!
//! Pure and small: no I/O, no async runtime, no clock (the caller passes `now`), so the edge
//! agent, the server and wasm32 all link it.
//!
//! # Semantics in one screen
//!
//! - A **series** is (device, metric, instance). The [`Registry`] says, per metric, its
//!   [`MetricKind`] (gauge, counter sent raw and turned into a rate by the server, or state with
//!   its allowed values), [`Unit`], [`InstanceKind`] and allowed labels. Labels are attributes
//!   of the series, not part of its identity.
//! - A [`Batch`] carries samples and [`Event`]s. Times are Unix milliseconds ([`UnixMs`]); a
//!   device is its inventory id (or name, [`DeviceRef`]).
//! - [`validate`] refuses a whole batch only for batch-level problems ([`BatchError`]); else the
//!   batch is accepted except for the samples and events it rejects, each with one
//!   [`RejectReason`]. [`IngestResponse`] reports the counts. The `batch_id` makes a retry
//!   idempotent (the server answers [`IngestResponse::duplicate`]).
//! - Versioning: additive changes only within v1; unknown fields, event kinds and rejection
//!   reasons are tolerated by both sides.

pub mod assignment;
mod cardinality;
pub mod enroll;
mod instance;
pub mod probe;
mod registry;
mod response;
mod validate;
mod wire;

#[cfg(test)]
mod doc_tests;
#[cfg(test)]
mod proptests;

pub use cardinality::{CardinalityLimits, SeriesLimitExceeded};
pub use instance::{InstanceKind, MAX_INSTANCE_BYTES, PROBES};
pub use registry::{MetricKind, MetricSpec, Registry, RegistryError, Unit};
pub use response::{
    ErrorResponse, IngestResponse, RejectReason, RejectedSummary, Tally, MAX_EXAMPLES,
};
pub use validate::event::{
    MAX_MESSAGE_BYTES, MAX_NEIGHBOR_ADDRESS_BYTES, MAX_NEIGHBOR_INTERFACE_BYTES,
    MAX_NEIGHBOR_PROTOCOLS, MAX_NEIGHBOR_PROTOCOL_BYTES, MAX_NEIGHBOR_TEXT_BYTES, MAX_TOPICS,
    MAX_TOPIC_BYTES, MAX_USER_BYTES,
};
pub use validate::sample::{MAX_LABEL_VALUE_BYTES, MAX_REASON_BYTES};
pub use validate::{
    validate, AcceptedEvent, AcceptedSample, BatchError, Limits, Rejection, Validated,
    MAX_AGENT_FIELD_CHARS,
};
pub use wire::{
    AgentInfo, Batch, DeviceRef, Event, EventDetail, Sample, UnixMs, Value, MAX_DEVICE_NAME_CHARS,
};

/// The route of ingest v1, relative to the server's base URL.
pub const INGEST_PATH: &str = "/api/ingest/v1/batches";

/// A client-supplied string as shown in a message: quoted, and cut at 64 characters so a
/// megabyte-long metric name cannot make a megabyte-long response.
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}
