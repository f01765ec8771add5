//! Repair's storage side: what one replica does for a repair session run by `server::repair`.
//!
//! - [`merkle`]: Merkle trees over a token range, their comparison and their wire encoding.
//! - [`validation`]: the validation read — each partition of a range merged from the sources a
//!   [`RepairScope`] selects and hashed, into a tree or a list — and reads of whole partitions
//!   for streaming what differs.
//! - [`anticompaction`]: incremental repair's SSTable states: anticompaction marks the
//!   unrepaired data of the repaired ranges pending for a session (splitting SSTables that
//!   straddle a range edge), finalize promotes it to repaired, abort returns it to unrepaired.
//! - [`stream`]: streamed partitions written straight into an SSTable, pending for the session.
//! - [`state`]: what survives a crash: start-up finishes an interrupted finalize and returns
//!   every other pending SSTable to unrepaired.

pub mod anticompaction;
pub mod merkle;
pub(crate) mod state;
pub mod stream;
pub mod validation;

#[cfg(test)]
mod tests;

pub use anticompaction::AnticompactionSummary;
pub use merkle::MerkleTree;

use crate::error::{Error, Result};
use crate::sstable::{SSTableReader, Statistics};
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

/// Checks a session id: any non-empty string.
pub(crate) fn check_session(session: &str) -> Result<()> {
    if session.is_empty() {
        return Err(Error::Invalid("a repair session id cannot be empty".into()));
    }
    Ok(())
}

/// Token ranges sorted and merged (overlapping or adjacent ones joined), each checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRanges(Vec<(Token, Token)>);

impl TokenRanges {
    /// Normalises `ranges`; fails on a wrapping or empty one.
    pub(crate) fn new(ranges: &[(Token, Token)]) -> Result<TokenRanges> {
        let mut v = ranges.to_vec();
        for r in &v {
            check_range(*r)?;
        }
        v.sort_unstable();
        let mut out: Vec<(Token, Token)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Ok(TokenRanges(out))
    }

    /// True if `token` falls in one of the ranges.
    pub(crate) fn contains(&self, token: Token) -> bool {
        let i = self.0.partition_point(|(a, _)| *a < token);
        i > 0 && token <= self.0[i - 1].1
    }

    /// True if every token of `[min, max]` falls in one range.
    pub(crate) fn covers(&self, min: Token, max: Token) -> bool {
        let i = self.0.partition_point(|(a, _)| *a < min);
        i > 0 && max <= self.0[i - 1].1
    }

    /// True if some token of `[min, max]` falls in a range.
    pub(crate) fn intersects(&self, min: Token, max: Token) -> bool {
        self.0.iter().any(|(a, b)| *a < max && min <= *b)
    }

    /// Partitions of `s` whose token falls in the ranges, from its index alone.
    pub(crate) fn partitions_of(&self, s: &SSTableReader) -> Result<usize> {
        let mut n = 0;
        for (a, b) in &self.0 {
            n += s.partitions_in_tokens(*a, *b)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn ranges_merge_and_answer_membership() {
        let r = TokenRanges::new(&[(20, 30), (0, 10), (10, 15), (25, 40)]).unwrap();
        assert_eq!(r.0, [(0, 15), (20, 40)]);
        assert!(!r.contains(0) && r.contains(1) && r.contains(15) && !r.contains(16));
        assert!(!r.contains(20) && r.contains(21) && r.contains(40) && !r.contains(41));
        assert!(r.covers(1, 15) && !r.covers(0, 15) && !r.covers(14, 21) && r.covers(21, 21));
        assert!(
            r.intersects(15, 16) && r.intersects(40, 50) && !r.intersects(16, 20) && !r.intersects(41, 50)
        );
        assert!(TokenRanges::new(&[(5, 5)]).is_err());
        assert!(TokenRanges::new(&[(6, 5)]).is_err());
        assert!(!TokenRanges::new(&[]).unwrap().contains(0));
    }
}
