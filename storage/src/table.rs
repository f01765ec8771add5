//! One table's data on this node (Cassandra's ColumnFamilyStore): the active memtable, the
//! memtables being flushed, and the live SSTables, published together as an immutable
//! [`View`] that readers clone cheaply. Writers hold the view lock shared across their commit
//! log append and memtable insert, so a memtable switch (which takes it exclusively) can never
//! separate a write's log position from the memtable that holds it.

use crate::clustering::ClusteringRange;
use crate::commitlog::Position;
use crate::config::{TableDescriptor, TableOptions};
use crate::error::{Error, IoContext, Result};
use crate::memtable::Memtable;
use crate::merge::{DataIterator, MergeIterator, PartitionSource, decoded_source};
use crate::partition::Partition;
use crate::range::KeyRange;
use crate::sstable::cache::ChunkCache;
use crate::sstable::{self, Descriptor, SSTableReader, SSTableWriter, WriterOptions, write_atomic};
use crate::table_id::TableId;
use crate::token::{DecoratedKey, murmur3_x64_128};
use parking_lot::{Condvar, Mutex, RwLock, RwLockReadGuard};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Name of the descriptor file in a table directory.
pub const DESCRIPTOR_FILE: &str = "table.json";

/// What a reader sees of a table at one instant.
#[derive(Debug, Clone)]
pub struct View {
    /// The memtable taking writes.
    pub memtable: Arc<Memtable>,
    /// Memtables switched out and being flushed, oldest first.
    pub flushing: Vec<Arc<Memtable>>,
    /// Live SSTables, oldest first.
    pub sstables: Vec<Arc<SSTableReader>>,
}

impl View {
    /// Every memtable, active first.
    pub fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        std::iter::once(&self.memtable).chain(self.flushing.iter())
    }
}

/// One table's store.
pub struct Table {
    id: TableId,
    dir: PathBuf,
    descriptor: RwLock<TableDescriptor>,
    view: RwLock<Arc<View>>,
    /// Generations being compacted (or otherwise reserved).
    compacting: Mutex<HashSet<u64>>,
    compaction_done: Condvar,
    flush_lock: Mutex<()>,
    next_generation: AtomicU64,
    cache: Arc<ChunkCache>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("id", &self.id).field("dir", &self.dir).finish()
    }
}

/// Prefix of the logs naming compaction inputs to delete.
pub const OBSOLETE_PREFIX: &str = "obsolete-";

/// Processes obsolete logs in `dir`: at start-up (`startup`) deletes the generations they
/// name and the logs; at run time only removes logs whose generations are all gone.
fn finish_obsolete_logs(dir: &Path, startup: bool) -> Result<()> {
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !(name.starts_with(OBSOLETE_PREFIX) && name.ends_with(".log")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).at(&path)?;
        let generations: Vec<u64> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        let live = |g: &u64| Descriptor::new(dir, *g).path(sstable::Component::Toc).exists();
        if startup {
            for g in generations.iter().filter(|g| live(g)) {
                tracing::warn!(dir = %dir.display(), generation = g, "deleting a compaction input left by a crash");
                Descriptor::new(dir, *g).delete()?;
            }
            sstable::sync_dir(dir)?;
        } else if generations.iter().any(live) {
            continue;
        }
        std::fs::remove_file(&path).at(&path)?;
    }
    Ok(())
}

/// Directory name of a table: `<name>-<id without hyphens>`.
pub fn table_dir_name(desc: &TableDescriptor) -> String {
    format!("{}-{}", desc.name, desc.id.simple())
}

impl Table {
    /// Creates the directory and descriptor of a new table.
    pub fn create(root: &Path, desc: TableDescriptor, cache: Arc<ChunkCache>) -> Result<Arc<Table>> {
        let dir = root.join(&desc.keyspace).join(table_dir_name(&desc));
        std::fs::create_dir_all(&dir).at(&dir)?;
        if let Some(parent) = dir.parent() {
            sstable::sync_dir(parent)?;
        }
        let t = Self::open_dir(dir, desc, cache)?;
        t.persist_descriptor()?;
        Ok(t)
    }

