//! Devices (routers, switches, CPEs), their interfaces, and the validation of their forms.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use crate::error::AppError;
use crate::model::link::LinkRow;
use crate::model::probe::ProbeRow;
use crate::model::site::SiteId;
use crate::model::{string_enum, text_field};

/// Database id of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeviceId(pub i64);

/// Database id of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InterfaceId(pub i64);

string_enum!(
    /// Who made it, which decides how it is collected.
    Vendor, field = "vendor", {
        Mikrotik => "mikrotik",
        GenericSnmp => "generic_snmp",
    }
);

string_enum!(
    /// Where the device sits in the network; the topology view draws roles as layers.
    DeviceRole, field = "role", {
        Core => "core",
        Edge => "edge",
        Aggregation => "aggregation",
        Access => "access",
        Cpe => "cpe",
    }
);

string_enum!(SnmpVersion, field = "snmp_version", {
    None => "none",
    V2c => "v2c",
    V3 => "v3",
});

string_enum!(
    /// How often collectors poll the device (the intervals are the collector's settings).
    PollingProfile, field = "polling_profile", {
        Fast => "fast",
        Medium => "medium",
        Slow => "slow",
    }
);

string_enum!(InterfaceKind, field = "kind", {
    Ethernet => "ethernet",
    Sfp => "sfp",
    Wireless => "wireless",
    Vlan => "vlan",
    Bridge => "bridge",
    Bonding => "bonding",
    Pppoe => "pppoe",
    Tunnel => "tunnel",
    Loopback => "loopback",
    Other => "other",
});

string_enum!(InterfaceRole, field = "role", {
    Uplink => "uplink",
    Downlink => "downlink",
    Customer => "customer",
    Management => "management",
    Other => "other",
});

/// One row of the device list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub name: String,
    pub vendor: Vendor,
    pub model: String,
    pub role: DeviceRole,
    pub site_id: SiteId,
    pub site_code: String,
    pub mgmt_address: String,
    pub tags: Vec<String>,
    pub enabled: bool,
}

/// A device with everything its page shows. Credential profiles appear by name only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDetail {
    pub row: DeviceRow,
    pub site_name: String,
    pub api_port: u16,
    pub api_tls: bool,
    pub rest_port: Option<u16>,
    pub snmp_version: SnmpVersion,
    pub credential_profile: Option<(i64, String)>,
    pub snmp_profile: Option<(i64, String)>,
    pub polling_profile: PollingProfile,
    pub interfaces: Vec<InterfaceRow>,
    pub links: Vec<LinkRow>,
    /// The probes defined on it, with their last results.
    pub probes: Vec<ProbeRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceRow {
    pub id: InterfaceId,
    pub name: String,
    pub kind: InterfaceKind,
    pub speed_mbps: Option<i64>,
    pub role: InterfaceRole,
    pub discovered: bool,
}

/// An interface's fields as a form sends them (`kind` and `role` blank take the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceForm {
    pub name: String,
    pub kind: String,
    pub speed_mbps: String,
    pub role: String,
}

/// A checked interface, ready to store on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInput {
    pub name: String,
    pub kind: InterfaceKind,
    pub speed_mbps: Option<i64>,
    pub role: InterfaceRole,
}

impl InterfaceForm {
    pub fn validate(&self) -> Result<InterfaceInput, AppError> {
        Ok(InterfaceInput {
            name: text_field("name", &self.name, 1, 100)?,
            kind: match self.kind.trim() {
                "" => InterfaceKind::Ethernet,
                k => k.parse()?,
            },
            speed_mbps: mbps("speed_mbps", &self.speed_mbps)?,
            role: match self.role.trim() {
                "" => InterfaceRole::Other,
                r => r.parse()?,
            },
        })
    }
}

/// What the device form's selects offer: the tenant's sites and credential profiles, as
/// (id, label).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceChoices {
    pub sites: Vec<(i64, String)>,
    pub profiles: Vec<(i64, String)>,
}

/// What depends on a device, from the dependency graph (the `topology` crate).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceImpact {
    /// Devices that go down if this one fails (redundancy honoured), as (id, name).
    pub devices_down: Vec<(i64, String)>,
    /// Services that go down if this one fails, as (id, name).
    pub services_down: Vec<(i64, String)>,
    /// Devices and services that depend on it at all, even with a spare path.
    pub dependents: usize,
    /// Up to a few paths from the device up to a root, each as device names from the top.
    pub upstream_paths: Vec<Vec<String>>,
}

