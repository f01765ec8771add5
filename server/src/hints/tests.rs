use super::segment::ENTRY_OVERHEAD;
use super::*;
use bytes::Bytes;
use storage::{DecoratedKey, Partition, TableId};

const A: Uuid = Uuid::from_u128(0xa);
const B: Uuid = Uuid::from_u128(0xb);
const HOUR: Duration = Duration::from_secs(3600);

fn mutation(key: u64) -> Mutation {
    Mutation::new(
        TableId([7; 16]),
        DecoratedKey::new(Bytes::from(format!("key-{key:06}"))),
        Partition::default(),
    )
}

fn key_of(m: &Mutation) -> u64 {
    let s = std::str::from_utf8(&m.key.key).unwrap();
    s.strip_prefix("key-").unwrap().parse().unwrap()
}

fn options(segment_size: u64) -> HintsOptions {
    HintsOptions { sync_period: Duration::from_millis(5), segment_size }
}

fn open(dir: &Path) -> Hints {
    Hints::open_with(dir, options(8 << 20)).unwrap()
}

/// Replays `target` accepting everything; returns the stats and (key, durable) in send order.
async fn replay_all(h: &Hints, target: Uuid) -> (ReplayStats, Vec<(u64, bool)>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let stats = h
        .replay(target, HOUR, move |m, durable| {
            let g = Arc::clone(&g);
            async move {
                g.lock().push((key_of(&m), durable));
                Ok(())
            }
        })
        .await
        .unwrap();
    let got = got.lock().clone();
    (stats, got)
}

/// Replays `target`, failing the send of `fail_at`; returns the stats and the keys accepted.
async fn replay_failing_at(h: &Hints, target: Uuid, fail_at: u64) -> (ReplayStats, Vec<u64>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let stats = h
        .replay(target, HOUR, move |m, _| {
            let g = Arc::clone(&g);
            async move {
                let k = key_of(&m);
                if k == fail_at {
                    return Err("replica timed out".to_string());
                }
                g.lock().push(k);
                Ok(())
            }
        })
        .await
        .unwrap();
    let got = got.lock().clone();
    (stats, got)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.file_name().unwrap().to_str().unwrap().ends_with(LOG_SUFFIX));
    files.sort_by_key(|p| parse_file_name(p.file_name().unwrap().to_str().unwrap(), LOG_SUFFIX));
    files
}

fn disk_bytes(dir: &Path) -> u64 {
    segment_files(dir).iter().map(|p| fs::metadata(p).unwrap().len()).sum()
}

/// The single segment of `target` after storing keys `0..n` and closing the store, with the
/// length of each entry (all the same, as the keys have the same length).
fn one_segment(dir: &Path, target: Uuid, n: u64) -> (PathBuf, usize) {
    let h = open(dir);
    for k in 0..n {
        h.store(target, &mutation(k), true).unwrap();
    }
    drop(h);
    let files = segment_files(&dir.join(target.to_string()));
    assert_eq!(files.len(), 1);
    let size = fs::metadata(&files[0]).unwrap().len() as usize;
    (files[0].clone(), (size - HEADER_LEN) / n as usize)
}

#[tokio::test]
async fn store_then_replay_delivers_in_order_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    for k in 0..50 {
        h.store(A, &mutation(k), k % 3 != 0).unwrap();
    }
    let target_dir = dir.path().join(A.to_string());
    assert_eq!(h.pending(), vec![(A, 50, disk_bytes(&target_dir))]);

    let (stats, got) = replay_all(&h, A).await;
    assert_eq!(got, (0..50).map(|k| (k, k % 3 != 0)).collect::<Vec<_>>());
    assert_eq!(stats, ReplayStats { delivered: 50, expired: 0, remaining: 0, corrupt: 0 });
    assert!(h.pending().is_empty());
    assert!(segment_files(&target_dir).is_empty());

    let (stats, got) = replay_all(&h, A).await;
    assert_eq!((stats, got.len()), (ReplayStats::default(), 0));
    let (stats, _) = replay_all(&h, B).await;
    assert_eq!(stats, ReplayStats::default(), "a target never hinted has nothing");
}

#[tokio::test]
async fn segments_rotate_at_the_size_bound_and_replay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hints::open_with(dir.path(), options(256)).unwrap();
    for k in 0..40 {
        h.store(A, &mutation(k), true).unwrap();
    }
    let files = segment_files(&dir.path().join(A.to_string()));
    assert!(files.len() > 5, "{} segments", files.len());
    for f in &files {
        assert!(fs::metadata(f).unwrap().len() <= 256);
    }
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
    assert_eq!(stats.delivered, 40);
    assert!(segment_files(&dir.path().join(A.to_string())).is_empty());
}

