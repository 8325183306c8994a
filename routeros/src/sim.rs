//! A fleet of simulated RouterOS routers that speak the real API protocol.
//!
//! Each router of the fleet file listens on its own management address (any 127.x.y.z works
//! on Linux without root) on the API or API-SSL port (and, when asked, a v7 router also serves
//! the REST API over HTTPS from the same data), accepts the file's credential with the
//! login method of its RouterOS version, and serves deterministic, believable data for the
//! paths collectors read (see `data`). Everything a router prints is a pure function of the
//! seed, the topology, the time and the faults in force (`fault`, injected through `control`
//! in process, from a scenario file or over the control port); `Control` adds latency and
//! manual outages per router.

pub mod control;
pub mod data;
pub mod fault;
pub mod model;
mod query;
mod server;
pub mod topology;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use control::FaultControl;
pub use fault::{Fault, FaultKind};
pub use model::{Router, Version};
pub use server::Control;
use server::RouterState;
pub use topology::Topology;

/// Credentials used when the fleet file has no `[credential]`.
pub const DEFAULT_USERNAME: &str = "admin";
pub const DEFAULT_PASSWORD: &str = "admin";

#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// Varies every generated value; the same seed gives the same fleet.
    pub seed: u64,
    /// Overrides the file's `[credential]`.
    pub credential: Option<(String, String)>,
    /// Listen here instead of each device's `address` (then give distinct ports, or port 0).
    pub bind: Option<IpAddr>,
    /// Listen on this port instead of each device's `api_port`; 0 picks a free one per router.
    pub port: Option<u16>,
    /// Also serve the REST API over HTTPS on every RouterOS v7 router, on this port (0: a free
    /// one per router).
    pub rest_port: Option<u16>,
}

