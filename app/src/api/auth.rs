//! Sign-in, sign-out, who am I, and changing one's own password.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::user::CurrentUser;

/// Signs in with username and password, then redirects to `next` (a local path) or home.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    ssr::login(username, password, next).await
}

/// Ends the session and redirects to the sign-in page.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    ssr::logout().await
}

/// The signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    let state = crate::state::use_state()?;
    crate::auth::current_user(&state)
        .await
        .map(|u| u.map(|u| u.to_current()))
}

/// Changes the signed-in user's own password (the current one is required).
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    ssr::change_password(current_password, new_password, confirm_password).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::json;
    use time::OffsetDateTime;

    use crate::api::server::{audit, client_ip, safe_next};
    use crate::auth::throttle::Verdict;
    use crate::auth::{self, session_err, SESSION_AUTH_AT, SESSION_EPOCH, SESSION_USER_ID};
    use crate::db;
    use crate::error::AppError;
    use crate::model::user::{validate_new_password, PASSWORD_MAX, USERNAME_MAX};
    use crate::state::use_state;

    const BAD_CREDENTIALS: &str = "wrong username or password";

    pub async fn login(
        username: String,
        password: String,
        next: Option<String>,
    ) -> Result<(), AppError> {
        let state = use_state()?;
        let typed = username.trim().to_lowercase();
        if typed.is_empty() {
            return Err(AppError::invalid("username", "is required"));
        }
        if typed.len() > USERNAME_MAX {
            return Err(AppError::invalid(
                "username",
                format!("must be at most {USERNAME_MAX} characters"),
            ));
        }
        if password.is_empty() {
            return Err(AppError::invalid("password", "is required"));
        }
        if password.chars().count() > PASSWORD_MAX {
            return Err(AppError::invalid(
                "password",
                format!("must be at most {PASSWORD_MAX} characters"),
            ));
        }
        let ip = client_ip().await;
        let policy = state.auth.throttle;
        let recent =
            db::login_attempts::recent_failures(&state.pool, &typed, &ip, policy.window).await?;
        if let Verdict::Refuse(message) = policy.judge(&recent, OffsetDateTime::now_utc()) {
            tracing::warn!(user.name = %typed, source_ip = %ip, "sign-in throttled");
            return Err(AppError::RateLimited(message));
        }

        let record = db::users::find_for_login(&state.pool, &typed).await?;
        // Hashing is CPU-bound (tens of ms): off the async workers.
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        let pw = password.clone();
        let ok = tokio::task::spawn_blocking(move || auth::verify_password(hash.as_deref(), &pw))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "password check task failed");
                AppError::Internal
            })?;

        let Some(user) = record.filter(|_| ok) else {
            db::login_attempts::record(&state.pool, &typed, &ip, false).await?;
            let tenant = db::users::find_by_username(&state.pool, &typed)
                .await?
                .map(|(t, _)| t);
            db::audit::record(
                &state.pool,
                &db::audit::Event {
                    tenant,
                    actor: None,
                    actor_username: &typed,
                    action: "login.failed",
                    target: &typed,
                    detail: json!({}),
                    source_ip: Some(&ip),
                },
            )
            .await?;
            return Err(AppError::BadCredentials(BAD_CREDENTIALS.into()));
        };
        if user.disabled {
            // Only said after the right password was given: no enumeration.
            db::login_attempts::record(&state.pool, &typed, &ip, false).await?;
            return Err(AppError::Forbidden);
        }

        let session = auth::session().await?;
        // A new id at sign-in: a session id planted before sign-in is worthless (fixation).
        session.cycle_id().await.map_err(session_err)?;
        session
            .insert(SESSION_USER_ID, user.id.0)
            .await
            .map_err(session_err)?;
        session
            .insert(SESSION_AUTH_AT, OffsetDateTime::now_utc().unix_timestamp())
            .await
            .map_err(session_err)?;
        session
            .insert(SESSION_EPOCH, user.session_epoch)
            .await
            .map_err(session_err)?;
        db::login_attempts::record(&state.pool, &typed, &ip, true).await?;
        db::users::touch_login(&state.pool, user.id).await?;
        db::audit::record(
            &state.pool,
            &db::audit::Event {
                tenant: Some(user.tenant_id),
                actor: Some(user.id),
                actor_username: &user.username,
                action: "login.succeeded",
                target: &user.username,
                detail: json!({}),
                source_ip: Some(&ip),
            },
        )
        .await?;
        tracing::info!(user.id = user.id.0, user.name = %user.username, "signed in");
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    }

    pub async fn logout() -> Result<(), AppError> {
        let state = use_state()?;
        if let Some(user) = auth::current_user(&state).await? {
            audit(&state.pool, &user, "logout", &user.username, json!({})).await?;
        }
        auth::session().await?.flush().await.map_err(session_err)?;
        leptos_axum::redirect("/login");
        Ok(())
    }

    pub async fn change_password(
        current_password: String,
        new_password: String,
        confirm_password: String,
    ) -> Result<(), AppError> {
        let state = use_state()?;
        let user = auth::require_user(&state).await?;
        validate_new_password("new_password", &new_password)?;
        if new_password != confirm_password {
            return Err(AppError::invalid(
                "confirm_password",
                "does not match the new password",
            ));
        }
        if current_password.chars().count() > PASSWORD_MAX {
            return Err(AppError::invalid("current_password", "is wrong"));
        }
        let record = db::users::find_for_login(&state.pool, &user.username)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let (new_hash, ok) = tokio::task::spawn_blocking(move || {
            let ok = auth::verify_password(Some(&record.password_hash), &current_password);
            (auth::hash_password(&new_password), ok)
        })
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "password task failed");
            AppError::Internal
        })?;
        if !ok {
            return Err(AppError::invalid("current_password", "is wrong"));
        }
        let new_hash = new_hash?;
        let mut tx = state.pool.begin().await?;
        let epoch = db::users::set_password(&mut *tx, user.tenant_id, user.id, &new_hash).await?;
        crate::api::server::audit(
            &mut *tx,
            &user,
            "user.password_changed",
            &user.username,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        // The change voids the user's other sessions; this one carries on under the new epoch.
        let session = auth::session().await?;
        session.cycle_id().await.map_err(session_err)?;
        session
            .insert(SESSION_EPOCH, epoch)
            .await
            .map_err(session_err)?;
        leptos_axum::redirect("/account?changed=1");
        Ok(())
    }
}
