//! Hinted handoff: the mutations a replica missed, kept on the coordinator's disk until that
//! replica is back. The coordinator calls [`Hints::store`] when a replica is down or does not
//! answer a write in time; the node calls [`Hints::replay`] when the target is seen alive again,
//! [`Hints::pending`] to list what waits and [`Hints::drop_all`] when a node leaves the cluster.
//!
//! `<data>/hints/<target host id>/hints-<seq>.log` are append-only segments; `seq` grows per
//! target. Only the newest segment of a target is ever appended to, and it is closed when it
//! reaches the segment size, when a replay starts and at restart, so a replay reads closed files
//! only while new hints go to a new one. Entries are framed like commit log entries:
//!
//! | where | bytes | content |
//! |---|---|---|
//! | header @0 | 4 | magic `TSHT` |
//! | | 2 | format version, u16 BE (= 1) |
//! | | 8 | segment seq, u64 BE (same as the file name) |
//! | | 4 | CRC32 of the 14 bytes above, u32 BE |
//! | each entry @18.. | 4 | payload length `len`, u32 BE |
//! | | 4 | CRC32 of the 4 length bytes, u32 BE |
//! | | len | payload: created-at (ms since the Unix epoch, u64 BE), flags (u8, bit 0 = the keyspace's `durable_writes`), mutation ([`Mutation::encode_into`]) |
//! | | 4 | CRC32 of the payload, u32 BE |
//!
//! A replay that stops on a failed delivery part-way through a segment leaves
//! `hints-<seq>.offset` (offset of the first undelivered entry, u64 BE, then its CRC32), written
//! under a temporary name and renamed, so a restart does not resend what was delivered.

use anyhow::{Context, Result, anyhow, bail};
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use storage::Mutation;
use uuid::Uuid;

mod segment;
#[cfg(test)]
mod tests;

use segment::{
    Entry, HEADER_LEN, LOG_SUFFIX, OFFSET_SUFFIX, TMP_SUFFIX, encode_entry, encode_header, encode_offset,
    file_name, parse_file_name, read_offset_file, read_segment,
};
pub use segment::{Hint, MAX_HINT_LEN, read_segment_bytes};

/// Hint store settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintsOptions {
    /// Longest time a stored hint waits for its fsync (Cassandra's `hints_flush_period`).
    pub sync_period: Duration,
    /// Size at which a segment is closed and a new one started (a single larger hint still gets
    /// a segment of its own).
    pub segment_size: u64,
}

impl Default for HintsOptions {
    fn default() -> Self {
        HintsOptions { sync_period: Duration::from_secs(1), segment_size: 8 << 20 }
    }
}

/// What one [`Hints::replay`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Hints the send closure accepted (and that are now deleted).
    pub delivered: u64,
    /// Hints older than `max_age`, dropped without sending.
    pub expired: u64,
    /// Hints still stored for the target when the replay returned (the failed one and those
    /// after it, plus any stored while it ran).
    pub remaining: u64,
    /// Damaged entries skipped (never sent), each logged with its file and offset.
    pub corrupt: u64,
}

/// The node's hint store. `Send + Sync`; share it behind an `Arc`.
pub struct Hints {
    shared: Arc<Shared>,
    sync_thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    dir: PathBuf,
    options: HintsOptions,
    targets: Mutex<HashMap<Uuid, Arc<Target>>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// The hints for one target host.
struct Target {
    id: Uuid,
    dir: PathBuf,
    state: Mutex<TargetState>,
    /// Replays of one target run one at a time.
    replay_lock: tokio::sync::Mutex<()>,
}

struct TargetState {
    /// Seq of the next segment created; never reused while the process runs.
    next_seq: u64,
    /// The segment `store` appends to.
    active: Option<Active>,
    /// Segments no longer appended to, by seq: what a replay reads.
    closed: BTreeMap<u64, Closed>,
    /// Closed segments with writes not fsynced yet.
    unsynced: Vec<Arc<File>>,
    /// A segment was created or deleted since the directory was last fsynced.
    dir_unsynced: bool,
    /// The target's directory was created since the hints directory was last fsynced.
    parent_unsynced: bool,
}

struct Active {
    seq: u64,
    path: PathBuf,
    file: Arc<File>,
    size: u64,
    hints: u64,
    unsynced: bool,
}

struct Closed {
    path: PathBuf,
    size: u64,
    /// Offset of the first entry not yet delivered.
    start: u64,
    /// Readable hints from `start` on.
    hints: u64,
}

impl Hints {
    /// Opens (creating) `dir`, one subdirectory per target host id, with default options.
    pub fn open(dir: &Path) -> Result<Hints> {
        Hints::open_with(dir, HintsOptions::default())
    }

