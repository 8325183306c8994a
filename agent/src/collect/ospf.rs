//! `/routing/ospf/neighbor`: adjacency state per neighbour. Instance = the neighbour's router
//! ID, or `<router-id>@<interface>` when the same router is a neighbour over two interfaces
//! (docs/metrics.md). States are RFC 2328's in snake_case (`2-Way` is `two_way`).

use std::collections::HashMap;

use routeros::{Attributes, Request};

use super::{field, labels, Out};

pub fn request() -> Request {
    Request::new("/routing/ospf/neighbor/print").proplist([
        "router-id",
        "address",
        "interface",
        "state",
    ])
}

fn state(text: &str) -> Option<&'static str> {
    Some(match text.to_ascii_lowercase().as_str() {
        "down" => "down",
        "attempt" => "attempt",
        "init" => "init",
        "2-way" | "two-way" | "twoway" => "two_way",
        "exstart" => "exstart",
        "exchange" => "exchange",
        "loading" => "loading",
        "full" => "full",
        _ => return None,
    })
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    let mut per_router: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        if let Some(id) = field(row, "router-id") {
            *per_router.entry(id).or_default() += 1;
        }
    }
    for row in rows {
        let (Some(id), Some(state)) =
            (field(row, "router-id"), field(row, "state").and_then(state))
        else {
            continue;
        };
        let interface = field(row, "interface");
        let instance = match interface {
            Some(i) if per_router.get(id).copied().unwrap_or(0) > 1 && !i.is_empty() => {
                format!("{id}@{i}")
            }
            _ => id.to_owned(),
        };
        let sample = out.state("ospf_neighbor_state", Some(&instance), state);
        labels(
            sample,
            [("address", field(row, "address")), ("interface", interface)],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, rows, state_of};

    #[test]
    fn neighbours_by_router_id() {
        let rows = rows("ospf");
        let mut out = out();
        parse(&rows, &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(out.samples.len(), rows.len());
        let id = rows[0]["router-id"].as_str();
        assert_eq!(
            state_of(&out, "ospf_neighbor_state", id).as_deref(),
            Some("full")
        );
    }

    #[test]
    fn one_router_over_two_interfaces_and_v6_spellings() {
        let mut out = out();
        parse(&rows("ospf-edge"), &mut out);
        crate::collect::assert_valid(&out.samples);
        assert_eq!(
            state_of(&out, "ospf_neighbor_state", "10.0.0.1@ether1").as_deref(),
            Some("full")
        );
        assert_eq!(
            state_of(&out, "ospf_neighbor_state", "10.0.0.1@ether2").as_deref(),
            Some("two_way")
        );
        assert_eq!(
            state_of(&out, "ospf_neighbor_state", "10.0.0.2").as_deref(),
            Some("exstart")
        );
    }
}
