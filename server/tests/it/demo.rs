//! `ispvm demo load`: the demo ISP loads into an empty tenant once, forms a valid dependency
//! graph whose blast radius is what the file describes, and is never loaded twice.

use sqlx::PgPool;

use crate::{count, json_of, spawn_app_with_key, KeyFile};
use server::demo::{load, Loaded};

async fn id_of(pool: &PgPool, name: &str) -> String {
    sqlx::query_scalar::<_, i64>("select id from device where name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("device")
        .to_string()
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_demo_loads_once_into_an_empty_tenant(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;

    let loaded = load(&app.pool, "acme", Some(&key.key)).await.expect("load");
    let Loaded::Done {
        sites,
        devices,
        links,
        services,
        probes,
    } = loaded
    else {
        panic!("the tenant was empty: {loaded:?}");
    };
    assert_eq!(sites as i64, count(&app.pool, "site").await);
    assert_eq!(devices as i64, count(&app.pool, "device").await);
    assert_eq!(links as i64, count(&app.pool, "link").await);
    assert_eq!(services as i64, count(&app.pool, "service").await);
    assert_eq!(probes as i64, count(&app.pool, "device_probe").await);
    assert!(probes >= 2, "the edge routers' API ports are probed");
    assert!(devices >= 10 && count(&app.pool, "redundancy_group").await >= 3);
    assert_eq!(count(&app.pool, "credential_profile").await, 1);
    let before = count(&app.pool, "device").await;
    assert_eq!(
        load(&app.pool, "acme", Some(&key.key))
            .await
            .expect("again"),
        Loaded::NotEmpty
    );
    assert_eq!(count(&app.pool, "device").await, before, "loaded once");
    assert!(
        load(&app.pool, "nope", None).await.is_err(),
        "unknown tenant"
    );

    // Salzburg hangs off one fibre: its core takes the POP and its customers with it.
    let c = app.signed_in("root").await;
    let sbg = id_of(&app.pool, "sbg1-core-1").await;
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &sbg)]).await;
    let names = |key: &str| -> Vec<String> {
        impact[key]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|pair| pair[1].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names("devices_down"), ["sbg1-bng-1", "sbg1-cpe-hotel"]);
    assert_eq!(
        names("services_down"),
        ["Mirabell Internet 300M", "PPPoE Salzburg"]
    );
    // Graz has two fibre paths to Vienna: one Vienna core failing takes nothing down there.
    let core1 = id_of(&app.pool, "vie1-core-1").await;
    let impact = json_of(&app, &c, "get_device_impact", &[("id", &core1)]).await;
    assert!(
        impact["devices_down"].as_array().is_some_and(Vec::is_empty),
        "{impact}"
    );
}