    /// Opens (creating) `dir` and reads every segment to count its hints, then starts the
    /// `hints-sync` thread. Blocking disk work: call it off the async runtime. Segments left by
    /// the previous run are never appended to. Files shorter than a header (a crash right after
    /// creation), stray temporary files and offset files without a segment are deleted; a
    /// segment with an unusable header is logged and left alone (until [`Hints::drop_all`]).
    pub fn open_with(dir: &Path, options: HintsOptions) -> Result<Hints> {
        if options.sync_period.is_zero() {
            bail!("hints sync period must be positive");
        }
        fs::create_dir_all(dir).with_context(|| format!("creating hints directory {}", dir.display()))?;
        let mut targets = HashMap::new();
        for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            let path = entry.path();
            let id = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| Uuid::parse_str(n).ok().filter(|id| id.hyphenated().to_string() == n));
            match id {
                Some(id) if entry.file_type().is_ok_and(|t| t.is_dir()) => {
                    targets.insert(id, Arc::new(Target::load(id, path)?));
                }
                _ => tracing::debug!(path = %path.display(), "ignoring non-target entry in hints directory"),
            }
        }
        let (hints, bytes) =
            targets.values().map(|t| t.state.lock().totals()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        tracing::info!(dir = %dir.display(), targets = targets.len(), hints, bytes, "hints opened");
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            options,
            targets: Mutex::new(targets),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("hints-sync".into())
            .spawn(move || thread_shared.run_sync_thread())
            .context("starting the hints sync thread")?;
        Ok(Hints { shared, sync_thread: Mutex::new(Some(handle)) })
    }

    /// Appends a hint for `target`: the mutation and its keyspace's `durable_writes` flag,
    /// stamped with now.
    ///
    /// Not durable on return: the entry is handed to the OS at once (one `write`, so another
    /// process or a restart of this one sees it), but fsynced by the `hints-sync` thread within
    /// `sync_period`, as Cassandra does, so a power loss can lose the last period of hints.
    /// That keeps `store` cheap; it blocks only on the target's append lock and, once per
    /// segment, on creating a file. Fails for a hint above [`MAX_HINT_LEN`] or on an I/O error
    /// (after which the next store starts a new segment).
    pub fn store(&self, target: Uuid, m: &Mutation, durable: bool) -> Result<()> {
        self.store_at(target, m, durable, now_ms())
    }

    fn store_at(&self, target: Uuid, m: &Mutation, durable: bool, created_ms: u64) -> Result<()> {
        let entry = encode_entry(created_ms, durable, m)?;
        let t = self.shared.target(target);
        let mut st = t.state.lock();
        st.append(&t.dir, &entry, self.shared.options.segment_size)
            .with_context(|| format!("storing a hint for {target} in {}", t.dir.display()))
    }

    /// Targets with hints waiting, sorted by host id, with how many hints and the bytes of
    /// their segment files on disk (delivered entries of a part-delivered segment included).
    pub fn pending(&self) -> Vec<(Uuid, u64, u64)> {
        let mut out: Vec<_> = self
            .shared
            .all_targets()
            .iter()
            .filter_map(|t| {
                let (hints, bytes) = t.state.lock().totals();
                (hints > 0).then_some((t.id, hints, bytes))
            })
            .collect();
        out.sort_by_key(|(id, ..)| *id);
        out
    }

