//! The reader task: routes each reply to the caller waiting on its tag, and records why the
//! connection ended.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt;
use tokio::io::AsyncRead;
use tokio_util::codec::FramedRead;

use super::ReplySender;
use crate::codec::SentenceCodec;
use crate::reply::{Reply, ReplyKind};

/// Callers waiting for replies, by tag; and once the connection is over, why.
#[derive(Default)]
pub(super) struct Routes {
    pub(super) waiting: HashMap<String, ReplySender>,
    pub(super) closed: Option<Closed>,
}

/// Why the connection ended (kept to tell every later caller the same thing).
#[derive(Debug, Clone)]
pub(super) enum Closed {
    Fatal(String),
    Protocol(String),
    Lost(String),
}

pub(super) fn lock(routes: &Mutex<Routes>) -> std::sync::MutexGuard<'_, Routes> {
    // The critical sections only move map entries; a panic inside one cannot leave them
    // half-done, so a poisoned lock is still consistent.
    routes.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads sentences until the connection ends, routing each reply by tag.
pub(super) async fn read_replies<R>(
    mut frames: FramedRead<R, SentenceCodec>,
    routes: Arc<Mutex<Routes>>,
    peer: String,
) where
    R: AsyncRead + Unpin,
{
    let closed = loop {
        let sentence = match frames.next().await {
            None => break Closed::Lost("the router closed the connection".into()),
            Some(Err(crate::codec::CodecError::Io(e))) => break Closed::Lost(e.to_string()),
            Some(Err(e)) => break Closed::Protocol(e.to_string()),
            Some(Ok(sentence)) => sentence,
        };
        let reply = match Reply::try_from(&sentence) {
            Ok(reply) => reply,
            Err(e) => break Closed::Protocol(e.to_string()),
        };
        if let ReplyKind::Fatal(message) = reply.kind {
            break Closed::Fatal(message);
        }
        let Some(tag) = reply.tag.clone() else {
            // Every command is tagged, and RouterOS echoes tags on every reply but `!fatal`.
            break Closed::Protocol(format!("untagged reply {:?}", reply.kind));
        };
        let route = {
            let mut table = lock(&routes);
            if matches!(reply.kind, ReplyKind::Done { .. }) {
                table.waiting.remove(&tag)
            } else {
                table.waiting.get(&tag).cloned()
            }
        };
        match route {
            // A send error means the caller gave up (timeout, trap); that is fine.
            Some(route) => drop(route.send(reply)),
            None => tracing::warn!(peer = %peer, tag = %tag, "reply for an unknown tag"),
        }
    };
    tracing::debug!(peer = %peer, reason = ?closed, "API connection ended");
    let mut table = lock(&routes);
    table.closed = Some(closed);
    // Dropping the senders wakes every waiting caller, who then reads `closed`.
    table.waiting.clear();
}
