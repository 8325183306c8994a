//! The server crate as a library: the `ispvm` binary (main.rs) and the integration tests
//! (tests/it) both build on it.

pub mod admin;
pub mod agents;
pub mod background;
pub mod bench;
pub mod config;
pub mod demo;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod migrate;
pub mod startup;
