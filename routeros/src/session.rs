//! `Session`: the one connection a poller keeps per router, reopened when it breaks.
//!
//! Concurrent callers share the connection (API commands are multiplexed by tag; REST requests
//! share the HTTP client's kept-alive connection). When it breaks, the next caller reconnects,
//! unless `Breaker` says to wait; then the call fails at once with `BackingOff` or
//! `CircuitOpen`, which a collector records as a failed poll. A refused login (the API's, or a
//! REST 401) opens the breaker at once: retrying would only lock the account.

pub mod breaker;

use std::sync::Arc;

use tokio::time::Instant;

use crate::client::{Client, ClientConfig, Response, Transport};
use crate::request::Request;
use crate::rest::RestClient;
use crate::Error;
use breaker::{Admission, BackoffPolicy, Breaker};

#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    peer: String,
    state: tokio::sync::Mutex<State>,
}

struct State {
    client: Option<Connection>,
    breaker: Breaker,
}

/// A router's open connection, by transport.
#[derive(Clone)]
enum Connection {
    Api(Client),
    Rest(RestClient),
}

impl Connection {
    async fn open(config: &ClientConfig) -> Result<Self, Error> {
        match config.transport {
            Transport::Api => Client::connect(config).await.map(Self::Api),
            Transport::Rest => RestClient::new(config).map(Self::Rest),
        }
    }

    async fn call(&self, request: &Request) -> Result<Response, Error> {
        match self {
            Self::Api(client) => client.call(request).await,
            Self::Rest(client) => client.call(request).await,
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Self::Api(client) => client.is_closed(),
            // The HTTP client reconnects by itself.
            Self::Rest(_) => false,
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("peer", &self.inner.peer)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session that connects on first use.
    pub fn new(config: ClientConfig, policy: BackoffPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                peer: config.peer(),
                config,
                state: tokio::sync::Mutex::new(State {
                    client: None,
                    breaker: Breaker::new(policy),
                }),
            }),
        }
    }

    pub fn peer(&self) -> &str {
        &self.inner.peer
    }

    /// Runs a command on the shared connection, connecting first if needed.
    pub async fn call(&self, request: &Request) -> Result<Response, Error> {
        // A request that cannot be sent says nothing about the router: refuse it before the
        // breaker counts anything (it could otherwise waste a half-open probe).
        request.to_sentence("0")?;
        let client = self.client().await?;
        let result = client.call(request).await;
        let mut state = self.inner.state.lock().await;
        match &result {
            // A trap is the command's failure; the router itself answered.
            Ok(_) | Err(Error::Trap { .. }) => state.breaker.on_success(),
            Err(e) if e.is_router_failure() => {
                let open_now = matches!(e, Error::LoginRefused { .. });
                state
                    .breaker
                    .on_failure(Instant::now(), &e.to_string(), open_now);
                if e.breaks_connection() {
                    state.client = None;
                }
            }
            Err(_) => {}
        }
        result
    }

    async fn client(&self) -> Result<Connection, Error> {
        // Held while connecting on purpose: concurrent callers wait for one attempt instead of
        // each opening a connection.
        let mut state = self.inner.state.lock().await;
        match state.breaker.admit(Instant::now()) {
            Admission::Go => {}
            Admission::BackingOff { retry_in } => {
                return Err(Error::BackingOff {
                    peer: self.inner.peer.clone(),
                    retry_in,
                    last_error: state.breaker.last_error().to_owned(),
                })
            }
            Admission::Open { retry_in } => {
                // A fresh connection for the probe when the time comes.
                state.client = None;
                return Err(Error::CircuitOpen {
                    peer: self.inner.peer.clone(),
                    failures: state.breaker.failures(),
                    retry_in,
                    last_error: state.breaker.last_error().to_owned(),
                });
            }
        }
        if let Some(client) = state.client.as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        state.client = None;
        match Connection::open(&self.inner.config).await {
            Ok(client) => {
                tracing::debug!(peer = %self.inner.peer, transport = ?self.inner.config.transport, "session opened");
                state.client = Some(client.clone());
                Ok(client)
            }
            Err(e) => {
                let open_now = matches!(e, Error::LoginRefused { .. });
                state
                    .breaker
                    .on_failure(Instant::now(), &e.to_string(), open_now);
                Err(e)
            }
        }
    }
}
