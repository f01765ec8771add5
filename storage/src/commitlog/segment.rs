//! One commit log segment file: its name, its 18-byte header and the framing of each entry.
//!
//! Used by the writer in [`super`] to lay bytes out and by [`super::replay`] to check them.
//! Every decoder here takes the whole segment as a byte slice and never panics: lengths are
//! bounds-checked against what is actually there. The byte layout is tabled in [`super`].

use std::path::Path;

/// First bytes of every segment.
pub const MAGIC: [u8; 4] = *b"TSCL";
/// The segment format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the segment header: magic, version, segment id, CRC32.
pub const HEADER_LEN: usize = 18;
/// Bytes each entry adds around its payload: length, CRC(length), CRC(payload).
pub const ENTRY_OVERHEAD: usize = 12;
/// Smallest well-formed entry (a one-byte payload; empty payloads are never written).
const MIN_ENTRY_LEN: usize = ENTRY_OVERHEAD + 1;

const FILE_PREFIX: &str = "CommitLog-1-";
const FILE_SUFFIX: &str = ".log";

/// The file name of segment `id`: `CommitLog-1-<id>.log`.
pub fn file_name(id: u64) -> String {
    format!("{FILE_PREFIX}{id}{FILE_SUFFIX}")
}

/// The segment id named by `path`, or `None` when the file is not a segment of this format.
pub fn parse_file_name(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix(FILE_PREFIX)?.strip_suffix(FILE_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The largest payload a log with segments of `segment_size` bytes accepts: an entry plus a
/// segment header must fit in half a segment (Cassandra's `max_mutation_size` default).
pub fn max_payload_len(segment_size: u64) -> u64 {
    (segment_size / 2).saturating_sub((HEADER_LEN + ENTRY_OVERHEAD) as u64)
}

/// The header of segment `id`.
pub fn encode_header(id: u64) -> [u8; HEADER_LEN] {
    encode_header_as(MAGIC, FORMAT_VERSION, id)
}

/// [`encode_header`] for another file kind framed the same way (hint segments), with its own
/// magic and format version.
pub fn encode_header_as(magic: [u8; 4], version: u16, id: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&magic);
    h[4..6].copy_from_slice(&version.to_be_bytes());
    h[6..14].copy_from_slice(&id.to_be_bytes());
    let crc = crc32fast::hash(&h[0..14]);
    h[14..18].copy_from_slice(&crc.to_be_bytes());
    h
}

/// Checks the header at the start of `data` and returns the segment id it carries, or why the
/// header is unusable.
pub fn decode_header(data: &[u8]) -> Result<u64, String> {
    decode_header_as(MAGIC, FORMAT_VERSION, data)
}

/// [`decode_header`] for another file kind framed the same way, with its own magic and format
/// version.
pub fn decode_header_as(magic: [u8; 4], version: u16, data: &[u8]) -> Result<u64, String> {
    let format_version = version;
    let Some(h) = data.get(..HEADER_LEN) else {
        return Err(format!("header truncated: {} of {HEADER_LEN} bytes", data.len()));
    };
    if h[0..4] != magic {
        return Err(format!("bad magic {:02x?}, expected {magic:02x?}", &h[0..4]));
    }
    let stored = be_u32(h, 14).unwrap_or_default();
    let crc = crc32fast::hash(&h[0..14]);
    if stored != crc {
        return Err(format!("header checksum mismatch: stored {stored:#010x}, computed {crc:#010x}"));
    }
    let version = u16::from_be_bytes([h[4], h[5]]);
    if version != format_version {
        return Err(format!("unsupported format version {version}, this build reads {format_version}"));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&h[6..14]);
    Ok(u64::from_be_bytes(id))
}

/// Appends the framed entry for `payload` to `out`: `len | crc(len) | payload | crc(payload)`.
/// The caller has checked that `payload` is non-empty and fits in a `u32`.
pub fn encode_entry(out: &mut Vec<u8>, payload: &[u8]) {
    let len = (payload.len() as u32).to_be_bytes();
    out.reserve(payload.len() + ENTRY_OVERHEAD);
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32fast::hash(&len).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
}

/// What [`check_entry`] found at an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCheck {
    /// A well-formed entry; its payload is `data[offset + 8 .. offset + 8 + len]`.
    Valid {
        /// Payload length.
        len: usize,
    },
    /// The offset is exactly the end of the segment: nothing more to read.
    End,
    /// Not a well-formed entry.
    Bad {
        /// Why, for the operator.
        reason: String,
        /// How to look for the next entry.
        next: Resync,
    },
}

