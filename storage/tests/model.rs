//! The engine against a plain in-memory model: random writes, every kind of deletion, TTLs,
//! flushes, compactions, clean restarts, and crash images whose commit log is cut at a random
//! offset. After every step that can change what is visible, every partition must read back
//! exactly as the model says.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::copy_dir;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use storage::commitlog::SyncMode;
use storage::{
    Cell, CellKey, Clock, ClusteringRange, DecoratedKey, DeletionTime, Engine, EngineConfig, Mutation,
    Partition, RangeTombstone, Row, TableDescriptor, TableId,
};

const TABLE: TableId = TableId([1; 16]);
const PKS: u8 = 6;
const CKS: u8 = 6;
const START: i64 = 1_000_000;

#[derive(Debug, Clone)]
enum Op {
    Write {
        pk: u8,
        ck: u8,
        col: u8,
        ts: i64,
        value: u8,
        ttl: Option<u32>,
    },
    Insert {
        pk: u8,
        ck: u8,
        ts: i64,
        ttl: Option<u32>,
    },
    DeleteCell {
        pk: u8,
        ck: u8,
        col: u8,
        ts: i64,
    },
    DeleteRow {
        pk: u8,
        ck: u8,
        ts: i64,
    },
    DeleteRange {
        pk: u8,
        lo: u8,
        hi: u8,
        ts: i64,
    },
    DeletePartition {
        pk: u8,
        ts: i64,
    },
    Flush,
    Compact,
    CompactPending,
    /// Compacts a random subset of the SSTables (the bits of the mask pick them).
    CompactSome(u32),
    Restart,
    Advance(i64),
}

#[derive(Default, Clone)]
struct Model {
    cells: HashMap<(u8, u8, u8), Cell>,
    markers: HashMap<(u8, u8), Cell>,
    row_dels: HashMap<(u8, u8), DeletionTime>,
    range_dels: Vec<(u8, u8, u8, DeletionTime)>,
    part_dels: HashMap<u8, DeletionTime>,
}

type Visible = BTreeMap<u8, BTreeMap<u8, BTreeMap<u8, (Bytes, i64)>>>;

fn reconcile(map_entry: Option<&Cell>, c: Cell) -> Cell {
    match map_entry {
        None => c,
        Some(old) => {
            let mut w = old.clone();
            w.reconcile(c);
            w
        }
    }
}

impl Model {
    fn apply(&mut self, op: &Op, now: i64) {
        match *op {
            Op::Write { pk, ck, col, ts, value, ttl } => {
                let c = match ttl {
                    Some(t) => Cell::expiring(ts, t, now, vec![value]),
                    None => Cell::live(ts, vec![value]),
                };
                let n = reconcile(self.cells.get(&(pk, ck, col)), c);
                self.cells.insert((pk, ck, col), n);
            }
            Op::Insert { pk, ck, ts, ttl } => {
                let c = match ttl {
                    Some(t) => Cell::expiring(ts, t, now, Bytes::new()),
                    None => Cell::live(ts, Bytes::new()),
                };
                let n = reconcile(self.markers.get(&(pk, ck)), c);
                self.markers.insert((pk, ck), n);
            }
            Op::DeleteCell { pk, ck, col, ts } => {
                let n = reconcile(self.cells.get(&(pk, ck, col)), Cell::tombstone(ts, now));
                self.cells.insert((pk, ck, col), n);
            }
            Op::DeleteRow { pk, ck, ts } => {
                self.row_dels.entry((pk, ck)).or_insert(DeletionTime::LIVE).merge(DeletionTime::new(ts, now));
            }
            Op::DeleteRange { pk, lo, hi, ts } => {
                self.range_dels.push((pk, lo, hi, DeletionTime::new(ts, now)))
            }
            Op::DeletePartition { pk, ts } => {
                self.part_dels.entry(pk).or_insert(DeletionTime::LIVE).merge(DeletionTime::new(ts, now));
            }
            _ => {}
        }
    }

