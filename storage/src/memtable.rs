//! The memtable: a table's recent writes in memory, in a concurrent skip list of partitions
//! ordered by (token, key). Writers to different partitions never block each other; writers to
//! the same partition take its small lock and merge. A memtable stops taking writes when the
//! table switches to a fresh one, and is then flushed to an SSTable while reads still see it.

use crate::clustering::ClusteringRange;
use crate::commitlog::Position;
use crate::partition::Partition;
use crate::range::KeyRange;
use crate::token::DecoratedKey;
use crossbeam_skiplist::SkipMap;
use parking_lot::Mutex;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One table's in-memory writes.
#[derive(Default)]
pub struct Memtable {
    partitions: SkipMap<DecoratedKey, Mutex<Partition>>,
    size: AtomicUsize,
    first_position: Mutex<Option<Position>>,
}

impl std::fmt::Debug for Memtable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memtable")
            .field("partitions", &self.partitions.len())
            .field("size", &self.size())
            .finish()
    }
}

impl Memtable {
    /// An empty memtable.
    pub fn new() -> Self {
        Self::default()
    }

    /// Approximate bytes held.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// The commit log position of the first write, if any came through the log.
    pub fn first_position(&self) -> Option<Position> {
        *self.first_position.lock()
    }

    /// Records that a write at `pos` went into this memtable.
    pub fn note_position(&self, pos: Position) {
        let mut f = self.first_position.lock();
        if f.is_none_or(|p| pos < p) {
            *f = Some(pos);
        }
    }

    /// Merges `update` into the partition `key`; returns the bytes added.
    pub fn apply(&self, key: &DecoratedKey, update: Partition) -> usize {
        // Skip list node: key, value and a tower of next pointers.
        const NODE: usize =
            std::mem::size_of::<DecoratedKey>() + std::mem::size_of::<Mutex<Partition>>() + 64;
        let added = update.data_size() + key.key.len() + NODE;
        let has_deletions = update.has_deletions();
        let entry = self.partitions.get_or_insert_with(key.clone(), || Mutex::new(Partition::default()));
        {
            let mut p = entry.value().lock();
            p.merge(update);
            if has_deletions {
                p.purge_shadowed();
            }
        }
        self.size.fetch_add(added, Ordering::Relaxed);
        added
    }

    /// A copy of partition `key`, restricted to `slices` when given.
    pub fn get(&self, key: &DecoratedKey, slices: Option<&[ClusteringRange]>) -> Option<Partition> {
        let entry = self.partitions.get(key)?;
        let p = entry.value().lock();
        Some(match slices {
            None => p.clone(),
            Some(s) => p.slice(s),
        })
    }

    /// The smallest timestamp the memtable holds for `key`, if it holds the key.
    pub fn min_timestamp_of(&self, key: &DecoratedKey) -> Option<i64> {
        let entry = self.partitions.get(key)?;
        let b = entry.value().lock().time_bounds();
        Some(b.min_timestamp)
    }

    /// The first partition at or after `from` that lies in `range`, as a copy.
    pub fn next_in(&self, from: Bound<&DecoratedKey>, range: &KeyRange) -> Option<(DecoratedKey, Partition)> {
        let entry = self.partitions.lower_bound(from)?;
        let key = entry.key();
        if !range.before_end(key) {
            return None;
        }
        let p = entry.value().lock().clone();
        Some((key.clone(), p))
    }

    /// Calls `f` on every partition in order, without copying (for flushes of a memtable that
    /// no longer takes writes). Stops at the first error.
    pub fn try_for_each<E>(
        &self,
        mut f: impl FnMut(&DecoratedKey, &Partition) -> Result<(), E>,
    ) -> Result<(), E> {
        for entry in self.partitions.iter() {
            let p = entry.value().lock();
            f(entry.key(), &p)?;
        }
        Ok(())
    }

    /// Iterates the partitions of `range` in order, as copies.
    pub fn scan(self: &std::sync::Arc<Self>, range: KeyRange) -> MemtableScanner {
        MemtableScanner { memtable: self.clone(), last: None, range, started: false }
    }
}

/// Ordered copies of a memtable's partitions; re-seeks after each item so that it holds no
/// borrow of the skip list between calls.
pub struct MemtableScanner {
    memtable: std::sync::Arc<Memtable>,
    last: Option<DecoratedKey>,
    range: KeyRange,
    started: bool,
}

impl Iterator for MemtableScanner {
    type Item = (DecoratedKey, Partition);

    fn next(&mut self) -> Option<Self::Item> {
        let from = if !self.started {
            self.started = true;
            self.range.start.as_ref()
        } else {
            match &self.last {
                Some(k) => Bound::Excluded(k),
                None => return None,
            }
        };
        let item = self.memtable.next_in(from, &self.range);
        self.last = item.as_ref().map(|(k, _)| k.clone());
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{Cell, DeletionTime};
    use crate::row::{CellKey, Row};
    use bytes::Bytes;
    use std::sync::Arc;

    fn update(ts: i64, v: &str) -> Partition {
        let mut p = Partition::default();
        let mut r = Row::default();
        r.cells.insert(CellKey::simple("v"), Cell::live(ts, v.to_string()));
        p.rows.insert(Bytes::from_static(b"c"), r);
        p
    }

    #[test]
    fn merges_versions_and_applies_deletions() {
        let m = Memtable::new();
        let k = DecoratedKey::new(&b"k"[..]);
        m.apply(&k, update(1, "a"));
        m.apply(&k, update(3, "c"));
        m.apply(&k, update(2, "b"));
        let p = m.get(&k, None).unwrap();
        assert_eq!(p.rows[b"c".as_ref()].cells[&CellKey::simple("v")].value, "c");
        m.apply(&k, Partition { deletion: DeletionTime::new(5, 0), ..Default::default() });
        let p = m.get(&k, None).unwrap();
        assert!(p.rows.is_empty());
        assert!(m.size() > 0);
    }

    #[test]
    fn scans_in_token_order_within_range() {
        let m = Arc::new(Memtable::new());
        let mut keys: Vec<DecoratedKey> =
            (0..100u32).map(|i| DecoratedKey::new(i.to_be_bytes().to_vec())).collect();
        for k in &keys {
            m.apply(k, update(1, "x"));
        }
        keys.sort();
        let all: Vec<_> = m.scan(KeyRange::all()).map(|(k, _)| k).collect();
        assert_eq!(all, keys);
        let r = KeyRange::tokens(keys[10].token, keys[20].token);
        let some: Vec<_> = m.scan(r).map(|(k, _)| k).collect();
        assert_eq!(some, keys[11..=20].to_vec());
    }
}
