//! Agent enrollment and the agent listener (issue 7): one-time tokens from the Agents page,
//! the internal CA, pushes over mutual TLS, renewal, status reports, revocation. The client
//! side here is plain reqwest + rcgen, speaking the contract of `telemetry::enroll`, so these
//! tests hold the server to it whatever the agent does; `agent_enrolls_*` runs the agent's
//! own code against it.

use rcgen::{CertificateParams, KeyPair};
use reqwest::{Certificate, Client, Identity, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use telemetry::enroll::{CertificateResponse, EnrollmentToken};
use time::OffsetDateTime;

use crate::ingest::devices_in;
use crate::{count, spawn_agent_server, tenant_id, KeyFile, TestApp};

struct Fixture {
    app: TestApp,
    key: KeyFile,
    tenant: i64,
    device: i64,
}

impl Fixture {
    async fn new(pool: PgPool) -> Fixture {
        let (app, key) = spawn_agent_server(pool).await;
        app.seed_tenant("isp-a", &[("alice", "admin"), ("vic", "viewer")])
            .await;
        let tenant = tenant_id(&app.pool, "isp-a").await;
        let device = devices_in(&app.pool, tenant, &["core-1"]).await[0];
        Fixture {
            app,
            key,
            tenant,
            device,
        }
    }

    fn agent_url(&self, path: &str) -> String {
        self.app.agent_url(path)
    }

    /// A token made through the Agents page's form (no JavaScript: the page shows it once).
    async fn token_from_page(&self, name: &str) -> EnrollmentToken {
        let admin = self.app.signed_in("alice").await;
        let res = self
            .app
            .call(&admin, "create_agent_token", &[("form[name]", name)])
            .await;
        assert!(res.status().is_success(), "{}", res.status());
        let page = admin
            .get(self.app.url("/admin/agents"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let text = page
            .split("data-token=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page shows the new token");
        let again = admin
            .get(self.app.url("/admin/agents"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(!again.contains(text), "a token is shown once");
        EnrollmentToken::parse(text).expect("token")
    }

    /// The CA an agent gets from the listener, checked against the token's fingerprint.
    async fn ca(&self, token: &EnrollmentToken) -> Certificate {
        let pem = Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .expect("client")
            .get(self.agent_url(telemetry::enroll::CA_PATH))
            .send()
            .await
            .expect("ca")
            .text()
            .await
            .expect("pem");
        let der = server::agents::ca::pem_der(&pem).expect("der");
        assert_eq!(hex::encode(Sha256::digest(&der)), token.ca_sha256);
        Certificate::from_pem(pem.as_bytes()).expect("ca cert")
    }

    /// A client that trusts only the agent CA, with or without a client certificate.
    fn client(&self, ca: &Certificate, identity: Option<&Issued>) -> Client {
        let mut b = Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone());
        if let Some(i) = identity {
            let pem = format!("{}{}", i.key_pem, i.response.certificate_pem);
            b = b.identity(Identity::from_pem(pem.as_bytes()).expect("identity"));
        }
        b.build().expect("client")
    }

    async fn enroll_raw(&self, ca: &Certificate, token: &str, csr_pem: &str) -> Response {
        self.client(ca, None)
            .post(self.agent_url(telemetry::enroll::ENROLL_PATH))
            .json(&json!({ "token": token, "csr_pem": csr_pem, "version": "9.9.9" }))
            .send()
            .await
            .expect("enroll")
    }

    async fn enroll(&self, ca: &Certificate, token: &EnrollmentToken) -> Issued {
        let (key_pem, csr) = key_and_csr();
        let res = self.enroll_raw(ca, &token.secret, &csr).await;
        let status = res.status();
        let body = res.text().await.expect("body");
        assert_eq!(status, 200, "{body}");
        Issued {
            key_pem,
            response: serde_json::from_str(&body).expect("certificate response"),
        }
    }

    async fn push(&self, client: &Client, batch_id: &str) -> (u16, Value) {
        let res = client
            .post(self.agent_url(telemetry::INGEST_PATH))
            .json(&json!({
                "batch_id": batch_id,
                "agent": {"name": "pop-1", "version": "9.9.9"},
                "sent_at": telemetry::UnixMs::from_datetime(OffsetDateTime::now_utc()).0,
                "samples": [{
                    "device": self.device,
                    "metric": "cpu_load_percent",
                    "ts": telemetry::UnixMs::from_datetime(OffsetDateTime::now_utc()).0,
                    "value": 12.5
                }],
            }))
            .send()
            .await
            .expect("push");
        (res.status().as_u16(), res.json().await.expect("json"))
    }
}

struct Issued {
    key_pem: String,
    response: CertificateResponse,
}

fn key_and_csr() -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let csr = CertificateParams::default()
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    (key.serialize_pem(), csr)
}

fn batch_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_enrolls_once_and_the_agent_pushes_over_mutual_tls(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let issued = f.enroll(&ca, &token).await;
    assert_eq!(issued.response.name, "pop-1");
    let lifetime = issued.response.not_after.0 - issued.response.not_before.0;
    assert!(
        (30 * 86_400_000..=30 * 86_400_000 + 600_000).contains(&lifetime),
        "30 days by default (AGENT_CERT_DAYS): {lifetime} ms"
    );

    // The token is spent: a second use is refused with a clear message, and nothing changes.
    let (_, csr) = key_and_csr();
    let res = f.enroll_raw(&ca, &token.secret, &csr).await;
    let (status, body) = (
        res.status().as_u16(),
        res.json::<Value>().await.expect("json"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_refused")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("already used")),
        "{body}"
    );

    // With its certificate the agent pushes; the batch is stored as the agent's.
    let agent = f.client(&ca, Some(&issued));
    let id = batch_id();
    let (status, answer) = f.push(&agent, &id).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["samples"]["accepted"], 1, "{answer}");
    let (tenant, agent_id, token_id): (i64, Option<uuid::Uuid>, Option<i64>) = sqlx::query_as(
        "select tenant_id, agent_id, token_id from ingest_batch where batch_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&f.app.pool)
    .await
    .expect("batch row");
    assert_eq!(
        (tenant, agent_id, token_id),
        (f.tenant, Some(issued.response.agent_id), None)
    );

    // Without a certificate: refused before the body is read.
    let (status, answer) = f.push(&f.client(&ca, None), &batch_id()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("unauthorized")),
        "{answer}"
    );

    // The audit trail names the token's creation and the enrollment.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_event where action like 'agent.%' order by id",
    )
    .fetch_all(&f.app.pool)
    .await
    .expect("audit");
    assert_eq!(actions, ["agent.token_created", "agent.enrolled"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_or_unknown_token_is_refused_and_a_bad_csr_spends_nothing(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let (_, csr) = key_and_csr();

    // Not a token at all, and a token nobody made.
    let res = f.enroll_raw(&ca, "abc", &csr).await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "bad_token", "{body}");
    let res = f.enroll_raw(&ca, &"ab".repeat(32), &csr).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown")),
        "{body}"
    );

    // A CSR that is not one: 400, and the token is still good afterwards.
    let res = f
        .enroll_raw(
            &ca,
            &token.secret,
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        )
        .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "bad_csr", "{body}");
    let res = f
        .client(&ca, None)
        .post(f.agent_url(telemetry::enroll::ENROLL_PATH))
        .header("content-type", "application/json")
        .body("{\"token\": 5")
        .send()
        .await
        .expect("enroll");
    assert_eq!(res.status(), 400);
    assert_eq!(
        count(&f.app.pool, "agent_enrollment where used_at is not null").await,
        0
    );

    // Expired: refused with the time it expired, even though it was never used.
    sqlx::query("update agent_enrollment set expires_at = now() - interval '1 second'")
        .execute(&f.app.pool)
        .await
        .expect("expire");
    let res = f.enroll_raw(&ca, &token.secret, &csr).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired at")),
        "{body}"
    );
    assert_eq!(
        count(&f.app.pool, "agent where enrolled_at is not null").await,
        0
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_revoked_agent_is_refused_on_its_next_push(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let issued = f.enroll(&ca, &token).await;
    let agent = f.client(&ca, Some(&issued));
    assert_eq!(f.push(&agent, &batch_id()).await.0, 200);

    // A viewer cannot revoke; the admin can, from the Agents page's button.
    let id = issued.response.agent_id.to_string();
    let viewer = f.app.signed_in("vic").await;
    let res = f.app.call(&viewer, "revoke_agent", &[("id", &id)]).await;
    assert_eq!(res.status(), 403);
    let admin = f.app.signed_in("alice").await;
    let res = f.app.call(&admin, "revoke_agent", &[("id", &id)]).await;
    assert!(res.status().is_success(), "{}", res.status());

    // The same connection's next push is refused: the check is per request, not per handshake.
    let (status, answer) = f.push(&agent, &batch_id()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("revoked")),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("pop-1")),
        "{answer}"
    );
    let res = agent
        .post(f.agent_url(telemetry::enroll::STATUS_PATH))
        .json(&telemetry::enroll::AgentStatus::default())
        .send()
        .await
        .expect("status");
    assert_eq!(res.status(), 403);
    assert_eq!(count(&f.app.pool, "ingest_batch").await, 1);

    // The name is free again for a new agent.
    let again = f.token_from_page("pop-1").await;
    let issued = f.enroll(&ca, &again).await;
    assert_ne!(issued.response.agent_id.to_string(), id);
}

#[sqlx::test(migrations = "../migrations")]
async fn renewal_and_reenrollment_replace_the_certificate(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let first = f.enroll(&ca, &token).await;
    let old = f.client(&ca, Some(&first));

    let (key_pem, csr) = key_and_csr();
    let res = old
        .post(f.agent_url(telemetry::enroll::RENEW_PATH))
        .json(&json!({ "csr_pem": csr }))
        .send()
        .await
        .expect("renew");
    assert_eq!(res.status(), 200);
    let renewed = Issued {
        key_pem,
        response: res.json().await.expect("certificate"),
    };
    assert_eq!(renewed.response.agent_id, first.response.agent_id);
    assert_ne!(
        renewed.response.certificate_pem,
        first.response.certificate_pem
    );
    let new = f.client(&ca, Some(&renewed));
    assert_eq!(f.push(&new, &batch_id()).await.0, 200);
    let (status, answer) = f.push(&old, &batch_id()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("certificate_replaced")),
        "{answer}"
    );

    // A new token for the same name re-enrolls the same agent (a replaced box); the renewed
    // certificate then stops working.
    let token = f.token_from_page("pop-1").await;
    let third = f.enroll(&ca, &token).await;
    assert_eq!(third.response.agent_id, first.response.agent_id);
    assert_eq!(f.push(&new, &batch_id()).await.0, 401);
    assert_eq!(
        f.push(&f.client(&ca, Some(&third)), &batch_id()).await.0,
        200
    );
}

