//! The write path of one validated batch: resolve devices in the agent's tenant, resolve or
//! create series (with the per-device series limit), make sure the raw partitions exist, then
//! one transaction: the batch row (idempotency), the samples by `COPY`, the dirty rollup
//! buckets of late samples, the events, the neighbour tables (`neighbor.rs`).

use anyhow::Context;
use hashbrown::HashMap;
use time::{Duration, OffsetDateTime};

use telemetry::{
    DeviceRef, EventDetail, IngestResponse, MetricKind, RejectReason, Validated, Value,
};

use super::neighbor::{self, NeighborRows};
use super::series::{resolve_series, Resolved};
use super::store::{self, BatchRow, EventRows, SampleRows, Sender};
use super::timescale::StorageMode;
use super::IngestState;

/// Samples older than this (by the server's clock) may fall in a minute the rollup job has
/// already rolled up (it stays [`super::rollup::LAG`] behind), so their minute is marked dirty.
/// The gap between the two (2 minutes) is what a batch's transaction and the replicas' clock
/// skew may take without a late sample being missed.
pub const DIRTY_AFTER: Duration = Duration::MINUTE;

/// Writes a validated batch for the agent; answers `duplicate` if its id was accepted before.
pub async fn write_batch(
    state: &IngestState,
    owner: Sender,
    mut batch: Validated,
    now: OffsetDateTime,
) -> anyhow::Result<IngestResponse> {
    let pool = &state.pool;
    if store::batch_seen(pool, batch.batch_id)
        .await
        .context("look up the batch id")?
    {
        return Ok(IngestResponse::duplicate(batch.batch_id));
    }
    let devices = resolve_devices(state, owner.tenant_id, &batch).await?;
    batch.reject_samples(|a| {
        (!devices.contains_key(&a.sample.device))
            .then(|| unknown_device("sample", a.index, &a.sample.device))
    });
    batch.reject_events(|a| {
        (!devices.contains_key(&a.event.device))
            .then(|| unknown_device("event", a.index, &a.event.device))
    });

    let series = resolve_series(state, owner.tenant_id, &devices, &mut batch).await?;
    let (rows, dirty) = sample_rows(&series, &batch, now)?;
    ensure_partitions(state, &rows.at).await?;
    let events = event_rows(&devices, &batch)?;
    let neighbors =
        NeighborRows::collect(&batch.events, |a| devices.get(&a.event.device).copied())?;

    let response = batch.response();
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    let mut tx = pool.begin().await.context("begin the batch transaction")?;
    let fresh = store::insert_batch(
        &mut *tx,
        &BatchRow {
            batch_id: batch.batch_id,
            owner,
            agent_name: &batch.agent.name,
            agent_version: &batch.agent.version,
            sent_at: batch.sent_at.to_datetime().unwrap_or(now),
            samples_accepted: count(response.samples.accepted),
            samples_rejected: count(response.samples.rejected_total()),
            events_accepted: count(response.events.accepted),
            events_rejected: count(response.events.rejected_total()),
        },
    )
    .await
    .context("insert the batch row")?;
    if !fresh {
        // A concurrent copy of this batch committed first.
        tx.rollback().await.context("roll back a duplicate")?;
        return Ok(IngestResponse::duplicate(batch.batch_id));
    }
    if !rows.is_empty() {
        store::copy_samples(&mut tx, &rows)
            .await
            .context("copy the samples")?;
    }
    if !dirty.0.is_empty() && state.mode == StorageMode::Plain {
        store::mark_dirty(&mut *tx, &dirty.0, &dirty.1)
            .await
            .context("mark late buckets dirty")?;
    }
    if !events.device_ids.is_empty() {
        store::insert_events(&mut *tx, owner.tenant_id, &events)
            .await
            .context("insert the events")?;
    }
    if !neighbors.is_empty() {
        neighbor::upsert(&mut *tx, owner.tenant_id, &neighbors)
            .await
            .context("upsert the neighbours")?;
        neighbor::forget_old(&mut *tx, owner.tenant_id, &neighbors.device_ids)
            .await
            .context("forget old neighbours")?;
    }
    tx.commit().await.context("commit the batch")?;
    Ok(response)
}

fn unknown_device(what: &str, index: usize, device: &DeviceRef) -> (RejectReason, String) {
    (
        RejectReason::UnknownDevice,
        format!("{what} {index}: no device {device} in the agent's tenant"),
    )
}

