//! Devices and their interfaces: tenant-scoped list with filters, lookup, insert, update,
//! delete. References to sites and credential profiles are composite foreign keys with the
//! tenant, so another tenant's ids fail here as "no such …".

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, like_pattern, parse_column, violated_constraint};
use crate::error::AppError;
use crate::model::device::{
    DeviceDetail, DeviceId, DeviceInput, DeviceRole, DeviceRow, InterfaceId, InterfaceInput,
    InterfaceKind, InterfaceRole, InterfaceRow,
};
use crate::model::import::RowAction;
use crate::model::site::SiteId;
use crate::model::user::TenantId;
use crate::model::Page;

/// The device list's filters, checked.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub query: Option<&'a str>,
    pub site: Option<SiteId>,
    pub role: Option<DeviceRole>,
    pub tag: Option<&'a str>,
    pub enabled: Option<bool>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    f: &Filter<'_>,
    page: i64,
    per_page: i64,
) -> Result<Page<DeviceRow>, AppError> {
    let pattern = like_pattern(f.query);
    let rows = sqlx::query!(
        r#"select d.id, d.name, d.vendor, d.model, d.role, d.site_id, s.code as site_code,
                  host(d.mgmt_address) as "mgmt_address!", d.tags, d.enabled,
                  count(*) over () as "total!"
           from device d join site s on s.id = d.site_id
           where d.tenant_id = $1
             and ($2::text is null or d.name ilike $2 or d.model ilike $2
                  or host(d.mgmt_address) ilike $2)
             and ($3::bigint is null or d.site_id = $3)
             and ($4::text is null or d.role = $4)
             and ($5::text is null or d.tags @> array[$5::text])
             and ($6::boolean is null or d.enabled = $6)
           order by d.name
           limit $7 offset $8"#,
        tenant.0,
        pattern,
        f.site.map(|s| s.0),
        f.role.map(DeviceRole::as_str),
        f.tag,
        f.enabled,
        per_page,
        (page - 1) * per_page
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    let rows = rows
        .into_iter()
        .map(|r| {
            Ok(DeviceRow {
                id: DeviceId(r.id),
                name: r.name,
                vendor: parse_column("device.vendor", &r.vendor)?,
                model: r.model,
                role: parse_column("device.role", &r.role)?,
                site_id: SiteId(r.site_id),
                site_code: r.site_code,
                mgmt_address: r.mgmt_address,
                tags: r.tags,
                enabled: r.enabled,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Page {
        rows,
        total,
        page,
        per_page,
    })
}

/// A device with its interfaces, links and probes.
pub async fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: DeviceId,
) -> Result<DeviceDetail, AppError> {
    let r = sqlx::query!(
        r#"select d.id, d.name, d.vendor, d.model, d.role, d.site_id, s.code as site_code,
                  s.name as site_name, host(d.mgmt_address) as "mgmt_address!", d.tags, d.enabled,
                  d.api_port, d.api_tls, d.rest_port, d.snmp_version, d.polling_profile,
                  d.credential_profile_id, c.name as "credential_name?",
                  d.snmp_profile_id, p.name as "snmp_profile_name?"
           from device d
           join site s on s.id = d.site_id
           left join credential_profile c on c.id = d.credential_profile_id
           left join credential_profile p on p.id = d.snmp_profile_id
           where d.tenant_id = $1 and d.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let port = |p: i32| {
        u16::try_from(p).map_err(|_| {
            tracing::error!(device.id = id.0, port = p, "port out of range in database");
            AppError::Internal
        })
    };
    let interfaces = interfaces(&mut *conn, tenant, id).await?;
    let links = crate::db::links::for_device(&mut *conn, tenant, id).await?;
    let probes = crate::db::probes::list(&mut *conn, tenant, id).await?;
    Ok(DeviceDetail {
        row: DeviceRow {
            id: DeviceId(r.id),
            name: r.name,
            vendor: parse_column("device.vendor", &r.vendor)?,
            model: r.model,
            role: parse_column("device.role", &r.role)?,
            site_id: SiteId(r.site_id),
            site_code: r.site_code,
            mgmt_address: r.mgmt_address,
            tags: r.tags,
            enabled: r.enabled,
        },
        site_name: r.site_name,
        api_port: port(r.api_port)?,
        api_tls: r.api_tls,
        rest_port: r.rest_port.map(port).transpose()?,
        snmp_version: parse_column("device.snmp_version", &r.snmp_version)?,
        credential_profile: r.credential_profile_id.zip(r.credential_name),
        snmp_profile: r.snmp_profile_id.zip(r.snmp_profile_name),
        polling_profile: parse_column("device.polling_profile", &r.polling_profile)?,
        interfaces,
        links,
        probes,
    })
}

/// The device's name, or `NotFound` outside the tenant.
pub async fn name(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: DeviceId,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "select name from device where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}

/// Every device of the tenant as (id, name), for selects.
pub async fn choices(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, name from device where tenant_id = $1 order by name limit 10000",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Inserts a device. Its name must be new in the tenant (any case): a taken name is a conflict
/// on the name field.
pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    d: &DeviceInput,
) -> Result<DeviceId, AppError> {
    write(db, tenant, d, OnTakenName::Refuse)
        .await?
        .map(|(id, _)| id)
        .ok_or_else(|| AppError::conflict("name", "another device already has this name"))
}

/// What [`write`] does with a device whose name is already the tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnTakenName {
    /// Leave it alone and return no row (a form creating a device).
    Refuse,
    /// Update it to these fields (a CSV import, keyed by name).
    Update,
}

/// The one insert statement of [`insert`] and [`upsert`]. Returns the id and whether the row was
/// inserted; no row when the name was taken and either `Refuse` was asked or nothing differs.
async fn write(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    d: &DeviceInput,
    taken: OnTakenName,
) -> Result<Option<(DeviceId, bool)>, AppError> {
    let row = sqlx::query!(
        r#"insert into device as d (tenant_id, site_id, name, vendor, model, role, mgmt_address,
                  api_port, api_tls, rest_port, snmp_version, credential_profile_id,
                  snmp_profile_id, polling_profile, tags, enabled)
           values ($1, $2, $3, $4, $5, $6, $7::text::inet, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           on conflict (tenant_id, lower(name)) do update
              set site_id = excluded.site_id, name = excluded.name, vendor = excluded.vendor,
                  model = excluded.model, role = excluded.role,
                  mgmt_address = excluded.mgmt_address, api_port = excluded.api_port,
                  api_tls = excluded.api_tls, rest_port = excluded.rest_port,
                  snmp_version = excluded.snmp_version,
                  credential_profile_id = excluded.credential_profile_id,
                  snmp_profile_id = excluded.snmp_profile_id,
                  polling_profile = excluded.polling_profile, tags = excluded.tags,
                  enabled = excluded.enabled, updated_at = now()
              where $17
                and (d.site_id, d.name, d.vendor, d.model, d.role, d.mgmt_address, d.api_port,
                     d.api_tls, d.rest_port, d.snmp_version, d.credential_profile_id,
                     d.snmp_profile_id, d.polling_profile, d.tags, d.enabled)
                    is distinct from
                    (excluded.site_id, excluded.name, excluded.vendor, excluded.model,
                     excluded.role, excluded.mgmt_address, excluded.api_port, excluded.api_tls,
                     excluded.rest_port, excluded.snmp_version, excluded.credential_profile_id,
                     excluded.snmp_profile_id, excluded.polling_profile, excluded.tags,
                     excluded.enabled)
           returning id, (xmax = 0) as "inserted!""#,
        tenant.0,
        d.site_id.0,
        d.name,
        d.vendor.as_str(),
        d.model,
        d.role.as_str(),
        d.mgmt_address.to_string(),
        i32::from(d.api_port),
        d.api_tls,
        d.rest_port.map(i32::from),
        d.snmp_version.as_str(),
        d.credential_profile_id,
        d.snmp_profile_id,
        d.polling_profile.as_str(),
        &d.tags,
        d.enabled,
        taken == OnTakenName::Update
    )
    .fetch_optional(db)
    .await
    .map_err(constraint)?;
    Ok(row.map(|r| (DeviceId(r.id), r.inserted)))
}

pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: DeviceId,
    d: &DeviceInput,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update device set site_id = $3, name = $4, vendor = $5, model = $6, role = $7,
                  mgmt_address = $8::text::inet, api_port = $9, api_tls = $10, rest_port = $11,
                  snmp_version = $12, credential_profile_id = $13, snmp_profile_id = $14,
                  polling_profile = $15, tags = $16, enabled = $17, updated_at = now()
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        d.site_id.0,
        d.name,
        d.vendor.as_str(),
        d.model,
        d.role.as_str(),
        d.mgmt_address.to_string(),
        i32::from(d.api_port),
        d.api_tls,
        d.rest_port.map(i32::from),
        d.snmp_version.as_str(),
        d.credential_profile_id,
        d.snmp_profile_id,
        d.polling_profile.as_str(),
        &d.tags,
        d.enabled
    )
    .execute(db)
    .await
    .map_err(constraint)?;
    found(&done)
}

/// Deletes a device with its interfaces and links. A device a service is delivered on is
/// refused (the service would lose its access point silently).
pub async fn delete(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: DeviceId,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        "delete from device where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(db)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some(c) if c.starts_with("service_") => AppError::conflict(
            "device",
            "a service is delivered on this device; change the service first",
        ),
        _ => err.into(),
    })?;
    found(&done)
}

