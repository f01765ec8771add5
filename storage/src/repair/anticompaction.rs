//! Incremental repair's SSTable states (placeholder while being implemented).

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::table_id::TableId;
use crate::token::Token;

/// What an anticompaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnticompactionSummary {
    /// The session the data is now pending for.
    pub session: String,
    /// Unrepaired SSTables wholly inside the ranges, marked pending in place.
    pub sstables_marked: usize,
    /// SSTables straddling a range edge, rewritten into an in-range (pending) SSTable and an
    /// out-of-range (unrepaired) one.
    pub sstables_split: usize,
    /// Data.db bytes of the SSTables marked in place.
    pub bytes_marked: u64,
    /// Data.db bytes of the SSTables split (read and rewritten).
    pub bytes_split: u64,
    /// Data.db bytes pending for the session afterwards (marked plus in-range outputs).
    pub bytes_pending: u64,
}

impl Engine {
    /// Marks the unrepaired data of `ranges` pending for `session`.
    pub fn anticompact(
        &self,
        table: TableId,
        ranges: &[(Token, Token)],
        session: &str,
    ) -> Result<AnticompactionSummary> {
        let _ = (table, ranges, session);
        Err(Error::Invalid("anticompaction is not implemented yet".into()))
    }

    /// Pending → repaired at `repaired_at`.
    pub fn finalize_repair(&self, table: TableId, session: &str, repaired_at: u64) -> Result<usize> {
        let _ = (table, session, repaired_at);
        Err(Error::Invalid("finalize is not implemented yet".into()))
    }

    /// Pending → unrepaired.
    pub fn abort_repair(&self, table: TableId, session: &str) -> Result<usize> {
        let _ = (table, session);
        Err(Error::Invalid("abort is not implemented yet".into()))
    }

    /// Sessions holding pending SSTables of `table`.
    pub fn pending_sessions(&self, table: TableId) -> Vec<String> {
        let _ = table;
        Vec::new()
    }
}
