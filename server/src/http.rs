//! Plain axum routes and middleware outside Leptos: health, readiness, CSRF defence, the 500 page.

pub mod csrf;
pub mod health;
pub mod import;
pub mod panic;
pub mod server_fn_status;
