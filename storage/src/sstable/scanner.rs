//! Ordered scans of one SSTable: the partitions of a key range, read in file order.
//!
//! [`SSTableReader::scan`] finds the range's first and last index entries by binary search, so
//! the bounds are exact; from there the scan walks forward: the index entries one after the
//! other (they are written back to back, so the offsets array only confirms each start), and
//! the data chunk by chunk. A chunk is fetched, CRC-checked and decompressed once (or taken
//! from the chunk cache, which holds only verified chunks) and every partition inside it is
//! cut out of it without another lookup; a partition that runs over a chunk boundary is
//! joined from its chunks. Each partition's key is checked against the index's.
//!
//! [`SSTableScanner`] yields decoded partitions (compaction, offline tools); its
//! [`StoredScanner`] form yields them still encoded ([`PartitionData::Stored`]): a range of
//! the decompressed chunk, which all the partitions of the chunk share (one reference count
//! per partition handed out).
//!
//! The first error (a bad checksum, a partition that does not decode, an index entry that
//! disagrees with the data) ends the scan; it names the file and offset.

use super::reader::SSTableReader;
use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::live::{PartitionData, StoredBuffer, StoredPartition};
use crate::partition::Partition;
use crate::token::DecoratedKey;
use std::ops::Range;
use std::sync::Arc;

/// One partition found by the walk: where its key and body lie in `buf`.
struct Found {
    token: i64,
    buf: Arc<StoredBuffer>,
    key: Range<usize>,
    body: Range<usize>,
    position: u64,
}

/// Partitions of one SSTable in (token, key) order; see the module docs.
pub struct SSTableScanner {
    reader: Arc<SSTableReader>,
    /// Entry number of the next partition, and the entry number to stop at.
    next: usize,
    end: usize,
    /// Where entry `next` starts in Index.db.
    index_at: usize,
    /// The chunk the last partition ended in, and its first uncompressed offset.
    current: Option<(Arc<StoredBuffer>, u64)>,
    use_cache: bool,
}

impl SSTableScanner {
    /// Scans entries `from..to` of `reader`'s index.
    pub(super) fn new(reader: Arc<SSTableReader>, from: usize, to: usize, use_cache: bool) -> Result<Self> {
        let index_at = if from < to {
            reader.view.entry_start(&reader.index, from).ok_or_else(|| {
                Error::corruption(&reader.index_path, 0, format!("index entry {from} offset out of range"))
            })?
        } else {
            0
        };
        Ok(SSTableScanner { reader, next: from, end: to, index_at, current: None, use_cache })
    }

    /// The scan yielding partitions still encoded ([`PartitionData::Stored`]); decoding is
    /// left to whoever reads them.
    pub fn stored(self) -> StoredScanner {
        StoredScanner(self)
    }

    /// The next partition, or `None` at the end of the range. After an error the scan is over.
    #[inline]
    fn next_found(&mut self) -> Option<Result<Found>> {
        if self.next >= self.end {
            return None;
        }
        let found = self.walk();
        if found.is_err() {
            self.next = self.end;
        }
        Some(found)
    }

    #[inline]
    fn walk(&mut self) -> Result<Found> {
        let r = &*self.reader;
        let at = self.index_at;
        if r.view.entry_start(&r.index, self.next) != Some(at) {
            return Err(self.index_error(at, "entry does not follow the previous one"));
        }
        let (token, index_key, e, next_at) =
            r.view.entry_at(&r.index, at).map_err(|x| self.index_error(at, &x.to_string()))?;
        let end = match e.position.checked_add(e.length) {
            Some(end) if end <= r.uncompressed_len => end,
            _ => return Err(self.index_error(at, &format!("entry at {} past end of data", e.position))),
        };
        let (buf, from, to) = match &self.current {
            Some((buf, start)) if e.position >= *start && end - start <= buf.bytes.len() as u64 => {
                let from = (e.position - start) as usize;
                (buf.clone(), from, from + e.length as usize)
            }
            _ => load(&self.reader, &mut self.current, self.use_cache, e.position, end)?,
        };
        let r = &*self.reader;
        let mut rd = Reader::new(buf.bytes.get(from..to).unwrap_or_default());
        let key = rd.bytes().map_err(|x| r.partition_error(e.position, &x.to_string()))?;
        if !same_key(key, index_key) {
            return Err(r.partition_error(e.position, "key does not match the index"));
        }
        let key_from = from + rd.position() - key.len();
        self.next += 1;
        self.index_at = next_at;
        Ok(Found {
            token,
            key: key_from..key_from + key.len(),
            body: from + rd.position()..to,
            buf,
            position: e.position,
        })
    }