    /// Opens an existing table directory (its descriptor already read), first finishing what a
    /// crash interrupted: deleting compaction inputs listed in obsolete logs and SSTables a
    /// TRUNCATE covered, finishing an interrupted repair finalize and returning every other
    /// pending SSTable to unrepaired (see [`crate::repair::state`]).
    pub fn open_dir(dir: PathBuf, desc: TableDescriptor, cache: Arc<ChunkCache>) -> Result<Arc<Table>> {
        finish_obsolete_logs(&dir, true)?;
        let mut generations = sstable::scan_directory(&dir)?;
        if let Some(t) = desc.truncated_generation {
            for g in generations.iter().filter(|g| **g <= t) {
                tracing::warn!(dir = %dir.display(), generation = g, "deleting an SSTable that a TRUNCATE covered");
                Descriptor::new(&dir, *g).delete()?;
            }
            generations.retain(|g| *g > t);
            sstable::sync_dir(&dir)?;
        }
        let mut sstables = Vec::with_capacity(generations.len());
        for g in &generations {
            sstables.push(SSTableReader::open(Descriptor::new(&dir, *g), cache.clone())?);
        }
        crate::repair::state::recover(&dir, &sstables)?;
        // Never reuse a generation a TRUNCATE covered: start-up would delete it.
        let next = generations.last().copied().max(desc.truncated_generation).map_or(1, |g| g + 1);
        Ok(Arc::new(Table {
            id: desc.id,
            dir,
            descriptor: RwLock::new(desc),
            view: RwLock::new(Arc::new(View {
                memtable: Arc::new(Memtable::new()),
                flushing: Vec::new(),
                sstables,
            })),
            compacting: Mutex::new(HashSet::new()),
            compaction_done: Condvar::new(),
            flush_lock: Mutex::new(()),
            next_generation: AtomicU64::new(next),
            cache,
        }))
    }

