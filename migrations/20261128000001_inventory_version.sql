-- A per-tenant counter of changes to what the dependency graph is built from (devices, links,
-- redundancy groups and their members, services and their dependencies). The server keeps each
-- tenant's built graph in memory and reloads it only when this number moved, so a device page
-- costs one indexed read instead of four queries over the whole inventory (docs/benchmarks.md).
--
-- Bumped by triggers, not by the application: every write path (forms, CSV import, the demo
-- loader, cascaded deletes, a manual psql session) moves it, so no path can leave a stale graph.
--
-- The triggers are deferred constraint triggers: the tenant's counter row is locked only while
-- the transaction commits. A plain trigger would lock it at the first inventory write and keep
-- it while the transaction goes on to wait for the topology or service-dependency advisory
-- lock, which a second writer may hold while it waits for the counter row: a deadlock. A
-- transaction-local setting makes the bump happen once per tenant and transaction, however
-- many rows it wrote (a 5,000-row import runs the function 5,000 times but writes once).
--
-- No foreign key to tenant: deleting a tenant cascades to its devices, whose trigger would then
-- insert a row for the tenant being deleted. A left-over row of a deleted tenant is harmless.
create table inventory_version (
    tenant_id bigint primary key,
    version bigint not null
);

create function inventory_version_bump() returns trigger
language plpgsql as $$
declare
    tenant bigint := case when tg_op = 'DELETE' then old.tenant_id else new.tenant_id end;
    flag text := 'ispvm.inventory_bumped_' || tenant;
begin
    if coalesce(current_setting(flag, true), '') <> 'yes' then
        insert into inventory_version (tenant_id, version) values (tenant, 1)
        on conflict (tenant_id) do update set version = inventory_version.version + 1;
        perform set_config(flag, 'yes', true);
    end if;
    return null;
end
$$;

do $$
declare
    t text;
begin
    foreach t in array array['device', 'link', 'redundancy_group', 'redundancy_member',
                             'service', 'service_dependency'] loop
        execute format('create constraint trigger %I after insert or update or delete on %I '
                       'deferrable initially deferred for each row '
                       'execute function inventory_version_bump()',
                       t || '_inventory_version', t);
    end loop;
end
$$;