#[tokio::test]
async fn replay_stops_at_first_failure_and_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so the failures fall in different files.
    let h = Hints::open_with(dir.path(), options(300)).unwrap();
    for k in 0..10 {
        h.store(A, &mutation(k), true).unwrap();
    }
    let (stats, first) = replay_failing_at(&h, A, 4).await;
    assert_eq!(first, vec![0, 1, 2, 3]);
    assert_eq!(stats, ReplayStats { delivered: 4, expired: 0, remaining: 6, corrupt: 0 });
    assert_eq!(h.pending()[0].1, 6);

    let (stats, second) = replay_failing_at(&h, A, 7).await;
    assert_eq!(second, vec![4, 5, 6]);
    assert_eq!(stats.remaining, 3);

    let (stats, third) = replay_all(&h, A).await;
    assert_eq!(third.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![7, 8, 9]);
    assert_eq!(stats, ReplayStats { delivered: 3, expired: 0, remaining: 0, corrupt: 0 });
    assert!(h.pending().is_empty());
}

#[tokio::test]
async fn stopped_replay_resumes_after_restart_from_the_recorded_offset() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    for k in 0..10 {
        h.store(A, &mutation(k), true).unwrap();
    }
    let (stats, got) = replay_failing_at(&h, A, 6).await;
    assert_eq!((stats.delivered, stats.remaining, got.len()), (6, 4, 6));
    drop(h);

    let h = open(dir.path());
    assert_eq!(h.pending().iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), vec![(A, 4)]);
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![6, 7, 8, 9]);
    assert_eq!(stats.delivered, 4);
    assert_eq!(fs::read_dir(dir.path().join(A.to_string())).unwrap().count(), 0, "offset file left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_during_replay_are_neither_lost_nor_sent_twice() {
    const WRITERS: u64 = 4;
    const PER_WRITER: u64 = 600;
    let dir = tempfile::tempdir().unwrap();
    let h = Arc::new(Hints::open_with(dir.path(), options(2048)).unwrap());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let h = Arc::clone(&h);
            std::thread::spawn(move || {
                for i in 0..PER_WRITER {
                    h.store(A, &mutation(w * 100_000 + i), true).unwrap();
                    if i % 20 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();

    let delivered = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut rounds = 0;
    loop {
        let writing = writers.iter().any(|w| !w.is_finished());
        let (d, c) = (Arc::clone(&delivered), Arc::clone(&calls));
        let stats = h
            .replay(A, HOUR, move |m, _| {
                let (d, c) = (Arc::clone(&d), Arc::clone(&c));
                async move {
                    tokio::task::yield_now().await;
                    // Every 37th send fails while the writers run.
                    if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 37 == 36 && writing {
                        return Err("timeout".into());
                    }
                    d.lock().push(key_of(&m));
                    Ok(())
                }
            })
            .await
            .unwrap();
        rounds += 1;
        if !writing && stats.remaining == 0 {
            break;
        }
        assert!(rounds < 100_000);
    }
    for w in writers {
        w.join().unwrap();
    }
    let delivered = delivered.lock().clone();
    let mut sorted = delivered.clone();
    sorted.sort_unstable();
    let expected: Vec<u64> =
        (0..WRITERS).flat_map(|w| (0..PER_WRITER).map(move |i| w * 100_000 + i)).collect();
    assert_eq!(sorted, expected, "every hint delivered exactly once");
    for w in 0..WRITERS {
        let mine: Vec<u64> = delivered.iter().copied().filter(|k| k / 100_000 == w).collect();
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "writer {w}'s hints delivered out of order");
    }
    assert!(h.pending().is_empty());
    let calls = calls.load(std::sync::atomic::Ordering::SeqCst);
    assert!(calls > expected.len() as u64, "no send failed: the stop-and-resume path was not exercised");
    assert!(rounds > 2, "{rounds} replays: none ran during the stores");
}

#[tokio::test]
async fn expired_hints_are_dropped_without_sending() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    let now = now_ms();
    for k in 0..6 {
        let created = if k % 2 == 0 { now - 2 * 3_600_000 } else { now };
        h.store_at(A, &mutation(k), true, created).unwrap();
    }
    // Stamped in the future (a clock step back): not expired.
    h.store_at(A, &mutation(6), false, now + 60_000).unwrap();
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!(got, vec![(1, true), (3, true), (5, true), (6, false)]);
    assert_eq!(stats, ReplayStats { delivered: 4, expired: 3, remaining: 0, corrupt: 0 });
    assert!(h.pending().is_empty());
}

#[tokio::test]
async fn torn_tail_ends_the_file_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = one_segment(dir.path(), A, 5);
    let len = fs::metadata(&file).unwrap().len();
    OpenOptions::new().write(true).open(&file).unwrap().set_len(len - 3).unwrap();

    let h = open(dir.path());
    assert_eq!(h.pending()[0].1, 4);
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(stats, ReplayStats { delivered: 4, expired: 0, remaining: 0, corrupt: 0 });
    assert!(!file.exists());
}

