-- CSV imports of customers, services and redundancy groups: the kinds a kept upload may hold
-- grow from the network inventory (sites, devices, interfaces, links) to the service model.
-- The old check is dropped and re-added under its own name, with the wider list.

alter table inventory_import drop constraint inventory_import_kind_check;
alter table inventory_import add constraint inventory_import_kind_check
    check (kind in ('sites', 'devices', 'interfaces', 'links', 'customers', 'services',
                    'groups'));
