//! The storage engine of one node: its tables, the shared commit log, and the background
//! flush and compaction workers.
//!
//! Write: encode the mutation, append it to the commit log and insert it into the table's
//! memtable while holding the table's view lock shared, then wait for durability as the sync
//! mode promises. Memtables past `memtable_space` are flushed by the flush worker, largest
//! first; writers block while memtables hold more than twice that. When the commit log passes
//! its total space, the tables pinning its oldest segment are flushed so it can be deleted.
//! Open: discover table directories, delete crash leftovers, replay the commit log (skipping
//! what each table's SSTables already hold), flush what was replayed, delete the old segments.

use crate::clustering::ClusteringRange;
use crate::commitlog::{CommitLog, ReplayStats};
use crate::compaction::{self, CompactionSummary, stcs};
use crate::config::{EngineConfig, TableDescriptor, TableOptions};
use crate::error::{Error, IoContext, Result};
use crate::merge::{DataIterator, MergeIterator};
use crate::mutation::Mutation;
use crate::partition::Partition;
use crate::range::KeyRange;
use crate::sstable::SSTableReader;
use crate::sstable::cache::ChunkCache;
use crate::sstable::writer::now_ms;
use crate::table::Table;
use crate::table_id::TableId;
use crate::token::DecoratedKey;
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// What start-up replay found.
#[derive(Debug, Clone, Default)]
pub struct ReplaySummary {
    /// The commit log's own account: segments, entries, corrupt entries, torn tails.
    pub log: ReplayStats,
    /// Mutations applied to memtables.
    pub applied: u64,
    /// Entries skipped because an SSTable already held them.
    pub already_flushed: u64,
    /// Entries for tables that no longer exist.
    pub unknown_table: u64,
    /// Entries whose checksum held but whose mutation did not decode.
    pub undecodable: u64,
}

#[derive(Default)]
struct Work {
    flush: VecDeque<TableId>,
    compact: VecDeque<TableId>,
    shutdown: bool,
}

struct Inner {
    config: EngineConfig,
    commitlog: CommitLog,
    tables: RwLock<HashMap<TableId, Arc<Table>>>,
    cache: Arc<ChunkCache>,
    /// Bytes in all memtables, active and flushing.
    memtable_bytes: AtomicUsize,
    /// Bytes in memtables being flushed.
    flushing_bytes: AtomicUsize,
    memory_freed: Condvar,
    memory_lock: Mutex<()>,
    work: Mutex<Work>,
    work_ready: Condvar,
    writes: AtomicU64,
    /// The last background flush failure, for the error writers get when memory runs out.
    last_flush_error: Mutex<Option<String>>,
}

/// The storage engine. Cheap to share behind `Arc`; shuts down on drop.
pub struct Engine {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    replay: ReplaySummary,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("data_directory", &self.inner.config.data_directory).finish()
    }
}

fn discover_tables(root: &std::path::Path, cache: &Arc<ChunkCache>) -> Result<HashMap<TableId, Arc<Table>>> {
    let mut tables = HashMap::new();
    for ks in std::fs::read_dir(root).at(root)? {
        let ks = ks.at(root)?;
        if !ks.file_type().at(&ks.path())?.is_dir() {
            continue;
        }
        for t in std::fs::read_dir(ks.path()).at(&ks.path())? {
            let t = t.at(&ks.path())?;
            let dir = t.path();
            if !dir.join(crate::table::DESCRIPTOR_FILE).exists() {
                tracing::warn!(dir = %dir.display(), "ignoring a directory without a table descriptor");
                continue;
            }
            let desc = Table::read_descriptor(&dir)?;
            let table = Table::open_dir(dir, desc, cache.clone())?;
            tables.insert(table.id(), table);
        }
    }
    Ok(tables)
}

impl Engine {
    /// Opens (or creates) the engine's directories, replays the commit log and starts the
    /// background workers.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        let root = config.sstable_root();
        std::fs::create_dir_all(&root).at(&root)?;
        let cache = Arc::new(ChunkCache::new(config.chunk_cache_size));
        let tables = discover_tables(&root, &cache)?;
        let mut cl_config = config.commitlog();
        cl_config.min_segment_id =
            tables.values().filter_map(|t| t.replay_position()).map(|p| p.segment).max().unwrap_or(0);
        let (commitlog, mut replay) = CommitLog::open(cl_config)?;
        let inner = Arc::new(Inner {
            config,
            commitlog,
            tables: RwLock::new(tables),
            cache,
            memtable_bytes: AtomicUsize::new(0),
            flushing_bytes: AtomicUsize::new(0),
            memory_freed: Condvar::new(),
            memory_lock: Mutex::new(()),
            work: Mutex::new(Work::default()),
            work_ready: Condvar::new(),
            writes: AtomicU64::new(0),
            last_flush_error: Mutex::new(None),
        });

