//! Tests of the commit log against real files in temporary directories.

use super::replay::list_segments;
use super::segment::{self, ENTRY_OVERHEAD};
use super::*;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

const A: TableId = TableId([0xa; 16]);
const B: TableId = TableId([0xb; 16]);
const C: TableId = TableId([0xc; 16]);

fn config(dir: &Path, segment_size: u64, sync: SyncMode) -> CommitLogConfig {
    CommitLogConfig { dir: dir.to_path_buf(), segment_size, sync, total_space: 1 << 30, min_segment_id: 0 }
}

fn long_periodic() -> SyncMode {
    SyncMode::Periodic { period: Duration::from_secs(10) }
}

/// Deterministic pseudo-random payloads (xorshift), `1..=max` bytes each.
fn payloads(n: usize, max: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n).map(|_| (0..1 + next() as usize % max).map(|_| next() as u8).collect()).collect()
}

/// The bytes of the entry ending at `pos` as they are in the file right now, if present.
fn entry_on_disk(dir: &Path, pos: Position, len: usize) -> Option<Vec<u8>> {
    let data = std::fs::read(dir.join(segment::file_name(pos.segment))).ok()?;
    let end = pos.offset as usize;
    let start = end.checked_sub(len + ENTRY_OVERHEAD)?;
    Some(data.get(start + 8..end - 4)?.to_vec())
}

fn replay_dir(dir: &Path) -> (Vec<ReplayEntry>, ReplayStats) {
    let mut replay = Replay::new(list_segments(dir).unwrap());
    let entries = replay.by_ref().collect();
    (entries, replay.into_stats())
}

/// Writes `data` through one log and returns (payload, position) per entry.
fn write_log(dir: &Path, segment_size: u64, data: &[Vec<u8>]) -> Vec<Position> {
    let (log, _) = CommitLog::open(config(dir, segment_size, long_periodic())).unwrap();
    let tables = [A, B, C];
    let positions: Vec<Position> =
        data.iter().enumerate().map(|(i, p)| log.append(tables[i % 3], p).unwrap()).collect();
    log.shutdown().unwrap();
    positions
}

#[test]
fn commit_log_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<CommitLog>();
}

#[test]
fn round_trip_across_segment_rollovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = payloads(300, 100, 7);
    let positions = write_log(dir.path(), 512, &data);
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    let old_ids: Vec<u64> = list_segments(dir.path()).unwrap().iter().map(|(id, _)| *id).collect();
    assert!(old_ids.len() > 20, "expected many roll-overs, got {} segments", old_ids.len());

    let (log, mut replay) = CommitLog::open(config(dir.path(), 512, long_periodic())).unwrap();
    assert!(log.current_position().segment > *old_ids.last().unwrap());
    let entries: Vec<ReplayEntry> = replay.by_ref().collect();
    let stats = replay.into_stats();
    assert_eq!(entries.len(), data.len());
    for ((e, p), pos) in entries.iter().zip(&data).zip(&positions) {
        assert_eq!(&e.payload[..], &p[..]);
        assert_eq!(e.position, *pos);
    }
    assert!(stats.is_clean() && stats.torn_tails.is_empty(), "{stats:?}");
    assert_eq!(stats.entries, data.len() as u64);
    assert_eq!(stats.segments.len(), old_ids.len());
    assert_eq!(log.disk_usage().1, old_ids.len() + 1);

    log.delete_replayed(&stats).unwrap();
    assert_eq!(list_segments(dir.path()).unwrap().len(), 1);
    assert_eq!(log.disk_usage(), (segment::HEADER_LEN as u64, 1));
}

#[test]
fn torn_tail_at_every_offset_of_the_last_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = payloads(6, 80, 11);
    let positions = write_log(dir.path(), 1 << 20, &data);
    let (id, path) = list_segments(dir.path()).unwrap().remove(0);
    let full = std::fs::read(&path).unwrap();
    let start = positions[4].offset as usize;
    let end = positions[5].offset as usize;
    assert_eq!(end, full.len());

    for cut in start..=end {
        let torn_dir = tempfile::tempdir().unwrap();
        let torn = torn_dir.path().join(segment::file_name(id));
        std::fs::write(&torn, &full[..cut]).unwrap();
        let (entries, stats) = replay_dir(torn_dir.path());
        let expect = if cut == end { 6 } else { 5 };
        assert_eq!(entries.len(), expect, "cut at {cut}");
        for (e, p) in entries.iter().zip(&data) {
            assert_eq!(&e.payload[..], &p[..]);
        }
        assert!(stats.corrupt.is_empty(), "cut at {cut}: {stats:?}");
        if cut == start || cut == end {
            assert!(stats.torn_tails.is_empty(), "cut at {cut}");
        } else {
            assert_eq!(stats.torn_tails, vec![(torn.clone(), start as u64)], "cut at {cut}");
        }
    }
}

