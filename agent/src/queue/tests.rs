//! Tests of the buffer: order across reopening, the size cap, corruption.
use super::*;

fn sealed(n: u8) -> Sealed {
    Sealed {
        batch_id: Uuid::new_v4(),
        sealed_at_ms: 1_000 + i64::from(n),
        samples: u32::from(n),
        payload: vec![n; 100],
    }
}

#[test]
fn survives_reopening_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let queue = Queue::open(dir.path(), u64::MAX).expect("open");
    let ids: Vec<Uuid> = (0..3)
        .map(|n| queue.push(&sealed(n), &stats).expect("push").batch_id)
        .collect();
    drop(queue);
    // A write that crashed before its rename.
    fs::write(dir.path().join("queue/.x.batch.tmp"), b"partial").expect("write");
    let queue = Queue::open(dir.path(), u64::MAX).expect("reopen");
    assert_eq!(queue.depth().0, 3);
    assert!(!dir.path().join("queue/.x.batch.tmp").exists());
    for id in ids {
        let entry = queue.oldest().expect("entry");
        assert_eq!(entry.batch_id, id);
        let read = queue.read(&entry).expect("read");
        assert_eq!(read.batch_id, id);
        queue.remove(&entry);
    }
    assert_eq!(queue.depth(), (0, 0));
    // New batches continue the sequence after a reopen.
    let queue = Queue::open(dir.path(), u64::MAX).expect("reopen");
    assert_eq!(queue.push(&sealed(9), &stats).expect("push").seq, 0);
}

#[test]
fn the_size_cap_drops_the_oldest_and_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let one = (HEADER + 100) as u64;
    let queue = Queue::open(dir.path(), 2 * one).expect("open");
    let first = queue.push(&sealed(1), &stats).expect("push");
    queue.push(&sealed(2), &stats).expect("push");
    assert_eq!(Stats::get(&stats.dropped_batches), 0);
    queue.push(&sealed(3), &stats).expect("push");
    assert_eq!(Stats::get(&stats.dropped_batches), 1);
    assert_eq!(queue.depth(), (2, 2 * one));
    assert_ne!(queue.oldest().map(|e| e.batch_id), Some(first.batch_id));
    assert!(!queue.path("queue", &first).exists());
}

#[test]
fn corruption_is_detected_and_set_aside_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let queue = Queue::open(dir.path(), u64::MAX).expect("open");
    let bad = queue.push(&sealed(1), &stats).expect("push");
    let good = queue.push(&sealed(2), &stats).expect("push");
    let path = queue.path("queue", &bad);
    let mut bytes = fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    fs::write(&path, &bytes).expect("write");
    let reason = queue.read(&bad).expect_err("corrupt");
    assert_eq!(reason, "checksum mismatch");
    queue.quarantine(&bad, &reason);
    assert_eq!(queue.oldest(), Some(good.clone()));
    assert!(queue.path("corrupt", &bad).exists());
    let why =
        fs::read_to_string(queue.path("corrupt", &bad).with_extension("reason")).expect("reason");
    assert_eq!(why.trim(), "checksum mismatch");
    fs::write(queue.path("queue", &good), b"short").expect("write");
    assert!(queue
        .read(&good)
        .expect_err("truncated")
        .starts_with("truncated"));
}
