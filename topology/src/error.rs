//! `GraphError`: why a set of devices, links, groups and services is not a valid graph.
//!
//! Operators read these messages, so each names the objects by kind and name ("device core-1"),
//! or by kind and id when the object does not exist ("device #99").

use std::fmt;

use crate::ids::ObjectKind;

/// Why [`crate::GraphBuilder::build`] refused its input. The first problem found is reported;
/// checks run in a fixed order (ids, links, groups, services, cycles), so the answer is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// Two objects of one kind share an id.
    Duplicate {
        kind: ObjectKind,
        id: i64,
        /// The names of the first and the second object with that id.
        first: String,
        second: String,
    },
    /// An object refers to one that does not exist.
    Dangling {
        /// The referring object, e.g. "service acme-42".
        from: String,
        /// The missing object, e.g. "link #99".
        missing: String,
    },
    /// A group that could never be evaluated sensibly.
    InvalidGroup {
        /// The group, e.g. "group lag-agg-2".
        group: String,
        reason: String,
    },
    /// A device marked as a root (an anchor with no upstream) is the downstream end of a link.
    RootWithUplink { device: String, link: String },
    /// A dependency cycle. `path` lists the objects in dependency order ("a depends on b"),
    /// starting and ending with the same object, e.g. `["device agg-2", "link agg-2 up",
    /// "device core-1", "link core-1 up", "device agg-2"]`.
    Cycle { path: Vec<String> },
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::Duplicate {
                kind,
                id,
                first,
                second,
            } => write!(
                f,
                "duplicate {kind} id {id}: {kind} {first} and {kind} {second} both use it"
            ),
            GraphError::Dangling { from, missing } => {
                write!(f, "{from} refers to {missing}, which does not exist")
            }
            GraphError::InvalidGroup { group, reason } => write!(f, "invalid {group}: {reason}"),
            GraphError::RootWithUplink { device, link } => write!(
                f,
                "{device} is marked as a root but is the downstream end of {link}; \
                 a root has no upstream"
            ),
            GraphError::Cycle { path } => {
                write!(f, "dependency cycle: {}", path.join(" → "))
            }
        }
    }
}

impl std::error::Error for GraphError {}

/// "device core-1": how messages name an existing object.
pub(crate) fn label(kind: ObjectKind, name: &str) -> String {
    format!("{kind} {name}")
}