/// A renewal's answer lost on the way: the agent still has only the certificate it renewed
/// with. That one keeps working (and renews again) until a new certificate is first used.
#[sqlx::test(migrations = "../migrations")]
async fn a_lost_renewal_answer_does_not_lock_the_agent_out(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let first = f.enroll(&ca, &token).await;
    let old = f.client(&ca, Some(&first));
    let renew = |client: &Client| {
        let (key_pem, csr) = key_and_csr();
        let request = client
            .post(f.agent_url(telemetry::enroll::RENEW_PATH))
            .json(&json!({ "csr_pem": csr }));
        async move {
            let res = request.send().await.expect("renew");
            assert_eq!(res.status(), 200);
            Issued {
                key_pem,
                response: res.json().await.expect("certificate"),
            }
        }
    };

    // The first answer is "lost": never used. The old certificate still pushes, and renews.
    let lost = renew(&old).await;
    assert_eq!(f.push(&old, &batch_id()).await.0, 200);
    let kept = renew(&old).await;
    // Only the newest renewal counts: the lost certificate is refused.
    let (status, answer) = f.push(&f.client(&ca, Some(&lost)), &batch_id()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("certificate_replaced")),
        "{answer}"
    );
    // Until the new certificate is used, the old one still works; after, it is refused.
    assert_eq!(f.push(&old, &batch_id()).await.0, 200);
    let new = f.client(&ca, Some(&kept));
    assert_eq!(f.push(&new, &batch_id()).await.0, 200);
    let (status, answer) = f.push(&old, &batch_id()).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("certificate_replaced")),
        "{answer}"
    );
    assert_eq!(f.push(&new, &batch_id()).await.0, 200);

    // A re-enrollment (a replaced box) ends both the renewed certificate and the one it
    // was renewed with, before either is used again.
    let unused = renew(&new).await;
    let token = f.token_from_page("pop-1").await;
    let third = f.enroll(&ca, &token).await;
    assert_eq!(f.push(&new, &batch_id()).await.0, 401);
    assert_eq!(
        f.push(&f.client(&ca, Some(&unused)), &batch_id()).await.0,
        401
    );
    assert_eq!(
        f.push(&f.client(&ca, Some(&third)), &batch_id()).await.0,
        200
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_listener_is_trusted_only_through_the_tokens_ca(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    // The CA of the token verifies the listener's name (localhost, 127.0.0.1).
    let res = f
        .client(&ca, None)
        .get(f.agent_url(telemetry::enroll::CA_PATH))
        .send()
        .await
        .expect("verified");
    assert_eq!(res.status(), 200);
    let by_ip = format!(
        "https://127.0.0.1:{}{}",
        f.app.agent_addr.expect("addr").port(),
        telemetry::enroll::CA_PATH
    );
    assert_eq!(
        f.client(&ca, None)
            .get(&by_ip)
            .send()
            .await
            .expect("ip")
            .status(),
        200
    );

    // Another CA (a machine in the middle, another installation) does not.
    let other = KeyPair::generate().expect("key");
    let mut params = CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other = params.self_signed(&other).expect("ca");
    let stranger = Certificate::from_pem(other.pem().as_bytes()).expect("pem");
    let err = f
        .client(&stranger, None)
        .get(f.agent_url(telemetry::enroll::CA_PATH))
        .send()
        .await
        .expect_err("a listener of another CA is not trusted");
    assert!(err.is_connect(), "{err:?}");

    // A client certificate of another CA is refused in the handshake.
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["x".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let forged = Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca.clone())
        .identity(
            Identity::from_pem(format!("{}{}", key.serialize_pem(), cert.pem()).as_bytes())
                .expect("identity"),
        )
        .build()
        .expect("client");
    let res = forged
        .get(f.agent_url(telemetry::enroll::CA_PATH))
        .send()
        .await;
    assert!(
        res.is_err(),
        "a certificate of another CA ends the handshake: {res:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn status_reports_show_on_the_agents_page(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let ca = f.ca(&token).await;
    let issued = f.enroll(&ca, &token).await;
    let agent = f.client(&ca, Some(&issued));
    let now = telemetry::UnixMs::from_datetime(OffsetDateTime::now_utc());
    let res = agent
        .post(f.agent_url(telemetry::enroll::STATUS_PATH))
        .json(&telemetry::enroll::AgentStatus {
            version: "9.9.9".into(),
            at: now,
            buffer_batches: 7,
            buffer_bytes: 3 << 20,
            oldest_buffered: Some(telemetry::UnixMs(now.0 - 900_000)),
            last_push: Some(telemetry::UnixMs(now.0 - 30_000)),
            dropped_samples: 0,
            targets: 12,
            certificate_not_after: Some(issued.response.not_after),
            ..Default::default()
        })
        .send()
        .await
        .expect("status");
    assert_eq!(res.status(), 204);

    let admin = f.app.signed_in("alice").await;
    let view: Value = f
        .app
        .call(&admin, "list_agents", &[])
        .await
        .json()
        .await
        .expect("json");
    let row = &view["agents"][0];
    assert_eq!(row["name"], "pop-1");
    assert_eq!(row["report"]["buffer_batches"], 7);
    assert_eq!(row["report"]["targets"], 12);
    let oldest = row["report"]["oldest_buffered_s"].as_i64().expect("oldest");
    assert!((900..905).contains(&oldest), "{oldest}");
    // 15 minutes of backlog: the page calls the agent behind.
    let html = admin
        .get(f.app.url("/admin/agents"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains(r#"data-name="pop-1" data-state="behind""#),
        "{html}"
    );
    assert!(html.contains("7 batches, 3.0 MiB"), "{html}");

    // Only admins see agents.
    let viewer = f.app.signed_in("vic").await;
    assert_eq!(f.app.call(&viewer, "list_agents", &[]).await.status(), 403);
    assert_eq!(
        f.app
            .call(&viewer, "create_agent_token", &[("form[name]", "x")])
            .await
            .status(),
        403
    );

    // A malformed report is a 400 and changes nothing.
    let res = agent
        .post(f.agent_url(telemetry::enroll::STATUS_PATH))
        .header("content-type", "application/json")
        .body("{\"buffer_batches\": \"many\"}")
        .send()
        .await
        .expect("status");
    assert_eq!(res.status(), 400);
    let kept: i64 = sqlx::query_scalar("select (status->>'buffer_batches')::bigint from agent")
        .fetch_one(&f.app.pool)
        .await
        .expect("status");
    assert_eq!(kept, 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_listener_the_page_says_why_and_no_token_is_made(pool: PgPool) {
    let app = crate::spawn_app(pool).await;
    app.seed_tenant("isp-a", &[("alice", "admin")]).await;
    let admin = app.signed_in("alice").await;
    let view: Value = app
        .call(&admin, "list_agents", &[])
        .await
        .json()
        .await
        .expect("json");
    assert!(
        view["unavailable"]
            .as_str()
            .is_some_and(|m| m.contains("AGENT_LISTEN")),
        "{view}"
    );
    let res = app
        .call(&admin, "create_agent_token", &[("form[name]", "pop-1")])
        .await;
    assert_eq!(res.status(), 503);
    assert_eq!(count(&app.pool, "agent").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_key_rotation_reseals_the_agent_ca(pool: PgPool) {
    let f = Fixture::new(pool).await;
    let token = f.token_from_page("pop-1").await;
    let new_key = KeyFile::generate();
    let done = server::keys::rotate(&f.app.pool, &f.key.path, &f.key.key, &new_key.key)
        .await
        .expect("rotate");
    assert!(done.agent_ca);
    let row = app::db::agents::ca(&f.app.pool)
        .await
        .expect("ca")
        .expect("row");
    let ca = server::agents::ca::AgentCa::open(&row, &new_key.key).expect("opens with the new key");
    assert_eq!(
        hex::encode(ca.sha256),
        token.ca_sha256,
        "the same CA: enrolled agents keep trusting it"
    );
    assert!(server::agents::ca::AgentCa::open(&row, &f.key.key).is_err());
}

/// The agent's own enrollment, status report and renewal code against the real listener.
#[sqlx::test(migrations = "../migrations")]
async fn the_agent_enrolls_reports_and_renews_with_its_own_code(pool: PgPool) {
    use agent::identity::{enroll, renew, Identity};
    use agent::link::{Link, Refused};

    let f = Fixture::new(pool).await;
    let url = f.agent_url("");
    let token = f.token_from_page("pop-1").await;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("identity");

    // A token whose CA is not the server's: the agent stops before it sends the secret.
    let wrong = EnrollmentToken {
        ca_sha256: "ab".repeat(32),
        ..token.clone()
    };
    let err = enroll(&url, &wrong, "1.2.3", &dir)
        .await
        .expect_err("wrong CA");
    assert!(
        format!("{err:#}").contains("a machine in the middle"),
        "{err:#}"
    );
    assert!(!dir.exists());
    assert_eq!(
        count(&f.app.pool, "agent_enrollment where used_at is not null").await,
        0
    );

    let enrolled = enroll(&format!("{url}/"), &token, "1.2.3", &dir)
        .await
        .expect("enrolled");
    assert_eq!(enrolled.name, "pop-1");
    assert_eq!(enrolled.server_url, url);
    let loaded = Identity::load(&dir).expect("load").expect("saved");
    assert_eq!(
        (loaded.agent_id, &loaded.cert_pem),
        (enrolled.agent_id, &enrolled.cert_pem)
    );

    // Spent: a second enrollment carries the server's refusal, and writes nothing.
    let again = root.path().join("again");
    let err = enroll(&url, &token, "1.2.3", &again)
        .await
        .expect_err("spent");
    let refused = err.downcast_ref::<Refused>().expect("a refusal");
    assert_eq!(
        (refused.status, refused.error.as_str()),
        (401, "token_refused")
    );
    assert!(refused.message.contains("already used"), "{refused:?}");
    assert!(!again.exists());

    // A status report with the agent's own buffer and counters.
    let buffer = tempfile::tempdir().expect("buffer");
    let queue = agent::queue::Queue::open(
        buffer.path(),
        agent::queue::Caps {
            max_bytes: 1 << 20,
            max_age: std::time::Duration::from_secs(3600),
        },
    )
    .expect("queue");
    let stats = agent::stats::Stats::default();
    stats.targets.store(4, std::sync::atomic::Ordering::Relaxed);
    let link = Link::for_identity(&enrolled, std::time::Duration::from_secs(10)).expect("link");
    let report = agent::status::status_report(
        &queue,
        &stats,
        link.certificate_not_after(),
        agent::poll::now(),
    );
    agent::status::send_status(&link.client(), &url, &report)
        .await
        .expect("reported");
    let targets: i64 = sqlx::query_scalar("select (status->>'targets')::bigint from agent")
        .fetch_one(&f.app.pool)
        .await
        .expect("status");
    assert_eq!(targets, 4);

    // Renewal: a new key and certificate, saved; the old certificate works until the new
    // one is first used, then stops working.
    let renewed = renew(&enrolled, &dir).await.expect("renewed");
    assert_eq!(renewed.agent_id, enrolled.agent_id);
    assert_ne!(renewed.cert_pem, enrolled.cert_pem);
    let loaded = Identity::load(&dir).expect("load").expect("saved");
    assert_eq!(loaded.cert_pem, renewed.cert_pem);
    let old = link.client();
    agent::status::send_status(&old, &url, &report)
        .await
        .expect("the old certificate, before the new one is used");
    link.use_identity(&renewed, std::time::Duration::from_secs(10))
        .expect("swapped");
    agent::status::send_status(&link.client(), &url, &report)
        .await
        .expect("reported with the new certificate");
    let err = agent::status::send_status(&old, &url, &report)
        .await
        .expect_err("the old certificate, after the new one was used");
    assert_eq!(
        err.downcast_ref::<Refused>().map(|r| r.error.as_str()),
        Some("certificate_replaced")
    );

    // Revoked: renewal is refused and the saved identity stays as it was.
    let admin = f.app.signed_in("alice").await;
    let id = renewed.agent_id.to_string();
    assert!(f
        .app
        .call(&admin, "revoke_agent", &[("id", &id)])
        .await
        .status()
        .is_success());
    let err = renew(&renewed, &dir).await.expect_err("revoked");
    assert_eq!(
        err.downcast_ref::<Refused>()
            .map(|r| (r.status, r.error.as_str())),
        Some((403, "revoked"))
    );
    let kept = Identity::load(&dir).expect("load").expect("kept");
    assert_eq!(kept.cert_pem, renewed.cert_pem);
}
