//! Builds the state and the router, checks the master key against the database, and serves.
//! Tests call the same functions and serve on port 0.

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
use app::db::topology::GraphCache;
use app::state::{AppState, AuthSettings};

use crate::config::Config;
use crate::{http, ingest, keys};

/// Largest request body outside the ingest API: forms and server-function arguments are small.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let url = config.database_url()?;
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        // Read by the migration that chooses the telemetry storage mode.
        .options([("ispvm.storage_mode", config.telemetry.storage.as_str())]);
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
        secrets: config.encryption_master_key.clone(),
        graphs: GraphCache::default(),
        agent_url: config.agents.listen.and(config.agents.public_url.clone()),
    })
}

/// How the configured master key stands against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// No key is configured. Credentials cannot be used; `sealed_profiles` already exist.
    NoKey { sealed_profiles: i64 },
    /// The key opens the database's key-check row: it is the key the secrets were sealed with.
    Matches,
    /// The first start with a key: its key-check row was written.
    Recorded,
}

/// Run before serving (`keys rotate` makes the same checks in its transaction): proves that the
/// configured key is the one the database's secrets were sealed with, or records it on the first
/// start. A wrong key is an error naming `ENCRYPTION_MASTER_KEY_FILE` and both fingerprints, and
/// nothing is written. Without a key this only warns (when secrets exist): everything but
/// credentials works.
pub async fn check_master_key(pool: &PgPool, config: &Config) -> anyhow::Result<KeyCheck> {
    let db_err = |e: app::error::AppError| anyhow::anyhow!("check the master key: {e}");
    let (Some(key), Some(path)) = (
        config.encryption_master_key.as_deref(),
        config.encryption_master_key_file.as_deref(),
    ) else {
        let sealed_profiles = app::db::credentials::count_all(pool)
            .await
            .map_err(db_err)?;
        if sealed_profiles > 0 {
            tracing::warn!(
                sealed_profiles,
                "ENCRYPTION_MASTER_KEY_FILE is not set: credential profiles cannot be used or \
                 changed until it is (everything else runs)"
            );
        } else {
            tracing::info!(
                "no master key configured (ENCRYPTION_MASTER_KEY_FILE): credential profiles \
                 cannot be created"
            );
        }
        return Ok(KeyCheck::NoKey { sealed_profiles });
    };
    if let Some(check) = app::db::encryption_key::get(pool).await.map_err(db_err)? {
        keys::verify_check(path, key, &check)?;
        tracing::info!(key.fingerprint = key.fingerprint(), "master key checked");
        return Ok(KeyCheck::Matches);
    }
    // No key recorded yet: this one becomes it, unless secrets sealed by another key exist.
    keys::verify_profiles_sealed_by(
        path,
        key,
        &app::db::credentials::fingerprints_in_use(pool)
            .await
            .map_err(db_err)?,
    )?;
    let blob = app::crypto::seal_key_check(key).context("seal the key check")?;
    if app::db::encryption_key::insert_first(pool, key.fingerprint(), &blob)
        .await
        .map_err(db_err)?
    {
        tracing::info!(
            key.fingerprint = key.fingerprint(),
            "master key recorded (the first start with ENCRYPTION_MASTER_KEY_FILE)"
        );
        return Ok(KeyCheck::Recorded);
    }
    // Another process recorded a key at the same moment: this key must be that one.
    let check = app::db::encryption_key::get(pool)
        .await
        .map_err(db_err)?
        .context("the key check row disappeared")?;
    keys::verify_check(path, key, &check)?;
    Ok(KeyCheck::Matches)
}

/// The inventory's CSV upload and exports: plain routes with their own body limit (the
/// upload is far larger than a form).
fn inventory_files(state: AppState) -> Router {
    Router::new()
        .route(
            "/inventory/import/upload",
            axum::routing::post(http::import::upload),
        )
        .route("/inventory/export/{file}", get(http::import::export))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            http::import::MAX_UPLOAD_BODY,
        ))
}

/// The whole HTTP surface of the web listener: Leptos pages and server functions, health,
/// static files, bearer-token ingest (sharing `ingest` with the agent listener).
pub fn router(config: &Config, state: AppState, ingest: ingest::IngestState) -> Router {
    let sessions = SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name("ispvm_session")
        .with_secure(config.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(state.auth.session_idle));

    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    let ctx_state = state.clone();
    // Paths that are neither routes nor files (a browser's /favicon.ico, say) render the 404
    // page, which needs the state like any page.
    let fallback_state = state.clone();
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
        .fallback(leptos_axum::file_and_error_handler_with_context(
            move || provide_context(fallback_state.clone()),
            app::shell,
        ))
        .with_state(leptos_options)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_FORM_BYTES,
        ))
        .merge(inventory_files(state.clone()))
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
        .merge(ingest::routes(ingest))
        .merge(site)
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
