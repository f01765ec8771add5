//! The commit log: every mutation of every table of the node is appended here before it is
//! applied to a memtable, so that a crash loses nothing a sync mode promised to keep.
//!
//! The engine calls [`CommitLog::append`] then [`CommitLog::wait_durable`] per write, replays the
//! [`Replay`] handed out by [`CommitLog::open`] at start-up, and calls
//! [`CommitLog::discard_completed`] after each memtable flush. The log is a directory of
//! append-only segment files written with `write()` from an in-memory buffer (no mmap) and
//! fsynced per [`SyncMode`]; a segment is deleted once every table dirty in it has flushed.
//!
//! | where | bytes | content |
//! |---|---|---|
//! | file name | | `CommitLog-1-<id>.log`, `id` a u64 = max(now in ms, previous id + 1) |
//! | header @0 | 4 | magic `TSCL` |
//! | | 2 | format version, u16 BE (= 1) |
//! | | 8 | segment id, u64 BE (same as the file name) |
//! | | 4 | CRC32 of the 14 bytes above, u32 BE |
//! | each entry @18.. | 4 | payload length `len`, u32 BE (never 0) |
//! | | 4 | CRC32 of the 4 length bytes, u32 BE |
//! | | len | payload (an encoded mutation; opaque here) |
//! | | 4 | CRC32 of the payload, u32 BE |
//!
//! A new segment starts when the next entry would pass `segment_size`; payloads above
//! `segment_size / 2 - 30` are refused. Replay rules are in [`replay`].

mod replay;
mod segment;
#[cfg(test)]
mod tests;
mod writer;

pub use replay::{CorruptEntry, Replay, ReplayEntry, ReplayStats, replay_segment_bytes};

/// The commit log's segment framing (a checksummed header, checksummed entries, the resync rule
/// after a damaged entry), for other append-only files framed the same way (hint segments).
pub mod framing {
    pub use super::segment::{
        ENTRY_OVERHEAD, EntryCheck, HEADER_LEN, Resync, check_entry_max, decode_header_as, encode_header_as,
        find_later_valid_max,
    };
}

use crate::TableId;
use crate::error::{Error, IoContext, Result};
use parking_lot::Mutex;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use writer::{Inner, WRITE_OUT_THRESHOLD};

/// When appended entries become durable (Cassandra's `commitlog_sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Acknowledge at once; fsync every `period`. Appends block while the last completed sync
    /// is older than 1.5 × `period`. A power loss can lose up to a period of writes.
    Periodic {
        /// Time between syncs (Cassandra default 10 s).
        period: Duration,
    },
    /// Acknowledge after the fsync covering the entry; concurrent writers share one fsync.
    Batch,
    /// Acknowledge after the fsync covering the entry; fsyncs happen once per `window`.
    Group {
        /// Time between syncs.
        window: Duration,
    },
}

/// Commit log settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLogConfig {
    /// The directory holding the segments (created if missing).
    pub dir: PathBuf,
    /// Size at which a segment is closed and a new one started (default 32 MiB, at most 4 GiB).
    pub segment_size: u64,
    /// When entries become durable.
    pub sync: SyncMode,
    /// Above this many bytes of segments, [`CommitLog::tables_pinning_oldest_segment`] asks for
    /// flushes (default 1 GiB).
    pub total_space: u64,
    /// New segments get ids above this, even when the directory is empty: the engine passes the
    /// highest position its SSTables claim, so new positions always compare above it.
    pub min_segment_id: u64,
}

impl Default for CommitLogConfig {
    fn default() -> Self {
        CommitLogConfig {
            dir: PathBuf::from("commitlog"),
            segment_size: 32 << 20,
            sync: SyncMode::Periodic { period: Duration::from_secs(10) },
            total_space: 1 << 30,
            min_segment_id: 0,
        }
    }
}

/// A point in the log: a segment id and a byte offset in it, ordered by (segment, offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The segment id.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.segment, self.offset)
    }
}

/// The node's commit log. `Send + Sync`; share it behind an `Arc`.
pub struct CommitLog {
    inner: Arc<Inner>,
    sync_thread: Mutex<Option<JoinHandle<()>>>,
}

