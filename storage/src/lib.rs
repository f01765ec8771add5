//! `storage`: one Tessera node's data on disk. No network, no CQL.
//!
//! Writes arrive as [`Mutation`]s (one partition of one table), are appended to the shared
//! commit log, then applied to the table's memtable; memtables flush to immutable, checksummed,
//! LZ4-compressed SSTables, which size-tiered compaction merges in the background. Reads merge
//! the memtables and the SSTables that may hold a partition, newest data winning per cell, and
//! apply tombstones and TTLs. Partitions are ordered by (Murmur3 token, key bytes); clustering
//! keys arrive already in a byte-comparable encoding, so this crate compares bytes only.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cell;
pub mod clustering;
pub mod codec;
pub mod commitlog;
pub mod compaction;
pub mod config;
pub mod engine;
pub mod error;
mod failpoint;
pub mod live;
pub mod memtable;
pub mod merge;
pub mod mutation;
pub mod partition;
pub mod partition_codec;
pub mod purge;
pub mod range;
pub mod repair;
pub mod row;
pub mod sorted_map;
pub mod sstable;
pub mod table;
pub mod table_id;
pub mod table_stats;
pub mod token;

pub use cell::{Cell, DeletionTime};
pub use clustering::ClusteringRange;
pub use compaction::CompactionSummary;
pub use compaction::cleanup::CleanupSummary;
pub use config::{Clock, EngineConfig, TableDescriptor, TableOptions};
pub use engine::Engine;
pub use error::{Error, Result};
pub use live::{LiveCell, LiveRow, PartitionData, RowScratch};
pub use mutation::Mutation;
pub use partition::{Partition, RangeTombstone};
pub use range::KeyRange;
pub use repair::{AnticompactionSummary, MerkleTree, RepairScope};
pub use row::{CellKey, Row};
pub use table_id::TableId;
pub use table_stats::TableStats;
pub use token::{DecoratedKey, Token, token_of};
