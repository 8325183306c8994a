//! The checks of one event: device, timestamp, kind, then the kind's own fields.

use super::{check_device, check_len, Window};
use crate::registry::{MetricKind, Registry};
use crate::response::RejectReason;
use crate::shown;
use crate::wire::{Event, EventDetail};

use super::sample::MAX_REASON_BYTES;

/// Longest log message or config-change summary, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Most topics of a log line, and the longest topic in bytes.
pub const MAX_TOPICS: usize = 16;
pub const MAX_TOPIC_BYTES: usize = 64;
/// Longest user name of a config change, in bytes.
pub const MAX_USER_BYTES: usize = 100;

pub(super) fn check(
    event: &Event,
    registry: &Registry,
    window: Window,
) -> Result<(), (RejectReason, String)> {
    check_device(&event.device)?;
    window.check(event.ts)?;
    match &event.detail {
        EventDetail::Unknown => Err((
            RejectReason::UnknownKind,
            "the event kind is not one this server knows".to_owned(),
        )),
        EventDetail::StateChange {
            metric,
            instance,
            from,
            to,
            reason,
        } => {
            let Some(spec) = registry.get(metric) else {
                return Err((
                    RejectReason::UnknownMetric,
                    format!("metric {} is not in the registry", shown(metric)),
                ));
            };
            let MetricKind::State(states) = spec.kind else {
                return Err((
                    RejectReason::WrongType,
                    format!(
                        "a state change needs a state metric, and {} is a {}",
                        spec.name,
                        spec.kind.as_str()
                    ),
                ));
            };
            spec.instance
                .check(instance.as_deref())
                .map_err(|problem| {
                    (
                        RejectReason::BadInstance,
                        format!("metric {} {problem}", spec.name),
                    )
                })?;
            for state in from.iter().chain([to]) {
                if !states.contains(&state.as_str()) {
                    return Err((
                        RejectReason::UnknownState,
                        format!(
                            "{} is not a state of {} ({})",
                            shown(state),
                            spec.name,
                            states.join(", ")
                        ),
                    ));
                }
            }
            match reason {
                Some(reason) => check_len("reason", reason, MAX_REASON_BYTES),
                None => Ok(()),
            }
        }
        EventDetail::Log { topics, message } => {
            if topics.len() > MAX_TOPICS {
                return Err((
                    RejectReason::TooLong,
                    format!("{} topics, over the limit of {MAX_TOPICS}", topics.len()),
                ));
            }
            for topic in topics {
                check_len("a topic", topic, MAX_TOPIC_BYTES)?;
            }
            check_len("message", message, MAX_MESSAGE_BYTES)
        }
        EventDetail::ConfigChange { user, summary } => {
            if let Some(user) = user {
                check_len("user", user, MAX_USER_BYTES)?;
            }
            check_len("summary", summary, MAX_MESSAGE_BYTES)
        }
    }
}
