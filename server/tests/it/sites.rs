//! Sites: create, edit, delete, the topology drawing, role checks, tenant isolation, and bad
//! input that writes nothing.

use sqlx::PgPool;

use crate::{count, error_of, spawn_app, TestApp};

/// The fields of a site form, as `create_site`/`update_site` read them.
pub fn site_form<'a>(
    name: &'a str,
    code: &'a str,
    timezone: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("form[name]", name),
        ("form[code]", code),
        ("form[region]", "East"),
        ("form[address]", ""),
        ("form[latitude]", "48.2"),
        ("form[longitude]", "16.37"),
        ("form[timezone]", timezone),
    ]
}

/// A form, the status it must get, and the field the error must name.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

/// Creates a site through the API and returns its id.
pub async fn create_site(app: &TestApp, c: &reqwest::Client, name: &str, code: &str) -> i64 {
    let res = app
        .call(c, "create_site", &site_form(name, code, "Europe/Vienna"))
        .await;
    assert_eq!(res.status(), 200, "create_site {name}");
    sqlx::query_scalar("select id from site where code = upper($1)")
        .bind(code)
        .fetch_one(&app.pool)
        .await
        .expect("site id")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_manage_sites_and_bad_input_writes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let id = create_site(&app, &c, "Vienna POP 1", "vie1").await;

    let list: serde_json::Value = app
        .call(&c, "list_sites", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["total"], 1);
    assert_eq!(list["rows"][0]["code"], "VIE1");
    assert_eq!(list["rows"][0]["timezone"], "Europe/Vienna");

    let before = count(&app.pool, "site").await;
    let cases: [Case; 5] = [
        (site_form("vienna pop 1", "vie2", "UTC"), 409, "name"),
        (site_form("Graz", "VIE1", "UTC"), 409, "code"),
        (site_form("Graz", "grz1", "Mars/Olympus"), 422, "timezone"),
        (site_form("Graz", "grz 1", "UTC"), 422, "code"),
        (site_form("", "grz1", "UTC"), 422, "name"),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_site", &form).await).await;
        assert_eq!(got, status, "{form:?}: {body}");
        let key = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[key]["field"], field, "{form:?}: {body}");
    }
    let mut bad_lat = site_form("Graz", "grz1", "UTC");
    bad_lat[4] = ("form[latitude]", "123");
    let (got, body) = error_of(app.call(&c, "create_site", &bad_lat).await).await;
    assert_eq!(
        (got, body["Invalid"]["field"].as_str()),
        (422, Some("latitude"))
    );
    assert_eq!(count(&app.pool, "site").await, before, "nothing written");

    let mut edit = site_form("Vienna POP 1 (Arsenal)", "VIE1", "UTC");
    let id_text = id.to_string();
    edit.push(("id", &id_text));
    assert_eq!(app.call(&c, "update_site", &edit).await.status(), 200);
    let got: serde_json::Value = app
        .call(&c, "get_site", &[("id", &id_text)])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(got["name"], "Vienna POP 1 (Arsenal)");
    assert_eq!(got["timezone"], "UTC");

    let audited: Vec<String> =
        sqlx::query_scalar("select action from audit_event where action like 'site.%' order by id")
            .fetch_all(&app.pool)
            .await
            .expect("audit");
    assert_eq!(audited, ["site.created", "site.updated"]);

    assert_eq!(
        app.call(&c, "delete_site", &[("id", &id_text)])
            .await
            .status(),
        200
    );
    assert_eq!(count(&app.pool, "site").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_site_with_devices_is_not_deleted_and_draws_its_topology(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Vienna", "vie1").await;
    let core =
        crate::devices::create_device(&app, &c, "vie1-core-1", site, "core", "10.0.0.1").await;
    let agg =
        crate::devices::create_device(&app, &c, "vie1-agg-<1>", site, "aggregation", "10.0.0.2")
            .await;
    crate::devices::link(&app, &c, core, agg, true).await;

    let (status, body) = error_of(
        app.call(&c, "delete_site", &[("id", &site.to_string())])
            .await,
    )
    .await;
    assert_eq!(
        (status, body["Conflict"]["field"].as_str()),
        (409, Some("site"))
    );
    assert_eq!(count(&app.pool, "site").await, 1);

    let svg: String = app
        .call(&c, "site_topology", &[("id", &site.to_string())])
        .await
        .json()
        .await
        .expect("svg");
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains(r#"data-device="vie1-core-1""#));
    assert!(
        svg.contains("vie1-agg-&lt;1&gt;"),
        "names are escaped: {svg}"
    );
    assert_eq!(svg.matches("<line ").count(), 1);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn roles_and_tenants_are_enforced(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[("root", "admin"), ("eve", "viewer"), ("cust", "customer")],
    )
    .await;
    app.seed_tenant("other", &[("boss", "admin")]).await;
    let root = app.signed_in("root").await;
    let theirs = create_site(&app, &app.signed_in("boss").await, "Graz", "grz1")
        .await
        .to_string();

    let viewer = app.signed_in("eve").await;
    assert_eq!(app.call(&viewer, "list_sites", &[]).await.status(), 200);
    assert_eq!(
        app.call(&viewer, "create_site", &site_form("X", "x1", "UTC"))
            .await
            .status(),
        403
    );
    let customer = app.signed_in("cust").await;
    for endpoint in ["list_sites", "site_choices"] {
        assert_eq!(
            app.call(&customer, endpoint, &[]).await.status(),
            403,
            "{endpoint}"
        );
    }

    // Another tenant's site is "not found" for every function that takes its id.
    let mut edit = site_form("Mine now", "mine", "UTC");
    edit.push(("id", &theirs));
    for (endpoint, form) in [
        ("get_site", vec![("id", theirs.as_str())]),
        ("site_topology", vec![("id", theirs.as_str())]),
        ("delete_site", vec![("id", theirs.as_str())]),
        ("update_site", edit),
    ] {
        let res = app.call(&root, endpoint, &form).await;
        assert_eq!(res.status(), 404, "{endpoint}");
    }
    let list: serde_json::Value = app
        .call(&root, "list_sites", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["total"], 0, "the other tenant's site is not listed");
    let name: String = sqlx::query_scalar("select name from site")
        .fetch_one(&app.pool)
        .await
        .expect("site");
    assert_eq!(name, "Graz", "untouched");
}
