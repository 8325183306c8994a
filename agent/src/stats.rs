//! The agent's own counters: what it polled, sealed, sent, rejected, set aside and dropped.
//! Logged when they change in a way an operator must hear about; a status endpoint and
//! reporting them to the server are later work (issue 7).

use std::sync::atomic::{AtomicU64, Ordering};

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
    pub corrupt_batches: AtomicU64,
    /// Batches deleted unsent because the buffer was over its size cap.
    pub dropped_batches: AtomicU64,
    /// Samples that could not be written to the buffer (disk error).
    pub unbuffered_samples: AtomicU64,
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
}
