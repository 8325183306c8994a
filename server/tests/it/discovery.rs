//! Link discovery end to end: `neighbor` events through the real ingest route (a duplicate
//! batch written once, a junk row rejected alone), the review's proposals and their states,
//! accepting (a discovered link, the topology bumped), replacing a manual link only on the
//! explicit action, dismissing (until the neighbour changes), roles and tenant isolation.

use reqwest::Client;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::devices::{create_device, link_fields};
use crate::sites::create_site;
use crate::{count, error_of, json_of, spawn_app, TestApp};

/// A `neighbor` event of `device` (by name): heard on `interface`, naming itself `identity`
/// and its own interface `remote`.
fn neighbor(device: &str, interface: &str, identity: &str, remote: &str) -> Value {
    json!({
        "device": device, "ts": now_ms(), "kind": "neighbor", "interface": interface,
        "identity": identity, "mac": "4C:5E:0C:00:00:01", "platform": "MikroTik",
        "remote_interface": remote, "protocols": ["lldp", "mndp"],
    })
}

fn now_ms() -> i64 {
    telemetry::UnixMs::from_datetime(time::OffsetDateTime::now_utc()).0
}

/// Posts a batch of events with the agent token; the answer's JSON.
async fn ingest(app: &TestApp, token: &str, batch_id: &str, events: Vec<Value>) -> Value {
    let res = Client::new()
        .post(app.url(telemetry::INGEST_PATH))
        .bearer_auth(token)
        .json(&json!({
            "batch_id": batch_id,
            "agent": {"name": "pop-north", "version": "0.1.0"},
            "sent_at": now_ms(),
            "events": events,
        }))
        .send()
        .await
        .expect("ingest");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

/// The proposals as (a end, b end, state), and the key of each by its b end's name.
async fn proposals(app: &TestApp, c: &Client) -> (Vec<(String, String, String)>, Value) {
    let d = json_of(app, c, "list_discovery", &[]).await;
    let end = |e: &Value| match e["interface"].as_str() {
        Some(i) => format!("{} {i}", e["name"].as_str().unwrap_or("")),
        None => e["name"].as_str().unwrap_or("").to_owned(),
    };
    let mut rows: Vec<(String, String, String)> = d["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .map(|p| {
            (
                end(&p["a"]),
                end(&p["b"]),
                p["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    rows.sort();
    (rows, d)
}

/// The key of the proposal whose b end is named `b`.
fn key_of(d: &Value, b: &str) -> String {
    d["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .find(|p| p["b"]["name"] == b)
        .map(|p| p["key"].to_string())
        .expect("proposal")
}

/// (a interface, b interface, upstream, discovered) of the link between two devices.
async fn link_of(pool: &PgPool, a: i64, b: i64) -> Option<(String, String, bool, bool)> {
    sqlx::query_as(
        "select ia.name, ib.name, l.upstream, l.discovered from link l
         join interface ia on ia.id = l.a_interface_id
         join interface ib on ib.id = l.b_interface_id
         where l.a_device_id = $1 and l.b_device_id = $2",
    )
    .bind(a)
    .bind(b)
    .fetch_optional(pool)
    .await
    .expect("link")
}

async fn audited(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_event where action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .expect("audit")
}

async fn version(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select coalesce(max(version), 0) from inventory_version")
        .fetch_one(pool)
        .await
        .expect("version")
}

fn state(rows: &[(String, String, String)], a: &str, b: &str) -> Option<String> {
    rows.iter()
        .find(|r| r.0 == a && r.1 == b)
        .map(|r| r.2.clone())
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn neighbours_become_proposals_that_are_reviewed(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[("root", "admin"), ("op", "operator"), ("eve", "viewer")],
    )
    .await;
    app.seed_tenant("other", &[("boss", "admin")]).await;
    let root = app.signed_in("root").await;
    let site = create_site(&app, &root, "Vienna", "vie1").await;
    let edge = create_device(&app, &root, "edge-1", site, "edge", "10.0.0.1").await;
    let core = create_device(&app, &root, "core-1", site, "core", "10.0.0.2").await;
    let core2 = create_device(&app, &root, "core-2", site, "core", "10.0.0.3").await;
    let agg = create_device(&app, &root, "agg-1", site, "aggregation", "10.0.0.4").await;
    let boss = app.signed_in("boss").await;
    let their_site = create_site(&app, &boss, "Graz", "grz1").await;
    create_device(&app, &boss, "x-core", their_site, "core", "10.9.0.1").await;
    // Manual links: core-1 sfp1 → agg-1 ether1, edge-1 sfp28-2 → core-2 sfp1.
    for (a, ai, b, bi) in [
        (core, "sfp1", agg, "ether1"),
        (edge, "sfp28-2", core2, "sfp1"),
    ] {
        let (a, b) = (a.to_string(), b.to_string());
        let form = link_fields((&a, ai), (&b, bi), "physical", "10000", true);
        assert_eq!(app.call(&root, "create_link", &form).await.status(), 200);
    }
    let token = server::ingest::token::create(&app.pool, "acme", "pop-north")
        .await
        .expect("token");
    let theirs = server::ingest::token::create(&app.pool, "other", "pop-south")
        .await
        .expect("token");

    let events = vec![
        neighbor("edge-1", "sfp28-1", "CORE-1", "sfp28-1"),
        neighbor("core-1", "sfp28-1", "edge-1", "sfp28-1"),
        neighbor("core-1", "sfp2", "agg-1", "ether1"),
        neighbor("edge-1", "sfp28-2", "core-2", ""),
        json!({"device": "edge-1", "ts": now_ms(), "kind": "neighbor", "interface": "sfp28-8",
               "identity": "transit-a", "address": "192.0.2.1", "platform": "Juniper"}),
        json!({"device": "edge-1", "ts": now_ms(), "kind": "neighbor", "identity": "x"}),
    ];
    let batch_id = "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4c";
    let answer = ingest(&app, &token, batch_id, events.clone()).await;
    assert_eq!(answer["events"]["accepted"], 5, "{answer}");
    assert_eq!(answer["events"]["rejected"]["missing_field"]["count"], 1);
    assert_eq!(count(&app.pool, "discovered_neighbor").await, 5);
    assert_eq!(
        count(&app.pool, "device_event").await,
        0,
        "kept as neighbours"
    );
    // The same batch again is written once.
    let again = ingest(&app, &token, batch_id, events).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(count(&app.pool, "discovered_neighbor").await, 5);
    // Another tenant's neighbour, seen by its own agent.
    ingest(
        &app,
        &theirs,
        "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4d",
        vec![neighbor("x-core", "ether1", "edge-1", "ether9")],
    )
    .await;
    let their_key: i64 =
        sqlx::query_scalar("select id from discovered_neighbor where interface = 'ether1'")
            .fetch_one(&app.pool)
            .await
            .expect("their row");

    let eve = app.signed_in("eve").await;
    let (rows, d) = proposals(&app, &eve).await;
    assert_eq!(d["can_review"], false);
    let expected: Vec<(String, String, String)> = [
        ("core-1 sfp2", "agg-1 ether1", "differs"),
        ("edge-1 sfp28-1", "core-1 sfp28-1", "new"),
        ("edge-1 sfp28-2", "core-2", "matches"),
        ("edge-1 sfp28-8", "transit-a", "unknown"),
    ]
    .iter()
    .map(|(a, b, s)| ((*a).to_owned(), (*b).to_owned(), (*s).to_owned()))
    .collect();
    assert_eq!(
        rows, expected,
        "both ends of edge-1 – core-1 are one proposal; nothing of the other tenant"
    );
    let new_key = key_of(&d, "core-1");
    let differs_key = key_of(&d, "agg-1");
    let unknown_key = key_of(&d, "transit-a");
    let manual_link = d["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .find(|p| p["state"] == "differs")
        .map(|p| p["link"][0].to_string())
        .expect("the differing link");
    let page = eve
        .get(app.url("/inventory/discovery"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(r#"data-state="differs""#) && !page.contains("Accept and replace"));

    // A viewer cannot accept; nothing is written.
    let links = count(&app.pool, "link").await;
    let (status, _) = error_of(
        app.call(&eve, "accept_discovered_link", &[("key", &new_key)])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(count(&app.pool, "link").await, links);

    // Accepting the new one: a discovered upstream link from the edge, the graph's version up.
    let op = app.signed_in("op").await;
    let before = version(&app.pool).await;
    let res = app
        .call(&op, "accept_discovered_link", &[("key", &new_key)])
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        link_of(&app.pool, edge, core).await,
        Some(("sfp28-1".into(), "sfp28-1".into(), true, true))
    );
    assert!(version(&app.pool).await > before);
    assert_eq!(audited(&app.pool, "discovery.accepted").await, 1);
    let (rows, _) = proposals(&app, &op).await;
    assert_eq!(
        state(&rows, "edge-1 sfp28-1", "core-1 sfp28-1").as_deref(),
        Some("matches")
    );

    // The manual link stays as it is until it is explicitly replaced.
    let (status, body) = error_of(
        app.call(&op, "accept_discovered_link", &[("key", &differs_key)])
            .await,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        link_of(&app.pool, core, agg).await,
        Some(("sfp1".into(), "ether1".into(), true, false))
    );
    let (status, _) = error_of(
        app.call(
            &op,
            "replace_with_discovered_link",
            &[("key", &differs_key), ("link", "999999")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "only the link the proposal showed");
    let res = app
        .call(
            &op,
            "replace_with_discovered_link",
            &[("key", &differs_key), ("link", &manual_link)],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(
        link_of(&app.pool, core, agg).await,
        Some(("sfp2".into(), "ether1".into(), true, true))
    );
    assert_eq!(audited(&app.pool, "discovery.replaced").await, 1);

    // Dismissed: hidden, until the neighbour's data changes.
    let res = app
        .call(&op, "dismiss_discovered_link", &[("key", &unknown_key)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(audited(&app.pool, "discovery.dismissed").await, 1);
    let (rows, d) = proposals(&app, &op).await;
    assert_eq!(d["dismissed"], 1);
    assert!(!rows.iter().any(|r| r.2 == "unknown"), "{rows:?}");
    ingest(
        &app,
        &token,
        "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4e",
        vec![
            json!({"device": "edge-1", "ts": now_ms(), "kind": "neighbor",
                    "interface": "sfp28-8", "identity": "transit-a", "address": "192.0.2.1",
                    "platform": "Juniper", "board": "MX204"}),
        ],
    )
    .await;
    let (rows, _) = proposals(&app, &op).await;
    assert_eq!(
        state(&rows, "edge-1 sfp28-8", "transit-a").as_deref(),
        Some("unknown")
    );

    // Another tenant's neighbour row is not found.
    let (status, _) = error_of(
        app.call(
            &op,
            "dismiss_discovered_link",
            &[("key", &their_key.to_string())],
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
}
