-- Edge agents enrolled with a one-time token and pushing over mutual TLS (issue 7). The
-- server's internal CA issues the agent listener's certificate and each agent's client
-- certificate; an agent is known by the SHA-256 of its current certificate, so revoking it, or
-- renewing its certificate, makes the old one useless on the next request.

-- The installation's agent CA. Its key is sealed with the master key (AES-256-GCM, associated
-- data `ispvm.agent_ca.v1`) like every other secret at rest; `ispvm keys rotate` re-seals it.
create table agent_ca (
    singleton boolean primary key default true check (singleton),
    certificate_pem text not null,
    -- What an enrollment token carries, so an agent can check the listener it talks to.
    certificate_sha256 bytea not null check (length(certificate_sha256) = 32),
    key_sealed bytea not null,
    created_at timestamptz not null default now()
);

-- An agent, created by an admin (with its first token) before it ever connects.
create table agent (
    id uuid primary key,
    tenant_id bigint not null references tenant (id),
    name text not null check (length(name) between 1 and 100),
    created_at timestamptz not null default now(),
    created_by bigint references app_user (id),
    -- Set by each enrollment: a re-enrolled agent (a replaced box) gets a new certificate and
    -- the old one stops working.
    enrolled_at timestamptz,
    enrolled_from text,
    -- The SHA-256 of the one certificate this agent may use, and its expiry.
    certificate_sha256 bytea unique check (length(certificate_sha256) = 32),
    certificate_not_after timestamptz,
    -- A revoked agent is refused on its next request; the row stays for the audit trail and
    -- for the batches it sent.
    revoked_at timestamptz,
    revoked_by bigint references app_user (id),
    -- The agent's latest status report (telemetry::enroll::AgentStatus) and when it came.
    status jsonb,
    status_at timestamptz,
    version text,
    unique (tenant_id, id)
);
-- One live agent per name and tenant; a revoked name can be used again.
create unique index agent_name_key on agent (tenant_id, lower(name)) where revoked_at is null;

-- One-time enrollment tokens. Only the SHA-256 of the secret is stored.
create table agent_enrollment (
    id bigint generated always as identity primary key,
    tenant_id bigint not null,
    agent_id uuid not null,
    token_sha256 bytea not null unique check (length(token_sha256) = 32),
    created_at timestamptz not null default now(),
    created_by bigint references app_user (id),
    expires_at timestamptz not null,
    used_at timestamptz,
    used_from text,
    foreign key (tenant_id, agent_id) references agent (tenant_id, id) on delete cascade
);

-- A batch comes from a bearer token (issue 6) or from an enrolled agent, never both.
alter table ingest_batch alter column token_id drop not null;
alter table ingest_batch add column agent_id uuid references agent (id);
alter table ingest_batch add constraint ingest_batch_one_sender
    check ((token_id is null) <> (agent_id is null));
-- The Agents page's "last push".
create index ingest_batch_agent on ingest_batch (agent_id, received_at) where agent_id is not null;
