//! Random valid graphs for the property tests, kept as plain data so a cycle can be injected
//! before building. Every dependency points to a lower device index (or an earlier service),
//! so the generated graphs are DAGs, with parallel links, diamonds and groups of every rule.

use proptest::prelude::*;

use crate::{DeviceId, GraphBuilder, GroupId, LinkId, Member, Object, Rule, ServiceId};

/// Raw choices; `Model::from` turns them into a valid graph.
#[derive(Debug, Clone)]
pub(super) struct Choices {
    roots: usize,
    devices: Vec<(usize, [usize; 3], u8, usize)>,
    service_groups: Vec<(u8, Vec<usize>)>,
    services: Vec<Vec<(u8, usize)>>,
}

pub(super) fn choices() -> impl Strategy<Value = Choices> {
    (
        1..=3usize,
        prop::collection::vec(
            (1..=3usize, any::<[usize; 3]>(), any::<u8>(), any::<usize>()),
            1..20,
        ),
        prop::collection::vec(
            (any::<u8>(), prop::collection::vec(any::<usize>(), 1..4)),
            0..4,
        ),
        prop::collection::vec(
            prop::collection::vec((any::<u8>(), any::<usize>()), 0..4),
            0..12,
        ),
    )
        .prop_map(|(roots, devices, service_groups, services)| Choices {
            roots,
            devices,
            service_groups,
            services,
        })
}

/// A graph as data: devices are `DeviceId(index)`, links `LinkId(index)`, and so on.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) roots: usize,
    pub(super) devices: usize,
    /// (upstream, downstream) device indices.
    pub(super) links: Vec<(usize, usize)>,
    pub(super) groups: Vec<(Rule, Vec<Member>)>,
    pub(super) services: Vec<Vec<Object>>,
}

impl From<&Choices> for Model {
    fn from(c: &Choices) -> Self {
        let mut m = Model {
            roots: c.roots,
            devices: c.roots + c.devices.len(),
            links: Vec::new(),
            groups: Vec::new(),
            services: Vec::new(),
        };
        for (j, &(uplinks, picks, group, member)) in c.devices.iter().enumerate() {
            let device = c.roots + j;
            let first = m.links.len();
            for pick in &picks[..uplinks] {
                m.links.push((pick % device, device));
            }
            let own: Vec<Member> = (first..m.links.len())
                .map(|l| Member::Link(LinkId(l as i64)))
                .collect();
            let rule = match group % 8 {
                4 | 7 => Rule::Any,
                5 => Rule::All,
                6 => Rule::KOfN(1 + usize::from(group / 8) % uplinks),
                _ => continue,
            };
            let mut members = if group % 8 == 5 {
                own[..uplinks.min(2)].to_vec()
            } else {
                own
            };
            if group % 8 == 7 {
                // A device member from higher up, e.g. a backup router.
                members.push(Member::Device(DeviceId((member % device) as i64)));
            }
            m.groups.push((rule, members));
        }
        let objects = m.devices + m.links.len();
        for (rule, picks) in &c.service_groups {
            let mut members = Vec::new();
            for p in picks {
                let member = match p % objects {
                    d if d < m.devices => Member::Device(DeviceId(d as i64)),
                    l => Member::Link(LinkId((l - m.devices) as i64)),
                };
                if !members.contains(&member) {
                    members.push(member);
                }
            }
            // A group holding a device's uplink is one of that device's alternatives, so it
            // must not depend on that device: keep only members strictly above (lower index
            // than) every downstream end among its link members.
            let ceiling = members
                .iter()
                .filter_map(|member| match member {
                    Member::Link(l) => Some(m.links[l.0 as usize].1),
                    Member::Device(_) => None,
                })
                .min()
                .unwrap_or(m.devices);
            members.retain(|member| match member {
                Member::Device(d) => (d.0 as usize) < ceiling,
                Member::Link(l) => m.links[l.0 as usize].0 < ceiling,
            });
            if members.is_empty() {
                members.push(Member::Device(DeviceId(0)));
            }
            let rule = match rule % 3 {
                0 => Rule::Any,
                1 => Rule::All,
                _ => Rule::KOfN(1 + usize::from(rule / 3) % members.len()),
            };
            m.groups.push((rule, members));
        }
        for (s, deps) in c.services.iter().enumerate() {
            let deps = deps.iter().map(|&(kind, p)| match kind % 4 {
                1 if !m.links.is_empty() => Object::Link(LinkId((p % m.links.len()) as i64)),
                2 if !m.groups.is_empty() => Object::Group(GroupId((p % m.groups.len()) as i64)),
                3 if s > 0 => Object::Service(ServiceId((p % s) as i64)),
                _ => Object::Device(DeviceId((p % m.devices) as i64)),
            });
            m.services.push(deps.collect());
        }
        m
    }
}

impl Model {
    pub(super) fn builder(&self) -> GraphBuilder {
        let mut b = GraphBuilder::new();
        for d in 0..self.devices {
            b.add_device(DeviceId(d as i64), format!("d{d}"), d < self.roots);
        }
        for (l, &(up, down)) in self.links.iter().enumerate() {
            let name = if l == self.links.len() - 1 && self.back_edge() {
                "back-edge".to_owned()
            } else {
                format!("l{l}")
            };
            b.add_uplink(
                LinkId(l as i64),
                name,
                DeviceId(up as i64),
                DeviceId(down as i64),
            );
        }
        for (g, (rule, members)) in self.groups.iter().enumerate() {
            b.add_group(GroupId(g as i64), format!("g{g}"), *rule, members.clone());
        }
        for (s, deps) in self.services.iter().enumerate() {
            b.add_service(ServiceId(s as i64), format!("s{s}"), deps.clone());
        }
        b
    }

    /// Whether the last link points up the graph (only `inject_cycle` adds such a link).
    fn back_edge(&self) -> bool {
        self.links.last().is_some_and(|&(up, down)| up >= down)
    }

    /// Adds one dependency that closes a cycle and returns the label of an object that must
    /// be on it. `pick` chooses the kind of cycle and where it goes.
    pub(super) fn inject_cycle(&mut self, pick: (u8, usize, usize)) -> String {
        let (kind, at, steps) = pick;
        if kind % 3 == 2 {
            // A service that depends on a later one which already depends on it.
            let found = self.services.iter().enumerate().find_map(|(s, deps)| {
                deps.iter().find_map(|d| match d {
                    Object::Service(t) => Some((s, t.0)),
                    _ => None,
                })
            });
            if let Some((s, t)) = found {
                self.services[t as usize].push(Object::Service(ServiceId(s as i64)));
                return format!("service s{t}");
            }
        }
        let device = self.roots + at % (self.devices - self.roots);
        // Walk up through non-root upstreams, then link the walk's end below `device`.
        let mut top = device;
        for step in 0..(if kind % 3 == 1 { 0 } else { 1 + steps % 4 }) {
            let ups: Vec<usize> = self
                .links
                .iter()
                .filter(|&&(up, down)| down == top && up >= self.roots)
                .map(|&(up, _)| up)
                .collect();
            match ups.get((steps / 4 + step) % ups.len().max(1)) {
                Some(&up) => top = up,
                None => break,
            }
        }
        // With `top == device` this is a self-loop, a cycle too.
        self.links.push((device, top));
        "link back-edge".to_owned()
    }
}
