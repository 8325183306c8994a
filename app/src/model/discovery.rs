//! Link discovery: the routers' neighbour tables (`/ip/neighbor`) turned into proposed links
//! for the inventory's review. Pure: `db::discovery` loads the rows, [`propose`] matches them.
//!
//! The remote end of a neighbour is the inventory device whose name is its identity
//! (case-insensitive), else the one device whose management address is its address. Sightings
//! of one connection from both ends are one proposal. A proposal is `new` (no link between the
//! two devices), `matches` (a link agrees at the interfaces the routers name), `differs` (links
//! exist, none at those interfaces: accepting replaces one, only on explicit action) or
//! `unknown` (the remote is not in the inventory).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::device::{DeviceId, DeviceRole};
use crate::model::link::{LinkId, LinkKind};
use crate::model::string_enum;

string_enum!(
    /// What accepting a proposal would do.
    ProposalState, field = "state", {
        /// No link between the two devices yet.
        New => "new",
        /// A link exists and agrees: nothing to do.
        Matches => "matches",
        /// Links exist between the devices, none at these interfaces.
        Differs => "differs",
        /// The remote end is not in the inventory.
        Unknown => "unknown",
    }
);

/// One row of `discovered_neighbor` as the review reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub id: i64,
    pub device: DeviceId,
    pub interface: String,
    pub identity: String,
    pub address: String,
    pub mac: String,
    pub platform: String,
    pub board: String,
    pub remote_interface: String,
    pub last_seen: String,
    pub dismissed: bool,
}

/// A device as the matching needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub id: DeviceId,
    pub name: String,
    pub role: DeviceRole,
    /// The management address without a prefix length (`10.0.0.1`).
    pub mgmt_address: String,
}

/// A link of the inventory by its ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownLink {
    pub id: LinkId,
    pub a_device: DeviceId,
    pub a_interface: Option<String>,
    pub b_device: DeviceId,
    pub b_interface: Option<String>,
    pub label: String,
}

/// One end of a proposal: an inventory device, or (for `unknown`) what the neighbour says of
/// itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    pub device: Option<DeviceId>,
    pub name: String,
    pub interface: Option<String>,
}

/// A link the neighbour tables suggest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The smallest id of its neighbour rows: what the review's forms post.
    pub key: i64,
    pub state: ProposalState,
    /// Oriented as accepting would create it: `b` depends on `a` unless `upstream` is false.
    pub a: End,
    pub b: End,
    pub upstream: bool,
    pub kind: LinkKind,
    /// The link that matches (`matches`) or would be replaced (`differs`).
    pub link: Option<(LinkId, String)>,
    /// Heard from both ends.
    pub both_ends: bool,
    /// The remote's own description (address, MAC, platform, board), for `unknown`.
    pub remote: String,
    pub last_seen: String,
    pub dismissed: bool,
    /// The neighbour rows it was made from.
    pub neighbors: Vec<i64>,
}

/// The review page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Not dismissed, `differs` first, then `new`, `unknown`, `matches`.
    pub proposals: Vec<Proposal>,
    /// How many are hidden by a dismissal.
    pub dismissed: usize,
    /// The caller may accept and dismiss (admins and operators).
    pub can_review: bool,
}

/// How far from the core a role sits: edges (the upstream border) first, customers last. The
/// nearer end of a link is its `a` end; equal roles make a peer link.
fn rank(role: DeviceRole) -> u8 {
    match role {
        DeviceRole::Edge => 0,
        DeviceRole::Core => 1,
        DeviceRole::Aggregation => 2,
        DeviceRole::Access => 3,
        DeviceRole::Cpe => 4,
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A connection seen from one or both ends: two devices (`ends[0]` the smaller id), each with
/// its interface if known.
struct Sighting {
    ends: [(DeviceId, Option<String>); 2],
    rows: Vec<usize>,
}

impl Sighting {
    /// Merges `other` in when it is the same connection: the same devices, and at each end the
    /// same interface or one not known.
    fn absorb(&mut self, other: &Sighting) -> bool {
        let fits = self.ends.iter().zip(&other.ends).all(|(a, b)| {
            a.0 == b.0
                && match (&a.1, &b.1) {
                    (Some(x), Some(y)) => same(x, y),
                    _ => true,
                }
        });
        if fits {
            for (mine, theirs) in self.ends.iter_mut().zip(&other.ends) {
                if mine.1.is_none() {
                    mine.1.clone_from(&theirs.1);
                }
            }
            self.rows.extend(&other.rows);
        }
        fits
    }
}

/// The remote device of a neighbour: by identity, else by a management address only one
/// device has.
fn remote_of<'d>(n: &Neighbor, devices: &'d [KnownDevice]) -> Option<&'d KnownDevice> {
    if !n.identity.is_empty() {
        if let Some(d) = devices.iter().find(|d| same(&d.name, &n.identity)) {
            return Some(d);
        }
    }
    if n.address.is_empty() {
        return None;
    }
    let mut by_address = devices.iter().filter(|d| d.mgmt_address == n.address);
    match (by_address.next(), by_address.next()) {
        (Some(d), None) => Some(d),
        _ => None,
    }
}

