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
/// Longest interface name of a neighbour (ours or its), in bytes: the inventory's limit.
pub const MAX_NEIGHBOR_INTERFACE_BYTES: usize = 100;
/// Longest identity, platform or board of a neighbour, in bytes.
pub const MAX_NEIGHBOR_TEXT_BYTES: usize = 255;
/// Longest address or MAC address of a neighbour, in bytes (an IPv6 address with a zone fits).
pub const MAX_NEIGHBOR_ADDRESS_BYTES: usize = 64;
/// Most discovery protocols of a neighbour, and the longest name of one, in bytes.
pub const MAX_NEIGHBOR_PROTOCOLS: usize = 8;
pub const MAX_NEIGHBOR_PROTOCOL_BYTES: usize = 16;

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
        EventDetail::Neighbor {
            interface,
            identity,
            address,
            mac,
            platform,
            board,
            remote_interface,
            protocols,
        } => check_neighbor(
            [
                ("interface", interface, MAX_NEIGHBOR_INTERFACE_BYTES),
                ("identity", identity, MAX_NEIGHBOR_TEXT_BYTES),
                ("address", address, MAX_NEIGHBOR_ADDRESS_BYTES),
                ("mac", mac, MAX_NEIGHBOR_ADDRESS_BYTES),
                ("platform", platform, MAX_NEIGHBOR_TEXT_BYTES),
                ("board", board, MAX_NEIGHBOR_TEXT_BYTES),
                (
                    "remote_interface",
                    remote_interface,
                    MAX_NEIGHBOR_INTERFACE_BYTES,
                ),
            ],
            protocols,
        ),
    }
}

/// A neighbour names the interface it was heard on and something that tells who it is; its
/// fields are single-line text within their limits.
fn check_neighbor(
    fields: [(&str, &String, usize); 7],
    protocols: &[String],
) -> Result<(), (RejectReason, String)> {
    let [interface, identity, address, mac, ..] = &fields;
    if interface.1.is_empty() {
        return Err((
            RejectReason::MissingField,
            "a neighbour needs its interface".to_owned(),
        ));
    }
    if [identity, address, mac].iter().all(|f| f.1.is_empty()) {
        return Err((
            RejectReason::MissingField,
            "a neighbour needs one of identity, address or mac".to_owned(),
        ));
    }
    for (name, value, max) in fields {
        check_len(name, value, max)?;
        if value.chars().any(char::is_control) {
            return Err((
                RejectReason::BadLabel,
                format!("{name} has control characters"),
            ));
        }
    }
    if protocols.len() > MAX_NEIGHBOR_PROTOCOLS {
        return Err((
            RejectReason::TooLong,
            format!(
                "{} protocols, over the limit of {MAX_NEIGHBOR_PROTOCOLS}",
                protocols.len()
            ),
        ));
    }
    for protocol in protocols {
        check_len("a protocol", protocol, MAX_NEIGHBOR_PROTOCOL_BYTES)?;
    }
    Ok(())
}
