//! Which agent serves which site (`agent_site`), and what an agent is sent: the enabled devices
//! of its sites with their credential profiles, still sealed, and the probes defined on them. The admin's functions are
//! tenant-scoped; [`devices`] is keyed by the agent the listener found by its certificate.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::db::credentials::SealedProfile;
use crate::db::{parse_column, violated_constraint};
use crate::error::AppError;
use crate::model::agent::AgentSite;
use crate::model::credential::CredentialProfileId;
use crate::model::user::{TenantId, UserId};

/// Every site of the tenant that some live agent serves, with the agent.
pub async fn by_agent(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<(Uuid, AgentSite)>, AppError> {
    let rows = sqlx::query!(
        r#"select a.agent_id, s.id, s.code, s.name
           from agent_site a join site s on s.tenant_id = a.tenant_id and s.id = a.site_id
           where a.tenant_id = $1 order by s.code"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let site = AgentSite {
                id: r.id,
                code: r.code,
                name: r.name,
            };
            (r.agent_id, site)
        })
        .collect())
}

/// The tenant's sites no agent serves.
pub async fn free_sites(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<AgentSite>, AppError> {
    Ok(sqlx::query_as!(
        AgentSite,
        r#"select s.id, s.code, s.name from site s
           where s.tenant_id = $1
             and not exists (select 1 from agent_site a where a.tenant_id = s.tenant_id
                                                          and a.site_id = s.id)
           order by s.code limit 5000"#,
        tenant.0
    )
    .fetch_all(db)
    .await?)
}

/// The tenant's live agent `agent`'s name, its row share-locked until the transaction ends
/// (a revocation waits, so it cannot slip between this check and an assignment).
async fn live_agent(
    conn: &mut PgConnection,
    tenant: TenantId,
    agent: Uuid,
) -> Result<String, AppError> {
    sqlx::query_scalar!(
        r#"select name from agent where tenant_id = $1 and id = $2 and revoked_at is null
           for share"#,
        tenant.0,
        agent
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// What an assignment changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub agent_name: String,
    pub site: AgentSite,
    /// False when the agent already served the site.
    pub added: bool,
}

/// Makes the tenant's live agent serve `site`. A site of another tenant (or none) is
/// `Invalid` on `site`; a site another agent serves is a `Conflict` on `site` naming it.
pub async fn assign(
    conn: &mut PgConnection,
    tenant: TenantId,
    agent: Uuid,
    site: i64,
    by: Option<UserId>,
) -> Result<Assigned, AppError> {
    let agent_name = live_agent(conn, tenant, agent).await?;
    let inserted = sqlx::query_scalar!(
        r#"insert into agent_site (tenant_id, site_id, agent_id, created_by)
           values ($1, $2, $3, $4) on conflict (tenant_id, site_id) do nothing
           returning site_id"#,
        tenant.0,
        site,
        agent,
        by.map(|u| u.0)
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(|err| match violated_constraint(&err) {
        Some("agent_site_tenant_id_site_id_fkey") => AppError::invalid("site", "no such site"),
        _ => err.into(),
    })?;
    let holder = sqlx::query!(
        r#"select s.id, s.code, s.name, a.agent_id, g.name as agent_name
           from agent_site a join site s on s.tenant_id = a.tenant_id and s.id = a.site_id
                join agent g on g.id = a.agent_id
           where a.tenant_id = $1 and a.site_id = $2"#,
        tenant.0,
        site
    )
    .fetch_one(&mut *conn)
    .await?;
    if holder.agent_id != agent {
        return Err(AppError::conflict(
            "site",
            format!(
                "{} is served by the agent {}: unassign it there first",
                holder.code, holder.agent_name
            ),
        ));
    }
    Ok(Assigned {
        agent_name,
        site: AgentSite {
            id: holder.id,
            code: holder.code,
            name: holder.name,
        },
        added: inserted.is_some(),
    })
}

/// Stops the tenant's agent serving `site`; returns the agent's name and the site's code.
/// A site it does not serve is `NotFound`.
pub async fn unassign(
    conn: &mut PgConnection,
    tenant: TenantId,
    agent: Uuid,
    site: i64,
) -> Result<(String, String), AppError> {
    let agent_name = live_agent(conn, tenant, agent).await?;
    let code = sqlx::query_scalar!(
        r#"with gone as (delete from agent_site
                         where tenant_id = $1 and agent_id = $2 and site_id = $3
                         returning site_id)
           select s.code as "code!" from gone join site s on s.tenant_id = $1 and s.id = gone.site_id"#,
        tenant.0,
        agent,
        site
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((agent_name, code))
}

/// The agent's sites, by code (the CLI's `--site`).
pub async fn sites_of(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Vec<AgentSite>, AppError> {
    Ok(sqlx::query_as!(
        AgentSite,
        r#"select s.id, s.code, s.name
           from agent_site a join site s on s.tenant_id = a.tenant_id and s.id = a.site_id
           where a.tenant_id = $1 and a.agent_id = $2 order by s.code"#,
        tenant.0,
        agent
    )
    .fetch_all(db)
    .await?)
}

/// The tenant's sites with these codes (case-insensitive), or all of them; a code that names
/// no site is `Invalid` on `site`.
pub async fn sites_by_code(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    codes: Option<&[String]>,
) -> Result<Vec<AgentSite>, AppError> {
    let lower: Option<Vec<String>> = codes.map(|c| c.iter().map(|c| c.to_lowercase()).collect());
    let sites = sqlx::query_as!(
        AgentSite,
        r#"select id, code, name from site
           where tenant_id = $1 and ($2::text[] is null or lower(code) = any($2))
           order by code"#,
        tenant.0,
        lower.as_deref()
    )
    .fetch_all(db)
    .await?;
    for code in lower.iter().flatten() {
        if !sites.iter().any(|s| s.code.to_lowercase() == *code) {
            return Err(AppError::invalid(
                "site",
                format!("no site has the code {code}"),
            ));
        }
    }
    Ok(sites)
}

/// A device an agent is sent, its profiles still sealed.
pub struct AssignedRow {
    pub id: i64,
    pub name: String,
    pub site_code: String,
    pub vendor: String,
    pub address: String,
    pub api_port: i32,
    pub api_tls: bool,
    pub rest_port: Option<i32>,
    pub polling: String,
    /// `none`, `v2c` or `v3`.
    pub snmp_version: String,
    pub credential: Option<SealedProfile>,
    pub snmp: Option<SealedProfile>,
    /// The probes defined on the device, in id order.
    pub probes: Vec<DefinedProbe>,
}

/// A probe defined on an assigned device (`device_probe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinedProbe {
    pub id: i64,
    pub kind: String,
    pub target: String,
    pub interval_s: i32,
    pub timeout_ms: i32,
}

/// The enabled devices of the agent's sites, in id order, with their credential and SNMP
/// profiles (sealed) and their probes. Two queries: the listener runs them on every poll of
/// the assignment.
pub async fn devices(
    conn: &mut PgConnection,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Vec<AssignedRow>, AppError> {
    let rows = sqlx::query!(
        r#"select d.id, d.name, s.code as site_code, d.vendor, host(d.mgmt_address) as "address!",
                  d.api_port, d.api_tls, d.rest_port, d.polling_profile, d.snmp_version,
                  c.id as "c_id?", c.name as "c_name?", c.kind as "c_kind?",
                  c.secret_uuid as "c_uuid?", c.secret_ciphertext as "c_sealed?",
                  c.key_fingerprint as "c_key?",
                  p.id as "p_id?", p.name as "p_name?", p.kind as "p_kind?",
                  p.secret_uuid as "p_uuid?", p.secret_ciphertext as "p_sealed?",
                  p.key_fingerprint as "p_key?"
           from agent_site a
                join site s on s.tenant_id = a.tenant_id and s.id = a.site_id
                join device d on d.tenant_id = a.tenant_id and d.site_id = a.site_id
                left join credential_profile c
                       on c.tenant_id = d.tenant_id and c.id = d.credential_profile_id
                left join credential_profile p
                       on p.tenant_id = d.tenant_id and p.id = d.snmp_profile_id
           where a.tenant_id = $1 and a.agent_id = $2 and d.enabled
           order by d.id"#,
        tenant.0,
        agent
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut probes: std::collections::HashMap<i64, Vec<DefinedProbe>> =
        std::collections::HashMap::new();
    for p in sqlx::query!(
        r#"select p.device_id, p.id, p.kind, p.target, p.interval_s, p.timeout_ms
           from agent_site a
                join device d on d.tenant_id = a.tenant_id and d.site_id = a.site_id
                join device_probe p on p.tenant_id = d.tenant_id and p.device_id = d.id
           where a.tenant_id = $1 and a.agent_id = $2 and d.enabled
           order by p.device_id, p.id"#,
        tenant.0,
        agent
    )
    .fetch_all(&mut *conn)
    .await?
    {
        probes.entry(p.device_id).or_default().push(DefinedProbe {
            id: p.id,
            kind: p.kind,
            target: p.target,
            interval_s: p.interval_s,
            timeout_ms: p.timeout_ms,
        });
    }
    let sealed = |id: Option<i64>,
                  name: Option<String>,
                  kind: Option<String>,
                  uuid: Option<Uuid>,
                  ciphertext: Option<Vec<u8>>,
                  key: Option<String>|
     -> Result<Option<SealedProfile>, AppError> {
        let (Some(id), Some(name), Some(kind), Some(uuid), Some(ciphertext), Some(key)) =
            (id, name, kind, uuid, ciphertext, key)
        else {
            return Ok(None);
        };
        Ok(Some(SealedProfile {
            id: CredentialProfileId(id),
            tenant_id: tenant,
            name,
            description: String::new(),
            kind: parse_column("credential_profile.kind", &kind)?,
            secret_uuid: uuid,
            ciphertext,
            key_fingerprint: key,
        }))
    };
    rows.into_iter()
        .map(|r| {
            Ok(AssignedRow {
                id: r.id,
                name: r.name,
                site_code: r.site_code,
                vendor: r.vendor,
                address: r.address,
                api_port: r.api_port,
                api_tls: r.api_tls,
                rest_port: r.rest_port,
                polling: r.polling_profile,
                snmp_version: r.snmp_version,
                credential: sealed(r.c_id, r.c_name, r.c_kind, r.c_uuid, r.c_sealed, r.c_key)?,
                snmp: sealed(r.p_id, r.p_name, r.p_kind, r.p_uuid, r.p_sealed, r.p_key)?,
                probes: probes.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}
