//! Series identity for the write path: the series id of every accepted sample's (device,
//! metric, instance), looked up, or created within the device's series limit; labels and
//! `last_seen` kept current without rewriting the series table on every batch.
//!
//! Ids are cached in the process (`IngestState::series_cache`): a warm batch of 10,000 samples
//! then needs no series query at all. A series id never changes; a series deleted with its
//! device leaves a stale entry whose samples land on no series, until the cache starts over.

use anyhow::Context;
use hashbrown::{Equivalent, HashMap};
use time::{Duration, OffsetDateTime};

use telemetry::{AcceptedSample, DeviceRef, RejectReason, Validated};

use super::store::{self, NewSeries};
use super::IngestState;

/// `last_seen` is advanced when it is this much behind: often enough to spot dead series,
/// rarely enough that the series table is not rewritten with every batch.
const LAST_SEEN_GRANULARITY: Duration = Duration::HOUR;

/// A series key: (device id, metric, instance or "").
pub(super) type Key = (i64, &'static str, String);

/// A [`Key`] borrowed from a sample or a row, to look keys up without allocating: it hashes as
/// the tuple does (the fields in order, a `String` as its `str`) and compares field by field.
/// Owned keys would cost an allocation per sample, which at 10,000 samples a batch showed in
/// the ingest benchmark's profile.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct KeyRef<'a>(i64, &'static str, &'a str);

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

impl KeyRef<'_> {
    fn to_key(self) -> Key {
        (self.0, self.1, self.2.to_owned())
    }
}

fn key_of<'a>(devices: &HashMap<DeviceRef, i64>, a: &'a AcceptedSample) -> Option<KeyRef<'a>> {
    let device = *devices.get(&a.sample.device)?;
    Some(KeyRef(
        device,
        a.spec.name,
        a.sample.instance.as_deref().unwrap_or_default(),
    ))
}

/// What the batch says about one series: its time span, its newest labels, and once resolved
/// its id.
struct Seen {
    first: OffsetDateTime,
    last: OffsetDateTime,
    labels: Option<String>,
    /// The timestamp of the sample `labels` came from.
    labels_ts: i64,
    id: Option<i64>,
    /// Why a new series was refused (the device is at its series limit).
    refused: Option<String>,
}

/// The series id of each sample the batch still holds, in its order.
pub(super) struct Resolved(Vec<Option<i64>>);

impl Resolved {
    pub(super) fn id(&self, position: usize) -> Option<i64> {
        self.0.get(position).copied().flatten()
    }
}

