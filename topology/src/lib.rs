//! The dependency graph of the network model: which device, link, redundancy group and service
//! depends on which, whether each is up under a set of failures, and the blast radius of one.
//!
//! Pure logic: no I/O, no threads, no clocks, so it also compiles for wasm32.
//!
//! # Model
//!
//! - A **device** is a root (a core/upstream anchor marked by the caller, e.g. a core router
//!   with transit) or hangs below other devices through its **uplinks**.
//! - A **link** is directed: `add_uplink(link, upstream, downstream)` means "the downstream
//!   device depends on the upstream device through this link". An interface-level link is still
//!   one device↔device edge here.
//! - A **redundancy group** is a set of member links and/or devices with a [`Rule`].
//! - A **service** (a customer circuit) depends on devices, links, groups and other services.
//!
//! # States (what "up" means)
//!
//! Only devices and links fail directly ([`Failures`]); everything else is derived:
//!
//! - **link** up ⇔ not failed ∧ its upstream device is up (the downstream end does not matter:
//!   a link carries service *to* the downstream device).
//! - **group** up ⇔ its rule holds over its members' states: `Any` ⇔ ≥ 1 member up, `All` ⇔
//!   every member up, `KOfN(k)` ⇔ ≥ k members up. A link member's state is the link's state
//!   above; a device member's state is the device's state.
//! - **device** up ⇔ not failed ∧ (it is a root ∨ at least one of its *alternatives* is up).
//!   Its alternatives are each uplink that belongs to no group, and each group that contains at
//!   least one of its uplinks. So ungrouped uplinks are interchangeable paths, while grouped
//!   uplinks count only through their group: a device whose uplinks all sit in one `All` group
//!   needs all of them. A non-root device without uplinks is never up. A group that holds
//!   uplinks of several devices is an alternative of each of them, so each depends on all of
//!   its members (a member below one of those devices is then a cycle, and rejected).
//! - **service** up ⇔ every dependency is up (a group dependency uses the group's rule).
//!
//! Every rule is monotone: failing more can only take more down. That is what lets
//! [`Graph::downstream`] propagate a single failure instead of re-evaluating the graph.
//!
//! # Validity
//!
//! [`GraphBuilder::build`] rejects duplicate ids, references to missing objects, invalid groups
//! (no members, a member listed twice, `k = 0`, `k > n`), roots with uplinks, and any dependency
//! cycle (device → uplink → upstream device, device → group → member, service → dependency).
//! Redundant paths (a device with uplinks to two upstreams) are not cycles. Every message names
//! the objects by kind and name, because operators read them.

mod build;
mod csr;
mod error;
mod eval;
mod graph;
mod ids;
mod impact;
mod paths;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testkit;

pub use build::GraphBuilder;
pub use error::GraphError;
pub use eval::{Failures, State};
pub use graph::Graph;
pub use ids::{DeviceId, GroupId, LinkId, Member, Object, ObjectKind, Rule, ServiceId};
pub use impact::ObjectSet;
pub use paths::Hop;
