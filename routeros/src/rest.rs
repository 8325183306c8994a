//! The RouterOS v7 REST API (`/rest` on the `www-ssl` service), a second path to the same
//! menus (MikroTik's manual, "REST API"). Every console command is `POST /rest/<menu>/<command>`
//! with a JSON object of its arguments; `.proplist` and `.query` travel in that object as
//! arrays (`".query": ["type=ether", "type=vlan", "#|"]`, the API's query words without their
//! `?`). A print answers a JSON array of objects whose values are all strings, which is the
//! API's `!re` rows; another command answers an object, its `!done` attributes (`ret`).
//! Errors answer `{"error": 401|400|404|500, "message": …, "detail": …}`.
//!
//! Each request carries HTTP basic authentication, so there is no session to log in to: a
//! wrong password is a 401 on the first command (`Error::LoginRefused`, which opens the
//! breaker at once, as a refused API login does). The HTTP client keeps its connections alive,
//! so a poll of many menus reuses one TLS connection.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::client::{ClientConfig, Response};
use crate::reply::Attributes;
use crate::request::Request;
use crate::{error_chain, Error};

/// The `www-ssl` service's port.
pub const REST_PORT: u16 = 443;

/// The longest answer read, in bytes: a print of a big table is a few MB.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A REST client for one router; clones share its connections.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    /// `https://host:port/rest`.
    base: String,
    peer: String,
    username: String,
    password: SecretString,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `config`'s router: HTTPS with `config.tls` when set (verification as for
    /// API-SSL), plain HTTP (the `www` service) otherwise. Nothing is sent yet.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        let peer = config.peer();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1);
        let host = match &config.tls {
            None => config.host.clone(),
            Some(tls) => {
                if matches!(tls.verification, crate::tls::Verification::Disabled) {
                    tracing::warn!(peer = %peer, "REST certificate verification is disabled");
                }
                builder = builder.use_preconfigured_tls(tls.client_config()?);
                match &tls.server_name {
                    // The certificate's name in the URL, resolved to the router's address.
                    Some(name) => {
                        let ip: std::net::IpAddr = config.host.parse().map_err(|_| {
                            Error::TlsConfig(format!(
                                "a TLS server name needs the router's host to be an IP \
                                 address, not {:?}",
                                config.host
                            ))
                        })?;
                        builder = builder.resolve(name, std::net::SocketAddr::new(ip, config.port));
                        name.clone()
                    }
                    None => config.host.clone(),
                }
            }
        };
        let http = builder
            .build()
            .map_err(|e| Error::TlsConfig(format!("REST client: {e}")))?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Ok(Self {
            http,
            base: format!("{scheme}://{host}:{}/rest", config.port),
            peer,
            username: config.username.clone(),
            password: config.password.clone(),
            connect_timeout: config.connect_timeout,
            request_timeout: config.request_timeout,
        })
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Runs a command: `POST /rest<command>` with its arguments, `.proplist` and `.query`.
    pub async fn call(&self, request: &Request) -> Result<Response, Error> {
        // Checked as for the API, so both transports refuse the same requests.
        request.to_sentence("0")?;
        let command = request.command();
        let mut sent = self
            .http
            .post(format!("{}{command}", self.base))
            .basic_auth(&self.username, Some(self.password.expose_secret()))
            .json(&Value::Object(request.rest_body()))
            .send()
            .await
            .map_err(|e| self.transport_error(command, &e))?;
        let status = sent.status();
        let mut body = Vec::new();
        while let Some(chunk) = sent
            .chunk()
            .await
            .map_err(|e| self.transport_error(command, &e))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Error::Protocol {
                    peer: self.peer.clone(),
                    detail: format!("{command}: the answer is larger than {MAX_BODY} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return parse_answer(&body).map_err(|detail| Error::Protocol {
                peer: self.peer.clone(),
                detail: format!("{command}: {detail}"),
            });
        }
        let message = error_message(&body, status);
        match status.as_u16() {
            401 | 403 => Err(Error::LoginRefused {
                peer: self.peer.clone(),
                user: self.username.clone(),
                message,
            }),
            400 | 404 | 500 => Err(Error::Trap {
                peer: self.peer.clone(),
                command: command.to_owned(),
                category: None,
                message,
            }),
            _ => Err(Error::Protocol {
                peer: self.peer.clone(),
                detail: format!("{command}: HTTP {status}: {message}"),
            }),
        }
    }

    /// What a failed exchange says about the router: not reached, a certificate refused, no
    /// answer in time, or the connection lost.
    fn transport_error(&self, command: &str, e: &reqwest::Error) -> Error {
        let chain = error_chain(e);
        let peer = self.peer.clone();
        if e.is_timeout() {
            return if e.is_connect() {
                Error::ConnectTimeout {
                    peer,
                    timeout: self.connect_timeout,
                }
            } else {
                Error::RequestTimeout {
                    peer,
                    command: command.to_owned(),
                    timeout: self.request_timeout,
                }
            };
        }
        if is_tls_failure(e) {
            return Error::Tls {
                peer,
                source: std::io::Error::other(chain),
            };
        }
        if e.is_connect() {
            return Error::Connect {
                peer,
                source: std::io::Error::other(chain),
            };
        }
        Error::ConnectionLost {
            peer,
            detail: chain,
        }
    }
}

