//! Per-table statistics for nodetool tablestats (placeholder while being implemented).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::table_id::TableId;

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

impl Engine {
    /// The table's statistics.
    pub fn table_stats(&self, table: TableId) -> Result<TableStats> {
        let _ = table;
        Err(Error::Invalid("table stats are not implemented yet".into()))
    }
}
