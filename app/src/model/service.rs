//! Services (circuits), what they depend on, and the validation rules of their fields. Whether
//! a referenced customer, device, link, group or service belongs to the tenant, and whether a
//! dependency would close a cycle, are database questions (`db::services`).

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::customer::CustomerId;
use crate::model::sla::SlaTarget;
use crate::model::{string_enum, text_field};

mod dependency;

pub use dependency::{
    cycle_error, link_label, Choice, Dependency, DependencyChoices, DependencyKind, CHOICES_MAX,
};

/// Database id of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServiceId(pub i64);

string_enum!(
    /// What kind of circuit a service is.
    ServiceKind, field = "kind", {
        /// Internet access sold to a customer.
        Internet => "internet",
        /// An upstream circuit bought from a provider.
        Transit => "transit",
        /// A layer-2 circuit (VLAN, VPLS, EoIP) between sites of a customer.
        L2 => "l2",
        /// Many PPPoE subscribers counted as one service, matched by username pattern.
        PppoeAggregate => "pppoe_aggregate",
    }
);

impl ServiceKind {
    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Internet => "Internet",
            ServiceKind::Transit => "Transit (upstream)",
            ServiceKind::L2 => "L2",
            ServiceKind::PppoeAggregate => "PPPoE subscriber aggregate",
        }
    }
}

/// One row of the services list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: ServiceId,
    pub name: String,
    pub kind: ServiceKind,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub provider: String,
    pub access_device: Option<String>,
    pub sla_target: Option<SlaTarget>,
    pub enabled: bool,
}

/// One service with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub kind: ServiceKind,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    /// The customer's target, which applies when the service has none of its own.
    pub customer_sla_target: Option<SlaTarget>,
    pub access_device_id: Option<i64>,
    pub access_device_name: Option<String>,
    /// The interface's name on the access device.
    pub access_interface: Option<String>,
    pub pppoe_username_pattern: String,
    pub sla_target: Option<SlaTarget>,
    /// Name of the business-hours calendar; `None` means 24x7.
    pub business_hours: Option<String>,
    pub provider: String,
    pub enabled: bool,
    pub dependencies: Vec<Dependency>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

pub const NAME_MAX: usize = 200;
pub const PPPOE_PATTERN_MAX: usize = 200;
pub const BUSINESS_HOURS_MAX: usize = 100;
pub const PROVIDER_MAX: usize = 100;
pub const INTERFACE_MAX: usize = 100;

/// A service's fields, validated, as create and update write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInput {
    pub name: String,
    pub kind: ServiceKind,
    pub customer_id: Option<CustomerId>,
    pub access_device_id: Option<i64>,
    /// An interface name on the access device; resolved to its id by the database layer.
    pub access_interface: Option<String>,
    pub pppoe_username_pattern: String,
    pub sla_target: Option<SlaTarget>,
    pub business_hours: Option<String>,
    pub provider: String,
    pub enabled: bool,
}

/// The raw form fields of a service, as the create and edit forms post them.
pub struct ServiceForm<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub customer_id: &'a str,
    pub access_device_id: &'a str,
    pub access_interface: &'a str,
    pub pppoe_username_pattern: &'a str,
    pub sla_target: &'a str,
    pub business_hours: &'a str,
    pub provider: &'a str,
    pub enabled: bool,
}

impl ServiceForm<'_> {
    /// Checks every field and the rules between them; the first bad field is reported.
    pub fn validate(&self) -> Result<ServiceInput, AppError> {
        let input = ServiceInput {
            name: text_field("name", self.name, 1, NAME_MAX)?,
            kind: self.kind.trim().parse()?,
            customer_id: optional_id("customer_id", self.customer_id)?.map(CustomerId),
            access_device_id: optional_id("access_device_id", self.access_device_id)?,
            access_interface: optional_text(
                "access_interface",
                self.access_interface,
                INTERFACE_MAX,
            )?,
            pppoe_username_pattern: validate_pppoe_pattern(self.pppoe_username_pattern)?,
            sla_target: SlaTarget::parse("sla_target", self.sla_target)?,
            business_hours: optional_text(
                "business_hours",
                self.business_hours,
                BUSINESS_HOURS_MAX,
            )?,
            provider: text_field("provider", self.provider, 0, PROVIDER_MAX)?,
            enabled: self.enabled,
        };
        check_kind_rules(&input)?;
        Ok(input)
    }
}

/// Empty means "not set".
fn optional_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, AppError> {
    let s = text_field(field, raw, 0, max)?;
    Ok((!s.is_empty()).then_some(s))
}

