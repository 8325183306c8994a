//! Customers: tenant-scoped list (search and pages), lookup, insert, update and delete.
//!
//! SLA targets cross as thousandths of a percent (`model::sla`): written with
//! `$n::bigint::numeric / 1000`, read with `(sla_target * 1000)::bigint`, so no float and no
//! numeric crate is involved.

use sqlx::{PgConnection, PgExecutor};

use crate::db::{found, like_pattern, rfc3339, violated_constraint};
use crate::error::AppError;
use crate::model::customer::{Customer, CustomerId, CustomerInput, CustomerRow};
use crate::model::import::RowAction;
use crate::model::service::Choice;
use crate::model::sla::SlaTarget;
use crate::model::user::TenantId;
use crate::model::{Page, PER_PAGE};

/// Customers whose name or account id contains `query`, by name, one page of them.
pub async fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    query: Option<&str>,
    page: i64,
) -> Result<Page<CustomerRow>, AppError> {
    let pattern = like_pattern(query);
    // Counted apart from the page, so that a page past the end still reports the total.
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from customer
           where tenant_id = $1 and ($2::text is null or name ilike $2 or account_id ilike $2)"#,
        tenant.0,
        pattern
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query!(
        r#"select c.id, c.name, c.account_id, c.timezone,
                  (c.sla_target * 1000)::bigint as sla_thousandths,
                  (select count(*) from service s where s.customer_id = c.id) as "services!"
           from customer c
           where c.tenant_id = $1
             and ($2::text is null or c.name ilike $2 or c.account_id ilike $2)
           order by lower(c.name), c.id
           limit $3 offset $4"#,
        tenant.0,
        pattern,
        PER_PAGE,
        (page - 1) * PER_PAGE
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Page {
        rows: rows
            .into_iter()
            .map(|r| CustomerRow {
                id: CustomerId(r.id),
                name: r.name,
                account_id: r.account_id,
                timezone: r.timezone,
                sla_target: r.sla_thousandths.and_then(SlaTarget::from_thousandths),
                services: r.services,
            })
            .collect(),
        total,
        page,
        per_page: PER_PAGE,
    })
}

/// One customer of the tenant; another tenant's customer is `NotFound`.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CustomerId,
) -> Result<Customer, AppError> {
    let r = sqlx::query!(
        r#"select c.id, c.name, c.account_id, c.contact_name, c.contact_email, c.contact_phone,
                  c.timezone, (c.sla_target * 1000)::bigint as sla_thousandths,
                  (select count(*) from service s where s.customer_id = c.id) as "services!",
                  c.created_at, c.updated_at
           from customer c where c.tenant_id = $1 and c.id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Customer {
        id: CustomerId(r.id),
        name: r.name,
        account_id: r.account_id,
        contact_name: r.contact_name,
        contact_email: r.contact_email,
        contact_phone: r.contact_phone,
        timezone: r.timezone,
        sla_target: r.sla_thousandths.and_then(SlaTarget::from_thousandths),
        services: r.services,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    })
}

/// True if the customer is the tenant's (the check behind "no such customer").
pub async fn exists(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CustomerId,
) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select exists(select 1 from customer where tenant_id = $1 and id = $2) as "exists!""#,
        tenant.0,
        id.0
    )
    .fetch_one(db)
    .await?)
}

/// The tenant's customers as "name (account id)", by name, for selects.
pub async fn choices(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<Choice>, AppError> {
    let rows = sqlx::query!(
        r#"select id, name, account_id from customer where tenant_id = $1
           order by lower(name), id limit $2"#,
        tenant.0,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Choice {
            id: r.id,
            label: format!("{} ({})", r.name, r.account_id),
        })
        .collect())
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    c: &CustomerInput,
) -> Result<CustomerId, AppError> {
    sqlx::query_scalar!(
        r#"insert into customer (tenant_id, name, account_id, contact_name, contact_email,
                                 contact_phone, timezone, sla_target)
           values ($1, $2, $3, $4, $5, $6, $7, $8::bigint::numeric / 1000)
           returning id"#,
        tenant.0,
        c.name,
        c.account_id,
        c.contact_name,
        c.contact_email,
        c.contact_phone,
        c.timezone,
        c.sla_target.map(SlaTarget::thousandths)
    )
    .fetch_one(db)
    .await
    .map(CustomerId)
    .map_err(conflict)
}

