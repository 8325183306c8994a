//! The users admin: list, create, change role, reset password, disable. Admins only, and only
//! inside their own tenant.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::user::UserRow;

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users(query: Option<String>) -> Result<Vec<UserRow>, AppError> {
    ssr::list_users(query).await
}

#[server(prefix = "/api", endpoint = "get_user")]
pub async fn get_user(id: i64) -> Result<UserRow, AppError> {
    ssr::get_user(id).await
}

#[server(prefix = "/api", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<(), AppError> {
    ssr::create_user(username, display_name, role, password).await
}

#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(id: i64, role: String) -> Result<(), AppError> {
    ssr::set_user_role(id, role).await
}

#[server(prefix = "/api", endpoint = "reset_user_password")]
pub async fn reset_user_password(id: i64, new_password: String) -> Result<(), AppError> {
    ssr::reset_user_password(id, new_password).await
}

#[server(prefix = "/api", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    ssr::set_user_disabled(id, disabled).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;

    use crate::api::server::audit;
    use crate::auth::{self, AuthUser};
    use crate::db;
    use crate::error::AppError;
    use crate::model::user::{
        validate_display_name, validate_new_password, validate_username, Role, UserId, UserRow,
    };
    use crate::state::{use_state, AppState};

    async fn admin() -> Result<(AppState, AuthUser), AppError> {
        let state = use_state()?;
        let user = auth::require_user(&state).await?;
        user.require_admin()?;
        Ok((state, user))
    }

    pub async fn list_users(query: Option<String>) -> Result<Vec<UserRow>, AppError> {
        let (state, me) = admin().await?;
        if query.as_ref().is_some_and(|q| q.len() > 100) {
            return Err(AppError::invalid("query", "must be at most 100 characters"));
        }
        db::users::list(&state.pool, me.tenant_id, query.as_deref()).await
    }

    pub async fn get_user(id: i64) -> Result<UserRow, AppError> {
        let (state, me) = admin().await?;
        db::users::get(&state.pool, me.tenant_id, UserId(id)).await
    }

    pub async fn create_user(
        username: String,
        display_name: String,
        role: String,
        password: String,
    ) -> Result<(), AppError> {
        let (state, me) = admin().await?;
        let username = validate_username(&username)?;
        let display_name = validate_display_name(&display_name)?;
        let role: Role = role.parse()?;
        validate_new_password("password", &password)?;
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "hash task failed");
                AppError::Internal
            })??;
        let mut tx = state.pool.begin().await?;
        let id = db::users::insert(
            &mut *tx,
            me.tenant_id,
            &db::users::NewUser {
                username: &username,
                display_name: &display_name,
                role,
                is_superadmin: false,
                password_hash: &hash,
            },
        )
        .await?;
        audit(
            &mut *tx,
            &me,
            "user.created",
            &username,
            json!({ "user_id": id.0, "role": role.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect("/admin/users");
        Ok(())
    }

    pub async fn set_user_role(id: i64, role: String) -> Result<(), AppError> {
        let (state, me) = admin().await?;
        let role: Role = role.parse()?;
        let mut tx = state.pool.begin().await?;
        let target = db::users::get(&mut *tx, me.tenant_id, UserId(id)).await?;
        db::users::set_role(&mut tx, me.tenant_id, UserId(id), role).await?;
        audit(
            &mut *tx,
            &me,
            "user.role_changed",
            &target.username,
            json!({ "user_id": id, "from": target.role.as_str(), "to": role.as_str() }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/admin/users/{id}"));
        Ok(())
    }

    pub async fn reset_user_password(id: i64, new_password: String) -> Result<(), AppError> {
        let (state, me) = admin().await?;
        validate_new_password("new_password", &new_password)?;
        let target = db::users::get(&state.pool, me.tenant_id, UserId(id)).await?;
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&new_password))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "hash task failed");
                AppError::Internal
            })??;
        let mut tx = state.pool.begin().await?;
        db::users::set_password(&mut *tx, me.tenant_id, UserId(id), &hash).await?;
        audit(
            &mut *tx,
            &me,
            "user.password_reset",
            &target.username,
            json!({ "user_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/admin/users/{id}?reset=1"));
        Ok(())
    }

    pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
        let (state, me) = admin().await?;
        if disabled && me.id == UserId(id) {
            return Err(AppError::invalid(
                "disabled",
                "you cannot disable your own account",
            ));
        }
        let mut tx = state.pool.begin().await?;
        let target = db::users::get(&mut *tx, me.tenant_id, UserId(id)).await?;
        db::users::set_disabled(&mut tx, me.tenant_id, UserId(id), disabled).await?;
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        audit(
            &mut *tx,
            &me,
            action,
            &target.username,
            json!({ "user_id": id }),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/admin/users/{id}"));
        Ok(())
    }
}
