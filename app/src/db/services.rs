//! Services (circuits): tenant-scoped list (search, filters, pages), lookup, insert, update and
//! delete, and the checks that a service's customer, access device and interface are the
//! tenant's. What a service depends on is in `services/dependencies.rs`.

pub mod dependencies;

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, like_pattern, parse_column, rfc3339, violated_constraint};
use crate::error::AppError;
use crate::model::customer::CustomerId;
use crate::model::import::RowAction;
use crate::model::service::{Service, ServiceId, ServiceInput, ServiceKind, ServiceRow};
use crate::model::sla::SlaTarget;
use crate::model::user::TenantId;
use crate::model::{Page, PER_PAGE};

/// What the services list is narrowed to; `None` means any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// A substring of the name, the provider, or the customer's name or account id.
    pub query: Option<&'a str>,
    pub customer: Option<CustomerId>,
    pub kind: Option<ServiceKind>,
}

/// One page of the tenant's services that pass the filter, by name.
pub async fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &Filter<'_>,
    page: i64,
) -> Result<Page<ServiceRow>, AppError> {
    let pattern = like_pattern(filter.query);
    let customer = filter.customer.map(|c| c.0);
    let kind = filter.kind.map(ServiceKind::as_str);
    // Counted apart from the page, so that a page past the end still reports the total.
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!"
           from service s
           left join customer c on c.tenant_id = s.tenant_id and c.id = s.customer_id
           where s.tenant_id = $1
             and ($2::text is null or s.name ilike $2 or s.provider ilike $2
                  or c.name ilike $2 or c.account_id ilike $2)
             and ($3::bigint is null or s.customer_id = $3)
             and ($4::text is null or s.kind = $4)"#,
        tenant.0,
        pattern,
        customer,
        kind
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query!(
        r#"select s.id, s.name, s.kind, s.customer_id, c.name as "customer_name?", s.provider,
                  d.name as "access_device?", (s.sla_target * 1000)::bigint as sla_thousandths,
                  s.enabled
           from service s
           left join customer c on c.tenant_id = s.tenant_id and c.id = s.customer_id
           left join device d on d.tenant_id = s.tenant_id and d.id = s.access_device_id
           where s.tenant_id = $1
             and ($2::text is null or s.name ilike $2 or s.provider ilike $2
                  or c.name ilike $2 or c.account_id ilike $2)
             and ($3::bigint is null or s.customer_id = $3)
             and ($4::text is null or s.kind = $4)
           order by lower(s.name), s.id
           limit $5 offset $6"#,
        tenant.0,
        pattern,
        customer,
        kind,
        PER_PAGE,
        (page - 1) * PER_PAGE
    )
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            Ok(ServiceRow {
                id: ServiceId(r.id),
                name: r.name,
                kind: parse_column("service.kind", &r.kind)?,
                customer_id: r.customer_id.map(CustomerId),
                customer_name: r.customer_name,
                provider: r.provider,
                access_device: r.access_device,
                sla_target: r.sla_thousandths.and_then(SlaTarget::from_thousandths),
                enabled: r.enabled,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Page {
        rows,
        total,
        page,
        per_page: PER_PAGE,
    })
}

/// One service of the tenant with its dependencies; another tenant's is `NotFound`.
pub async fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ServiceId,
) -> Result<Service, AppError> {
    let r = sqlx::query!(
        r#"select s.id, s.name, s.kind, s.customer_id, c.name as "customer_name?",
                  (c.sla_target * 1000)::bigint as customer_sla_thousandths,
                  s.access_device_id, d.name as "access_device_name?",
                  i.name as "access_interface?", s.pppoe_username_pattern,
                  (s.sla_target * 1000)::bigint as sla_thousandths, s.business_hours,
                  s.provider, s.enabled, s.created_at, s.updated_at
           from service s
           left join customer c on c.tenant_id = s.tenant_id and c.id = s.customer_id
           left join device d on d.tenant_id = s.tenant_id and d.id = s.access_device_id
           left join interface i on i.tenant_id = s.tenant_id and i.id = s.access_interface_id
           where s.tenant_id = $1 and s.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let dependencies = dependencies::list(&mut *conn, tenant, id).await?;
    Ok(Service {
        id: ServiceId(r.id),
        name: r.name,
        kind: parse_column("service.kind", &r.kind)?,
        customer_id: r.customer_id.map(CustomerId),
        customer_name: r.customer_name,
        customer_sla_target: r
            .customer_sla_thousandths
            .and_then(SlaTarget::from_thousandths),
        access_device_id: r.access_device_id,
        access_device_name: r.access_device_name,
        access_interface: r.access_interface,
        pppoe_username_pattern: r.pppoe_username_pattern,
        sla_target: r.sla_thousandths.and_then(SlaTarget::from_thousandths),
        business_hours: r.business_hours,
        provider: r.provider,
        enabled: r.enabled,
        dependencies,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    })
}

/// The name of a service of the tenant; another tenant's is `NotFound`.
pub async fn name(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ServiceId,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "select name from service where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}

/// Checks that the customer and the access device are the tenant's, and finds the access
/// interface by name on that device. Returns the interface's id. An id of another tenant gets
/// the same answer as a free one.
pub async fn resolve_refs(
    conn: &mut PgConnection,
    tenant: TenantId,
    s: &ServiceInput,
) -> Result<Option<i64>, AppError> {
    if let Some(customer) = s.customer_id {
        if !crate::db::customers::exists(&mut *conn, tenant, customer).await? {
            return Err(AppError::invalid("customer_id", "no such customer"));
        }
    }
    let Some(device) = s.access_device_id else {
        return Ok(None);
    };
    let device_ok = sqlx::query_scalar!(
        r#"select exists(select 1 from device where tenant_id = $1 and id = $2) as "exists!""#,
        tenant.0,
        device
    )
    .fetch_one(&mut *conn)
    .await?;
    if !device_ok {
        return Err(AppError::invalid("access_device_id", "no such device"));
    }
    let Some(interface) = s.access_interface.as_deref() else {
        return Ok(None);
    };
    sqlx::query_scalar!(
        r#"select id from interface
           where tenant_id = $1 and device_id = $2 and lower(name) = lower($3)"#,
        tenant.0,
        device,
        interface
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(Some)
    .ok_or_else(|| AppError::invalid("access_interface", "no such interface on that device"))
}

/// Inserts a service whose references `resolve_refs` has checked (`interface` is its answer).
pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    s: &ServiceInput,
    interface: Option<i64>,
) -> Result<ServiceId, AppError> {
    sqlx::query_scalar!(
        r#"insert into service (tenant_id, customer_id, name, kind, access_device_id,
                                access_interface_id, pppoe_username_pattern, sla_target,
                                business_hours, provider, enabled)
           values ($1, $2, $3, $4, $5, $6, $7, $8::bigint::numeric / 1000, $9, $10, $11)
           returning id"#,
        tenant.0,
        s.customer_id.map(|c| c.0),
        s.name,
        s.kind.as_str(),
        s.access_device_id,
        interface,
        s.pppoe_username_pattern,
        s.sla_target.map(SlaTarget::thousandths),
        s.business_hours,
        s.provider,
        s.enabled
    )
    .fetch_one(db)
    .await
    .map(ServiceId)
    .map_err(write_error)
}

/// Replaces every field of a service of the tenant (its dependencies stay).
pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ServiceId,
    s: &ServiceInput,
    interface: Option<i64>,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update service
           set customer_id = $3, name = $4, kind = $5, access_device_id = $6,
               access_interface_id = $7, pppoe_username_pattern = $8,
               sla_target = $9::bigint::numeric / 1000, business_hours = $10, provider = $11,
               enabled = $12, updated_at = now()
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        s.customer_id.map(|c| c.0),
        s.name,
        s.kind.as_str(),
        s.access_device_id,
        interface,
        s.pppoe_username_pattern,
        s.sla_target.map(SlaTarget::thousandths),
        s.business_hours,
        s.provider,
        s.enabled
    )
    .execute(db)
    .await
    .map_err(write_error)?;
    found(&done)
}

