//! Table-driven tests of `validate`: each rejection reason, its message, and how rejections are
//! counted and summarised in the response.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::event::{
    MAX_MESSAGE_BYTES, MAX_NEIGHBOR_INTERFACE_BYTES, MAX_NEIGHBOR_PROTOCOLS,
    MAX_NEIGHBOR_TEXT_BYTES, MAX_TOPICS, MAX_USER_BYTES,
};
use super::sample::{MAX_LABEL_VALUE_BYTES, MAX_REASON_BYTES};
use super::*;
use crate::response::Tally;
use crate::wire::{AgentInfo, Event, EventDetail, Value};

const NOW: UnixMs = UnixMs(1_795_822_200_000);

fn sample(metric: &str, value: Value) -> Sample {
    Sample {
        device: DeviceRef::Id(1),
        metric: metric.to_owned(),
        instance: None,
        ts: NOW,
        value,
        reason: None,
        labels: BTreeMap::new(),
    }
}

fn num(metric: &str, v: f64) -> Sample {
    sample(metric, Value::Number(v))
}

fn state(metric: &str, s: &str) -> Sample {
    sample(metric, Value::State(s.to_owned()))
}

fn on(instance: &str, mut s: Sample) -> Sample {
    s.instance = Some(instance.to_owned());
    s
}

fn batch(samples: Vec<Sample>, events: Vec<Event>) -> Batch {
    Batch {
        batch_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
        agent: AgentInfo {
            name: "pop-north".into(),
            version: "0.1.0".into(),
        },
        sent_at: NOW,
        samples,
        events,
    }
}

fn run(samples: Vec<Sample>) -> Validated {
    validate(
        batch(samples, vec![]),
        &Registry::v1(),
        NOW,
        &Limits::default(),
    )
    .expect("a valid batch")
}

/// The reason and message of a single sample's rejection (`None` if accepted).
fn verdict(s: Sample) -> Option<(RejectReason, String)> {
    let v = run(vec![s]);
    v.sample_rejections
        .first()
        .map(|r| (r.reason, r.message.clone()))
}

fn reason(s: Sample) -> Option<RejectReason> {
    verdict(s).map(|(r, _)| r)
}

#[test]
fn good_samples_of_every_kind_are_accepted_with_their_spec() {
    let v = run(vec![
        num("cpu_load_percent", 12.5),
        on("ether1", num("interface_rx_bytes_total", 1e15)),
        state("up", "up"),
        {
            let mut s = state("up", "down");
            s.reason = Some("timeout after 5 s".into());
            s.device = DeviceRef::Id(2);
            s
        },
        on("AA:BB:CC:00:11:22", num("wireless_signal_dbm", -67.0)),
    ]);
    assert_eq!(v.sample_rejections, vec![]);
    let names: Vec<_> = v.samples.iter().map(|a| (a.index, a.spec.name)).collect();
    assert_eq!(
        names,
        [
            (0, "cpu_load_percent"),
            (1, "interface_rx_bytes_total"),
            (2, "up"),
            (3, "up"),
            (4, "wireless_signal_dbm")
        ]
    );
}

#[test]
fn unknown_metric() {
    assert_eq!(
        verdict(num("cpu_load", 1.0)),
        Some((
            RejectReason::UnknownMetric,
            r#"sample 0 ("cpu_load" on device 1): the metric is not in the registry"#.into()
        ))
    );
}

#[test]
fn unknown_device_when_the_reference_cannot_match() {
    for device in [
        DeviceRef::Id(0),
        DeviceRef::Id(-3),
        DeviceRef::Name(String::new()),
        DeviceRef::Name("x".repeat(101)),
    ] {
        let mut s = num("cpu_load_percent", 1.0);
        s.device = device.clone();
        assert_eq!(reason(s), Some(RejectReason::UnknownDevice), "{device:?}");
    }
    let mut s = num("cpu_load_percent", 1.0);
    s.device = DeviceRef::Name("core-1".into());
    assert_eq!(reason(s), None);
}

#[test]
fn timestamps_outside_the_window_at_its_exact_edges() {
    let limits = Limits::default();
    let at = |ts: i64| {
        let mut s = num("cpu_load_percent", 1.0);
        s.ts = UnixMs(ts);
        reason(s)
    };
    assert_eq!(at(NOW.0 - limits.max_age_ms), None);
    assert_eq!(
        at(NOW.0 - limits.max_age_ms - 1),
        Some(RejectReason::TooOld)
    );
    assert_eq!(
        at(0),
        Some(RejectReason::TooOld),
        "a RouterOS clock without NTP starts in 1970"
    );
    assert_eq!(at(NOW.0 + limits.max_future_ms), None);
    assert_eq!(
        at(NOW.0 + limits.max_future_ms + 1),
        Some(RejectReason::InFuture)
    );
    assert_eq!(at(i64::MAX), Some(RejectReason::InFuture));
}

