//! Validation: two replicas holding the same data build equal Merkle trees and partition hashes
//! whatever their SSTable layout (flushed at other moments, compacted or not, overwritten
//! values and deleted rows still in older SSTables), and differ exactly in the leaves of the
//! partitions whose data differs — a tombstone alone, or a TTL alone, is a difference.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::{
    Cell, CellKey, ClusteringRange, DecoratedKey, DeletionTime, Engine, Mutation, Partition, RangeTombstone,
    RepairScope, Row, Token,
};

const WHOLE_RING: (Token, Token) = (Token::MIN, Token::MAX);

fn cell(e: &Engine, k: &str, ck: &str, col: &str, c: Cell) {
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(CellKey::simple(col.to_string()), c);
    p.rows.insert(Bytes::from(ck.to_string()), r);
    e.apply(Mutation::new(TABLE, key(k), p), true).unwrap();
}

fn range_delete(e: &Engine, k: &str, lo: &str, hi: &str, ts: i64) {
    let mut p = Partition::default();
    let range = ClusteringRange::from_prefix_bounds(Some((lo.as_bytes(), true)), Some((hi.as_bytes(), true)))
        .unwrap();
    p.range_tombstones.push(RangeTombstone { range, deletion: DeletionTime::new(ts, e.now_secs()) });
    e.apply(Mutation::new(TABLE, key(k), p), true).unwrap();
}

fn tree(e: &Engine, scope: &RepairScope) -> storage::MerkleTree {
    e.validate(TABLE, WHOLE_RING, scope, 12).unwrap()
}

fn leaf_of(t: &storage::MerkleTree, k: &str) -> (Token, Token) {
    t.leaf_range(t.leaf_of(key(k).token).unwrap())
}

/// The same data, written to `a` in one go and to `b` over several SSTables with overwrites,
/// shadowed rows and a memtable.
fn same_data_two_layouts(a: &Engine, b: &Engine) {
    for i in 0..50 {
        let k = format!("k{i}");
        write(a, &k, 10, "final");
    }
    delete(a, "gone", 20);
    range_delete(a, "rt", "b", "d", 30);
    range_delete(a, "rt", "c", "e", 30);
    cell(a, "rt", "a", "v", Cell::live(31, "kept"));
    a.flush(TABLE).unwrap();
    a.compact(TABLE).unwrap();

    for i in 0..50 {
        write(b, &format!("k{i}"), 5, "older");
    }
    write(b, "gone", 1, "deleted later");
    cell(b, "rt", "c", "v", Cell::live(25, "shadowed"));
    b.flush(TABLE).unwrap();
    range_delete(b, "rt", "c", "e", 30);
    for i in 0..25 {
        write(b, &format!("k{i}"), 10, "final");
    }
    b.flush(TABLE).unwrap();
    delete(b, "gone", 20);
    range_delete(b, "rt", "b", "d", 30);
    cell(b, "rt", "a", "v", Cell::live(31, "kept"));
    for i in 25..50 {
        write(b, &format!("k{i}"), 10, "final");
    }
    // The rest stays in the memtable.
}

#[test]
fn equal_data_gives_equal_trees_whatever_the_layout() {
    let clock = Arc::new(AtomicI64::new(START));
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(da.path(), &clock, 864_000), open(db.path(), &clock, 864_000));
    same_data_two_layouts(&a, &b);
    assert!(b.sstables(TABLE).unwrap().len() >= 2);
    let (ta, tb) = (tree(&a, &RepairScope::Full), tree(&b, &RepairScope::Full));
    assert_eq!(ta.partitions(), 52);
    assert_eq!(ta.root(), tb.root());
    assert!(ta.differences(&tb).is_empty());
    let ha = a.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap();
    let hb = b.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap();
    assert_eq!(ha, hb);
    // The hash is the read digest's: UUID v5 of the partition as a read returns it.
    let (k, h, size) = &ha[0];
    let p = a.read(TABLE, k, None).unwrap().unwrap();
    let mut enc = Vec::new();
    storage::partition_codec::encode_partition(&mut enc, &p);
    assert_eq!(*h, uuid_v5(&enc));
    assert_eq!(*size, enc.len() as u64);
    // And the tree travels.
    let back = storage::MerkleTree::decode(&tb.encode()).unwrap();
    assert!(ta.differences(&back).is_empty());
}

fn uuid_v5(b: &[u8]) -> [u8; 16] {
    // Same construction as the server's read digest.
    *uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b).as_bytes()
}

