//! nodetool cleanup (placeholder while being implemented).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::table_id::TableId;
use crate::token::Token;

/// What a cleanup did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupSummary {
    /// SSTables looked at.
    pub sstables_checked: usize,
    /// SSTables rewritten without their unowned partitions.
    pub sstables_rewritten: usize,
    /// SSTables holding only unowned partitions, deleted.
    pub sstables_dropped: usize,
    /// Partitions dropped.
    pub partitions_dropped: u64,
    /// Data.db bytes of the SSTables rewritten or dropped.
    pub bytes_in: u64,
    /// Data.db bytes of their replacements.
    pub bytes_out: u64,
}

impl Engine {
    /// Drops the partitions outside `owned`.
    pub fn cleanup(&self, table: TableId, owned: &[(Token, Token)]) -> Result<CleanupSummary> {
        let _ = (table, owned);
        Err(Error::Invalid("cleanup is not implemented yet".into()))
    }
}
