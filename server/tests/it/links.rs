//! Links edited in place: every field can change, the change is audited, the cycle check sees
//! the edited link's new ends (and not its old ones), bad input names its field and writes
//! nothing, only admins edit, and another tenant's link is not found.

use reqwest::Client;
use sqlx::PgPool;

use crate::devices::{create_device, edit_fixture, link, link_fields, EditFixture};
use crate::sites::create_site;
use crate::{count, error_of, spawn_app, TestApp};

/// The `update_link` form for link `id` from `a` to `b`, each end a device and an interface
/// name; it goes back to `b`'s page.
fn link_form<'a>(
    id: &'a str,
    a: (&'a str, &'a str),
    b: (&'a str, &'a str),
    kind: &'a str,
    capacity: &'a str,
    upstream: bool,
) -> Vec<(&'static str, &'a str)> {
    let mut form = vec![("id", id), ("back", b.0)];
    form.extend(link_fields(a, b, kind, capacity, upstream));
    form
}

/// (a device, b device, kind, upstream, capacity) of a link, straight from the table.
async fn link_row(pool: &PgPool, id: i64) -> (i64, i64, String, bool, Option<i64>) {
    sqlx::query_as(
        "select a_device_id, b_device_id, kind, upstream, capacity_mbps from link where id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("link")
}

async fn link_id(pool: &PgPool, a: i64, b: i64) -> i64 {
    sqlx::query_scalar("select id from link where a_device_id = $1 and b_device_id = $2")
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await
        .expect("link id")
}

/// Calls `update_link` and returns the status and the JSON error body (`null` on success).
async fn update(app: &TestApp, c: &Client, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let res = app.call(c, "update_link", form).await;
    if res.status().is_success() {
        (res.status().as_u16(), serde_json::Value::Null)
    } else {
        error_of(res).await
    }
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn links_are_edited_in_place_and_stay_acyclic(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Vienna", "vie1").await;
    let core = create_device(&app, &c, "core-1", site, "core", "10.0.0.1").await;
    let agg = create_device(&app, &c, "agg-1", site, "aggregation", "10.0.0.2").await;
    let acc = create_device(&app, &c, "acc-1", site, "access", "10.0.0.3").await;
    let cpe = create_device(&app, &c, "cpe-1", site, "cpe", "10.0.0.4").await;
    for (a, b, upstream) in [
        (core, agg, true),
        (agg, acc, true),
        (acc, cpe, true),
        (acc, core, false),
    ] {
        assert_eq!(link(&app, &c, a, b, upstream).await, 200);
    }
    let (core_s, agg_s, acc_s) = (core.to_string(), agg.to_string(), acc.to_string());
    let agg_acc = link_id(&app.pool, agg, acc).await;
    let id = agg_acc.to_string();

    // Every field of agg-1 → acc-1 changes; a new interface name is created on its device.
    let (status, body) = update(
        &app,
        &c,
        &link_form(
            &id,
            (&agg_s, "sfp2"),
            (&acc_s, "wlan1"),
            "wireless",
            "1000",
            true,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        link_row(&app.pool, agg_acc).await,
        (agg, acc, "wireless".into(), true, Some(1000))
    );
    let ends: (String, String) = sqlx::query_as(
        "select ia.name, ib.name from link l join interface ia on ia.id = l.a_interface_id
         join interface ib on ib.id = l.b_interface_id where l.id = $1",
    )
    .bind(agg_acc)
    .fetch_one(&app.pool)
    .await
    .expect("ends");
    assert_eq!(ends, ("sfp2".into(), "wlan1".into()));
    let audit: (String, String, String) = sqlx::query_as(
        "select target, detail->>'before', detail->>'capacity_mbps' from audit_event
         where action = 'link.updated'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("one audit row");
    assert_eq!(
        audit,
        (
            "agg-1 → acc-1".into(),
            "agg-1 sfp1 → acc-1 ether1".into(),
            "1000".into()
        )
    );

    // Ticking "upstream" on the peer link acc-1 ↔ core-1 would make core-1 depend on acc-1,
    // which reaches the network through agg-1 and core-1: refused, with both devices named.
    let acc_core = link_id(&app.pool, acc, core).await;
    let acc_core_s = acc_core.to_string();
    let form = link_form(
        &acc_core_s,
        (&acc_s, "sfp1"),
        (&core_s, "ether1"),
        "physical",
        "10000",
        true,
    );
    refused_as_cycle(&app, &c, &form, acc_core, ("core-1", "acc-1")).await;

    // Moving acc-1 → cpe-1 to acc-1 → agg-1 would make agg-1 depend on its own dependant.
    let acc_cpe = link_id(&app.pool, acc, cpe).await;
    let acc_cpe_s = acc_cpe.to_string();
    let form = link_form(
        &acc_cpe_s,
        (&acc_s, "brand-new"),
        (&agg_s, "also-new"),
        "physical",
        "",
        true,
    );
    refused_as_cycle(&app, &c, &form, acc_cpe, ("agg-1", "acc-1")).await;

    // Reversing core-1 → agg-1 is no cycle: the only path from agg-1 up to core-1 is the link
    // being edited, whose old ends are left out of the check.
    let core_agg = link_id(&app.pool, core, agg).await;
    let core_agg_s = core_agg.to_string();
    let form = link_form(
        &core_agg_s,
        (&agg_s, "sfp1"),
        (&core_s, "ether1"),
        "physical",
        "10000",
        true,
    );
    let (status, body) = update(&app, &c, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        link_row(&app.pool, core_agg).await,
        (agg, core, "physical".into(), true, Some(10000))
    );
}

/// `form` must be refused as a cycle naming both `devices`, and change nothing.
async fn refused_as_cycle(
    app: &TestApp,
    c: &Client,
    form: &[(&str, &str)],
    id: i64,
    devices: (&str, &str),
) {
    let row_before = link_row(&app.pool, id).await;
    let links_before = count(&app.pool, "link").await;
    let ifaces_before = count(&app.pool, "interface").await;
    let (status, body) = update(app, c, form).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["Invalid"]["field"], "b_device_id", "{body}");
    let reason = body["Invalid"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("{} cannot depend on {}", devices.0, devices.1))
            && reason.contains("cycle"),
        "{reason}"
    );
    assert_eq!(link_row(&app.pool, id).await, row_before, "unchanged");
    assert_eq!(count(&app.pool, "link").await, links_before);
    assert_eq!(
        count(&app.pool, "interface").await,
        ifaces_before,
        "no interface written"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn link_edits_check_input_roles_and_tenants(pool: PgPool) {
    let EditFixture {
        app,
        root: c,
        boss,
        site,
        core,
    } = edit_fixture(pool).await;
    let agg = create_device(&app, &c, "agg-1", site, "aggregation", "10.0.0.2").await;
    let their_site = create_site(&app, &boss, "Graz", "grz1").await;
    let theirs = create_device(&app, &boss, "theirs", their_site, "core", "10.9.0.1").await;
    let theirs_too = create_device(&app, &boss, "theirs-2", their_site, "access", "10.9.0.2").await;
    assert_eq!(link(&app, &c, core, agg, true).await, 200);
    assert_eq!(link(&app, &boss, theirs, theirs_too, true).await, 200);
    let mine = link_id(&app.pool, core, agg).await;
    let their_link = link_id(&app.pool, theirs, theirs_too).await;
    // A second, wireless link between the same interfaces.
    let (core_s, agg_s, theirs_s, theirs_too_s) = (
        core.to_string(),
        agg.to_string(),
        theirs.to_string(),
        theirs_too.to_string(),
    );
    let res = app
        .call(
            &c,
            "create_link",
            &link_fields((&core_s, "sfp1"), (&agg_s, "ether1"), "wireless", "", true),
        )
        .await;
    assert_eq!(res.status(), 200);
    let wireless: i64 = sqlx::query_scalar("select id from link where kind = 'wireless'")
        .fetch_one(&app.pool)
        .await
        .expect("wireless link");
    let (id, w) = (mine.to_string(), wireless.to_string());
    let before = (
        link_row(&app.pool, mine).await,
        link_row(&app.pool, wireless).await,
        link_row(&app.pool, their_link).await,
    );

    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let form = |capacity: &'static str, kind: &'static str| {
        link_form(
            &id,
            (&core_s, "sfp1"),
            (&agg_s, "ether1"),
            kind,
            capacity,
            true,
        )
    };
    let cases: [Case; 7] = [
        (form("0", "physical"), 422, "capacity_mbps"),
        (form("fast", "physical"), 422, "capacity_mbps"),
        (form("10000001", "physical"), 422, "capacity_mbps"),
        (form("", "laser"), 422, "kind"),
        (
            link_form(&id, (&core_s, ""), (&core_s, ""), "physical", "", true),
            422,
            "b_device_id",
        ),
        (
            link_form(&id, (&theirs_s, ""), (&agg_s, ""), "physical", "", true),
            422,
            "a_device_id",
        ),
        (
            link_form(
                &w,
                (&core_s, "sfp1"),
                (&agg_s, "ether1"),
                "physical",
                "",
                true,
            ),
            409,
            "kind",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = update(&app, &c, &form).await;
        assert_eq!(got, status, "{form:?}: {body}");
        let key = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[key]["field"], field, "{form:?}: {body}");
    }

    // Only admins edit.
    let good = form("100", "physical");
    for user in ["op", "eve", "cust"] {
        let client = app.signed_in(user).await;
        assert_eq!(update(&app, &client, &good).await.0, 403, "{user}");
    }
    // Another tenant's link is not found, whichever devices the form names.
    assert_eq!(update(&app, &boss, &good).await.0, 404);
    let tl = their_link.to_string();
    let theirs_form = link_form(
        &tl,
        (&theirs_s, ""),
        (&theirs_too_s, ""),
        "physical",
        "1",
        false,
    );
    assert_eq!(update(&app, &c, &theirs_form).await.0, 404);
    assert_eq!(
        update(
            &app,
            &c,
            &link_form(&tl, (&core_s, ""), (&agg_s, ""), "ptp", "1", false)
        )
        .await
        .0,
        404
    );
    assert_eq!(
        (
            link_row(&app.pool, mine).await,
            link_row(&app.pool, wireless).await,
            link_row(&app.pool, their_link).await,
        ),
        before,
        "nothing changed"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'link.updated'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 0);
}