#[tokio::test]
async fn damaged_entry_in_the_middle_is_skipped_and_reported() {
    // A flipped bit in the payload, in the payload's checksum, and in the length field.
    for (what, at) in [("payload", 20), ("payload crc", -1), ("length", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let (file, entry_len) = one_segment(dir.path(), A, 5);
        let mut data = fs::read(&file).unwrap();
        let third = HEADER_LEN + 2 * entry_len;
        let i = if at < 0 { third + entry_len - 1 } else { third + at as usize };
        data[i] ^= 0x10;
        fs::write(&file, &data).unwrap();

        let h = open(dir.path());
        assert_eq!(h.pending()[0].1, 4, "{what}");
        let (stats, got) = replay_all(&h, A).await;
        assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![0, 1, 3, 4], "{what}");
        assert_eq!(stats, ReplayStats { delivered: 4, expired: 0, remaining: 0, corrupt: 1 }, "{what}");
        assert!(!file.exists(), "{what}");
    }
}

#[tokio::test]
async fn reopening_sees_pending_hints() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hints::open_with(dir.path(), options(200)).unwrap();
    for k in 0..3 {
        h.store(A, &mutation(k), true).unwrap();
    }
    for k in 0..5 {
        h.store(B, &mutation(k), false).unwrap();
    }
    let before = h.pending();
    drop(h);

    let h = open(dir.path());
    let expected = vec![
        (A, 3, disk_bytes(&dir.path().join(A.to_string()))),
        (B, 5, disk_bytes(&dir.path().join(B.to_string()))),
    ];
    assert_eq!(h.pending(), expected);
    assert_eq!(before, expected);
    // New hints go to a new segment after the old ones, and come out after them.
    h.store(A, &mutation(3), true).unwrap();
    let (_, got) = replay_all(&h, A).await;
    assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    let (_, got) = replay_all(&h, B).await;
    assert_eq!(got, (0..5).map(|k| (k, false)).collect::<Vec<_>>());
}

#[tokio::test]
async fn drop_all_removes_every_hint_and_stops_a_running_replay() {
    let dir = tempfile::tempdir().unwrap();
    let h = Arc::new(open(dir.path()));
    for k in 0..5 {
        h.store(A, &mutation(k), true).unwrap();
        h.store(B, &mutation(k), true).unwrap();
    }
    h.drop_all(A).unwrap();
    assert_eq!(h.pending().iter().map(|p| p.0).collect::<Vec<_>>(), vec![B]);
    assert!(!dir.path().join(A.to_string()).exists());
    assert_eq!(replay_all(&h, A).await.0, ReplayStats::default());
    h.drop_all(Uuid::from_u128(99)).unwrap();

    // Stores after a drop_all work.
    h.store(A, &mutation(42), true).unwrap();
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!((stats.delivered, got), (1, vec![(42, true)]));

    // A drop_all while B's replay runs stops it after the send in flight.
    let h2 = Arc::clone(&h);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let s = Arc::clone(&sent);
    let stats = h
        .replay(B, HOUR, move |_, _| {
            let (h2, s) = (Arc::clone(&h2), Arc::clone(&s));
            async move {
                s.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                h2.drop_all(B).unwrap();
                Ok(())
            }
        })
        .await
        .unwrap();
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!((stats.delivered, stats.remaining), (1, 0));
    assert!(h.pending().is_empty());
    assert!(!dir.path().join(B.to_string()).exists());
}

#[tokio::test]
async fn unusable_files_are_cleaned_up_or_left_alone_never_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let tdir = dir.path().join(A.to_string());
    fs::create_dir_all(&tdir).unwrap();
    fs::write(tdir.join("hints-3.log"), b"this is not a hint segment at all").unwrap();
    fs::write(tdir.join("hints-4.log"), b"").unwrap();
    fs::write(tdir.join("hints-5.log"), encode_header(6)).unwrap();
    fs::write(tdir.join("hints-9.offset"), [0u8; 12]).unwrap();
    fs::write(tdir.join("hints-1.offset.tmp"), b"x").unwrap();
    fs::write(tdir.join("README"), b"operator notes").unwrap();
    fs::create_dir_all(dir.path().join("lost+found")).unwrap();
    fs::create_dir_all(dir.path().join(A.simple().to_string())).unwrap();
    fs::write(dir.path().join("stray"), b"x").unwrap();

    let h = open(dir.path());
    assert!(h.pending().is_empty());
    assert!(!tdir.join("hints-4.log").exists(), "header-less segment removed");
    assert!(!tdir.join("hints-9.offset").exists(), "orphan offset file removed");
    assert!(!tdir.join("hints-1.offset.tmp").exists(), "temporary file removed");
    assert!(tdir.join("hints-3.log").exists() && tdir.join("hints-5.log").exists(), "kept for the operator");

    h.store(A, &mutation(1), true).unwrap();
    assert!(tdir.join("hints-6.log").exists(), "new segment numbered after every existing one");
    let (stats, got) = replay_all(&h, A).await;
    assert_eq!((stats.delivered, got.len()), (1, 1));
    assert!(tdir.join("hints-3.log").exists());

    h.drop_all(A).unwrap();
    assert!(!tdir.exists());
}

