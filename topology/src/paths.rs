//! Upstream paths: the physical routes from a device up to the roots, hop by hop.

#[cfg(test)]
mod tests;

use crate::graph::Graph;
use crate::ids::{DeviceId, LinkId};

/// One step up a path: the uplink taken and the upstream device it leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hop {
    pub link: LinkId,
    pub device: DeviceId,
}

impl Graph {
    /// Up to `limit` distinct paths from `device` to a root, each a sequence of hops whose last
    /// device is a root. Paths follow uplinks only: groups change whether a device is up, not
    /// where its traffic goes, so [`Graph::upstream_set`] (which also holds the members of the
    /// device's groups) can be larger than the union of these paths. Depth-first, trying
    /// uplinks in the order they were added; dead ends (uplinks from which no root can be
    /// reached) are skipped without being walked.
    ///
    /// A root has exactly one path, the empty one; a device that cannot reach a root has none.
    /// `None` if the graph does not hold `device`.
    pub fn upstream_paths(&self, device: DeviceId, limit: usize) -> Option<Vec<Vec<Hop>>> {
        let start = self.node(device.into())?;
        let mut paths = Vec::new();
        if limit == 0 || !self.reaches_root[start] {
            return Some(paths);
        }
        // The path so far, as (link node, device node), and per depth the next uplink to try.
        let mut hops: Vec<(usize, usize)> = Vec::new();
        let mut next: Vec<usize> = vec![0];
        while let Some(&i) = next.last() {
            let at = hops.last().map_or(start, |&(_, d)| d);
            if self.need[at] == 0 {
                // A root: the path is complete. Roots have no uplinks, so back off.
                paths.push(self.hops(&hops));
                if paths.len() == limit {
                    break;
                }
                next.pop();
                hops.pop();
                continue;
            }
            let uplinks = self.uplinks.row(at);
            match uplinks.get(i) {
                None => {
                    next.pop();
                    hops.pop();
                }
                Some(&link) => {
                    if let Some(top) = next.last_mut() {
                        *top += 1;
                    }
                    let (upstream, _) = self.link_ends[link - self.layout.link_base()];
                    if self.reaches_root[upstream] {
                        hops.push((link, upstream));
                        next.push(0);
                    }
                }
            }
        }
        Some(paths)
    }

    fn hops(&self, hops: &[(usize, usize)]) -> Vec<Hop> {
        hops.iter()
            .map(|&(link, device)| Hop {
                link: LinkId(self.ids[link]),
                device: DeviceId(self.ids[device]),
            })
            .collect()
    }
}
