//! `Graph`: the validated, dense dependency graph, and lookups from ids to it.
//!
//! Every object is a node with a dense index, in one range per kind: devices first, then
//! links, groups and services. Ids are mapped to indices once, at the API boundary; the
//! algorithms see only indices and flat adjacency ([`Csr`]).

use std::collections::HashMap;

use crate::csr::Csr;
use crate::ids::{DeviceId, GroupId, LinkId, Object, ObjectKind, ServiceId};

/// How many nodes of each kind, hence where each kind's index range starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) devices: usize,
    pub(crate) links: usize,
    pub(crate) groups: usize,
    pub(crate) services: usize,
}

impl Layout {
    pub(crate) fn link_base(&self) -> usize {
        self.devices
    }

    pub(crate) fn group_base(&self) -> usize {
        self.devices + self.links
    }

    pub(crate) fn service_base(&self) -> usize {
        self.group_base() + self.groups
    }

    pub(crate) fn total(&self) -> usize {
        self.service_base() + self.services
    }

    pub(crate) fn kind(&self, node: usize) -> ObjectKind {
        if node < self.link_base() {
            ObjectKind::Device
        } else if node < self.group_base() {
            ObjectKind::Link
        } else if node < self.service_base() {
            ObjectKind::Group
        } else {
            ObjectKind::Service
        }
    }
}

/// The dependency graph, valid by construction (see [`crate::GraphBuilder::build`]).
///
/// Every node has a list of dependencies and a threshold `need`: it is up iff it is not failed
/// and at least `need` of its dependencies are up. This one rule covers every kind: a root needs
/// 0 (it has none), a non-root device 1 of its alternatives, a link 1 (its upstream device), a
/// group k of its members, and a service all of its dependencies.
#[derive(Debug, Clone)]
pub struct Graph {
    pub(crate) layout: Layout,
    /// Per node: the caller's id (the kind comes from the layout) and name.
    pub(crate) ids: Vec<i64>,
    pub(crate) names: Vec<String>,
    pub(crate) index: HashMap<Object, usize>,
    /// Per node: what it depends on (deduplicated), and the reverse.
    pub(crate) deps: Csr,
    pub(crate) rdeps: Csr,
    pub(crate) need: Vec<usize>,
    /// Every node, each after all of its dependencies.
    pub(crate) topo: Vec<usize>,
    /// Per device: its uplinks (link nodes), in the order they were added.
    pub(crate) uplinks: Csr,
    /// Per link (by position among links): its (upstream, downstream) devices.
    pub(crate) link_ends: Vec<(usize, usize)>,
    /// Per device: whether some chain of uplinks leads to a root.
    pub(crate) reaches_root: Vec<bool>,
    /// The state with nothing failed, and per node how many dependencies beyond `need` are up
    /// then. The blast radius starts from these instead of re-evaluating everything.
    pub(crate) baseline_up: Vec<bool>,
    pub(crate) slack: Vec<usize>,
}

impl Graph {
    pub fn device_count(&self) -> usize {
        self.layout.devices
    }

    pub fn link_count(&self) -> usize {
        self.layout.links
    }

    pub fn group_count(&self) -> usize {
        self.layout.groups
    }

    pub fn service_count(&self) -> usize {
        self.layout.services
    }

    /// Whether the graph holds this object.
    pub fn contains(&self, obj: impl Into<Object>) -> bool {
        self.index.contains_key(&obj.into())
    }

    /// The object's name, as given to the builder.
    pub fn name(&self, obj: impl Into<Object>) -> Option<&str> {
        let node = self.node(obj.into())?;
        Some(&self.names[node])
    }

    /// Every device, in the order they were added; likewise links, groups and services.
    pub fn devices(&self) -> impl Iterator<Item = DeviceId> + '_ {
        self.ids[..self.layout.link_base()]
            .iter()
            .map(|&id| DeviceId(id))
    }

    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.ids[self.layout.link_base()..self.layout.group_base()]
            .iter()
            .map(|&id| LinkId(id))
    }

    pub fn groups(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.ids[self.layout.group_base()..self.layout.service_base()]
            .iter()
            .map(|&id| GroupId(id))
    }

    pub fn services(&self) -> impl Iterator<Item = ServiceId> + '_ {
        self.ids[self.layout.service_base()..]
            .iter()
            .map(|&id| ServiceId(id))
    }

    /// Whether the device is a root (an anchor with no upstream).
    pub fn is_root(&self, device: DeviceId) -> Option<bool> {
        let node = self.node(device.into())?;
        Some(self.need[node] == 0)
    }

    /// The device's uplinks, in the order they were added.
    pub fn uplinks(&self, device: DeviceId) -> Option<Vec<LinkId>> {
        let node = self.node(device.into())?;
        Some(
            self.uplinks
                .row(node)
                .iter()
                .map(|&l| LinkId(self.ids[l]))
                .collect(),
        )
    }

    /// The link's (upstream, downstream) devices.
    pub fn link_ends(&self, link: LinkId) -> Option<(DeviceId, DeviceId)> {
        let node = self.node(link.into())?;
        let (upstream, downstream) = self.link_ends[node - self.layout.link_base()];
        Some((DeviceId(self.ids[upstream]), DeviceId(self.ids[downstream])))
    }

    pub(crate) fn node(&self, obj: Object) -> Option<usize> {
        self.index.get(&obj).copied()
    }

    pub(crate) fn object(&self, node: usize) -> Object {
        let id = self.ids[node];
        match self.layout.kind(node) {
            ObjectKind::Device => Object::Device(DeviceId(id)),
            ObjectKind::Link => Object::Link(LinkId(id)),
            ObjectKind::Group => Object::Group(GroupId(id)),
            ObjectKind::Service => Object::Service(ServiceId(id)),
        }
    }
}