#[test]
fn bad_instance() {
    assert_eq!(
        verdict(on("ether1", num("cpu_load_percent", 1.0))),
        Some((
            RejectReason::BadInstance,
            r#"sample 0 ("cpu_load_percent" on device 1): the metric is device-wide and takes no instance"#.into()
        ))
    );
    assert_eq!(
        reason(num("interface_rx_bytes_total", 1.0)),
        Some(RejectReason::BadInstance)
    );
    assert_eq!(
        reason(on("ping:8.8.8.8", num("probe_rtt_ms", 1.0))),
        Some(RejectReason::BadInstance)
    );
    assert_eq!(reason(on("icmp:8.8.8.8", num("probe_rtt_ms", 1.0))), None);
}

#[test]
fn bad_label() {
    let with = |name: &str, value: String| {
        let mut s = on("alice", num("pppoe_session_uptime_seconds", 60.0));
        s.labels.insert(name.to_owned(), value);
        verdict(s)
    };
    assert_eq!(with("address", "100.64.0.9".into()), None);
    assert_eq!(
        with("mac", "x".into()),
        Some((
            RejectReason::BadLabel,
            r#"sample 0 ("pppoe_session_uptime_seconds" on device 1): label "mac" is not allowed (allowed: address, caller_id, service)"#.into()
        ))
    );
    assert_eq!(
        with("address", "a".repeat(MAX_LABEL_VALUE_BYTES + 1)).map(|v| v.0),
        Some(RejectReason::BadLabel)
    );
    assert_eq!(
        with("address", "a\nb".into()).map(|v| v.0),
        Some(RejectReason::BadLabel)
    );
    let mut s = num("cpu_load_percent", 1.0);
    s.labels.insert("core".into(), "0".into());
    assert!(verdict(s)
        .is_some_and(|(_, m)| m.ends_with("label \"core\" is not allowed (it takes no labels)")));
}

#[test]
fn wrong_type() {
    assert_eq!(
        verdict(state("cpu_load_percent", "high")),
        Some((
            RejectReason::WrongType,
            r#"sample 0 ("cpu_load_percent" on device 1): the metric is a gauge and takes a number, not the string "high""#.into()
        ))
    );
    assert_eq!(
        verdict(num("up", 1.0)).map(|v| v.1),
        Some(r#"sample 0 ("up" on device 1): the metric is a state metric and takes one of up, down, not the number 1"#.into())
    );
    let mut s = num("cpu_load_percent", 1.0);
    s.reason = Some("why".into());
    assert_eq!(reason(s), Some(RejectReason::WrongType));
}

#[test]
fn not_finite_including_null() -> Result<(), serde_json::Error> {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            reason(num("cpu_load_percent", v)),
            Some(RejectReason::NotFinite),
            "{v}"
        );
    }
    let from_null: Sample = serde_json::from_str(
        r#"{"device":1,"metric":"cpu_load_percent","ts":1795822200000,"value":null}"#,
    )?;
    assert_eq!(
        verdict(from_null),
        Some((
            RejectReason::NotFinite,
            r#"sample 0 ("cpu_load_percent" on device 1): the value NaN is not a finite number (JSON null stands for NaN and infinity)"#.into()
        ))
    );
    Ok(())
}

