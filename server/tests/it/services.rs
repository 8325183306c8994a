//! Services and their dependencies: CRUD with its audit trail, field-level refusals that write
//! nothing, roles, tenant isolation for every server function (another tenant's service is
//! `NotFound`; another tenant's customer, device, link, group or service as a reference is an
//! invalid field, worded as for a free id), dependency cycles, and the pickers' choices.
//!
//! Devices, links and groups are inserted with SQL (`Inventory`), not through their server
//! functions, so that these tests stand on their own.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::customers::{create_customer, page};
use crate::{client, count, error_of, json_of, spawn_app, with, TestApp};

/// A server function's form fields.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// Inserts inventory rows of one tenant directly.
struct Inventory<'a> {
    pool: &'a PgPool,
    tenant: i64,
    site: i64,
}

impl<'a> Inventory<'a> {
    /// The tenant `slug`'s inventory, with one site to hold its devices.
    async fn of(pool: &'a PgPool, slug: &str) -> Inventory<'a> {
        let tenant = crate::tenant_id(pool, slug).await;
        let site = sqlx::query_scalar(
            "insert into site (tenant_id, name, code) values ($1, 'POP', 'POP1') returning id",
        )
        .bind(tenant)
        .fetch_one(pool)
        .await
        .expect("site");
        Inventory { pool, tenant, site }
    }

    async fn device(&self, name: &str) -> i64 {
        sqlx::query_scalar(
            "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address)
             values ($1, $2, $3, 'mikrotik', 'core', '192.0.2.1') returning id",
        )
        .bind(self.tenant)
        .bind(self.site)
        .bind(name)
        .fetch_one(self.pool)
        .await
        .expect("device")
    }

    async fn interface(&self, device: i64, name: &str) -> i64 {
        sqlx::query_scalar(
            "insert into interface (tenant_id, device_id, name) values ($1, $2, $3) returning id",
        )
        .bind(self.tenant)
        .bind(device)
        .bind(name)
        .fetch_one(self.pool)
        .await
        .expect("interface")
    }

    async fn link(&self, a: i64, b: i64) -> i64 {
        sqlx::query_scalar(
            "insert into link (tenant_id, a_device_id, b_device_id, kind)
             values ($1, $2, $3, 'physical') returning id",
        )
        .bind(self.tenant)
        .bind(a)
        .bind(b)
        .fetch_one(self.pool)
        .await
        .expect("link")
    }

    async fn group(&self, name: &str) -> i64 {
        sqlx::query_scalar(
            "insert into redundancy_group (tenant_id, name, rule) values ($1, $2, 'any') returning id",
        )
        .bind(self.tenant)
        .bind(name)
        .fetch_one(self.pool)
        .await
        .expect("group")
    }
}

/// The fields of `create_service` for an enabled internet service with nothing else set.
fn service_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", name),
        ("kind", "internet"),
        ("customer_id", ""),
        ("access_device_id", ""),
        ("access_interface", ""),
        ("pppoe_username_pattern", ""),
        ("sla_target", ""),
        ("business_hours", ""),
        ("provider", ""),
        ("enabled", "true"),
    ]
}

/// Creates a service through the API and returns its id.
async fn create_service(app: &TestApp, c: &reqwest::Client, form: &[(&str, &str)]) -> i64 {
    let res = app.call(c, "create_service", form).await;
    assert_eq!(res.status(), 200, "create_service {form:?}");
    let name = form
        .iter()
        .find(|(k, _)| *k == "name")
        .map(|(_, v)| v.trim())
        .unwrap_or_default();
    sqlx::query_scalar("select id from service where name = $1")
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .expect("service id")
}

