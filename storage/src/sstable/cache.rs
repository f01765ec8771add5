//! The chunk cache: decompressed `Data.db` chunks shared by all SSTables of an engine, bounded
//! in bytes. Keys are (SSTable uid, chunk number); uids are handed out per engine, so no state
//! is global.

use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Copy, Debug)]
struct ByteWeighter;

impl quick_cache::Weighter<(u64, u32), Bytes> for ByteWeighter {
    fn weight(&self, _key: &(u64, u32), val: &Bytes) -> u64 {
        val.len().max(1) as u64
    }
}

/// Decompressed chunks, bounded by total bytes.
pub struct ChunkCache {
    cache: quick_cache::sync::Cache<(u64, u32), Bytes, ByteWeighter>,
    next_uid: AtomicU64,
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkCache").field("bytes", &self.cache.weight()).finish()
    }
}

impl ChunkCache {
    /// A cache of at most `capacity_bytes` (0 disables caching).
    pub fn new(capacity_bytes: u64) -> Self {
        let items = (capacity_bytes / 16384).max(16) as usize;
        ChunkCache {
            cache: quick_cache::sync::Cache::with_weighter(items, capacity_bytes.max(1), ByteWeighter),
            next_uid: AtomicU64::new(1),
        }
    }

    /// A fresh id for a newly opened SSTable.
    pub fn next_uid(&self) -> u64 {
        self.next_uid.fetch_add(1, Ordering::Relaxed)
    }

    /// A cached chunk.
    #[inline]
    pub fn get(&self, uid: u64, chunk: u32) -> Option<Bytes> {
        self.cache.get(&(uid, chunk))
    }

    /// Caches a chunk.
    pub fn insert(&self, uid: u64, chunk: u32, data: Bytes) {
        self.cache.insert((uid, chunk), data);
    }

    /// Bytes cached.
    pub fn size_bytes(&self) -> u64 {
        self.cache.weight()
    }
}