/// Turns neighbour rows into proposals (dismissed ones included, marked).
pub fn propose(
    neighbors: &[Neighbor],
    devices: &[KnownDevice],
    links: &[KnownLink],
) -> Vec<Proposal> {
    let by_id: HashMap<DeviceId, &KnownDevice> = devices.iter().map(|d| (d.id, d)).collect();
    let mut sightings: Vec<Sighting> = Vec::new();
    let mut proposals = Vec::new();
    for (i, n) in neighbors.iter().enumerate() {
        let Some(local) = by_id.get(&n.device) else {
            continue;
        };
        let Some(remote) = remote_of(n, devices) else {
            proposals.push(unknown(n, local));
            continue;
        };
        if remote.id == local.id {
            // A device hearing itself (a loop through a switch) proposes nothing.
            continue;
        }
        let here = (local.id, Some(n.interface.clone()));
        let there = (
            remote.id,
            (!n.remote_interface.is_empty()).then(|| n.remote_interface.clone()),
        );
        let ends = if here.0 .0 < there.0 .0 {
            [here, there]
        } else {
            [there, here]
        };
        let new = Sighting {
            ends,
            rows: vec![i],
        };
        if !sightings.iter_mut().any(|s| s.absorb(&new)) {
            sightings.push(new);
        }
    }
    for s in sightings {
        proposals.push(known(&s, neighbors, &by_id, links));
    }
    proposals.sort_by_key(|p| {
        let order = match p.state {
            ProposalState::Differs => 0,
            ProposalState::New => 1,
            ProposalState::Unknown => 2,
            ProposalState::Matches => 3,
        };
        (
            order,
            p.a.name.to_lowercase(),
            p.b.name.to_lowercase(),
            p.key,
        )
    });
    proposals
}

fn unknown(n: &Neighbor, local: &KnownDevice) -> Proposal {
    let name = if n.identity.is_empty() {
        n.mac.clone()
    } else {
        n.identity.clone()
    };
    let remote = [
        ("address", &n.address),
        ("mac", &n.mac),
        ("platform", &n.platform),
        ("board", &n.board),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k} {v}"))
    .collect::<Vec<_>>()
    .join(", ");
    Proposal {
        key: n.id,
        state: ProposalState::Unknown,
        a: End {
            device: Some(local.id),
            name: local.name.clone(),
            interface: Some(n.interface.clone()),
        },
        b: End {
            device: None,
            name,
            interface: (!n.remote_interface.is_empty()).then(|| n.remote_interface.clone()),
        },
        upstream: false,
        kind: LinkKind::Physical,
        link: None,
        both_ends: false,
        remote,
        last_seen: n.last_seen.clone(),
        dismissed: n.dismissed,
        neighbors: vec![n.id],
    }
}

fn known(
    s: &Sighting,
    neighbors: &[Neighbor],
    by_id: &HashMap<DeviceId, &KnownDevice>,
    links: &[KnownLink],
) -> Proposal {
    let rows: Vec<&Neighbor> = s.rows.iter().map(|&i| &neighbors[i]).collect();
    let iface_at = |device: DeviceId| {
        s.ends
            .iter()
            .find(|e| e.0 == device)
            .and_then(|e| e.1.clone())
    };
    // A link agrees when, at each end, it has the interface the routers name (an end no
    // router named agrees with anything).
    let agrees = |l: &KnownLink| {
        [(l.a_device, &l.a_interface), (l.b_device, &l.b_interface)]
            .iter()
            .all(|(d, li)| match (iface_at(*d), li) {
                (None, _) => true,
                (Some(want), Some(have)) => same(&want, have),
                (Some(_), None) => false,
            })
    };
    let between: Vec<&KnownLink> = links
        .iter()
        .filter(|l| {
            let pair = [l.a_device, l.b_device];
            pair.contains(&s.ends[0].0) && pair.contains(&s.ends[1].0)
        })
        .collect();
    let (state, link) = match between.iter().find(|l| agrees(l)) {
        Some(l) => (ProposalState::Matches, Some(*l)),
        None => match between.iter().min_by_key(|l| l.id.0) {
            Some(l) => (ProposalState::Differs, Some(*l)),
            None => (ProposalState::New, None),
        },
    };
    let end = |(device, iface): &(DeviceId, Option<String>)| End {
        device: Some(*device),
        name: by_id
            .get(device)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        interface: iface.clone(),
    };
    let role = |i: usize| by_id.get(&s.ends[i].0).map_or(u8::MAX, |d| rank(d.role));
    let (a, b, upstream) = match role(0).cmp(&role(1)) {
        std::cmp::Ordering::Less => (end(&s.ends[0]), end(&s.ends[1]), true),
        std::cmp::Ordering::Greater => (end(&s.ends[1]), end(&s.ends[0]), true),
        std::cmp::Ordering::Equal => (end(&s.ends[0]), end(&s.ends[1]), false),
    };
    let wireless = [&a.interface, &b.interface].iter().any(|i| {
        i.as_deref().is_some_and(|i| {
            let i = i.to_ascii_lowercase();
            i.starts_with("wlan") || i.starts_with("wifi")
        })
    });
    let mut ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    let from: Vec<DeviceId> = rows.iter().map(|n| n.device).collect();
    Proposal {
        key: ids.first().copied().unwrap_or_default(),
        state,
        a,
        b,
        upstream,
        kind: if wireless {
            LinkKind::Wireless
        } else {
            LinkKind::Physical
        },
        link: link.map(|l| (l.id, l.label.clone())),
        both_ends: s.ends.iter().all(|e| from.contains(&e.0)),
        remote: String::new(),
        last_seen: rows
            .iter()
            .map(|n| n.last_seen.clone())
            .max()
            .unwrap_or_default(),
        dismissed: rows.iter().all(|n| n.dismissed),
        neighbors: ids,
    }
}

#[cfg(test)]
mod tests;