/// Deletes a service (its own dependencies go with it) and returns its name. A service that
/// other services depend on is refused: dropping it would silently change their SLA model.
pub async fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ServiceId,
) -> Result<String, AppError> {
    // The row lock conflicts with the key-share lock a concurrent dependency insert takes on
    // its target, so the check below cannot miss a dependent committed meanwhile.
    let name = sqlx::query_scalar!(
        "select name from service where tenant_id = $1 and id = $2 for update",
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let dependents = dependencies::dependents(&mut *conn, tenant, id).await?;
    if !dependents.is_empty() {
        let shown: Vec<String> = dependents
            .iter()
            .take(3)
            .map(|n| format!("\"{n}\""))
            .collect();
        let more = if dependents.len() > 3 { ", …" } else { "" };
        let count = match dependents.len() {
            1 => "another service depends".to_owned(),
            n => format!("{n} other services depend"),
        };
        return Err(AppError::conflict(
            "service",
            format!(
                "{count} on it ({}{more}); remove those dependencies first",
                shown.join(", ")
            ),
        ));
    }
    sqlx::query!(
        "delete from service where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(&mut *conn)
    .await?;
    Ok(name)
}

/// Inserts the service, or updates the one with its name (case-insensitively), from fields
/// `resolve_refs` has checked (`interface` is its answer). Its dependencies are not touched.
/// Returns the service's id and what was done; `Unchanged` when no field differs.
pub async fn upsert(
    conn: &mut PgConnection,
    tenant: TenantId,
    s: &ServiceInput,
    interface: Option<i64>,
) -> Result<(ServiceId, RowAction), AppError> {
    let written = sqlx::query!(
        r#"insert into service as s (tenant_id, customer_id, name, kind, access_device_id,
                                     access_interface_id, pppoe_username_pattern, sla_target,
                                     business_hours, provider, enabled)
           values ($1, $2, $3, $4, $5, $6, $7, $8::bigint::numeric / 1000, $9, $10, $11)
           on conflict (tenant_id, lower(name)) do update
              set customer_id = excluded.customer_id, name = excluded.name, kind = excluded.kind,
                  access_device_id = excluded.access_device_id,
                  access_interface_id = excluded.access_interface_id,
                  pppoe_username_pattern = excluded.pppoe_username_pattern,
                  sla_target = excluded.sla_target, business_hours = excluded.business_hours,
                  provider = excluded.provider, enabled = excluded.enabled, updated_at = now()
              where (s.customer_id, s.name, s.kind, s.access_device_id, s.access_interface_id,
                     s.pppoe_username_pattern, s.sla_target, s.business_hours, s.provider,
                     s.enabled)
                    is distinct from (excluded.customer_id, excluded.name, excluded.kind,
                    excluded.access_device_id, excluded.access_interface_id,
                    excluded.pppoe_username_pattern, excluded.sla_target,
                    excluded.business_hours, excluded.provider, excluded.enabled)
           returning id, (xmax = 0) as "inserted!""#,
        tenant.0,
        s.customer_id.map(|c| c.0),
        s.name,
        s.kind.as_str(),
        s.access_device_id,
        interface,
        s.pppoe_username_pattern,
        s.sla_target.map(SlaTarget::thousandths),
        s.business_hours,
        s.provider,
        s.enabled
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(write_error)?;
    if let Some(w) = written {
        return Ok((ServiceId(w.id), RowAction::of_upsert(Some(w.inserted))));
    }
    // Nothing differed, so nothing was returned: the row is there, unchanged.
    let id = sqlx::query_scalar!(
        "select id from service where tenant_id = $1 and lower(name) = lower($2)",
        tenant.0,
        s.name
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((ServiceId(id), RowAction::Unchanged))
}

/// Every service of the tenant as (id, name), without a limit, for name lookups (CSV import).
pub async fn names(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, name from service where tenant_id = $1",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Every service in the CSV format's column order (`import::format(Services)`), by name. The
/// last column lists the dependencies in the import's reference syntax (`crate::import`):
/// `device:<name>`, `link:<a>[:<if>]><b>[:<if>] (<kind>)`, `group:<name>`, `service:<name>`,
/// separated by `;`.
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    let rows = sqlx::query!(
        r#"select s.name, s.kind, coalesce(c.account_id, '') as "customer!",
                  coalesce(d.name, '') as "access_device!", coalesce(i.name, '') as "interface!",
                  s.pppoe_username_pattern, (s.sla_target * 1000)::bigint as sla_thousandths,
                  coalesce(s.business_hours, '') as "business_hours!", s.provider, s.enabled,
                  coalesce((
                      select string_agg(
                          case when sd.device_id is not null then 'device:' || dv.name
                               when sd.link_id is not null
                               then 'link:' || la.name || coalesce(':' || lai.name, '') || '>'
                                    || lb.name || coalesce(':' || lbi.name, '') || ' ('
                                    || l.kind || ')'
                               when sd.group_id is not null then 'group:' || g.name
                               else 'service:' || ds.name end,
                          ';' order by sd.device_id is null, sd.link_id is null,
                                       sd.group_id is null, lower(dv.name), lower(la.name),
                                       lower(lb.name), l.kind, lower(g.name), lower(ds.name))
                      from service_dependency sd
                      left join device dv on dv.id = sd.device_id
                      left join link l on l.id = sd.link_id
                      left join device la on la.id = l.a_device_id
                      left join interface lai on lai.id = l.a_interface_id
                      left join device lb on lb.id = l.b_device_id
                      left join interface lbi on lbi.id = l.b_interface_id
                      left join redundancy_group g on g.id = sd.group_id
                      left join service ds on ds.id = sd.depends_on_service_id
                      where sd.tenant_id = s.tenant_id and sd.service_id = s.id), '')
                      as "depends_on!"
           from service s
           left join customer c on c.tenant_id = s.tenant_id and c.id = s.customer_id
           left join device d on d.tenant_id = s.tenant_id and d.id = s.access_device_id
           left join interface i on i.tenant_id = s.tenant_id and i.id = s.access_interface_id
           where s.tenant_id = $1
           order by lower(s.name)"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let sla = r
                .sla_thousandths
                .and_then(SlaTarget::from_thousandths)
                .map(|t| t.to_string())
                .unwrap_or_default();
            vec![
                r.name,
                r.kind,
                r.customer,
                r.access_device,
                r.interface,
                r.pppoe_username_pattern,
                sla,
                r.business_hours,
                r.provider,
                r.enabled.to_string(),
                r.depends_on,
            ]
        })
        .collect())
}

/// Maps the constraint a write broke to its form field. The foreign keys only fire when a
/// referenced row was deleted between `resolve_refs` and the write.
fn write_error(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("service_name_key") => {
            AppError::conflict("name", "another service already has this name")
        }
        Some("service_tenant_id_customer_id_fkey") => {
            AppError::invalid("customer_id", "no such customer")
        }
        Some("service_tenant_id_access_device_id_fkey") => {
            AppError::invalid("access_device_id", "no such device")
        }
        Some("service_tenant_id_access_device_id_access_interface_id_fkey") => {
            AppError::invalid("access_interface", "no such interface on that device")
        }
        _ => err.into(),
    }
}
