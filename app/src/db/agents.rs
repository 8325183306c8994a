//! Edge agents, their one-time enrollment tokens and the installation's agent CA. The admin's
//! functions (list, create, revoke) are tenant-scoped; the agent listener's (spend a token, find
//! an agent by its certificate, store a status report) are keyed by a secret's or a
//! certificate's SHA-256, and the tenant comes from the row found. `assignment` holds which
//! agent serves which site, and what an agent is sent.

pub mod assignment;

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{found, rfc3339, violated_constraint};
use crate::error::AppError;
use crate::model::agent::{AgentReport, AgentRow};
use crate::model::user::{TenantId, UserId};

/// The agent CA's row.
#[derive(Debug, Clone)]
pub struct CaRow {
    pub certificate_pem: String,
    pub certificate_sha256: Vec<u8>,
    pub key_sealed: Vec<u8>,
}

pub async fn ca(db: impl PgExecutor<'_>) -> Result<Option<CaRow>, AppError> {
    Ok(sqlx::query_as!(
        CaRow,
        "select certificate_pem, certificate_sha256, key_sealed from agent_ca"
    )
    .fetch_optional(db)
    .await?)
}

/// Stores the CA unless one exists (a replica started at the same moment); the caller reads
/// the row back either way.
pub async fn insert_ca(db: impl PgExecutor<'_>, ca: &CaRow) -> Result<(), AppError> {
    sqlx::query!(
        r#"insert into agent_ca (certificate_pem, certificate_sha256, key_sealed)
           values ($1, $2, $3) on conflict (singleton) do nothing"#,
        ca.certificate_pem,
        ca.certificate_sha256,
        ca.key_sealed
    )
    .execute(db)
    .await?;
    Ok(())
}

/// `ispvm keys rotate`: the CA key sealed under the new master key.
pub async fn reseal_ca(db: impl PgExecutor<'_>, key_sealed: &[u8]) -> Result<(), AppError> {
    sqlx::query!("update agent_ca set key_sealed = $1", key_sealed)
        .execute(db)
        .await?;
    Ok(())
}

/// The tenant's agents with the sites each serves.
pub async fn list(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<AgentRow>, AppError> {
    let rows = sqlx::query!(
        r#"select a.id, a.name, a.created_at, a.enrolled_at, a.enrolled_from, a.revoked_at,
                  a.version, a.certificate_not_after, a.status, a.status_at,
                  (select max(b.received_at) from ingest_batch b where b.agent_id = a.id)
                      as last_batch_at
           from agent a where a.tenant_id = $1
           order by a.revoked_at is not null, lower(a.name), a.created_at"#,
        tenant.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut sites = assignment::by_agent(&mut *conn, tenant).await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(|r| {
            let report = r
                .status
                .zip(r.status_at)
                .and_then(|(status, at)| report(status, at, now));
            AgentRow {
                id: r.id.to_string(),
                name: r.name,
                created_at: rfc3339(r.created_at),
                enrolled_at: r.enrolled_at.map(rfc3339),
                enrolled_from: r.enrolled_from,
                revoked_at: r.revoked_at.map(rfc3339),
                version: r.version,
                certificate_not_after: r.certificate_not_after.map(rfc3339),
                last_batch_at: r.last_batch_at.map(rfc3339),
                report,
                sites: {
                    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut sites)
                        .into_iter()
                        .partition(|(agent, _)| *agent == r.id);
                    sites = others;
                    mine.into_iter().map(|(_, site)| site).collect()
                },
            }
        })
        .collect())
}