#[test]
fn tombstones_past_gc_grace_count_only_where_they_cannot_be_purged_yet() {
    let clock = Arc::new(AtomicI64::new(START));
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(da.path(), &clock, 100), open(db.path(), &clock, 100));
    for e in [&a, &b] {
        write(e, "live", 1, "v");
        delete(e, "dead", 5);
        write_ttl(e, "expiring", 1, 10, "v");
        e.flush(TABLE).unwrap();
    }
    // Within gc_grace a tombstone held by one replica only is a difference.
    delete(&a, "one-sided", 6);
    a.flush(TABLE).unwrap();
    let diffs =
        |a: &Engine, b: &Engine| tree(a, &RepairScope::Full).differences(&tree(b, &RepairScope::Full));
    assert_eq!(diffs(&a, &b), [leaf_of(&tree(&a, &RepairScope::Full), "one-sided")]);
    // Past gc_grace, `a` compacts its tombstones and expired cells away and `b` has not yet:
    // the replicas agree, as they will once `b` compacts too.
    clock.fetch_add(1000, std::sync::atomic::Ordering::Relaxed);
    a.compact(TABLE).unwrap();
    assert!(diffs(&a, &b).is_empty(), "{:?}", diffs(&a, &b));
    let (ha, hb) = (
        a.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap(),
        b.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap(),
    );
    assert_eq!(ha, hb);
    assert_eq!(ha.len(), 1, "only the live row is hashed: {ha:?}");
}

#[test]
fn a_tombstone_alone_or_a_ttl_alone_is_a_difference_and_nothing_else_is() {
    let clock = Arc::new(AtomicI64::new(START));
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(da.path(), &clock, 864_000), open(db.path(), &clock, 864_000));
    same_data_two_layouts(&a, &b);
    // A partition deletion of a partition `a` never heard of: a tombstone and nothing else.
    delete(&b, "tomb-only", 7);
    // The same value and timestamp, but one replica has a TTL on it.
    cell(&a, "ttl", "", "v", Cell::live(3, "x"));
    cell(&b, "ttl", "", "v", Cell::expiring(3, 1000, b.now_secs(), "x"));
    // A cell tombstone over a row both have.
    cell(&b, "k7", "", "w", Cell::tombstone(11, b.now_secs()));
    a.flush(TABLE).unwrap();
    let (ta, tb) = (tree(&a, &RepairScope::Full), tree(&b, &RepairScope::Full));
    let diffs = ta.differences(&tb);
    let mut expected: Vec<(Token, Token)> =
        ["tomb-only", "ttl", "k7"].iter().map(|k| leaf_of(&ta, k)).collect();
    expected.sort();
    expected.dedup();
    // Adjacent leaves coalesce; compare covered leaves instead.
    let covered = |ranges: &[(Token, Token)], t: Token| ranges.iter().any(|(x, y)| *x < t && t <= *y);
    for (x, y) in &expected {
        assert!(covered(&diffs, *y), "leaf ({x}, {y}] not reported: {diffs:?}");
    }
    let total_leaves: u32 =
        diffs.iter().map(|(x, y)| ta.leaf_of(*y).unwrap() - ta.leaf_of(x + 1).unwrap() + 1).sum();
    assert_eq!(total_leaves as usize, expected.len(), "only the differing leaves: {diffs:?}");
    let ha = a.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap();
    let hb = b.partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full).unwrap();
    let differing: Vec<String> = hb
        .iter()
        .filter(|(k, h, _)| !ha.iter().any(|(k2, h2, _)| k2 == k && h2 == h))
        .map(|(k, _, _)| String::from_utf8_lossy(&k.key).into_owned())
        .collect();
    let mut differing = differing;
    differing.sort();
    assert_eq!(differing, vec!["k7", "tomb-only", "ttl"]);
}

#[test]
fn subranges_and_scopes_select_their_data() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    for i in 0..40 {
        write(&e, &format!("r{i}"), 1, "repaired");
    }
    e.flush(TABLE).unwrap();
    for s in e.sstables(TABLE).unwrap() {
        s.set_repair_state(1, None).unwrap();
    }
    for i in 0..30 {
        write(&e, &format!("u{i}"), 1, "unrepaired");
    }
    e.flush(TABLE).unwrap();
    write(&e, "m", 1, "in memtable");
    let full = tree(&e, &RepairScope::Full);
    assert_eq!(full.partitions(), 71);
    assert_eq!(tree(&e, &RepairScope::Unrepaired).partitions(), 30);
    assert_eq!(tree(&e, &RepairScope::Pending("s".into())).partitions(), 0);
    // A subrange holds exactly the keys whose tokens fall in it.
    let mut keys: Vec<DecoratedKey> = e
        .partition_hashes(TABLE, WHOLE_RING, &RepairScope::Full)
        .unwrap()
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    keys.sort();
    let (lo, hi) = (keys[10].token, keys[40].token);
    let sub = e.partition_hashes(TABLE, (lo, hi), &RepairScope::Full).unwrap();
    assert_eq!(sub.iter().map(|x| x.0.clone()).collect::<Vec<_>>(), keys[11..=40].to_vec());
    assert_eq!(e.validate(TABLE, (lo, hi), &RepairScope::Full, 4).unwrap().partitions(), 30);
    assert!(e.validate(TABLE, (hi, lo), &RepairScope::Full, 4).is_err(), "wrapping ranges are refused");
    // Full data of chosen keys, for streaming; unknown keys are left out.
    let wanted = vec![key("u3"), key("nope"), key("m")];
    let got = e.read_partitions(TABLE, &wanted).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, key("u3"));
    assert_eq!(got[1].1.rows[&Bytes::new()].cells[&CellKey::simple("v")].value, "in memtable");
}

