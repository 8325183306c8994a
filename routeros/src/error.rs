//! `Error`: everything a RouterOS call can end in, one variant per thing a caller may act on.
//!
//! Collectors match on the variant: retry later on timeouts and lost connections, report and
//! stop on a refused login (retrying would only lock the account), report traps per command.

use std::time::Duration;

use crate::request::RequestError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("timed out connecting to {peer} after {timeout:?}")]
    ConnectTimeout { peer: String, timeout: Duration },
    #[error("could not connect to {peer}: {source}")]
    Connect {
        peer: String,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS handshake with {peer} failed: {source}")]
    Tls {
        peer: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid TLS settings: {0}")]
    TlsConfig(String),
    #[error("{peer} refused the login of {user:?}: {message}")]
    LoginRefused {
        peer: String,
        user: String,
        message: String,
    },
    #[error("{command} on {peer} got no complete answer within {timeout:?} (cancelled)")]
    RequestTimeout {
        peer: String,
        command: String,
        timeout: Duration,
    },
    #[error("{command} on {peer} failed: {message}{}", category.map(|c| format!(" (category {c})")).unwrap_or_default())]
    Trap {
        peer: String,
        command: String,
        category: Option<u32>,
        message: String,
    },
    #[error("{peer} ended the API session: {message}")]
    Fatal { peer: String, message: String },
    #[error("protocol error from {peer}: {detail}")]
    Protocol { peer: String, detail: String },
    #[error("connection to {peer} lost: {detail}")]
    ConnectionLost { peer: String, detail: String },
    #[error("invalid request: {0}")]
    InvalidRequest(#[from] RequestError),
    #[error("{peer} is not being contacted for another {retry_in:?} after {failures} consecutive failures (last: {last_error})")]
    CircuitOpen {
        peer: String,
        failures: u32,
        retry_in: Duration,
        last_error: String,
    },
    #[error("{peer} is backing off for another {retry_in:?} after a failure (last: {last_error})")]
    BackingOff {
        peer: String,
        retry_in: Duration,
        last_error: String,
    },
}

impl Error {
    /// True when the connection this error came from is unusable afterwards.
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Self::Fatal { .. } | Self::Protocol { .. } | Self::ConnectionLost { .. }
        )
    }

    /// True when the error says something about the router's reachability or health (and so
    /// counts towards back-off and the circuit breaker), as opposed to one command failing.
    pub fn is_router_failure(&self) -> bool {
        !matches!(
            self,
            Self::Trap { .. }
                | Self::InvalidRequest(_)
                | Self::TlsConfig(_)
                | Self::CircuitOpen { .. }
                | Self::BackingOff { .. }
        )
    }
}

/// An error with its causes, `outer: cause: root cause`, for messages that must say what
/// really went wrong (an HTTP client's "error sending request" alone says nothing).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
