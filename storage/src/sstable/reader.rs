//! Reads a published SSTable through memory maps: point lookups (token bounds, bloom filter,
//! index binary search, then the chunks holding the partition), and the start of ordered scans
//! (the scan itself walks the file in [`super::scanner`]). Every chunk's CRC32 is checked
//! before it is decompressed; a mismatch is reported with the file and offset and never turns
//! into data.
//!
//! An SSTable replaced by compaction is marked obsolete; its files are deleted when the last
//! reader holding it lets go.

use super::bloom::BloomFilter;
use super::cache::ChunkCache;
use super::index::{IndexEntry, IndexView};
use super::scanner::SSTableScanner;
use super::stats::Statistics;
use super::writer::{COMPRESSION_MAGIC, COMPRESSION_VERSION};
use super::{Component, Descriptor, write_atomic};
use crate::codec::Reader;
use crate::error::{Error, IoContext, Result};
use crate::partition::Partition;
use crate::partition_codec::decode_partition;
use crate::range::KeyRange;
use crate::token::{DecoratedKey, Token};
use bytes::Bytes;
use memmap2::Mmap;
use parking_lot::RwLock;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Largest chunk a writer produces (16 MiB); anything above is damage.
const MAX_CHUNK_LENGTH: u64 = 1 << 24;

fn map(path: &Path) -> Result<Mmap> {
    let f = File::open(path).at(path)?;
    // SAFETY: SSTable files are immutable once published and are only deleted (never
    // truncated or rewritten) after every reader has dropped its map.
    unsafe { Mmap::map(&f) }.at(path)
}

/// An open SSTable.
pub struct SSTableReader {
    desc: Descriptor,
    uid: u64,
    pub(super) data_path: PathBuf,
    data: Mmap,
    pub(super) index_path: PathBuf,
    pub(super) index: Mmap,
    pub(super) view: IndexView,
    pub(super) chunk_length: u64,
    pub(super) uncompressed_len: u64,
    pub(super) chunk_offsets: Vec<u64>,
    filter: BloomFilter,
    /// Immutable bounds copied out of the statistics for the hot path.
    min_token: i64,
    max_token: i64,
    min_timestamp: i64,
    stats: RwLock<Statistics>,
    cache: Arc<ChunkCache>,
    obsolete: AtomicBool,
}

impl std::fmt::Debug for SSTableReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SSTableReader").field("desc", &self.desc).finish()
    }
}

fn read_compression_info(path: &Path) -> Result<(u64, u64, Vec<u64>)> {
    let buf = std::fs::read(path).at(path)?;
    if buf.len() < 30 {
        return Err(Error::corruption(path, 0, "compression info too short"));
    }
    let (body, crc) = buf.split_at(buf.len() - 4);
    if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(Error::corruption(path, 0, "compression info checksum mismatch"));
    }
    let mut r = Reader::new(body);
    if r.take(4)? != COMPRESSION_MAGIC {
        return Err(Error::corruption(path, 0, "bad compression info magic"));
    }
    let version = r.u16()?;
    if version != COMPRESSION_VERSION {
        return Err(Error::UnsupportedVersion { path: path.into(), version: version.into() });
    }
    let chunk_length = u64::from(r.u32()?);
    if chunk_length > MAX_CHUNK_LENGTH {
        return Err(Error::corruption(
            path,
            6,
            format!("chunk length {chunk_length} above {MAX_CHUNK_LENGTH}"),
        ));
    }
    let uncompressed = r.u64()?;
    let n = r.u64()? as usize;
    if chunk_length == 0
        || n.saturating_mul(8) != r.remaining()
        || (n as u64) != uncompressed.div_ceil(chunk_length)
    {
        return Err(Error::corruption(path, 10, "compression info dimensions disagree"));
    }
    let mut offsets = Vec::with_capacity(n);
    for _ in 0..n {
        offsets.push(r.u64()?);
    }
    Ok((chunk_length, uncompressed, offsets))
}

