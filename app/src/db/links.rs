//! Links: lists by device and by site, the cycle check, insert, update, delete.

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, parse_column, violated_constraint};
use crate::error::AppError;
use crate::model::device::DeviceId;
use crate::model::import::RowAction;
use crate::model::link::{LinkId, LinkInput, LinkRow};
use crate::model::site::SiteId;
use crate::model::user::TenantId;

/// A link row as both list queries select it.
struct LinkRecord {
    id: i64,
    kind: String,
    a_device_id: i64,
    a_name: String,
    a_iface: Option<String>,
    b_device_id: i64,
    b_name: String,
    b_iface: Option<String>,
    upstream: bool,
    capacity_mbps: Option<i64>,
    discovered: bool,
}

impl LinkRecord {
    fn into_row(self) -> Result<LinkRow, AppError> {
        Ok(LinkRow {
            id: LinkId(self.id),
            kind: parse_column("link.kind", &self.kind)?,
            a_device: DeviceId(self.a_device_id),
            a_device_name: self.a_name,
            a_interface: self.a_iface,
            b_device: DeviceId(self.b_device_id),
            b_device_name: self.b_name,
            b_interface: self.b_iface,
            upstream: self.upstream,
            capacity_mbps: self.capacity_mbps,
            discovered: self.discovered,
        })
    }
}

/// Links with an end on the device.
pub async fn for_device(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Vec<LinkRow>, AppError> {
    let rows = sqlx::query_as!(
        LinkRecord,
        r#"select l.id, l.kind, l.a_device_id, da.name as a_name, ia.name as "a_iface?",
                  l.b_device_id, db.name as b_name, ib.name as "b_iface?", l.upstream,
                  l.capacity_mbps, l.discovered
           from link l
           join device da on da.id = l.a_device_id
           join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           where l.tenant_id = $1 and (l.a_device_id = $2 or l.b_device_id = $2)
           order by da.name, db.name, l.id"#,
        tenant.0,
        device.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(LinkRecord::into_row).collect()
}

/// Links with at least one end at the site (the other end may be elsewhere).
pub async fn for_site(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    site: SiteId,
) -> Result<Vec<LinkRow>, AppError> {
    let rows = sqlx::query_as!(
        LinkRecord,
        r#"select l.id, l.kind, l.a_device_id, da.name as a_name, ia.name as "a_iface?",
                  l.b_device_id, db.name as b_name, ib.name as "b_iface?", l.upstream,
                  l.capacity_mbps, l.discovered
           from link l
           join device da on da.id = l.a_device_id
           join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           where l.tenant_id = $1 and (da.site_id = $2 or db.site_id = $2)
           order by l.id
           limit 5000"#,
        tenant.0,
        site.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(LinkRecord::into_row).collect()
}

/// Serialises topology changes of one tenant, so that two concurrent link inserts cannot
/// together close a cycle that neither sees alone. Held until the transaction ends.
pub async fn lock_topology(conn: &mut PgConnection, tenant: TenantId) -> Result<(), AppError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('ispvm.topology', $1))",
        tenant.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// True if `from` already depends on `on` through upstream links (or is it), leaving out the
/// link `except` (the one being edited, whose old ends are about to change). Walks up from
/// `from`; `union` keeps each device once, so the walk is linear in the tenant's links.
pub async fn depends_on(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    from: DeviceId,
    on: DeviceId,
    except: Option<LinkId>,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"with recursive up(device_id) as (
               select $2::bigint
               union
               select l.a_device_id from up
               join link l on l.b_device_id = up.device_id and l.tenant_id = $1 and l.upstream
                  and l.id is distinct from $4
           )
           select exists(select 1 from up where device_id = $3) as "exists!""#,
        tenant.0,
        from.0,
        on.0,
        except.map(|l| l.0)
    )
    .fetch_one(db)
    .await?)
}

/// Inserts a link whose interfaces have been resolved to ids. The caller holds the topology
/// lock and has checked for cycles.
pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    l: &LinkInput,
    a_interface: Option<i64>,
    b_interface: Option<i64>,
) -> Result<LinkId, AppError> {
    sqlx::query_scalar!(
        r#"insert into link (tenant_id, a_device_id, a_interface_id, b_device_id, b_interface_id,
                  kind, upstream, capacity_mbps)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id"#,
        tenant.0,
        l.a_device.0,
        a_interface,
        l.b_device.0,
        b_interface,
        l.kind.as_str(),
        l.upstream,
        l.capacity_mbps
    )
    .fetch_one(db)
    .await
    .map(LinkId)
    .map_err(constraint)
}