impl CommitLog {
    /// Opens the directory (creating it), lists the existing segments for replay, and starts a
    /// fresh segment for new writes (old segments are never appended to). Starts the
    /// background sync thread `commitlog-sync`.
    pub fn open(config: CommitLogConfig) -> Result<(CommitLog, Replay)> {
        validate(&config)?;
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).at(&dir)?;
        let old = replay::list_segments(&dir)?;
        let replay_files = old
            .iter()
            .map(|(_, p)| (p.clone(), std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)))
            .collect();
        let last_id = old.last().map_or(0, |(id, _)| *id).max(config.min_segment_id);
        let inner = Arc::new(Inner::create(&config, last_id, replay_files)?);
        tracing::info!(
            dir = %dir.display(), segment = inner.state.lock().active.id, old_segments = old.len(),
            sync = ?config.sync, "commit log opened"
        );
        let thread_inner = Arc::clone(&inner);
        let handle = std::thread::Builder::new()
            .name("commitlog-sync".into())
            .spawn(move || thread_inner.run_sync_thread())
            .at(&dir)?;
        let log = CommitLog { inner, sync_thread: Mutex::new(Some(handle)) };
        Ok((log, Replay::new(old)))
    }

    /// Appends one entry for `table`; returns the position just after it. Does not wait for
    /// fsync, except that in periodic mode it blocks while the last completed sync is older
    /// than 1.5 × period. Marks `table` dirty in the segment up to the returned offset.
    /// Empty payloads are refused with [`Error::Invalid`], oversized ones with
    /// [`Error::MutationTooLarge`], both before anything is written.
    pub fn append(&self, table: TableId, payload: &[u8]) -> Result<Position> {
        let inner = &*self.inner;
        if payload.is_empty() {
            return Err(Error::Invalid("empty commit log entry".into()));
        }
        if payload.len() > inner.max_payload {
            return Err(Error::MutationTooLarge { size: payload.len(), max: inner.max_payload });
        }
        // Fits: max_payload < segment_size / 2 <= u32::MAX / 2.
        let entry_len = (payload.len() + segment::ENTRY_OVERHEAD) as u32;
        let mut st = inner.state.lock();
        inner.admit(&mut st)?;
        if u64::from(st.active.size) + u64::from(entry_len) > inner.segment_size {
            inner.roll(&mut st)?;
        }
        segment::encode_entry(&mut st.active.buf, payload);
        st.active.size += entry_len;
        let pos = st.position();
        if let Some(meta) = st.segments.get_mut(&pos.segment) {
            let hi = meta.dirty.entry(table).or_insert(0);
            *hi = (*hi).max(pos.offset);
        }
        let pending = st.active.buf.len() + st.sealed.iter().map(|s| s.buf.len()).sum::<usize>();
        drop(st);
        if pending >= WRITE_OUT_THRESHOLD {
            inner.try_write_out()?;
        }
        Ok(pos)
    }

    /// Waits until `pos` is as durable as the sync mode promises: batch and group wait for an
    /// fsync covering `pos` (in batch mode the first waiter performs it for everyone);
    /// periodic returns at once. Fails with [`Error::Poisoned`] once a write or fsync failed,
    /// and with [`Error::Invalid`] for a position the log has not reached.
    pub fn wait_durable(&self, pos: Position) -> Result<()> {
        let inner = &*self.inner;
        let mut st = inner.state.lock();
        st.check_usable()?;
        if pos > st.position() {
            return Err(Error::Invalid(format!(
                "commit log position {pos} is past the end {}",
                st.position()
            )));
        }
        match inner.sync {
            SyncMode::Periodic { .. } => Ok(()),
            SyncMode::Batch => {
                drop(st);
                inner.sync_upto(pos)
            }
            SyncMode::Group { .. } => loop {
                st.check_usable()?;
                if st.synced >= pos {
                    return Ok(());
                }
                inner.synced_cv.wait(&mut st);
            },
        }
    }

    /// The position the next entry would start at (a memtable's flush boundary). The engine
    /// must make sure every entry ending at or before it went into the memtable being flushed.
    pub fn current_position(&self) -> Position {
        self.inner.state.lock().position()
    }

    /// Writes and fsyncs everything appended so far.
    pub fn sync(&self) -> Result<()> {
        let target = self.current_position();
        self.inner.sync_upto(target)
    }

    /// `table` has flushed every entry ending at or before `upto`: it is cleared from every
    /// older segment, and from `upto.segment` if its last entry there ends at or before
    /// `upto.offset`. Then every segment but the active one that no table is dirty in is
    /// deleted (even if its last bytes were never written: nobody needs them), and the
    /// directory fsynced.
    pub fn discard_completed(&self, table: TableId, upto: Position) -> Result<()> {
        let doomed = {
            let mut st = self.inner.state.lock();
            for (id, meta) in st.segments.range_mut(..=upto.segment) {
                if *id < upto.segment || meta.dirty.get(&table).is_some_and(|hi| *hi <= upto.offset) {
                    meta.dirty.remove(&table);
                }
            }
            let active = st.active.id;
            let clean: Vec<u64> = st
                .segments
                .iter()
                .filter(|(id, m)| **id != active && m.dirty.is_empty())
                .map(|(id, _)| *id)
                .collect();
            let mut doomed = Vec::with_capacity(clean.len());
            for id in clean {
                st.sealed.retain(|s| s.id != id);
                if let Some(meta) = st.segments.remove(&id) {
                    doomed.push(meta.path);
                }
            }
            doomed
        };
        self.inner.remove_files(&doomed)
    }

    /// Forgets `table` entirely (a dropped table): [`Self::discard_completed`] at infinity.
    pub fn forget_table(&self, table: TableId) -> Result<()> {
        self.discard_completed(table, Position { segment: u64::MAX, offset: u32::MAX })
    }

    /// When the segment files kept exceed `total_space`, the tables dirty in the oldest segment
    /// this log wrote, sorted (flushing them lets it be freed); otherwise empty. Segments kept
    /// for replay count towards the space but have no dirty tables.
    pub fn tables_pinning_oldest_segment(&self) -> Vec<TableId> {
        let st = self.inner.state.lock();
        if st.usage().0 <= self.inner.total_space {
            return Vec::new();
        }
        let mut tables: Vec<TableId> =
            st.segments.values().next().map(|m| m.dirty.keys().copied().collect()).unwrap_or_default();
        tables.sort();
        tables
    }

    /// Total bytes of the segment files kept (including bytes still buffered and segments
    /// awaiting [`Self::delete_replayed`]), and their count.
    pub fn disk_usage(&self) -> (u64, usize) {
        self.inner.state.lock().usage()
    }

    /// Number of fsync calls made so far (segment files and directory), for tests and metrics.
    pub fn sync_count(&self) -> u64 {
        self.inner.state.lock().sync_count
    }

    /// The largest payload `append` accepts.
    pub fn max_payload_len(&self) -> usize {
        self.inner.max_payload
    }

    /// Deletes the replayed segments listed in `replay.segments` (call once the replayed data is
    /// flushed). Segments listed as unreadable are kept for the operator; paths that `open` did
    /// not hand out, or that are already deleted, are ignored.
    pub fn delete_replayed(&self, replay: &ReplayStats) -> Result<()> {
        let doomed = {
            let mut st = self.inner.state.lock();
            let mut doomed = Vec::new();
            st.replay_files.retain(|(p, _)| {
                let unreadable = replay.unreadable.iter().any(|(u, _)| u == p);
                if unreadable {
                    tracing::warn!(segment = %p.display(), "keeping unreadable commit log segment");
                }
                let delete = !unreadable && replay.segments.contains(p);
                if delete {
                    doomed.push(p.clone());
                }
                !delete
            });
            doomed
        };
        self.inner.remove_files(&doomed)
    }

    /// Syncs everything and stops the sync thread; later appends fail with [`Error::Shutdown`].
    /// Idempotent (a poisoned log keeps answering [`Error::Poisoned`]); also run on drop.
    pub fn shutdown(&self) -> Result<()> {
        let inner = &*self.inner;
        {
            let mut st = inner.state.lock();
            st.shutdown = true;
            inner.wake_cv.notify_all();
            inner.synced_cv.notify_all();
        }
        if let Some(handle) = self.sync_thread.lock().take() {
            if handle.join().is_err() {
                tracing::error!("commit log sync thread panicked");
            }
            let target = inner.state.lock().position();
            inner.sync_upto(target)?;
            tracing::info!(dir = %inner.dir.display(), "commit log shut down");
            return Ok(());
        }
        let target = inner.state.lock().position();
        inner.sync_upto(target)
    }

    #[cfg(test)]
    fn fail_next_sync(&self) {
        self.inner.fail_next_sync.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for CommitLog {
    fn drop(&mut self) {
        if self.sync_thread.get_mut().is_some()
            && let Err(e) = self.shutdown()
        {
            tracing::error!(error = %e, "commit log shutdown on drop failed");
        }
    }
}

impl fmt::Debug for CommitLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitLog").field("dir", &self.inner.dir).field("sync", &self.inner.sync).finish()
    }
}

fn validate(config: &CommitLogConfig) -> Result<()> {
    if config.segment_size < 64 || config.segment_size > u64::from(u32::MAX) {
        return Err(Error::Invalid(format!(
            "commit log segment_size {} must be between 64 bytes and 4 GiB",
            config.segment_size
        )));
    }
    match config.sync {
        SyncMode::Periodic { period: d } | SyncMode::Group { window: d } if d.is_zero() => {
            Err(Error::Invalid("commit log sync period/window must be positive".into()))
        }
        _ => Ok(()),
    }
}