/// A stored `AgentStatus` as the page shows it: ages rather than the agent's timestamps, which
/// are measured against the report's own `at` so the agent's clock skew cancels out.
fn report(
    status: serde_json::Value,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<AgentReport> {
    let status: telemetry::enroll::AgentStatus = match serde_json::from_value(status) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable stored agent status");
            return None;
        }
    };
    let before_report = |t: Option<telemetry::UnixMs>| {
        t.map(|t| ((status.at.0 - t.0) / 1000).max(0) + (now - at).whole_seconds())
    };
    Some(AgentReport {
        age_s: (now - at).whole_seconds(),
        buffer_batches: status.buffer_batches,
        buffer_bytes: status.buffer_bytes,
        oldest_buffered_s: before_report(status.oldest_buffered),
        last_push_s: before_report(status.last_push),
        dropped_samples: status.dropped_samples,
        targets: status.targets,
        assignment_fetched_s: before_report(status.assignment_fetched),
        assignment_revision: status.assignment_revision,
    })
}

/// The tenant's live (not revoked) agent of this name, if any.
pub async fn live_by_name(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
) -> Result<Option<Uuid>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"select id from agent
           where tenant_id = $1 and lower(name) = lower($2) and revoked_at is null"#,
        tenant.0,
        name
    )
    .fetch_optional(db)
    .await?)
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
    created_by: Option<UserId>,
) -> Result<Uuid, AppError> {
    sqlx::query_scalar!(
        "insert into agent (id, tenant_id, name, created_by) values ($1, $2, $3, $4) returning id",
        Uuid::new_v4(),
        tenant.0,
        name,
        created_by.map(|u| u.0)
    )
    .fetch_one(db)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some("agent_name_key") => AppError::conflict("name", "another agent has this name"),
        _ => err.into(),
    })
}

/// A new one-time token for the agent; returns its expiry.
pub async fn insert_enrollment(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    agent: Uuid,
    token_sha256: &[u8; 32],
    lifetime: time::Duration,
    created_by: Option<UserId>,
) -> Result<OffsetDateTime, AppError> {
    Ok(sqlx::query_scalar!(
        r#"insert into agent_enrollment (tenant_id, agent_id, token_sha256, expires_at, created_by)
           values ($1, $2, $3, now() + make_interval(secs => $4), $5)
           returning expires_at"#,
        tenant.0,
        agent,
        &token_sha256[..],
        lifetime.as_seconds_f64(),
        created_by.map(|u| u.0)
    )
    .fetch_one(db)
    .await?)
}

/// An agent as the listener knows it.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    pub id: Uuid,
    pub tenant_id: i64,
    pub name: String,
}

/// Why an enrollment token was refused. The messages go to the agent's operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("unknown enrollment token: copy it whole from the Agents page, or create a new one")]
    Unknown,
    #[error(
        "this enrollment token was already used (at {0}); create a new one on the Agents page"
    )]
    Used(String),
    #[error("this enrollment token expired at {0}; create a new one on the Agents page")]
    Expired(String),
    #[error("the agent this token was made for has been revoked; create a new agent")]
    Revoked,
}

/// Spends a token inside the caller's transaction (the row stays locked until it ends, so two
/// agents racing with one token cannot both enroll). The caller then stores the certificate
/// with [`set_enrolled_certificate`] and commits.
pub async fn spend_token(
    conn: &mut PgConnection,
    token_sha256: &[u8; 32],
    from: &str,
) -> Result<Result<AgentIdentity, TokenRefused>, AppError> {
    let row = sqlx::query!(
        r#"select e.id, e.expires_at, e.used_at, e.expires_at < now() as "expired!",
                  a.id as agent_id, a.tenant_id, a.name, a.revoked_at
           from agent_enrollment e join agent a on a.id = e.agent_id
           where e.token_sha256 = $1
           for update of e"#,
        &token_sha256[..]
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(TokenRefused::Unknown));
    };
    if let Some(used) = row.used_at {
        return Ok(Err(TokenRefused::Used(rfc3339(used))));
    }
    if row.expired {
        return Ok(Err(TokenRefused::Expired(rfc3339(row.expires_at))));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(TokenRefused::Revoked));
    }
    sqlx::query!(
        "update agent_enrollment set used_at = now(), used_from = $2 where id = $1",
        row.id,
        from
    )
    .execute(&mut *conn)
    .await?;
    Ok(Ok(AgentIdentity {
        id: row.agent_id,
        tenant_id: row.tenant_id,
        name: row.name,
    }))
}

