//! Server-side state every server function and route reads: the pool and auth settings. Built
//! by the server crate's startup and provided as Leptos context and axum state.

use sqlx::PgPool;
use time::Duration;

use crate::auth::throttle::ThrottlePolicy;

#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub auth: AuthSettings,
    pub leptos_options: leptos::config::LeptosOptions,
}

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// A session unused this long ends (sliding).
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    pub throttle: ThrottlePolicy,
}

/// The state from the Leptos context of the current request.
pub fn use_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        crate::error::AppError::Internal
    })
}
