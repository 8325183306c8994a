//! The audit log: admin actions are recorded with actor and address, and the table is append-only.

use sqlx::PgPool;

use crate::{spawn_app, PASSWORD};

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admin_actions_are_audited_and_the_log_is_append_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let form = [
        ("username", "dave"),
        ("display_name", ""),
        ("role", "viewer"),
        ("password", PASSWORD),
    ];
    assert_eq!(app.call(&c, "create_user", &form).await.status(), 200);
    let rows: serde_json::Value = app
        .call(&c, "list_audit", &[])
        .await
        .json()
        .await
        .expect("json");
    let newest = &rows[0];
    assert_eq!(newest["action"], "user.created");
    assert_eq!(newest["actor"], "root");
    assert_eq!(newest["target"], "dave");
    assert_eq!(newest["source_ip"], "127.0.0.1");

    let update = sqlx::query("update audit_event set actor_username = 'someone else'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err(), "updates are refused");
    let delete = sqlx::query("delete from audit_event")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err(), "deletes are refused");
}