#[test]
fn middle_corruption_is_skipped_and_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = payloads(10, 60, 23);
    let positions = write_log(dir.path(), 1 << 20, &data);
    let (id, path) = list_segments(dir.path()).unwrap().remove(0);
    let full = std::fs::read(&path).unwrap();
    let starts: Vec<usize> = std::iter::once(segment::HEADER_LEN)
        .chain(positions.iter().map(|p| p.offset as usize))
        .take(data.len())
        .collect();

    // Entry k of n (not the last, whose damage is a torn tail) damaged in each field.
    for k in 0..data.len() - 1 {
        let len = data[k].len();
        let fields = [
            ("length", starts[k] + 1),
            ("length crc", starts[k] + 5),
            ("payload", starts[k] + 8 + len / 2),
            ("payload crc", starts[k] + 8 + len + 2),
        ];
        for (field, byte) in fields {
            let bad_dir = tempfile::tempdir().unwrap();
            let bad = bad_dir.path().join(segment::file_name(id));
            let mut damaged = full.clone();
            damaged[byte] ^= 0x04;
            std::fs::write(&bad, &damaged).unwrap();
            let (entries, stats) = replay_dir(bad_dir.path());
            let got: Vec<&[u8]> = entries.iter().map(|e| &e.payload[..]).collect();
            let want: Vec<&[u8]> =
                data.iter().enumerate().filter(|(i, _)| *i != k).map(|(_, p)| &p[..]).collect();
            assert_eq!(got, want, "entry {k}, {field}");
            assert_eq!(stats.corrupt.len(), 1, "entry {k}, {field}: {stats:?}");
            assert_eq!(stats.corrupt[0].path, bad);
            assert_eq!(stats.corrupt[0].offset, starts[k] as u64, "entry {k}, {field}");
            assert!(stats.torn_tails.is_empty());
        }
    }
}

#[test]
fn bad_segment_header_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 1 << 20, &[b"first".to_vec()]);
    write_log(dir.path(), 1 << 20, &[b"second".to_vec()]);
    let segs = list_segments(dir.path()).unwrap();
    assert_eq!(segs.len(), 2);
    let mut first = std::fs::read(&segs[0].1).unwrap();
    first[0] = b'X';
    std::fs::write(&segs[0].1, first).unwrap();

    let (log, mut replay) = CommitLog::open(config(dir.path(), 1 << 20, long_periodic())).unwrap();
    let got: Vec<Vec<u8>> = replay.by_ref().map(|e| e.payload.to_vec()).collect();
    assert_eq!(got, vec![b"second".to_vec()]);
    let stats = replay.into_stats();
    assert_eq!(stats.corrupt.len(), 1);
    assert_eq!((stats.corrupt[0].path.clone(), stats.corrupt[0].offset), (segs[0].1.clone(), 0));
    log.shutdown().unwrap();
}

#[test]
fn batch_mode_shares_fsyncs_and_acknowledges_only_durable_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 32 << 20, SyncMode::Batch)).unwrap();
    let log = Arc::new(log);
    let (threads, per_thread) = (8, 100);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(&log);
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                for (i, p) in payloads(per_thread, 100, t + 1).into_iter().enumerate() {
                    let pos = log.append(if i % 2 == 0 { A } else { B }, &p).unwrap();
                    log.wait_durable(pos).unwrap();
                    assert_eq!(entry_on_disk(&dir, pos, p.len()).as_deref(), Some(&p[..]));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let writes = threads * per_thread as u64;
    let fsyncs = log.sync_count();
    assert!(fsyncs > 0 && fsyncs < writes, "{fsyncs} fsyncs for {writes} writes");
}

