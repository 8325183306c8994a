//! Telemetry ingest and storage: `POST /api/ingest/v1/batches` (receive → validate → write),
//! the raw partitions, the 1m/1h/1d rollups and retention (plain-PostgreSQL mode), and
//! TimescaleDB mode's policies (`timescale.rs`).
//!
//! The contract (wire types, validation) is the `telemetry` crate; this module adds what needs
//! the database: agent tokens, device lookup in the agent's tenant, series identity, the write
//! transaction, partitions, rollups, retention.
//!
//! **Where the SQL lives.** Every statement of the ingest path is in this module tree
//! (`store.rs`, `neighbor.rs`, `rollup.rs`, `maintenance.rs`), not in `app/src/db/`: the write path uses
//! binary `COPY`, its benchmark calls the same functions, and none of it is reachable from a
//! server function. ARCHITECTURE.md states the exception.

pub mod histogram;
pub mod maintenance;
mod neighbor;
pub mod receive;
pub mod rollup;
mod series;
pub mod store;
pub mod timescale;
pub mod token;
pub mod write;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use hashbrown::HashMap;
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::config::TelemetryConfig;
use timescale::StorageMode;

/// What the ingest route shares between requests.
#[derive(Clone)]
pub struct IngestState {
    pub pool: PgPool,
    pub settings: TelemetryConfig,
    /// In TimescaleDB mode the write path makes no partitions and marks nothing dirty: chunks
    /// and the continuous aggregates' invalidation do that.
    pub mode: StorageMode,
    pub registry: Arc<telemetry::Registry>,
    pub limits: telemetry::Limits,
    pub cardinality: telemetry::CardinalityLimits,
    /// Batches being written. A request waits at most [`IngestState::permit_wait`] for one,
    /// then gets 429 with `Retry-After`: more concurrent writers than this only contend on the
    /// same disk and CPU, and a waiting request holds its decoded body in memory.
    pub writers: Arc<Semaphore>,
    pub permit_wait: Duration,
    /// Days whose raw partition is known to exist (they are dropped only when far older than
    /// the replay window, so the cache cannot go stale for days a batch may write).
    pub partitions: Arc<Mutex<HashSet<time::Date>>>,
    /// Series ids by (device, metric, instance); see `series.rs`.
    series_cache: Arc<Mutex<HashMap<series::Key, series::Known>>>,
}

impl IngestState {
    pub fn new(pool: PgPool, settings: &TelemetryConfig, mode: StorageMode) -> IngestState {
        IngestState {
            pool,
            mode,
            writers: Arc::new(Semaphore::new(settings.max_concurrent_writes)),
            settings: settings.clone(),
            registry: Arc::new(telemetry::Registry::v1()),
            limits: telemetry::Limits::default(),
            cardinality: telemetry::CardinalityLimits {
                max_series_per_device: settings.max_series_per_device,
                ..telemetry::CardinalityLimits::default()
            },
            permit_wait: Duration::from_secs(1),
            partitions: Arc::new(Mutex::new(HashSet::new())),
            series_cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

/// The agents' API: a plain route outside sessions and the CSRF check (agents are not
/// browsers; they authenticate with a bearer token), with its own body limit.
pub fn routes(state: IngestState) -> Router {
    Router::new()
        .route(telemetry::INGEST_PATH, post(receive::batch))
        .with_state(state)
        // The handler reads the body itself, against INGEST_MAX_BODY_BYTES.
        .layer(axum::extract::DefaultBodyLimit::disable())
}