/// An id from a form `<select>` whose first option is "none" (empty).
fn optional_id(field: &str, raw: &str) -> Result<Option<i64>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "is not a valid choice")),
    }
}

/// A LIKE pattern (`%` any run, `_` one character) over PPPoE usernames: no spaces, since
/// RouterOS usernames have none and a stray space would silently match nothing.
pub fn validate_pppoe_pattern(raw: &str) -> Result<String, AppError> {
    let p = text_field("pppoe_username_pattern", raw, 0, PPPOE_PATTERN_MAX)?;
    if p.chars().any(char::is_whitespace) {
        return Err(AppError::invalid(
            "pppoe_username_pattern",
            "must not contain spaces",
        ));
    }
    Ok(p)
}

/// What the kinds require: an upstream (transit) circuit names its provider and has no
/// customer; a PPPoE aggregate needs the pattern that finds its subscribers; an interface
/// only makes sense on a device.
fn check_kind_rules(s: &ServiceInput) -> Result<(), AppError> {
    if s.kind == ServiceKind::Transit {
        if s.provider.is_empty() {
            return Err(AppError::invalid(
                "provider",
                "is required for a transit (upstream) circuit",
            ));
        }
        if s.customer_id.is_some() {
            return Err(AppError::invalid(
                "customer_id",
                "must be empty for a transit circuit: it is bought from a provider",
            ));
        }
    }
    if s.kind == ServiceKind::PppoeAggregate && s.pppoe_username_pattern.is_empty() {
        return Err(AppError::invalid(
            "pppoe_username_pattern",
            "is required for a PPPoE subscriber aggregate",
        ));
    }
    if s.access_interface.is_some() && s.access_device_id.is_none() {
        return Err(AppError::invalid(
            "access_interface",
            "needs an access device to belong to",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(name: &'a str, kind: &'a str) -> ServiceForm<'a> {
        ServiceForm {
            name,
            kind,
            customer_id: "",
            access_device_id: "",
            access_interface: "",
            pppoe_username_pattern: "",
            sla_target: "",
            business_hours: "",
            provider: "",
            enabled: true,
        }
    }

    fn field_of<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
        r.expect_err("should fail")
            .field()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn kinds_parse_from_their_names_only() {
        for &kind in ServiceKind::ALL {
            assert_eq!(kind.as_str().parse::<ServiceKind>(), Ok(kind));
        }
        assert_eq!(field_of("PPPoE".parse::<ServiceKind>()), "kind");
    }

    #[test]
    fn a_valid_service_is_normalised() {
        let mut f = form(" Acme DIA ", "internet");
        f.customer_id = "7";
        f.access_device_id = "3";
        f.access_interface = " ether5 ";
        f.sla_target = "99.95";
        f.business_hours = " office ";
        let s = f.validate().expect("valid");
        assert_eq!(s.name, "Acme DIA");
        assert_eq!(s.customer_id, Some(CustomerId(7)));
        assert_eq!(s.access_interface.as_deref(), Some("ether5"));
        assert_eq!(s.sla_target.map(SlaTarget::thousandths), Some(99_950));
        assert_eq!(s.business_hours.as_deref(), Some("office"));
    }

    #[test]
    fn kinds_bring_their_rules() {
        assert_eq!(field_of(form("Up", "transit").validate()), "provider");
        let mut f = form("Up", "transit");
        f.provider = "Carrier A";
        assert!(f.validate().is_ok());
        f.customer_id = "1";
        assert_eq!(field_of(f.validate()), "customer_id");
        assert_eq!(
            field_of(form("Subs", "pppoe_aggregate").validate()),
            "pppoe_username_pattern"
        );
        let mut f = form("Subs", "pppoe_aggregate");
        f.pppoe_username_pattern = "vie-%";
        assert!(f.validate().is_ok());
        f.pppoe_username_pattern = "vie %";
        assert_eq!(field_of(f.validate()), "pppoe_username_pattern");
        let mut f = form("DIA", "internet");
        f.access_interface = "ether1";
        assert_eq!(field_of(f.validate()), "access_interface");
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field_of(form("", "internet").validate()), "name");
        assert_eq!(field_of(form("x", "dsl").validate()), "kind");
        let mut f = form("x", "l2");
        f.customer_id = "acme";
        assert_eq!(field_of(f.validate()), "customer_id");
        let mut f = form("x", "l2");
        f.sla_target = "0";
        assert_eq!(field_of(f.validate()), "sla_target");
        let long = "b".repeat(BUSINESS_HOURS_MAX + 1);
        let mut f = form("x", "l2");
        f.business_hours = &long;
        assert_eq!(field_of(f.validate()), "business_hours");
    }
}