impl SSTableReader {
    /// Opens a published SSTable, verifying the checksums of its small components.
    pub fn open(desc: Descriptor, cache: Arc<ChunkCache>) -> Result<Arc<SSTableReader>> {
        let stats_path = desc.path(Component::Statistics);
        let stats = Statistics::decode(&std::fs::read(&stats_path).at(&stats_path)?, &stats_path)?;
        let filter_path = desc.path(Component::Filter);
        let filter = BloomFilter::decode(&std::fs::read(&filter_path).at(&filter_path)?, &filter_path)?;
        let (chunk_length, uncompressed_len, chunk_offsets) =
            read_compression_info(&desc.path(Component::CompressionInfo))?;
        let data_path = desc.path(Component::Data);
        let data = map(&data_path)?;
        if chunk_offsets.windows(2).any(|w| w[1] <= w[0].saturating_add(4))
            || chunk_offsets.last().is_some_and(|l| l.saturating_add(4) > data.len() as u64)
        {
            return Err(Error::corruption(&data_path, 0, "chunk offsets do not fit the data file"));
        }
        let index_path = desc.path(Component::Index);
        let index = map(&index_path)?;
        let view = IndexView::open(&index, &index_path)?;
        Ok(Arc::new(SSTableReader {
            uid: cache.next_uid(),
            desc,
            data_path,
            data,
            index_path,
            index,
            view,
            chunk_length,
            uncompressed_len,
            chunk_offsets,
            filter,
            min_token: stats.min_token,
            max_token: stats.max_token,
            min_timestamp: stats.min_timestamp,
            stats: RwLock::new(stats),
            cache,
            obsolete: AtomicBool::new(false),
        }))
    }

    /// Where the SSTable lives.
    pub fn descriptor(&self) -> &Descriptor {
        &self.desc
    }

    /// Its generation.
    pub fn generation(&self) -> u64 {
        self.desc.generation
    }

    /// A copy of its statistics.
    pub fn stats(&self) -> Statistics {
        self.stats.read().clone()
    }

    /// Smallest timestamp of any data in it.
    pub fn min_timestamp(&self) -> i64 {
        self.min_timestamp
    }

    /// Bytes of its Data.db.
    pub fn data_size(&self) -> u64 {
        self.data.len() as u64
    }

    /// Bytes of all its components.
    pub fn disk_size(&self) -> u64 {
        self.desc.disk_size()
    }

    /// Partitions in it.
    pub fn partition_count(&self) -> usize {
        self.view.count
    }

    /// True if it is marked repaired.
    pub fn is_repaired(&self) -> bool {
        self.stats.read().is_repaired()
    }

    /// Rewrites Statistics.db with a new repair state (atomically).
    pub fn set_repair_state(&self, repaired_at: u64, pending_repair: Option<String>) -> Result<()> {
        let mut s = self.stats.write();
        let mut next = s.clone();
        next.repaired_at = repaired_at;
        next.pending_repair = pending_repair;
        write_atomic(&self.desc.path(Component::Statistics), &next.encode()?)?;
        *s = next;
        Ok(())
    }

    /// True if the SSTable may hold `key` (token bounds and bloom filter), given the key's
    /// Murmur3 hash halves.
    #[inline]
    pub fn may_contain(&self, key: &DecoratedKey, h1: u64, h2: u64) -> bool {
        key.token >= self.min_token && key.token <= self.max_token && self.filter.may_contain(h1, h2)
    }

    /// Number of partitions whose token lies in `(from, to]`, from the index alone.
    pub fn partitions_in_tokens(&self, from: Token, to: Token) -> Result<usize> {
        if from >= to || to < self.min_token || from >= self.max_token {
            return Ok(0);
        }
        Ok(self.first_after_token(to)? - self.first_after_token(from)?)
    }

    /// Index of the first entry whose token is above `t`.
    fn first_after_token(&self, t: Token) -> Result<usize> {
        if t == Token::MAX {
            return Ok(self.view.count);
        }
        self.view
            .lower_bound(&self.index, t + 1, b"", false)
            .map_err(|e| Error::corruption(&self.index_path, 0, e.to_string()))
    }

    /// Smallest and largest token of its partitions.
    pub fn token_bounds(&self) -> (Token, Token) {
        (self.min_token, self.max_token)
    }

    /// True if some key of `range` may be in this SSTable (token bounds only).
    pub fn intersects(&self, range: &KeyRange) -> bool {
        range.intersects_tokens(self.min_token, self.max_token)
    }

    pub(super) fn chunk_crc_error(&self, chunk: usize, reason: &str) -> Error {
        let offset = self.chunk_offsets.get(chunk).copied().unwrap_or(0);
        Error::corruption(&self.data_path, offset, format!("chunk {chunk}: {reason}"))
    }

