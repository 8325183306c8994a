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
//! Caps: the pending batches are kept under a size (`max_bytes`) and an age (`max_age`, by the
//! time each batch was sealed). Over either, the oldest batches are deleted unsent, counted
//! (batches and samples) and logged: at each push, and when the buffer is opened.
//!
//! Order: the sender takes the oldest batch, except while it replays a backlog (see
//! [`Queue::next`]): then batches sealed since the server came back (the live lane) take turns
//! with the replay, so live data is not held back for the hours a long backlog takes to drain.
//! Each lane is in seal order, so each is in time order per series.
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
use std::time::Duration;

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
    pub sealed_at_ms: i64,
    pub samples: u32,
}

/// The limits of the pending batches; over either, the oldest are dropped.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_bytes: u64,
    pub max_age: Duration,
}

impl Caps {
    /// No cap at all (tests).
    pub const NONE: Caps = Caps {
        max_bytes: u64::MAX,
        max_age: Duration::MAX,
    };
}

/// Which lane a batch was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The replay of what was buffered when the server came back (or the agent started).
    Backlog,
    /// Sealed since; also every batch when there is no backlog.
    Live,
}

/// Why a pending batch was deleted unsent.
#[derive(Debug, Clone, Copy)]
enum DropReason {
    Size,
    Age,
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
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
    caps: Caps,
    state: Mutex<State>,
    pushed: tokio::sync::Notify,
}

impl Queue {
    /// Opens (creating) the buffer, indexes the batches already in it and applies the caps.
    pub fn open(dir: &Path, caps: Caps) -> Result<Self, QueueError> {
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
            // A header that cannot be read keeps the batch (dated now, so the age cap spares
            // it); the sender finds it unreadable and sets it aside with the reason.
            let (sealed_at_ms, samples) = read_header(&path).unwrap_or((now_ms(), 0));
            bytes += size;
            entries.insert(
                entry.0,
                Entry {
                    seq: entry.0,
                    batch_id: entry.1,
                    bytes: size,
                    sealed_at_ms,
                    samples,
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
        let queue = Self {
            dir: dir.to_owned(),
            caps,
            state: Mutex::new(State {
                entries,
                bytes,
                next_seq,
            }),
            pushed: tokio::sync::Notify::new(),
        };
        Ok(queue)
    }

    /// Deletes the oldest pending batches while the queue is over a cap (always keeping the
    /// newest batch under the size cap: it was just acknowledged). Counted and logged.
    pub fn apply_caps(&self, stats: &Stats) {
        let oldest_allowed = now_ms()
            .saturating_sub(i64::try_from(self.caps.max_age.as_millis()).unwrap_or(i64::MAX));
        let dropped = {
            let mut state = self.state();
            let mut dropped = Vec::new();
            loop {
                let why = match state.entries.first_key_value() {
                    Some((_, oldest)) if oldest.sealed_at_ms < oldest_allowed => DropReason::Age,
                    Some(_) if state.bytes > self.caps.max_bytes && state.entries.len() > 1 => {
                        DropReason::Size
                    }
                    _ => break,
                };
                let Some((_, oldest)) = state.entries.pop_first() else {
                    break;
                };
                state.bytes -= oldest.bytes;
                dropped.push((oldest, why));
            }
            dropped
        };
        for (old, why) in dropped {
            let total = Stats::add(&stats.dropped_batches, 1);
            let samples = Stats::add(&stats.dropped_samples, u64::from(old.samples));
            let cap = match why {
                DropReason::Size => "buffer over its size cap: dropped the oldest unsent batch",
                DropReason::Age => "buffered batch older than the age cap: dropped unsent",
            };
            tracing::error!(
                batch.id = %old.batch_id,
                bytes = old.bytes,
                samples = old.samples,
                max_buffer_bytes = self.caps.max_bytes,
                max_buffer_age_s = self.caps.max_age.as_secs(),
                agent_dropped_batches_total = total,
                agent_dropped_samples_total = samples,
                "{cap}"
            );
            let old_path = self.path("queue", &old);
            if let Err(e) = fs::remove_file(&old_path) {
                tracing::warn!(file = %old_path.display(), error = %e, "could not delete a dropped batch");
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn path(&self, sub: &str, entry: &Entry) -> PathBuf {
        self.dir.join(sub).join(entry.file_name())
    }

    /// Writes a sealed batch durably, then applies the caps by dropping the oldest batches
    /// (counted and logged). Blocking: call it off the async threads.
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
            sealed_at_ms: sealed.sealed_at_ms,
            samples: sealed.samples,
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
        {
            let mut state = self.state();
            state.bytes += entry.bytes;
            state.entries.insert(seq, entry.clone());
        }
        self.apply_caps(stats);
        self.pushed.notify_one();
        Ok(entry)
    }

    /// The oldest pending batch.
    pub fn oldest(&self) -> Option<Entry> {
        self.state().entries.values().next().cloned()
    }

    /// The sequence number of the newest pending batch.
    pub fn newest_seq(&self) -> Option<u64> {
        self.state().entries.keys().next_back().copied()
    }

    /// The batch to send next. Batches up to `backlog_end` are the backlog, the rest the live
    /// lane; each lane goes oldest first. While both have batches, `prefer` picks the lane, so
    /// a sender that alternates it gives live data half the sends during a replay.
    pub fn next(&self, backlog_end: Option<u64>, prefer: Lane) -> Option<(Entry, Lane)> {
        let state = self.state();
        let (_, oldest) = state.entries.first_key_value()?;
        let Some(end) = backlog_end.filter(|end| oldest.seq <= *end) else {
            return Some((oldest.clone(), Lane::Live));
        };
        let live = state
            .entries
            .range(end.saturating_add(1)..)
            .next()
            .map(|(_, e)| e);
        match (prefer, live) {
            (Lane::Live, Some(live)) => Some((live.clone(), Lane::Live)),
            _ => Some((oldest.clone(), Lane::Backlog)),
        }
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

/// The sealed-at time and sample count from a file's header.
fn read_header(path: &Path) -> Option<(i64, u32)> {
    use std::io::Read;
    let mut header = [0; HEADER];
    File::open(path).ok()?.read_exact(&mut header).ok()?;
    if &header[..8] != MAGIC {
        return None;
    }
    let mut at = [0; 8];
    at.copy_from_slice(&header[28..36]);
    let mut samples = [0; 4];
    samples.copy_from_slice(&header[36..40]);
    Some((i64::from_le_bytes(at), u32::from_le_bytes(samples)))
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
