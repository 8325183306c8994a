//! Resolves the builder's ids to dense node indices and checks everything but cycles:
//! duplicate ids, dangling references, invalid groups and roots with uplinks.

use std::collections::HashMap;

use super::GraphBuilder;
use crate::error::{label, GraphError};
use crate::graph::Layout;
use crate::ids::{Object, ObjectKind};

/// The model as dense nodes; the input of cycle detection and of `Graph` assembly.
pub(super) struct Resolved {
    pub(super) layout: Layout,
    pub(super) ids: Vec<i64>,
    pub(super) names: Vec<String>,
    pub(super) index: HashMap<Object, usize>,
    pub(super) deps: Vec<Vec<usize>>,
    pub(super) need: Vec<usize>,
    pub(super) uplinks: Vec<Vec<usize>>,
    pub(super) link_ends: Vec<(usize, usize)>,
}

impl Resolved {
    pub(super) fn label(&self, node: usize) -> String {
        label(self.layout.kind(node), &self.names[node])
    }

    fn lookup(&self, from: usize, obj: Object) -> Result<usize, GraphError> {
        self.index
            .get(&obj)
            .copied()
            .ok_or_else(|| GraphError::Dangling {
                from: self.label(from),
                missing: obj.to_string(),
            })
    }

    /// Gives the next node the object's id and name; the first clash of ids is an error.
    fn register(&mut self, obj: Object, id: i64, name: &str) -> Result<(), GraphError> {
        let node = self.ids.len();
        if let Some(&first) = self.index.get(&obj) {
            return Err(GraphError::Duplicate {
                kind: obj.kind(),
                id,
                first: self.names[first].clone(),
                second: name.to_owned(),
            });
        }
        self.index.insert(obj, node);
        self.ids.push(id);
        self.names.push(name.to_owned());
        Ok(())
    }
}

pub(super) fn resolve(b: &GraphBuilder) -> Result<Resolved, GraphError> {
    let layout = Layout {
        devices: b.devices.len(),
        links: b.links.len(),
        groups: b.groups.len(),
        services: b.services.len(),
    };
    let total = layout.total();
    let mut r = Resolved {
        layout,
        ids: Vec::with_capacity(total),
        names: Vec::with_capacity(total),
        index: HashMap::with_capacity(total),
        deps: vec![Vec::new(); total],
        need: vec![0; total],
        uplinks: vec![Vec::new(); layout.devices],
        link_ends: Vec::with_capacity(layout.links),
    };
    // Registration order is node order: devices, links, groups, services.
    for d in &b.devices {
        r.register(Object::Device(d.id), d.id.0, &d.name)?;
    }
    for l in &b.links {
        r.register(Object::Link(l.id), l.id.0, &l.name)?;
    }
    for g in &b.groups {
        r.register(Object::Group(g.id), g.id.0, &g.name)?;
    }
    for s in &b.services {
        r.register(Object::Service(s.id), s.id.0, &s.name)?;
    }

    for (i, l) in b.links.iter().enumerate() {
        let node = layout.link_base() + i;
        let upstream = r.lookup(node, Object::Device(l.upstream))?;
        let downstream = r.lookup(node, Object::Device(l.downstream))?;
        if b.devices[downstream].root {
            return Err(GraphError::RootWithUplink {
                device: r.label(downstream),
                link: r.label(node),
            });
        }
        r.deps[node] = vec![upstream];
        r.need[node] = 1;
        r.uplinks[downstream].push(node);
        r.link_ends.push((upstream, downstream));
    }

    // Per link (by position): the groups it belongs to, for the devices' alternatives below.
    let mut groups_of_link: Vec<Vec<usize>> = vec![Vec::new(); layout.links];
    for (i, g) in b.groups.iter().enumerate() {
        let node = layout.group_base() + i;
        let invalid = |reason: String| GraphError::InvalidGroup {
            group: r.label(node),
            reason,
        };
        if g.members.is_empty() {
            return Err(invalid("it has no members".to_owned()));
        }
        let mut members = Vec::with_capacity(g.members.len());
        for &member in &g.members {
            let m = r.lookup(node, member.into())?;
            if members.contains(&m) {
                // A member listed twice would count twice towards k.
                return Err(invalid(format!("it lists {} twice", r.label(m))));
            }
            members.push(m);
        }
        let n = members.len();
        let k = g.rule.needed(n);
        if k == 0 {
            return Err(invalid(format!(
                "rule {} needs 0 of its {n} members up, so it could never be down",
                g.rule
            )));
        }
        if k > n {
            return Err(invalid(format!(
                "rule {} needs {k} members up but it has only {n}, so it could never be up",
                g.rule
            )));
        }
        for &m in &members {
            if layout.kind(m) == ObjectKind::Link {
                groups_of_link[m - layout.link_base()].push(node);
            }
        }
        r.deps[node] = members;
        r.need[node] = k;
    }

    for (i, s) in b.services.iter().enumerate() {
        let node = layout.service_base() + i;
        let mut deps = Vec::with_capacity(s.depends_on.len());
        for &dep in &s.depends_on {
            let d = r.lookup(node, dep)?;
            // Deduplicated, so that "all dependencies up" counts each object once.
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        r.need[node] = deps.len();
        r.deps[node] = deps;
    }

    // A device's alternatives: its ungrouped uplinks, and each group holding any of its
    // uplinks (once). A root has none and needs none; any other device needs one.
    for (device, d) in b.devices.iter().enumerate() {
        if d.root {
            continue;
        }
        let mut alternatives = Vec::new();
        for &link in &r.uplinks[device] {
            let groups = &groups_of_link[link - layout.link_base()];
            if groups.is_empty() {
                alternatives.push(link);
            }
            for &g in groups {
                if !alternatives.contains(&g) {
                    alternatives.push(g);
                }
            }
        }
        r.deps[device] = alternatives;
        r.need[device] = 1;
    }
    Ok(r)
}
