//! The agent's HTTP client to the server and how it proves who it is: a bearer token, or the
//! client certificate of an enrolled agent. The sender, the status reporter and the renewal
//! share one [`Link`]; a renewed certificate is swapped in and the next request uses it, so
//! nothing restarts.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use telemetry::{ErrorResponse, UnixMs};

use crate::identity::Identity;

/// How requests to the server are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>` (`ISPVM_AGENT_TOKEN`), over the Web PKI roots.
    Bearer(SecretString),
    /// The client certificate inside the client (an enrolled agent): nothing per request.
    Certificate { not_after: UnixMs },
}

/// The current client and its auth, swapped together.
#[derive(Debug)]
pub struct Link {
    current: Mutex<(reqwest::Client, Auth)>,
}

impl Link {
    pub fn new(client: reqwest::Client, auth: Auth) -> Self {
        Self {
            current: Mutex::new((client, auth)),
        }
    }

    /// A bearer-token link: the Web PKI roots, connect timeout `timeout` (at most 10 s).
    pub fn bearer(token: SecretString, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))?;
        Ok(Self::new(client, Auth::Bearer(token)))
    }

    /// An enrolled agent's link: its client certificate, trusting only its CA.
    pub fn for_identity(identity: &Identity, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self::new(identity.client(timeout)?, certificate(identity)))
    }

    /// Swaps in a renewed identity's client; requests already under way finish on the old one.
    pub fn use_identity(&self, identity: &Identity, timeout: Duration) -> anyhow::Result<()> {
        let client = identity.client(timeout)?;
        self.swap(client, certificate(identity));
        Ok(())
    }

    pub fn swap(&self, client: reqwest::Client, auth: Auth) {
        *self.lock() = (client, auth);
    }

    /// The current client (a cheap handle on a shared pool).
    pub fn client(&self) -> reqwest::Client {
        self.lock().0.clone()
    }

    /// The expiry of the current client certificate; `None` with a bearer token.
    pub fn certificate_not_after(&self) -> Option<UnixMs> {
        match &self.lock().1 {
            Auth::Bearer(_) => None,
            Auth::Certificate { not_after } => Some(*not_after),
        }
    }

    /// A `POST` to `url` with the current client and its auth.
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        let current = self.lock();
        let request = current.0.post(url);
        match &current.1 {
            Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
            Auth::Certificate { .. } => request,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (reqwest::Client, Auth)> {
        // The guarded pair is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn certificate(identity: &Identity) -> Auth {
    Auth::Certificate {
        not_after: identity.not_after,
    }
}

/// A non-2xx answer of the agent API, with the server's `ErrorResponse` when it sent one
/// (`token_refused`, `revoked`, …). Callers that must tell refusals apart `downcast_ref` it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    /// The server's code; empty when the body was not an `ErrorResponse`.
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.error.as_str() {
            "" => write!(f, "{} (HTTP {})", self.message, self.status),
            code => write!(f, "{} (HTTP {} {code})", self.message, self.status),
        }
    }
}

impl std::error::Error for Refused {}

/// Turns an answer into `Ok` if it is a 2xx, else into a [`Refused`].
pub(crate) async fn success(response: reqwest::Response) -> anyhow::Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let refused = match serde_json::from_str::<ErrorResponse>(&text) {
        Ok(e) => Refused {
            status: status.as_u16(),
            error: e.error,
            message: e.message,
        },
        Err(_) => Refused {
            status: status.as_u16(),
            error: String::new(),
            message: match text.trim() {
                "" => status.canonical_reason().unwrap_or("no reason").to_owned(),
                body => body.chars().take(300).collect(),
            },
        },
    };
    Err(refused.into())
}
