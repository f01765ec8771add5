//! Partitions: everything one table holds under one partition key — a partition deletion, a
//! static row, range tombstones over clustering intervals, and rows in clustering order.
//!
//! The same struct is a write (the update a [`crate::Mutation`] carries), a memtable entry, an
//! SSTable entry and a read result. [`Partition::merge`] reconciles versions; afterwards
//! [`Partition::purge_shadowed`] removes whatever a deletion covers, which is always safe.
//! [`Partition::live`] is what a reader sees at a given second; [`crate::purge`] decides which
//! tombstones compaction may drop.

use crate::cell::{DeletionTime, NO_DELETION_TIME};
use crate::clustering::ClusteringRange;
use crate::row::Row;
use crate::sorted_map::SortedMap;
use bytes::Bytes;

/// Deletion of every row whose clustering falls in `range`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RangeTombstone {
    /// The clustering interval deleted.
    pub range: ClusteringRange,
    /// When and at which timestamp.
    pub deletion: DeletionTime,
}

/// One partition's data (or changes to it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Partition {
    /// Partition tombstone (covers the static row too).
    pub deletion: DeletionTime,
    /// The static row (empty when the table has none).
    pub static_row: Row,
    /// Range tombstones, in no particular order.
    pub range_tombstones: Vec<RangeTombstone>,
    /// Rows by encoded clustering key.
    pub rows: SortedMap<Bytes, Row>,
}

/// Drops range tombstones that a newer one covering the same clustering interval makes
/// redundant. `rts` is sorted by range start; a tombstone can only be covered by one that
/// starts at or before it, so one pass keeping the strongest cover for each end suffices for
/// the common cases (nested and repeated deletes) without comparing every pair.
fn drop_covered(rts: &mut Vec<RangeTombstone>) {
    let mut kept: Vec<RangeTombstone> = Vec::with_capacity(rts.len());
    for rt in rts.drain(..) {
        let covered = kept
            .iter()
            .rev()
            .take(8)
            .any(|k| k.range.covers(&rt.range) && k.deletion.supersedes(&rt.deletion));
        if !covered {
            kept.push(rt);
        }
    }
    *rts = kept;
}

/// Timestamp and deletion-time bounds of some data, for SSTable statistics and purging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// Smallest write or deletion timestamp.
    pub min_timestamp: i64,
    /// Largest write or deletion timestamp.
    pub max_timestamp: i64,
    /// Smallest local deletion time (tombstones and expiring cells).
    pub min_local_deletion_time: i64,
    /// Largest local deletion time (tombstones and expiring cells).
    pub max_local_deletion_time: i64,
}

impl Default for TimeBounds {
    fn default() -> Self {
        TimeBounds {
            min_timestamp: i64::MAX,
            max_timestamp: i64::MIN,
            min_local_deletion_time: NO_DELETION_TIME,
            max_local_deletion_time: i64::MIN,
        }
    }
}

impl TimeBounds {
    /// Folds one timestamp in.
    #[inline]
    pub fn timestamp(&mut self, ts: i64) {
        self.min_timestamp = self.min_timestamp.min(ts);
        self.max_timestamp = self.max_timestamp.max(ts);
    }

    /// Folds one local deletion time in (ignores [`NO_DELETION_TIME`]).
    #[inline]
    pub fn deletion_time(&mut self, ldt: i64) {
        if ldt != NO_DELETION_TIME {
            self.min_local_deletion_time = self.min_local_deletion_time.min(ldt);
            self.max_local_deletion_time = self.max_local_deletion_time.max(ldt);
        }
    }

    /// Folds another set of bounds in.
    pub fn union(&mut self, o: &TimeBounds) {
        self.min_timestamp = self.min_timestamp.min(o.min_timestamp);
        self.max_timestamp = self.max_timestamp.max(o.max_timestamp);
        self.min_local_deletion_time = self.min_local_deletion_time.min(o.min_local_deletion_time);
        self.max_local_deletion_time = self.max_local_deletion_time.max(o.max_local_deletion_time);
    }
}

