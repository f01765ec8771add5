//! Bugs found by reviewing the engine, each pinned by the test that showed it: expired
//! overwrites purged over older data, a failed flush losing writes, crash images after partial
//! deletion of compaction inputs or after TRUNCATE, a codec asymmetry for expiring cells, a
//! tombstone compaction that never ends, and a fully purged table losing its replay position.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// An expired TTL'd overwrite is purged although an SSTable outside the compaction holds an
/// older value for the key: the older value comes back.
#[test]
fn expired_overwrite_purged_despite_older_data_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, 100);
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    write_ttl(&e, "k", 2, 150, "new"); // expires at START+150
    e.flush(TABLE).unwrap();
    let gens = generations(&e);
    clock.store(START + 200, Ordering::Relaxed); // expired; gc_before = START+100 <= expiry
    assert_eq!(value(&e, "k"), None, "before compaction the expired overwrite hides 'old'");
    e.compact_sstables(TABLE, &gens[1..]).unwrap();
    assert_eq!(value(&e, "k"), None, "compaction resurrected the overwritten value");
}

/// A flush that fails leaves its memtable in `flushing`; the next successful flush discards the
/// commit log past it and records a replay position above it: a restart loses its writes.
#[test]
fn failed_flush_then_successful_flush_loses_data_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    {
        let e = open(dir.path(), &clock, 864_000);
        write(&e, "k1", 1, "v1");
        let tdir = e.table(TABLE).unwrap().dir().to_path_buf();
        // Make the next flush fail (generation 1's temp Data file already exists).
        std::fs::write(tdir.join("tmp-ta-1-Data.db"), b"x").unwrap();
        assert!(e.flush(TABLE).is_err());
        assert_eq!(value(&e, "k1").as_deref(), Some("v1"));
        write(&e, "k2", 1, "v2");
        e.flush(TABLE).unwrap();
        e.drain().unwrap();
    }
    let e = open(dir.path(), &clock, 864_000);
    assert_eq!(value(&e, "k2").as_deref(), Some("v2"));
    assert_eq!(value(&e, "k1").as_deref(), Some("v1"), "acknowledged write lost: {:?}", e.replay_summary());
}

/// Compaction inputs are deleted one by one when their last holder drops them; a crash image
/// taken while one input survives (held by a reader/scan) but another (holding the tombstone)
/// is gone brings shadowed data back.
#[test]
fn partial_deletion_of_compaction_inputs_resurrects() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, 100);
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(101, Ordering::Relaxed);
    // A reader (e.g. a long scan) holds the first SSTable.
    let held = e.sstables(TABLE).unwrap()[0].clone();
    e.compact(TABLE).unwrap();
    assert_eq!(value(&e, "k"), None);
    let image = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), image.path()); // crash now
    drop(held);
    let e2 = open(image.path(), &clock, 100);
    assert_eq!(value(&e2, "k"), None, "crash image resurrected deleted data");
}

/// TRUNCATE deletes SSTable files only when unreferenced; a crash before that restores them.
#[test]
fn truncate_then_crash_with_reader_resurrects() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, 864_000);
    write(&e, "k", 1, "v");
    e.flush(TABLE).unwrap();
    let held = e.sstables(TABLE).unwrap()[0].clone();
    e.truncate(TABLE).unwrap();
    assert_eq!(value(&e, "k"), None);
    let image = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), image.path());
    drop(held);
    let e2 = open(image.path(), &clock, 864_000);
    assert_eq!(value(&e2, "k"), None, "truncated data back after crash");
}

/// A decoded cell with a TTL but local_deletion_time == NO_DELETION_TIME re-encodes into bytes
/// that no longer decode.
#[test]
fn expiring_cell_without_ldt_does_not_round_trip() {
    use bytes::Bytes;
    use storage::{Cell, CellKey, Mutation, Partition, Row};
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(
        CellKey::simple("v"),
        Cell { timestamp: 1, ttl: 5, local_deletion_time: i64::MAX, value: Bytes::from_static(b"x") },
    );
    p.rows.insert(Bytes::new(), r);
    let m = Mutation::new(TABLE, key("k"), p);
    let enc = Bytes::from(m.encode());
    assert!(Mutation::decode(&enc).is_ok(), "{:?}", Mutation::decode(&enc));
}

