//! nodetool garbagecollect: every SSTable (pending-repair ones excepted) compacted alone, to
//! drop what no read can see any more without waiting for it to meet the right SSTables in a
//! size-tiered bucket.
//!
//! Two things go:
//! - tombstones and expired cells the purge rules allow ([`crate::purge`]: past gc_grace, and
//!   nothing older for the partition in any other SSTable or memtable);
//! - cells and row markers superseded by data elsewhere: shadowed by a partition, range, row or
//!   collection deletion, or beaten by a newer version of the same cell, in another SSTable of
//!   the same repair pool or (for unrepaired SSTables) a memtable. Only strictly newer data
//!   counts, so two runs can never each drop their copy because of the other; deletions
//!   themselves go only by the purge rules. Sources in other pools are not used: repaired data
//!   must stay what the replicas agreed on.
//!
//! Reading the other sources costs one bloom-filtered point read per partition and SSTable.

use crate::cell::DeletionTime;
use crate::compaction::{self, CompactionSummary, Mode};
use crate::engine::Engine;
use crate::error::Result;
use crate::memtable::Memtable;
use crate::partition::Partition;
use crate::row::Row;
use crate::sstable::SSTableReader;
use crate::table_id::TableId;
use crate::token::{DecoratedKey, murmur3_x64_128};
use std::cmp::Ordering;
use std::sync::Arc;

/// The sources whose data may supersede a garbage-collected SSTable's.
pub(crate) struct Shadowing {
    /// Other SSTables of the same pool.
    pub sstables: Vec<Arc<SSTableReader>>,
    /// Memtables, when the pool is the unrepaired one.
    pub memtables: Vec<Arc<Memtable>>,
}

impl Shadowing {
    /// Every version of `key` these sources hold, merged (nothing purged), if any.
    pub(crate) fn version_of(&self, key: &DecoratedKey) -> Result<Option<Partition>> {
        let mut out: Option<Partition> = None;
        let mut add = |p: Partition| match &mut out {
            None => out = Some(p),
            Some(o) => o.merge(p),
        };
        for m in &self.memtables {
            if let Some(p) = m.get(key, None) {
                add(p);
            }
        }
        if !self.sstables.is_empty() {
            let (h1, h2) = murmur3_x64_128(&key.key, 0);
            for s in &self.sstables {
                if let Some(p) = s.get(key, h1, h2)? {
                    add(p);
                }
            }
        }
        Ok(out)
    }
}

/// Drops from `p` the cells and row markers that `newer` (other sources' version of the same
/// partition) supersedes: deleted by one of its deletions, or beaten by a strictly newer
/// version of the same cell. Leaves `p`'s own deletions alone; removes rows left empty.
pub(crate) fn drop_superseded(p: &mut Partition, newer: &Partition) {
    drop_in_row(&mut p.static_row, newer.deletion, Some(&newer.static_row));
    for (c, row) in p.rows.iter_mut() {
        drop_in_row(row, newer.outer_deletion(c), newer.rows.get(c));
    }
    p.rows.retain(|_, r| !r.is_empty());
}

fn drop_in_row(row: &mut Row, outer: DeletionTime, other: Option<&Row>) {
    let row_del = other.map_or(outer, |o| outer.max(o.deletion));
    let beaten = |mine: &crate::Cell, theirs: Option<&crate::Cell>| {
        theirs.is_some_and(|t| t.reconcile_order(mine) == Ordering::Greater)
    };
    if let Some(m) = &row.marker
        && (row_del.deletes(m.timestamp) || beaten(m, other.and_then(|o| o.marker.as_ref())))
    {
        row.marker = None;
    }
    row.cells.retain(|k, c| {
        let mut d = row_del;
        if k.path.is_some()
            && let Some(cd) = other.and_then(|o| o.complex_deletions.get(&k.column))
        {
            d = d.max(*cd);
        }
        !d.deletes(c.timestamp) && !beaten(c, other.and_then(|o| o.cells.get(k)))
    });
}

