//! Devices, interfaces and links: create, filters and pages, interfaces edited in place, the
//! cycle check, role checks, tenant isolation for every function that takes an id, and bad input
//! that writes nothing. Editing links is in `links.rs`.

use reqwest::Client;
use sqlx::PgPool;

use crate::sites::create_site;
use crate::{count, error_of, spawn_app, TestApp};

fn device_form<'a>(
    name: &'a str,
    site: &'a str,
    role: &'a str,
    address: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("form[name]", name),
        ("form[site_id]", site),
        ("form[vendor]", "mikrotik"),
        ("form[model]", "CCR2004"),
        ("form[role]", role),
        ("form[mgmt_address]", address),
        ("form[api_port]", ""),
        ("form[rest_port]", ""),
        ("form[snmp_version]", "none"),
        ("form[credential_profile_id]", ""),
        ("form[snmp_profile_id]", ""),
        ("form[polling_profile]", "fast"),
        ("form[tags]", "backbone"),
        ("form[enabled]", "on"),
    ]
}

/// Creates a device through the API and returns its id.
pub async fn create_device(
    app: &TestApp,
    c: &Client,
    name: &str,
    site: i64,
    role: &str,
    address: &str,
) -> i64 {
    let site = site.to_string();
    let res = app
        .call(c, "create_device", &device_form(name, &site, role, address))
        .await;
    assert_eq!(
        res.status(),
        200,
        "create_device {name}: {}",
        res.text().await.unwrap_or_default()
    );
    device_id(&app.pool, name).await
}

/// What the edit tests start from: tenant acme (root admin, op operator, eve viewer, cust
/// customer) with site vie1 and device core-1 (10.0.0.1), and tenant other (boss, its admin).
pub struct EditFixture {
    pub app: TestApp,
    /// Signed in as acme's root.
    pub root: Client,
    /// Signed in as other's boss.
    pub boss: Client,
    pub site: i64,
    pub core: i64,
}

pub async fn edit_fixture(pool: PgPool) -> EditFixture {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[
            ("root", "admin"),
            ("op", "operator"),
            ("eve", "viewer"),
            ("cust", "customer"),
        ],
    )
    .await;
    app.seed_tenant("other", &[("boss", "admin")]).await;
    let root = app.signed_in("root").await;
    let boss = app.signed_in("boss").await;
    let site = create_site(&app, &root, "Vienna", "vie1").await;
    let core = create_device(&app, &root, "core-1", site, "core", "10.0.0.1").await;
    EditFixture {
        app,
        root,
        boss,
        site,
        core,
    }
}

async fn device_id(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("select id from device where name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("device id")
}

/// The fields of the link form (create and edit): each end a device id and an interface name.
pub fn link_fields<'a>(
    (a, a_interface): (&'a str, &'a str),
    (b, b_interface): (&'a str, &'a str),
    kind: &'a str,
    capacity: &'a str,
    upstream: bool,
) -> Vec<(&'static str, &'a str)> {
    let mut form = vec![
        ("form[a_device_id]", a),
        ("form[a_interface]", a_interface),
        ("form[b_device_id]", b),
        ("form[b_interface]", b_interface),
        ("form[kind]", kind),
        ("form[capacity_mbps]", capacity),
    ];
    if upstream {
        form.push(("form[upstream]", "on"));
    }
    form
}

/// Links `b` under `a` (an uplink when `upstream`) and returns the response status.
pub async fn link(app: &TestApp, c: &Client, a: i64, b: i64, upstream: bool) -> u16 {
    let (a, b) = (a.to_string(), b.to_string());
    let form = link_fields((&a, "sfp1"), (&b, "ether1"), "physical", "10000", upstream);
    app.call(c, "create_link", &form).await.status().as_u16()
}

