//! The bytes of a hint segment: its header, the framing of each entry, the payload of a hint
//! and the offset file, laid out in the table of [`super`]; and the walk that reads a segment
//! back. Used by [`super::Hints`] to write and replay. Nothing here trusts the disk: every length
//! is checked against what is there and no decoder panics. The entry framing and the resync
//! rule after a damaged entry are the commit log's (`storage::commitlog::segment`).

use anyhow::{Result, bail};
use bytes::Bytes;
use std::fs;
use std::path::Path;
use storage::Mutation;

/// First bytes of every hint segment.
const MAGIC: [u8; 4] = *b"TSHT";
/// The segment format version this build writes and reads.
const FORMAT_VERSION: u16 = 1;
/// Size of the segment header: magic, version, seq, CRC32.
pub(super) const HEADER_LEN: usize = 18;
/// Bytes each entry adds around its payload: length, CRC(length), CRC(payload).
pub(super) const ENTRY_OVERHEAD: usize = 12;
/// Smallest well-formed entry (a one-byte payload).
const MIN_ENTRY_LEN: usize = ENTRY_OVERHEAD + 1;
/// Created-at and flags, ahead of the mutation in each payload.
const PAYLOAD_PREFIX: usize = 9;
/// Flag bit: the mutation's keyspace has `durable_writes`.
const FLAG_DURABLE: u8 = 1;
/// The largest hint payload stored, and believed when read back.
pub const MAX_HINT_LEN: usize = 256 << 20;

const FILE_PREFIX: &str = "hints-";
pub(super) const LOG_SUFFIX: &str = ".log";
pub(super) const OFFSET_SUFFIX: &str = ".offset";
pub(super) const TMP_SUFFIX: &str = ".tmp";

/// One readable hint and where its entry lies.
pub(super) struct Entry {
    pub(super) offset: u64,
    pub(super) end: u64,
    pub(super) hint: Hint,
}

/// A hint read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// When it was stored, in ms since the Unix epoch.
    pub created_ms: u64,
    /// The keyspace's `durable_writes`.
    pub durable: bool,
    /// The mutation to deliver.
    pub mutation: Mutation,
}

/// What reading a segment found.
pub(super) struct Walk {
    /// File length.
    pub(super) size: u64,
    /// Whether the header is usable (when it is not, nothing else was read).
    pub(super) header: Result<(), String>,
    /// Readable hints from the start offset on, in file order.
    pub(super) entries: Vec<Entry>,
    /// Damaged or undecodable entries skipped.
    pub(super) corrupt: u64,
}

pub(super) fn read_segment(path: &Path, seq: u64, start: u64) -> std::io::Result<Walk> {
    let data = Bytes::from(fs::read(path)?);
    Ok(walk_segment(path, seq, &data, start))
}

/// Reads the hints of segment `seq` held in `data`, from offset `start`. Never panics: a
/// damaged entry followed by a valid one is skipped and logged as corrupt; one with nothing
/// valid after it is a torn tail (a crash mid-append) and ends the segment.
fn walk_segment(path: &Path, seq: u64, data: &Bytes, start: u64) -> Walk {
    let mut w =
        Walk { size: data.len() as u64, header: check_header(data, seq), entries: Vec::new(), corrupt: 0 };
    if w.header.is_err() {
        return w;
    }
    let mut offset = usize::try_from(start).unwrap_or(usize::MAX).clamp(HEADER_LEN, data.len());
    loop {
        match check_entry(data, offset) {
            EntryCheck::End => break,
            EntryCheck::Valid { len } => {
                let end = offset + ENTRY_OVERHEAD + len;
                match decode_payload(&data.slice(offset + 8..offset + 8 + len)) {
                    Ok(hint) => w.entries.push(Entry { offset: offset as u64, end: end as u64, hint }),
                    Err(reason) => {
                        tracing::error!(file = %path.display(), offset, %reason, "skipping undecodable hint");
                        w.corrupt += 1;
                    }
                }
                offset = end;
            }
            EntryCheck::Bad { reason, next } => match find_later_valid(data, offset, next) {
                Some(later) => {
                    tracing::error!(file = %path.display(), offset, %reason, "skipping corrupt hint entry");
                    w.corrupt += 1;
                    offset = later;
                }
                None => {
                    tracing::info!(file = %path.display(), offset, %reason, "hint file ends in a torn entry (expected after a crash)");
                    break;
                }
            },
        }
    }
    w
}