impl Partition {
    /// True when the partition carries nothing.
    pub fn is_empty(&self) -> bool {
        self.deletion.is_live()
            && self.static_row.is_empty()
            && self.range_tombstones.is_empty()
            && self.rows.is_empty()
    }

    /// True if the partition carries any kind of deletion.
    pub fn has_deletions(&self) -> bool {
        !self.deletion.is_live()
            || !self.range_tombstones.is_empty()
            || self.static_row.has_deletions()
            || self.rows.values().any(Row::has_deletions)
    }

    /// What `theirs` lacks of this partition, at row granularity: the partition deletion and
    /// static row when they differ, range tombstones it does not hold, and every row it holds in
    /// another version or not at all. When this partition is the reconciliation of `theirs` and
    /// other versions, merging the result into `theirs` yields this partition's data.
    pub fn missing_from(&self, theirs: &Partition) -> Partition {
        let mut out = Partition::default();
        if self.deletion != theirs.deletion {
            out.deletion = self.deletion;
        }
        if self.static_row != theirs.static_row {
            out.static_row = self.static_row.clone();
        }
        out.range_tombstones = self
            .range_tombstones
            .iter()
            .filter(|rt| !theirs.range_tombstones.contains(rt))
            .cloned()
            .collect();
        for (c, row) in self.rows.iter() {
            if theirs.rows.get(c) != Some(row) {
                out.rows.push_sorted(c.clone(), row.clone());
            }
        }
        out
    }

    /// Merges another version of the same partition into this one (no shadowing applied).
    pub fn merge(&mut self, other: Partition) {
        self.deletion.merge(other.deletion);
        self.static_row.merge(other.static_row);
        // Duplicates and redundant range tombstones are removed by `purge_shadowed`.
        self.range_tombstones.extend(other.range_tombstones);
        if self.rows.is_empty() {
            self.rows = other.rows;
            return;
        }
        for (c, row) in other.rows {
            self.rows.merge_with(c, row, Row::merge);
        }
    }

    /// The deletion that applies to a row at `clustering` from above it: the partition
    /// deletion and every range tombstone covering the key.
    pub fn outer_deletion(&self, clustering: &[u8]) -> DeletionTime {
        let mut d = self.deletion;
        for rt in &self.range_tombstones {
            if rt.range.contains(clustering) {
                d.merge(rt.deletion);
            }
        }
        d
    }

    /// Removes every piece of data a deletion in this partition covers, redundant deletions,
    /// and rows left empty. Safe at any time: it changes no read result. O((rows + r) log r)
    /// for r range tombstones: they are sorted once and swept alongside the rows.
    pub fn purge_shadowed(&mut self) {
        let pd = self.deletion;
        self.range_tombstones.retain(|rt| rt.deletion.supersedes(&pd));
        if self.range_tombstones.len() > 1 {
            // A total order (strongest deletion first within a range), so that the result —
            // and a repair hash of it — does not depend on the order the sources came in.
            self.range_tombstones.sort_by(|a, b| {
                a.range
                    .cmp(&b.range)
                    .then_with(|| b.deletion.marked_for_delete_at.cmp(&a.deletion.marked_for_delete_at))
                    .then_with(|| b.deletion.local_deletion_time.cmp(&a.deletion.local_deletion_time))
            });
            self.range_tombstones.dedup_by(|later, earlier| {
                later.range == earlier.range && !later.deletion.supersedes(&earlier.deletion)
            });
            drop_covered(&mut self.range_tombstones);
        }
        self.static_row.purge_shadowed(pd);
        if self.range_tombstones.is_empty() {
            if pd.is_live() {
                // Only a row's own deletions can shadow anything in it.
                let mut emptied = false;
                for row in self.rows.values_mut() {
                    if !row.deletion.is_live() || !row.complex_deletions.is_empty() {
                        row.purge_shadowed(pd);
                        emptied |= row.is_empty();
                    }
                }
                if emptied {
                    self.rows.retain(|_, r| !r.is_empty());
                }
                return;
            }
            for row in self.rows.values_mut() {
                row.purge_shadowed(pd);
            }
        } else {
            // Rows and range tombstones are both in clustering order: sweep them together,
            // keeping the tombstones whose range has started and not yet ended.
            let rts = &self.range_tombstones;
            let mut next = 0;
            let mut active: Vec<&RangeTombstone> = Vec::new();
            for (c, row) in self.rows.iter_mut() {
                while next < rts.len() && rts[next].range.start.as_ref() <= c.as_ref() {
                    active.push(&rts[next]);
                    next += 1;
                }
                active.retain(|rt| rt.range.end.as_ref().is_none_or(|e| c.as_ref() < e.as_ref()));
                let d = active.iter().fold(pd, |d, rt| d.max(rt.deletion));
                row.purge_shadowed(d);
            }
        }
        self.rows.retain(|_, r| !r.is_empty());
    }

