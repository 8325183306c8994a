//! The only module that reads the environment. Every setting has an operator-facing name (see
//! docs/configuration.md); every secret may also come from `<NAME>_FILE`. A missing or invalid
//! setting is one line naming the variable and what is wrong.

use app::crypto::MasterKey;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// A setting that is missing or wrong.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn err(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Local,
    Oidc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server reads from its environment.
#[derive(Clone)]
pub struct Config {
    pub database_url: Option<SecretString>,
    pub public_base_url: Url,
    pub listen_addr: SocketAddr,
    pub auth_mode: AuthMode,
    pub encryption_master_key_file: Option<PathBuf>,
    /// The key read from `encryption_master_key_file`. Whether it is the database's key is
    /// checked later, against the database (`startup::check_master_key`).
    pub encryption_master_key: Option<Arc<MasterKey>>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub feature_flags: Vec<String>,
    pub site_root: PathBuf,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub login_window: Duration,
    pub login_max_failures_per_account: i64,
    pub login_max_failures_per_ip: i64,
    pub db_max_connections: u32,
    pub initial_admin_password: Option<SecretString>,
    /// Telemetry ingest and storage (`INGEST_*`, `RETENTION_*`).
    pub telemetry: TelemetryConfig,
    /// The agent listener (`AGENT_*`).
    pub agents: AgentsConfig,
}

/// The agent listener: TLS with the internal CA's certificate, client certificates for
/// enrolled agents (see `server/src/agents.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentsConfig {
    /// `AGENT_LISTEN`; `None` (unset or `off`) serves no agent listener.
    pub listen: Option<SocketAddr>,
    /// `AGENT_PUBLIC_URL`: how agents reach the listener, shown with a new token. Defaults to
    /// `https://<PUBLIC_BASE_URL's host>:<AGENT_LISTEN's port>`.
    pub public_url: Option<String>,
    /// `AGENT_TLS_NAMES`: the DNS names and IP addresses in the listener's certificate. The
    /// public URL's host, `localhost`, `127.0.0.1` and `::1` are always in it.
    pub tls_names: Vec<String>,
    /// `AGENT_CERT_DAYS`: an agent certificate's lifetime; agents renew with a third left.
    pub cert_days: u32,
}

impl AgentsConfig {
    fn from_source(src: &impl Source, public_base_url: &Url) -> Result<Self, ConfigError> {
        let listen = match plain(src, "AGENT_LISTEN").as_deref().map(str::trim) {
            None | Some("off") | Some("") => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                err(
                    "AGENT_LISTEN",
                    format!("`{raw}` is not an address like 0.0.0.0:8443 (or off)"),
                )
            })?),
        };
        let public_url = match plain(src, "AGENT_PUBLIC_URL") {
            Some(raw) => {
                let url = Url::parse(raw.trim())
                    .map_err(|e| err("AGENT_PUBLIC_URL", format!("`{raw}` is not a URL ({e})")))?;
                if url.scheme() != "https" || url.host().is_none() {
                    return Err(err(
                        "AGENT_PUBLIC_URL",
                        "must be an https:// URL with a host (agents speak TLS only)",
                    ));
                }
                Some(url.as_str().trim_end_matches('/').to_owned())
            }
            None => listen.and_then(|addr| {
                public_base_url
                    .host_str()
                    .map(|host| format!("https://{host}:{}", addr.port()))
            }),
        };
        let mut tls_names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let hosts = public_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()));
        tls_names.extend(hosts);
        for name in plain(src, "AGENT_TLS_NAMES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let ok = name.parse::<std::net::IpAddr>().is_ok()
                || name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*'));
            if !ok {
                return Err(err(
                    "AGENT_TLS_NAMES",
                    format!("`{name}` is not a DNS name or an IP address"),
                ));
            }
            tls_names.push(name.to_owned());
        }
        tls_names.sort();
        tls_names.dedup();
        let cert_days = number(src, "AGENT_CERT_DAYS", 30, 1)?;
        if cert_days > 825 {
            return Err(err("AGENT_CERT_DAYS", "must be at most 825"));
        }
        Ok(AgentsConfig {
            listen,
            public_url,
            tls_names,
            cert_days,
        })
    }
}