/// The hints readable in the bytes of a segment file named `hints-<seq>.log`, and how many
/// damaged entries were skipped: the walk replay does, for tools and fuzzing.
pub fn read_segment_bytes(seq: u64, data: Vec<u8>) -> (Vec<Hint>, u64) {
    let w = walk_segment(Path::new("segment"), seq, &Bytes::from(data), HEADER_LEN as u64);
    let corrupt = w.corrupt + u64::from(w.header.is_err());
    (w.entries.into_iter().map(|e| e.hint).collect(), corrupt)
}

fn decode_payload(payload: &Bytes) -> Result<Hint, String> {
    if payload.len() <= PAYLOAD_PREFIX {
        return Err(format!("hint payload of {} bytes is too short", payload.len()));
    }
    let mut created = [0u8; 8];
    created.copy_from_slice(&payload[..8]);
    let flags = payload[8];
    if flags & !FLAG_DURABLE != 0 {
        return Err(format!("unknown hint flags {flags:#04x}"));
    }
    let mutation =
        Mutation::decode(&payload.slice(PAYLOAD_PREFIX..)).map_err(|e| format!("bad mutation: {e}"))?;
    Ok(Hint { created_ms: u64::from_be_bytes(created), durable: flags & FLAG_DURABLE != 0, mutation })
}

/// The framed entry for a hint: `len | crc(len) | created-at, flags, mutation | crc(payload)`.
pub(super) fn encode_entry(created_ms: u64, durable: bool, m: &Mutation) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(ENTRY_OVERHEAD + PAYLOAD_PREFIX + 64 + m.update.data_size());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&created_ms.to_be_bytes());
    out.push(if durable { FLAG_DURABLE } else { 0 });
    m.encode_into(&mut out);
    let len = out.len() - 8;
    if len > MAX_HINT_LEN {
        bail!("hint of {len} bytes is above the {MAX_HINT_LEN}-byte limit");
    }
    let len_bytes = (len as u32).to_be_bytes();
    out[0..4].copy_from_slice(&len_bytes);
    out[4..8].copy_from_slice(&crc32fast::hash(&len_bytes).to_be_bytes());
    let crc = crc32fast::hash(&out[8..]);
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(out)
}

pub(super) fn encode_header(seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC);
    h[4..6].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
    h[6..14].copy_from_slice(&seq.to_be_bytes());
    let crc = crc32fast::hash(&h[0..14]);
    h[14..18].copy_from_slice(&crc.to_be_bytes());
    h
}

fn check_header(data: &[u8], seq: u64) -> Result<(), String> {
    let Some(h) = data.get(..HEADER_LEN) else {
        return Err(format!("header truncated: {} of {HEADER_LEN} bytes", data.len()));
    };
    if h[0..4] != MAGIC {
        return Err(format!("bad magic {:02x?}, expected {MAGIC:02x?}", &h[0..4]));
    }
    let stored = be_u32(h, 14).unwrap_or_default();
    let crc = crc32fast::hash(&h[0..14]);
    if stored != crc {
        return Err(format!("header checksum mismatch: stored {stored:#010x}, computed {crc:#010x}"));
    }
    let version = u16::from_be_bytes([h[4], h[5]]);
    if version != FORMAT_VERSION {
        return Err(format!("unsupported format version {version}, this build reads {FORMAT_VERSION}"));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[6..14]);
    let id = u64::from_be_bytes(id);
    if id != seq {
        return Err(format!("header names segment {id} but the file name says {seq}"));
    }
    Ok(())
}

