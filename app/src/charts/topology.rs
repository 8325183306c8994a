//! A site's topology as SVG: devices in layers by role (core at the top, CPEs at the bottom),
//! neighbours at other sites in a row above, links as lines. Written by hand because it is a
//! node-link diagram, not a chart: plotters has no graph layout, and a layered layout of a
//! site's few dozen devices is a few lines of arithmetic. Every device is a link to its page,
//! so the drawing works without JavaScript.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::charts::xml_escape;
use crate::model::device::{DeviceId, DeviceRole, DeviceRow};
use crate::model::link::LinkRow;
use crate::model::site::SiteRow;

/// The drawing shows at most this many of a site's devices.
pub const MAX_DEVICES: i64 = 500;

const NODE_W: i64 = 150;
const NODE_H: i64 = 44;
const GAP_X: i64 = 24;
const ROW_H: i64 = 110;
const MARGIN: i64 = 20;

struct Node {
    name: String,
    caption: String,
    external: bool,
    x: i64,
    y: i64,
}

fn layer(role: DeviceRole) -> usize {
    match role {
        DeviceRole::Core => 1,
        DeviceRole::Edge => 2,
        DeviceRole::Aggregation => 3,
        DeviceRole::Access => 4,
        DeviceRole::Cpe => 5,
    }
}