/// Settings of the ingest route and the telemetry store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// Largest request body, compressed (`INGEST_MAX_BODY_BYTES`). The decompressed body may be
    /// [`DECOMPRESSION_FACTOR`] times larger; beyond that it is refused as a gzip bomb.
    pub max_body_bytes: usize,
    /// Batches written at once (`INGEST_MAX_CONCURRENT_WRITES`); more wait briefly, then get 429.
    pub max_concurrent_writes: usize,
    /// Series one device may have (`INGEST_MAX_SERIES_PER_DEVICE`); samples that would start
    /// one more are rejected as `too_many_series`.
    pub max_series_per_device: u32,
    /// Days of raw samples kept (`RETENTION_RAW_DAYS`); whole daily partitions are dropped.
    pub retention_raw_days: u32,
    /// Days of 1-minute rollups kept (`RETENTION_1M_DAYS`).
    pub retention_1m_days: u32,
    /// Days of 1-hour rollups kept (`RETENTION_1H_DAYS`). Daily rollups are kept for ever.
    pub retention_1h_days: u32,
    /// The storage mode `ispvm migrate` chooses for a new database (`TELEMETRY_STORAGE`).
    pub storage: StorageChoice,
    /// Days after which raw samples are compressed (`TELEMETRY_COMPRESS_AFTER_DAYS`), where the
    /// storage mode compresses (TimescaleDB: its compression policy).
    pub compress_after_days: u32,
}

/// `TELEMETRY_STORAGE`: the storage mode asked for at migrate time (see
/// migrations/20261128000009_timescaledb.sql). Passed to the migration as the session setting
/// `ispvm.storage_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageChoice {
    /// TimescaleDB when the server has it and the database holds no samples yet.
    Auto,
    Plain,
    /// TimescaleDB or a failed migration that says why not.
    TimescaleDb,
}

impl StorageChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageChoice::Auto => "auto",
            StorageChoice::Plain => "plain",
            StorageChoice::TimescaleDb => "timescaledb",
        }
    }
}

/// How much larger than `INGEST_MAX_BODY_BYTES` a decompressed ingest body may be. JSON batches
/// compress about 10:1; a gzip bomb compresses 1000:1 and is cut off at this factor.
pub const DECOMPRESSION_FACTOR: usize = 8;

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            max_body_bytes: 10 * 1024 * 1024,
            max_concurrent_writes: 4,
            max_series_per_device: telemetry::CardinalityLimits::default().max_series_per_device,
            retention_raw_days: 30,
            retention_1m_days: 365,
            retention_1h_days: 5 * 365,
            storage: StorageChoice::Auto,
            compress_after_days: 3,
        }
    }
}

impl TelemetryConfig {
    fn from_source(src: &impl Source) -> Result<Self, ConfigError> {
        let d = TelemetryConfig::default();
        let t = TelemetryConfig {
            max_body_bytes: number(src, "INGEST_MAX_BODY_BYTES", d.max_body_bytes, 1024)?,
            max_concurrent_writes: number(
                src,
                "INGEST_MAX_CONCURRENT_WRITES",
                d.max_concurrent_writes,
                1,
            )?,
            max_series_per_device: number(
                src,
                "INGEST_MAX_SERIES_PER_DEVICE",
                d.max_series_per_device,
                1,
            )?,
            // Late data is accepted for 7 days and rolled up after it lands: raw partitions
            // younger than that must stay.
            retention_raw_days: number(src, "RETENTION_RAW_DAYS", d.retention_raw_days, 8)?,
            retention_1m_days: number(src, "RETENTION_1M_DAYS", d.retention_1m_days, 1)?,
            retention_1h_days: number(src, "RETENTION_1H_DAYS", d.retention_1h_days, 1)?,
            storage: match plain(src, "TELEMETRY_STORAGE").as_deref().unwrap_or("auto") {
                "auto" => StorageChoice::Auto,
                "plain" => StorageChoice::Plain,
                "timescaledb" => StorageChoice::TimescaleDb,
                other => {
                    return Err(err(
                        "TELEMETRY_STORAGE",
                        format!("`{other}` is not one of auto, plain, timescaledb"),
                    ))
                }
            },
            compress_after_days: number(
                src,
                "TELEMETRY_COMPRESS_AFTER_DAYS",
                d.compress_after_days,
                1,
            )?,
        };
        if t.max_body_bytes > usize::MAX / DECOMPRESSION_FACTOR {
            return Err(err("INGEST_MAX_BODY_BYTES", "is too large"));
        }
        Ok(t)
    }
}