/// Calls `add_service_dependency` and returns the status and body.
async fn depend(
    app: &TestApp,
    c: &reqwest::Client,
    service: i64,
    kind: &str,
    target: i64,
) -> (u16, Value) {
    let (service, target) = (service.to_string(), target.to_string());
    let res = app
        .call(
            c,
            "add_service_dependency",
            &[("id", &service), ("kind", kind), ("target_id", &target)],
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn invalid(status: u16, body: &Value) -> (u16, Option<&str>, Option<&str>) {
    (
        status,
        body["Invalid"]["field"].as_str(),
        body["Invalid"]["reason"].as_str(),
    )
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_create_edit_list_and_delete_services(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let inv = Inventory::of(&app.pool, "acme").await;
    let router = inv.device("vie-agg1").await;
    inv.interface(router, "ether5").await;
    let customer = create_customer(&app, &c, "Acme", "ACC-1").await.to_string();
    let router_s = router.to_string();
    let form = with(service_form("Acme DIA"), "customer_id", &customer);
    let form = with(
        with(form, "access_device_id", &router_s),
        "access_interface",
        "ETHER5",
    );
    let form = with(
        with(form, "sla_target", "99.95"),
        "business_hours",
        "office",
    );
    let id = create_service(&app, &c, &form).await;
    let id_s = id.to_string();
    let got = json_of(&app, &c, "get_service", &[("id", &id_s)]).await;
    assert_eq!(got["customer_name"], "Acme", "{got}");
    assert_eq!(got["access_device_name"], "vie-agg1");
    assert_eq!(
        got["access_interface"], "ether5",
        "found by name, case-insensitively"
    );
    assert_eq!(got["sla_target"], 99_950);
    assert_eq!(got["business_hours"], "office");
    assert_eq!(got["enabled"], true);
    assert_eq!(got["dependencies"], json!([]));

    let transit = with(
        with(service_form("Upstream A"), "kind", "transit"),
        "provider",
        "Carrier A",
    );
    create_service(&app, &c, &with(transit, "enabled", "")).await;
    let all = json_of(&app, &c, "list_services", &[]).await;
    assert_eq!(all["total"], 2, "{all}");
    let by_kind = json_of(&app, &c, "list_services", &[("kind", "transit")]).await;
    assert_eq!(by_kind["rows"][0]["name"], "Upstream A");
    assert_eq!(
        by_kind["rows"][0]["enabled"], false,
        "an absent checkbox is off"
    );
    let by_customer = json_of(&app, &c, "list_services", &[("customer", &customer)]).await;
    assert_eq!(
        (
            by_customer["total"].as_i64(),
            &by_customer["rows"][0]["name"]
        ),
        (Some(1), &json!("Acme DIA"))
    );
    let by_search = json_of(&app, &c, "list_services", &[("q", "carrier")]).await;
    assert_eq!(
        by_search["total"], 1,
        "the provider is searched: {by_search}"
    );
    let by_account = json_of(&app, &c, "list_services", &[("q", "acc-1")]).await;
    assert_eq!(
        by_account["total"], 1,
        "the customer's account id is searched"
    );
    let (status, body) = error_of(app.call(&c, "list_services", &[("kind", "dsl")]).await).await;
    assert_eq!((status, &body["Invalid"]["field"]), (422, &json!("kind")));

    let edit = with(
        with(service_form("Acme L2"), "kind", "l2"),
        "customer_id",
        &customer,
    );
    let edit = with(with(edit, "id", &id_s), "access_device_id", &router_s);
    assert_eq!(app.call(&c, "update_service", &edit).await.status(), 200);
    let got = json_of(&app, &c, "get_service", &[("id", &id_s)]).await;
    assert_eq!(
        (&got["name"], &got["access_interface"], &got["sla_target"]),
        (&json!("Acme L2"), &Value::Null, &Value::Null)
    );
    assert_eq!(got["customer_sla_target"], Value::Null);

    assert_eq!(
        app.call(&c, "delete_service", &[("id", &id_s)])
            .await
            .status(),
        200
    );
    assert_eq!(count(&app.pool, "service").await, 1);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'service.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "service.created",
            "service.created",
            "service.updated",
            "service.deleted"
        ]
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn bad_service_input_is_refused_by_field_and_writes_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let inv = Inventory::of(&app.pool, "acme").await;
    let router = inv.device("r1").await.to_string();
    let customer = create_customer(&app, &c, "Acme", "ACC-1").await.to_string();
    let existing = create_service(&app, &c, &service_form("Acme DIA"))
        .await
        .to_string();
    let before = count(&app.pool, "service").await;
    let audits = count(&app.pool, "audit_event").await;

    let cases: Vec<(Fields, u16, &str)> = vec![
        (service_form("acme dia"), 409, "name"),
        (service_form(" "), 422, "name"),
        (with(service_form("X"), "kind", "dsl"), 422, "kind"),
        (with(service_form("X"), "kind", "transit"), 422, "provider"),
        (
            with(
                with(with(service_form("X"), "kind", "transit"), "provider", "C"),
                "customer_id",
                &customer,
            ),
            422,
            "customer_id",
        ),
        (
            with(service_form("X"), "kind", "pppoe_aggregate"),
            422,
            "pppoe_username_pattern",
        ),
        (
            with(service_form("X"), "pppoe_username_pattern", "a b%"),
            422,
            "pppoe_username_pattern",
        ),
        (
            with(service_form("X"), "sla_target", "100.001"),
            422,
            "sla_target",
        ),
        (
            with(service_form("X"), "sla_target", "99.1234"),
            422,
            "sla_target",
        ),
        (
            with(service_form("X"), "sla_target", "0"),
            422,
            "sla_target",
        ),
        (
            with(service_form("X"), "customer_id", "first"),
            422,
            "customer_id",
        ),
        (
            with(service_form("X"), "customer_id", "999999"),
            422,
            "customer_id",
        ),
        (
            with(service_form("X"), "access_device_id", "999999"),
            422,
            "access_device_id",
        ),
        (
            with(service_form("X"), "access_interface", "ether1"),
            422,
            "access_interface",
        ),
        (
            with(
                with(service_form("X"), "access_device_id", &router),
                "access_interface",
                "ether9",
            ),
            422,
            "access_interface",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_service", &form).await).await;
        assert_eq!(got, status, "{form:?} → {body}");
        let kind = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[kind]["field"], field, "{form:?} → {body}");
    }
    create_service(&app, &c, &service_form("Other")).await;
    let dup = with(service_form("OTHER"), "id", &existing);
    let (got, body) = error_of(app.call(&c, "update_service", &dup).await).await;
    assert_eq!(
        (got, &body["Conflict"]["field"]),
        (409, &json!("name")),
        "{body}"
    );
    assert_eq!(
        count(&app.pool, "service").await,
        before + 1,
        "only the good one was added"
    );
    assert_eq!(
        count(&app.pool, "audit_event").await,
        audits + 1,
        "no audit row for a refusal"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn staff_read_services_and_only_admins_change_them(pool: PgPool) {
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
    let inv = Inventory::of(&app.pool, "acme").await;
    let device = inv.device("r1").await;
    let id = create_service(&app, &root, &service_form("DIA")).await;
    let (status, _) = depend(&app, &root, id, "device", device).await;
    assert_eq!(status, 200);
    let (id_s, device_s) = (id.to_string(), device.to_string());
    let dep = vec![
        ("id", id_s.as_str()),
        ("kind", "device"),
        ("target_id", device_s.as_str()),
    ];
    let writes: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("create_service", service_form("Sneaky")),
        ("update_service", with(service_form("Sneaky"), "id", &id_s)),
        ("delete_service", vec![("id", &id_s)]),
        ("add_service_dependency", dep.clone()),
        ("remove_service_dependency", dep.clone()),
    ];
    let reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("list_services", vec![]),
        ("get_service", vec![("id", &id_s)]),
        ("list_dependency_choices", vec![]),
    ];
    let anon = client(&app);
    for (endpoint, form) in reads.iter().chain(&writes) {
        assert_eq!(
            app.call(&anon, endpoint, form).await.status(),
            401,
            "signed out: {endpoint}"
        );
    }
    for who in ["op", "view"] {
        let c = app.signed_in(who).await;
        for (endpoint, form) in &reads {
            assert_eq!(
                app.call(&c, endpoint, form).await.status(),
                200,
                "{who} {endpoint}"
            );
        }
        for (endpoint, form) in &writes {
            let (status, body) = error_of(app.call(&c, endpoint, form).await).await;
            assert_eq!(
                (status, body),
                (403, json!("Forbidden")),
                "{who} {endpoint}"
            );
        }
    }
    let cust = app.signed_in("cust").await;
    for (endpoint, form) in reads.iter().chain(&writes) {
        assert_eq!(
            app.call(&cust, endpoint, form).await.status(),
            403,
            "customer role: {endpoint}"
        );
    }
    assert_eq!(count(&app.pool, "service").await, 1);
    assert_eq!(count(&app.pool, "service_dependency").await, 1);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn tenant_a_cannot_reach_or_reference_tenant_b_objects(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("tenant-a", &[("a-admin", "admin")]).await;
    app.seed_tenant("tenant-b", &[("b-admin", "admin")]).await;
    let a = app.signed_in("a-admin").await;
    let b = app.signed_in("b-admin").await;
    let inv_b = Inventory::of(&app.pool, "tenant-b").await;
    let (b1, b2) = (inv_b.device("b-r1").await, inv_b.device("b-r2").await);
    let b_link = inv_b.link(b1, b2).await;
    let b_group = inv_b.group("b-pair").await;
    let b_customer = create_customer(&app, &b, "Bravo", "B-1").await;
    let b_service = create_service(&app, &b, &service_form("Bravo DIA")).await;
    let (status, _) = depend(&app, &b, b_service, "device", b1).await;
    assert_eq!(status, 200);
    let mine = create_service(&app, &a, &service_form("Alpha DIA")).await;

    // B's service by id: as missing as a free id, and untouched.
    let snapshot = || async {
        sqlx::query_as::<_, (String, String, i64)>(
            "select s.name, s.updated_at::text, (select count(*) from service_dependency d where d.service_id = s.id)
             from service s where s.name = 'Bravo DIA'",
        )
        .fetch_one(&app.pool)
        .await
        .expect("B's service")
    };
    let before = snapshot().await;
    let (theirs, b1_s, mine_s) = (b_service.to_string(), b1.to_string(), mine.to_string());
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("get_service", vec![("id", &theirs)]),
        ("update_service", with(service_form("Taken"), "id", &theirs)),
        ("delete_service", vec![("id", &theirs)]),
        (
            "add_service_dependency",
            vec![("id", &theirs), ("kind", "service"), ("target_id", &mine_s)],
        ),
        (
            "remove_service_dependency",
            vec![("id", &theirs), ("kind", "device"), ("target_id", &b1_s)],
        ),
    ];
    for (endpoint, form) in calls {
        let (status, body) = error_of(app.call(&a, endpoint, &form).await).await;
        assert_eq!((status, &body), (404, &json!("NotFound")), "{endpoint}");
    }
    assert_eq!(snapshot().await, before, "B's service is untouched");

    // B's objects as references from A: an invalid field, worded as for an id that is free.
    let (b_customer_s, b1_s2) = (b_customer.to_string(), b1.to_string());
    for (endpoint, extra) in [
        ("create_service", None),
        ("update_service", Some(mine_s.as_str())),
    ] {
        let base = |name| match extra {
            Some(id) => with(service_form(name), "id", id),
            None => service_form(name),
        };
        let (status, body) = error_of(
            app.call(
                &a,
                endpoint,
                &with(base("A2"), "customer_id", &b_customer_s),
            )
            .await,
        )
        .await;
        assert_eq!(
            invalid(status, &body),
            (422, Some("customer_id"), Some("no such customer")),
            "{endpoint}"
        );
        let (status, body) = error_of(
            app.call(&a, endpoint, &with(base("A2"), "access_device_id", &b1_s2))
                .await,
        )
        .await;
        assert_eq!(
            invalid(status, &body),
            (422, Some("access_device_id"), Some("no such device")),
            "{endpoint}"
        );
    }
    let targets = [
        ("device", b1, "no such device"),
        ("link", b_link, "no such link"),
        ("group", b_group, "no such redundancy group"),
        ("service", b_service, "no such service"),
        ("device", i64::MAX, "no such device"),
    ];
    for (kind, target, reason) in targets {
        let (status, body) = depend(&app, &a, mine, kind, target).await;
        assert_eq!(
            invalid(status, &body),
            (422, Some("target_id"), Some(reason)),
            "{kind} {target}"
        );
    }
    let (status, body) = error_of(
        app.call(
            &a,
            "remove_service_dependency",
            &[("id", &mine_s), ("kind", "device"), ("target_id", &b1_s)],
        )
        .await,
    )
    .await;
    assert_eq!((status, body), (404, json!("NotFound")));
    assert_eq!(count(&app.pool, "service").await, 2, "nothing added");
    assert_eq!(
        count(&app.pool, "service_dependency").await,
        1,
        "only B's own"
    );

    // A's lists and pickers hold nothing of B's.
    let list = json_of(&app, &a, "list_services", &[]).await;
    assert_eq!(
        (list["total"].as_i64(), &list["rows"][0]["name"]),
        (Some(1), &json!("Alpha DIA"))
    );
    let by_b_customer = json_of(&app, &a, "list_services", &[("customer", &b_customer_s)]).await;
    assert_eq!(by_b_customer["total"], 0);
    let choices = json_of(&app, &a, "list_dependency_choices", &[]).await;
    for list in ["customers", "devices", "links", "groups"] {
        assert_eq!(choices[list], json!([]), "{list}: {choices}");
    }
    assert_eq!(
        choices["services"],
        json!([{ "id": mine, "label": "Alpha DIA" }])
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn dependencies_are_added_listed_removed_and_never_cycle(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let inv = Inventory::of(&app.pool, "acme").await;
    let (core, agg) = (inv.device("core1").await, inv.device("agg1").await);
    inv.interface(core, "sfp1").await;
    let link = inv.link(core, agg).await;
    let group = inv.group("core pair").await;
    let a = create_service(&app, &c, &service_form("A")).await;
    let b = create_service(&app, &c, &service_form("B")).await;
    let s_c = create_service(&app, &c, &service_form("C")).await;
    for (kind, target) in [
        ("device", agg),
        ("link", link),
        ("group", group),
        ("service", b),
    ] {
        let (status, body) = depend(&app, &c, a, kind, target).await;
        assert_eq!(status, 200, "A → {kind}: {body}");
    }
    assert_eq!(depend(&app, &c, b, "service", s_c).await.0, 200, "B → C");
    let got = json_of(&app, &c, "get_service", &[("id", &a.to_string())]).await;
    assert_eq!(
        got["dependencies"],
        json!([
            { "Device": { "id": agg, "name": "agg1" } },
            { "Link": { "id": link, "label": "core1 → agg1 (physical)" } },
            { "Group": { "id": group, "name": "core pair" } },
            { "Service": { "id": b, "name": "B" } },
        ])
    );

    let edges = count(&app.pool, "service_dependency").await;
    let audits = count(&app.pool, "audit_event").await;
    let (status, body) = depend(&app, &c, a, "service", b).await;
    assert_eq!(
        (status, &body["Conflict"]["field"]),
        (409, &json!("target_id")),
        "twice: {body}"
    );
    let (status, body) = depend(&app, &c, a, "service", a).await;
    assert_eq!(
        invalid(status, &body).1,
        Some("target_id"),
        "itself: {body}"
    );
    assert!(invalid(status, &body)
        .2
        .unwrap_or_default()
        .contains("\"A\" cannot depend on itself"));
    for (from, to, from_name, to_name) in [(s_c, a, "C", "A"), (s_c, b, "C", "B"), (b, a, "B", "A")]
    {
        let (status, body) = depend(&app, &c, from, "service", to).await;
        let (status, field, reason) = invalid(status, &body);
        assert_eq!(
            (status, field),
            (422, Some("target_id")),
            "{from_name} → {to_name}: {body}"
        );
        let reason = reason.unwrap_or_default();
        assert!(
            reason.contains(&format!("\"{from_name}\" cannot depend on \"{to_name}\""))
                && reason.contains(&format!("\"{to_name}\" already depends on \"{from_name}\"")),
            "{reason}"
        );
    }
    let (status, body) = depend(&app, &c, a, "interface", agg).await;
    assert_eq!(invalid(status, &body).1, Some("kind"), "{body}");
    assert_eq!(
        count(&app.pool, "service_dependency").await,
        edges,
        "no edge written"
    );
    assert_eq!(
        count(&app.pool, "audit_event").await,
        audits,
        "no audit row for a refusal"
    );

    // C is depended on by B: not deletable until that edge goes.
    let (status, body) = error_of(
        app.call(&c, "delete_service", &[("id", &s_c.to_string())])
            .await,
    )
    .await;
    assert_eq!(
        (status, &body["Conflict"]["field"]),
        (409, &json!("service")),
        "{body}"
    );
    assert!(
        body["Conflict"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("\"B\""),
        "{body}"
    );

    let remove = |from: i64, to: i64| {
        let (from, to) = (from.to_string(), to.to_string());
        let app = &app;
        let c = &c;
        async move {
            app.call(
                c,
                "remove_service_dependency",
                &[("id", &from), ("kind", "service"), ("target_id", &to)],
            )
            .await
            .status()
        }
    };
    assert_eq!(remove(a, b).await, 200);
    assert_eq!(remove(a, b).await, 404, "already gone");
    assert_eq!(
        depend(&app, &c, s_c, "service", a).await.0,
        200,
        "no cycle any more: C → A"
    );
    assert_eq!(remove(b, s_c).await, 200);
    assert_eq!(
        app.call(&c, "delete_service", &[("id", &s_c.to_string())])
            .await
            .status(),
        200
    );
    assert_eq!(
        count(&app.pool, "service_dependency").await,
        3,
        "A's device, link and group"
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'service.dependency%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "service.dependency_added")
            .count(),
        6
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "service.dependency_removed")
            .count(),
        2
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn dependency_choices_are_labelled_and_capped(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let inv = Inventory::of(&app.pool, "acme").await;
    let (core, agg) = (inv.device("a-core").await, inv.device("a-agg").await);
    inv.interface(core, "sfp1").await;
    let link = inv.link(core, agg).await;
    sqlx::query("update link set a_interface_id = (select id from interface where name = 'sfp1') where id = $1")
        .bind(link)
        .execute(&app.pool)
        .await
        .expect("link interface");
    sqlx::query(
        "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address)
         select $1, $2, 'z-cpe-' || n, 'mikrotik', 'cpe', '192.0.2.9' from generate_series(1, 2001) n",
    )
    .bind(inv.tenant)
    .bind(inv.site)
    .execute(&app.pool)
    .await
    .expect("many devices");
    create_customer(&app, &c, "Acme", "ACC-1").await;
    let choices = json_of(&app, &c, "list_dependency_choices", &[]).await;
    assert_eq!(
        choices["devices"].as_array().map(Vec::len),
        Some(2000),
        "capped"
    );
    assert_eq!(choices["devices"][0]["label"], "a-agg", "by name");
    assert_eq!(
        choices["links"],
        json!([{ "id": link, "label": "a-core sfp1 → a-agg (physical)" }])
    );
    assert_eq!(choices["customers"][0]["label"], "Acme (ACC-1)");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn service_pages_render_without_javascript(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin"), ("view", "viewer")])
        .await;
    let root = app.signed_in("root").await;
    let inv = Inventory::of(&app.pool, "acme").await;
    let device = inv.device("r1").await;
    let customer = create_customer(&app, &root, "Acme", "ACC-1")
        .await
        .to_string();
    let id = create_service(
        &app,
        &root,
        &with(service_form("Acme DIA"), "customer_id", &customer),
    )
    .await;
    assert_eq!(depend(&app, &root, id, "device", device).await.0, 200);

    let (status, body) = page(
        &app,
        &root,
        &format!("/inventory/services?customer={customer}&kind=internet"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"data-name="Acme DIA""#), "{body}");
    assert!(body.contains(r#"id="create-service-form""#));
    let (status, body) = page(&app, &root, &format!("/inventory/services/{id}")).await;
    assert_eq!(status, 200);
    for form in [
        "edit-service-form",
        "delete-service-form",
        "add-link-form",
        "add-service-form",
    ] {
        assert!(body.contains(&format!(r#"id="{form}""#)), "{form}: {body}");
    }
    assert!(
        body.contains(&format!(r#"data-kind="device" data-target="{device}""#)),
        "{body}"
    );
    let (status, body) = page(
        &app,
        &app.signed_in("view").await,
        &format!("/inventory/services/{id}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("edit-service-form") && !body.contains(">Remove<"),
        "viewers get no forms"
    );
    let (status, _) = page(&app, &root, "/inventory/services/999999").await;
    assert_eq!(status, 404);
}
