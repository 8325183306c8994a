-- TimescaleDB mode: chosen here, at migrate time, and recorded in `storage_mode`.
--
-- The session setting `ispvm.storage_mode` (the server sets it from TELEMETRY_STORAGE) asks for
-- 'plain', 'timescaledb' or 'auto' (also when unset). 'auto' takes TimescaleDB when the
-- extension is installed, preloaded (`shared_preload_libraries`) and may be created by this
-- role, and the database holds no samples yet: a populated plain database stays plain (moving
-- its rows and rebuilding its rollups is not something to do silently inside a migration).
-- 'timescaledb' fails the migration, saying why, where 'auto' would stay plain.
--
-- In TimescaleDB mode:
-- * `sample` is a hypertable with daily chunks and the same columns, compressed (segment by
--   series, ordered by time) by a compression policy; raw retention is a retention policy.
-- * `sample_1m`, `sample_1h` and `sample_1d` are continuous aggregates (1h on 1m, 1d on 1h)
--   with refresh policies whose windows cover the replay window, so late data is re-rolled by
--   the aggregates' own invalidation; 1m and 1h retention are retention policies.
-- * A bucket's histogram is one `hist int8[]` of packed (key << 32 | count) pairs, built by the
--   `telemetry_hist_sum` aggregate, because an aggregate yields one value per bucket; plain mode
--   keeps the two arrays. `telemetry_rollup_read` is redefined over the aggregates with the same
--   result shape, so readers do not care which mode runs.
-- * The server reads the mode at start: it skips its own partition, rollup and retention jobs
--   and instead keeps the policies' ages equal to its settings (server/src/ingest/timescale.rs).
do $mode$
declare
    wanted text := coalesce(nullif(current_setting('ispvm.storage_mode', true), ''), 'auto');
    installed boolean := exists (select 1 from pg_available_extensions where name = 'timescaledb');
    preloaded boolean := current_setting('shared_preload_libraries') ~ '(^|[ ,])timescaledb([ ,]|$)';
    why text;
