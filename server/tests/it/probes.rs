//! Probes defined on a device's page (issue 7): added and removed by admins through the server
//! functions, checked as the agent reads a target, audited, tenant-scoped, and shown on the
//! device with the last result of their series.

use reqwest::Client;
use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::ingest::{batch, devices_in, ms};
use crate::{count, error_of, json_of, spawn_app, tenant_id, TestApp};

struct Fixture {
    app: TestApp,
    /// isp-a's `core-1`, and isp-b's `other-core`.
    core: i64,
    foreign: i64,
    /// isp-a's agent token.
    token: String,
}

async fn setup(pool: PgPool) -> Fixture {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "isp-a",
        &[("alice", "admin"), ("oscar", "operator"), ("vic", "viewer")],
    )
    .await;
    app.seed_tenant("isp-b", &[("bob", "admin")]).await;
    let core = devices_in(&app.pool, tenant_id(&app.pool, "isp-a").await, &["core-1"]).await[0];
    let foreign = devices_in(
        &app.pool,
        tenant_id(&app.pool, "isp-b").await,
        &["other-core"],
    )
    .await[0];
    let token = server::ingest::token::create(&app.pool, "isp-a", "pop-north")
        .await
        .expect("token");
    Fixture {
        app,
        core,
        foreign,
        token,
    }
}

fn form<'a>(device: &'a str, kind: &'a str, target: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("device_id", device),
        ("form[kind]", kind),
        ("form[target]", target),
        ("form[interval_s]", ""),
        ("form[timeout_ms]", ""),
    ]
}

