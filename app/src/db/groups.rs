//! Redundancy groups and their members.

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, parse_column, violated_constraint};
use crate::error::AppError;
use crate::model::group::{GroupId, GroupInput, GroupRow, Member};
use crate::model::import::RowAction;
use crate::model::user::TenantId;

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    g: &GroupInput,
) -> Result<GroupId, AppError> {
    sqlx::query_scalar!(
        r#"insert into redundancy_group (tenant_id, name, rule, k, description)
           values ($1, $2, $3, $4, $5) returning id"#,
        tenant.0,
        g.name,
        g.rule.as_str(),
        g.k,
        g.description
    )
    .fetch_one(db)
    .await
    .map(GroupId)
    .map_err(|err| match violated_constraint(&err) {
        Some("redundancy_group_name_key") => {
            AppError::conflict("name", "another redundancy group already has this name")
        }
        _ => err.into(),
    })
}

/// The group's name, or `NotFound` outside the tenant.
pub async fn name(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: GroupId,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "select name from redundancy_group where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}

/// Adds a link or device of the tenant to the group. The caller holds the topology lock and
/// checks the graph afterwards.
pub async fn add_member(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    group: GroupId,
    member: Member,
) -> Result<(), AppError> {
    let (link, device) = match member {
        Member::Link(id) => (Some(id), None),
        Member::Device(id) => (None, Some(id)),
    };
    sqlx::query!(
        r#"insert into redundancy_member (tenant_id, group_id, link_id, device_id)
           values ($1, $2, $3, $4)"#,
        tenant.0,
        group.0,
        link,
        device
    )
    .execute(db)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some("redundancy_member_group_id_link_id_device_id_key") => {
            AppError::conflict("target_id", "already a member of this group")
        }
        Some("redundancy_member_tenant_id_group_id_fkey") => AppError::NotFound,
        Some("redundancy_member_tenant_id_link_id_fkey") => {
            AppError::invalid("target_id", "no such link")
        }
        Some("redundancy_member_tenant_id_device_id_fkey") => {
            AppError::invalid("target_id", "no such device")
        }
        _ => err.into(),
    })?;
    Ok(())
}

pub async fn remove_member(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    group: GroupId,
    member_row: i64,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        "delete from redundancy_member where tenant_id = $1 and group_id = $2 and id = $3",
        tenant.0,
        group.0,
        member_row
    )
    .execute(db)
    .await?;
    found(&done)
}

/// Deletes the group and its memberships; a service that depended on it loses that dependency
/// (the schema cascades).
pub async fn delete(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: GroupId,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        "delete from redundancy_group where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(db)
    .await?;
    found(&done)
}

/// The tenant's groups by name, each with its members labelled.
pub async fn list(db: impl PgExecutor<'_>, tenant: TenantId) -> Result<Vec<GroupRow>, AppError> {
    let rows = sqlx::query!(
        r#"select g.id, g.name, g.rule, g.k, g.description,
                  coalesce(array_agg(m.id order by m.id) filter (where m.id is not null), '{}')
                      as "member_ids!",
                  coalesce(array_agg(
                      case when m.link_id is not null
                           then 'link ' || da.name || coalesce(':' || ia.name, '') || ' → '
                                || db.name || coalesce(':' || ib.name, '') || ' (' || l.kind || ')'
                           else 'device ' || d.name end
                      order by m.id) filter (where m.id is not null), '{}') as "labels!"
           from redundancy_group g
           left join redundancy_member m on m.group_id = g.id
           left join link l on l.id = m.link_id
           left join device da on da.id = l.a_device_id
           left join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           left join device d on d.id = m.device_id
           where g.tenant_id = $1
           group by g.id order by lower(g.name)"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(GroupRow {
                id: GroupId(r.id),
                name: r.name,
                rule: parse_column("redundancy_group.rule", &r.rule)?,
                k: r.k,
                description: r.description,
                members: r.member_ids.into_iter().zip(r.labels).collect(),
            })
        })
        .collect()
}

/// Inserts the group, or updates the one with its name (case-insensitively); its members are
/// not touched. Returns the group's id and what was done; `Unchanged` when no field differs.
/// The caller holds the topology lock and checks the graph afterwards.
pub async fn upsert(
    conn: &mut PgConnection,
    tenant: TenantId,
    g: &GroupInput,
) -> Result<(GroupId, RowAction), AppError> {
    let written = sqlx::query!(
        r#"insert into redundancy_group as g (tenant_id, name, rule, k, description)
           values ($1, $2, $3, $4, $5)
           on conflict (tenant_id, lower(name)) do update
              set name = excluded.name, rule = excluded.rule, k = excluded.k,
                  description = excluded.description, updated_at = now()
              where (g.name, g.rule, g.k, g.description)
                    is distinct from (excluded.name, excluded.rule, excluded.k,
                    excluded.description)
           returning id, (xmax = 0) as "inserted!""#,
        tenant.0,
        g.name,
        g.rule.as_str(),
        g.k,
        g.description
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(w) = written {
        return Ok((GroupId(w.id), RowAction::of_upsert(Some(w.inserted))));
    }
    // Nothing differed, so nothing was returned: the row is there, unchanged.
    let id = sqlx::query_scalar!(
        "select id from redundancy_group where tenant_id = $1 and lower(name) = lower($2)",
        tenant.0,
        g.name
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((GroupId(id), RowAction::Unchanged))
}

/// The group's members as (member row id, member).
pub async fn members(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    group: GroupId,
) -> Result<Vec<(i64, Member)>, AppError> {
    let rows = sqlx::query!(
        "select id, link_id, device_id from redundancy_member
         where tenant_id = $1 and group_id = $2 order by id",
        tenant.0,
        group.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match (r.link_id, r.device_id) {
            (Some(link), _) => Some((r.id, Member::Link(link))),
            (None, Some(device)) => Some((r.id, Member::Device(device))),
            (None, None) => None,
        })
        .collect())
}

/// Every group of the tenant as (id, name), without a limit, for name lookups (CSV import).
pub async fn names(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, name from redundancy_group where tenant_id = $1",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// Every group in the CSV format's column order (`import::format(Groups)`), by name. The last
/// column lists the members in the import's reference syntax (`crate::import`):
/// `device:<name>` and `link:<a>[:<if>]><b>[:<if>] (<kind>)`, separated by `;`.
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    sqlx::query_scalar!(
        r#"select array[g.name, g.rule, coalesce(g.k::text, ''), g.description,
                  coalesce((
                      select string_agg(
                          case when m.device_id is not null then 'device:' || d.name
                               else 'link:' || la.name || coalesce(':' || lai.name, '') || '>'
                                    || lb.name || coalesce(':' || lbi.name, '') || ' ('
                                    || l.kind || ')' end,
                          ';' order by m.device_id is null, lower(d.name), lower(la.name),
                                       lower(lb.name), l.kind, lower(lai.name), lower(lbi.name))
                      from redundancy_member m
                      left join device d on d.id = m.device_id
                      left join link l on l.id = m.link_id
                      left join device la on la.id = l.a_device_id
                      left join interface lai on lai.id = l.a_interface_id
                      left join device lb on lb.id = l.b_device_id
                      left join interface lbi on lbi.id = l.b_interface_id
                      where m.tenant_id = g.tenant_id and m.group_id = g.id), '')]
                  as "row!: Vec<String>"
           from redundancy_group g where g.tenant_id = $1 order by lower(g.name)"#,
        tenant.0
    )
    .fetch_all(db)
    .await
    .map_err(Into::into)
}
