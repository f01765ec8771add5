//! The purge rules: a tombstone younger than gc_grace survives compaction; an older one is
//! dropped only together with what it shadows; it is kept while an SSTable outside the
//! compaction (or a memtable) still holds older data for its partition.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const GC_GRACE: u32 = 100;

#[test]
fn tombstone_younger_than_gc_grace_survives_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) - 1, Ordering::Relaxed);
    e.compact(TABLE).unwrap();
    assert_eq!(generations(&e).len(), 1);
    assert_eq!(tombstones(&e), 1, "the tombstone must be kept until gc_grace has passed");
    assert_eq!(value(&e, "k"), None);
}

#[test]
fn old_tombstone_is_dropped_together_with_what_it_shadows() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "old");
    write(&e, "other", 1, "stays");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    let summaries = e.compact(TABLE).unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].partitions_out, 1, "only the untouched partition is written");
    assert_eq!(tombstones(&e), 0);
    assert_eq!(value(&e, "k"), None, "the shadowed data went with its tombstone");
    assert_eq!(value(&e, "other").as_deref(), Some("stays"));
}

#[test]
fn old_tombstone_is_kept_while_an_sstable_outside_the_compaction_holds_older_data() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    let gens = generations(&e);
    assert_eq!(gens.len(), 2);
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);

    // Compact only the SSTable with the tombstone: the older data lives on outside it.
    e.compact_sstables(TABLE, &gens[1..]).unwrap();
    assert_eq!(tombstones(&e), 1, "dropping the tombstone would resurrect the old value");
    assert_eq!(value(&e, "k"), None);

    // Together they may go.
    let all = generations(&e);
    e.compact_sstables(TABLE, &all).unwrap();
    assert_eq!(tombstones(&e), 0);
    assert_eq!(value(&e, "k"), None);
}

#[test]
fn older_data_in_a_memtable_also_blocks_the_purge() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    delete(&e, "k", 10);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    // A late write with an older timestamp sits in the memtable.
    write(&e, "k", 5, "late");
    e.compact(TABLE).unwrap();
    assert_eq!(tombstones(&e), 1);
    assert_eq!(value(&e, "k"), None);
}

#[test]
fn newer_data_outside_the_compaction_does_not_block_the_purge() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    write(&e, "k", 3, "new");
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    let gens = generations(&e);
    e.compact_sstables(TABLE, &gens[..1]).unwrap();
    assert_eq!(tombstones(&e), 0);
    assert_eq!(value(&e, "k").as_deref(), Some("new"));
}

#[test]
fn expired_cells_become_tombstones_then_go_after_gc_grace() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    write_ttl(&e, "k", 1, 10, "short-lived");
    e.flush(TABLE).unwrap();
    assert_eq!(value(&e, "k").as_deref(), Some("short-lived"));
    clock.fetch_add(11, Ordering::Relaxed);
    assert_eq!(value(&e, "k"), None, "expired");
    e.compact(TABLE).unwrap();
    let s = &e.sstables(TABLE).unwrap()[0];
    assert_eq!(s.stats().tombstones, 1, "an expired cell is rewritten as a tombstone");
    assert_eq!(s.stats().expiring_cells, 0);
    // gc_grace counts from the write: written at START, so it is purgeable after START + gc_grace.
    clock.store(START + i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    e.compact(TABLE).unwrap();
    assert!(generations(&e).is_empty(), "nothing is left");
}

#[test]
fn only_purge_repaired_tombstones_keeps_unrepaired_ones() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let e = open(dir.path(), &clock, GC_GRACE);
    let mut opts = e.table(TABLE).unwrap().options();
    opts.compaction.only_purge_repaired_tombstones = true;
    e.alter_table(TABLE, opts).unwrap();
    write(&e, "k", 1, "old");
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    e.compact(TABLE).unwrap();
    assert_eq!(tombstones(&e), 1, "unrepaired tombstones are never purged with the option on");
    // Once repaired, it may go.
    for s in e.sstables(TABLE).unwrap() {
        s.set_repair_state(1, None).unwrap();
    }
    e.compact(TABLE).unwrap();
    assert_eq!(tombstones(&e), 0);
}
