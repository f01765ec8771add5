//! SSTable statistics (`Statistics.db`): what the engine knows about an SSTable without reading
//! its data — counts, timestamp and deletion-time bounds (for purging and expiry), token bounds,
//! the commit log interval it covers (for replay), and the repair state.
//!
//! | field | encoding |
//! |---|---|
//! | magic | `TSST` |
//! | version | u16 BE (= 1) |
//! | body | u32 BE length + JSON of [`Statistics`] |
//! | crc | u32 BE CRC32 of everything before |
//!
//! This is the one component rewritten in place (through a temporary file and a rename), when
//! repair changes `repaired_at` or `pending_repair`.

use crate::codec::Reader;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const MAGIC: &[u8; 4] = b"TSST";
const VERSION: u16 = 1;
/// Most bins kept in a tombstone drop-time histogram.
const MAX_BINS: usize = 100;

/// A commit log position as recorded in statistics: (segment id, offset).
pub type LogPosition = (u64, u32);

/// Everything recorded about one SSTable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Partitions written.
    pub partitions: u64,
    /// Rows written (static rows included).
    pub rows: u64,
    /// Cells written (tombstones included).
    pub cells: u64,
    /// Tombstones of every kind: cell, row, collection, range and partition deletions.
    pub tombstones: u64,
    /// Cells with a TTL.
    pub expiring_cells: u64,
    /// Smallest write or deletion timestamp.
    pub min_timestamp: i64,
    /// Largest write or deletion timestamp.
    pub max_timestamp: i64,
    /// Smallest local deletion time (i64::MAX when none).
    pub min_local_deletion_time: i64,
    /// Largest local deletion time (i64::MIN when none).
    pub max_local_deletion_time: i64,
    /// First partition's token.
    pub min_token: i64,
    /// Last partition's token.
    pub max_token: i64,
    /// Tombstone local deletion times (and expiries) as (second, count) bins: gives the number
    /// of tombstones droppable at a given gc_before.
    pub tombstone_drop_times: Vec<(i64, u64)>,
    /// Milliseconds since the epoch when this data was marked repaired; 0 = unrepaired.
    pub repaired_at: u64,
    /// Id of the incremental repair session holding this SSTable, if any.
    pub pending_repair: Option<String>,
    /// Commit log positions this SSTable's data spans: replay may skip what lies below `upper`.
    pub commitlog_lower: Option<LogPosition>,
    /// See `commitlog_lower`.
    pub commitlog_upper: Option<LogPosition>,
    /// Bytes of partition data before compression.
    pub uncompressed_size: u64,
    /// Bytes of `Data.db`.
    pub compressed_size: u64,
    /// Uncompressed bytes per compressed chunk.
    pub chunk_length: u32,
    /// The bloom filter's false-positive chance.
    pub bloom_fp_chance: f64,
    /// Creation time, milliseconds since the epoch.
    pub created_at_ms: u64,
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics {
            partitions: 0,
            rows: 0,
            cells: 0,
            tombstones: 0,
            expiring_cells: 0,
            min_timestamp: i64::MAX,
            max_timestamp: i64::MIN,
            min_local_deletion_time: i64::MAX,
            max_local_deletion_time: i64::MIN,
            min_token: i64::MAX,
            max_token: i64::MIN,
            tombstone_drop_times: Vec::new(),
            repaired_at: 0,
            pending_repair: None,
            commitlog_lower: None,
            commitlog_upper: None,
            uncompressed_size: 0,
            compressed_size: 0,
            chunk_length: 0,
            bloom_fp_chance: 0.01,
            created_at_ms: 0,
        }
    }
}

impl Statistics {
    /// Tombstones whose local deletion time is before `gc_before`.
    pub fn droppable_tombstones(&self, gc_before: i64) -> u64 {
        self.tombstone_drop_times.iter().filter(|(t, _)| *t < gc_before).map(|(_, n)| n).sum()
    }

    /// True if the SSTable is marked repaired.
    pub fn is_repaired(&self) -> bool {
        self.repaired_at > 0
    }

    /// The `Statistics.db` encoding.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(self).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut out = Vec::with_capacity(json.len() + 14);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&(json.len() as u32).to_be_bytes());
        out.extend_from_slice(&json);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        Ok(out)
    }

    /// Decodes `Statistics.db`, verifying its checksum.
    pub fn decode(buf: &[u8], path: &Path) -> Result<Statistics> {
        if buf.len() < 14 {
            return Err(Error::corruption(path, 0, "statistics file too short"));
        }
        let (body, crc) = buf.split_at(buf.len() - 4);
        if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(Error::corruption(path, 0, "statistics checksum mismatch"));
        }
        let mut r = Reader::new(body);
        if r.take(4)? != MAGIC {
            return Err(Error::corruption(path, 0, "bad statistics magic"));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion { path: path.into(), version: version.into() });
        }
        let n = r.u32()? as usize;
        let json = r.take(n)?;
        serde_json::from_slice(json).map_err(|e| Error::corruption(path, 10, format!("statistics: {e}")))
    }
}

/// Builds a bounded histogram of tombstone drop times.
#[derive(Debug, Default, Clone)]
pub struct DropTimeHistogram {
    bins: BTreeMap<i64, u64>,
}

impl DropTimeHistogram {
    /// Counts one tombstone deleted (or expiring) at `ldt`.
    pub fn add(&mut self, ldt: i64, n: u64) {
        *self.bins.entry(ldt).or_insert(0) += n;
        if self.bins.len() > MAX_BINS * 2 {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        // Merge the closest neighbours until MAX_BINS remain, keeping the later second (so a
        // bin never claims tombstones droppable earlier than they are).
        while self.bins.len() > MAX_BINS {
            let keys: Vec<i64> = self.bins.keys().copied().collect();
            let mut best = 0;
            let mut gap = i64::MAX;
            for i in 0..keys.len() - 1 {
                let g = keys[i + 1].saturating_sub(keys[i]);
                if g < gap {
                    gap = g;
                    best = i;
                }
            }
            let n = self.bins.remove(&keys[best]).unwrap_or(0);
            *self.bins.entry(keys[best + 1]).or_insert(0) += n;
        }
    }

    /// Adds another histogram's bins.
    pub fn merge(&mut self, other: &[(i64, u64)]) {
        for (t, n) in other {
            self.add(*t, *n);
        }
    }

    /// The final bins.
    pub fn finish(mut self) -> Vec<(i64, u64)> {
        self.shrink();
        self.bins.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_and_detect_corruption() {
        let s = Statistics {
            partitions: 3,
            repaired_at: 7,
            pending_repair: Some("x".into()),
            ..Default::default()
        };
        let enc = s.encode().unwrap();
        assert_eq!(Statistics::decode(&enc, Path::new("s")).unwrap(), s);
        let mut bad = enc.clone();
        bad[12] ^= 0x20;
        assert!(Statistics::decode(&bad, Path::new("s")).is_err());
    }

    #[test]
    fn histogram_is_bounded_and_conservative() {
        let mut h = DropTimeHistogram::default();
        for t in 0..10_000 {
            h.add(t, 1);
        }
        let bins = h.finish();
        assert!(bins.len() <= MAX_BINS);
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 10_000);
        let s = Statistics { tombstone_drop_times: bins, ..Default::default() };
        // Never over-counts: at most the true number droppable.
        assert!(s.droppable_tombstones(5_000) <= 5_000);
        assert_eq!(s.droppable_tombstones(20_000), 10_000);
    }
}
