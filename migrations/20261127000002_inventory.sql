-- Inventory, topology and service model: sites, credential profiles, devices, interfaces, links,
-- redundancy groups, customers, services and their dependencies.
--
-- Every table is tenant-owned. Each carries `unique (tenant_id, id)` so that references between
-- inventory rows are composite foreign keys `(tenant_id, x_id)`: a row can never point at
-- another tenant's object, whatever the application does.

-- A point of presence: a place that holds devices.
create table site (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 100),
    -- Short operator code shown on wall screens ("VIE1").
    code text not null check (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$'),
    region text not null default '' check (length(region) <= 100),
    address text not null default '' check (length(address) <= 300),
    latitude double precision check (latitude between -90 and 90),
    longitude double precision check (longitude between -180 and 180),
    -- An IANA zone name, checked against pg_timezone_names by the application.
    timezone text not null default 'UTC',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    check ((latitude is null) = (longitude is null))
);
-- Names and codes are unique per tenant, case-insensitively ("vie1" and "VIE1" are one site).
create unique index site_name_key on site (tenant_id, lower(name));
create unique index site_code_key on site (tenant_id, lower(code));

-- Login material for routers: a RouterOS API/REST login or SNMP secrets. Everything secret is in
-- one AES-256-GCM ciphertext under the master key; nothing here is readable without it.
create table credential_profile (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 100),
    kind text not null check (kind in ('routeros', 'snmp_v2c', 'snmp_v3')),
    description text not null default '' check (length(description) <= 300),
    -- Random per profile and bound into the ciphertext as associated data, together with the
    -- tenant and kind, so a ciphertext copied onto another row does not decrypt.
    secret_uuid uuid not null unique,
    -- 12-byte nonce followed by the ciphertext and its 16-byte tag.
    secret_ciphertext bytea not null,
    -- Which master key sealed it (the first 16 hex digits of SHA-256 of the key).
    key_fingerprint text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id)
);
create unique index credential_profile_name_key on credential_profile (tenant_id, lower(name));

-- One row: a known plaintext sealed under the current master key. Start-up opens it to prove the
-- configured key is the right one before anything is read or written with it.
create table encryption_key_check (
    singleton boolean primary key default true check (singleton),
    key_fingerprint text not null,
    check_ciphertext bytea not null,
    created_at timestamptz not null default now()
);

-- A monitored box: a router, switch or CPE.
create table device (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    site_id bigint not null,
    name text not null check (length(name) between 1 and 100),
    vendor text not null check (vendor in ('mikrotik', 'generic_snmp')),
    model text not null default '' check (length(model) <= 100),
    role text not null check (role in ('core', 'edge', 'aggregation', 'access', 'cpe')),
    mgmt_address inet not null,
    -- RouterOS API: 8728 plain, 8729 with TLS.
    api_port integer not null default 8728 check (api_port between 1 and 65535),
    api_tls boolean not null default false,
    -- RouterOS v7 REST (over HTTPS); null when not used.
    rest_port integer check (rest_port between 1 and 65535),
    snmp_version text not null default 'none' check (snmp_version in ('none', 'v2c', 'v3')),
    -- The login used for the API/REST, and the SNMP secrets; both optional.
    credential_profile_id bigint,
    snmp_profile_id bigint,
    -- How often collectors poll it; intervals per profile are the collector's setting.
    polling_profile text not null default 'medium'
        check (polling_profile in ('fast', 'medium', 'slow')),
    tags text[] not null default '{}',
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    foreign key (tenant_id, site_id) references site (tenant_id, id),
    foreign key (tenant_id, credential_profile_id) references credential_profile (tenant_id, id),
    foreign key (tenant_id, snmp_profile_id) references credential_profile (tenant_id, id)
);
create unique index device_name_key on device (tenant_id, lower(name));
-- Device lists filter by site and role; the topology view loads a site's devices.
create index device_site_idx on device (tenant_id, site_id);
-- Tag filters use `tags @> array[...]`.
create index device_tags_idx on device using gin (tags);
-- Profiles in use cannot be deleted; these make that check cheap.
create index device_credential_idx on device (credential_profile_id);
create index device_snmp_profile_idx on device (snmp_profile_id);

-- A port or logical interface of a device.
create table interface (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    device_id bigint not null,
    name text not null check (length(name) between 1 and 100),
    kind text not null default 'ethernet' check (
        kind in ('ethernet', 'sfp', 'wireless', 'vlan', 'bridge', 'bonding', 'pppoe', 'tunnel',
                 'loopback', 'other')
    ),
    speed_mbps bigint check (speed_mbps > 0),
    role text not null default 'other'
        check (role in ('uplink', 'downlink', 'customer', 'management', 'other')),
    discovered boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    -- Lets a link require that its interface belongs to its device.
    unique (tenant_id, device_id, id),
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade
);
create unique index interface_name_key on interface (device_id, lower(name));

