//! Property tests: cycles are always caught and DAGs always accepted; k-of-n groups; blast
//! radius, dependents and upstream sets agree with each other and with brute force.

mod gen;

use proptest::prelude::*;

use crate::{DeviceId, Failures, Graph, GraphBuilder, GraphError, GroupId, LinkId};
use crate::{Member, Object, Rule};
use gen::{choices, Model};

/// Every object of the graph.
fn objects(graph: &Graph) -> Vec<Object> {
    let devices = graph.devices().map(Object::Device);
    let links = graph.links().map(Object::Link);
    let groups = graph.groups().map(Object::Group);
    let services = graph.services().map(Object::Service);
    devices.chain(links).chain(groups).chain(services).collect()
}

fn failing(obj: Object) -> Option<Failures> {
    match obj {
        Object::Device(id) => Some(Failures::none().device(id)),
        Object::Link(id) => Some(Failures::none().link(id)),
        Object::Group(_) | Object::Service(_) => None,
    }
}

proptest! {
    #[test]
    fn random_dags_are_accepted(c in choices()) {
        let model = Model::from(&c);
        prop_assert!(model.builder().build().is_ok(), "{model:?}");
    }

    #[test]
    fn an_injected_back_edge_is_always_a_cycle(c in choices(), pick in any::<(u8, usize, usize)>()) {
        let mut model = Model::from(&c);
        let on_cycle = model.inject_cycle(pick);
        match model.builder().build() {
            Err(GraphError::Cycle { path }) => {
                prop_assert!(path.len() >= 2 && path.first() == path.last(), "{path:?}");
                prop_assert!(path.contains(&on_cycle), "{on_cycle} not in {path:?}");
            }
            other => prop_assert!(false, "expected a cycle, got {other:?}"),
        }
    }

    /// A site with n uplinks from n distinct roots, all in one group: it is up iff at least k
    /// members are up, so failing up to n − k members (a link, or the root it comes from)
    /// keeps it up, and failing n − k + 1 takes it down.
    #[test]
    fn k_of_n_group_decides_the_site(
        (n, k, order) in (1..=6usize).prop_flat_map(|n| {
            (Just(n), 1..=n, Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        }),
        failed in 0..=6usize,
        fail_root in prop::collection::vec(any::<bool>(), 6),
        named in any::<bool>(),
    ) {
        let failed = failed.min(n);
        let rule = match (named, k) {
            (true, 1) => Rule::Any,
            (true, k) if k == n => Rule::All,
            _ => Rule::KOfN(k),
        };
        let site = DeviceId(100);
        let mut b = GraphBuilder::new();
        b.add_device(site, "site", false);
        for i in 0..n {
            b.add_device(DeviceId(i as i64), format!("core-{i}"), true);
            b.add_uplink(LinkId(i as i64), format!("up-{i}"), DeviceId(i as i64), site);
        }
        let members = (0..n).map(|i| Member::Link(LinkId(i as i64)));
        b.add_group(GroupId(1), "g", rule, members);
        let graph = b.build().expect("valid");
        let mut failures = Failures::none();
        for &i in &order[..failed] {
            failures = if fail_root[i] {
                failures.device(DeviceId(i as i64))
            } else {
                failures.link(LinkId(i as i64))
            };
        }
        let expected = failed <= n - k;
        prop_assert_eq!(graph.device_up(site, &failures), Some(expected));
        prop_assert_eq!(graph.group_up(GroupId(1), &failures), Some(expected));
        prop_assert_eq!(graph.evaluate(&failures).device(site), Some(expected));
    }

    #[test]
    fn closures_and_blast_radius_agree(c in choices()) {
        let graph = Model::from(&c).builder().build().expect("valid");
        let all = objects(&graph);
        let upstream: Vec<_> = all.iter().map(|&y| graph.upstream_set(y).expect("known")).collect();
        let baseline = graph.evaluate(&Failures::none());
        for &x in &all {
            let down = graph.downstream(x).expect("known");
            let dependents = graph.dependents(x).expect("known");
            for (&y, up_y) in all.iter().zip(&upstream) {
                prop_assert_eq!(dependents.contains(y), up_y.contains(x), "{} / {}", x, y);
                if down.contains(y) {
                    prop_assert!(dependents.contains(y), "{y} in downstream({x}) only");
                    prop_assert!(up_y.contains(x), "{y} in downstream({x}), {x} not upstream");
                }
            }
            // Brute force: evaluate everything with x failed and diff with the baseline.
            if let Some(failures) = failing(x) {
                let after = graph.evaluate(&failures);
                let brute: Vec<Object> = all
                    .iter()
                    .copied()
                    .filter(|&y| y != x && baseline.is_up(y) == Some(true) && after.is_up(y) == Some(false))
                    .collect();
                prop_assert_eq!(down.iter().collect::<Vec<_>>(), brute, "downstream({})", x);
            }
        }
    }

    #[test]
    fn single_object_evaluation_matches_the_full_pass(
        c in choices(),
        picks in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let graph = Model::from(&c).builder().build().expect("valid");
        let all = objects(&graph);
        let mut failures = Failures::none();
        for p in picks {
            match all[p % all.len()] {
                Object::Device(id) => failures.devices.insert(id),
                Object::Link(id) => failures.links.insert(id),
                _ => false,
            };
        }
        let state = graph.evaluate(&failures);
        for &y in &all {
            prop_assert_eq!(graph.is_up(y, &failures), state.is_up(y), "{}", y);
        }
    }

    #[test]
    fn upstream_paths_are_uplink_chains_to_roots(c in choices()) {
        let graph = Model::from(&c).builder().build().expect("valid");
        for d in graph.devices() {
            let set = graph.upstream_set(d).expect("known");
            let mut seen = Vec::new();
            for path in graph.upstream_paths(d, 50).expect("known") {
                let mut below = d;
                for hop in &path {
                    prop_assert_eq!(graph.link_ends(hop.link), Some((hop.device, below)));
                    prop_assert!(set.contains(hop.link) && set.contains(hop.device));
                    below = hop.device;
                }
                prop_assert_eq!(graph.is_root(below), Some(true));
                prop_assert!(!seen.contains(&path), "duplicate path");
                seen.push(path);
            }
            // Reachable with nothing failed ⇒ some path to a root exists.
            if graph.device_up(d, &Failures::none()) == Some(true) {
                prop_assert!(!seen.is_empty());
            }
        }
    }
}