/// With tombstone_compaction_interval = 0, a single-SSTable tombstone compaction whose
/// tombstones cannot be purged (older data elsewhere) is picked again forever.
#[test]
fn tombstone_compaction_loops_when_purge_is_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, 100);
    let mut o = e.table(TABLE).unwrap().options();
    o.compaction.tombstone_compaction_interval = 0;
    e.alter_table(TABLE, o).unwrap();
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(1000, Ordering::Relaxed);
    // Returns (it used to rewrite the same SSTable forever) and rewrites it at most once.
    let done = e.compact_pending(TABLE).unwrap();
    assert!(done.len() <= 1, "{done:?}");
}

/// A compaction that purges everything removes the only SSTable carrying the table's
/// commitlog_upper; replay then re-applies old entries still held in a segment pinned by
/// another table, while the segment with the tombstone is already gone.
#[test]
fn fully_purged_table_loses_replay_position_and_resurrects() {
    use bytes::Bytes;
    use storage::{
        Cell, CellKey, DeletionTime, Engine, EngineConfig, Mutation, Partition, Row, TableDescriptor, TableId,
    };
    const X: TableId = TableId([20; 16]); // idle table pinning the oldest segment
    const Y: TableId = TableId([21; 16]); // filler
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let cfg = || {
        let mut c = EngineConfig::new(dir.path());
        c.clock = storage::Clock::manual(clock.clone());
        c.background_compaction = false;
        c.commitlog_segment_size = 1024;
        c
    };
    let put = |e: &Engine, t: TableId, k: &str, ts: i64, v: &str| {
        let mut p = Partition::default();
        let mut r = Row::default();
        r.cells.insert(CellKey::simple("v"), Cell::live(ts, v.as_bytes().to_vec()));
        p.rows.insert(Bytes::new(), r);
        e.apply(Mutation::new(t, key(k), p), true).unwrap();
    };
    {
        let e = Engine::open(cfg()).unwrap();
        let mut d = TableDescriptor::new(TABLE, "ks", "t");
        d.options.gc_grace_seconds = 100;
        e.create_table(d).unwrap();
        e.create_table(TableDescriptor::new(X, "ks", "x")).unwrap();
        e.create_table(TableDescriptor::new(Y, "ks", "y")).unwrap();
        put(&e, X, "x", 1, "pin");
        put(&e, TABLE, "k", 1, "old");
        // Fill so that the tombstone lands in a later segment than the data.
        for i in 0..20 {
            put(&e, Y, &format!("y{i}"), 1, &"f".repeat(100));
        }
        let p = Partition { deletion: DeletionTime::new(2, START), ..Default::default() };
        e.apply(Mutation::new(TABLE, key("k"), p), true).unwrap();
        for i in 0..20 {
            put(&e, Y, &format!("z{i}"), 1, &"f".repeat(100));
        }
        e.flush(TABLE).unwrap();
        e.flush(Y).unwrap();
        assert_eq!(value(&e, "k"), None);
        clock.fetch_add(1000, Ordering::Relaxed);
        e.compact(TABLE).unwrap();
        assert!(e.sstables(TABLE).unwrap().is_empty(), "everything purged");
        assert_eq!(value(&e, "k"), None);
    }
    let e = Engine::open(cfg()).unwrap();
    assert_eq!(value(&e, "k"), None, "deleted value resurrected by replay");
}

#[test]
fn expiring_cell_without_ldt_breaks_sstable() {
    use bytes::Bytes;
    use storage::{Cell, CellKey, Mutation, Partition, Row};
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, 864_000);
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(
        CellKey::simple("v"),
        Cell { timestamp: 1, ttl: 5, local_deletion_time: i64::MAX, value: Bytes::from_static(b"x") },
    );
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, key("k"), p), true).unwrap();
    e.flush(TABLE).unwrap();
    let r = e.read(TABLE, &key("k"), None);
    assert!(r.is_ok());
}
