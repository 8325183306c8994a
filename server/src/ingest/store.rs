//! The write path's SQL: agent tokens, device lookup, series identity, the batch row, raw
//! samples (binary `COPY`, and the `unnest` insert the benchmark compares it with), dirty
//! rollup buckets, events. Single statements take `impl PgExecutor`; the caller owns the
//! transaction.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// Who sent a batch: a live bearer token (`token_id`) or an enrolled agent (`agent_id`, known
/// by its client certificate), exactly one of them.
#[derive(Debug, Clone, Copy)]
pub struct Sender {
    pub tenant_id: i64,
    pub token_id: Option<i64>,
    pub agent_id: Option<Uuid>,
}

pub async fn find_token(
    db: impl PgExecutor<'_>,
    sha256: &[u8; 32],
) -> sqlx::Result<Option<Sender>> {
    sqlx::query_as!(
        Sender,
        r#"select tenant_id, id as "token_id?", null::uuid as "agent_id?" from ingest_token
           where token_sha256 = $1 and revoked_at is null"#,
        &sha256[..]
    )
    .fetch_optional(db)
    .await
}

/// Stores a new token's hash for the tenant with this slug; `None` if there is no such tenant.
/// A live token of the same name is a unique violation.
pub async fn insert_token(
    db: impl PgExecutor<'_>,
    tenant_slug: &str,
    name: &str,
    sha256: &[u8; 32],
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"insert into ingest_token (tenant_id, name, token_sha256)
           select id, $2, $3 from tenant where slug = $1
           returning id"#,
        tenant_slug,
        name,
        &sha256[..]
    )
    .fetch_optional(db)
    .await
}

/// The ids among `ids` that are devices of the tenant.
pub async fn devices_by_id(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "select id from device where tenant_id = $1 and id = any($2)",
        tenant_id,
        ids
    )
    .fetch_all(db)
    .await
}

/// `(name as requested, id)` for the names that match a device of the tenant, ignoring case.
pub async fn devices_by_name(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    names: &[String],
) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"select r.name as "requested!", d.id
           from unnest($2::text[]) as r(name)
           join device d on d.tenant_id = $1 and lower(d.name) = lower(r.name)"#,
        tenant_id,
        names
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.requested, r.id)).collect())
}

/// A series as the write path sees it.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    pub id: i64,
    pub device_id: i64,
    pub metric: String,
    pub instance: String,
    pub last_seen: OffsetDateTime,
    /// The labels as JSON text.
    pub labels: String,
}

/// The existing series among the keys `(device_ids[i], metrics[i], instances[i])`.
pub async fn find_series(
    db: impl PgExecutor<'_>,
    device_ids: &[i64],
    metrics: &[String],
    instances: &[String],
) -> sqlx::Result<Vec<SeriesRow>> {
    sqlx::query_as!(
        SeriesRow,
        r#"select s.id, s.device_id, s.metric, s.instance, s.last_seen,
                  s.labels::text as "labels!"
           from unnest($1::int8[], $2::text[], $3::text[]) as k(device_id, metric, instance)
           join series s
             on s.device_id = k.device_id and s.metric = k.metric and s.instance = k.instance"#,
        device_ids,
        metrics,
        instances
    )
    .fetch_all(db)
    .await
}

/// How many series each of these devices has.
pub async fn series_counts(
    db: impl PgExecutor<'_>,
    device_ids: &[i64],
) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        r#"select device_id, count(*) as "n!" from series
           where device_id = any($1) group by device_id"#,
        device_ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.device_id, r.n)).collect())
}

/// New series, as parallel columns.
#[derive(Debug, Default)]
pub struct NewSeries {
    pub device_ids: Vec<i64>,
    pub metrics: Vec<String>,
    pub instances: Vec<String>,
    /// JSON objects.
    pub labels: Vec<String>,
    pub first_seen: Vec<OffsetDateTime>,
    pub last_seen: Vec<OffsetDateTime>,
}

