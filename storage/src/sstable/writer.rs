//! Writes one SSTable from partitions given in (token, key) order; see the module map in
//! [`crate::sstable`] for the files and their layout. Nothing is visible until
//! [`SSTableWriter::finish`] publishes it; dropping an unfinished writer deletes its files.

use super::bloom::BloomFilter;
use super::index::{self, IndexEntry};
use super::stats::{DropTimeHistogram, LogPosition, Statistics};
use super::{Component, Descriptor, sync_dir};
use crate::codec::put_bytes;
use crate::error::{Error, IoContext, Result};
use crate::partition::{Partition, TimeBounds};
use crate::partition_codec::encode_partition;
use crate::row::Row;
use crate::token::{DecoratedKey, murmur3_x64_128};
use std::fs::File;
use std::io::{BufWriter, Write};

/// Compressed chunk magic (CompressionInfo.db).
pub const COMPRESSION_MAGIC: &[u8; 4] = b"TSCI";
/// CompressionInfo.db version.
pub const COMPRESSION_VERSION: u16 = 1;

/// How to write an SSTable.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Uncompressed bytes per chunk (default 64 KiB).
    pub chunk_length: usize,
    /// Bloom filter false-positive chance (default 0.01).
    pub bloom_fp_chance: f64,
    /// Expected partition count, to size the bloom filter.
    pub expected_partitions: usize,
    /// Repair state to record.
    pub repaired_at: u64,
    /// Pending incremental repair session, if any.
    pub pending_repair: Option<String>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            chunk_length: 64 * 1024,
            bloom_fp_chance: 0.01,
            expected_partitions: 1024,
            repaired_at: 0,
            pending_repair: None,
        }
    }
}

/// An SSTable being written.
pub struct SSTableWriter {
    desc: Descriptor,
    /// Temporary paths of the two streamed components, built once (not per append).
    data_path: std::path::PathBuf,
    index_path: std::path::PathBuf,
    opts: WriterOptions,
    data: BufWriter<File>,
    data_written: u64,
    index: BufWriter<File>,
    index_crc: crc32fast::Hasher,
    index_len: u64,
    entry_offsets: Vec<u64>,
    chunk: Vec<u8>,
    chunk_offsets: Vec<u64>,
    uncompressed: u64,
    filter: BloomFilter,
    stats: Statistics,
    bounds: TimeBounds,
    drop_times: DropTimeHistogram,
    scratch: Vec<u8>,
    last_key: Option<DecoratedKey>,
    finished: bool,
}

impl SSTableWriter {
    /// Starts writing generation `desc` (its files must not exist).
    pub fn create(desc: Descriptor, opts: WriterOptions) -> Result<SSTableWriter> {
        if opts.chunk_length < 1024 || opts.chunk_length > (1 << 24) {
            return Err(Error::Invalid(format!("chunk length {} out of range", opts.chunk_length)));
        }
        let dp = desc.tmp_path(Component::Data);
        let ip = desc.tmp_path(Component::Index);
        let data = BufWriter::with_capacity(1 << 17, File::create_new(&dp).at(&dp)?);
        let mut index = BufWriter::with_capacity(1 << 16, File::create_new(&ip).at(&ip)?);
        let header = index::header();
        index.write_all(&header).at(&ip)?;
        let mut index_crc = crc32fast::Hasher::new();
        index_crc.update(&header);
        let filter = BloomFilter::new(opts.expected_partitions, opts.bloom_fp_chance);
        let stats = Statistics {
            chunk_length: opts.chunk_length as u32,
            bloom_fp_chance: opts.bloom_fp_chance,
            repaired_at: opts.repaired_at,
            pending_repair: opts.pending_repair.clone(),
            ..Default::default()
        };
        Ok(SSTableWriter {
            data_path: dp,
            index_path: ip,
            chunk: Vec::with_capacity(opts.chunk_length),
            desc,
            opts,
            data,
            data_written: 0,
            index,
            index_crc,
            index_len: header.len() as u64,
            entry_offsets: Vec::new(),
            chunk_offsets: Vec::new(),
            uncompressed: 0,
            filter,
            stats,
            bounds: TimeBounds::default(),
            drop_times: DropTimeHistogram::default(),
            scratch: Vec::new(),
            last_key: None,
            finished: false,
        })
    }

