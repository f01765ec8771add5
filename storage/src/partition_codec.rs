//! The binary encoding of a [`Partition`], shared by mutations (commit log, internode
//! messages, hints) and SSTable data. Decoding never panics and bounds every count by the
//! bytes that remain.
//!
//! | field | encoding |
//! |---|---|
//! | flags | u8: 0x01 partition deletion, 0x02 static row, 0x04 range tombstones |
//! | deletion | varint marked_for_delete_at, varint local_deletion_time |
//! | static row | row body |
//! | range tombstones | uvarint n, n × (bytes start, u8 has_end, [bytes end], deletion) |
//! | rows | uvarint n, n × (bytes clustering, row body) |
//! | row body | u8 flags (0x01 marker, 0x02 deletion, 0x04 complex deletions), [marker cell header], [deletion], [uvarint n, n × (bytes column, deletion)], uvarint cells, cells |
//! | cell | bytes column, u8 flags (0x01 path, 0x02 expiring, 0x04 tombstone), [bytes path], varint timestamp, [uvarint ttl], [varint local_deletion_time], [bytes value unless tombstone] |
//!
//! `bytes` = uvarint length + raw bytes.

use crate::cell::{Cell, DeletionTime, NO_DELETION_TIME};
use crate::clustering::ClusteringRange;
use crate::codec::{Reader, put_bytes, put_uvarint, put_varint};
use crate::error::{Error, Result};
use crate::partition::{Partition, RangeTombstone};
use crate::row::{CellKey, Row};
use crate::sorted_map::{SMALL, SortedMap};
use bytes::Bytes;

fn put_deletion(out: &mut Vec<u8>, d: &DeletionTime) {
    put_varint(out, d.marked_for_delete_at);
    put_varint(out, d.local_deletion_time);
}

#[inline]
fn get_deletion(r: &mut Reader<'_>) -> Result<DeletionTime> {
    Ok(DeletionTime { marked_for_delete_at: r.varint()?, local_deletion_time: r.varint()? })
}

fn put_cell_body(out: &mut Vec<u8>, path: Option<&Bytes>, c: &Cell, with_value: bool) {
    let mut flags = 0u8;
    if path.is_some() {
        flags |= 0x01;
    }
    if c.ttl > 0 {
        flags |= 0x02;
    }
    if c.is_tombstone() {
        flags |= 0x04;
    }
    out.push(flags);
    if let Some(p) = path {
        put_bytes(out, p);
    }
    put_varint(out, c.timestamp);
    if c.ttl > 0 {
        put_uvarint(out, u64::from(c.ttl));
    }
    if flags & 0x06 != 0 {
        put_varint(out, c.local_deletion_time);
    }
    if with_value && !c.is_tombstone() {
        put_bytes(out, &c.value);
    }
}

/// A cell as encoded, borrowed from the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef<'a> {
    /// Write timestamp, microseconds.
    pub timestamp: i64,
    /// Time to live in seconds; 0 for none.
    pub ttl: u32,
    /// Expiry or deletion time (seconds); `NO_DELETION_TIME` for a plain live cell.
    pub local_deletion_time: i64,
    /// The value (empty for tombstones and markers).
    pub value: &'a [u8],
}

impl CellRef<'_> {
    /// Same rule as [`Cell::is_live`].
    #[inline]
    pub fn is_live(&self, now_secs: i64) -> bool {
        self.local_deletion_time == NO_DELETION_TIME || (self.ttl > 0 && now_secs < self.local_deletion_time)
    }
}

/// Reads one cell body (everything after the column name), validating it exactly as the
/// owned decoder does. Returns the cell path, if any, and the cell.
#[inline(always)]
pub(crate) fn get_cell_ref<'a>(
    r: &mut Reader<'a>,
    with_value: bool,
) -> Result<(Option<&'a [u8]>, CellRef<'a>)> {
    let flags = r.u8()?;
    if flags & !0x07 != 0 || flags & 0x06 == 0x06 {
        return Err(bad_cell_flags(flags));
    }
    let path = if flags & 0x01 != 0 { Some(r.bytes()?) } else { None };
    let timestamp = r.varint()?;
    let ttl = if flags & 0x02 != 0 {
        match u32::try_from(r.uvarint()?) {
            Ok(t) if t > 0 => t,
            _ => return Err(malformed("an expiring cell needs a ttl between 1 and 2^32-1")),
        }
    } else {
        0
    };
    let expiring_or_tomb = flags & 0x06 != 0;
    let local_deletion_time = if expiring_or_tomb { r.varint()? } else { NO_DELETION_TIME };
    if flags & 0x04 != 0 && local_deletion_time == NO_DELETION_TIME {
        return Err(malformed("tombstone without a deletion time"));
    }
    let value: &[u8] = if with_value && flags & 0x04 == 0 { r.bytes()? } else { &[] };
    Ok((path, CellRef { timestamp, ttl, local_deletion_time, value }))
}

