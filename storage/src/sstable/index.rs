//! The partition index (`Index.db`): every partition's key and where its bytes lie in the
//! uncompressed data stream, searchable by binary search straight from the memory map.
//!
//! | part | encoding |
//! |---|---|
//! | header | magic `TSIX`, u16 BE version (= 1) |
//! | entries | per partition: i64 BE token, `bytes` key, uvarint position, uvarint length |
//! | offsets | per entry: u64 LE offset of the entry from the start of the file |
//! | footer | u64 BE entry count, u64 BE offset of the offsets array, u32 BE CRC32 of all bytes before the footer's CRC, magic `TSIX` |

use crate::codec::{Reader, put_bytes, put_uvarint};
use crate::error::{Error, Result};
use crate::token::DecoratedKey;
use std::cmp::Ordering;
use std::path::Path;

/// Index magic.
pub const MAGIC: &[u8; 4] = b"TSIX";
/// Index format version.
pub const VERSION: u16 = 1;
/// Footer length.
pub const FOOTER_LEN: usize = 24;

/// Where a partition's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Offset in the uncompressed data stream.
    pub position: u64,
    /// Length in the uncompressed data stream.
    pub length: u64,
}

/// The header bytes.
pub fn header() -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&VERSION.to_be_bytes());
    v
}

/// Encodes one entry.
pub fn encode_entry(out: &mut Vec<u8>, key: &DecoratedKey, e: IndexEntry) {
    out.extend_from_slice(&key.token.to_be_bytes());
    put_bytes(out, &key.key);
    put_uvarint(out, e.position);
    put_uvarint(out, e.length);
}

/// A validated view of an index file's bytes.
#[derive(Debug, Clone, Copy)]
pub struct IndexView {
    /// Number of partitions.
    pub count: usize,
    /// Where the offsets array starts.
    pub offsets_start: usize,
}

impl IndexView {
    /// Validates the footer, the CRC and the header of `buf`.
    pub fn open(buf: &[u8], path: &Path) -> Result<IndexView> {
        if buf.len() < 6 + FOOTER_LEN {
            return Err(Error::corruption(path, 0, "index file too short"));
        }
        let footer = &buf[buf.len() - FOOTER_LEN..];
        let mut r = Reader::new(footer);
        let count = r.u64()?;
        let offsets_start = r.u64()?;
        let crc = r.u32()?;
        if r.take(4)? != MAGIC {
            return Err(Error::corruption(path, (buf.len() - 4) as u64, "bad index footer magic"));
        }
        let crc_end = buf.len() - 8;
        if crc32fast::hash(&buf[..crc_end]) != crc {
            return Err(Error::corruption(path, 0, "index checksum mismatch"));
        }
        if &buf[..4] != MAGIC {
            return Err(Error::corruption(path, 0, "bad index magic"));
        }
        let version = u16::from_be_bytes([buf[4], buf[5]]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion { path: path.into(), version: version.into() });
        }
        let offsets_end = offsets_start.checked_add(count.saturating_mul(8));
        if offsets_end != Some((buf.len() - FOOTER_LEN) as u64) || offsets_start < 6 {
            return Err(Error::corruption(path, offsets_start, "index offsets out of bounds"));
        }
        Ok(IndexView { count: count as usize, offsets_start: offsets_start as usize })
    }

    /// Where entry `i` starts in `buf`, read from the offsets array; `None` when the array or
    /// the offset is out of range.
    #[inline]
    pub fn entry_start(&self, buf: &[u8], i: usize) -> Option<usize> {
        let at = self.offsets_start.checked_add(i.checked_mul(8)?)?;
        let b = buf.get(at..)?.first_chunk::<8>()?;
        let off = usize::try_from(u64::from_le_bytes(*b)).ok()?;
        (off < self.offsets_start).then_some(off)
    }

    fn entry_offset(&self, buf: &[u8], i: usize) -> Result<usize> {
        self.entry_start(buf, i)
            .ok_or_else(|| Error::Malformed(format!("index entry {i} offset out of range")))
    }

    /// Decodes the entry that starts at byte `off` of `buf`: its token, key, location, and
    /// where the next entry starts (entries are written back to back, in key order).
    #[inline]
    pub fn entry_at<'a>(&self, buf: &'a [u8], off: usize) -> Result<(i64, &'a [u8], IndexEntry, usize)> {
        let entries = buf.get(off..self.offsets_start).unwrap_or_default();
        let mut r = Reader::new(entries);
        let token = r.i64()?;
        let key = r.bytes()?;
        let position = r.uvarint()?;
        let length = r.uvarint()?;
        Ok((token, key, IndexEntry { position, length }, off + r.position()))
    }

    /// Decodes entry `i`: its key and location.
    pub fn entry<'a>(&self, buf: &'a [u8], i: usize) -> Result<(i64, &'a [u8], IndexEntry)> {
        let (token, key, e, _) = self.entry_at(buf, self.entry_offset(buf, i)?)?;
        Ok((token, key, e))
    }

    fn compare(&self, buf: &[u8], i: usize, token: i64, key: &[u8]) -> Result<Ordering> {
        let off = self.entry_offset(buf, i)?;
        let mut r = Reader::new(&buf[off..self.offsets_start]);
        let t = r.i64()?;
        Ok(match t.cmp(&token) {
            Ordering::Equal => r.bytes()?.cmp(key),
            o => o,
        })
    }

    /// The first entry whose key is `>= (token, key)` (or `> ` when `strict`), or `count`.
    pub fn lower_bound(&self, buf: &[u8], token: i64, key: &[u8], strict: bool) -> Result<usize> {
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let ord = self.compare(buf, mid, token, key)?;
            let go_right = if strict { ord != Ordering::Greater } else { ord == Ordering::Less };
            if go_right {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The entry for exactly `(token, key)`.
    pub fn find(&self, buf: &[u8], token: i64, key: &[u8]) -> Result<Option<IndexEntry>> {
        let i = self.lower_bound(buf, token, key, false)?;
        if i >= self.count {
            return Ok(None);
        }
        let (t, k, e) = self.entry(buf, i)?;
        Ok((t == token && k == key).then_some(e))
    }
}
