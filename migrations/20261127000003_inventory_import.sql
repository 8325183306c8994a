-- CSV imports of the inventory. Every upload is kept, whatever became of it, so nothing an
-- operator sent is lost: a rejected file says why, a previewed one can be applied later (it is
-- checked again then), an applied one records what it changed.

create table inventory_import (
    id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (id),
    -- What the file holds: one kind of object per file.
    kind text not null check (kind in ('sites', 'devices', 'interfaces', 'links')),
    filename text not null check (length(filename) <= 255),
    -- Bytes received, also when the content was not kept (too large, not UTF-8).
    size_bytes bigint not null check (size_bytes >= 0),
    -- The file as UTF-8 text; null when it could not be read as such or was too large.
    content text,
    -- rejected: the file itself is unusable (file_error says why);
    -- previewed: dry run done (row errors, if any, are in `errors`); applied: committed.
    status text not null check (status in ('rejected', 'previewed', 'applied')),
    file_error text,
    data_rows integer not null default 0,
    created_rows integer not null default 0,
    updated_rows integer not null default 0,
    unchanged_rows integer not null default 0,
    -- Rows that failed; `errors` keeps only the first ones.
    error_count integer not null default 0,
    -- [{line, column, message}] of the last dry run or apply attempt.
    errors jsonb not null default '[]',
    -- [{line, key, action}] for the first rows: what applying would do (or did).
    preview jsonb not null default '[]',
    created_by bigint references app_user (id),
    created_at timestamptz not null default now(),
    applied_by bigint references app_user (id),
    applied_at timestamptz,
    unique (tenant_id, id),
    -- A rejected file always says why; a previewed one may too (its rows read, but together
    -- they form an upstream cycle), and then it cannot be applied.
    check (status <> 'rejected' or file_error is not null),
    check ((status = 'applied') = (applied_at is not null))
);
create index inventory_import_tenant_idx on inventory_import (tenant_id, id desc);