/// Where variables come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn plain(src: &impl Source, var: &'static str) -> Option<String> {
    src.get(var).filter(|v| !v.trim().is_empty())
}

/// A secret of a CLI command from the process environment (`VAR` or `VAR_FILE`).
pub fn secret_from_env(
    var: &'static str,
    file_var: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    secret(&Env, var, file_var)
}

/// A secret from `VAR` or from the file named by `VAR_FILE` (not both).
fn secret(
    src: &impl Source,
    var: &'static str,
    file_var: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    match (plain(src, var), plain(src, file_var)) {
        (Some(_), Some(_)) => Err(err(
            var,
            format!("set either {var} or {file_var}, not both"),
        )),
        (Some(v), None) => Ok(Some(SecretString::from(v))),
        (None, Some(path)) => {
            let v = std::fs::read_to_string(&path)
                .map_err(|e| err(file_var, format!("cannot read {path}: {e}")))?;
            let v = v.trim_end_matches(['\n', '\r']).to_owned();
            if v.is_empty() {
                return Err(err(file_var, format!("{path} is empty")));
            }
            Ok(Some(SecretString::from(v)))
        }
        (None, None) => Ok(None),
    }
}

fn duration(src: &impl Source, var: &'static str, default: &str) -> Result<Duration, ConfigError> {
    let raw = plain(src, var).unwrap_or_else(|| default.to_owned());
    let d = humantime::parse_duration(raw.trim()).map_err(|e| {
        err(
            var,
            format!("`{raw}` is not a duration like 15m, 8h or 7d ({e})"),
        )
    })?;
    if d.is_zero() {
        return Err(err(var, "must be longer than zero"));
    }
    Ok(d)
}