    fn deletion(&self, pk: u8, ck: u8) -> DeletionTime {
        let mut d = self.part_dels.get(&pk).copied().unwrap_or_default();
        if let Some(r) = self.row_dels.get(&(pk, ck)) {
            d.merge(*r);
        }
        for (p, lo, hi, rd) in &self.range_dels {
            if *p == pk && *lo <= ck && ck <= *hi {
                d.merge(*rd);
            }
        }
        d
    }

    fn visible(&self, now: i64) -> Visible {
        let mut out: Visible = BTreeMap::new();
        for (&(pk, ck), m) in &self.markers {
            if m.is_live(now) && !self.deletion(pk, ck).deletes(m.timestamp) {
                out.entry(pk).or_default().entry(ck).or_default();
            }
        }
        for (&(pk, ck, col), c) in &self.cells {
            if c.is_live(now) && !self.deletion(pk, ck).deletes(c.timestamp) {
                out.entry(pk).or_default().entry(ck).or_default().insert(col, (c.value.clone(), c.timestamp));
            }
        }
        out
    }
}

fn mutation(op: &Op, now: i64) -> Option<Mutation> {
    let mut p = Partition::default();
    let pk = match *op {
        Op::Write { pk, ck, col, ts, value, ttl } => {
            let mut r = Row::default();
            let c = match ttl {
                Some(t) => Cell::expiring(ts, t, now, vec![value]),
                None => Cell::live(ts, vec![value]),
            };
            r.cells.insert(CellKey::simple(vec![col]), c);
            p.rows.insert(Bytes::from(vec![ck]), r);
            pk
        }
        Op::Insert { pk, ck, ts, ttl } => {
            let marker = match ttl {
                Some(t) => Cell::expiring(ts, t, now, Bytes::new()),
                None => Cell::live(ts, Bytes::new()),
            };
            p.rows.insert(Bytes::from(vec![ck]), Row { marker: Some(marker), ..Default::default() });
            pk
        }
        Op::DeleteCell { pk, ck, col, ts } => {
            let mut r = Row::default();
            r.cells.insert(CellKey::simple(vec![col]), Cell::tombstone(ts, now));
            p.rows.insert(Bytes::from(vec![ck]), r);
            pk
        }
        Op::DeleteRow { pk, ck, ts } => {
            p.rows.insert(
                Bytes::from(vec![ck]),
                Row { deletion: DeletionTime::new(ts, now), ..Default::default() },
            );
            pk
        }
        Op::DeleteRange { pk, lo, hi, ts } => {
            let range = ClusteringRange::from_prefix_bounds(Some((&[lo], true)), Some((&[hi], true)))?;
            p.range_tombstones.push(RangeTombstone { range, deletion: DeletionTime::new(ts, now) });
            pk
        }
        Op::DeletePartition { pk, ts } => {
            p.deletion = DeletionTime::new(ts, now);
            pk
        }
        _ => return None,
    };
    Some(Mutation::new(TABLE, DecoratedKey::new(vec![pk]), p))
}

fn config(dir: &Path, clock: &Arc<AtomicI64>) -> EngineConfig {
    let mut c = EngineConfig::new(dir);
    c.clock = Clock::manual(clock.clone());
    c.background_compaction = false;
    c.commitlog_sync = SyncMode::Periodic { period: std::time::Duration::from_secs(3600) };
    c
}

fn open(dir: &Path, clock: &Arc<AtomicI64>, gc_grace: u32) -> Engine {
    let e = Engine::open(config(dir, clock)).expect("open engine");
    if e.tables().is_empty() {
        let mut d = TableDescriptor::new(TABLE, "ks", "t");
        d.options.gc_grace_seconds = gc_grace;
        e.create_table(d).expect("create table");
    }
    e
}

