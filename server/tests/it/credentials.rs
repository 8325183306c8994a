//! Credential profiles over HTTP: create, list, edit and delete; secrets never in an answer; roles,
//! tenant isolation, bad input and profiles in use. Keys, rotation and dumps are in `keys.rs`.

use secrecy::ExposeSecret;
use sqlx::PgPool;

use app::api::credentials::ssr::open_credential;
use app::crypto::credential::CredentialSecret;
use app::model::credential::{CredentialProfileId, SnmpAuthProtocol, SnmpPrivProtocol};
use app::model::user::TenantId;

use crate::{client, error_of, spawn_app_with_key, KeyFile, TestApp};

/// A server function's form fields.
type Form<'a> = &'a [(&'a str, &'a str)];
/// A form, and the status and field of the error it must get.
type Refused<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

pub const ROUTEROS_PASSWORD: &str = "Rtr-pw-7f3c9a1e";
pub const COMMUNITY: &str = "cmty-4b8d2e6a";
pub const AUTH_PASS: &str = "auth-pp-91c5e0d7";
pub const PRIV_PASS: &str = "priv-pp-2a6f8b3c";

pub fn routeros_form<'a>(name: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("form[name]", name),
        ("form[kind]", "routeros"),
        ("form[description]", "core routers"),
        ("form[username]", "ispvm-api"),
        ("form[password]", password),
    ]
}

/// Creates a profile through the API and returns its id.
pub async fn create(app: &TestApp, c: &reqwest::Client, form: Form<'_>) -> i64 {
    let res = app.call(c, "create_credential_profile", form).await;
    assert_eq!(res.status(), 200, "create {form:?}");
    res.json().await.expect("id")
}

async fn tenant_of(app: &TestApp, username: &str) -> TenantId {
    TenantId(
        sqlx::query_scalar("select tenant_id from app_user where username = $1")
            .bind(username)
            .fetch_one(&app.pool)
            .await
            .expect("tenant"),
    )
}