pub async fn interfaces(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Vec<InterfaceRow>, AppError> {
    let rows = sqlx::query!(
        r#"select id, name, kind, speed_mbps, role, discovered from interface
           where tenant_id = $1 and device_id = $2 order by name"#,
        tenant.0,
        device.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(InterfaceRow {
                id: InterfaceId(r.id),
                name: r.name,
                kind: parse_column("interface.kind", &r.kind)?,
                speed_mbps: r.speed_mbps,
                role: parse_column("interface.role", &r.role)?,
                discovered: r.discovered,
            })
        })
        .collect()
}

/// The id of the device's interface with this name (case-insensitive), created as a manual
/// interface when missing.
pub async fn interface_by_name(
    conn: &mut PgConnection,
    tenant: TenantId,
    device: DeviceId,
    name: &str,
) -> Result<InterfaceId, AppError> {
    let found = sqlx::query_scalar!(
        "select id from interface where tenant_id = $1 and device_id = $2 and lower(name) = lower($3)",
        tenant.0,
        device.0,
        name
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = found {
        return Ok(InterfaceId(id));
    }
    add_interface(
        &mut *conn,
        tenant,
        device,
        name,
        InterfaceKind::Ethernet,
        None,
        InterfaceRole::Other,
    )
    .await
}

/// A link end's interface: none named is `None`; a name is found or created
/// ([`interface_by_name`]).
pub async fn link_end(
    conn: &mut PgConnection,
    tenant: TenantId,
    device: DeviceId,
    interface: Option<&str>,
) -> Result<Option<i64>, AppError> {
    match interface {
        Some(name) => Ok(Some(interface_by_name(conn, tenant, device, name).await?.0)),
        None => Ok(None),
    }
}

pub async fn add_interface(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    name: &str,
    kind: InterfaceKind,
    speed_mbps: Option<i64>,
    role: InterfaceRole,
) -> Result<InterfaceId, AppError> {
    sqlx::query_scalar!(
        r#"insert into interface (tenant_id, device_id, name, kind, speed_mbps, role)
           values ($1, $2, $3, $4, $5, $6) returning id"#,
        tenant.0,
        device.0,
        name,
        kind.as_str(),
        speed_mbps,
        role.as_str()
    )
    .fetch_one(db)
    .await
    .map(InterfaceId)
    .map_err(interface_constraint)
}

/// Changes an interface of the device (a discovered one stays discovered), returning its name
/// before the change. `NotFound` when the device has no such interface in the tenant.
pub async fn update_interface(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    id: InterfaceId,
    i: &InterfaceInput,
) -> Result<String, AppError> {
    // `prev` is read from the statement's snapshot, so it holds the row as it was.
    sqlx::query_scalar!(
        r#"update interface i set name = $4, kind = $5, speed_mbps = $6, role = $7,
                  updated_at = now()
           from interface prev
           where i.tenant_id = $1 and i.device_id = $2 and i.id = $3 and prev.id = i.id
           returning prev.name"#,
        tenant.0,
        device.0,
        id.0,
        i.name,
        i.kind.as_str(),
        i.speed_mbps,
        i.role.as_str()
    )
    .fetch_optional(db)
    .await
    .map_err(interface_constraint)?
    .ok_or(AppError::NotFound)
}

/// Maps an interface write's violations: a name the device already has (any case) is a conflict
/// on the name field; a device outside the tenant is not found.
fn interface_constraint(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("interface_name_key") => {
            AppError::conflict("name", "the device already has an interface with this name")
        }
        Some("interface_tenant_id_device_id_fkey") => AppError::NotFound,
        _ => err.into(),
    }
}