    /// Reads a table directory's descriptor.
    pub fn read_descriptor(dir: &Path) -> Result<TableDescriptor> {
        let p = dir.join(DESCRIPTOR_FILE);
        let bytes = std::fs::read(&p).at(&p)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::corruption(&p, 0, format!("table descriptor: {e}")))
    }

    fn persist_descriptor(&self) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(&*self.descriptor.read()).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(&self.dir.join(DESCRIPTOR_FILE), &bytes)
    }

    /// The table id.
    pub fn id(&self) -> TableId {
        self.id
    }

    /// The table directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A copy of the descriptor.
    pub fn descriptor(&self) -> TableDescriptor {
        self.descriptor.read().clone()
    }

    /// A copy of the options.
    pub fn options(&self) -> TableOptions {
        self.descriptor.read().options.clone()
    }

    /// Serialises flushes of this table (switch through publish).
    pub fn lock_flush(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.flush_lock.lock()
    }

    /// Raises the replay floor to `pos` (never lowers it) and persists it when it moved.
    pub fn raise_replay_floor(&self, pos: Position) -> Result<()> {
        {
            let mut d = self.descriptor.write();
            let p = (pos.segment, pos.offset);
            if d.replay_floor.is_some_and(|f| f >= p) {
                return Ok(());
            }
            d.replay_floor = Some(p);
        }
        self.persist_descriptor()
    }

    /// TRUNCATE: with writers excluded, takes the commit log position from `position`,
    /// persists it as the replay floor together with the highest generation being removed,
    /// then empties the view. The caller holds the flush lock and has reserved every SSTable.
    /// Returns the position.
    pub fn truncate(&self, position: impl FnOnce() -> Position) -> Result<Position> {
        let mut v = self.view.write();
        let pos = position();
        {
            let mut d = self.descriptor.write();
            let p = (pos.segment, pos.offset);
            d.replay_floor = Some(d.replay_floor.map_or(p, |f| f.max(p)));
            let highest = self.next_generation.load(Ordering::Relaxed).saturating_sub(1);
            d.truncated_generation = Some(highest);
        }
        self.persist_descriptor()?;
        let old = v.sstables.clone();
        *v = Arc::new(View {
            memtable: Arc::new(Memtable::new()),
            flushing: Vec::new(),
            sstables: Vec::new(),
        });
        drop(v);
        for s in &old {
            s.mark_obsolete();
        }
        Ok(pos)
    }

    /// Replaces the options and persists them.
    pub fn set_options(&self, options: TableOptions) -> Result<()> {
        self.descriptor.write().options = options;
        self.persist_descriptor()
    }

    /// The current view.
    pub fn view(&self) -> Arc<View> {
        self.view.read().clone()
    }

    /// The view lock held shared for the length of one write.
    pub fn write_guard(&self) -> RwLockReadGuard<'_, Arc<View>> {
        self.view.read()
    }

    /// The highest commit log position whose data is already in an SSTable.
    pub fn replay_position(&self) -> Option<Position> {
        let truncated = self.descriptor.read().replay_floor;
        self.view()
            .sstables
            .iter()
            .filter_map(|s| s.stats().commitlog_upper)
            .chain(truncated)
            .map(|(segment, offset)| Position { segment, offset })
            .max()
    }

    /// A fresh generation number.
    pub fn next_descriptor(&self) -> Descriptor {
        Descriptor::new(&self.dir, self.next_generation.fetch_add(1, Ordering::Relaxed))
    }

    /// Writer options from the table's options.
    pub fn writer_options(&self, expected_partitions: usize) -> WriterOptions {
        let o = self.options();
        WriterOptions {
            chunk_length: (o.chunk_length_kb.clamp(4, 1024) as usize) * 1024,
            bloom_fp_chance: o.bloom_filter_fp_chance,
            expected_partitions: expected_partitions.max(1),
            ..Default::default()
        }
    }

    /// Switches to a fresh memtable and returns the old one with the commit log position the
    /// switch happened at, or `None` if the active memtable is empty. `position` is called
    /// while writers are excluded.
    pub fn switch_memtable(
        &self,
        position: impl FnOnce() -> Option<Position>,
    ) -> Option<(Arc<Memtable>, Option<Position>)> {
        let mut v = self.view.write();
        if v.memtable.is_empty() {
            return None;
        }
        let pos = position();
        let old = v.memtable.clone();
        old.set_upper(pos);
        let mut flushing = v.flushing.clone();
        flushing.push(old.clone());
        *v = Arc::new(View { memtable: Arc::new(Memtable::new()), flushing, sstables: v.sstables.clone() });
        Some((old, pos))
    }

    /// Writes a switched-out memtable to an SSTable and publishes it. Returns the new reader.
    /// The caller must hold [`Table::lock_flush`] from before the switch until this returns,
    /// so that flushes publish in commit log order.
    pub fn flush_memtable(
        &self,
        memtable: &Arc<Memtable>,
        upper: Option<Position>,
    ) -> Result<Option<Arc<SSTableReader>>> {
        let span = tracing::info_span!("flush", table = %self.descriptor.read().qualified_name());
        let _e = span.enter();
        let mut writer =
            SSTableWriter::create(self.next_descriptor(), self.writer_options(memtable.partition_count()))?;
        memtable.try_for_each(|k, p| writer.append(k, p))?;
        let bounds = match (memtable.first_position(), upper) {
            (Some(lo), Some(hi)) => Some(((lo.segment, lo.offset), (hi.segment, hi.offset))),
            (None, Some(hi)) => Some(((hi.segment, hi.offset), (hi.segment, hi.offset))),
            _ => None,
        };
        let desc = writer.finish(bounds)?;
        let reader = match desc {
            Some(d) => Some(SSTableReader::open(d, self.cache.clone())?),
            None => None,
        };
        let mut v = self.view.write();
        let mut sstables = v.sstables.clone();
        if let Some(r) = &reader {
            sstables.push(r.clone());
            tracing::info!(
                generation = r.generation(),
                partitions = r.partition_count(),
                bytes = r.data_size(),
                "flushed memtable"
            );
        }
        let flushing = v.flushing.iter().filter(|m| !Arc::ptr_eq(m, memtable)).cloned().collect();
        *v = Arc::new(View { memtable: v.memtable.clone(), flushing, sstables });
        Ok(reader)
    }

    /// Adds a published SSTable to the view (imported data). The caller holds
    /// [`Table::lock_flush`], so a TRUNCATE cannot pass in between.
    pub fn publish_sstable(&self, reader: Arc<SSTableReader>) {
        let mut v = self.view.write();
        let mut sstables = v.sstables.clone();
        sstables.push(reader);
        *v = Arc::new(View { memtable: v.memtable.clone(), flushing: v.flushing.clone(), sstables });
    }

    /// Replaces `old` SSTables with `new` ones atomically in the view; the old ones are
    /// marked obsolete (deleted once unreferenced). If any of `old` has left the view meanwhile
    /// (a TRUNCATE), nothing is swapped, `new` is discarded and false is returned.
    pub fn replace_sstables(&self, old: &[Arc<SSTableReader>], new: Vec<Arc<SSTableReader>>) -> bool {
        let gone: HashSet<u64> = old.iter().map(|s| s.generation()).collect();
        {
            let mut v = self.view.write();
            let present = v.sstables.iter().filter(|s| gone.contains(&s.generation())).count();
            if present != gone.len() {
                drop(v);
                for s in &new {
                    s.mark_obsolete();
                }
                return false;
            }
            let mut sstables: Vec<_> =
                v.sstables.iter().filter(|s| !gone.contains(&s.generation())).cloned().collect();
            sstables.extend(new);
            *v = Arc::new(View { memtable: v.memtable.clone(), flushing: v.flushing.clone(), sstables });
        }
        for s in old {
            s.mark_obsolete();
        }
        true
    }

    /// Records that generations `inputs` are replaced by a compaction, so that start-up deletes
    /// any of them a crash leaves behind (inputs go one by one, as readers let go). Also removes
    /// older logs whose generations are all gone.
    pub fn log_obsolete(&self, inputs: &[u64]) -> Result<()> {
        finish_obsolete_logs(&self.dir, false)?;
        let first = inputs.iter().min().copied().unwrap_or(0);
        let body: String = inputs.iter().map(|g| format!("{g}\n")).collect();
        write_atomic(&self.dir.join(format!("{OBSOLETE_PREFIX}{first}.log")), body.as_bytes())
    }

    /// Removes every SSTable and memtable (truncate): returns what was dropped.
    pub fn clear(&self) -> Vec<Arc<SSTableReader>> {
        let mut v = self.view.write();
        let old = v.sstables.clone();
        *v = Arc::new(View {
            memtable: Arc::new(Memtable::new()),
            flushing: Vec::new(),
            sstables: Vec::new(),
        });
        for s in &old {
            s.mark_obsolete();
        }
        old
    }

    /// Reserves SSTables for a compaction; false if any is already reserved.
    pub fn try_mark_compacting(&self, gens: &[u64]) -> bool {
        let mut c = self.compacting.lock();
        if gens.iter().any(|g| c.contains(g)) {
            return false;
        }
        c.extend(gens.iter().copied());
        true
    }

    /// Releases reserved SSTables.
    pub fn unmark_compacting(&self, gens: &[u64]) {
        let mut c = self.compacting.lock();
        for g in gens {
            c.remove(g);
        }
        self.compaction_done.notify_all();
    }

    /// Generations currently reserved.
    pub fn compacting(&self) -> HashSet<u64> {
        self.compacting.lock().clone()
    }

    /// Reserves every live SSTable for which `pred` holds, waiting while compactions hold any
    /// of them. SSTables a finished compaction put in their place are tested (and reserved) in
    /// turn, so when this returns every matching SSTable in the view is reserved. The
    /// reservations are released when the returned guard drops.
    pub fn reserve_sstables(&self, pred: impl Fn(&Arc<SSTableReader>) -> bool) -> Reservation<'_> {
        let mut mine: Vec<Arc<SSTableReader>> = Vec::new();
        let mut c = self.compacting.lock();
        loop {
            let mut blocked = false;
            for s in self.view().sstables.iter().filter(|s| pred(s)) {
                let g = s.generation();
                if mine.iter().any(|m| m.generation() == g) {
                    continue;
                }
                if c.contains(&g) {
                    blocked = true;
                } else {
                    c.insert(g);
                    mine.push(s.clone());
                }
            }
            if !blocked {
                return Reservation { table: self, sstables: mine };
            }
            self.compaction_done.wait(&mut c);
        }
    }

    /// Waits until no compaction holds any SSTable, then reserves all live SSTables.
    pub fn reserve_all_sstables(&self) -> Vec<Arc<SSTableReader>> {
        let mut c = self.compacting.lock();
        while !c.is_empty() {
            self.compaction_done.wait(&mut c);
        }
        let all = self.view().sstables.clone();
        c.extend(all.iter().map(|s| s.generation()));
        all
    }

    /// The partition `key` merged from every memtable and SSTable, restricted to `slices`,
    /// with shadowed data removed (tombstones kept, for reconciliation across replicas).
    pub fn read(&self, key: &DecoratedKey, slices: Option<&[ClusteringRange]>) -> Result<Option<Partition>> {
        let view = self.view();
        let mut out: Option<Partition> = None;
        let mut add = |p: Partition| match &mut out {
            None => out = Some(p),
            Some(o) => o.merge(p),
        };
        for m in view.memtables() {
            if let Some(p) = m.get(key, slices) {
                add(p);
            }
        }
        if !view.sstables.is_empty() {
            let (h1, h2) = murmur3_x64_128(&key.key, 0);
            for s in &view.sstables {
                if let Some(p) = s.get(key, h1, h2)? {
                    add(match slices {
                        None => p,
                        Some(sl) => p.slice(sl),
                    });
                }
            }
        }
        Ok(out.map(|mut p| {
            p.purge_shadowed();
            p
        }))
    }

    /// Partitions of `range` in order, merged across memtables and SSTables.
    pub fn scan(&self, range: &KeyRange) -> Result<MergeIterator> {
        let view = self.view();
        let mut sources: Vec<PartitionSource> = Vec::new();
        for m in view.memtables().filter(|m| !m.is_empty()) {
            sources.push(decoded_source(m.scan(range.clone()).map(Ok)));
        }
        for s in view.sstables.iter().filter(|s| s.intersects(range)) {
            sources.push(Box::new(s.scan(range, true)?.stored()));
        }
        MergeIterator::new(sources)
    }

    /// Partitions of `range` in order as [`crate::PartitionData`]. When one SSTable holds
    /// the whole range (no memtable data, no other SSTable overlapping it) its scan is
    /// returned as it is, with no merge step per partition.
    pub fn scan_data(&self, range: &KeyRange) -> Result<DataIterator> {
        let view = self.view();
        if view.memtables().all(|m| m.is_empty()) {
            let mut hits = view.sstables.iter().filter(|s| s.intersects(range));
            if let (Some(s), None) = (hits.next(), hits.next()) {
                return Ok(DataIterator::single(s.scan(range, true)?.stored()));
            }
        }
        Ok(self.scan(range)?.data())
    }

    /// Bytes held by the active memtable.
    pub fn memtable_size(&self) -> usize {
        self.view.read().memtable.size()
    }
}

/// SSTables reserved by [`Table::reserve_sstables`]; released on drop unless taken out.
pub struct Reservation<'a> {
    table: &'a Table,
    sstables: Vec<Arc<SSTableReader>>,
}

impl Reservation<'_> {
    /// The reserved SSTables, oldest first.
    pub fn sstables(&self) -> &[Arc<SSTableReader>] {
        &self.sstables
    }

    /// Takes SSTable `generation` out of the guard: the caller now owns its reservation (to
    /// hand it to [`crate::compaction::compact`], which releases it).
    pub fn take(&mut self, generation: u64) -> Option<Arc<SSTableReader>> {
        let at = self.sstables.iter().position(|s| s.generation() == generation)?;
        Some(self.sstables.remove(at))
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let gens: Vec<u64> = self.sstables.iter().map(|s| s.generation()).collect();
        self.table.unmark_compacting(&gens);
    }
}
