//! Fault commands and time windows.

use super::*;

#[test]
fn commands_parse_with_delays_and_units() {
    let f = Fault::parse("+2m link-down vie-grz-fibre-a 90s", 1_000).expect("ok");
    assert_eq!(
        f,
        Fault {
            kind: FaultKind::LinkDown {
                link: "vie-grz-fibre-a".into()
            },
            from_ms: 121_000,
            until_ms: 211_000
        }
    );
    let f = Fault::parse("packet-loss l1 20% 1h", 0).expect("ok");
    assert_eq!(
        f.kind,
        FaultKind::PacketLoss {
            link: "l1".into(),
            percent: 20
        }
    );
    assert_eq!(f.until_ms, 3_600_000);
    assert!(Fault::parse("bgp-flap r1 arelion 3m", 0).is_ok());
    assert!(Fault::parse("pppoe-disconnect r1 5m", 0).is_ok());
    assert!(Fault::parse("router-down r1 300", 0).is_ok());
}

#[test]
fn bad_commands_say_what_is_wrong() {
    for (line, expected) in [
        ("", "empty fault"),
        ("link-down l1 5x", "bad duration unit"),
        ("packet-loss l1 140 5m", "bad loss percentage"),
        ("meteor-strike r1 5m", "unknown fault"),
        ("link-down 5m", "unknown fault"),
    ] {
        let err = Fault::parse(line, 0).expect_err(line);
        assert!(err.contains(expected), "{line:?}: {err}");
    }
}

#[test]
fn windows_merge_and_answer_questions() {
    let fault = |from_ms, until_ms| Fault {
        kind: FaultKind::LinkDown { link: "l".into() },
        from_ms,
        until_ms,
    };
    let faults = [
        fault(10_000, 20_000),
        fault(15_000, 30_000),
        fault(50_000, 60_000),
    ];
    let w = Windows::of(faults.iter());
    assert_eq!(w, Windows(vec![(10.0, 30.0), (50.0, 60.0)]));
    assert!(w.active(10.0) && w.active(29.9) && !w.active(30.0));
    assert_eq!(
        w.clipped(25.0, 55.0).collect::<Vec<_>>(),
        [(25.0, 30.0), (50.0, 55.0)]
    );
    assert_eq!(w.gaps(0.0, 55.0), [(0.0, 10.0), (30.0, 50.0)]);
    assert_eq!(w.gaps(12.0, 20.0), []);
    assert_eq!(w.gaps(55.0, 70.0), [(60.0, 70.0)]);
    assert_eq!(w.last_end(40.0), Some(30.0));
    assert_eq!(w.last_end(29.0), None);
    assert_eq!(w.started(52.0), Some(50.0));
    assert_eq!(w.starts(0.0, 50.0), 2);
}
