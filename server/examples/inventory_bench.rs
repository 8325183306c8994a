//! The inventory benchmark: `cargo run --release -p server --example inventory_bench`.
//!
//! Creates a scratch database on the server of `DATABASE_URL` (dropped at the end) and:
//!
//! 1. imports a generated ISP as CSV files through `app::import` (decode, read, the dry run
//!    and the apply of each file, as the import page does): 50 sites, 5,000 devices, 20,000
//!    interfaces and about 5,400 links. Baseline in the same run: the same devices written by
//!    one `insert … select from unnest(…)`, the fastest bulk path with no per-row checks.
//! 2. measures the blast radius of 200 devices end to end as the device page computes it: the
//!    tenant's graph from the per-tenant cache (`db::topology::GraphCache`: one read of the
//!    inventory version, the graph kept in memory), then `downstream`; and what a page pays
//!    after an inventory change, when the graph is loaded again (four queries). Baseline in the
//!    same run: `downstream` alone on the loaded graph.
//!
//! Settings: `BENCH_SITES` (50), `BENCH_DEVICES_PER_SITE` (100).
//!
//! Figures and how to read them: docs/benchmarks.md.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::PgPool;

use app::import;
use app::model::import::ImportKind;
use app::model::user::TenantId;
use server::bench::{in_scratch_db, say, setting};

/// The generated ISP as four CSV files. Per site: 2 cores (each uplinked to both cores of the
/// previous site, site 0's are roots), 8 aggregation routers (uplinked to both local cores) and
/// the rest access routers (each uplinked to one aggregation router).
struct Files {
    sites: String,
    devices: String,
    interfaces: String,
    links: String,
}

fn generate(sites: usize, per_site: usize) -> Files {
    let mut f = Files {
        sites: String::from("code,name,region,timezone\n"),
        devices: String::from("name,site,role,mgmt_address,model,tags\n"),
        interfaces: String::from("device,name,kind,speed_mbps,role\n"),
        links: String::from(
            "a_device,a_interface,b_device,b_interface,kind,upstream,capacity_mbps\n",
        ),
    };
    let name = |s: usize, i: usize| format!("s{s:03}-r{i:03}");
    for s in 0..sites {
        f.sites.push_str(&format!(
            "S{s:03},Site {s},Region {},Europe/Vienna\n",
            s % 5
        ));
        for i in 0..per_site {
            let role = match i {
                0 | 1 => "core",
                2..=9 => "aggregation",
                _ => "access",
            };
            let address = format!("10.{}.{}.{}", s / 250, s % 250, i + 1);
            f.devices.push_str(&format!(
                "{},S{s:03},{role},{address},CCR2004,bench {role}\n",
                name(s, i)
            ));
            for p in 1..=4 {
                let port_role = if p == 1 { "uplink" } else { "downlink" };
                f.interfaces
                    .push_str(&format!("{},sfp{p},sfp,10000,{port_role}\n", name(s, i)));
            }
            let uplinks: Vec<String> = match role {
                "core" if s > 0 => vec![name(s - 1, 0), name(s - 1, 1)],
                "core" => vec![],
                "aggregation" => vec![name(s, 0), name(s, 1)],
                _ => vec![name(s, 2 + i % 8)],
            };
            for (n, up) in uplinks.iter().enumerate() {
                f.links.push_str(&format!(
                    "{up},sfp{},{},sfp{},physical,true,10000\n",
                    2 + n,
                    name(s, i),
                    1 + n
                ));
            }
        }
    }
    f
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    in_scratch_db("inventory", Some(4), async |_, pool| run(pool).await).await
}