        // Replay.
        let mut summary = ReplaySummary::default();
        let positions: HashMap<TableId, Option<crate::commitlog::Position>> =
            inner.tables.read().iter().map(|(id, t)| (*id, t.replay_position())).collect();
        let mut touched = HashSet::new();
        while let Some(entry) = replay.next_entry() {
            let m = match Mutation::decode(&entry.payload) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(segment = entry.position.segment, offset = entry.position.offset, error = %e, "skipping an undecodable commit log entry");
                    summary.undecodable += 1;
                    continue;
                }
            };
            let Some(table) = inner.tables.read().get(&m.table).cloned() else {
                summary.unknown_table += 1;
                continue;
            };
            if positions.get(&m.table).copied().flatten().is_some_and(|p| entry.position <= p) {
                summary.already_flushed += 1;
                continue;
            }
            let added = table.view().memtable.apply(&m.key, m.update);
            inner.memtable_bytes.fetch_add(added, Ordering::Relaxed);
            touched.insert(m.table);
            summary.applied += 1;
        }
        summary.log = replay.into_stats();
        for id in touched {
            inner.flush_table(id)?;
        }
        // Keep segments with damaged entries for the operator instead of deleting them.
        let mut damaged: Vec<&std::path::Path> =
            summary.log.corrupt.iter().map(|c| c.path.as_path()).collect();
        damaged.sort();
        damaged.dedup();
        if !damaged.is_empty() {
            let keep = inner.config.data_directory.join("commitlog_corrupt");
            std::fs::create_dir_all(&keep).at(&keep)?;
            for p in damaged {
                let target = keep.join(p.file_name().unwrap_or_default());
                std::fs::rename(p, &target).at(p)?;
                tracing::error!(segment = %p.display(), kept_at = %target.display(), "commit log segment had damaged entries; kept for inspection");
            }
        }
        inner.commitlog.delete_replayed(&summary.log)?;
        if !summary.log.segments.is_empty() {
            tracing::info!(
                segments = summary.log.segments.len(),
                applied = summary.applied,
                already_flushed = summary.already_flushed,
                corrupt = summary.log.corrupt.len(),
                torn_tails = summary.log.torn_tails.len(),
                "commit log replayed"
            );
        }

        let mut threads = Vec::new();
        let flusher = inner.clone();
        threads.push(
            std::thread::Builder::new()
                .name("flush".into())
                .spawn(move || flusher.flush_worker())
                .map_err(|e| Error::io("flush thread", e))?,
        );
        for i in 0..inner.config.concurrent_compactors.max(1) {
            let c = inner.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("compaction-{i}"))
                    .spawn(move || c.compaction_worker())
                    .map_err(|e| Error::io("compaction thread", e))?,
            );
        }
        let engine = Engine { inner, threads: Mutex::new(threads), replay: summary };
        let ids: Vec<TableId> = engine.inner.tables.read().keys().copied().collect();
        for id in ids {
            engine.inner.schedule_compaction(id);
        }
        Ok(engine)
    }

    /// What start-up replay found.
    pub fn replay_summary(&self) -> &ReplaySummary {
        &self.replay
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The engine clock's current second.
    pub fn now_secs(&self) -> i64 {
        self.inner.config.clock.now_secs()
    }

    /// Creates a table (directory and descriptor).
    pub fn create_table(&self, desc: TableDescriptor) -> Result<()> {
        let mut tables = self.inner.tables.write();
        if tables.contains_key(&desc.id) {
            return Err(Error::TableExists(desc.qualified_name()));
        }
        let t = Table::create(&self.inner.config.sstable_root(), desc, self.inner.cache.clone())?;
        tables.insert(t.id(), t);
        Ok(())
    }

    /// Descriptors of every table.
    pub fn tables(&self) -> Vec<TableDescriptor> {
        self.inner.tables.read().values().map(|t| t.descriptor()).collect()
    }

    /// The table `id`.
    pub fn table(&self, id: TableId) -> Result<Arc<Table>> {
        self.inner.table(id)
    }

    /// Changes a table's options.
    pub fn alter_table(&self, id: TableId, options: TableOptions) -> Result<()> {
        self.inner.table(id)?.set_options(options)
    }

    /// Drops a table and deletes its data.
    pub fn drop_table(&self, id: TableId) -> Result<()> {
        let t = self.inner.tables.write().remove(&id).ok_or_else(|| Error::UnknownTable(id.to_string()))?;
        // No flush or compaction may publish into a dropped table.
        let _g = t.lock_flush();
        t.reserve_all_sstables();
        let dropped = t.view().memtables().map(|m| m.size()).sum::<usize>();
        t.clear();
        self.inner.release_memtable_bytes(dropped);
        self.inner.commitlog.forget_table(id)?;
        let dir = t.dir().to_path_buf();
        drop(_g);
        drop(t);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(dir, e)),
        }
    }

    /// Removes all of a table's data; replay will not bring it back.
    pub fn truncate(&self, id: TableId) -> Result<()> {
        let t = self.inner.table(id)?;
        // No flush may publish and no compaction may swap an output in after the truncation.
        let _g = t.lock_flush();
        let reserved: Vec<u64> = t.reserve_all_sstables().iter().map(|s| s.generation()).collect();
        let dropped = t.view().memtables().map(|m| m.size()).sum::<usize>();
        let result = t.truncate(|| self.inner.commitlog.current_position());
        t.unmark_compacting(&reserved);
        let pos = result?;
        self.inner.release_memtable_bytes(dropped);
        self.inner.commitlog.discard_completed(id, pos)?;
        Ok(())
    }

    /// Applies a mutation: commit log (unless `durable` is false, i.e. `durable_writes =
    /// false`), then memtable; returns once it is as durable as the sync mode promises.
    pub fn apply(&self, m: Mutation, durable: bool) -> Result<()> {
        let inner = &self.inner;
        let table = inner.table(m.table)?;
        inner.wait_for_memory()?;
        thread_local! {
            static ENCODE_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let pos = {
            let view = table.write_guard();
            let pos = if durable {
                let appended = ENCODE_BUF.with_borrow_mut(|buf| {
                    buf.clear();
                    m.encode_into(buf);
                    let r = inner.commitlog.append(m.table, buf);
                    if buf.capacity() > 1 << 20 {
                        *buf = Vec::new();
                    }
                    r
                });
                Some(appended?)
            } else {
                None
            };
            if let Some(p) = pos {
                view.memtable.note_position(p);
            }
            let added = view.memtable.apply(&m.key, m.update);
            // Counted before the view is released, so a flush of this memtable cannot
            // subtract its size first.
            inner.memtable_bytes.fetch_add(added, Ordering::Relaxed);
            pos
        };
        if let Some(p) = pos {
            inner.commitlog.wait_durable(p)?;
        }
        inner.after_write();
        Ok(())
    }

    /// Partition `key` of table `id`, restricted to `slices`, with tombstones (apply
    /// [`Partition::live`] for what a client sees).
    pub fn read(
        &self,
        id: TableId,
        key: &DecoratedKey,
        slices: Option<&[ClusteringRange]>,
    ) -> Result<Option<Partition>> {
        self.inner.table(id)?.read(key, slices)
    }

    /// Partitions of `range` in (token, key) order.
    pub fn scan(&self, id: TableId, range: &KeyRange) -> Result<MergeIterator> {
        self.inner.table(id)?.scan(range)
    }

    /// Partitions of `range` in order as [`PartitionData`]: what a reader walking live rows
    /// wants, since a partition only one SSTable holds is read in place, never decoded.
    pub fn scan_data(&self, id: TableId, range: &KeyRange) -> Result<DataIterator> {
        self.inner.table(id)?.scan_data(range)
    }

    /// Flushes table `id`'s memtable and waits for the SSTable.
    pub fn flush(&self, id: TableId) -> Result<()> {
        self.inner.flush_table(id)
    }

    /// Flushes every table.
    pub fn flush_all(&self) -> Result<()> {
        let ids: Vec<TableId> = self.inner.tables.read().keys().copied().collect();
        for id in ids {
            self.inner.flush_table(id)?;
        }
        Ok(())
    }

    /// Major compaction: every SSTable of the table (each repair pool separately) into one.
    pub fn compact(&self, id: TableId) -> Result<Vec<CompactionSummary>> {
        let t = self.inner.table(id)?;
        let all = t.reserve_all_sstables();
        let now = self.now_secs();
        let mut out = Vec::new();
        let mut first_err = None;
        for group in stcs::pools(&all) {
            match compaction::compact(&t, group, now) {
                Ok(s) => out.push(s),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// User-defined compaction: exactly the SSTables `generations` of table `id`, into one.
    /// Fails if any is unknown or already being compacted.
    pub fn compact_sstables(&self, id: TableId, generations: &[u64]) -> Result<CompactionSummary> {
        let t = self.inner.table(id)?;
        let live = t.view().sstables.clone();
        let group: Vec<_> = live.iter().filter(|s| generations.contains(&s.generation())).cloned().collect();
        if group.len() != generations.len() || group.is_empty() {
            return Err(Error::Invalid(format!(
                "no such SSTables {generations:?} in {}",
                t.descriptor().qualified_name()
            )));
        }
        if stcs::pools(&group).len() > 1 {
            return Err(Error::Invalid(format!(
                "SSTables {generations:?} mix repaired, unrepaired or pending-repair data, which are never compacted together"
            )));
        }
        if !t.try_mark_compacting(generations) {
            return Err(Error::Invalid(format!("SSTables {generations:?} are already being compacted")));
        }
        compaction::compact(&t, group, self.now_secs())
    }

    /// Runs size-tiered compactions of table `id` in this thread until none is due.
    pub fn compact_pending(&self, id: TableId) -> Result<Vec<CompactionSummary>> {
        let t = self.inner.table(id)?;
        let mut out = Vec::new();
        while let Some(group) = self.inner.pick_candidates(&t) {
            out.push(compaction::compact(&t, group, self.now_secs())?);
        }
        Ok(out)
    }

    /// The chunk cache SSTable readers share.
    pub(crate) fn chunk_cache(&self) -> Arc<ChunkCache> {
        self.inner.cache.clone()
    }

    /// Asks the compaction workers to look at table `id` (after its SSTables changed pools).
    pub(crate) fn schedule_compaction(&self, id: TableId) {
        self.inner.schedule_compaction(id);
    }

    /// Live SSTables of table `id`.
    pub fn sstables(&self, id: TableId) -> Result<Vec<Arc<SSTableReader>>> {
        Ok(self.inner.table(id)?.view().sstables.clone())
    }

    /// Commit log disk usage: (bytes, segments).
    pub fn commitlog_usage(&self) -> (u64, usize) {
        self.inner.commitlog.disk_usage()
    }

    /// Bytes held in memtables (active and flushing).
    pub fn memtable_bytes(&self) -> usize {
        self.inner.memtable_bytes.load(Ordering::Relaxed)
    }

    /// Fsyncs the commit log.
    pub fn sync_commitlog(&self) -> Result<()> {
        self.inner.commitlog.sync()
    }

    /// Flushes everything (so that restart replays nothing), then shuts down.
    pub fn drain(&self) -> Result<()> {
        self.flush_all()?;
        self.shutdown()
    }

    /// Stops the workers and syncs and closes the commit log. Idempotent.
    pub fn shutdown(&self) -> Result<()> {
        {
            let mut w = self.inner.work.lock();
            w.shutdown = true;
        }
        self.inner.work_ready.notify_all();
        self.inner.memory_freed.notify_all();
        let threads: Vec<_> = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            let _ = t.join();
        }
        self.inner.commitlog.shutdown()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "storage engine shutdown failed");
        }
    }
}

