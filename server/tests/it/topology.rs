//! The in-memory dependency graph per tenant (`db::topology::GraphCache`): reused while the
//! tenant's inventory version stands, rebuilt after any committed change — whichever path made
//! it — and never held stale by a change that rolled back or belongs to another tenant.

use std::sync::Arc;

use app::model::user::TenantId;
use sqlx::PgPool;

use crate::devices::{create_device, link};
use crate::sites::create_site;
use crate::{json_of, spawn_app, TestApp};

async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    TenantId(crate::tenant_id(&app.pool, slug).await)
}

async fn version(app: &TestApp, tenant: TenantId) -> i64 {
    sqlx::query_scalar(
        "select coalesce(max(version), 0) from inventory_version where tenant_id = $1",
    )
    .bind(tenant.0)
    .fetch_one(&app.pool)
    .await
    .expect("version")
}

async fn graph(app: &TestApp, tenant: TenantId) -> Arc<topology::Graph> {
    let mut conn = app.pool.acquire().await.expect("connection");
    app.state
        .graphs
        .get(&mut conn, tenant)
        .await
        .expect("graph")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_graph_is_rebuilt_exactly_when_the_inventory_changed(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    app.seed_tenant("other", &[("oscar", "admin")]).await;
    let acme = tenant(&app, "acme").await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Linz", "lnz1").await;
    let core = create_device(&app, &c, "core", site, "core", "10.0.0.1").await;
    let pop = create_device(&app, &c, "pop", site, "aggregation", "10.0.0.2").await;
    let first = graph(&app, acme).await;
    assert!(
        Arc::ptr_eq(&first, &graph(&app, acme).await),
        "unchanged: reused"
    );

    // A change through the app, seen end to end by the device page.
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &core.to_string())]).await;
    assert_eq!(impact["devices_down"], serde_json::json!([]));
    let before = version(&app, acme).await;
    assert_eq!(link(&app, &c, core, pop, true).await, 200);
    assert_eq!(
        version(&app, acme).await,
        before + 1,
        "one transaction (link and its two new interfaces) moves the version once"
    );
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &core.to_string())]).await;
    assert_eq!(impact["devices_down"], serde_json::json!([[pop, "pop"]]));
    let linked = graph(&app, acme).await;
    assert!(!Arc::ptr_eq(&first, &linked));

    // Another tenant's change and a rolled-back change leave the graph in memory alone.
    let o = app.signed_in("oscar").await;
    let other_site = create_site(&app, &o, "Graz", "grz1").await;
    create_device(&app, &o, "elsewhere", other_site, "core", "10.9.0.1").await;
    let mut tx = app.pool.begin().await.expect("begin");
    sqlx::query("delete from link where tenant_id = $1")
        .bind(acme.0)
        .execute(&mut *tx)
        .await
        .expect("delete");
    tx.rollback().await.expect("rollback");
    assert!(Arc::ptr_eq(&linked, &graph(&app, acme).await));

    // A change by hand (psql, a restore, a future path) is seen as well: the triggers bump.
    sqlx::query("update device set name = 'pop-renamed' where id = $1")
        .bind(pop)
        .execute(&app.pool)
        .await
        .expect("rename");
    let renamed = graph(&app, acme).await;
    assert_eq!(renamed.name(topology::DeviceId(pop)), Some("pop-renamed"));

    // A cascaded delete (the device takes its link along) is one change and is seen.
    let before = version(&app, acme).await;
    sqlx::query("delete from device where id = $1")
        .bind(pop)
        .execute(&app.pool)
        .await
        .expect("delete");
    assert_eq!(version(&app, acme).await, before + 1);
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &core.to_string())]).await;
    assert_eq!(impact["devices_down"], serde_json::json!([]));
}

/// The version row is locked only at commit. Were it bumped at the first write, a transaction
/// that wrote a device and then waited for the topology lock would deadlock with one that held
/// the lock and then wrote: PostgreSQL would abort one of them.
#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn writers_waiting_for_the_topology_lock_do_not_deadlock_on_the_version(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let acme = tenant(&app, "acme").await;
    let c = app.signed_in("root").await;
    let site = create_site(&app, &c, "Linz", "lnz1").await;
    let before = version(&app, acme).await;
    let insert = "insert into device (tenant_id, name, site_id, vendor, role, mgmt_address) \
                  values ($1, $2, $3, 'mikrotik', 'core', $4::inet)";

    let mut first = app.pool.begin().await.expect("begin");
    sqlx::query(insert)
        .bind(acme.0)
        .bind("first")
        .bind(site)
        .bind("10.0.0.1")
        .execute(&mut *first)
        .await
        .expect("first writes");
    let mut second = app.pool.begin().await.expect("begin");
    app::db::links::lock_topology(&mut second, acme)
        .await
        .expect("second locks");
    let waiting = tokio::spawn(async move {
        app::db::links::lock_topology(&mut first, acme).await?;
        first.commit().await?;
        Ok::<_, anyhow::Error>(())
    });
    sqlx::query(insert)
        .bind(acme.0)
        .bind("second")
        .bind(site)
        .bind("10.0.0.2")
        .execute(&mut *second)
        .await
        .expect("second writes while the first waits for its lock");
    second.commit().await.expect("second commits");
    waiting
        .await
        .expect("task")
        .expect("first gets the lock and commits");
    assert_eq!(version(&app, acme).await, before + 2);
}