    /// Delivers every hint stored for `target` before the call, oldest first, through `send`,
    /// and deletes what was delivered. Stops at the first `Err` from `send`, keeping that hint
    /// and the rest for the next replay; a hint `send` accepted is never sent again unless the
    /// process crashes before the segment holding it is finished (delivery is at least once,
    /// which idempotent mutations allow). Hints older than `max_age` are dropped unsent; damaged
    /// entries are skipped and logged. Replays of one target run one at a time; stores may go
    /// on meanwhile (into a new segment, counted in `remaining`). Disk work runs on
    /// `spawn_blocking`, so this needs a tokio runtime. Cancelling it is safe.
    pub async fn replay<F, Fut>(&self, target: Uuid, max_age: Duration, mut send: F) -> Result<ReplayStats>
    where
        F: FnMut(Mutation, bool) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let mut stats = ReplayStats::default();
        let Some(t) = self.shared.get(target) else { return Ok(stats) };
        let _one_at_a_time = t.replay_lock.lock().await;
        let segments: Vec<(u64, PathBuf, u64)> = {
            let mut st = t.state.lock();
            st.close_active();
            st.closed.iter().map(|(seq, c)| (*seq, c.path.clone(), c.start)).collect()
        };
        let max_age_ms = u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX);
        for (seq, path, start) in segments {
            let read_path = path.clone();
            let walk = match blocking(move || read_segment(&read_path, seq, start)).await? {
                Ok(w) => w,
                Err(e) if e.kind() == ErrorKind::NotFound => continue, // dropped meanwhile
                Err(e) => {
                    tracing::error!(target = %target, file = %path.display(), error = %e, "cannot read hint file; keeping it");
                    continue;
                }
            };
            if let Err(reason) = &walk.header {
                tracing::error!(target = %target, file = %path.display(), %reason, "hint file has an unusable header; keeping it");
                continue;
            }
            stats.corrupt += walk.corrupt;
            let total = walk.entries.len() as u64;
            for (i, entry) in (0u64..).zip(walk.entries) {
                let Entry { offset, end, hint } = entry;
                if now_ms().saturating_sub(hint.created_ms) > max_age_ms {
                    stats.expired += 1;
                } else {
                    if !t.has_segment(seq) {
                        // drop_all ran meanwhile: the target is gone.
                        stats.remaining = t.state.lock().totals().0;
                        return Ok(stats);
                    }
                    if let Err(reason) = send(hint.mutation, hint.durable).await {
                        t.record_progress(seq, offset, total - i);
                        let tp = Arc::clone(&t);
                        if let Err(e) = blocking(move || tp.persist_offset(seq, offset)).await? {
                            tracing::warn!(target = %target, error = %e, "cannot record hint replay progress; a restart will resend");
                        }
                        stats.remaining = t.state.lock().totals().0;
                        tracing::info!(
                            target = %target, file = %path.display(), offset, %reason, delivered = stats.delivered,
                            expired = stats.expired, remaining = stats.remaining, "hint delivery failed; keeping the rest"
                        );
                        return Ok(stats);
                    }
                    stats.delivered += 1;
                }
                t.record_progress(seq, end, total - i - 1);
            }
            let tr = Arc::clone(&t);
            blocking(move || tr.remove_segment(seq)).await?;
        }
        stats.remaining = t.state.lock().totals().0;
        if stats != ReplayStats::default() {
            tracing::info!(
                target = %target, delivered = stats.delivered, expired = stats.expired, corrupt = stats.corrupt,
                remaining = stats.remaining, "hint replay finished"
            );
        }
        Ok(stats)
    }

    /// Removes every hint for `target` (a node removed from the cluster), with its directory.
    /// A replay running for it stops before its next send.
    pub fn drop_all(&self, target: Uuid) -> Result<()> {
        let Some(t) = self.shared.get(target) else { return Ok(()) };
        // Under the lock, so no store can create a segment that the deletion then misses.
        let mut st = t.state.lock();
        let (hints, bytes) = st.totals();
        st.active = None;
        st.closed.clear();
        st.unsynced.clear();
        st.dir_unsynced = false;
        match fs::read_dir(&t.dir) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.with_context(|| format!("listing {}", t.dir.display()))?.path();
                    remove_if_present(&path)?;
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("listing {}", t.dir.display())),
        }
        match fs::remove_dir(&t.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", t.dir.display())),
        }
        sync_dir(&self.shared.dir)?;
        tracing::info!(target = %target, hints, bytes, "dropped all hints");
        Ok(())
    }

    /// Fsyncs every hint stored so far (the sync thread does this every `sync_period`).
    pub fn sync(&self) -> Result<()> {
        self.shared.sync_all()
    }
}

impl Drop for Hints {
    fn drop(&mut self) {
        *self.shared.stop.lock() = true;
        self.shared.wake.notify_all();
        if let Some(handle) = self.sync_thread.get_mut().take()
            && handle.join().is_err()
        {
            tracing::error!("hints sync thread panicked");
        }
        if let Err(e) = self.shared.sync_all() {
            tracing::error!(error = %e, "hints sync on shutdown failed");
        }
    }
}

impl std::fmt::Debug for Hints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hints").field("dir", &self.shared.dir).field("options", &self.shared.options).finish()
    }
}

