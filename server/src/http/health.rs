//! `/healthz` (the process is up) and `/readyz` (the database answers and its schema is the one
//! this binary expects).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use sqlx::PgPool;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn readyz(State(pool): State<PgPool>) -> (StatusCode, Json<Value>) {
    let database = sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(&pool)
        .await;
    let migrations = match &database {
        Ok(_) => crate::migrate::pending(&pool).await,
        Err(_) => Ok(Vec::new()),
    };
    match (database, migrations) {
        (Ok(_), Ok(pending)) if pending.is_empty() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "ok", "migrations": "ok" })),
        ),
        (Ok(_), Ok(pending)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "database": "ok",
                         "migrations": format!("{} pending: run `ispvm migrate`", pending.len()) })),
        ),
        (Ok(_), Err(err)) | (Err(err), _) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not ready", "database": "unreachable" })),
            )
        }
    }
}
