//! The agent's own counters: what it polled, sealed, sent, rejected, set aside and dropped.
//! Logged when they change in a way an operator must hear about, answered by the local status
//! endpoint (`status.rs`), and reported to the server every minute by an enrolled agent
//! (`status/report.rs`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// The server's assignment the agent polls (an enrolled agent without a fleet file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentSeen {
    pub revision: String,
    /// Unix ms of the last answer of the server (a new assignment or "unchanged"); `None`
    /// while the agent polls the cached one and the server has not answered yet.
    pub fetched_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub polls_ok: AtomicU64,
    pub polls_failed: AtomicU64,
    pub collector_failures: AtomicU64,
    pub sealed_batches: AtomicU64,
    pub sealed_samples: AtomicU64,
    pub sent_batches: AtomicU64,
    pub duplicate_batches: AtomicU64,
    pub rejected_samples: AtomicU64,
    pub dead_letter_batches: AtomicU64,
    /// The samples in them.
    pub dead_letter_samples: AtomicU64,
    pub corrupt_batches: AtomicU64,
    /// The samples in them, as their index says.
    pub corrupt_samples: AtomicU64,
    /// Batches deleted unsent because the buffer was over its size or age cap.
    pub dropped_batches: AtomicU64,
    /// The samples in them.
    pub dropped_samples: AtomicU64,
    /// Samples that could not be written to the buffer (disk error).
    pub unbuffered_samples: AtomicU64,
    /// Routers, SNMP devices and probes being polled.
    pub targets: AtomicU64,
    /// Unix ms of the last batch the server took; 0 before the first.
    last_push_ms: AtomicI64,
    assignment: Mutex<Option<AssignmentSeen>>,
}

fn add(counter: &AtomicU64, n: u64) -> u64 {
    counter.fetch_add(n, Ordering::Relaxed) + n
}

impl Stats {
    pub fn count_poll(&self, ok: bool) {
        add(
            if ok {
                &self.polls_ok
            } else {
                &self.polls_failed
            },
            1,
        );
    }

    pub fn count_collector_failure(&self) {
        add(&self.collector_failures, 1);
    }

    /// Adds `n` and returns the new total.
    pub fn add(counter: &AtomicU64, n: u64) -> u64 {
        add(counter, n)
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Notes that the server took a batch now.
    pub fn mark_pushed(&self) {
        self.last_push_ms
            .store(crate::poll::now().0, Ordering::Relaxed);
    }

    pub fn last_push_ms(&self) -> Option<i64> {
        Some(self.last_push_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }

    pub fn set_assignment(&self, seen: AssignmentSeen) {
        *self
            .assignment
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(seen);
    }

    /// Notes that the server answered now (unchanged); `None` before any assignment.
    pub fn mark_assignment_fetched(&self) {
        if let Some(seen) = self
            .assignment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            seen.fetched_at_ms = Some(crate::poll::now().0);
        }
    }

    pub fn assignment(&self) -> Option<AssignmentSeen> {
        self.assignment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
