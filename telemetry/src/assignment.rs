//! The agent API, v1: what an enrolled agent polls. `GET` [`ASSIGNMENT_PATH`] with the
//! agent's client certificate answers an [`Assignment`]: the enabled devices of the sites the
//! agent serves, with the RouterOS login and SNMP settings opened from their credential
//! profiles.
//!
//! - The answer carries an `ETag` (the [`Assignment::revision`], quoted). A request with
//!   `If-None-Match` of the current revision answers `304 Not Modified` with no body, so an
//!   agent polling every minute costs one query on the server and a few hundred bytes.
//! - Secrets travel only inside this mutual-TLS answer. On both sides they are [`Secret`]s,
//!   whose `Debug` is redacted, so no log line holds one.
//! - A device whose credential cannot be opened (sealed with another master key, or damaged),
//!   or that lacks the profile its vendor needs, is still listed, without that login and with
//!   the reason in [`AssignedDevice::problems`]; the rest of the answer is unaffected.
//! - A revoked agent is answered 403 `revoked`, like every other request.

use serde::{Deserialize, Serialize};

/// `GET` with the client certificate: an [`Assignment`], or 304 on `If-None-Match`.
pub const ASSIGNMENT_PATH: &str = "/api/agent/v1/assignment";

/// A secret on the wire (a password, a community). `Debug` prints `[redacted]`; the value is
/// read with [`Secret::expose`] only where it is used.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What the agent polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Changes whenever anything in `devices` does (a device, a credential, the sites
    /// assigned). Opaque: compare it, do not parse it. Also the answer's `ETag`.
    pub revision: String,
    /// The sites the agent serves, by code.
    pub sites: Vec<String>,
    /// In inventory id order.
    pub devices: Vec<AssignedDevice>,
}

/// One device to poll. Samples name it by `id` (`DeviceRef::Id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedDevice {
    /// The inventory id.
    pub id: i64,
    pub name: String,
    /// The site's code.
    pub site: String,
    /// `mikrotik` (polled over the RouterOS API) or `generic_snmp` (over SNMP).
    pub vendor: String,
    /// The management address (an IP address).
    pub address: String,
    pub api_port: u16,
    pub api_tls: bool,
    /// RouterOS v7 REST over HTTPS, when used.
    pub rest_port: Option<u16>,
    /// `fast`, `medium` or `slow`: the agent's interval settings give the period.
    pub polling: String,
    /// The RouterOS API login, opened from the device's credential profile.
    pub routeros: Option<RouterOsLogin>,
    /// The SNMP settings, opened from the device's SNMP profile.
    pub snmp: Option<SnmpSettings>,
    /// Why a login or the SNMP settings are missing, for the operator (empty when none are).
    #[serde(default)]
    pub problems: Vec<String>,
    /// The probes defined on the device's page, which the agent runs from its POP beside the
    /// reachability probe it gives every device (absent from a v1 server's answer: none).
    #[serde(default)]
    pub probes: Vec<AssignedProbe>,
}

/// A probe defined on a device (`device_probe`): the agent runs it every `interval_s` seconds
/// with a `timeout_ms` per echo, connect or request; its samples name the device and carry the
/// instance `<kind>:<target>` ([`crate::probe::Check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedProbe {
    /// The inventory id of the probe.
    pub id: i64,
    /// `icmp`, `tcp`, `dns` or `http`.
    pub kind: String,
    /// As [`crate::probe::Check::target`] spells it.
    pub target: String,
    pub interval_s: u32,
    pub timeout_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterOsLogin {
    pub username: String,
    pub password: Secret,
}

/// SNMP v2c or v3 settings. Protocol names are lowercase: `md5`, `sha1`, `sha224`, `sha256`,
/// `sha384`, `sha512`; `des`, `aes128`, `aes192`, `aes256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "version", rename_all = "lowercase")]
pub enum SnmpSettings {
    V2c {
        community: Secret,
    },
    V3 {
        user: String,
        auth_protocol: String,
        auth_password: Secret,
        /// authPriv when present, authNoPriv when absent.
        privacy: Option<SnmpPrivacy>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnmpPrivacy {
    pub protocol: String,
    pub password: Secret,
}

/// The `ETag` value of a revision (quoted, as HTTP wants it).
pub fn etag(revision: &str) -> String {
    format!("\"{revision}\"")
}

/// True if an `If-None-Match` header value names `revision` (a list, weak tags and `*`
/// included, as RFC 9110 §13.1.2 reads it).
pub fn none_match(header: &str, revision: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"') == revision
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_travel_as_plain_strings() {
        let device = AssignedDevice {
            id: 7,
            name: "vie1-edge-1".into(),
            site: "VIE1".into(),
            vendor: "mikrotik".into(),
            address: "10.0.0.1".into(),
            api_port: 8728,
            api_tls: false,
            rest_port: None,
            polling: "fast".into(),
            routeros: Some(RouterOsLogin {
                username: "ispvm".into(),
                password: Secret::new("hunter22"),
            }),
            snmp: Some(SnmpSettings::V3 {
                user: "u".into(),
                auth_protocol: "sha256".into(),
                auth_password: Secret::new("auth-pass-1"),
                privacy: Some(SnmpPrivacy {
                    protocol: "aes128".into(),
                    password: Secret::new("priv-pass-1"),
                }),
            }),
            problems: Vec::new(),
            probes: vec![AssignedProbe {
                id: 3,
                kind: "dns".into(),
                target: "portal.example@10.0.0.53".into(),
                interval_s: 10,
                timeout_ms: 2000,
            }],
        };
        let debug = format!("{device:?}");
        for secret in ["hunter22", "auth-pass-1", "priv-pass-1"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let json = serde_json::to_value(&device).expect("json");
        assert_eq!(json["routeros"]["password"], "hunter22");
        assert_eq!(json["snmp"]["version"], "v3");
        assert_eq!(json["probes"][0]["target"], "portal.example@10.0.0.53");
        let back: AssignedDevice = serde_json::from_value(json.clone()).expect("back");
        assert_eq!(back, device);
        // An older server's answer has no probes: the device has none.
        let mut older = json;
        older.as_object_mut().expect("object").remove("probes");
        let older: AssignedDevice = serde_json::from_value(older).expect("older answer");
        assert!(older.probes.is_empty());
    }

    #[test]
    fn if_none_match_is_read_as_rfc_9110_says() {
        assert_eq!(etag("ab12"), "\"ab12\"");
        assert!(none_match("\"ab12\"", "ab12"));
        assert!(none_match("W/\"ab12\"", "ab12"));
        assert!(none_match("\"x\", \"ab12\"", "ab12"));
        assert!(none_match("*", "ab12"));
        assert!(!none_match("\"ab1\"", "ab12"));
        assert!(!none_match("", "ab12"));
    }
}
