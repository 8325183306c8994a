//! Sites assigned to agents, and the agents fetching their devices with the credentials
//! (issue 7): the Agents page's forms and the CLI assign; an agent enrolled with its own code
//! fetches `GET /api/agent/v1/assignment` over mutual TLS with its own fetch code.

use agent::assignment::fetch::{fetch, Fetched};
use agent::identity::enroll;
use agent::link::{Link, Refused};
use sqlx::PgPool;
use telemetry::assignment::{AssignedProbe, Assignment, SnmpSettings};

use crate::credentials::{create, routeros_form, COMMUNITY, ROUTEROS_PASSWORD};
use crate::{count, error_of, spawn_agent_server, tenant_id, KeyFile, TestApp};

struct Fixture {
    app: TestApp,
    _key: KeyFile,
    tenant: i64,
    /// isp-a's sites VIE1 and GRZ1, isp-b's OTH1.
    vie1: i64,
    grz1: i64,
    oth1: i64,
    /// VIE1's router, switch and disabled router; GRZ1's router.
    r1: i64,
    sw1: i64,
    r2: i64,
    root: tempfile::TempDir,
}

async fn site(pool: &PgPool, tenant: i64, code: &str) -> i64 {
    sqlx::query_scalar("insert into site (tenant_id, name, code) values ($1, $2, $2) returning id")
        .bind(tenant)
        .bind(code)
        .fetch_one(pool)
        .await
        .expect("site")
}

async fn device(pool: &PgPool, tenant: i64, site: i64, name: &str, extra: &str) -> i64 {
    // `extra` is a literal of this file: vendor, profiles and flags.
    sqlx::query_scalar(&format!(
        "insert into device (tenant_id, site_id, name, role, mgmt_address, polling_profile, {extra}
         returning id"
    ))
    .bind(tenant)
    .bind(site)
    .bind(name)
    .fetch_one(pool)
    .await
    .expect("device")
}