/// Deletes an interface (and the links that name it), returning its name.
pub async fn delete_interface(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    id: InterfaceId,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "delete from interface where tenant_id = $1 and device_id = $2 and id = $3 returning name",
        tenant.0,
        device.0,
        id.0
    )
    .fetch_optional(db)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some(c) if c.starts_with("service_") => AppError::conflict(
            "interface",
            "a service is delivered on this interface; change the service first",
        ),
        _ => err.into(),
    })?
    .ok_or(AppError::NotFound)
}

/// Maps a device write's constraint violations to the form field they concern. A foreign key
/// that fails means the id is not one of the tenant's objects: the answer does not say whether
/// it exists elsewhere.
fn constraint(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("device_name_key") => {
            AppError::conflict("name", "another device already has this name")
        }
        Some("device_tenant_id_site_id_fkey") => AppError::invalid("site_id", "no such site"),
        Some("device_tenant_id_credential_profile_id_fkey") => {
            AppError::invalid("credential_profile_id", "no such credential profile")
        }
        Some("device_tenant_id_snmp_profile_id_fkey") => {
            AppError::invalid("snmp_profile_id", "no such credential profile")
        }
        _ => err.into(),
    }
}

/// Every device of the tenant as (id, name), without a limit, for name lookups (CSV import).
pub async fn names(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!("select id, name from device where tenant_id = $1", tenant.0)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Inserts the device, or updates the one with its name; `Unchanged` when nothing differs.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    d: &DeviceInput,
) -> Result<RowAction, AppError> {
    let written = write(db, tenant, d, OnTakenName::Update).await?;
    Ok(RowAction::of_upsert(written.map(|(_, inserted)| inserted)))
}

