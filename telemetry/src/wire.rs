//! The ingest v1 request body (`POST /api/ingest/v1/batches`): a [`Batch`] of samples and events.
//!
//! Versioning rule: within v1 only additive changes are allowed (a new optional field, a new
//! metric, event kind or rejection reason). Unknown fields are ignored, never refused, so an
//! older server takes a newer agent's batches and a newer server an older agent's. A change that
//! would make an old agent's batch mean something else needs `/api/ingest/v2`.

mod serde_impls;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::validate::BatchError;

/// A point in time as milliseconds since the Unix epoch, UTC. On the wire it is a plain JSON
/// integer: compact, cheap to parse for 10,000 samples, and exact for PostgreSQL's `timestamptz`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

impl UnixMs {
    /// The instant truncated to whole milliseconds.
    pub fn from_datetime(at: OffsetDateTime) -> UnixMs {
        let ms = at.unix_timestamp_nanos().div_euclid(1_000_000);
        // OffsetDateTime spans ±9999 years, far inside i64 milliseconds.
        UnixMs(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    /// The instant, or `None` outside the years ±9999 that `time` represents.
    pub fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()
    }
}

/// The longest device name, in characters (the inventory's limit).
pub const MAX_DEVICE_NAME_CHARS: usize = 100;

/// The device a sample is about. On the wire a JSON number is the inventory id and a string is
/// the device name (unique per tenant, case-insensitive); agents send the id, which they get
/// with their device assignments, and the name is for scripts and devices not yet synced.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceRef {
    Id(i64),
    Name(String),
}

impl fmt::Display for DeviceRef {
    /// `42`, or the name quoted (and cut, if long), for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceRef::Id(id) => write!(f, "{id}"),
            DeviceRef::Name(name) => f.write_str(&crate::shown(name)),
        }
    }
}

/// A sample's value: a number for gauges and counters, a state name for state metrics.
///
/// JSON has no NaN or infinity, and serde_json writes them as `null`; so `null` decodes to
/// `Number(NaN)` and that one sample is rejected as `not_finite` instead of the whole batch
/// failing to parse.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    State(String),
}

/// The agent that sent a batch. The server identifies the agent by its credential; these fields
/// are for logs and the agent's status page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// The name the agent was enrolled with.
    pub name: String,
    /// The agent's software version (`0.3.1`).
    pub version: String,
}

/// One measurement of one series, (device, metric, instance), at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub device: DeviceRef,
    pub metric: String,
    /// Absent for device-wide metrics; see the metric's instance kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// When it was measured (the agent's clock, which should run NTP).
    pub ts: UnixMs,
    pub value: Value,
    /// Why: only on state metrics, e.g. `up` = `down` because of `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attributes of the series, from the metric's allowed labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Something that happened on a device at a moment, rather than a level over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub device: DeviceRef,
    pub ts: UnixMs,
    #[serde(flatten)]
    pub detail: EventDetail,
}

/// What happened, tagged by `kind` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventDetail {
    /// A state metric changed between polls, seen by the device itself (a log line, netwatch's
    /// `since`); carries the exact time the polls cannot give.
    StateChange {
        metric: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A device log line; `topics` as RouterOS gives them (`["system", "error", "critical"]`).
    Log {
        #[serde(default)]
        topics: Vec<String>,
        message: String,
    },
    /// The device's configuration changed (by `user`, if known).
    ConfigChange {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        summary: String,
    },
    /// One row of the device's neighbour table (`/ip/neighbor`: MNDP, LLDP, CDP), sent for every
    /// row on each neighbour poll. Field names follow RouterOS (`interface-name` is
    /// `remote_interface`, `discovered-by` is `protocols`); every field but `interface` may be
    /// empty, as the protocols fill different ones, so all default to empty and validation
    /// requires `interface` and one of `identity`, `mac`, `address`.
    Neighbor {
        /// The device's own interface the neighbour was heard on.
        #[serde(default)]
        interface: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        identity: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        address: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        mac: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        platform: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        board: String,
        /// The neighbour's interface facing this device (LLDP and MNDP tell it).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        remote_interface: String,
        /// The discovery protocols that saw it (`["cdp", "lldp", "mndp"]`; v7 only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        protocols: Vec<String>,
    },
    /// A kind this build does not know (sent by a newer agent): rejected alone as
    /// `unknown_kind`, the rest of the batch is kept.
    #[serde(other)]
    Unknown,
}

/// One request body of `POST /api/ingest/v1/batches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Chosen by the agent when it seals the batch into its buffer, and kept across retries: a
    /// batch sent again is answered `duplicate: true` and written once.
    pub batch_id: Uuid,
    pub agent: AgentInfo,
    /// When the agent sent it (its clock); the server compares it with its own to show the
    /// agent's clock skew. It does not shift sample times.
    pub sent_at: UnixMs,
    #[serde(default)]
    pub samples: Vec<Sample>,
    #[serde(default)]
    pub events: Vec<Event>,
}

