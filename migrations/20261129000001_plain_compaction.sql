-- Compaction of old raw samples in plain-PostgreSQL mode, and the raw reads every mode shares.
--
-- A raw row costs about 52 bytes on disk before its index entries (24 bytes of data, a 24-byte
-- tuple header, a 4-byte line pointer). Once a day can no longer change (older than the replay
-- window and below the 1m watermark), the server packs each series' day into one row of
-- `sample_packed` and drops the day's partition (server/src/ingest/maintenance.rs,
-- `compact_once`). A packed row is parallel arrays in time order, which TOAST compresses (lz4
-- where the server has it, else pglz): timestamps as microsecond deltas (a steady poll repeats
-- one delta), integral series (counters, which are most series) as value deltas, other numbers
-- as doubles, and states and reasons as text arrays (long runs of `up`). Every sample comes back
-- exactly: same instant to the microsecond, same value bit for bit (integral deltas are exact
-- below 2^53), same state and reason, duplicates kept.
--
-- Readers never touch `sample` or `sample_packed` directly: `telemetry_raw` and
-- `telemetry_latest` read both. TimescaleDB mode defines the same functions over its hypertable
-- (whose compression is the extension's own) and has no `sample_packed`.

do $mode$
begin
    if (select mode from storage_mode) = 'timescaledb' then
        create function telemetry_raw(for_series bigint, t0 timestamptz, t1 timestamptz)
        returns table (at timestamptz, value double precision, state text, reason text)
        language sql stable parallel safe
        as $$
            select s.at, s.value, s.state, s.reason from sample s
            where s.series_id = for_series and s.at >= t0 and s.at < t1
        $$;

        create function telemetry_latest(for_series bigint, before timestamptz,
                                         numeric_only boolean)
        returns table (at timestamptz, value double precision, state text, reason text)
        language sql stable parallel safe
        as $$
            select s.at, s.value, s.state, s.reason from sample s
            where s.series_id = for_series and s.at < before
              and (not numeric_only or s.value is not null)
            order by s.at desc
            limit 1
        $$;
        return;
    end if;

    -- One series' samples of one UTC day, in the order (at, state desc, reason, value).
    create table sample_packed (
        series_id bigint not null,
        day date not null,
        count integer not null check (count > 0),
        -- The first and the last sample's instant: reads skip rows outside their window
        -- without unpacking them.
        first_at timestamptz not null,
        last_at timestamptz not null,
        -- Microseconds from the day's midnight (the first) or from the previous sample.
        at_deltas bigint[] not null,
        -- Where every value is a whole number below 2^53 in magnitude: the first value, then
        -- the difference from the previous one. Else null, and `vals` holds the values.
        value_deltas bigint[],
        vals double precision[],
        -- Null where the series has no state samples that day.
        states text[],
        reasons text[],
        primary key (series_id, day),
        check (cardinality(at_deltas) = count),
        check (value_deltas is null or vals is null)
    );
    -- Retention deletes by day.
    create index sample_packed_day on sample_packed using brin (day);
    begin
        alter table sample_packed
            alter column at_deltas set compression lz4,
            alter column value_deltas set compression lz4,
            alter column vals set compression lz4,
            alter column states set compression lz4,
            alter column reasons set compression lz4;
    exception when feature_not_supported then
        -- A server built without lz4: the default pglz compresses these arrays less well.
        raise notice 'lz4 is not available; sample_packed uses pglz';
    end;

    -- The samples of a packed row, in their packed order.
    create function telemetry_unpack(p sample_packed)
    returns table (at timestamptz, value double precision, state text, reason text)
    language sql immutable parallel safe
    as $$
        select p.day::timestamp at time zone 'UTC'
                   + interval '1 microsecond' * sum(d.delta) over w,
               coalesce(p.vals[d.i], (sum(p.value_deltas[d.i]) over w)::double precision),
               p.states[d.i],
               p.reasons[d.i]
        from unnest(p.at_deltas) with ordinality as d(delta, i)
        window w as (order by d.i)
        order by d.i
    $$;

    -- Packs the oldest raw partition whose day ends at or before `before` and drops it, in the
    -- caller's transaction; returns its name, or null when there is none. The caller passes
    -- min(now - the compaction age, the 1m watermark) and the age is beyond the replay window,
    -- so no sample can arrive for the day afterwards.
    create function telemetry_compact_raw_partition(before timestamptz) returns text
    language plpgsql
    as $$
    declare
        part text;
        day date;
    begin
        perform pg_advisory_xact_lock(hashtext('ispvm.sample_partitions'));
        select c.relname into part
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'sample'::regclass
          and c.relname ~ '^sample_[0-9]{8}$'
          and (to_date(substr(c.relname, 8), 'YYYYMMDD') + 1)::timestamp at time zone 'UTC'
              <= before
        order by c.relname
        limit 1;
        if part is null then
            return null;
        end if;
        day := to_date(substr(part, 8), 'YYYYMMDD');
        execute format($sql$
            insert into sample_packed (series_id, day, count, first_at, last_at, at_deltas,
                                       value_deltas, vals, states, reasons)
            select o.series_id, %1$L, count(*), min(o.at), max(o.at),
                   array_agg(o.us - coalesce(o.prev_us, 0) order by o.i),
                   case when bool_and(o.whole)
                        then array_agg((o.value - coalesce(o.prev_value, 0))::bigint
                                       order by o.i) end,
                   case when not bool_and(o.whole) and bool_or(o.value is not null)
                        then array_agg(o.value order by o.i) end,
                   case when bool_or(o.state is not null)
                        then array_agg(o.state order by o.i) end,
                   case when bool_or(o.reason is not null)
                        then array_agg(o.reason order by o.i) end
            from (
                select r.*, lag(r.us) over w as prev_us, lag(r.value) over w as prev_value,
                       row_number() over w as i
                from (
                    select x.series_id, x.at, x.value, x.state, x.reason,
                           (extract(epoch from x.at - %2$L::timestamptz) * 1000000)::bigint
                               as us,
                           -- A whole number that a bigint delta carries exactly; -0 is not
                           -- (it would come back as 0).
                           coalesce(x.value = trunc(x.value) and abs(x.value) < 2 ^ 53
                                    and float8send(x.value) <> float8send('-0'), false)
                               as whole
                    from %3$I x
                ) r
                window w as (partition by r.series_id
                             order by r.at, r.state desc, r.reason, r.value)
            ) o
            group by o.series_id
        $sql$, day, day::timestamp at time zone 'UTC', part);
        execute format('drop table %I', part);
        return part;
    end
    $$;

    create function telemetry_raw(for_series bigint, t0 timestamptz, t1 timestamptz)
    returns table (at timestamptz, value double precision, state text, reason text)
    language sql stable parallel safe
    as $$
        select s.at, s.value, s.state, s.reason from sample s
        where s.series_id = for_series and s.at >= t0 and s.at < t1
        union all
        select u.at, u.value, u.state, u.reason
        from sample_packed p
        cross join lateral telemetry_unpack(p) u
        where p.series_id = for_series
          and p.day >= (t0 at time zone 'UTC')::date
          and p.day <= (t1 at time zone 'UTC')::date
          and p.last_at >= t0 and p.first_at < t1
          and u.at >= t0 and u.at < t1
    $$;

    -- The newest sample before `before` (with a value, when `numeric_only`): a backward index
    -- scan of the raw partitions, and only where they hold none, the newest packed day.
    create function telemetry_latest(for_series bigint, before timestamptz,
                                     numeric_only boolean)
    returns table (at timestamptz, value double precision, state text, reason text)
    language plpgsql stable parallel safe
    as $$
    begin
        return query
            select s.at, s.value, s.state, s.reason from sample s
            where s.series_id = for_series and s.at < before
              and (not numeric_only or s.value is not null)
            order by s.at desc
            limit 1;
        if found then
            return;
        end if;
        return query
            select u.at, u.value, u.state, u.reason
            from (
                select p.* from sample_packed p
                where p.series_id = for_series and p.first_at < before
                  and (not numeric_only or p.value_deltas is not null or p.vals is not null)
                order by p.day desc
                limit 1
            ) p
            cross join lateral telemetry_unpack(p) u
            where u.at < before and (not numeric_only or u.value is not null)
            order by u.at desc
            limit 1;
    end
    $$;
end
$mode$;

-- The state intervals read their evidence through `telemetry_raw` from here on (the rest of
-- the function is unchanged; see 20261128000002_telemetry_query.sql for what it answers).
create or replace function telemetry_state_intervals(
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
        from telemetry_raw(for_series, t0 - stale, t1) s
        where s.at > t0 - stale
          and s.state is not null
    ),
    vouched as (
        select greatest(e.at, t0) as lo, least(e.next_at, e.at + stale, t1) as hi,
               e.state, e.reason
        from evidence e
    ),
    known as (
        select v.lo, v.hi, v.state, v.reason, lag(v.hi) over (order by v.lo) as prev_hi
        from vouched v
        where v.hi > v.lo
    ),
    pieces as (
        select k.lo, k.hi, k.state, k.reason from known k
        union all
        select coalesce(k.prev_hi, t0), k.lo, 'unknown', null from known k
        where k.lo > coalesce(k.prev_hi, t0)
        union all
        select coalesce(max(k.hi), t0), t1, 'unknown', null from known k
        having coalesce(max(k.hi), t0) < t1
    ),
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