async fn probes_of(app: &TestApp, c: &Client, device: i64) -> Vec<Value> {
    let d = json_of(app, c, "get_device", &[("id", &device.to_string())]).await;
    d["probes"].as_array().expect("probes").clone()
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_add_and_remove_probes_checked_as_the_agent_reads_them(pool: PgPool) {
    let f = setup(pool).await;
    let alice = f.app.signed_in("alice").await;
    let core = f.core.to_string();

    let res = f
        .app
        .call(
            &alice,
            "add_probe",
            &form(&core, "dns", " Portal.Example@10.0.0.53 "),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = f
        .app
        .call(
            &alice,
            "add_probe",
            &[
                ("device_id", core.as_str()),
                ("form[kind]", "http"),
                ("form[target]", "https://portal.example/health"),
                ("form[interval_s]", "60"),
                ("form[timeout_ms]", "5000"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let probes = probes_of(&f.app, &alice, f.core).await;
    let listed: Vec<(String, String, i64, i64)> = probes
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap_or_default().to_owned(),
                p["target"].as_str().unwrap_or_default().to_owned(),
                p["interval_s"].as_i64().unwrap_or_default(),
                p["timeout_ms"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("dns".into(), "portal.example@10.0.0.53".into(), 10, 2000),
            (
                "http".into(),
                "https://portal.example/health".into(),
                60,
                5000
            ),
        ],
        "stored in the agent's spelling, blank fields as the defaults"
    );
    assert!(probes.iter().all(|p| p["last"].is_null()), "no result yet");
    assert_eq!(
        count(&f.app.pool, "audit_event where action = 'probe.created'").await,
        2
    );

    // Bad input: each answered on its field, nothing written.
    for (kind, target, interval, field) in [
        ("icmp", "router-1", "", "target"),
        ("tcp", "10.0.0.1", "", "target"),
        ("ping", "10.0.0.1", "", "kind"),
        ("icmp", "10.0.0.1", "5", "interval_s"),
        ("icmp", "10.0.0.1", "ten", "interval_s"),
    ] {
        let mut bad = form(&core, kind, target);
        bad[3].1 = interval;
        let (status, body) = error_of(f.app.call(&alice, "add_probe", &bad).await).await;
        assert_eq!(status, 422, "{kind} {target} {interval}: {body}");
        assert_eq!(body["Invalid"]["field"], field, "{body}");
    }
    let (status, body) = error_of(
        f.app
            .call(
                &alice,
                "add_probe",
                &form(&core, "dns", "portal.example@10.0.0.53"),
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, body["Conflict"]["field"].as_str()),
        (409, Some("target")),
        "{body}"
    );
    assert!(
        body["Conflict"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("already has"),
        "{body}"
    );
    assert_eq!(count(&f.app.pool, "device_probe").await, 2);

    // Roles and tenants: only the tenant's admins change probes; another tenant's device or
    // probe is not found.
    for who in ["oscar", "vic"] {
        let c = f.app.signed_in(who).await;
        assert_eq!(
            probes_of(&f.app, &c, f.core).await.len(),
            2,
            "{who} reads them"
        );
        let res = f
            .app
            .call(&c, "add_probe", &form(&core, "icmp", "10.0.0.1"))
            .await;
        assert_eq!(res.status(), 403, "{who}");
    }
    let bob = f.app.signed_in("bob").await;
    let res = f
        .app
        .call(&bob, "add_probe", &form(&core, "icmp", "10.0.0.1"))
        .await;
    assert_eq!(res.status(), 404, "isp-a's device from isp-b");
    let id = probes[0]["id"].as_i64().expect("id").to_string();
    let res = f
        .app
        .call(&bob, "delete_probe", &[("device_id", &core), ("id", &id)])
        .await;
    assert_eq!(res.status(), 404, "isp-a's probe from isp-b");
    let foreign = f.foreign.to_string();
    let res = f
        .app
        .call(
            &alice,
            "delete_probe",
            &[("device_id", &foreign), ("id", &id)],
        )
        .await;
    assert_eq!(res.status(), 404, "a probe under another device's id");
    assert_eq!(count(&f.app.pool, "device_probe").await, 2);

    let res = f
        .app
        .call(&alice, "delete_probe", &[("device_id", &core), ("id", &id)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(probes_of(&f.app, &alice, f.core).await.len(), 1);
    assert_eq!(
        count(&f.app.pool, "audit_event where action = 'probe.deleted'").await,
        1
    );
    let res = f
        .app
        .call(&alice, "delete_probe", &[("device_id", &core), ("id", &id)])
        .await;
    assert_eq!(res.status(), 404, "gone");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_device_holds_at_most_fifty_probes(pool: PgPool) {
    let f = setup(pool).await;
    let alice = f.app.signed_in("alice").await;
    let core = f.core.to_string();
    for i in 0..app::model::probe::MAX_PER_DEVICE {
        let target = format!("10.0.{}.{}", i / 200, i % 200 + 1);
        let res = f
            .app
            .call(&alice, "add_probe", &form(&core, "icmp", &target))
            .await;
        assert_eq!(res.status(), 200, "{target}");
    }
    let (status, body) = error_of(
        f.app
            .call(&alice, "add_probe", &form(&core, "icmp", "10.1.0.1"))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["Conflict"]["field"].as_str()),
        (409, Some("kind")),
        "{body}"
    );
    assert!(
        body["Conflict"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 50"),
        "{body}"
    );
    assert_eq!(count(&f.app.pool, "device_probe").await, 50);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_device_shows_each_probes_last_result_from_its_series(pool: PgPool) {
    let f = setup(pool).await;
    let alice = f.app.signed_in("alice").await;
    let core = f.core.to_string();
    for (kind, target) in [("tcp", "10.0.0.1:443"), ("http", "https://portal.example/")] {
        let res = f
            .app
            .call(&alice, "add_probe", &form(&core, kind, target))
            .await;
        assert_eq!(res.status(), 200);
    }
    // What the agent writes for two runs of each: the TCP probe up then up again, the HTTP
    // probe up then down.
    let now = OffsetDateTime::now_utc();
    let (t1, t2) = (ms(now) - 20_000, ms(now) - 10_000);
    let sample = |metric: &str, instance: &str, ts: i64, value: Value| json!({"device": f.core, "metric": metric, "instance": instance, "ts": ts, "value": value});
    let mut samples = Vec::new();
    for (ts, rtt) in [(t1, 9.0), (t2, 3.249)] {
        samples.push(sample("probe_up", "tcp:10.0.0.1:443", ts, json!("up")));
        samples.push(sample("probe_rtt_ms", "tcp:10.0.0.1:443", ts, json!(rtt)));
    }
    samples.push(sample(
        "probe_up",
        "http:https://portal.example/",
        t1,
        json!("up"),
    ));
    samples.push(sample(
        "probe_rtt_ms",
        "http:https://portal.example/",
        t1,
        json!(40.0),
    ));
    let mut down = sample(
        "probe_up",
        "http:https://portal.example/",
        t2,
        json!("down"),
    );
    down["reason"] = json!("HTTP 503 Service Unavailable");
    samples.push(down);
    let res = Client::new()
        .post(f.app.url(telemetry::INGEST_PATH))
        .bearer_auth(&f.token)
        .json(&batch(
            "5d0c1b7e-0000-4000-8000-000000000001",
            Value::Array(samples),
        ))
        .send()
        .await
        .expect("ingest");
    let status = res.status();
    let answer: Value = res.json().await.expect("answer");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["samples"]["accepted"], 7, "{answer}");

    let probes = probes_of(&f.app, &alice, f.core).await;
    let last = |target: &str| {
        probes
            .iter()
            .find(|p| p["target"] == target)
            .map(|p| p["last"].clone())
            .expect("the probe")
    };
    let tcp = last("10.0.0.1:443");
    assert_eq!(tcp["state"], "up");
    assert_eq!(tcp["rtt_us"], 3_249, "the newest run's round trip");
    assert!(
        (9..=60).contains(&tcp["age_s"].as_i64().unwrap_or(-1)),
        "{tcp}"
    );
    let http = last("https://portal.example/");
    assert_eq!(http["state"], "down");
    assert_eq!(http["reason"], "HTTP 503 Service Unavailable");
    assert!(
        http["rtt_us"].is_null(),
        "a down run has no round trip: {http}"
    );

    let page = alice
        .get(f.app.url(&format!("/inventory/devices/{}", f.core)))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("data-probe=\"tcp:10.0.0.1:443\""),
        "the page lists it"
    );
    assert!(page.contains("up · 3.2 ms"), "with its last result");
    assert!(page.contains("down: HTTP 503 Service Unavailable"));
}
