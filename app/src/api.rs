//! Server functions by feature: each authorises, calls `db::`, and returns a wire type. The
//! server-only helpers they share are in `api::server`.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod customers;
pub mod devices;
pub mod discovery;
pub mod groups;
pub mod home;
pub mod imports;
pub mod links;
pub mod services;
pub mod sites;
pub mod telemetry;
pub mod users;

#[cfg(feature = "ssr")]
pub mod server;
