//! Incremental repair's SSTable states (Cassandra 4.0's CASSANDRA-9143 design): an SSTable is
//! unrepaired, pending for one session, or repaired at some time.
//!
//! - [`Engine::anticompact`] (prepare): flushes, then puts the unrepaired data of the repaired
//!   ranges under the session. An SSTable wholly inside the ranges is marked pending in place
//!   (a Statistics.db rewrite, atomic); one that straddles a range edge is split by
//!   [`crate::compaction::rewrite`] into an in-range SSTable (pending) and an out-of-range one
//!   (unrepaired), swapped in like a compaction's outputs.
//! - [`Engine::finalize_repair`]: pending → repaired at the given time, crash-safe through a
//!   finalize log (see [`super::state`]). [`Engine::abort_repair`]: pending → unrepaired.
//!
//! Each works on SSTables it has reserved, so no compaction runs on them meanwhile; compaction
//! keeps the unrepaired, repaired and per-session pending pools apart
//! ([`crate::compaction::stcs::pools`]).

use super::state;
use super::{TokenRanges, check_session};
use crate::compaction::rewrite::rewrite;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::sstable::SSTableReader;
use crate::table_id::TableId;
use crate::token::Token;
use std::sync::Arc;

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

fn is_unrepaired(s: &SSTableReader) -> bool {
    let st = s.stats();
    !st.is_repaired() && st.pending_repair.is_none()
}

impl Engine {
    /// Incremental repair's prepare step: flushes table `table`, then marks every unrepaired
    /// SSTable with data in `ranges` (each `(start, end]`, not wrapping) pending for
    /// `session`, splitting those that also hold data outside the ranges (see the module
    /// docs). Data written after the flush stays unrepaired.
    pub fn anticompact(
        &self,
        table: TableId,
        ranges: &[(Token, Token)],
        session: &str,
    ) -> Result<AnticompactionSummary> {
        check_session(session)?;
        let ranges = TokenRanges::new(ranges)?;
        let t = self.table(table)?;
        let span = tracing::info_span!("anticompaction", table = %t.descriptor().qualified_name(), %session);
        let _e = span.enter();
        self.flush(table)?;
        failpoint::hit("anticompaction: flushed");
        // A damaged index counts as "maybe": the SSTable is reserved and its error surfaces below.
        let reserved = t.reserve_sstables(|s| {
            let (lo, hi) = s.token_bounds();
            is_unrepaired(s) && ranges.intersects(lo, hi) && ranges.partitions_of(s).unwrap_or(1) > 0
        });
        let mut summary = AnticompactionSummary { session: session.to_string(), ..Default::default() };
        let candidates: Vec<Arc<SSTableReader>> = reserved.sstables().to_vec();
        for s in &candidates {
            let inside = ranges.partitions_of(s)?;
            let total = s.partition_count();
            if inside == 0 {
                continue;
            }
            if inside == total {
                s.set_repair_state(0, Some(session.to_string()))?;
                summary.sstables_marked += 1;
                summary.bytes_marked += s.data_size();
                summary.bytes_pending += s.data_size();
                tracing::debug!(generation = s.generation(), "marked pending");
                failpoint::hit("anticompaction: marked one");
                continue;
            }
            let mut pending = t.writer_options(inside);
            pending.pending_repair = Some(session.to_string());
            let unrepaired = t.writer_options(total - inside);
            let out = rewrite(&t, s, vec![pending, unrepaired], |k| {
                Some(if ranges.contains(k.token) { 0 } else { 1 })
            })?;
            summary.sstables_split += 1;
            summary.bytes_split += s.data_size();
            summary.bytes_pending += out.outputs[0].as_ref().map_or(0, |o| o.data_size());
            tracing::debug!(
                generation = s.generation(),
                pending = ?out.outputs[0].as_ref().map(|o| o.generation()),
                unrepaired = ?out.outputs[1].as_ref().map(|o| o.generation()),
                "split at the range edges"
            );
        }
        drop(reserved);
        self.schedule_compaction(table);
        tracing::info!(
            marked = summary.sstables_marked,
            split = summary.sstables_split,
            bytes_pending = summary.bytes_pending,
            bytes_rewritten = summary.bytes_split,
            "anticompaction finished"
        );
        Ok(summary)
    }

    /// Incremental repair succeeded: every SSTable of table `table` pending for `session`
    /// becomes repaired at `repaired_at` (milliseconds since the epoch, > 0). Returns how many.
    /// A crash midway is finished at the next start-up.
    pub fn finalize_repair(&self, table: TableId, session: &str, repaired_at: u64) -> Result<usize> {
        check_session(session)?;
        if repaired_at == 0 {
            return Err(Error::Invalid("repaired_at must be above 0 (0 means unrepaired)".into()));
        }
        let t = self.table(table)?;
        let span = tracing::info_span!("repair_finalize", table = %t.descriptor().qualified_name(), %session);
        let _e = span.enter();
        let reserved = t.reserve_sstables(|s| s.stats().pending_repair.as_deref() == Some(session));
        if reserved.sstables().is_empty() {
            return Ok(0);
        }
        state::begin_finalize(t.dir(), session, repaired_at)?;
        failpoint::hit("finalize: logged");
        for s in reserved.sstables() {
            s.set_repair_state(repaired_at, None)?;
            failpoint::hit("finalize: marked one");
        }
        state::end_finalize(t.dir(), session)?;
        let n = reserved.sstables().len();
        drop(reserved);
        self.schedule_compaction(table);
        tracing::info!(sstables = n, repaired_at, "repair session finalized");
        Ok(n)
    }

    /// Incremental repair failed or was cancelled: every SSTable of table `table` pending for
    /// `session` returns to unrepaired. Returns how many.
    pub fn abort_repair(&self, table: TableId, session: &str) -> Result<usize> {
        check_session(session)?;
        let t = self.table(table)?;
        let span = tracing::info_span!("repair_abort", table = %t.descriptor().qualified_name(), %session);
        let _e = span.enter();
        let reserved = t.reserve_sstables(|s| s.stats().pending_repair.as_deref() == Some(session));
        for s in reserved.sstables() {
            s.set_repair_state(0, None)?;
        }
        let n = reserved.sstables().len();
        drop(reserved);
        if n > 0 {
            self.schedule_compaction(table);
        }
        tracing::info!(sstables = n, "repair session aborted; its data is unrepaired again");
        Ok(n)
    }

    /// The sessions holding pending SSTables of table `table`, sorted (empty for an unknown
    /// table).
    pub fn pending_sessions(&self, table: TableId) -> Vec<String> {
        let Ok(t) = self.table(table) else { return Vec::new() };
        let mut out: Vec<String> =
            t.view().sstables.iter().filter_map(|s| s.stats().pending_repair).collect();
        out.sort();
        out.dedup();
        out
    }
}
