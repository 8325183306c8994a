//! The 500 page for a handler that panicked: plain HTML with no detail (the panic is logged).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::any::Any;

pub fn handle(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        PAGE,
    )
        .into_response()
}

const PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Server error · ISPVM</title><link rel=\"stylesheet\" href=\"/pkg/ispvm.css\"></head>\
<body><main id=\"main\" class=\"error-page\"><h1>Server error</h1>\
<p>Something went wrong on the server; it has been logged.</p>\
<p><a href=\"/\">Back to the home page</a></p></main></body></html>";
