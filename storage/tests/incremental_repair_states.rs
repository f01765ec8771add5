//! Incremental repair's SSTable states: anticompaction puts exactly the unrepaired data of the
//! repaired ranges under the session (splitting SSTables at the range edges, start exclusive,
//! end inclusive) and changes no cell; finalize makes it repaired, abort unrepaired again; a
//! restart returns pending data to unrepaired; compaction never mixes the pools.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::{DecoratedKey, Engine, Partition, RepairScope, Token};

fn sorted_keys(n: usize, prefix: &str) -> Vec<DecoratedKey> {
    let mut keys: Vec<DecoratedKey> = (0..n).map(|i| key(&format!("{prefix}{i}"))).collect();
    keys.sort();
    keys
}

fn name(k: &DecoratedKey) -> String {
    String::from_utf8_lossy(&k.key).into_owned()
}

/// Every partition of the table, full data, by key.
fn everything(e: &Engine) -> Vec<(DecoratedKey, Partition)> {
    let mut out: Vec<_> = e.scan(TABLE, &storage::KeyRange::all()).unwrap().map(|r| r.unwrap()).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Keys held by SSTables in the given state: `Some(session)` pending, `None` unrepaired.
fn keys_in(e: &Engine, pending: Option<&str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in e.sstables(TABLE).unwrap() {
        let st = s.stats();
        if st.pending_repair.as_deref() == pending && !st.is_repaired() {
            for item in s.scan(&storage::KeyRange::all(), false).unwrap() {
                out.insert(name(&item.unwrap().0));
            }
        }
    }
    out
}

#[test]
fn anticompaction_splits_exactly_at_the_range_edges_and_keeps_every_cell() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    let keys = sorted_keys(100, "k");
    for (i, k) in keys.iter().enumerate() {
        write(&e, &name(k), 1, &format!("v{i}"));
    }
    delete(&e, &name(&keys[20]), 5); // a tombstone at the edge travels with its partition
    e.flush(TABLE).unwrap();
    let before = everything(&e);
    // (token of k10, token of k30] and (k60, k70]: k10 and k60 stay out, k30 and k70 go in.
    let ranges = [(keys[10].token, keys[30].token), (keys[60].token, keys[70].token)];
    let s = e.anticompact(TABLE, &ranges, "s1").unwrap();
    assert_eq!((s.sstables_marked, s.sstables_split), (0, 1), "{s:?}");
    assert!(s.bytes_pending > 0 && s.bytes_pending < s.bytes_split);
    let expected: BTreeSet<String> = keys[11..=30].iter().chain(&keys[61..=70]).map(name).collect();
    assert_eq!(keys_in(&e, Some("s1")), expected);
    assert_eq!(keys_in(&e, None).len(), 100 - expected.len());
    assert_eq!(everything(&e), before, "anticompaction changed data");
    assert_eq!(e.pending_sessions(TABLE), vec!["s1".to_string()]);
    // The session's validation sees exactly its data; the unrepaired scope the rest.
    let whole = (Token::MIN, Token::MAX);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Pending("s1".into()), 8).unwrap().partitions(), 30);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Unrepaired, 8).unwrap().partitions(), 70);
}

#[test]
fn whole_sstables_are_marked_in_place_and_others_are_left_alone() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    let keys = sorted_keys(40, "k");
    // SSTable 1: keys 0..10 (wholly inside the range below); 2: 30..40 (outside);
    // 3: 5..35 already repaired (never touched); 4: 8..12 (straddles the end).
    for (range, repaired) in [(0..10, false), (30..40, false), (5..35, true), (8..12, false)] {
        for k in &keys[range] {
            write(&e, &name(k), 1, "v");
        }
        e.flush(TABLE).unwrap();
        if repaired {
            e.sstables(TABLE).unwrap().last().unwrap().set_repair_state(42, None).unwrap();
        }
    }
    let gens = generations(&e);
    let before = everything(&e);
    let s = e.anticompact(TABLE, &[(Token::MIN, keys[9].token)], "s").unwrap();
    assert_eq!((s.sstables_marked, s.sstables_split), (1, 1), "{s:?}");
    let now = e.sstables(TABLE).unwrap();
    let by_gen = |g: u64| now.iter().find(|s| s.generation() == g).map(|s| s.stats());
    assert_eq!(by_gen(gens[0]).unwrap().pending_repair.as_deref(), Some("s"), "marked in place");
    assert_eq!(by_gen(gens[1]).unwrap().pending_repair, None);
    assert_eq!(by_gen(gens[2]).unwrap().repaired_at, 42);
    assert!(by_gen(gens[3]).is_none(), "the straddling SSTable was replaced");
    assert_eq!(keys_in(&e, Some("s")), keys[0..10].iter().map(name).collect());
    assert_eq!(everything(&e), before);
    // Unknown sessions, wrapping ranges and empty session ids are refused or harmless.
    assert!(e.anticompact(TABLE, &[(5, 5)], "x").is_err());
    assert!(e.anticompact(TABLE, &[(1, 2)], "").is_err());
    assert_eq!(e.finalize_repair(TABLE, "nobody", 7).unwrap(), 0);
    assert!(e.finalize_repair(TABLE, "s", 0).is_err());
}

