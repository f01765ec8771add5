//! Compaction: merges SSTables into one, dropping shadowed data and purging tombstones that
//! are past gc_grace and cannot uncover older data elsewhere (see [`crate::purge`]).
//!
//! The task reuses the read path's stack — SSTable scanners under a [`MergeIterator`] — with a
//! purge step on top. For each partition, `max_purgeable_timestamp` is the smallest timestamp
//! held for that key by any SSTable outside the compaction whose token range and bloom filter
//! admit the key, and by any memtable. Outputs are published before the inputs are marked
//! obsolete, so a crash in between leaves duplicate (never missing) data.

pub mod cleanup;
pub mod garbage_collect;
pub(crate) mod rewrite;
pub mod stcs;

use crate::error::Result;
use crate::merge::{MergeIterator, PartitionSource, decoded_source};
use crate::purge::Purger;
use crate::range::KeyRange;
use crate::sstable::{SSTableReader, SSTableWriter};
use crate::table::Table;
use crate::token::murmur3_x64_128;
use std::sync::Arc;

/// What a finished compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionSummary {
    /// Generations read.
    pub inputs: Vec<u64>,
    /// Generation written, if anything survived.
    pub output: Option<u64>,
    /// Partitions read (after merging).
    pub partitions_in: u64,
    /// Partitions written.
    pub partitions_out: u64,
    /// Bytes of input Data.db.
    pub bytes_in: u64,
    /// Bytes of output Data.db.
    pub bytes_out: u64,
}

/// What a compaction may drop beyond the merge of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Shadowed data among the inputs, and tombstones the purge rules allow.
    Merge,
    /// Also the cells and row markers of the inputs that data or deletions in other SSTables of
    /// the same repair pool (and memtables, for the unrepaired pool) supersede
    /// ([`garbage_collect::drop_superseded`]).
    GarbageCollect,
}

/// Compacts `inputs` (already reserved on `table`) into one SSTable and swaps it in.
/// The reservation is released whatever the outcome.
pub fn compact(table: &Table, inputs: Vec<Arc<SSTableReader>>, now_secs: i64) -> Result<CompactionSummary> {
    compact_with(table, inputs, now_secs, Mode::Merge)
}

/// [`compact`] in the given mode.
pub(crate) fn compact_with(
    table: &Table,
    inputs: Vec<Arc<SSTableReader>>,
    now_secs: i64,
    mode: Mode,
) -> Result<CompactionSummary> {
    let gens: Vec<u64> = inputs.iter().map(|s| s.generation()).collect();
    let result = run(table, &inputs, now_secs, mode);
    table.unmark_compacting(&gens);
    result
}

fn run(table: &Table, inputs: &[Arc<SSTableReader>], now_secs: i64, mode: Mode) -> Result<CompactionSummary> {
    let desc = table.descriptor();
    let span = tracing::info_span!("compaction", table = %desc.qualified_name(), ?mode);
    let _e = span.enter();
    let opts = desc.options;
    let gens: Vec<u64> = inputs.iter().map(|s| s.generation()).collect();
    let stats: Vec<_> = inputs.iter().map(|s| s.stats()).collect();
    let all_repaired = stats.iter().all(|s| s.is_repaired());
    let pending = stats
        .first()
        .and_then(|s| s.pending_repair.clone())
        .filter(|p| stats.iter().all(|s| s.pending_repair.as_ref() == Some(p)));
    let purge_enabled = !opts.compaction.only_purge_repaired_tombstones || all_repaired;
    let gc_before = now_secs - i64::from(opts.gc_grace_seconds);

    let view = table.view();
    let others: Vec<Arc<SSTableReader>> =
        view.sstables.iter().filter(|s| !gens.contains(&s.generation())).cloned().collect();
    let memtables: Vec<_> = view.memtables().cloned().collect();
    let shadowing = match (mode, inputs.first()) {
        (Mode::GarbageCollect, Some(first)) => {
            let pool = stcs::pool_of(first);
            Some(garbage_collect::Shadowing {
                sstables: others.iter().filter(|s| stcs::pool_of(s) == pool).cloned().collect(),
                memtables: if pool == stcs::UNREPAIRED_POOL { memtables.clone() } else { Vec::new() },
            })
        }
        _ => None,
    };

    let mut sources: Vec<PartitionSource> = Vec::with_capacity(inputs.len());
    for s in inputs {
        sources.push(decoded_source(s.scan(&KeyRange::all(), false)?));
    }
    let expected: usize = inputs.iter().map(|s| s.partition_count()).sum();
    let mut wo = table.writer_options(expected);
    if all_repaired {
        wo.repaired_at = stats.iter().map(|s| s.repaired_at).min().unwrap_or(0);
    }
    wo.pending_repair = pending;
    let mut writer = SSTableWriter::create(table.next_descriptor(), wo)?;
    let mut summary = CompactionSummary {
        inputs: gens.clone(),
        bytes_in: inputs.iter().map(|s| s.data_size()).sum(),
        ..Default::default()
    };
    for item in MergeIterator::new(sources)? {
        let (key, mut p) = item?;
        summary.partitions_in += 1;
        if let Some(sh) = &shadowing
            && let Some(newer) = sh.version_of(&key)?
        {
            garbage_collect::drop_superseded(&mut p, &newer);
        }
        let mut max_purgeable = i64::MAX;
        // Anything dead at `now` (a tombstone or an expired cell) may be purged: only then is
        // the timestamp floor of other sources needed.
        if purge_enabled && (p.has_deletions() || p.time_bounds().min_local_deletion_time <= now_secs) {
            let (h1, h2) = murmur3_x64_128(&key.key, 0);
            for o in &others {
                if o.may_contain(&key, h1, h2) {
                    max_purgeable = max_purgeable.min(o.min_timestamp());
                }
            }
            for m in &memtables {
                if let Some(ts) = m.min_timestamp_of(&key) {
                    max_purgeable = max_purgeable.min(ts);
                }
            }
        }
        let purger =
            Purger { now_secs, gc_before, max_purgeable_timestamp: max_purgeable, enabled: purge_enabled };
        if purger.purge(&mut p) {
            writer.append(&key, &p)?;
            summary.partitions_out += 1;
        }
    }
    let lower = stats.iter().filter_map(|s| s.commitlog_lower).min();
    let upper = stats.iter().filter_map(|s| s.commitlog_upper).max();
    let bounds = lower.zip(upper);
    let out = match writer.finish(bounds)? {
        Some(d) => Some(SSTableReader::open(d, inputs[0].cache_handle())?),
        None => None,
    };
    summary.output = out.as_ref().map(|o| o.generation());
    summary.bytes_out = out.as_ref().map_or(0, |o| o.data_size());
    // From here the inputs are obsolete even if a crash stops their deletion halfway.
    table.log_obsolete(&gens)?;
    if !table.replace_sstables(inputs, out.into_iter().collect()) {
        tracing::info!(inputs = ?gens, "compaction discarded: its inputs were truncated meanwhile");
    }
    tracing::info!(
        inputs = ?summary.inputs,
        output = ?summary.output,
        partitions_in = summary.partitions_in,
        partitions_out = summary.partitions_out,
        bytes_in = summary.bytes_in,
        bytes_out = summary.bytes_out,
        "compacted"
    );
    Ok(summary)
}
