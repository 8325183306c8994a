//! Server-only authentication: password hashing, the session keys, who is signed in, and the
//! role checks every server function starts with. Pure throttling policy lives in
//! `auth/throttle.rs`; its SQL in `db::login_attempts`.

pub mod throttle;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::sync::LazyLock;
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::error::AppError;
use crate::model::user::{CurrentUser, Role, TenantId, UserId};
use crate::state::AppState;

/// Session key holding the signed-in user's id.
pub const SESSION_USER_ID: &str = "uid";
/// Session key holding the Unix time of sign-in, for the absolute expiry.
pub const SESSION_AUTH_AT: &str = "auth_at";
/// Session key holding the user's session epoch at sign-in (see the `app_user` migration).
pub const SESSION_EPOCH: &str = "epoch";

/// The signed-in user with what authorisation needs. Server-side only.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub is_superadmin: bool,
    pub tenant_name: String,
}

impl AuthUser {
    pub fn to_current(&self) -> CurrentUser {
        CurrentUser {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            is_superadmin: self.is_superadmin,
            tenant_name: self.tenant_name.clone(),
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Admins and operators: who may act on what the network reports (the discovery review).
    pub fn require_operator(&self) -> Result<(), AppError> {
        if matches!(self.role, Role::Admin | Role::Operator) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.role.is_staff() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Hashes a password with argon2id and the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|err| {
            tracing::error!(error = %err, "password hashing failed");
            AppError::Internal
        })
}

/// A hash of a random password, verified against when the username is unknown so that the
/// answer takes as long as for a real account (no user enumeration by timing).
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(salt.as_str().as_bytes(), &salt)
        .map(|h| h.to_string())
        .ok()
});

/// Checks a password against a stored PHC string; `None` burns the same time and fails.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let stored = stored.or(DUMMY_HASH.as_deref());
    let Some(parsed) = stored.and_then(|s| PasswordHash::new(s).ok()) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored != DUMMY_HASH.as_deref()
}

/// The session of the current request.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|err| {
        tracing::error!(error = %err, "session layer missing");
        AppError::Internal
    })
}

/// Who is signed in, or `None`. A session past its absolute lifetime, or older than the user's
/// last credential change, or of a disabled user, is flushed and counts as signed out.
pub async fn current_user(state: &AppState) -> Result<Option<AuthUser>, AppError> {
    user_of_session(state, &session().await?).await
}

/// [`current_user`] for a plain axum route, which has the session as an extractor rather than
/// in the Leptos context.
pub async fn user_of_session(
    state: &AppState,
    session: &Session,
) -> Result<Option<AuthUser>, AppError> {
    let uid: Option<i64> = session.get(SESSION_USER_ID).await.map_err(session_err)?;
    let auth_at: Option<i64> = session.get(SESSION_AUTH_AT).await.map_err(session_err)?;
    let epoch: Option<i32> = session.get(SESSION_EPOCH).await.map_err(session_err)?;
    let (Some(uid), Some(auth_at), Some(epoch)) = (uid, auth_at, epoch) else {
        return Ok(None);
    };
    let record = crate::db::users::get_for_session(&state.pool, UserId(uid)).await?;
    let valid = record.as_ref().is_some_and(|r| {
        session_is_valid(
            OffsetDateTime::now_utc().unix_timestamp(),
            auth_at,
            state.auth.session_absolute,
            epoch == r.session_epoch,
            r.disabled,
        )
    });
    match record {
        Some(r) if valid => Ok(Some(r.user)),
        _ => {
            session.flush().await.map_err(session_err)?;
            Ok(None)
        }
    }
}

/// A session signed in at `auth_at` (Unix seconds) is valid at `now` while it is younger than
/// the absolute lifetime, its epoch is the user's current one (no password change, reset or
/// disable since), and the user is enabled. (The idle expiry is the session store's: an idle
/// session is gone from the table.)
pub fn session_is_valid(
    now: i64,
    auth_at: i64,
    absolute: time::Duration,
    same_epoch: bool,
    disabled: bool,
) -> bool {
    !disabled && same_epoch && now - auth_at <= absolute.whole_seconds()
}

/// The signed-in user, or `Unauthorized`.
pub async fn require_user(state: &AppState) -> Result<AuthUser, AppError> {
    current_user(state).await?.ok_or(AppError::Unauthorized)
}

pub fn session_err(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store error");
    AppError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_at_the_absolute_limit_and_on_credential_change() {
        let day = time::Duration::days(1);
        let t0 = 1_800_000_000;
        assert!(session_is_valid(t0 + 86_400, t0, day, true, false));
        assert!(!session_is_valid(t0 + 86_401, t0, day, true, false));
        assert!(!session_is_valid(t0 + 5, t0, day, false, false));
        assert!(!session_is_valid(t0 + 5, t0, day, true, true));
    }

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let hash = hash_password("correct horse battery staple").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(&hash), "correct horse battery staple"));
        assert!(!verify_password(
            Some(&hash),
            "correct horse battery stapler"
        ));
        assert!(!verify_password(None, "anything at all"));
        assert!(!verify_password(Some("not a phc string"), "x"));
    }
}
