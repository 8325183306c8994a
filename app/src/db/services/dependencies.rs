//! What services depend on (devices, links, redundancy groups, other services): list, add with
//! the tenant and cycle checks, remove, the reverse lookup, and the choices the pickers offer.
//!
//! Service-on-service dependencies must stay a DAG (SLA and impact walk them). The cycle check
//! and the insert run under a per-tenant advisory lock, so that two concurrent additions cannot
//! together close a cycle that neither sees alone.

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, is_unique_violation, violated_constraint};
use crate::error::AppError;
use crate::model::service::{
    cycle_error, link_label, Choice, Dependency, DependencyChoices, DependencyKind, ServiceId,
    CHOICES_MAX,
};
use crate::model::user::TenantId;

/// The dependencies of a service of the tenant, devices first, then links, groups, services,
/// each by name.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    service: ServiceId,
) -> Result<Vec<Dependency>, AppError> {
    let rows = sqlx::query!(
        r#"select d.device_id, dv.name as "device_name?",
                  d.link_id, l.kind as "link_kind?", la.name as "link_a?", lai.name as "link_a_if?",
                  lb.name as "link_b?", lbi.name as "link_b_if?",
                  d.group_id, g.name as "group_name?",
                  d.depends_on_service_id, ds.name as "service_name?"
           from service_dependency d
           left join device dv on dv.id = d.device_id
           left join link l on l.id = d.link_id
           left join device la on la.id = l.a_device_id
           left join interface lai on lai.id = l.a_interface_id
           left join device lb on lb.id = l.b_device_id
           left join interface lbi on lbi.id = l.b_interface_id
           left join redundancy_group g on g.id = d.group_id
           left join service ds on ds.id = d.depends_on_service_id
           where d.tenant_id = $1 and d.service_id = $2"#,
        tenant.0,
        service.0
    )
    .fetch_all(db)
    .await?;
    let mut deps: Vec<Dependency> = rows
        .into_iter()
        .filter_map(|r| {
            if let Some(id) = r.device_id {
                Some(Dependency::Device {
                    id,
                    name: r.device_name.unwrap_or_default(),
                })
            } else if let Some(id) = r.link_id {
                Some(Dependency::Link {
                    id,
                    label: link_label(
                        r.link_a.as_deref().unwrap_or_default(),
                        r.link_a_if.as_deref(),
                        r.link_b.as_deref().unwrap_or_default(),
                        r.link_b_if.as_deref(),
                        r.link_kind.as_deref().unwrap_or_default(),
                    ),
                })
            } else if let Some(id) = r.group_id {
                Some(Dependency::Group {
                    id,
                    name: r.group_name.unwrap_or_default(),
                })
            } else {
                r.depends_on_service_id.map(|id| Dependency::Service {
                    id: ServiceId(id),
                    name: r.service_name.unwrap_or_default(),
                })
            }
        })
        .collect();
    let rank = |k: DependencyKind| DependencyKind::ALL.iter().position(|x| *x == k);
    deps.sort_by_cached_key(|d| (rank(d.kind()), d.label().to_lowercase(), d.target_id()));
    Ok(deps)
}

/// Names of the tenant's services that depend directly on `service`, by name.
pub async fn dependents(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    service: ServiceId,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select s.name from service_dependency d
           join service s on s.tenant_id = d.tenant_id and s.id = d.service_id
           where d.tenant_id = $1 and d.depends_on_service_id = $2
           order by lower(s.name)"#,
        tenant.0,
        service.0
    )
    .fetch_all(db)
    .await?)
}

/// What to call the tenant's device, link, group or service `id`; `None` if the tenant has no
/// such object (whether the id is free or another tenant's).
pub async fn target_label(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    kind: DependencyKind,
    id: i64,
) -> Result<Option<String>, AppError> {
    let label = match kind {
        DependencyKind::Device => {
            sqlx::query_scalar!(
                "select name from device where tenant_id = $1 and id = $2",
                tenant.0,
                id
            )
            .fetch_optional(db)
            .await?
        }
        DependencyKind::Link => sqlx::query!(
            r#"select l.kind, a.name as a_name, ai.name as "a_if?", b.name as b_name,
                      bi.name as "b_if?"
               from link l
               join device a on a.id = l.a_device_id
               join device b on b.id = l.b_device_id
               left join interface ai on ai.id = l.a_interface_id
               left join interface bi on bi.id = l.b_interface_id
               where l.tenant_id = $1 and l.id = $2"#,
            tenant.0,
            id
        )
        .fetch_optional(db)
        .await?
        .map(|r| {
            link_label(
                &r.a_name,
                r.a_if.as_deref(),
                &r.b_name,
                r.b_if.as_deref(),
                &r.kind,
            )
        }),
        DependencyKind::Group => {
            sqlx::query_scalar!(
                "select name from redundancy_group where tenant_id = $1 and id = $2",
                tenant.0,
                id
            )
            .fetch_optional(db)
            .await?
        }
        DependencyKind::Service => {
            sqlx::query_scalar!(
                "select name from service where tenant_id = $1 and id = $2",
                tenant.0,
                id
            )
            .fetch_optional(db)
            .await?
        }
    };
    Ok(label)
}