/// A print's array of objects (rows), or another command's object (its `!done` attributes).
fn parse_answer(body: &[u8]) -> Result<Response, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Response::default());
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    match value {
        Value::Array(items) => Ok(Response {
            rows: items
                .into_iter()
                .map(|item| match item {
                    Value::Object(fields) => Ok(attributes(fields)),
                    other => Err(format!("a row is not an object: {other}")),
                })
                .collect::<Result<_, _>>()?,
            done: Attributes::new(),
        }),
        Value::Object(fields) => Ok(Response {
            rows: Vec::new(),
            done: attributes(fields),
        }),
        other => Err(format!("expected an array or an object, got {other}")),
    }
}

/// RouterOS sends every value as a string; anything else is kept in its JSON spelling.
fn attributes(fields: Map<String, Value>) -> Attributes {
    fields
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

/// `detail` (what went wrong) or `message` (the status text) of an error answer.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|m| m.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    field("detail")
        .or_else(|| field("message"))
        .unwrap_or_else(|| format!("HTTP {status}"))
}

/// True when the exchange failed in the TLS handshake (a certificate refused, most often).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = next {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        // An `io::Error` holding another error answers that error's source, not the error:
        // look at what it holds instead.
        next = match s.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|held| held as &(dyn std::error::Error + 'static)),
            None => s.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_are_rows_and_other_answers_are_done_attributes() {
        let rows = parse_answer(br#"[{".id":"*1","name":"ether1","running":"true","mtu":1500}]"#)
            .expect("rows");
        assert_eq!(rows.rows.len(), 1);
        assert_eq!(rows.rows[0]["name"], "ether1");
        assert_eq!(rows.rows[0]["mtu"], "1500", "a number keeps its spelling");
        let done = parse_answer(br#"{"ret":"*A"}"#).expect("done");
        assert!(done.rows.is_empty());
        assert_eq!(done.done["ret"], "*A");
        assert_eq!(parse_answer(b"[]").expect("empty"), Response::default());
        assert_eq!(parse_answer(b"").expect("no body"), Response::default());
        assert!(parse_answer(b"<html>")
            .expect_err("html")
            .contains("not JSON"));
        assert!(parse_answer(b"[1]")
            .expect_err("a number row")
            .contains("not an object"));
        assert!(parse_answer(b"\"x\"")
            .expect_err("a string")
            .contains("expected"));
    }

    #[test]
    fn an_error_answer_says_its_detail() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        assert_eq!(
            error_message(
                br#"{"error":400,"message":"Bad Request","detail":"no such command"}"#,
                status
            ),
            "no such command"
        );
        assert_eq!(
            error_message(br#"{"error":401,"message":"Unauthorized"}"#, status),
            "Unauthorized"
        );
        assert_eq!(error_message(b"oops", status), "HTTP 400 Bad Request");
    }
}
