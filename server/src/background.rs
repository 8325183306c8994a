//! Background tasks of `serve`: housekeeping loops under one cancellation token. Each loop is
//! idempotent (deletes by age), so several replicas running them is safe without a lock.

use sqlx::PgPool;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

/// Sign-in attempts are kept this long (throttling needs minutes; the rest is for forensics).
const LOGIN_ATTEMPT_RETENTION: time::Duration = time::Duration::days(30);

pub fn spawn(
    tasks: &mut JoinSet<(&'static str, anyhow::Result<()>)>,
    pool: PgPool,
    shutdown: CancellationToken,
) {
    let store = PostgresStore::new(pool.clone());
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let result = every(Duration::from_secs(60), stop, || async {
            store
                .delete_expired()
                .await
                .map_err(|e| anyhow::anyhow!("delete expired sessions: {e}"))
        })
        .await;
        ("session-sweeper", result)
    });
    tasks.spawn(async move {
        let result = every(Duration::from_secs(3600), shutdown, || async {
            let n = app::db::login_attempts::prune(&pool, LOGIN_ATTEMPT_RETENTION)
                .await
                .map_err(|e| anyhow::anyhow!("prune login attempts: {e}"))?;
            if n > 0 {
                tracing::info!(rows = n, "pruned old sign-in attempts");
            }
            Ok(())
        })
        .await;
        ("login-attempt-pruner", result)
    });
}

/// Runs `step` every `period` until cancelled. A failed step is logged and retried next period:
/// housekeeping must not take the server down.
pub(crate) async fn every<F, Fut>(
    period: Duration,
    shutdown: CancellationToken,
    mut step: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => {
                if let Err(err) = step().await {
                    tracing::warn!(error = %err, "background step failed");
                }
            }
        }
    }
}
