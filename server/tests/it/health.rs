//! `/healthz` and `/readyz`.

use sqlx::PgPool;

use crate::spawn_app;

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn healthz_and_readyz_answer_json(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = reqwest::Client::new();
    let h = c.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(h.status(), 200);
    let body: serde_json::Value = h.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    let r = c.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["migrations"], "ok");
}

#[sqlx::test(migrations = false)]
async fn readyz_is_503_until_migrations_are_applied(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = reqwest::Client::new();
    let r = c.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(
        body["migrations"]
            .as_str()
            .is_some_and(|m| m.contains("pending")),
        "{body}"
    );
    server::migrate::run(&pool).await.expect("migrate");
    let r = c.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 200);
}
