//! Edge agents: the Agents page's list, one-time enrollment tokens, revocation, and which
//! sites each serves. Admins only: a token lets a machine send data into the tenant, and an
//! assignment sends it the routers' credentials.
//!
//! A new token is shown once. It is kept in the admin's session until the page reads it, so
//! the same page shows it with JavaScript (the action refetches the list) and without (the
//! form posts, the server redirects back to the page).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::agent::{AgentForm, AgentsView};

#[server(prefix = "/api", endpoint = "list_agents")]
pub async fn list_agents() -> Result<AgentsView, AppError> {
    ssr::list_agents().await
}

/// A token for a new agent of this name, or a fresh token for the live agent of this name (a
/// replaced box enrolls again; its old certificate stops working when it does).
#[server(prefix = "/api", endpoint = "create_agent_token")]
pub async fn create_agent_token(form: AgentForm) -> Result<(), AppError> {
    ssr::create_agent_token(form).await
}

#[server(prefix = "/api", endpoint = "revoke_agent")]
pub async fn revoke_agent(id: String) -> Result<(), AppError> {
    ssr::revoke_agent(id).await
}

/// Makes the agent serve the site (`site`: its id): it then polls the site's enabled devices.
/// A site served by another agent is a conflict on `site`.
#[server(prefix = "/api", endpoint = "assign_agent_site")]
pub async fn assign_agent_site(agent: String, site: String) -> Result<(), AppError> {
    ssr::assign_agent_site(agent, site).await
}

#[server(prefix = "/api", endpoint = "unassign_agent_site")]
pub async fn unassign_agent_site(agent: String, site: String) -> Result<(), AppError> {
    ssr::unassign_agent_site(agent, site).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use serde_json::json;
    use telemetry::enroll::EnrollmentToken;

    use crate::api::server::{admin_caller, audit};
    use crate::auth::{session, session_err};
    use crate::db;
    use crate::error::AppError;
    use crate::model::agent::{
        parse_site_field, AgentForm, AgentsView, NewToken, TOKEN_LIFETIME_MINUTES,
    };
    use crate::model::user::{TenantId, UserId};

    /// The session key of a token made but not shown yet.
    const NEW_TOKEN_KEY: &str = "agents.new_token";

    /// What agents are told when the server cannot enroll them.
    pub const NO_CA: &str = "agents cannot enroll on this server yet: it has no agent listener \
                             (set AGENT_LISTEN and ENCRYPTION_MASTER_KEY_FILE, see \
                             docs/deploy.md)";

    pub async fn list_agents() -> Result<AgentsView, AppError> {
        let (state, me) = admin_caller().await?;
        let mut conn = state.pool.acquire().await?;
        let agents = db::agents::list(&mut conn, me.tenant_id).await?;
        let free_sites = db::agents::assignment::free_sites(&mut *conn, me.tenant_id).await?;
        let new_token = session()
            .await?
            .remove::<NewToken>(NEW_TOKEN_KEY)
            .await
            .map_err(session_err)?;
        let unavailable = db::agents::ca(&state.pool)
            .await?
            .is_none()
            .then(|| NO_CA.to_owned());
        Ok(AgentsView {
            agents,
            new_token,
            unavailable,
            free_sites,
        })
    }

    /// A new token: 32 random bytes, stored as their SHA-256.
    pub fn new_secret() -> (String, [u8; 32]) {
        let secret = crate::crypto::random_token();
        let sha = crate::crypto::token_digest(&secret);
        (secret, sha)
    }

    /// Creates (or reuses) the agent `name` and a token for it, in the caller's transaction.
    /// The CLI's `ispvm agent enroll-token` shares it.
    pub async fn issue_token(
        conn: &mut sqlx::PgConnection,
        tenant: TenantId,
        name: &str,
        by: Option<UserId>,
    ) -> Result<(EnrollmentToken, time::OffsetDateTime, bool), AppError> {
        let ca = db::agents::ca(&mut *conn)
            .await?
            .ok_or_else(|| AppError::Unavailable(NO_CA.to_owned()))?;
        let (agent, created) = match db::agents::live_by_name(&mut *conn, tenant, name).await? {
            Some(id) => (id, false),
            None => (
                db::agents::insert(&mut *conn, tenant, name, by).await?,
                true,
            ),
        };
        let (secret, sha) = new_secret();
        let expires = db::agents::insert_enrollment(
            &mut *conn,
            tenant,
            agent,
            &sha,
            time::Duration::minutes(TOKEN_LIFETIME_MINUTES),
            by,
        )
        .await?;
        let token = EnrollmentToken {
            secret,
            ca_sha256: hex::encode(&ca.certificate_sha256),
        };
        Ok((token, expires, created))
    }

    pub async fn create_agent_token(form: AgentForm) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let name = form.validate()?;
        let mut tx = state.pool.begin().await?;
        let (token, expires, created) =
            issue_token(&mut tx, me.tenant_id, &name, Some(me.id)).await?;
        audit(
            &mut *tx,
            &me,
            "agent.token_created",
            &name,
            json!({ "new_agent": created, "expires_at": db::rfc3339(expires) }),
        )
        .await?;
        tx.commit().await?;
        session()
            .await?
            .insert(
                NEW_TOKEN_KEY,
                NewToken {
                    agent_name: name,
                    token: token.to_text(),
                    expires_at: db::rfc3339(expires),
                    server_url: state.agent_url.clone(),
                },
            )
            .await
            .map_err(session_err)?;
        leptos_axum::redirect("/admin/agents");
        Ok(())
    }

    pub async fn revoke_agent(id: String) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let id: uuid::Uuid = id.trim().parse().map_err(|_| AppError::NotFound)?;
        let mut tx = state.pool.begin().await?;
        let name = db::agents::revoke(&mut *tx, me.tenant_id, id, me.id).await?;
        audit(
            &mut *tx,
            &me,
            "agent.revoked",
            &name,
            json!({ "agent_id": id.to_string() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/admin/agents");
        Ok(())
    }

    /// The agent field of the assignment forms: an agent id (a bad one is no agent).
    fn agent_id(text: &str) -> Result<uuid::Uuid, AppError> {
        text.trim().parse().map_err(|_| AppError::NotFound)
    }

    pub async fn assign_agent_site(agent: String, site: String) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let agent = agent_id(&agent)?;
        let site = parse_site_field(&site)?;
        let mut tx = state.pool.begin().await?;
        let done =
            db::agents::assignment::assign(&mut tx, me.tenant_id, agent, site, Some(me.id)).await?;
        if done.added {
            audit(
                &mut *tx,
                &me,
                "agent.site_assigned",
                &done.agent_name,
                json!({ "agent_id": agent.to_string(), "site": done.site.code }),
            )
            .await?;
        }
        tx.commit().await?;
        leptos_axum::redirect("/admin/agents");
        Ok(())
    }

    pub async fn unassign_agent_site(agent: String, site: String) -> Result<(), AppError> {
        let (state, me) = admin_caller().await?;
        let agent = agent_id(&agent)?;
        let site = parse_site_field(&site)?;
        let mut tx = state.pool.begin().await?;
        let (name, code) =
            db::agents::assignment::unassign(&mut tx, me.tenant_id, agent, site).await?;
        audit(
            &mut *tx,
            &me,
            "agent.site_unassigned",
            &name,
            json!({ "agent_id": agent.to_string(), "site": code }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/admin/agents");
        Ok(())
    }
}