/// The device list's filters, as the GET form and the URL carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFilter {
    pub q: Option<String>,
    pub site: Option<i64>,
    pub role: Option<String>,
    pub tag: Option<String>,
    /// "enabled" or "disabled"; anything else is no filter.
    pub status: Option<String>,
    pub page: Option<i64>,
}

/// A device's fields as a form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceForm {
    pub name: String,
    pub site_id: String,
    pub vendor: String,
    pub model: String,
    pub role: String,
    pub mgmt_address: String,
    pub api_port: String,
    /// A checkbox: present ("on") when ticked.
    pub api_tls: Option<String>,
    pub rest_port: String,
    pub snmp_version: String,
    pub credential_profile_id: String,
    pub snmp_profile_id: String,
    pub polling_profile: String,
    /// Comma- or space-separated.
    pub tags: String,
    /// A checkbox, like `api_tls`.
    pub enabled: Option<String>,
}

/// A checked device, ready to store. References (site, profiles) are checked against the
/// caller's tenant by `db::devices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInput {
    pub name: String,
    pub site_id: SiteId,
    pub vendor: Vendor,
    pub model: String,
    pub role: DeviceRole,
    pub mgmt_address: IpAddr,
    pub api_port: u16,
    pub api_tls: bool,
    pub rest_port: Option<u16>,
    pub snmp_version: SnmpVersion,
    pub credential_profile_id: Option<i64>,
    pub snmp_profile_id: Option<i64>,
    pub polling_profile: PollingProfile,
    pub tags: Vec<String>,
    pub enabled: bool,
}

pub const MAX_TAGS: usize = 20;

impl DeviceForm {
    pub fn validate(&self) -> Result<DeviceInput, AppError> {
        let name = device_name(&self.name)?;
        let site_id = SiteId(
            id_field("site_id", &self.site_id)?
                .ok_or_else(|| AppError::invalid("site_id", "is required"))?,
        );
        let vendor = self.vendor.parse()?;
        let role = self.role.parse()?;
        let model = text_field("model", &self.model, 0, 100)?;
        let mgmt_address = self.mgmt_address.trim().parse::<IpAddr>().map_err(|_| {
            AppError::invalid(
                "mgmt_address",
                "must be an IPv4 or IPv6 address, e.g. 10.0.0.1",
            )
        })?;
        let api_tls = checkbox(&self.api_tls);
        let api_port =
            port("api_port", &self.api_port)?.unwrap_or(if api_tls { 8729 } else { 8728 });
        let rest_port = port("rest_port", &self.rest_port)?;
        let snmp_version = match self.snmp_version.trim() {
            "" => SnmpVersion::None,
            v => v.parse()?,
        };
        let polling_profile = match self.polling_profile.trim() {
            "" => PollingProfile::Medium,
            p => p.parse()?,
        };
        let snmp_profile_id = id_field("snmp_profile_id", &self.snmp_profile_id)?;
        if snmp_version != SnmpVersion::None && snmp_profile_id.is_none() {
            return Err(AppError::invalid(
                "snmp_profile_id",
                "is required when SNMP is on",
            ));
        }
        Ok(DeviceInput {
            name,
            site_id,
            vendor,
            model,
            role,
            mgmt_address,
            api_port,
            api_tls,
            rest_port,
            snmp_version,
            credential_profile_id: id_field("credential_profile_id", &self.credential_profile_id)?,
            snmp_profile_id,
            polling_profile,
            tags: tags(&self.tags)?,
            enabled: checkbox(&self.enabled),
        })
    }
}

/// Device names are what operators type and see on wall screens: 1-100 characters without
/// control characters or commas (commas would break CSV-ish lists and tags).
pub fn device_name(raw: &str) -> Result<String, AppError> {
    let name = text_field("name", raw, 1, 100)?;
    if name.contains(',') {
        return Err(AppError::invalid("name", "must not contain commas"));
    }
    Ok(name)
}

pub fn checkbox(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| matches!(v, "on" | "true" | "1" | "yes"))
}

/// An optional database id typed into a form; blank is `None`.
pub fn id_field(field: &str, raw: &str) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, "is not a valid choice"))
}

/// An optional speed or capacity typed into a form or a CSV column: blank is `None`, otherwise
/// a whole number of Mbit/s up to 10 Tbit/s.
pub fn mbps(field: &str, raw: &str) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|v| (1..=10_000_000).contains(v))
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, "must be a whole number of Mbit/s, 1 to 10000000"))
}

fn port(field: &str, raw: &str) -> Result<Option<u16>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .map(Some)
        .ok_or_else(|| AppError::invalid(field, "must be a port number between 1 and 65535"))
}

