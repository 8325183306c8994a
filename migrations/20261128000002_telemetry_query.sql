-- Telemetry query surface, plain-PostgreSQL mode: the functions that reads go through
-- (app/src/db/telemetry.rs). A TimescaleDB mode can later define the same names with the same
-- result shapes over its own storage, and the app does not change. Semantics: docs/metrics.md,
-- "Reading telemetry".

-- The state intervals of one state series (`up`, `probe_up`, `interface_running`, ...) over
-- [t0, t1): rows (start_at, end_at, state, reason) that partition the window exactly (no
-- overlap, no hole), in time order, two adjacent rows never of the same state.
--
-- * A sample at `at` vouches for its state from `at` until the next sample, but for at most
--   `stale` (3 poll intervals, say): a poll that stopped coming is evidence of nothing.
-- * Time no sample vouches for is `unknown`: before the first sample, the part of a gap beyond
--   `stale`, and after the last sample's `stale`.
-- * Consecutive pieces of the same state merge into one row, which carries the reason of its
--   first sample: why the device went down, not what a later poll of the outage said.
-- * Late data needs no care: this reads the raw samples as they are now.
-- * Two samples at the same instant (two agents, a replayed batch): the one that sorts last by
--   (state desc, reason) wins, so `down` beats `up`; deterministic either way.
--
-- Cost: only samples in (t0 - stale, t1) can vouch for time in the window, so the function reads
-- exactly that: an index range scan of `sample_series_at` on (series_id = for_series,
-- at > t0 - stale, at < t1), in only the daily partitions that range prunes to, in index order
-- (which is also the order of the window functions below, so no sort of the raw rows). Nothing
-- else of `sample` is touched; the rest works on those rows.
create function telemetry_state_intervals(
    for_series bigint,
    t0 timestamptz,
    t1 timestamptz,
    stale interval
) returns table (start_at timestamptz, end_at timestamptz, state text, reason text)
language sql stable parallel safe
as $$
    with evidence as (
        select s.at, s.state, s.reason,
               lead(s.at) over (order by s.at, s.state desc, s.reason) as next_at
        from sample s
        where s.series_id = for_series
          and s.at > t0 - stale
          and s.at < t1
          and s.state is not null
    ),
    -- What each sample vouches for, clipped to the window (least() skips the null next_at of
    -- the last sample).
    vouched as (
        select greatest(e.at, t0) as lo, least(e.next_at, e.at + stale, t1) as hi,
               e.state, e.reason
        from evidence e
    ),
    -- Empty pieces dropped: a sample before t0 that went stale before it, the loser of a tie.
    known as (
        select v.lo, v.hi, v.state, v.reason, lag(v.hi) over (order by v.lo) as prev_hi
        from vouched v
        where v.hi > v.lo
    ),
    -- The known pieces, and the unknown gaps before each of them and after the last.
    pieces as (
        select k.lo, k.hi, k.state, k.reason from known k
        union all
        select coalesce(k.prev_hi, t0), k.lo, 'unknown', null from known k
        where k.lo > coalesce(k.prev_hi, t0)
        union all
        select coalesce(max(k.hi), t0), t1, 'unknown', null from known k
        having coalesce(max(k.hi), t0) < t1
    ),
    -- Runs of the same state (gaps and islands): a new run starts where the state changes.
    runs as (
        select c.lo, c.hi, c.state, c.reason,
               sum(case when c.changed then 1 else 0 end) over (order by c.lo) as run
        from (
            select p.*, p.state is distinct from lag(p.state) over (order by p.lo) as changed
            from pieces p
        ) c
    )
    select min(r.lo), max(r.hi), r.state, (array_agg(r.reason order by r.lo))[1]
    from runs r
    group by r.run, r.state
    order by min(r.lo)
$$;

-- Availability of a device: the state intervals of its `up` series (device-wide, instance '').
-- A device that was never polled has no such series: the whole window is unknown. The series
-- is found by its unique key (device_id, metric, instance). Tenant scope is the caller's.
create function telemetry_device_availability(
    for_device bigint,
    t0 timestamptz,
    t1 timestamptz,
    stale interval
) returns table (start_at timestamptz, end_at timestamptz, state text, reason text)
language sql stable parallel safe
as $$
    select i.start_at, i.end_at, i.state, i.reason
    from series s
    cross join lateral telemetry_state_intervals(s.id, t0, t1, stale) i
    where s.device_id = for_device and s.metric = 'up' and s.instance = ''
    union all
    select t0, t1, 'unknown', null
    where t0 < t1
      and not exists (
          select 1 from series s
          where s.device_id = for_device and s.metric = 'up' and s.instance = ''
      )
$$;

-- The rollup buckets of one series in [from_bucket, to_bucket) from one tier ('1m', '1h',
-- '1d'), with the p95 read back from the bucket's histogram. The tier is a constant of each
-- call, so two of the three branches are cut by a one-time filter and never run; the third is
-- a primary-key range scan on (series_id, bucket).
create function telemetry_rollup_read(
    tier text,
    for_series bigint,
    from_bucket timestamptz,
    to_bucket timestamptz
) returns table (
    bucket timestamptz,
    count integer,
    min double precision,
    max double precision,
    sum double precision,
    last double precision,
    last_at timestamptz,
    p95 double precision
)
language sql stable parallel safe
as $$
    select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
           telemetry_hist_quantile(r.hist_keys, r.hist_counts, 0.95)
    from sample_1m r
    where tier = '1m' and r.series_id = for_series
      and r.bucket >= from_bucket and r.bucket < to_bucket
    union all
    select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
           telemetry_hist_quantile(r.hist_keys, r.hist_counts, 0.95)
    from sample_1h r
    where tier = '1h' and r.series_id = for_series
      and r.bucket >= from_bucket and r.bucket < to_bucket
    union all
    select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
           telemetry_hist_quantile(r.hist_keys, r.hist_counts, 0.95)
    from sample_1d r
    where tier = '1d' and r.series_id = for_series
      and r.bucket >= from_bucket and r.bucket < to_bucket
$$;
