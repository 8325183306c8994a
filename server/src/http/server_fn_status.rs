//! Status codes for failed server functions, for all of them in one place.
//!
//! Leptos answers every failure with 500, whether the function returned `AppError::NotFound` or
//! could not decode its arguments (a malformed form). This reads the (small, JSON) error body: a
//! 500 whose body is an `AppError` of another kind gets that kind's status. A plain HTML form post
//! is answered with a redirect instead (the error travels in the URL), which passes untouched.

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
