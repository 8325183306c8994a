//! Matching neighbour rows to devices and links: both ends merge, states, orientation.

use super::*;

fn device(id: i64, name: &str, role: DeviceRole, address: &str) -> KnownDevice {
    KnownDevice {
        id: DeviceId(id),
        name: name.into(),
        role,
        mgmt_address: address.into(),
    }
}

fn devices() -> Vec<KnownDevice> {
    vec![
        device(1, "edge-1", DeviceRole::Edge, "10.0.0.1"),
        device(2, "core-1", DeviceRole::Core, "10.0.0.2"),
        device(3, "core-2", DeviceRole::Core, "10.0.0.3"),
    ]
}

fn seen(id: i64, device: i64, interface: &str, identity: &str, remote: &str) -> Neighbor {
    Neighbor {
        id,
        device: DeviceId(device),
        interface: interface.into(),
        identity: identity.into(),
        address: String::new(),
        mac: "4C:5E:0C:00:00:01".into(),
        platform: "MikroTik".into(),
        board: String::new(),
        remote_interface: remote.into(),
        last_seen: "2026-11-28T10:00:00Z".into(),
        dismissed: false,
    }
}

fn link(id: i64, a: (i64, Option<&str>), b: (i64, Option<&str>)) -> KnownLink {
    KnownLink {
        id: LinkId(id),
        a_device: DeviceId(a.0),
        a_interface: a.1.map(str::to_owned),
        b_device: DeviceId(b.0),
        b_interface: b.1.map(str::to_owned),
        label: format!("link {id}"),
    }
}

#[test]
fn both_ends_are_one_proposal_oriented_from_the_edge() {
    let rows = [
        seen(7, 2, "sfp1", "EDGE-1", "sfp28-1"),
        seen(4, 1, "sfp28-1", "core-1", ""),
    ];
    let p = propose(&rows, &devices(), &[]);
    assert_eq!(p.len(), 1, "{p:#?}");
    let p = &p[0];
    assert_eq!((p.state, p.key, p.both_ends), (ProposalState::New, 4, true));
    assert_eq!(p.neighbors, [4, 7]);
    assert_eq!(
        (p.a.name.as_str(), p.a.interface.as_deref()),
        ("edge-1", Some("sfp28-1"))
    );
    assert_eq!(
        (p.b.name.as_str(), p.b.interface.as_deref()),
        ("core-1", Some("sfp1"))
    );
    assert!(p.upstream);
    assert_eq!(p.kind, LinkKind::Physical);
}

#[test]
fn equal_roles_make_a_peer_and_wlan_a_wireless_link() {
    let p = propose(&[seen(1, 2, "wlan1", "core-2", "")], &devices(), &[]);
    assert_eq!((p[0].upstream, p[0].kind), (false, LinkKind::Wireless));
}

#[test]
fn links_decide_matches_and_differs() {
    let rows = [seen(1, 1, "sfp28-1", "core-1", "sfp1")];
    let agreeing = link(9, (1, Some("SFP28-1")), (2, Some("sfp1")));
    let p = propose(&rows, &devices(), &[agreeing]);
    assert_eq!(p[0].state, ProposalState::Matches);
    assert_eq!(p[0].link, Some((LinkId(9), "link 9".into())));
    // Reversed ends still agree; another interface, or none, differs.
    let reversed = link(9, (2, Some("sfp1")), (1, Some("sfp28-1")));
    assert_eq!(
        propose(&rows, &devices(), &[reversed])[0].state,
        ProposalState::Matches
    );
    for other in [
        link(5, (1, Some("sfp28-2")), (2, Some("sfp1"))),
        link(5, (1, None), (2, None)),
    ] {
        let p = propose(&rows, &devices(), &[other]);
        assert_eq!(p[0].state, ProposalState::Differs);
        assert_eq!(p[0].link.as_ref().map(|l| l.0), Some(LinkId(5)));
    }
    // A link between other devices is no concern of this proposal.
    let elsewhere = link(5, (1, Some("sfp28-2")), (3, None));
    assert_eq!(
        propose(&rows, &devices(), &[elsewhere])[0].state,
        ProposalState::New
    );
}

#[test]
fn the_remote_is_found_by_a_unique_address_or_is_unknown() {
    let mut by_address = seen(1, 1, "ether5", "", "");
    by_address.address = "10.0.0.3".into();
    assert_eq!(
        propose(&[by_address.clone()], &devices(), &[])[0].b.name,
        "core-2"
    );
    let mut shared = devices();
    shared.push(device(4, "core-3", DeviceRole::Core, "10.0.0.3"));
    let p = propose(&[by_address], &shared, &[]);
    assert_eq!(p[0].state, ProposalState::Unknown);
    assert_eq!(p[0].b.name, "4C:5E:0C:00:00:01");
    assert_eq!(
        p[0].remote,
        "address 10.0.0.3, mac 4C:5E:0C:00:00:01, platform MikroTik"
    );
}

#[test]
fn a_proposal_is_dismissed_only_when_all_its_rows_are_and_self_sightings_vanish() {
    let mut one = seen(1, 1, "sfp28-1", "core-1", "sfp1");
    one.dismissed = true;
    let other = seen(2, 2, "sfp1", "edge-1", "sfp28-1");
    assert!(!propose(&[one.clone(), other.clone()], &devices(), &[])[0].dismissed);
    let mut other = other;
    other.dismissed = true;
    assert!(propose(&[one, other], &devices(), &[])[0].dismissed);
    assert!(propose(&[seen(3, 1, "ether1", "edge-1", "")], &devices(), &[]).is_empty());
}
