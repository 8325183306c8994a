//! One simulated router's REST service (RouterOS v7's `/rest` on `www-ssl`), answering from the
//! same data, queries, latency, outages and faults as its API service.
//!
//! As a real router: every request needs HTTP basic authentication (401
//! `{"error":401,"message":"Unauthorized"}` otherwise); `POST /rest/<menu>/print` takes a JSON
//! object with `.proplist` and `.query` arrays and answers a JSON array of objects whose values
//! are strings; `GET /rest/<menu>` prints with its URL parameters as equality filters (and
//! `.proplist`); an unknown menu or command and a write answer 400 with the API's trap text as
//! `detail`. A router that goes down closes its connections and refuses new ones.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{header, Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::command::{printer_for, rows, with_ctx};
use super::RouterState;

/// The largest request body read: a print's arguments are a few hundred bytes.
const MAX_REQUEST: usize = 64 * 1024;

/// Accepts HTTPS connections until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    tls: tokio_rustls::TlsAcceptor,
    state: Arc<RouterState>,
    shutdown: CancellationToken,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(router = %state.router.name, error = %e, "REST accept failed");
                continue;
            }
        };
        if *state.control.down.borrow() {
            continue;
        }
        let (state, shutdown, tls) = (state.clone(), shutdown.clone(), tls.clone());
        connections.spawn(async move {
            let name = state.router.name.clone();
            let stream = match tls.accept(stream).await {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::debug!(router = %name, %remote, error = %e, "REST TLS handshake failed");
                    return;
                }
            };
            let mut down = state.control.watch_down();
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(answer(request, &state).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                served = connection => {
                    if let Err(e) = served {
                        tracing::debug!(router = %name, %remote, error = %e, "REST connection ended");
                    }
                }
                () = shutdown.cancelled() => {}
                _ = down.wait_for(|d| *d) => {}
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

/// What a request asks: the command, its arguments, `.proplist` and query words (with `?`).
#[derive(Debug, Default)]
struct Asked {
    command: String,
    count_only: bool,
    proplist: Option<Vec<String>>,
    queries: Vec<String>,
}

async fn answer(request: Request<Incoming>, state: &RouterState) -> Response<Full<Bytes>> {
    // A router that is down answers nothing: its connection task closes the connection.
    let down = || async {
        if *state.control.down.borrow() {
            std::future::pending::<()>().await;
        }
    };
    down().await;
    if !authorized(&request, state) {
        return error(StatusCode::UNAUTHORIZED, None);
    }
    let Some(menu) = request
        .uri()
        .path()
        .strip_prefix("/rest")
        .filter(|p| p.len() > 1 && p.starts_with('/'))
        .map(|p| p.trim_end_matches('/').to_owned())
    else {
        return error(StatusCode::NOT_FOUND, None);
    };
    let asked = match *request.method() {
        Method::GET => from_url(menu, request.uri().query().unwrap_or_default()),
        Method::POST => {
            let body = match Limited::new(request.into_body(), MAX_REQUEST)
                .collect()
                .await
            {
                Ok(body) => body.to_bytes(),
                Err(e) => return error(StatusCode::BAD_REQUEST, Some(&format!("body: {e}"))),
            };
            match from_body(menu, &body) {
                Ok(asked) => asked,
                Err(detail) => return error(StatusCode::BAD_REQUEST, Some(&detail)),
            }
        }
        _ => return error(StatusCode::METHOD_NOT_ALLOWED, None),
    };
    let printer = match printer_for(&asked.command, state) {
        Ok(printer) => printer,
        Err((message, _)) => return error(StatusCode::BAD_REQUEST, Some(message)),
    };
    tokio::time::sleep(state.control.latency()).await;
    down().await;
    let printed = with_ctx(state, |ctx| {
        rows(ctx, printer, &asked.queries, asked.proplist.as_deref())
    });
    match printed {
        Err(detail) => error(StatusCode::BAD_REQUEST, Some(&detail)),
        Ok(rows) if asked.count_only => ok(&json!({ "ret": rows.len().to_string() })),
        Ok(rows) => ok(&Value::Array(
            rows.into_iter()
                .map(|row| {
                    Value::Object(
                        row.into_iter()
                            .map(|(k, v)| (k.to_owned(), Value::String(v)))
                            .collect(),
                    )
                })
                .collect(),
        )),
    }
}

fn authorized(request: &Request<Incoming>, state: &RouterState) -> bool {
    let expected = format!("{}:{}", state.username, state.password);
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|given| given == expected.as_bytes())
}

/// `GET /rest/<menu>?name=value&.proplist=a,b`: a print of the menu.
fn from_url(menu: String, query: &str) -> Asked {
    let mut asked = Asked {
        command: format!("{menu}/print"),
        ..Asked::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (percent_decoded(name), percent_decoded(value));
        if name == ".proplist" {
            asked.proplist = Some(value.split(',').map(str::to_owned).collect());
        } else {
            asked.queries.push(format!("?{name}={value}"));
        }
    }
    asked
}

/// `POST /rest/<menu>/<command>` with `{".proplist": [...], ".query": [...], "name": "value"}`.
fn from_body(command: String, body: &[u8]) -> Result<Asked, String> {
    let mut asked = Asked {
        command,
        ..Asked::default()
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(asked);
    }
    let fields: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| format!("the body is not a JSON object: {e}"))?;
    let strings = |name: &str, value: &Value| -> Result<Vec<String>, String> {
        match value {
            Value::String(s) => Ok(s.split(',').map(str::to_owned).collect()),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("{name}: {i} is not a string"))
                })
                .collect(),
            other => Err(format!("{name}: {other} is not a list")),
        }
    };
    for (name, value) in &fields {
        match name.as_str() {
            ".proplist" => asked.proplist = Some(strings(name, value)?),
            ".query" => {
                asked.queries = strings(name, value)?
                    .into_iter()
                    .map(|w| format!("?{w}"))
                    .collect();
            }
            "count-only" => asked.count_only = true,
            // Other arguments of a print (`detail`, `stats`…) change nothing here.
            _ => {}
        }
    }
    Ok(asked)
}

