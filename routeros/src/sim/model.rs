//! One simulated router as the data functions see it: its own settings plus everything derived
//! from the links (neighbours, OSPF adjacencies, iBGP sessions, wireless clients, netwatch).
//!
//! Derivation rules, so the demo's links decide what each router reports:
//! - `/ip/neighbor` (MNDP/LLDP): both ends of every `physical`, `ptp` and `wireless` link.
//! - OSPF: both ends of every `ospf` link, and of `physical`/`ptp` links between two devices
//!   whose roles are core, edge or aggregation (the routed part of the network).
//! - iBGP: both ends of every `bgp` link, in AS [`LOCAL_AS`]; eBGP: the device's `bgp_peers`.
//! - Wireless registrations: the other end of `wireless` links on `wireless`-type interfaces,
//!   which are `wlan` (the legacy `wireless` package) on v6, `wifiwave2` on 7.1–7.12 and `wifi`
//!   (the `wifi` package) from 7.13. A `capsman` manager also has `cap1` … `capN` interfaces and their clients.
//! - Netwatch: the `a` end of every upstream link the device is the `b` end of.

use std::net::{IpAddr, Ipv4Addr};

use super::topology::{Capsman, Device, Link, Topology};

/// The demo ISP's own AS (from the documentation range, RFC 5398).
pub const LOCAL_AS: u32 = 64500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().unwrap_or(Some(0))?;
        parts.next().is_none().then_some(Self(major, minor, patch))
    }

    pub fn is_v7(self) -> bool {
        self.0 >= 7
    }

    /// The interface type of a radio: the legacy `wireless` package on v6, the `wifiwave2`
    /// package on 7.1–7.12 and the `wifi` package (its new name) from 7.13. (Real 7.x radios
    /// too old for wifiwave2 kept the legacy package; the simulator gives every v7 radio the
    /// newer stack.)
    pub fn radio_type(self) -> &'static str {
        if self >= Version(7, 13, 0) {
            "wifi"
        } else if self.is_v7() {
            "wifiwave2"
        } else {
            "wlan"
        }
    }

    /// The demo's contract (see isp.toml): 6.x routers log in with the MD5 challenge. Real
    /// RouterOS switched to the plain login in 6.43; treating all of 6.x as legacy keeps that
    /// code path exercised by the demo fleet.
    pub fn legacy_login(self) -> bool {
        self.0 < 7
    }

    /// `!empty` for prints without items arrived in 7.18.
    pub fn sends_empty(self) -> bool {
        self >= Self(7, 18, 0)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// A link of the fleet file, as faults name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    pub id: String,
    /// The two routers it joins.
    pub ends: [String; 2],
}

#[derive(Debug, Clone)]
pub struct Iface {
    pub name: String,
    /// RouterOS's interface type: `ether`, `wlan` or `wifi` (radios), `cap`, …
    pub kind: String,
    pub speed_mbps: u64,
    pub role: String,
    /// True when a link uses it (or the file declares it); unused ports are not running.
    pub linked: bool,
    /// The links that name this port (a fault on one takes it down).
    pub links: Vec<LinkRef>,
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub link: LinkRef,
    /// The link names no port at our end (an `ospf` or `bgp` link between routers).
    pub logical: bool,
    /// The router at the other end.
    pub device: String,
    pub address: IpAddr,
    /// Our interface towards it.
    pub interface: String,
    /// Its interface towards us.
    pub remote_interface: String,
    pub model: String,
    pub version: Version,
    /// A /30 per link: ours and theirs.
    pub local_ip: Ipv4Addr,
    pub remote_ip: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub struct Bgp {
    pub name: String,
    pub remote_as: u32,
    pub remote_address: IpAddr,
    /// For iBGP, the link it runs over (down when either router is).
    pub link: Option<LinkRef>,
}

#[derive(Debug, Clone)]
pub struct Router {
    pub name: String,
    pub role: String,
    pub model: String,
    pub version: Version,
    pub address: IpAddr,
    pub api_port: u16,
    pub api_tls: bool,
    pub interfaces: Vec<Iface>,
    pub pppoe: Option<(u32, String)>,
    pub bgp: Vec<Bgp>,
    pub neighbors: Vec<Peer>,
    pub ospf: Vec<Peer>,
    pub wireless: Vec<Peer>,
    pub netwatch: Vec<Peer>,
    pub capsman: Option<Capsman>,
}

fn routed(role: &str) -> bool {
    matches!(role, "core" | "edge" | "aggregation")
}

fn ros_type(kind: &str, version: Version) -> &str {
    match kind {
        "" | "ethernet" | "sfp" | "sfp+" | "sfpplus" | "qsfp" => "ether",
        "wireless" => version.radio_type(),
        other => other,
    }
}

impl Router {
    pub fn build_all(topology: &Topology) -> Vec<Router> {
        topology
            .routers()
            .map(|device| Self::build(device, topology))
            .collect()
    }

