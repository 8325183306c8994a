//! CSV import and export: dry run then all-or-nothing apply, row errors with line and column,
//! files rejected as a whole (headers, encoding, size) and kept, the cycle check over a links
//! file, export → import round trips, roles and tenant isolation; the same for groups,
//! customers and services, with their list cells, the service cycle check and the group
//! graph check.

use reqwest::multipart::{Form, Part};
use reqwest::Client;
use serde_json::Value;
use sqlx::PgPool;

use crate::{count, error_of, json_of, spawn_app, TestApp};

/// Uploads a file and returns the import id the server redirected to.
pub async fn upload(app: &TestApp, c: &Client, kind: &str, bytes: Vec<u8>) -> i64 {
    let res = post_file(app, c, kind, bytes).await;
    assert_eq!(res.status(), 303, "upload of a {kind} file");
    let to = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    to.strip_prefix("/inventory/import/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("redirect to an import page, got {to:?}"))
}

async fn post_file(app: &TestApp, c: &Client, kind: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new().text("kind", kind.to_owned()).part(
        "file",
        Part::bytes(bytes)
            .file_name(format!("{kind}.csv"))
            .mime_str("text/csv")
            .expect("mime"),
    );
    c.post(app.url("/inventory/import/upload"))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

async fn detail(app: &TestApp, c: &Client, id: i64) -> Value {
    json_of(app, c, "get_import", &[("id", &id.to_string())]).await
}

async fn apply(app: &TestApp, c: &Client, id: i64) -> reqwest::Response {
    app.call(c, "apply_import", &[("id", &id.to_string())])
        .await
}

/// Uploads and applies a clean file, checking that it applied.
pub async fn import(app: &TestApp, c: &Client, kind: &str, csv: &str) -> Value {
    let id = upload(app, c, kind, csv.as_bytes().to_vec()).await;
    let d = detail(app, c, id).await;
    assert_eq!(d["error_count"], 0, "{kind}: {d}");
    assert_eq!(apply(app, c, id).await.status(), 200, "apply {kind}");
    let d = detail(app, c, id).await;
    assert_eq!(d["status"], "applied", "{d}");
    d
}

const SITES: &str = "code,name,region,timezone,latitude,longitude\n\
                     VIE1,Wien Interxion,Ost,Europe/Vienna,48.27,16.42\n\
                     GRZ1,\"Graz, Puchstraße\",Süd,Europe/Vienna,,\n";
const DEVICES: &str = "name,site,role,mgmt_address,model,tags,api_tls\n\
                       vie1-core-1,VIE1,core,10.0.0.1,CCR2216,backbone core,no\n\
                       grz1-core-1,GRZ1,core,10.0.1.1,CCR2004,backbone,yes\n\
                       grz1-bng-1,grz1,access,10.0.1.2,CCR1072,pppoe,\n";
const INTERFACES: &str = "device,name,kind,speed_mbps,role\n\
                          vie1-core-1,sfp28-1,sfp,25000,downlink\n\
                          grz1-core-1,sfp28-1,sfp,25000,uplink\n";
const LINKS: &str = "a_device,a_interface,b_device,b_interface,kind,upstream,capacity_mbps\n\
                     vie1-core-1,sfp28-1,grz1-core-1,sfp28-1,ptp,true,10000\n\
                     grz1-core-1,sfp-sfpplus1,grz1-bng-1,sfp-sfpplus1,physical,,\n\
                     vie1-core-1,,grz1-core-1,,ospf,false,\n";

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_clean_file_is_previewed_then_applied_whole(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;

    let id = upload(&app, &c, "sites", SITES.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(d["status"], "previewed");
    assert_eq!(
        (d["data_rows"].as_i64(), d["created_rows"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(d["preview"][1]["key"], "GRZ1");
    assert_eq!(d["preview"][1]["action"], "create");
    assert_eq!(
        count(&app.pool, "site").await,
        0,
        "a dry run writes nothing"
    );

    assert_eq!(apply(&app, &c, id).await.status(), 200);
    assert_eq!(count(&app.pool, "site").await, 2);
    let d = detail(&app, &c, id).await;
    assert_eq!(d["status"], "applied");
    assert_eq!(d["applied_by"], "root");
    let name: String = sqlx::query_scalar("select name from site where code = 'GRZ1'")
        .fetch_one(&app.pool)
        .await
        .expect("site");
    assert_eq!(name, "Graz, Puchstraße", "quoted comma and UTF-8 kept");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'inventory.imported'")
            .fetch_one(&app.pool)
            .await
            .expect("audit");
    assert_eq!(audited, 1);

    // Applying twice is refused; the same file again changes nothing.
    let (status, body) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(
        (status, body["Conflict"]["field"].as_str()),
        (409, Some("import"))
    );
    let again = upload(&app, &c, "sites", SITES.as_bytes().to_vec()).await;
    let d = detail(&app, &c, again).await;
    assert_eq!(d["unchanged_rows"], 2, "{d}");
    // A time zone is checked once per file, and an unknown one fails every row that names it.
    let zones =
        "code,name,timezone\nX1,Mars One,Mars/Base\nX2,Mars Two,Mars/Base\nX3,Linz,Europe/Vienna\n";
    let id = upload(&app, &c, "sites", zones.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    let lines: Vec<(i64, &str)> = d["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(0),
                e["column"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(lines, [(2, "timezone"), (3, "timezone")], "{d}");
    // An edited row is an update.
    let edited = SITES.replace("Wien Interxion", "Wien Interxion 2");
    let d = import(&app, &c, "sites", &edited).await;
    assert_eq!(
        (d["updated_rows"].as_i64(), d["unchanged_rows"].as_i64()),
        (Some(1), Some(1))
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn one_bad_row_imports_nothing_and_names_line_and_column(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    import(&app, &c, "sites", SITES).await;

    let bad = "name,site,role,mgmt_address\n\
               r1,VIE1,core,10.0.0.1\n\
               r2,VIE1,router,10.0.0.2\n\
               r3,VIE9,core,10.0.0.3\n\
               r4,VIE1,core,10.0.0.300\n\
               r1,VIE1,edge,10.0.0.5\n\
               r6,VIE1\n\
               r7,VIE1,core,10.0.0.7\n";
    let id = upload(&app, &c, "devices", bad.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    let errors: Vec<(i64, String)> = d["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(0),
                e["column"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(i64, String)> = vec![
        (7, "-".into()),
        (3, "role".into()),
        (4, "site".into()),
        (5, "mgmt_address".into()),
        (6, "-".into()),
    ];
    assert_eq!(errors, expected, "{d}");
    assert!(
        d["errors"][2]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no site with code \"VIE9\"")),
        "{d}"
    );
    assert!(
        d["errors"][4]["message"]
            .as_str()
            .is_some_and(|m| m.contains("line 2")),
        "a duplicate names the first line: {d}"
    );
    assert_eq!(d["error_count"], 5);
    assert_eq!(count(&app.pool, "device").await, 0);
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409, "a file with errors cannot be applied");
    assert_eq!(count(&app.pool, "device").await, 0, "nothing imported");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn unusable_files_are_rejected_whole_and_kept(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"code,name,colour\nVIE1,Wien,red\n".to_vec(),
            "unknown column \"colour\"",
        ),
        (
            b"name,region\nWien,Ost\n".to_vec(),
            "missing required column \"code\"",
        ),
        (
            b"code,name\nVIE1,Wien H\xF6he\n".to_vec(),
            "not UTF-8 (line 2",
        ),
        (b"\xFF\xFEc\x00o\x00".to_vec(), "UTF-16"),
        (b"code,name\nVIE1,Wien\0\n".to_vec(), "NUL byte (line 2"),
        (b"code,name\n".to_vec(), "no rows"),
        (
            vec![b'x'; 6 * 1024 * 1024],
            "the file is 6.0 MB; the limit is 5 MB",
        ),
    ];
    for (bytes, reason) in cases {
        let id = upload(&app, &c, "sites", bytes).await;
        let d = detail(&app, &c, id).await;
        assert_eq!(d["status"], "rejected", "{d}");
        let error = d["file_error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{reason:?} in {error:?}");
    }
    assert_eq!(
        count(&app.pool, "inventory_import").await,
        7,
        "every upload is kept"
    );
    let sizes: Vec<(i64, bool)> =
        sqlx::query_as("select size_bytes, content is not null from inventory_import order by id")
            .fetch_all(&app.pool)
            .await
            .expect("imports");
    assert_eq!(sizes[0], (31, true), "a readable file keeps its text");
    assert!(
        !sizes[2].1,
        "a file that is not UTF-8 is not stored as text"
    );
    assert_eq!(
        sizes[6],
        (6 * 1024 * 1024, false),
        "the size of a file too large"
    );
    assert_eq!(count(&app.pool, "site").await, 0);

    // An unknown kind, and a form without a file, are refused before anything is kept.
    let res = post_file(&app, &c, "routers", b"x".to_vec()).await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("kind: must be one of"));
    let res = c
        .post(app.url("/inventory/import/upload"))
        .multipart(Form::new().text("kind", "sites"))
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 422);
    assert_eq!(count(&app.pool, "inventory_import").await, 7);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_links_file_that_closes_a_cycle_is_refused_naming_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    import(&app, &c, "sites", SITES).await;
    import(&app, &c, "devices", DEVICES).await;

    let cycle = "a_device,b_device,kind\n\
                 vie1-core-1,grz1-core-1,ptp\n\
                 grz1-core-1,grz1-bng-1,physical\n\
                 grz1-bng-1,vie1-core-1,wireless\n";
    let id = upload(&app, &c, "links", cycle.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    let error = d["file_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cycle") && error.contains("vie1-core-1") && error.contains("grz1-bng-1"),
        "{d}"
    );
    assert_eq!(
        d["status"], "previewed",
        "the rows read; their sum is refused"
    );
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409);
    assert_eq!(count(&app.pool, "link").await, 0);
    assert_eq!(count(&app.pool, "interface").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn exports_import_back_unchanged(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    for (kind, csv) in [
        ("sites", SITES),
        ("devices", DEVICES),
        ("interfaces", INTERFACES),
        ("links", LINKS),
    ] {
        import(&app, &c, kind, csv).await;
    }
    // The links file named two interfaces that did not exist: they were created.
    assert_eq!(count(&app.pool, "interface").await, 4);
    assert_eq!(count(&app.pool, "link").await, 3);

    for kind in ["sites", "devices", "interfaces", "links"] {
        let res = c
            .get(app.url(&format!("/inventory/export/{kind}.csv")))
            .send()
            .await
            .expect("export");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        let text = res.text().await.expect("csv");
        let id = upload(&app, &c, kind, text.into_bytes()).await;
        let d = detail(&app, &c, id).await;
        assert_eq!(d["error_count"], 0, "{kind}: {d}");
        assert_eq!(
            d["unchanged_rows"], d["data_rows"],
            "{kind}: an export imports back unchanged: {d}"
        );
    }
    let res = c
        .get(app.url("/inventory/export/routers.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 404);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn roles_and_tenants_are_enforced(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant(
        "acme",
        &[("root", "admin"), ("vera", "viewer"), ("cust", "customer")],
    )
    .await;
    app.seed_tenant("other", &[("oscar", "admin")]).await;
    let root = app.signed_in("root").await;
    let id = upload(&app, &root, "sites", SITES.as_bytes().to_vec()).await;

    let vera = app.signed_in("vera").await;
    assert_eq!(
        post_file(&app, &vera, "sites", SITES.into()).await.status(),
        403
    );
    let (status, _) = error_of(apply(&app, &vera, id).await).await;
    assert_eq!(status, 403, "a viewer cannot apply");
    let (status, _) = error_of(
        app.call(&vera, "get_import", &[("id", &id.to_string())])
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let res = vera
        .get(app.url("/inventory/export/sites.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200, "staff may export what they may read");

    let cust = app.signed_in("cust").await;
    let res = cust
        .get(app.url("/inventory/export/sites.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 403);

    let anonymous = crate::client(&app);
    let res = post_file(&app, &anonymous, "sites", SITES.into()).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/login?next=/inventory/import")
    );

    let oscar = app.signed_in("oscar").await;
    for endpoint in ["get_import", "apply_import"] {
        let (status, _) =
            error_of(app.call(&oscar, endpoint, &[("id", &id.to_string())]).await).await;
        assert_eq!(status, 404, "{endpoint} of another tenant's import");
    }
    let list = json_of(&app, &oscar, "list_imports", &[]).await;
    assert_eq!(list, serde_json::json!([]));
    assert_eq!(count(&app.pool, "site").await, 0);

    // Oscar's devices file cannot reach acme's sites by code.
    import(&app, &root, "sites", SITES).await;
    let id = upload(&app, &oscar, "devices", DEVICES.as_bytes().to_vec()).await;
    let d = detail(&app, &oscar, id).await;
    assert_eq!(d["error_count"], 3, "{d}");
    assert_eq!(d["errors"][0]["column"], "site");
    let res = oscar
        .get(app.url("/inventory/export/sites.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(
        res.text().await.expect("csv").lines().count(),
        1,
        "only the header"
    );
}

const GROUPS: &str = "name,rule,k,description,members\n\
                      grz-uplinks,k_of_n,1,Graz uplinks,link:vie1-core-1>grz1-core-1 (ptp);device:vie1-core-1\n\
                      cores,all,,,device:vie1-core-1;device:grz1-core-1\n";
const CUSTOMERS: &str =
    "account_id,name,contact_name,contact_email,contact_phone,timezone,sla_target\n\
                         ACC-001,Acme Ltd,Ann,noc@acme.example,+43 1 234,Europe/Vienna,99.95\n\
                         ACC-002,\"Beta, Inc\",,,,,\n";
// "Acme DIA" depends on "Transit A", further down the file.
const SERVICES: &str = "name,kind,customer,access_device,access_interface,sla_target,provider,depends_on\n\
                        Acme DIA,internet,ACC-001,grz1-bng-1,sfp-sfpplus1,99.9,,group:grz-uplinks;service:Transit A;link:grz1-core-1>grz1-bng-1\n\
                        Transit A,transit,,vie1-core-1,,,Carrier A,device:vie1-core-1\n\
                        Beta L2,l2,acc-002,,,,,\n";

/// The network every service-model test starts from: sites, devices, interfaces and links.
async fn network(app: &TestApp, c: &Client) {
    for (kind, csv) in [
        ("sites", SITES),
        ("devices", DEVICES),
        ("interfaces", INTERFACES),
        ("links", LINKS),
    ] {
        import(app, c, kind, csv).await;
    }
}

/// The row errors of an import as (line, column or "-").
fn errors_of(d: &Value) -> Vec<(i64, String)> {
    d["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["line"].as_i64().unwrap_or(0),
                        e["column"].as_str().unwrap_or("-").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn message_at(d: &Value, i: usize) -> String {
    d["errors"][i]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn dependency_count(pool: &PgPool, service: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from service_dependency d join service s on s.id = d.service_id
         where s.name = $1",
    )
    .bind(service)
    .fetch_one(pool)
    .await
    .expect("dependencies")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn groups_customers_and_services_round_trip_and_update_by_key(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    network(&app, &c).await;
    for (kind, csv) in [
        ("groups", GROUPS),
        ("customers", CUSTOMERS),
        ("services", SERVICES),
    ] {
        let d = import(&app, &c, kind, csv).await;
        assert_eq!(d["created_rows"], d["data_rows"], "{kind}: {d}");
    }
    assert_eq!(count(&app.pool, "redundancy_member").await, 4);
    assert_eq!(count(&app.pool, "customer").await, 2);
    assert_eq!(count(&app.pool, "service").await, 3);
    assert_eq!(dependency_count(&app.pool, "Acme DIA").await, 3);
    let refs = |service: &'static str| {
        sqlx::query_as::<_, (Option<String>, Option<String>)>(
            "select c.account_id, i.name from service s
             left join customer c on c.id = s.customer_id
             left join interface i on i.id = s.access_interface_id where s.name = $1",
        )
        .bind(service)
        .fetch_one(&app.pool)
    };
    let (customer, _) = refs("Beta L2").await.expect("service");
    let (_, interface) = refs("Acme DIA").await.expect("service");
    assert_eq!(
        customer.as_deref(),
        Some("ACC-002"),
        "account ids match in any case"
    );
    assert_eq!(interface.as_deref(), Some("sfp-sfpplus1"));

    for kind in ["groups", "customers", "services"] {
        let res = c
            .get(app.url(&format!("/inventory/export/{kind}.csv")))
            .send()
            .await
            .expect("export");
        assert_eq!(res.status(), 200, "{kind}");
        let text = res.text().await.expect("csv");
        let id = upload(&app, &c, kind, text.clone().into_bytes()).await;
        let d = detail(&app, &c, id).await;
        assert_eq!(d["error_count"], 0, "{kind}: {d}\n{text}");
        assert_eq!(
            d["unchanged_rows"], d["data_rows"],
            "{kind}: an export imports back unchanged: {d}\n{text}"
        );
        if kind == "services" {
            assert!(
                text.contains(
                    "link:grz1-core-1:sfp-sfpplus1>grz1-bng-1:sfp-sfpplus1 (physical);\
                     group:grz-uplinks;service:Transit A"
                ),
                "{text}"
            );
        }
    }

    // Rows are matched by their natural key, without regard to case.
    let d = import(
        &app,
        &c,
        "customers",
        "account_id,name,timezone,sla_target\nacc-001,Acme Limited,Europe/Vienna,99.95\n",
    )
    .await;
    assert_eq!(d["updated_rows"], 1, "{d}");
    assert_eq!(count(&app.pool, "customer").await, 2);
    let d = import(
        &app,
        &c,
        "groups",
        "name,rule,k,description,members\n\
         CORES,all,,,device:grz1-core-1\n\
         grz-uplinks,k_of_n,1,Graz uplinks,link:vie1-core-1>grz1-core-1 (ptp);device:vie1-core-1\n",
    )
    .await;
    assert_eq!(
        (d["updated_rows"].as_i64(), d["unchanged_rows"].as_i64()),
        (Some(1), Some(1)),
        "a changed member list is an update: {d}"
    );
    assert_eq!(count(&app.pool, "redundancy_member").await, 3);
    let edited = SERVICES.replace(";service:Transit A", "");
    let d = import(&app, &c, "services", &edited).await;
    assert_eq!(
        (d["updated_rows"].as_i64(), d["unchanged_rows"].as_i64()),
        (Some(1), Some(2)),
        "a changed dependency list is an update: {d}"
    );
    assert_eq!(dependency_count(&app.pool, "Acme DIA").await, 2);
    assert_eq!(count(&app.pool, "service").await, 3);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_bad_row_of_a_new_kind_names_line_and_column_and_imports_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    network(&app, &c).await;

    // Customers: the customer form's checks, and each distinct zone asked once.
    let bad = "account_id,name,contact_email,timezone,sla_target\n\
               ACC-001,Acme Ltd,noc@acme.example,Europe/Vienna,99.9\n\
               ACC-002,Beta,beta-at-example,,\n\
               ACC-003,Gamma,,Mars/Base,\n\
               ACC-004,Delta,,,100.5\n\
               acc-001,Acme again,,,\n";
    let id = upload(&app, &c, "customers", bad.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(
        errors_of(&d),
        vec![
            (3, "contact_email".to_owned()),
            (4, "timezone".to_owned()),
            (5, "sla_target".to_owned()),
            (6, "-".to_owned()),
        ],
        "{d}"
    );
    assert!(message_at(&d, 1).contains("IANA time zone"), "{d}");
    assert!(message_at(&d, 3).contains("line 2"), "{d}");
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409);
    assert_eq!(count(&app.pool, "customer").await, 0, "nothing imported");

    // Groups: the group form's checks and the members' names.
    let bad = "name,rule,k,members\n\
               cores,all,,device:vie1-core-1\n\
               edge,k_of_n,,device:grz1-bng-1\n\
               misc,any,,device:nope\n\
               more,any,,link:grz1-bng-1>vie1-core-1\n\
               odd,any,,shelf:3\n";
    let id = upload(&app, &c, "groups", bad.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(
        errors_of(&d),
        vec![
            (3, "k".to_owned()),
            (4, "members".to_owned()),
            (5, "members".to_owned()),
            (6, "members".to_owned()),
        ],
        "{d}"
    );
    assert!(
        message_at(&d, 1).contains("no device named \"nope\""),
        "{d}"
    );
    assert!(
        message_at(&d, 2).contains("no link from \"grz1-bng-1\" to \"vie1-core-1\""),
        "{d}"
    );
    assert_eq!(count(&app.pool, "redundancy_group").await, 0);

    // Services: the service form's checks, names, and the dependency list.
    import(&app, &c, "customers", CUSTOMERS).await;
    let bad = "name,kind,customer,access_device,access_interface,provider,depends_on\n\
               Acme DIA,internet,ACC-001,grz1-bng-1,,,device:grz1-bng-1\n\
               Ghost,internet,ACC-999,,,,\n\
               Up,transit,ACC-001,,,Carrier,\n\
               Wrong port,internet,,grz1-bng-1,ether99,,\n\
               Lost,internet,,,,,service:Nowhere\n\
               Bad list,internet,,,,,router:x\n";
    let id = upload(&app, &c, "services", bad.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(
        errors_of(&d),
        vec![
            (3, "customer".to_owned()),
            (4, "customer".to_owned()),
            (5, "access_interface".to_owned()),
            (7, "depends_on".to_owned()),
            (6, "depends_on".to_owned()),
        ],
        "{d}"
    );
    assert!(
        message_at(&d, 0).contains("no customer with account id \"ACC-999\""),
        "{d}"
    );
    assert!(
        message_at(&d, 4).contains("no service named \"Nowhere\""),
        "{d}"
    );
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409);
    assert_eq!(count(&app.pool, "service").await, 0, "nothing imported");
    assert_eq!(count(&app.pool, "service_dependency").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_service_cycle_is_refused_naming_both_services(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;

    let cycle = "name,kind,provider,depends_on\n\
                 Alpha,transit,Carrier,service:Beta\n\
                 Beta,transit,Carrier,service:alpha\n";
    let id = upload(&app, &c, "services", cycle.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(errors_of(&d), vec![(3, "depends_on".to_owned())], "{d}");
    let message = message_at(&d, 0);
    assert!(
        message.contains("\"Beta\" cannot depend on \"Alpha\"")
            && message.contains("\"Alpha\" already depends on \"Beta\""),
        "{message}"
    );
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409);
    assert_eq!(count(&app.pool, "service").await, 0);

    let d = import(&app, &c, "services", "name,kind,provider,depends_on\nAlpha,transit,Carrier,\nBeta,transit,Carrier,service:Alpha\n").await;
    assert_eq!(d["created_rows"], 2, "{d}");
    // Against what is stored: a file that adds the way back alone is refused ...
    let id = upload(
        &app,
        &c,
        "services",
        b"name,kind,provider,depends_on\nAlpha,transit,Carrier,service:Beta\n".to_vec(),
    )
    .await;
    let d = detail(&app, &c, id).await;
    assert_eq!(errors_of(&d), vec![(2, "depends_on".to_owned())], "{d}");
    assert!(
        message_at(&d, 0).contains("\"Alpha\" cannot depend on \"Beta\""),
        "{d}"
    );
    // ... while one that turns the dependency around is not a cycle.
    let d = import(
        &app,
        &c,
        "services",
        "name,kind,provider,depends_on\nAlpha,transit,Carrier,service:Beta\nBeta,transit,Carrier,\n",
    )
    .await;
    assert_eq!(d["updated_rows"], 2, "{d}");
    assert_eq!(dependency_count(&app.pool, "Alpha").await, 1);
    assert_eq!(dependency_count(&app.pool, "Beta").await, 0);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_groups_file_must_leave_a_valid_graph(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    network(&app, &c).await;

    let bad = "name,rule,k,members\n\
               cores,all,,device:vie1-core-1;device:grz1-core-1\n\
               grz-uplinks,k_of_n,3,link:vie1-core-1>grz1-core-1 (ptp);device:vie1-core-1\n";
    let id = upload(&app, &c, "groups", bad.as_bytes().to_vec()).await;
    let d = detail(&app, &c, id).await;
    assert_eq!(d["error_count"], 0, "each row reads: {d}");
    let error = d["file_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("grz-uplinks") && error.contains("needs 3 members up but it has only 2"),
        "{d}"
    );
    let (status, _) = error_of(apply(&app, &c, id).await).await;
    assert_eq!(status, 409);
    assert_eq!(count(&app.pool, "redundancy_group").await, 0);

    // A group's members are devices and links only.
    let id = upload(
        &app,
        &c,
        "groups",
        b"name,rule,members\ncores,any,group:cores\n".to_vec(),
    )
    .await;
    let d = detail(&app, &c, id).await;
    assert_eq!(errors_of(&d), vec![(2, "members".to_owned())], "{d}");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn names_in_new_kinds_resolve_only_in_the_own_tenant(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    app.seed_tenant("other", &[("oscar", "admin")]).await;
    let root = app.signed_in("root").await;
    network(&app, &root).await;
    import(&app, &root, "groups", GROUPS).await;
    import(&app, &root, "customers", CUSTOMERS).await;
    import(&app, &root, "services", SERVICES).await;

    let oscar = app.signed_in("oscar").await;
    let id = upload(&app, &oscar, "services", SERVICES.as_bytes().to_vec()).await;
    let d = detail(&app, &oscar, id).await;
    assert_eq!(
        errors_of(&d),
        vec![
            (2, "customer".to_owned()),
            (3, "access_device".to_owned()),
            (4, "customer".to_owned()),
        ],
        "acme's account ids and device names are not oscar's: {d}"
    );
    let id = upload(
        &app,
        &oscar,
        "services",
        b"name,kind,provider,depends_on\nUp,transit,Carrier,group:grz-uplinks\nDown,transit,Carrier,service:Acme DIA\n"
            .to_vec(),
    )
    .await;
    let d = detail(&app, &oscar, id).await;
    assert_eq!(
        errors_of(&d),
        vec![(2, "depends_on".to_owned()), (3, "depends_on".to_owned())],
        "{d}"
    );
    let id = upload(&app, &oscar, "groups", GROUPS.as_bytes().to_vec()).await;
    let d = detail(&app, &oscar, id).await;
    assert_eq!(
        errors_of(&d),
        vec![(2, "members".to_owned()), (3, "members".to_owned())],
        "{d}"
    );
    let res = oscar
        .get(app.url("/inventory/export/customers.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(
        res.text().await.expect("csv").lines().count(),
        1,
        "only the header"
    );
    assert_eq!(count(&app.pool, "service").await, 3, "acme's only");
}