/// True if service `from` already depends on `on`, directly or through other services (or is
/// it). `union` visits each service once, so the walk ends and is linear in the edges.
pub async fn reaches(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    from: ServiceId,
    on: ServiceId,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"with recursive down(service_id) as (
               select $2::bigint
               union
               select d.depends_on_service_id from down
               join service_dependency d on d.tenant_id = $1 and d.service_id = down.service_id
               where d.depends_on_service_id is not null
           )
           select exists(select 1 from down where service_id = $3) as "exists!""#,
        tenant.0,
        from.0,
        on.0
    )
    .fetch_one(db)
    .await?)
}

/// Serialises service-dependency changes of one tenant until the transaction ends.
async fn lock(conn: &mut PgConnection, tenant: TenantId) -> Result<(), AppError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('ispvm.service_dependency', $1))",
        tenant.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `service` depend on the tenant's `kind` object `target`. Returns the service's name
/// and the target's label, for the audit row. Refuses a target the tenant does not have, the
/// service itself, a dependency it already has, and one that would close a cycle.
pub async fn add(
    conn: &mut PgConnection,
    tenant: TenantId,
    service: ServiceId,
    kind: DependencyKind,
    target: i64,
) -> Result<(String, String), AppError> {
    let name = super::name(&mut *conn, tenant, service).await?;
    if kind == DependencyKind::Service && target == service.0 {
        return Err(AppError::invalid(
            "target_id",
            format!("\"{name}\" cannot depend on itself"),
        ));
    }
    let label = target_label(&mut *conn, tenant, kind, target)
        .await?
        .ok_or_else(|| kind.no_such("target_id"))?;
    if kind == DependencyKind::Service {
        lock(&mut *conn, tenant).await?;
        if reaches(&mut *conn, tenant, ServiceId(target), service).await? {
            return Err(cycle_error(&name, &label));
        }
    }
    let pick = |k: DependencyKind| (k == kind).then_some(target);
    sqlx::query!(
        r#"insert into service_dependency
               (tenant_id, service_id, device_id, link_id, group_id, depends_on_service_id)
           values ($1, $2, $3, $4, $5, $6)"#,
        tenant.0,
        service.0,
        pick(DependencyKind::Device),
        pick(DependencyKind::Link),
        pick(DependencyKind::Group),
        pick(DependencyKind::Service)
    )
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            AppError::conflict(
                "target_id",
                format!("\"{name}\" already depends on {label}"),
            )
        } else if violated_constraint(&err).is_some() {
            // The target was deleted since it was looked up.
            kind.no_such("target_id")
        } else {
            err.into()
        }
    })?;
    Ok((name, label))
}

/// Drops one dependency of a service of the tenant; `NotFound` if it has no such dependency.
pub async fn remove(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    service: ServiceId,
    kind: DependencyKind,
    target: i64,
) -> Result<(), AppError> {
    let pick = |k: DependencyKind| (k == kind).then_some(target);
    let done = sqlx::query!(
        r#"delete from service_dependency
           where tenant_id = $1 and service_id = $2
             and device_id is not distinct from $3 and link_id is not distinct from $4
             and group_id is not distinct from $5 and depends_on_service_id is not distinct from $6"#,
        tenant.0,
        service.0,
        pick(DependencyKind::Device),
        pick(DependencyKind::Link),
        pick(DependencyKind::Group),
        pick(DependencyKind::Service)
    )
    .execute(db)
    .await?;
    found(&done)
}

/// Everything the service forms pick from, at most [`CHOICES_MAX`] of each, by name.
pub async fn choices(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<DependencyChoices, AppError> {
    let customers = crate::db::customers::choices(&mut *conn, tenant, CHOICES_MAX).await?;
    let devices = sqlx::query!(
        "select id, name from device where tenant_id = $1 order by lower(name), id limit $2",
        tenant.0,
        CHOICES_MAX
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Choice {
        id: r.id,
        label: r.name,
    })
    .collect();
    let links = sqlx::query!(
        r#"select l.id, l.kind, a.name as a_name, ai.name as "a_if?", b.name as b_name,
                  bi.name as "b_if?"
           from link l
           join device a on a.id = l.a_device_id
           join device b on b.id = l.b_device_id
           left join interface ai on ai.id = l.a_interface_id
           left join interface bi on bi.id = l.b_interface_id
           where l.tenant_id = $1
           order by lower(a.name), lower(b.name), l.id
           limit $2"#,
        tenant.0,
        CHOICES_MAX
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Choice {
        id: r.id,
        label: link_label(
            &r.a_name,
            r.a_if.as_deref(),
            &r.b_name,
            r.b_if.as_deref(),
            &r.kind,
        ),
    })
    .collect();
    let groups = sqlx::query!(
        r#"select id, name from redundancy_group where tenant_id = $1
           order by lower(name), id limit $2"#,
        tenant.0,
        CHOICES_MAX
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Choice {
        id: r.id,
        label: r.name,
    })
    .collect();
    let services = sqlx::query!(
        "select id, name from service where tenant_id = $1 order by lower(name), id limit $2",
        tenant.0,
        CHOICES_MAX
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Choice {
        id: r.id,
        label: r.name,
    })
    .collect();
    Ok(DependencyChoices {
        customers,
        devices,
        links,
        groups,
        services,
    })
}
