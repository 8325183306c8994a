//! CSRF defence for every state-changing request: the browser's `Origin` (or, failing that,
//! `Referer`) must be this site. Together with `SameSite=Lax` session cookies this stops a
//! foreign page from posting forms or calling server functions with the user's session.
//! (OWASP CSRF cheat sheet: "Verifying origin with standard headers".)

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

/// The origins a request may come from.
#[derive(Clone, Debug)]
pub struct AllowedOrigin {
    /// `scheme://host[:port]` of PUBLIC_BASE_URL.
    pub public: String,
}

impl AllowedOrigin {
    pub fn new(public_base_url: &Url) -> Self {
        Self {
            public: public_base_url.origin().ascii_serialization(),
        }
    }
}

pub async fn check(State(allowed): State<AllowedOrigin>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v != "null")
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        });
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let ok = match &claimed {
        None => false,
        Some(origin) => {
            *origin == allowed.public
                // The site as reached directly (e.g. http://127.0.0.1:3000 while PUBLIC_BASE_URL
                // names the proxy): the browser sets Host, so a foreign page cannot fake it.
                || host.is_some_and(|h| {
                    Url::parse(origin)
                        .ok()
                        .is_some_and(|u| u.host_str().is_some() && authority(&u) == h)
                })
        }
    };
    if ok {
        next.run(req).await
    } else {
        tracing::warn!(origin = claimed.as_deref().unwrap_or("(none)"), path = %req.uri().path(),
            "cross-site request refused");
        (
            StatusCode::FORBIDDEN,
            "cross-site request refused: the Origin of this request is not this site",
        )
            .into_response()
    }
}

/// `host[:port]` as a browser sends it in `Host` (default ports omitted).
fn authority(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    }
}