fn number<T>(src: &impl Source, var: &'static str, default: T, min: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = plain(src, var) else {
        return Ok(default);
    };
    let n: T = raw
        .trim()
        .parse()
        .map_err(|_| err(var, format!("`{raw}` is not a whole number")))?;
    if n < min {
        return Err(err(var, format!("must be at least {min}")));
    }
    Ok(n)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&Env)
    }

    pub fn from_source(src: &impl Source) -> Result<Self, ConfigError> {
        let database_url = secret(src, "DATABASE_URL", "DATABASE_URL_FILE")?;
        if let Some(url) = &database_url {
            let parsed = Url::parse(url.expose_secret()).map_err(|_| {
                err(
                    "DATABASE_URL",
                    "is not a URL (expected postgres://user@host:port/db)",
                )
            })?;
            if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                return Err(err(
                    "DATABASE_URL",
                    "must start with postgres:// or postgresql://",
                ));
            }
        }
        let base_raw =
            plain(src, "PUBLIC_BASE_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let public_base_url = Url::parse(&base_raw).map_err(|e| {
            err(
                "PUBLIC_BASE_URL",
                format!("`{base_raw}` is not a URL ({e})"),
            )
        })?;
        if !matches!(public_base_url.scheme(), "http" | "https") || public_base_url.host().is_none()
        {
            return Err(err(
                "PUBLIC_BASE_URL",
                "must be an http:// or https:// URL with a host",
            ));
        }
        let listen_raw = plain(src, "LISTEN_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen_addr = listen_raw.parse().map_err(|_| {
            err(
                "LISTEN_ADDR",
                format!("`{listen_raw}` is not an address like 0.0.0.0:3000"),
            )
        })?;
        let auth_mode = match plain(src, "AUTH_MODE").as_deref().unwrap_or("local") {
            "local" => AuthMode::Local,
            "oidc" => AuthMode::Oidc,
            other => {
                return Err(err(
                    "AUTH_MODE",
                    format!("`{other}` is not one of local, oidc"),
                ))
            }
        };
        let encryption_master_key_file =
            plain(src, "ENCRYPTION_MASTER_KEY_FILE").map(PathBuf::from);
        let encryption_master_key = encryption_master_key_file
            .as_deref()
            .map(|path| read_master_key(path).map(Arc::new))
            .transpose()
            .map_err(|reason| err("ENCRYPTION_MASTER_KEY_FILE", reason))?;
        let log_level = plain(src, "LOG_LEVEL").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| {
            err(
                "LOG_LEVEL",
                format!("`{log_level}` is not a level or filter ({e})"),
            )
        })?;
        let log_format = match plain(src, "LOG_FORMAT").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(err(
                    "LOG_FORMAT",
                    format!("`{other}` is not one of text, json"),
                ))
            }
        };
        let feature_flags: Vec<String> = plain(src, "FEATURE_FLAGS")
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = feature_flags.iter().find(|f: &&String| {
            !f.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) {
            return Err(err(
                "FEATURE_FLAGS",
                format!("`{bad}` is not a flag name (letters, digits, _ and -)"),
            ));
        }
        let site_root = PathBuf::from(
            plain(src, "SITE_ROOT")
                .or_else(|| plain(src, "LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| "target/site".into()),
        );
        let session_idle = duration(src, "SESSION_IDLE_TIMEOUT", "8h")?;
        let session_absolute = duration(src, "SESSION_ABSOLUTE_TIMEOUT", "7d")?;
        if session_absolute < session_idle {
            return Err(err(
                "SESSION_ABSOLUTE_TIMEOUT",
                "must not be shorter than SESSION_IDLE_TIMEOUT",
            ));
        }
        let agents = AgentsConfig::from_source(src, &public_base_url)?;
        Ok(Self {
            database_url,
            public_base_url,
            listen_addr,
            auth_mode,
            encryption_master_key_file,
            encryption_master_key,
            log_level,
            log_format,
            feature_flags,
            site_root,
            session_idle,
            session_absolute,
            login_window: duration(src, "LOGIN_THROTTLE_WINDOW", "15m")?,
            login_max_failures_per_account: number(src, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, 1)?,
            login_max_failures_per_ip: number(src, "LOGIN_MAX_FAILURES_PER_IP", 20, 1)?,
            db_max_connections: number(src, "DATABASE_MAX_CONNECTIONS", 20, 2)?,
            initial_admin_password: secret(
                src,
                "INITIAL_ADMIN_PASSWORD",
                "INITIAL_ADMIN_PASSWORD_FILE",
            )?,
            telemetry: TelemetryConfig::from_source(src)?,
            agents,
        })
    }

    /// The database URL, or the error naming the variable.
    pub fn database_url(&self) -> Result<&SecretString, ConfigError> {
        self.database_url.as_ref().ok_or_else(|| {
            err(
                "DATABASE_URL",
                "is required (postgres://user@host:port/db), or set DATABASE_URL_FILE",
            )
        })
    }

    /// Cookies are `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.scheme() == "https"
    }

    /// `ispvm config check`: the effective configuration, secrets redacted.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let redacted_db = self
            .database_url
            .as_ref()
            .map(|u| redact_url(u.expose_secret()));
        vec![
            (
                "DATABASE_URL",
                redacted_db.unwrap_or_else(|| "(unset)".into()),
            ),
            ("PUBLIC_BASE_URL", self.public_base_url.to_string()),
            ("LISTEN_ADDR", self.listen_addr.to_string()),
            ("AUTH_MODE", format!("{:?}", self.auth_mode).to_lowercase()),
            (
                "ENCRYPTION_MASTER_KEY_FILE",
                match (
                    &self.encryption_master_key_file,
                    &self.encryption_master_key,
                ) {
                    (Some(path), Some(key)) => {
                        format!("{} (fingerprint {})", path.display(), key.fingerprint())
                    }
                    _ => "(unset)".into(),
                },
            ),
            ("LOG_LEVEL", self.log_level.clone()),
            (
                "LOG_FORMAT",
                format!("{:?}", self.log_format).to_lowercase(),
            ),
            ("FEATURE_FLAGS", self.feature_flags.join(",")),
            ("SITE_ROOT", self.site_root.display().to_string()),
            (
                "SESSION_IDLE_TIMEOUT",
                humantime::format_duration(self.session_idle).to_string(),
            ),
            (
                "SESSION_ABSOLUTE_TIMEOUT",
                humantime::format_duration(self.session_absolute).to_string(),
            ),
            (
                "LOGIN_THROTTLE_WINDOW",
                humantime::format_duration(self.login_window).to_string(),
            ),
            (
                "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                self.login_max_failures_per_account.to_string(),
            ),
            (
                "LOGIN_MAX_FAILURES_PER_IP",
                self.login_max_failures_per_ip.to_string(),
            ),
            (
                "DATABASE_MAX_CONNECTIONS",
                self.db_max_connections.to_string(),
            ),
            (
                "INGEST_MAX_BODY_BYTES",
                self.telemetry.max_body_bytes.to_string(),
            ),
            (
                "INGEST_MAX_CONCURRENT_WRITES",
                self.telemetry.max_concurrent_writes.to_string(),
            ),
            (
                "INGEST_MAX_SERIES_PER_DEVICE",
                self.telemetry.max_series_per_device.to_string(),
            ),
            (
                "RETENTION_RAW_DAYS",
                self.telemetry.retention_raw_days.to_string(),
            ),
            (
                "RETENTION_1M_DAYS",
                self.telemetry.retention_1m_days.to_string(),
            ),
            (
                "RETENTION_1H_DAYS",
                self.telemetry.retention_1h_days.to_string(),
            ),
            ("TELEMETRY_STORAGE", self.telemetry.storage.as_str().into()),
            (
                "TELEMETRY_COMPRESS_AFTER_DAYS",
                self.telemetry.compress_after_days.to_string(),
            ),
            (
                "AGENT_LISTEN",
                self.agents
                    .listen
                    .map_or_else(|| "off".into(), |a| a.to_string()),
            ),
            (
                "AGENT_PUBLIC_URL",
                self.agents
                    .public_url
                    .clone()
                    .unwrap_or_else(|| "(unset)".into()),
            ),
            ("AGENT_TLS_NAMES", self.agents.tls_names.join(",")),
            ("AGENT_CERT_DAYS", self.agents.cert_days.to_string()),
            (
                "INITIAL_ADMIN_PASSWORD",
                if self.initial_admin_password.is_some() {
                    "(set, redacted)"
                } else {
                    "(unset)"
                }
                .into(),
            ),
        ]
    }
}

