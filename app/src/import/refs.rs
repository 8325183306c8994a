//! References by name in one CSV cell: a service's `depends_on` and a group's `members`.
//!
//! A cell lists entries separated by `;`, each `<kind>:<name>`:
//!
//! - `device:<device name>`
//! - `link:<a device>[:<a interface>]><b device>[:<b interface>][ (<kind>)]`, the link from `a`
//!   to `b` (direction matters). Omitted interfaces and kind match any; when several links
//!   still match, the one without interfaces on the omitted ends is taken if it is the only
//!   one, otherwise the reference is refused as ambiguous. Exports always write the kind.
//! - `group:<redundancy group name>`
//! - `service:<service name>`
//!
//! Names are matched without regard to case. A name holding `;` cannot be listed, nor a
//! device or interface name holding `:` or `>` in a link reference.

use std::collections::HashMap;

use crate::db::links::LinkEnds;
use crate::model::service::DependencyKind;

/// One entry of a list cell, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Device(String),
    Link(LinkRef),
    Group(String),
    Service(String),
}

/// A link as written: its ends, and what narrows them down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    pub a_device: String,
    pub a_interface: Option<String>,
    pub b_device: String,
    pub b_interface: Option<String>,
    pub kind: Option<String>,
}

impl Ref {
    pub fn kind(&self) -> DependencyKind {
        match self {
            Ref::Device(_) => DependencyKind::Device,
            Ref::Link(_) => DependencyKind::Link,
            Ref::Group(_) => DependencyKind::Group,
            Ref::Service(_) => DependencyKind::Service,
        }
    }
}

/// Reads a list cell; blank is an empty list, and so is a trailing `;`.
pub fn parse(cell: &str) -> Result<Vec<Ref>, String> {
    let mut refs = Vec::new();
    for entry in cell.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || {
            format!(
                "\"{entry}\" is not a reference: write device:<name>, link:<a>><b>, \
                 group:<name> or service:<name>, separated by ;"
            )
        };
        let (kind, name) = entry.split_once(':').ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("\"{entry}\" names nothing"));
        }
        let r = match kind.trim().to_lowercase().as_str() {
            "device" => Ref::Device(name.to_owned()),
            "group" => Ref::Group(name.to_owned()),
            "service" => Ref::Service(name.to_owned()),
            "link" => Ref::Link(parse_link(entry, name)?),
            _ => return Err(bad()),
        };
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    Ok(refs)
}

fn parse_link(entry: &str, text: &str) -> Result<LinkRef, String> {
    let (ends, kind) = match text.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
        Some((ends, kind)) => (ends.trim(), Some(kind.trim().to_lowercase())),
        None => (text, None),
    };
    let (a, b) = ends.split_once('>').ok_or_else(|| {
        format!("\"{entry}\" is not a link: write link:<a device>[:<interface>]><b device>")
    })?;
    let end = |s: &str| -> Result<(String, Option<String>), String> {
        let (device, interface) = match s.split_once(':') {
            Some((d, i)) => (d.trim(), Some(i.trim()).filter(|i| !i.is_empty())),
            None => (s.trim(), None),
        };
        if device.is_empty() {
            return Err(format!("\"{entry}\" lacks a device at one end"));
        }
        Ok((device.to_owned(), interface.map(str::to_owned)))
    };
    let (a_device, a_interface) = end(a)?;
    let (b_device, b_interface) = end(b)?;
    Ok(LinkRef {
        a_device,
        a_interface,
        b_device,
        b_interface,
        kind: kind.filter(|k| !k.is_empty()),
    })
}

/// The tenant's objects by lower-case name, and its links, loaded once per run.
#[derive(Debug, Default)]
pub struct Names {
    pub devices: HashMap<String, i64>,
    pub groups: HashMap<String, i64>,
    pub services: HashMap<String, i64>,
    pub links: Vec<LinkEnds>,
}

impl Names {
    /// The id of the object a reference names, or why there is none.
    pub fn resolve(&self, r: &Ref) -> Result<i64, String> {
        let by_name = |map: &HashMap<String, i64>, name: &str, what: &str| {
            map.get(&name.to_lowercase())
                .copied()
                .ok_or_else(|| format!("no {what} named \"{name}\""))
        };
        match r {
            Ref::Device(name) => by_name(&self.devices, name, "device"),
            Ref::Group(name) => by_name(&self.groups, name, "redundancy group"),
            Ref::Service(name) => by_name(&self.services, name, "service"),
            Ref::Link(l) => self.link(l),
        }
    }

