//! Taking in streamed repair data: [`Engine::import`] writes partitions received from a peer
//! straight into a new SSTable, optionally pending for the incremental session that streamed
//! them, as Cassandra's streaming does. Through [`Engine::apply`] they would land in the
//! memtable as unrepaired data that the session's finalize does not cover, so the next
//! incremental repair would find them again.
//!
//! The SSTable is fsynced and published before this returns; nothing goes to the commit log.
//! Publishing holds the table's flush lock, so it is ordered with flushes and TRUNCATE.

use super::check_session;
use crate::engine::Engine;
use crate::error::Result;
use crate::partition::Partition;
use crate::sstable::{SSTableReader, SSTableWriter};
use crate::table_id::TableId;
use crate::token::DecoratedKey;

impl Engine {
    /// Writes `partitions` of table `table` (in any order; versions of one key are merged)
    /// into a new SSTable, pending for `pending_repair` when given, else unrepaired. Returns
    /// its generation, or `None` when there was nothing to write.
    pub fn import(
        &self,
        table: TableId,
        mut partitions: Vec<(DecoratedKey, Partition)>,
        pending_repair: Option<&str>,
    ) -> Result<Option<u64>> {
        if let Some(s) = pending_repair {
            check_session(s)?;
        }
        let t = self.table(table)?;
        partitions.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(DecoratedKey, Partition)> = Vec::with_capacity(partitions.len());
        for (k, p) in partitions {
            match merged.last_mut() {
                Some((last, q)) if *last == k => q.merge(p),
                _ => merged.push((k, p)),
            }
        }
        let _flush = t.lock_flush();
        let mut opts = t.writer_options(merged.len());
        opts.pending_repair = pending_repair.map(String::from);
        let mut writer = SSTableWriter::create(t.next_descriptor(), opts)?;
        for (k, p) in &mut merged {
            p.purge_shadowed();
            writer.append(k, p)?;
        }
        let Some(desc) = writer.finish(None)? else { return Ok(None) };
        let reader = SSTableReader::open(desc, self.chunk_cache())?;
        let generation = reader.generation();
        tracing::info!(
            table = %t.descriptor().qualified_name(),
            generation,
            partitions = reader.partition_count(),
            bytes = reader.data_size(),
            pending_repair,
            "imported streamed data"
        );
        t.publish_sstable(reader);
        drop(_flush);
        self.schedule_compaction(table);
        Ok(Some(generation))
    }
}
