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
    let queue = Queue::open(dir.path(), Caps::NONE).expect("open");
    let ids: Vec<Uuid> = (0..3)
        .map(|n| queue.push(&sealed(n), &stats).expect("push").batch_id)
        .collect();
    drop(queue);
    // A write that crashed before its rename.
    fs::write(dir.path().join("queue/.x.batch.tmp"), b"partial").expect("write");
    let queue = Queue::open(dir.path(), Caps::NONE).expect("reopen");
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
    let queue = Queue::open(dir.path(), Caps::NONE).expect("reopen");
    assert_eq!(queue.push(&sealed(9), &stats).expect("push").seq, 0);
}

#[test]
fn the_size_cap_drops_the_oldest_and_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let one = (HEADER + 100) as u64;
    let caps = Caps {
        max_bytes: 2 * one,
        ..Caps::NONE
    };
    let queue = Queue::open(dir.path(), caps).expect("open");
    let first = queue.push(&sealed(1), &stats).expect("push");
    queue.push(&sealed(2), &stats).expect("push");
    assert_eq!(Stats::get(&stats.dropped_batches), 0);
    queue.push(&sealed(3), &stats).expect("push");
    assert_eq!(Stats::get(&stats.dropped_batches), 1);
    assert_eq!(
        Stats::get(&stats.dropped_samples),
        1,
        "the dropped batch held 1 sample"
    );
    assert_eq!(queue.depth(), (2, 2 * one));
    assert_ne!(queue.oldest().map(|e| e.batch_id), Some(first.batch_id));
    assert!(!queue.path("queue", &first).exists());
}

#[test]
fn corruption_is_detected_and_set_aside_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let queue = Queue::open(dir.path(), Caps::NONE).expect("open");
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

fn sealed_at(at_ms: i64, samples: u32) -> Sealed {
    Sealed {
        sealed_at_ms: at_ms,
        samples,
        ..sealed(0)
    }
}

#[test]
fn the_age_cap_drops_old_batches_at_push_and_at_reopen_and_counts_their_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let now = now_ms();
    let hour = 3_600_000;
    let caps = Caps {
        max_bytes: u64::MAX,
        max_age: Duration::from_secs(72 * 3_600),
    };
    // Written without caps: a buffer left by an agent that was off for days.
    let queue = Queue::open(dir.path(), Caps::NONE).expect("open");
    let old = queue
        .push(&sealed_at(now - 80 * hour, 7), &stats)
        .expect("push");
    let kept = queue
        .push(&sealed_at(now - 70 * hour, 5), &stats)
        .expect("push");
    drop(queue);

    let queue = Queue::open(dir.path(), caps).expect("reopen");
    assert_eq!(
        queue.oldest().map(|e| e.sealed_at_ms),
        Some(now - 80 * hour),
        "read from the header"
    );
    queue.apply_caps(&stats);
    assert_eq!(queue.oldest(), Some(kept.clone()));
    assert!(!queue.path("queue", &old).exists());
    assert_eq!(Stats::get(&stats.dropped_batches), 1);
    assert_eq!(Stats::get(&stats.dropped_samples), 7);

    // A fresh batch is kept; the queue is far below its size cap.
    queue.push(&sealed_at(now, 3), &stats).expect("push");
    assert_eq!(queue.depth().0, 2);
    assert_eq!(queue.oldest(), Some(kept));
    assert_eq!(Stats::get(&stats.dropped_samples), 7);

    // At a push: a batch sealed too long ago (a clock that jumped) does not stay.
    let other = tempfile::tempdir().expect("tempdir");
    let queue = Queue::open(other.path(), caps).expect("open");
    queue
        .push(&sealed_at(now - 80 * hour, 4), &stats)
        .expect("push");
    assert_eq!(queue.depth(), (0, 0));
    assert_eq!(Stats::get(&stats.dropped_samples), 11);
}

#[test]
fn live_batches_take_turns_with_the_backlog_each_lane_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stats = Stats::default();
    let queue = Queue::open(dir.path(), Caps::NONE).expect("open");
    let backlog: Vec<Entry> = (0..3)
        .map(|n| queue.push(&sealed(n), &stats).expect("push"))
        .collect();
    let end = queue.newest_seq();
    assert_eq!(end, Some(backlog[2].seq));
    // No live batch yet: the backlog, whatever is preferred.
    assert_eq!(
        queue.next(end, Lane::Live),
        Some((backlog[0].clone(), Lane::Backlog))
    );
    let live: Vec<Entry> = (3..5)
        .map(|n| queue.push(&sealed(n), &stats).expect("push"))
        .collect();
    assert_eq!(
        queue.next(end, Lane::Live),
        Some((live[0].clone(), Lane::Live))
    );
    assert_eq!(
        queue.next(end, Lane::Backlog),
        Some((backlog[0].clone(), Lane::Backlog))
    );

    // A sender alternating the lanes: live, backlog, live, backlog, then the rest in order.
    let mut prefer = Lane::Live;
    let mut sent = Vec::new();
    while let Some((entry, _)) = queue.next(end, prefer) {
        queue.remove(&entry);
        sent.push(entry);
        prefer = if prefer == Lane::Live {
            Lane::Backlog
        } else {
            Lane::Live
        };
    }
    let expected = [&live[0], &backlog[0], &live[1], &backlog[1], &backlog[2]];
    assert_eq!(sent.iter().collect::<Vec<_>>(), expected);
    // Without a backlog, everything is live and oldest first.
    let a = queue.push(&sealed(6), &stats).expect("push");
    queue.push(&sealed(7), &stats).expect("push");
    assert_eq!(queue.next(end, Lane::Backlog), Some((a, Lane::Live)));
}