#[derive(Debug, Clone)]
enum Op {
    Write(u8, u8, i64, u8),
    WriteTtl(u8, u8, i64, u32),
    DeleteCell(u8, u8, i64),
    DeleteRow(u8, u8, i64),
    DeleteRange(u8, u8, u8, i64),
    DeletePartition(u8, i64),
    /// Seconds pass (deletion times differ; nothing expires: TTLs outlast every advance).
    Advance(i64),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, 0u8..4, 1i64..20, any::<u8>()).prop_map(|(k, c, t, v)| Op::Write(k, c, t, v)),
        1 => (0u8..12, 0u8..4, 1i64..20, 2000u32..5000).prop_map(|(k, c, t, l)| Op::WriteTtl(k, c, t, l)),
        1 => (0u8..12, 0u8..4, 1i64..20).prop_map(|(k, c, t)| Op::DeleteCell(k, c, t)),
        1 => (0u8..12, 0u8..4, 1i64..20).prop_map(|(k, c, t)| Op::DeleteRow(k, c, t)),
        1 => (0u8..12, 0u8..4, 0u8..4, 1i64..20).prop_map(|(k, a, b, t)| Op::DeleteRange(k, a.min(b), a.max(b), t)),
        1 => (0u8..12, 1i64..20).prop_map(|(k, t)| Op::DeletePartition(k, t)),
        1 => (1i64..30).prop_map(Op::Advance),
    ]
}

fn apply(e: &Engine, clock: &AtomicI64, op: &Op) {
    let now = e.now_secs();
    let ck = |c: u8| format!("c{c}");
    match op {
        Op::Write(k, c, t, v) => cell(e, &format!("p{k}"), &ck(*c), "v", Cell::live(*t, vec![*v])),
        Op::WriteTtl(k, c, t, l) => cell(e, &format!("p{k}"), &ck(*c), "v", Cell::expiring(*t, *l, now, "t")),
        Op::DeleteCell(k, c, t) => cell(e, &format!("p{k}"), &ck(*c), "v", Cell::tombstone(*t, now)),
        Op::DeleteRow(k, c, t) => {
            let mut p = Partition::default();
            p.rows.insert(
                Bytes::from(ck(*c)),
                Row { deletion: DeletionTime::new(*t, now), ..Default::default() },
            );
            e.apply(Mutation::new(TABLE, key(&format!("p{k}")), p), true).unwrap();
        }
        Op::DeleteRange(k, a, b, t) => range_delete(e, &format!("p{k}"), &ck(*a), &ck(*b), *t),
        Op::DeletePartition(k, t) => delete(e, &format!("p{k}"), *t),
        Op::Advance(s) => {
            clock.fetch_add(*s, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The same writes in the same order, flushed and compacted at different moments on two
    /// replicas, give the same tree; one extra write on one side differs in its leaf only.
    #[test]
    fn layouts_never_matter_and_one_write_shows(
        ops in proptest::collection::vec(op_strategy(), 1..60),
        flush_a in proptest::collection::vec(any::<bool>(), 60),
        flush_b in proptest::collection::vec(any::<bool>(), 60),
        compact_b in any::<bool>(),
        extra in op_strategy(),
    ) {
        let clock = Arc::new(AtomicI64::new(START));
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (open(da.path(), &clock, 864_000), open(db.path(), &clock, 864_000));
        for (i, op) in ops.iter().enumerate() {
            apply(&a, &clock, op);
            if !matches!(op, Op::Advance(_)) {
                apply(&b, &clock, op);
            }
            if flush_a[i] {
                a.flush(TABLE).unwrap();
            }
            if flush_b[i] {
                b.flush(TABLE).unwrap();
            }
        }
        if compact_b {
            b.compact(TABLE).unwrap();
        }
        let (ta, tb) = (tree(&a, &RepairScope::Full), tree(&b, &RepairScope::Full));
        prop_assert!(ta.differences(&tb).is_empty());
        prop_assert_eq!(ta.root(), tb.root());

        let extra = if matches!(extra, Op::Advance(_)) { Op::DeletePartition(0, 1) } else { extra };
        let before = b.read(TABLE, &op_key(&extra), None).unwrap();
        apply(&b, &clock, &extra);
        let after = b.read(TABLE, &op_key(&extra), None).unwrap();
        let tb = tree(&b, &RepairScope::Full);
        let diffs = ta.differences(&tb);
        if before == after {
            prop_assert!(diffs.is_empty(), "no change, yet {:?}", diffs);
        } else {
            let leaf = ta.leaf_range(ta.leaf_of(op_key(&extra).token).unwrap());
            prop_assert_eq!(diffs, vec![leaf]);
        }
    }
}

fn op_key(op: &Op) -> DecoratedKey {
    let k = match op {
        Op::Write(k, ..)
        | Op::WriteTtl(k, ..)
        | Op::DeleteCell(k, ..)
        | Op::DeleteRow(k, ..)
        | Op::DeleteRange(k, ..)
        | Op::DeletePartition(k, ..) => *k,
        Op::Advance(_) => 0,
    };
    key(&format!("p{k}"))
}
