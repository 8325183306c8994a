//! Integration tests: the real app on port 0 against its own fresh PostgreSQL database
//! (`#[sqlx::test]`), driven over real HTTP. One file per feature stem.

mod agent;
mod assignment;
mod audit;
mod auth;
mod cli;
mod compaction;
mod credentials;
mod customers;
mod demo;
mod devices;
mod discovery;
mod enroll;
mod groups;
mod health;
mod imports;
mod ingest;
mod keys;
mod links;
mod pages;
mod probes;
mod services;
mod sites;
mod telemetry;
mod timescale;
mod topology;
mod users;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ORIGIN};
use reqwest::{Client, Response};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

use app::crypto::MasterKey;
use app::state::AppState;
use server::config::Config;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running app and a cookie-keeping client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The agent listener's address, when `AGENT_LISTEN` was given.
    pub agent_addr: Option<SocketAddr>,
    pub pool: PgPool,
    pub origin: String,
    /// The state the app serves with (its pool and master key), for calling ssr functions.
    pub state: AppState,
    shutdown: CancellationToken,
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
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
    serve_on(listener, pool, extra).await
}

/// Starts the app again on the address of one that was stopped (`TestApp::stop`).
pub async fn respawn_app(stopped: Stopped) -> TestApp {
    let Stopped { pool, addr, hold } = stopped;
    drop(hold);
    let listener = bind_again(addr, |addr| {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(1_024)
    })
    .await;
    serve_on(listener, pool, &[]).await
}

/// Binds `addr` with `bind`, retrying for up to 10 s while it is not free yet.
async fn bind_again<T>(addr: SocketAddr, bind: impl Fn(SocketAddr) -> std::io::Result<T>) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match bind(addr) {
            Ok(bound) => return bound,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(%addr, error = %e, "port not free yet");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("binding {addr} again: {e}"),
        }
    }
}

/// A stopped app: its pool, and its address kept bound (not listening: connections are
/// refused, as by a stopped server) so that no other socket takes the port meanwhile.
pub struct Stopped {
    pub pool: PgPool,
    pub addr: SocketAddr,
    hold: tokio::net::TcpSocket,
}

async fn serve_on(
    listener: tokio::net::TcpListener,
    pool: PgPool,
    extra: &[(&str, &str)],
) -> TestApp {
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
    // As `ispvm serve` does before it listens (when a key is set: without one the check only
    // counts profiles, which needs a migrated database, and some tests start without one).
    if config.encryption_master_key.is_some() {
        server::startup::check_master_key(&pool, &config)
            .await
            .expect("master key check");
    }
    let state = server::startup::state(&config, pool.clone()).expect("state");
    // Plain where the database is not migrated yet (the readiness test starts the app first).
    let mode = server::ingest::timescale::StorageMode::read(&pool)
        .await
        .unwrap_or(server::ingest::timescale::StorageMode::Plain);
    let ingest = server::ingest::IngestState::new(pool.clone(), &config.telemetry, mode);
    let agents = server::agents::AgentListener::bind(&config, &pool, ingest.clone())
        .await
        .expect("agent listener");
    let router = server::startup::router(&config, state.clone(), ingest);
    let shutdown = CancellationToken::new();
    let agent_addr = agents.map(|agents| {
        let addr = agents.local_addr().expect("agent listener address");
        tokio::spawn(agents.serve(shutdown.clone()));
        addr
    });
    let stop = shutdown.clone();
    let served = tokio::spawn(async move { server::startup::serve(listener, router, stop).await });
    TestApp {
        addr,
        agent_addr,
        pool,
        origin,
        state,
        shutdown,
        served: Some(served),
    }
}

impl TestApp {
    /// Stops serving, as a stopped `ispvm serve` does (open connections are closed), and
    /// keeps the port for `respawn_app`.
    pub async fn stop(mut self) -> Stopped {
        self.shutdown.cancel();
        if let Some(served) = self.served.take() {
            tokio::time::timeout(std::time::Duration::from_secs(10), served)
                .await
                .expect("the app stops within 10 s")
                .expect("serve task")
                .expect("serve");
        }
        let hold = bind_again(self.addr, |addr| {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            Ok(socket)
        })
        .await;
        Stopped {
            pool: self.pool.clone(),
            addr: self.addr,
            hold,
        }
    }
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, &[]).await
}