    #[cold]
    #[inline(never)]
    fn index_error(&self, at: usize, reason: &str) -> Error {
        Error::corruption(&self.reader.index_path, at as u64, format!("index entry {}: {reason}", self.next))
    }
}

/// `a == b`, without a call to `memcmp` for the short keys most tables have.
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let word =
        |s: &[u8], at: usize| s.get(at..).and_then(|t| t.first_chunk::<8>()).map(|w| u64::from_ne_bytes(*w));
    match a.len() {
        n if n != b.len() => false,
        // Two overlapping 8-byte words cover the key.
        n @ 8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Fetches the chunk holding uncompressed offsets `position..end` of `r` and makes it
/// `current`. Returns the buffer holding those bytes and their range in it: the chunk itself,
/// or, for a partition spanning chunks, a buffer joined from them (the last one becomes
/// current).
#[cold]
fn load(
    r: &Arc<SSTableReader>,
    current: &mut Option<(Arc<StoredBuffer>, u64)>,
    use_cache: bool,
    position: u64,
    end: u64,
) -> Result<(Arc<StoredBuffer>, usize, usize)> {
    let mut make_current = |i: usize| -> Result<Arc<StoredBuffer>> {
        let start = i as u64 * r.chunk_length;
        if let Some((buf, at)) = current.as_ref()
            && *at == start
        {
            return Ok(buf.clone());
        }
        let buf = Arc::new(StoredBuffer { bytes: r.chunk_bytes(i, use_cache)?, origin: r.clone() });
        *current = Some((buf.clone(), start));
        Ok(buf)
    };
    let first = (position / r.chunk_length) as usize;
    let last = ((end.max(1) - 1) / r.chunk_length) as usize;
    let within = (position % r.chunk_length) as usize;
    let length = (end - position) as usize;
    if first == last {
        let buf = make_current(first)?;
        if within + length > buf.bytes.len() {
            return Err(r.chunk_crc_error(first, "partition runs past chunk"));
        }
        return Ok((buf, within, within + length));
    }
    let mut out = Vec::with_capacity(length);
    for i in first..=last {
        let c = make_current(i)?;
        let from = if i == first { within } else { 0 };
        let to = if i == last { (end - i as u64 * r.chunk_length) as usize } else { c.bytes.len() };
        match c.bytes.get(from..to) {
            Some(part) => out.extend_from_slice(part),
            None => return Err(r.chunk_crc_error(i, "partition runs past chunk")),
        }
    }
    Ok((Arc::new(StoredBuffer { bytes: out.into(), origin: r.clone() }), 0, length))
}

impl Iterator for SSTableScanner {
    type Item = Result<(DecoratedKey, Partition)>;

    fn next(&mut self) -> Option<Self::Item> {
        let found = self.next_found()?;
        let decoded = found.and_then(|f| {
            let key = f.buf.bytes.slice(f.key.clone());
            let p = StoredPartition::new(f.buf, f.body, f.position).decode()?;
            Ok((DecoratedKey { token: f.token, key }, p))
        });
        if decoded.is_err() {
            self.next = self.end;
        }
        Some(decoded)
    }
}

/// [`SSTableScanner`] yielding partitions as stored.
pub struct StoredScanner(SSTableScanner);

impl Iterator for StoredScanner {
    type Item = Result<(DecoratedKey, PartitionData)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.0.next_found()?.map(|f| {
            let key = f.buf.bytes.slice(f.key);
            let stored = StoredPartition::new(f.buf, f.body, f.position);
            (DecoratedKey { token: f.token, key }, PartitionData::Stored(stored))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::range::{KeyRange, min_key_of};
    use crate::row::{CellKey, Row};
    use crate::sstable::cache::ChunkCache;
    use crate::sstable::{Component, Descriptor, SSTableWriter, WriterOptions};
    use bytes::Bytes;
    use std::ops::Bound;
    use std::path::Path;

    const CHUNK: u64 = 1024;

    /// 400 partitions of 1 to 3 rows with values up to ~2.5 KiB in 1 KiB chunks: many
    /// partitions share a chunk, many span two or three. Returned in scan order.
    fn write(dir: &Path) -> Vec<(DecoratedKey, Partition)> {
        let mut parts: Vec<(DecoratedKey, Partition)> = (0..400u32)
            .map(|i| {
                let mut p = Partition::default();
                for c in 0..=(i % 3) {
                    let mut r = Row::default();
                    let len = (i as usize * 37 + c as usize * 11) % 2500;
                    r.cells.insert(CellKey::simple("v"), Cell::live(i64::from(i), vec![i as u8; len]));
                    p.rows.insert(Bytes::from(vec![c as u8]), r);
                }
                (DecoratedKey::new(format!("key-{i}").into_bytes()), p)
            })
            .collect();
        parts.sort_by(|a, b| a.0.cmp(&b.0));
        let opts = WriterOptions { chunk_length: CHUNK as usize, ..Default::default() };
        let mut w = SSTableWriter::create(Descriptor::new(dir, 1), opts).unwrap();
        for (k, p) in &parts {
            w.append(k, p).unwrap();
        }
        w.finish(None).unwrap();
        parts
    }

    fn open(dir: &Path) -> Arc<SSTableReader> {
        SSTableReader::open(Descriptor::new(dir, 1), Arc::new(ChunkCache::new(1 << 20))).unwrap()
    }

    /// Where each partition lies in the uncompressed stream, in scan order.
    fn extents(r: &SSTableReader) -> Vec<(u64, u64)> {
        (0..r.view.count)
            .map(|i| {
                let e = r.view.entry(&r.index, i).unwrap().2;
                (e.position, e.position + e.length)
            })
            .collect()
    }

    fn stored(r: &Arc<SSTableReader>, range: &KeyRange) -> Result<Vec<(DecoratedKey, Partition)>> {
        r.scan(range, true)?.stored().map(|x| x.and_then(|(k, d)| Ok((k, d.into_partition()?)))).collect()
    }

    #[test]
    fn scans_return_exactly_the_partitions_of_the_range() {
        let dir = tempfile::tempdir().unwrap();
        let parts = write(dir.path());
        let r = open(dir.path());
        let ext = extents(&r);
        assert!(ext.iter().any(|(from, to)| from / CHUNK != (to - 1) / CHUNK), "no partition spans chunks");
        assert!(ext.iter().any(|(from, to)| to - from > 2 * CHUNK), "no partition spans three chunks");
        // Bounds at the first and last keys, at keys starting mid-chunk, right after a
        // partition that spans chunks, and at tokens between keys.
        let spanning = ext.iter().position(|(from, to)| from / CHUNK != (to - 1) / CHUNK).unwrap();
        let mut at: Vec<DecoratedKey> = [0, 1, 57, spanning, spanning + 1, 200, 398, 399]
            .into_iter()
            .map(|i| parts[i].0.clone())
            .collect();
        at.push(min_key_of(parts[120].0.token));
        at.push(min_key_of(parts[120].0.token + 1));
        at.push(min_key_of(i64::MIN + 1));
        at.push(min_key_of(i64::MAX));
        let mut bounds = vec![Bound::Unbounded];
        for k in &at {
            bounds.push(Bound::Included(k.clone()));
            bounds.push(Bound::Excluded(k.clone()));
        }
        for start in &bounds {
            for end in &bounds {
                let range = KeyRange { start: start.clone(), end: end.clone() };
                let expected: Vec<_> = parts.iter().filter(|(k, _)| range.contains(k)).cloned().collect();
                let decoded: Vec<_> = r.scan(&range, true).unwrap().map(|x| x.unwrap()).collect();
                assert_eq!(decoded, expected, "{range:?}");
                assert_eq!(stored(&r, &range).unwrap(), expected, "{range:?}");
            }
        }
        // Without the cache too (compaction's way).
        let all: Vec<_> = r.scan(&KeyRange::all(), false).unwrap().map(|x| x.unwrap()).collect();
        assert_eq!(all, parts);
    }

    #[test]
    fn a_damaged_chunk_ends_the_scan_with_the_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let parts = write(dir.path());
        let (ext, damaged_at) = {
            let r = open(dir.path());
            (extents(&r), r.chunk_offsets[3])
        };
        let data = Descriptor::new(dir.path(), 1).path(Component::Data);
        let mut bytes = std::fs::read(&data).unwrap();
        bytes[damaged_at as usize + 5] ^= 0x10;
        std::fs::write(&data, bytes).unwrap();
        let r = open(dir.path());

        // Everything before the damaged chunk comes out, then the error, then nothing.
        let before = ext.iter().take_while(|(_, to)| *to <= 3 * CHUNK).count();
        let mut scan = r.scan(&KeyRange::all(), true).unwrap().stored();
        for (k, _) in &parts[..before] {
            assert_eq!(&scan.next().unwrap().unwrap().0, k);
        }
        match scan.next() {
            Some(Err(Error::Corruption { path, offset, reason })) => {
                assert_eq!(path, data);
                assert_eq!(offset, damaged_at);
                assert!(reason.contains("chunk 3: checksum mismatch"), "{reason}");
            }
            other => {
                panic!("expected the damaged chunk to be reported, got {:?}", other.map(|x| x.map(|y| y.0)))
            }
        }
        assert!(scan.next().is_none(), "a scan goes on after an error");
        let decoded = r.scan(&KeyRange::all(), false).unwrap().collect::<Result<Vec<_>>>();
        assert!(matches!(decoded, Err(Error::Corruption { offset, .. }) if offset == damaged_at));

        // A range that starts past the damaged chunk never reads it.
        let after = ext.iter().position(|(from, _)| *from >= 4 * CHUNK).unwrap();
        let range = KeyRange { start: Bound::Included(parts[after].0.clone()), end: Bound::Unbounded };
        assert_eq!(stored(&r, &range).unwrap(), parts[after..]);
    }

    /// Rewrites Index.db with `edit` applied and its checksum recomputed, as a writer bug
    /// (not a flipped bit) would leave it.
    fn edit_index(dir: &Path, edit: impl FnOnce(&mut Vec<u8>, &SSTableReader)) {
        let path = Descriptor::new(dir, 1).path(Component::Index);
        let mut buf = std::fs::read(&path).unwrap();
        edit(&mut buf, &open(dir));
        let n = buf.len();
        let crc = crc32fast::hash(&buf[..n - 8]);
        buf[n - 8..n - 4].copy_from_slice(&crc.to_be_bytes());
        std::fs::write(&path, buf).unwrap();
    }

    #[test]
    fn a_key_that_disagrees_with_the_index_ends_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let parts = write(dir.path());
        // Entry 5's key: after the token (8 bytes) and the one-byte length.
        edit_index(dir.path(), |buf, r| {
            let at = r.view.entry_start(&r.index, 5).unwrap() + 9;
            buf[at] ^= 0x01;
        });
        let r = open(dir.path());
        let position = extents(&r)[5].0;
        let out: Vec<_> = r.scan(&KeyRange::all(), true).unwrap().stored().collect();
        assert_eq!(out.len(), 6);
        assert!(out[..5].iter().zip(&parts).all(|(x, (k, _))| x.as_ref().unwrap().0 == *k));
        match &out[5] {
            Err(Error::Corruption { path, offset, reason }) => {
                assert_eq!(*path, Descriptor::new(dir.path(), 1).path(Component::Data));
                assert_eq!(*offset, position);
                assert!(reason.contains("key does not match the index"), "{reason}");
            }
            other => panic!("expected a key mismatch, got {:?}", other.as_ref().map(|x| &x.0)),
        }
    }

    #[test]
    fn an_index_entry_out_of_sequence_ends_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path());
        // Point the offsets array's entry 7 at entry 8.
        let mut entry = 0;
        edit_index(dir.path(), |buf, r| {
            entry = r.view.entry_start(&r.index, 7).unwrap();
            let eight = r.view.entry_start(&r.index, 8).unwrap() as u64;
            let slot = r.view.offsets_start + 7 * 8;
            buf[slot..slot + 8].copy_from_slice(&eight.to_le_bytes());
        });
        let r = open(dir.path());
        let out: Vec<_> = r.scan(&KeyRange::all(), true).unwrap().stored().collect();
        assert_eq!(out.len(), 8);
        match &out[7] {
            Err(Error::Corruption { path, offset, reason }) => {
                assert_eq!(*path, Descriptor::new(dir.path(), 1).path(Component::Index));
                assert_eq!(*offset, entry as u64);
                assert!(reason.contains("index entry 7"), "{reason}");
            }
            other => panic!("expected an index error, got {:?}", other.as_ref().map(|x| &x.0)),
        }
    }
}
