//! `Client`: one logged-in API connection on which many commands run at once.
//!
//! Every command gets a fresh `.tag`; a reader task routes each reply to the waiting caller by
//! that tag, so a slow `/ppp/active/print` does not hold up `/system/resource/print`. A command
//! that outlives its timeout is cancelled on the router with `/cancel =tag=…` and its late
//! replies are dropped. `!fatal`, a framing error or the socket closing ends the connection for
//! every caller with the same specific error.

pub(crate) mod login;
mod reader;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use secrecy::SecretString;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::codec::{Sentence, SentenceCodec};
use crate::reply::{Attributes, Reply, ReplyKind};
use crate::request::Request;
use crate::tls::TlsConfig;
use crate::Error;
use reader::{lock, read_replies, Closed, Routes};

/// API port without TLS.
pub const API_PORT: u16 = 8728;
/// API-SSL port.
pub const API_SSL_PORT: u16 = 8729;

/// How to reach and log in to one router.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Host name or IP address.
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: SecretString,
    /// Bounds the TCP connect, and then the TLS handshake.
    pub connect_timeout: Duration,
    /// Per command, from sending to its `!done`.
    pub request_timeout: Duration,
    /// `Some` for API-SSL (or HTTPS with [`Transport::Rest`]).
    pub tls: Option<TlsConfig>,
    /// The API protocol (default) or the v7 REST API; `port` is that service's.
    pub transport: Transport,
}

/// How a router is spoken to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// The API protocol of this crate (8728, API-SSL 8729).
    #[default]
    Api,
    /// `/rest` on the `www-ssl` service (RouterOS v7; [`crate::rest`]).
    Rest,
}

impl ClientConfig {
    /// Plain API on port 8728 with 5 s connect and 10 s request timeouts.
    pub fn new(host: impl Into<String>, username: impl Into<String>, password: &str) -> Self {
        Self {
            host: host.into(),
            port: API_PORT,
            username: username.into(),
            password: SecretString::from(password),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            tls: None,
            transport: Transport::Api,
        }
    }

    /// `host:port`, as errors name the router.
    pub fn peer(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The result of a command that finished with `!done`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// One entry per `!re`.
    pub rows: Vec<Attributes>,
    /// The attributes of `!done` (`ret` after an `add`).
    pub done: Attributes,
}

/// A cheap handle to one connection; clones share it.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.inner.peer)
            .finish_non_exhaustive()
    }
}

type Writer = FramedWrite<Box<dyn AsyncWrite + Send + Unpin>, SentenceCodec>;
type ReplySender = mpsc::UnboundedSender<Reply>;

struct Inner {
    peer: String,
    request_timeout: Duration,
    next_tag: AtomicU64,
    writer: tokio::sync::Mutex<Writer>,
    routes: Arc<Mutex<Routes>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: stop reading; dropping the writer closes the socket.
        self.reader.abort();
    }
}

impl Client {
    /// Connects (with TLS if configured) and logs in.
    pub async fn connect(config: &ClientConfig) -> Result<Self, Error> {
        let peer = config.peer();
        let tcp = tokio::time::timeout(
            config.connect_timeout,
            TcpStream::connect((config.host.as_str(), config.port)),
        )
        .await
        .map_err(|_| Error::ConnectTimeout {
            peer: peer.clone(),
            timeout: config.connect_timeout,
        })?
        .map_err(|source| Error::Connect {
            peer: peer.clone(),
            source,
        })?;
        // Small request sentences must not wait for Nagle.
        tcp.set_nodelay(true).map_err(|source| Error::Connect {
            peer: peer.clone(),
            source,
        })?;
        let client = match &config.tls {
            None => Self::over(tcp, peer, config.request_timeout),
            Some(tls) => {
                if matches!(tls.verification, crate::tls::Verification::Disabled) {
                    tracing::warn!(peer = %peer, "API-SSL certificate verification is disabled");
                }
                let name = tls.server_name.as_deref().unwrap_or(&config.host);
                let server_name = rustls::pki_types::ServerName::try_from(name.to_owned())
                    .map_err(|e| Error::TlsConfig(format!("server name {name:?}: {e}")))?;
                let connector = tokio_rustls::TlsConnector::from(Arc::new(tls.client_config()?));
                let stream = tokio::time::timeout(
                    config.connect_timeout,
                    connector.connect(server_name, tcp),
                )
                .await
                .map_err(|_| Error::ConnectTimeout {
                    peer: peer.clone(),
                    timeout: config.connect_timeout,
                })?
                .map_err(|source| Error::Tls {
                    peer: peer.clone(),
                    source,
                })?;
                Self::over(stream, peer, config.request_timeout)
            }
        };
        login::login(&client, &config.username, &config.password).await?;
        Ok(client)
    }