impl Shared {
    /// The target `id`, created (empty) if unknown.
    fn target(&self, id: Uuid) -> Arc<Target> {
        let mut targets = self.targets.lock();
        let t =
            targets.entry(id).or_insert_with(|| Arc::new(Target::new(id, self.dir.join(id.to_string()), 1)));
        Arc::clone(t)
    }

    fn get(&self, id: Uuid) -> Option<Arc<Target>> {
        self.targets.lock().get(&id).cloned()
    }

    fn all_targets(&self) -> Vec<Arc<Target>> {
        self.targets.lock().values().cloned().collect()
    }

    fn run_sync_thread(&self) {
        let mut stop = self.stop.lock();
        while !*stop {
            self.wake.wait_for(&mut stop, self.options.sync_period);
            if *stop {
                break;
            }
            MutexGuard::unlocked(&mut stop, || {
                if let Err(e) = self.sync_all() {
                    tracing::error!(error = %e, "hints fsync failed; hints stored lately may not survive a power loss");
                }
            });
        }
    }

    /// Syncs every target, returning the first error after trying them all.
    fn sync_all(&self) -> Result<()> {
        let mut result = Ok(());
        for t in self.all_targets() {
            if let Err(e) = t.sync()
                && result.is_ok()
            {
                result = Err(e);
            }
        }
        result
    }
}

impl Target {
    fn new(id: Uuid, dir: PathBuf, next_seq: u64) -> Target {
        let state = TargetState {
            next_seq,
            active: None,
            closed: BTreeMap::new(),
            unsynced: Vec::new(),
            dir_unsynced: false,
            parent_unsynced: false,
        };
        Target { id, dir, state: Mutex::new(state), replay_lock: tokio::sync::Mutex::new(()) }
    }

    /// Reads the segments in `dir` left by an earlier run.
    fn load(id: Uuid, dir: PathBuf) -> Result<Target> {
        let mut logs = BTreeMap::new();
        let mut offsets = BTreeMap::new();
        let mut max_seq = 0;
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if name.ends_with(TMP_SUFFIX) {
                // An offset file whose write a crash interrupted.
                remove_if_present(&path)?;
            } else if let Some(seq) = parse_file_name(name, LOG_SUFFIX) {
                max_seq = max_seq.max(seq);
                logs.insert(seq, path);
            } else if let Some(seq) = parse_file_name(name, OFFSET_SUFFIX) {
                offsets.insert(seq, path);
            } else {
                tracing::debug!(path = %path.display(), "ignoring unknown file in hints directory");
            }
        }
        for (seq, path) in &offsets {
            if !logs.contains_key(seq) {
                remove_if_present(path)?;
            }
        }
        let target = Target::new(id, dir, max_seq.saturating_add(1));
        let mut st = target.state.lock();
        for (seq, path) in logs {
            let start = offsets.get(&seq).and_then(|p| read_offset_file(p)).unwrap_or(HEADER_LEN as u64);
            let walk = match read_segment(&path, seq, start) {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "cannot read hint file; leaving it alone");
                    continue;
                }
            };
            if walk.size < HEADER_LEN as u64 {
                tracing::info!(file = %path.display(), bytes = walk.size, "removing hint file with a torn header");
                remove_if_present(&path)?;
                if let Some(p) = offsets.get(&seq) {
                    remove_if_present(p)?;
                }
                continue;
            }
            if let Err(reason) = &walk.header {
                tracing::error!(file = %path.display(), %reason, "hint file has an unusable header; leaving it alone");
                continue;
            }
            let hints = walk.entries.len() as u64;
            st.closed.insert(seq, Closed { path, size: walk.size, start, hints });
        }
        drop(st);
        Ok(target)
    }

    fn has_segment(&self, seq: u64) -> bool {
        self.state.lock().closed.contains_key(&seq)
    }

    /// Everything before `start` in segment `seq` is delivered; `hints` remain after it.
    fn record_progress(&self, seq: u64, start: u64, hints: u64) {
        if let Some(c) = self.state.lock().closed.get_mut(&seq) {
            c.start = start;
            c.hints = hints;
        }
    }

    /// Writes `hints-<seq>.offset`. Not fsynced: losing it only makes a restart resend.
    fn persist_offset(&self, seq: u64, offset: u64) -> Result<()> {
        let st = self.state.lock();
        if !st.closed.contains_key(&seq) {
            return Ok(());
        }
        let path = self.dir.join(file_name(seq, OFFSET_SUFFIX));
        let tmp = self.dir.join(format!("{}{TMP_SUFFIX}", file_name(seq, OFFSET_SUFFIX)));
        fs::write(&tmp, encode_offset(offset)).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        drop(st);
        Ok(())
    }

    /// Deletes the fully delivered segment `seq` and its offset file. On failure the segment
    /// stays listed (with no hints left) and the next replay tries again.
    fn remove_segment(&self, seq: u64) {
        let mut st = self.state.lock();
        let Some(c) = st.closed.get(&seq) else { return };
        let offset_path = self.dir.join(file_name(seq, OFFSET_SUFFIX));
        // The segment first: an offset file left alone is removed at the next open.
        let result = remove_if_present(&c.path).and_then(|()| remove_if_present(&offset_path));
        match result {
            Ok(()) => {
                st.closed.remove(&seq);
                st.dir_unsynced = true;
            }
            Err(e) => tracing::warn!(target = %self.id, error = %e, "cannot delete delivered hint file"),
        }
    }

    /// Fsyncs the segments written since the last sync, then the directories that changed.
    fn sync(&self) -> Result<()> {
        let (files, dir, parent) = {
            let mut st = self.state.lock();
            let mut files = std::mem::take(&mut st.unsynced);
            if let Some(a) = st.active.as_mut()
                && a.unsynced
            {
                a.unsynced = false;
                files.push(Arc::clone(&a.file));
            }
            (files, std::mem::take(&mut st.dir_unsynced), std::mem::take(&mut st.parent_unsynced))
        };
        let mut result = Ok(());
        for f in &files {
            if let Err(e) = f.sync_data()
                && result.is_ok()
            {
                result = Err(anyhow!(e).context(format!("fsync of a hint file in {}", self.dir.display())));
            }
        }
        let parent_dir = self.dir.parent().filter(|_| parent);
        for d in [Some(self.dir.as_path()).filter(|_| dir), parent_dir].into_iter().flatten() {
            // The target's directory is gone when drop_all removed it: nothing to sync.
            if let Err(e) = sync_dir(d)
                && self.dir.exists()
                && result.is_ok()
            {
                result = Err(e);
            }
        }
        result
    }
}

