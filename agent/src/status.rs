//! The local status endpoint: `GET /status` answers the agent's counters and its buffer as
//! JSON, for the POP's own monitoring and for a technician on the box (`curl
//! 127.0.0.1:9108/status`). hyper's HTTP/1 server directly (already in the tree under
//! reqwest): one read-only route does not need a web framework. An enrolled agent also
//! reports the same state to the server ([`report`]).

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::queue::Queue;
use crate::stats::Stats;

pub mod report;

pub use report::{send_status, status_report};

/// What `GET /status` answers.
#[derive(Debug, Serialize)]
pub struct Status {
    pub agent: String,
    pub version: &'static str,
    pub buffer: Buffer,
    /// Unix ms of the last batch the server took; `null` before the first.
    pub last_push_at_ms: Option<i64>,
    pub polls_ok: u64,
    pub polls_failed: u64,
    pub sealed_batches: u64,
    pub sent_batches: u64,
    pub rejected_samples: u64,
    pub dropped_batches: u64,
    pub dropped_samples: u64,
    pub dead_letter_batches: u64,
    pub corrupt_batches: u64,
    pub unbuffered_samples: u64,
    /// Routers, SNMP devices and probes being polled.
    pub targets: u64,
    /// The server's assignment being polled; `null` with a fleet file.
    pub assignment: Option<AssignmentStatus>,
}

#[derive(Debug, Serialize)]
pub struct AssignmentStatus {
    pub revision: String,
    /// Unix ms of the server's last answer; `null` while polling the cached assignment.
    pub fetched_at_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Buffer {
    pub batches: usize,
    pub bytes: u64,
    /// Unix ms at which the oldest unsent batch was sealed (its samples are at most a batch
    /// interval older); `null` when the buffer is empty.
    pub oldest_sealed_at_ms: Option<i64>,
}

pub fn status(agent: &str, queue: &Queue, stats: &Stats) -> Status {
    let (batches, bytes) = queue.depth();
    let get = Stats::get;
    Status {
        agent: agent.to_owned(),
        version: crate::run::VERSION,
        buffer: Buffer {
            batches,
            bytes,
            oldest_sealed_at_ms: queue.oldest().map(|e| e.sealed_at_ms),
        },
        last_push_at_ms: stats.last_push_ms(),
        polls_ok: get(&stats.polls_ok),
        polls_failed: get(&stats.polls_failed),
        sealed_batches: get(&stats.sealed_batches),
        sent_batches: get(&stats.sent_batches),
        rejected_samples: get(&stats.rejected_samples),
        dropped_batches: get(&stats.dropped_batches),
        dropped_samples: get(&stats.dropped_samples),
        dead_letter_batches: get(&stats.dead_letter_batches),
        corrupt_batches: get(&stats.corrupt_batches),
        unbuffered_samples: get(&stats.unbuffered_samples),
        targets: get(&stats.targets),
        assignment: stats.assignment().map(|a| AssignmentStatus {
            revision: a.revision,
            fetched_at_ms: a.fetched_at_ms,
        }),
    }
}

fn answer(code: StatusCode, json: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(json)));
    *response.status_mut() = code;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves `GET /status` on `listener` until `cancel`.
pub async fn serve(
    listener: TcpListener,
    agent: String,
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) {
    let agent = Arc::new(agent);
    loop {
        let stream = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "status endpoint: accept failed");
                    continue;
                }
            },
        };
        let (agent, queue, stats) = (agent.clone(), queue.clone(), stats.clone());
        let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let response = match (request.method(), request.uri().path()) {
                (&Method::GET, "/status") => {
                    let body = serde_json::to_string(&status(&agent, &queue, &stats))
                        .unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#));
                    answer(StatusCode::OK, body)
                }
                (_, "/status") => answer(
                    StatusCode::METHOD_NOT_ALLOWED,
                    r#"{"error":"method_not_allowed","message":"only GET /status"}"#.into(),
                ),
                _ => answer(
                    StatusCode::NOT_FOUND,
                    r#"{"error":"not_found","message":"the status is at GET /status"}"#.into(),
                ),
            };
            async move { Ok::<_, Infallible>(response) }
        });
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "status endpoint: connection ended");
            }
        });
    }
}
