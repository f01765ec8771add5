//! Start-up deletes what a crash left half-written: `tmp-` files and SSTable components whose
//! TOC was never published. Published SSTables and their data are untouched.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

#[test]
fn orphans_are_deleted_and_published_data_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(START));
    let table_dir = {
        let e = open(dir.path(), &clock, 864_000);
        write(&e, "k", 1, "v");
        e.flush(TABLE).unwrap();
        e.table(TABLE).unwrap().dir().to_path_buf()
    };
    // A flush that crashed before its TOC, and a writer's temporary files.
    // Also one that crashed between renaming its components and renaming its TOC.
    for name in [
        "ta-99-Data.db",
        "ta-99-Index.db",
        "ta-101-Data.db",
        "tmp-ta-101-TOC.txt",
        "tmp-ta-100-Data.db",
        "tmp-ta-100-TOC.txt",
        "tmp-table.json",
    ] {
        std::fs::write(table_dir.join(name), b"half written").unwrap();
    }
    let e = open(dir.path(), &clock, 864_000);
    let left: Vec<String> = std::fs::read_dir(&table_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &left {
        assert!(
            !name.starts_with("tmp-") && !name.starts_with("ta-99-") && !name.starts_with("ta-101-"),
            "orphan {name} survived: {left:?}"
        );
    }
    assert!(left.iter().any(|n| n == "ta-1-TOC.txt"), "{left:?}");
    assert_eq!(value(&e, "k").as_deref(), Some("v"));
    // New generations do not collide with what was there.
    write(&e, "k2", 1, "v2");
    e.flush(TABLE).unwrap();
    assert_eq!(value(&e, "k2").as_deref(), Some("v2"));
}