    /// What a reader sees at `now_secs`: only live rows and cells, no deletions. Call after
    /// [`Partition::purge_shadowed`]. Returns an empty partition when nothing is live.
    pub fn live(&self, now_secs: i64) -> Partition {
        let static_row = if self.static_row.has_live_data(now_secs) {
            self.static_row.live(now_secs)
        } else {
            Row::default()
        };
        let rows = self
            .rows
            .iter()
            .filter(|(_, r)| r.has_live_data(now_secs))
            .map(|(c, r)| (c.clone(), r.live(now_secs)))
            .collect();
        Partition { deletion: DeletionTime::LIVE, static_row, range_tombstones: Vec::new(), rows }
    }

    /// The part of the partition a read of `slices` needs: deletion, static row, the range
    /// tombstones that overlap a slice, and the rows inside one.
    pub fn slice(&self, slices: &[ClusteringRange]) -> Partition {
        let mut rows = SortedMap::new();
        for s in slices {
            for (c, r) in self.rows.range::<[u8], _>(s.bounds()) {
                rows.insert(c.clone(), r.clone());
            }
        }
        Partition {
            deletion: self.deletion,
            static_row: self.static_row.clone(),
            range_tombstones: self
                .range_tombstones
                .iter()
                .filter(|rt| slices.iter().any(|s| s.overlaps(&rt.range)))
                .cloned()
                .collect(),
            rows,
        }
    }

    /// Timestamp and deletion-time bounds of everything in the partition.
    pub fn time_bounds(&self) -> TimeBounds {
        let mut b = TimeBounds::default();
        let fold_deletion = |b: &mut TimeBounds, d: &DeletionTime| {
            if !d.is_live() {
                b.timestamp(d.marked_for_delete_at);
                b.deletion_time(d.local_deletion_time);
            }
        };
        fold_deletion(&mut b, &self.deletion);
        for rt in &self.range_tombstones {
            fold_deletion(&mut b, &rt.deletion);
        }
        for row in std::iter::once(&self.static_row).chain(self.rows.values()) {
            fold_deletion(&mut b, &row.deletion);
            for d in row.complex_deletions.values() {
                fold_deletion(&mut b, d);
            }
            if let Some(m) = &row.marker {
                b.timestamp(m.timestamp);
                b.deletion_time(m.local_deletion_time);
            }
            for c in row.cells.values() {
                b.timestamp(c.timestamp);
                b.deletion_time(c.local_deletion_time);
            }
        }
        b
    }

    /// Approximate bytes of memory the partition takes, for memtable accounting.
    pub fn data_size(&self) -> usize {
        std::mem::size_of::<Partition>()
            + self.static_row.heap_size()
            + self.range_tombstones.len() * (std::mem::size_of::<RangeTombstone>() + 32)
            + self
                .rows
                .iter()
                .map(|(c, r)| std::mem::size_of::<(Bytes, Row)>() + c.len() + r.heap_size())
                .sum::<usize>()
    }

