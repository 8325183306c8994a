//! API-SSL (port 8729) settings: how the router's certificate is checked.
//!
//! Verification is on by default (the Mozilla roots of `webpki-roots`). Routers usually carry a
//! self-signed certificate, so a deployment either gives its own CA, or pins the certificate's
//! SHA-256 fingerprint (which then replaces the chain check), or opts out explicitly. RouterOS
//! v6's certificate-less API-SSL uses anonymous Diffie-Hellman, which rustls does not offer:
//! such a router needs a certificate on its `api-ssl` service.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::Error;

/// A certificate's SHA-256 fingerprint (of its DER encoding).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(cert_der: &[u8]) -> Self {
        Self(Sha256::digest(cert_der).into())
    }

    /// Parses 64 hex digits, optionally separated by colons (as `openssl x509 -fingerprint`
    /// prints them).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let digits: String = text.chars().filter(|&c| c != ':').collect();
        let mut bytes = [0_u8; 32];
        hex::decode_to_slice(&digits, &mut bytes)
            .map_err(|e| Error::TlsConfig(format!("bad SHA-256 fingerprint {text:?}: {e}")))?;
        Ok(Self(bytes))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Which certificates are trusted.
#[derive(Debug, Clone)]
pub enum Roots {
    /// The Mozilla root program, as shipped in `webpki-roots`.
    WebPki,
    /// These CA certificates only (DER).
    Ca(Vec<CertificateDer<'static>>),
}

#[derive(Debug, Clone)]
pub enum Verification {
    /// The chain must lead to `roots` and name the router; with `pin`, the leaf must also have
    /// that fingerprint.
    Chain {
        roots: Roots,
        pin: Option<Fingerprint>,
    },
    /// The leaf must have this fingerprint; chain and name are not checked (self-signed routers).
    Pinned(Fingerprint),
    /// No certificate check at all. Only by explicit choice; logged on every connect.
    Disabled,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub verification: Verification,
    /// The name to verify; by default the host the client connects to (an IP address works
    /// when the certificate has it as a subject alternative name).
    pub server_name: Option<String>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            verification: Verification::Chain {
                roots: Roots::WebPki,
                pin: None,
            },
            server_name: None,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsConfig {
    /// The rustls client configuration for these settings.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, Error> {
        let provider = provider();
        let verifier: Arc<dyn ServerCertVerifier> = match &self.verification {
            Verification::Chain { roots, pin } => {
                let mut store = RootCertStore::empty();
                match roots {
                    Roots::WebPki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                    Roots::Ca(certs) => {
                        for cert in certs {
                            store.add(cert.clone()).map_err(|e| {
                                Error::TlsConfig(format!("unusable CA certificate: {e}"))
                            })?;
                        }
                    }
                }
                let chain =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                        .build()
                        .map_err(|e| Error::TlsConfig(format!("certificate verifier: {e}")))?;
                match pin {
                    None => chain,
                    Some(pin) => Arc::new(PinVerifier {
                        chain: Some(chain),
                        pin: Some(*pin),
                        provider: provider.clone(),
                    }),
                }
            }
            Verification::Pinned(pin) => Arc::new(PinVerifier {
                chain: None,
                pin: Some(*pin),
                provider: provider.clone(),
            }),
            Verification::Disabled => Arc::new(PinVerifier {
                chain: None,
                pin: None,
                provider: provider.clone(),
            }),
        };
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsConfig(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }
}

/// Checks the chain (if any), then the pin (if any). The handshake signatures are always
/// verified, so even with checks disabled the peer must hold the certificate's key.
#[derive(Debug)]
struct PinVerifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    pin: Option<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(chain) = &self.chain {
            chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        }
        if let Some(pin) = self.pin {
            let actual = Fingerprint::of(end_entity);
            if actual != pin {
                return Err(rustls::Error::General(format!(
                    "certificate fingerprint {actual:?} does not match the pinned {pin:?}"
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        let plain = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let colons = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
        assert_eq!(
            Fingerprint::parse(plain).expect("ok"),
            Fingerprint::parse(colons).expect("ok")
        );
        assert!(Fingerprint::parse("abcd").is_err());
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err());
    }
}
