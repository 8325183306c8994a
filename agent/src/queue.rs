//! The on-disk buffer: sealed batches, one file each, written durably before any send and
//! deleted only once the server has taken them.
//!
//! Why one file per batch rather than multi-record segments or an embedded store: the only
//! operations are "append a sealed batch", "read the oldest" and "delete it after a 2xx".
//! With a file per batch, delete is one `unlink` (no compaction, no acknowledged-offset file to
//! keep in step), a torn write can only damage the batch being written, and a corrupt file is
//! set aside without touching its neighbours. A batch is sealed every few seconds, so 72 h
//! are some tens of thousands of files: nothing for ext4 or XFS. No new dependency either.
//!
//! Durability: the batch is written to a hidden temporary file, `fsync`ed, renamed to its
//! final name and the directory `fsync`ed; only then is it "buffered". A crash before the
//! rename leaves a temporary file, deleted at the next start (that batch was never
//! acknowledged as buffered). File names are `<seq>-<batch_id>.batch`, `seq` a 16-digit hex
//! counter that orders the queue across restarts.
//!
//! File format (little endian): magic `ISPVMB01`, CRC-32 of everything after it, batch id (16
//! bytes), sealed-at (i64 Unix ms), sample count (u32), payload length (u32), payload (the
//! batch as gzip-compressed JSON). A file whose magic, length, CRC or payload is wrong is
//! moved to `corrupt/` with a `.reason` file, logged, and the queue goes on.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use crate::stats::Stats;

const MAGIC: &[u8; 8] = b"ISPVMB01";
const HEADER: usize = 8 + 4 + 16 + 8 + 4 + 4;
const SUFFIX: &str = ".batch";

/// A sealed batch, ready to be queued.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub batch_id: Uuid,
    pub sealed_at_ms: i64,
    pub samples: u32,
    /// The batch as gzip-compressed JSON.
    pub payload: Vec<u8>,
}

/// A queued batch, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub batch_id: Uuid,
    pub bytes: u64,
}