    fn build(device: &Device, topology: &Topology) -> Router {
        let version = device
            .routeros
            .as_deref()
            .and_then(Version::parse)
            .unwrap_or(Version(7, 16, 2));
        let mut router = Router {
            name: device.name.clone(),
            role: device.role.clone(),
            model: if device.model.is_empty() {
                "RB5009UG+S+".into()
            } else {
                device.model.clone()
            },
            version,
            address: device.address,
            api_port: device
                .api_port
                .unwrap_or(if device.api_tls { 8729 } else { 8728 }),
            api_tls: device.api_tls,
            interfaces: device
                .interfaces
                .iter()
                .map(|i| Iface {
                    name: i.name.clone(),
                    kind: ros_type(&i.kind, version).to_owned(),
                    speed_mbps: i.speed_mbps.unwrap_or(1000),
                    role: i.role.clone(),
                    linked: i.role != "other" && i.role != "unused",
                    links: Vec::new(),
                })
                .collect(),
            pppoe: device
                .pppoe
                .as_ref()
                .map(|p| (p.sessions, p.prefix.clone())),
            bgp: device
                .bgp_peers
                .iter()
                .map(|p| Bgp {
                    name: p.name.clone(),
                    remote_as: p.remote_as,
                    remote_address: p.address,
                    link: None,
                })
                .collect(),
            neighbors: Vec::new(),
            ospf: Vec::new(),
            wireless: Vec::new(),
            netwatch: Vec::new(),
            capsman: device.capsman.clone(),
        };
        if router.interfaces.is_empty() {
            router.interfaces.push(Iface {
                name: "ether1".into(),
                kind: "ether".into(),
                speed_mbps: 1000,
                role: "uplink".into(),
                linked: true,
                links: Vec::new(),
            });
        }
        // The manager shows each managed radio as a dynamic `cap` interface.
        let caps = router.capsman.as_ref().map_or(0, |c| c.caps);
        for i in 1..=caps {
            router.interfaces.push(Iface {
                name: format!("cap{i}"),
                kind: "cap".into(),
                speed_mbps: 300,
                role: "downlink".into(),
                linked: true,
                links: Vec::new(),
            });
        }
        for (index, link) in topology.links.iter().enumerate() {
            router.add_link(index, link, topology);
        }
        // An `ospf` link without ports only says "these two are neighbours": when a link with
        // ports already gives that adjacency, it adds nothing.
        let explicit: Vec<String> = router
            .ospf
            .iter()
            .filter(|p| !p.logical)
            .map(|p| p.device.clone())
            .collect();
        router
            .ospf
            .retain(|p| !p.logical || !explicit.contains(&p.device));
        router
    }