/// Series ids for every accepted sample's key: existing ones looked up, new ones created (or
/// refused as `too_many_series` on a device at its limit; those samples are rejected).
pub(super) async fn resolve_series(
    state: &IngestState,
    tenant_id: i64,
    devices: &HashMap<DeviceRef, i64>,
    batch: &mut Validated,
) -> anyhow::Result<Resolved> {
    // The batch's series (`seen`, by slot), the slot of each key, and of each sample.
    let mut slots: HashMap<KeyRef<'_>, usize> = HashMap::with_capacity(batch.samples.len());
    let mut seen: Vec<Seen> = Vec::with_capacity(batch.samples.len());
    let mut sample_slots: Vec<Option<usize>> = Vec::with_capacity(batch.samples.len());
    for a in &batch.samples {
        let Some(key) = key_of(devices, a) else {
            sample_slots.push(None);
            continue;
        };
        let at = a.sample.ts.to_datetime().context("a validated timestamp")?;
        let slot = *slots.entry(key).or_insert_with(|| {
            seen.push(Seen {
                first: at,
                last: at,
                labels: None,
                labels_ts: i64::MIN,
                id: None,
                refused: None,
            });
            seen.len() - 1
        });
        sample_slots.push(Some(slot));
        let entry = &mut seen[slot];
        entry.first = entry.first.min(at);
        entry.last = entry.last.max(at);
        // Labels: the newest sample that carries them wins.
        if !a.sample.labels.is_empty() && a.sample.ts.0 >= entry.labels_ts {
            entry.labels_ts = a.sample.ts.0;
            entry.labels = Some(serde_json::to_string(&a.sample.labels).context("encode labels")?);
        }
    }
    if seen.is_empty() {
        return Ok(Resolved(vec![None; sample_slots.len()]));
    }
    // What this batch leaves the series table saying, for the cache.
    let mut learned: Vec<(Key, Known)> = Vec::new();
    let mut touch = Touch::default();
    let mut lookup = Vec::new();
    {
        let cache = state.series_cache.lock().map_err(|_| poisoned())?;
        for (key, &slot) in &slots {
            let s = &mut seen[slot];
            match cache.get(key) {
                Some(known) => {
                    s.id = Some(known.id);
                    if let Some(after) = touch.check(s, known) {
                        learned.push((key.to_key(), after));
                    }
                }
                None => lookup.push(key.to_key()),
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
            let known = Known {
                id: row.id,
                last_seen: row.last_seen,
                labels: row.labels,
            };
            let after = slots
                .get(&KeyRef(row.device_id, spec.name, &row.instance))
                .and_then(|&slot| {
                    seen[slot].id = Some(row.id);
                    touch.check(&seen[slot], &known)
                });
            learned.push((
                (row.device_id, spec.name, row.instance),
                after.unwrap_or(known),
            ));
        }
    }
    if !touch.ids.is_empty() {
        store::touch_series(&state.pool, &touch.ids, &touch.last_seen, &touch.labels)
            .await
            .context("update series")?;
    }

    let mut missing: Vec<(Key, usize)> = slots
        .iter()
        .filter(|(_, &slot)| seen[slot].id.is_none())
        .map(|(k, &slot)| (k.to_key(), slot))
        .collect();
    if !missing.is_empty() {
        // New series get their ids in key order, whatever the batch's order.
        missing.sort_unstable();
        let mut device_list: Vec<i64> = missing.iter().map(|(k, _)| k.0).collect();
        device_list.dedup();
        let mut counts: HashMap<i64, i64> = store::series_counts(&state.pool, &device_list)
            .await
            .context("count series")?
            .into_iter()
            .collect();
        let mut new = NewSeries::default();
        for (key, slot) in missing {
            let n = counts.entry(key.0).or_insert(0);
            let s = &mut seen[slot];
            match state
                .cardinality
                .admit_new_series(key.0, u32::try_from(*n).unwrap_or(u32::MAX))
            {
                Ok(()) => {
                    *n += 1;
                    new.device_ids.push(key.0);
                    new.metrics.push(key.1.to_owned());
                    new.labels
                        .push(s.labels.clone().unwrap_or_else(|| "{}".to_owned()));
                    new.first_seen.push(s.first);
                    new.last_seen.push(s.last);
                    new.instances.push(key.2);
                }
                Err(e) => s.refused = Some(e.to_string()),
            }
        }
        if !new.device_ids.is_empty() {
            for (id, device_id, metric, instance) in
                store::insert_series(&state.pool, tenant_id, &new)
                    .await
                    .context("insert series")?
            {
                let Some(spec) = state.registry.get(&metric) else {
                    continue;
                };
                if let Some(&slot) = slots.get(&KeyRef(device_id, spec.name, &instance)) {
                    let s = &mut seen[slot];
                    s.id = Some(id);
                    learned.push((
                        (device_id, spec.name, instance),
                        Known {
                            id,
                            last_seen: s.last,
                            labels: s.labels.clone().unwrap_or_else(|| "{}".to_owned()),
                        },
                    ));
                }
            }
            // Those a concurrent batch created between the lookup and the insert.
            let raced: Vec<Key> = (0..new.device_ids.len())
                .map(|i| {
                    KeyRef(
                        new.device_ids[i],
                        registry_name(state, &new.metrics[i]),
                        &new.instances[i],
                    )
                })
                .filter(|k| slots.get(k).is_some_and(|&slot| seen[slot].id.is_none()))
                .map(KeyRef::to_key)
                .collect();
            if !raced.is_empty() {
                let (d, m, i) = columns(raced.iter());
                for row in store::find_series(&state.pool, &d, &m, &i)
                    .await
                    .context("look up raced series")?
                {
                    let key = KeyRef(
                        row.device_id,
                        registry_name(state, &row.metric),
                        &row.instance,
                    );
                    if let Some(&slot) = slots.get(&key) {
                        seen[slot].id = Some(row.id);
                    }
                }
            }
        }
    }
    drop(slots);
    let mut cache = state.series_cache.lock().map_err(|_| poisoned())?;
    if cache.len() + learned.len() > CACHE_MAX {
        cache.clear();
    }
    cache.extend(learned);
    drop(cache);

    // Each sample's id; the samples of refused series are rejected, and their ids dropped.
    let mut ids = Vec::with_capacity(sample_slots.len());
    let mut slots = sample_slots.into_iter();
    batch.reject_samples(|a| {
        let s = slots.next().flatten().map(|slot| &seen[slot]);
        match s.and_then(|s| s.refused.as_ref()) {
            Some(message) => Some((
                RejectReason::TooManySeries,
                format!("sample {}: {message}", a.index),
            )),
            None => {
                ids.push(s.and_then(|s| s.id));
                None
            }
        }
    });
    Ok(Resolved(ids))
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