impl Engine {
    /// nodetool garbagecollect for table `table` (see the module docs): each SSTable not
    /// pending for a repair session is compacted alone, oldest first, keeping its repair
    /// state. Returns one summary per SSTable.
    pub fn garbage_collect(&self, table: TableId) -> Result<Vec<CompactionSummary>> {
        let t = self.table(table)?;
        let span = tracing::info_span!("garbagecollect", table = %t.descriptor().qualified_name());
        let _e = span.enter();
        let mut reserved = t.reserve_sstables(|s| s.stats().pending_repair.is_none());
        let mut gens: Vec<u64> = reserved.sstables().iter().map(|s| s.generation()).collect();
        gens.sort_unstable();
        let now = self.now_secs();
        let mut out = Vec::with_capacity(gens.len());
        for g in gens {
            let Some(s) = reserved.take(g) else { continue };
            out.push(compaction::compact_with(&t, vec![s], now, Mode::GarbageCollect)?);
        }
        drop(reserved);
        let (bytes_in, bytes_out): (u64, u64) =
            out.iter().fold((0, 0), |(i, o), s| (i + s.bytes_in, o + s.bytes_out));
        tracing::info!(
            sstables = out.len(),
            partitions_in = out.iter().map(|s| s.partitions_in).sum::<u64>(),
            partitions_out = out.iter().map(|s| s.partitions_out).sum::<u64>(),
            bytes_in,
            bytes_out,
            "garbagecollect finished"
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::clustering::ClusteringRange;
    use crate::partition::RangeTombstone;
    use crate::row::CellKey;
    use bytes::Bytes;

    fn row(cells: &[(&str, Cell)]) -> Row {
        let mut r = Row::default();
        for (c, cell) in cells {
            r.cells.insert(CellKey::simple(c.to_string()), cell.clone());
        }
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
    fn newer_versions_and_deletions_elsewhere_drop_cells() {
        let mut p = part(vec![
            (b"a", row(&[("v", Cell::live(5, "old")), ("w", Cell::live(9, "keep"))])),
            (b"b", row(&[("v", Cell::live(5, "gone"))])),
            (b"c", row(&[("v", Cell::live(5, "keep"))])),
        ]);
        p.rows.get_mut(b"a".as_ref()).unwrap().marker = Some(Cell::live(5, Bytes::new()));
        let mut newer = part(vec![(b"a", row(&[("v", Cell::live(6, "new")), ("w", Cell::live(9, "keep"))]))]);
        newer.rows.get_mut(b"a".as_ref()).unwrap().marker = Some(Cell::live(7, Bytes::new()));
        newer.range_tombstones.push(RangeTombstone {
            range: ClusteringRange::from_prefix_bounds(Some((b"b", true)), Some((b"b", true))).unwrap(),
            deletion: DeletionTime::new(5, 1),
        });
        drop_superseded(&mut p, &newer);
        let a = &p.rows[b"a".as_ref()];
        assert!(a.marker.is_none(), "a newer marker elsewhere");
        assert!(!a.cells.contains_key(&CellKey::simple("v")), "a newer version elsewhere");
        assert!(a.cells.contains_key(&CellKey::simple("w")), "an equal version elsewhere keeps ours");
        assert!(!p.rows.contains_key(b"b".as_ref()), "a range tombstone elsewhere, tie to the tombstone");
        assert!(p.rows.contains_key(b"c".as_ref()));
    }

    #[test]
    fn deletions_elsewhere_drop_what_they_cover_and_ours_stay() {
        let mut p = part(vec![(b"a", row(&[("v", Cell::live(5, "x"))]))]);
        p.static_row = row(&[("s", Cell::live(3, "st"))]);
        p.deletion = DeletionTime::new(1, 1);
        let mut r = row(&[]);
        r.cells.insert(CellKey::element("m", "k"), Cell::live(4, "e"));
        r.cells.insert(CellKey::element("n", "k"), Cell::live(4, "e"));
        p.rows.insert(Bytes::from_static(b"m"), r);
        let mut newer = Partition { deletion: DeletionTime::new(3, 1), ..Default::default() };
        let mut nr = Row::default();
        nr.complex_deletions.insert(Bytes::from_static(b"m"), DeletionTime::new(4, 1));
        newer.rows.insert(Bytes::from_static(b"m"), nr);
        drop_superseded(&mut p, &newer);
        assert!(p.static_row.is_empty(), "the partition deletion covers the static row");
        assert_eq!(p.deletion, DeletionTime::new(1, 1), "our own deletion is not touched");
        assert!(p.rows.contains_key(b"a".as_ref()));
        let m = &p.rows[b"m".as_ref()];
        assert_eq!(m.cells.len(), 1);
        assert!(m.cells.contains_key(&CellKey::element("n", "k")));
    }
}
