//! Status codes for server-function failures that happen before the function body runs.
//!
//! Leptos answers every failure with 500, including arguments it could not decode (a malformed
//! form). Inside the body, `app::api::server::finish` sets the right status; this corrects the
//! rest by reading the (small, JSON) error body: a 500 whose body is an `AppError` of another
//! kind gets that kind's status.

use axum::body::{to_bytes, Body};
use axum::http::{header, Response, StatusCode};

use app::error::AppError;

/// Error bodies are a few hundred bytes; anything larger is passed through as it is.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn correct(res: Response<Body>) -> Response<Body> {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::from("internal error"));
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
