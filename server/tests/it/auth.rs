//! Sign-in, throttling, sessions, CSRF.

use sqlx::PgPool;

use crate::{client, error_of, spawn_app, spawn_app_with, PASSWORD};

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn login_then_whoami_then_logout(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("alice", "admin")]).await;
    let c = client(&app);
    let anon = app.call(&c, "current_user", &[]).await;
    assert_eq!(
        anon.json::<serde_json::Value>().await.expect("json"),
        serde_json::Value::Null
    );

    let res = app.login(&c, "Alice", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let me: serde_json::Value = app
        .call(&c, "current_user", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["role"], "Admin");
    assert_eq!(me["tenant_name"], "Tenant acme");

    assert_eq!(app.call(&c, "logout", &[]).await.status(), 200);
    let after: serde_json::Value = app
        .call(&c, "current_user", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after, serde_json::Value::Null);

    let actions: Vec<String> = sqlx::query_scalar("select action from audit_event order by id")
        .fetch_all(&app.pool)
        .await
        .expect("audit");
    assert!(
        actions.ends_with(&["login.succeeded".to_owned(), "logout".to_owned()]),
        "{actions:?}"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn wrong_password_and_unknown_user_get_the_same_answer(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("alice", "viewer")]).await;
    let c = client(&app);
    let (s1, wrong) = error_of(app.login(&c, "alice", "not the password").await).await;
    let (s2, unknown) = error_of(app.login(&c, "mallory", "not the password").await).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong, unknown);
    assert_eq!(
        wrong,
        serde_json::json!({ "BadCredentials": "wrong username or password" })
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn malformed_and_overlong_login_forms_are_rejected_with_the_field(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = client(&app);
    let (status, body) = error_of(app.call(&c, "login", &[("password", "x")]).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["BadRequest"].is_string(), "{body}");
    let long = "a".repeat(65);
    let (status, body) = error_of(app.login(&c, &long, "x").await).await;
    assert_eq!(status, 422);
    assert_eq!(body["Invalid"]["field"], "username");
    let (status, body) = error_of(app.login(&c, "alice", &"p".repeat(257)).await).await;
    assert_eq!(status, 422);
    assert_eq!(body["Invalid"]["field"], "password");
    let attempts: i64 = sqlx::query_scalar("select count(*) from login_attempt")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(attempts, 0, "rejected forms are not attempts");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn an_account_is_throttled_after_repeated_failures_even_with_the_right_password(
    pool: PgPool,
) {
    let app = spawn_app_with(pool, &[("LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")]).await;
    app.seed_tenant("acme", &[("alice", "viewer"), ("bob", "viewer")])
        .await;
    let c = client(&app);
    for _ in 0..3 {
        assert_eq!(
            app.login(&c, "alice", "wrong password!").await.status(),
            401
        );
    }
    let (status, body) = error_of(app.login(&c, "alice", PASSWORD).await).await;
    assert_eq!(status, 429);
    let msg = body["RateLimited"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(
            "Too many failed sign-in attempts for this username. Try again in 15 minutes"
        ),
        "{msg}"
    );
    // Another account from the same address is unaffected.
    assert_eq!(app.login(&c, "bob", PASSWORD).await.status(), 200);
    // An unknown username is throttled the same way (no enumeration through the throttle).
    for _ in 0..3 {
        assert_eq!(
            app.login(&c, "ghost", "wrong password!").await.status(),
            401
        );
    }
    assert_eq!(
        app.login(&c, "ghost", "wrong password!").await.status(),
        429
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn an_address_is_throttled_across_accounts(pool: PgPool) {
    let app = spawn_app_with(pool, &[("LOGIN_MAX_FAILURES_PER_IP", "4")]).await;
    app.seed_tenant("acme", &[("alice", "viewer")]).await;
    let c = client(&app);
    for name in ["u1", "u2", "u3", "u4"] {
        assert_eq!(app.login(&c, name, "wrong password!").await.status(), 401);
    }
    let (status, body) = error_of(app.login(&c, "alice", PASSWORD).await).await;
    assert_eq!(status, 429);
    assert!(
        body["RateLimited"]
            .as_str()
            .unwrap_or_default()
            .contains("from your address"),
        "{body}"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn an_idle_session_expires(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("alice", "viewer")]).await;
    let c = app.signed_in("alice").await;
    assert_eq!(app.call(&c, "tenant_summary", &[]).await.status(), 200);
    // The store's expiry is the idle deadline; move it into the past instead of waiting.
    sqlx::query("update tower_sessions.session set expiry_date = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .expect("expire");
    assert_eq!(app.call(&c, "tenant_summary", &[]).await.status(), 401);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_password_reset_or_disable_ends_existing_sessions(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin"), ("alice", "viewer")])
        .await;
    let admin = app.signed_in("root").await;
    let alice = app.signed_in("alice").await;
    let alice_id = app.user_id("alice").await.to_string();
    assert_eq!(app.call(&alice, "tenant_summary", &[]).await.status(), 200);
    let res = app
        .call(
            &admin,
            "reset_user_password",
            &[
                ("id", &alice_id),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.call(&alice, "tenant_summary", &[]).await.status(), 401);
    let again = app.signed_in_with("alice", "a brand new passphrase").await;
    assert_eq!(app.call(&again, "tenant_summary", &[]).await.status(), 200);
    let res = app
        .call(
            &admin,
            "set_user_disabled",
            &[("id", &alice_id), ("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.call(&again, "tenant_summary", &[]).await.status(), 401);
    let (status, _) = error_of(
        app.login(&client(&app), "alice", "a brand new passphrase")
            .await,
    )
    .await;
    assert_eq!(status, 403, "a disabled account cannot sign in");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("alice", "admin")]).await;
    let form = [("username", "alice"), ("password", PASSWORD)];
    let bare = reqwest::Client::new();
    let none = bare
        .post(app.url("/api/login"))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(none.status(), 403, "no Origin, no Referer");
    let evil = bare
        .post(app.url("/api/login"))
        .header("origin", "http://evil.example")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(evil.status(), 403);
    assert!(evil
        .text()
        .await
        .expect("body")
        .contains("cross-site request refused"));
    let via_referer = bare
        .post(app.url("/api/login"))
        .header("referer", app.url("/login"))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(
        via_referer.status(),
        200,
        "a same-site Referer is accepted when Origin is absent"
    );
    let attempts: i64 = sqlx::query_scalar("select count(*) from login_attempt")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(attempts, 1, "refused requests never reached the handler");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_plain_form_post_redirects_with_the_error_or_to_next(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("alice", "admin")]).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let post = |password: &'static str| {
        c.post(app.url("/api/login"))
            .header("origin", &app.origin)
            .header("referer", app.url("/login?next=/admin/users"))
            .header("accept", "text/html")
            .form(&[
                ("username", "alice"),
                ("password", password),
                ("next", "/admin/users"),
            ])
            .send()
    };
    let bad = post("wrong password!").await.expect("post");
    assert_eq!(bad.status(), 302);
    let loc = bad.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        loc.starts_with("/login?next=/admin/users") || loc.contains("/login?next="),
        "{loc}"
    );
    assert!(
        loc.contains("__err="),
        "the error travels back in the URL: {loc}"
    );
    let good = post(PASSWORD).await.expect("post");
    assert_eq!(good.status(), 302);
    assert_eq!(good.headers()["location"], "/admin/users");
}
