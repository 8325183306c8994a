//! Server-side state every server function and route reads: the pool, auth settings and the
//! master key. Built by the server crate's startup and provided as Leptos context and axum state.

use sqlx::PgPool;
use std::sync::Arc;
use time::Duration;

use crate::auth::throttle::ThrottlePolicy;
use crate::crypto::MasterKey;
use crate::db::topology::GraphCache;
use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct AppState {
    pub pool: PgPool,
    pub auth: AuthSettings,
    pub leptos_options: leptos::config::LeptosOptions,
    /// The key credential secrets are sealed with (`ENCRYPTION_MASTER_KEY_FILE`), checked against
    /// the database at start-up; `None` when unset (credentials then cannot be used).
    pub secrets: Option<Arc<MasterKey>>,
    /// Each tenant's dependency graph, reloaded when its inventory changed.
    pub graphs: GraphCache,
    /// The agent listener's URL as agents reach it (`AGENT_PUBLIC_URL`), shown with a new
    /// enrollment token; `None` when the listener is off.
    pub agent_url: Option<String>,
}

impl AppState {
    /// The master key, or the error that tells the operator to configure one.
    pub fn master_key(&self) -> Result<&MasterKey, AppError> {
        self.secrets.as_deref().ok_or_else(|| {
            AppError::Unavailable(
                "no master key configured: set ENCRYPTION_MASTER_KEY_FILE and restart ispvm".into(),
            )
        })
    }
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
