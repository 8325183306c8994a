//! The settings of `ispvm-agent enroll`: the server's agent address, the one-time token, and
//! where to keep the identity. A fleet, a buffer and an ingest token are not needed.

use std::path::PathBuf;

use anyhow::{bail, Context};
use secrecy::ExposeSecret;
use telemetry::enroll::EnrollmentToken;

use super::{identity_dir, read_file, secret, Args};

/// The settings of `ispvm-agent enroll`.
#[derive(Debug, Clone)]
pub struct EnrollSettings {
    /// The server's agent address, `https://…`.
    pub server_url: String,
    /// From `ISPVM_AGENT_ENROLL_TOKEN` or `ISPVM_AGENT_ENROLL_TOKEN_FILE`; `Debug` redacts
    /// its secret.
    pub token: EnrollmentToken,
    pub identity_dir: PathBuf,
    pub log_level: String,
}

impl EnrollSettings {
    pub fn resolve(args: Args, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = read_file(args.config.as_deref())?;
        let server_url = args.server_url.or(file.server_url).context(
            "no server URL: set ISPVM_AGENT_SERVER_URL or --server-url to the server's agent \
             address (https://…)",
        )?;
        if !server_url.starts_with("https://") {
            bail!("server URL {server_url:?} must start with https:// to enroll (the agent API is served over TLS)");
        }
        // Only from the environment or a file named there: a one-time token has no place in
        // the settings file.
        let token = secret(env, "ISPVM_AGENT_ENROLL_TOKEN", None)?.context(
            "no enrollment token: set ISPVM_AGENT_ENROLL_TOKEN or ISPVM_AGENT_ENROLL_TOKEN_FILE \
             (a one-time token from the server's Agents page)",
        )?;
        let token = EnrollmentToken::parse(token.expose_secret())
            .map_err(|e| anyhow::anyhow!("ISPVM_AGENT_ENROLL_TOKEN: {e}"))?;
        Ok(Self {
            server_url,
            token,
            identity_dir: identity_dir(args.identity_dir, file.identity_dir),
            log_level: args
                .log_level
                .or(file.log_level)
                .unwrap_or_else(|| "info".to_owned()),
        })
    }
}