/// Where the search for a later valid entry goes after a bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// The length was intact (its CRC matched): the next entry starts at this offset.
    Jump(usize),
    /// The length was intact but the entry runs past the end of the segment (or the length
    /// field itself is cut off): nothing can follow it.
    PastEnd,
    /// The length cannot be trusted: scan forward byte by byte.
    Scan,
}

/// Checks the entry starting at `offset` of the segment `data`.
pub fn check_entry(data: &[u8], offset: usize) -> EntryCheck {
    check_entry_max(data, offset, usize::MAX)
}

/// [`check_entry`], also refusing a length above `max_len` as impossible (a length that passed
/// its checksum by chance): for files whose writer has such a limit.
pub fn check_entry_max(data: &[u8], offset: usize, max_len: usize) -> EntryCheck {
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
    if len == 0 {
        return bad("zero-length entry".into(), Resync::Scan);
    }
    if len > max_len {
        return bad(format!("impossible entry length {len}"), Resync::Scan);
    }
    let total = len.saturating_add(ENTRY_OVERHEAD);
    if total > remaining {
        return bad(
            format!("entry of {len} bytes runs past the end of the segment ({remaining} bytes left)"),
            Resync::PastEnd,
        );
    }
    let payload = &data[offset + 8..offset + 8 + len];
    let stored = be_u32(data, offset + 8 + len).unwrap_or_default();
    if crc32fast::hash(payload) != stored {
        return bad("payload checksum mismatch".into(), Resync::Jump(offset + total));
    }
    EntryCheck::Valid { len }
}

/// Looks for the first valid entry after the bad entry at `bad_offset` (whose check said
/// `next`), following the commit log's resync rule: jump over entries whose length is intact,
/// scan byte by byte past entries whose length is not. `None` means nothing valid follows, so
/// the bad entry is a torn tail.
pub fn find_later_valid(data: &[u8], bad_offset: usize, next: Resync) -> Option<usize> {
    find_later_valid_max(data, bad_offset, next, usize::MAX)
}

/// [`find_later_valid`] with entries checked by [`check_entry_max`].
pub fn find_later_valid_max(
    data: &[u8],
    bad_offset: usize,
    mut next: Resync,
    max_len: usize,
) -> Option<usize> {
    let mut cur = bad_offset;
    loop {
        match next {
            Resync::PastEnd => return None,
            Resync::Scan => return scan_for_valid(data, cur + 1, max_len),
            Resync::Jump(to) => {
                cur = to;
                match check_entry_max(data, cur, max_len) {
                    EntryCheck::Valid { .. } => return Some(cur),
                    EntryCheck::End => return None,
                    EntryCheck::Bad { next: n, .. } => next = n,
                }
            }
        }
    }
}

/// The first offset at or after `from` where a complete valid entry parses.
fn scan_for_valid(data: &[u8], from: usize, max_len: usize) -> Option<usize> {
    let last_start = data.len().checked_sub(MIN_ENTRY_LEN)?;
    (from..=last_start).find(|&o| matches!(check_entry_max(data, o, max_len), EntryCheck::Valid { .. }))
}

fn bad(reason: String, next: Resync) -> EntryCheck {
    EntryCheck::Bad { reason, next }
}

