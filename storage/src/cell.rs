//! Cells and deletion times: the atoms of the data model, and Cassandra's reconciliation rules.
//!
//! A [`Cell`] is live (no local deletion time), expiring (a TTL and `local_deletion_time` = the
//! second it expires) or a tombstone (`local_deletion_time` = the second it was deleted, no TTL,
//! no value). Two versions of a cell reconcile exactly as Cassandra 4.x `Cells.resolveRegular`:
//! the higher timestamp wins; on equal timestamps a tombstone or expiring cell beats a live cell,
//! a tombstone beats an expiring cell, of two expiring cells (or two tombstones) the later local
//! deletion time wins, and otherwise the greater value (unsigned bytes) wins.
//! A [`DeletionTime`] deletes everything whose timestamp is `<=` its `marked_for_delete_at`.

use bytes::Bytes;
use std::cmp::Ordering;

/// `local_deletion_time` of a cell that is neither expiring nor deleted.
pub const NO_DELETION_TIME: i64 = i64::MAX;

/// One versioned value: a column's value in a row, or one element of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Write timestamp, microseconds since the epoch.
    pub timestamp: i64,
    /// Time to live in seconds; 0 unless the cell is expiring.
    pub ttl: u32,
    /// Seconds since the epoch: expiry for an expiring cell, deletion for a tombstone,
    /// [`NO_DELETION_TIME`] for a live cell.
    pub local_deletion_time: i64,
    /// The value; empty for a tombstone.
    pub value: Bytes,
}

impl Cell {
    /// A live cell.
    pub fn live(timestamp: i64, value: impl Into<Bytes>) -> Self {
        Cell { timestamp, ttl: 0, local_deletion_time: NO_DELETION_TIME, value: value.into() }
    }

    /// An expiring cell written at `now_secs` with `ttl` seconds to live.
    pub fn expiring(timestamp: i64, ttl: u32, now_secs: i64, value: impl Into<Bytes>) -> Self {
        Cell {
            timestamp,
            ttl,
            local_deletion_time: now_secs.saturating_add(i64::from(ttl)),
            value: value.into(),
        }
    }

    /// A tombstone written at `now_secs`.
    pub fn tombstone(timestamp: i64, now_secs: i64) -> Self {
        Cell { timestamp, ttl: 0, local_deletion_time: now_secs, value: Bytes::new() }
    }

    /// True for a tombstone (deleted, not merely expiring).
    #[inline]
    pub fn is_tombstone(&self) -> bool {
        self.local_deletion_time != NO_DELETION_TIME && self.ttl == 0
    }

    /// True for an expiring cell (expired or not).
    #[inline]
    pub fn is_expiring(&self) -> bool {
        self.ttl > 0
    }

    /// True when the cell is visible at `now_secs`.
    #[inline]
    pub fn is_live(&self, now_secs: i64) -> bool {
        self.local_deletion_time == NO_DELETION_TIME
            || (self.is_expiring() && now_secs < self.local_deletion_time)
    }

    /// Which of two versions of the same cell wins.
    pub fn reconcile_order(&self, other: &Cell) -> Ordering {
        if self.timestamp != other.timestamp {
            return self.timestamp.cmp(&other.timestamp);
        }
        let a_del = self.local_deletion_time != NO_DELETION_TIME;
        let b_del = other.local_deletion_time != NO_DELETION_TIME;
        if a_del != b_del {
            return a_del.cmp(&b_del);
        }
        if a_del {
            let a_tomb = self.is_tombstone();
            let b_tomb = other.is_tombstone();
            if a_tomb != b_tomb {
                return a_tomb.cmp(&b_tomb);
            }
            if self.local_deletion_time != other.local_deletion_time {
                return self.local_deletion_time.cmp(&other.local_deletion_time);
            }
        }
        self.value.as_ref().cmp(other.value.as_ref())
    }

    /// Keeps in `self` the winner of `self` and `other`.
    #[inline]
    pub fn reconcile(&mut self, other: Cell) {
        if other.reconcile_order(self) == Ordering::Greater {
            *self = other;
        }
    }

    /// Approximate heap and inline size, for memtable accounting.
    pub fn data_size(&self) -> usize {
        24 + self.value.len()
    }
}

/// A deletion: `marked_for_delete_at` (a write timestamp, µs) and `local_deletion_time`
/// (server clock, seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeletionTime {
    /// Everything with a timestamp `<=` this is deleted.
    pub marked_for_delete_at: i64,
    /// When the deletion happened, for gc_grace.
    pub local_deletion_time: i64,
}

impl DeletionTime {
    /// No deletion.
    pub const LIVE: DeletionTime =
        DeletionTime { marked_for_delete_at: i64::MIN, local_deletion_time: NO_DELETION_TIME };

    /// A deletion at timestamp `ts`, made at `now_secs`.
    pub fn new(ts: i64, now_secs: i64) -> Self {
        DeletionTime { marked_for_delete_at: ts, local_deletion_time: now_secs }
    }

