//! The agent listener (`AGENT_LISTEN`): where enrolled edge agents push, over mutual TLS.
//!
//! - `ca.rs`: the installation's agent CA (created once, its key sealed with the master key).
//! - `listener.rs`: the TLS accept loop; it hands each request the SHA-256 of the client's
//!   certificate.
//! - `api.rs`: the routes of `telemetry::enroll` and the ingest route with certificate auth.
//! - `assignment.rs`: `telemetry::assignment`, what an agent polls, with its credentials.
//!
//! An agent is known by the SHA-256 of its one current certificate (`agent.certificate_sha256`),
//! looked up on every request: revoking an agent, renewing its certificate or enrolling it
//! again takes effect on the next request, without CRLs. The web listener's bearer-token ingest
//! (issue 6) stays for tools and tests that push without enrolling.

pub mod api;
pub mod assignment;
pub mod ca;
pub mod listener;

use std::sync::Arc;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::ingest::IngestState;
use app::crypto::MasterKey;
use ca::AgentCa;

/// What the agent API's handlers share.
#[derive(Clone)]
pub struct AgentApi {
    pub pool: PgPool,
    pub ca: Arc<AgentCa>,
    pub cert_lifetime: time::Duration,
    pub ingest: IngestState,
    /// Opens the credential profiles an agent is sent.
    pub master: Arc<MasterKey>,
}

/// The agent API's routes.
pub fn routes(api: AgentApi) -> Router {
    let small = tower_http::limit::RequestBodyLimitLayer::new(api::MAX_JSON_BYTES);
    Router::new()
        .route(telemetry::enroll::CA_PATH, get(api::ca))
        .route(
            telemetry::enroll::ENROLL_PATH,
            post(api::enroll).layer(small),
        )
        .route(telemetry::enroll::RENEW_PATH, post(api::renew).layer(small))
        .route(
            telemetry::enroll::STATUS_PATH,
            post(api::status).layer(small),
        )
        .route(
            telemetry::assignment::ASSIGNMENT_PATH,
            get(assignment::assignment),
        )
        .route(telemetry::INGEST_PATH, post(api::batch))
        // The ingest handler reads the body itself, against INGEST_MAX_BODY_BYTES.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(api)
}

/// A bound agent listener, ready to serve.
pub struct AgentListener {
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
}

impl AgentListener {
    /// Loads (or creates) the CA, issues the listener's certificate and binds `AGENT_LISTEN`;
    /// `None` when the listener is off. It needs the master key (checked by the caller against
    /// the database first).
    pub async fn bind(
        config: &Config,
        pool: &PgPool,
        ingest: IngestState,
    ) -> anyhow::Result<Option<AgentListener>> {
        let Some(addr) = config.agents.listen else {
            return Ok(None);
        };
        let master = config.encryption_master_key.clone().context(
            "AGENT_LISTEN: the agent listener needs ENCRYPTION_MASTER_KEY_FILE (its CA key is \
             sealed with it)",
        )?;
        let ca = AgentCa::load_or_create(pool, &master).await?;
        let tls =
            listener::tls_config(&ca, &config.agents.tls_names).context("agent listener TLS")?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("AGENT_LISTEN: cannot listen on {addr}"))?;
        tracing::info!(
            addr = %listener.local_addr()?,
            url = config.agents.public_url.as_deref().unwrap_or("(unset)"),
            ca.sha256 = hex::encode(ca.sha256),
            "agent listener ready"
        );
        let router = routes(AgentApi {
            pool: pool.clone(),
            ca,
            cert_lifetime: time::Duration::days(i64::from(config.agents.cert_days)),
            ingest,
            master,
        });
        Ok(Some(AgentListener {
            listener,
            tls,
            router,
        }))
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown`.
    pub async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        listener::serve(self.listener, self.tls, self.router, shutdown).await
    }
}