/// Inserts the series that do not exist yet; returns `(id, device_id, metric, instance)` of
/// those it inserted (a concurrent batch may have inserted the others).
pub async fn insert_series(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    new: &NewSeries,
) -> sqlx::Result<Vec<(i64, i64, String, String)>> {
    let rows = sqlx::query!(
        r#"insert into series (tenant_id, device_id, metric, instance, labels, first_seen, last_seen)
           select $1, k.device_id, k.metric, k.instance, k.labels::jsonb, k.first_seen, k.last_seen
           from unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                       $7::timestamptz[])
                as k(device_id, metric, instance, labels, first_seen, last_seen)
           on conflict (device_id, metric, instance) do nothing
           returning id, device_id, metric, instance"#,
        tenant_id,
        &new.device_ids,
        &new.metrics,
        &new.instances,
        &new.labels,
        &new.first_seen,
        &new.last_seen
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.device_id, r.metric, r.instance))
        .collect())
}

/// Advances `last_seen` and replaces the labels (where `labels[i]` is set) of existing series.
pub async fn touch_series(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    last_seen: &[OffsetDateTime],
    labels: &[Option<String>],
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update series s
           set last_seen = greatest(s.last_seen, k.last_seen),
               labels = coalesce(k.labels::jsonb, s.labels)
           from unnest($1::int8[], $2::timestamptz[], $3::text[]) as k(id, last_seen, labels)
           where s.id = k.id"#,
        ids,
        last_seen,
        labels as &[Option<String>]
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Creates the missing daily raw partitions for `[first, last]`; returns how many it created.
pub async fn ensure_partitions(
    db: impl PgExecutor<'_>,
    first: time::Date,
    last: time::Date,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"select telemetry_ensure_partitions($1, $2) as "created!""#,
        first,
        last
    )
    .fetch_one(db)
    .await
}

/// The batch's row.
#[derive(Debug)]
pub struct BatchRow<'a> {
    pub batch_id: Uuid,
    pub owner: Sender,
    pub agent_name: &'a str,
    pub agent_version: &'a str,
    pub sent_at: OffsetDateTime,
    pub samples_accepted: i32,
    pub samples_rejected: i32,
    pub events_accepted: i32,
    pub events_rejected: i32,
}

/// Whether a batch with this id was accepted before (a cheap early answer for retries; the
/// insert in [`insert_batch`] is what decides).
pub async fn batch_seen(db: impl PgExecutor<'_>, batch_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from ingest_batch where batch_id = $1) as "seen!""#,
        batch_id
    )
    .fetch_one(db)
    .await
}

/// Inserts the batch's row; `false` if the id is taken (the batch is a duplicate). A concurrent
/// insert of the same id waits here until the other transaction ends.
pub async fn insert_batch(db: impl PgExecutor<'_>, row: &BatchRow<'_>) -> sqlx::Result<bool> {
    let inserted = sqlx::query_scalar!(
        r#"insert into ingest_batch (batch_id, tenant_id, token_id, agent_id, agent_name,
                                     agent_version, sent_at, samples_accepted,
                                     samples_rejected, events_accepted, events_rejected)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           on conflict (batch_id) do nothing
           returning batch_id"#,
        row.batch_id,
        row.owner.tenant_id,
        row.owner.token_id,
        row.owner.agent_id,
        row.agent_name,
        row.agent_version,
        row.sent_at,
        row.samples_accepted,
        row.samples_rejected,
        row.events_accepted,
        row.events_rejected
    )
    .fetch_optional(db)
    .await?;
    Ok(inserted.is_some())
}

/// Raw sample rows, as parallel columns.
#[derive(Debug, Default, Clone)]
pub struct SampleRows {
    pub series_ids: Vec<i64>,
    pub at: Vec<OffsetDateTime>,
    pub values: Vec<Option<f64>>,
    pub states: Vec<Option<String>>,
    pub reasons: Vec<Option<String>>,
}

impl SampleRows {
    pub fn len(&self) -> usize {
        self.series_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series_ids.is_empty()
    }

