-- Link discovery (issue 7): what the routers' neighbour tables (`/ip/neighbor`: MNDP, LLDP,
-- CDP) say is at the other end of each interface. Agents send each row as a `neighbor` event;
-- the ingest keeps the latest of each neighbour here, and the inventory's discovery review
-- turns the rows into proposed links that an operator accepts, accepts in place of a manual
-- link, or dismisses.

-- One neighbour of one device, heard on one of its interfaces. A neighbour is told apart by
-- its MAC address and identity (RouterOS keys the table by interface and MAC; a CDP switch may
-- lack an identity, an MNDP peer behind a bridge may show several MACs). Not seen for 7 days:
-- hidden from the review (the query's filter); not seen for 30 days: deleted by the next
-- ingest of that device's neighbours.
create table discovered_neighbor (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    device_id bigint not null,
    -- The device's own interface, as the router names it.
    interface text not null check (length(interface) between 1 and 100),
    identity text not null default '' check (length(identity) <= 255),
    -- As RouterOS prints it: IPv4 or IPv6, possibly empty; text because it is only compared.
    address text not null default '' check (length(address) <= 64),
    mac text not null default '' check (length(mac) <= 64),
    platform text not null default '' check (length(platform) <= 255),
    board text not null default '' check (length(board) <= 255),
    -- The neighbour's interface facing this device (LLDP's port id, MNDP's interface name).
    remote_interface text not null default '' check (length(remote_interface) <= 100),
    protocols text[] not null default '{}',
    -- The poll times (the agent's clock) of the first and the latest sighting.
    first_seen timestamptz not null,
    last_seen timestamptz not null,
    -- Set by a dismissal in the review; cleared when the neighbour's data changes, so a
    -- dismissed proposal comes back only when there is something new to look at.
    dismissed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade
);
-- The ingest's upsert key: one row per neighbour of an interface.
create unique index discovered_neighbor_key on discovered_neighbor
    (tenant_id, device_id, interface, mac, identity);
-- The review reads a tenant's recent rows.
create index discovered_neighbor_seen_idx on discovered_neighbor (tenant_id, last_seen);