    /// Number of rows, counting a non-empty static row.
    pub fn row_count(&self) -> usize {
        self.rows.len() + usize::from(!self.static_row.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::row::CellKey;

    fn row_with(col: &str, c: Cell) -> Row {
        let mut r = Row::default();
        r.cells.insert(CellKey::simple(col.to_string()), c);
        r
    }

    fn part(rows: Vec<(&'static [u8], Row)>) -> Partition {
        let mut p = Partition::default();
        for (c, r) in rows {
            p.rows.insert(Bytes::from_static(c), r);
        }
        p
    }

    #[test]
    fn partition_deletion_shadows_older_and_equal_data_only() {
        let mut p = part(vec![
            (b"a", row_with("v", Cell::live(10, "old"))),
            (b"b", row_with("v", Cell::live(20, "new"))),
        ]);
        p.merge(Partition { deletion: DeletionTime::new(10, 1), ..Default::default() });
        p.purge_shadowed();
        assert_eq!(p.rows.len(), 1);
        assert!(p.rows.contains_key(b"b".as_ref()));
    }

    #[test]
    fn range_tombstone_shadows_only_its_range() {
        let mut p = part(vec![
            (b"a", row_with("v", Cell::live(10, "x"))),
            (b"b", row_with("v", Cell::live(10, "x"))),
            (b"c", row_with("v", Cell::live(10, "x"))),
        ]);
        p.range_tombstones.push(RangeTombstone {
            range: ClusteringRange::from_prefix_bounds(Some((b"b", true)), Some((b"c", false))).unwrap(),
            deletion: DeletionTime::new(10, 1),
        });
        p.purge_shadowed();
        let keys: Vec<_> = p.rows.keys().cloned().collect();
        assert_eq!(keys, vec![Bytes::from_static(b"a"), Bytes::from_static(b"c")]);
        assert_eq!(p.range_tombstones.len(), 1);
    }

    #[test]
    fn row_deletion_beats_cells_but_not_newer_ones() {
        let mut r = row_with("v", Cell::live(10, "x"));
        r.cells.insert(CellKey::simple("w"), Cell::live(12, "y"));
        r.deletion = DeletionTime::new(11, 1);
        let mut p = part(vec![(b"a", r)]);
        p.purge_shadowed();
        let row = &p.rows[b"a".as_ref()];
        assert_eq!(row.cells.len(), 1);
        assert!(row.cells.contains_key(&CellKey::simple("w")));
    }

    #[test]
    fn collection_deletion_shadows_only_its_elements() {
        let mut r = Row::default();
        r.cells.insert(CellKey::element("m", "k1"), Cell::live(5, "a"));
        r.cells.insert(CellKey::element("m", "k2"), Cell::live(7, "b"));
        r.cells.insert(CellKey::simple("v"), Cell::live(5, "c"));
        r.complex_deletions.insert(Bytes::from_static(b"m"), DeletionTime::new(6, 1));
        r.purge_shadowed(DeletionTime::LIVE);
        assert_eq!(r.cells.len(), 2);
        assert!(r.cells.contains_key(&CellKey::element("m", "k2")));
        assert!(r.cells.contains_key(&CellKey::simple("v")));
    }

    #[test]
    fn partition_deletion_makes_older_range_and_row_deletions_redundant() {
        let r = Row { deletion: DeletionTime::new(5, 1), ..Default::default() };
        let mut p = part(vec![(b"a", r)]);
        p.range_tombstones
            .push(RangeTombstone { range: ClusteringRange::all(), deletion: DeletionTime::new(5, 1) });
        p.deletion = DeletionTime::new(6, 1);
        p.purge_shadowed();
        assert!(p.rows.is_empty());
        assert!(p.range_tombstones.is_empty());
    }

    #[test]
    fn purged_range_tombstones_do_not_depend_on_merge_order() {
        // Same range and timestamp, deleted at different seconds (the same DELETE replayed
        // later): whichever source comes first, the result (and a repair hash) is the same.
        let rt = |ldt| RangeTombstone {
            range: ClusteringRange::from_prefix_bounds(Some((b"a", true)), Some((b"c", true))).unwrap(),
            deletion: DeletionTime::new(5, ldt),
        };
        let other = RangeTombstone { range: ClusteringRange::all(), deletion: DeletionTime::new(1, 9) };
        let build = |first: Vec<RangeTombstone>, second: Vec<RangeTombstone>| {
            let mut p = Partition { range_tombstones: first, ..Default::default() };
            p.merge(Partition { range_tombstones: second, ..Default::default() });
            p.purge_shadowed();
            p
        };
        let a = build(vec![rt(10), other.clone()], vec![rt(20)]);
        let b = build(vec![rt(20)], vec![other, rt(10)]);
        assert_eq!(a, b);
        assert_eq!(a.range_tombstones.len(), 2);
        assert_eq!(a.range_tombstones[1].deletion, DeletionTime::new(5, 20));
    }

    #[test]
    fn live_view_hides_tombstones_and_expired_cells() {
        let mut r = row_with("v", Cell::tombstone(10, 1));
        r.cells.insert(CellKey::simple("t"), Cell::expiring(10, 10, 100, "x"));
        let p = part(vec![(b"a", r)]);
        assert_eq!(p.live(105).rows.len(), 1);
        assert!(p.live(110).rows.is_empty());
    }

    #[test]
    fn inserted_row_with_only_a_marker_is_live() {
        let r = Row { marker: Some(Cell::live(1, Bytes::new())), ..Default::default() };
        let p = part(vec![(b"a", r)]);
        assert_eq!(p.live(0).rows.len(), 1);
    }

    #[test]
    fn merge_reconciles_every_level() {
        let mut a = part(vec![(b"a", row_with("v", Cell::live(1, "a")))]);
        let b =
            part(vec![(b"a", row_with("v", Cell::live(2, "b"))), (b"b", row_with("v", Cell::live(1, "c")))]);
        a.merge(b);
        assert_eq!(a.rows.len(), 2);
        assert_eq!(a.rows[b"a".as_ref()].cells[&CellKey::simple("v")].value, "b");
    }
    #[test]
    fn missing_from_holds_exactly_what_brings_a_replica_up_to_date() {
        let theirs = part(vec![
            (b"a", row_with("v", Cell::live(1, "same"))),
            (b"b", row_with("v", Cell::live(1, "old"))),
            (b"z", row_with("v", Cell::live(1, "theirs only"))),
        ]);
        let mut merged = theirs.clone();
        let mut newer = part(vec![
            (b"b", row_with("v", Cell::live(2, "new"))),
            (b"c", row_with("v", Cell::live(1, "c"))),
        ]);
        newer.range_tombstones.push(RangeTombstone {
            range: ClusteringRange::from_prefix_bounds(Some((b"y", true)), None).unwrap(),
            deletion: DeletionTime::new(3, 1),
        });
        merged.merge(newer);
        merged.purge_shadowed();
        let diff = merged.missing_from(&theirs);
        let keys: Vec<_> = diff.rows.keys().cloned().collect();
        assert_eq!(
            keys,
            vec![Bytes::from_static(b"b"), Bytes::from_static(b"c")],
            "row a is the same on both"
        );
        assert_eq!(diff.range_tombstones.len(), 1);
        assert!(diff.deletion.is_live() && diff.static_row.is_empty());
        let mut healed = theirs;
        healed.merge(diff);
        healed.purge_shadowed();
        assert_eq!(healed, merged);
        assert!(merged.missing_from(&merged).is_empty());
    }
}
