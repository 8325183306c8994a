//! The storage mode the database was migrated into, and TimescaleDB mode's policies.
//!
//! In TimescaleDB mode the extension's own jobs do what plain mode's background jobs do:
//! chunks instead of partitions made ahead, continuous aggregates instead of the rollup job,
//! retention and compression policies instead of dropping partitions. The server's part is to
//! keep the policies' ages equal to its settings ([`apply_policies`], hourly and at start).
//!
//! The statements here name TimescaleDB objects that exist only in that mode, so they are
//! checked at run time (`sqlx::query`), not against the plain schema the offline data holds.

use anyhow::Context;
use sqlx::PgPool;

use crate::config::TelemetryConfig;

/// How telemetry is stored (the `storage_mode` table, written at migrate time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageMode {
    /// Native partitions and the server's rollup and retention jobs.
    Plain,
    /// A hypertable, continuous aggregates and TimescaleDB's policies.
    TimescaleDb,
}

impl StorageMode {
    pub async fn read(pool: &PgPool) -> anyhow::Result<StorageMode> {
        let mode = sqlx::query_scalar!("select mode from storage_mode")
            .fetch_one(pool)
            .await
            .context("read the telemetry storage mode")?;
        match mode.as_str() {
            "plain" => Ok(StorageMode::Plain),
            "timescaledb" => Ok(StorageMode::TimescaleDb),
            other => anyhow::bail!("unknown telemetry storage mode `{other}` in storage_mode"),
        }
    }
}

/// One policy of TimescaleDB mode: a kind on a relation, with the age it acts at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub relation: &'static str,
    pub kind: PolicyKind,
    pub days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Drops chunks older than the age.
    Retention,
    /// Compresses chunks older than the age.
    Compression,
}

impl PolicyKind {
    fn name(self) -> &'static str {
        match self {
            PolicyKind::Retention => "retention",
            PolicyKind::Compression => "compression",
        }
    }
}

/// The policies the settings ask for. Daily rollups are kept for ever, as in plain mode.
pub fn policies(settings: &TelemetryConfig) -> [Policy; 4] {
    let policy = |relation, kind, days| Policy {
        relation,
        kind,
        days,
    };
    [
        policy("sample", PolicyKind::Retention, settings.retention_raw_days),
        policy(
            "sample",
            PolicyKind::Compression,
            settings.compress_after_days,
        ),
        policy(
            "sample_1m",
            PolicyKind::Retention,
            settings.retention_1m_days,
        ),
        policy(
            "sample_1h",
            PolicyKind::Retention,
            settings.retention_1h_days,
        ),
    ]
}

/// Makes every policy act at the age the settings give (adding it where missing); returns the
/// policies it changed. A policy already right is left alone, so its schedule is kept.
pub async fn apply_policies(
    pool: &PgPool,
    settings: &TelemetryConfig,
) -> anyhow::Result<Vec<Policy>> {
    let mut changed = Vec::new();
    for policy in policies(settings) {
        let did: bool =
            sqlx::query_scalar("select telemetry_sync_policy($1, $2, make_interval(days => $3))")
                .bind(policy.relation)
                .bind(policy.kind.name())
                .bind(i32::try_from(policy.days).unwrap_or(i32::MAX))
                .fetch_one(pool)
                .await
                .with_context(|| {
                    format!(
                        "set the {} policy of {}",
                        policy.kind.name(),
                        policy.relation
                    )
                })?;
        if did {
            changed.push(policy);
        }
    }
    Ok(changed)
}