    /// Loads, verifies and decompresses chunk `i`.
    fn load_chunk(&self, i: usize) -> Result<Bytes> {
        let start =
            *self.chunk_offsets.get(i).ok_or_else(|| self.chunk_crc_error(i, "no such chunk"))? as usize;
        let end = match self.chunk_offsets.get(i + 1) {
            Some(n) => *n as usize,
            None => self.data.len(),
        };
        if end < start + 4 || end > self.data.len() {
            return Err(self.chunk_crc_error(i, "chunk bounds out of file"));
        }
        let compressed = &self.data[start..end - 4];
        let c = &self.data[end - 4..end];
        if crc32fast::hash(compressed) != u32::from_be_bytes([c[0], c[1], c[2], c[3]]) {
            return Err(self.chunk_crc_error(i, "checksum mismatch"));
        }
        let expected = if (i as u64 + 1) * self.chunk_length <= self.uncompressed_len {
            self.chunk_length
        } else {
            self.uncompressed_len - i as u64 * self.chunk_length
        } as usize;
        let mut out = vec![0u8; expected];
        let n = lz4_flex::block::decompress_into(compressed, &mut out)
            .map_err(|e| self.chunk_crc_error(i, &format!("decompression failed: {e}")))?;
        if n != expected {
            return Err(self.chunk_crc_error(i, "decompressed length mismatch"));
        }
        Ok(Bytes::from(out))
    }

    /// Chunk `i` from the cache, or loaded (verified and decompressed) and cached when
    /// `use_cache`; loaded and not cached otherwise.
    pub(super) fn chunk_bytes(&self, i: usize, use_cache: bool) -> Result<Bytes> {
        if !use_cache {
            return self.load_chunk(i);
        }
        if let Some(b) = self.cache.get(self.uid, i as u32) {
            return Ok(b);
        }
        let b = self.load_chunk(i)?;
        self.cache.insert(self.uid, i as u32, b.clone());
        Ok(b)
    }

