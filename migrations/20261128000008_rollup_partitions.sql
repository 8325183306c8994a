-- The 1m and 1h rollups in time partitions, so that retention drops whole partitions as it
-- does for raw samples (no delete of millions of rows, no bloat left behind): `sample_1m` by
-- UTC month (`sample_1m_YYYYMM`, 12 months kept by default), `sample_1h` by UTC year
-- (`sample_1h_YYYY`, 5 years). `sample_1d` stays one table: a row per series and day is small
-- enough to keep. The query surface (telemetry_rollup_read and the rest) reads the tables by
-- name and is unchanged.
--
-- Partitions are made ahead by the maintenance job and, before each rollup step, for the
-- buckets the step writes (late data may land in last month). Existing rows move into them.

-- The partition of `tier` ('1m' or '1h') that holds `moment`: its name and range (UTC).
create function telemetry_rollup_partition(tier text, moment timestamptz,
    out name text, out starts timestamptz, out ends timestamptz)
language sql stable strict parallel safe
as $$
    select case tier
               when '1m' then 'sample_1m_' || to_char(u.starts, 'YYYYMM')
               else 'sample_1h_' || to_char(u.starts, 'YYYY')
           end,
           u.starts at time zone 'UTC',
           (u.starts + case tier when '1m' then interval '1 month' else interval '1 year' end)
               at time zone 'UTC'
    from (select date_trunc(case tier when '1m' then 'month' else 'year' end,
                            moment at time zone 'UTC') as starts) u
$$;

-- Creates the partitions of `tier` ('1m' or '1h') for every bucket in [first_at, last_at] that
-- has none yet; returns how many it created. Serialised with the raw partitions' lock.
create function telemetry_ensure_rollup_partitions(tier text, first_at timestamptz,
    last_at timestamptz) returns integer
language plpgsql
as $$
declare
    part record;
    moment timestamptz := first_at;
    created integer := 0;
begin
    if tier not in ('1m', '1h') then
        raise exception 'rollup tier % is not partitioned', tier;
    end if;
    while moment <= last_at loop
        select * into part from telemetry_rollup_partition(tier, moment);
        if to_regclass(part.name) is null then
            perform pg_advisory_xact_lock(hashtext('ispvm.sample_partitions'));
            if to_regclass(part.name) is null then
                execute format(
                    'create table %I partition of %I for values from (%L) to (%L)',
                    part.name, 'sample_' || tier, part.starts, part.ends
                );
                created := created + 1;
            end if;
        end if;
        moment := part.ends;
    end loop;
    return created;
end
$$;

-- Drops the partitions of `tier` ('1m' or '1h') whose range ends at or before `before`;
-- returns the names dropped.
create function telemetry_drop_rollup_partitions(tier text, before timestamptz)
returns setof text
language plpgsql
as $$
declare
    part record;
    pattern text := case tier when '1m' then '^sample_1m_[0-9]{6}$' else '^sample_1h_[0-9]{4}$' end;
begin
    if tier not in ('1m', '1h') then
        raise exception 'rollup tier % is not partitioned', tier;
    end if;
    perform pg_advisory_xact_lock(hashtext('ispvm.sample_partitions'));
    for part in
        select c.relname
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        where i.inhparent = ('sample_' || tier)::regclass
          and c.relname ~ pattern
        order by c.relname
    loop
        if (select p.ends from telemetry_rollup_partition(
                tier,
                to_date(substr(part.relname, 11) || case tier when '1m' then '01' else '0101' end,
                        'YYYYMMDD')::timestamp at time zone 'UTC'
            ) p) <= before then
            execute format('drop table %I', part.relname);
            return next part.relname;
        end if;
    end loop;
end
$$;

-- The tables again, partitioned, with the rows they had.
alter table sample_1m rename to sample_1m_unpartitioned;
alter table sample_1h rename to sample_1h_unpartitioned;
alter index sample_1m_pkey rename to sample_1m_unpartitioned_pkey;
alter index sample_1h_pkey rename to sample_1h_unpartitioned_pkey;

create table sample_1m (like sample_1m_unpartitioned including defaults including constraints)
    partition by range (bucket);
alter table sample_1m add primary key (series_id, bucket);
create table sample_1h (like sample_1m including all) partition by range (bucket);

select telemetry_ensure_rollup_partitions('1m', min(bucket), max(bucket))
from sample_1m_unpartitioned having count(*) > 0;
select telemetry_ensure_rollup_partitions('1h', min(bucket), max(bucket))
from sample_1h_unpartitioned having count(*) > 0;
insert into sample_1m select * from sample_1m_unpartitioned;
insert into sample_1h select * from sample_1h_unpartitioned;
drop table sample_1m_unpartitioned;
drop table sample_1h_unpartitioned;