#[cold]
#[inline(never)]
fn bad_cell_flags(flags: u8) -> Error {
    if flags & !0x07 != 0 {
        Error::Malformed(format!("unknown cell flags {flags:#x}"))
    } else {
        Error::Malformed("a cell cannot be both expiring and a tombstone".into())
    }
}

/// A malformed-encoding error, built out of line.
#[cold]
#[inline(never)]
pub(crate) fn malformed(reason: &str) -> Error {
    Error::Malformed(reason.into())
}

fn get_cell_body(r: &mut Reader<'_>, src: &Bytes, with_value: bool) -> Result<(Option<Bytes>, Cell)> {
    let (path, c) = get_cell_ref(r, with_value)?;
    Ok((
        path.map(|p| slice_of(src, p)),
        Cell {
            timestamp: c.timestamp,
            ttl: c.ttl,
            local_deletion_time: c.local_deletion_time,
            value: slice_of(src, c.value),
        },
    ))
}

/// Reads a deletion (for the borrowed decoder in [`crate::live`]).
#[inline]
pub(crate) fn read_deletion(r: &mut Reader<'_>) -> Result<DeletionTime> {
    get_deletion(r)
}

/// Returns `part` as a zero-copy `Bytes` when it lies inside `src`, else a copy.
#[inline]
fn slice_of(src: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    let base = src.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p >= base && p + part.len() <= base + src.len() {
        src.slice(p - base..p - base + part.len())
    } else {
        Bytes::copy_from_slice(part)
    }
}

fn put_row(out: &mut Vec<u8>, row: &Row) {
    let mut flags = 0u8;
    if row.marker.is_some() {
        flags |= 0x01;
    }
    if !row.deletion.is_live() {
        flags |= 0x02;
    }
    if !row.complex_deletions.is_empty() {
        flags |= 0x04;
    }
    out.push(flags);
    if let Some(m) = &row.marker {
        put_cell_body(out, None, m, false);
    }
    if !row.deletion.is_live() {
        put_deletion(out, &row.deletion);
    }
    if !row.complex_deletions.is_empty() {
        put_uvarint(out, row.complex_deletions.len() as u64);
        for (col, d) in &row.complex_deletions {
            put_bytes(out, col);
            put_deletion(out, d);
        }
    }
    put_uvarint(out, row.cells.len() as u64);
    for (k, c) in &row.cells {
        put_bytes(out, &k.column);
        put_cell_body(out, k.path.as_ref(), c, true);
    }
}

fn get_row(r: &mut Reader<'_>, src: &Bytes) -> Result<Row> {
    let flags = r.u8()?;
    if flags & !0x07 != 0 {
        return Err(Error::Malformed(format!("unknown row flags {flags:#x}")));
    }
    let mut row = Row::default();
    if flags & 0x01 != 0 {
        row.marker = Some(get_cell_body(r, src, false)?.1);
    }
    if flags & 0x02 != 0 {
        row.deletion = get_deletion(r)?;
    }
    if flags & 0x04 != 0 {
        let n = r.len(r.remaining())?;
        for _ in 0..n {
            let col = slice_of(src, r.bytes()?);
            let d = get_deletion(r)?;
            row.complex_deletions.insert(col, d);
        }
    }
    let n = r.len(r.remaining())?;
    row.cells = SortedMap::with_capacity(n.min(SMALL + 1));
    for _ in 0..n {
        let column = slice_of(src, r.bytes()?);
        let (path, cell) = get_cell_body(r, src, true)?;
        row.cells.push_sorted(CellKey { column, path }, cell);
    }
    Ok(row)
}

