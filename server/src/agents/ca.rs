//! The installation's agent CA (rcgen): created once, its key sealed with the master key in
//! `agent_ca`. It issues the agent listener's server certificate at every start and each
//! agent's client certificate from the agent's CSR.

use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use app::crypto::MasterKey;
use app::db::agents::CaRow;

/// The associated data the CA key is sealed with.
pub const CA_KEY_AAD: &[u8] = b"ispvm.agent_ca.v1";

/// A CA outlives any installation's hardware.
const CA_LIFETIME: Duration = Duration::days(20 * 365);
/// The listener's certificate is issued again at every start.
const SERVER_CERT_LIFETIME: Duration = Duration::days(397);
/// Agents' clocks may be behind the server's by this much.
const CLOCK_SKEW: Duration = Duration::minutes(5);

pub struct AgentCa {
    /// The CA certificate as stored (what agents trust and the chain carries).
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub sha256: [u8; 32],
    /// rcgen's view of the CA, for signing (its subject and key identifier).
    issuer: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for AgentCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentCa")
            .field("sha256", &hex::encode(self.sha256))
            .finish_non_exhaustive()
    }
}

/// A certificate issued to an agent.
#[derive(Debug, Clone)]
pub struct Issued {
    pub pem: String,
    pub sha256: [u8; 32],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// Why a CSR was refused.
#[derive(Debug, thiserror::Error)]
#[error("the CSR could not be read or its signature does not verify ({0})")]
pub struct BadCsr(String);

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive, and never a leading zero byte (DER integers are minimal).
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn der_sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

impl AgentCa {
    /// The CA of the database, created (and stored) on the first call. Several replicas
    /// starting together store one: the insert does nothing if a row exists, and every caller
    /// reads the row back.
    pub async fn load_or_create(pool: &PgPool, master: &MasterKey) -> anyhow::Result<Arc<Self>> {
        let db_err = |e: app::error::AppError| anyhow::anyhow!("agent CA: {e}");
        if app::db::agents::ca(pool).await.map_err(db_err)?.is_none() {
            let row = Self::generate(master)?;
            app::db::agents::insert_ca(pool, &row)
                .await
                .map_err(db_err)?;
        }
        let row = app::db::agents::ca(pool)
            .await
            .map_err(db_err)?
            .context("agent CA: the row disappeared")?;
        Ok(Arc::new(Self::open(&row, master)?))
    }

    /// A new CA, sealed for storage.
    fn generate(master: &MasterKey) -> anyhow::Result<CaRow> {
        let key = KeyPair::generate().context("agent CA: generate the key")?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "ISPVM");
        name.push(
            DnType::CommonName,
            format!(
                "ISPVM agent CA {}",
                &Uuid::new_v4().simple().to_string()[..8]
            ),
        );
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + CA_LIFETIME;
        params.serial_number = Some(random_serial());
        let cert = params
            .self_signed(&key)
            .context("agent CA: sign the certificate")?;
        let key_pem = secrecy::zeroize::Zeroizing::new(key.serialize_pem());
        Ok(CaRow {
            certificate_pem: cert.pem(),
            certificate_sha256: der_sha256(cert.der()).to_vec(),
            key_sealed: master
                .seal(CA_KEY_AAD, key_pem.as_bytes())
                .context("agent CA: seal the key")?,
        })
    }

    /// The stored CA, its key opened with the master key.
    pub fn open(row: &CaRow, master: &MasterKey) -> anyhow::Result<Self> {
        let key_pem = master.open(CA_KEY_AAD, &row.key_sealed).context(
            "agent CA: the master key does not open the CA key (was the key rotated without \
             `ispvm keys rotate`?)",
        )?;
        let key_pem = std::str::from_utf8(&key_pem).context("agent CA: key is not PEM")?;
        let key = KeyPair::from_pem(key_pem).context("agent CA: read the key")?;
        let der = CertificateDer::from(
            pem_der(&row.certificate_pem).context("agent CA: read the certificate")?,
        );
        let sha256 = der_sha256(&der);
        if sha256[..] != row.certificate_sha256[..] {
            anyhow::bail!("agent CA: the stored certificate does not match its fingerprint");
        }
        let issuer = CertificateParams::from_ca_cert_der(&der)
            .context("agent CA: parse the certificate")?
            .self_signed(&key)
            .context("agent CA: the key is not the certificate's")?;
        Ok(AgentCa {
            der,
            pem: row.certificate_pem.clone(),
            sha256,
            issuer,
            key,
        })
    }

