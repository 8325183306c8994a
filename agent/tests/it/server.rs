//! A small real ingest server for the store-and-forward tests: axum on 127.0.0.1, port 0 the
//! first time, the same port after a restart. It speaks the v1 contract (bearer token, gzip,
//! `duplicate: true` for a batch id it has taken) and can be scripted to answer 503, 429,
//! 400, or to take a batch and then fail the answer (so the agent's retry must be deduplicated).

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use telemetry::{Batch, IngestResponse, Tally};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::*;

pub const TOKEN: &str = "test-token";

/// What the server answers next; after the script, `Ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Unavailable,
    Busy,
    BadRequest,
    /// Takes the batch, then answers 500 as if the answer was lost.
    TakeThenFail,
}

#[derive(Debug, Default)]
pub struct Record {
    /// Batch id → how many times it was written (must end at 1 each).
    pub written: HashMap<Uuid, u32>,
    pub order: Vec<Uuid>,
    pub samples: u64,
    pub duplicates: u32,
    pub refused: u32,
    pub unauthorized: u32,
    pub script: VecDeque<Answer>,
}

#[derive(Debug)]
pub struct Ingest {
    pub record: Mutex<Record>,
    /// How many distinct batches have been written.
    pub written: watch::Sender<usize>,
}

impl Ingest {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            record: Mutex::new(Record::default()),
            written: watch::channel(0).0,
        })
    }

    pub fn script(&self, answers: &[Answer]) {
        self.record.lock().expect("lock").script.extend(answers);
    }

    /// Waits until `n` distinct batches have been written (at most 30 s).
    pub async fn wait_written(&self, n: usize) {
        let mut rx = self.written.subscribe();
        tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|w| *w >= n))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{n} batches not written in 30 s: {:?}",
                    self.record.lock().expect("lock").written.len()
                )
            })
            .expect("sender alive");
    }
}

async fn receive(State(ingest): State<Arc<Ingest>>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        ingest.record.lock().expect("lock").unauthorized += 1;
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":"unauthorized","message":"token"}"#,
        )
            .into_response();
    }
    assert_eq!(
        headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut json)
        .expect("gzip body");
    let batch = Batch::from_json(&json).expect("a v1 batch");
    let mut record = ingest.record.lock().expect("lock");
    let answer = record.script.pop_front().unwrap_or(Answer::Ok);
    let error = |status: StatusCode, code: &str| {
        (
            status,
            format!(r#"{{"error":"{code}","message":"scripted"}}"#),
        )
            .into_response()
    };
    match answer {
        Answer::Unavailable => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
            r.headers_mut()
                .insert("retry-after", "0".parse().expect("header"));
            return r;
        }
        Answer::Busy => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "busy");
            r.headers_mut()
                .insert("retry-after", "0".parse().expect("header"));
            return r;
        }
        Answer::BadRequest => {
            record.refused += 1;
            return error(StatusCode::BAD_REQUEST, "malformed");
        }
        Answer::Ok | Answer::TakeThenFail => {}
    }
    let count = record.written.entry(batch.batch_id).or_insert(0);
    let duplicate = *count > 0;
    if duplicate {
        record.duplicates += 1;
    } else {
        *count = 1;
        record.order.push(batch.batch_id);
        record.samples += batch.samples.len() as u64;
    }
    let distinct = record.written.len();
    drop(record);
    ingest.written.send_replace(distinct);
    if answer == Answer::TakeThenFail {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "lost");
    }
    let response = IngestResponse {
        batch_id: batch.batch_id,
        duplicate,
        samples: Tally {
            accepted: if duplicate {
                0
            } else {
                batch.samples.len() as u64
            },
            ..Tally::default()
        },
        events: Tally::default(),
    };
    axum::Json(response).into_response()
}

/// A running server; `stop` closes the listener and every connection.
pub struct Running {
    pub address: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

pub async fn start(ingest: Arc<Ingest>, address: SocketAddr) -> Running {
    let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
    serve(ingest, listener)
}

/// Serves again on the address `stopped` kept bound (so no other test could take it).
pub async fn restart(ingest: Arc<Ingest>, stopped: Stopped) -> Running {
    let Stopped { address, hold } = stopped;
    drop(hold);
    let listener = bind_again(address, |address| {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(1_024)
    })
    .await;
    serve(ingest, listener)
}

fn serve(ingest: Arc<Ingest>, listener: tokio::net::TcpListener) -> Running {
    let address = listener.local_addr().expect("address");
    let app = axum::Router::new()
        .route(telemetry::INGEST_PATH, axum::routing::post(receive))
        .with_state(ingest);
    let stop = CancellationToken::new();
    let signal = stop.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { signal.cancelled().await })
            .await
            .expect("serve");
    });
    Running {
        address,
        stop,
        task,
    }
}

/// Binds `address` with `bind`, retrying for up to 10 s while it is not free yet.
async fn bind_again<T>(address: SocketAddr, bind: impl Fn(SocketAddr) -> std::io::Result<T>) -> T {
    let mut tries = 0;
    loop {
        match bind(address) {
            Ok(bound) => return bound,
            Err(e) if tries < 100 => {
                tries += 1;
                tracing::debug!(%address, error = %e, "address not free yet");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("binding {address} again: {e}"),
        }
    }
}

/// A stopped server's address, still bound but not listening: connections to it are refused
/// (the agent sees the server down), and no other test can take the port meanwhile.
pub struct Stopped {
    pub address: SocketAddr,
    hold: tokio::net::TcpSocket,
}

impl Running {
    pub async fn stop(self) -> Stopped {
        self.stop.cancel();
        self.task.await.expect("server task");
        let hold = bind_again(self.address, |address| {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(address)?;
            Ok(socket)
        })
        .await;
        Stopped {
            address: self.address,
            hold,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}{}", self.address, telemetry::INGEST_PATH)
    }
}
