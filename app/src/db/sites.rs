//! Sites: tenant-scoped list, lookup, insert, update and delete.

use sqlx::PgExecutor;

use crate::db::{found, like_pattern, violated_constraint};
use crate::error::AppError;
use crate::model::import::RowAction;
use crate::model::site::{SiteId, SiteInput, SiteRow};
use crate::model::user::TenantId;
use crate::model::{Page, PER_PAGE};

/// Sites whose name, code or region contains `query`, by code.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    query: Option<&str>,
    page: i64,
) -> Result<Page<SiteRow>, AppError> {
    let pattern = like_pattern(query);
    let rows = sqlx::query!(
        r#"select s.id, s.name, s.code, s.region, s.address, s.latitude, s.longitude, s.timezone,
                  (select count(*) from device d where d.site_id = s.id) as "device_count!",
                  count(*) over () as "total!"
           from site s
           where s.tenant_id = $1
             and ($2::text is null or s.name ilike $2 or s.code ilike $2 or s.region ilike $2)
           order by s.code
           limit $3 offset $4"#,
        tenant.0,
        pattern,
        PER_PAGE,
        (page - 1) * PER_PAGE
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok(Page {
        rows: rows
            .into_iter()
            .map(|r| SiteRow {
                id: SiteId(r.id),
                name: r.name,
                code: r.code,
                region: r.region,
                address: r.address,
                latitude: r.latitude,
                longitude: r.longitude,
                timezone: r.timezone,
                device_count: r.device_count,
            })
            .collect(),
        total,
        page,
        per_page: PER_PAGE,
    })
}

pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: SiteId,
) -> Result<SiteRow, AppError> {
    let r = sqlx::query!(
        r#"select s.id, s.name, s.code, s.region, s.address, s.latitude, s.longitude, s.timezone,
                  (select count(*) from device d where d.site_id = s.id) as "device_count!"
           from site s where s.tenant_id = $1 and s.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(SiteRow {
        id: SiteId(r.id),
        name: r.name,
        code: r.code,
        region: r.region,
        address: r.address,
        latitude: r.latitude,
        longitude: r.longitude,
        timezone: r.timezone,
        device_count: r.device_count,
    })
}

/// Every site of the tenant as (id, "CODE name"), for selects.
pub async fn choices(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, code, name from site where tenant_id = $1 order by code limit 5000",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, format!("{} {}", r.code, r.name)))
        .collect())
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    s: &SiteInput,
) -> Result<SiteId, AppError> {
    let (lat, lon) = s.coordinates.unzip();
    sqlx::query_scalar!(
        r#"insert into site (tenant_id, name, code, region, address, latitude, longitude, timezone)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id"#,
        tenant.0,
        s.name,
        s.code,
        s.region,
        s.address,
        lat,
        lon,
        s.timezone
    )
    .fetch_one(db)
    .await
    .map(SiteId)
    .map_err(conflict)
}

pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: SiteId,
    s: &SiteInput,
) -> Result<(), AppError> {
    let (lat, lon) = s.coordinates.unzip();
    let done = sqlx::query!(
        r#"update site set name = $3, code = $4, region = $5, address = $6, latitude = $7,
                  longitude = $8, timezone = $9, updated_at = now()
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        s.name,
        s.code,
        s.region,
        s.address,
        lat,
        lon,
        s.timezone
    )
    .execute(db)
    .await
    .map_err(conflict)?;
    found(&done)
}

/// Deletes an empty site; a site that still holds devices is refused.
pub async fn delete(db: impl PgExecutor<'_>, tenant: TenantId, id: SiteId) -> Result<(), AppError> {
    let done = sqlx::query!(
        "delete from site where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(db)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some("device_tenant_id_site_id_fkey") => AppError::conflict(
            "site",
            "the site still has devices; move or delete them first",
        ),
        _ => err.into(),
    })?;
    found(&done)
}

fn conflict(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("site_name_key") => AppError::conflict("name", "another site already has this name"),
        Some("site_code_key") => AppError::conflict("code", "another site already has this code"),
        _ => err.into(),
    }
}

/// True if the tenant has a site (every device has one, so no site means no inventory).
pub async fn any(db: impl PgExecutor<'_>, tenant: TenantId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from site where tenant_id = $1) as "exists!""#,
        tenant.0
    )
    .fetch_one(db)
    .await?)
}

/// Every site of the tenant as (id, code), for name lookups (CSV import).
pub async fn codes(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!("select id, code from site where tenant_id = $1", tenant.0)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.code)).collect())
}

/// Inserts the site, or updates the one with its code; `Unchanged` when nothing differs.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    s: &SiteInput,
) -> Result<RowAction, AppError> {
    let (lat, lon) = s.coordinates.unzip();
    let inserted = sqlx::query_scalar!(
        r#"insert into site as s (tenant_id, name, code, region, address, latitude, longitude,
                  timezone)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (tenant_id, lower(code)) do update
              set name = excluded.name, code = excluded.code, region = excluded.region,
                  address = excluded.address, latitude = excluded.latitude,
                  longitude = excluded.longitude, timezone = excluded.timezone,
                  updated_at = now()
              where (s.name, s.code, s.region, s.address, s.latitude, s.longitude, s.timezone)
                    is distinct from (excluded.name, excluded.code, excluded.region,
                    excluded.address, excluded.latitude, excluded.longitude, excluded.timezone)
           returning (xmax = 0) as "inserted!""#,
        tenant.0,
        s.name,
        s.code,
        s.region,
        s.address,
        lat,
        lon,
        s.timezone
    )
    .fetch_optional(db)
    .await
    .map_err(conflict)?;
    Ok(RowAction::of_upsert(inserted))
}

/// Every site in the CSV format's column order (`import::format(Sites)`).
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    sqlx::query_scalar!(
        r#"select array[code, name, region, address, coalesce(latitude::text, ''),
                  coalesce(longitude::text, ''), timezone] as "row!: Vec<String>"
           from site where tenant_id = $1 order by code"#,
        tenant.0
    )
    .fetch_all(db)
    .await
    .map_err(Into::into)
}
