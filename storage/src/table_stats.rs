//! Per-table statistics, as `nodetool tablestats` shows them: counts and sizes from the view
//! (SSTable statistics, memtables) and the table directory. Cheap enough for every metrics
//! scrape: nothing is read but small in-memory statistics and one directory listing.

use crate::compaction::stcs;
use crate::engine::Engine;
use crate::error::Result;
use crate::sstable::Descriptor;
use crate::table_id::TableId;
use std::path::Path;

/// A table's numbers, as `nodetool tablestats` shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableStats {
    /// Live SSTables.
    pub sstable_count: usize,
    /// Bytes on disk of the live SSTables (every component).
    pub space_used_live: u64,
    /// Bytes on disk of every SSTable file in the table directory, including SSTables replaced
    /// by compaction but not yet deleted (a reader still holds them).
    pub space_used_total: u64,
    /// Estimated partitions: SSTable partition counts plus memtable partitions (a partition in
    /// several sources counts several times).
    pub partitions: u64,
    /// Bytes in the table's memtables (active and flushing).
    pub memtable_bytes: u64,
    /// Partitions in the table's memtables.
    pub memtable_partitions: u64,
    /// Tombstones in the SSTables: partition, range, row, collection and cell tombstones.
    pub tombstones: u64,
    /// Estimated tombstones (and expired cells) older than gc_grace, from the SSTables'
    /// drop-time histograms.
    pub droppable_tombstones: u64,
    /// Percentage of Data.db bytes in repaired SSTables (100 with no SSTables).
    pub percent_repaired: f64,
    /// Data.db bytes of repaired SSTables.
    pub repaired_bytes: u64,
    /// Data.db bytes of SSTables pending for an incremental repair session.
    pub pending_repair_bytes: u64,
    /// Data.db bytes of unrepaired SSTables no session holds.
    pub unrepaired_bytes: u64,
    /// Estimated compactions due.
    pub compactions_pending: usize,
}

/// Bytes of every published SSTable component file in `dir` (live or awaiting deletion).
fn sstable_files_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| Descriptor::parse_file_name(&e.file_name().to_string_lossy()).is_some())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

impl Engine {
    /// Statistics of table `table` (see [`TableStats`]).
    pub fn table_stats(&self, table: TableId) -> Result<TableStats> {
        let t = self.table(table)?;
        let opts = t.options();
        let gc_before = self.now_secs() - i64::from(opts.gc_grace_seconds);
        let view = t.view();
        let mut out = TableStats { sstable_count: view.sstables.len(), ..Default::default() };
        for s in &view.sstables {
            let st = s.stats();
            out.space_used_live += s.disk_size();
            out.partitions += s.partition_count() as u64;
            out.tombstones += st.tombstones;
            out.droppable_tombstones += st.droppable_tombstones(gc_before);
            let bytes = s.data_size();
            if st.pending_repair.is_some() {
                out.pending_repair_bytes += bytes;
            } else if st.is_repaired() {
                out.repaired_bytes += bytes;
            } else {
                out.unrepaired_bytes += bytes;
            }
        }
        for m in view.memtables() {
            out.memtable_bytes += m.size() as u64;
            out.memtable_partitions += m.partition_count() as u64;
        }
        out.partitions += out.memtable_partitions;
        // Files come and go while we list them; never report less than the live SSTables.
        out.space_used_total = sstable_files_size(t.dir()).max(out.space_used_live);
        let all = out.repaired_bytes + out.pending_repair_bytes + out.unrepaired_bytes;
        out.percent_repaired = if all == 0 { 100.0 } else { out.repaired_bytes as f64 * 100.0 / all as f64 };
        out.compactions_pending = stcs::estimated_tasks(&view.sstables, &opts.compaction);
        Ok(out)
    }
}
