//! Helpers for server function bodies: the caller's address, the audit trail, safe redirects.
//! (A failure's HTTP status is set in one place for all of them: server/src/http/server_fn_status.rs.)

use axum::extract::ConnectInfo;
use std::net::SocketAddr;

use crate::auth::{self, AuthUser};
use crate::db;
use crate::error::AppError;
use crate::state::{use_state, AppState};

/// The signed-in caller if they are staff (admin, operator, viewer): who may read the NOC side.
pub async fn staff_caller() -> Result<(AppState, AuthUser), AppError> {
    let state = use_state()?;
    let user = auth::require_user(&state).await?;
    user.require_staff()?;
    Ok((state, user))
}

/// The signed-in caller if they are an admin or operator: who may review discovered links.
pub async fn operator_caller() -> Result<(AppState, AuthUser), AppError> {
    let state = use_state()?;
    let user = auth::require_user(&state).await?;
    user.require_operator()?;
    Ok((state, user))
}

/// The signed-in caller if they are an admin of their tenant: who may change inventory.
pub async fn admin_caller() -> Result<(AppState, AuthUser), AppError> {
    let state = use_state()?;
    let user = auth::require_user(&state).await?;
    user.require_admin()?;
    Ok((state, user))
}

/// The peer address of the request. (Behind a reverse proxy this is the proxy; a trusted
/// `X-Forwarded-For` setting is future work, noted in docs/configuration.md.)
pub async fn client_ip() -> String {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".to_owned())
}

/// Records an admin action or auth event of a signed-in user, in their tenant. Pass the
/// caller's transaction so that the action and its audit row commit together.
pub async fn audit(
    db: impl sqlx::PgExecutor<'_>,
    actor: &AuthUser,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let ip = client_ip().await;
    db::audit::record(
        db,
        &db::audit::Event {
            tenant: Some(actor.tenant_id),
            actor: Some(actor.id),
            actor_username: &actor.username,
            action,
            target,
            detail,
            source_ip: Some(&ip),
        },
    )
    .await
}

/// Only same-site relative paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 512 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
