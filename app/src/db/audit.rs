//! The append-only audit log (the table refuses updates and deletes by trigger).

use serde_json::Value;
use sqlx::PgExecutor;

use crate::db::rfc3339;
use crate::error::AppError;
use crate::model::audit::AuditRow;
use crate::model::user::{TenantId, UserId};

/// One audit event to record.
pub struct Event<'a> {
    pub tenant: Option<TenantId>,
    pub actor: Option<UserId>,
    pub actor_username: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: Value,
    pub source_ip: Option<&'a str>,
}

pub async fn record(db: impl PgExecutor<'_>, e: &Event<'_>) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into audit_event (tenant_id, actor_user_id, actor_username, action, target, detail, source_ip)
           values ($1, $2, $3, $4, $5, $6, $7::text::inet)"#,
        e.tenant.map(|t| t.0),
        e.actor.map(|u| u.0),
        e.actor_username,
        e.action,
        e.target,
        e.detail,
        e.source_ip
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A tenant's newest events, at most `limit`, older than `before` (an event id) if given.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, AppError> {
    let rows = sqlx::query!(
        r#"select id, at, actor_username, action, target, host(source_ip) as source_ip
           from audit_event
           where tenant_id = $1 and ($2::bigint is null or id < $2)
           order by id desc limit $3"#,
        tenant.0,
        before,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditRow {
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor_username,
            action: r.action,
            target: r.target,
            source_ip: r.source_ip,
        })
        .collect())
}
