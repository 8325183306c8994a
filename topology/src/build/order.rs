//! Topological order of the dependency graph (Kahn's algorithm), or one cycle if there is none.

use crate::csr::Csr;

/// Every node, each after all of its dependencies; or, if the graph has a cycle, the nodes of
/// one cycle in dependency order, starting and ending with the same node. O(V + E).
pub(super) fn topological_order(deps: &Csr, rdeps: &Csr) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.rows();
    let mut pending: Vec<usize> = (0..n).map(|v| deps.row(v).len()).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&v| pending[v] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(v) = ready.pop() {
        order.push(v);
        for &w in rdeps.row(v) {
            pending[w] -= 1;
            if pending[w] == 0 {
                ready.push(w);
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err(find_cycle(deps, &pending))
    }
}

/// Every node left unordered by Kahn's algorithm still waits on a dependency that is itself
/// unordered, so following such dependencies from any of them must come back round: a cycle.
fn find_cycle(deps: &Csr, pending: &[usize]) -> Vec<usize> {
    let stuck = |v: usize| pending[v] > 0;
    let mut seen_at: Vec<Option<usize>> = vec![None; pending.len()];
    let mut walk = Vec::new();
    // Start from the lowest stuck node: devices come first, so a device cycle reads from a
    // device, and the same input always gives the same message.
    let mut v = (0..pending.len()).find(|&v| stuck(v)).unwrap_or(0);
    let start = loop {
        if let Some(at) = seen_at[v] {
            break at;
        }
        seen_at[v] = Some(walk.len());
        walk.push(v);
        match deps.row(v).iter().copied().find(|&d| stuck(d)) {
            Some(d) => v = d,
            // Unreachable by the argument above; ending the walk keeps this panic-free.
            None => break walk.len() - 1,
        }
    };
    let mut cycle = walk.split_off(start);
    // Rotate to start at the lowest node, for a stable message whatever the entry point.
    if let Some(min_at) = (0..cycle.len()).min_by_key(|&i| cycle[i]) {
        cycle.rotate_left(min_at);
    }
    if let Some(&first) = cycle.first() {
        cycle.push(first);
    }
    cycle
}
