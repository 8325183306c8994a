//! The enrolled agent's identity: its id and name as the server knows them, the server's URL,
//! its private key and client certificate, and the internal CA it trusts the server with.
//! [`enroll`] makes one from a one-time token, [`renew`] replaces the certificate before it
//! expires, and `store` keeps it in the identity directory. An agent without one uses the
//! bearer token (`ISPVM_AGENT_TOKEN`).

mod enroll;
pub mod renewal;
pub(crate) mod store;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use telemetry::UnixMs;

pub use enroll::{enroll, renew};

/// What an enrolled agent is. `Debug` shows the key as redacted.
#[derive(Debug, Clone)]
pub struct Identity {
    pub agent_id: uuid::Uuid,
    /// The agent's name as the admin gave it; sent with every batch.
    pub name: String,
    /// The agent listener's base URL the agent enrolled at (`https://…`).
    pub server_url: String,
    pub ca_pem: String,
    pub cert_pem: String,
    key_pem: SecretString,
    pub not_before: UnixMs,
    pub not_after: UnixMs,
}

impl Identity {
    /// The identity in `dir`: `Ok(None)` when there is none (no directory, or no identity
    /// files in it), an error naming the problem when its files are incomplete or corrupt.
    pub fn load(dir: &Path) -> anyhow::Result<Option<Identity>> {
        store::load(dir)
    }

    /// Writes the identity to `dir` (created 0700), each file atomically; the identity it
    /// replaces stays readable until the new one is complete (see `store`).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        store::save(self, dir)
    }

    /// A client that presents the agent's certificate and trusts only its CA (not the Web PKI
    /// roots): the agent listener's certificate is issued by that CA.
    pub fn client(&self, timeout: Duration) -> anyhow::Result<reqwest::Client> {
        let mut pem = Zeroizing::new(String::with_capacity(
            self.key_pem.expose_secret().len() + self.cert_pem.len() + 1,
        ));
        pem.push_str(self.key_pem.expose_secret());
        pem.push('\n');
        pem.push_str(&self.cert_pem);
        let identity = reqwest::Identity::from_pem(pem.as_bytes())
            .context("the agent's key or certificate is not usable")?;
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes())
            .context("the CA certificate is not usable")?;
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(identity)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .context("building the agent's TLS client")
    }

    /// True when less than a third of the certificate's lifetime is left (or it has expired,
    /// or its lifetime is empty).
    pub fn renewal_due(&self, now: UnixMs) -> bool {
        let lifetime = i128::from(self.not_after.0) - i128::from(self.not_before.0);
        let left = i128::from(self.not_after.0) - i128::from(now.0);
        lifetime <= 0 || left * 3 < lifetime
    }
}

#[cfg(test)]
mod tests;
