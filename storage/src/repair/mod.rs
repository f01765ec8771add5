//! Repair's storage side: what one replica does for a repair session run by `server::repair`.
//!
//! - [`merkle`]: Merkle trees over a token range, their comparison and their wire encoding.
//! - [`validation`]: the validation read — each partition of a range merged from the sources a
//!   [`RepairScope`] selects and hashed, into a tree or a list — and reads of whole partitions
//!   for streaming what differs.
//! - [`anticompaction`]: incremental repair's SSTable states: anticompaction marks the
//!   unrepaired data of the repaired ranges pending for a session (splitting SSTables that
//!   straddle a range edge), finalize promotes it to repaired, abort returns it to unrepaired.
//! - [`state`]: what survives a crash: start-up finishes an interrupted finalize and returns
//!   every other pending SSTable to unrepaired.

pub mod anticompaction;
pub mod merkle;
pub(crate) mod state;
pub mod validation;

#[cfg(test)]
mod tests;

pub use anticompaction::AnticompactionSummary;
pub use merkle::MerkleTree;

use crate::error::{Error, Result};
use crate::sstable::Statistics;
use crate::token::Token;

/// Which data a validation reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RepairScope {
    /// Every SSTable and the memtables (full repair).
    Full,
    /// Unrepaired SSTables that no session holds (incremental repair preview); the caller
    /// flushes first, since memtables are not read.
    Unrepaired,
    /// The SSTables pending for this incremental repair session.
    Pending(String),
}

impl RepairScope {
    /// True if an SSTable with these statistics is read.
    pub fn includes(&self, stats: &Statistics) -> bool {
        match self {
            RepairScope::Full => true,
            RepairScope::Unrepaired => !stats.is_repaired() && stats.pending_repair.is_none(),
            RepairScope::Pending(session) => stats.pending_repair.as_deref() == Some(session.as_str()),
        }
    }

    /// True if memtables are read.
    pub fn includes_memtables(&self) -> bool {
        matches!(self, RepairScope::Full)
    }
}

/// Checks a token range `(start, end]` given to repair: it must not wrap.
pub(crate) fn check_range(range: (Token, Token)) -> Result<()> {
    if range.0 >= range.1 {
        return Err(Error::Invalid(format!(
            "token range ({}, {}] wraps or is empty; split wrapping ranges first",
            range.0, range.1
        )));
    }
    Ok(())
}
