//! Test helpers: `Net`, a builder that names everything, so table tests read like a diagram.

use std::collections::HashMap;

use crate::{DeviceId, Graph, GraphBuilder, GraphError, GroupId, LinkId, Member, Object, Rule};
use crate::{Failures, ServiceId};

/// Builds a graph from names; ids are handed out in order. Names must be unique across kinds.
#[derive(Default)]
pub(crate) struct Net {
    pub(crate) builder: GraphBuilder,
    objects: HashMap<String, Object>,
    next_id: i64,
}

impl Net {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn next(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn root(&mut self, name: &str) -> &mut Self {
        let id = DeviceId(self.next());
        self.objects.insert(name.to_owned(), id.into());
        self.builder.add_device(id, name, true);
        self
    }

    pub(crate) fn device(&mut self, name: &str) -> &mut Self {
        let id = DeviceId(self.next());
        self.objects.insert(name.to_owned(), id.into());
        self.builder.add_device(id, name, false);
        self
    }

    /// A link named `name` along which `down` depends on `up`.
    pub(crate) fn uplink(&mut self, name: &str, up: &str, down: &str) -> &mut Self {
        let id = LinkId(self.next());
        self.objects.insert(name.to_owned(), id.into());
        let (up, down) = (self.dev(up), self.dev(down));
        self.builder.add_uplink(id, name, up, down);
        self
    }

    pub(crate) fn group(&mut self, name: &str, rule: Rule, members: &[&str]) -> &mut Self {
        let id = GroupId(self.next());
        self.objects.insert(name.to_owned(), id.into());
        let members: Vec<Member> = members
            .iter()
            .map(|m| match self.obj(m) {
                Object::Link(l) => Member::Link(l),
                Object::Device(d) => Member::Device(d),
                other => panic!("{other} cannot be a group member"),
            })
            .collect();
        self.builder.add_group(id, name, rule, members);
        self
    }

    pub(crate) fn service(&mut self, name: &str, deps: &[&str]) -> &mut Self {
        let id = ServiceId(self.next());
        self.objects.insert(name.to_owned(), id.into());
        let deps: Vec<Object> = deps.iter().map(|d| self.obj(d)).collect();
        self.builder.add_service(id, name, deps);
        self
    }

    pub(crate) fn build(&self) -> Graph {
        self.try_build().expect("a valid graph")
    }

    pub(crate) fn try_build(&self) -> Result<Graph, GraphError> {
        self.builder.build()
    }

    pub(crate) fn obj(&self, name: &str) -> Object {
        match self.objects.get(name) {
            Some(&obj) => obj,
            None => panic!("no object named {name}"),
        }
    }

    pub(crate) fn dev(&self, name: &str) -> DeviceId {
        match self.obj(name) {
            Object::Device(id) => id,
            other => panic!("{name} is {other}, not a device"),
        }
    }

    /// Failures of the named devices and links.
    pub(crate) fn failing(&self, names: &[&str]) -> Failures {
        let mut failures = Failures::none();
        for name in names {
            match self.obj(name) {
                Object::Device(id) => failures.devices.insert(id),
                Object::Link(id) => failures.links.insert(id),
                other => panic!("{other} cannot fail directly"),
            };
        }
        failures
    }

    /// The names of the objects in `set`, sorted, for readable assertions.
    pub(crate) fn names(&self, objs: impl IntoIterator<Item = Object>) -> Vec<String> {
        let by_obj: HashMap<Object, &String> = self.objects.iter().map(|(n, &o)| (o, n)).collect();
        let mut names: Vec<String> = objs
            .into_iter()
            .map(|o| {
                by_obj
                    .get(&o)
                    .map_or_else(|| o.to_string(), |n| (*n).clone())
            })
            .collect();
        names.sort();
        names
    }
}
