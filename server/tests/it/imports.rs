//! CSV import and export: dry run then all-or-nothing apply, row errors with line and column,
//! files rejected as a whole (headers, encoding, size) and kept, the cycle check over a links
//! file, export → import round trips, roles and tenant isolation.

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
