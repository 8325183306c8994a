//! Telemetry ingest (`POST /api/ingest/v1/batches`) and its store: accepted and partially
//! accepted batches, idempotency (also concurrent), agent tokens, body limits and gzip bombs,
//! tenant isolation of device references, rollups re-rolled by late data (exact values),
//! partitions created ahead, retention.

use std::io::Write;

use reqwest::{Client, Response};
use serde_json::{json, Value};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use server::config::TelemetryConfig;
use server::ingest::{maintenance, rollup, store};
use telemetry::INGEST_PATH;

use crate::{count, spawn_app_with, TestApp};

pub struct Fixture {
    pub app: TestApp,
    token: String,
    tenant_id: i64,
    /// Devices `core-1` and `edge-1` of the agent's tenant.
    pub core: i64,
    edge: i64,
    /// A device of another tenant.
    foreign: i64,
}

async fn tenant_with_devices(pool: &PgPool, slug: &str, names: &[&str]) -> (i64, Vec<i64>) {
    let tenant = server::admin::create_tenant(pool, &format!("Tenant {slug}"), slug)
        .await
        .expect("tenant")
        .0;
    (tenant, devices_in(pool, tenant, names).await)
}

/// A site "POP1" of the tenant with a core router of each name; their ids in that order.
pub async fn devices_in(pool: &PgPool, tenant: i64, names: &[&str]) -> Vec<i64> {
    let site: i64 = sqlx::query_scalar(
        "insert into site (tenant_id, name, code) values ($1, 'POP', 'POP1') returning id",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await
    .expect("site");
    let mut ids = Vec::new();
    for name in names {
        let id: i64 = sqlx::query_scalar(
            "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address)
             values ($1, $2, $3, 'mikrotik', 'core', '10.0.0.1') returning id",
        )
        .bind(tenant)
        .bind(site)
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("device");
        ids.push(id);
    }
    ids
}

pub async fn setup(pool: PgPool, extra: &[(&str, &str)]) -> Fixture {
    let app = spawn_app_with(pool, extra).await;
    let (tenant_id, ids) = tenant_with_devices(&app.pool, "isp-a", &["core-1", "edge-1"]).await;
    let (_, other) = tenant_with_devices(&app.pool, "isp-b", &["other-core"]).await;
    let token = server::ingest::token::create(&app.pool, "isp-a", "pop-north")
        .await
        .expect("token");
    Fixture {
        app,
        token,
        tenant_id,
        core: ids[0],
        edge: ids[1],
        foreign: other[0],
    }
}

fn now_ms() -> i64 {
    telemetry::UnixMs::from_datetime(OffsetDateTime::now_utc()).0
}

pub fn ms(at: OffsetDateTime) -> i64 {
    telemetry::UnixMs::from_datetime(at).0
}

pub fn batch(id: &str, samples: Value) -> Value {
    json!({
        "batch_id": id,
        "agent": {"name": "pop-north", "version": "0.1.0"},
        "sent_at": now_ms(),
        "samples": samples,
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

impl Fixture {
    async fn post_raw(
        &self,
        token: Option<&str>,
        encoding: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = Client::new()
            .post(self.app.url(INGEST_PATH))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        req.send().await.expect("request")
    }

    /// Posts a batch gzip-compressed with the agent's token; asserts 200; returns the answer.
    pub async fn post(&self, batch: &Value) -> Value {
        let body = gzip(&serde_json::to_vec(batch).expect("json"));
        let res = self.post_raw(Some(&self.token), Some("gzip"), body).await;
        let status = res.status();
        let answer: Value = res.json().await.expect("json answer");
        assert_eq!(status, 200, "{answer}");
        answer
    }
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn an_accepted_batch_is_stored(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let ts = now_ms() - 10_000;
    let answer = f
        .post(&batch(
            "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4c",
            json!([
                {"device": f.core, "metric": "up", "ts": ts, "value": "down", "reason": "timeout", "labels": {"via": "api"}},
                {"device": "EDGE-1", "metric": "cpu_load_percent", "ts": ts, "value": 23},
                {"device": f.core, "metric": "interface_rx_bytes_total", "instance": "ether1", "ts": ts, "value": 918273645546u64},
            ]),
        ))
        .await;
    assert_eq!(
        answer,
        json!({"batch_id": "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4c", "duplicate": false,
               "samples": {"accepted": 3, "rejected": {}}, "events": {"accepted": 0, "rejected": {}}})
    );
    assert_eq!(count(&f.app.pool, "sample").await, 3);
    assert_eq!(count(&f.app.pool, "series").await, 3);
    let (state, reason, value): (Option<String>, Option<String>, Option<f64>) = sqlx::query_as(
        "select state, reason, value from sample join series s on s.id = series_id
         where s.metric = 'up' and s.device_id = $1 and s.tenant_id = $2",
    )
    .bind(f.core)
    .bind(f.tenant_id)
    .fetch_one(&f.app.pool)
    .await
    .expect("up row");
    assert_eq!(
        (state.as_deref(), reason.as_deref(), value),
        (Some("down"), Some("timeout"), None)
    );
    let labels: Value = sqlx::query_scalar("select labels from series where metric = 'up'")
        .fetch_one(&f.app.pool)
        .await
        .expect("labels");
    assert_eq!(labels, json!({"via": "api"}));
    let (device, counter): (i64, f64) = sqlx::query_as(
        "select s.device_id, value from sample join series s on s.id = series_id
         where s.metric = 'interface_rx_bytes_total' and s.instance = 'ether1'",
    )
    .fetch_one(&f.app.pool)
    .await
    .expect("counter row");
    assert_eq!((device, counter), (f.core, 918_273_645_546.0));
    let edge_rows: i64 = sqlx::query_scalar(
        "select count(*) from sample join series s on s.id = series_id where s.device_id = $1",
    )
    .bind(f.edge)
    .fetch_one(&f.app.pool)
    .await
    .expect("edge rows");
    assert_eq!(edge_rows, 1, "the device name matched case-insensitively");
    // Identity encoding works too.
    let res = f
        .post_raw(
            Some(&f.token),
            None,
            serde_json::to_vec(&batch(
                "0193a5f2-7c1e-7d4a-9b2f-5e8c1d2a3b4d",
                json!([{"device": f.core, "metric": "cpu_load_percent", "ts": ts, "value": 5}]),
            ))
            .expect("json"),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(count(&f.app.pool, "sample").await, 4);
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 2);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_partly_bad_batch_keeps_the_good_samples_and_counts_the_rest(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let ts = now_ms() - 5_000;
    let answer = f
        .post(&batch(
            "4c1e6a4e-0000-4000-8000-000000000001",
            json!([
                {"device": f.core, "metric": "cpu_load_percent", "ts": ts, "value": 12.5},
                {"device": f.core, "metric": "cpu_temperature", "ts": ts, "value": 51},
                {"device": f.core, "metric": "memory_used_bytes", "ts": ts, "value": null},
                {"device": f.core, "metric": "memory_total_bytes", "ts": ts - 8 * 86_400_000, "value": 1},
                {"device": 999_999, "metric": "cpu_load_percent", "ts": ts, "value": 1},
                {"device": "no-such-router", "metric": "cpu_load_percent", "ts": ts, "value": 1},
                {"device": f.core, "metric": "cpu_load_percent", "ts": ts, "value": "high"},
            ]),
        ))
        .await;
    assert_eq!(answer["samples"]["accepted"], 1, "{answer}");
    let rejected = &answer["samples"]["rejected"];
    let counts: Vec<(String, u64, Value)> = rejected
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["count"].as_u64().unwrap_or(0),
                v["examples"].clone(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("not_finite".into(), 1, json!([2])),
            ("too_old".into(), 1, json!([3])),
            ("unknown_device".into(), 2, json!([4, 5])),
            ("unknown_metric".into(), 1, json!([1])),
            ("wrong_type".into(), 1, json!([6])),
        ]
    );
    assert_eq!(
        rejected["unknown_device"]["message"],
        "sample 4: no device 999999 in the agent's tenant"
    );
    assert_eq!(count(&f.app.pool, "sample").await, 1);
    let (accepted, rejected_n): (i32, i32) =
        sqlx::query_as("select samples_accepted, samples_rejected from ingest_batch")
            .fetch_one(&f.app.pool)
            .await
            .expect("batch row");
    assert_eq!((accepted, rejected_n), (1, 6));
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_device_at_its_series_limit_keeps_its_series_and_refuses_new_ones(pool: PgPool) {
    let f = setup(pool, &[("INGEST_MAX_SERIES_PER_DEVICE", "3")]).await;
    let ts = now_ms() - 5_000;
    let rx = |device: i64, port: u32, ts: i64| {
        json!({"device": device, "metric": "interface_rx_bytes_total",
               "instance": format!("ether{port}"), "ts": ts, "value": 1000 + port})
    };
    // Two series of core-1 exist before.
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000030",
        json!([rx(f.core, 1, ts - 1000), rx(f.core, 2, ts - 1000)]),
    ))
    .await;
    // Then: the two again, three new ports of core-1 (one fits), one new port of edge-1, in an
    // order that interleaves refused and accepted samples.
    let answer = f
        .post(&batch(
            "4c1e6a4e-0000-4000-8000-000000000031",
            json!([
                rx(f.core, 5, ts),
                rx(f.core, 1, ts),
                rx(f.core, 3, ts),
                rx(f.edge, 9, ts),
                rx(f.core, 4, ts),
                rx(f.core, 2, ts),
                rx(f.core, 3, ts + 1000),
            ]),
        ))
        .await;
    assert_eq!(answer["samples"]["accepted"], 5, "{answer}");
    let refused = &answer["samples"]["rejected"]["too_many_series"];
    // New series are admitted in key order: ether3 is the one that fits.
    assert_eq!(refused["count"], 2, "{answer}");
    assert_eq!(refused["examples"], json!([0, 4]), "{answer}");
    assert_eq!(
        refused["message"],
        format!(
            "sample 0: device {} already has 3 series, its limit; new series are refused until \
             old ones expire or the limit is raised",
            f.core
        )
    );
    // Every stored sample sits on the series its own device, metric and instance name.
    let stored: Vec<(i64, String, f64)> = sqlx::query_as(
        "select s.device_id, s.instance, x.value from sample x join series s on s.id = x.series_id
         order by 1, 2, x.at",
    )
    .fetch_all(&f.app.pool)
    .await
    .expect("stored");
    let expected = vec![
        (f.core, "ether1".to_owned(), 1001.0),
        (f.core, "ether1".to_owned(), 1001.0),
        (f.core, "ether2".to_owned(), 1002.0),
        (f.core, "ether2".to_owned(), 1002.0),
        (f.core, "ether3".to_owned(), 1003.0),
        (f.core, "ether3".to_owned(), 1003.0),
        (f.edge, "ether9".to_owned(), 1009.0),
    ];
    assert_eq!(stored, expected);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_repeated_batch_answers_duplicate_and_writes_nothing_even_concurrently(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let ts = now_ms() - 5_000;
    let samples = |n: i64| {
        Value::Array(
            (0..n)
                .map(|i| json!({"device": f.core, "metric": "probe_rtt_ms", "instance": format!("icmp:10.0.0.{i}"), "ts": ts, "value": i}))
                .collect(),
        )
    };
    let first = f
        .post(&batch("4c1e6a4e-0000-4000-8000-00000000000a", samples(50)))
        .await;
    assert_eq!(first["duplicate"], false);
    let again = f
        .post(&batch("4c1e6a4e-0000-4000-8000-00000000000a", samples(50)))
        .await;
    assert_eq!(
        again,
        json!({"batch_id": "4c1e6a4e-0000-4000-8000-00000000000a", "duplicate": true,
               "samples": {"accepted": 0, "rejected": {}}, "events": {"accepted": 0, "rejected": {}}})
    );
    assert_eq!(count(&f.app.pool, "sample").await, 50);

    // Eight copies of a new batch at once: one writes, seven are duplicates.
    let b = batch("4c1e6a4e-0000-4000-8000-00000000000b", samples(200));
    let answers = futures_join_all((0..8).map(|_| f.post(&b)).collect::<Vec<_>>()).await;
    let fresh = answers.iter().filter(|a| a["duplicate"] == false).count();
    assert_eq!(fresh, 1, "{answers:?}");
    assert_eq!(count(&f.app.pool, "sample").await, 250);
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 2);
    assert_eq!(count(&f.app.pool, "series").await, 200);
}

/// Runs the futures concurrently on this task and returns their outputs in order.
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for fut in futures {
        set.push(Box::pin(fut));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_missing_unknown_or_revoked_token_is_401(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let body = || {
        serde_json::to_vec(&batch(
            "4c1e6a4e-0000-4000-8000-000000000002",
            json!([{"device": f.core, "metric": "cpu_load_percent", "ts": now_ms(), "value": 1}]),
        ))
        .expect("json")
    };
    for token in [None, Some("ispvm_0000"), Some("")] {
        let res = f.post_raw(token, None, body()).await;
        assert_eq!(res.status(), 401, "{token:?}");
        let err: Value = res.json().await.expect("json");
        assert_eq!(err["error"], "unauthorized");
    }
    sqlx::query("update ingest_token set revoked_at = now()")
        .execute(&f.app.pool)
        .await
        .expect("revoke");
    let res = f.post_raw(Some(&f.token), None, body()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(count(&f.app.pool, "sample").await, 0);
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn oversized_bodies_and_gzip_bombs_are_413_and_bad_encodings_415(pool: PgPool) {
    let f = setup(pool, &[("INGEST_MAX_BODY_BYTES", "65536")]).await;
    // A gzip bomb: 4 MiB of zeros is a few KiB compressed, far over 8 × 64 KiB decompressed.
    let bomb = gzip(&vec![b'0'; 4 << 20]);
    assert!(bomb.len() < 65536);
    let res = f.post_raw(Some(&f.token), Some("gzip"), bomb).await;
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"], "decompressed_too_large");
    assert_eq!(
        err["message"],
        "the body decompresses to more than 524288 bytes (8 × INGEST_MAX_BODY_BYTES); send smaller batches"
    );
    // Over the limit as sent.
    let res = f.post_raw(Some(&f.token), None, vec![b' '; 70_000]).await;
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"], "body_too_large");
    let res = f.post_raw(Some(&f.token), Some("br"), b"{}".to_vec()).await;
    assert_eq!(res.status(), 415);
    let res = f
        .post_raw(Some(&f.token), Some("gzip"), b"not gzip".to_vec())
        .await;
    assert_eq!(res.status(), 400);
    let res = f
        .post_raw(Some(&f.token), None, b"{\"batch_id\": 5}".to_vec())
        .await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"], "malformed");
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn another_tenants_device_is_rejected_per_sample(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let ts = now_ms();
    let answer = f
        .post(&batch(
            "4c1e6a4e-0000-4000-8000-000000000003",
            json!([
                {"device": f.foreign, "metric": "cpu_load_percent", "ts": ts, "value": 1},
                {"device": "other-core", "metric": "cpu_load_percent", "ts": ts, "value": 1},
                {"device": f.core, "metric": "cpu_load_percent", "ts": ts, "value": 1},
            ]),
        ))
        .await;
    assert_eq!(answer["samples"]["accepted"], 1);
    assert_eq!(answer["samples"]["rejected"]["unknown_device"]["count"], 2);
    assert_eq!(
        answer["samples"]["rejected"]["unknown_device"]["examples"],
        json!([0, 1])
    );
    let foreign_series: i64 =
        sqlx::query_scalar("select count(*) from series where device_id = $1")
            .bind(f.foreign)
            .fetch_one(&f.app.pool)
            .await
            .expect("count");
    assert_eq!(foreign_series, 0);
}

/// (count, min, max, sum, last) of one series' bucket in a rollup table.
async fn rollup_row(
    pool: &PgPool,
    table: &str,
    bucket: OffsetDateTime,
) -> (i32, f64, f64, f64, f64) {
    sqlx::query_as(&format!(
        "select count, min, max, sum, last from {table} where bucket = $1"
    ))
    .bind(bucket)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("{table} at {bucket}: {e}"))
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn late_data_re_rolls_its_minute_hour_and_day(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let now = OffsetDateTime::now_utc();
    let minute = rollup::minute_of(now - Duration::days(3));
    let hour = rollup::Tier::Hour.bucket_of(minute);
    let day = rollup::Tier::Day.bucket_of(minute);
    let sample = |offset_s: i64, value: f64| {
        json!({"device": f.core, "metric": "cpu_load_percent",
               "ts": ms(minute + Duration::seconds(offset_s)), "value": value})
    };
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000004",
        json!([sample(0, 10.0), sample(20, 30.0)]),
    ))
    .await;
    let report = rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    assert!(report.rows[0] >= 1, "{report:?}");
    for table in ["sample_1m", "sample_1h", "sample_1d"] {
        let bucket = match table {
            "sample_1m" => minute,
            "sample_1h" => hour,
            _ => day,
        };
        assert_eq!(
            rollup_row(&f.app.pool, table, bucket).await,
            (2, 10.0, 30.0, 40.0, 30.0),
            "{table}"
        );
    }

    // Three days late, in the same minute: 5 at :40 (the newest) and 60 at :10.
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000005",
        json!([sample(40, 5.0), sample(10, 60.0)]),
    ))
    .await;
    let dirty = count(&f.app.pool, "rollup_dirty").await;
    assert_eq!(dirty, 1, "one (1m, series, minute) marked");
    let report = rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    assert_eq!(report.dirty_buckets, [1, 1, 1], "{report:?}");
    for (table, bucket) in [
        ("sample_1m", minute),
        ("sample_1h", hour),
        ("sample_1d", day),
    ] {
        let row = rollup_row(&f.app.pool, table, bucket).await;
        assert_eq!(row, (4, 5.0, 60.0, 105.0, 5.0), "{table}");
        assert_eq!(row.3 / f64::from(row.0), 26.25, "avg of {table}");
    }
    assert_eq!(count(&f.app.pool, "rollup_dirty").await, 0);
    // p95 by nearest rank of {5, 10, 30, 60} is 60, read back within 2 %.
    let p95: f64 = sqlx::query_scalar(
        "select telemetry_hist_quantile(hist_keys, hist_counts, 0.95) from sample_1d",
    )
    .fetch_one(&f.app.pool)
    .await
    .expect("p95");
    assert!((p95 - 60.0).abs() <= 0.02 * 60.0, "{p95}");
    // A second run finds nothing to do.
    let report = rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    assert_eq!(report.dirty_buckets, [0, 0, 0]);
}

async fn partition_exists(pool: &PgPool, day: time::Date) -> bool {
    let name = format!(
        "sample_{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    relation_exists(pool, &name).await
}

async fn relation_exists(pool: &PgPool, name: &str) -> bool {
    sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("to_regclass")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn partitions_are_created_ahead_and_retention_drops_old_ones(pool: PgPool) {
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let created = maintenance::ensure_partitions(&pool, now)
        .await
        .expect("partitions");
    // Raw: 7 days back, today, 2 ahead; 1m: the months of those days; 1h: their years.
    let days: Vec<time::Date> = (-7..=2).map(|d| today + Duration::days(d)).collect();
    let mut months: Vec<(i32, u8)> = days
        .iter()
        .map(|d| (d.year(), u8::from(d.month())))
        .collect();
    months.dedup();
    let mut years: Vec<i32> = days.iter().map(|d| d.year()).collect();
    years.dedup();
    assert_eq!(created as usize, 10 + months.len() + years.len());
    for (y, m) in &months {
        assert!(relation_exists(&pool, &format!("sample_1m_{y:04}{m:02}")).await);
    }
    for y in &years {
        assert!(relation_exists(&pool, &format!("sample_1h_{y:04}")).await);
    }
    for d in [-7, 0, 1, 2] {
        assert!(
            partition_exists(&pool, today + Duration::days(d)).await,
            "{d}"
        );
    }
    assert!(!partition_exists(&pool, today + Duration::days(3)).await);
    assert_eq!(
        maintenance::ensure_partitions(&pool, now)
            .await
            .expect("again"),
        0
    );

    // Partitions of 40 and 29 days ago, one sample each, and old rollup rows.
    let old = today - Duration::days(40);
    let kept = today - Duration::days(29);
    store::ensure_partitions(&pool, old, old)
        .await
        .expect("old");
    store::ensure_partitions(&pool, kept, kept)
        .await
        .expect("kept");
    let mut rows = store::SampleRows::default();
    rows.push(1, now - Duration::days(40), Some(1.0), None, None);
    rows.push(1, now - Duration::days(29), Some(1.0), None, None);
    let mut conn = pool.acquire().await.expect("conn");
    store::copy_samples(&mut conn, &rows).await.expect("copy");
    drop(conn);
    // 1m rows of 400 and 300 days ago, in monthly partitions made for them.
    let (older, newer) = (now - Duration::days(400), now - Duration::days(300));
    rollup::ensure_partitions(&pool, rollup::Tier::Minute, older, newer)
        .await
        .expect("1m partitions");
    sqlx::query(
        "insert into sample_1m (series_id, bucket, count, min, max, sum, last, last_at, hist_keys, hist_counts)
         values (1, $1, 1, 1, 1, 1, 1, now(), '{2000}', '{1}'),
                (1, $2, 1, 1, 1, 1, 1, now(), '{2000}', '{1}')",
    )
    .bind(older)
    .bind(newer)
    .execute(&pool)
    .await
    .expect("1m rows");
    // The months that end at or before the 1m cutoff (365 days) go whole.
    let cutoff = now - Duration::days(365);
    let mut expired = Vec::new();
    let mut month = older.date().replace_day(1).expect("first of the month");
    loop {
        let next = if month.month() == time::Month::December {
            month
                .replace_year(month.year() + 1)
                .and_then(|d| d.replace_month(time::Month::January))
        } else {
            month.replace_month(month.month().next())
        }
        .expect("next month");
        if next.midnight().assume_utc() > cutoff {
            break;
        }
        expired.push(format!(
            "sample_1m_{:04}{:02}",
            month.year(),
            u8::from(month.month())
        ));
        month = next;
    }
    assert!(!expired.is_empty());
    rollup::rollup_once(&pool, now)
        .await
        .expect("rollup")
        .expect("lock");

    let report = maintenance::retention_once(&pool, &TelemetryConfig::default(), now)
        .await
        .expect("retention")
        .expect("lock");
    assert_eq!(
        report.dropped_partitions,
        vec![format!(
            "sample_{:04}{:02}{:02}",
            old.year(),
            u8::from(old.month()),
            old.day()
        )]
    );
    assert_eq!(report.dropped_1m, expired);
    assert!(report.dropped_1h.is_empty(), "{:?}", report.dropped_1h);
    let left: Vec<OffsetDateTime> = sqlx::query_scalar("select bucket from sample_1m")
        .fetch_all(&pool)
        .await
        .expect("1m rows");
    assert_eq!(left.len(), 1, "the row of 300 days ago stays: {left:?}");
    assert!(!partition_exists(&pool, old).await);
    assert!(partition_exists(&pool, kept).await);
    assert_eq!(count(&pool, "sample").await, 1);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_saturated_writer_answers_429_with_retry_after(pool: PgPool) {
    let f = setup(pool, &[("INGEST_MAX_CONCURRENT_WRITES", "1")]).await;
    let body = |id: &str| {
        gzip(
            &serde_json::to_vec(&batch(
                id,
                json!([{"device": f.core, "metric": "cpu_load_percent", "ts": now_ms(), "value": 1}]),
            ))
            .expect("json"),
        )
    };
    // Stall the only writer: it holds its permit while it waits for this lock.
    let mut blocker = f.app.pool.begin().await.expect("begin");
    sqlx::query("lock table ingest_batch in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let first = tokio::spawn({
        let req = Client::new()
            .post(f.app.url(INGEST_PATH))
            .bearer_auth(&f.token)
            .header("content-encoding", "gzip")
            .body(body("4c1e6a4e-0000-4000-8000-000000000006"));
        async move { req.send().await.expect("request").status() }
    });
    // Wait until the first batch is blocked on the lock (it then holds the permit).
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_locks where not granted and relation = 'ingest_batch'::regclass",
        )
            .fetch_one(&f.app.pool)
            .await
            .expect("pg_locks");
        if waiting > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let res = f
        .post_raw(
            Some(&f.token),
            Some("gzip"),
            body("4c1e6a4e-0000-4000-8000-000000000007"),
        )
        .await;
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"], "busy");
    blocker.rollback().await.expect("unlock");
    assert_eq!(first.await.expect("first"), 200);
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 1);
}

type Buckets = Vec<(i64, OffsetDateTime, i64, f64, f64, f64, f64)>;

/// Every tier's rows against a brute-force aggregation of the raw rows.
async fn assert_rollups_match_raw(pool: &PgPool) {
    for (table, width) in [
        ("sample_1m", "1 minute"),
        ("sample_1h", "1 hour"),
        ("sample_1d", "1 day"),
    ] {
        let brute: Buckets = sqlx::query_as(
            "select series_id, date_bin($1::interval, at, timestamptz '2000-01-01 00:00:00+00') as b,
                    count(*), min(value), max(value), sum(value),
                    (array_agg(value order by at desc))[1]
             from sample where value is not null group by 1, 2 order by 1, 2",
        )
        .bind(width)
        .fetch_all(pool)
        .await
        .expect("brute force");
        let rolled: Buckets = sqlx::query_as(&format!(
            "select series_id, bucket, count::int8, min, max, sum, last from {table} order by 1, 2"
        ))
        .fetch_all(pool)
        .await
        .expect("rollup");
        assert!(!brute.is_empty(), "{table}");
        assert_eq!(rolled, brute, "{table}");
        // The histogram holds every sample once, under the key SQL and Rust agree on.
        let bad: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} r
             where (select sum(c) from unnest(r.hist_counts) c) <> r.count
                or r.hist_keys <> (select array_agg(distinct telemetry_hist_key(s.value) order by telemetry_hist_key(s.value))
                                   from sample s
                                   where s.series_id = r.series_id and s.value is not null
                                     and date_bin($1::interval, s.at, timestamptz '2000-01-01 00:00:00+00') = r.bucket)"
        ))
        .bind(width)
        .fetch_one(pool)
        .await
        .expect("histograms");
        assert_eq!(bad, 0, "{table} histograms");
    }
    let values = [-72.5, -0.25, 0.0, 1e-6, 0.5, 1.0, 12.7, 95.0, 1e9, 9.2e18];
    for v in values {
        let sql: i16 = sqlx::query_scalar("select telemetry_hist_key($1)")
            .bind(v)
            .fetch_one(pool)
            .await
            .expect("key");
        assert_eq!(sql, server::ingest::histogram::key(v), "{v}");
    }
}

/// Random RTT samples of five probes of one device in three hours two days before `now` (so
/// every tier rolls them), never two of a series at the same instant (so `last` is defined);
/// whole-number values keep sums exact.
pub struct ProbeSamples {
    rng: rand::rngs::StdRng,
    used: std::collections::HashSet<(u32, i64)>,
    device: i64,
    start: i64,
}

impl ProbeSamples {
    pub fn new(device: i64, now: OffsetDateTime) -> ProbeSamples {
        use rand::SeedableRng;
        ProbeSamples {
            rng: rand::rngs::StdRng::seed_from_u64(6),
            used: std::collections::HashSet::new(),
            device,
            start: ms(now - Duration::days(2) - Duration::hours(3)),
        }
    }

    pub fn take(&mut self, n: usize) -> Value {
        use rand::Rng;
        let mut out = Vec::new();
        while out.len() < n {
            let probe = self.rng.gen_range(0..5);
            let ts = self.start + self.rng.gen_range(0..3 * 3_600_000);
            if self.used.insert((probe, ts)) {
                out.push(json!({"device": self.device, "metric": "probe_rtt_ms",
                                "instance": format!("icmp:10.0.0.{probe}"),
                                "ts": ts, "value": self.rng.gen_range(0..500)}));
            }
        }
        Value::Array(out)
    }
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn rollups_equal_a_brute_force_aggregation_with_late_data(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let now = OffsetDateTime::now_utc();
    let mut samples = ProbeSamples::new(f.core, now);
    let first = samples.take(3000);
    let late = samples.take(1000);
    f.post(&batch("4c1e6a4e-0000-4000-8000-000000000010", first))
        .await;
    rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    assert_rollups_match_raw(&f.app.pool).await;
    f.post(&batch("4c1e6a4e-0000-4000-8000-000000000011", late))
        .await;
    let report = rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    assert!(report.dirty_buckets[0] > 0, "{report:?}");
    assert_rollups_match_raw(&f.app.pool).await;
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_cli_prints_a_token_once_that_the_route_accepts(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let url = crate::database_url(&f.app.pool);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ispvm"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &url)
            .output()
            .expect("run ispvm");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&[
        "agent",
        "token",
        "create",
        "--tenant",
        "isp-a",
        "--name",
        "pop-south",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let token = out.trim().rsplit(' ').next().expect("token").to_owned();
    assert!(token.starts_with("ispvm_"), "{out}");
    let stored: i64 =
        sqlx::query_scalar("select count(*) from ingest_token where name = 'pop-south'")
            .fetch_one(&f.app.pool)
            .await
            .expect("count");
    assert_eq!(stored, 1);
    let body = serde_json::to_vec(&batch(
        "4c1e6a4e-0000-4000-8000-000000000020",
        json!([{"device": f.core, "metric": "cpu_load_percent", "ts": now_ms(), "value": 1}]),
    ))
    .expect("json");
    assert_eq!(f.post_raw(Some(&token), None, body).await.status(), 200);

    let (code, _, err) = run(&[
        "agent",
        "token",
        "create",
        "--tenant",
        "isp-a",
        "--name",
        "pop-south",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("already has a live token"), "{err}");
    let (code, _, err) = run(&[
        "agent", "token", "create", "--tenant", "nope", "--name", "x",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no tenant with the slug `nope`"), "{err}");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn the_newest_labels_win_and_series_are_reused(pool: PgPool) {
    let f = setup(pool, &[]).await;
    let ts = now_ms() - 30_000;
    let up = |ts: i64, via: &str| json!({"device": f.core, "metric": "up", "ts": ts, "value": "up", "labels": {"via": via}});
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000030",
        json!([up(ts, "api"), up(ts + 1000, "rest")]),
    ))
    .await;
    let labels = || async {
        sqlx::query_scalar::<_, Value>("select labels from series where metric = 'up'")
            .fetch_one(&f.app.pool)
            .await
            .expect("labels")
    };
    assert_eq!(labels().await, json!({"via": "rest"}));
    // The series id comes from the cache now; a label change still reaches the table.
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000031",
        json!([up(ts + 2000, "api_ssl")]),
    ))
    .await;
    assert_eq!(labels().await, json!({"via": "api_ssl"}));
    f.post(&batch(
        "4c1e6a4e-0000-4000-8000-000000000032",
        json!([up(ts + 3000, "api_ssl")]),
    ))
    .await;
    assert_eq!(count(&f.app.pool, "series").await, 1);
    assert_eq!(count(&f.app.pool, "sample").await, 4);
}