/// Changes a link's ends, kind, direction and capacity (a discovered link stays discovered).
/// Like [`insert`]: interfaces resolved, topology lock held, cycles checked by the caller.
pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: LinkId,
    l: &LinkInput,
    a_interface: Option<i64>,
    b_interface: Option<i64>,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update link set a_device_id = $3, a_interface_id = $4, b_device_id = $5,
                  b_interface_id = $6, kind = $7, upstream = $8, capacity_mbps = $9,
                  updated_at = now()
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        l.a_device.0,
        a_interface,
        l.b_device.0,
        b_interface,
        l.kind.as_str(),
        l.upstream,
        l.capacity_mbps
    )
    .execute(db)
    .await
    .map_err(constraint)?;
    found(&done)
}

/// Maps a link write's violations to the form field they concern.
fn constraint(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("link_ends_key") => AppError::conflict("kind", "this link already exists"),
        Some("link_tenant_id_a_device_id_fkey") => {
            AppError::invalid("a_device_id", "no such device")
        }
        Some("link_tenant_id_b_device_id_fkey") => {
            AppError::invalid("b_device_id", "no such device")
        }
        _ => err.into(),
    }
}

/// One link of the tenant as the lists show it, or `NotFound`.
pub async fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: LinkId,
) -> Result<LinkRow, AppError> {
    let a_device = sqlx::query_scalar!(
        "select a_device_id from link where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    for_device(&mut *conn, tenant, DeviceId(a_device))
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or(AppError::NotFound)
}

/// Deletes a link, returning it as it was (for the audit trail).
pub async fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: LinkId,
) -> Result<LinkRow, AppError> {
    let row = get(&mut *conn, tenant, id).await?;
    sqlx::query!(
        "delete from link where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(&mut *conn)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some(_) => AppError::conflict("link", "something still refers to this link"),
        None => err.into(),
    })?;
    Ok(row)
}

/// Inserts the link, or updates the one with the same ends and kind (its direction and
/// capacity). The caller holds the topology lock and checks the graph afterwards.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    l: &LinkInput,
    a_interface: Option<i64>,
    b_interface: Option<i64>,
) -> Result<RowAction, AppError> {
    let inserted = sqlx::query_scalar!(
        r#"insert into link as l (tenant_id, a_device_id, a_interface_id, b_device_id,
                  b_interface_id, kind, upstream, capacity_mbps)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (tenant_id, a_device_id, a_interface_id, b_device_id, b_interface_id, kind)
           do update set upstream = excluded.upstream, capacity_mbps = excluded.capacity_mbps,
                  updated_at = now()
              where (l.upstream, l.capacity_mbps)
                    is distinct from (excluded.upstream, excluded.capacity_mbps)
           returning (xmax = 0) as "inserted!""#,
        tenant.0,
        l.a_device.0,
        a_interface,
        l.b_device.0,
        b_interface,
        l.kind.as_str(),
        l.upstream,
        l.capacity_mbps
    )
    .fetch_optional(db)
    .await?;
    Ok(RowAction::of_upsert(inserted))
}

/// Every link in the CSV format's column order (`import::format(Links)`).
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    sqlx::query_scalar!(
        r#"select array[da.name, db.name, l.kind, coalesce(ia.name, ''), coalesce(ib.name, ''),
                  l.upstream::text, coalesce(l.capacity_mbps::text, '')] as "row!: Vec<String>"
           from link l
           join device da on da.id = l.a_device_id
           join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           where l.tenant_id = $1 order by da.name, db.name, l.kind, ia.name, ib.name"#,
        tenant.0
    )
    .fetch_all(db)
    .await
    .map_err(Into::into)
}

/// A link by the names of its ends, for references by name (CSV import of groups and
/// services).
#[derive(Debug, Clone)]
pub struct LinkEnds {
    pub id: i64,
    pub a_device: String,
    pub a_interface: Option<String>,
    pub b_device: String,
    pub b_interface: Option<String>,
    pub kind: String,
}

/// Every link of the tenant by the names of its ends, without a limit.
pub async fn ends(db: impl PgExecutor<'_>, tenant: TenantId) -> Result<Vec<LinkEnds>, AppError> {
    let rows = sqlx::query!(
        r#"select l.id, da.name as a_device, ia.name as "a_interface?", db.name as b_device,
                  ib.name as "b_interface?", l.kind
           from link l
           join device da on da.id = l.a_device_id
           join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           where l.tenant_id = $1"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LinkEnds {
            id: r.id,
            a_device: r.a_device,
            a_interface: r.a_interface,
            b_device: r.b_device,
            b_interface: r.b_interface,
            kind: r.kind,
        })
        .collect())
}