#[test]
fn finalize_makes_pending_data_repaired_and_abort_makes_it_unrepaired() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    let keys = sorted_keys(60, "k");
    for k in &keys {
        write(&e, &name(k), 1, "v");
    }
    let a = (keys[0].token - 1, keys[19].token);
    let b = (keys[39].token, Token::MAX);
    e.anticompact(TABLE, &[a], "ok").unwrap();
    e.anticompact(TABLE, &[b], "bad").unwrap();
    assert_eq!(e.pending_sessions(TABLE), vec!["bad".to_string(), "ok".to_string()]);
    // The second session never takes data the first holds.
    e.anticompact(TABLE, &[a], "late").unwrap();
    assert!(!e.pending_sessions(TABLE).contains(&"late".to_string()));

    assert_eq!(e.finalize_repair(TABLE, "ok", 1_700_000_000_000).unwrap(), 1);
    assert_eq!(e.abort_repair(TABLE, "bad").unwrap(), 1);
    assert!(e.pending_sessions(TABLE).is_empty());
    let repaired: Vec<_> = e.sstables(TABLE).unwrap().into_iter().filter(|s| s.is_repaired()).collect();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0].stats().repaired_at, 1_700_000_000_000);
    let whole = (Token::MIN, Token::MAX);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Unrepaired, 8).unwrap().partitions(), 40);
    // The next incremental repair of the same ranges finds only new data.
    write(&e, &name(&keys[5]), 2, "new");
    let s = e.anticompact(TABLE, &[a], "next").unwrap();
    assert_eq!(s.sstables_marked, 1);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Pending("next".into()), 8).unwrap().partitions(), 1);
    assert_eq!(value(&e, &name(&keys[5])).as_deref(), Some("new"));
}

#[test]
fn a_restart_returns_pending_data_to_unrepaired() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let keys = sorted_keys(30, "k");
    let before = {
        let e = open(d.path(), &clock, 864_000);
        for k in &keys {
            write(&e, &name(k), 1, "v");
        }
        e.anticompact(TABLE, &[(keys[3].token, keys[20].token)], "s").unwrap();
        assert_eq!(e.pending_sessions(TABLE).len(), 1);
        everything(&e)
    };
    let e = open(d.path(), &clock, 864_000);
    assert!(e.pending_sessions(TABLE).is_empty());
    assert!(e.sstables(TABLE).unwrap().iter().all(|s| !s.is_repaired()));
    assert_eq!(e.finalize_repair(TABLE, "s", 9).unwrap(), 0, "the session marks nothing after a restart");
    assert_eq!(everything(&e), before);
}