#[test]
fn group_mode_acknowledges_after_the_window_sync() {
    let dir = tempfile::tempdir().unwrap();
    let sync = SyncMode::Group { window: Duration::from_millis(5) };
    let (log, _) = CommitLog::open(config(dir.path(), 4096, sync)).unwrap();
    let log = Arc::new(log);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                for p in payloads(20, 200, 100 + t) {
                    let pos = log.append(C, &p).unwrap();
                    log.wait_durable(pos).unwrap();
                    assert_eq!(entry_on_disk(&dir, pos, p.len()).as_deref(), Some(&p[..]));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(log.sync_count() > 0);
}

#[test]
fn periodic_mode_syncs_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let sync = SyncMode::Periodic { period: Duration::from_millis(20) };
    let (log, _) = CommitLog::open(config(dir.path(), 4096, sync)).unwrap();
    let pos = log.append(A, b"periodic").unwrap();
    log.wait_durable(pos).unwrap(); // returns at once
    let deadline = Instant::now() + Duration::from_secs(10);
    while entry_on_disk(dir.path(), pos, 8).is_none() || log.sync_count() == 0 {
        assert!(Instant::now() < deadline, "periodic sync never happened");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(entry_on_disk(dir.path(), pos, 8).unwrap(), b"periodic");
}

#[test]
fn periodic_mode_counts_an_idle_log_as_synced() {
    // Regression: an idle log must not look lagging, or the first append after a quiet spell
    // longer than 1.5 periods would block until the next sync.
    let dir = tempfile::tempdir().unwrap();
    let sync = SyncMode::Periodic { period: Duration::from_millis(50) };
    let (log, _) = CommitLog::open(config(dir.path(), 4096, sync)).unwrap();
    log.append(A, b"once").unwrap();
    log.sync().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let lag = log.inner.state.lock().last_sync_done.elapsed();
    assert!(lag < Duration::from_millis(400), "idle log looks {lag:?} behind");
}

#[test]
fn periodic_mode_writes_large_buffers_out_without_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 1 << 20, long_periodic())).unwrap();
    let p = vec![7u8; 1000];
    let mut last = Position::default();
    for _ in 0..70 {
        last = log.append(A, &p).unwrap();
    }
    assert_eq!(log.sync_count(), 0);
    let on_disk = std::fs::metadata(dir.path().join(segment::file_name(last.segment))).unwrap().len();
    assert!(on_disk >= WRITE_OUT_THRESHOLD as u64, "only {on_disk} bytes written out");
}

#[test]
fn periodic_mode_blocks_appends_while_syncs_lag() {
    let dir = tempfile::tempdir().unwrap();
    let sync = SyncMode::Periodic { period: Duration::from_millis(30) };
    let (log, _) = CommitLog::open(config(dir.path(), 4096, sync)).unwrap();
    let log = Arc::new(log);
    // Holding the I/O lock stalls every sync, as a hung disk would.
    let io = log.inner.io.lock();
    std::thread::sleep(Duration::from_millis(120));
    let (tx, rx) = mpsc::channel();
    let writer = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || tx.send(log.append(A, b"late").map(|_| ())).unwrap())
    };
    assert!(rx.recv_timeout(Duration::from_millis(150)).is_err(), "append did not block");
    drop(io);
    rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    writer.join().unwrap();
}

#[test]
fn segments_are_deleted_only_when_every_table_discarded_them() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 256, long_periodic())).unwrap();
    let p = vec![1u8; 90]; // 102-byte entries: two per 256-byte segment
    let a1 = log.append(A, &p).unwrap();
    let b1 = log.append(B, &p).unwrap();
    let a2 = log.append(A, &p).unwrap();
    assert_eq!(a1.segment, b1.segment);
    assert!(a2.segment > b1.segment);
    let seg1 = dir.path().join(segment::file_name(a1.segment));
    assert_eq!(log.disk_usage().1, 2);

    // A flushed everything up to the exact end of its last entry.
    log.discard_completed(A, a2).unwrap();
    assert!(seg1.exists(), "B is still dirty in the first segment");
    assert_eq!(log.disk_usage().1, 2);
    // B flushed up to a point before its entry: nothing changes.
    log.discard_completed(B, Position { segment: b1.segment, offset: b1.offset - 1 }).unwrap();
    assert!(seg1.exists());
    log.discard_completed(B, log.current_position()).unwrap();
    assert!(!seg1.exists());
    assert_eq!(log.disk_usage().1, 1);

    // The active segment survives even when clean.
    log.forget_table(A).unwrap();
    assert!(dir.path().join(segment::file_name(a2.segment)).exists());
    assert_eq!(log.disk_usage().1, 1);
    assert_eq!(list_segments(dir.path()).unwrap().len(), 1);

    // Sealed segments never written out can be discarded too, and syncing still works.
    for _ in 0..6 {
        log.append(C, &p).unwrap();
    }
    log.forget_table(C).unwrap();
    assert_eq!(log.disk_usage().1, 1);
    log.sync().unwrap();
    assert_eq!(list_segments(dir.path()).unwrap().len(), 1);
}

