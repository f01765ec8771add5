//! The validation read (Cassandra's validation compaction, read-only): every partition of a
//! token range, merged from the sources a [`RepairScope`] selects, hashed; and reads of whole
//! partitions so the server can stream what differs.
//!
//! A partition's hash is [`partition_hash`]: the UUID v5 (SHA-1) of
//! [`crate::partition_codec::encode_partition`] of the partition merged from the sources in
//! scope with shadowed data removed and tombstones kept — the same bytes and hash as the
//! server's read digest, so both agree. It depends only on the merged data, not on how the data
//! is spread over SSTables and memtables; range tombstones are put in a canonical order first.
//! Cells, TTLs, deletion times and tombstones all count, as in Cassandra's `AbstractCell.digest`,
//! except tombstones (and expired cells) past `gc_grace_seconds`: compaction may purge those at
//! any time, so replicas that did and did not yet would otherwise differ forever (Cassandra
//! leaves them out of its trees too). With `only_purge_repaired_tombstones` they count, since
//! compaction keeps them until they are repaired.

use super::{MerkleTree, RepairScope, check_range};
use crate::engine::Engine;
use crate::error::Result;
use crate::merge::{MergeIterator, PartitionSource, decoded_source};
use crate::partition::Partition;
use crate::partition_codec::encode_partition;
use crate::purge::Purger;
use crate::range::KeyRange;
use crate::table::Table;
use crate::table_id::TableId;
use crate::token::{DecoratedKey, Token};
use uuid::Uuid;

/// The content hash of a partition as merged and purged of shadowed data (see the module docs).
pub fn partition_hash(p: &Partition) -> [u8; 16] {
    let mut buf = Vec::new();
    hash_into(p, &mut buf).0
}

/// Hashes `p` using `buf` as scratch; returns the hash and the encoded size.
fn hash_into(p: &Partition, buf: &mut Vec<u8>) -> ([u8; 16], u64) {
    buf.clear();
    encode_partition(buf, p);
    (*Uuid::new_v5(&Uuid::NAMESPACE_OID, buf).as_bytes(), buf.len() as u64)
}

/// Calls `f` with each non-empty partition of `range` in token order, merged from the sources
/// `scope` selects, with its hash and encoded size.
pub(crate) fn for_each_partition_hash(
    table: &Table,
    range: (Token, Token),
    scope: &RepairScope,
    now_secs: i64,
    mut f: impl FnMut(DecoratedKey, [u8; 16], u64),
) -> Result<()> {
    check_range(range)?;
    let opts = table.options();
    let purger = Purger {
        now_secs,
        gc_before: now_secs - i64::from(opts.gc_grace_seconds),
        max_purgeable_timestamp: i64::MAX,
        enabled: !opts.compaction.only_purge_repaired_tombstones,
    };
    let keys = KeyRange::tokens(range.0, range.1);
    let view = table.view();
    let mut sources: Vec<PartitionSource> = Vec::new();
    if scope.includes_memtables() {
        for m in view.memtables().filter(|m| !m.is_empty()) {
            sources.push(decoded_source(m.scan(keys.clone()).map(Ok)));
        }
    }
    for s in view.sstables.iter().filter(|s| s.intersects(&keys) && scope.includes(&s.stats())) {
        // Validation reads each chunk once: keep it out of the chunk cache.
        sources.push(Box::new(s.scan(&keys, false)?.stored()));
    }
    let mut buf = Vec::new();
    for item in MergeIterator::new(sources)?.data() {
        let (key, data) = item?;
        let mut p = data.into_partition()?;
        if !purger.purge(&mut p) {
            continue;
        }
        let (hash, size) = hash_into(&p, &mut buf);
        f(key, hash, size);
    }
    Ok(())
}

impl Engine {
    /// Builds the Merkle tree of `range` (`(start, end]`, not wrapping) of table `table` over
    /// the data `scope` selects, with `2^depth` leaves (see [`MerkleTree::new`]).
    pub fn validate(
        &self,
        table: TableId,
        range: (Token, Token),
        scope: &RepairScope,
        depth: u8,
    ) -> Result<MerkleTree> {
        let t = self.table(table)?;
        let span = tracing::info_span!("validation", table = %t.descriptor().qualified_name(), start = range.0, end = range.1, ?scope);
        let _e = span.enter();
        let mut tree = MerkleTree::new(range, depth)?;
        for_each_partition_hash(&t, range, scope, self.now_secs(), |key, hash, size| {
            tree.add_partition(&key, &hash, size)
        })?;
        tree.finish();
        tracing::info!(
            partitions = tree.partitions(),
            bytes = tree.bytes(),
            depth = tree.depth(),
            "validated"
        );
        Ok(tree)
    }

    /// Every partition of `range` over the data `scope` selects, in token order, with its
    /// [`partition_hash`] and encoded size: for comparing ranges row by row, or building trees
    /// of other shapes.
    pub fn partition_hashes(
        &self,
        table: TableId,
        range: (Token, Token),
        scope: &RepairScope,
    ) -> Result<Vec<(DecoratedKey, [u8; 16], u64)>> {
        let t = self.table(table)?;
        let mut out = Vec::new();
        for_each_partition_hash(&t, range, scope, self.now_secs(), |k, h, n| out.push((k, h, n)))?;
        Ok(out)
    }

    /// The full data (tombstones included, shadowed data removed) of each of `keys` that the
    /// table holds, from every memtable and SSTable, in the order of `keys`: what streaming
    /// sends for the ranges that differ.
    pub fn read_partitions(
        &self,
        table: TableId,
        keys: &[DecoratedKey],
    ) -> Result<Vec<(DecoratedKey, Partition)>> {
        let t = self.table(table)?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(p) = t.read(k, None)?
                && !p.is_empty()
            {
                out.push((k.clone(), p));
            }
        }
        Ok(out)
    }
}
