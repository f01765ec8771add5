//! Size-tiered compaction strategy: group SSTables of similar size into buckets and compact a
//! bucket once it holds `min_threshold` of them (at most `max_threshold` at a time).
//! Repaired, unrepaired and pending-repair SSTables form separate pools that are never mixed.
//! When no bucket qualifies, an SSTable whose droppable tombstones exceed `tombstone_threshold`
//! and that is older than `tombstone_compaction_interval` is compacted alone.

use crate::config::CompactionOptions;
use crate::sstable::SSTableReader;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Seconds an SSTable must age before it is compacted alone for its tombstones, whatever the
/// table's `tombstone_compaction_interval` says.
pub const MIN_TOMBSTONE_COMPACTION_INTERVAL: u64 = 60;

/// Groups SSTables into size buckets (Cassandra's `getBuckets`).
pub fn buckets(mut sstables: Vec<Arc<SSTableReader>>, o: &CompactionOptions) -> Vec<Vec<Arc<SSTableReader>>> {
    sstables.sort_by_key(|s| s.data_size());
    let mut out: Vec<(f64, Vec<Arc<SSTableReader>>)> = Vec::new();
    for s in sstables {
        let size = s.data_size() as f64;
        let fits = out.iter_mut().find(|(avg, _)| {
            (size > *avg * o.bucket_low && size < *avg * o.bucket_high)
                || (size < o.min_sstable_size as f64 && *avg < o.min_sstable_size as f64)
        });
        match fits {
            Some((avg, members)) => {
                let total = *avg * members.len() as f64 + size;
                members.push(s);
                *avg = total / members.len() as f64;
            }
            None => out.push((size, vec![s])),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

/// Splits SSTables into the pools compaction never mixes: unrepaired, repaired, and one per
/// pending incremental repair session (in that order).
pub fn pools(sstables: &[Arc<SSTableReader>]) -> Vec<Vec<Arc<SSTableReader>>> {
    let mut pools: BTreeMap<(u8, String), Vec<Arc<SSTableReader>>> = BTreeMap::new();
    for s in sstables {
        pools.entry(pool_of(s)).or_default().push(s.clone());
    }
    pools.into_values().collect()
}

/// The pool of unrepaired SSTables no session holds (what memtables flush into).
pub(crate) const UNREPAIRED_POOL: (u8, String) = (0, String::new());

/// The pool an SSTable belongs to: unrepaired, repaired, or pending under a session.
pub(crate) fn pool_of(s: &SSTableReader) -> (u8, String) {
    let st = s.stats();
    let repaired = st.is_repaired();
    match (st.pending_repair, repaired) {
        (Some(session), _) => (2, session),
        (None, true) => (1, String::new()),
        (None, false) => (0, String::new()),
    }
}

/// Estimated size-tiered compactions due (Cassandra's `getEstimatedRemainingTasks`): for each
/// bucket of at least `min_threshold` SSTables, one task per `max_threshold` of them.
pub fn estimated_tasks(sstables: &[Arc<SSTableReader>], o: &CompactionOptions) -> usize {
    let min = o.min_threshold.max(2);
    let max = o.max_threshold.max(min);
    pools(sstables)
        .into_iter()
        .flat_map(|pool| buckets(pool, o))
        .filter(|b| b.len() >= min)
        .map(|b| b.len().div_ceil(max))
        .sum()
}

/// Picks the next SSTables to compact together, if any, from those not already compacting.
pub fn next_candidates(
    sstables: &[Arc<SSTableReader>],
    o: &CompactionOptions,
    gc_before: i64,
    now_ms: u64,
) -> Option<Vec<Arc<SSTableReader>>> {
    let min = o.min_threshold.max(2);
    let max = o.max_threshold.max(min);
    let mut best: Option<Vec<Arc<SSTableReader>>> = None;
    for members in &pools(sstables) {
        for mut b in buckets(members.clone(), o) {
            if b.len() < min {
                continue;
            }
            b.truncate(max);
            let avg = b.iter().map(|s| s.data_size()).sum::<u64>() / b.len() as u64;
            // Prefer the bucket of smallest SSTables: cheapest, and it cuts the count most.
            let better = match &best {
                None => true,
                Some(cur) => avg < cur.iter().map(|s| s.data_size()).sum::<u64>() / cur.len() as u64,
            };
            if better {
                best = Some(b);
            }
        }
    }
    if best.is_some() {
        return best;
    }
    // Single-SSTable tombstone compaction. The interval has a floor so that an SSTable whose
    // tombstones cannot be dropped yet (older data elsewhere) is not rewritten in a loop.
    let interval = o.tombstone_compaction_interval.max(MIN_TOMBSTONE_COMPACTION_INTERVAL);
    sstables
        .iter()
        .filter(|s| {
            let st = s.stats();
            if o.only_purge_repaired_tombstones && !st.is_repaired() {
                return false;
            }
            let old_enough = now_ms.saturating_sub(st.created_at_ms) / 1000 >= interval;
            let total = st.cells + st.rows + st.partitions;
            old_enough
                && total > 0
                && st.droppable_tombstones(gc_before) as f64 / total as f64 > o.tombstone_threshold
        })
        .max_by_key(|s| s.stats().droppable_tombstones(gc_before))
        .map(|s| vec![s.clone()])
}