impl Inner {
    fn table(&self, id: TableId) -> Result<Arc<Table>> {
        self.tables.read().get(&id).cloned().ok_or_else(|| Error::UnknownTable(id.to_string()))
    }

    fn flush_table(&self, id: TableId) -> Result<()> {
        let t = match self.table(id) {
            Ok(t) => t,
            Err(Error::UnknownTable(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let _g = t.lock_flush();
        // Memtables still in `flushing` while we hold the flush lock are ones an earlier flush
        // failed on: they go first, in order, or nothing later may claim their log positions.
        for stuck in t.view().flushing.clone() {
            tracing::warn!(table = %id, "retrying a memtable whose flush failed");
            self.flush_switched(&t, &stuck)?;
        }
        let Some((mt, _)) = t.switch_memtable(|| Some(self.commitlog.current_position())) else {
            return Ok(());
        };
        self.flush_switched(&t, &mt)
    }

    /// Flushes a memtable already switched out, then releases its memory and commit log.
    fn flush_switched(&self, t: &Table, mt: &Arc<crate::memtable::Memtable>) -> Result<()> {
        let size = mt.size();
        let upper = mt.upper();
        self.flushing_bytes.fetch_add(size, Ordering::Relaxed);
        let result = t.flush_memtable(mt, upper);
        self.flushing_bytes.fetch_sub(size, Ordering::Relaxed);
        result?;
        self.release_memtable_bytes(size);
        {
            let _m = self.memory_lock.lock();
            self.memory_freed.notify_all();
        }
        if let Some(p) = upper {
            t.raise_replay_floor(p)?;
            self.commitlog.discard_completed(t.id(), p)?;
        }
        self.schedule_compaction(t.id());
        Ok(())
    }

    /// Blocks while memtables hold more than twice their budget, asking for flushes; fails with
    /// `Overloaded` when no room appears within `write_block_timeout`.
    fn wait_for_memory(&self) -> Result<()> {
        let limit = self.config.memtable_space.saturating_mul(2);
        if self.memtable_bytes.load(Ordering::Relaxed) <= limit {
            return Ok(());
        }
        let deadline = std::time::Instant::now() + self.config.write_block_timeout;
        let mut g = self.memory_lock.lock();
        while self.memtable_bytes.load(Ordering::Relaxed) > limit {
            if self.work.lock().shutdown {
                return Err(Error::Shutdown);
            }
            if std::time::Instant::now() >= deadline {
                let cause =
                    self.last_flush_error.lock().clone().unwrap_or_else(|| "flushes are behind".into());
                return Err(Error::Overloaded(format!(
                    "memtables hold {} bytes, over twice the {} byte budget, for {:?}; last flush error: {cause}",
                    self.memtable_bytes.load(Ordering::Relaxed),
                    self.config.memtable_space,
                    self.config.write_block_timeout
                )));
            }
            self.request_flush_of_largest();
            self.memory_freed.wait_for(&mut g, std::time::Duration::from_millis(50));
        }
        Ok(())
    }

    fn request_flush_of_largest(&self) {
        let largest = self
            .tables
            .read()
            .values()
            .max_by_key(|t| t.memtable_size())
            .map(|t| (t.id(), t.memtable_size()));
        if let Some((id, size)) = largest
            && size > 0
        {
            self.request_flush(id);
        }
    }

    fn request_flush(&self, id: TableId) {
        let mut w = self.work.lock();
        if !w.flush.contains(&id) {
            w.flush.push_back(id);
            self.work_ready.notify_all();
        }
    }

    fn schedule_compaction(&self, id: TableId) {
        if !self.config.background_compaction {
            return;
        }
        let mut w = self.work.lock();
        if !w.compact.contains(&id) {
            w.compact.push_back(id);
            self.work_ready.notify_all();
        }
    }

    /// Subtracts memtable bytes that were dropped or flushed, never below zero.
    fn release_memtable_bytes(&self, bytes: usize) {
        let _ = self
            .memtable_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some(b.saturating_sub(bytes)));
    }

    fn after_write(&self) {
        let active = self
            .memtable_bytes
            .load(Ordering::Relaxed)
            .saturating_sub(self.flushing_bytes.load(Ordering::Relaxed));
        if active > self.config.memtable_space && self.work.lock().flush.is_empty() {
            self.request_flush_of_largest();
        }
        if self.writes.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            for id in self.commitlog.tables_pinning_oldest_segment() {
                self.request_flush(id);
            }
        }
    }

    fn pick_candidates(&self, t: &Table) -> Option<Vec<Arc<SSTableReader>>> {
        let opts = t.options();
        let compacting = t.compacting();
        let free: Vec<_> =
            t.view().sstables.iter().filter(|s| !compacting.contains(&s.generation())).cloned().collect();
        let gc_before = self.config.clock.now_secs() - i64::from(opts.gc_grace_seconds);
        let group = stcs::next_candidates(&free, &opts.compaction, gc_before, now_ms())?;
        let gens: Vec<u64> = group.iter().map(|s| s.generation()).collect();
        t.try_mark_compacting(&gens).then_some(group)
    }

    fn next_work(&self, flush: bool) -> Option<TableId> {
        let mut w = self.work.lock();
        loop {
            if w.shutdown {
                return None;
            }
            let item = if flush { w.flush.pop_front() } else { w.compact.pop_front() };
            if item.is_some() {
                return item;
            }
            self.work_ready.wait(&mut w);
        }
    }

    fn flush_worker(&self) {
        while let Some(id) = self.next_work(true) {
            match self.flush_table(id) {
                Ok(()) => *self.last_flush_error.lock() = None,
                Err(e) => {
                    tracing::error!(table = %id, error = %e, "background flush failed");
                    *self.last_flush_error.lock() = Some(e.to_string());
                }
            }
        }
    }

    fn compaction_worker(&self) {
        while let Some(id) = self.next_work(false) {
            let Ok(t) = self.table(id) else { continue };
            if !t.options().compaction.enabled {
                continue;
            }
            if let Some(group) = self.pick_candidates(&t) {
                match compaction::compact(&t, group, self.config.clock.now_secs()) {
                    Ok(_) => self.schedule_compaction(id),
                    Err(e) => tracing::error!(table = %id, error = %e, "background compaction failed"),
                }
            }
        }
    }
}
