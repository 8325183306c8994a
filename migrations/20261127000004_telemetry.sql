-- Telemetry storage, plain-PostgreSQL mode: series identity, raw samples in daily range
-- partitions, 1m/1h/1d rollups maintained by the server's background service, ingest
-- idempotency and agent credentials. The contract these rows come from is docs/metrics.md.
--
-- Partitions are created and dropped by the server (`telemetry_ensure_partitions`,
-- `telemetry_drop_raw_partitions` below, called by server/src/ingest/maintenance.rs): ahead of
-- time for today and the next days, on demand for late data, and whole for retention.

-- Which storage mode this database runs. Detected once, here, at migrate time. Only the plain
-- mode exists so far; `timescaledb_available` records whether the extension was installed when
-- this migration ran, so a later migration can switch modes knowingly.
create table storage_mode (
    singleton boolean primary key default true check (singleton),
    mode text not null check (mode in ('plain', 'timescaledb')),
    timescaledb_available boolean not null,
    detected_at timestamptz not null default now()
);
insert into storage_mode (mode, timescaledb_available)
select 'plain', exists (select 1 from pg_extension where extname = 'timescaledb');

-- An agent's bearer credential. Only the SHA-256 of the token is stored: a leaked table does
-- not let anyone send data. `ispvm agent token create` prints the token once.
create table ingest_token (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 100),
    token_sha256 bytea not null unique check (length(token_sha256) = 32),
    created_at timestamptz not null default now(),
    -- A revoked token answers 401 from then on; the row stays for the audit trail.
    revoked_at timestamptz
);
-- One live token per (tenant, name): a second `token create` for the same agent is refused
-- until the first is revoked.
create unique index ingest_token_name_key on ingest_token (tenant_id, lower(name))
    where revoked_at is null;

-- A batch accepted once. Its insert shares the transaction of the batch's rows, so a batch is
-- either written with its row here or not at all; a repeat (a retry after a lost answer, even a
-- concurrent one) finds the row and writes nothing. Rows older than the replay window are
-- pruned by the retention job: a batch that old would be rejected as too_old anyway.
create table ingest_batch (
    batch_id uuid primary key,
    tenant_id bigint not null references tenant (id),
    token_id bigint not null references ingest_token (id),
    agent_name text not null,
    agent_version text not null,
    sent_at timestamptz not null,
    received_at timestamptz not null default now(),
    samples_accepted integer not null,
    samples_rejected integer not null,
    events_accepted integer not null,
    events_rejected integer not null
);
-- Pruning by age.
create index ingest_batch_received_at on ingest_batch using brin (received_at);