fn engine_visible(e: &Engine, now: i64) -> Visible {
    let mut out: Visible = BTreeMap::new();
    for pk in 0..PKS {
        let Some(p) = e.read(TABLE, &DecoratedKey::new(vec![pk]), None).expect("read") else { continue };
        for (ck, row) in &p.live(now).rows {
            let r = out.entry(pk).or_default().entry(ck[0]).or_default();
            for (k, c) in &row.cells {
                r.insert(k.column[0], (c.value.clone(), c.timestamp));
            }
        }
    }
    // A full scan must agree with point reads.
    let mut scanned: Visible = BTreeMap::new();
    for item in e.scan(TABLE, &storage::KeyRange::all()).expect("scan") {
        let (k, p) = item.expect("scan item");
        for (ck, row) in &p.live(now).rows {
            let r = scanned.entry(k.key[0]).or_default().entry(ck[0]).or_default();
            for (kk, c) in &row.cells {
                r.insert(kk.column[0], (c.value.clone(), c.timestamp));
            }
        }
    }
    assert_eq!(out, scanned, "scan and point reads disagree");
    // So must the live rows walked from the scan's stored partitions.
    let mut walked: Visible = BTreeMap::new();
    let mut scratch = storage::RowScratch::default();
    for item in e.scan_data(TABLE, &storage::KeyRange::all()).expect("scan") {
        let (k, p) = item.expect("scan item");
        p.for_each_live_row(now, &mut scratch, |row| {
            let r = walked.entry(k.key[0]).or_default().entry(row.clustering[0]).or_default();
            for c in row.cells() {
                r.insert(c.column[0], (Bytes::copy_from_slice(c.cell.value), c.cell.timestamp));
            }
            true
        })
        .expect("live rows");
    }
    assert_eq!(out, walked, "walked live rows and point reads disagree");
    out
}

fn op_strategy(monotonic: bool) -> impl Strategy<Value = Op> {
    let ts = if monotonic { Just(0i64).boxed() } else { (1i64..40).boxed() };
    let ttl = prop::option::weighted(0.2, 1u32..30);
    let pk = 0..PKS;
    let ck = 0..CKS;
    prop_oneof![
        20 => (pk.clone(), ck.clone(), 0u8..3, ts.clone(), any::<u8>(), ttl.clone())
            .prop_map(|(pk, ck, col, ts, value, ttl)| Op::Write { pk, ck, col, ts, value, ttl }),
        5 => (pk.clone(), ck.clone(), ts.clone(), ttl).prop_map(|(pk, ck, ts, ttl)| Op::Insert { pk, ck, ts, ttl }),
        4 => (pk.clone(), ck.clone(), 0u8..3, ts.clone()).prop_map(|(pk, ck, col, ts)| Op::DeleteCell { pk, ck, col, ts }),
        3 => (pk.clone(), ck.clone(), ts.clone()).prop_map(|(pk, ck, ts)| Op::DeleteRow { pk, ck, ts }),
        2 => (pk.clone(), ck.clone(), ck.clone(), ts.clone())
            .prop_map(|(pk, a, b, ts)| Op::DeleteRange { pk, lo: a.min(b), hi: a.max(b), ts }),
        1 => (pk, ts).prop_map(|(pk, ts)| Op::DeletePartition { pk, ts }),
        3 => Just(Op::Flush),
        1 => Just(Op::Compact),
        1 => Just(Op::CompactPending),
        2 => any::<u32>().prop_map(Op::CompactSome),
        1 => Just(Op::Restart),
        2 => (1i64..40).prop_map(Op::Advance),
    ]
}