async fn count_profiles(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from credential_profile")
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn admins_create_list_edit_and_delete_profiles_and_no_secret_comes_back(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let tenant = tenant_of(&app, "root").await;

    let rtr = create(&app, &c, &routeros_form("Core routers", ROUTEROS_PASSWORD)).await;
    let v2c = create(
        &app,
        &c,
        &[
            ("form[name]", "Switches"),
            ("form[kind]", "snmp_v2c"),
            ("form[community]", COMMUNITY),
        ],
    )
    .await;
    let v3 = create(
        &app,
        &c,
        &[
            ("form[name]", "snmp v3 backbone"),
            ("form[kind]", "snmp_v3"),
            ("form[snmp_user]", "monitor"),
            ("form[auth_protocol]", "SHA256"),
            ("form[auth_passphrase]", AUTH_PASS),
            ("form[priv_protocol]", "AES128"),
            ("form[priv_passphrase]", PRIV_PASS),
        ],
    )
    .await;

    let res = app.call(&c, "list_credential_profiles", &[]).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.expect("body");
    for secret in [ROUTEROS_PASSWORD, COMMUNITY, AUTH_PASS, PRIV_PASS] {
        assert!(!body.contains(secret), "the list carries a secret: {body}");
    }
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    let rows: Vec<(&str, &str, i64)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|p| {
            assert_eq!(p["key_fingerprint"], key.key.fingerprint(), "{p}");
            assert_eq!(p["used_by_devices"], 0, "{p}");
            (
                p["name"].as_str().expect("name"),
                p["kind"].as_str().expect("kind"),
                p["id"].as_i64().expect("id"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Core routers", "RouterOs", rtr),
            ("snmp v3 backbone", "SnmpV3", v3),
            ("Switches", "SnmpV2c", v2c),
        ]
    );
    let got = app
        .call(&c, "get_credential_profile", &[("id", &rtr.to_string())])
        .await
        .text()
        .await
        .expect("body");
    assert!(
        got.contains("core routers") && !got.contains(ROUTEROS_PASSWORD),
        "{got}"
    );

    // Server code opens what the browser never sees.
    match open_credential(&app.state, tenant, CredentialProfileId(v3)).await {
        Ok(CredentialSecret::SnmpV3(s)) => {
            assert_eq!(s.user, "monitor");
            assert_eq!(s.auth_protocol, SnmpAuthProtocol::Sha256);
            assert_eq!(s.auth_passphrase.expose_secret(), AUTH_PASS);
            let privacy = s
                .privacy
                .as_ref()
                .map(|(p, pass)| (*p, pass.expose_secret()));
            assert_eq!(privacy, Some((SnmpPrivProtocol::Aes128, PRIV_PASS)));
        }
        other => panic!("{other:?}"),
    }

    // Rename only: the secret stays as it was, byte for byte.
    let sealed = || async {
        sqlx::query_scalar::<_, Vec<u8>>(
            "select secret_ciphertext from credential_profile where id = $1",
        )
        .bind(rtr)
        .fetch_one(&app.pool)
        .await
        .expect("ciphertext")
    };
    let before = sealed().await;
    let id = rtr.to_string();
    let res = app
        .call(
            &c,
            "update_credential_profile",
            &[
                ("id", &id),
                ("form[name]", "Core MikroTiks"),
                ("form[description]", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        sealed().await,
        before,
        "a metadata edit left the secret alone"
    );

    // Replace the password; the blank username keeps the stored one. A new nonce each time.
    let res = app
        .call(
            &c,
            "update_credential_profile",
            &[
                ("id", &id),
                ("form[name]", "Core MikroTiks"),
                ("form[username]", ""),
                ("form[password]", "Rtr-pw-rotated-2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_ne!(sealed().await, before);
    match open_credential(&app.state, tenant, CredentialProfileId(rtr)).await {
        Ok(CredentialSecret::RouterOs { username, password }) => {
            assert_eq!(username, "ispvm-api");
            assert_eq!(password.expose_secret(), "Rtr-pw-rotated-2");
        }
        other => panic!("{other:?}"),
    }

    let res = app
        .call(&c, "delete_credential_profile", &[("id", &v2c.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(count_profiles(&app.pool).await, 2);
    let (status, _) = error_of(
        app.call(&c, "get_credential_profile", &[("id", &v2c.to_string())])
            .await,
    )
    .await;
    assert_eq!(status, 404);

    let audit: Vec<(String, String)> = sqlx::query_as(
        "select action, detail::text from audit_event where action like 'credential_profile.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "credential_profile.created",
            "credential_profile.created",
            "credential_profile.created",
            "credential_profile.updated",
            "credential_profile.updated",
            "credential_profile.deleted",
        ]
    );
    assert!(
        audit[4].1.contains(r#""secret_replaced": true"#),
        "{audit:?}"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn staff_list_admins_change_and_customers_see_nothing(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant(
        "acme",
        &[
            ("root", "admin"),
            ("op", "operator"),
            ("view", "viewer"),
            ("cust", "customer"),
        ],
    )
    .await;
    let root = app.signed_in("root").await;
    let id = create(&app, &root, &routeros_form("Core", ROUTEROS_PASSWORD))
        .await
        .to_string();
    let anon = client(&app);
    assert_eq!(
        app.call(&anon, "list_credential_profiles", &[])
            .await
            .status(),
        401
    );
    let cust = app.signed_in("cust").await;
    for (endpoint, form) in [
        ("list_credential_profiles", vec![]),
        ("get_credential_profile", vec![("id", id.as_str())]),
    ] {
        let (status, body) = error_of(app.call(&cust, endpoint, &form).await).await;
        assert_eq!(
            (status, body),
            (403, serde_json::json!("Forbidden")),
            "{endpoint}"
        );
    }
    for who in ["op", "view"] {
        let c = app.signed_in(who).await;
        assert_eq!(
            app.call(&c, "list_credential_profiles", &[]).await.status(),
            200,
            "{who} lists"
        );
        let changes: [(&str, Vec<(&str, &str)>); 3] = [
            (
                "create_credential_profile",
                routeros_form("Sneaky", ROUTEROS_PASSWORD),
            ),
            (
                "update_credential_profile",
                vec![("id", &id), ("form[name]", "Renamed")],
            ),
            ("delete_credential_profile", vec![("id", &id)]),
        ];
        for (endpoint, form) in changes {
            let (status, _) = error_of(app.call(&c, endpoint, &form).await).await;
            assert_eq!(status, 403, "{who} calls {endpoint}");
        }
    }
    let names: Vec<String> = sqlx::query_scalar("select name from credential_profile")
        .fetch_all(&app.pool)
        .await
        .expect("names");
    assert_eq!(names, ["Core"]);
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn tenant_a_cannot_reach_tenant_b_profiles(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant("tenant-a", &[("a-admin", "admin")]).await;
    app.seed_tenant("tenant-b", &[("b-admin", "admin")]).await;
    let a = app.signed_in("a-admin").await;
    let b = app.signed_in("b-admin").await;
    create(&app, &a, &routeros_form("A's routers", "a-password")).await;
    let b_id = create(&app, &b, &routeros_form("B's routers", ROUTEROS_PASSWORD)).await;
    let snapshot = || async {
        sqlx::query_as::<_, (String, String, Vec<u8>)>(
            "select name, description, secret_ciphertext from credential_profile where id = $1",
        )
        .bind(b_id)
        .fetch_one(&app.pool)
        .await
        .expect("b's profile")
    };
    let before = snapshot().await;
    let id = b_id.to_string();
    let calls: [(&str, Vec<(&str, &str)>); 3] = [
        ("get_credential_profile", vec![("id", &id)]),
        (
            "update_credential_profile",
            vec![
                ("id", &id),
                ("form[name]", "taken"),
                ("form[password]", "taken over"),
            ],
        ),
        ("delete_credential_profile", vec![("id", &id)]),
    ];
    for (endpoint, form) in calls {
        let (status, body) = error_of(app.call(&a, endpoint, &form).await).await;
        assert_eq!(
            (status, body),
            (404, serde_json::json!("NotFound")),
            "{endpoint}"
        );
    }
    assert_eq!(snapshot().await, before, "tenant B's profile is untouched");
    let list: serde_json::Value = app
        .call(&a, "list_credential_profiles", &[])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let a_tenant = tenant_of(&app, "a-admin").await;
    let opened = open_credential(&app.state, a_tenant, CredentialProfileId(b_id)).await;
    assert_eq!(opened.err(), Some(app::error::AppError::NotFound));
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn bad_input_names_the_field_and_writes_nothing(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let id = create(&app, &c, &routeros_form("Core", ROUTEROS_PASSWORD)).await;
    let before = count_profiles(&app.pool).await;
    let long = "d".repeat(301);
    let v3 = |auth: &'static str, privacy: &'static str, priv_pass: &'static str| {
        vec![
            ("form[name]", "v3"),
            ("form[kind]", "snmp_v3"),
            ("form[snmp_user]", "monitor"),
            ("form[auth_protocol]", "SHA1"),
            ("form[auth_passphrase]", auth),
            ("form[priv_protocol]", privacy),
            ("form[priv_passphrase]", priv_pass),
        ]
    };
    let cases: Vec<Refused> = vec![
        (routeros_form("   ", "pw"), 422, "name"),
        (routeros_form("core", "pw"), 409, "name"),
        (
            vec![
                ("form[name]", "x"),
                ("form[kind]", "telnet"),
                ("form[password]", "pw"),
            ],
            422,
            "kind",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[kind]", "routeros"),
                ("form[username]", "api"),
            ],
            422,
            "password",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[kind]", "routeros"),
                ("form[password]", "pw"),
            ],
            422,
            "username",
        ),
        (
            vec![("form[name]", "x"), ("form[kind]", "snmp_v2c")],
            422,
            "community",
        ),
        (v3("short", "none", ""), 422, "auth_passphrase"),
        (v3("long enough", "AES256", ""), 422, "priv_passphrase"),
        (v3("long enough", "AES256", "short"), 422, "priv_passphrase"),
        (
            v3("long enough", "AES512", "long enough"),
            422,
            "priv_protocol",
        ),
        (
            vec![
                ("form[name]", "x"),
                ("form[kind]", "routeros"),
                ("form[description]", &long),
                ("form[username]", "api"),
                ("form[password]", "pw"),
            ],
            422,
            "description",
        ),
    ];
    for (form, status, field) in cases {
        let (got, body) = error_of(app.call(&c, "create_credential_profile", &form).await).await;
        assert_eq!(got, status, "{form:?} → {body}");
        let kind = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[kind]["field"], field, "{form:?} → {body}");
    }
    assert_eq!(
        count_profiles(&app.pool).await,
        before,
        "nothing was written"
    );

    // Edits: another profile's name (ignoring case) and a bad secret; nothing changes.
    create(&app, &c, &routeros_form("Edge", ROUTEROS_PASSWORD)).await;
    let id = id.to_string();
    let too_long = "p".repeat(201);
    let edits: [Refused; 2] = [
        (vec![("id", &id), ("form[name]", "EDGE")], 409, "name"),
        (
            vec![
                ("id", &id),
                ("form[name]", "Core"),
                ("form[password]", &too_long),
            ],
            422,
            "password",
        ),
    ];
    for (form, status, field) in edits {
        let (got, body) = error_of(app.call(&c, "update_credential_profile", &form).await).await;
        assert_eq!(got, status, "{form:?} → {body}");
        let kind = if status == 409 { "Conflict" } else { "Invalid" };
        assert_eq!(body[kind]["field"], field, "{body}");
    }
    let name: String = sqlx::query_scalar("select name from credential_profile where id = $1")
        .bind(id.parse::<i64>().expect("id"))
        .fetch_one(&app.pool)
        .await
        .expect("name");
    assert_eq!(name, "Core");
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn a_profile_that_devices_use_cannot_be_deleted(pool: PgPool) {
    let key = KeyFile::generate();
    let app = spawn_app_with_key(pool, &key).await;
    app.seed_tenant("acme", &[("root", "admin")]).await;
    let c = app.signed_in("root").await;
    let tenant = tenant_of(&app, "root").await;
    let login = create(&app, &c, &routeros_form("Core", ROUTEROS_PASSWORD)).await;
    let snmp = create(
        &app,
        &c,
        &[
            ("form[name]", "Switches"),
            ("form[kind]", "snmp_v2c"),
            ("form[community]", COMMUNITY),
        ],
    )
    .await;
    let site: i64 = sqlx::query_scalar(
        "insert into site (tenant_id, name, code) values ($1, 'Vienna', 'VIE1') returning id",
    )
    .bind(tenant.0)
    .fetch_one(&app.pool)
    .await
    .expect("site");
    for (name, address) in [("core1", "10.0.0.1"), ("core2", "10.0.0.2")] {
        sqlx::query(
            "insert into device (tenant_id, site_id, name, vendor, role, mgmt_address,
                                 credential_profile_id, snmp_profile_id)
             values ($1, $2, $3, 'mikrotik', 'core', $4::inet, $5, $6)",
        )
        .bind(tenant.0)
        .bind(site)
        .bind(name)
        .bind(address)
        .bind(login)
        .bind(snmp)
        .execute(&app.pool)
        .await
        .expect("device");
    }
    for id in [login, snmp] {
        let (status, body) = error_of(
            app.call(&c, "delete_credential_profile", &[("id", &id.to_string())])
                .await,
        )
        .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["Conflict"]["field"], "id");
        let reason = body["Conflict"]["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("2 devices use it"), "{reason}");
    }
    assert_eq!(count_profiles(&app.pool).await, 2, "nothing was deleted");
    let list: serde_json::Value = app
        .call(&c, "list_credential_profiles", &[])
        .await
        .json()
        .await
        .expect("json");
    let used: Vec<i64> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["used_by_devices"].as_i64())
        .collect();
    assert_eq!(used, [2, 2]);
}
