//! Builds the state and the router, and serves it. Tests call `build` and serve on port 0.

use anyhow::Context;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::str::FromStr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use app::auth::throttle::ThrottlePolicy;
use app::state::{AppState, AuthSettings};

use crate::config::Config;
use crate::http;

/// Largest request body outside the ingest API: forms and server-function arguments are small.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let url = config.database_url()?;
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("connect to the database at DATABASE_URL")
}

pub fn state(config: &Config, pool: PgPool) -> anyhow::Result<AppState> {
    let to_time =
        |d: std::time::Duration| time::Duration::try_from(d).context("duration out of range");
    Ok(AppState {
        pool,
        auth: AuthSettings {
            session_idle: to_time(config.session_idle)?,
            session_absolute: to_time(config.session_absolute)?,
            throttle: ThrottlePolicy {
                window: to_time(config.login_window)?,
                max_failures_per_account: config.login_max_failures_per_account,
                max_failures_per_ip: config.login_max_failures_per_ip,
            },
        },
        leptos_options: LeptosOptions::builder()
            .output_name("ispvm")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.listen_addr)
            .build(),
    })
}

/// The whole HTTP surface: Leptos pages and server functions, health, static files.
pub fn router(config: &Config, state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name("ispvm_session")
        .with_secure(config.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(state.auth.session_idle));

    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    let ctx_state = state.clone();
    let site = Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(ctx_state.clone()),
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options)
        .layer(axum::middleware::map_response(
            http::server_fn_status::correct,
        ))
        .layer(axum::middleware::from_fn_with_state(
            http::csrf::AllowedOrigin::new(&config.public_base_url),
            http::csrf::check,
        ))
        .layer(sessions);

    Router::new()
        .route("/healthz", get(http::health::healthz))
        .route(
            "/readyz",
            get(http::health::readyz).with_state(state.pool.clone()),
        )
        .merge(site)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_FORM_BYTES,
        ))
        .layer(CatchPanicLayer::custom(http::panic::handle))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_FRAME_OPTIONS,
            axum::http::HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("same-origin"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // TCP_NODELAY: a page leaves in several writes; with Nagle's algorithm and the client's
    // delayed ACK, every other response stalled ~40 ms (seen as a bimodal p95 in the benchmark).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
    .context("http server")
}
