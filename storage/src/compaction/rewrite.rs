//! Rewriting one SSTable partition by partition into several, or into fewer partitions:
//! anticompaction splits an SSTable at repaired-range edges, cleanup drops the partitions a
//! node no longer owns. Partitions are copied exactly as stored (nothing merged or purged).
//!
//! The swap is a compaction's: outputs are published first, then the input is recorded in an
//! obsolete log, then the view swaps atomically. A crash before the log leaves the input and
//! its outputs side by side (the same data twice, which reads reconcile); after it, start-up
//! deletes the input.

use crate::error::Result;
use crate::failpoint;
use crate::range::KeyRange;
use crate::sstable::{SSTableReader, SSTableWriter, WriterOptions};
use crate::table::Table;
use crate::token::DecoratedKey;
use std::sync::Arc;

/// What a rewrite produced.
#[derive(Debug, Default)]
pub(crate) struct Rewritten {
    /// One per requested output; `None` when no partition went to it.
    pub outputs: Vec<Option<Arc<SSTableReader>>>,
    /// Partitions written to each output.
    pub partitions: Vec<u64>,
    /// Partitions dropped (routed nowhere).
    pub dropped: u64,
    /// False when the input left the view meanwhile (a TRUNCATE) and the outputs were discarded.
    pub swapped: bool,
}

/// Rewrites `input` (reserved by the caller) into one SSTable per entry of `outputs`, sending
/// each partition where `route` says (`None` drops it), and swaps the outputs in for it.
pub(crate) fn rewrite(
    table: &Table,
    input: &Arc<SSTableReader>,
    outputs: Vec<WriterOptions>,
    mut route: impl FnMut(&DecoratedKey) -> Option<usize>,
) -> Result<Rewritten> {
    let stats = input.stats();
    let mut writers = Vec::with_capacity(outputs.len());
    for o in outputs {
        writers.push(SSTableWriter::create(table.next_descriptor(), o)?);
    }
    let mut out = Rewritten { partitions: vec![0; writers.len()], ..Default::default() };
    for item in input.scan(&KeyRange::all(), false)? {
        let (key, p) = item?;
        match route(&key).and_then(|i| writers.get_mut(i).map(|w| (i, w))) {
            Some((i, w)) => {
                w.append(&key, &p)?;
                out.partitions[i] += 1;
            }
            None => out.dropped += 1,
        }
    }
    // The outputs hold the input's data, so they cover the same commit log interval.
    let bounds = stats.commitlog_lower.zip(stats.commitlog_upper);
    let mut published = Vec::with_capacity(writers.len());
    for w in writers {
        match w.finish(bounds).and_then(|d| match d {
            Some(d) => SSTableReader::open(d, input.cache_handle()).map(Some),
            None => Ok(None),
        }) {
            Ok(r) => published.push(r),
            Err(e) => {
                // Unpublish what is already out, or it would be read as live data at restart.
                for r in published.into_iter().flatten() {
                    r.mark_obsolete();
                }
                return Err(e);
            }
        }
    }
    failpoint::hit("rewrite: outputs published");
    table.log_obsolete(&[input.generation()])?;
    failpoint::hit("rewrite: input logged obsolete");
    out.swapped =
        table.replace_sstables(std::slice::from_ref(input), published.iter().flatten().cloned().collect());
    if !out.swapped {
        tracing::info!(input = input.generation(), "rewrite discarded: its input was truncated meanwhile");
    }
    out.outputs = published;
    failpoint::hit("rewrite: swapped");
    Ok(out)
}
