//! Crash tests of the repair state changes: an image of the data directory is taken at every
//! step of an anticompaction and of a finalize (through [`crate::failpoint`]); each image, opened
//! as after a crash, must hold every cell, and no data may stay pending.

use crate::config::Clock;
use crate::failpoint;
use crate::range::KeyRange;
use crate::{
    Cell, CellKey, DecoratedKey, Engine, EngineConfig, Mutation, Partition, Row, TableDescriptor, TableId,
};
use bytes::Bytes;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

const TABLE: TableId = TableId([9; 16]);

fn open(dir: &Path) -> Engine {
    let mut c = EngineConfig::new(dir);
    c.clock = Clock::manual(Arc::new(AtomicI64::new(1_700_000_000)));
    c.background_compaction = false;
    let e = Engine::open(c).unwrap();
    if e.tables().is_empty() {
        e.create_table(TableDescriptor::new(TABLE, "ks", "t")).unwrap();
    }
    e
}

fn write(e: &Engine, k: &DecoratedKey, v: &str) {
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::live(1, v.to_string()));
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, k.clone(), p), true).unwrap();
}

fn everything(e: &Engine) -> Vec<(DecoratedKey, Partition)> {
    e.scan(TABLE, &KeyRange::all()).unwrap().map(|r| r.unwrap()).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // A file deleted between listing and copying was deleted before the "crash".
            let _ = std::fs::copy(entry.path(), &target);
        }
    }
}

/// Runs `op` with a hook that images `dir` at every failpoint; returns (step, image) pairs.
fn images_during(dir: &Path, op: impl FnOnce()) -> Vec<(&'static str, tempfile::TempDir)> {
    let images = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = images.clone();
    let dir = dir.to_path_buf();
    failpoint::set_hook(Some(Box::new(move |step| {
        let image = tempfile::tempdir().unwrap();
        copy_dir(&dir, image.path());
        sink.lock().push((step, image));
    })));
    op();
    failpoint::set_hook(None);
    std::mem::take(&mut *images.lock())
}

fn sorted_keys(n: usize) -> Vec<DecoratedKey> {
    let mut keys: Vec<DecoratedKey> =
        (0..n).map(|i| DecoratedKey::new(format!("key{i}").into_bytes())).collect();
    keys.sort();
    keys
}

/// Three SSTables: one wholly inside the range (marked), two straddling its edges (split).
fn three_sstables(e: &Engine, keys: &[DecoratedKey]) {
    for part in [&keys[10..20], &keys[0..15], &keys[15..40]] {
        for k in part {
            write(e, k, &format!("v{}", k.token));
        }
        e.flush(TABLE).unwrap();
    }
}

#[test]
fn a_crash_at_any_step_of_anticompaction_loses_nothing_and_leaves_nothing_pending() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let keys = sorted_keys(40);
    three_sstables(&e, &keys);
    let before = everything(&e);
    let range = (keys[5].token, keys[25].token);
    let images = images_during(dir.path(), || {
        let s = e.anticompact(TABLE, &[range], "s").unwrap();
        assert_eq!((s.sstables_marked, s.sstables_split), (1, 2), "{s:?}");
    });
    let steps: Vec<&str> = images.iter().map(|(s, _)| *s).collect();
    assert!(steps.contains(&"anticompaction: marked one"), "{steps:?}");
    assert_eq!(steps.iter().filter(|s| **s == "rewrite: outputs published").count(), 2, "{steps:?}");
    assert!(steps.contains(&"rewrite: input logged obsolete") && steps.contains(&"rewrite: swapped"));
    drop(e);
    for (step, image) in &images {
        let e = open(image.path());
        assert_eq!(everything(&e), before, "data changed in the image taken at {step}");
        assert!(e.pending_sessions(TABLE).is_empty(), "pending data survived a crash at {step}");
        let table_dir = e.table(TABLE).unwrap().dir().to_path_buf();
        let leftovers: Vec<String> = std::fs::read_dir(&table_dir)
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tmp-") || n.starts_with("repair-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?} left after a crash at {step}");
    }
}

#[test]
fn a_crash_during_finalize_is_finished_at_restart() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let keys = sorted_keys(40);
    three_sstables(&e, &keys);
    let before = everything(&e);
    e.anticompact(TABLE, &[(keys[5].token, keys[25].token)], "s").unwrap();
    let pending = e.sstables(TABLE).unwrap().iter().filter(|s| s.stats().pending_repair.is_some()).count();
    assert_eq!(pending, 3);
    let images = images_during(dir.path(), || {
        assert_eq!(e.finalize_repair(TABLE, "s", 123).unwrap(), 3);
    });
    let steps: Vec<&str> = images.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        steps,
        ["finalize: logged", "finalize: marked one", "finalize: marked one", "finalize: marked one"]
    );
    drop(e);
    for (step, image) in &images {
        let e = open(image.path());
        assert_eq!(everything(&e), before, "data changed in the image taken at {step}");
        assert!(e.pending_sessions(TABLE).is_empty());
        let repaired = e.sstables(TABLE).unwrap().iter().filter(|s| s.stats().repaired_at == 123).count();
        assert_eq!(repaired, 3, "the finalize interrupted at {step} was not finished");
        drop(e);
        // The log is gone: a second restart changes nothing.
        let e = open(image.path());
        assert_eq!(e.sstables(TABLE).unwrap().iter().filter(|s| s.is_repaired()).count(), 3);
    }
}
