//! The answers of `POST /api/ingest/v1/batches`: [`IngestResponse`] (200, including partial
//! acceptance and duplicates) and [`ErrorResponse`] (every 4xx/5xx body).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How many rejected items of one reason a response lists by index.
pub const MAX_EXAMPLES: usize = 5;

/// Why one sample or event was rejected. Travels as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The metric is not in the registry.
    UnknownMetric,
    /// The device reference cannot match a device (an id ≤ 0, an empty or over-long name), or,
    /// assigned by the server, matches none of the agent's tenant.
    UnknownDevice,
    /// The timestamp is older than the accepted replay window.
    TooOld,
    /// The timestamp is ahead of the server's clock by more than the allowed skew.
    InFuture,
    /// The instance is missing, present where none is allowed, or not in its kind's format.
    BadInstance,
    /// A label the metric does not allow, or a label value too long or with control characters.
    BadLabel,
    /// A string for a numeric metric, a number for a state metric, or a `reason` on a number.
    WrongType,
    /// NaN, infinity, or `null`.
    NotFinite,
    /// Outside the metric's range (a negative counter, a percentage above 100).
    OutOfRange,
    /// A state the metric does not have.
    UnknownState,
    /// A free-text field (reason, message, topic, summary, user) over its length limit.
    TooLong,
    /// A second sample of the same series at the same timestamp in one batch (the first wins).
    DuplicateSample,
    /// An event kind this server does not know.
    UnknownKind,
    /// A required field of an event is empty or absent (a neighbour without its interface, or
    /// without any of identity, address and mac).
    MissingField,
    /// Assigned by the server: the sample would start a new series on a device that has reached
    /// its series limit (see [`crate::CardinalityLimits`]).
    TooManySeries,
    /// A reason this build does not know, read from a newer server's response. Never produced.
    #[serde(other)]
    Unrecognized,
}

impl RejectReason {
    /// Every reason this build produces, in order.
    pub const ALL: [RejectReason; 15] = [
        RejectReason::UnknownMetric,
        RejectReason::UnknownDevice,
        RejectReason::TooOld,
        RejectReason::InFuture,
        RejectReason::BadInstance,
        RejectReason::BadLabel,
        RejectReason::WrongType,
        RejectReason::NotFinite,
        RejectReason::OutOfRange,
        RejectReason::UnknownState,
        RejectReason::TooLong,
        RejectReason::DuplicateSample,
        RejectReason::UnknownKind,
        RejectReason::MissingField,
        RejectReason::TooManySeries,
    ];
}

/// The rejections of one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedSummary {
    pub count: u64,
    /// The first few indexes into the batch's `samples` (or `events`), ascending.
    pub examples: Vec<usize>,
    /// What was wrong with the first of them, naming the sample, metric and value.
    pub message: String,
}

/// Accepted and rejected counts for the samples, or the events, of one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub accepted: u64,
    #[serde(default)]
    pub rejected: BTreeMap<RejectReason, RejectedSummary>,
}

impl Tally {
    /// How many were rejected, all reasons together.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().map(|r| r.count).sum()
    }
}

/// The 200 answer to a batch.
///
/// A batch is accepted as a whole except for the samples and events listed in `rejected`,
/// which are dropped (an agent must not resend them: they would be rejected again). With
/// `duplicate: true` the batch id had already been accepted: nothing was written again and the
/// counts are zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    pub batch_id: Uuid,
    pub duplicate: bool,
    pub samples: Tally,
    pub events: Tally,
}

impl IngestResponse {
    /// The answer to a batch id seen before.
    pub fn duplicate(batch_id: Uuid) -> IngestResponse {
        IngestResponse {
            batch_id,
            duplicate: true,
            samples: Tally::default(),
            events: Tally::default(),
        }
    }
}

/// The body of every error status of the ingest route: a stable snake_case `error` code for
/// agents to match on and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_travel_as_snake_case_and_unknown_ones_still_parse() -> Result<(), serde_json::Error>
    {
        assert_eq!(
            serde_json::to_string(&RejectReason::NotFinite)?,
            r#""not_finite""#
        );
        let tally: Tally = serde_json::from_str(
            r#"{"accepted":1,"rejected":{"too_old":{"count":2,"examples":[0,3],"message":"m"},
                "reason_from_v1_9":{"count":1,"examples":[5],"message":"n"}}}"#,
        )?;
        let reasons: Vec<_> = tally.rejected.keys().copied().collect();
        assert_eq!(reasons, [RejectReason::TooOld, RejectReason::Unrecognized]);
        assert_eq!(tally.rejected_total(), 3);
        Ok(())
    }

    #[test]
    fn every_reason_has_a_distinct_name() -> Result<(), serde_json::Error> {
        let mut names = Vec::new();
        for reason in RejectReason::ALL {
            let name = serde_json::to_string(&reason)?;
            assert!(!names.contains(&name), "{name} twice");
            assert_ne!(
                serde_json::from_str::<RejectReason>(&name)?,
                RejectReason::Unrecognized
            );
            names.push(name);
        }
        Ok(())
    }

    #[test]
    fn a_duplicate_answer_has_zero_counts() -> Result<(), serde_json::Error> {
        let id = Uuid::from_u128(1);
        let json = serde_json::to_value(IngestResponse::duplicate(id))?;
        assert_eq!(
            json,
            serde_json::json!({
                "batch_id": "00000000-0000-0000-0000-000000000001",
                "duplicate": true,
                "samples": {"accepted": 0, "rejected": {}},
                "events": {"accepted": 0, "rejected": {}},
            })
        );
        Ok(())
    }
}
