//! Benchmarks: `ispvm bench ingest` ([`ingest`]), and what every benchmark shares (the
//! examples under server/examples use it too): `BENCH_*` settings, output, a scratch database,
//! the app served in process. Figures and machines: docs/benchmarks.md.

pub mod ingest;

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Source};

/// Settings given in code (the app served in process).
struct Vars(pub Vec<(String, String)>);

impl Source for Vars {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// One line of the benchmark's report.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// A numeric `BENCH_*` setting from the environment.
pub fn setting(name: &str, default: usize) -> usize {
    crate::config::Env
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Creates the database `ispvm_bench_<what>_<pid>` on the server of `DATABASE_URL`, migrates
/// it, runs `body` with the configuration and a pool of `connections` on it, and drops the
/// database whatever happened.
pub async fn in_scratch_db<T>(
    what: &str,
    connections: Option<u32>,
    body: impl AsyncFnOnce(&Config, PgPool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = Config::from_env().context("configuration")?;
    let admin_url: SecretString = config.database_url()?.clone();
    let db = format!("ispvm_bench_{what}_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(admin_url.expose_secret()).await?;
    sqlx::query(&format!("create database {db}"))
        .execute(&mut admin)
        .await?;
    let result = async {
        let mut url = url::Url::parse(admin_url.expose_secret())?;
        url.set_path(&db);
        let pool = PgPoolOptions::new()
            .max_connections(connections.unwrap_or(config.db_max_connections))
            .connect(url.as_str())
            .await?;
        crate::migrate::MIGRATOR.run(&pool).await?;
        let result = body(&config, pool.clone()).await;
        pool.close().await;
        result
    }
    .await;
    sqlx::query(&format!("drop database if exists {db} with (force)"))
        .execute(&mut admin)
        .await?;
    result
}

/// Serves the app on 127.0.0.1:0 in this process (web only, no background tasks) until the
/// returned token is cancelled.
pub async fn serve(pool: &PgPool) -> anyhow::Result<(SocketAddr, CancellationToken)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let vars = Vars(vec![
        ("PUBLIC_BASE_URL".into(), format!("http://{addr}")),
        ("LOG_LEVEL".into(), "warn".into()),
    ]);
    let app_config = Config::from_source(&vars)?;
    let state = crate::startup::state(&app_config, pool.clone())?;
    let mode = crate::ingest::timescale::StorageMode::read(pool).await?;
    let ingest = crate::ingest::IngestState::new(pool.clone(), &app_config.telemetry, mode);
    let router = crate::startup::router(&app_config, state, ingest);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move { crate::startup::serve(listener, router, stop).await });
    Ok((addr, shutdown))
}

/// Tenant `bench` with one site, for a benchmark's devices: (tenant id, site id).
pub async fn bench_site(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    let tenant = crate::admin::create_tenant(pool, "Bench", "bench").await?.0;
    let site: i64 = sqlx::query_scalar(
        "insert into site (tenant_id, name, code) values ($1, 'POP', 'POP1') returning id",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await?;
    Ok((tenant, site))
}

/// The `q` quantile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