-- A series: (device, metric, instance). Its id is what every sample row carries, so the raw
-- rows stay three fixed-width columns. `instance` is '' for device-wide metrics (not null, so
-- the unique key treats them as equal). Labels are attributes, not identity: latest wins.
create table series (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    device_id bigint not null,
    metric text not null,
    instance text not null default '',
    labels jsonb not null default '{}',
    first_seen timestamptz not null,
    -- Advanced by the write path at most about once an hour per series (writing it with every
    -- sample would double the write volume); it is for spotting dead series, not for reads.
    last_seen timestamptz not null,
    unique (device_id, metric, instance),
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade
);
-- Per-tenant listings (the fleet's top-N, the series picker).
create index series_tenant on series (tenant_id, metric);

-- Raw samples, partitioned by day on `at` (UTC days, partitions named sample_YYYYMMDD).
--
-- Layout: the three fixed-width columns first (8-byte aligned, no padding), then the two
-- texts that only state samples use; a numeric sample stores them as null bits in the tuple
-- header (free for up to 8 columns). That is 24 bytes of data + a 24-byte header + a 4-byte
-- line pointer per row. The series' identity and labels are in `series`, never repeated here.
-- No foreign key to `series`: checking one per row would cost the write path more than a
-- series deleted with its device costs (its raw rows age out with their partitions).
-- No primary key either: COPY cannot skip duplicates, and idempotency is per batch.
create table sample (
    series_id bigint not null,
    at timestamptz not null,
    -- Gauges and counters; null for state samples.
    value double precision,
    -- State metrics: the state name, and why (`down` because of `timeout`).
    state text,
    reason text
) partition by range (at);
-- Reads are per series over a time range.
create index sample_series_at on sample (series_id, at);
-- The rollup job reads whole minutes across all series; rows arrive in time order, so a BRIN
-- index is a few pages per partition and nearly free to maintain.
create index sample_at on sample using brin (at);

-- Device events (state changes seen by the device, log lines, configuration changes), kept as
-- their wire fields in `detail`. Not partitioned yet: far fewer rows than samples.
create table device_event (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    device_id bigint not null,
    at timestamptz not null,
    kind text not null check (kind in ('state_change', 'log', 'config_change')),
    detail jsonb not null,
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade
);
-- A device's timeline.
create index device_event_device_at on device_event (device_id, at);

-- Rollups. One row per (series, bucket) of numeric samples (gauges and counters; state samples
-- become intervals elsewhere). min/max/sum/count merge exactly across tiers; avg = sum / count;
-- `last` is the value at `last_at`, the newest sample in the bucket.
--
-- p95 and other quantiles: a sparse log-bucketed histogram (the DDSketch idea): a value's key
-- is ceil(log_γ |v|) with γ = 1.0408, offset and signed so keys sort like values; quantiles
-- read back from it are within 2 % of the true value whatever the unit (bytes, ms, dBm). Two
-- parallel arrays (keys ascending, counts) merge exactly by adding counts, so the hour is
-- built from minutes and the day from hours without the raw rows. A minute of a 10 s poll has
-- at most 6 keys; an hour of a steady gauge a few dozen. See `telemetry_hist_key`.
create table sample_1m (
    series_id bigint not null,
    bucket timestamptz not null,
    count integer not null,
    min double precision not null,
    max double precision not null,
    sum double precision not null,
    last double precision not null,
    last_at timestamptz not null,
    hist_keys smallint[] not null,
    hist_counts integer[] not null,
    primary key (series_id, bucket)
);
-- Retention deletes by bucket.
create index sample_1m_bucket on sample_1m using brin (bucket);

create table sample_1h (like sample_1m including all);
create table sample_1d (like sample_1m including all);

-- How far each tier is rolled up: every bucket that ends at or before `rolled_to` is final,
-- except for the ones listed in `rollup_dirty`.
create table rollup_watermark (
    tier text primary key check (tier in ('1m', '1h', '1d')),
    rolled_to timestamptz not null,
    updated_at timestamptz not null default now()
);

-- Buckets below a watermark that late data touched: the write path adds (1m, series, minute)
-- for samples whose minute may already be rolled up; re-rolling a minute adds its hour, an hour
-- its day. The rollup job deletes a row in the transaction that re-rolls it.
create table rollup_dirty (
    tier text not null check (tier in ('1m', '1h', '1d')),
    series_id bigint not null,
    bucket timestamptz not null,
    primary key (tier, bucket, series_id)
);

-- The histogram key of a value (see sample_1m): 0 for |v| < 1e-9, else ±(2000 + ceil(log_γ |v|)),
-- γ = 1.0408 (2 % relative accuracy). For any double the key fits a smallint.
-- server/src/ingest/histogram.rs has the same function and the quantile read-back.
create function telemetry_hist_key(v double precision) returns smallint
language sql immutable strict parallel safe
as $$
    select case
        when abs(v) < 1e-9 then 0
        when v > 0 then (2000 + ceil(ln(v) / ln(1.0408)))::smallint
        else (-(2000 + ceil(ln(-v) / ln(1.0408))))::smallint
    end
$$;

-- The q-quantile (0..1) of a histogram: the representative value of the key where the
-- cumulative count first reaches ceil(q × total) (nearest rank).
create function telemetry_hist_quantile(keys smallint[], counts integer[], q double precision)
returns double precision
language sql immutable strict parallel safe
as $$
    with h as (
        select k, sum(c) over (order by k) as cum, sum(c) over () as total
        from unnest(keys, counts) as u(k, c)
    )
    select case
        when k = 0 then 0
        when k > 0 then 2 * power(1.0408, k - 2000) / (1 + 1.0408)
        else -2 * power(1.0408, -k - 2000) / (1 + 1.0408)
    end
    from h
    where cum >= greatest(1, ceil(q * total))
    order by k
    limit 1
$$;

-- Creates the daily partitions of `sample` for every day in [first_day, last_day] that has
-- none yet; returns how many it created. Serialised by an advisory lock so that two writers
-- creating the same day's partition do not collide.
create function telemetry_ensure_partitions(first_day date, last_day date) returns integer
language plpgsql
as $$
declare
    day date;
    created integer := 0;
    name text;
begin
    perform pg_advisory_xact_lock(hashtext('ispvm.sample_partitions'));
    day := first_day;
    while day <= last_day loop
        name := 'sample_' || to_char(day, 'YYYYMMDD');
        if to_regclass(name) is null then
            execute format(
                'create table %I partition of sample for values from (%L) to (%L)',
                name,
                day::timestamp at time zone 'UTC',
                (day + 1)::timestamp at time zone 'UTC'
            );
            created := created + 1;
        end if;
        day := day + 1;
    end loop;
    return created;
end
$$;

-- Drops the daily partitions of `sample` whose day ends at or before `before` (UTC); returns
-- the names dropped. The caller passes min(retention cutoff, the 1m watermark), so raw data is
-- never dropped before it is rolled up.
create function telemetry_drop_raw_partitions(before timestamptz) returns setof text
language plpgsql
as $$
declare
    part record;
begin
    perform pg_advisory_xact_lock(hashtext('ispvm.sample_partitions'));
    for part in
        select c.relname
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'sample'::regclass
          and c.relname ~ '^sample_[0-9]{8}$'
          and (to_date(substr(c.relname, 8), 'YYYYMMDD') + 1)::timestamp at time zone 'UTC'
              <= before
        order by c.relname
    loop
        execute format('drop table %I', part.relname);
        return next part.relname;
    end loop;
end
$$;
