//! `Engine::table_stats`: SSTable and memtable counts and sizes, tombstones of every kind and
//! those past gc_grace, the repaired share, pending-repair bytes and due compactions.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use storage::{Cell, CellKey, ClusteringRange, DeletionTime, Mutation, Partition, RangeTombstone, Row};

const GC_GRACE: u32 = 100;

#[test]
fn stats_follow_writes_flushes_deletions_repair_and_compaction() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!((s.sstable_count, s.partitions, s.space_used_live, s.tombstones), (0, 0, 0, 0));
    assert_eq!(s.percent_repaired, 100.0);
    assert_eq!(s.compactions_pending, 0);

    for i in 0..10 {
        write(&e, &format!("k{i}"), 1, "v");
    }
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!((s.memtable_partitions, s.partitions, s.sstable_count), (10, 10, 0));
    assert!(s.memtable_bytes > 0);
    e.flush(TABLE).unwrap();
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!((s.memtable_partitions, s.memtable_bytes, s.partitions, s.sstable_count), (0, 0, 10, 1));
    let on_disk: u64 = e.sstables(TABLE).unwrap().iter().map(|s| s.disk_size()).sum();
    assert_eq!(s.space_used_live, on_disk);
    assert!(s.space_used_total >= s.space_used_live);
    assert_eq!(s.percent_repaired, 0.0);

    // One tombstone of each kind: partition, range, row, cell.
    let now = e.now_secs();
    delete(&e, "gone", 5);
    let mut p = Partition::default();
    p.range_tombstones
        .push(RangeTombstone { range: ClusteringRange::all(), deletion: DeletionTime::new(5, now) });
    e.apply(Mutation::new(TABLE, key("ranged"), p), true).unwrap();
    let mut p = Partition::default();
    p.rows
        .insert(Bytes::from_static(b"r"), Row { deletion: DeletionTime::new(5, now), ..Default::default() });
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::tombstone(5, now));
    p.rows.insert(Bytes::from_static(b"s"), r);
    e.apply(Mutation::new(TABLE, key("rows"), p), true).unwrap();
    e.flush(TABLE).unwrap();
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!(s.tombstones, 4);
    assert_eq!(s.droppable_tombstones, 0, "nothing is past gc_grace yet");
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    assert_eq!(e.table_stats(TABLE).unwrap().droppable_tombstones, 4);

    // Repaired share and pending bytes.
    let ssts = e.sstables(TABLE).unwrap();
    ssts[0].set_repair_state(10, None).unwrap();
    let s = e.table_stats(TABLE).unwrap();
    let (a, b) = (ssts[0].data_size() as f64, ssts[1].data_size() as f64);
    assert!((s.percent_repaired - a * 100.0 / (a + b)).abs() < 1e-9, "{}", s.percent_repaired);
    assert_eq!(s.repaired_bytes, ssts[0].data_size());
    e.anticompact(TABLE, &[(i64::MIN, i64::MAX)], "s").unwrap();
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!(s.pending_repair_bytes, ssts[1].data_size());
    assert_eq!(s.unrepaired_bytes, 0);

    // Due compactions: four unrepaired SSTables make one size-tiered task.
    e.abort_repair(TABLE, "s").unwrap();
    for i in 0..3 {
        write(&e, &format!("x{i}"), 1, "v");
        e.flush(TABLE).unwrap();
    }
    assert_eq!(e.table_stats(TABLE).unwrap().compactions_pending, 1);

    // SSTables replaced by compaction but still held by a reader count in the total only.
    let held = e.sstables(TABLE).unwrap();
    e.compact(TABLE).unwrap();
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!(s.sstable_count, 2, "one per pool");
    assert!(s.space_used_total > s.space_used_live);
    drop((held, ssts));
    let s = e.table_stats(TABLE).unwrap();
    assert_eq!(s.space_used_total, s.space_used_live);
    assert_eq!(s.compactions_pending, 0);
}
