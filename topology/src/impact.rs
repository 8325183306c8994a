//! Blast radius and dependency closures: what goes down if one object fails (`downstream`),
//! what depends on it at all (`dependents`), and what it depends on (`upstream_set`).

#[cfg(test)]
mod tests;

use crate::graph::Graph;
use crate::ids::{DeviceId, GroupId, LinkId, Object, ObjectKind, ServiceId};

/// A set of objects, one sorted list per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectSet {
    pub devices: Vec<DeviceId>,
    pub links: Vec<LinkId>,
    pub groups: Vec<GroupId>,
    pub services: Vec<ServiceId>,
}

impl ObjectSet {
    pub fn contains(&self, obj: impl Into<Object>) -> bool {
        match obj.into() {
            Object::Device(id) => self.devices.binary_search(&id).is_ok(),
            Object::Link(id) => self.links.binary_search(&id).is_ok(),
            Object::Group(id) => self.groups.binary_search(&id).is_ok(),
            Object::Service(id) => self.services.binary_search(&id).is_ok(),
        }
    }

    pub fn len(&self) -> usize {
        self.devices.len() + self.links.len() + self.groups.len() + self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every object: devices, then links, groups and services, each in id order.
    pub fn iter(&self) -> impl Iterator<Item = Object> + '_ {
        let devices = self.devices.iter().map(|&id| Object::Device(id));
        let links = self.links.iter().map(|&id| Object::Link(id));
        let groups = self.groups.iter().map(|&id| Object::Group(id));
        let services = self.services.iter().map(|&id| Object::Service(id));
        devices.chain(links).chain(groups).chain(services)
    }
}

impl Graph {
    /// The blast radius: every object that goes down if `obj` fails while everything else is
    /// as in the no-failure state, honouring redundancy (a device with another working uplink
    /// stays up). The failed object itself is not listed. A group or service "fails" by being
    /// forced down. `None` if the graph does not hold `obj`.
    ///
    /// Because every rule is monotone, a single failure only ever takes nodes down, each at most
    /// once: the walk follows the reverse edges from what went down and counts, per dependent,
    /// lost dependencies against its baseline slack (how many it could spare). Its cost is the
    /// size of the radius plus the edges leaving it, not the size of the graph.
    pub fn downstream(&self, obj: impl Into<Object>) -> Option<ObjectSet> {
        let start = self.node(obj.into())?;
        if !self.baseline_up[start] {
            // Already down with nothing failed: failing it changes nothing.
            return Some(ObjectSet::default());
        }
        // Zeroed memory costs only the pages touched, so small radii stay cheap.
        let mut lost = vec![0u32; self.layout.total()];
        let mut queue = vec![start];
        let mut down = Vec::new();
        while let Some(v) = queue.pop() {
            for &w in self.rdeps.row(v) {
                lost[w] += 1;
                // Goes down exactly when it loses one more than it could spare. Nodes already
                // down at baseline lose nothing that matters.
                if self.baseline_up[w] && lost[w] as usize == self.slack[w] + 1 {
                    down.push(w);
                    queue.push(w);
                }
            }
        }
        Some(self.collect(down))
    }

    /// Everything that depends on `obj` at all, transitively, whatever the redundancy: the
    /// objects whose state *could* change with it. A superset of [`Graph::downstream`];
    /// `obj` itself is not listed. `None` if the graph does not hold `obj`.
    pub fn dependents(&self, obj: impl Into<Object>) -> Option<ObjectSet> {
        let start = self.node(obj.into())?;
        Some(self.collect(self.closure(start, |v| self.rdeps.row(v))))
    }

    /// Everything `obj` depends on, transitively: for a device, every uplink and upstream
    /// device on every path to the roots, plus the members of the groups its uplinks are in.
    /// `obj` itself is not listed. `None` if the graph does not hold `obj`.
    pub fn upstream_set(&self, obj: impl Into<Object>) -> Option<ObjectSet> {
        let start = self.node(obj.into())?;
        Some(self.collect(self.closure(start, |v| self.deps.row(v))))
    }

    /// The nodes reachable from `start` along `next`, without `start`.
    fn closure<'a>(&'a self, start: usize, next: impl Fn(usize) -> &'a [usize]) -> Vec<usize> {
        let mut seen = vec![false; self.layout.total()];
        seen[start] = true;
        let mut stack = vec![start];
        let mut found = Vec::new();
        while let Some(v) = stack.pop() {
            for &w in next(v) {
                if !seen[w] {
                    seen[w] = true;
                    found.push(w);
                    stack.push(w);
                }
            }
        }
        found
    }

    /// Nodes to ids, sorted per kind.
    pub(crate) fn collect(&self, nodes: impl IntoIterator<Item = usize>) -> ObjectSet {
        let mut set = ObjectSet::default();
        for v in nodes {
            let id = self.ids[v];
            match self.layout.kind(v) {
                ObjectKind::Device => set.devices.push(DeviceId(id)),
                ObjectKind::Link => set.links.push(LinkId(id)),
                ObjectKind::Group => set.groups.push(GroupId(id)),
                ObjectKind::Service => set.services.push(ServiceId(id)),
            }
        }
        set.devices.sort_unstable();
        set.links.sort_unstable();
        set.groups.sort_unstable();
        set.services.sort_unstable();
        set
    }
}