impl FleetOptions {
    /// Every router on 127.0.0.1 with a free port: for tests and benchmarks, which run in
    /// parallel and beside a demo simulator that may hold the file's addresses.
    pub fn local(seed: u64) -> Self {
        Self {
            seed,
            bind: Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
            port: Some(0),
            ..Self::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("router {router}: cannot listen on {address}: {source}")]
    Bind {
        router: String,
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("router {router}: cannot make its TLS certificate: {message}")]
    Certificate { router: String, message: String },
    #[error("fault {fault}: {reason}")]
    BadFault { fault: String, reason: String },
}

/// A router that is serving.
#[derive(Debug)]
pub struct RunningRouter {
    pub name: String,
    pub version: Version,
    pub address: SocketAddr,
    /// The self-signed certificate (DER) of an API-SSL router, to trust or pin.
    pub certificate: Option<CertificateDer<'static>>,
    /// Its REST service, when it serves one.
    pub rest: Option<RestService>,
    pub control: Arc<Control>,
}

/// Where a router's REST API listens (HTTPS), and the certificate it presents (an API-SSL
/// router's is the same).
#[derive(Debug, Clone)]
pub struct RestService {
    pub address: SocketAddr,
    pub certificate: CertificateDer<'static>,
}

/// The serving fleet; dropping it stops every router.
#[derive(Debug)]
pub struct Fleet {
    routers: Vec<RunningRouter>,
    faults: FaultControl,
    shutdown: CancellationToken,
    tasks: tokio::task::JoinSet<()>,
}

impl Fleet {
    /// Binds every router, then serves them all in the background.
    pub async fn start(topology: &Topology, options: &FleetOptions) -> Result<Self, SimError> {
        let (username, password) = options.credential.clone().unwrap_or_else(|| {
            topology.credential.as_ref().map_or_else(
                || (DEFAULT_USERNAME.to_owned(), DEFAULT_PASSWORD.to_owned()),
                |c| (c.username.clone(), c.password.clone()),
            )
        });
        let shutdown = CancellationToken::new();
        let mut tasks = tokio::task::JoinSet::new();
        let mut routers = Vec::new();
        let faults = Arc::new(RwLock::new(Vec::new()));
        let models = Router::build_all(topology);
        for router in models.iter().cloned() {
            let ip = options.bind.unwrap_or(router.address);
            let wanted = SocketAddr::new(ip, options.port.unwrap_or(router.api_port));
            let bind_error = |source| SimError::Bind {
                router: router.name.clone(),
                address: wanted,
                source,
            };
            let listener = TcpListener::bind(wanted).await.map_err(bind_error)?;
            let address = listener.local_addr().map_err(bind_error)?;
            let rest_port = options.rest_port.filter(|_| router.version.is_v7());
            let (acceptor, cert) = if router.api_tls || rest_port.is_some() {
                let (acceptor, cert) = tls_acceptor(&router.name, ip)?;
                (Some(acceptor), Some(cert))
            } else {
                (None, None)
            };
            // The fingerprint is what a client pins (`tls::Verification::Pinned`).
            let pin = cert
                .as_ref()
                .map(|c| hex::encode(crate::tls::Fingerprint::of(c).0));
            let certificate = cert.clone().filter(|_| router.api_tls);
            let rest = match (rest_port, &acceptor, cert) {
                (Some(port), Some(acceptor), Some(cert)) => {
                    let wanted = SocketAddr::new(ip, port);
                    let bind_error = |source| SimError::Bind {
                        router: router.name.clone(),
                        address: wanted,
                        source,
                    };
                    let listener = TcpListener::bind(wanted).await.map_err(bind_error)?;
                    let address = listener.local_addr().map_err(bind_error)?;
                    let service = RestService {
                        address,
                        certificate: cert,
                    };
                    Some((listener, service, acceptor.clone()))
                }
                _ => None,
            };
            let control = Arc::new(Control::default());
            tracing::info!(
                router = %router.name,
                %address,
                rest = %rest.as_ref().map_or_else(|| "-".to_owned(), |(_, s, _)| s.address.to_string()),
                version = %router.version,
                tls_sha256 = pin.as_deref().unwrap_or("-"),
                "simulated router listening"
            );
            routers.push(RunningRouter {
                name: router.name.clone(),
                version: router.version,
                address,
                certificate,
                rest: rest.as_ref().map(|(_, service, _)| service.clone()),
                control: control.clone(),
            });
            let state = Arc::new(RouterState {
                router,
                seed: options.seed,
                username: username.clone(),
                password: password.clone(),
                control,
                faults: faults.clone(),
            });
            if let Some((listener, _, acceptor)) = rest {
                tasks.spawn(server::rest::serve(
                    listener,
                    acceptor,
                    state.clone(),
                    shutdown.clone(),
                ));
            }
            let acceptor = acceptor.filter(|_| state.router.api_tls);
            tasks.spawn(server::serve(listener, acceptor, state, shutdown.clone()));
        }
        Ok(Self {
            routers,
            faults: FaultControl::new(faults, models, topology),
            shutdown,
            tasks,
        })
    }

    pub fn routers(&self) -> &[RunningRouter] {
        &self.routers
    }

    pub fn router(&self, name: &str) -> Option<&RunningRouter> {
        self.routers.iter().find(|r| r.name == name)
    }

    /// Injects and clears faults (a cheap handle, to give to a control task).
    pub fn faults(&self) -> &FaultControl {
        &self.faults
    }

    /// Stops accepting, closes every connection, and waits (at most 5 s) for the tasks.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(5), drain)
            .await
            .is_err()
        {
            tracing::warn!("simulator tasks did not stop within 5 s");
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A self-signed certificate naming the router's address, as a router's own would be.
fn tls_acceptor(
    router: &str,
    ip: IpAddr,
) -> Result<(tokio_rustls::TlsAcceptor, CertificateDer<'static>), SimError> {
    let error = |message: String| SimError::Certificate {
        router: router.to_owned(),
        message,
    };
    let certified = rcgen::generate_simple_self_signed(vec![ip.to_string()])
        .map_err(|e| error(e.to_string()))?;
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| error(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .map_err(|e| error(e.to_string()))?;
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), cert))
}