impl TargetState {
    /// Appends one framed entry, closing a full segment first and opening one if needed.
    fn append(&mut self, dir: &Path, entry: &[u8], segment_size: u64) -> Result<()> {
        let len = entry.len() as u64;
        if self.active.as_ref().is_some_and(|a| a.hints > 0 && a.size + len > segment_size) {
            self.close_active();
        }
        if self.active.is_none() {
            let a = self.create_segment(dir)?;
            self.active = Some(a);
        }
        let a = self.active.as_mut().ok_or_else(|| anyhow!("no active hint segment"))?;
        if let Err(e) = (&*a.file).write_all(entry) {
            let path = a.path.display().to_string();
            // Part of the entry may be there: never append after it.
            self.close_active();
            return Err(anyhow!(e).context(format!("appending to {path}")));
        }
        a.size += len;
        a.hints += 1;
        a.unsynced = true;
        Ok(())
    }

    fn create_segment(&mut self, dir: &Path) -> Result<Active> {
        match fs::create_dir(dir) {
            // Its entry in the hints directory must reach the disk for the hints in it to.
            Ok(()) => self.parent_unsynced = true,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let path = dir.join(file_name(seq, LOG_SUFFIX));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        if let Err(e) = file.write_all(&encode_header(seq)) {
            // Best effort: a header-less file is removed at the next open anyway.
            let _ = fs::remove_file(&path);
            return Err(e).with_context(|| format!("writing the header of {}", path.display()));
        }
        self.dir_unsynced = true;
        Ok(Active { seq, path, file: Arc::new(file), size: HEADER_LEN as u64, hints: 0, unsynced: true })
    }

    /// Moves the active segment, if any, to the closed ones.
    fn close_active(&mut self) {
        if let Some(a) = self.active.take() {
            if a.unsynced {
                self.unsynced.push(a.file);
            }
            let closed = Closed { path: a.path, size: a.size, start: HEADER_LEN as u64, hints: a.hints };
            self.closed.insert(a.seq, closed);
        }
    }

    /// Hints waiting and bytes of segment files.
    fn totals(&self) -> (u64, u64) {
        let (mut hints, mut bytes) = self.closed.values().fold((0, 0), |(h, b), c| (h + c.hints, b + c.size));
        if let Some(a) = &self.active {
            hints += a.hints;
            bytes += a.size;
        }
        (hints, bytes)
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync of directory {}", dir.display()))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs disk work off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| anyhow!("hints disk task failed: {e}"))
}
