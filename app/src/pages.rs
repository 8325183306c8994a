//! One routed page per file, named `<Feature>Page`.

pub mod account;
pub mod audit;
pub mod home;
pub mod login;
pub mod not_found;
pub mod user;
pub mod users;
