//! When flushes keep failing, writes fail with `Overloaded` naming the flush error once
//! memtables pass twice their budget, instead of blocking forever; when flushing works again,
//! writes go through and nothing acknowledged is lost.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use std::time::Duration;
use storage::{
    Cell, CellKey, DecoratedKey, Engine, EngineConfig, Error, Mutation, Partition, Row, TableDescriptor,
    TableId,
};

const TABLE: TableId = TableId([12; 16]);

fn write(e: &Engine, i: u32) -> Result<(), Error> {
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::live(1, vec![9u8; 1000]));
    let mut p = Partition::default();
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, DecoratedKey::new(i.to_be_bytes().to_vec()), p), true)
}

#[test]
fn writes_fail_with_overloaded_while_flushes_fail_and_recover_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = EngineConfig::new(dir.path());
    c.memtable_space = 64 << 10;
    c.write_block_timeout = Duration::from_millis(300);
    let e = Engine::open(c).unwrap();
    e.create_table(TableDescriptor::new(TABLE, "ks", "t")).unwrap();
    // Every generation a flush could pick is taken by a stray temporary file: flushes fail.
    let tdir = e.table(TABLE).unwrap().dir().to_path_buf();
    for g in 1..=2000 {
        std::fs::write(tdir.join(format!("tmp-ta-{g}-Data.db")), b"x").unwrap();
    }
    let mut acked = Vec::new();
    let mut overloaded = None;
    for i in 0..10_000u32 {
        match write(&e, i) {
            Ok(()) => acked.push(i),
            Err(err) => {
                overloaded = Some(err);
                break;
            }
        }
    }
    match overloaded {
        Some(Error::Overloaded(msg)) => assert!(msg.contains("budget"), "{msg}"),
        other => panic!("expected Overloaded, got {other:?}"),
    }
    // Flushing works again: writes are accepted and nothing acknowledged is missing.
    for g in 1..=2000 {
        let _ = std::fs::remove_file(tdir.join(format!("tmp-ta-{g}-Data.db")));
    }
    e.flush(TABLE).unwrap();
    write(&e, 99_999).unwrap();
    for i in acked {
        assert!(
            e.read(TABLE, &DecoratedKey::new(i.to_be_bytes().to_vec()), None).unwrap().is_some(),
            "lost {i}"
        );
    }
}