/// Renders the site. Links to devices elsewhere draw that device in the top row (layer 0),
/// dashed.
pub fn render(site: &SiteRow, devices: &[DeviceRow], links: &[LinkRow]) -> String {
    // Rows of (id, name, caption, external), in a stable order: by name within a row.
    let mut rows: BTreeMap<usize, Vec<(DeviceId, String, String, bool)>> = BTreeMap::new();
    for d in devices {
        rows.entry(layer(d.role)).or_default().push((
            d.id,
            d.name.clone(),
            format!("{} · {}", d.role, d.mgmt_address),
            false,
        ));
    }
    let local = |id: DeviceId| devices.iter().any(|d| d.id == id);
    for l in links {
        for (id, name) in [
            (l.a_device, &l.a_device_name),
            (l.b_device, &l.b_device_name),
        ] {
            let row = rows.entry(0).or_default();
            if !local(id) && !row.iter().any(|(seen, ..)| *seen == id) {
                row.push((id, name.clone(), "other site".to_owned(), true));
            }
        }
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(0) as i64;
    let width = (MARGIN * 2 + widest * (NODE_W + GAP_X) - GAP_X).max(320);
    let mut nodes: BTreeMap<DeviceId, Node> = BTreeMap::new();
    for (row_index, (_, mut row)) in rows.into_iter().enumerate() {
        row.sort_by(|a, b| a.1.cmp(&b.1));
        let row_w = row.len() as i64 * (NODE_W + GAP_X) - GAP_X;
        let left = (width - row_w) / 2;
        for (i, (id, name, caption, external)) in row.into_iter().enumerate() {
            nodes.insert(
                id,
                Node {
                    name,
                    caption,
                    external,
                    x: left + i as i64 * (NODE_W + GAP_X),
                    y: MARGIN + row_index as i64 * ROW_H,
                },
            );
        }
    }
    let rows_drawn = nodes
        .values()
        .map(|n| n.y)
        .max()
        .map_or(0, |y| (y - MARGIN) / ROW_H + 1);
    let height = (MARGIN * 2 + rows_drawn * ROW_H - (ROW_H - NODE_H)).max(80);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Topology of {}">"#,
        xml_escape(&site.name)
    );
    if nodes.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="44" text-anchor="middle" class="empty">No devices at this site yet.</text>"#,
            width / 2
        );
    }
    for l in links {
        let (Some(a), Some(b)) = (nodes.get(&l.a_device), nodes.get(&l.b_device)) else {
            continue;
        };
        let class = if l.upstream { "link" } else { "link peer" };
        let capacity = l
            .capacity_mbps
            .map(|c| format!(", {c} Mbit/s"))
            .unwrap_or_default();
        let _ = write!(
            svg,
            r#"<line class="{class}" data-link="{}" x1="{}" y1="{}" x2="{}" y2="{}"><title>{} ({}{capacity})</title></line>"#,
            l.id.0,
            a.x + NODE_W / 2,
            a.y + NODE_H,
            b.x + NODE_W / 2,
            b.y,
            xml_escape(&l.label()),
            l.kind,
        );
    }
    for (id, n) in &nodes {
        let class = if n.external { "node external" } else { "node" };
        let _ = write!(
            svg,
            r#"<a href="/inventory/devices/{}" data-device="{}"><g class="{class}"><rect x="{}" y="{}" width="{NODE_W}" height="{NODE_H}" rx="6"/><text x="{}" y="{}" class="name">{}</text><text x="{}" y="{}" class="caption">{}</text></g></a>"#,
            id.0,
            xml_escape(&n.name),
            n.x,
            n.y,
            n.x + 8,
            n.y + 18,
            xml_escape(&truncate(&n.name, 20)),
            n.x + 8,
            n.y + 35,
            xml_escape(&truncate(&n.caption, 24)),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::device::Vendor;
    use crate::model::link::{LinkId, LinkKind};
    use crate::model::site::SiteId;

    fn device(id: i64, name: &str, role: DeviceRole) -> DeviceRow {
        DeviceRow {
            id: DeviceId(id),
            name: name.into(),
            vendor: Vendor::Mikrotik,
            model: String::new(),
            role,
            site_id: SiteId(1),
            site_code: "VIE1".into(),
            mgmt_address: format!("10.0.0.{id}"),
            tags: vec![],
            enabled: true,
        }
    }

    fn link(id: i64, a: (i64, &str), b: (i64, &str)) -> LinkRow {
        LinkRow {
            id: LinkId(id),
            kind: LinkKind::Physical,
            a_device: DeviceId(a.0),
            a_device_name: a.1.into(),
            a_interface: None,
            b_device: DeviceId(b.0),
            b_device_name: b.1.into(),
            b_interface: None,
            upstream: true,
            capacity_mbps: Some(10_000),
            discovered: false,
        }
    }

    fn site() -> SiteRow {
        SiteRow {
            id: SiteId(1),
            name: "Vienna <1>".into(),
            code: "VIE1".into(),
            region: String::new(),
            address: String::new(),
            latitude: None,
            longitude: None,
            timezone: "UTC".into(),
            device_count: 2,
        }
    }

    /// The y of the node whose data-device attribute names `name`.
    fn node_y(svg: &str, name: &str) -> i64 {
        let at = svg.find(&format!(r#"data-device="{name}""#)).expect(name);
        let rest = &svg[at..];
        let y = rest.find(" y=\"").expect("y") + 4;
        rest[y..]
            .split('"')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("number")
    }

    #[test]
    fn roles_are_layers_and_neighbours_sit_on_top() {
        let devices = [
            device(2, "acc-1", DeviceRole::Access),
            device(1, "core-1", DeviceRole::Core),
        ];
        let links = [
            link(7, (1, "core-1"), (2, "acc-1")),
            link(8, (9, "upstream-x"), (1, "core-1")),
        ];
        let svg = render(&site(), &devices, &links);
        assert!(node_y(&svg, "upstream-x") < node_y(&svg, "core-1"));
        assert!(node_y(&svg, "core-1") < node_y(&svg, "acc-1"));
        assert_eq!(svg.matches("<line ").count(), 2);
        assert!(svg.contains(r#"href="/inventory/devices/9""#));
        assert!(svg.contains("node external"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = render(&site(), &[device(1, "a&b<c>", DeviceRole::Core)], &[]);
        assert!(svg.contains("a&amp;b&lt;c&gt;"));
        assert!(svg.contains("Vienna &lt;1&gt;"));
        assert!(!svg.contains("a&b"));
    }

    #[test]
    fn an_empty_site_says_so() {
        assert!(render(&site(), &[], &[]).contains("No devices at this site yet."));
    }
}
