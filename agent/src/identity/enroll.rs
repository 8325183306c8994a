//! The agent's side of `telemetry::enroll`: enrollment with a one-time token, and renewal of
//! the certificate with the current one. Each makes a fresh ECDSA P-256 key; the key never
//! leaves the agent (the server sees a certificate request).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use telemetry::enroll::{
    CertificateResponse, EnrollRequest, EnrollmentToken, RenewRequest, CA_PATH, ENROLL_PATH,
    RENEW_PATH,
};

use super::store::check_certificate;
use super::Identity;
use crate::link::success;

/// Per request of enrollment and renewal.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Enrolls at `server_url` (the agent listener, `https://…`) with `token`, and saves the new
/// identity in `dir`. Nothing is written to `dir` unless the server issued a certificate.
///
/// The CA certificate is fetched without verification (it is public), and kept only if its
/// SHA-256 is the token's: from then on the server is verified with it, so a machine in the
/// middle cannot take the token.
pub async fn enroll(
    server_url: &str,
    token: &EnrollmentToken,
    version: &str,
    dir: &Path,
) -> anyhow::Result<Identity> {
    let base = base_url(server_url)?;
    let ca_pem = fetch_ca(&base, &token.ca_sha256).await?;
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .context("the CA certificate is not usable")?;
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(TIMEOUT)
        .build()
        .context("building the TLS client")?;
    let (key_pem, csr_pem) = new_key()?;
    let request = EnrollRequest {
        token: token.secret.clone(),
        csr_pem,
        version: version.to_owned(),
    };
    let url = format!("{base}{ENROLL_PATH}");
    let response = client
        .post(&url)
        .json(&request)
        .send()
        .await
        .context("sending the enrollment")?;
    let answer: CertificateResponse = success(response)
        .await
        .context("the server refused the enrollment")?
        .json()
        .await
        .context("reading the server's answer to the enrollment")?;
    // The token pinned the CA that was fetched; that is the one to trust.
    let identity = identity_from(answer, base, ca_pem, key_pem)?;
    save(&identity, dir).await?;
    Ok(identity)
}

/// Renews `identity`'s certificate at its server URL and saves the new identity in `dir`.
pub async fn renew(identity: &Identity, dir: &Path) -> anyhow::Result<Identity> {
    renew_at(identity, &identity.server_url, dir).await
}

/// Renews at `server_url` (the setting, when it overrides the enrolled URL). The saved
/// identity keeps the URL it was enrolled at.
pub(crate) async fn renew_at(
    identity: &Identity,
    server_url: &str,
    dir: &Path,
) -> anyhow::Result<Identity> {
    let base = base_url(server_url)?;
    let client = identity.client(TIMEOUT)?;
    let (key_pem, csr_pem) = new_key()?;
    let url = format!("{base}{RENEW_PATH}");
    let response = client
        .post(&url)
        .json(&RenewRequest { csr_pem })
        .send()
        .await
        .context("sending the renewal")?;
    let answer: CertificateResponse = success(response)
        .await
        .context("the server refused the renewal")?
        .json()
        .await
        .context("reading the server's answer to the renewal")?;
    if answer.agent_id != identity.agent_id {
        bail!(
            "the server answered the renewal with a certificate of agent {}, not of this agent {}",
            answer.agent_id,
            identity.agent_id
        );
    }
    check_certificate(&answer.ca_pem).context("the server's CA certificate")?;
    // Over the verified connection: a CA the server has rotated to is trusted from now on.
    let ca_pem = answer.ca_pem.clone();
    let renewed = identity_from(answer, identity.server_url.clone(), ca_pem, key_pem)?;
    save(&renewed, dir).await?;
    Ok(renewed)
}

/// The base URL without a trailing `/`; only `https://`.
fn base_url(server_url: &str) -> anyhow::Result<String> {
    let base = server_url.trim().trim_end_matches('/');
    if !base.starts_with("https://") {
        bail!(
            "the server URL {base:?} must start with https:// (the agent API is served over TLS)"
        );
    }
    Ok(base.to_owned())
}

/// The CA certificate's PEM, if its SHA-256 is `want` (lowercase hex).
async fn fetch_ca(base: &str, want: &str) -> anyhow::Result<String> {
    // Unverified on purpose: the CA certificate is public, and the fingerprint check below is
    // what makes it trusted.
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(TIMEOUT)
        .build()
        .context("building the HTTP client")?;
    let url = format!("{base}{CA_PATH}");
    let response = client
        .get(&url)
        .send()
        .await
        .context("fetching the server's CA certificate")?;
    let pem = success(response)
        .await
        .with_context(|| format!("fetching the CA certificate from {url}"))?
        .text()
        .await
        .with_context(|| format!("reading the CA certificate from {url}"))?;
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the server's CA certificate is not PEM: {e}"))?;
    let [der] = certs.as_slice() else {
        bail!(
            "the server answered {} certificates at {url}, not one CA certificate",
            certs.len()
        );
    };
    let got = sha256_hex(der);
    if got != want.to_ascii_lowercase() {
        bail!(
            "the server's CA fingerprint {got} is not the token's {want}: wrong server, or a \
             machine in the middle"
        );
    }
    Ok(pem)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A new key (PKCS#8 PEM) and a certificate request for it. The request's subject is
/// rcgen's default: the server ignores it and names the certificate after the agent's id.
fn new_key() -> anyhow::Result<(SecretString, String)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .context("generating the agent's key")?;
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .and_then(|request| request.pem())
        .context("making the certificate request")?;
    Ok((SecretString::from(key.serialize_pem()), csr))
}

fn identity_from(
    answer: CertificateResponse,
    server_url: String,
    ca_pem: String,
    key_pem: SecretString,
) -> anyhow::Result<Identity> {
    check_certificate(&answer.certificate_pem).context("the server's certificate for the agent")?;
    if answer.not_after <= answer.not_before {
        bail!(
            "the server's certificate for the agent has an empty validity ({} to {} ms)",
            answer.not_before.0,
            answer.not_after.0
        );
    }
    Ok(Identity {
        agent_id: answer.agent_id,
        name: answer.name,
        server_url,
        ca_pem,
        cert_pem: answer.certificate_pem,
        key_pem,
        not_before: answer.not_before,
        not_after: answer.not_after,
    })
}

/// Saves on the blocking pool: the writes `fsync`.
async fn save(identity: &Identity, dir: &Path) -> anyhow::Result<()> {
    let (identity, dir) = (identity.clone(), dir.to_owned());
    tokio::task::spawn_blocking(move || identity.save(&dir))
        .await
        .context("the saving task failed")?
        .context("saving the agent's identity")
}
