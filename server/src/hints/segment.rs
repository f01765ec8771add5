//! The bytes of a hint segment: its header, the framing of each entry, the payload of a hint
//! and the offset file, laid out in the table of [`super`]; and the walk that reads a segment
//! back. Used by [`super::Hints`] to write and replay. Nothing here trusts the disk: every length
//! is checked against what is there and no decoder panics. The header, the entry framing and the
//! resync rule after a damaged entry are the commit log's ([`storage::commitlog::framing`]).

use anyhow::{Result, bail};
use bytes::Bytes;
use std::fs;
use std::path::Path;
use storage::Mutation;
/// Size of the segment header (magic, version, seq, CRC32) and what each entry adds around its
/// payload (length, CRC(length), CRC(payload)).
pub(super) use storage::commitlog::framing::{ENTRY_OVERHEAD, HEADER_LEN};
use storage::commitlog::framing::{
    EntryCheck, check_entry_max, decode_header_as, encode_header_as, find_later_valid_max,
};

/// First bytes of every hint segment.
const MAGIC: [u8; 4] = *b"TSHT";
/// The segment format version this build writes and reads.
const FORMAT_VERSION: u16 = 1;
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
        match check_entry_max(data, offset, MAX_HINT_LEN) {
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
            EntryCheck::Bad { reason, next } => {
                match find_later_valid_max(data, offset, next, MAX_HINT_LEN) {
                    Some(later) => {
                        tracing::error!(file = %path.display(), offset, %reason, "skipping corrupt hint entry");
                        w.corrupt += 1;
                        offset = later;
                    }
                    None => {
                        tracing::info!(file = %path.display(), offset, %reason, "hint file ends in a torn entry (expected after a crash)");
                        break;
                    }
                }
            }
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
    encode_header_as(MAGIC, FORMAT_VERSION, seq)
}

fn check_header(data: &[u8], seq: u64) -> Result<(), String> {
    let id = decode_header_as(MAGIC, FORMAT_VERSION, data)?;
    if id != seq {
        return Err(format!("header names segment {id} but the file name says {seq}"));
    }
    Ok(())
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
