//! Setting the HTTP status of a server-rendered page (no-op in the browser).

use crate::error::AppError;

/// Answers the page request with `code`.
#[cfg(feature = "ssr")]
pub fn set(code: u16) {
    use leptos::prelude::use_context;
    if let (Some(opts), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        opts.set_status(status);
    }
}

/// In the browser there is no response to set.
#[cfg(not(feature = "ssr"))]
pub fn set(_code: u16) {}

/// Answers the page request with the status of a failed load.
pub fn set_for(err: &AppError) {
    set(err.status());
}