#[test]
fn tables_pinning_the_oldest_segment_once_space_is_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 256, long_periodic());
    cfg.total_space = 500;
    let (log, _) = CommitLog::open(cfg).unwrap();
    let p = vec![2u8; 90]; // 102-byte entries: two per 256-byte segment
    log.append(B, &p).unwrap();
    log.append(A, &p).unwrap();
    log.append(C, &p).unwrap(); // second segment
    assert!(log.tables_pinning_oldest_segment().is_empty(), "{:?}", log.disk_usage());
    log.append(C, &p).unwrap();
    log.append(C, &p).unwrap(); // third segment: 222 + 222 + 120 > 500
    assert_eq!(log.tables_pinning_oldest_segment(), vec![A, B]);
    let upto = log.current_position();
    log.discard_completed(A, upto).unwrap();
    log.discard_completed(B, upto).unwrap();
    assert!(log.tables_pinning_oldest_segment().is_empty());
}

#[test]
fn failed_fsync_poisons_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 4096, SyncMode::Batch)).unwrap();
    let ok = log.append(A, b"before").unwrap();
    log.wait_durable(ok).unwrap();
    let pos = log.append(A, b"doomed").unwrap();
    log.fail_next_sync();
    assert!(matches!(log.wait_durable(pos), Err(Error::Io { .. })));
    for err in
        [log.append(A, b"after").unwrap_err(), log.wait_durable(pos).unwrap_err(), log.sync().unwrap_err()]
    {
        match err {
            Error::Poisoned(text) => assert!(text.contains("injected fsync failure"), "{text}"),
            other => panic!("expected Poisoned, got {other:?}"),
        }
    }
    assert!(matches!(log.shutdown(), Err(Error::Poisoned(_))));
}

#[test]
fn oversized_and_empty_payloads_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 1024, SyncMode::Batch)).unwrap();
    assert_eq!(log.max_payload_len(), 482);
    let before = log.current_position();
    match log.append(A, &[0; 483]) {
        Err(Error::MutationTooLarge { size: 483, max: 482 }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(log.append(A, &[]), Err(Error::Invalid(_))));
    assert_eq!(log.current_position(), before);
    let pos = log.append(A, &[0; 482]).unwrap();
    log.wait_durable(pos).unwrap();
    let too_far = Position { segment: pos.segment, offset: pos.offset + 1 };
    assert!(matches!(log.wait_durable(too_far), Err(Error::Invalid(_))));
}

#[test]
fn shutdown_syncs_and_refuses_later_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = CommitLog::open(config(dir.path(), 4096, long_periodic())).unwrap();
    let pos = log.append(B, b"last words").unwrap();
    log.shutdown().unwrap();
    assert_eq!(entry_on_disk(dir.path(), pos, 10).unwrap(), b"last words");
    assert!(matches!(log.append(B, b"x"), Err(Error::Shutdown)));
    log.shutdown().unwrap();
    log.wait_durable(pos).unwrap();
}

#[test]
fn invalid_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for cfg in [
        config(dir.path(), 63, SyncMode::Batch),
        config(dir.path(), 1 << 33, SyncMode::Batch),
        config(dir.path(), 4096, SyncMode::Group { window: Duration::ZERO }),
        config(dir.path(), 4096, SyncMode::Periodic { period: Duration::ZERO }),
    ] {
        assert!(matches!(CommitLog::open(cfg), Err(Error::Invalid(_))));
    }
}