    pub fn push(
        &mut self,
        series_id: i64,
        at: OffsetDateTime,
        value: Option<f64>,
        state: Option<String>,
        reason: Option<String>,
    ) {
        self.series_ids.push(series_id);
        self.at.push(at);
        self.values.push(value);
        self.states.push(state);
        self.reasons.push(reason);
    }

    /// The rows in PostgreSQL's binary COPY format (header, tuples, trailer).
    pub fn to_copy_binary(&self) -> Vec<u8> {
        // 2000-01-01T00:00:00Z, the epoch of PostgreSQL's binary timestamps, in Unix µs.
        const PG_EPOCH_US: i128 = 946_684_800_000_000;
        let mut out = Vec::with_capacity(19 + self.len() * 46 + 2);
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0i32.to_be_bytes()); // flags
        out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        let text = |out: &mut Vec<u8>, s: &Option<String>| match s {
            Some(s) => {
                // Texts are bounded by validation (at most 256 bytes).
                out.extend_from_slice(&(s.len() as i32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        };
        for i in 0..self.len() {
            out.extend_from_slice(&5i16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&self.series_ids[i].to_be_bytes());
            let us = self.at[i].unix_timestamp_nanos() / 1000 - PG_EPOCH_US;
            out.extend_from_slice(&8i32.to_be_bytes());
            // Validated timestamps are within days of now.
            out.extend_from_slice(&(us as i64).to_be_bytes());
            match self.values[i] {
                Some(v) => {
                    out.extend_from_slice(&8i32.to_be_bytes());
                    out.extend_from_slice(&v.to_be_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
            text(&mut out, &self.states[i]);
            text(&mut out, &self.reasons[i]);
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }
}

/// Writes raw samples with binary `COPY` (the write path's choice; see docs/benchmarks.md).
pub async fn copy_samples(conn: &mut PgConnection, rows: &SampleRows) -> sqlx::Result<u64> {
    let mut copy = conn
        .copy_in_raw("copy sample (series_id, at, value, state, reason) from stdin (format binary)")
        .await?;
    copy.send(rows.to_copy_binary()).await?;
    copy.finish().await
}

/// Writes raw samples with one `insert … select from unnest(…)`; kept for the benchmark.
pub async fn insert_samples(db: impl PgExecutor<'_>, rows: &SampleRows) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"insert into sample (series_id, at, value, state, reason)
           select * from unnest($1::int8[], $2::timestamptz[], $3::float8[], $4::text[],
                                $5::text[])"#,
        &rows.series_ids,
        &rows.at,
        &rows.values as &[Option<f64>],
        &rows.states as &[Option<String>],
        &rows.reasons as &[Option<String>]
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Marks 1-minute buckets (`(series_ids[i], minutes[i])`) for re-rolling.
pub async fn mark_dirty(
    db: impl PgExecutor<'_>,
    series_ids: &[i64],
    minutes: &[OffsetDateTime],
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into rollup_dirty (tier, series_id, bucket)
           select '1m', * from unnest($1::int8[], $2::timestamptz[])
           on conflict do nothing"#,
        series_ids,
        minutes
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Device events, as parallel columns.
#[derive(Debug, Default)]
pub struct EventRows {
    pub device_ids: Vec<i64>,
    pub at: Vec<OffsetDateTime>,
    pub kinds: Vec<String>,
    /// The event's wire fields as a JSON object.
    pub details: Vec<String>,
}

pub async fn insert_events(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    rows: &EventRows,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into device_event (tenant_id, device_id, at, kind, detail)
           select $1, k.device_id, k.at, k.kind, k.detail::jsonb
           from unnest($2::int8[], $3::timestamptz[], $4::text[], $5::text[])
                as k(device_id, at, kind, detail)"#,
        tenant_id,
        &rows.device_ids,
        &rows.at,
        &rows.kinds,
        &rows.details
    )
    .execute(db)
    .await?;
    Ok(())
}
