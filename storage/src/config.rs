//! Engine configuration, per-table options and the persisted table descriptor.
//!
//! Each table directory holds `table.json` (written atomically), so the engine knows every table
//! before it replays the commit log, independent of the schema layer above it.

use crate::commitlog::{CommitLogConfig, SyncMode};
use crate::table_id::TableId;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The source of "now" for TTLs and gc_grace, replaceable in tests.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock, in seconds since the epoch.
    pub fn system() -> Self {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        }))
    }

    /// A clock that returns whatever `secs` holds.
    pub fn manual(secs: Arc<AtomicI64>) -> Self {
        Clock(Arc::new(move || secs.load(Ordering::Relaxed)))
    }

    /// Seconds since the epoch.
    pub fn now_secs(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now_secs())
    }
}

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Root directory: `data/` (SSTables) and `commitlog/` live under it.
    pub data_directory: PathBuf,
    /// Commit log sync mode.
    pub commitlog_sync: SyncMode,
    /// Commit log segment size in bytes.
    pub commitlog_segment_size: u64,
    /// Commit log total space; past it the tables pinning the oldest segment are flushed.
    pub commitlog_total_space: u64,
    /// Memory for all active memtables; past it the largest is flushed. Writers block when
    /// memtables (active and flushing) pass twice this.
    pub memtable_space: usize,
    /// Decompressed chunk cache capacity.
    pub chunk_cache_size: u64,
    /// Background compactions that may run at once.
    pub concurrent_compactors: usize,
    /// Run background compaction at all.
    pub background_compaction: bool,
    /// How long a write may wait for memtable space before it fails with `Overloaded`.
    pub write_block_timeout: std::time::Duration,
    /// Clock for TTL and gc_grace decisions.
    pub clock: Clock,
}

impl EngineConfig {
    /// Defaults rooted at `data_directory`.
    pub fn new(data_directory: impl Into<PathBuf>) -> Self {
        EngineConfig {
            data_directory: data_directory.into(),
            commitlog_sync: SyncMode::Periodic { period: Duration::from_millis(10_000) },
            commitlog_segment_size: 32 << 20,
            commitlog_total_space: 1 << 30,
            memtable_space: 256 << 20,
            chunk_cache_size: 128 << 20,
            concurrent_compactors: 1,
            background_compaction: true,
            write_block_timeout: Duration::from_secs(10),
            clock: Clock::system(),
        }
    }

    /// Where SSTables live.
    pub fn sstable_root(&self) -> PathBuf {
        self.data_directory.join("data")
    }

    /// The commit log configuration this implies.
    pub fn commitlog(&self) -> CommitLogConfig {
        CommitLogConfig {
            dir: self.data_directory.join("commitlog"),
            segment_size: self.commitlog_segment_size,
            sync: self.commitlog_sync,
            total_space: self.commitlog_total_space,
            min_segment_id: 0,
        }
    }
}

/// Size-tiered compaction parameters (Cassandra's names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompactionOptions {
    /// Background compaction on or off for the table.
    pub enabled: bool,
    /// Fewest SSTables in a bucket before it is compacted.
    pub min_threshold: usize,
    /// Most SSTables compacted at once.
    pub max_threshold: usize,
    /// A bucket takes SSTables down to this fraction of its average size...
    pub bucket_low: f64,
    /// ...and up to this multiple.
    pub bucket_high: f64,
    /// SSTables smaller than this share one bucket.
    pub min_sstable_size: u64,
    /// Purge only tombstones in repaired SSTables.
    pub only_purge_repaired_tombstones: bool,
    /// Droppable-tombstone ratio that makes a single SSTable worth compacting alone.
    pub tombstone_threshold: f64,
    /// Minimum age in seconds of an SSTable before a single-SSTable tombstone compaction.
    pub tombstone_compaction_interval: u64,
}

impl Default for CompactionOptions {
    fn default() -> Self {
        CompactionOptions {
            enabled: true,
            min_threshold: 4,
            max_threshold: 32,
            bucket_low: 0.5,
            bucket_high: 1.5,
            min_sstable_size: 50 << 20,
            only_purge_repaired_tombstones: false,
            tombstone_threshold: 0.2,
            tombstone_compaction_interval: 86_400,
        }
    }
}

/// Per-table storage options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableOptions {
    /// Seconds a tombstone is kept before compaction may purge it.
    pub gc_grace_seconds: u32,
    /// Compaction parameters.
    pub compaction: CompactionOptions,
    /// Uncompressed chunk size in KiB.
    pub chunk_length_kb: u32,
    /// Bloom filter false-positive chance.
    pub bloom_filter_fp_chance: f64,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            gc_grace_seconds: 864_000,
            compaction: CompactionOptions::default(),
            chunk_length_kb: 64,
            bloom_filter_fp_chance: 0.01,
        }
    }
}

/// A table as the storage engine knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDescriptor {
    /// The id (hyphenated form in JSON).
    #[serde(with = "table_id_serde")]
    pub id: TableId,
    /// Keyspace name.
    pub keyspace: String,
    /// Table name.
    pub name: String,
    /// Options.
    #[serde(default)]
    pub options: TableOptions,
    /// Commit log position below which this table's entries are all in SSTables (or were
    /// truncated or purged away): replay skips them. Raised by every flush and by TRUNCATE.
    #[serde(default)]
    pub replay_floor: Option<(u64, u32)>,
    /// SSTables of this generation or lower were truncated: start-up deletes any that a crash
    /// left behind.
    #[serde(default)]
    pub truncated_generation: Option<u64>,
}

mod table_id_serde {
    use crate::table_id::TableId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &TableId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TableId, D::Error> {
        let s = String::deserialize(d)?;
        TableId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad table id {s}")))
    }
}

impl TableDescriptor {
    /// A descriptor with default options.
    pub fn new(id: TableId, keyspace: impl Into<String>, name: impl Into<String>) -> Self {
        TableDescriptor {
            id,
            keyspace: keyspace.into(),
            name: name.into(),
            options: TableOptions::default(),
            replay_floor: None,
            truncated_generation: None,
        }
    }

    /// `keyspace.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.keyspace, self.name)
    }
}
