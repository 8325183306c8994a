//! Telemetry reads (`api::telemetry`): availability intervals (merges, gaps → unknown, late
//! data, reasons, an exact partition of the window), the read tier at each span boundary,
//! counter rates across a restart, the fleet's top-N, last values; tenant isolation of every
//! function that takes an id, and who may read. Samples go in through the real ingest route,
//! rollups through `rollup_once`.

use reqwest::{Client, Response};
use serde_json::{json, Value};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use app::db::rfc3339;
use server::ingest::rollup;
use telemetry::INGEST_PATH;

use crate::{error_of, json_of, spawn_app, TestApp};

struct Fleet {
    app: TestApp,
    /// Agent tokens of tenants A and B.
    token_a: String,
    token_b: String,
    /// Tenant A's devices.
    core: i64,
    edge: i64,
    spare: i64,
    /// Tenant B's device.
    foreign: i64,
}

async fn add_devices(pool: &PgPool, slug: &str, names: &[&str]) -> Vec<i64> {
    let tenant = crate::tenant_id(pool, slug).await;
    crate::ingest::devices_in(pool, tenant, names).await
}

async fn fleet(pool: PgPool) -> Fleet {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "isp-a",
        &[
            ("admin", "admin"),
            ("op", "operator"),
            ("viewer", "viewer"),
            ("cust", "customer"),
        ],
    )
    .await;
    app.seed_tenant("isp-b", &[("admin-b", "admin")]).await;
    let a = add_devices(&app.pool, "isp-a", &["core-1", "edge-1", "spare-1"]).await;
    let b = add_devices(&app.pool, "isp-b", &["other-core"]).await;
    let token_a = server::ingest::token::create(&app.pool, "isp-a", "pop-a")
        .await
        .expect("token a");
    let token_b = server::ingest::token::create(&app.pool, "isp-b", "pop-b")
        .await
        .expect("token b");
    Fleet {
        app,
        token_a,
        token_b,
        core: a[0],
        edge: a[1],
        spare: a[2],
        foreign: b[0],
    }
}

fn ms(at: OffsetDateTime) -> i64 {
    telemetry::UnixMs::from_datetime(at).0
}

fn up(device: i64, at: OffsetDateTime, state: &str, reason: Option<&str>) -> Value {
    let mut s = json!({"device": device, "metric": "up", "ts": ms(at), "value": state});
    if let Some(r) = reason {
        s["reason"] = json!(r);
    }
    s
}

fn gauge(device: i64, metric: &str, at: OffsetDateTime, value: f64) -> Value {
    json!({"device": device, "metric": metric, "ts": ms(at), "value": value})
}

fn rx_bytes(device: i64, at: OffsetDateTime, value: u64) -> Value {
    json!({"device": device, "metric": "interface_rx_bytes_total", "instance": "ether1",
           "ts": ms(at), "value": value})
}

impl Fleet {
    /// Posts samples through the ingest route with `token`; every sample must be accepted.
    async fn ingest(&self, token: &str, samples: Vec<Value>) {
        let n = samples.len();
        let batch = json!({
            "batch_id": uuid::Uuid::new_v4(),
            "agent": {"name": "pop", "version": "0.1.0"},
            "sent_at": ms(OffsetDateTime::now_utc()),
            "samples": samples,
        });
        let res = Client::new()
            .post(self.app.url(INGEST_PATH))
            .bearer_auth(token)
            .json(&batch)
            .send()
            .await
            .expect("ingest");
        assert_eq!(res.status(), 200);
        let answer: Value = res.json().await.expect("answer");
        assert_eq!(answer["samples"]["accepted"], json!(n), "{answer}");
    }

    async fn series_id(&self, device: i64, metric: &str) -> i64 {
        sqlx::query_scalar("select id from series where device_id = $1 and metric = $2")
            .bind(device)
            .bind(metric)
            .fetch_one(&self.app.pool)
            .await
            .expect("series id")
    }
}

/// `[start, end, state, reason]` rows, as the intervals are expected.
fn intervals(rows: &[(OffsetDateTime, OffsetDateTime, &str, Option<&str>)]) -> Value {
    Value::Array(
        rows.iter()
            .map(|(s, e, state, reason)| {
                json!({"start": rfc3339(*s), "end": rfc3339(*e), "state": state,
                       "reason": reason})
            })
            .collect(),
    )
}

