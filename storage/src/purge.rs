//! Tombstone purging during compaction (Cassandra's `PurgeFunction` and `AbstractCell.purge`).
//!
//! A tombstone, or an expired cell, may be dropped only when its local deletion time is older
//! than `gc_before` (now − `gc_grace_seconds`) **and** its timestamp is older than
//! `max_purgeable_timestamp`: the smallest timestamp any data source outside the compaction
//! (other SSTables whose bloom filter may hold the key, memtables) has for this partition — so a
//! dropped tombstone can never uncover older data kept elsewhere. An expired cell that cannot be
//! dropped yet is rewritten as a tombstone whose deletion time is its write second
//! (expiry − ttl), then tested again. Call after [`Partition::purge_shadowed`].

use crate::cell::{Cell, DeletionTime};
use crate::partition::Partition;
use crate::row::Row;

/// The purge decision for one partition.
#[derive(Debug, Clone, Copy)]
pub struct Purger {
    /// The current time, seconds.
    pub now_secs: i64,
    /// Tombstones deleted before this second are past gc_grace.
    pub gc_before: i64,
    /// Only tombstones with a timestamp strictly below this may go.
    pub max_purgeable_timestamp: i64,
    /// When false nothing is purged (e.g. `only_purge_repaired_tombstones` with unrepaired
    /// input); expired cells are still converted to tombstones.
    pub enabled: bool,
}

impl Purger {
    /// True if a tombstone with this timestamp and deletion time may be dropped.
    #[inline]
    pub fn should_purge(&self, timestamp: i64, local_deletion_time: i64) -> bool {
        self.enabled && local_deletion_time < self.gc_before && timestamp < self.max_purgeable_timestamp
    }

    fn purge_deletion(&self, d: &mut DeletionTime) {
        if !d.is_live() && self.should_purge(d.marked_for_delete_at, d.local_deletion_time) {
            *d = DeletionTime::LIVE;
        }
    }

    /// Purges one cell: `None` if it goes, else the cell to keep (maybe converted).
    pub fn purge_cell(&self, cell: Cell) -> Option<Cell> {
        if cell.is_live(self.now_secs) {
            return Some(cell);
        }
        if self.should_purge(cell.timestamp, cell.local_deletion_time) {
            return None;
        }
        if cell.is_expiring() {
            let written = cell.local_deletion_time.saturating_sub(i64::from(cell.ttl));
            return self.purge_cell(Cell::tombstone(cell.timestamp, written));
        }
        Some(cell)
    }

    fn purge_row(&self, row: &mut Row) {
        self.purge_deletion(&mut row.deletion);
        for d in row.complex_deletions.values_mut() {
            self.purge_deletion(d);
        }
        row.complex_deletions.retain(|_, d| !d.is_live());
        if let Some(m) = &row.marker
            && !m.is_live(self.now_secs)
            && self.should_purge(m.timestamp, m.local_deletion_time)
        {
            row.marker = None;
        }
        let cells = std::mem::take(&mut row.cells);
        row.cells = cells.into_iter().filter_map(|(k, c)| self.purge_cell(c).map(|c| (k, c))).collect();
    }

    /// Purges a partition in place; returns false if nothing is left of it.
    pub fn purge(&self, p: &mut Partition) -> bool {
        self.purge_deletion(&mut p.deletion);
        p.range_tombstones.retain(|rt| {
            !self.should_purge(rt.deletion.marked_for_delete_at, rt.deletion.local_deletion_time)
        });
        self.purge_row(&mut p.static_row);
        for row in p.rows.values_mut() {
            self.purge_row(row);
        }
        p.rows.retain(|_, r| !r.is_empty());
        !p.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::CellKey;
    use bytes::Bytes;

    fn purger(max_ts: i64) -> Purger {
        Purger { now_secs: 1000, gc_before: 500, max_purgeable_timestamp: max_ts, enabled: true }
    }

    #[test]
    fn young_tombstone_survives() {
        let p = purger(i64::MAX);
        assert!(p.purge_cell(Cell::tombstone(10, 600)).is_some());
    }

    #[test]
    fn old_tombstone_goes_when_nothing_older_exists_elsewhere() {
        let p = purger(i64::MAX);
        assert!(p.purge_cell(Cell::tombstone(10, 400)).is_none());
    }

    #[test]
    fn old_tombstone_stays_while_older_data_exists_outside_the_compaction() {
        // Another SSTable holds data for this key written at timestamp 5.
        let p = purger(5);
        assert!(p.purge_cell(Cell::tombstone(10, 400)).is_some());
        // Data newer than the tombstone elsewhere does not block it.
        let p = purger(11);
        assert!(p.purge_cell(Cell::tombstone(10, 400)).is_none());
    }

    #[test]
    fn expired_cell_becomes_tombstone_at_write_time_then_ages() {
        // Written at second 550 with ttl 100, expired at 650 (< now 1000), gc_before 500:
        // not purgeable with ldt 650, converted to a tombstone with ldt 550, still young.
        let p = purger(i64::MAX);
        let c = Cell::expiring(10, 100, 550, "v");
        let kept = p.purge_cell(c).unwrap();
        assert!(kept.is_tombstone());
        assert_eq!(kept.local_deletion_time, 550);
        assert!(kept.value.is_empty());
        // Written at 300, ttl 100: expired at 400 < gc_before: dropped at once.
        assert!(p.purge_cell(Cell::expiring(10, 100, 300, "v")).is_none());
        // Not yet expired: kept as is.
        let live = Cell::expiring(10, 5000, 300, "v");
        assert_eq!(p.purge_cell(live.clone()), Some(live));
    }

    #[test]
    fn disabled_purger_keeps_tombstones() {
        let mut p = purger(i64::MAX);
        p.enabled = false;
        assert!(p.purge_cell(Cell::tombstone(10, 0)).is_some());
    }

    #[test]
    fn purge_removes_emptied_rows_and_partitions() {
        let mut part = Partition::default();
        let mut r = Row::default();
        r.cells.insert(CellKey::simple("v"), Cell::tombstone(1, 10));
        part.rows.insert(Bytes::from_static(b"a"), r);
        part.deletion = DeletionTime::new(0, 10);
        assert!(!purger(i64::MAX).purge(&mut part));
        assert!(part.is_empty());
    }
}
