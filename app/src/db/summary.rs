//! The home page's tenant summary counts.

use sqlx::PgExecutor;

use crate::error::AppError;
use crate::model::summary::TenantSummary;
use crate::model::user::TenantId;

pub async fn for_tenant(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<TenantSummary, AppError> {
    let r = sqlx::query!(
        r#"select t.name,
             (select count(*) from app_user u where u.tenant_id = t.id) as "users_total!",
             (select count(*) from app_user u where u.tenant_id = t.id and not u.disabled) as "users_active!",
             (select count(*) from app_user u where u.tenant_id = t.id and u.role = 'admin') as "admins!",
             (select count(*) from app_user u where u.tenant_id = t.id and u.role = 'operator') as "operators!",
             (select count(*) from app_user u where u.tenant_id = t.id and u.role = 'viewer') as "viewers!",
             (select count(*) from app_user u where u.tenant_id = t.id and u.role = 'customer') as "customers!",
             (select count(*) from audit_event a
                where a.tenant_id = t.id and a.at > now() - interval '24 hours') as "audit_events_24h!",
             (select count(*) from audit_event a
                where a.tenant_id = t.id and a.action = 'login.failed'
                  and a.at > now() - interval '24 hours') as "failed_logins_24h!"
           from tenant t where t.id = $1"#,
        tenant.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(TenantSummary {
        tenant_name: r.name,
        users_total: r.users_total,
        users_active: r.users_active,
        admins: r.admins,
        operators: r.operators,
        viewers: r.viewers,
        customers: r.customers,
        audit_events_24h: r.audit_events_24h,
        failed_logins_24h: r.failed_logins_24h,
    })
}
