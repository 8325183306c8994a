//! The fleet file (`server/demo/isp.toml`): only the fields the simulator uses.
//!
//! Unknown fields and tables (customers, redundancy groups, polling profiles) are ignored on
//! purpose, so the file can grow without breaking the simulator.

use std::net::IpAddr;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Topology {
    /// The API login every simulated router accepts (the demo's credential profile).
    #[serde(default)]
    pub credential: Option<Credential>,
    #[serde(default, rename = "device")]
    pub devices: Vec<Device>,
    #[serde(default, rename = "link")]
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Device {
    pub name: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub model: String,
    /// The RouterOS version to impersonate, e.g. "7.16.2" or "6.49.17".
    pub routeros: Option<String>,
    pub address: IpAddr,
    pub api_port: Option<u16>,
    #[serde(default)]
    pub api_tls: bool,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    pub pppoe: Option<Pppoe>,
    #[serde(default)]
    pub bgp_peers: Vec<BgpPeer>,
    /// A legacy CAPsMAN manager: the access points it manages and their clients.
    pub capsman: Option<Capsman>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Interface {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    pub speed_mbps: Option<u64>,
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pppoe {
    pub sessions: u32,
    #[serde(default)]
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Capsman {
    /// Managed radios, the manager's `cap1` … `capN` interfaces.
    pub caps: u32,
    /// Clients registered over all of them at most (a few come and go).
    pub clients: u32,
    pub ssid: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BgpPeer {
    pub name: String,
    pub remote_as: u32,
    pub address: IpAddr,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub id: String,
    /// `device` or `device:interface`.
    pub a: String,
    pub b: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub upstream: bool,
    pub capacity_mbps: Option<u64>,
}

impl Link {
    /// The device and (if given) interface of one end.
    pub fn end(spec: &str) -> (&str, Option<&str>) {
        match spec.split_once(':') {
            Some((device, interface)) => (device, Some(interface)),
            None => (spec, None),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {path}: {message}")]
    Parse { path: String, message: String },
    #[error("link {link:?}: no device named {device:?}")]
    UnknownDevice { link: String, device: String },
    #[error("device {device:?}: RouterOS version {version:?} is not like \"7.16.2\"")]
    BadVersion { device: String, version: String },
    #[error("device {0:?} appears twice")]
    DuplicateDevice(String),
}

impl Topology {
    pub fn parse(text: &str, path: &str) -> Result<Self, TopologyError> {
        let topology: Self = toml::from_str(text).map_err(|e| TopologyError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        topology.check()?;
        Ok(topology)
    }

    pub fn load(path: &std::path::Path) -> Result<Self, TopologyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// The MikroTik devices (others in the file are not simulated).
    pub fn routers(&self) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(|d| {
            d.vendor
                .as_deref()
                .is_none_or(|v| v.eq_ignore_ascii_case("mikrotik"))
        })
    }

    fn check(&self) -> Result<(), TopologyError> {
        let mut names = std::collections::BTreeSet::new();
        for device in &self.devices {
            if !names.insert(device.name.as_str()) {
                return Err(TopologyError::DuplicateDevice(device.name.clone()));
            }
            if let Some(version) = &device.routeros {
                if super::model::Version::parse(version).is_none() {
                    return Err(TopologyError::BadVersion {
                        device: device.name.clone(),
                        version: version.clone(),
                    });
                }
            }
        }
        for link in &self.links {
            for spec in [&link.a, &link.b] {
                let (device, _) = Link::end(spec);
                if !names.contains(device) {
                    return Err(TopologyError::UnknownDevice {
                        link: link.id.clone(),
                        device: device.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}