/// Appends the encoding of `p` to `out`.
pub fn encode_partition(out: &mut Vec<u8>, p: &Partition) {
    let mut flags = 0u8;
    if !p.deletion.is_live() {
        flags |= 0x01;
    }
    if !p.static_row.is_empty() {
        flags |= 0x02;
    }
    if !p.range_tombstones.is_empty() {
        flags |= 0x04;
    }
    out.push(flags);
    if !p.deletion.is_live() {
        put_deletion(out, &p.deletion);
    }
    if !p.static_row.is_empty() {
        put_row(out, &p.static_row);
    }
    if !p.range_tombstones.is_empty() {
        put_uvarint(out, p.range_tombstones.len() as u64);
        for rt in &p.range_tombstones {
            put_bytes(out, &rt.range.start);
            match &rt.range.end {
                None => out.push(0),
                Some(e) => {
                    out.push(1);
                    put_bytes(out, e);
                }
            }
            put_deletion(out, &rt.deletion);
        }
    }
    put_uvarint(out, p.rows.len() as u64);
    for (c, row) in &p.rows {
        put_bytes(out, c);
        put_row(out, row);
    }
}

/// Decodes one partition from the reader; `src` is the buffer the reader reads, so that
/// values can be returned as zero-copy slices of it.
pub fn decode_partition(r: &mut Reader<'_>, src: &Bytes) -> Result<Partition> {
    let flags = r.u8()?;
    if flags & !0x07 != 0 {
        return Err(Error::Malformed(format!("unknown partition flags {flags:#x}")));
    }
    let mut p = Partition::default();
    if flags & 0x01 != 0 {
        p.deletion = get_deletion(r)?;
    }
    if flags & 0x02 != 0 {
        p.static_row = get_row(r, src)?;
    }
    if flags & 0x04 != 0 {
        let n = r.len(r.remaining())?;
        let mut rts = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let start = slice_of(src, r.bytes()?);
            let end = match r.u8()? {
                0 => None,
                1 => Some(slice_of(src, r.bytes()?)),
                other => return Err(Error::Malformed(format!("bad range end flag {other}"))),
            };
            let deletion = get_deletion(r)?;
            rts.push(RangeTombstone { range: ClusteringRange { start, end }, deletion });
        }
        p.range_tombstones = rts;
    }
    let n = r.len(r.remaining())?;
    p.rows = SortedMap::with_capacity(n.min(SMALL + 1));
    for _ in 0..n {
        let c = slice_of(src, r.bytes()?);
        let row = get_row(r, src)?;
        p.rows.push_sorted(c, row);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Partition {
        let mut p = Partition { deletion: DeletionTime::new(3, 100), ..Default::default() };
        p.static_row.cells.insert(CellKey::simple("s"), Cell::live(9, "static"));
        p.range_tombstones.push(RangeTombstone {
            range: ClusteringRange::prefix(Bytes::from_static(b"r")),
            deletion: DeletionTime::new(4, 101),
        });
        p.range_tombstones.push(RangeTombstone {
            range: ClusteringRange { start: Bytes::from_static(b"x"), end: None },
            deletion: DeletionTime::new(5, 102),
        });
        let mut row = Row { marker: Some(Cell::expiring(7, 60, 1000, Bytes::new())), ..Default::default() };
        row.deletion = DeletionTime::new(6, 103);
        row.complex_deletions.insert(Bytes::from_static(b"m"), DeletionTime::new(6, 104));
        row.cells.insert(CellKey::simple("a"), Cell::live(8, "va"));
        row.cells.insert(CellKey::simple("b"), Cell::tombstone(8, 105));
        row.cells.insert(CellKey::element("m", "k"), Cell::expiring(8, 5, 200, "vm"));
        p.rows.insert(Bytes::from_static(b"c1"), row);
        p.rows.insert(Bytes::from_static(b"c2"), Row::default());
        p
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let mut buf = Vec::new();
        encode_partition(&mut buf, &p);
        let src = Bytes::from(buf);
        let mut r = Reader::new(&src);
        let q = decode_partition(&mut r, &src).unwrap();
        assert!(r.is_empty());
        assert_eq!(p, q);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        encode_partition(&mut buf, &sample());
        for cut in 0..buf.len() {
            let src = Bytes::copy_from_slice(&buf[..cut]);
            assert!(decode_partition(&mut Reader::new(&src), &src).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn expiring_flag_with_zero_ttl_is_rejected() {
        // Found by fuzzing: it decoded to a tombstone carrying a value, which re-encoded
        // differently.
        let mut buf = Vec::new();
        buf.push(0x02);
        put_varint(&mut buf, 5);
        put_uvarint(&mut buf, 0);
        put_varint(&mut buf, 0);
        put_bytes(&mut buf, b"v");
        let src = Bytes::from(buf);
        assert!(get_cell_body(&mut Reader::new(&src), &src, true).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        for len in 0..2000usize {
            let buf: Vec<u8> = (0..len % 97)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let src = Bytes::from(buf);
            let _ = decode_partition(&mut Reader::new(&src), &src);
        }
    }
}
