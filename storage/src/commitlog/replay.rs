//! Reading old commit log segments back after a restart.
//!
//! [`super::CommitLog::open`] lists the segments left by the previous run and hands them out as
//! a [`Replay`], which yields every intact entry in (segment id, offset) order. Damage never
//! stops replay and never panics: a bad header skips its segment, a bad entry followed by a
//! valid one is recorded as a [`CorruptEntry`] and skipped, a bad entry with nothing valid
//! after it is a torn tail (the expected result of a crash) and ends its segment, and a segment
//! that cannot be read is recorded in [`ReplayStats::unreadable`]. Each segment is read into
//! memory whole (at most one segment at a time); payloads are zero-copy slices of it.

use super::Position;
use super::segment::{self, EntryCheck, HEADER_LEN};
use crate::error::{IoContext, Result};
use bytes::Bytes;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// One entry read back from an old segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayEntry {
    /// The position just after the entry, as `append` returned it.
    pub position: Position,
    /// The bytes that were appended.
    pub payload: Bytes,
}

/// A damaged entry (or segment header, at offset 0) that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptEntry {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset of the damaged entry's start (0 for a header).
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
}

/// What a replay found.
#[derive(Debug, Default, Clone)]
pub struct ReplayStats {
    /// Every segment file handed out for replay, in id order (whatever became of it).
    pub segments: Vec<PathBuf>,
    /// Entries returned so far.
    pub entries: u64,
    /// Damaged entries and headers that were skipped; valid data followed each of them.
    pub corrupt: Vec<CorruptEntry>,
    /// Segments that ended in an incomplete entry, with that entry's offset.
    pub torn_tails: Vec<(PathBuf, u64)>,
    /// Segments that could not be read at all (I/O error), with the error. They are left on
    /// disk by [`super::CommitLog::delete_replayed`].
    pub unreadable: Vec<(PathBuf, String)>,
}

impl ReplayStats {
    /// True when nothing was skipped for damage or I/O errors (torn tails are normal).
    pub fn is_clean(&self) -> bool {
        self.corrupt.is_empty() && self.unreadable.is_empty()
    }
}

/// Iterates the entries of the old segments in id order. Also an [`Iterator`].
#[derive(Debug)]
pub struct Replay {
    pending: VecDeque<(u64, PathBuf)>,
    current: Option<Cursor>,
    stats: ReplayStats,
}

/// The segment being walked.
struct Cursor {
    id: u64,
    path: PathBuf,
    data: Bytes,
    offset: usize,
}

impl std::fmt::Debug for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("id", &self.id)
            .field("path", &self.path)
            .field("len", &self.data.len())
            .field("offset", &self.offset)
            .finish()
    }
}

/// The segments in `dir`, sorted by id. Files that are not segments are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        match segment::parse_file_name(&path) {
            Some(id) => out.push((id, path)),
            None => {
                tracing::debug!(path = %path.display(), "ignoring non-segment file in commit log directory")
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Replay {
    /// A replay of `segments` (id, path), which must be sorted by id.
    pub(crate) fn new(segments: Vec<(u64, PathBuf)>) -> Replay {
        let stats = ReplayStats {
            segments: segments.iter().map(|(_, p)| p.clone()).collect(),
            ..ReplayStats::default()
        };
        Replay { pending: segments.into(), current: None, stats }
    }

    /// The next intact entry, or `None` when every segment has been read.
    pub fn next_entry(&mut self) -> Option<ReplayEntry> {
        loop {
            if self.current.is_none() {
                let (id, path) = self.pending.pop_front()?;
                self.current = self.load(id, path);
                continue;
            }
            let cursor = self.current.as_mut()?;
            match walk(cursor, &mut self.stats) {
                Some(entry) => {
                    self.stats.entries += 1;
                    return Some(entry);
                }
                None => self.current = None,
            }
        }
    }

    /// What was found so far.
    pub fn stats(&self) -> &ReplayStats {
        &self.stats
    }

    /// What was found, consuming the replay (read it to the end first).
    pub fn into_stats(self) -> ReplayStats {
        self.stats
    }

    /// Reads segment `id` and checks its header; `None` if there is nothing to walk.
    fn load(&mut self, id: u64, path: PathBuf) -> Option<Cursor> {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(segment = %path.display(), error = %e, "cannot read commit log segment; skipping it");
                self.stats.unreadable.push((path, e.to_string()));
                return None;
            }
        };
        tracing::info!(segment = %path.display(), bytes = data.len(), "replaying commit log segment");
        start_segment(id, path, Bytes::from(data), &mut self.stats)
    }
}

