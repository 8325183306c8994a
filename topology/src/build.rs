//! `GraphBuilder`: collects devices, uplinks, groups and services, validates them, and
//! assembles the dense [`Graph`] (adjacency, topological order, the no-failure baseline).

mod order;
mod resolve;
#[cfg(test)]
mod tests;

use crate::csr::Csr;
use crate::error::GraphError;
use crate::graph::Graph;
use crate::ids::{DeviceId, GroupId, LinkId, Member, Object, Rule, ServiceId};

/// Collects the model, then [`build`](GraphBuilder::build)s a [`Graph`]. Adding never fails:
/// every check runs in `build`, so the caller can feed rows straight from the database and get
/// one error that names the offending objects.
#[derive(Debug, Clone, Default)]
pub struct GraphBuilder {
    devices: Vec<DeviceSpec>,
    links: Vec<LinkSpec>,
    groups: Vec<GroupSpec>,
    services: Vec<ServiceSpec>,
}

#[derive(Debug, Clone)]
struct DeviceSpec {
    id: DeviceId,
    name: String,
    root: bool,
}

#[derive(Debug, Clone)]
struct LinkSpec {
    id: LinkId,
    name: String,
    upstream: DeviceId,
    downstream: DeviceId,
}

#[derive(Debug, Clone)]
struct GroupSpec {
    id: GroupId,
    name: String,
    rule: Rule,
    members: Vec<Member>,
}

#[derive(Debug, Clone)]
struct ServiceSpec {
    id: ServiceId,
    name: String,
    depends_on: Vec<Object>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A device. `is_root` marks a core/upstream anchor: up whenever it is not failed, and never
    /// the downstream end of a link.
    pub fn add_device(
        &mut self,
        id: DeviceId,
        name: impl Into<String>,
        is_root: bool,
    ) -> &mut Self {
        let name = name.into();
        self.devices.push(DeviceSpec {
            id,
            name,
            root: is_root,
        });
        self
    }

    /// A link along which `downstream` depends on `upstream`. Links are named like the other
    /// objects (e.g. "agg-2 sfp1 → core-1"), because error messages and reports show them.
    pub fn add_uplink(
        &mut self,
        id: LinkId,
        name: impl Into<String>,
        upstream: DeviceId,
        downstream: DeviceId,
    ) -> &mut Self {
        let name = name.into();
        self.links.push(LinkSpec {
            id,
            name,
            upstream,
            downstream,
        });
        self
    }

    /// A redundancy group over links and/or devices.
    pub fn add_group(
        &mut self,
        id: GroupId,
        name: impl Into<String>,
        rule: Rule,
        members: impl IntoIterator<Item = Member>,
    ) -> &mut Self {
        let name = name.into();
        let members = members.into_iter().collect();
        self.groups.push(GroupSpec {
            id,
            name,
            rule,
            members,
        });
        self
    }

    /// A service, up iff every object it depends on is up. Listing an object twice is harmless.
    pub fn add_service(
        &mut self,
        id: ServiceId,
        name: impl Into<String>,
        depends_on: impl IntoIterator<Item = Object>,
    ) -> &mut Self {
        let name = name.into();
        let depends_on = depends_on.into_iter().collect();
        self.services.push(ServiceSpec {
            id,
            name,
            depends_on,
        });
        self
    }

    /// Validates the model and builds the graph, in O(V + E) plus hashing each id once.
    pub fn build(&self) -> Result<Graph, GraphError> {
        let r = resolve::resolve(self)?;
        let deps = Csr::from_lists(&r.deps);
        let rdeps = deps.transpose(r.layout.total());
        let topo = order::topological_order(&deps, &rdeps).map_err(|cycle| GraphError::Cycle {
            path: cycle.into_iter().map(|node| r.label(node)).collect(),
        })?;
        let mut graph = Graph {
            layout: r.layout,
            ids: r.ids,
            names: r.names,
            index: r.index,
            deps,
            rdeps,
            need: r.need,
            topo,
            uplinks: Csr::from_lists(&r.uplinks),
            link_ends: r.link_ends,
            reaches_root: Vec::new(),
            baseline_up: Vec::new(),
            slack: Vec::new(),
        };
        graph.reaches_root = reaches_root(&graph);
        graph.baseline_up = graph.evaluate_dense(&vec![false; graph.layout.total()]);
        graph.slack = (0..graph.layout.total())
            .map(|v| {
                let up = graph
                    .deps
                    .row(v)
                    .iter()
                    .filter(|&&d| graph.baseline_up[d])
                    .count();
                up.saturating_sub(graph.need[v])
            })
            .collect();
        Ok(graph)
    }
}

/// Per device: whether a chain of uplinks leads to a root. `upstream_paths` uses it to skip
/// dead ends, so its cost follows the paths it returns rather than the paths it tries.
fn reaches_root(graph: &Graph) -> Vec<bool> {
    let mut reaches = vec![false; graph.layout.devices];
    // The topological order puts each upstream device before the devices below it.
    for &v in graph.topo.iter().filter(|&&v| v < graph.layout.devices) {
        reaches[v] = graph.need[v] == 0
            || graph.uplinks.row(v).iter().any(|&l| {
                let (upstream, _) = graph.link_ends[l - graph.layout.link_base()];
                reaches[upstream]
            });
    }
    reaches
}
