-- Probes defined on a device's page (issue 7): ICMP echo, TCP connect, a DNS query or an HTTP(S)
-- GET that the agent serving the device's site runs from its POP, beside the reachability probe
-- it gives every device. They travel in the agent's assignment; their samples name the device
-- and carry the instance `<kind>:<target>`, so the device page finds their last result.
--
-- `target` is stored as `telemetry::probe::Check::target` spells it (one spelling per target,
-- so a probe has one series); the server checks it before it writes.
create table device_probe (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    device_id bigint not null,
    kind text not null check (kind in ('icmp', 'tcp', 'dns', 'http')),
    target text not null check (length(target) between 1 and 190),
    -- The agent's fast profile is 10 s; an hour is the longest gap that still says something.
    interval_s integer not null default 10 check (interval_s between 10 and 3600),
    -- Per echo, connect or request; an ICMP run sends 5 echoes 200 ms apart within the interval.
    timeout_ms integer not null default 2000 check (timeout_ms between 100 and 10000),
    created_at timestamptz not null default now(),
    created_by bigint references app_user (id),
    unique (device_id, kind, target),
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade
);
-- The unique constraint's index serves the device page and the assignment (by device id).