/// Tags: lower case, 1-32 of `a-z 0-9 - _ : .`, at most `MAX_TAGS`, duplicates dropped.
pub fn tags(raw: &str) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw
        .split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let tag = tag.to_lowercase();
        let ok = tag.len() <= 32
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
        if !ok {
            return Err(AppError::invalid(
                "tags",
                format!("\"{tag}\": a tag is 1-32 of letters, digits, - _ : ."),
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AppError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way to break a form, and the field the error must name.
    type Case<F> = (fn(&mut F), &'static str);

    fn form() -> DeviceForm {
        DeviceForm {
            name: "vie1-core-1".into(),
            site_id: "7".into(),
            vendor: "mikrotik".into(),
            role: "core".into(),
            mgmt_address: "10.0.0.1".into(),
            tags: "backbone, Vienna backbone".into(),
            enabled: Some("on".into()),
            ..DeviceForm::default()
        }
    }

    #[test]
    fn defaults_follow_routeros() {
        let d = form().validate().expect("valid");
        assert_eq!(d.api_port, 8728);
        assert_eq!(d.polling_profile, PollingProfile::Medium);
        assert_eq!(d.tags, vec!["backbone", "vienna"]);
        assert!(d.enabled);
        let mut f = form();
        f.api_tls = Some("on".into());
        assert_eq!(f.validate().expect("valid").api_port, 8729);
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: [Case<DeviceForm>; 9] = [
            (|f| f.name = String::new(), "name"),
            (|f| f.name = "a,b".into(), "name"),
            (|f| f.site_id = "x".into(), "site_id"),
            (|f| f.vendor = "cisco".into(), "vendor"),
            (|f| f.role = "router".into(), "role"),
            (|f| f.mgmt_address = "10.0.0.300".into(), "mgmt_address"),
            (|f| f.api_port = "70000".into(), "api_port"),
            (|f| f.tags = "no/slashes".into(), "tags"),
            (|f| f.snmp_version = "v2c".into(), "snmp_profile_id"),
        ];
        for (break_it, field) in cases {
            let mut f = form();
            break_it(&mut f);
            let err = f.validate().expect_err(field);
            assert_eq!(err.field(), Some(field), "{err}");
        }
    }

    #[test]
    fn speeds_are_whole_mbps_in_range() {
        assert_eq!(mbps("speed_mbps", " ").ok(), Some(None));
        assert_eq!(mbps("speed_mbps", " 1000 ").ok(), Some(Some(1000)));
        assert_eq!(mbps("speed_mbps", "10000000").ok(), Some(Some(10_000_000)));
        for bad in ["0", "-5", "1.5", "10000001", "fast"] {
            let err = mbps("capacity_mbps", bad).expect_err(bad);
            assert_eq!(err.field(), Some("capacity_mbps"), "{bad}");
        }
    }

    #[test]
    fn interface_forms_take_defaults_and_name_bad_fields() {
        let i = InterfaceForm {
            name: " sfp1 ".into(),
            ..InterfaceForm::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            i,
            InterfaceInput {
                name: "sfp1".into(),
                kind: InterfaceKind::Ethernet,
                speed_mbps: None,
                role: InterfaceRole::Other,
            }
        );
        let cases: [Case<InterfaceForm>; 4] = [
            (|f| f.name = String::new(), "name"),
            (|f| f.kind = "serial".into(), "kind"),
            (|f| f.speed_mbps = "0".into(), "speed_mbps"),
            (|f| f.role = "wan".into(), "role"),
        ];
        for (break_it, field) in cases {
            let mut f = InterfaceForm {
                name: "ether1".into(),
                ..InterfaceForm::default()
            };
            break_it(&mut f);
            let err = f.validate().expect_err(field);
            assert_eq!(err.field(), Some(field), "{err}");
        }
    }

    #[test]
    fn enums_round_trip_and_name_the_choices() {
        for role in DeviceRole::ALL {
            assert_eq!(role.as_str().parse::<DeviceRole>().ok(), Some(*role));
        }
        // The JSON spelling is the same as the form/database spelling.
        for v in Vendor::ALL {
            assert_eq!(
                serde_json::to_value(v).ok(),
                Some(serde_json::json!(v.as_str()))
            );
        }
        for k in InterfaceKind::ALL {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::json!(k.as_str()))
            );
        }
        let err = "x".parse::<Vendor>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "vendor: must be one of: mikrotik, generic_snmp"
        );
    }
}