fn be_u32(data: &[u8], offset: usize) -> Option<u32> {
    let b = data.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A whole segment in memory (header then `payloads`), with each entry's start offset.
#[cfg(test)]
pub(crate) fn test_segment(id: u64, payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
    let mut data = encode_header(id).to_vec();
    let mut starts = Vec::new();
    for p in payloads {
        starts.push(data.len());
        encode_entry(&mut data, p);
    }
    (data, starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn segment(id: u64, payloads: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        test_segment(id, payloads)
    }

    #[test]
    fn file_names_round_trip() {
        assert_eq!(file_name(42), "CommitLog-1-42.log");
        assert_eq!(parse_file_name(&PathBuf::from("/x/CommitLog-1-42.log")), Some(42));
        for bad in ["CommitLog-1-.log", "CommitLog-2-42.log", "CommitLog-1-4x.log", "CommitLog-1-42"] {
            assert_eq!(parse_file_name(&PathBuf::from(bad)), None, "{bad}");
        }
        assert_eq!(parse_file_name(&PathBuf::from("CommitLog-1-99999999999999999999.log")), None);
    }

    #[test]
    fn header_round_trip_and_damage() {
        let h = encode_header(7);
        assert_eq!(h.len(), HEADER_LEN);
        assert_eq!(decode_header(&h), Ok(7));
        assert!(decode_header(&h[..10]).unwrap_err().contains("truncated"));
        let mut m = h;
        m[0] = b'X';
        assert!(decode_header(&m).unwrap_err().contains("magic"));
        let mut v = h;
        v[5] = 2;
        assert!(decode_header(&v).unwrap_err().contains("checksum"));
        // A correctly checksummed header of another version is named as such.
        let mut other = h;
        other[5] = 2;
        let crc = crc32fast::hash(&other[0..14]);
        other[14..18].copy_from_slice(&crc.to_be_bytes());
        assert!(decode_header(&other).unwrap_err().contains("version 2"));
    }

    #[test]
    fn entries_frame_and_check() {
        let (data, starts) = segment(1, &[b"hello", b"w"]);
        assert_eq!(starts, vec![HEADER_LEN, HEADER_LEN + 5 + ENTRY_OVERHEAD]);
        assert_eq!(check_entry(&data, starts[0]), EntryCheck::Valid { len: 5 });
        assert_eq!(&data[starts[0] + 8..starts[0] + 13], b"hello");
        assert_eq!(check_entry(&data, starts[1]), EntryCheck::Valid { len: 1 });
        assert_eq!(check_entry(&data, data.len()), EntryCheck::End);
        assert!(matches!(check_entry(&data, data.len() - 1), EntryCheck::Bad { next: Resync::PastEnd, .. }));
    }

    #[test]
    fn resync_jumps_over_bad_payload_and_scans_over_bad_length() {
        let (data, starts) = segment(1, &[b"aaaa", b"bbbb", b"cccc"]);
        let mut payload_flip = data.clone();
        payload_flip[starts[0] + 9] ^= 1;
        let EntryCheck::Bad { next, .. } = check_entry(&payload_flip, starts[0]) else { panic!() };
        assert_eq!(next, Resync::Jump(starts[1]));
        assert_eq!(find_later_valid(&payload_flip, starts[0], next), Some(starts[1]));

        let mut len_flip = data.clone();
        len_flip[starts[1] + 2] ^= 0x10;
        let EntryCheck::Bad { next, .. } = check_entry(&len_flip, starts[1]) else { panic!() };
        assert_eq!(next, Resync::Scan);
        assert_eq!(find_later_valid(&len_flip, starts[1], next), Some(starts[2]));

        // The last entry damaged: nothing valid follows.
        let mut last = data.clone();
        last[starts[2] + 9] ^= 1;
        let EntryCheck::Bad { next, .. } = check_entry(&last, starts[2]) else { panic!() };
        assert_eq!(find_later_valid(&last, starts[2], next), None);
    }

    #[test]
    fn zero_filled_tail_is_not_an_entry() {
        let (mut data, _) = segment(1, &[b"x"]);
        let end = data.len();
        data.extend_from_slice(&[0u8; 64]);
        let EntryCheck::Bad { next, .. } = check_entry(&data, end) else { panic!() };
        assert_eq!(find_later_valid(&data, end, next), None);
    }

    #[test]
    fn max_payload_is_half_a_segment_less_framing() {
        assert_eq!(max_payload_len(32 << 20), (16 << 20) - 30);
        assert_eq!(max_payload_len(10), 0);
    }
}