impl Iterator for Replay {
    type Item = ReplayEntry;

    fn next(&mut self) -> Option<ReplayEntry> {
        self.next_entry()
    }
}

/// Checks the header of segment `id` held in `data`; returns a cursor on its first entry.
fn start_segment(id: u64, path: PathBuf, data: Bytes, stats: &mut ReplayStats) -> Option<Cursor> {
    if data.is_empty() {
        // Created just before a crash, before its header reached the disk.
        tracing::info!(segment = %path.display(), "empty commit log segment");
        return None;
    }
    if u32::try_from(data.len()).is_err() {
        record_corrupt(stats, &path, 0, "segment larger than 4 GiB: offsets cannot be represented".into());
        return None;
    }
    if data.len() < HEADER_LEN {
        tracing::info!(segment = %path.display(), bytes = data.len(), "commit log segment header is torn");
        stats.torn_tails.push((path, 0));
        return None;
    }
    match segment::decode_header(&data) {
        Ok(h) if h == id => Some(Cursor { id, path, data, offset: HEADER_LEN }),
        Ok(h) => {
            let reason = format!("header names segment {h} but the file name says {id}");
            record_corrupt(stats, &path, 0, format!("{reason}; segment skipped"));
            None
        }
        Err(reason) => {
            record_corrupt(stats, &path, 0, format!("{reason}; segment skipped"));
            None
        }
    }
}

/// The next intact entry of the cursor's segment, recording damage on the way; `None` at the
/// end of the segment (clean or torn).
fn walk(c: &mut Cursor, stats: &mut ReplayStats) -> Option<ReplayEntry> {
    loop {
        let start = c.offset;
        match segment::check_entry(&c.data, start) {
            EntryCheck::End => return None,
            EntryCheck::Valid { len } => {
                let end = start + segment::ENTRY_OVERHEAD + len;
                c.offset = end;
                let position = Position { segment: c.id, offset: u32::try_from(end).ok()? };
                return Some(ReplayEntry { position, payload: c.data.slice(start + 8..start + 8 + len) });
            }
            EntryCheck::Bad { reason, next } => match segment::find_later_valid(&c.data, start, next) {
                Some(later) => {
                    record_corrupt(stats, &c.path, start as u64, reason);
                    c.offset = later;
                }
                None => {
                    tracing::info!(
                        segment = %c.path.display(), offset = start, %reason,
                        "commit log segment ends in a torn entry (expected after a crash)"
                    );
                    stats.torn_tails.push((c.path.clone(), start as u64));
                    return None;
                }
            },
        }
    }
}

/// Replays one segment held in memory (the bytes of a segment file with id `id`): the same
/// walk as start-up replay, for tools and fuzzing.
pub fn replay_segment_bytes(id: u64, data: Vec<u8>) -> (Vec<ReplayEntry>, ReplayStats) {
    let mut stats = ReplayStats::default();
    let mut out = Vec::new();
    if let Some(mut c) = start_segment(id, PathBuf::from("seg"), Bytes::from(data), &mut stats) {
        while let Some(e) = walk(&mut c, &mut stats) {
            out.push(e);
        }
    }
    (out, stats)
}