#[test]
fn compaction_never_mixes_repaired_unrepaired_and_pending_pools() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    let mut opts = e.table(TABLE).unwrap().options();
    opts.compaction.min_threshold = 2;
    e.alter_table(TABLE, opts).unwrap();
    // Four SSTables in each of four pools.
    let pools: [(&str, u64, Option<&str>); 4] =
        [("u", 0, None), ("r", 77, None), ("a", 0, Some("sa")), ("b", 0, Some("sb"))];
    for (prefix, repaired_at, pending) in pools {
        for i in 0..4 {
            write(&e, &format!("{prefix}{i}"), 1, "v");
            e.flush(TABLE).unwrap();
            let s = e.sstables(TABLE).unwrap().last().unwrap().clone();
            s.set_repair_state(repaired_at, pending.map(String::from)).unwrap();
        }
    }
    let before = everything(&e);
    let state = |g: u64, all: &[Arc<storage::sstable::SSTableReader>]| {
        let st = all.iter().find(|s| s.generation() == g).unwrap().stats();
        (st.repaired_at, st.pending_repair)
    };
    // A user-defined compaction across pools is refused.
    let all = e.sstables(TABLE).unwrap();
    let mixed = [all[0].generation(), all[4].generation()];
    assert!(e.compact_sstables(TABLE, &mixed).is_err());
    let mixed = [all[8].generation(), all[12].generation()];
    assert!(e.compact_sstables(TABLE, &mixed).is_err());
    // Size-tiered compaction: each run's inputs come from one pool, and its output keeps it.
    let mut ran = 0;
    loop {
        let all = e.sstables(TABLE).unwrap();
        let done = e.compact_pending(TABLE).unwrap();
        if done.is_empty() {
            break;
        }
        for c in &done {
            ran += 1;
            let states: BTreeSet<_> = c.inputs.iter().map(|g| state(*g, &all)).collect();
            assert_eq!(states.len(), 1, "compaction {c:?} mixed pools {states:?}");
            let out = state(c.output.unwrap(), &e.sstables(TABLE).unwrap());
            assert_eq!(BTreeSet::from([out]), states);
        }
    }
    assert!(ran >= 4, "size-tiered compaction ran {ran} times");
    // Major compaction: one SSTable per pool.
    e.compact(TABLE).unwrap();
    let left: Vec<_> = e
        .sstables(TABLE)
        .unwrap()
        .iter()
        .map(|s| (s.stats().repaired_at, s.stats().pending_repair))
        .collect();
    assert_eq!(left.len(), 4, "{left:?}");
    assert_eq!(everything(&e), before);
    assert_eq!(e.pending_sessions(TABLE), vec!["sa".to_string(), "sb".to_string()]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any keys, any flush points, any ranges: afterwards the session holds exactly the
    /// previously unrepaired partitions whose token is in a range, and every read is unchanged.
    #[test]
    fn anticompaction_moves_exactly_the_in_range_unrepaired_data(
        n in 1usize..80,
        flushes in proptest::collection::vec(any::<bool>(), 80),
        repaired_first in any::<bool>(),
        cuts in proptest::collection::vec((0usize..80, 0usize..80), 1..4),
    ) {
        let clock = Arc::new(AtomicI64::new(START));
        let d = tempfile::tempdir().unwrap();
        let e = open(d.path(), &clock, 864_000);
        let keys = sorted_keys(n, "p");
        let mut repaired = BTreeSet::new();
        for (i, k) in keys.iter().enumerate() {
            write(&e, &name(k), i as i64, "v");
            if flushes[i] {
                e.flush(TABLE).unwrap();
                if repaired_first && repaired.is_empty() {
                    for s in e.sstables(TABLE).unwrap() {
                        s.set_repair_state(5, None).unwrap();
                    }
                    repaired = keys[..=i].iter().map(name).collect();
                }
            }
        }
        let ranges: Vec<(Token, Token)> = cuts
            .iter()
            .map(|(a, b)| (keys[a % n].token, keys[b % n].token))
            .filter(|(a, b)| a < b)
            .collect();
        prop_assume!(!ranges.is_empty());
        let before = everything(&e);
        e.anticompact(TABLE, &ranges, "s").unwrap();
        let expected: BTreeSet<String> = keys
            .iter()
            .filter(|k| ranges.iter().any(|(a, b)| *a < k.token && k.token <= *b))
            .map(name)
            .filter(|k| !repaired.contains(k))
            .collect();
        prop_assert_eq!(keys_in(&e, Some("s")), expected);
        prop_assert_eq!(everything(&e), before);
    }
}

#[test]
fn streamed_data_imported_as_pending_is_repaired_by_the_sessions_finalize() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    write(&e, "local", 1, "v");
    e.anticompact(TABLE, &[(Token::MIN, Token::MAX)], "s").unwrap();
    // What a peer streamed: two versions of one key (merged) and another key, out of order.
    let peer = tempfile::tempdir().unwrap();
    let p = open(peer.path(), &clock, 864_000);
    write(&p, "streamed", 5, "new");
    write(&p, "local", 2, "newer");
    let mut got = p.read_partitions(TABLE, &[key("streamed"), key("local")]).unwrap();
    got.push(got[0].clone());
    let g = e.import(TABLE, got, Some("s")).unwrap().unwrap();
    let imported = e.sstables(TABLE).unwrap().into_iter().find(|s| s.generation() == g).unwrap();
    assert_eq!(imported.partition_count(), 2);
    assert_eq!(value(&e, "local").as_deref(), Some("newer"));
    assert_eq!(value(&e, "streamed").as_deref(), Some("new"));
    let whole = (Token::MIN, Token::MAX);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Pending("s".into()), 4).unwrap().partitions(), 2);
    assert_eq!(e.finalize_repair(TABLE, "s", 77).unwrap(), 2);
    assert_eq!(e.validate(TABLE, whole, &RepairScope::Unrepaired, 4).unwrap().partitions(), 0);
    // Without a session it is plain unrepaired data; nothing to write, nothing written.
    assert!(e.import(TABLE, Vec::new(), None).unwrap().is_none());
    let g = e.import(TABLE, p.read_partitions(TABLE, &[key("streamed")]).unwrap(), None).unwrap().unwrap();
    let s = e.sstables(TABLE).unwrap().into_iter().find(|s| s.generation() == g).unwrap();
    assert!(!s.is_repaired() && s.stats().pending_repair.is_none());
    drop(s);
    drop(e);
    let e = open(d.path(), &clock, 864_000);
    assert_eq!(value(&e, "streamed").as_deref(), Some("new"), "imported data is durable");
}
