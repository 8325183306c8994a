//! Probe targets: what an agent's probe checks, parsed from a kind and a target text, and the
//! series instance its samples carry (`icmp:10.0.0.1`, `tcp:10.0.0.1:8291`,
//! `dns:portal.example@10.0.0.53`, `http:https://portal.example/health`). The server checks a
//! probe defined on the device page with [`Check::parse`] and stores [`Check::target`]; the
//! agent parses the same text, so a probe has one spelling end to end and its samples land on
//! the series the device page reads back.

use std::net::{IpAddr, SocketAddr};

/// The longest target text accepted (the instance adds the kind and a colon, within
/// [`crate::MAX_INSTANCE_BYTES`]).
pub const MAX_TARGET_BYTES: usize = 190;

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Icmp(IpAddr),
    /// `host:port`.
    Tcp(String),
    /// An `http://` or `https://` URL; a 2xx or 3xx answer is up.
    Http(String),
    /// A name to resolve (its A record) at one server.
    Dns {
        name: String,
        server: SocketAddr,
    },
}

impl Check {
    /// From a kind (`icmp`, `tcp`, `dns`, `http`) and its target; the error says what is wrong
    /// in words an operator can act on.
    pub fn parse(kind: &str, target: &str) -> Result<Self, String> {
        let target = target.trim();
        if target.is_empty() {
            return Err("the target is empty".to_owned());
        }
        if target.len() > MAX_TARGET_BYTES {
            return Err(format!(
                "the target is longer than {MAX_TARGET_BYTES} bytes"
            ));
        }
        if target.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "target {target:?} holds a space or a control character"
            ));
        }
        match kind.trim() {
            "icmp" => target
                .parse()
                .map(Self::Icmp)
                .map_err(|_| format!("icmp target {target:?} is not an IP address")),
            "tcp" => {
                let Some((host, port)) = target.rsplit_once(':') else {
                    return Err(format!("tcp target {target:?} must be host:port"));
                };
                if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
                    return Err(format!(
                        "tcp target {target:?} must be host:port with a port 1-65535"
                    ));
                }
                Ok(Self::Tcp(target.to_owned()))
            }
            "http" => {
                let scheme = ["http://", "https://"].iter().any(|s| {
                    target
                        .get(..s.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(s))
                });
                if !scheme {
                    return Err(format!(
                        "http target {target:?} must start with http:// or https://"
                    ));
                }
                let url = url::Url::parse(target)
                    .map_err(|e| format!("http target {target:?} is not a URL: {e}"))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(format!("http target {target:?} names no host"));
                }
                Ok(Self::Http(target.to_owned()))
            }
            "dns" => {
                let Some((name, server)) = target.rsplit_once('@') else {
                    return Err(format!(
                        "dns target {target:?} must be name@server (portal.example@10.0.0.53)"
                    ));
                };
                if !is_dns_name(name) {
                    return Err(format!("dns target {target:?}: {name:?} is not a DNS name"));
                }
                let server = match server.parse::<SocketAddr>() {
                    Ok(address) => address,
                    Err(_) => SocketAddr::new(
                        server.parse().map_err(|_| {
                            format!(
                                "dns target {target:?}: {server:?} is not an address or address:port"
                            )
                        })?,
                        53,
                    ),
                };
                Ok(Self::Dns {
                    name: name.trim_end_matches('.').to_ascii_lowercase(),
                    server,
                })
            }
            other => Err(format!(
                "unknown probe kind {other:?} (icmp, tcp, dns, http)"
            )),
        }
    }

    /// `icmp`, `tcp`, `dns` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Icmp(_) => "icmp",
            Self::Tcp(_) => "tcp",
            Self::Http(_) => "http",
            Self::Dns { .. } => "dns",
        }
    }

    /// The target in its one spelling: what [`Check::parse`] reads back to the same check.
    pub fn target(&self) -> String {
        match self {
            Self::Icmp(ip) => ip.to_string(),
            Self::Tcp(target) | Self::Http(target) => target.clone(),
            // Port 53 is left out, so a server has one spelling.
            Self::Dns { name, server } if server.port() == 53 => format!("{name}@{}", server.ip()),
            Self::Dns { name, server } => format!("{name}@{server}"),
        }
    }

    /// The series instance (`probe_target`): `<kind>:<target>`.
    pub fn instance(&self) -> String {
        format!("{}:{}", self.kind(), self.target())
    }
}

