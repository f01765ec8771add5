//! The commit log's write path: the buffered state writers append to, roll-over to a new
//! segment, writing out and fsyncing (group commit), poisoning, and the `commitlog-sync` thread.
//!
//! Lock order: `io` before `state`. Writers hold `state` only to copy an entry into the buffer;
//! a sync holds `io` for its whole run and `state` only to swap buffers out and to publish the
//! new `synced` position, so appends continue while an fsync runs and bytes stay in order.

use super::segment;
use super::{CommitLogConfig, Position, SyncMode};
use crate::TableId;
use crate::error::{Error, IoContext, Result};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `append` writes the buffer out to the OS (without fsync) once this much is pending.
pub(super) const WRITE_OUT_THRESHOLD: usize = 64 * 1024;
/// In batch mode the sync thread still syncs this often, for entries nobody waits on.
const BATCH_BACKSTOP: Duration = Duration::from_secs(10);

/// What the sync thread shares with the log.
pub(super) struct Inner {
    pub(super) dir: PathBuf,
    pub(super) segment_size: u64,
    pub(super) max_payload: usize,
    pub(super) sync: SyncMode,
    pub(super) total_space: u64,
    /// Taken briefly by writers; never held across a syscall except segment creation.
    pub(super) state: Mutex<State>,
    /// Serialises writes to the files, so bytes reach them in order. Taken before `state`.
    pub(super) io: Mutex<()>,
    /// Signalled when `synced` advances, on poisoning and on shutdown.
    pub(super) synced_cv: Condvar,
    /// Wakes the sync thread for shutdown.
    pub(super) wake_cv: Condvar,
    /// Test hook: the next fsync fails.
    #[cfg(test)]
    pub(super) fail_next_sync: std::sync::atomic::AtomicBool,
}

pub(super) struct State {
    /// The segment receiving appends.
    pub(super) active: Active,
    /// Rolled-over segments whose last bytes are not yet fsynced, oldest first.
    pub(super) sealed: Vec<Sealed>,
    /// Every segment this log wrote and still keeps (including the active one), by id.
    pub(super) segments: BTreeMap<u64, SegmentMeta>,
    /// Old segments handed out for replay and not yet deleted, with their sizes.
    pub(super) replay_files: Vec<(PathBuf, u64)>,
    /// A cleared buffer to swap in for the active one when it is written out.
    pub(super) spare: Vec<u8>,
    /// Everything before this position is written and fsynced.
    pub(super) synced: Position,
    /// A thread has claimed the next sync (group commit leader election).
    pub(super) sync_in_progress: bool,
    /// When the last sync completed (or found nothing to do).
    pub(super) last_sync_done: Instant,
    /// Segments were created since the directory was last fsynced.
    pub(super) dir_unsynced: bool,
    /// fsync calls made (segment files and directory).
    pub(super) sync_count: u64,
    /// The text of the write or fsync error that stopped the log.
    pub(super) poisoned: Option<String>,
    pub(super) shutdown: bool,
}

pub(super) struct Active {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) file: Arc<File>,
    /// Bytes assigned in the segment, buffered or not; the next entry starts here.
    pub(super) size: u32,
    /// Bytes appended but not yet written to the file.
    pub(super) buf: Vec<u8>,
}

pub(super) struct Sealed {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) file: Arc<File>,
    pub(super) buf: Vec<u8>,
}

pub(super) struct SegmentMeta {
    pub(super) path: PathBuf,
    /// Final size; for the active segment see `Active::size`.
    pub(super) size: u64,
    /// Tables with entries in the segment, each with the end offset of its last entry.
    pub(super) dirty: HashMap<TableId, u32>,
}

impl State {
    pub(super) fn position(&self) -> Position {
        Position { segment: self.active.id, offset: self.active.size }
    }

    pub(super) fn check_usable(&self) -> Result<()> {
        match &self.poisoned {
            Some(p) => Err(Error::Poisoned(p.clone())),
            None => Ok(()),
        }
    }

    /// Bytes and count of the segment files kept.
    pub(super) fn usage(&self) -> (u64, usize) {
        let written: u64 = self
            .segments
            .iter()
            .map(|(id, m)| if *id == self.active.id { u64::from(self.active.size) } else { m.size })
            .sum();
        let replay: u64 = self.replay_files.iter().map(|(_, s)| *s).sum();
        (written + replay, self.segments.len() + self.replay_files.len())
    }
}