#[test]
fn out_of_range() {
    assert_eq!(reason(num("cpu_load_percent", 100.0)), None);
    assert_eq!(
        verdict(num("cpu_load_percent", 100.5)).map(|v| v.1),
        Some(r#"sample 0 ("cpu_load_percent" on device 1): the value 100.5 is above the maximum 100"#.into())
    );
    assert_eq!(
        reason(on("ether1", num("interface_tx_bytes_total", -1.0))),
        Some(RejectReason::OutOfRange)
    );
    assert_eq!(
        reason(on("cpu-temperature", num("temperature_celsius", -20.0))),
        None,
        "gauges may be negative"
    );
}

#[test]
fn unknown_state() {
    assert_eq!(
        verdict(state("up", "degraded")),
        Some((
            RejectReason::UnknownState,
            r#"sample 0 ("up" on device 1): "degraded" is not one of its states (up, down)"#.into()
        ))
    );
    assert_eq!(
        reason(on("ether1", state("interface_running", "disabled"))),
        None
    );
}

#[test]
fn too_long_reason() {
    let mut s = state("up", "down");
    s.reason = Some("r".repeat(MAX_REASON_BYTES));
    assert_eq!(reason(s.clone()), None);
    s.reason = Some("r".repeat(MAX_REASON_BYTES + 1));
    assert_eq!(
        verdict(s).map(|v| v.1),
        Some(r#"sample 0 ("up" on device 1): reason is 257 bytes, over the limit of 256"#.into())
    );
}

#[test]
fn duplicate_sample_keeps_the_first() {
    let v = run(vec![
        num("cpu_load_percent", 1.0),
        on("ether1", num("interface_rx_bytes_total", 5.0)),
        num("cpu_load_percent", 2.0),
        on("ether2", num("interface_rx_bytes_total", 5.0)),
        {
            let mut s = num("cpu_load_percent", 3.0);
            s.ts = UnixMs(NOW.0 - 1);
            s
        },
    ]);
    let accepted: Vec<_> = v.samples.iter().map(|a| a.index).collect();
    assert_eq!(accepted, [0, 1, 3, 4]);
    assert_eq!(v.sample_rejections.len(), 1);
    assert_eq!(v.sample_rejections[0].reason, RejectReason::DuplicateSample);
    assert_eq!(v.sample_rejections[0].index, 2);
}

#[test]
fn the_first_failing_check_is_the_reason() {
    // Unknown metric beats everything; a bad device beats a bad timestamp, which beats a bad value.
    let mut s = num("nope", f64::NAN);
    s.device = DeviceRef::Id(0);
    assert_eq!(reason(s.clone()), Some(RejectReason::UnknownMetric));
    s.metric = "cpu_load_percent".into();
    assert_eq!(reason(s.clone()), Some(RejectReason::UnknownDevice));
    s.device = DeviceRef::Id(1);
    s.ts = UnixMs(0);
    assert_eq!(reason(s.clone()), Some(RejectReason::TooOld));
    s.ts = NOW;
    assert_eq!(reason(s), Some(RejectReason::NotFinite));
}

#[test]
fn messages_cut_long_client_strings() {
    let (_, message) = verdict(num(&"m".repeat(10_000), 1.0)).expect("rejected");
    assert!(message.len() < 200, "{message}");
    assert!(message.contains("…"));
}

#[test]
fn counts_examples_and_message_per_reason() {
    let mut samples: Vec<Sample> = (0..10)
        .map(|i| num("cpu_load_percent", f64::from(i)))
        .collect();
    for (i, s) in samples.iter_mut().enumerate() {
        s.ts = UnixMs(NOW.0 - i64::try_from(i).expect("small"));
    }
    for i in [1, 3, 4, 5, 6, 7, 8] {
        samples[i].value = Value::Number(f64::NAN);
    }
    samples[9].metric = "nope".into();
    let response = run(samples).response();
    assert_eq!(response.samples.accepted, 2);
    assert_eq!(response.samples.rejected_total(), 8);
    let nan = &response.samples.rejected[&RejectReason::NotFinite];
    assert_eq!(
        (nan.count, nan.examples.as_slice()),
        (7, &[1, 3, 4, 5, 6][..])
    );
    assert!(nan.message.starts_with("sample 1 "), "{}", nan.message);
    assert_eq!(
        response.samples.rejected[&RejectReason::UnknownMetric].examples,
        [9]
    );
    assert!(!response.duplicate);
}

#[test]
fn batch_level_errors_refuse_the_whole_batch() {
    let registry = Registry::v1();
    let limits = Limits {
        max_samples: 2,
        max_events: 1,
        ..Limits::default()
    };
    let check = |b: Batch| validate(b, &registry, NOW, &limits).err();
    let mut nil = batch(vec![], vec![]);
    nil.batch_id = Uuid::nil();
    assert_eq!(check(nil), Some(BatchError::NilBatchId));
    let three = vec![num("cpu_load_percent", 1.0); 3];
    let err = check(batch(three, vec![])).expect("refused");
    assert_eq!(err, BatchError::TooManySamples { count: 3, max: 2 });
    assert_eq!(
        err.to_response(),
        ErrorResponse {
            error: "too_many_samples".into(),
            message: "the batch has 3 samples and at most 2 are accepted; split it".into()
        }
    );
    let log = Event {
        device: DeviceRef::Id(1),
        ts: NOW,
        detail: EventDetail::Log {
            topics: vec![],
            message: "m".into(),
        },
    };
    assert_eq!(
        check(batch(vec![], vec![log; 2])),
        Some(BatchError::TooManyEvents { count: 2, max: 1 })
    );
    let mut anonymous = batch(vec![], vec![]);
    anonymous.agent.name = String::new();
    let err = check(anonymous).expect("refused");
    assert_eq!(
        (err.code(), err.to_string()),
        ("bad_agent", "agent.name must be 1 to 100 characters".into())
    );
}

#[test]
fn an_empty_batch_is_accepted_with_zero_counts() {
    let response = run(vec![]).response();
    assert_eq!(
        (response.samples, response.events),
        (Tally::default(), Tally::default())
    );
}

fn event(detail: EventDetail) -> Event {
    Event {
        device: DeviceRef::Id(1),
        ts: NOW,
        detail,
    }
}

fn event_reason(e: Event) -> Option<(RejectReason, String)> {
    let v = validate(
        batch(vec![], vec![e]),
        &Registry::v1(),
        NOW,
        &Limits::default(),
    )
    .expect("valid batch");
    v.event_rejections
        .first()
        .map(|r| (r.reason, r.message.clone()))
}

fn change(metric: &str, instance: Option<&str>, to: &str) -> EventDetail {
    EventDetail::StateChange {
        metric: metric.into(),
        instance: instance.map(str::to_owned),
        from: Some("established".into()),
        to: to.into(),
        reason: Some("hold timer expired".into()),
    }
}

#[test]
fn events_are_checked_by_kind() {
    assert_eq!(
        event_reason(event(change(
            "bgp_session_state",
            Some("upstream-a"),
            "idle"
        ))),
        None
    );
    assert_eq!(
        event_reason(event(change("bgp_session_state", Some("upstream-a"), "gone"))),
        Some((RejectReason::UnknownState, r#"event 0 (device 1): "gone" is not a state of bgp_session_state (idle, connect, active, opensent, openconfirm, established, disabled)"#.into()))
    );
    assert_eq!(
        event_reason(event(change("bgp_session_state", None, "idle"))).map(|r| r.0),
        Some(RejectReason::BadInstance)
    );
    assert_eq!(
        event_reason(event(change("bgp_prefixes_received", Some("a"), "idle"))).map(|r| r.0),
        Some(RejectReason::WrongType)
    );
    assert_eq!(
        event_reason(event(change("bgp_state", Some("a"), "idle"))).map(|r| r.0),
        Some(RejectReason::UnknownMetric)
    );
    assert_eq!(
        event_reason(event(EventDetail::Unknown)).map(|r| r.0),
        Some(RejectReason::UnknownKind)
    );
    let long = EventDetail::Log {
        topics: vec!["system".into()],
        message: "m".repeat(MAX_MESSAGE_BYTES + 1),
    };
    assert_eq!(
        event_reason(event(long)),
        Some((
            RejectReason::TooLong,
            "event 0 (device 1): message is 4097 bytes, over the limit of 4096".into()
        ))
    );
    let topics = EventDetail::Log {
        topics: vec!["t".into(); MAX_TOPICS + 1],
        message: "m".into(),
    };
    assert_eq!(
        event_reason(event(topics)).map(|r| r.0),
        Some(RejectReason::TooLong)
    );
    let config = EventDetail::ConfigChange {
        user: Some("u".repeat(MAX_USER_BYTES + 1)),
        summary: "s".into(),
    };
    assert_eq!(
        event_reason(event(config)).map(|r| r.0),
        Some(RejectReason::TooLong)
    );
    let mut old = event(EventDetail::ConfigChange {
        user: None,
        summary: "s".into(),
    });
    old.ts = UnixMs(0);
    assert_eq!(event_reason(old).map(|r| r.0), Some(RejectReason::TooOld));
    let mut nobody = event(EventDetail::ConfigChange {
        user: None,
        summary: "s".into(),
    });
    nobody.device = DeviceRef::Id(0);
    assert_eq!(
        event_reason(nobody).map(|r| r.0),
        Some(RejectReason::UnknownDevice)
    );
}

fn neighbor(interface: &str, identity: &str, mac: &str) -> EventDetail {
    EventDetail::Neighbor {
        interface: interface.into(),
        identity: identity.into(),
        address: String::new(),
        mac: mac.into(),
        platform: "MikroTik".into(),
        board: "CCR2004-1G-12S+2XS".into(),
        remote_interface: "sfp28-1".into(),
        protocols: vec!["lldp".into(), "mndp".into()],
    }
}

#[test]
fn neighbours_need_an_interface_and_a_name_and_short_single_line_fields() {
    assert_eq!(
        event_reason(event(neighbor("sfp28-1", "core-1", "4C:5E:0C:01:02:03"))),
        None
    );
    // Only a MAC (CDP from a switch without a name) is enough to tell who it is.
    assert_eq!(
        event_reason(event(neighbor("ether2", "", "4C:5E:0C:01:02:03"))),
        None
    );
    assert_eq!(
        event_reason(event(neighbor("", "core-1", "4C:5E:0C:01:02:03"))),
        Some((
            RejectReason::MissingField,
            "event 0 (device 1): a neighbour needs its interface".into()
        ))
    );
    assert_eq!(
        event_reason(event(neighbor("ether1", "", ""))).map(|r| r.0),
        Some(RejectReason::MissingField)
    );
    assert_eq!(
        event_reason(event(neighbor(
            "ether1",
            &"x".repeat(MAX_NEIGHBOR_TEXT_BYTES + 1),
            ""
        ))),
        Some((
            RejectReason::TooLong,
            "event 0 (device 1): identity is 256 bytes, over the limit of 255".into()
        ))
    );
    assert_eq!(
        event_reason(event(neighbor(
            &"e".repeat(MAX_NEIGHBOR_INTERFACE_BYTES + 1),
            "core-1",
            ""
        )))
        .map(|r| r.0),
        Some(RejectReason::TooLong)
    );
    assert_eq!(
        event_reason(event(neighbor("ether1", "core-1\nfake", ""))).map(|r| r.0),
        Some(RejectReason::BadLabel)
    );
    let many = EventDetail::Neighbor {
        interface: "ether1".into(),
        identity: String::new(),
        address: "10.0.0.1".into(),
        mac: String::new(),
        platform: String::new(),
        board: String::new(),
        remote_interface: String::new(),
        protocols: vec!["lldp".into(); MAX_NEIGHBOR_PROTOCOLS + 1],
    };
    assert_eq!(
        event_reason(event(many)).map(|r| r.0),
        Some(RejectReason::TooLong)
    );
}

#[test]
fn the_server_adds_its_own_rejections_in_index_order() {
    // As the server would: device 2 is unknown in the tenant; device 3 is at its series limit.
    let mut samples: Vec<Sample> = (0..5)
        .map(|i| {
            let mut s = num("cpu_load_percent", 1.0);
            s.ts = UnixMs(NOW.0 - i);
            s
        })
        .collect();
    samples[0].device = DeviceRef::Id(0);
    samples[1].device = DeviceRef::Id(2);
    samples[3].device = DeviceRef::Id(3);
    samples[4].device = DeviceRef::Id(2);
    let log = |device| Event {
        device: DeviceRef::Id(device),
        ts: NOW,
        detail: EventDetail::Log {
            topics: vec![],
            message: "m".into(),
        },
    };
    let mut v = validate(
        batch(samples, vec![log(1), log(2)]),
        &Registry::v1(),
        NOW,
        &Limits::default(),
    )
    .expect("valid");
    let limits = crate::CardinalityLimits {
        max_series_per_device: 10,
        ..Default::default()
    };
    v.reject_samples(|a| match a.sample.device {
        DeviceRef::Id(2) => Some((
            RejectReason::UnknownDevice,
            "no device 2 in this tenant".into(),
        )),
        DeviceRef::Id(3) => limits
            .admit_new_series(3, 10)
            .err()
            .map(|e| (RejectReason::TooManySeries, e.to_string())),
        _ => None,
    });
    v.reject_events(|e| {
        (e.event.device == DeviceRef::Id(2))
            .then(|| (RejectReason::UnknownDevice, "no device 2".into()))
    });
    let rejected: Vec<_> = v
        .sample_rejections
        .iter()
        .map(|r| (r.index, r.reason))
        .collect();
    assert_eq!(
        rejected,
        [
            (0, RejectReason::UnknownDevice),
            (1, RejectReason::UnknownDevice),
            (3, RejectReason::TooManySeries),
            (4, RejectReason::UnknownDevice)
        ]
    );
    let response = v.response();
    assert_eq!(response.samples.accepted, 1);
    assert_eq!(
        response.samples.rejected[&RejectReason::UnknownDevice].examples,
        [0, 1, 4]
    );
    assert!(response.samples.rejected[&RejectReason::TooManySeries]
        .message
        .starts_with("device 3 already has 10 series"));
    assert_eq!(
        (response.events.accepted, response.events.rejected_total()),
        (1, 1)
    );
}