fn record_corrupt(stats: &mut ReplayStats, path: &Path, offset: u64, reason: String) {
    tracing::error!(segment = %path.display(), offset, %reason, "corrupt commit log entry skipped");
    stats.corrupt.push(CorruptEntry { path: path.to_path_buf(), offset, reason });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use segment::encode_header;

    fn replay_bytes(id: u64, data: Vec<u8>) -> (Vec<ReplayEntry>, ReplayStats) {
        super::replay_segment_bytes(id, data)
    }

    fn build(id: u64, payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        segment::test_segment(id, &refs)
    }

    #[test]
    fn segments_are_listed_in_id_order_and_read_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        for (id, p) in [(30u64, b"c".to_vec()), (4, b"a".to_vec()), (17, b"b".to_vec())] {
            let (data, _) = build(id, &[p]);
            std::fs::write(dir.path().join(segment::file_name(id)), data).unwrap();
        }
        std::fs::write(dir.path().join("README"), b"not a segment").unwrap();
        let list = list_segments(dir.path()).unwrap();
        assert_eq!(list.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![4, 17, 30]);
        let mut replay = Replay::new(list);
        let got: Vec<_> = replay.by_ref().map(|e| (e.position.segment, e.payload.to_vec())).collect();
        assert_eq!(got, vec![(4, b"a".to_vec()), (17, b"b".to_vec()), (30, b"c".to_vec())]);
        assert_eq!(replay.stats().entries, 3);
        assert!(replay.stats().is_clean());
    }

    #[test]
    fn bad_header_skips_segment_and_is_reported() {
        let (mut data, _) = build(5, &[b"x".to_vec()]);
        data[1] = b'Z';
        let (entries, stats) = replay_bytes(5, data);
        assert!(entries.is_empty());
        assert_eq!(stats.corrupt.len(), 1);
        assert_eq!(stats.corrupt[0].offset, 0);
        assert!(stats.corrupt[0].reason.contains("magic"), "{}", stats.corrupt[0].reason);

        let (data, _) = build(6, &[b"x".to_vec()]);
        let (entries, stats) = replay_bytes(5, data);
        assert!(entries.is_empty());
        assert!(stats.corrupt[0].reason.contains("file name"));
    }

    #[test]
    fn short_and_empty_segments_are_torn_not_corrupt() {
        let (entries, stats) = replay_bytes(1, Vec::new());
        assert!(entries.is_empty() && stats.torn_tails.is_empty() && stats.corrupt.is_empty());
        let (data, _) = build(1, &[]);
        let (entries, stats) = replay_bytes(1, data[..7].to_vec());
        assert!(entries.is_empty() && stats.corrupt.is_empty());
        assert_eq!(stats.torn_tails, vec![(PathBuf::from("seg"), 0)]);
        let (entries, stats) = replay_bytes(1, data);
        assert!(entries.is_empty() && stats.torn_tails.is_empty() && stats.corrupt.is_empty());
    }

    #[test]
    fn unreadable_segment_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        // A directory with a segment's name cannot be read as a file.
        let path = dir.path().join(segment::file_name(3));
        std::fs::create_dir(&path).unwrap();
        let mut replay = Replay::new(vec![(3, path.clone())]);
        assert!(replay.next_entry().is_none());
        let stats = replay.into_stats();
        assert_eq!(stats.unreadable.len(), 1);
        assert_eq!(stats.unreadable[0].0, path);
        assert!(!stats.is_clean());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Arbitrary bytes after a valid header never panic the replayer, and whatever it
        /// returns lies inside the segment.
        #[test]
        fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut data = encode_header(9).to_vec();
            data.extend_from_slice(&body);
            let len = data.len();
            let (entries, _) = replay_bytes(9, data);
            for e in entries {
                prop_assert!(e.position.offset as usize <= len);
                prop_assert!(!e.payload.is_empty());
            }
        }

        /// Arbitrary bytes with no header at all are reported, not panicked on.
        #[test]
        fn random_files_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = replay_bytes(9, data);
        }

        /// Damaging a real segment (bit flips and truncation) only ever loses entries: what
        /// replay returns is a subsequence of what was written, in order.
        #[test]
        fn damage_only_loses_entries(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..64), 1..20),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let (mut data, _) = build(2, &payloads);
            for (at, bit) in flips {
                let i = HEADER_LEN + at.index(data.len() - HEADER_LEN);
                data[i] ^= 1 << bit;
            }
            let keep = HEADER_LEN + cut.index(data.len() - HEADER_LEN + 1);
            data.truncate(keep);
            let (entries, _) = replay_bytes(2, data);
            let mut written = payloads.iter();
            for e in &entries {
                prop_assert!(written.any(|p| p[..] == e.payload[..]), "entry not written, or out of order");
            }
            prop_assert!(entries.windows(2).all(|w| w[0].position < w[1].position));
        }
    }
}
