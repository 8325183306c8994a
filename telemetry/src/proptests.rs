//! Property tests: every sample is accepted or rejected exactly once whatever the batch holds,
//! and batches and responses survive JSON, including JSON with fields from a newer version.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::{
    validate, AgentInfo, Batch, DeviceRef, Event, EventDetail, IngestResponse, Limits, Registry,
    Sample, UnixMs, Value,
};

const NOW: i64 = 1_795_822_200_000;
const DAY: i64 = 86_400_000;

/// Metric names: mostly real ones (of every kind), some unknown.
fn metric() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(Registry::v1().specs().iter().map(|s| s.name).collect::<Vec<_>>()),
        1 => Just("cpu_load"),
    ]
    .prop_map(str::to_owned)
}

fn device() -> impl Strategy<Value = DeviceRef> {
    prop_oneof![
        4 => (-1i64..4).prop_map(DeviceRef::Id),
        1 => prop::sample::select(vec!["core-1", "", "pop north"]).prop_map(|n| DeviceRef::Name(n.to_owned())),
    ]
}

fn instance() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec![
        "ether1",
        "icmp:10.0.0.1",
        "AA:BB:CC:00:11:22",
        "10.0.0.2",
        "tree:cust",
        "",
    ]))
    .prop_map(|i| i.map(str::to_owned))
}

/// Finite numbers that JSON carries exactly (serde_json's default float parsing is only exact to
/// about one ulp for long mantissas), plus special values when `special` is set.
fn number(special: bool) -> BoxedStrategy<f64> {
    let exact = prop_oneof![
        (-100_000i32..100_000).prop_map(|v| f64::from(v) / 100.0),
        (0u64..(1 << 53)).prop_map(|v| v as f64),
    ];
    if special {
        prop_oneof![8 => exact, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY)].boxed()
    } else {
        exact.boxed()
    }
}

fn value(special: bool) -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => number(special).prop_map(Value::Number),
        1 => prop::sample::select(vec!["up", "down", "full", "established", "sideways"])
            .prop_map(|s| Value::State(s.to_owned())),
    ]
}

fn sample(special: bool) -> impl Strategy<Value = Sample> {
    (
        device(),
        metric(),
        instance(),
        prop_oneof![4 => NOW - DAY..NOW + 60_000, 1 => NOW - 10 * DAY..NOW + DAY],
        value(special),
        prop::option::of(Just("timeout".to_owned())),
        prop::collection::btree_map(
            prop::sample::select(vec!["via", "address", "type"]),
            "[a-z0-9.]{0,8}",
            0..2,
        ),
    )
        .prop_map(
            |(device, metric, instance, ts, value, reason, labels)| Sample {
                device,
                metric,
                instance,
                ts: UnixMs(ts),
                value,
                reason,
                labels: labels
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<BTreeMap<_, _>>(),
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    let detail = prop_oneof![
        (
            metric(),
            instance(),
            prop::option::of(Just("up".to_owned())),
            Just("down".to_owned())
        )
            .prop_map(|(metric, instance, from, to)| EventDetail::StateChange {
                metric,
                instance,
                from,
                to,
                reason: None
            }),
        "[ -~]{0,20}".prop_map(|message| EventDetail::Log {
            topics: vec!["system".into(), "info".into()],
            message
        }),
        (prop::option::of("[a-z]{1,8}"), "[ -~]{0,20}")
            .prop_map(|(user, summary)| EventDetail::ConfigChange { user, summary }),
    ];
    (device(), NOW - DAY..NOW, detail).prop_map(|(device, ts, detail)| Event {
        device,
        ts: UnixMs(ts),
        detail,
    })
}

fn batch(special: bool) -> impl Strategy<Value = Batch> {
    (
        any::<u128>(),
        prop::collection::vec(sample(special), 0..60),
        prop::collection::vec(event(), 0..6),
    )
        .prop_map(|(id, samples, events)| Batch {
            batch_id: Uuid::from_u128(id | 1),
            agent: AgentInfo {
                name: "pop-north".into(),
                version: "0.1.0".into(),
            },
            sent_at: UnixMs(NOW),
            samples,
            events,
        })
}

proptest! {
    #[test]
    fn every_sample_and_event_is_accepted_or_rejected_exactly_once(batch in batch(true)) {
        let (samples, events) = (batch.samples.len(), batch.events.len());
        let v = validate(batch, &Registry::v1(), UnixMs(NOW), &Limits::default()).expect("within limits");
        let mut seen: Vec<usize> = v.samples.iter().map(|a| a.index).chain(v.sample_rejections.iter().map(|r| r.index)).collect();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..samples).collect::<Vec<_>>());
        let mut seen: Vec<usize> = v.events.iter().map(|a| a.index).chain(v.event_rejections.iter().map(|r| r.index)).collect();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..events).collect::<Vec<_>>());
        // Accepted numbers are finite and accepted samples' metrics known.
        for a in &v.samples {
            prop_assert_eq!(a.spec.name, a.sample.metric.as_str());
            if let Value::Number(x) = a.sample.value { prop_assert!(x.is_finite()); }
        }
        let response = v.response();
        prop_assert_eq!(response.samples.accepted + response.samples.rejected_total(), samples as u64);
        prop_assert_eq!(response.events.accepted + response.events.rejected_total(), events as u64);
        for summary in response.samples.rejected.values() {
            prop_assert!(!summary.examples.is_empty() && summary.examples.len() <= crate::MAX_EXAMPLES);
            prop_assert!(summary.examples.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn batch_json_roundtrip(batch in batch(false)) {
        let json = serde_json::to_vec(&batch).expect("serialises");
        prop_assert_eq!(Batch::from_json(&json).expect("parses"), batch);
    }

    #[test]
    fn response_json_roundtrip(batch in batch(true)) {
        let response = validate(batch, &Registry::v1(), UnixMs(NOW), &Limits::default()).expect("valid").response();
        let json = serde_json::to_string(&response).expect("serialises");
        prop_assert_eq!(serde_json::from_str::<IngestResponse>(&json).expect("parses"), response);
    }

    #[test]
    fn unknown_fields_from_a_newer_agent_are_ignored(batch in batch(false)) {
        let extra = json!({"added_in": "v1.7", "nested": [1, {"a": null}]});
        let mut tree = serde_json::to_value(&batch).expect("serialises");
        tree["compression_hint"] = extra.clone();
        tree["agent"]["build"] = extra.clone();
        for list in ["samples", "events"] {
            for item in tree[list].as_array_mut().into_iter().flatten() {
                item["quality"] = extra.clone();
            }
        }
        let json = serde_json::to_vec(&tree).expect("serialises");
        prop_assert_eq!(Batch::from_json(&json).expect("parses"), batch);
    }
}
