//! The agent API's handlers (`telemetry::enroll`): the CA download, enrollment, renewal,
//! status reports and ingest with a client certificate. Every failure is one [`AgentError`],
//! answered as `{"error": code, "message": …}` like the ingest API's.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use telemetry::enroll::{AgentStatus, CertificateResponse, EnrollRequest, RenewRequest};
use telemetry::{ErrorResponse, UnixMs};

use app::db::agents::{AgentIdentity, CertificateOwner, TokenRefused};
use app::model::user::TenantId;

use super::ca::IssueError;
use super::listener::ClientCertificate;
use super::AgentApi;
use crate::ingest::receive::{self, IngestError};
use crate::ingest::store::Sender;

/// Enrollment, renewal and status bodies are small; batches have their own limit.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("this request needs the agent's client certificate: enroll the agent first (`ispvm-agent enroll`)")]
    NoCertificate,
    #[error("this certificate is no longer the agent's (it was renewed or the agent enrolled again); use the newest one")]
    Replaced,
    #[error("the agent `{0}` has been revoked on the server; enroll it again with a new token")]
    Revoked(String),
    #[error("not an enrollment token: {0}")]
    BadToken(String),
    #[error(transparent)]
    TokenRefused(#[from] TokenRefused),
    #[error("{0}")]
    BadCsr(String),
    #[error("the body is not valid JSON for this request: {0}")]
    Malformed(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AgentError {
    fn status(&self) -> StatusCode {
        match self {
            AgentError::NoCertificate | AgentError::Replaced | AgentError::TokenRefused(_) => {
                StatusCode::UNAUTHORIZED
            }
            AgentError::Revoked(_) => StatusCode::FORBIDDEN,
            AgentError::BadToken(_) | AgentError::BadCsr(_) | AgentError::Malformed(_) => {
                StatusCode::BAD_REQUEST
            }
            AgentError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AgentError::NoCertificate => "unauthorized",
            AgentError::Replaced => "certificate_replaced",
            AgentError::Revoked(_) => "revoked",
            AgentError::BadToken(_) => "bad_token",
            AgentError::TokenRefused(_) => "token_refused",
            AgentError::BadCsr(_) => "bad_csr",
            AgentError::Malformed(_) => "malformed",
            AgentError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        match &self {
            AgentError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "agent API failed")
            }
            other => tracing::info!(code = other.code(), reason = %other, "agent request refused"),
        }
        let body = ErrorResponse {
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> AgentError {
    AgentError::Internal(anyhow::anyhow!("{e}"))
}

impl From<app::error::AppError> for AgentError {
    fn from(e: app::error::AppError) -> Self {
        // The cause was logged where the AppError was made.
        internal(e)
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, AgentError> {
    serde_json::from_slice(body).map_err(|e| AgentError::Malformed(e.to_string()))
}

fn certificate_response(
    agent: &AgentIdentity,
    issued: &super::ca::Issued,
    ca_pem: &str,
) -> CertificateResponse {
    CertificateResponse {
        agent_id: agent.id,
        name: agent.name.clone(),
        certificate_pem: issued.pem.clone(),
        ca_pem: ca_pem.to_owned(),
        not_before: UnixMs::from_datetime(issued.not_before),
        not_after: UnixMs::from_datetime(issued.not_after),
    }
}

fn issue_error(e: IssueError) -> AgentError {
    match e {
        IssueError::BadCsr(bad) => AgentError::BadCsr(bad.to_string()),
        IssueError::Sign(e) => internal(e),
    }
}

/// The live agent presenting the connection's certificate.
pub(super) async fn caller(
    api: &AgentApi,
    cert: ClientCertificate,
) -> Result<AgentIdentity, AgentError> {
    let sha = cert.0.ok_or(AgentError::NoCertificate)?;
    match app::db::agents::by_certificate(&api.pool, &sha).await? {
        CertificateOwner::Live(agent) => Ok(agent),
        CertificateOwner::Revoked { name } => Err(AgentError::Revoked(name)),
        CertificateOwner::Unknown => Err(AgentError::Replaced),
    }
}

/// `GET /api/agent/v1/ca`.
pub async fn ca(State(api): State<AgentApi>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        api.ca.pem.clone(),
    )
        .into_response()
}

/// `POST /api/agent/v1/enroll`: spend the token, issue the certificate, remember it as the
/// agent's only one, all in one transaction.
pub async fn enroll(
    State(api): State<AgentApi>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<CertificateResponse>, AgentError> {
    let request: EnrollRequest = parse(&body)?;
    let secret = request.token.trim();
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AgentError::BadToken(
            "expected the 64 hex digits of the token's secret part".into(),
        ));
    }
    let version: String = request.version.chars().take(64).collect();
    let from = peer.ip().to_string();
    let sha = app::crypto::token_digest(&secret.to_ascii_lowercase());
    let mut tx = api.pool.begin().await.map_err(internal)?;
    let agent = app::db::agents::spend_token(&mut tx, &sha, &from).await??;
    let issued = api
        .ca
        .issue_agent(&request.csr_pem, agent.id, api.cert_lifetime)
        .map_err(issue_error)?;
    app::db::agents::set_enrolled_certificate(
        &mut *tx,
        agent.id,
        &issued.sha256,
        issued.not_after,
        &version,
        &from,
    )
    .await?;
    audit(
        &mut tx,
        &agent,
        "agent.enrolled",
        &from,
        json!({ "version": version }),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(agent.id = %agent.id, agent.name = %agent.name, %peer, "agent enrolled");
    Ok(Json(certificate_response(&agent, &issued, &api.ca.pem)))
}

/// `POST /api/agent/v1/renew`: a new certificate for the caller's new key. The presented one
/// keeps working until the new one is first used, so an answer lost on the way cannot lock
/// the agent out: it renews again with the one it still has.
pub async fn renew(
    State(api): State<AgentApi>,
    Extension(cert): Extension<ClientCertificate>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Json<CertificateResponse>, AgentError> {
    let agent = caller(&api, cert).await?;
    let presented = cert.0.ok_or(AgentError::NoCertificate)?;
    let request: RenewRequest = parse(&body)?;
    let issued = api
        .ca
        .issue_agent(&request.csr_pem, agent.id, api.cert_lifetime)
        .map_err(issue_error)?;
    let mut tx = api.pool.begin().await.map_err(internal)?;
    app::db::agents::set_renewed_certificate(
        &mut *tx,
        agent.id,
        &issued.sha256,
        issued.not_after,
        &presented,
    )
    .await?;
    let from = peer.ip().to_string();
    audit(
        &mut tx,
        &agent,
        "agent.certificate_renewed",
        &from,
        json!({ "not_after": app::db::rfc3339(issued.not_after) }),
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(agent.id = %agent.id, agent.name = %agent.name, "agent certificate renewed");
    Ok(Json(certificate_response(&agent, &issued, &api.ca.pem)))
}

/// `POST /api/agent/v1/status`.
pub async fn status(
    State(api): State<AgentApi>,
    Extension(cert): Extension<ClientCertificate>,
    body: Bytes,
) -> Result<StatusCode, AgentError> {
    let agent = caller(&api, cert).await?;
    let mut report: AgentStatus = parse(&body)?;
    report.version = report.version.chars().take(64).collect();
    app::db::agents::record_status(&api.pool, agent.id, &report).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/ingest/v1/batches` on the agent listener: the ingest route, authenticated by the
/// client certificate instead of a bearer token.
pub async fn batch(
    State(api): State<AgentApi>,
    Extension(cert): Extension<ClientCertificate>,
    request: Request,
) -> Response {
    let agent = match caller(&api, cert).await {
        Ok(agent) => agent,
        Err(e) => return e.into_response(),
    };
    let sender = Sender {
        tenant_id: agent.tenant_id,
        token_id: None,
        agent_id: Some(agent.id),
    };
    match receive::receive(&api.ingest, sender, request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => IngestError::into_response(e),
    }
}

/// An audit row for something an agent did (no user acts).
async fn audit(
    conn: &mut sqlx::PgConnection,
    agent: &AgentIdentity,
    action: &str,
    from: &str,
    detail: serde_json::Value,
) -> Result<(), AgentError> {
    let mut detail = detail;
    detail["agent_id"] = json!(agent.id.to_string());
    app::db::audit::record(
        &mut *conn,
        &app::db::audit::Event {
            tenant: Some(TenantId(agent.tenant_id)),
            actor: None,
            actor_username: "(agent)",
            action,
            target: &agent.name,
            detail,
            source_ip: Some(from),
        },
    )
    .await?;
    Ok(())
}