/// A form, the status it must get, and the field the error must name.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn devices_are_created_checked_and_listed(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    app.seed_tenant("other", &[("boss", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Vienna", "vie1").await;
    let theirs = create_site(&app, &app.signed_in("boss").await, "Graz", "grz1")
        .await
        .to_string();
    let id = create_device(&app, &c, "vie1-core-1", site, "core", "10.0.0.1").await;
    let got: serde_json::Value = app
        .call(&c, "get_device", &[("id", &id.to_string())])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(got["row"]["mgmt_address"], "10.0.0.1");
    assert_eq!(got["api_port"], 8728, "RouterOS default port");
    assert_eq!(got["polling_profile"], "fast");

    let site_text = site.to_string();
    let before = count(&app.pool, "device").await;
    let cases: [Case; 6] = [
        (
            device_form("VIE1-CORE-1", &site_text, "core", "10.0.0.9"),
            409,
            "name",
        ),
        (
            device_form("x", &site_text, "core", "10.0.0.300"),
            422,
            "mgmt_address",
        ),
        (
            device_form("x", &site_text, "router", "10.0.0.9"),
            422,
            "role",
        ),
        (
            device_form("x", &theirs, "core", "10.0.0.9"),
            422,
            "site_id",
        ),
        (
            device_form("x", "999999", "core", "10.0.0.9"),
            422,
            "site_id",
        ),
        (
            {
                let mut f = device_form("x", &site_text, "core", "10.0.0.9");
                f[6] = ("form[api_port]", "65536");
                f
            },
            422,
            "api_port",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_device", &form).await).await;
        assert_eq!(got, status, "{form:?}: {body}");
        let key = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[key]["field"], field, "{form:?}: {body}");
    }
    assert_eq!(count(&app.pool, "device").await, before, "nothing written");

    // Filters and pages: 60 more access devices, every third one disabled and tagged.
    for i in 0..60 {
        sqlx::query(
            "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address, tags, enabled)
             select tenant_id, id, $2, 'mikrotik', 'access', $3::inet, $4, $5 from site where id = $1",
        )
        .bind(site)
        .bind(format!("vie1-acc-{i:02}"))
        .bind(format!("10.1.0.{i}"))
        .bind(if i % 3 == 0 { vec!["pppoe".to_owned()] } else { vec![] })
        .bind(i % 3 != 0)
        .execute(&app.pool)
        .await
        .expect("insert");
    }
    let list = |form: Vec<(&'static str, String)>| {
        let (app, c) = (&app, &c);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page: serde_json::Value = app
                .call(c, "list_devices", &form)
                .await
                .json()
                .await
                .expect("json");
            page
        }
    };
    let all = list(vec![]).await;
    assert_eq!(
        (all["total"].as_i64(), all["rows"].as_array().map(Vec::len)),
        (Some(61), Some(50))
    );
    let second = list(vec![("filter[page]", "2".into())]).await;
    assert_eq!(second["rows"].as_array().map(Vec::len), Some(11));
    assert_eq!(
        list(vec![("filter[role]", "core".into())]).await["total"],
        1
    );
    assert_eq!(
        list(vec![("filter[tag]", "PPPoE".into())]).await["total"],
        20
    );
    assert_eq!(
        list(vec![("filter[status]", "disabled".into())]).await["total"],
        20
    );
    assert_eq!(
        list(vec![("filter[q]", "10.1.0.5".into())]).await["total"],
        11,
        "address substring: .5 and .50-.59"
    );
    assert_eq!(
        list(vec![("filter[site]", theirs.clone())]).await["total"],
        0
    );
    let (status, body) = error_of(
        app.call(&c, "list_devices", &[("filter[role]", "router")])
            .await,
    )
    .await;
    assert_eq!(
        (status, body["Invalid"]["field"].as_str()),
        (422, Some("role"))
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn links_create_interfaces_and_refuse_cycles(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Vienna", "vie1").await;
    let core = create_device(&app, &c, "core-1", site, "core", "10.0.0.1").await;
    let agg = create_device(&app, &c, "agg-1", site, "aggregation", "10.0.0.2").await;
    let acc = create_device(&app, &c, "acc-1", site, "access", "10.0.0.3").await;
    assert_eq!(link(&app, &c, core, agg, true).await, 200);
    assert_eq!(link(&app, &c, agg, acc, true).await, 200);
    let ifaces: Vec<String> =
        sqlx::query_scalar("select name from interface where device_id = $1 order by name")
            .bind(agg)
            .fetch_all(&app.pool)
            .await
            .expect("interfaces");
    assert_eq!(
        ifaces,
        ["ether1", "sfp1"],
        "interfaces named by a link are created"
    );

    // core-1 under acc-1 would close core → agg → acc → core.
    let links_before = count(&app.pool, "link").await;
    let ifaces_before = count(&app.pool, "interface").await;
    let (a, b) = (acc.to_string(), core.to_string());
    let res = app
        .call(
            &c,
            "create_link",
            &link_fields((&a, "new-port"), (&b, ""), "wireless", "", true),
        )
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    let reason = body["Invalid"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("core-1") && reason.contains("acc-1") && reason.contains("cycle"),
        "{reason}"
    );
    assert_eq!(
        count(&app.pool, "link").await,
        links_before,
        "no link written"
    );
    assert_eq!(
        count(&app.pool, "interface").await,
        ifaces_before,
        "no interface written"
    );

    // The same pair as a peer link is fine, and a duplicate is a conflict.
    assert_eq!(link(&app, &c, acc, core, false).await, 200);
    assert_eq!(link(&app, &c, core, agg, true).await, 409);

    let detail: serde_json::Value = app
        .call(&c, "get_device", &[("id", &agg.to_string())])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["links"].as_array().map(Vec::len), Some(2));
    let link_id = detail["links"][0]["id"]
        .as_i64()
        .expect("link id")
        .to_string();
    assert_eq!(
        app.call(&c, "delete_link", &[("id", &link_id)])
            .await
            .status(),
        200
    );
    // Deleting a device takes its links and interfaces with it.
    assert_eq!(
        app.call(&c, "delete_device", &[("id", &agg.to_string())])
            .await
            .status(),
        200
    );
    let left: i64 =
        sqlx::query_scalar("select count(*) from link where a_device_id = $1 or b_device_id = $1")
            .bind(agg)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(left, 0);
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_event where action like 'link.%' or action = 'device.deleted' order by id")
        .fetch_all(&app.pool)
        .await
        .expect("audit");
    assert_eq!(
        actions,
        [
            "link.created",
            "link.created",
            "link.created",
            "link.deleted",
            "device.deleted"
        ]
    );
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
    let boss = app.signed_in("boss").await;
    let mine_site = create_site(&app, &root, "Vienna", "vie1").await;
    let mine = create_device(&app, &root, "mine", mine_site, "core", "10.0.0.1").await;
    let their_site = create_site(&app, &boss, "Graz", "grz1").await;
    let theirs = create_device(&app, &boss, "theirs", their_site, "core", "10.9.0.1").await;
    let theirs_too = create_device(&app, &boss, "theirs-2", their_site, "access", "10.9.0.2").await;
    assert_eq!(link(&app, &boss, theirs, theirs_too, true).await, 200);
    let their_link: i64 = sqlx::query_scalar("select id from link")
        .fetch_one(&app.pool)
        .await
        .expect("link");
    let their_iface: i64 = sqlx::query_scalar("select id from interface where device_id = $1")
        .bind(theirs)
        .fetch_one(&app.pool)
        .await
        .expect("iface");

    let viewer = app.signed_in("eve").await;
    assert_eq!(app.call(&viewer, "list_devices", &[]).await.status(), 200);
    assert_eq!(
        app.call(&viewer, "get_device", &[("id", &mine.to_string())])
            .await
            .status(),
        200
    );
    let site_text = mine_site.to_string();
    assert_eq!(
        app.call(
            &viewer,
            "create_device",
            &device_form("v", &site_text, "core", "10.0.0.5")
        )
        .await
        .status(),
        403
    );
    assert_eq!(link(&app, &viewer, mine, mine, true).await, 403);
    let customer = app.signed_in("cust").await;
    for endpoint in ["list_devices", "list_device_names", "device_form_choices"] {
        assert_eq!(
            app.call(&customer, endpoint, &[]).await.status(),
            403,
            "{endpoint}"
        );
    }

    let (t, tl, ti) = (
        theirs.to_string(),
        their_link.to_string(),
        their_iface.to_string(),
    );
    let mut edit = device_form("stolen", &site_text, "core", "10.0.0.7");
    edit.push(("id", &t));
    let not_found: [(&str, Vec<(&str, &str)>); 6] = [
        ("get_device", vec![("id", &t)]),
        ("update_device", edit),
        ("delete_device", vec![("id", &t)]),
        (
            "add_interface",
            vec![
                ("device_id", &t),
                ("name", "x"),
                ("kind", ""),
                ("speed_mbps", ""),
                ("role", ""),
            ],
        ),
        ("delete_interface", vec![("device_id", &t), ("id", &ti)]),
        ("delete_link", vec![("id", &tl)]),
    ];
    for (endpoint, form) in not_found {
        assert_eq!(
            app.call(&root, endpoint, &form).await.status(),
            404,
            "{endpoint}"
        );
    }
    // Linking to another tenant's device names the field and writes nothing.
    let before = count(&app.pool, "link").await;
    let status = link(&app, &root, theirs, mine, true).await;
    assert_eq!(status, 422);
    assert_eq!(count(&app.pool, "link").await, before);
    let names: serde_json::Value = app
        .call(&root, "list_device_names", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        names.as_array().map(Vec::len),
        Some(1),
        "only the tenant's own devices: {names}"
    );
    let name: String = sqlx::query_scalar("select name from device where id = $1")
        .bind(theirs)
        .fetch_one(&app.pool)
        .await
        .expect("device");
    assert_eq!(name, "theirs", "untouched");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_blast_radius_honours_a_second_uplink(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    app.seed_tenant("other", &[("boss", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Vienna", "vie1").await;
    let core = create_device(&app, &c, "core-1", site, "core", "10.0.0.1").await;
    let agg1 = create_device(&app, &c, "agg-1", site, "aggregation", "10.0.0.2").await;
    let agg2 = create_device(&app, &c, "agg-2", site, "aggregation", "10.0.0.3").await;
    let dual = create_device(&app, &c, "acc-dual", site, "access", "10.0.0.4").await;
    let single = create_device(&app, &c, "acc-single", site, "access", "10.0.0.5").await;
    for (a, b) in [
        (core, agg1),
        (core, agg2),
        (agg1, dual),
        (agg2, dual),
        (agg1, single),
    ] {
        assert_eq!(link(&app, &c, a, b, true).await, 200);
    }
    let impact = |id: i64| {
        let (app, c) = (&app, &c);
        async move {
            let v: serde_json::Value = app
                .call(c, "get_device_impact", &[("id", &id.to_string())])
                .await
                .json()
                .await
                .expect("json");
            v
        }
    };
    let agg = impact(agg1).await;
    assert_eq!(
        agg["devices_down"],
        serde_json::json!([[single, "acc-single"]]),
        "{agg}"
    );
    assert_eq!(agg["dependents"], 2, "both access routers depend on agg-1");
    let top = impact(core).await;
    assert_eq!(
        top["devices_down"].as_array().map(Vec::len),
        Some(4),
        "{top}"
    );
    let paths = impact(dual).await;
    assert_eq!(
        paths["upstream_paths"],
        serde_json::json!([
            ["core-1", "agg-1", "acc-dual"],
            ["core-1", "agg-2", "acc-dual"]
        ])
    );

    let boss = app.signed_in("boss").await;
    let res = app
        .call(&boss, "get_device_impact", &[("id", &core.to_string())])
        .await;
    assert_eq!(res.status(), 404, "another tenant's device");
}

/// The `update_interface` form for interface `id` of `device`.
fn interface_form<'a>(
    device: &'a str,
    id: &'a str,
    name: &'a str,
    kind: &'a str,
    speed: &'a str,
    role: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("device_id", device),
        ("id", id),
        ("form[name]", name),
        ("form[kind]", kind),
        ("form[speed_mbps]", speed),
        ("form[role]", role),
    ]
}

/// (name, kind, speed, role) of an interface, straight from the table.
async fn interface_row(pool: &PgPool, id: i64) -> (String, String, Option<i64>, String) {
    sqlx::query_as("select name, kind, speed_mbps, role from interface where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("interface")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn interfaces_are_edited_in_place(pool: PgPool) {
    let EditFixture {
        app,
        root: c,
        boss,
        site,
        core,
    } = edit_fixture(pool).await;
    let dev = core.to_string();
    for name in ["ether1", "sfp1"] {
        let res = app
            .call(
                &c,
                "add_interface",
                &[
                    ("device_id", dev.as_str()),
                    ("name", name),
                    ("kind", ""),
                    ("speed_mbps", ""),
                    ("role", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "add_interface {name}");
    }
    let iface = |name: &'static str| {
        let pool = app.pool.clone();
        async move {
            let id: i64 = sqlx::query_scalar("select id from interface where name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .expect("interface id");
            id
        }
    };
    let (ether1, sfp1) = (iface("ether1").await, iface("sfp1").await);
    let (e, s) = (ether1.to_string(), sfp1.to_string());

    let res = app
        .call(
            &c,
            "update_interface",
            &interface_form(&dev, &e, "ether1-wan", "sfp", " 1000 ", "uplink"),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        interface_row(&app.pool, ether1).await,
        (
            "ether1-wan".into(),
            "sfp".into(),
            Some(1000),
            "uplink".into()
        )
    );
    let audit: (String, String, String) = sqlx::query_as(
        "select target, detail->>'name_before', detail->>'speed_mbps' from audit_event
         where action = 'interface.updated'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("one audit row");
    assert_eq!(
        audit,
        ("core-1 ether1-wan".into(), "ether1".into(), "1000".into())
    );

    // Bad input names its field; a taken name (any case) is a conflict; nothing changes.
    let cases: [Case; 6] = [
        (
            interface_form(&dev, &s, "ETHER1-WAN", "", "", ""),
            409,
            "name",
        ),
        (interface_form(&dev, &s, "", "", "", ""), 422, "name"),
        (
            interface_form(&dev, &s, "sfp1", "", "0", ""),
            422,
            "speed_mbps",
        ),
        (
            interface_form(&dev, &s, "sfp1", "", "10000001", ""),
            422,
            "speed_mbps",
        ),
        (
            interface_form(&dev, &s, "sfp1", "serial", "", ""),
            422,
            "kind",
        ),
        (interface_form(&dev, &s, "sfp1", "", "", "wan"), 422, "role"),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "update_interface", &form).await).await;
        assert_eq!(got, status, "{form:?}: {body}");
        let key = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[key]["field"], field, "{form:?}: {body}");
    }
    // Only admins edit.
    let edit = interface_form(&dev, &s, "stolen", "", "", "");
    for user in ["op", "eve", "cust"] {
        let client = app.signed_in(user).await;
        assert_eq!(
            app.call(&client, "update_interface", &edit).await.status(),
            403,
            "{user}"
        );
    }
    // Another tenant's admin, by id, and an interface of another device: not found.
    let other = create_device(&app, &c, "core-2", site, "core", "10.0.0.2").await;
    let other = other.to_string();
    assert_eq!(
        app.call(&boss, "update_interface", &edit).await.status(),
        404
    );
    let wrong_device = interface_form(&other, &s, "stolen", "", "", "");
    assert_eq!(
        app.call(&c, "update_interface", &wrong_device)
            .await
            .status(),
        404
    );
    assert_eq!(
        interface_row(&app.pool, sfp1).await,
        ("sfp1".into(), "ethernet".into(), None, "other".into()),
        "untouched"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'interface.updated'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 1, "only the change that happened is audited");
}