/// A host name as DNS spells it (RFC 1035 §2.3.1, with `_` allowed as service names use it):
/// labels of 1-63 letters, digits, `-` and `_`, not starting or ending with `-`, 253 bytes in
/// all; one trailing dot allowed. Written here because the DNS crates would bring a resolver
/// stack into this small contract crate for a dozen lines of syntax.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InstanceKind;

    #[test]
    fn targets_parse_to_one_spelling_and_a_valid_instance() {
        for (kind, target, spelled, instance) in [
            ("icmp", " 10.0.0.1 ", "10.0.0.1", "icmp:10.0.0.1"),
            ("icmp", "2001:db8::1", "2001:db8::1", "icmp:2001:db8::1"),
            ("tcp", "10.0.0.1:8291", "10.0.0.1:8291", "tcp:10.0.0.1:8291"),
            (
                "tcp",
                "portal.example:443",
                "portal.example:443",
                "tcp:portal.example:443",
            ),
            (
                "dns",
                "Portal.Example.@10.0.0.53",
                "portal.example@10.0.0.53",
                "dns:portal.example@10.0.0.53",
            ),
            (
                "dns",
                "portal.example@10.0.0.53:5353",
                "portal.example@10.0.0.53:5353",
                "dns:portal.example@10.0.0.53:5353",
            ),
            (
                "dns",
                "portal.example@[::1]:5353",
                "portal.example@[::1]:5353",
                "dns:portal.example@[::1]:5353",
            ),
            (
                "http",
                "https://portal.example/health",
                "https://portal.example/health",
                "http:https://portal.example/health",
            ),
        ] {
            let check = Check::parse(kind, target).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!(check.kind(), kind);
            assert_eq!(check.target(), spelled);
            assert_eq!(check.instance(), instance);
            assert_eq!(
                Check::parse(kind, &check.target()),
                Ok(check.clone()),
                "round trip"
            );
            assert!(
                InstanceKind::ProbeTarget
                    .check(Some(&check.instance()))
                    .is_ok(),
                "{instance} is a valid probe_target"
            );
        }
    }

    #[test]
    fn bad_targets_say_what_is_wrong() {
        for (kind, target, says) in [
            ("icmp", "cpe-9.example", "not an IP address"),
            ("tcp", "10.0.0.1", "must be host:port"),
            ("tcp", "10.0.0.1:0", "port 1-65535"),
            ("tcp", ":80", "port 1-65535"),
            ("http", "portal.example/health", "must start with http://"),
            ("http", "https://", "not a URL"),
            ("dns", "portal.example", "name@server"),
            ("dns", "-bad.example@10.0.0.53", "not a DNS name"),
            ("dns", "a..b@10.0.0.53", "not a DNS name"),
            ("dns", "@10.0.0.53", "not a DNS name"),
            ("dns", "portal.example@dns.example", "not an address"),
            ("ping", "10.0.0.1", "unknown probe kind \"ping\""),
            ("icmp", "", "empty"),
            ("http", "https://portal.example/a b", "space"),
            ("tcp", "a\u{7}:80", "control character"),
        ] {
            let err = Check::parse(kind, target).expect_err(target);
            assert!(err.contains(says), "{kind} {target:?}: {err}");
        }
        let long = format!("https://{}.example/", "a".repeat(MAX_TARGET_BYTES));
        assert!(Check::parse("http", &long)
            .expect_err("too long")
            .contains("longer than"));
        let label = format!("{}.example@10.0.0.53", "a".repeat(64));
        assert!(Check::parse("dns", &label).is_err(), "a 64-byte label");
    }
}