/// Reads a master key file (`ispvm keys generate` writes them: one line of base64). The error
/// names the file and what is wrong with it, never its contents.
pub fn read_master_key(path: &Path) -> Result<MasterKey, String> {
    let contents = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    MasterKey::from_file_contents(&contents).map_err(|e| format!("{} {e}", path.display()))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "(unparseable, redacted)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_usable() {
        let c = Config::from_source(&[("DATABASE_URL", "postgres://u:pw@localhost/ispvm")])
            .expect("config");
        assert_eq!(c.auth_mode, AuthMode::Local);
        assert_eq!(c.listen_addr.port(), 3000);
        assert_eq!(c.session_idle, Duration::from_secs(8 * 3600));
        assert!(!c.secure_cookies());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: [(&[(&str, &str); 1], &str); 7] = [
            (&[("AUTH_MODE", "ldap")], "AUTH_MODE"),
            (&[("TELEMETRY_STORAGE", "influx")], "TELEMETRY_STORAGE"),
            (
                &[("TELEMETRY_COMPRESS_AFTER_DAYS", "0")],
                "TELEMETRY_COMPRESS_AFTER_DAYS",
            ),
            (
                &[("PUBLIC_BASE_URL", "monitor.example.com")],
                "PUBLIC_BASE_URL",
            ),
            (
                &[("SESSION_IDLE_TIMEOUT", "forever")],
                "SESSION_IDLE_TIMEOUT",
            ),
            (&[("DATABASE_URL", "mysql://x@y/z")], "DATABASE_URL"),
            (
                &[("LOGIN_MAX_FAILURES_PER_IP", "0")],
                "LOGIN_MAX_FAILURES_PER_IP",
            ),
        ];
        for (src, var) in cases {
            let e = Config::from_source(src).err().map(|e| e.var);
            assert_eq!(e, Some(var));
        }
    }

    #[test]
    fn secrets_come_from_files_and_are_redacted() {
        let dir = std::env::temp_dir().join(format!("ispvm-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("db");
        std::fs::write(&file, "postgres://ispvm:hunter2hunter2@db/ispvm\n").expect("write");
        let path = file.display().to_string();
        let c = Config::from_source(&[("DATABASE_URL_FILE", path.as_str())]).expect("config");
        let shown = c
            .describe()
            .into_iter()
            .find(|(k, _)| *k == "DATABASE_URL")
            .map(|(_, v)| v);
        assert_eq!(shown.as_deref(), Some("postgres://ispvm:***@db/ispvm"));
        let both = Config::from_source(&[
            ("DATABASE_URL", "postgres://a@b/c"),
            ("DATABASE_URL_FILE", path.as_str()),
        ]);
        assert_eq!(both.err().map(|e| e.var), Some("DATABASE_URL"));
        let missing = Config::from_source(&[("DATABASE_URL_FILE", "/nonexistent/ispvm-db-url")]);
        assert_eq!(missing.err().map(|e| e.var), Some("DATABASE_URL_FILE"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn the_master_key_file_must_hold_a_key() {
        let dir = std::env::temp_dir().join(format!("ispvm-config-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (key, line) = MasterKey::generate();
        let good = dir.join("good.key");
        std::fs::write(&good, line.as_bytes()).expect("write");
        let bad = dir.join("bad.key");
        std::fs::write(&bad, "c2hvcnQ=\n").expect("write");
        let good_path = good.display().to_string();
        let c = Config::from_source(&[("ENCRYPTION_MASTER_KEY_FILE", good_path.as_str())])
            .expect("config");
        assert_eq!(
            c.encryption_master_key
                .as_deref()
                .map(MasterKey::fingerprint),
            Some(key.fingerprint())
        );
        let shown = c
            .describe()
            .into_iter()
            .find(|(k, _)| *k == "ENCRYPTION_MASTER_KEY_FILE")
            .map(|(_, v)| v);
        assert_eq!(
            shown,
            Some(format!("{good_path} (fingerprint {})", key.fingerprint()))
        );
        let bad_path = bad.display().to_string();
        let e = Config::from_source(&[("ENCRYPTION_MASTER_KEY_FILE", bad_path.as_str())])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e,
            Some(format!(
                "ENCRYPTION_MASTER_KEY_FILE: {bad_path} holds 5 bytes; a master key is 32 bytes \
                 (create one with `ispvm keys generate`)"
            ))
        );
        let missing = Config::from_source(&[("ENCRYPTION_MASTER_KEY_FILE", "/nonexistent/key")]);
        assert_eq!(
            missing.err().map(|e| e.var),
            Some("ENCRYPTION_MASTER_KEY_FILE")
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn database_url_is_required_where_used() {
        let c = Config::from_source(&[("LOG_LEVEL", "debug")]).expect("config");
        assert_eq!(c.database_url().err().map(|e| e.var), Some("DATABASE_URL"));
    }
}