impl Batch {
    /// Decodes a (decompressed) JSON body; the error quotes serde's line, column and reason.
    pub fn from_json(body: &[u8]) -> Result<Batch, BatchError> {
        serde_json::from_slice(body).map_err(|e| BatchError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_ms_converts_both_ways_and_truncates_to_milliseconds() {
        let at = time::macros::datetime!(2026-11-27 23:30:00.123_456 UTC);
        let ms = UnixMs::from_datetime(at);
        assert_eq!(ms, UnixMs(1_795_822_200_123));
        assert_eq!(
            ms.to_datetime(),
            Some(time::macros::datetime!(2026-11-27 23:30:00.123 UTC))
        );
        let before_1970 =
            UnixMs::from_datetime(time::macros::datetime!(1969-12-31 23:59:59.9995 UTC));
        assert_eq!(before_1970, UnixMs(-1));
        assert_eq!(UnixMs(i64::MAX).to_datetime(), None);
    }

    #[test]
    fn device_and_value_travel_as_plain_json_scalars() -> Result<(), serde_json::Error> {
        let sample: Sample = serde_json::from_str(
            r#"{"device":"core-1","metric":"up","ts":5,"value":"down","reason":"timeout"}"#,
        )?;
        assert_eq!(sample.device, DeviceRef::Name("core-1".into()));
        assert_eq!(sample.value, Value::State("down".into()));
        let sample: Sample =
            serde_json::from_str(r#"{"device":7,"metric":"cpu_load_percent","ts":5,"value":12}"#)?;
        assert_eq!(sample.device, DeviceRef::Id(7));
        assert_eq!(sample.value, Value::Number(12.0));
        assert_eq!(
            serde_json::to_string(&sample)?,
            r#"{"device":7,"metric":"cpu_load_percent","ts":5,"value":12}"#
        );
        Ok(())
    }

    #[test]
    fn whole_numbers_travel_as_exact_integers() -> Result<(), serde_json::Error> {
        // 2^53 + 2 and a counter near 2^63: exact as JSON integers, one ulp off as "….0".
        for v in [
            9_007_199_254_740_994.0,
            9.223_372_036_854_775e18,
            -5.0,
            0.25,
        ] {
            let json = serde_json::to_string(&Value::Number(v))?;
            assert_eq!(
                serde_json::from_str::<Value>(&json)?,
                Value::Number(v),
                "{json}"
            );
        }
        assert_eq!(serde_json::to_string(&Value::Number(1e19))?, "1e+19");
        Ok(())
    }

    #[test]
    fn nan_goes_out_as_null_and_comes_back_as_nan() -> Result<(), serde_json::Error> {
        let json = serde_json::to_string(&Value::Number(f64::INFINITY))?;
        assert_eq!(json, "null");
        let back: Value = serde_json::from_str(&json)?;
        assert!(matches!(back, Value::Number(v) if v.is_nan()));
        Ok(())
    }

    #[test]
    fn wrong_scalar_types_fail_with_a_message() {
        let err = serde_json::from_str::<Value>("true").map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("invalid type: boolean `true`, expected a number, a state name or null at line 1 column 4".into())
        );
        let err = serde_json::from_str::<DeviceRef>("1.5").map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("invalid type: floating point `1.5`, expected a device id (integer) or name (string) at line 1 column 3"
                .into())
        );
    }

    #[test]
    fn events_are_tagged_by_kind_and_unknown_kinds_still_parse() -> Result<(), serde_json::Error> {
        let event: Event = serde_json::from_str(
            r#"{"device":3,"ts":9,"kind":"log","topics":["system","error"],"message":"x"}"#,
        )?;
        assert_eq!(
            event.detail,
            EventDetail::Log {
                topics: vec!["system".into(), "error".into()],
                message: "x".into()
            }
        );
        let event: Event =
            serde_json::from_str(r#"{"device":3,"ts":9,"kind":"reboot","cause":"watchdog"}"#)?;
        assert_eq!(event.detail, EventDetail::Unknown);
        Ok(())
    }

    #[test]
    fn neighbor_events_default_missing_fields_to_empty() -> Result<(), serde_json::Error> {
        let event: Event = serde_json::from_str(
            r#"{"device":3,"ts":9,"kind":"neighbor","interface":"ether1","identity":"core-1","protocols":["lldp"]}"#,
        )?;
        let EventDetail::Neighbor {
            interface,
            identity,
            mac,
            protocols,
            ..
        } = &event.detail
        else {
            panic!("not a neighbour: {:?}", event.detail);
        };
        assert_eq!(
            (interface.as_str(), identity.as_str(), mac.as_str()),
            ("ether1", "core-1", "")
        );
        assert_eq!(protocols, &["lldp".to_owned()]);
        assert_eq!(
            serde_json::to_string(&event)?,
            r#"{"device":3,"ts":9,"kind":"neighbor","interface":"ether1","identity":"core-1","protocols":["lldp"]}"#
        );
        Ok(())
    }

    #[test]
    fn a_malformed_body_names_the_place_and_the_problem() {
        let err = Batch::from_json(br#"{"batch_id":"","agent":{"name":"a","version":"1"}}"#);
        assert!(
            matches!(&err, Err(BatchError::Malformed(m)) if m.contains("UUID") && m.contains("column")),
            "{err:?}"
        );
    }
}
