//! Setting the HTTP status of a server-rendered page (no-op in the browser).

use crate::error::AppError;

/// Answers the page request with `code`, unless it is already a redirect: the layout's sign-in
/// redirect answers for a signed-out visitor, whose page below it fails with 401.
#[cfg(feature = "ssr")]
pub fn set(code: u16) {
    use leptos::prelude::use_context;
    if let (Some(opts), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        let redirecting = opts
            .0
            .read()
            .map(|parts| parts.status.is_some_and(|s| s.is_redirection()))
            .unwrap_or(false);
        if !redirecting {
            opts.set_status(status);
        }
    }
}

/// In the browser there is no response to set.
#[cfg(not(feature = "ssr"))]
pub fn set(_code: u16) {}

/// Answers the page request with the status of a failed load.
pub fn set_for(err: &AppError) {
    set(err.status());
}
