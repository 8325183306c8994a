//! Integration tests: the client against the simulator over real TCP and TLS, one file per
//! concern (`api`, `tls`, `rest`, `session`, `faults`), sharing the fleet helpers here.

mod api;
mod faults;
mod rest;
mod session;
mod tls;

pub use std::time::Duration;

pub use routeros::session::breaker::BackoffPolicy;
pub use routeros::sim::{Fleet, FleetOptions, Topology};
pub use routeros::tls::{Fingerprint, Roots, TlsConfig, Verification};
pub use routeros::{Client, ClientConfig, Error, Query, Request, Session};

pub const FLEET: &str = include_str!("../fixtures/fleet.toml");
pub const USER: &str = "monitor";
pub const PASSWORD: &str = "s3cret=pass";

pub async fn fleet() -> Fleet {
    let topology = Topology::parse(FLEET, "fleet.toml").expect("fixture parses");
    // Each router on its own loopback address, on a free port: tests run in parallel.
    Fleet::start(
        &topology,
        &FleetOptions {
            seed: 42,
            port: Some(0),
            ..FleetOptions::default()
        },
    )
    .await
    .expect("fleet starts")
}

pub fn config(fleet: &Fleet, name: &str) -> ClientConfig {
    let router = fleet.router(name).expect("in fleet");
    let mut config = ClientConfig::new(router.address.ip().to_string(), USER, PASSWORD);
    config.port = router.address.port();
    config.connect_timeout = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(5);
    config
}

pub fn tls_config(fleet: &Fleet, verification: Verification) -> ClientConfig {
    let mut config = config(fleet, "tst-core-2");
    config.tls = Some(TlsConfig {
        verification,
        server_name: None,
    });
    config
}
