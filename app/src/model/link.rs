//! Links between devices and the validation of their form. A link is directed for dependency:
//! the `b` end reaches the network through the `a` end, unless it is a peer link.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::device::{checkbox, id_field, mbps, DeviceId};
use crate::model::{string_enum, text_field};

/// Database id of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkId(pub i64);

string_enum!(LinkKind, field = "kind", {
    Physical => "physical",
    Wireless => "wireless",
    Ptp => "ptp",
    Tunnel => "tunnel",
    Ospf => "ospf",
    Bgp => "bgp",
});

/// A link as device pages and the topology show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRow {
    pub id: LinkId,
    pub kind: LinkKind,
    pub a_device: DeviceId,
    pub a_device_name: String,
    pub a_interface: Option<String>,
    pub b_device: DeviceId,
    pub b_device_name: String,
    pub b_interface: Option<String>,
    /// False for a peer link (drawn, but not a dependency).
    pub upstream: bool,
    pub capacity_mbps: Option<i64>,
    pub discovered: bool,
}

impl LinkRow {
    /// "core-1 ether1 → agg-2 sfp1", for lists and audit targets.
    pub fn label(&self) -> String {
        let end = |name: &str, iface: &Option<String>| match iface {
            Some(i) => format!("{name} {i}"),
            None => name.to_owned(),
        };
        let arrow = if self.upstream { "→" } else { "↔" };
        format!(
            "{} {arrow} {}",
            end(&self.a_device_name, &self.a_interface),
            end(&self.b_device_name, &self.b_interface)
        )
    }
}

/// A link as the form sends it: two devices, optional interface names (created on the device
/// when missing), kind, capacity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkForm {
    pub a_device_id: String,
    pub a_interface: String,
    pub b_device_id: String,
    pub b_interface: String,
    pub kind: String,
    /// A checkbox: ticked means `b` depends on `a`.
    pub upstream: Option<String>,
    pub capacity_mbps: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInput {
    pub a_device: DeviceId,
    pub a_interface: Option<String>,
    pub b_device: DeviceId,
    pub b_interface: Option<String>,
    pub kind: LinkKind,
    pub upstream: bool,
    pub capacity_mbps: Option<i64>,
}

impl LinkForm {
    pub fn validate(&self) -> Result<LinkInput, AppError> {
        let required = |field: &str, raw: &str| {
            id_field(field, raw)?
                .map(DeviceId)
                .ok_or_else(|| AppError::invalid(field, "is required"))
        };
        let a_device = required("a_device_id", &self.a_device_id)?;
        let b_device = required("b_device_id", &self.b_device_id)?;
        if a_device == b_device {
            return Err(AppError::invalid(
                "b_device_id",
                "a link needs two different devices",
            ));
        }
        let iface = |field: &str, raw: &str| -> Result<Option<String>, AppError> {
            let name = text_field(field, raw, 0, 100)?;
            Ok((!name.is_empty()).then_some(name))
        };
        let capacity_mbps = mbps("capacity_mbps", &self.capacity_mbps)?;
        Ok(LinkInput {
            a_device,
            a_interface: iface("a_interface", &self.a_interface)?,
            b_device,
            b_interface: iface("b_interface", &self.b_interface)?,
            kind: self.kind.parse()?,
            upstream: checkbox(&self.upstream),
            capacity_mbps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way to break a form, and the field the error must name.
    type Case<F> = (fn(&mut F), &'static str);

    fn form() -> LinkForm {
        LinkForm {
            a_device_id: "1".into(),
            a_interface: "sfp1".into(),
            b_device_id: "2".into(),
            kind: "physical".into(),
            upstream: Some("on".into()),
            capacity_mbps: "10000".into(),
            ..LinkForm::default()
        }
    }

    #[test]
    fn a_good_form_is_read() {
        let l = form().validate().expect("valid");
        assert_eq!(l.a_interface.as_deref(), Some("sfp1"));
        assert_eq!(l.b_interface, None);
        assert!(l.upstream);
        assert_eq!(l.capacity_mbps, Some(10_000));
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: [Case<LinkForm>; 5] = [
            (|f| f.a_device_id = String::new(), "a_device_id"),
            (|f| f.b_device_id = "1".into(), "b_device_id"),
            (|f| f.kind = "laser".into(), "kind"),
            (|f| f.capacity_mbps = "-5".into(), "capacity_mbps"),
            (|f| f.b_interface = "x".repeat(101), "b_interface"),
        ];
        for (break_it, field) in cases {
            let mut f = form();
            break_it(&mut f);
            let err = f.validate().expect_err(field);
            assert_eq!(err.field(), Some(field), "{err}");
        }
    }
}