    /// The listener's certificate chain and key, for these names (DNS names or IP addresses).
    pub fn issue_server(
        &self,
        names: &[String],
    ) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let key = KeyPair::generate().context("listener key")?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "ISPVM agent listener");
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n
                    .clone()
                    .try_into()
                    .map(SanType::DnsName)
                    .with_context(|| format!("AGENT_TLS_NAMES: `{n}`")),
            })
            .collect::<anyhow::Result<_>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + SERVER_CERT_LIFETIME;
        params.serial_number = Some(random_serial());
        let cert = params
            .signed_by(&key, &self.issuer, &self.key)
            .context("sign the listener certificate")?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![cert.der().clone(), self.der.clone()], key))
    }

    /// A client certificate for the agent: the CSR gives only the public key (its signature
    /// proves the agent holds the key); the subject is the agent's id.
    pub fn issue_agent(
        &self,
        csr_pem: &str,
        agent: Uuid,
        lifetime: Duration,
    ) -> Result<Issued, IssueError> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| IssueError::BadCsr(BadCsr(e.to_string())))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "ISPVM agent");
        params
            .distinguished_name
            .push(DnType::CommonName, agent.to_string());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // Whole seconds, as the certificate stores them.
        let now = OffsetDateTime::now_utc();
        let now = now - Duration::nanoseconds(i64::from(now.nanosecond()));
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + lifetime;
        params.serial_number = Some(random_serial());
        let cert = CertificateSigningRequestParams {
            params,
            public_key: csr.public_key,
        }
        .signed_by(&self.issuer, &self.key)
        .map_err(|e| IssueError::Sign(e.to_string()))?;
        Ok(Issued {
            pem: cert.pem(),
            sha256: der_sha256(cert.der()),
            not_before: now - CLOCK_SKEW,
            not_after: now + lifetime,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    BadCsr(#[from] BadCsr),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The DER of a PEM certificate (the first `CERTIFICATE` block).
pub fn pem_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    Ok(CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("not a PEM certificate: {e:?}"))?
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_survives_storage_and_issues_certificates_that_verify() {
        let (master, _) = MasterKey::generate();
        let row = AgentCa::generate(&master).expect("generate");
        let ca = AgentCa::open(&row, &master).expect("open");
        assert_eq!(ca.sha256[..], row.certificate_sha256[..]);

        // An agent's CSR → a client certificate for its id, chaining to the CA.
        let key = KeyPair::generate().expect("key");
        let csr = CertificateParams::default()
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem");
        let id = Uuid::new_v4();
        let issued = ca.issue_agent(&csr, id, Duration::days(30)).expect("issue");
        let der = pem_der(&issued.pem).expect("der");
        assert_eq!(der_sha256(&der), issued.sha256);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der.clone()).expect("root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .expect("verifier");
        verifier
            .verify_client_cert(
                &CertificateDer::from(der),
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .expect("the agent certificate verifies against the CA");

        // A CSR that was tampered with, or is not one, is refused.
        let mut bad = csr.clone().into_bytes();
        let at = bad.len() / 2;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).expect("utf8");
        assert!(matches!(
            ca.issue_agent(&bad, id, Duration::days(1)),
            Err(IssueError::BadCsr(_))
        ));
        assert!(ca.issue_agent("hello", id, Duration::days(1)).is_err());

        // Another master key cannot open it.
        let (other, _) = MasterKey::generate();
        assert!(AgentCa::open(&row, &other).is_err());
    }
}