/// The certificate an enrollment issued: from now on the agent's only one (a renewed or
/// earlier enrolled one stops working).
pub async fn set_enrolled_certificate(
    db: impl PgExecutor<'_>,
    agent: Uuid,
    certificate: &[u8; 32],
    not_after: OffsetDateTime,
    version: &str,
    enrolled_from: &str,
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update agent set certificate_sha256 = $2, certificate_not_after = $3,
                  previous_certificate_sha256 = null,
                  version = $4, enrolled_at = now(), enrolled_from = $5
           where id = $1 and revoked_at is null"#,
        agent,
        &certificate[..],
        not_after,
        version,
        enrolled_from
    )
    .execute(db)
    .await?;
    found(&done)
}

/// The certificate a renewal issued. The one the renewal was presented with (`presented`)
/// stays usable until the agent first uses the new one ([`by_certificate`]), in case the
/// answer never reached it; any other earlier certificate stops working.
pub async fn set_renewed_certificate(
    db: impl PgExecutor<'_>,
    agent: Uuid,
    certificate: &[u8; 32],
    not_after: OffsetDateTime,
    presented: &[u8; 32],
) -> Result<(), AppError> {
    let done = sqlx::query!(
        r#"update agent set certificate_sha256 = $2, certificate_not_after = $3,
                  previous_certificate_sha256 = $4
           where id = $1 and revoked_at is null"#,
        agent,
        &certificate[..],
        not_after,
        &presented[..]
    )
    .execute(db)
    .await?;
    found(&done)
}

/// Whose certificate a client presented.
#[derive(Debug, Clone)]
pub enum CertificateOwner {
    Live(AgentIdentity),
    Revoked {
        name: String,
    },
    /// Not the current certificate of any agent (replaced by a renewal or a new enrollment).
    Unknown,
}

/// The agent presenting this certificate: its current one, or the one its last renewal
/// replaced while the agent has not used the new one yet. The first request with the new
/// certificate retires the previous one.
pub async fn by_certificate(
    db: &PgPool,
    certificate_sha256: &[u8; 32],
) -> Result<CertificateOwner, AppError> {
    let row = sqlx::query!(
        r#"select id, tenant_id, name, revoked_at,
                  previous_certificate_sha256 is not null and certificate_sha256 = $1
                      as "retire_previous!"
           from agent
           where certificate_sha256 = $1 or previous_certificate_sha256 = $1"#,
        &certificate_sha256[..]
    )
    .fetch_optional(db)
    .await?;
    let Some(r) = row else {
        return Ok(CertificateOwner::Unknown);
    };
    if r.revoked_at.is_some() {
        return Ok(CertificateOwner::Revoked { name: r.name });
    }
    if r.retire_previous {
        sqlx::query!(
            r#"update agent set previous_certificate_sha256 = null
               where id = $1 and certificate_sha256 = $2"#,
            r.id,
            &certificate_sha256[..]
        )
        .execute(db)
        .await?;
    }
    Ok(CertificateOwner::Live(AgentIdentity {
        id: r.id,
        tenant_id: r.tenant_id,
        name: r.name,
    }))
}

/// Keeps the agent's latest status report.
pub async fn record_status(
    db: impl PgExecutor<'_>,
    agent: Uuid,
    status: &telemetry::enroll::AgentStatus,
) -> Result<(), AppError> {
    let json = serde_json::to_value(status).map_err(|e| {
        tracing::error!(error = %e, "agent status to JSON");
        AppError::Internal
    })?;
    sqlx::query!(
        "update agent set status = $2, status_at = now(), version = $3 where id = $1",
        agent,
        json,
        status.version
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes the tenant's agent; returns its name. Revoking twice is `NotFound`.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    agent: Uuid,
    by: UserId,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        r#"update agent set revoked_at = now(), revoked_by = $3
           where tenant_id = $1 and id = $2 and revoked_at is null
           returning name"#,
        tenant.0,
        agent,
        by.0
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)
}
