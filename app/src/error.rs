//! `AppError`: the one error type that crosses the wire to the browser. It carries a kind and a
//! safe message; causes are logged on the server where they are converted, never sent.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("please sign in")]
    Unauthorized,
    /// Sign-in failed; the same message whether or not the username exists.
    #[error("{0}")]
    BadCredentials(String),
    #[error("you do not have permission to do that")]
    Forbidden,
    /// A field of a form or request is wrong; `field` names it as the form does.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("{field}: {reason}")]
    Conflict { field: String, reason: String },
    #[error("{0}")]
    RateLimited(String),
    /// Something failed on the server; the message is generic, the cause is in the log.
    #[error("something went wrong on the server; it has been logged")]
    Internal,
    /// The request itself could not be read (malformed form or arguments).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The server is not set up for this (e.g. no master key to seal credentials with); the
    /// message says what the operator must do.
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn conflict(field: &str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Unauthorized | Self::BadCredentials(_) => 401,
            Self::Forbidden => 403,
            Self::Invalid { .. } => 422,
            Self::Conflict { .. } => 409,
            Self::RateLimited(_) => 429,
            Self::Internal => 500,
            Self::BadRequest(_) => 400,
            Self::Unavailable(_) => 503,
        }
    }

    /// The field a form should highlight, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } | Self::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The arguments could not be decoded: a malformed form or request body.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                Self::BadRequest(msg)
            }
            ServerFnErrorErr::Request(_) => {
                Self::BadRequest("the server could not be reached".into())
            }
            _ => Self::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Self::NotFound,
            _ => {
                tracing::error!(error = %err, "database error");
                Self::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_kinds() {
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::invalid("username", "too long").status(), 422);
        assert_eq!(AppError::conflict("username", "taken").status(), 409);
        assert_eq!(AppError::RateLimited("wait".into()).status(), 429);
        assert_eq!(AppError::Unavailable("no key".into()).status(), 503);
    }

    #[test]
    fn round_trips_through_the_wire_encoding() {
        let err = AppError::invalid("password", "must be at least 12 characters");
        let back = AppError::de(err.ser());
        assert_eq!(back, err);
        assert_eq!(back.field(), Some("password"));
    }
}
