//! The users admin: role checks and tenant isolation for every server function that takes an id.

use sqlx::PgPool;

use crate::{client, error_of, spawn_app, PASSWORD};

/// A server function's form fields.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn count_users(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from app_user")
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_create_users_and_bad_input_writes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let ok = app
        .call(
            &c,
            "create_user",
            &[
                ("username", "Noc.Night"),
                ("display_name", "Night shift"),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status(), 200);
    let list: serde_json::Value = app
        .call(&c, "list_users", &[])
        .await
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["noc.night", "root"]);
    let before = count_users(&app.pool).await;

    let cases: [(Form, u16, &str); 6] = [
        (
            &[
                ("username", "noc.night"),
                ("display_name", ""),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            409,
            "username",
        ),
        (
            &[
                ("username", "x"),
                ("display_name", ""),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            422,
            "username",
        ),
        (
            &[
                ("username", "bad name"),
                ("display_name", ""),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            422,
            "username",
        ),
        (
            &[
                ("username", "carol"),
                ("display_name", ""),
                ("role", "root"),
                ("password", PASSWORD),
            ],
            422,
            "role",
        ),
        (
            &[
                ("username", "carol"),
                ("display_name", ""),
                ("role", "viewer"),
                ("password", "short"),
            ],
            422,
            "password",
        ),
        (
            &[
                ("username", "carol"),
                ("display_name", &"n".repeat(101)),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            422,
            "display_name",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_user", form).await).await;
        assert_eq!(got, status, "{form:?} → {body}");
        let kind = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[kind]["field"], field, "{body}");
    }
    let (got, _) = error_of(app.call(&c, "create_user", &[("username", "carol")]).await).await;
    assert_eq!(got, 400, "missing fields are a malformed request");
    assert_eq!(count_users(&app.pool).await, before, "nothing half-written");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn roles_are_enforced(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[
            ("root", "admin"),
            ("op", "operator"),
            ("view", "viewer"),
            ("cust", "customer"),
        ],
    )
    .await;
    let anon = client(&app);
    assert_eq!(app.call(&anon, "list_users", &[]).await.status(), 401);
    assert_eq!(app.call(&anon, "tenant_summary", &[]).await.status(), 401);
    for who in ["op", "view", "cust"] {
        let c = app.signed_in(who).await;
        assert_eq!(
            app.call(&c, "list_users", &[]).await.status(),
            403,
            "{who} lists users"
        );
        assert_eq!(
            app.call(&c, "list_audit", &[]).await.status(),
            403,
            "{who} reads the audit log"
        );
        let form = [
            ("username", "sneaky"),
            ("display_name", ""),
            ("role", "admin"),
            ("password", PASSWORD),
        ];
        assert_eq!(
            app.call(&c, "create_user", &form).await.status(),
            403,
            "{who} creates users"
        );
    }
    let view = app.signed_in("view").await;
    assert_eq!(app.call(&view, "tenant_summary", &[]).await.status(), 200);
    let cust = app.signed_in("cust").await;
    assert_eq!(
        app.call(&cust, "tenant_summary", &[]).await.status(),
        403,
        "customers see no NOC data"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn tenant_a_cannot_reach_tenant_b_objects_by_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("tenant-a", &[("a-admin", "admin")]).await;
    app.seed_tenant("tenant-b", &[("b-admin", "admin"), ("b-user", "viewer")])
        .await;
    let a = app.signed_in("a-admin").await;
    let b_user = app.user_id("b-user").await.to_string();
    let snapshot = || async {
        sqlx::query_as::<_, (String, String, bool, i32)>(
            "select role, password_hash, disabled, session_epoch from app_user where username = 'b-user'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("b-user")
    };
    let before = snapshot().await;
    let calls: [(&str, Vec<(&str, &str)>); 4] = [
        ("get_user", vec![("id", &b_user)]),
        ("set_user_role", vec![("id", &b_user), ("role", "admin")]),
        (
            "reset_user_password",
            vec![("id", &b_user), ("new_password", "taken over by tenant a")],
        ),
        (
            "set_user_disabled",
            vec![("id", &b_user), ("disabled", "true")],
        ),
    ];
    for (endpoint, form) in calls {
        let (status, body) = error_of(app.call(&a, endpoint, &form).await).await;
        assert_eq!(status, 404, "{endpoint}: {body}");
        assert_eq!(body, serde_json::json!("NotFound"));
    }
    assert_eq!(snapshot().await, before, "tenant B's user is untouched");
    let list: serde_json::Value = app
        .call(&a, "list_users", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "A lists only its own users: {list}"
    );
    let summary: serde_json::Value = app
        .call(&a, "tenant_summary", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(summary["users_total"], 1);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_last_admin_cannot_be_demoted_or_disabled(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin"), ("other", "admin")])
        .await;
    let c = app.signed_in("root").await;
    let root = app.user_id("root").await.to_string();
    let other = app.user_id("other").await.to_string();
    let (status, body) = error_of(
        app.call(
            &c,
            "set_user_disabled",
            &[("id", &root), ("disabled", "true")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["Invalid"]["field"].as_str()),
        (422, Some("disabled")),
        "not yourself"
    );
    assert_eq!(
        app.call(&c, "set_user_role", &[("id", &other), ("role", "viewer")])
            .await
            .status(),
        200
    );
    let (status, body) = error_of(
        app.call(&c, "set_user_role", &[("id", &root), ("role", "viewer")])
            .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["Invalid"]["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("at least one active admin"));
    let role: String = sqlx::query_scalar("select role from app_user where username = 'root'")
        .fetch_one(&app.pool)
        .await
        .expect("role");
    assert_eq!(role, "admin");
}