    /// True when this is no deletion at all.
    #[inline]
    pub fn is_live(&self) -> bool {
        self.marked_for_delete_at == i64::MIN
    }

    /// True if data written at `timestamp` is deleted by this (ties go to the deletion).
    #[inline]
    pub fn deletes(&self, timestamp: i64) -> bool {
        timestamp <= self.marked_for_delete_at
    }

    /// True if this deletion wins over `other`.
    pub fn supersedes(&self, other: &DeletionTime) -> bool {
        self.marked_for_delete_at > other.marked_for_delete_at
            || (self.marked_for_delete_at == other.marked_for_delete_at
                && self.local_deletion_time > other.local_deletion_time)
    }

    /// Keeps the winner of the two in `self`.
    #[inline]
    pub fn merge(&mut self, other: DeletionTime) {
        if other.supersedes(self) {
            *self = other;
        }
    }

    /// The later of two deletions.
    pub fn max(self, other: DeletionTime) -> DeletionTime {
        if other.supersedes(&self) { other } else { self }
    }
}

impl Default for DeletionTime {
    fn default() -> Self {
        DeletionTime::LIVE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn winner(a: Cell, b: Cell) -> Cell {
        // Reconciliation is commutative: check both orders agree.
        let mut x = a.clone();
        x.reconcile(b.clone());
        let mut y = b;
        y.reconcile(a);
        assert_eq!(x, y, "reconciliation must not depend on argument order");
        x
    }

    #[test]
    fn higher_timestamp_wins_whatever_the_kinds() {
        let old_tomb = Cell::tombstone(10, 100);
        let new_live = Cell::live(11, "v");
        assert_eq!(winner(old_tomb, new_live.clone()), new_live);
        let old_live = Cell::live(10, "zzz");
        let new_tomb = Cell::tombstone(11, 100);
        assert_eq!(winner(old_live, new_tomb.clone()), new_tomb);
        let old_exp = Cell::expiring(10, 60, 100, "a");
        let new_live = Cell::live(12, "a");
        assert_eq!(winner(old_exp, new_live.clone()), new_live);
    }

    #[test]
    fn equal_timestamps_tombstone_beats_live() {
        let live = Cell::live(10, "zzzz");
        let tomb = Cell::tombstone(10, 5);
        assert_eq!(winner(live, tomb.clone()), tomb);
    }

    #[test]
    fn equal_timestamps_expiring_beats_live() {
        let live = Cell::live(10, "zzzz");
        let exp = Cell::expiring(10, 60, 100, "a");
        assert_eq!(winner(live, exp.clone()), exp);
    }

    #[test]
    fn equal_timestamps_tombstone_beats_expiring() {
        let exp = Cell::expiring(10, 60, 1_000_000, "a");
        let tomb = Cell::tombstone(10, 5);
        assert_eq!(winner(exp, tomb.clone()), tomb);
    }

    #[test]
    fn equal_timestamps_later_expiry_wins_between_expiring_cells() {
        let early = Cell::expiring(10, 60, 100, "zzz");
        let late = Cell::expiring(10, 60, 200, "a");
        assert_eq!(winner(early, late.clone()), late);
    }

    #[test]
    fn equal_timestamps_later_deletion_wins_between_tombstones() {
        let early = Cell::tombstone(10, 100);
        let late = Cell::tombstone(10, 200);
        assert_eq!(winner(early, late.clone()), late);
    }

    #[test]
    fn otherwise_greater_value_wins_bytewise_unsigned() {
        let a = Cell::live(10, vec![0x7f]);
        let b = Cell::live(10, vec![0x80]);
        assert_eq!(winner(a, b.clone()), b);
        let short = Cell::live(10, "ab");
        let long = Cell::live(10, "abc");
        assert_eq!(winner(short, long.clone()), long);
        let e1 = Cell::expiring(10, 60, 100, "a");
        let e2 = Cell::expiring(10, 60, 100, "b");
        assert_eq!(winner(e1, e2.clone()), e2);
    }

    #[test]
    fn liveness_follows_ttl() {
        let c = Cell::expiring(1, 10, 100, "v");
        assert!(c.is_live(109));
        assert!(!c.is_live(110));
        assert!(!Cell::tombstone(1, 100).is_live(0));
        assert!(Cell::live(1, "v").is_live(i64::MAX - 1));
    }

    #[test]
    fn deletion_ties_go_to_the_tombstone() {
        let d = DeletionTime::new(10, 100);
        assert!(d.deletes(10));
        assert!(d.deletes(9));
        assert!(!d.deletes(11));
        assert!(!DeletionTime::LIVE.deletes(i64::MIN + 1));
    }

    #[test]
    fn deletion_supersedes_by_timestamp_then_local_time() {
        let a = DeletionTime::new(10, 100);
        let b = DeletionTime::new(11, 50);
        let c = DeletionTime::new(10, 200);
        assert!(b.supersedes(&a));
        assert!(c.supersedes(&a));
        assert!(!a.supersedes(&a));
        assert_eq!(a.max(b), b);
        assert_eq!(a.max(c), c);
    }
}
