//! Administrative commands of the binary: first-admin bootstrap, tenants and users, agents'
//! enrollment tokens and sites from the CLI.
//! Each writes its audit event in the same transaction as its change.

use anyhow::{bail, Context};
use rand::distributions::{Alphanumeric, DistString};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::PgPool;

use app::auth::hash_password;
use app::db;
use app::model::user::{
    validate_display_name, validate_new_password, validate_username, Role, TenantId,
};

/// The tenant the bootstrap creates on an empty database.
pub const DEFAULT_TENANT_SLUG: &str = "default";

/// A random password of 20 letters and digits (about 119 bits).
pub fn generate_password() -> SecretString {
    SecretString::from(Alphanumeric.sample_string(&mut rand::thread_rng(), 20))
}

async fn audit(
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    db::audit::record(
        tx,
        &db::audit::Event {
            tenant: Some(tenant),
            actor: None,
            actor_username: "cli",
            action,
            target,
            detail,
            source_ip: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("record audit event: {e}"))
}

/// On a database without users: creates the default tenant and a super-admin `admin`. Returns the
/// password when one was generated (printed once by the caller), or `None` if users exist.
pub async fn bootstrap(
    pool: &PgPool,
    given: Option<&SecretString>,
    tenant_name: &str,
) -> anyhow::Result<Option<(String, Option<SecretString>)>> {
    let mut tx = pool.begin().await.context("begin")?;
    // Two replicas starting at once must not both create an admin.
    sqlx::query("select pg_advisory_xact_lock(hashtext('ispvm.bootstrap'))")
        .execute(&mut *tx)
        .await
        .context("bootstrap lock")?;
    if db::users::count_all(&mut *tx)
        .await
        .map_err(|e| anyhow::anyhow!("count users: {e}"))?
        > 0
    {
        return Ok(None);
    }
    let generated = given.is_none().then(generate_password);
    let password = given.or(generated.as_ref()).context("no password")?;
    if let Err(e) = validate_new_password("INITIAL_ADMIN_PASSWORD", password.expose_secret()) {
        bail!("{e}");
    }
    let tenant = match db::tenants::find_by_slug(&mut *tx, DEFAULT_TENANT_SLUG)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(t) => t,
        None => db::tenants::insert(&mut *tx, tenant_name, DEFAULT_TENANT_SLUG)
            .await
            .map_err(|e| anyhow::anyhow!("create tenant: {e}"))?,
    };
    let hash = hash_password(password.expose_secret()).map_err(|e| anyhow::anyhow!("{e}"))?;
    db::users::insert(
        &mut *tx,
        tenant,
        &db::users::NewUser {
            username: "admin",
            display_name: "Administrator",
            role: Role::Admin,
            is_superadmin: true,
            password_hash: &hash,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("create admin: {e}"))?;
    audit(
        &mut tx,
        tenant,
        "user.created",
        "admin",
        json!({ "role": "admin", "superadmin": true, "via": "bootstrap" }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(Some(("admin".to_owned(), generated)))
}

pub async fn create_tenant(pool: &PgPool, name: &str, slug: &str) -> anyhow::Result<TenantId> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        bail!("--name: must be 1 to 100 characters");
    }
    if !slug
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        || slug.len() > 63
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        bail!("--slug: must be 1 to 63 of a-z, 0-9 and -, starting with a letter or digit");
    }
    let mut tx = pool.begin().await.context("begin")?;
    let id = db::tenants::insert(&mut *tx, name, slug)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    audit(&mut tx, id, "tenant.created", slug, json!({ "name": name })).await?;
    tx.commit().await.context("commit")?;
    Ok(id)
}

pub struct NewUserArgs<'a> {
    pub tenant_slug: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub superadmin: bool,
    pub password: &'a SecretString,
}

