//! What a service can depend on (devices, links, redundancy groups, other services), how a
//! dependency is named, and the choices the pickers offer. Re-exported by `model::service`.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::service::ServiceId;
use crate::model::string_enum;

string_enum!(
    /// What a service can depend on.
    DependencyKind, field = "kind", {
        Device => "device",
        Link => "link",
        /// A redundancy group of links and/or devices.
        Group => "group",
        Service => "service",
    }
);

impl DependencyKind {
    /// The error for an id that is not one of the tenant's objects of this kind. The same
    /// words whether the id is free or another tenant's, so that nothing leaks.
    pub fn no_such(self, field: &str) -> AppError {
        let what = match self {
            DependencyKind::Device => "no such device",
            DependencyKind::Link => "no such link",
            DependencyKind::Group => "no such redundancy group",
            DependencyKind::Service => "no such service",
        };
        AppError::invalid(field, what)
    }
}

/// One thing a service depends on, with the name to show. Device, link and group ids are
/// plain numbers here: their newtypes belong to the inventory model, not to services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dependency {
    Device { id: i64, name: String },
    Link { id: i64, label: String },
    Group { id: i64, name: String },
    Service { id: ServiceId, name: String },
}

impl Dependency {
    pub fn kind(&self) -> DependencyKind {
        match self {
            Dependency::Device { .. } => DependencyKind::Device,
            Dependency::Link { .. } => DependencyKind::Link,
            Dependency::Group { .. } => DependencyKind::Group,
            Dependency::Service { .. } => DependencyKind::Service,
        }
    }

    /// The id of the device, link, group or service depended on.
    pub fn target_id(&self) -> i64 {
        match self {
            Dependency::Device { id, .. }
            | Dependency::Link { id, .. }
            | Dependency::Group { id, .. } => *id,
            Dependency::Service { id, .. } => id.0,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Dependency::Device { name, .. }
            | Dependency::Group { name, .. }
            | Dependency::Service { name, .. } => name,
            Dependency::Link { label, .. } => label,
        }
    }
}

/// One entry of a picker: an id and what to show for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: i64,
    pub label: String,
}

/// Everything the service forms pick from: customers and devices (the access device) and the
/// possible dependency targets. Each list holds at most [`CHOICES_MAX`] entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyChoices {
    pub customers: Vec<Choice>,
    pub devices: Vec<Choice>,
    pub links: Vec<Choice>,
    pub groups: Vec<Choice>,
    pub services: Vec<Choice>,
}

/// A `<select>` of more than this is unusable anyway; larger tenants need a search picker.
pub const CHOICES_MAX: i64 = 2000;

/// How a link is shown: `core1 sfp1 → agg2 ether1 (physical)`.
pub fn link_label(
    a_device: &str,
    a_interface: Option<&str>,
    b_device: &str,
    b_interface: Option<&str>,
    kind: &str,
) -> String {
    let end = |device: &str, interface: Option<&str>| match interface {
        Some(i) => format!("{device} {i}"),
        None => device.to_owned(),
    };
    format!(
        "{} → {} ({kind})",
        end(a_device, a_interface),
        end(b_device, b_interface)
    )
}

/// The refusal of a dependency that would close a cycle between services.
pub fn cycle_error(service: &str, target: &str) -> AppError {
    AppError::invalid(
        "target_id",
        format!(
            "\"{service}\" cannot depend on \"{target}\": \"{target}\" already depends on \
             \"{service}\" (directly or through other services), which would make a cycle"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names_only() {
        for &kind in DependencyKind::ALL {
            assert_eq!(kind.as_str().parse::<DependencyKind>(), Ok(kind));
        }
        let err = "interface"
            .parse::<DependencyKind>()
            .expect_err("not a kind");
        assert_eq!(err.field(), Some("kind"));
        assert_eq!(
            DependencyKind::Group.no_such("target_id").to_string(),
            "target_id: no such redundancy group"
        );
    }

    #[test]
    fn labels_and_messages_name_both_ends() {
        assert_eq!(
            link_label("core1", Some("sfp1"), "agg2", None, "physical"),
            "core1 sfp1 → agg2 (physical)"
        );
        let err = cycle_error("A", "B").to_string();
        assert!(
            err.starts_with("target_id: \"A\" cannot depend on \"B\""),
            "{err}"
        );
        assert!(err.contains("\"B\" already depends on \"A\""), "{err}");
        let dep = Dependency::Service {
            id: ServiceId(4),
            name: "B".into(),
        };
        assert_eq!(
            (dep.kind(), dep.target_id(), dep.label()),
            (DependencyKind::Service, 4, "B")
        );
    }
}
