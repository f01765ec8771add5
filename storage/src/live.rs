//! What a reader sees of a partition — its live rows and live cells — walked without building
//! a [`Partition`].
//!
//! A scan hands out each partition as [`PartitionData`]: either decoded and merged (when
//! several memtables or SSTables held versions of it) or still in its stored encoding, as a
//! slice of one SSTable's chunk. [`PartitionData::for_each_live_row`] visits the live rows of
//! either form with the same rules as [`Partition::purge_shadowed`] followed by
//! [`Partition::live`]: the partition deletion, range tombstones, row deletions and collection
//! deletions shadow what they cover, tombstones and expired cells are skipped, and a row is
//! visible when its marker or one of its cells is live. The stored form is read in place: no
//! allocation per row or cell, names and values borrowed from the chunk.

use crate::cell::{Cell, DeletionTime};
use crate::codec::Reader;
use crate::error::{Error, Result};
use crate::partition::Partition;
use crate::partition_codec::{CellRef, decode_partition, get_cell_ref, malformed, read_deletion};
use crate::row::{CellKey, Row};
use crate::sstable::reader::SSTableReader;
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;

/// One live cell of a [`LiveRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCell<'a> {
    /// Column name.
    pub column: &'a [u8],
    /// Element key in a non-frozen collection; `None` for a simple column.
    pub path: Option<&'a [u8]>,
    /// Timestamp, TTL, expiry and value.
    pub cell: CellRef<'a>,
}

/// A row as a reader sees it (see the module docs).
pub struct LiveRow<'a> {
    /// Encoded clustering key (empty for the static row and for tables without clustering).
    pub clustering: &'a [u8],
    /// True for the partition's static row, which comes before every other row.
    pub is_static: bool,
    /// The row marker, when live.
    pub marker: Option<CellRef<'a>>,
    cells: Cells<'a>,
}

enum Cells<'a> {
    Stored { src: &'a [u8], spans: &'a [CellSpan] },
    Decoded { row: &'a Row, now_secs: i64 },
}

impl<'a> LiveRow<'a> {
    /// The live cells in (column, path) order.
    #[inline]
    pub fn cells(&self) -> impl Iterator<Item = LiveCell<'a>> + 'a {
        LiveCells(match self.cells {
            Cells::Stored { src, spans } => CellsIter::Stored { src, spans: spans.iter() },
            Cells::Decoded { row, now_secs } => CellsIter::Decoded { cells: row.cells.iter(), now_secs },
        })
    }
}

/// The iterator behind [`LiveRow::cells`].
struct LiveCells<'a>(CellsIter<'a>);

enum CellsIter<'a> {
    Stored { src: &'a [u8], spans: std::slice::Iter<'a, CellSpan> },
    Decoded { cells: crate::sorted_map::Iter<'a, CellKey, Cell>, now_secs: i64 },
}

impl<'a> Iterator for LiveCells<'a> {
    type Item = LiveCell<'a>;

    #[inline]
    fn next(&mut self) -> Option<LiveCell<'a>> {
        match &mut self.0 {
            CellsIter::Stored { src, spans } => spans.next().map(|s| s.get(src)),
            CellsIter::Decoded { cells, now_secs } => loop {
                let (k, c) = cells.next()?;
                if c.is_live(*now_secs) {
                    return Some(LiveCell { column: &k.column, path: k.path.as_deref(), cell: cell_ref(c) });
                }
            },
        }
    }
}

fn cell_ref(c: &Cell) -> CellRef<'_> {
    CellRef {
        timestamp: c.timestamp,
        ttl: c.ttl,
        local_deletion_time: c.local_deletion_time,
        value: &c.value,
    }
}

/// A live cell located by offsets into the partition's bytes, so that the buffer holding
/// spans can be reused from one partition to the next.
#[derive(Debug, Clone, Copy)]
struct CellSpan {
    column: (usize, usize),
    path: Option<(usize, usize)>,
    timestamp: i64,
    ttl: u32,
    local_deletion_time: i64,
    value: (usize, usize),
}