impl Inner {
    /// The write state of a new log whose first segment follows segment `last_id`.
    pub(super) fn create(
        config: &CommitLogConfig,
        last_id: u64,
        replay_files: Vec<(PathBuf, u64)>,
    ) -> Result<Inner> {
        let (active, meta) = create_segment(&config.dir, next_segment_id(last_id))?;
        let mut segments = BTreeMap::new();
        segments.insert(active.id, meta);
        let state = State {
            synced: Position { segment: active.id, offset: 0 },
            active,
            sealed: Vec::new(),
            segments,
            replay_files,
            spare: Vec::new(),
            sync_in_progress: false,
            last_sync_done: Instant::now(),
            dir_unsynced: true,
            sync_count: 0,
            poisoned: None,
            shutdown: false,
        };
        Ok(Inner {
            dir: config.dir.clone(),
            segment_size: config.segment_size,
            max_payload: usize::try_from(segment::max_payload_len(config.segment_size)).unwrap_or(usize::MAX),
            sync: config.sync,
            total_space: config.total_space,
            state: Mutex::new(state),
            io: Mutex::new(()),
            synced_cv: Condvar::new(),
            wake_cv: Condvar::new(),
            #[cfg(test)]
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Refuses appends to a shut-down or poisoned log and, in periodic mode, holds them while
    /// syncs lag more than 1.5 periods behind.
    pub(super) fn admit(&self, st: &mut MutexGuard<'_, State>) -> Result<()> {
        let mut warned = false;
        loop {
            if st.shutdown {
                return Err(Error::Shutdown);
            }
            st.check_usable()?;
            let SyncMode::Periodic { period } = self.sync else { return Ok(()) };
            let max_lag = period * 3 / 2;
            let lag = st.last_sync_done.elapsed();
            if lag <= max_lag {
                return Ok(());
            }
            if !warned {
                tracing::warn!(
                    lag_ms = lag.as_millis() as u64,
                    "commit log sync is lagging; blocking writes"
                );
                warned = true;
            }
            self.synced_cv.wait_for(st, period.max(Duration::from_millis(1)));
        }
    }

    /// Seals the active segment and starts the next one.
    pub(super) fn roll(&self, st: &mut State) -> Result<()> {
        let (active, meta) = create_segment(&self.dir, next_segment_id(st.active.id))?;
        let id = active.id;
        let old = std::mem::replace(&mut st.active, active);
        if let Some(m) = st.segments.get_mut(&old.id) {
            m.size = u64::from(old.size);
        }
        st.sealed.push(Sealed { id: old.id, path: old.path, file: old.file, buf: old.buf });
        st.segments.insert(id, meta);
        st.dir_unsynced = true;
        tracing::debug!(sealed = old.id, segment = id, "commit log segment rolled over");
        Ok(())
    }

    /// Makes everything before `pos` durable. The first caller to find no sync in progress
    /// performs one covering everything appended so far; the others wait for it.
    pub(super) fn sync_upto(&self, pos: Position) -> Result<()> {
        let mut st = self.state.lock();
        loop {
            st.check_usable()?;
            if st.synced >= pos {
                return Ok(());
            }
            if st.sync_in_progress {
                self.synced_cv.wait(&mut st);
                continue;
            }
            st.sync_in_progress = true;
            let result = MutexGuard::unlocked(&mut st, || self.write_and_fsync());
            st.sync_in_progress = false;
            self.synced_cv.notify_all();
            result?;
        }
    }

    /// Writes every buffered byte (sealed segments first), fsyncs the files concerned and, if
    /// segments were created, the directory; then advances `synced`. A failure poisons the log.
    fn write_and_fsync(&self) -> Result<()> {
        let _io = self.io.lock();
        let (sealed, active, target, dir_too) = {
            let mut st = self.state.lock();
            st.check_usable()?;
            let target = st.position();
            if st.synced >= target {
                st.last_sync_done = Instant::now();
                return Ok(());
            }
            let spare = std::mem::take(&mut st.spare);
            let buf = std::mem::replace(&mut st.active.buf, spare);
            let active = (Arc::clone(&st.active.file), st.active.path.clone(), buf);
            (std::mem::take(&mut st.sealed), active, target, std::mem::take(&mut st.dir_unsynced))
        };
        let mut fsyncs = 0;
        let result = (|| {
            for s in &sealed {
                write_all(&s.file, &s.path, &s.buf)?;
                self.fsync(&s.file, &s.path)?;
                fsyncs += 1;
            }
            write_all(&active.0, &active.1, &active.2)?;
            self.fsync(&active.0, &active.1)?;
            fsyncs += 1;
            if dir_too {
                sync_dir(&self.dir)?;
                fsyncs += 1;
            }
            Ok(())
        })();
        let mut st = self.state.lock();
        st.sync_count += fsyncs;
        match result {
            Ok(()) => {
                st.synced = st.synced.max(target);
                st.last_sync_done = Instant::now();
                recycle(&mut st, active.2);
                Ok(())
            }
            Err(e) => Err(self.poison(&mut st, e)),
        }
    }

    /// Writes the buffered bytes to the OS without fsync, unless a sync is already writing.
    pub(super) fn try_write_out(&self) -> Result<()> {
        let Some(_io) = self.io.try_lock() else { return Ok(()) };
        let mut jobs = Vec::new();
        {
            let mut st = self.state.lock();
            st.check_usable()?;
            for s in &mut st.sealed {
                if !s.buf.is_empty() {
                    jobs.push((Arc::clone(&s.file), s.path.clone(), std::mem::take(&mut s.buf)));
                }
            }
            let spare = std::mem::take(&mut st.spare);
            let buf = std::mem::replace(&mut st.active.buf, spare);
            jobs.push((Arc::clone(&st.active.file), st.active.path.clone(), buf));
        }
        let result = jobs.iter().try_for_each(|(file, path, buf)| write_all(file, path, buf));
        let mut st = self.state.lock();
        match result {
            Ok(()) => {
                if let Some((_, _, buf)) = jobs.pop() {
                    recycle(&mut st, buf);
                }
                Ok(())
            }
            Err(e) => Err(self.poison(&mut st, e)),
        }
    }

    /// fsyncs one segment file. Never retried: after a failed fsync the kernel may have dropped
    /// the dirty pages, so a later success would prove nothing (PostgreSQL's "fsyncgate").
    fn fsync(&self, file: &File, path: &Path) -> Result<()> {
        #[cfg(test)]
        if self.fail_next_sync.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::io(path, std::io::Error::other("injected fsync failure")));
        }
        file.sync_data().at(path)
    }

    /// Records the first write or fsync failure; every later append and wait fails with it.
    pub(super) fn poison(&self, st: &mut State, e: Error) -> Error {
        if st.poisoned.is_none() {
            tracing::error!(error = %e, "commit log write failed; refusing all further writes");
            st.poisoned = Some(e.to_string());
        }
        self.synced_cv.notify_all();
        self.wake_cv.notify_all();
        e
    }

    /// Deletes segment files and fsyncs the directory. Missing files are not an error.
    pub(super) fn remove_files(&self, paths: &[PathBuf]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut first_err = None;
        for p in paths {
            match std::fs::remove_file(p) {
                Ok(()) => tracing::debug!(segment = %p.display(), "commit log segment deleted"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(segment = %p.display(), error = %e, "cannot delete commit log segment");
                    first_err.get_or_insert(Error::io(p, e));
                }
            }
        }
        sync_dir(&self.dir)?;
        first_err.map_or(Ok(()), Err)
    }

    /// The `commitlog-sync` thread: syncs every period (periodic), every window (group), or
    /// every [`BATCH_BACKSTOP`] (batch, for entries nobody waited on) until shutdown.
    pub(super) fn run_sync_thread(self: Arc<Self>) {
        let interval = match self.sync {
            SyncMode::Periodic { period } => period,
            SyncMode::Group { window } => window,
            SyncMode::Batch => BATCH_BACKSTOP,
        };
        let mut next = Instant::now() + interval;
        loop {
            let target = {
                let mut st = self.state.lock();
                while !st.shutdown && st.poisoned.is_none() && Instant::now() < next {
                    self.wake_cv.wait_until(&mut st, next);
                }
                if st.shutdown || st.poisoned.is_some() {
                    return;
                }
                if st.synced >= st.position() {
                    // Idle: nothing is waiting to be synced, so the log is as fresh as a sync
                    // would make it (keeps periodic appends from blocking after a quiet spell).
                    st.last_sync_done = Instant::now();
                }
                st.position()
            };
            if let Err(e) = self.sync_upto(target) {
                tracing::error!(error = %e, "commit log sync thread stopping");
                return;
            }
            // Fixed rate; when a sync overran its slot, start the next one at once.
            next = (next + interval).max(Instant::now());
        }
    }
}

/// Puts a written-out buffer back as the spare, keeping its allocation.
fn recycle(st: &mut State, mut buf: Vec<u8>) {
    if st.spare.capacity() < buf.capacity() {
        buf.clear();
        st.spare = buf;
    }
}

/// The id of the segment after `last`: max(now in ms, last + 1).
fn next_segment_id(last: u64) -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    now.max(last.saturating_add(1))
}

/// Creates segment `id`'s file; its header waits in the buffer for the next write.
fn create_segment(dir: &Path, id: u64) -> Result<(Active, SegmentMeta)> {
    let path = dir.join(segment::file_name(id));
    let file = OpenOptions::new().write(true).create_new(true).open(&path).at(&path)?;
    let header = segment::encode_header(id);
    let active = Active {
        id,
        path: path.clone(),
        file: Arc::new(file),
        size: segment::HEADER_LEN as u32,
        buf: header.to_vec(),
    };
    Ok((active, SegmentMeta { path, size: header.len() as u64, dirty: HashMap::new() }))
}

fn write_all(mut file: &File, path: &Path, buf: &[u8]) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    file.write_all(buf).at(path)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}
