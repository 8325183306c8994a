//! The vocabulary of the model: id newtypes, references to objects, group members and rules.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            /// `device #7`: how a message names an id that has no object (hence no name).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($kind, " #{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A device (router, switch, CPE), by the caller's database id.
    DeviceId,
    "device"
);
id_type!(
    /// A directed uplink between two devices.
    LinkId,
    "link"
);
id_type!(
    /// A redundancy group.
    GroupId,
    "group"
);
id_type!(
    /// A service: a customer circuit.
    ServiceId,
    "service"
);

/// The four kinds of object in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Device,
    Link,
    Group,
    Service,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Device => "device",
            ObjectKind::Link => "link",
            ObjectKind::Group => "group",
            ObjectKind::Service => "service",
        })
    }
}

/// A reference to any object: a service's dependency, or the subject of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Device(DeviceId),
    Link(LinkId),
    Group(GroupId),
    Service(ServiceId),
}

impl Object {
    pub fn kind(self) -> ObjectKind {
        match self {
            Object::Device(_) => ObjectKind::Device,
            Object::Link(_) => ObjectKind::Link,
            Object::Group(_) => ObjectKind::Group,
            Object::Service(_) => ObjectKind::Service,
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Device(id) => id.fmt(f),
            Object::Link(id) => id.fmt(f),
            Object::Group(id) => id.fmt(f),
            Object::Service(id) => id.fmt(f),
        }
    }
}

impl From<DeviceId> for Object {
    fn from(id: DeviceId) -> Self {
        Object::Device(id)
    }
}

impl From<LinkId> for Object {
    fn from(id: LinkId) -> Self {
        Object::Link(id)
    }
}

impl From<GroupId> for Object {
    fn from(id: GroupId) -> Self {
        Object::Group(id)
    }
}

impl From<ServiceId> for Object {
    fn from(id: ServiceId) -> Self {
        Object::Service(id)
    }
}

/// A member of a redundancy group. Groups hold links and devices only, not other groups: the
/// operators' redundancy (LAG members, dual uplinks, a BNG pair) is one level deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Member {
    Link(LinkId),
    Device(DeviceId),
}

impl From<Member> for Object {
    fn from(member: Member) -> Self {
        match member {
            Member::Link(id) => Object::Link(id),
            Member::Device(id) => Object::Device(id),
        }
    }
}

/// When a redundancy group is up, given how many of its members are up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Up if at least one member is up.
    Any,
    /// Up only if every member is up.
    All,
    /// Up if at least k members are up; so down once more than n − k members are down.
    KOfN(usize),
}

impl Rule {
    /// How many of `members` must be up. `Any` and `All` are `KOfN(1)` and `KOfN(n)`.
    pub fn needed(self, members: usize) -> usize {
        match self {
            Rule::Any => 1,
            Rule::All => members,
            Rule::KOfN(k) => k,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Any => f.write_str("any"),
            Rule::All => f.write_str("all"),
            Rule::KOfN(k) => write!(f, "{k} of n"),
        }
    }
}
