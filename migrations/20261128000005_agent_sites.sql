-- Which edge agent serves which site (issue 7): an agent polls the enabled devices of the
-- POPs it is assigned, and fetches them with their credentials from the agent listener
-- (`GET /api/agent/v1/assignment`).
--
-- The assignment has no revision counter of its own: the agent's revision is a hash of what
-- it is sent (the devices' fields and their profiles' ciphertexts), computed per request, so
-- a device edit, a credential edit, a key rotation and an assignment change all move it, and
-- nothing else does.

-- A site is served by at most one agent (the primary key), in the agent's own tenant (the
-- composite foreign keys). Deleting a site (one without devices) deletes its assignment.
create table agent_site (
    tenant_id bigint not null,
    site_id bigint not null,
    agent_id uuid not null,
    created_at timestamptz not null default now(),
    created_by bigint references app_user (id),
    primary key (tenant_id, site_id),
    foreign key (tenant_id, site_id) references site (tenant_id, id) on delete cascade,
    foreign key (tenant_id, agent_id) references agent (tenant_id, id) on delete cascade
);
-- An agent's sites: the Agents page and every assignment request.
create index agent_site_agent on agent_site (tenant_id, agent_id);

-- Revoking an agent frees its sites, whatever path revokes it, so another agent can take
-- them at once and a revoked agent never holds one.
create function agent_site_free() returns trigger
language plpgsql as $$
begin
    delete from agent_site where tenant_id = new.tenant_id and agent_id = new.id;
    return null;
end
$$;

create trigger agent_revoked_frees_sites after update of revoked_at on agent
    for each row when (old.revoked_at is null and new.revoked_at is not null)
    execute function agent_site_free();