/// The device ids of every reference in the batch that names a device of the tenant.
async fn resolve_devices(
    state: &IngestState,
    tenant_id: i64,
    batch: &Validated,
) -> anyhow::Result<HashMap<DeviceRef, i64>> {
    let refs = batch
        .samples
        .iter()
        .map(|a| &a.sample.device)
        .chain(batch.events.iter().map(|a| &a.event.device));
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for r in refs {
        match r {
            DeviceRef::Id(id) => ids.push(*id),
            DeviceRef::Name(name) => names.push(name.clone()),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    names.sort_unstable();
    names.dedup();
    let mut found = HashMap::new();
    if !ids.is_empty() {
        for id in store::devices_by_id(&state.pool, tenant_id, &ids)
            .await
            .context("look up devices by id")?
        {
            found.insert(DeviceRef::Id(id), id);
        }
    }
    if !names.is_empty() {
        for (name, id) in store::devices_by_name(&state.pool, tenant_id, &names)
            .await
            .context("look up devices by name")?
        {
            found.insert(DeviceRef::Name(name), id);
        }
    }
    Ok(found)
}

/// The (series, minute) pairs that late samples touched, as parallel columns.
type Dirty = (Vec<i64>, Vec<OffsetDateTime>);

/// The raw rows, and the (series, minute) pairs that late samples touched.
fn sample_rows(
    series: &Resolved,
    batch: &Validated,
    now: OffsetDateTime,
) -> anyhow::Result<(SampleRows, Dirty)> {
    let dirty_before = now - DIRTY_AFTER;
    let mut rows = SampleRows::default();
    let mut dirty = std::collections::BTreeSet::new();
    for (position, a) in batch.samples.iter().enumerate() {
        let id = series.id(position).context("a resolved series")?;
        let at = a.sample.ts.to_datetime().context("a validated timestamp")?;
        let (value, state) = match (&a.sample.value, a.spec.kind) {
            (Value::Number(v), MetricKind::Gauge | MetricKind::Counter) => (Some(*v), None),
            (Value::State(s), MetricKind::State(_)) => (None, Some(s.clone())),
            // Validation rejected every other combination.
            _ => continue,
        };
        if at < dirty_before {
            dirty.insert((id, super::rollup::minute_of(at)));
        }
        rows.push(id, at, value, state, a.sample.reason.clone());
    }
    Ok((rows, dirty.into_iter().unzip()))
}

/// Creates the raw partitions of the days these rows fall in, unless known to exist.
async fn ensure_partitions(state: &IngestState, at: &[OffsetDateTime]) -> anyhow::Result<()> {
    if state.mode == StorageMode::TimescaleDb {
        return Ok(());
    }
    let (Some(first), Some(last)) = (
        at.iter().min().map(|t| t.date()),
        at.iter().max().map(|t| t.date()),
    ) else {
        return Ok(());
    };
    let mut days = vec![first];
    while let Some(next) = days
        .last()
        .and_then(|d| d.next_day())
        .filter(|d| *d <= last)
    {
        days.push(next);
    }
    let poisoned = || anyhow::anyhow!("partition cache poisoned");
    if days.iter().all(|d| {
        state
            .partitions
            .lock()
            .map(|c| c.contains(d))
            .unwrap_or(false)
    }) {
        return Ok(());
    }
    store::ensure_partitions(&state.pool, first, last)
        .await
        .context("create raw partitions")?;
    state
        .partitions
        .lock()
        .map_err(|_| poisoned())?
        .extend(days);
    Ok(())
}

fn event_rows(devices: &HashMap<DeviceRef, i64>, batch: &Validated) -> anyhow::Result<EventRows> {
    let mut rows = EventRows::default();
    for a in &batch.events {
        let device = *devices.get(&a.event.device).context("a resolved device")?;
        let kind = match &a.event.detail {
            EventDetail::StateChange { .. } => "state_change",
            EventDetail::Log { .. } => "log",
            EventDetail::ConfigChange { .. } => "config_change",
            // A neighbour row is the state of a table, not a happening: it is kept in
            // `discovered_neighbor` (see `neighbor.rs`).
            EventDetail::Neighbor { .. } | EventDetail::Unknown => continue,
        };
        rows.device_ids.push(device);
        rows.at
            .push(a.event.ts.to_datetime().context("a validated timestamp")?);
        rows.kinds.push(kind.to_owned());
        rows.details
            .push(serde_json::to_string(&a.event.detail).context("encode an event")?);
    }
    Ok(rows)
}
