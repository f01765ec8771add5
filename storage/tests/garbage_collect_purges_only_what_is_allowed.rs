//! `Engine::garbage_collect` (nodetool garbagecollect): each SSTable compacted alone drops
//! tombstones past gc_grace that shadow nothing left anywhere, and data that a tombstone or a
//! newer version in another SSTable of its repair pool supersedes; it never drops what a read
//! could still see, never uses another pool's data, and leaves pending SSTables alone.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use storage::{Engine, KeyRange};

const GC_GRACE: u32 = 100;

fn cells(e: &Engine) -> u64 {
    e.sstables(TABLE).unwrap().iter().map(|s| s.stats().cells).sum()
}

#[test]
fn an_old_tombstone_goes_with_what_it_shadows_across_sstables() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "old");
    write(&e, "other", 1, "stays");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    let done = e.garbage_collect(TABLE).unwrap();
    assert_eq!(done.len(), 2, "each SSTable alone");
    assert!(done.iter().all(|c| c.inputs.len() == 1));
    // The first drops the shadowed cell (the tombstone elsewhere covers it), the second the
    // tombstone, which now shadows nothing.
    assert_eq!(tombstones(&e), 0);
    assert_eq!(cells(&e), 1);
    assert_eq!(value(&e, "k"), None);
    assert_eq!(value(&e, "other").as_deref(), Some("stays"));
}

#[test]
fn a_young_tombstone_stays_but_what_it_shadows_goes() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "old");
    e.flush(TABLE).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    clock.fetch_add(i64::from(GC_GRACE) - 1, Ordering::Relaxed);
    e.garbage_collect(TABLE).unwrap();
    assert_eq!(tombstones(&e), 1, "kept until gc_grace has passed");
    assert_eq!(cells(&e), 0, "the shadowed cell is dropped anyway");
    assert_eq!(generations(&e).len(), 1);
    assert_eq!(value(&e, "k"), None);
}

#[test]
fn overwritten_cells_in_older_sstables_are_dropped() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    for i in 0..10 {
        write(&e, &format!("k{i}"), 1, "old");
    }
    e.flush(TABLE).unwrap();
    for i in 0..5 {
        write(&e, &format!("k{i}"), 2, "new");
    }
    write(&e, "k9", 0, "older write arriving late");
    e.flush(TABLE).unwrap();
    e.garbage_collect(TABLE).unwrap();
    assert_eq!(cells(&e), 10, "5 old + 5 new; the late older write is beaten too");
    for i in 0..10 {
        let want = if i < 5 { "new" } else { "old" };
        assert_eq!(value(&e, &format!("k{i}")).as_deref(), Some(want));
    }
}

#[test]
fn older_data_in_another_pool_or_a_memtable_blocks_the_purge_and_is_not_used() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "repaired old");
    e.flush(TABLE).unwrap();
    e.sstables(TABLE).unwrap()[0].set_repair_state(5, None).unwrap();
    delete(&e, "k", 2);
    e.flush(TABLE).unwrap();
    write(&e, "m", 5, "late");
    e.flush(TABLE).unwrap();
    delete(&e, "m", 10);
    e.flush(TABLE).unwrap();
    write(&e, "m", 4, "older, in the memtable");
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    e.garbage_collect(TABLE).unwrap();
    let repaired: Vec<_> = e.sstables(TABLE).unwrap().into_iter().filter(|s| s.is_repaired()).collect();
    assert_eq!(repaired.len(), 1, "the repaired SSTable keeps its state");
    assert_eq!(repaired[0].stats().cells, 1, "an unrepaired tombstone does not drop repaired data");
    assert_eq!(tombstones(&e), 2, "both tombstones still shadow older data elsewhere");
    assert_eq!(value(&e, "k"), None);
    assert_eq!(value(&e, "m"), None);
}

#[test]
fn pending_sstables_are_left_alone() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, GC_GRACE);
    write(&e, "k", 1, "v");
    delete(&e, "k", 2);
    e.anticompact(TABLE, &[(i64::MIN, i64::MAX)], "s").unwrap();
    let gens = generations(&e);
    clock.fetch_add(i64::from(GC_GRACE) + 1, Ordering::Relaxed);
    assert!(e.garbage_collect(TABLE).unwrap().is_empty());
    assert_eq!(generations(&e), gens);
}

/// What every key reads as at the engine's clock.
fn reads(e: &Engine) -> Vec<(Vec<u8>, storage::Partition)> {
    let now = e.now_secs();
    e.scan(TABLE, &KeyRange::all())
        .unwrap()
        .map(|r| r.unwrap())
        .map(|(k, p)| (k.key.to_vec(), p.live(now)))
        .filter(|(_, p)| !p.is_empty())
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    Write(u8, i64),
    WriteTtl(u8, i64, u32),
    Delete(u8, i64),
    Flush,
    Repair,
    Advance(i64),
    GarbageCollect,
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 0i64..30).prop_map(|(k, t)| Op::Write(k, t)),
        1 => (0u8..8, 0i64..30, 1u32..300).prop_map(|(k, t, l)| Op::WriteTtl(k, t, l)),
        2 => (0u8..8, 0i64..30).prop_map(|(k, t)| Op::Delete(k, t)),
        2 => Just(Op::Flush),
        1 => Just(Op::Repair),
        1 => (1i64..150).prop_map(Op::Advance),
        2 => Just(Op::GarbageCollect),
        1 => Just(Op::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// An engine that garbage-collects reads exactly like a twin that never does, at every
    /// step, through later writes of old timestamps, flushes, repairs and compactions.
    ///
    /// Write timestamps follow the clock, up to 30 s late (less than gc_grace): a write older
    /// than a tombstone that gc_grace already let go may resurrect data by design, whether
    /// garbagecollect or any compaction purged it. They are also unique (the op's index breaks
    /// ties): compaction rewrites an expired cell as a tombstone, which beats a later write of
    /// the very same timestamp where the expired cell would not (Cassandra's rule too).
    #[test]
    fn garbage_collection_never_changes_a_read(ops in proptest::collection::vec(op(), 1..50)) {
        let clock = Arc::new(AtomicI64::new(START));
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (open(da.path(), &clock, GC_GRACE), open(db.path(), &clock, GC_GRACE));
        for (i, op) in ops.iter().enumerate() {
            let now = clock.load(Ordering::Relaxed) - START;
            let ts = |late: i64| ((now - late) * 1000) * 100 + i as i64;
            for (e, gc) in [(&a, true), (&b, false)] {
                match op {
                    Op::Write(k, t) => write(e, &format!("p{k}"), ts(*t), &format!("v{t}")),
                    Op::WriteTtl(k, t, l) => write_ttl(e, &format!("p{k}"), ts(*t), *l, "ttl"),
                    Op::Delete(k, t) => delete(e, &format!("p{k}"), ts(*t)),
                    Op::Flush => e.flush(TABLE).unwrap(),
                    Op::Repair => {
                        e.anticompact(TABLE, &[(i64::MIN, i64::MAX)], "s").unwrap();
                        e.finalize_repair(TABLE, "s", 1).unwrap();
                    }
                    Op::Advance(_) => {}
                    Op::GarbageCollect => {
                        if gc {
                            e.garbage_collect(TABLE).unwrap();
                        }
                    }
                    Op::Compact => {
                        e.compact(TABLE).unwrap();
                    }
                }
            }
            if let Op::Advance(s) = op {
                clock.fetch_add(*s, Ordering::Relaxed);
            }
            prop_assert_eq!(reads(&a), reads(&b), "after {:?}", op);
        }
    }
}
