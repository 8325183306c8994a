//! Series identity for the write path: the series id of every accepted sample's (device,
//! metric, instance), looked up, or created within the device's series limit; labels and
//! `last_seen` kept current without rewriting the series table on every batch.
//!
//! Ids are cached in the process (`IngestState::series_cache`): a warm batch of 10,000 samples
//! then needs no series query at all. A series id never changes; a series deleted with its
//! device leaves a stale entry whose samples land on no series, until the cache starts over.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use time::{Duration, OffsetDateTime};

use telemetry::{AcceptedSample, DeviceRef, RejectReason, Validated};

use super::store::{self, NewSeries};
use super::IngestState;

/// `last_seen` is advanced when it is this much behind: often enough to spot dead series,
/// rarely enough that the series table is not rewritten with every batch.
const LAST_SEEN_GRANULARITY: Duration = Duration::HOUR;

/// A series key: (device id, metric, instance or "").
pub(super) type Key = (i64, &'static str, String);

pub(super) fn key_of(devices: &HashMap<DeviceRef, i64>, a: &AcceptedSample) -> Option<Key> {
    let device = *devices.get(&a.sample.device)?;
    Some((
        device,
        a.spec.name,
        a.sample.instance.clone().unwrap_or_default(),
    ))
}

/// What the batch says about one series: its time span and its newest labels.
struct Seen {
    first: OffsetDateTime,
    last: OffsetDateTime,
    labels: Option<String>,
}

/// Series ids for every accepted sample's key: existing ones looked up, new ones created (or
/// refused as `too_many_series` on a device at its limit; those samples are rejected).
pub(super) async fn resolve_series(
    state: &IngestState,
    tenant_id: i64,
    devices: &HashMap<DeviceRef, i64>,
    batch: &mut Validated,
) -> anyhow::Result<HashMap<Key, i64>> {
    let mut seen: BTreeMap<Key, Seen> = BTreeMap::new();
    let mut newest_ts: HashMap<Key, i64> = HashMap::new();
    for a in &batch.samples {
        let Some(key) = key_of(devices, a) else {
            continue;
        };
        let at = a.sample.ts.to_datetime().context("a validated timestamp")?;
        let labels = (!a.sample.labels.is_empty())
            .then(|| serde_json::to_string(&a.sample.labels))
            .transpose()
            .context("encode labels")?;
        let newest = newest_ts.entry(key.clone()).or_insert(i64::MIN);
        let entry = seen.entry(key).or_insert(Seen {
            first: at,
            last: at,
            labels: None,
        });
        entry.first = entry.first.min(at);
        entry.last = entry.last.max(at);
        // Labels: the newest sample that carries them wins.
        if labels.is_some() && a.sample.ts.0 >= *newest {
            *newest = a.sample.ts.0;
            entry.labels = labels;
        }
    }
    if seen.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: HashMap<Key, i64> = HashMap::with_capacity(seen.len());
    // What this batch leaves the series table saying, for the cache.
    let mut learned: Vec<(Key, Known)> = Vec::new();
    let mut touch = Touch::default();
    let mut lookup = Vec::new();
    {
        let cache = state.series_cache.lock().map_err(|_| poisoned())?;
        for (key, s) in &seen {
            match cache.get(key) {
                Some(known) => {
                    ids.insert(key.clone(), known.id);
                    if let Some(after) = touch.check(s, known) {
                        learned.push((key.clone(), after));
                    }
                }
                None => lookup.push(key.clone()),
            }
        }
    }
    if !lookup.is_empty() {
        let (device_ids, metrics, instances) = columns(lookup.iter());
        for row in store::find_series(&state.pool, &device_ids, &metrics, &instances)
            .await
            .context("look up series")?
        {
            let Some(spec) = state.registry.get(&row.metric) else {
                continue;
            };
            let key = (row.device_id, spec.name, row.instance);
            let known = Known {
                id: row.id,
                last_seen: row.last_seen,
                labels: row.labels,
            };
            ids.insert(key.clone(), row.id);
            let after = seen.get(&key).and_then(|s| touch.check(s, &known));
            learned.push((key, after.unwrap_or(known)));
        }
    }
    if !touch.ids.is_empty() {
        store::touch_series(&state.pool, &touch.ids, &touch.last_seen, &touch.labels)
            .await
            .context("update series")?;
    }

    let missing: Vec<&Key> = seen.keys().filter(|k| !ids.contains_key(*k)).collect();
    if !missing.is_empty() {
        let mut device_list: Vec<i64> = missing.iter().map(|k| k.0).collect();
        device_list.dedup();
        let mut counts: HashMap<i64, i64> = store::series_counts(&state.pool, &device_list)
            .await
            .context("count series")?
            .into_iter()
            .collect();
        let mut new = NewSeries::default();
        let mut refused: HashMap<Key, String> = HashMap::new();
        for key in missing {
            let n = counts.entry(key.0).or_insert(0);
            match state
                .cardinality
                .admit_new_series(key.0, u32::try_from(*n).unwrap_or(u32::MAX))
            {
                Ok(()) => {
                    *n += 1;
                    let s = &seen[key];
                    new.device_ids.push(key.0);
                    new.metrics.push(key.1.to_owned());
                    new.instances.push(key.2.clone());
                    new.labels
                        .push(s.labels.clone().unwrap_or_else(|| "{}".to_owned()));
                    new.first_seen.push(s.first);
                    new.last_seen.push(s.last);
                }
                Err(e) => {
                    refused.insert(key.clone(), e.to_string());
                }
            }
        }
        if !new.device_ids.is_empty() {
            for (id, device_id, metric, instance) in
                store::insert_series(&state.pool, tenant_id, &new)
                    .await
                    .context("insert series")?
            {
                if let Some(spec) = state.registry.get(&metric) {
                    let key = (device_id, spec.name, instance);
                    if let Some(s) = seen.get(&key) {
                        learned.push((
                            key.clone(),
                            Known {
                                id,
                                last_seen: s.last,
                                labels: s.labels.clone().unwrap_or_else(|| "{}".to_owned()),
                            },
                        ));
                    }
                    ids.insert(key, id);
                }
            }
            // Those a concurrent batch created between the lookup and the insert.
            let raced: Vec<Key> = (0..new.device_ids.len())
                .map(|i| {
                    (
                        new.device_ids[i],
                        registry_name(state, &new.metrics[i]),
                        new.instances[i].clone(),
                    )
                })
                .filter(|k| !ids.contains_key(k))
                .collect();
            if !raced.is_empty() {
                let (d, m, i) = columns(raced.iter());
                for row in store::find_series(&state.pool, &d, &m, &i)
                    .await
                    .context("look up raced series")?
                {
                    ids.insert(
                        (
                            row.device_id,
                            registry_name(state, &row.metric),
                            row.instance,
                        ),
                        row.id,
                    );
                }
            }
        }
        if !refused.is_empty() {
            batch.reject_samples(|a| {
                let key = key_of(devices, a)?;
                let message = refused.get(&key)?;
                Some((
                    RejectReason::TooManySeries,
                    format!("sample {}: {message}", a.index),
                ))
            });
        }
    }
    let mut cache = state.series_cache.lock().map_err(|_| poisoned())?;
    if cache.len() + learned.len() > CACHE_MAX {
        cache.clear();
    }
    cache.extend(learned);
    Ok(ids)
}

fn poisoned() -> anyhow::Error {
    anyhow::anyhow!("series cache poisoned")
}

/// Most series ids the cache holds (about 100 bytes each); past it, it starts over.
const CACHE_MAX: usize = 2_000_000;

/// A series as last written or read: enough to skip the lookup and to know whether this batch
/// must update it.
#[derive(Debug, Clone)]
pub(super) struct Known {
    id: i64,
    last_seen: OffsetDateTime,
    /// JSON text.
    labels: String,
}

/// Series updates of one batch, as parallel columns.
#[derive(Default)]
struct Touch {
    ids: Vec<i64>,
    last_seen: Vec<OffsetDateTime>,
    labels: Vec<Option<String>>,
}

impl Touch {
    /// Queues an update if the batch changes the labels or moves `last_seen` by more than
    /// [`LAST_SEEN_GRANULARITY`]; returns the series as it will then be.
    fn check(&mut self, s: &Seen, known: &Known) -> Option<Known> {
        let changed = s
            .labels
            .as_ref()
            .filter(|l| **l != known.labels && !same_json(l, &known.labels));
        if changed.is_none() && s.last - known.last_seen <= LAST_SEEN_GRANULARITY {
            return None;
        }
        self.ids.push(known.id);
        self.last_seen.push(s.last);
        self.labels.push(changed.cloned());
        Some(Known {
            id: known.id,
            last_seen: known.last_seen.max(s.last),
            labels: changed.cloned().unwrap_or_else(|| known.labels.clone()),
        })
    }
}

fn registry_name(state: &IngestState, metric: &str) -> &'static str {
    state.registry.get(metric).map(|s| s.name).unwrap_or("")
}

fn columns<'a>(keys: impl Iterator<Item = &'a Key>) -> (Vec<i64>, Vec<String>, Vec<String>) {
    let mut d = Vec::new();
    let mut m = Vec::new();
    let mut i = Vec::new();
    for k in keys {
        d.push(k.0);
        m.push(k.1.to_owned());
        i.push(k.2.clone());
    }
    (d, m, i)
}

/// Two JSON texts hold the same value (PostgreSQL's jsonb text differs from serde_json's).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
