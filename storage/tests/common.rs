//! Helpers shared by the storage integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::{
    Cell, CellKey, Clock, DecoratedKey, DeletionTime, Engine, EngineConfig, Mutation, Partition, Row,
    TableDescriptor, TableId,
};

pub const TABLE: TableId = TableId([3; 16]);
pub const START: i64 = 1_700_000_000;

/// An engine with a manual clock and no background compaction.
pub fn open(dir: &Path, clock: &Arc<AtomicI64>, gc_grace: u32) -> Engine {
    let mut c = EngineConfig::new(dir);
    c.clock = Clock::manual(clock.clone());
    c.background_compaction = false;
    let e = Engine::open(c).expect("open");
    if e.tables().is_empty() {
        let mut d = TableDescriptor::new(TABLE, "ks", "t");
        d.options.gc_grace_seconds = gc_grace;
        e.create_table(d).expect("create table");
    }
    e
}

pub fn key(k: &str) -> DecoratedKey {
    DecoratedKey::new(k.as_bytes().to_vec())
}

/// A one-cell write of column `v` in the row with empty clustering.
pub fn write(e: &Engine, k: &str, ts: i64, value: &str) {
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::live(ts, value.as_bytes().to_vec()));
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, key(k), p), true).expect("apply");
}

/// A one-cell write with a TTL.
pub fn write_ttl(e: &Engine, k: &str, ts: i64, ttl: u32, value: &str) {
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::expiring(ts, ttl, e.now_secs(), value.as_bytes().to_vec()));
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, key(k), p), true).expect("apply");
}

/// A partition deletion.
pub fn delete(e: &Engine, k: &str, ts: i64) {
    let p = Partition { deletion: DeletionTime::new(ts, e.now_secs()), ..Default::default() };
    e.apply(Mutation::new(TABLE, key(k), p), true).expect("apply");
}

/// The visible value of column `v`, if any.
pub fn value(e: &Engine, k: &str) -> Option<String> {
    let p = e.read(TABLE, &key(k), None).expect("read")?.live(e.now_secs());
    let c = p.rows.get(&Bytes::new())?.cells.get(&CellKey::simple("v"))?.clone();
    Some(String::from_utf8_lossy(&c.value).into_owned())
}

/// Generations of the table's live SSTables, oldest first.
pub fn generations(e: &Engine) -> Vec<u64> {
    e.sstables(TABLE).expect("sstables").iter().map(|s| s.generation()).collect()
}

/// Total tombstones recorded in the table's SSTables.
pub fn tombstones(e: &Engine) -> u64 {
    e.sstables(TABLE).expect("sstables").iter().map(|s| s.stats().tombstones).sum()
}

/// Copies a data directory: a crash image of what the disk holds at this instant.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
