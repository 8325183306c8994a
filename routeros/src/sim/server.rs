//! One simulated router's API service: accept, log in, answer commands.
//!
//! Behaviour follows a real router where a client could tell the difference: replies echo
//! `.tag`; commands run concurrently and can be cancelled; unknown menus trap with "no such
//! command prefix" and unknown commands in known menus with "no such command"; the simulated
//! user has the `read` policy, so writes trap with "not enough permissions (9)"; `/quit` ends
//! with `!fatal`. Empty sentences are ignored, as the API manual says.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

mod command;
mod login;
pub(super) mod rest;

use super::fault::{Fault, Faults};
use super::model::Router;
use crate::codec::{Sentence, SentenceCodec};
use crate::reply::word_text;
use command::{cancel, lock, parse_command, run, trap, Running};
use login::Login;

/// Live knobs for one router (the fault-injection surface).
#[derive(Debug, Default)]
pub struct Control {
    latency_ms: AtomicU64,
    /// Down by `set_down`, or by a `router-down` fault in force; `down` is their union.
    manual_down: AtomicBool,
    fault_down: AtomicBool,
    down: watch::Sender<bool>,
}

impl Control {
    /// Delay before every answer (to measure clients against a slow or distant router).
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// A down router drops its connections and closes new ones at once.
    pub fn set_down(&self, down: bool) {
        self.manual_down.store(down, Ordering::Relaxed);
        self.refresh();
    }

    /// Follows the router going down and coming back (by `set_down` or by a fault).
    pub fn watch_down(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }

    fn set_fault_down(&self, down: bool) {
        self.fault_down.store(down, Ordering::Relaxed);
        self.refresh();
    }

    fn refresh(&self) {
        let down =
            self.manual_down.load(Ordering::Relaxed) || self.fault_down.load(Ordering::Relaxed);
        self.down.send_if_modified(|current| {
            let changed = *current != down;
            *current = down;
            changed
        });
    }

    fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }
}

/// What every connection to one router shares.
#[derive(Debug)]
pub struct RouterState {
    pub router: Router,
    pub seed: u64,
    pub username: String,
    pub password: String,
    pub control: Arc<Control>,
    /// The fleet's faults (shared by all routers, changed by `Fleet::inject`).
    pub faults: Arc<RwLock<Vec<Fault>>>,
}

impl RouterState {
    fn faults(&self) -> Vec<Fault> {
        // Writers replace the list whole; a poisoned lock still holds a consistent one.
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Follows `router-down` faults: down while one is in force.
    fn check_faults(&self) {
        let faults = self.faults();
        let down = Faults(&faults)
            .router_down(&self.router.name)
            .active(super::control::now_ms() as f64 / 1000.0);
        self.control.set_fault_down(down);
    }
}

/// Accepts connections until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<RouterState>,
    shutdown: CancellationToken,
) {
    let mut connections = tokio::task::JoinSet::new();
    // Fault windows start and end on their own; look twice a second.
    let mut faults = tokio::time::interval(Duration::from_millis(500));
    faults.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            _ = faults.tick() => {
                state.check_faults();
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(router = %state.router.name, error = %e, "accept failed");
                continue;
            }
        };
        if *state.control.down.borrow() {
            continue;
        }
        let state = state.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let name = state.router.name.clone();
            let result = match tls {
                None => connection(stream, state, shutdown).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => connection(stream, state, shutdown).await,
                    Err(e) => Err(format!("TLS handshake: {e}")),
                },
            };
            match result {
                Ok(()) => tracing::debug!(router = %name, %remote, "API connection closed"),
                Err(e) => {
                    tracing::debug!(router = %name, %remote, error = %e, "API connection ended")
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}

async fn connection<S>(
    stream: S,
    state: Arc<RouterState>,
    shutdown: CancellationToken,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (read, write) = tokio::io::split(stream);
    // Commands are short: far lower limits than the client's keep a bad peer cheap.
    let mut frames = FramedRead::new(read, SentenceCodec::new(64 * 1024, 1024));
    let (outbox, mut pending) = mpsc::unbounded_channel::<Vec<Sentence>>();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(write, SentenceCodec::default());
        while let Some(batch) = pending.recv().await {
            for s in batch {
                SinkExt::<Sentence>::feed(&mut sink, s).await?;
            }
            SinkExt::<Sentence>::flush(&mut sink).await?;
        }
        Ok::<_, crate::codec::CodecError>(())
    });
    let running: Running = Arc::default();
    let mut down = state.control.down.subscribe();
    let mut login = Login::default();
    let result = loop {
        // Biased: a router that went down answers nothing more, even if a command is waiting.
        let frame = tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(()),
            _ = down.wait_for(|d| *d) => break Err("router went down".to_owned()),
            frame = frames.next() => frame,
        };
        let sentence = match frame {
            None => break Ok(()),
            Some(Err(e)) => break Err(e.to_string()),
            Some(Ok(s)) if s.words.is_empty() => continue,
            Some(Ok(s)) => s,
        };
        let command = match parse_command(&sentence) {
            Ok(c) => c,
            Err(e) => {
                let tag = sentence
                    .words
                    .iter()
                    .find_map(|w| word_text(w).strip_prefix(".tag=").map(str::to_owned));
                drop(outbox.send(trap(&e, Some("1"), tag.as_deref())));
                continue;
            }
        };
        if command.name == "/quit" {
            drop(outbox.send(vec![Sentence::new([
                "!fatal",
                "session terminated on request",
            ])]));
            break Ok(());
        }
        if !login.done && command.name != "/login" {
            drop(outbox.send(trap("not logged in", None, command.tag.as_deref())));
            continue;
        }
        match command.name.as_str() {
            "/login" => {
                tokio::time::sleep(state.control.latency()).await;
                drop(outbox.send(login.step(&state, &command)));
            }
            "/cancel" => cancel(&command, &running, &outbox),
            _ => run(command, &state, &running, &outbox),
        }
    };
    for (_, handle) in lock(&running).drain() {
        handle.abort();
    }
    drop(outbox);
    // Let queued replies (such as the `!fatal` of `/quit`) reach the client before closing.
    if let Ok(Err(e)) = writer.await {
        tracing::debug!(router = %state.router.name, error = %e, "writing replies failed");
    }
    result
}
