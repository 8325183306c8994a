//! Integration tests: the real app on port 0 against its own fresh PostgreSQL database
//! (`#[sqlx::test]`), driven over real HTTP. One file per feature stem.

mod audit;
mod auth;
mod cli;
mod health;
mod pages;
mod users;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ORIGIN};
use reqwest::{Client, Response};
use secrecy::SecretString;
use sqlx::PgPool;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

use server::config::Config;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running app and a cookie-keeping client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub origin: String,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the app on 127.0.0.1:0 with extra settings, e.g. `[("LOGIN_MAX_FAILURES_PER_IP", "3")]`.
pub async fn spawn_app_with(pool: PgPool, extra: &[(&str, &str)]) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let origin = format!("http://{addr}");
    let mut vars: Vec<(String, String)> = vec![
        ("PUBLIC_BASE_URL".into(), origin.clone()),
        ("LISTEN_ADDR".into(), addr.to_string()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let config = Config::from_source(&Vars(vars)).expect("config");
    let state = server::startup::state(&config, pool.clone()).expect("state");
    let router = server::startup::router(&config, state);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move { server::startup::serve(listener, router, stop).await });
    TestApp {
        addr,
        pool,
        origin,
        shutdown,
    }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

struct Vars(Vec<(String, String)>);

impl server::config::Source for Vars {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// A browser-like API client: keeps cookies, sends this site's Origin, asks for JSON.
pub fn client(app: &TestApp) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_str(&app.origin).expect("origin"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Calls a server function with form-encoded arguments.
    pub async fn call(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn login(&self, client: &Client, username: &str, password: &str) -> Response {
        self.call(
            client,
            "login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// A signed-in client for `username` (password [`PASSWORD`]).
    pub async fn signed_in(&self, username: &str) -> Client {
        let c = client(self);
        let res = self.login(&c, username, PASSWORD).await;
        assert!(
            res.status().is_success(),
            "login of {username} failed: {}",
            res.status()
        );
        c
    }

    /// Creates a tenant with the given users (`(username, role)`), all with password [`PASSWORD`].
    pub async fn seed_tenant(&self, slug: &str, users: &[(&str, &str)]) {
        server::admin::create_tenant(&self.pool, &format!("Tenant {slug}"), slug)
            .await
            .expect("tenant");
        let password = SecretString::from(PASSWORD);
        for (username, role) in users {
            server::admin::create_user(
                &self.pool,
                &server::admin::NewUserArgs {
                    tenant_slug: slug,
                    username,
                    display_name: "",
                    role,
                    superadmin: false,
                    password: &password,
                },
            )
            .await
            .expect("user");
        }
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        sqlx::query_scalar("select id from app_user where username = $1")
            .bind(username)
            .fetch_one(&self.pool)
            .await
            .expect("user id")
    }
}

/// The JSON error body of a failed server function.
pub async fn error_of(res: Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let body = res.json().await.expect("json error body");
    (status, body)
}

impl TestApp {
    /// A signed-in client with an explicit password.
    pub async fn signed_in_with(&self, username: &str, password: &str) -> Client {
        let c = client(self);
        let res = self.login(&c, username, password).await;
        assert!(
            res.status().is_success(),
            "login of {username} failed: {}",
            res.status()
        );
        c
    }
}