/// Inserts the interface as a manual one, or updates the device's interface with its name.
pub async fn upsert_interface(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    name: &str,
    kind: InterfaceKind,
    speed_mbps: Option<i64>,
    role: InterfaceRole,
) -> Result<RowAction, AppError> {
    let inserted = sqlx::query_scalar!(
        r#"insert into interface as i (tenant_id, device_id, name, kind, speed_mbps, role)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (device_id, lower(name)) do update
              set name = excluded.name, kind = excluded.kind, speed_mbps = excluded.speed_mbps,
                  role = excluded.role, updated_at = now()
              where (i.name, i.kind, i.speed_mbps, i.role)
                    is distinct from (excluded.name, excluded.kind, excluded.speed_mbps, excluded.role)
           returning (xmax = 0) as "inserted!""#,
        tenant.0,
        device.0,
        name,
        kind.as_str(),
        speed_mbps,
        role.as_str()
    )
    .fetch_optional(db)
    .await?;
    Ok(RowAction::of_upsert(inserted))
}

/// Every device in the CSV format's column order (`import::format(Devices)`).
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    sqlx::query_scalar!(
        r#"select array[d.name, s.code, d.role, host(d.mgmt_address), d.vendor, d.model,
                  d.api_port::text, d.api_tls::text, coalesce(d.rest_port::text, ''),
                  d.snmp_version, coalesce(cp.name, ''), coalesce(sp.name, ''),
                  d.polling_profile, array_to_string(d.tags, ' '), d.enabled::text]
                  as "row!: Vec<String>"
           from device d
           join site s on s.id = d.site_id
           left join credential_profile cp on cp.id = d.credential_profile_id
           left join credential_profile sp on sp.id = d.snmp_profile_id
           where d.tenant_id = $1 order by d.name"#,
        tenant.0
    )
    .fetch_all(db)
    .await
    .map_err(Into::into)
}

/// Every interface in the CSV format's column order (`import::format(Interfaces)`).
pub async fn export_interfaces(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    sqlx::query_scalar!(
        r#"select array[d.name, i.name, i.kind, coalesce(i.speed_mbps::text, ''), i.role]
                  as "row!: Vec<String>"
           from interface i join device d on d.id = i.device_id
           where i.tenant_id = $1 order by d.name, i.name"#,
        tenant.0
    )
    .fetch_all(db)
    .await
    .map_err(Into::into)
}
