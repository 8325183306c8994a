//! Up/down states under a set of failures: all nodes in one topological pass (`evaluate`), or
//! one object by evaluating only what it depends on (`is_up`, `device_up`, `group_up`).

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use crate::graph::Graph;
use crate::ids::{DeviceId, GroupId, LinkId, Object, ObjectKind, ServiceId};
use crate::impact::ObjectSet;

/// The devices and links that have failed. Ids the graph does not hold are ignored: inventory
/// and monitoring data can briefly disagree, and a failure of nothing takes nothing down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    pub devices: HashSet<DeviceId>,
    pub links: HashSet<LinkId>,
}

impl Failures {
    /// Nothing failed.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn device(mut self, id: DeviceId) -> Self {
        self.devices.insert(id);
        self
    }

    pub fn link(mut self, id: LinkId) -> Self {
        self.links.insert(id);
        self
    }

    fn contains(&self, obj: Object) -> bool {
        match obj {
            Object::Device(id) => self.devices.contains(&id),
            Object::Link(id) => self.links.contains(&id),
            Object::Group(_) | Object::Service(_) => false,
        }
    }
}

/// The state of every object under one set of failures, from [`Graph::evaluate`].
#[derive(Debug, Clone)]
pub struct State<'g> {
    graph: &'g Graph,
    up: Vec<bool>,
}

impl State<'_> {
    /// Whether the object is up; `None` if the graph does not hold it.
    pub fn is_up(&self, obj: impl Into<Object>) -> Option<bool> {
        self.graph.node(obj.into()).map(|v| self.up[v])
    }

    pub fn device(&self, id: DeviceId) -> Option<bool> {
        self.is_up(id)
    }

    pub fn link(&self, id: LinkId) -> Option<bool> {
        self.is_up(id)
    }

    pub fn group(&self, id: GroupId) -> Option<bool> {
        self.is_up(id)
    }

    pub fn service(&self, id: ServiceId) -> Option<bool> {
        self.is_up(id)
    }

    /// Every object that is down.
    pub fn down(&self) -> ObjectSet {
        self.graph
            .collect((0..self.up.len()).filter(|&v| !self.up[v]))
    }

    /// Every object up in `before` and down now: with `before` the no-failure state, what the
    /// failures took down (the failed objects included). Both must come from the same graph.
    pub fn went_down_since(&self, before: &State<'_>) -> ObjectSet {
        self.graph.collect(
            (0..self.up.len().min(before.up.len())).filter(|&v| before.up[v] && !self.up[v]),
        )
    }
}

impl Graph {
    /// The state of every object under `failures`, in one pass over the topological order:
    /// O(V + E) plus one hash lookup per failure.
    pub fn evaluate(&self, failures: &Failures) -> State<'_> {
        let mut failed = vec![false; self.layout.total()];
        let ids = failures
            .devices
            .iter()
            .map(|&id| Object::Device(id))
            .chain(failures.links.iter().map(|&id| Object::Link(id)));
        for obj in ids {
            if let Some(v) = self.node(obj) {
                failed[v] = true;
            }
        }
        State {
            graph: self,
            up: self.evaluate_dense(&failed),
        }
    }

    /// Whether one object is up under `failures`, evaluating only what it depends on (its
    /// upstream cone); `None` if the graph does not hold it. For many objects, `evaluate` once.
    pub fn is_up(&self, obj: impl Into<Object>, failures: &Failures) -> Option<bool> {
        let start = self.node(obj.into())?;
        Some(self.up_in_cone(start, failures))
    }

    pub fn device_up(&self, id: DeviceId, failures: &Failures) -> Option<bool> {
        self.is_up(id, failures)
    }

    pub fn link_up(&self, id: LinkId, failures: &Failures) -> Option<bool> {
        self.is_up(id, failures)
    }

    pub fn group_up(&self, id: GroupId, failures: &Failures) -> Option<bool> {
        self.is_up(id, failures)
    }

    pub fn service_up(&self, id: ServiceId, failures: &Failures) -> Option<bool> {
        self.is_up(id, failures)
    }

    /// The core rule, over dense failure flags: a node is up iff it is not failed and at least
    /// `need` of its dependencies are up. The topological order settles dependencies first.
    pub(crate) fn evaluate_dense(&self, failed: &[bool]) -> Vec<bool> {
        let mut up = vec![false; self.layout.total()];
        for &v in &self.topo {
            if !failed[v] {
                let alive = self.deps.row(v).iter().filter(|&&d| up[d]).count();
                up[v] = alive >= self.need[v];
            }
        }
        up
    }

    /// Depth-first over the dependencies of `start`, settling each node after its
    /// dependencies. Only the cone is visited; the memo is zeroed memory, which costs no more
    /// than the pages touched.
    fn up_in_cone(&self, start: usize, failures: &Failures) -> bool {
        const UNKNOWN: u8 = 0;
        const UP: u8 = 1;
        const DOWN: u8 = 2;
        let mut memo = vec![UNKNOWN; self.layout.total()];
        let mut stack = vec![start];
        while let Some(&v) = stack.last() {
            if memo[v] != UNKNOWN {
                stack.pop();
                continue;
            }
            let kind = self.layout.kind(v);
            if matches!(kind, ObjectKind::Device | ObjectKind::Link)
                && failures.contains(self.object(v))
            {
                memo[v] = DOWN;
                stack.pop();
                continue;
            }
            let before = stack.len();
            stack.extend(self.deps.row(v).iter().filter(|&&d| memo[d] == UNKNOWN));
            if stack.len() == before {
                let alive = self.deps.row(v).iter().filter(|&&d| memo[d] == UP).count();
                memo[v] = if alive >= self.need[v] { UP } else { DOWN };
                stack.pop();
            }
        }
        memo[start] == UP
    }
}