impl CellSpan {
    #[inline]
    fn get<'a>(&self, src: &'a [u8]) -> LiveCell<'a> {
        let at = |(from, len): (usize, usize)| src.get(from..from + len).unwrap_or_default();
        LiveCell {
            column: at(self.column),
            path: self.path.map(at),
            cell: CellRef {
                timestamp: self.timestamp,
                ttl: self.ttl,
                local_deletion_time: self.local_deletion_time,
                value: at(self.value),
            },
        }
    }
}

/// Reusable buffers for [`PartitionData::for_each_live_row`]; keep one per scan.
#[derive(Default)]
pub struct RowScratch {
    cells: Vec<CellSpan>,
    complex: Vec<((usize, usize), DeletionTime)>,
}

/// Decoded bytes of one SSTable that a scan cuts partitions out of (a chunk, or one partition
/// joined from the chunks it spans), with the SSTable, for error reports. The partitions of a
/// chunk share it: handing one out costs one reference count.
pub(crate) struct StoredBuffer {
    pub(crate) bytes: Bytes,
    pub(crate) origin: Arc<SSTableReader>,
}

/// A partition of one SSTable, still encoded: the bytes after its key.
#[derive(Clone)]
pub struct StoredPartition {
    buf: Arc<StoredBuffer>,
    body: Range<usize>,
    position: u64,
}

impl StoredPartition {
    /// The partition whose encoding is `buf.bytes[body]`, found at uncompressed offset
    /// `position` of its SSTable.
    pub(crate) fn new(buf: Arc<StoredBuffer>, body: Range<usize>, position: u64) -> Self {
        StoredPartition { buf, body, position }
    }

    /// The encoded bytes.
    #[inline]
    fn body(&self) -> &[u8] {
        self.buf.bytes.get(self.body.clone()).unwrap_or_default()
    }

    fn corrupt(&self, e: Error) -> Error {
        self.buf.origin.partition_error(self.position, &e.to_string())
    }

    /// Decodes the partition (shadowed data not yet purged).
    pub fn decode(&self) -> Result<Partition> {
        let mut r = Reader::new(self.body());
        let p = decode_partition(&mut r, &self.buf.bytes).map_err(|e| self.corrupt(e))?;
        if !r.is_empty() {
            return Err(self.corrupt(Error::Malformed("trailing bytes".into())));
        }
        Ok(p)
    }

    fn for_each_live_row(
        &self,
        now_secs: i64,
        scratch: &mut RowScratch,
        f: &mut dyn FnMut(&LiveRow<'_>) -> bool,
    ) -> Result<()> {
        match walk(self.body(), now_secs, scratch, f) {
            Ok(Walk::Done) => Ok(()),
            Ok(Walk::HasRangeTombstones) => {
                let mut p = self.decode()?;
                p.purge_shadowed();
                p.for_each_live_row(now_secs, f);
                Ok(())
            }
            Err(e) => Err(self.corrupt(e)),
        }
    }
}

/// One partition of a scan; see the module docs.
#[derive(Clone)]
pub enum PartitionData {
    /// Merged from several sources, shadowed data purged.
    Decoded(Box<Partition>),
    /// One SSTable's version, as stored.
    Stored(StoredPartition),
}

impl PartitionData {
    /// The partition as a [`Partition`] with shadowed data purged.
    pub fn into_partition(self) -> Result<Partition> {
        match self {
            PartitionData::Decoded(p) => Ok(*p),
            PartitionData::Stored(s) => {
                let mut p = s.decode()?;
                p.purge_shadowed();
                Ok(p)
            }
        }
    }