    /// Starts the reader task on an established stream. No login is done.
    fn over<S>(stream: S, peer: String, request_timeout: Duration) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (read, write) = tokio::io::split(stream);
        let routes = Arc::new(Mutex::new(Routes::default()));
        let reader = tokio::spawn(read_replies(
            FramedRead::new(read, SentenceCodec::default()),
            routes.clone(),
            peer.clone(),
        ));
        let writer: Box<dyn AsyncWrite + Send + Unpin> = Box::new(write);
        Self {
            inner: Arc::new(Inner {
                peer,
                request_timeout,
                next_tag: AtomicU64::new(1),
                writer: tokio::sync::Mutex::new(FramedWrite::new(writer, SentenceCodec::default())),
                routes,
                reader,
            }),
        }
    }

    pub fn peer(&self) -> &str {
        &self.inner.peer
    }

    /// True once the connection has ended; every later call fails at once.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.routes).closed.is_some()
    }

    /// Runs a command and collects its `!re` rows until `!done`. A `!trap` is an error.
    pub async fn call(&self, request: &Request) -> Result<Response, Error> {
        let tag = self
            .inner
            .next_tag
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let sentence = request.to_sentence(&tag)?;
        let mut replies = self.register(&tag)?;
        let timeout = self.inner.request_timeout;
        // The send is inside the timeout too: a router that stops reading fills the socket.
        let exchange = async {
            self.send(&sentence).await?;
            self.collect(&mut replies, request.command()).await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                // Bounded as well, for the same reason.
                if tokio::time::timeout(timeout, self.cancel(&tag))
                    .await
                    .is_err()
                {
                    tracing::debug!(peer = %self.inner.peer, "could not send /cancel in time");
                }
                Err(Error::RequestTimeout {
                    peer: self.inner.peer.clone(),
                    command: request.command().to_owned(),
                    timeout,
                })
            }
        }
    }

    fn register(&self, tag: &str) -> Result<mpsc::UnboundedReceiver<Reply>, Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut routes = lock(&self.inner.routes);
        if let Some(closed) = &routes.closed {
            return Err(self.closed_error(closed.clone()));
        }
        routes.waiting.insert(tag.to_owned(), tx);
        Ok(rx)
    }

    async fn send(&self, sentence: &Sentence) -> Result<(), Error> {
        let mut writer = self.inner.writer.lock().await;
        writer
            .send(sentence)
            .await
            .map_err(|e| Error::ConnectionLost {
                peer: self.inner.peer.clone(),
                detail: format!("sending: {e}"),
            })
    }

    async fn collect(
        &self,
        replies: &mut mpsc::UnboundedReceiver<Reply>,
        command: &str,
    ) -> Result<Response, Error> {
        let mut response = Response::default();
        while let Some(reply) = replies.recv().await {
            match reply.kind {
                ReplyKind::Re(row) => response.rows.push(row),
                ReplyKind::Empty => {}
                ReplyKind::Done { attributes } => {
                    response.done = attributes;
                    return Ok(response);
                }
                ReplyKind::Trap(trap) => {
                    // `!done` follows; the reader drops it along with the route.
                    return Err(Error::Trap {
                        peer: self.inner.peer.clone(),
                        command: command.to_owned(),
                        category: trap.category,
                        message: trap.message,
                    });
                }
                // The reader turns `!fatal` into closing the connection; it never routes one.
                ReplyKind::Fatal(message) => return Err(self.closed_error(Closed::Fatal(message))),
            }
        }
        let closed = lock(&self.inner.routes)
            .closed
            .clone()
            .unwrap_or_else(|| Closed::Lost("reader stopped".into()));
        Err(self.closed_error(closed))
    }

    /// Asks the router to stop a command. Its remaining replies (a `!trap` "interrupted", then
    /// `!done`) still arrive and are dropped because nobody holds the receiver any more.
    async fn cancel(&self, tag: &str) {
        let cancel_tag = self
            .inner
            .next_tag
            .fetch_add(1, Ordering::Relaxed)
            .to_string();
        let request = Request::new("/cancel").attr("tag", tag);
        let Ok(sentence) = request.to_sentence(&cancel_tag) else {
            return;
        };
        // Registered and dropped: the route only exists so its `!done` is not unknown.
        if self.register(&cancel_tag).is_ok() {
            if let Err(e) = self.send(&sentence).await {
                tracing::debug!(peer = %self.inner.peer, error = %e, "could not send /cancel");
            }
        }
    }

    fn closed_error(&self, closed: Closed) -> Error {
        let peer = self.inner.peer.clone();
        match closed {
            Closed::Fatal(message) => Error::Fatal { peer, message },
            Closed::Protocol(detail) => Error::Protocol { peer, detail },
            Closed::Lost(detail) => Error::ConnectionLost { peer, detail },
        }
    }
}

#[cfg(test)]
mod tests;