/// Runs `ops`; with `monotonic`, timestamps strictly increase (so a purged tombstone can never
/// matter) and time may pass gc_grace; otherwise timestamps collide freely and gc_grace is long.
fn run(ops: Vec<Op>, monotonic: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(AtomicI64::new(START));
    let gc_grace = if monotonic { 20 } else { 1_000_000 };
    let mut engine = Some(open(dir.path(), &clock, gc_grace));
    let mut model = Model::default();
    let mut next_ts = 1i64;
    for op in ops {
        let mut op = op;
        if monotonic {
            next_ts += 1;
            match &mut op {
                Op::Write { ts, .. }
                | Op::Insert { ts, .. }
                | Op::DeleteCell { ts, .. }
                | Op::DeleteRow { ts, .. }
                | Op::DeleteRange { ts, .. }
                | Op::DeletePartition { ts, .. } => *ts = next_ts,
                _ => {}
            }
        }
        let now = clock.load(Ordering::Relaxed);
        let e = engine.as_ref().expect("engine");
        match &op {
            Op::Flush => e.flush(TABLE).expect("flush"),
            Op::Compact => {
                e.compact(TABLE).expect("compact");
            }
            Op::CompactPending => {
                e.compact_pending(TABLE).expect("compact pending");
            }
            Op::CompactSome(mask) => {
                let gens: Vec<u64> = e
                    .sstables(TABLE)
                    .expect("sstables")
                    .iter()
                    .map(|s| s.generation())
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << (i % 32)) != 0)
                    .map(|(_, g)| g)
                    .collect();
                if !gens.is_empty() {
                    e.compact_sstables(TABLE, &gens).expect("compact some");
                }
            }
            Op::Restart => {
                drop(engine.take());
                engine = Some(open(dir.path(), &clock, gc_grace));
            }
            Op::Advance(s) => {
                clock.fetch_add(*s, Ordering::Relaxed);
            }
            other => {
                if let Some(m) = mutation(other, now) {
                    e.apply(m, true).expect("apply");
                    model.apply(other, now);
                }
            }
        }
        let now = clock.load(Ordering::Relaxed);
        let e = engine.as_ref().expect("engine");
        assert_eq!(engine_visible(e, now), model.visible(now), "after {op:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_model_with_colliding_timestamps(ops in prop::collection::vec(op_strategy(false), 1..60)) {
        run(ops, false);
    }

    #[test]
    fn engine_matches_model_across_gc_grace(ops in prop::collection::vec(op_strategy(true), 1..80)) {
        run(ops, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A crash image whose commit log ends at an arbitrary byte recovers exactly the
    /// mutations whose entries lie wholly before the cut.
    #[test]
    fn restart_from_a_commit_log_cut_at_a_random_offset(
        ops in prop::collection::vec(op_strategy(false), 1..40),
        flush_at in 0usize..40,
        cut_fraction in 0.0f64..1.0,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Arc::new(AtomicI64::new(START));
        let engine = open(dir.path(), &clock, 1_000_000);
        let mut flushed = Model::default();
        // (op, end offset of its commit log entry, flushed before the crash)
        let mut entries: Vec<(Op, u64)> = Vec::new();
        let mut end = 18u64; // segment header
        let mut flushed_count = 0usize;
        let mutations: Vec<Op> = ops.into_iter().filter(|o| mutation(o, START).is_some()).collect();
        for (i, op) in mutations.iter().enumerate() {
            if i == flush_at {
                engine.flush(TABLE).expect("flush");
                for (o, _) in &entries {
                    flushed.apply(o, START);
                }
                flushed_count = entries.len();
            }
            let m = mutation(op, START).expect("mutation");
            end += m.encode().len() as u64 + 12;
            engine.apply(m, true).expect("apply");
            entries.push((op.clone(), end));
        }
        engine.sync_commitlog().expect("sync");
        let image = tempfile::tempdir().expect("tempdir");
        copy_dir(dir.path(), image.path());
        drop(engine);

        // Cut the newest segment of the image.
        let log_dir = image.path().join("commitlog");
        let mut segments: Vec<_> = std::fs::read_dir(&log_dir).expect("log dir").map(|e| e.expect("e").path()).collect();
        segments.sort();
        let newest = segments.last().expect("a segment").clone();
        let len = std::fs::metadata(&newest).expect("meta").len();
        let header = 18u64;
        let cut = header + ((len - header) as f64 * cut_fraction) as u64;
        let f = std::fs::OpenOptions::new().write(true).open(&newest).expect("open segment");
        f.set_len(cut).expect("truncate");
        drop(f);

        // Flushed mutations are in an SSTable; the others survive if their entry lies wholly
        // before the cut.
        let mut expected = flushed.clone();
        for (op, end) in &entries[flushed_count..] {
            if *end <= cut {
                expected.apply(op, START);
            }
        }
        let recovered = open(image.path(), &clock, 1_000_000);
        prop_assert!(recovered.replay_summary().log.corrupt.is_empty(), "a cut is a torn tail, not corruption");
        prop_assert_eq!(engine_visible(&recovered, START), expected.visible(START));
    }
}