    /// Calls `f` with each live row at `now_secs`, static row first, then in clustering
    /// order, until `f` returns false. Fails only on a damaged stored partition.
    pub fn for_each_live_row(
        &self,
        now_secs: i64,
        scratch: &mut RowScratch,
        mut f: impl FnMut(&LiveRow<'_>) -> bool,
    ) -> Result<()> {
        match self {
            PartitionData::Decoded(p) => {
                p.for_each_live_row(now_secs, &mut f);
                Ok(())
            }
            PartitionData::Stored(s) => s.for_each_live_row(now_secs, scratch, &mut f),
        }
    }
}

impl Partition {
    /// Calls `f` with each live row at `now_secs`, static row first, until `f` returns false.
    /// Call on a partition whose shadowed data has been purged (as reads and scans return it).
    pub fn for_each_live_row(&self, now_secs: i64, f: &mut dyn FnMut(&LiveRow<'_>) -> bool) {
        let visit =
            |clustering: &[u8], is_static: bool, row: &Row, f: &mut dyn FnMut(&LiveRow<'_>) -> bool| {
                if !row.has_live_data(now_secs) {
                    return true;
                }
                f(&LiveRow {
                    clustering,
                    is_static,
                    marker: row.marker.as_ref().filter(|m| m.is_live(now_secs)).map(cell_ref),
                    cells: Cells::Decoded { row, now_secs },
                })
            };
        if !visit(&[], true, &self.static_row, f) {
            return;
        }
        for (c, row) in &self.rows {
            if !visit(c, false, row, f) {
                return;
            }
        }
    }
}

enum Walk {
    Done,
    /// Range tombstones need the sweep of [`Partition::purge_shadowed`]: decode instead.
    HasRangeTombstones,
}

#[inline]
fn span(src: &[u8], part: &[u8]) -> (usize, usize) {
    (part.as_ptr() as usize - src.as_ptr() as usize, part.len())
}

/// Walks the encoding in `src` (see [`crate::partition_codec`]) with the same validation as
/// the owned decoder.
fn walk(
    src: &[u8],
    now_secs: i64,
    scratch: &mut RowScratch,
    f: &mut dyn FnMut(&LiveRow<'_>) -> bool,
) -> Result<Walk> {
    let mut r = Reader::new(src);
    let flags = r.u8()?;
    if flags & !0x07 != 0 {
        return Err(bad_flags("partition", flags));
    }
    if flags & 0x04 != 0 {
        return Ok(Walk::HasRangeTombstones);
    }
    let pd = if flags & 0x01 != 0 { read_deletion(&mut r)? } else { DeletionTime::LIVE };
    if flags & 0x02 != 0 {
        let marker = walk_row(&mut r, src, pd, now_secs, scratch)?;
        if (marker.is_some() || !scratch.cells.is_empty())
            && !f(&LiveRow {
                clustering: &[],
                is_static: true,
                marker,
                cells: Cells::Stored { src, spans: &scratch.cells },
            })
        {
            return Ok(Walk::Done);
        }
    }
    let n = r.len(r.remaining())?;
    for _ in 0..n {
        let clustering = r.bytes()?;
        let marker = walk_row(&mut r, src, pd, now_secs, scratch)?;
        if (marker.is_some() || !scratch.cells.is_empty())
            && !f(&LiveRow {
                clustering,
                is_static: false,
                marker,
                cells: Cells::Stored { src, spans: &scratch.cells },
            })
        {
            return Ok(Walk::Done);
        }
    }
    if !r.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(Walk::Done)
}

#[cold]
#[inline(never)]
fn bad_flags(what: &str, flags: u8) -> Error {
    Error::Malformed(format!("unknown {what} flags {flags:#x}"))
}

/// Reads one row body, leaving its live cells in `scratch.cells`; returns the live marker.
#[inline(always)]
fn walk_row<'a>(
    r: &mut Reader<'a>,
    src: &'a [u8],
    outer: DeletionTime,
    now_secs: i64,
    scratch: &mut RowScratch,
) -> Result<Option<CellRef<'a>>> {
    scratch.cells.clear();
    scratch.complex.clear();
    let flags = r.u8()?;
    if flags & !0x07 != 0 {
        return Err(bad_flags("row", flags));
    }
    let marker = if flags & 0x01 != 0 { Some(get_cell_ref(r, false)?.1) } else { None };
    let row_del = if flags & 0x02 != 0 { outer.max(read_deletion(r)?) } else { outer };
    if flags & 0x04 != 0 {
        let n = r.len(r.remaining())?;
        for _ in 0..n {
            let col = r.bytes()?;
            let d = read_deletion(r)?;
            scratch.complex.push((span(src, col), d));
        }
    }
    let n = r.len(r.remaining())?;
    for _ in 0..n {
        let column = r.bytes()?;
        let (path, cell) = get_cell_ref(r, true)?;
        let mut d = row_del;
        if path.is_some() {
            for ((from, len), cd) in &scratch.complex {
                if src.get(*from..*from + *len) == Some(column) {
                    d = d.max(*cd);
                }
            }
        }
        if !d.deletes(cell.timestamp) && cell.is_live(now_secs) {
            scratch.cells.push(CellSpan {
                column: span(src, column),
                path: path.map(|p| span(src, p)),
                timestamp: cell.timestamp,
                ttl: cell.ttl,
                local_deletion_time: cell.local_deletion_time,
                value: span(src, cell.value),
            });
        }
    }
    Ok(marker.filter(|m| !row_del.deletes(m.timestamp) && m.is_live(now_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clustering::ClusteringRange;
    use crate::partition::RangeTombstone;
    use crate::partition_codec::encode_partition;
    use crate::row::CellKey;
    use proptest::prelude::*;

    type Seen = Vec<(Vec<u8>, bool, Option<Cell>, Vec<(CellKey, Cell)>)>;

    fn collect(visit: impl FnOnce(&mut dyn FnMut(&LiveRow<'_>) -> bool)) -> Seen {
        let mut out = Vec::new();
        let owned = |c: CellRef<'_>| Cell {
            timestamp: c.timestamp,
            ttl: c.ttl,
            local_deletion_time: c.local_deletion_time,
            value: Bytes::copy_from_slice(c.value),
        };
        visit(&mut |row| {
            out.push((
                row.clustering.to_vec(),
                row.is_static,
                row.marker.map(owned),
                row.cells()
                    .map(|c| {
                        let key = CellKey {
                            column: Bytes::copy_from_slice(c.column),
                            path: c.path.map(Bytes::copy_from_slice),
                        };
                        (key, owned(c.cell))
                    })
                    .collect(),
            ));
            true
        });
        out
    }

    fn cell_strategy() -> impl Strategy<Value = Cell> {
        (0i64..8, 0u8..4, any::<u8>()).prop_map(|(ts, kind, v)| match kind {
            0 => Cell::tombstone(ts, 100 + ts),
            1 => Cell::expiring(ts, 5, 96 + ts, vec![v]),
            _ => Cell::live(ts, vec![v]),
        })
    }

    fn deletion_strategy() -> impl Strategy<Value = DeletionTime> {
        prop_oneof![Just(DeletionTime::LIVE), (0i64..8).prop_map(|ts| DeletionTime::new(ts, 100 + ts))]
    }

    fn row_strategy() -> impl Strategy<Value = Row> {
        (
            proptest::option::of(cell_strategy()),
            deletion_strategy(),
            proptest::collection::btree_map(0u8..3, deletion_strategy(), 0..2),
            proptest::collection::vec(((0u8..3, proptest::option::of(0u8..3)), cell_strategy()), 0..6),
        )
            .prop_map(|(marker, deletion, complex, cells)| {
                let mut r = Row {
                    marker: marker.map(|mut m| {
                        m.value = Bytes::new();
                        m
                    }),
                    deletion,
                    ..Default::default()
                };
                for (col, d) in complex {
                    if !d.is_live() {
                        r.complex_deletions.insert(Bytes::from(vec![b'a' + col]), d);
                    }
                }
                for ((col, path), c) in cells {
                    let key = CellKey {
                        column: Bytes::from(vec![b'a' + col]),
                        path: path.map(|p| Bytes::from(vec![p])),
                    };
                    r.cells.insert(key, c);
                }
                r
            })
    }

    fn partition_strategy() -> impl Strategy<Value = Partition> {
        (
            deletion_strategy(),
            row_strategy(),
            proptest::collection::btree_map(0u8..6, row_strategy(), 0..5),
            proptest::collection::vec((0u8..6, 0u8..6, 0i64..8), 0..2),
        )
            .prop_map(|(deletion, static_row, rows, rts)| {
                let mut p = Partition { deletion, static_row, ..Default::default() };
                for (c, r) in rows {
                    p.rows.insert(Bytes::from(vec![c]), r);
                }
                for (lo, hi, ts) in rts {
                    if let Some(range) = ClusteringRange::from_prefix_bounds(
                        Some((&[lo.min(hi)], true)),
                        Some((&[lo.max(hi)], true)),
                    ) {
                        p.range_tombstones
                            .push(RangeTombstone { range, deletion: DeletionTime::new(ts, 100 + ts) });
                    }
                }
                p
            })
    }

    proptest! {
        #[test]
        fn walking_the_encoding_sees_what_the_decoded_partition_shows(p in partition_strategy(), now in 95i64..110) {
            let mut buf = Vec::new();
            encode_partition(&mut buf, &p);
            let mut scratch = RowScratch::default();
            let walked = collect(|f| match walk(&buf, now, &mut scratch, f).unwrap() {
                Walk::Done => {}
                Walk::HasRangeTombstones => {
                    assert!(!p.range_tombstones.is_empty());
                    let mut q = p.clone();
                    q.purge_shadowed();
                    q.for_each_live_row(now, f);
                }
            });
            let mut q = p.clone();
            q.purge_shadowed();
            let live = q.live(now);
            let expected: Seen = std::iter::once((Vec::new(), true, &live.static_row))
                .filter(|(_, _, r)| !r.is_empty())
                .chain(live.rows.iter().map(|(c, r)| (c.to_vec(), false, r)))
                .map(|(c, s, r)| (c, s, r.marker.clone(), r.cells.iter().map(|(k, c)| (k.clone(), c.clone())).collect()))
                .collect();
            prop_assert_eq!(walked, expected);
        }
    }

    #[test]
    fn a_visitor_can_stop_early() {
        let mut p = Partition::default();
        for c in 0..5u8 {
            let mut r = Row::default();
            r.cells.insert(CellKey::simple("v"), Cell::live(1, vec![c]));
            p.rows.insert(Bytes::from(vec![c]), r);
        }
        let mut buf = Vec::new();
        encode_partition(&mut buf, &p);
        let mut seen = 0;
        let mut scratch = RowScratch::default();
        assert!(matches!(
            walk(&buf, 0, &mut scratch, &mut |_| {
                seen += 1;
                seen < 2
            }),
            Ok(Walk::Done)
        ));
        assert_eq!(seen, 2);
    }

    #[test]
    fn damaged_encodings_are_errors_not_panics() {
        let mut p = Partition::default();
        let mut r = Row { marker: Some(Cell::live(1, Bytes::new())), ..Default::default() };
        r.complex_deletions.insert(Bytes::from_static(b"m"), DeletionTime::new(1, 5));
        r.cells.insert(CellKey::element("m", "k"), Cell::expiring(2, 9, 5, "v"));
        p.rows.insert(Bytes::from_static(b"c"), r);
        let mut buf = Vec::new();
        encode_partition(&mut buf, &p);
        for cut in 0..buf.len() {
            let mut scratch = RowScratch::default();
            assert!(walk(&buf[..cut], 0, &mut scratch, &mut |_| true).is_err(), "cut at {cut}");
        }
    }
}