async fn run(pool: PgPool) -> anyhow::Result<()> {
    let tenant = server::admin::create_tenant(&pool, "Bench", "bench").await?;
    let files = generate(
        setting("BENCH_SITES", 50),
        setting("BENCH_DEVICES_PER_SITE", 100),
    );

    say("CSV import (dry run = checked and rolled back; apply = checked and committed)");
    for (kind, text) in [
        (ImportKind::Sites, &files.sites),
        (ImportKind::Devices, &files.devices),
        (ImportKind::Interfaces, &files.interfaces),
        (ImportKind::Links, &files.links),
    ] {
        let (rows, dry) = import_file(&pool, tenant, kind, text, false).await?;
        let (_, apply) = import_file(&pool, tenant, kind, text, true).await?;
        say(&format!(
            "  {kind:<10} {rows:>6} rows ({:>7} bytes): dry run {:>7.0} ms, apply {:>7.0} ms ({:>6.0} rows/s)",
            text.len(),
            ms(dry),
            ms(apply),
            rows as f64 / apply.as_secs_f64()
        ));
    }
    let baseline = bulk_devices_baseline(&pool).await?;
    say(&format!(
        "  baseline: the same devices by one unnest insert (no per-row checks): {:.0} ms",
        ms(baseline)
    ));

    say("Blast radius of 200 devices (the device page: graph from PostgreSQL, then downstream)");
    let ids: Vec<i64> =
        sqlx::query_scalar("select id from device where tenant_id = $1 order by id")
            .bind(tenant.0)
            .fetch_all(&pool)
            .await?;
    // Every 23rd device: a step prime to the 100 devices of a site, so the picks cover every
    // role (cores, aggregation routers with access routers below them, access routers).
    let picks: Vec<i64> = ids.iter().step_by(23).copied().take(200).collect();
    let cache = app::db::topology::GraphCache::default();
    let (mut end_to_end, mut load_only, mut downstream_only) = (vec![], vec![], vec![]);
    let mut largest = 0;
    let mut conn = pool.acquire().await?;
    // The import above changed the inventory: the first page loads the graph (measured on its
    // own below, as the load after a change); this run is about the pages after it.
    cache
        .get(&mut conn, tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for id in &picks {
        // What the first page after a change pays: the graph loaded from PostgreSQL.
        let start = Instant::now();
        app::db::topology::load(&mut conn, tenant)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        load_only.push(start.elapsed());
        // Every other page: the version read, the graph from memory, then downstream.
        let start = Instant::now();
        let graph = cache
            .get(&mut conn, tenant)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let t = Instant::now();
        let down = graph
            .downstream(topology::DeviceId(*id))
            .context("a device of the tenant is in its graph")?;
        downstream_only.push(t.elapsed());
        end_to_end.push(start.elapsed());
        largest = largest.max(down.devices.len());
    }
    drop(conn);
    say(&format!(
        "  {} devices, {} upstream links in the graph; largest blast radius {largest} devices",
        ids.len(),
        files.links.lines().count() - 1
    ));
    say(&format!(
        "  end to end (cached graph):       {}",
        percentiles(&mut end_to_end)
    ));
    say(&format!(
        "  graph load after a change:      {}",
        percentiles(&mut load_only)
    ));
    say(&format!(
        "  baseline, downstream alone:     {}",
        percentiles(&mut downstream_only)
    ));
    Ok(())
}

/// Reads and runs one file in a transaction; commits when `apply` (and the run is clean).
async fn import_file(
    pool: &PgPool,
    tenant: TenantId,
    kind: ImportKind,
    text: &str,
    apply: bool,
) -> anyhow::Result<(usize, Duration)> {
    let start = Instant::now();
    let text = import::decode(text.as_bytes()).map_err(anyhow::Error::msg)?;
    let table = import::read(kind, text).map_err(anyhow::Error::msg)?;
    let mut tx = pool.begin().await?;
    let outcome = import::run(&mut tx, tenant, kind, &table)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if outcome.failed() {
        anyhow::bail!(
            "{kind}: {} row errors, first {:?}; {:?}",
            outcome.error_count,
            outcome.errors.first(),
            outcome.file_error
        );
    }
    if apply {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok((table.records.len(), start.elapsed()))
}

/// The devices again, under other names, in one statement: what PostgreSQL itself takes.
async fn bulk_devices_baseline(pool: &PgPool) -> anyhow::Result<Duration> {
    let tenant = server::admin::create_tenant(pool, "Baseline", "baseline").await?;
    let site: i64 = sqlx::query_scalar(
        "insert into site (tenant_id, name, code) values ($1, 'Baseline', 'B1') returning id",
    )
    .bind(tenant.0)
    .fetch_one(pool)
    .await?;
    let (names, addresses): (Vec<String>, Vec<String>) = sqlx::query_as(
        "select name, host(mgmt_address) from device where tenant_id <> $1 order by id",
    )
    .bind(tenant.0)
    .fetch_all(pool)
    .await?
    .into_iter()
    .unzip();
    let start = Instant::now();
    sqlx::query(
        "insert into device (tenant_id, site_id, name, vendor, model, role, mgmt_address, tags)
         select $1, $2, n, 'mikrotik', 'CCR2004', 'access', a::inet, '{bench}'
         from unnest($3::text[], $4::text[]) as t(n, a)",
    )
    .bind(tenant.0)
    .bind(site)
    .bind(&names)
    .bind(&addresses)
    .execute(pool)
    .await?;
    Ok(start.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentiles(v: &mut [Duration]) -> String {
    v.sort_unstable();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    )
}
