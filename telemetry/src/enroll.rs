//! The agent API, v1: enrollment, certificate renewal and status reports. These routes are
//! served only on the server's agent listener (`AGENT_LISTEN`), which speaks TLS with a
//! certificate of the server's internal CA and asks for a client certificate.
//!
//! 1. An admin creates a one-time [`EnrollmentToken`] in the UI (it expires within 10 minutes).
//!    Its text carries the CA's SHA-256 fingerprint, so the agent can trust the listener
//!    without any other secret or download.
//! 2. The agent fetches [`CA_PATH`] (the CA certificate, public) without verifying, and keeps
//!    it only if its fingerprint is the token's. From then on it verifies the listener with it.
//! 3. It generates its key, and posts an [`EnrollRequest`] with a CSR to [`ENROLL_PATH`]. The
//!    server checks and spends the token and answers a [`CertificateResponse`].
//! 4. It pushes batches ([`crate::INGEST_PATH`]) and [`AgentStatus`] reports ([`STATUS_PATH`])
//!    with that client certificate, and renews it ([`RENEW_PATH`], a [`RenewRequest`]) when a
//!    third of its lifetime is left. It fetches what to poll from
//!    [`crate::assignment::ASSIGNMENT_PATH`]. A revoked agent's requests answer 403 `revoked`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::UnixMs;

/// `GET`: the internal CA's certificate (PEM). No client certificate needed.
pub const CA_PATH: &str = "/api/agent/v1/ca";
/// `POST` an [`EnrollRequest`]; no client certificate needed (the token is the credential).
pub const ENROLL_PATH: &str = "/api/agent/v1/enroll";
/// `POST` a [`RenewRequest`] with the current client certificate.
pub const RENEW_PATH: &str = "/api/agent/v1/renew";
/// `POST` an [`AgentStatus`] with the client certificate.
pub const STATUS_PATH: &str = "/api/agent/v1/status";

const TOKEN_PREFIX: &str = "ispvmenroll";

/// An enrollment token as an admin copies it: `ispvmenroll_<secret>_<CA fingerprint>`, both
/// 64 lowercase hex digits. Only the secret is a credential (the server stores its SHA-256);
/// the fingerprint is the SHA-256 of the CA certificate's DER.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentToken {
    pub secret: String,
    pub ca_sha256: String,
}

impl std::fmt::Debug for EnrollmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentToken")
            .field("secret", &"[redacted]")
            .field("ca_sha256", &self.ca_sha256)
            .finish()
    }
}

/// Why a token's text is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an enrollment token: expected `ispvmenroll_` then two groups of 64 hex digits \
     separated by `_` (copy it whole from the server's Agents page)"
)]
pub struct BadToken;

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl EnrollmentToken {
    pub fn parse(text: &str) -> Result<Self, BadToken> {
        let mut parts = text.trim().split('_');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(TOKEN_PREFIX), Some(secret), Some(ca), None)
                if is_hex64(secret) && is_hex64(ca) =>
            {
                Ok(EnrollmentToken {
                    secret: secret.to_ascii_lowercase(),
                    ca_sha256: ca.to_ascii_lowercase(),
                })
            }
            _ => Err(BadToken),
        }
    }

    /// The text an admin copies.
    pub fn to_text(&self) -> String {
        format!("{TOKEN_PREFIX}_{}_{}", self.secret, self.ca_sha256)
    }
}

/// `POST` [`ENROLL_PATH`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The token's secret part (64 hex digits).
    pub token: String,
    /// A PKCS#10 request for the agent's key. Only its public key is used: the server decides
    /// the certificate's subject (the agent's id) and lifetime.
    pub csr_pem: String,
    /// The agent's software version, shown in the UI.
    pub version: String,
}

/// `POST` [`RENEW_PATH`], authenticated by the current certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenewRequest {
    /// A PKCS#10 request for the agent's new key.
    pub csr_pem: String,
}

/// The answer to an enrollment or a renewal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateResponse {
    pub agent_id: Uuid,
    /// The agent's name as the admin gave it; the agent sends it with every batch.
    pub name: String,
    pub certificate_pem: String,
    pub ca_pem: String,
    pub not_before: UnixMs,
    pub not_after: UnixMs,
}

/// `POST` [`STATUS_PATH`]: what the agent's local `GET /status` says, for the server's Agents
/// page. Sent every minute; the server keeps the latest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub version: String,
    /// When the report was made, by the agent's clock.
    pub at: UnixMs,
    pub buffer_batches: u64,
    pub buffer_bytes: u64,
    /// The oldest buffered batch's seal time, if anything is buffered.
    pub oldest_buffered: Option<UnixMs>,
    /// The last batch the server accepted.
    pub last_push: Option<UnixMs>,
    /// Samples dropped since the agent started: buffer caps, unreadable batches, dead letters.
    pub dropped_samples: u64,
    /// Routers, SNMP devices and probes polled.
    pub targets: u64,
    /// Certificate expiry, as the agent knows it.
    pub certificate_not_after: Option<UnixMs>,
    /// The revision of the server's assignment being polled (`None` with a fleet file).
    #[serde(default)]
    pub assignment_revision: Option<String>,
    /// When the server last answered the assignment request.
    #[serde(default)]
    pub assignment_fetched: Option<UnixMs>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        let t = EnrollmentToken {
            secret: "a".repeat(64),
            ca_sha256: "0f".repeat(32),
        };
        let text = t.to_text();
        assert_eq!(EnrollmentToken::parse(&text), Ok(t.clone()));
        assert_eq!(
            EnrollmentToken::parse(&format!(
                " {} \n",
                text.to_uppercase().replace("ISPVMENROLL", "ispvmenroll")
            )),
            Ok(t.clone())
        );
        assert!(!format!("{t:?}").contains(&t.secret));
        for bad in [
            "",
            "ispvmenroll",
            &format!("ispvmenroll_{}", "a".repeat(64)),
            &format!("ispvmenroll_{}_{}", "a".repeat(63), "b".repeat(64)),
            &format!("ispvmenroll_{}_{}", "g".repeat(64), "b".repeat(64)),
            &format!("ispvm_{}_{}", "a".repeat(64), "b".repeat(64)),
            &format!("{text}_x"),
        ] {
            assert_eq!(EnrollmentToken::parse(bad), Err(BadToken), "{bad:?}");
        }
    }
}
