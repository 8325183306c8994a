//! Customers: CRUD with its audit trail, field-level refusals that write nothing, roles, tenant
//! isolation for every server function that takes an id, search and pages, and the refusal to
//! delete a customer that still has services.

use serde_json::json;
use sqlx::PgPool;

use crate::{client, count, error_of, json_of, spawn_app, with, TestApp};

/// A server function's form fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// The fields of `create_customer`, with `name` and `account_id` set and the rest blank.
fn customer_form<'a>(name: &'a str, account_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("account_id", account_id),
        ("contact_name", ""),
        ("contact_email", ""),
        ("contact_phone", ""),
        ("timezone", ""),
        ("sla_target", ""),
    ]
}

/// Creates a customer through the API and returns its id.
pub async fn create_customer(app: &TestApp, c: &reqwest::Client, name: &str, account: &str) -> i64 {
    let res = app
        .call(c, "create_customer", &customer_form(name, account))
        .await;
    assert_eq!(res.status(), 200, "create_customer {name}");
    sqlx::query_scalar("select id from customer where account_id = $1")
        .bind(account)
        .fetch_one(&app.pool)
        .await
        .expect("customer id")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_create_edit_and_delete_customers(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let form = with(
        with(
            customer_form(" Acme Ltd ", "ACC-1"),
            "timezone",
            "Europe/Vienna",
        ),
        "sla_target",
        "99.9",
    );
    let form = with(
        with(form, "contact_email", "noc@acme.example"),
        "contact_phone",
        "+43 1 234",
    );
    let res = app.call(&c, "create_customer", &form).await;
    assert_eq!(res.status(), 200);
    let id: i64 = sqlx::query_scalar("select id from customer where account_id = 'ACC-1'")
        .fetch_one(&app.pool)
        .await
        .expect("id");
    let got = json_of(&app, &c, "get_customer", &[("id", &id.to_string())]).await;
    assert_eq!(got["name"], "Acme Ltd", "trimmed: {got}");
    assert_eq!(got["timezone"], "Europe/Vienna");
    assert_eq!(got["sla_target"], 99_900, "thousandths of a percent: {got}");
    assert_eq!(got["contact_email"], "noc@acme.example");
    let stored: String = sqlx::query_scalar("select sla_target::text from customer where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("sla");
    assert_eq!(stored, "99.900", "exact in the numeric column");

    let id_s = id.to_string();
    let update = with(customer_form("Acme Group", "ACC-1b"), "sla_target", "99.95");
    let update = with(update, "id", &id_s);
    assert_eq!(app.call(&c, "update_customer", &update).await.status(), 200);
    let got = json_of(&app, &c, "get_customer", &[("id", &id_s)]).await;
    assert_eq!(
        (
            got["name"].as_str(),
            got["account_id"].as_str(),
            got["sla_target"].as_i64()
        ),
        (Some("Acme Group"), Some("ACC-1b"), Some(99_950))
    );
    assert_eq!(got["timezone"], "UTC", "a blank time zone is UTC");

    let list = json_of(&app, &c, "list_customers", &[]).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["rows"][0]["services"], 0);

    assert_eq!(
        app.call(&c, "delete_customer", &[("id", &id_s)])
            .await
            .status(),
        200
    );
    assert_eq!(count(&app.pool, "customer").await, 0);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'customer.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        ["customer.created", "customer.updated", "customer.deleted"]
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn bad_customer_input_is_refused_by_field_and_writes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let first = create_customer(&app, &c, "Acme", "ACC-1").await;
    // Names may repeat (two residential customers can share one); account ids may not.
    create_customer(&app, &c, "Acme", "ACC-2").await;
    let before = count(&app.pool, "customer").await;
    let audits = count(&app.pool, "audit_event").await;

    let long_account = "A".repeat(65);
    let cases: Vec<(Fields, u16, &str)> = vec![
        (customer_form("Other", "acc-1"), 409, "account_id"),
        (customer_form("", "ACC-9"), 422, "name"),
        (customer_form("Other", &long_account), 422, "account_id"),
        (
            with(
                customer_form("Other", "ACC-9"),
                "timezone",
                "Mars/Olympus_Mons",
            ),
            422,
            "timezone",
        ),
        (
            with(
                customer_form("Other", "ACC-9"),
                "timezone",
                "Europe/Vienna x",
            ),
            422,
            "timezone",
        ),
        (
            with(customer_form("Other", "ACC-9"), "sla_target", "0"),
            422,
            "sla_target",
        ),
        (
            with(customer_form("Other", "ACC-9"), "sla_target", "100.001"),
            422,
            "sla_target",
        ),
        (
            with(customer_form("Other", "ACC-9"), "sla_target", "99.9999"),
            422,
            "sla_target",
        ),
        (
            with(customer_form("Other", "ACC-9"), "sla_target", "-5"),
            422,
            "sla_target",
        ),
        (
            with(customer_form("Other", "ACC-9"), "sla_target", "high"),
            422,
            "sla_target",
        ),
        (
            with(customer_form("Other", "ACC-9"), "contact_email", "noc"),
            422,
            "contact_email",
        ),
        (
            with(customer_form("Other", "ACC-9"), "contact_phone", "ring me"),
            422,
            "contact_phone",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_customer", &form).await).await;
        assert_eq!(got, status, "{form:?} → {body}");
        let kind = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[kind]["field"], field, "{form:?} → {body}");
    }
    let first_s = first.to_string();
    let dup = with(customer_form("Acme", "ACC-2"), "id", &first_s);
    let (got, body) = error_of(app.call(&c, "update_customer", &dup).await).await;
    assert_eq!(
        (got, &body["Conflict"]["field"]),
        (409, &json!("account_id")),
        "{body}"
    );
    let bad_tz = with(
        with(customer_form("Acme", "ACC-1"), "id", &first_s),
        "timezone",
        "Nowhere/Town",
    );
    let (got, body) = error_of(app.call(&c, "update_customer", &bad_tz).await).await;
    assert_eq!(
        (got, &body["Invalid"]["field"]),
        (422, &json!("timezone")),
        "{body}"
    );

    assert_eq!(
        count(&app.pool, "customer").await,
        before,
        "nothing half-written"
    );
    assert_eq!(
        count(&app.pool, "audit_event").await,
        audits,
        "no audit row for a refusal"
    );
    let account: String = sqlx::query_scalar("select account_id from customer where id = $1")
        .bind(first)
        .fetch_one(&app.pool)
        .await
        .expect("account");
    assert_eq!(account, "ACC-1", "the refused update changed nothing");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn staff_read_customers_and_only_admins_change_them(pool: PgPool) {
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
    let root = app.signed_in("root").await;
    let id = create_customer(&app, &root, "Acme", "ACC-1")
        .await
        .to_string();
    let anon = client(&app);
    assert_eq!(app.call(&anon, "list_customers", &[]).await.status(), 401);
    assert_eq!(
        app.call(&anon, "get_customer", &[("id", &id)])
            .await
            .status(),
        401
    );
    let update = with(customer_form("Mine now", "ACC-1"), "id", &id);
    for who in ["op", "view"] {
        let c = app.signed_in(who).await;
        assert_eq!(
            app.call(&c, "list_customers", &[]).await.status(),
            200,
            "{who} lists"
        );
        assert_eq!(
            app.call(&c, "get_customer", &[("id", &id)]).await.status(),
            200,
            "{who} reads"
        );
        let calls: [(&str, Vec<(&str, &str)>); 3] = [
            ("create_customer", customer_form("Sneaky", "ACC-9")),
            ("update_customer", update.clone()),
            ("delete_customer", vec![("id", &id)]),
        ];
        for (endpoint, form) in calls {
            let (status, body) = error_of(app.call(&c, endpoint, &form).await).await;
            assert_eq!(
                (status, body),
                (403, json!("Forbidden")),
                "{who} {endpoint}"
            );
        }
    }
    let cust = app.signed_in("cust").await;
    for (endpoint, form) in [
        ("list_customers", vec![]),
        ("get_customer", vec![("id", id.as_str())]),
        ("create_customer", customer_form("Sneaky", "ACC-9")),
        ("update_customer", update.clone()),
        ("delete_customer", vec![("id", id.as_str())]),
    ] {
        assert_eq!(
            app.call(&cust, endpoint, &form).await.status(),
            403,
            "customer role: {endpoint}"
        );
    }
    let row: (String, i64) =
        sqlx::query_as("select name, (select count(*) from customer) from customer")
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(row, ("Acme".to_owned(), 1));
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn tenant_a_cannot_reach_tenant_b_customers(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("tenant-a", &[("a-admin", "admin")]).await;
    app.seed_tenant("tenant-b", &[("b-admin", "admin")]).await;
    let a = app.signed_in("a-admin").await;
    let b = app.signed_in("b-admin").await;
    let theirs = create_customer(&app, &b, "Bravo", "B-1").await.to_string();
    let snapshot = || async {
        sqlx::query_as::<_, (String, String, String)>(
            "select name, account_id, updated_at::text from customer where account_id = 'B-1'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("B's customer")
    };
    let before = snapshot().await;
    let calls: [(&str, Vec<(&str, &str)>); 3] = [
        ("get_customer", vec![("id", &theirs)]),
        (
            "update_customer",
            with(customer_form("Taken", "A-1"), "id", &theirs),
        ),
        ("delete_customer", vec![("id", &theirs)]),
    ];
    for (endpoint, form) in calls {
        let (status, body) = error_of(app.call(&a, endpoint, &form).await).await;
        assert_eq!((status, &body), (404, &json!("NotFound")), "{endpoint}");
    }
    assert_eq!(snapshot().await, before, "B's customer is untouched");
    let list = json_of(&app, &a, "list_customers", &[("q", "Bravo")]).await;
    assert_eq!(list["total"], 0, "A lists only its own: {list}");
    // Account ids are unique per tenant, not across tenants.
    create_customer(&app, &a, "Alpha", "B-1-a").await;
    let res = app
        .call(&a, "create_customer", &customer_form("Alpha 2", "b-1"))
        .await;
    assert_eq!(res.status(), 200, "B's account id is free in A");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn customers_with_services_cannot_be_deleted(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let id = create_customer(&app, &c, "Acme", "ACC-1").await.to_string();
    let service = [
        ("name", "Acme DIA"),
        ("kind", "internet"),
        ("customer_id", id.as_str()),
        ("access_device_id", ""),
        ("access_interface", ""),
        ("pppoe_username_pattern", ""),
        ("sla_target", ""),
        ("business_hours", ""),
        ("provider", ""),
        ("enabled", "true"),
    ];
    assert_eq!(app.call(&c, "create_service", &service).await.status(), 200);
    let (status, body) = error_of(app.call(&c, "delete_customer", &[("id", &id)]).await).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Conflict"]["field"], "customer");
    assert!(
        body["Conflict"]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("has 1 service;"),
        "{body}"
    );
    assert_eq!(count(&app.pool, "customer").await, 1);
    let listed = json_of(&app, &c, "list_customers", &[]).await;
    assert_eq!(listed["rows"][0]["services"], 1);

    let service_id: i64 = sqlx::query_scalar("select id from service")
        .fetch_one(&app.pool)
        .await
        .expect("service");
    let sid = service_id.to_string();
    assert_eq!(
        app.call(&c, "delete_service", &[("id", &sid)])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.call(&c, "delete_customer", &[("id", &id)])
            .await
            .status(),
        200
    );
    assert_eq!(count(&app.pool, "customer").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn customer_lists_search_and_page(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let tenant = crate::tenant_id(&app.pool, "acme").await;
    sqlx::query(
        "insert into customer (tenant_id, name, account_id)
         select $1, 'Customer ' || lpad(n::text, 3, '0'), 'ACC-' || n from generate_series(1, 55) n",
    )
    .bind(tenant)
    .execute(&app.pool)
    .await
    .expect("customers");
    sqlx::query(
        "insert into customer (tenant_id, name, account_id) values ($1, '100% Fibre', 'PCT')",
    )
    .bind(tenant)
    .execute(&app.pool)
    .await
    .expect("customer");

    let first = json_of(&app, &c, "list_customers", &[]).await;
    assert_eq!(
        (
            first["total"].as_i64(),
            first["rows"].as_array().map(Vec::len)
        ),
        (Some(56), Some(50))
    );
    assert_eq!(first["rows"][0]["name"], "100% Fibre", "by name");
    let second = json_of(&app, &c, "list_customers", &[("page", "2")]).await;
    assert_eq!(second["rows"].as_array().map(Vec::len), Some(6));
    assert_eq!(second["page"], 2);
    let past = json_of(&app, &c, "list_customers", &[("page", "9")]).await;
    assert_eq!(
        (
            past["total"].as_i64(),
            past["rows"].as_array().map(Vec::len)
        ),
        (Some(56), Some(0))
    );

    let by_name = json_of(&app, &c, "list_customers", &[("q", "customer 04")]).await;
    assert_eq!(by_name["total"], 10, "Customer 040-049: {by_name}");
    let by_account = json_of(&app, &c, "list_customers", &[("q", "acc-55")]).await;
    assert_eq!(by_account["total"], 1);
    let literal = json_of(&app, &c, "list_customers", &[("q", "%")]).await;
    assert_eq!(literal["total"], 1, "% is matched literally: {literal}");
    let (status, body) = error_of(
        app.call(&c, "list_customers", &[("q", &"x".repeat(101))])
            .await,
    )
    .await;
    assert_eq!((status, &body["Invalid"]["field"]), (422, &json!("q")));
}

/// GETs a page as a browser would (HTML, no JavaScript); returns the status and body.
pub async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn customer_pages_render_without_javascript(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[("root", "admin"), ("view", "viewer"), ("cust", "customer")],
    )
    .await;
    app.seed_tenant("other", &[("o-admin", "admin")]).await;
    let root = app.signed_in("root").await;
    let id = create_customer(&app, &root, "Acme", "ACC-1").await;
    let theirs = create_customer(&app, &app.signed_in("o-admin").await, "Other", "O-1").await;

    let (status, body) = page(&app, &root, "/inventory/customers?q=acc").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"data-account="ACC-1""#), "{body}");
    assert!(
        body.contains(r#"id="create-customer-form""#)
            && body.contains(r#"action="/api/create_customer""#)
    );
    let (status, body) = page(&app, &root, &format!("/inventory/customers/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"id="edit-customer-form""#)
            && body.contains(r#"id="delete-customer-form""#)
    );
    let (status, _) = page(&app, &root, &format!("/inventory/customers/{theirs}")).await;
    assert_eq!(status, 404, "another tenant's customer is not found");

    let view = app.signed_in("view").await;
    let (status, body) = page(&app, &view, &format!("/inventory/customers/{id}")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("edit-customer-form"), "viewers get no forms");
    let (status, _) = page(&app, &app.signed_in("cust").await, "/inventory/customers").await;
    assert_eq!(status, 403, "the customer role sees no customers");

    // A plain form post (no JavaScript) is answered with a redirect to the new customer.
    let res = root
        .post(app.url("/api/create_customer"))
        .header("accept", "text/html")
        .header("referer", app.url("/inventory/customers"))
        .form(&customer_form("Beta", "ACC-2"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 302);
    let beta: i64 = sqlx::query_scalar("select id from customer where account_id = 'ACC-2'")
        .fetch_one(&app.pool)
        .await
        .expect("beta");
    assert_eq!(
        res.headers()["location"],
        format!("/inventory/customers/{beta}").as_str()
    );
}

/// The resource ids a server-rendered page hands to hydration (`__PENDING_RESOURCES=[0,2,];`),
/// and the values it resolved them to (`__RESOLVED_RESOURCES[2] = "…";`).
fn resources_of(body: &str) -> (Vec<u64>, Vec<String>) {
    let ids = body
        .split_once("__PENDING_RESOURCES=[")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| {
            list.split(',')
                .filter(|id| !id.trim().is_empty())
                .map(|id| id.trim().parse().expect("a resource id"))
                .collect()
        })
        .unwrap_or_default();
    let values = body
        .split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|rest| rest.split_once("] = ").map(|(_, v)| v))
        .map(|v| v.split_once("\";").map_or(v, |(value, _)| value).to_owned())
        .collect();
    (ids, values)
}

/// Each server-rendered page is built once per request: the layout's outlet is not inside a
/// reactive closure, which the server runs more than once (that built the customer page three
/// times, ran its queries three times, and left the browser reading a copy whose server
/// functions had failed: the hydration panic of issue 5).
#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_page_is_built_once_per_request_and_hydrates_from_its_own_data(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let root = app.signed_in("root").await;
    let id = create_customer(&app, &root, "Acme", "ACC-1").await;
    for _ in 0..5 {
        let (status, body) = page(&app, &root, &format!("/inventory/customers/{id}")).await;
        assert_eq!(status, 200);
        let (ids, values) = resources_of(&body);
        // The signed-in user (the layout's) and the customer with its services (the page's).
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert_eq!(values.len(), 2, "{values:?}");
        assert!(
            values.iter().all(|v| !v.contains("Err")),
            "a resource failed: {values:?}"
        );
    }
}
