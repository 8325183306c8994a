//! Server-rendered pages: status codes and redirects without JavaScript.

use sqlx::PgPool;

use crate::spawn_app;

fn html_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn unknown_routes_render_the_404_page(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = html_client()
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    let body = res.text().await.expect("body");
    assert!(body.contains("<h1>Not found</h1>"), "{body}");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn signed_out_visitors_are_sent_to_sign_in_with_next(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = html_client()
        .get(app.url("/admin/users"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/admin/users");
    let login = html_client()
        .get(app.url("/login"))
        .send()
        .await
        .expect("get");
    assert_eq!(login.status(), 200);
    assert!(login
        .text()
        .await
        .expect("body")
        .contains("id=\"login-form\""));
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn home_renders_real_counts_and_a_server_error_renders_the_500_page(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[("root", "admin"), ("op", "operator"), ("op2", "operator")],
    )
    .await;
    let c = app.signed_in("root").await;
    let home = c
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(home.status(), 200);
    let body = home.text().await.expect("body");
    assert!(body.contains("Tenant acme"), "{body}");
    assert!(
        body.contains(r#"id="tile-operators" class="tile"><div class="value">2</div>"#),
        "{body}"
    );
    // Break the summary query: the page must say so with a 500, not half-render.
    sqlx::query("alter table audit_event rename to audit_event_gone")
        .execute(&app.pool)
        .await
        .expect("rename");
    let broken = c
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(broken.status(), 500);
    let body = broken.text().await.expect("body");
    assert!(body.contains("Server error"), "{body}");
    assert!(
        !body.contains("audit_event"),
        "no database detail leaks: {body}"
    );
}