#[tokio::test]
async fn damaged_offset_file_resends_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    for k in 0..4 {
        h.store(A, &mutation(k), true).unwrap();
    }
    let (stats, _) = replay_failing_at(&h, A, 2).await;
    assert_eq!(stats.remaining, 2);
    drop(h);
    let tdir = dir.path().join(A.to_string());
    let offset = fs::read_dir(&tdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_str().unwrap().ends_with(OFFSET_SUFFIX))
        .unwrap();
    fs::write(&offset, b"garbage").unwrap();
    let h = open(dir.path());
    let (_, got) = replay_all(&h, A).await;
    assert_eq!(got.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![0, 1, 2, 3], "at least once");
}

#[test]
fn damaged_segments_never_panic_and_only_lose_hints() {
    let mut data = encode_header(1).to_vec();
    let originals: Vec<Mutation> = (0..8).map(mutation).collect();
    for m in &originals {
        data.extend_from_slice(&encode_entry(1000, true, m).unwrap());
    }
    let (clean, corrupt) = read_segment_bytes(1, data.clone());
    assert_eq!((clean.len(), corrupt), (8, 0));

    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for round in 0..2000 {
        let mut d = data.clone();
        for _ in 0..1 + next(3) {
            let i = HEADER_LEN + next(d.len() - HEADER_LEN);
            d[i] ^= 1 << next(8);
        }
        if round % 3 == 0 {
            let keep = HEADER_LEN + next(d.len() - HEADER_LEN + 1);
            d.truncate(keep);
        }
        if round % 7 == 0 {
            // Random garbage after a valid header.
            d.truncate(HEADER_LEN);
            d.extend((0..next(512)).map(|_| next(256) as u8));
        }
        let (hints, _) = read_segment_bytes(1, d);
        let mut written = originals.iter();
        for hint in &hints {
            assert!(
                written.any(|m| *m == hint.mutation),
                "round {round}: a hint not written, or out of order"
            );
            assert_eq!((hint.created_ms, hint.durable), (1000, true));
        }
    }
    // No header at all.
    for len in 0..40 {
        let (hints, _) = read_segment_bytes(1, vec![0xff; len]);
        assert!(hints.is_empty());
    }
}

#[test]
fn entry_framing_matches_the_documented_layout() {
    let m = mutation(5);
    let e = encode_entry(0x0102_0304_0506_0708, false, &m).unwrap();
    let len = u32::from_be_bytes(e[0..4].try_into().unwrap()) as usize;
    assert_eq!(e.len(), len + ENTRY_OVERHEAD);
    assert_eq!(u32::from_be_bytes(e[4..8].try_into().unwrap()), crc32fast::hash(&e[0..4]));
    assert_eq!(e[8..16], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(e[16], 0);
    assert_eq!(e[17..8 + len], m.encode()[..]);
    assert_eq!(u32::from_be_bytes(e[8 + len..].try_into().unwrap()), crc32fast::hash(&e[8..8 + len]));
    assert_eq!(parse_file_name("hints-12.log", LOG_SUFFIX), Some(12));
    for bad in ["hints-.log", "hints-1x.log", "hint-1.log", "hints-99999999999999999999.log"] {
        assert_eq!(parse_file_name(bad, LOG_SUFFIX), None, "{bad}");
    }
}

#[test]
fn sync_thread_syncs_within_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.store(A, &mutation(1), true).unwrap();
    let t = h.shared.get(A).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while t.state.lock().active.as_ref().is_some_and(|a| a.unsynced) {
        assert!(std::time::Instant::now() < deadline, "not synced");
        std::thread::sleep(Duration::from_millis(2));
    }
    h.sync().unwrap();
}

#[test]
fn hints_and_replay_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<Hints>();
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    let fut = h.replay(A, HOUR, |_, _| async { Ok(()) });
    assert_send(&fut);
}