/// `%XX` escapes and `+` decoded; a broken escape is kept as written.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ok(body: &Value) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, body)
}

/// `{"error": 400, "message": "Bad Request", "detail": …}`, as RouterOS answers.
fn error(status: StatusCode, detail: Option<&str>) -> Response<Full<Bytes>> {
    let mut body = json!({
        "error": status.as_u16(),
        "message": status.canonical_reason().unwrap_or_default(),
    });
    if let Some(detail) = detail {
        body["detail"] = Value::String(detail.to_owned());
    }
    respond(status, &body)
}

fn respond(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_body_and_a_get_url_ask_the_same_print() {
        let posted = from_body(
            "/interface/print".into(),
            br##"{".proplist":["name","type"],".query":["type=ether","type=vlan","#|"],"detail":""}"##,
        )
        .expect("a valid body");
        assert_eq!(posted.command, "/interface/print");
        assert_eq!(
            posted.proplist,
            Some(vec!["name".to_owned(), "type".to_owned()])
        );
        assert_eq!(posted.queries, ["?type=ether", "?type=vlan", "?#|"]);
        let got = from_url("/interface".into(), "type=ether&.proplist=name%2Ctype");
        assert_eq!(got.command, "/interface/print");
        assert_eq!(
            got.proplist,
            Some(vec!["name".to_owned(), "type".to_owned()])
        );
        assert_eq!(got.queries, ["?type=ether"]);
        assert!(from_body("/interface/print".into(), b"")
            .expect("no body")
            .queries
            .is_empty());
        assert!(from_body("/x/print".into(), b"[1]")
            .expect_err("not an object")
            .contains("not a JSON object"));
        assert!(from_body("/x/print".into(), br#"{".query":[1]}"#)
            .expect_err("a number word")
            .contains("not a string"));
        assert_eq!(percent_decoded("a%20b+c%zz"), "a b c%zz");
    }
}
