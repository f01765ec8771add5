//! TRUNCATE removes a table's data for good: replay of the commit log skips what was
//! truncated, and no compaction brings it back.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

#[test]
fn truncated_data_stays_gone_after_restart_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    {
        let e = open(dir.path(), &clock, 864_000);
        write(&e, "flushed", 1, "v");
        e.flush(TABLE).unwrap();
        write(&e, "in-log", 1, "v");
        e.truncate(TABLE).unwrap();
        write(&e, "after", 2, "kept");
        assert_eq!(value(&e, "flushed"), None);
        assert_eq!(value(&e, "in-log"), None);
    }
    // The commit log still holds the truncated write: replay must skip it.
    let e = open(dir.path(), &clock, 864_000);
    assert_eq!(value(&e, "in-log"), None, "replay resurrected a truncated write");
    assert_eq!(value(&e, "flushed"), None);
    assert_eq!(value(&e, "after").as_deref(), Some("kept"));
    e.compact(TABLE).unwrap();
    assert_eq!(value(&e, "after").as_deref(), Some("kept"));
}