impl Fixture {
    async fn new(pool: PgPool) -> Fixture {
        let (app, key) = spawn_agent_server(pool).await;
        app.seed_tenant("isp-a", &[("alice", "admin"), ("vic", "viewer")])
            .await;
        app.seed_tenant("isp-b", &[("bob", "admin")]).await;
        let (tenant, other) = (
            tenant_id(&app.pool, "isp-a").await,
            tenant_id(&app.pool, "isp-b").await,
        );
        let alice = app.signed_in("alice").await;
        let routers = create(&app, &alice, &routeros_form("Routers", ROUTEROS_PASSWORD)).await;
        let switches = create(
            &app,
            &alice,
            &[
                ("form[name]", "Switches"),
                ("form[kind]", "snmp_v2c"),
                ("form[community]", COMMUNITY),
            ],
        )
        .await;
        let pool = &app.pool;
        let (vie1, grz1, oth1) = (
            site(pool, tenant, "VIE1").await,
            site(pool, tenant, "GRZ1").await,
            site(pool, other, "OTH1").await,
        );
        let mikrotik = format!(
            "vendor, credential_profile_id) values ($1, $2, $3, 'edge', '10.0.0.1', 'fast', \
             'mikrotik', {routers})"
        );
        let r1 = device(pool, tenant, vie1, "vie1-r1", &mikrotik).await;
        let sw1 = device(
            pool,
            tenant,
            vie1,
            "vie1-sw1",
            &format!(
                "vendor, snmp_version, snmp_profile_id) values ($1, $2, $3, 'access', \
                 '10.0.0.9', 'slow', 'generic_snmp', 'v2c', {switches})"
            ),
        )
        .await;
        device(
            pool,
            tenant,
            vie1,
            "vie1-off",
            "vendor, enabled) values ($1, $2, $3, 'edge', '10.0.0.2', 'fast', 'mikrotik', \
             false)",
        )
        .await;
        let r2 = device(pool, tenant, grz1, "grz1-r1", &mikrotik).await;
        device(
            pool,
            other,
            oth1,
            "other-r1",
            "vendor) values ($1, $2, $3, 'edge', '10.9.0.1', 'fast', 'mikrotik')",
        )
        .await;
        Fixture {
            app,
            _key: key,
            tenant,
            vie1,
            grz1,
            oth1,
            r1,
            sw1,
            r2,
            root: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn agent_url(&self) -> String {
        self.app.agent_url("")
    }

    /// An agent `name` enrolled with the agent's own code, and its mTLS client.
    async fn enrolled(&self, name: &str) -> (uuid::Uuid, reqwest::Client) {
        let mut tx = self.app.pool.begin().await.expect("begin");
        let (token, _, _) = app::api::agents::ssr::issue_token(
            &mut tx,
            app::model::user::TenantId(self.tenant),
            name,
            None,
        )
        .await
        .expect("token");
        tx.commit().await.expect("commit");
        let dir = self.root.path().join(name);
        let identity = enroll(&self.agent_url(), &token, "1.2.3", &dir)
            .await
            .expect("enrolled");
        let link = Link::for_identity(&identity, std::time::Duration::from_secs(10)).expect("link");
        (identity.agent_id, link.client())
    }

    async fn fetch(&self, client: &reqwest::Client, current: Option<&str>) -> Fetched {
        fetch(client, &self.agent_url(), current)
            .await
            .expect("fetched")
    }

    async fn assign(&self, who: &str, agent: uuid::Uuid, site: i64) -> reqwest::Response {
        let c = self.app.signed_in(who).await;
        self.app
            .call(
                &c,
                "assign_agent_site",
                &[("agent", &agent.to_string()), ("site", &site.to_string())],
            )
            .await
    }
}

fn new(fetched: Fetched) -> Assignment {
    match fetched {
        Fetched::New(a) => a,
        Fetched::Unchanged => panic!("expected a new assignment"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_agent_fetches_the_enabled_devices_of_its_sites_with_their_credentials(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let (agent, client) = f.enrolled("pop-vie1").await;

    let nothing = new(f.fetch(&client, None).await);
    assert!(nothing.devices.is_empty() && nothing.sites.is_empty());

    let res = f.assign("alice", agent, f.vie1).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        count(
            &f.app.pool,
            "audit_event where action = 'agent.site_assigned'"
        )
        .await,
        1
    );
    let got = new(f.fetch(&client, Some(&nothing.revision)).await);
    assert_ne!(got.revision, nothing.revision);
    assert_eq!(got.sites, vec!["VIE1".to_owned()]);
    let ids: Vec<i64> = got.devices.iter().map(|d| d.id).collect();
    assert_eq!(ids, vec![f.r1, f.sw1], "VIE1's enabled devices only");
    let r1 = &got.devices[0];
    assert_eq!(
        (r1.address.as_str(), r1.api_port, r1.polling.as_str()),
        ("10.0.0.1", 8728, "fast")
    );
    let login = r1.routeros.as_ref().expect("the login is opened");
    assert_eq!(
        (login.username.as_str(), login.password.expose()),
        ("ispvm-api", ROUTEROS_PASSWORD)
    );
    match &got.devices[1].snmp {
        Some(SnmpSettings::V2c { community }) => assert_eq!(community.expose(), COMMUNITY),
        other => panic!("expected the v2c community, got {other:?}"),
    }
    assert!(got.devices.iter().all(|d| d.problems.is_empty()));
    assert!(
        !format!("{got:?}").contains(ROUTEROS_PASSWORD),
        "Debug redacts"
    );
    let page = f
        .app
        .signed_in("alice")
        .await
        .get(f.app.url("/admin/agents"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("data-site=\"VIE1\""),
        "the page shows the site"
    );

    // Unchanged: 304. A device edit, then a credential edit, each make a new revision.
    assert!(matches!(
        f.fetch(&client, Some(&got.revision)).await,
        Fetched::Unchanged
    ));
    sqlx::query("update device set mgmt_address = '10.0.0.7' where id = $1")
        .bind(f.r1)
        .execute(&f.app.pool)
        .await
        .expect("edit");
    let moved = new(f.fetch(&client, Some(&got.revision)).await);
    assert_ne!(moved.revision, got.revision);
    assert_eq!(moved.devices[0].address, "10.0.0.7");
    let alice = f.app.signed_in("alice").await;
    let profile: i64 =
        sqlx::query_scalar("select id from credential_profile where name = 'Routers'")
            .fetch_one(&f.app.pool)
            .await
            .expect("profile");
    let res = f
        .app
        .call(
            &alice,
            "update_credential_profile",
            &[
                ("id", &profile.to_string()),
                ("form[name]", "Routers"),
                ("form[username]", ""),
                ("form[password]", "New-pw-123456"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated = new(f.fetch(&client, Some(&moved.revision)).await);
    let login = rotated.devices[0].routeros.as_ref().expect("login");
    assert_eq!(login.password.expose(), "New-pw-123456");

    // A profile that does not open (sealed with another key) is that device's problem only.
    sqlx::query("update credential_profile set key_fingerprint = 'another-key' where id = $1")
        .bind(profile)
        .execute(&f.app.pool)
        .await
        .expect("damage");
    let broken = new(f.fetch(&client, Some(&rotated.revision)).await);
    assert_eq!(broken.devices.len(), 2);
    assert!(broken.devices[0].routeros.is_none());
    assert!(
        broken.devices[0].problems[0].contains("sealed with another master key"),
        "{:?}",
        broken.devices[0].problems
    );
    assert!(broken.devices[1].snmp.is_some() && broken.devices[1].problems.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_probes_defined_on_a_device_travel_with_it(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let (agent, client) = f.enrolled("pop-vie1").await;
    assert_eq!(f.assign("alice", agent, f.vie1).await.status(), 200);
    let first = new(f.fetch(&client, None).await);
    assert!(first.devices.iter().all(|d| d.probes.is_empty()));

    let alice = f.app.signed_in("alice").await;
    let add = |device: i64, target: &'static str| {
        let (app, alice) = (&f.app, &alice);
        async move {
            let device = device.to_string();
            let res = app
                .call(
                    alice,
                    "add_probe",
                    &[
                        ("device_id", device.as_str()),
                        ("form[kind]", "dns"),
                        ("form[target]", target),
                        ("form[interval_s]", "30"),
                        ("form[timeout_ms]", ""),
                    ],
                )
                .await;
            assert_eq!(res.status(), 200, "{target}");
        }
    };
    add(f.sw1, "Portal.Example@10.0.0.53").await;
    // GRZ1's router: another site, not this agent's.
    add(f.r2, "grz.example@10.0.0.53").await;
    let id: i64 = sqlx::query_scalar("select id from device_probe where device_id = $1")
        .bind(f.sw1)
        .fetch_one(&f.app.pool)
        .await
        .expect("probe id");

    let got = new(f.fetch(&client, Some(&first.revision)).await);
    assert_ne!(
        got.revision, first.revision,
        "a new probe is a new revision"
    );
    let sw1 = got.devices.iter().find(|d| d.id == f.sw1).expect("sw1");
    assert_eq!(
        sw1.probes,
        vec![AssignedProbe {
            id,
            kind: "dns".into(),
            target: "portal.example@10.0.0.53".into(),
            interval_s: 30,
            timeout_ms: 2000,
        }]
    );
    let runs = agent::assignment::probe(sw1, &sw1.probes[0]).expect("the agent runs it");
    assert_eq!(runs.check.instance(), "dns:portal.example@10.0.0.53");
    assert_eq!(runs.interval, std::time::Duration::from_secs(30));
    assert!(got
        .devices
        .iter()
        .filter(|d| d.id != f.sw1)
        .all(|d| d.probes.is_empty()));
    assert!(matches!(
        f.fetch(&client, Some(&got.revision)).await,
        Fetched::Unchanged
    ));

    let res = f
        .app
        .call(
            &alice,
            "delete_probe",
            &[("device_id", &f.sw1.to_string()), ("id", &id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let gone = new(f.fetch(&client, Some(&got.revision)).await);
    assert!(gone.devices.iter().all(|d| d.probes.is_empty()));
    assert_ne!(gone.revision, got.revision);
}

#[sqlx::test(migrations = "../migrations")]
async fn sites_stay_in_their_tenant_and_have_one_agent(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let (agent, client) = f.enrolled("pop-1").await;
    let (other_agent, _) = f.enrolled("pop-2").await;

    // Another tenant's site is no site; another tenant's admin finds no agent.
    let (status, body) = error_of(f.assign("alice", agent, f.oth1).await).await;
    assert_eq!(
        (status, &body["Invalid"]["field"]),
        (422, &"site".into()),
        "{body}"
    );
    let (status, body) = error_of(f.assign("bob", agent, f.oth1).await).await;
    assert_eq!((status, body), (404, "NotFound".into()));
    let (status, _) = error_of(f.assign("vic", agent, f.vie1).await).await;
    assert_eq!(status, 403, "viewers cannot assign");
    let alice = f.app.signed_in("alice").await;
    let res = f
        .app
        .call(
            &alice,
            "assign_agent_site",
            &[("agent", &agent.to_string()), ("site", "")],
        )
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!((status, &body["Invalid"]["field"]), (422, &"site".into()));
    assert_eq!(count(&f.app.pool, "agent_site").await, 0, "nothing written");

    // One agent per site.
    assert_eq!(f.assign("alice", agent, f.vie1).await.status(), 200);
    assert_eq!(
        f.assign("alice", agent, f.vie1).await.status(),
        200,
        "assigning again changes nothing"
    );
    let (status, body) = error_of(f.assign("alice", other_agent, f.vie1).await).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Conflict"]["field"], "site");
    assert!(
        body["Conflict"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("pop-1")),
        "{body}"
    );
    assert_eq!(
        count(
            &f.app.pool,
            "audit_event where action = 'agent.site_assigned'"
        )
        .await,
        1
    );

    // The CLI sets the agent's sites exactly, and refuses a site another agent serves.
    let done = server::admin::assign_sites(&f.app.pool, "isp-a", "pop-1", Some(&["grz1".into()]))
        .await
        .expect("assigned");
    assert_eq!(
        (done.sites, done.added, done.removed),
        (
            vec!["GRZ1".to_owned()],
            vec!["GRZ1".to_owned()],
            vec!["VIE1".to_owned()]
        )
    );
    let got = new(f.fetch(&client, None).await);
    let ids: Vec<i64> = got.devices.iter().map(|d| d.id).collect();
    assert_eq!(ids, vec![f.r2]);
    let err = server::admin::assign_sites(&f.app.pool, "isp-a", "pop-2", None)
        .await
        .expect_err("GRZ1 is pop-1's");
    assert!(
        format!("{err:#}").contains("--site: GRZ1 is served by the agent pop-1"),
        "{err:#}"
    );
    let err = server::admin::assign_sites(&f.app.pool, "isp-a", "pop-2", Some(&["nope".into()]))
        .await
        .expect_err("no such code");
    assert!(
        format!("{err:#}").contains("--site: no site has the code nope"),
        "{err:#}"
    );
    let err = server::admin::assign_sites(&f.app.pool, "isp-b", "pop-1", None)
        .await
        .expect_err("not isp-b's agent");
    assert!(format!("{err:#}").contains("--agent"), "{err:#}");
    assert_eq!(
        count(&f.app.pool, "agent_site").await,
        1,
        "the refused commands changed nothing"
    );

    // Unassigned there, the site can go to the other agent.
    let res = f
        .app
        .call(
            &alice,
            "unassign_agent_site",
            &[("agent", &agent.to_string()), ("site", &f.grz1.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(f.assign("alice", other_agent, f.grz1).await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_revoked_agent_is_refused_and_its_sites_are_freed(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let (agent, client) = f.enrolled("pop-1").await;
    assert_eq!(f.assign("alice", agent, f.vie1).await.status(), 200);
    let alice = f.app.signed_in("alice").await;
    let res = f
        .app
        .call(&alice, "revoke_agent", &[("id", &agent.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        count(&f.app.pool, "agent_site").await,
        0,
        "its sites are free"
    );
    let err = fetch(&client, &f.agent_url(), None)
        .await
        .expect_err("revoked");
    let refused = err.downcast_ref::<Refused>().expect("a refusal");
    assert_eq!((refused.status, refused.error.as_str()), (403, "revoked"));
    let (status, _) = error_of(f.assign("alice", agent, f.grz1).await).await;
    assert_eq!(status, 404, "a revoked agent gets no site");
}

/// `ispvm agent assign` as the lead's scripts run it: the real binary, audited.
#[sqlx::test(migrations = "../migrations")]
async fn the_cli_assigns_every_site_or_the_ones_named(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let (agent, client) = f.enrolled("pop-1").await;
    let url = crate::database_url(&f.app.pool);
    let run = |args: Vec<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ispvm"))
                .args(["agent", "assign", "--tenant", "isp-a", "--agent", "pop-1"])
                .args(args)
                .env_clear()
                .env("DATABASE_URL", url)
                .output()
                .expect("run ispvm");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    };
    let (code, _, err) = run(vec![]).await.expect("ran");
    assert_eq!(code, Some(2), "--site or --all-sites is required: {err}");
    let (code, out, err) = run(vec!["--all-sites"]).await.expect("ran");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("agent `pop-1` serves GRZ1, VIE1 (added: GRZ1, VIE1; removed: none)"),
        "{out}"
    );
    let got = new(f.fetch(&client, None).await);
    let mut ids: Vec<i64> = got.devices.iter().map(|d| d.id).collect();
    ids.sort_unstable();
    let mut expected = vec![f.r1, f.sw1, f.r2];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let (code, out, _) = run(vec!["--site", "VIE1"]).await.expect("ran");
    assert_eq!(code, Some(0));
    assert!(out.contains("removed: GRZ1"), "{out}");
    let audited: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "select action, detail from audit_event where action like 'agent.site_%' order by id",
    )
    .fetch_all(&f.app.pool)
    .await
    .expect("audit");
    let actions: Vec<&str> = audited.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "agent.site_assigned",
            "agent.site_assigned",
            "agent.site_unassigned"
        ]
    );
    assert!(audited
        .iter()
        .all(|(_, d)| d["via"] == "cli" && d["agent_id"] == agent.to_string()));
}
