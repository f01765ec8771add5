//! nodetool cleanup: after ranges move to other nodes (a node joined, or replication
//! changed), drop the partitions this node no longer owns.
//!
//! The table is flushed, then every SSTable holding a partition outside the owned ranges is
//! reserved and handled alone: one holding only unowned partitions is deleted (recorded in the
//! obsolete log, then taken out of the view); one holding both is rewritten without them by
//! [`super::rewrite`], keeping its repair state. SSTables whose partitions are all owned are
//! not touched. Partition counts per range come from the index, so deciding reads no data.

use super::rewrite::rewrite;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::repair::TokenRanges;
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
    /// Drops every partition of table `table` whose token is outside `owned` (each range
    /// `(start, end]`, not wrapping: split wrapping ones first). An empty `owned` is refused
    /// rather than taken as "delete everything".
    pub fn cleanup(&self, table: TableId, owned: &[(Token, Token)]) -> Result<CleanupSummary> {
        if owned.is_empty() {
            return Err(Error::Invalid(
                "cleanup needs the ranges this node owns; with none it would delete every partition".into(),
            ));
        }
        let owned = TokenRanges::new(owned)?;
        let t = self.table(table)?;
        let span = tracing::info_span!("cleanup", table = %t.descriptor().qualified_name());
        let _e = span.enter();
        self.flush(table)?;
        // A damaged index counts as "needs cleanup": the SSTable is reserved and its error
        // surfaces below.
        let needs_cleanup = |s: &crate::sstable::SSTableReader| {
            let (lo, hi) = s.token_bounds();
            !owned.covers(lo, hi) && owned.partitions_of(s).map_or(true, |n| n < s.partition_count())
        };
        let reserved = t.reserve_sstables(|s| needs_cleanup(s));
        let mut summary = CleanupSummary { sstables_checked: t.view().sstables.len(), ..Default::default() };
        for s in reserved.sstables() {
            let total = s.partition_count();
            let kept = owned.partitions_of(s)?;
            if kept == total {
                continue;
            }
            summary.bytes_in += s.data_size();
            if kept == 0 {
                t.log_obsolete(&[s.generation()])?;
                failpoint::hit("cleanup: logged a whole SSTable obsolete");
                t.replace_sstables(std::slice::from_ref(s), Vec::new());
                summary.sstables_dropped += 1;
                summary.partitions_dropped += total as u64;
                tracing::debug!(generation = s.generation(), "deleted: no owned partition");
                continue;
            }
            let st = s.stats();
            let mut opts = t.writer_options(kept);
            opts.repaired_at = st.repaired_at;
            opts.pending_repair = st.pending_repair;
            let out = rewrite(&t, s, vec![opts], |k| owned.contains(k.token).then_some(0))?;
            summary.sstables_rewritten += 1;
            summary.partitions_dropped += out.dropped;
            summary.bytes_out += out.outputs.iter().flatten().map(|o| o.data_size()).sum::<u64>();
            tracing::debug!(
                generation = s.generation(),
                dropped = out.dropped,
                "rewrote without unowned partitions"
            );
        }
        drop(reserved);
        tracing::info!(
            checked = summary.sstables_checked,
            rewritten = summary.sstables_rewritten,
            deleted = summary.sstables_dropped,
            partitions_dropped = summary.partitions_dropped,
            bytes_in = summary.bytes_in,
            bytes_out = summary.bytes_out,
            "cleanup finished"
        );
        Ok(summary)
    }
}
