//! A flipped bit in an SSTable component or in a commit log entry is caught by its checksum and
//! reported with the file and offset; the engine never returns silently wrong data.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::Error;

fn flip(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

fn component(dir: &Path, suffix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> =
        walk(dir).into_iter().filter(|p| p.to_string_lossy().ends_with(suffix)).collect();
    found.sort();
    found.pop().unwrap_or_else(|| panic!("no {suffix} under {}", dir.display()))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Writes 2,000 partitions (several 64 KiB chunks) and flushes them.
fn populated(dir: &Path, clock: &Arc<AtomicI64>) {
    let e = open(dir, clock, 864_000);
    for i in 0..2_000 {
        write(&e, &format!("key-{i}"), 1, &format!("value-{i}-{}", "x".repeat(60)));
    }
    e.flush(TABLE).unwrap();
}

#[test]
fn flipped_bit_in_a_data_chunk_is_reported_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    populated(dir.path(), &clock);
    let data = component(dir.path(), "-Data.db");
    flip(&data, 100);
    let e = open(dir.path(), &clock, 864_000);
    let mut errors = 0;
    for i in 0..2_000 {
        match e.read(TABLE, &key(&format!("key-{i}")), None) {
            Ok(Some(p)) => {
                let v = p.live(e.now_secs());
                let cell = &v.rows[&bytes::Bytes::new()].cells[&storage::CellKey::simple("v")];
                assert_eq!(
                    cell.value,
                    format!("value-{i}-{}", "x".repeat(60)).as_bytes(),
                    "wrong data returned"
                );
            }
            Ok(None) => panic!("key-{i} vanished instead of reporting corruption"),
            Err(Error::Corruption { path, offset, reason }) => {
                assert_eq!(path, data);
                assert_eq!(offset, 0, "the first chunk starts at offset 0");
                assert!(reason.contains("checksum"), "{reason}");
                errors += 1;
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert!(errors > 0, "the damaged chunk was never detected");
    assert!(errors < 2_000, "only partitions in the damaged chunk are affected");
    // A scan stops with the error rather than skipping data silently.
    let scan = e.scan(TABLE, &storage::KeyRange::all()).and_then(|it| it.collect::<Result<Vec<_>, _>>());
    assert!(matches!(scan, Err(Error::Corruption { .. })));
}

#[test]
fn flipped_bit_in_index_filter_statistics_or_compression_info_fails_the_open_naming_the_file() {
    for suffix in ["-Index.db", "-Filter.db", "-Statistics.db", "-CompressionInfo.db"] {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(AtomicI64::new(START));
        populated(dir.path(), &clock);
        let file = component(dir.path(), suffix);
        flip(&file, 20);
        let mut c = storage::EngineConfig::new(dir.path());
        c.background_compaction = false;
        match storage::Engine::open(c) {
            Err(Error::Corruption { path, .. }) => assert_eq!(path, file, "{suffix}"),
            Err(other) => panic!("{suffix}: unexpected error {other}"),
            Ok(_) => panic!("{suffix}: corruption not detected"),
        }
    }
}

#[test]
fn flipped_bit_in_a_commit_log_entry_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let image = tempfile::tempdir().unwrap();
    {
        let e = open(dir.path(), &clock, 864_000);
        for i in 0..10 {
            write(&e, &format!("k{i}"), 1, &format!("v{i}"));
        }
        e.sync_commitlog().unwrap();
        // Take the crash image while the engine still runs (drop would flush nothing, but
        // keep the test independent of shutdown behaviour).
        copy_dir(dir.path(), image.path());
    }
    let segment = component(&image.path().join("commitlog"), ".log");
    // Entry 0 starts after the 18-byte header; its payload starts 8 bytes later.
    flip(&segment, 18 + 8 + 5);
    let e = open(image.path(), &clock, 864_000);
    let corrupt = &e.replay_summary().log.corrupt;
    assert_eq!(corrupt.len(), 1, "{corrupt:?}");
    assert_eq!(corrupt[0].path, segment);
    assert_eq!(corrupt[0].offset, 18);
    assert_eq!(value(&e, "k0"), None, "the damaged entry is never applied");
    let kept = image.path().join("commitlog_corrupt").join(segment.file_name().unwrap());
    assert!(kept.exists(), "the damaged segment is kept for inspection");
    for i in 1..10 {
        assert_eq!(value(&e, &format!("k{i}")), Some(format!("v{i}")));
    }
}