pub async fn create_user(pool: &PgPool, args: &NewUserArgs<'_>) -> anyhow::Result<()> {
    let username = validate_username(args.username).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let display_name =
        validate_display_name(args.display_name).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let role: Role = args.role.parse().map_err(|e| anyhow::anyhow!("--{e}"))?;
    validate_new_password("password", args.password.expose_secret())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = pool.begin().await.context("begin")?;
    let tenant = db::tenants::find_by_slug(&mut *tx, args.tenant_slug)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("--tenant: no tenant with slug `{}`", args.tenant_slug))?;
    let hash = hash_password(args.password.expose_secret()).map_err(|e| anyhow::anyhow!("{e}"))?;
    db::users::insert(
        &mut *tx,
        tenant,
        &db::users::NewUser {
            username: &username,
            display_name: &display_name,
            role,
            is_superadmin: args.superadmin,
            password_hash: &hash,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    audit(
        &mut tx,
        tenant,
        "user.created",
        &username,
        json!({ "role": role.as_str(), "superadmin": args.superadmin, "via": "cli" }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(())
}

pub async fn reset_password(
    pool: &PgPool,
    username: &str,
    password: &SecretString,
) -> anyhow::Result<()> {
    validate_new_password("password", password.expose_secret())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (tenant, id) = db::users::find_by_username(pool, username)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("--username: no user `{username}`"))?;
    let hash = hash_password(password.expose_secret()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = pool.begin().await.context("begin")?;
    db::users::set_password(&mut *tx, tenant, id, &hash)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    audit(
        &mut tx,
        tenant,
        "user.password_reset",
        username,
        json!({ "via": "cli" }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(())
}

/// Disables a user and ends their sessions. Unlike the web UI, the CLI may disable the last
/// admin: it is the break-glass tool, and `reset-password` plus `enable` undo it.
pub async fn set_disabled(pool: &PgPool, username: &str, disabled: bool) -> anyhow::Result<()> {
    let (tenant, id) = db::users::find_by_username(pool, username)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("--username: no user `{username}`"))?;
    let mut tx = pool.begin().await.context("begin")?;
    db::users::force_disabled(&mut *tx, tenant, id, disabled)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let action = if disabled {
        "user.disabled"
    } else {
        "user.enabled"
    };
    audit(&mut tx, tenant, action, username, json!({ "via": "cli" })).await?;
    tx.commit().await.context("commit")?;
    Ok(())
}

/// `ispvm agent enroll-token`: a one-time enrollment token for the agent `name` of the tenant
/// `tenant_slug` (created if it has no live agent of that name), as the Agents page makes one.
/// Creates the agent CA first if the agent listener never ran.
pub async fn enrollment_token(
    pool: &PgPool,
    config: &crate::config::Config,
    tenant_slug: &str,
    name: &str,
) -> anyhow::Result<String> {
    let master = config.encryption_master_key.as_deref().context(
        "ENCRYPTION_MASTER_KEY_FILE: enrollment needs the agent CA, whose key is sealed with it",
    )?;
    crate::agents::ca::AgentCa::load_or_create(pool, master).await?;
    let name = app::model::agent::AgentForm {
        name: name.to_owned(),
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut tx = pool.begin().await.context("begin")?;
    let tenant = db::tenants::find_by_slug(&mut *tx, tenant_slug)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("--tenant: no tenant with the slug `{tenant_slug}`"))?;
    let (token, expires, created) =
        app::api::agents::ssr::issue_token(&mut tx, tenant, &name, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    audit(
        &mut tx,
        tenant,
        "agent.token_created",
        &name,
        json!({ "new_agent": created, "expires_at": db::rfc3339(expires), "via": "cli" }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(token.to_text())
}

/// What `ispvm agent assign` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitesAssigned {
    pub agent: String,
    /// The agent's sites afterwards, by code.
    pub sites: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl std::fmt::Display for SitesAssigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |codes: &[String]| match codes {
            [] => "none".to_owned(),
            codes => codes.join(", "),
        };
        write!(
            f,
            "agent `{}` serves {} (added: {}; removed: {})",
            self.agent,
            list(&self.sites),
            list(&self.added),
            list(&self.removed)
        )
    }
}

/// `ispvm agent assign`: the live agent `agent_name` of the tenant serves exactly the sites
/// with `codes` (all of the tenant's with `None`) afterwards, in one transaction with an audit
/// row per site added or removed. A site another agent serves is refused, and nothing changes.
pub async fn assign_sites(
    pool: &PgPool,
    tenant_slug: &str,
    agent_name: &str,
    codes: Option<&[String]>,
) -> anyhow::Result<SitesAssigned> {
    use app::db::agents::assignment;
    let app_err = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let mut tx = pool.begin().await.context("begin")?;
    let tenant = db::tenants::find_by_slug(&mut *tx, tenant_slug)
        .await
        .map_err(app_err)?
        .with_context(|| format!("--tenant: no tenant with the slug `{tenant_slug}`"))?;
    let agent = db::agents::live_by_name(&mut *tx, tenant, agent_name)
        .await
        .map_err(app_err)?
        .with_context(|| format!("--agent: `{tenant_slug}` has no live agent `{agent_name}`"))?;
    let wanted = assignment::sites_by_code(&mut *tx, tenant, codes)
        .await
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let before = assignment::sites_of(&mut *tx, tenant, agent)
        .await
        .map_err(app_err)?;
    let mut removed = Vec::new();
    for site in before.iter().filter(|s| !wanted.contains(*s)) {
        let (_, code) = assignment::unassign(&mut tx, tenant, agent, site.id)
            .await
            .map_err(app_err)?;
        audit(
            &mut tx,
            tenant,
            "agent.site_unassigned",
            agent_name,
            json!({ "agent_id": agent.to_string(), "site": code, "via": "cli" }),
        )
        .await?;
        removed.push(code);
    }
    let mut added = Vec::new();
    for site in &wanted {
        let done = assignment::assign(&mut tx, tenant, agent, site.id, None)
            .await
            .map_err(|e| anyhow::anyhow!("--{e}"))?;
        if done.added {
            audit(
                &mut tx,
                tenant,
                "agent.site_assigned",
                &done.agent_name,
                json!({ "agent_id": agent.to_string(), "site": done.site.code, "via": "cli" }),
            )
            .await?;
            added.push(done.site.code);
        }
    }
    tx.commit().await.context("commit")?;
    Ok(SitesAssigned {
        agent: agent_name.to_owned(),
        sites: wanted.into_iter().map(|s| s.code).collect(),
        added,
        removed,
    })
}