-- A connection between two devices. Direction matters for dependencies: the `b` end depends on
-- the `a` end (a is upstream). Interfaces are optional (an OSPF adjacency or a BGP session may
-- not name one).
create table link (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    a_device_id bigint not null,
    a_interface_id bigint,
    b_device_id bigint not null,
    b_interface_id bigint,
    kind text not null check (kind in ('physical', 'wireless', 'ptp', 'tunnel', 'ospf', 'bgp')),
    -- True when b reaches the network through a (b depends on a). False for peer links such as a
    -- core ring or an iBGP mesh: drawn on the topology, but not a dependency (dependencies must
    -- form a DAG, a ring cannot).
    upstream boolean not null default true,
    capacity_mbps bigint check (capacity_mbps > 0),
    discovered boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    check (a_device_id <> b_device_id),
    foreign key (tenant_id, a_device_id) references device (tenant_id, id) on delete cascade,
    foreign key (tenant_id, b_device_id) references device (tenant_id, id) on delete cascade,
    foreign key (tenant_id, a_device_id, a_interface_id)
        references interface (tenant_id, device_id, id) on delete cascade,
    foreign key (tenant_id, b_device_id, b_interface_id)
        references interface (tenant_id, device_id, id) on delete cascade
);
-- The same connection twice is a mistake (two members of a bond name different interfaces).
create unique index link_ends_key on link (tenant_id, a_device_id, a_interface_id, b_device_id,
    b_interface_id, kind) nulls not distinct;
-- Graph loads and device pages walk links from either end.
create index link_a_idx on link (a_device_id);
create index link_b_idx on link (b_device_id);

-- A set of links and/or devices with a rule saying when the set is up: any member, all of
-- them, or at least k of them.
create table redundancy_group (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 100),
    rule text not null check (rule in ('any', 'all', 'k_of_n')),
    k integer check (k >= 1),
    description text not null default '' check (length(description) <= 300),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    check ((rule = 'k_of_n') = (k is not null))
);
create unique index redundancy_group_name_key on redundancy_group (tenant_id, lower(name));

create table redundancy_member (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    group_id bigint not null,
    link_id bigint,
    device_id bigint,
    check (num_nonnulls(link_id, device_id) = 1),
    foreign key (tenant_id, group_id) references redundancy_group (tenant_id, id)
        on delete cascade,
    foreign key (tenant_id, link_id) references link (tenant_id, id) on delete cascade,
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade,
    unique nulls not distinct (group_id, link_id, device_id)
);
create index redundancy_member_link_idx on redundancy_member (link_id);
create index redundancy_member_device_idx on redundancy_member (device_id);

-- Who buys services: a business, a reseller, or a residential account.
create table customer (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 200),
    -- The ISP's own account number (billing system key).
    account_id text not null check (length(account_id) between 1 and 64),
    contact_name text not null default '' check (length(contact_name) <= 100),
    contact_email text not null default '' check (length(contact_email) <= 254),
    contact_phone text not null default '' check (length(contact_phone) <= 50),
    timezone text not null default 'UTC',
    -- Percent, e.g. 99.900.
    sla_target numeric(6, 3) check (sla_target > 0 and sla_target <= 100),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id)
);
create unique index customer_account_key on customer (tenant_id, lower(account_id));
create index customer_name_idx on customer (tenant_id, lower(name));

-- A circuit: what a customer buys (internet, L2, a PPPoE subscriber aggregate), or an upstream
-- circuit bought from a provider (transit, with `provider` set and no customer).
create table service (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    customer_id bigint,
    name text not null check (length(name) between 1 and 200),
    kind text not null check (kind in ('internet', 'transit', 'l2', 'pppoe_aggregate')),
    access_device_id bigint,
    access_interface_id bigint,
    -- A LIKE-style pattern matching the PPPoE usernames of this service's subscribers.
    pppoe_username_pattern text not null default '' check (length(pppoe_username_pattern) <= 200),
    -- Percent; null means the customer's target.
    sla_target numeric(6, 3) check (sla_target > 0 and sla_target <= 100),
    -- Name of the business-hours calendar SLA reports use; null means 24x7.
    business_hours text check (length(business_hours) between 1 and 100),
    provider text not null default '' check (length(provider) <= 100),
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, id),
    foreign key (tenant_id, customer_id) references customer (tenant_id, id),
    foreign key (tenant_id, access_device_id) references device (tenant_id, id),
    foreign key (tenant_id, access_device_id, access_interface_id)
        references interface (tenant_id, device_id, id),
    check (access_interface_id is null or access_device_id is not null)
);
create unique index service_name_key on service (tenant_id, lower(name));
create index service_customer_idx on service (customer_id);
create index service_access_device_idx on service (access_device_id);

-- What a service needs to be up: devices, links, redundancy groups or other services.
create table service_dependency (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    service_id bigint not null,
    device_id bigint,
    link_id bigint,
    group_id bigint,
    depends_on_service_id bigint,
    check (num_nonnulls(device_id, link_id, group_id, depends_on_service_id) = 1),
    check (depends_on_service_id is distinct from service_id),
    foreign key (tenant_id, service_id) references service (tenant_id, id) on delete cascade,
    foreign key (tenant_id, device_id) references device (tenant_id, id) on delete cascade,
    foreign key (tenant_id, link_id) references link (tenant_id, id) on delete cascade,
    foreign key (tenant_id, group_id) references redundancy_group (tenant_id, id)
        on delete cascade,
    foreign key (tenant_id, depends_on_service_id) references service (tenant_id, id)
        on delete cascade,
    unique nulls not distinct (service_id, device_id, link_id, group_id, depends_on_service_id)
);
create index service_dependency_device_idx on service_dependency (device_id);
create index service_dependency_link_idx on service_dependency (link_id);
create index service_dependency_group_idx on service_dependency (group_id);
create index service_dependency_service_idx on service_dependency (depends_on_service_id);
