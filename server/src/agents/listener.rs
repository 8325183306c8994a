//! The agent listener's accept loop: TLS (rustls) with an optional client certificate, then
//! HTTP/1.1 or HTTP/2 (hyper) into an axum router. axum's own `serve` has no TLS, so this is
//! the loop axum's rustls example shows, plus what the handlers need per connection: the
//! SHA-256 of the client's certificate ([`ClientCertificate`]) and the peer address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::ca::AgentCa;

/// The SHA-256 of the certificate the client presented (verified against the agent CA by the
/// handshake), or `None` when it presented none.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertificate(pub Option<[u8; 32]>);

/// A handshake that takes longer is dropped (a port scanner, a stuck client).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS for the listener: the CA's server certificate for `names`; client certificates
/// verified against the CA when presented, and not required (enrollment and the CA download
/// come without one; the handlers of everything else insist).
pub fn tls_config(ca: &AgentCa, names: &[String]) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone())?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let (chain, key) = ca.issue_server(names)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown`; open connections then finish their
/// requests (for at most 10 s).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: wait a little rather than spin.
                    tracing::warn!(error = %e, "agent listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "agent listener: TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "agent listener: TLS handshake timed out");
                    return;
                }
            };
            let certificate = ClientCertificate(
                tls.get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|leaf| Sha256::digest(leaf.as_ref()).into()),
            );
            let service = router
                .layer(axum::Extension(certificate))
                .layer(axum::Extension(ConnectInfo::<SocketAddr>(peer)))
                .map_request(|r: hyper::Request<hyper::body::Incoming>| {
                    r.map(axum::body::Body::new)
                });
            let builder = Builder::new(TokioExecutor::new());
            let connection =
                builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "agent listener: connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("agent listener: connections still open after 10 s; closing them");
        }
    }
    Ok(())
}
