//! The handler of `POST /api/ingest/v1/batches`: authenticate the agent, read the body within
//! `INGEST_MAX_BODY_BYTES`, take a writer permit (or answer 429), decompress within the cap,
//! decode and validate (off the async threads), write. Every failure is one [`IngestError`],
//! answered as `{"error": code, "message": …}`.

use std::io::Read;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use time::OffsetDateTime;

use telemetry::{Batch, BatchError, ErrorResponse, UnixMs, Validated};

use super::store::{self, Sender};
use super::{token, write, IngestState};
use crate::config::DECOMPRESSION_FACTOR;

/// Why a batch was refused as a whole. Nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("missing, unknown or revoked agent token (send `Authorization: Bearer <token>`)")]
    Unauthorized,
    #[error("the body is over {limit} bytes (INGEST_MAX_BODY_BYTES); send smaller batches")]
    BodyTooLarge { limit: usize },
    #[error(
        "the body decompresses to more than {limit} bytes ({DECOMPRESSION_FACTOR} × \
         INGEST_MAX_BODY_BYTES); send smaller batches"
    )]
    DecompressedTooLarge { limit: usize },
    #[error("Content-Encoding `{0}` is not supported; send gzip or identity")]
    UnsupportedEncoding(String),
    #[error("the body is not valid gzip: {0}")]
    BadGzip(String),
    #[error("the writer is busy; retry after {retry_after_s} s")]
    Busy { retry_after_s: u64 },
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl IngestError {
    fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized => StatusCode::UNAUTHORIZED,
            IngestError::BodyTooLarge { .. } | IngestError::DecompressedTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IngestError::BadGzip(_) | IngestError::Batch(_) => StatusCode::BAD_REQUEST,
            IngestError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            IngestError::Unauthorized => "unauthorized",
            IngestError::BodyTooLarge { .. } => "body_too_large",
            IngestError::DecompressedTooLarge { .. } => "decompressed_too_large",
            IngestError::UnsupportedEncoding(_) => "unsupported_encoding",
            IngestError::BadGzip(_) => "malformed",
            IngestError::Busy { .. } => "busy",
            IngestError::Batch(e) => e.code(),
            IngestError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        if let IngestError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "ingest failed");
        }
        let body = ErrorResponse {
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let IngestError::Busy { retry_after_s } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

fn internal(e: impl Into<anyhow::Error>) -> IngestError {
    IngestError::Internal(e.into())
}

/// `POST /api/ingest/v1/batches` on the web listener, with a bearer token.
pub async fn batch(State(state): State<IngestState>, request: Request) -> Response {
    let answer = match authenticate(&state, request.headers()).await {
        Ok(sender) => receive(&state, sender, request).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A batch from an authenticated `owner` (a bearer token here, a client certificate on the
/// agent listener).
pub async fn receive(
    state: &IngestState,
    owner: Sender,
    request: Request,
) -> Result<telemetry::IngestResponse, IngestError> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let gzip = match parts
        .headers
        .get(header::CONTENT_ENCODING)
        .map(|v| {
            v.to_str()
                .unwrap_or("(not text)")
                .trim()
                .to_ascii_lowercase()
        })
        .as_deref()
    {
        None | Some("identity") | Some("") => false,
        Some("gzip") | Some("x-gzip") => true,
        Some(other) => return Err(IngestError::UnsupportedEncoding(other.to_owned())),
    };
    let body = read_body(body, &parts.headers, state.settings.max_body_bytes).await?;
    let _permit = tokio::time::timeout(state.permit_wait, state.writers.clone().acquire_owned())
        .await
        .map_err(|_| IngestError::Busy { retry_after_s: 1 })?
        .map_err(internal)?;

    let now = OffsetDateTime::now_utc();
    let limit = state.settings.max_body_bytes * DECOMPRESSION_FACTOR;
    let decode_state = state.clone();
    let validated = tokio::task::spawn_blocking(move || -> Result<Validated, IngestError> {
        let json = if gzip {
            gunzip(&body, limit)?
        } else {
            body.to_vec()
        };
        let batch = Batch::from_json(&json)?;
        Ok(telemetry::validate(
            batch,
            &decode_state.registry,
            UnixMs::from_datetime(now),
            &decode_state.limits,
        )?)
    })
    .await
    .map_err(internal)??;
    let agent = validated.agent.name.clone();
    let answer = write::write_batch(state, owner, validated, now)
        .await
        .map_err(IngestError::Internal)?;
    tracing::debug!(
        agent.name = agent,
        tenant.id = owner.tenant_id,
        batch.id = %answer.batch_id,
        duplicate = answer.duplicate,
        samples.accepted = answer.samples.accepted,
        samples.rejected = answer.samples.rejected_total(),
        duration_ms = started.elapsed().as_millis() as u64,
        "batch ingested"
    );
    Ok(answer)
}

async fn authenticate(state: &IngestState, headers: &HeaderMap) -> Result<Sender, IngestError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(token::from_header)
        .ok_or(IngestError::Unauthorized)?;
    store::find_token(&state.pool, &app::crypto::token_digest(token))
        .await
        .map_err(internal)?
        .ok_or(IngestError::Unauthorized)
}

/// The body, refused early by its Content-Length and cut off at `limit` bytes otherwise.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, IngestError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(IngestError::BodyTooLarge { limit });
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(IngestError::BodyTooLarge { limit })
        }
        Err(e) => Err(IngestError::Batch(BatchError::Malformed(format!(
            "the body could not be read: {e}"
        )))),
    }
}

/// Decompresses at most `limit` bytes; more is a gzip bomb (or an oversized batch).
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(8).min(limit));
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::BadGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(IngestError::DecompressedTooLarge { limit });
    }
    Ok(out)
}