fn window(t0: OffsetDateTime, t1: OffsetDateTime) -> (String, String) {
    (rfc3339(t0), rfc3339(t1))
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn availability_merges_states_marks_gaps_unknown_and_keeps_reasons(pool: PgPool) {
    let f = fleet(pool).await;
    let base = rollup::minute_of(OffsetDateTime::now_utc() - Duration::hours(2));
    let at = |s: i64| base + Duration::seconds(s);
    f.ingest(
        &f.token_a,
        vec![
            up(f.core, at(0), "up", None),
            up(f.core, at(60), "up", None),
            up(f.core, at(120), "down", Some("timeout")),
            up(f.core, at(180), "down", Some("connection refused")),
            up(f.core, at(240), "up", None),
            up(f.core, at(1200), "up", None),
        ],
    )
    .await;
    let c = f.app.signed_in("viewer").await;
    let (t0, t1) = window(at(-600), at(1800));
    let core = f.core.to_string();
    let form = [
        ("device", core.as_str()),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
        ("stale_seconds", "180"),
    ];
    let expected = intervals(&[
        (at(-600), at(0), "unknown", None),
        (at(0), at(120), "up", None),
        // Two downs with different reasons are one outage, with the first reason.
        (at(120), at(240), "down", Some("timeout")),
        // The last sample before the gap vouches for 180 s, then nothing does.
        (at(240), at(420), "up", None),
        (at(420), at(1200), "unknown", None),
        (at(1200), at(1380), "up", None),
        (at(1380), at(1800), "unknown", None),
    ]);
    assert_eq!(
        json_of(&f.app, &c, "device_availability", &form).await,
        expected
    );
    // The same through the series id.
    let series = f.series_id(f.core, "up").await.to_string();
    let by_series = [
        ("series", series.as_str()),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
        ("stale_seconds", "180"),
    ];
    assert_eq!(
        json_of(&f.app, &c, "state_intervals", &by_series).await,
        expected
    );

    // Late data fills part of the gap; a window starting inside an interval is clipped to it.
    f.ingest(
        &f.token_a,
        vec![up(f.core, at(600), "down", Some("no route to host"))],
    )
    .await;
    let (t0, t1) = window(at(60), at(1300));
    let form = [
        ("device", core.as_str()),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
        ("stale_seconds", "180"),
    ];
    assert_eq!(
        json_of(&f.app, &c, "device_availability", &form).await,
        intervals(&[
            (at(60), at(120), "up", None),
            (at(120), at(240), "down", Some("timeout")),
            (at(240), at(420), "up", None),
            (at(420), at(600), "unknown", None),
            (at(600), at(780), "down", Some("no route to host")),
            (at(780), at(1200), "unknown", None),
            (at(1200), at(1300), "up", None),
        ])
    );

    // The default staleness (900 s) bridges the 960 s gap but for its last minute.
    let (t0, t1) = window(at(0), at(1200));
    let form = [
        ("device", core.as_str()),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
    ];
    assert_eq!(
        json_of(&f.app, &c, "device_availability", &form).await,
        intervals(&[
            (at(0), at(120), "up", None),
            (at(120), at(240), "down", Some("timeout")),
            (at(240), at(600), "up", None),
            (at(600), at(1200), "down", Some("no route to host")),
        ])
    );

    // A device never polled is unknown throughout.
    let edge = f.edge.to_string();
    let form = [
        ("device", edge.as_str()),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
    ];
    assert_eq!(
        json_of(&f.app, &c, "device_availability", &form).await,
        intervals(&[(at(0), at(1200), "unknown", None)])
    );

    // Bad arguments name their field.
    for (field, bad) in [
        ("t1", vec![("t0", t1.as_str()), ("t1", t0.as_str())]),
        ("t0", vec![("t0", "noon"), ("t1", t1.as_str())]),
        (
            "stale_seconds",
            vec![
                ("t0", t0.as_str()),
                ("t1", t1.as_str()),
                ("stale_seconds", "0"),
            ],
        ),
    ] {
        let mut form = vec![("device", core.as_str())];
        form.extend(bad);
        let (status, body) = error_of(f.app.call(&c, "device_availability", &form).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["Invalid"]["field"], json!(field), "{body}");
    }
}

/// Brute force: the state at `t` from the samples, by the documented rule.
fn state_at(samples: &[(i64, &str)], stale: i64, t: i64) -> String {
    // The newest sample at or before t (ties: the later one in the list, which the test sorts
    // like the function does); it vouches until the next sample or for `stale`.
    let mut found: Option<(usize, i64, &str)> = None;
    for (i, &(at, state)) in samples.iter().enumerate() {
        if at <= t {
            found = Some((i, at, state));
        }
    }
    match found {
        Some((i, at, state)) => {
            let next = samples.get(i + 1).map(|s| s.0).unwrap_or(i64::MAX);
            if t < next.min(at + stale) {
                state.to_owned()
            } else {
                "unknown".to_owned()
            }
        }
        None => "unknown".to_owned(),
    }
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn intervals_partition_the_window_exactly_and_match_a_brute_force(pool: PgPool) {
    let f = fleet(pool).await;
    let base = rollup::minute_of(OffsetDateTime::now_utc() - Duration::hours(3));
    let c = f.app.signed_in("op").await;
    let devices = [f.core, f.edge, f.spare];
    // A small deterministic generator (xorshift), so that a failure repeats.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let mut runs: Vec<(i64, Vec<(i64, &str)>)> = Vec::new();
    for &device in &devices {
        let mut samples = Vec::new();
        let mut t = next(200) as i64;
        for _ in 0..(5 + next(25)) {
            samples.push((t, if next(3) == 0 { "down" } else { "up" }));
            t += 1 + next(400) as i64;
        }
        f.ingest(
            &f.token_a,
            samples
                .iter()
                .map(|&(s, state)| up(device, base + Duration::seconds(s), state, None))
                .collect(),
        )
        .await;
        runs.push((device, samples));
    }
    for (device, samples) in &runs {
        for _ in 0..4 {
            let lo = next(3000) as i64 - 300;
            let hi = lo + 1 + next(6000) as i64;
            let stale = 1 + next(300) as i64;
            let (t0, t1) = window(base + Duration::seconds(lo), base + Duration::seconds(hi));
            let (d, s) = (device.to_string(), stale.to_string());
            let got = json_of(
                &f.app,
                &c,
                "device_availability",
                &[
                    ("device", d.as_str()),
                    ("t0", t0.as_str()),
                    ("t1", t1.as_str()),
                    ("stale_seconds", s.as_str()),
                ],
            )
            .await;
            let rows = got.as_array().expect("array");
            let secs = |v: &Value| {
                let text = v.as_str().expect("time");
                let at =
                    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                        .expect("rfc3339");
                (at - base).whole_seconds()
            };
            // No gap, no overlap, nothing empty, adjacent states differ, the ends are the window's.
            assert_eq!(secs(&rows[0]["start"]), lo, "{got}");
            assert_eq!(secs(&rows[rows.len() - 1]["end"]), hi, "{got}");
            for pair in rows.windows(2) {
                assert_eq!(secs(&pair[0]["end"]), secs(&pair[1]["start"]), "{got}");
                assert_ne!(pair[0]["state"], pair[1]["state"], "{got}");
            }
            for row in rows {
                let (start, end) = (secs(&row["start"]), secs(&row["end"]));
                assert!(start < end, "{got}");
                // Every second of the interval has its state by the brute force.
                for t in start..end {
                    assert_eq!(
                        row["state"].as_str().expect("state"),
                        state_at(samples, stale, t),
                        "t = {t}, stale = {stale}, samples = {samples:?}, got = {got}"
                    );
                }
            }
        }
    }
}

/// `(tier, points)` of `read_range` over `[t0, t1)`.
async fn read(
    f: &Fleet,
    c: &Client,
    series: i64,
    t0: OffsetDateTime,
    t1: OffsetDateTime,
) -> (String, Vec<Value>) {
    let (t0, t1) = window(t0, t1);
    let s = series.to_string();
    let got = json_of(
        &f.app,
        c,
        "read_range",
        &[
            ("series", s.as_str()),
            ("t0", t0.as_str()),
            ("t1", t1.as_str()),
        ],
    )
    .await;
    (
        got["tier"].as_str().expect("tier").to_owned(),
        got["points"].as_array().expect("points").clone(),
    )
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn read_range_picks_the_tier_by_span_at_each_boundary(pool: PgPool) {
    let f = fleet(pool).await;
    let now = OffsetDateTime::now_utc();
    let minute = rollup::minute_of(now - Duration::hours(1));
    f.ingest(
        &f.token_a,
        vec![
            gauge(
                f.core,
                "cpu_load_percent",
                minute + Duration::seconds(10),
                10.0,
            ),
            gauge(
                f.core,
                "cpu_load_percent",
                minute + Duration::seconds(40),
                30.0,
            ),
        ],
    )
    .await;
    rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    let series = f.series_id(f.core, "cpu_load_percent").await;
    let c = f.app.signed_in("admin").await;
    let end = minute + Duration::minutes(5);
    let second = Duration::SECOND;
    for (span, tier) in [
        (Duration::hours(6), "raw"),
        (Duration::hours(6) + second, "1m"),
        (Duration::days(7), "1m"),
        (Duration::days(7) + second, "1h"),
        (Duration::days(90), "1h"),
        (Duration::days(90) + second, "1d"),
    ] {
        let (got, points) = read(&f, &c, series, end - span, end).await;
        assert_eq!(got, tier, "span {span}");
        match tier {
            "raw" => assert_eq!(
                points,
                vec![
                    json!({"at": rfc3339(minute + Duration::seconds(10)), "avg": 10.0,
                           "min": null, "max": null, "p95": null}),
                    json!({"at": rfc3339(minute + Duration::seconds(40)), "avg": 30.0,
                           "min": null, "max": null, "p95": null}),
                ]
            ),
            "1m" => {
                assert_eq!(points.len(), 1, "{points:?}");
                assert_eq!(points[0]["at"], json!(rfc3339(minute)));
                assert_eq!(
                    (&points[0]["avg"], &points[0]["min"], &points[0]["max"]),
                    (&json!(20.0), &json!(10.0), &json!(30.0))
                );
                let p95 = points[0]["p95"].as_f64().expect("p95");
                assert!((p95 - 30.0).abs() <= 0.6, "{p95}");
            }
            // The hour and the day hold the same two samples once they are closed and rolled
            // up; until then (the current hour or day) they have no bucket.
            _ => {
                assert!(points.len() <= 1, "{tier}: {points:?}");
                for p in &points {
                    assert_eq!(
                        (&p["avg"], &p["min"], &p["max"]),
                        (&json!(20.0), &json!(10.0), &json!(30.0))
                    );
                }
            }
        }
    }
    // A state series is read as intervals, not points.
    f.ingest(&f.token_a, vec![up(f.core, minute, "up", None)])
        .await;
    let up_series = f.series_id(f.core, "up").await.to_string();
    let (t0, t1) = window(minute, end);
    let (status, body) = error_of(
        f.app
            .call(
                &c,
                "read_range",
                &[
                    ("series", up_series.as_str()),
                    ("t0", t0.as_str()),
                    ("t1", t1.as_str()),
                ],
            )
            .await,
    )
    .await;
    assert_eq!((status, &body["Invalid"]["field"]), (422, &json!("series")));
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn counters_read_as_rates_and_a_decrease_is_a_restart(pool: PgPool) {
    let f = fleet(pool).await;
    let now = OffsetDateTime::now_utc();
    let base = rollup::minute_of(now - Duration::hours(2));
    let at = |s: i64| base + Duration::seconds(s);
    // Raw: +1000 per 10 s, then a restart at 30 s (500 < 3000), then +1000 again.
    // Per minute (the last sample of each): 1000, 7000, 100 (restart), 6100.
    f.ingest(
        &f.token_a,
        vec![
            rx_bytes(f.core, at(0), 1000),
            rx_bytes(f.core, at(10), 2000),
            rx_bytes(f.core, at(20), 3000),
            rx_bytes(f.core, at(30), 500),
            rx_bytes(f.core, at(40), 1500),
            rx_bytes(f.core, at(50), 1000),
            rx_bytes(f.core, at(110), 7000),
            rx_bytes(f.core, at(170), 100),
            rx_bytes(f.core, at(230), 6100),
        ],
    )
    .await;
    rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    let series = f.series_id(f.core, "interface_rx_bytes_total").await;
    let c = f.app.signed_in("viewer").await;
    let point = |t: OffsetDateTime, rate: f64| json!({"at": rfc3339(t), "avg": rate, "min": null, "max": null, "p95": null});

    // Raw, from 5 s: the first rate uses the sample before the window.
    let (tier, points) = read(&f, &c, series, at(5), at(60)).await;
    assert_eq!(tier, "raw");
    assert_eq!(
        points,
        vec![
            point(at(10), 100.0),
            point(at(20), 100.0),
            point(at(40), 100.0)
        ],
        "no point at 30 s (restart) nor 50 s (another decrease)"
    );

    // The 1m tier: rates between the minutes' last samples.
    let (tier, points) = read(&f, &c, series, at(60), at(60) + Duration::days(1)).await;
    assert_eq!(tier, "1m");
    assert_eq!(points, vec![point(at(60), 100.0), point(at(180), 100.0)]);

    // The fleet's top-N by rate: core averages 100/s (restarts left out); edge 5000 bytes in
    // 70 s, 200/s at its fastest. The 1m tier sees only the minutes' last samples.
    f.ingest(
        &f.token_a,
        vec![
            rx_bytes(f.edge, at(0), 0),
            rx_bytes(f.edge, at(60), 3000),
            rx_bytes(f.edge, at(70), 5000),
        ],
    )
    .await;
    rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    let ranked = |v: Value| -> Vec<(String, i64)> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|e| {
                let rate = e["value"].as_f64().expect("value");
                (
                    e["device_name"].as_str().expect("name").to_owned(),
                    (rate * 100.0).round() as i64,
                )
            })
            .collect()
    };
    for (span, by, expected) in [
        (
            Duration::hours(1),
            "avg",
            [("core-1", 10_000), ("edge-1", 7_143)],
        ),
        (
            Duration::hours(1),
            "max",
            [("edge-1", 20_000), ("core-1", 10_000)],
        ),
        (
            Duration::days(1),
            "avg",
            [("core-1", 10_000), ("edge-1", 7_143)],
        ),
        (
            Duration::days(1),
            "max",
            [("core-1", 10_000), ("edge-1", 7_143)],
        ),
    ] {
        let (t0, t1) = window(at(300) - span, at(300));
        let top = json_of(
            &f.app,
            &c,
            "top_n",
            &[
                ("metric", "interface_rx_bytes_total"),
                ("t0", t0.as_str()),
                ("t1", t1.as_str()),
                ("n", "5"),
                ("by", by),
            ],
        )
        .await;
        let expected: Vec<(String, i64)> = expected
            .iter()
            .map(|(d, r)| ((*d).to_owned(), *r))
            .collect();
        assert_eq!(ranked(top), expected, "span {span} by {by}");
    }

    // The last value carries the rate of the last two samples.
    let device = f.core.to_string();
    let last = json_of(&f.app, &c, "last_values", &[("device", device.as_str())]).await;
    assert_eq!(
        last,
        json!([{"series": series, "metric": "interface_rx_bytes_total", "instance": "ether1",
                "at": rfc3339(at(230)), "value": 6100.0, "state": null, "reason": null,
                "rate": 100.0}])
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn last_values_cover_every_series_of_the_device(pool: PgPool) {
    let f = fleet(pool).await;
    let t = rollup::minute_of(OffsetDateTime::now_utc() - Duration::minutes(30));
    f.ingest(
        &f.token_a,
        vec![
            up(f.core, t, "up", None),
            up(f.core, t + Duration::seconds(60), "down", Some("timeout")),
            gauge(f.core, "cpu_load_percent", t, 12.0),
            gauge(f.core, "cpu_load_percent", t + Duration::seconds(30), 14.0),
            rx_bytes(f.core, t, 5),
            gauge(f.edge, "cpu_load_percent", t, 99.0),
        ],
    )
    .await;
    let c = f.app.signed_in("op").await;
    let device = f.core.to_string();
    let last = json_of(&f.app, &c, "last_values", &[("device", device.as_str())]).await;
    let summary: Vec<(String, Value, Value, Value, Value)> = last
        .as_array()
        .expect("array")
        .iter()
        .map(|v| {
            (
                v["metric"].as_str().expect("metric").to_owned(),
                v["value"].clone(),
                v["state"].clone(),
                v["reason"].clone(),
                v["rate"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "cpu_load_percent".into(),
                json!(14.0),
                json!(null),
                json!(null),
                json!(null)
            ),
            // One sample only: no rate yet.
            (
                "interface_rx_bytes_total".into(),
                json!(5.0),
                json!(null),
                json!(null),
                json!(null)
            ),
            (
                "up".into(),
                json!(null),
                json!("down"),
                json!("timeout"),
                json!(null)
            ),
        ]
    );
    // A device without samples has no last values.
    let spare = f.spare.to_string();
    assert_eq!(
        json_of(&f.app, &c, "last_values", &[("device", spare.as_str())]).await,
        json!([])
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn top_n_ranks_the_tenants_fleet_by_avg_or_max(pool: PgPool) {
    let f = fleet(pool).await;
    let now = OffsetDateTime::now_utc();
    let minute = rollup::minute_of(now - Duration::hours(1));
    let at = |s: i64| minute + Duration::seconds(s);
    // avg / max: core 50 / 90, edge 60 / 60, spare 10 / 20; tenant B's 100 / 100.
    f.ingest(
        &f.token_a,
        vec![
            gauge(f.core, "cpu_load_percent", at(0), 10.0),
            gauge(f.core, "cpu_load_percent", at(30), 90.0),
            gauge(f.edge, "cpu_load_percent", at(0), 60.0),
            gauge(f.spare, "cpu_load_percent", at(0), 0.0),
            gauge(f.spare, "cpu_load_percent", at(30), 20.0),
        ],
    )
    .await;
    f.ingest(
        &f.token_b,
        vec![gauge(f.foreign, "cpu_load_percent", at(0), 100.0)],
    )
    .await;
    rollup::rollup_once(&f.app.pool, now)
        .await
        .expect("rollup")
        .expect("lock");
    let c = f.app.signed_in("viewer").await;
    let names = |v: &Value| -> Vec<(String, f64)> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|e| {
                (
                    e["device_name"].as_str().expect("name").to_owned(),
                    e["value"].as_f64().expect("value"),
                )
            })
            .collect()
    };
    let end = minute + Duration::minutes(2);
    // One hour reads raw samples, one day the 1m rollup: the same ranking.
    for span in [Duration::hours(1), Duration::days(1)] {
        let (t0, t1) = window(end - span, end);
        let top = |by: &'static str, n: &'static str| {
            let (t0, t1) = (t0.clone(), t1.clone());
            let c = c.clone();
            let app = &f.app;
            async move {
                json_of(
                    app,
                    &c,
                    "top_n",
                    &[
                        ("metric", "cpu_load_percent"),
                        ("t0", t0.as_str()),
                        ("t1", t1.as_str()),
                        ("n", n),
                        ("by", by),
                    ],
                )
                .await
            }
        };
        assert_eq!(
            names(&top("avg", "10").await),
            vec![
                ("edge-1".to_owned(), 60.0),
                ("core-1".to_owned(), 50.0),
                ("spare-1".to_owned(), 10.0)
            ],
            "span {span}"
        );
        assert_eq!(
            names(&top("max", "2").await),
            vec![("core-1".to_owned(), 90.0), ("edge-1".to_owned(), 60.0)],
            "span {span}"
        );
    }
    // Unknown metrics and states are not ranked; n and by are checked.
    let (t0, t1) = window(end - Duration::hours(1), end);
    for (metric, n, by, field) in [
        ("cpu_temperature", "5", "avg", "metric"),
        ("up", "5", "avg", "metric"),
        ("cpu_load_percent", "0", "avg", "n"),
        ("cpu_load_percent", "5", "median", "by"),
    ] {
        let (status, body) = error_of(
            f.app
                .call(
                    &c,
                    "top_n",
                    &[
                        ("metric", metric),
                        ("t0", t0.as_str()),
                        ("t1", t1.as_str()),
                        ("n", n),
                        ("by", by),
                    ],
                )
                .await,
        )
        .await;
        assert_eq!(
            (status, &body["Invalid"]["field"]),
            (422, &json!(field)),
            "{body}"
        );
    }
}

/// Calls `endpoint` with `id_field` set to `id` and a valid window.
async fn call_with_id(f: &Fleet, c: &Client, endpoint: &str, id_field: &str, id: i64) -> Response {
    let now = OffsetDateTime::now_utc();
    let (t0, t1) = window(now - Duration::hours(1), now);
    let id = id.to_string();
    let mut form = vec![(id_field, id.as_str())];
    if endpoint != "last_values" {
        form.extend([("t0", t0.as_str()), ("t1", t1.as_str())]);
    }
    f.app.call(c, endpoint, &form).await
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn another_tenants_ids_are_not_found_and_only_staff_read(pool: PgPool) {
    let f = fleet(pool).await;
    let t = OffsetDateTime::now_utc() - Duration::minutes(10);
    f.ingest(
        &f.token_b,
        vec![
            up(f.foreign, t, "up", None),
            gauge(f.foreign, "cpu_load_percent", t, 5.0),
        ],
    )
    .await;
    f.ingest(
        &f.token_a,
        vec![
            up(f.core, t, "up", None),
            gauge(f.core, "cpu_load_percent", t, 5.0),
        ],
    )
    .await;
    let foreign_up = f.series_id(f.foreign, "up").await;
    let foreign_cpu = f.series_id(f.foreign, "cpu_load_percent").await;
    let own_up = f.series_id(f.core, "up").await;
    let own_cpu = f.series_id(f.core, "cpu_load_percent").await;
    let calls = [
        ("state_intervals", "series", foreign_up, own_up),
        ("device_availability", "device", f.foreign, f.core),
        ("last_values", "device", f.foreign, f.core),
        ("read_range", "series", foreign_cpu, own_cpu),
    ];
    let admin = f.app.signed_in("admin").await;
    for (endpoint, field, foreign, own) in calls {
        let res = call_with_id(&f, &admin, endpoint, field, own).await;
        assert_eq!(res.status(), 200, "{endpoint} of the tenant's own id");
        let res = call_with_id(&f, &admin, endpoint, field, foreign).await;
        assert_eq!(res.status(), 404, "{endpoint} of tenant B's id");
        let res = call_with_id(&f, &admin, endpoint, field, i64::MAX).await;
        assert_eq!(res.status(), 404, "{endpoint} of a missing id");
    }
    // Tenant B's own admin reads them.
    let admin_b = f.app.signed_in("admin-b").await;
    for (endpoint, field, foreign, _) in calls {
        let res = call_with_id(&f, &admin_b, endpoint, field, foreign).await;
        assert_eq!(res.status(), 200, "{endpoint} by tenant B");
    }
    // Every staff role reads; a customer is forbidden; a stranger must sign in.
    let customer = f.app.signed_in("cust").await;
    let stranger = crate::client(&f.app);
    for user in ["op", "viewer"] {
        let c = f.app.signed_in(user).await;
        for (endpoint, field, _, own) in calls {
            let res = call_with_id(&f, &c, endpoint, field, own).await;
            assert_eq!(res.status(), 200, "{endpoint} by {user}");
        }
    }
    for (endpoint, field, _, own) in calls {
        let res = call_with_id(&f, &customer, endpoint, field, own).await;
        assert_eq!(res.status(), 403, "{endpoint} by a customer");
        let res = call_with_id(&f, &stranger, endpoint, field, own).await;
        assert_eq!(res.status(), 401, "{endpoint} signed out");
    }
    let now = OffsetDateTime::now_utc();
    let (t0, t1) = window(now - Duration::hours(1), now);
    let top = [
        ("metric", "cpu_load_percent"),
        ("t0", t0.as_str()),
        ("t1", t1.as_str()),
        ("n", "5"),
    ];
    assert_eq!(f.app.call(&customer, "top_n", &top).await.status(), 403);
    assert_eq!(f.app.call(&stranger, "top_n", &top).await.status(), 401);
}