    /// The descriptor being written.
    pub fn descriptor(&self) -> &Descriptor {
        &self.desc
    }

    /// Partitions appended so far.
    pub fn partitions(&self) -> u64 {
        self.stats.partitions
    }

    /// Uncompressed bytes appended so far.
    pub fn bytes_written(&self) -> u64 {
        self.uncompressed
    }

    fn flush_chunk(&mut self) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let compressed = lz4_flex::block::compress(&self.chunk);
        let crc = crc32fast::hash(&compressed);
        self.chunk_offsets.push(self.data_written);
        self.data.write_all(&compressed).at(&self.data_path)?;
        self.data.write_all(&crc.to_be_bytes()).at(&self.data_path)?;
        self.data_written += compressed.len() as u64 + 4;
        self.chunk.clear();
        Ok(())
    }

    fn write_stream(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let room = self.opts.chunk_length - self.chunk.len();
            let n = room.min(bytes.len());
            self.chunk.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.chunk.len() == self.opts.chunk_length {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn count_row(&mut self, row: &Row) {
        let s = &mut self.stats;
        if !row.deletion.is_live() {
            s.tombstones += 1;
            self.drop_times.add(row.deletion.local_deletion_time, 1);
        }
        for d in row.complex_deletions.values() {
            s.tombstones += 1;
            self.drop_times.add(d.local_deletion_time, 1);
        }
        for c in row.cells.values() {
            s.cells += 1;
            if c.is_tombstone() {
                s.tombstones += 1;
                self.drop_times.add(c.local_deletion_time, 1);
            } else if c.is_expiring() {
                s.expiring_cells += 1;
                self.drop_times.add(c.local_deletion_time, 1);
            }
        }
    }

    /// Appends a partition; keys must arrive in strictly increasing (token, key) order.
    /// Empty partitions are skipped.
    pub fn append(&mut self, key: &DecoratedKey, p: &Partition) -> Result<()> {
        if p.is_empty() {
            return Ok(());
        }
        if let Some(last) = &self.last_key
            && key <= last
        {
            return Err(Error::Invalid(format!(
                "SSTable keys out of order: token {} after token {}",
                key.token, last.token
            )));
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        put_bytes(&mut buf, &key.key);
        encode_partition(&mut buf, p);
        let entry = IndexEntry { position: self.uncompressed, length: buf.len() as u64 };
        self.write_stream(&buf)?;
        self.uncompressed += buf.len() as u64;

        buf.clear();
        index::encode_entry(&mut buf, key, entry);
        self.index.write_all(&buf).at(&self.index_path)?;
        self.index_crc.update(&buf);
        self.entry_offsets.push(self.index_len);
        self.index_len += buf.len() as u64;
        self.scratch = buf;

        let (h1, h2) = murmur3_x64_128(&key.key, 0);
        self.filter.insert(h1, h2);

        let s = &mut self.stats;
        s.partitions += 1;
        s.rows += p.row_count() as u64;
        s.min_token = s.min_token.min(key.token);
        s.max_token = s.max_token.max(key.token);
        if !p.deletion.is_live() {
            s.tombstones += 1;
            self.drop_times.add(p.deletion.local_deletion_time, 1);
        }
        for rt in &p.range_tombstones {
            self.stats.tombstones += 1;
            self.drop_times.add(rt.deletion.local_deletion_time, 1);
        }
        self.count_row(&p.static_row);
        for row in p.rows.values() {
            self.count_row(row);
        }
        self.bounds.union(&p.time_bounds());
        self.last_key = Some(key.clone());
        Ok(())
    }

    /// Finishes and publishes the SSTable, recording the commit log interval its data came
    /// from (flushes only). Returns `None` when nothing was appended (no files are kept).
    pub fn finish(mut self, commitlog: Option<(LogPosition, LogPosition)>) -> Result<Option<Descriptor>> {
        if self.stats.partitions == 0 {
            self.abort();
            return Ok(None);
        }
        self.flush_chunk()?;
        let desc = self.desc.clone();

        // Index: offsets array and footer.
        let ip = desc.tmp_path(Component::Index);
        let mut tail = Vec::with_capacity(self.entry_offsets.len() * 8 + index::FOOTER_LEN);
        for off in &self.entry_offsets {
            tail.extend_from_slice(&off.to_le_bytes());
        }
        let offsets_start = self.index_len;
        tail.extend_from_slice(&(self.entry_offsets.len() as u64).to_be_bytes());
        tail.extend_from_slice(&offsets_start.to_be_bytes());
        self.index_crc.update(&tail);
        let crc = std::mem::take(&mut self.index_crc).finalize();
        tail.extend_from_slice(&crc.to_be_bytes());
        tail.extend_from_slice(index::MAGIC);
        self.index.write_all(&tail).at(&ip)?;

        // CompressionInfo.
        let mut ci = COMPRESSION_MAGIC.to_vec();
        ci.extend_from_slice(&COMPRESSION_VERSION.to_be_bytes());
        ci.extend_from_slice(&(self.opts.chunk_length as u32).to_be_bytes());
        ci.extend_from_slice(&self.uncompressed.to_be_bytes());
        ci.extend_from_slice(&(self.chunk_offsets.len() as u64).to_be_bytes());
        for off in &self.chunk_offsets {
            ci.extend_from_slice(&off.to_be_bytes());
        }
        let crc = crc32fast::hash(&ci);
        ci.extend_from_slice(&crc.to_be_bytes());

        let s = &mut self.stats;
        s.min_timestamp = self.bounds.min_timestamp;
        s.max_timestamp = self.bounds.max_timestamp;
        s.min_local_deletion_time = self.bounds.min_local_deletion_time;
        s.max_local_deletion_time = self.bounds.max_local_deletion_time;
        s.tombstone_drop_times = std::mem::take(&mut self.drop_times).finish();
        s.uncompressed_size = self.uncompressed;
        s.compressed_size = self.data_written;
        s.created_at_ms = now_ms();
        if let Some((lo, hi)) = commitlog {
            s.commitlog_lower = Some(lo);
            s.commitlog_upper = Some(hi);
        }
        let stats = s.encode()?;

        for (w, c) in [(&mut self.data, Component::Data), (&mut self.index, Component::Index)] {
            let p = desc.tmp_path(c);
            w.flush().at(&p)?;
            w.get_ref().sync_all().at(&p)?;
        }
        for (c, bytes) in [
            (Component::CompressionInfo, ci.as_slice()),
            (Component::Filter, self.filter.encode().as_slice()),
            (Component::Statistics, stats.as_slice()),
        ] {
            let p = desc.tmp_path(c);
            let mut f = File::create_new(&p).at(&p)?;
            f.write_all(bytes).at(&p)?;
            f.sync_all().at(&p)?;
        }
        for c in Component::ALL.into_iter().filter(|c| *c != Component::Toc) {
            std::fs::rename(desc.tmp_path(c), desc.path(c)).at(&desc.path(c))?;
        }
        let toc: String = Component::ALL.iter().map(|c| format!("{}\n", c.name())).collect();
        let tp = desc.tmp_path(Component::Toc);
        {
            let mut f = File::create_new(&tp).at(&tp)?;
            f.write_all(toc.as_bytes()).at(&tp)?;
            f.sync_all().at(&tp)?;
        }
        std::fs::rename(&tp, desc.path(Component::Toc)).at(&tp)?;
        sync_dir(&desc.dir)?;
        self.finished = true;
        Ok(Some(desc))
    }

    /// Abandons the SSTable and deletes its files.
    pub fn abort(mut self) {
        self.discard();
    }

    fn discard(&mut self) {
        if !self.finished {
            self.finished = true;
            if let Err(e) = self.desc.delete() {
                tracing::warn!(error = %e, "could not delete an abandoned SSTable");
            }
        }
    }
}

impl Drop for SSTableWriter {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