    /// Chunk `i`, kept in `local` (one chunk per point read) and borrowed from there.
    fn chunk<'a>(
        &self,
        i: usize,
        local: &'a mut Option<(usize, Bytes)>,
        use_cache: bool,
    ) -> Result<&'a Bytes> {
        if !matches!(local, Some((j, _)) if *j == i) {
            *local = Some((i, self.chunk_bytes(i, use_cache)?));
        }
        match local {
            Some((_, b)) => Ok(b),
            None => Err(self.chunk_crc_error(i, "chunk not loaded")),
        }
    }

    /// The bytes of the partition at index entry `e`: a buffer (the chunk, or the chunks
    /// joined when the partition spans several) and the partition's range within it.
    fn locate<'a>(
        &self,
        e: IndexEntry,
        local: &'a mut Option<(usize, Bytes)>,
        joined: &'a mut Bytes,
        use_cache: bool,
    ) -> Result<(&'a Bytes, usize, usize)> {
        let end = e.position.checked_add(e.length).filter(|end| *end <= self.uncompressed_len).ok_or_else(
            || {
                Error::corruption(
                    &self.index_path,
                    0,
                    format!("index entry at {} past end of data", e.position),
                )
            },
        )?;
        let first = (e.position / self.chunk_length) as usize;
        let last = ((end.max(1) - 1) / self.chunk_length) as usize;
        let within = (e.position % self.chunk_length) as usize;
        if first == last {
            let c = self.chunk(first, local, use_cache)?;
            let stop = within + e.length as usize;
            if stop > c.len() {
                return Err(self.chunk_crc_error(first, "partition runs past chunk"));
            }
            return Ok((c, within, stop));
        }
        // A partition spanning chunks is joined into one buffer first.
        let mut out = Vec::with_capacity(e.length as usize);
        for i in first..=last {
            let c = self.chunk(i, local, use_cache)?;
            let from = if i == first { within } else { 0 };
            let to = if i == last { (end - i as u64 * self.chunk_length) as usize } else { c.len() };
            if from > to || to > c.len() {
                return Err(self.chunk_crc_error(i, "partition runs past chunk"));
            }
            out.extend_from_slice(&c[from..to]);
        }
        *joined = Bytes::from(out);
        let n = joined.len();
        Ok((joined, 0, n))
    }

    /// The error for a damaged partition at uncompressed offset `position`.
    pub(crate) fn partition_error(&self, position: u64, reason: &str) -> Error {
        Error::corruption(
            &self.data_path,
            position,
            format!("partition at uncompressed offset {position}: {reason}"),
        )
    }

    /// Reads the key at the start of `src[from..to]`, checks it against the index's, and
    /// returns it (a slice of `src`, no copy) and where the partition body starts.
    fn split_key(
        &self,
        src: &Bytes,
        from: usize,
        to: usize,
        e: IndexEntry,
        expect_key: &[u8],
    ) -> Result<(Bytes, usize)> {
        let mut r = Reader::new(&src[from..to]);
        let key = r.bytes().map_err(|x| self.partition_error(e.position, &x.to_string()))?;
        if key != expect_key {
            return Err(self.partition_error(e.position, "key does not match the index"));
        }
        let at = key.as_ptr() as usize - src.as_ptr() as usize;
        Ok((src.slice(at..at + key.len()), from + r.position()))
    }

    /// Decodes the partition at index entry `e`, checking that it holds `expect_key`. Returns
    /// the key and the partition, whose names and values are slices of the chunk.
    fn decode_at(
        &self,
        e: IndexEntry,
        expect_key: &[u8],
        local: &mut Option<(usize, Bytes)>,
        use_cache: bool,
    ) -> Result<(Bytes, Partition)> {
        let mut joined = Bytes::new();
        let (src, from, to) = self.locate(e, local, &mut joined, use_cache)?;
        let (key, body) = self.split_key(src, from, to, e, expect_key)?;
        let mut r = Reader::new(&src[body..to]);
        let p =
            decode_partition(&mut r, src).map_err(|x| self.partition_error(e.position, &x.to_string()))?;
        if !r.is_empty() {
            return Err(self.partition_error(e.position, "trailing bytes"));
        }
        Ok((key, p))
    }

    /// The partition for `key`, if this SSTable holds it. `h1`/`h2` are the key's Murmur3
    /// hash halves.
    pub fn get(&self, key: &DecoratedKey, h1: u64, h2: u64) -> Result<Option<Partition>> {
        if !self.may_contain(key, h1, h2) {
            return Ok(None);
        }
        let entry = self
            .view
            .find(&self.index, key.token, &key.key)
            .map_err(|e| Error::corruption(&self.index_path, 0, e.to_string()))?;
        match entry {
            None => Ok(None),
            Some(e) => Ok(Some(self.decode_at(e, &key.key, &mut None, true)?.1)),
        }
    }

    /// True if the index holds exactly this key (no data read).
    pub fn contains_key(&self, key: &DecoratedKey) -> Result<bool> {
        Ok(self.view.find(&self.index, key.token, &key.key)?.is_some())
    }

    fn position_of(&self, bound: Bound<&DecoratedKey>) -> Result<usize> {
        match bound {
            Bound::Unbounded => Ok(0),
            Bound::Included(k) => self.view.lower_bound(&self.index, k.token, &k.key, false),
            Bound::Excluded(k) => self.view.lower_bound(&self.index, k.token, &k.key, true),
        }
    }

    /// Scans the partitions of `range` in order (see [`SSTableScanner`]). `use_cache` = false
    /// for compaction and validation, which read each chunk once.
    pub fn scan(self: &Arc<Self>, range: &KeyRange, use_cache: bool) -> Result<SSTableScanner> {
        let (start, end) = range.as_bounds();
        let from = self.position_of(start)?;
        let to = match end {
            Bound::Unbounded => self.view.count,
            Bound::Included(k) => self.view.lower_bound(&self.index, k.token, &k.key, true)?,
            Bound::Excluded(k) => self.view.lower_bound(&self.index, k.token, &k.key, false)?,
        };
        SSTableScanner::new(self.clone(), from, to.max(from), use_cache)
    }

    /// The chunk cache this reader uses (for readers opened alongside it).
    pub fn cache_handle(&self) -> Arc<ChunkCache> {
        self.cache.clone()
    }

    /// Marks the SSTable replaced: its files go when the last holder drops it.
    pub fn mark_obsolete(&self) {
        self.obsolete.store(true, Ordering::Release);
    }
}

impl Drop for SSTableReader {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire) {
            let deleted = self.desc.delete().and_then(|()| super::sync_dir(&self.desc.dir));
            if let Err(e) = deleted {
                tracing::error!(error = %e, "could not delete obsolete SSTable");
            }
        }
    }
}
