//! Size-tiered compaction runs by itself: once a table has `min_threshold` similar SSTables, a
//! background worker merges them, and reads see the same data before and after.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::time::{Duration, Instant};
use storage::{Engine, EngineConfig, TableDescriptor};

#[test]
fn four_flushes_are_compacted_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(EngineConfig::new(dir.path())).unwrap();
    e.create_table(TableDescriptor::new(TABLE, "ks", "t")).unwrap();
    for round in 0..4 {
        for i in 0..100 {
            write(&e, &format!("k{i}"), round, &format!("v{round}-{i}"));
        }
        e.flush(TABLE).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while generations(&e).len() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(generations(&e).len(), 1, "the four SSTables were not compacted: {:?}", generations(&e));
    for i in 0..100 {
        assert_eq!(value(&e, &format!("k{i}")), Some(format!("v3-{i}")));
    }
}