begin
    if wanted not in ('auto', 'plain', 'timescaledb') then
        raise exception 'ispvm.storage_mode must be auto, plain or timescaledb, not %', wanted;
    end if;
    update storage_mode set timescaledb_available = installed and preloaded;
    why := case
        when wanted = 'plain' then 'plain mode was asked for'
        when not installed then 'the timescaledb extension is not installed on this server'
        when not preloaded then 'timescaledb is not in shared_preload_libraries'
        when exists (select 1 from sample) then 'the database already holds samples in plain mode'
    end;
    if why is null then
        begin
            create extension if not exists timescaledb;
        exception when others then
            why := 'create extension timescaledb failed: ' || sqlerrm;
        end;
    end if;
    if why is not null then
        if wanted = 'timescaledb' then
            raise exception 'TimescaleDB mode was asked for, but %', why;
        end if;
        raise notice 'telemetry storage stays plain: %', why;
        return;
    end if;

    -- Raw samples: a hypertable instead of the natively partitioned table (it is empty).
    drop table sample;
    create table sample (
        series_id bigint not null,
        at timestamptz not null,
        value double precision,
        state text,
        reason text
    );
    perform create_hypertable('sample', by_range('at', interval '1 day'),
                              create_default_indexes => false);
    create index sample_series_at on sample (series_id, at);
    execute $ddl$
        alter table sample set (timescaledb.compress,
                                timescaledb.compress_segmentby = 'series_id',
                                timescaledb.compress_orderby = 'at')
    $ddl$;

    -- The histogram of one value as a packed pair, and the aggregate that sums packed pairs:
    -- concatenation (the built-in array_cat, so the per-row work is C), then one merge per
    -- bucket in the final function. The functions that call ours carry this schema's search
    -- path: TimescaleDB's jobs refresh the aggregates with a search path of their own.
    execute $ddl$
        create function telemetry_hist_unit(v double precision) returns int8[]
        language sql immutable strict parallel safe
        set search_path from current
        as 'select array[telemetry_hist_key(v)::int8 * 4294967296 + 1]'
    $ddl$;
    execute $ddl$
        create function telemetry_hist_merge(packed int8[]) returns int8[]
        language sql immutable strict parallel safe
        as $f$
            select coalesce(array_agg(k * 4294967296 + n order by k), '{}')
            from (
                select p >> 32 as k, sum(p & 4294967295)::int8 as n
                from unnest(packed) as p
                group by 1
            ) pairs
        $f$
    $ddl$;
    execute $ddl$
        create aggregate telemetry_hist_sum(int8[]) (
            sfunc = array_cat,
            stype = int8[],
            combinefunc = array_cat,
            finalfunc = telemetry_hist_merge,
            initcond = '{}',
            parallel = safe
        )
    $ddl$;
    execute $ddl$
        create function telemetry_hist_packed_quantile(hist int8[], q double precision)
        returns double precision
        language sql immutable strict parallel safe
        set search_path from current
        as $f$
            select telemetry_hist_quantile(array_agg((p >> 32)::smallint order by p),
                                           array_agg((p & 4294967295)::integer order by p), q)
            from unnest(hist) as p
        $f$
    $ddl$;

    -- The rollups: continuous aggregates in place of the plain tables.
    drop table rollup_dirty;
    drop table rollup_watermark;
    drop table sample_1m;
    drop table sample_1h;
    drop table sample_1d;
    execute $ddl$
        create materialized view sample_1m with (timescaledb.continuous) as
        select series_id, time_bucket(interval '1 minute', at) as bucket,
               count(*)::integer as count, min(value) as min, max(value) as max,
               sum(value) as sum, last(value, at) as last, max(at) as last_at,
               telemetry_hist_sum(telemetry_hist_unit(value)) as hist
        from sample
        where value is not null
        group by series_id, time_bucket(interval '1 minute', at)
        with no data
    $ddl$;
    execute $ddl$
        create materialized view sample_1h with (timescaledb.continuous) as
        select series_id, time_bucket(interval '1 hour', bucket) as bucket,
               sum(count)::integer as count, min(min) as min, max(max) as max,
               sum(sum) as sum, last(last, last_at) as last, max(last_at) as last_at,
               telemetry_hist_sum(hist) as hist
        from sample_1m
        group by series_id, time_bucket(interval '1 hour', bucket)
        with no data
    $ddl$;
    execute $ddl$
        create materialized view sample_1d with (timescaledb.continuous) as
        select series_id, time_bucket(interval '1 day', bucket) as bucket,
               sum(count)::integer as count, min(min) as min, max(max) as max,
               sum(sum) as sum, last(last, last_at) as last, max(last_at) as last_at,
               telemetry_hist_sum(hist) as hist
        from sample_1h
        group by series_id, time_bucket(interval '1 day', bucket)
        with no data
    $ddl$;
    -- Refresh windows reach 8 days back: ingest accepts samples up to 7 days old, and a late
    -- sample invalidates its buckets, which the next refresh inside the window re-rolls. The 1m
    -- tier stays 3 minutes behind the clock, like plain mode's rollup job.
    perform add_continuous_aggregate_policy('sample_1m', start_offset => interval '8 days',
        end_offset => interval '3 minutes', schedule_interval => interval '1 minute');
    perform add_continuous_aggregate_policy('sample_1h', start_offset => interval '8 days 1 hour',
        end_offset => interval '5 minutes', schedule_interval => interval '5 minutes');
    perform add_continuous_aggregate_policy('sample_1d', start_offset => interval '9 days',
        end_offset => interval '10 minutes', schedule_interval => interval '30 minutes');

    -- The read surface over the aggregates: the same name, arguments and columns as plain mode.
    execute $ddl$
        create or replace function telemetry_rollup_read(
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
        as $f$
            select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
                   telemetry_hist_packed_quantile(r.hist, 0.95)
            from sample_1m r
            where tier = '1m' and r.series_id = for_series
              and r.bucket >= from_bucket and r.bucket < to_bucket
            union all
            select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
                   telemetry_hist_packed_quantile(r.hist, 0.95)
            from sample_1h r
            where tier = '1h' and r.series_id = for_series
              and r.bucket >= from_bucket and r.bucket < to_bucket
            union all
            select r.bucket, r.count, r.min, r.max, r.sum, r.last, r.last_at,
                   telemetry_hist_packed_quantile(r.hist, 0.95)
            from sample_1d r
            where tier = '1d' and r.series_id = for_series
              and r.bucket >= from_bucket and r.bucket < to_bucket
        $f$
    $ddl$;

    -- Sets the retention or compression policy of a hypertable or continuous aggregate to act
    -- at `age`, adding it where missing; true when it changed anything. A policy already at
    -- `age` is left alone (re-adding it would restart its schedule). The server calls it with
    -- its settings (server/src/ingest/timescale.rs).
    execute $ddl$
        create function telemetry_sync_policy(relation text, kind text, age interval)
        returns boolean
        language plpgsql
        as $f$
        declare
            now_at interval;
        begin
            if kind not in ('retention', 'compression') then
                raise exception 'policy kind must be retention or compression, not %', kind;
            end if;
            select (j.config ->> case kind when 'retention' then 'drop_after'
                                           else 'compress_after' end)::interval
            into now_at
            from timescaledb_information.jobs j
            -- A continuous aggregate's jobs are listed under its view's name.
            where j.proc_name = 'policy_' || kind and j.hypertable_name = relation;
            if now_at is not distinct from age then
                return false;
            end if;
            if kind = 'retention' then
                perform remove_retention_policy(relation, if_exists => true);
                perform add_retention_policy(relation, drop_after => age);
            else
                perform remove_compression_policy(relation, if_exists => true);
                perform add_compression_policy(relation, compress_after => age);
            end if;
            return true;
        end
        $f$
    $ddl$;

    -- Plain mode's partition functions have nothing to manage any more.
    drop function telemetry_ensure_partitions(date, date);
    drop function telemetry_drop_raw_partitions(timestamptz);
    drop function telemetry_rollup_partition(text, timestamptz);
    drop function telemetry_ensure_rollup_partitions(text, timestamptz, timestamptz);
    drop function telemetry_drop_rollup_partitions(text, timestamptz);

    update storage_mode set mode = 'timescaledb', detected_at = now();
    raise notice 'telemetry storage: TimescaleDB %',
        (select extversion from pg_extension where extname = 'timescaledb');
end
$mode$;