    /// Adds what one link means for this router, if it is one of its ends.
    fn add_link(&mut self, index: usize, link: &Link, topology: &Topology) {
        let (a, a_if) = Link::end(&link.a);
        let (b, b_if) = Link::end(&link.b);
        let (we_are_a, my_if, other, other_if) = if a == self.name {
            (true, a_if, b, b_if)
        } else if b == self.name {
            (false, b_if, a, a_if)
        } else {
            return;
        };
        let Some(remote) = topology.devices.iter().find(|d| d.name == other) else {
            return;
        };
        let speed = link.capacity_mbps.unwrap_or(1000);
        let link_ref = LinkRef {
            id: link.id.clone(),
            ends: [a.to_owned(), b.to_owned()],
        };
        let interface = match my_if {
            Some(name) => self.ensure_interface(name, speed, &link.kind, &link_ref),
            None => self.default_interface(),
        };
        let remote_interface = other_if
            .map(str::to_owned)
            .or_else(|| remote.interfaces.first().map(|i| i.name.clone()))
            .unwrap_or_else(|| "ether1".into());
        // 10.255.0.0/16 carved into one /30 per link; `a` takes .1, `b` takes .2.
        let base = 0x0AFF_0000_u32 | ((index as u32 & 0x3FFF) << 2);
        let (mine, theirs) = if we_are_a {
            (base + 1, base + 2)
        } else {
            (base + 2, base + 1)
        };
        let peer = Peer {
            link: link_ref.clone(),
            logical: my_if.is_none(),
            device: remote.name.clone(),
            address: remote.address,
            interface: interface.clone(),
            remote_interface,
            model: remote.model.clone(),
            version: remote
                .routeros
                .as_deref()
                .and_then(Version::parse)
                .unwrap_or(Version(7, 16, 2)),
            local_ip: Ipv4Addr::from(mine),
            remote_ip: Ipv4Addr::from(theirs),
        };
        let layer2 = matches!(link.kind.as_str(), "physical" | "ptp" | "wireless");
        if layer2 {
            self.neighbors.push(peer.clone());
        }
        let routed_link = matches!(link.kind.as_str(), "physical" | "ptp")
            && routed(&self.role)
            && routed(&remote.role);
        if link.kind == "ospf" || routed_link {
            self.ospf.push(peer.clone());
        }
        if link.kind == "bgp" {
            self.bgp.push(Bgp {
                name: format!("ibgp-{}", remote.name),
                remote_as: LOCAL_AS,
                remote_address: remote.address,
                link: Some(link_ref.clone()),
            });
        }
        let on_radio = self
            .interfaces
            .iter()
            .any(|i| i.name == interface && i.kind == self.version.radio_type());
        if link.kind == "wireless" && on_radio {
            self.wireless.push(peer.clone());
        }
        if link.upstream && !we_are_a {
            self.netwatch.push(peer);
        }
    }

    /// The port a link without ports runs over: an uplink, else any data port.
    fn default_interface(&self) -> String {
        let by_role = |role: &str| self.interfaces.iter().find(|i| i.role == role);
        by_role("uplink")
            .or_else(|| self.interfaces.iter().find(|i| i.role != "management"))
            .or(self.interfaces.first())
            .map_or_else(|| "ether1".to_owned(), |i| i.name.clone())
    }

    /// Finds or adds the interface a link names (files may leave ports undeclared).
    fn ensure_interface(
        &mut self,
        name: &str,
        speed_mbps: u64,
        link_kind: &str,
        link: &LinkRef,
    ) -> String {
        match self.interfaces.iter_mut().find(|i| i.name == name) {
            Some(iface) => {
                iface.linked = true;
                iface.links.push(link.clone());
            }
            None => self.interfaces.push(Iface {
                name: name.to_owned(),
                kind: if link_kind == "wireless" && name.starts_with("wlan") {
                    self.version.radio_type().into()
                } else {
                    "ether".into()
                },
                speed_mbps,
                role: "link".into(),
                linked: true,
                links: vec![link.clone()],
            }),
        }
        name.to_owned()
    }
}