impl Entry {
    fn file_name(&self) -> String {
        format!("{:016x}-{}{SUFFIX}", self.seq, self.batch_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> QueueError + 'a {
    move |source| QueueError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[derive(Debug)]
struct State {
    entries: BTreeMap<u64, Entry>,
    bytes: u64,
    next_seq: u64,
}

/// The buffer directory: `queue/` (pending), `dead/` (refused by the server), `corrupt/`.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    pushed: tokio::sync::Notify,
}

impl Queue {
    /// Opens (creating) the buffer and indexes the batches already in it.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, QueueError> {
        for sub in ["queue", "dead", "corrupt"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(io("creating", &path))?;
        }
        let pending = dir.join("queue");
        let mut entries = BTreeMap::new();
        let mut bytes = 0;
        let listing = fs::read_dir(&pending).map_err(io("listing", &pending))?;
        for item in listing {
            let item = item.map_err(io("listing", &pending))?;
            let path = item.path();
            let name = item.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // Never renamed: that batch was never acknowledged as buffered.
                tracing::warn!(file = %path.display(), "removing an incomplete buffer write");
                fs::remove_file(&path).map_err(io("removing", &path))?;
                continue;
            }
            let Some(entry) = parse_name(&name) else {
                tracing::warn!(file = %path.display(), "ignoring a file that is not a buffered batch");
                continue;
            };
            let size = item.metadata().map_err(io("reading", &path))?.len();
            bytes += size;
            entries.insert(
                entry.0,
                Entry {
                    seq: entry.0,
                    batch_id: entry.1,
                    bytes: size,
                },
            );
        }
        let next_seq = entries.keys().next_back().map_or(0, |s| s + 1);
        if !entries.is_empty() {
            tracing::info!(
                batches = entries.len(),
                bytes,
                "buffer reopened with unsent batches"
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            max_bytes,
            state: Mutex::new(State {
                entries,
                bytes,
                next_seq,
            }),
            pushed: tokio::sync::Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn path(&self, sub: &str, entry: &Entry) -> PathBuf {
        self.dir.join(sub).join(entry.file_name())
    }

    /// Writes a sealed batch durably, then makes room under the size cap by dropping the
    /// oldest batches (counted and logged). Blocking: call it off the async threads.
    pub fn push(&self, sealed: &Sealed, stats: &Stats) -> Result<Entry, QueueError> {
        let mut record = Vec::with_capacity(HEADER + sealed.payload.len());
        record.extend_from_slice(MAGIC);
        record.extend_from_slice(&[0; 4]);
        record.extend_from_slice(sealed.batch_id.as_bytes());
        record.extend_from_slice(&sealed.sealed_at_ms.to_le_bytes());
        record.extend_from_slice(&sealed.samples.to_le_bytes());
        let len = u32::try_from(sealed.payload.len()).unwrap_or(u32::MAX);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&sealed.payload);
        let crc = crc32fast::hash(&record[12..]);
        record[8..12].copy_from_slice(&crc.to_le_bytes());

        let seq = {
            let mut state = self.state();
            state.next_seq += 1;
            state.next_seq - 1
        };
        let entry = Entry {
            seq,
            batch_id: sealed.batch_id,
            bytes: record.len() as u64,
        };
        let path = self.path("queue", &entry);
        let tmp = self
            .dir
            .join("queue")
            .join(format!(".{}.tmp", entry.file_name()));
        let mut file = File::create(&tmp).map_err(io("creating", &tmp))?;
        file.write_all(&record).map_err(io("writing", &tmp))?;
        file.sync_all().map_err(io("syncing", &tmp))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(io("renaming", &tmp))?;
        sync_dir(&self.dir.join("queue"))?;
        let dropped = {
            let mut state = self.state();
            state.bytes += entry.bytes;
            state.entries.insert(seq, entry.clone());
            let mut dropped = Vec::new();
            while state.bytes > self.max_bytes && state.entries.len() > 1 {
                let Some((_, oldest)) = state.entries.pop_first() else {
                    break;
                };
                state.bytes -= oldest.bytes;
                dropped.push(oldest);
            }
            dropped
        };
        for old in dropped {
            let total = Stats::add(&stats.dropped_batches, 1);
            tracing::error!(
                batch.id = %old.batch_id,
                bytes = old.bytes,
                max_buffer_bytes = self.max_bytes,
                agent_dropped_batches_total = total,
                "buffer over its size cap: dropped the oldest unsent batch"
            );
            let old_path = self.path("queue", &old);
            if let Err(e) = fs::remove_file(&old_path) {
                tracing::warn!(file = %old_path.display(), error = %e, "could not delete a dropped batch");
            }
        }
        self.pushed.notify_one();
        Ok(entry)
    }

    /// The oldest pending batch.
    pub fn oldest(&self) -> Option<Entry> {
        self.state().entries.values().next().cloned()
    }

    /// How many batches and bytes are pending.
    pub fn depth(&self) -> (usize, u64) {
        let state = self.state();
        (state.entries.len(), state.bytes)
    }

    /// Waits until a batch is pushed (returns at once if one was pushed since the last wait).
    pub async fn wait_for_push(&self) {
        self.pushed.notified().await;
    }

    /// Reads and checks a pending batch. `Err` carries why the file is unusable.
    pub fn read(&self, entry: &Entry) -> Result<Sealed, String> {
        let path = self.path("queue", entry);
        let record = fs::read(&path).map_err(|e| format!("cannot read: {e}"))?;
        decode(&record, entry.batch_id)
    }

    /// Deletes a batch the server has taken.
    pub fn remove(&self, entry: &Entry) {
        if self.forget(entry) {
            let path = self.path("queue", entry);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(file = %path.display(), error = %e, "could not delete a sent batch");
            }
        }
    }

    /// Moves a batch the server refused to `dead/`, with the reason beside it.
    pub fn dead_letter(&self, entry: &Entry, reason: &str) {
        self.set_aside("dead", entry, reason);
    }

    /// Moves an unreadable batch to `corrupt/`, with the reason beside it.
    pub fn quarantine(&self, entry: &Entry, reason: &str) {
        self.set_aside("corrupt", entry, reason);
    }

    fn set_aside(&self, sub: &str, entry: &Entry, reason: &str) {
        if !self.forget(entry) {
            return;
        }
        let from = self.path("queue", entry);
        let to = self.path(sub, entry);
        let reason_path = to.with_extension("reason");
        if let Err(e) = fs::write(&reason_path, format!("{reason}\n")) {
            tracing::warn!(file = %reason_path.display(), error = %e, "could not write the reason file");
        }
        if let Err(e) = fs::rename(&from, &to) {
            tracing::warn!(file = %from.display(), error = %e, "could not move the batch aside");
        }
    }

    /// Drops the entry from the index; false if it was no longer there (dropped by the cap).
    fn forget(&self, entry: &Entry) -> bool {
        let mut state = self.state();
        match state.entries.remove(&entry.seq) {
            Some(e) => {
                state.bytes -= e.bytes;
                true
            }
            None => false,
        }
    }
}

fn parse_name(name: &str) -> Option<(u64, Uuid)> {
    let stem = name.strip_suffix(SUFFIX)?;
    let (seq, id) = stem.split_once('-')?;
    if seq.len() != 16 {
        return None;
    }
    Some((
        u64::from_str_radix(seq, 16).ok()?,
        Uuid::parse_str(id).ok()?,
    ))
}

fn decode(record: &[u8], expected: Uuid) -> Result<Sealed, String> {
    if record.len() < HEADER {
        return Err(format!(
            "truncated: {} bytes, shorter than the header",
            record.len()
        ));
    }
    if &record[..8] != MAGIC {
        return Err("not a buffered batch (bad magic)".into());
    }
    let u32_at = |at: usize| {
        u32::from_le_bytes([record[at], record[at + 1], record[at + 2], record[at + 3]])
    };
    let crc = u32_at(8);
    let len = u32_at(40) as usize;
    if record.len() != HEADER + len {
        return Err(format!(
            "length mismatch: header says {len} payload bytes, file has {}",
            record.len().saturating_sub(HEADER)
        ));
    }
    if crc32fast::hash(&record[12..]) != crc {
        return Err("checksum mismatch".into());
    }
    let mut id = [0; 16];
    id.copy_from_slice(&record[12..28]);
    let batch_id = Uuid::from_bytes(id);
    if batch_id != expected {
        return Err(format!("batch id {batch_id} does not match the file name"));
    }
    let mut at = [0; 8];
    at.copy_from_slice(&record[28..36]);
    Ok(Sealed {
        batch_id,
        sealed_at_ms: i64::from_le_bytes(at),
        samples: u32_at(36),
        payload: record[HEADER..].to_vec(),
    })
}

fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing", dir))
}

#[cfg(test)]
mod tests;