/// What [`check_entry`] found at an offset.
#[derive(Debug, PartialEq, Eq)]
enum EntryCheck {
    /// A well-formed entry; its payload is `data[offset + 8 .. offset + 8 + len]`.
    Valid { len: usize },
    /// The offset is the end of the segment.
    End,
    /// Not a well-formed entry; `next` says how to look for a later one.
    Bad { reason: String, next: Resync },
}

/// Where the search for a later valid entry goes after a bad one (the commit log's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resync {
    /// The length was intact: the next entry starts here.
    Jump(usize),
    /// The length was intact but runs past the end, or is itself cut off: nothing follows.
    PastEnd,
    /// The length cannot be trusted: scan forward byte by byte.
    Scan,
}

fn check_entry(data: &[u8], offset: usize) -> EntryCheck {
    let remaining = data.len().saturating_sub(offset);
    if remaining == 0 {
        return EntryCheck::End;
    }
    let (Some(len_bytes), Some(len_crc)) = (data.get(offset..offset + 4), be_u32(data, offset + 4)) else {
        return bad(format!("entry header truncated: {remaining} bytes left"), Resync::PastEnd);
    };
    if crc32fast::hash(len_bytes) != len_crc {
        return bad("length checksum mismatch".into(), Resync::Scan);
    }
    let len = be_u32(data, offset).unwrap_or_default() as usize;
    if len == 0 || len > MAX_HINT_LEN {
        return bad(format!("impossible entry length {len}"), Resync::Scan);
    }
    let total = len + ENTRY_OVERHEAD;
    if total > remaining {
        return bad(
            format!("entry of {len} bytes runs past the end of the file ({remaining} bytes left)"),
            Resync::PastEnd,
        );
    }
    let payload = &data[offset + 8..offset + 8 + len];
    if crc32fast::hash(payload) != be_u32(data, offset + 8 + len).unwrap_or_default() {
        return bad("payload checksum mismatch".into(), Resync::Jump(offset + total));
    }
    EntryCheck::Valid { len }
}

/// The first valid entry after the bad one at `bad_offset`, or `None` when nothing valid
/// follows (a torn tail).
fn find_later_valid(data: &[u8], bad_offset: usize, mut next: Resync) -> Option<usize> {
    let mut cur = bad_offset;
    loop {
        match next {
            Resync::PastEnd => return None,
            Resync::Scan => {
                let last_start = data.len().checked_sub(MIN_ENTRY_LEN)?;
                return (cur + 1..=last_start)
                    .find(|&o| matches!(check_entry(data, o), EntryCheck::Valid { .. }));
            }
            Resync::Jump(to) => {
                cur = to;
                match check_entry(data, cur) {
                    EntryCheck::Valid { .. } => return Some(cur),
                    EntryCheck::End => return None,
                    EntryCheck::Bad { next: n, .. } => next = n,
                }
            }
        }
    }
}

fn bad(reason: String, next: Resync) -> EntryCheck {
    EntryCheck::Bad { reason, next }
}

fn be_u32(data: &[u8], offset: usize) -> Option<u32> {
    let b = data.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn file_name(seq: u64, suffix: &str) -> String {
    format!("{FILE_PREFIX}{seq}{suffix}")
}

pub(super) fn parse_file_name(name: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(FILE_PREFIX)?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The content of an offset file recording `offset`: the offset, u64 BE, then its CRC32.
pub(super) fn encode_offset(offset: u64) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&offset.to_be_bytes());
    let crc = crc32fast::hash(&out[..8]);
    out[8..].copy_from_slice(&crc.to_be_bytes());
    out
}

/// The offset an offset file records, or `None` (logged) when it is damaged.
pub(super) fn read_offset_file(path: &Path) -> Option<u64> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot read hint offset file; resending its segment");
            return None;
        }
    };
    let valid = data.len() == 12 && be_u32(&data, 8) == Some(crc32fast::hash(&data[..8]));
    if !valid {
        tracing::warn!(file = %path.display(), "damaged hint offset file; resending its segment");
        return None;
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&data[..8]);
    Some(u64::from_be_bytes(offset))
}