/// Replaces every field of a customer of the tenant.
pub async fn update(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: CustomerId,
    c: &CustomerInput,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update customer
           set name = $3, account_id = $4, contact_name = $5, contact_email = $6,
               contact_phone = $7, timezone = $8, sla_target = $9::bigint::numeric / 1000,
               updated_at = now()
           where tenant_id = $1 and id = $2"#,
        tenant.0,
        id.0,
        c.name,
        c.account_id,
        c.contact_name,
        c.contact_email,
        c.contact_phone,
        c.timezone,
        c.sla_target.map(SlaTarget::thousandths)
    )
    .execute(db)
    .await
    .map_err(conflict)?;
    found(&done)
}

/// Deletes a customer without services and returns its name; one with services is refused
/// (they would lose their customer, and the SLA reports with it).
pub async fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CustomerId,
) -> Result<String, AppError> {
    // The row lock conflicts with the key-share lock a concurrent service insert takes on its
    // customer, so the count below cannot miss a service committed meanwhile.
    let name = sqlx::query_scalar!(
        "select name from customer where tenant_id = $1 and id = $2 for update",
        tenant.0,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let services = sqlx::query_scalar!(
        r#"select count(*) as "n!" from service where tenant_id = $1 and customer_id = $2"#,
        tenant.0,
        id.0
    )
    .fetch_one(&mut *conn)
    .await?;
    if services > 0 {
        let noun = if services == 1 { "service" } else { "services" };
        return Err(AppError::conflict(
            "customer",
            format!("has {services} {noun}; delete them or move them to another customer first"),
        ));
    }
    sqlx::query!(
        "delete from customer where tenant_id = $1 and id = $2",
        tenant.0,
        id.0
    )
    .execute(&mut *conn)
    .await?;
    Ok(name)
}

/// Every customer of the tenant as (id, account id), without a limit, for lookups by account
/// id (CSV import of services).
pub async fn accounts(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        "select id, account_id from customer where tenant_id = $1",
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.account_id)).collect())
}

/// Inserts the customer, or updates the one with its account id (case-insensitively);
/// `Unchanged` when nothing differs.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    c: &CustomerInput,
) -> Result<RowAction, AppError> {
    let inserted = sqlx::query_scalar!(
        r#"insert into customer as c (tenant_id, name, account_id, contact_name, contact_email,
                                      contact_phone, timezone, sla_target)
           values ($1, $2, $3, $4, $5, $6, $7, $8::bigint::numeric / 1000)
           on conflict (tenant_id, lower(account_id)) do update
              set name = excluded.name, account_id = excluded.account_id,
                  contact_name = excluded.contact_name, contact_email = excluded.contact_email,
                  contact_phone = excluded.contact_phone, timezone = excluded.timezone,
                  sla_target = excluded.sla_target, updated_at = now()
              where (c.name, c.account_id, c.contact_name, c.contact_email, c.contact_phone,
                     c.timezone, c.sla_target)
                    is distinct from (excluded.name, excluded.account_id, excluded.contact_name,
                    excluded.contact_email, excluded.contact_phone, excluded.timezone,
                    excluded.sla_target)
           returning (xmax = 0) as "inserted!""#,
        tenant.0,
        c.name,
        c.account_id,
        c.contact_name,
        c.contact_email,
        c.contact_phone,
        c.timezone,
        c.sla_target.map(SlaTarget::thousandths)
    )
    .fetch_optional(db)
    .await
    .map_err(conflict)?;
    Ok(RowAction::of_upsert(inserted))
}

/// Every customer in the CSV format's column order (`import::format(Customers)`), by
/// account id.
pub async fn export(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Vec<String>>, AppError> {
    let rows = sqlx::query!(
        r#"select account_id, name, contact_name, contact_email, contact_phone, timezone,
                  (sla_target * 1000)::bigint as sla_thousandths
           from customer where tenant_id = $1 order by lower(account_id)"#,
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
                r.account_id,
                r.name,
                r.contact_name,
                r.contact_email,
                r.contact_phone,
                r.timezone,
                sla,
            ]
        })
        .collect())
}

fn conflict(err: sqlx::Error) -> AppError {
    match violated_constraint(&err) {
        Some("customer_account_key") => {
            AppError::conflict("account_id", "another customer already has this account id")
        }
        _ => err.into(),
    }
}