    fn link(&self, l: &LinkRef) -> Result<i64, String> {
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        let fits = |given: &Option<String>, have: &Option<String>| match (given, have) {
            (None, _) => true,
            (Some(g), Some(h)) => same(g, h),
            (Some(_), None) => false,
        };
        let candidates: Vec<&LinkEnds> = self
            .links
            .iter()
            .filter(|e| {
                same(&e.a_device, &l.a_device)
                    && same(&e.b_device, &l.b_device)
                    && fits(&l.a_interface, &e.a_interface)
                    && fits(&l.b_interface, &e.b_interface)
                    && l.kind.as_deref().is_none_or(|k| same(k, &e.kind))
            })
            .collect();
        let what = format!("from \"{}\" to \"{}\"", l.a_device, l.b_device);
        match candidates.as_slice() {
            [one] => Ok(one.id),
            [] => Err(format!("no link {what} matches")),
            many => {
                // Interfaces left out mean "none" when that settles it.
                let bare: Vec<_> = many
                    .iter()
                    .filter(|e| {
                        (l.a_interface.is_some() || e.a_interface.is_none())
                            && (l.b_interface.is_some() || e.b_interface.is_none())
                    })
                    .collect();
                match bare.as_slice() {
                    [one] => Ok(one.id),
                    _ => Err(format!(
                        "{} links {what} match; name the interfaces \
                         (link:a:ether1>b:ether2) or the kind (link:a>b (ptp))",
                        many.len()
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(
        id: i64,
        a: &str,
        a_if: Option<&str>,
        b: &str,
        b_if: Option<&str>,
        kind: &str,
    ) -> LinkEnds {
        LinkEnds {
            id,
            a_device: a.into(),
            a_interface: a_if.map(Into::into),
            b_device: b.into(),
            b_interface: b_if.map(Into::into),
            kind: kind.into(),
        }
    }

    #[test]
    fn a_cell_lists_references_of_each_kind() {
        let refs = parse(
            " device:core1; link:core1:sfp1>edge2 (ptp) ;group:VIE uplinks;service:Acme DIA;",
        )
        .expect("parses");
        assert_eq!(
            refs,
            vec![
                Ref::Device("core1".into()),
                Ref::Link(LinkRef {
                    a_device: "core1".into(),
                    a_interface: Some("sfp1".into()),
                    b_device: "edge2".into(),
                    b_interface: None,
                    kind: Some("ptp".into()),
                }),
                Ref::Group("VIE uplinks".into()),
                Ref::Service("Acme DIA".into()),
            ]
        );
        assert_eq!(parse("").expect("blank"), vec![]);
        assert_eq!(parse("device:a;device:a").expect("twice").len(), 1);
        for bad in [
            "core1",
            "router:core1",
            "device:",
            "link:core1",
            "link:>edge2",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_are_found_by_what_is_given() {
        let names = Names {
            links: vec![
                ends(1, "core1", Some("sfp1"), "edge2", Some("ether1"), "ptp"),
                ends(2, "core1", None, "edge2", None, "ospf"),
                ends(3, "core1", Some("sfp2"), "edge3", None, "physical"),
                ends(4, "core1", Some("sfp3"), "edge3", None, "physical"),
            ],
            ..Names::default()
        };
        let link = |s: &str| match parse(s).expect("parses").pop() {
            Some(r) => names.resolve(&r),
            None => Err("nothing".into()),
        };
        assert_eq!(link("link:CORE1>edge2 (ptp)"), Ok(1));
        assert_eq!(link("link:core1:sfp1>edge2"), Ok(1));
        assert_eq!(link("link:core1>edge2 (ospf)"), Ok(2));
        assert_eq!(
            link("link:core1>edge2"),
            Ok(2),
            "no interfaces written: the bare one"
        );
        assert_eq!(link("link:core1:sfp3>edge3 (physical)"), Ok(4));
        let err = link("link:core1>edge3").expect_err("ambiguous");
        assert!(err.contains("2 links from \"core1\" to \"edge3\""), "{err}");
        let err = link("link:edge2>core1").expect_err("direction matters");
        assert!(err.contains("no link from \"edge2\" to \"core1\""), "{err}");
    }
}
