//! Rows: a row marker (the primary-key liveness an INSERT writes), a row deletion, per-column
//! collection ("complex") deletions, and cells keyed by (column, cell path).
//!
//! Simple columns have no cell path; each element of a non-frozen collection is its own cell
//! whose path is the element key (set element, map key, list timeuuid). Merging two versions of
//! a row reconciles each part with the rules of [`crate::cell`].

use crate::cell::{Cell, DeletionTime};
use crate::sorted_map::SortedMap;
use bytes::Bytes;
use std::collections::BTreeMap;

/// Addresses one cell within a row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    /// Column name.
    pub column: Bytes,
    /// Element key inside a non-frozen collection; `None` for a simple column.
    pub path: Option<Bytes>,
}

impl CellKey {
    /// A simple column.
    pub fn simple(column: impl Into<Bytes>) -> Self {
        CellKey { column: column.into(), path: None }
    }

    /// An element of a collection column.
    pub fn element(column: impl Into<Bytes>, path: impl Into<Bytes>) -> Self {
        CellKey { column: column.into(), path: Some(path.into()) }
    }
}

/// One row (or the static row) of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    /// Primary-key liveness written by INSERT (value always empty).
    pub marker: Option<Cell>,
    /// Row tombstone.
    pub deletion: DeletionTime,
    /// Collection tombstones, by column (written when a collection is overwritten or deleted).
    pub complex_deletions: BTreeMap<Bytes, DeletionTime>,
    /// Cells in (column, path) order.
    pub cells: SortedMap<CellKey, Cell>,
}

impl Row {
    /// True when the row carries nothing at all.
    pub fn is_empty(&self) -> bool {
        self.marker.is_none()
            && self.deletion.is_live()
            && self.complex_deletions.is_empty()
            && self.cells.is_empty()
    }

    /// True if the row carries any deletion (row, collection or cell tombstone).
    pub fn has_deletions(&self) -> bool {
        !self.deletion.is_live()
            || !self.complex_deletions.is_empty()
            || self.cells.values().any(Cell::is_tombstone)
    }

    /// Merges another version of the same row into this one.
    pub fn merge(&mut self, other: Row) {
        match (&mut self.marker, other.marker) {
            (Some(a), Some(b)) => a.reconcile(b),
            (a @ None, b) => *a = b,
            (_, None) => {}
        }
        self.deletion.merge(other.deletion);
        for (col, d) in other.complex_deletions {
            self.complex_deletions.entry(col).or_insert(DeletionTime::LIVE).merge(d);
        }
        if self.cells.is_empty() {
            self.cells = other.cells;
            return;
        }
        for (k, c) in other.cells {
            self.cells.merge_with(k, c, Cell::reconcile);
        }
    }

    /// Drops everything deleted by `outer` (the partition deletion and covering range
    /// tombstones) or by the row's own deletions; removes deletions that `outer` makes redundant.
    pub fn purge_shadowed(&mut self, outer: DeletionTime) {
        if !self.deletion.supersedes(&outer) {
            self.deletion = DeletionTime::LIVE;
        }
        let row_del = outer.max(self.deletion);
        if self.marker.as_ref().is_some_and(|m| row_del.deletes(m.timestamp)) {
            self.marker = None;
        }
        self.complex_deletions.retain(|_, d| d.supersedes(&row_del));
        let complex = &self.complex_deletions;
        self.cells.retain(|k, c| {
            let mut d = row_del;
            if k.path.is_some()
                && let Some(cd) = complex.get(&k.column)
            {
                d = d.max(*cd);
            }
            !d.deletes(c.timestamp)
        });
    }

    /// True if the row is visible at `now_secs`: a live marker or a live cell.
    pub fn has_live_data(&self, now_secs: i64) -> bool {
        self.marker.as_ref().is_some_and(|m| m.is_live(now_secs))
            || self.cells.values().any(|c| c.is_live(now_secs))
    }

    /// The row as a reader sees it at `now_secs`: deletions and dead cells removed.
    /// Call on a row whose shadowed data has already been purged.
    pub fn live(&self, now_secs: i64) -> Row {
        Row {
            marker: self.marker.clone().filter(|m| m.is_live(now_secs)),
            deletion: DeletionTime::LIVE,
            complex_deletions: BTreeMap::new(),
            cells: self
                .cells
                .iter()
                .filter(|(_, c)| c.is_live(now_secs))
                .map(|(k, c)| (k.clone(), c.clone()))
                .collect(),
        }
    }

    /// Calls `f` with every timestamp the row carries (cells, marker, deletions).
    pub fn for_each_timestamp(&self, mut f: impl FnMut(i64)) {
        if let Some(m) = &self.marker {
            f(m.timestamp);
        }
        if !self.deletion.is_live() {
            f(self.deletion.marked_for_delete_at);
        }
        for d in self.complex_deletions.values() {
            f(d.marked_for_delete_at);
        }
        for c in self.cells.values() {
            f(c.timestamp);
        }
    }

    /// Approximate bytes of memory the row's contents take beyond `size_of::<Row>()`.
    pub fn heap_size(&self) -> usize {
        let cells: usize = self
            .cells
            .iter()
            .map(|(k, c)| {
                std::mem::size_of::<(CellKey, Cell)>()
                    + k.column.len()
                    + k.path.as_ref().map_or(0, |p| p.len())
                    + c.value.len()
            })
            .sum();
        let complex: usize = self.complex_deletions.keys().map(|k| 64 + k.len()).sum();
        cells + complex
    }
}
