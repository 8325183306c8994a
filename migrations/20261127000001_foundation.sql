-- Foundation: tenants, users with roles, sessions, login throttling evidence, and the audit log.
-- Every tenant-owned table carries tenant_id and every query filters on it (see ARCHITECTURE.md).

-- An ISP (or, for a reseller, one of its customers' operators) using this installation.
create table tenant (
    id bigint generated always as identity primary key,
    name text not null check (length(name) between 1 and 100),
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- A person who signs in. Usernames are unique per installation, not per tenant, so that the
-- sign-in form needs no tenant field; the tenant comes from the user.
create table app_user (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    username text not null check (username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
    display_name text not null default '' check (length(display_name) <= 100),
    role text not null check (role in ('admin', 'operator', 'viewer', 'customer')),
    -- Platform super-admin: manages tenants across the installation.
    is_superadmin boolean not null default false,
    -- argon2id PHC string; never leaves the server.
    password_hash text not null,
    disabled boolean not null default false,
    -- Bumped on password change, reset or disable. A session remembers the epoch it signed in
    -- under and is void once they differ (a counter, so no clock comparison is involved).
    session_epoch integer not null default 0,
    credentials_changed_at timestamptz not null default now(),
    last_login_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- Case-insensitive unique usernames: "Alice" and "alice" are one account.
create unique index app_user_username_key on app_user (lower(username));
-- Tenant-scoped listing of users.
create index app_user_tenant_idx on app_user (tenant_id, username);

-- Every sign-in attempt, kept for throttling per account and per source address; pruned by age.
create table login_attempt (
    id bigint generated always as identity primary key,
    -- Lower-cased username as typed (may match no account: throttling must not reveal which).
    username text not null,
    source_ip inet not null,
    succeeded boolean not null,
    at timestamptz not null default now()
);
-- Throttling looks at recent failures for one account and for one address.
create index login_attempt_username_idx on login_attempt (username, at);
create index login_attempt_ip_idx on login_attempt (source_ip, at);

-- Append-only record of auth events and every admin action: who, what, when, from where.
create table audit_event (
    id bigint generated always as identity primary key,
    -- Null for events without a known tenant (a failed sign-in with an unknown username).
    tenant_id bigint references tenant (id),
    actor_user_id bigint references app_user (id),
    actor_username text not null,
    action text not null,
    target text not null default '',
    detail jsonb not null default '{}'::jsonb,
    source_ip inet,
    at timestamptz not null default now()
);
-- The audit page lists a tenant's newest events first.
create index audit_event_tenant_idx on audit_event (tenant_id, at desc);

-- Append-only is enforced by the database, not by convention.
create function audit_event_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'audit_event is append-only';
end;
$$;
create trigger audit_event_no_update before update or delete on audit_event
    for each row execute function audit_event_immutable();

-- Sessions of tower-sessions' PostgresStore, created here so the schema is owned by migrations.
create schema if not exists tower_sessions;
create table tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);
-- Expired-session sweeps scan by expiry.
create index session_expiry_idx on tower_sessions.session (expiry_date);