/// Starts the app with a new master key and the agent listener on a free port: the server
/// agents enroll at, push to and fetch their assignment from.
pub async fn spawn_agent_server(pool: PgPool) -> (TestApp, KeyFile) {
    let key = KeyFile::generate();
    let app = spawn_app_with(
        pool,
        &[
            ("ENCRYPTION_MASTER_KEY_FILE", key.path_str()),
            ("AGENT_LISTEN", "127.0.0.1:0"),
        ],
    )
    .await;
    (app, key)
}

/// The id of the tenant `slug`.
pub async fn tenant_id(pool: &PgPool, slug: &str) -> i64 {
    sqlx::query_scalar("select id from tenant where slug = $1")
        .bind(slug)
        .fetch_one(pool)
        .await
        .expect("tenant id")
}

/// Starts the app with `ENCRYPTION_MASTER_KEY_FILE` set to `key`'s file.
pub async fn spawn_app_with_key(pool: PgPool, key: &KeyFile) -> TestApp {
    spawn_app_with(pool, &[("ENCRYPTION_MASTER_KEY_FILE", key.path_str())]).await
}

/// A master key file made by `ispvm keys generate`'s code, in a directory of its own that is
/// removed when this is dropped.
pub struct KeyFile {
    dir: PathBuf,
    pub path: PathBuf,
    pub key: MasterKey,
}

impl KeyFile {
    pub fn generate() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "ispvm-it-key-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("key dir");
        let path = dir.join("master.key");
        let fingerprint = server::keys::generate(&path).expect("generate key");
        let key = server::config::read_master_key(&path).expect("read key");
        assert_eq!(key.fingerprint(), fingerprint);
        Self { dir, path, key }
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("utf-8 temp path")
    }

    /// A configuration with only this key set, for `check_master_key` and `state`.
    pub fn config(&self) -> Config {
        Config::from_source(&[("ENCRYPTION_MASTER_KEY_FILE", self.path_str())]).expect("config")
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The URL of the test's own database: host, port, user and database from the pool's options,
/// the password (if any) from the `DATABASE_URL` the tests run with.
pub fn database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    let password = Config::from_env()
        .ok()
        .and_then(|c| c.database_url)
        .and_then(|u| url::Url::parse(u.expose_secret()).ok())
        .and_then(|u| u.password().map(str::to_owned));
    let mut url = url::Url::parse("postgres://localhost").expect("base url");
    url.set_host(Some(options.get_host())).expect("host");
    url.set_port(Some(options.get_port())).expect("port");
    url.set_username(options.get_username()).expect("user");
    url.set_password(password.as_deref()).expect("password");
    url.set_path(options.get_database().unwrap_or_default());
    url.to_string()
}

/// A PostgreSQL client program (`pg_dump`): the newest in /usr/lib/postgresql, else on PATH.
pub fn pg_program(name: &str) -> PathBuf {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let program = e.path().join("bin").join(name);
            program.exists().then_some((version, program))
        })
        .max();
    newest
        .map(|(_, program)| program)
        .unwrap_or_else(|| Path::new(name).to_path_buf())
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

    /// `path` on the agent listener (`spawn_agent_server`), by the name on its certificate.
    pub fn agent_url(&self, path: &str) -> String {
        let addr = self.agent_addr.expect("agent listener");
        format!("https://localhost:{}{path}", addr.port())
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

/// Rows in a table (tests name their tables as literals, never from input).
pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

/// `form` with `field` set to `value` (added when missing).
pub fn with<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    field: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    match form.iter_mut().find(|(k, _)| *k == field) {
        Some(pair) => pair.1 = value,
        None => form.push((field, value)),
    }
    form
}

/// Calls a server function that must succeed and returns its JSON.
pub async fn json_of(
    app: &TestApp,
    c: &Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let res = app.call(c, endpoint, form).await;
    assert_eq!(res.status(), 200, "{endpoint} {form:?}");
    res.json().await.expect("json")
}
