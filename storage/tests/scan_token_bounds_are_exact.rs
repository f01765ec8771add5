//! A scan over a token range returns exactly the partitions whose tokens fall inside, whether
//! one SSTable answers it alone (its partitions handed out as stored, no merge) or memtables
//! and several SSTables are merged; and the rows walked from either agree with point reads.
//! Chunks of 4 KiB with values of up to 3 KiB put range bounds in the middle of chunks and
//! partitions across chunk boundaries.
#![allow(clippy::unwrap_used)]

mod common;
use bytes::Bytes;
use common::{START, TABLE};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::{
    Cell, CellKey, Clock, DecoratedKey, Engine, EngineConfig, KeyRange, Mutation, Partition, Row, RowScratch,
    TableDescriptor, Token,
};

fn engine(dir: &std::path::Path) -> Engine {
    let mut c = EngineConfig::new(dir);
    c.clock = Clock::manual(Arc::new(AtomicI64::new(START)));
    c.background_compaction = false;
    let e = Engine::open(c).unwrap();
    let mut d = TableDescriptor::new(TABLE, "ks", "t");
    d.options.chunk_length_kb = 4;
    e.create_table(d).unwrap();
    e
}

/// Writes key `k<i>` at timestamp `ts` with a value of up to 3 KiB that names both.
fn put(e: &Engine, expected: &mut BTreeMap<DecoratedKey, Vec<u8>>, i: u32, ts: i64) {
    let key = DecoratedKey::new(format!("k{i}").into_bytes());
    let value = vec![i as u8 ^ ts as u8; (i as usize * 53) % 3000 + 1];
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::live(ts, value.clone()));
    let mut p = Partition::default();
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, key.clone(), p), true).unwrap();
    expected.insert(key, value);
}

/// Every (key, value) a scan of `range` shows, walking live rows as a SELECT does.
fn scan(e: &Engine, range: &KeyRange) -> Vec<(DecoratedKey, Vec<u8>)> {
    let mut out = Vec::new();
    let mut scratch = RowScratch::default();
    for item in e.scan_data(TABLE, range).unwrap() {
        let (k, p) = item.unwrap();
        p.for_each_live_row(e.now_secs(), &mut scratch, |row| {
            for c in row.cells() {
                out.push((k.clone(), c.cell.value.to_vec()));
            }
            true
        })
        .unwrap();
    }
    out
}

/// Ranges with bounds on keys' tokens, just beside them, and at the ends of the ring.
fn ranges(tokens: &[Token]) -> Vec<KeyRange> {
    let mut picks = vec![Token::MIN + 1, Token::MAX];
    for i in [0, tokens.len() / 2, tokens.len() - 1] {
        picks.extend([tokens[i].saturating_sub(1), tokens[i], tokens[i].saturating_add(1)]);
    }
    let mut out = vec![KeyRange::all()];
    for &lo in &picks {
        for &hi in &picks {
            for (li, hi_inc) in [(true, true), (true, false), (false, true), (false, false)] {
                out.push(KeyRange::token_bounds(Some((lo, li)), Some((hi, hi_inc))));
            }
            if lo < hi {
                out.push(KeyRange::tokens(lo, hi));
            }
        }
        out.push(KeyRange::token_bounds(Some((lo, true)), None));
        out.push(KeyRange::token_bounds(None, Some((lo, false))));
    }
    out
}

fn check(e: &Engine, expected: &BTreeMap<DecoratedKey, Vec<u8>>) {
    let tokens: Vec<Token> = expected.keys().map(|k| k.token).collect();
    for range in ranges(&tokens) {
        let want: Vec<_> =
            expected.iter().filter(|(k, _)| range.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(scan(e, &range), want, "{range:?}");
    }
}

#[test]
fn token_bounds_are_exact_for_one_sstable_and_for_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let mut expected = BTreeMap::new();
    for i in 0..600 {
        put(&e, &mut expected, i, 1);
    }
    e.flush(TABLE).unwrap();
    assert_eq!(e.sstables(TABLE).unwrap().len(), 1);
    check(&e, &expected);

    // Newer versions of some keys in a second SSTable and in the memtable: merged scans.
    for i in (0..598).step_by(7) {
        put(&e, &mut expected, i + 1, 2);
    }
    e.flush(TABLE).unwrap();
    for i in (0..598).step_by(11) {
        put(&e, &mut expected, i + 2, 3);
    }
    check(&e, &expected);

    // One SSTable again after a major compaction.
    e.flush(TABLE).unwrap();
    e.compact(TABLE).unwrap();
    assert_eq!(e.sstables(TABLE).unwrap().len(), 1);
    check(&e, &expected);
}
