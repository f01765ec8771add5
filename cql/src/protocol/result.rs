//! RESULT bodies (spec §4.2.5): `[int] kind` then Void (1, empty), Rows (2), Set_keyspace (3,
//! `[string]`), Prepared (4) or Schema_change (5). The server builds Rows with [`RowsWriter`].
//!
//! | part            | layout                                                                   |
//! |-----------------|--------------------------------------------------------------------------|
//! | rows metadata   | `[int] flags [int] n` [`[bytes] paging_state` if 0x02] then, unless 0x04, [`[string] ks [string] table` if 0x01] n × col_spec |
//! | col_spec        | [`[string] ks [string] table` if not 0x01] `[string] name [option] type`  |
//! | Rows            | metadata `[int] rows_count` rows_count × n × `[bytes]`                   |
//! | prepared meta   | `[int] flags [int] n [int] pk_count` pk_count × `[short]` [global spec] n × col_spec |
//! | Prepared        | `[short bytes] id` prepared meta, rows metadata                          |
//!
//! Metadata flags: 0x0001 Global_tables_spec, 0x0002 Has_more_pages, 0x0004 No_metadata.

use bytes::{BufMut, Bytes, BytesMut};

use super::event::SchemaChange;
use super::notation::{Reader, put_bytes, put_int, put_short, put_short_bytes, put_string};
use super::type_option::{read_type, write_type};
use crate::error::Result;
use crate::types::CqlType;

/// RESULT kinds.
pub mod result_kind {
    pub const VOID: i32 = 0x0001;
    pub const ROWS: i32 = 0x0002;
    pub const SET_KEYSPACE: i32 = 0x0003;
    pub const PREPARED: i32 = 0x0004;
    pub const SCHEMA_CHANGE: i32 = 0x0005;
}

/// Rows / prepared metadata flags.
pub mod metadata_flags {
    pub const GLOBAL_TABLES_SPEC: i32 = 0x0001;
    pub const HAS_MORE_PAGES: i32 = 0x0002;
    pub const NO_METADATA: i32 = 0x0004;
}

/// A result column or a bind marker: where it comes from, its name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub keyspace: String,
    pub table: String,
    pub name: String,
    pub ty: CqlType,
}

impl ColumnSpec {
    /// A column of `keyspace.table`.
    pub fn new(keyspace: &str, table: &str, name: &str, ty: CqlType) -> ColumnSpec {
        ColumnSpec { keyspace: keyspace.into(), table: table.into(), name: name.into(), ty }
    }
}

/// True when every column shares the first one's table, so one global spec can be sent.
fn shares_one_table(columns: &[ColumnSpec]) -> bool {
    match columns.first() {
        Some(first) => columns.iter().all(|c| c.keyspace == first.keyspace && c.table == first.table),
        None => false,
    }
}

/// Writes column specs, with one global table spec when all share one table.
fn write_specs(columns: &[ColumnSpec], out: &mut BytesMut) {
    let global = shares_one_table(columns);
    if let (true, Some(first)) = (global, columns.first()) {
        put_string(out, &first.keyspace);
        put_string(out, &first.table);
    }
    for c in columns {
        if !global {
            put_string(out, &c.keyspace);
            put_string(out, &c.table);
        }
        put_string(out, &c.name);
        write_type(&c.ty, out);
    }
}

fn read_specs(r: &mut Reader<'_>, count: usize, global: bool) -> Result<Vec<ColumnSpec>> {
    let table = if global { Some((r.read_string()?, r.read_string()?)) } else { None };
    // Each spec holds at least a [string] name and an [option] id.
    let count = r.check_count(count as u64, 4, "column specs")?;
    let mut columns = Vec::with_capacity(count);
    for _ in 0..count {
        let (keyspace, table) = match &table {
            Some((ks, t)) => (ks.clone(), t.clone()),
            None => (r.read_string()?, r.read_string()?),
        };
        let name = r.read_string()?;
        let ty = read_type(r)?;
        columns.push(ColumnSpec { keyspace, table, name, ty });
    }
    Ok(columns)
}

fn read_count(r: &mut Reader<'_>, what: &str) -> Result<usize> {
    let n = r.read_int()?;
    usize::try_from(n).map_err(|_| r.error(format_args!("negative {what} {n}")))
}

/// Metadata of a Rows result (or of a prepared statement's result).
///
/// With `no_metadata` only the flags, the column count and the paging state go on the wire.
/// The count is `columns.len()`, except when `no_metadata` is set and `columns` is empty: then
/// it is `column_count` (a decoder that received No_metadata cannot know the specs, so it
/// leaves `columns` empty and fills `column_count`). Use [`RowsMetadata::columns_per_row`];
/// equality compares it rather than the raw `column_count`, so metadata built with
/// `..Default::default()` equals its decoded form.
#[derive(Debug, Clone, Default)]
pub struct RowsMetadata {
    pub columns: Vec<ColumnSpec>,
    /// Set when more pages follow (flag Has_more_pages).
    pub paging_state: Option<Bytes>,
    pub no_metadata: bool,
    /// The column count when `no_metadata` is set and `columns` is empty.
    pub column_count: usize,
}

impl PartialEq for RowsMetadata {
    fn eq(&self, other: &Self) -> bool {
        self.columns == other.columns
            && self.paging_state == other.paging_state
            && self.no_metadata == other.no_metadata
            && self.columns_per_row() == other.columns_per_row()
    }
}

impl RowsMetadata {
    /// Full metadata for `columns`.
    pub fn new(columns: Vec<ColumnSpec>) -> RowsMetadata {
        let column_count = columns.len();
        RowsMetadata { columns, paging_state: None, no_metadata: false, column_count }
    }

    /// No_metadata with `column_count` columns per row.
    pub fn without_specs(column_count: usize) -> RowsMetadata {
        RowsMetadata { columns: Vec::new(), paging_state: None, no_metadata: true, column_count }
    }

    /// The number of cells in each row.
    pub fn columns_per_row(&self) -> usize {
        if self.no_metadata && self.columns.is_empty() { self.column_count } else { self.columns.len() }
    }

    /// The metadata flags this encodes with.
    pub fn flags(&self) -> i32 {
        let mut f = 0;
        if self.paging_state.is_some() {
            f |= metadata_flags::HAS_MORE_PAGES;
        }
        if self.no_metadata {
            f |= metadata_flags::NO_METADATA;
        } else if shares_one_table(&self.columns) {
            f |= metadata_flags::GLOBAL_TABLES_SPEC;
        }
        f
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        put_int(out, self.flags());
        put_int(out, i32::try_from(self.columns_per_row()).unwrap_or(i32::MAX));
        if let Some(p) = &self.paging_state {
            put_bytes(out, Some(p));
        }
        if !self.no_metadata {
            write_specs(&self.columns, out);
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RowsMetadata> {
        let flags = r.read_int()?;
        let count = read_count(r, "column count")?;
        let paging_state = if flags & metadata_flags::HAS_MORE_PAGES != 0 { r.read_bytes()? } else { None };
        if flags & metadata_flags::NO_METADATA != 0 {
            return Ok(RowsMetadata {
                columns: Vec::new(),
                paging_state,
                no_metadata: true,
                column_count: count,
            });
        }
        let columns = read_specs(r, count, flags & metadata_flags::GLOBAL_TABLES_SPEC != 0)?;
        Ok(RowsMetadata { columns, paging_state, no_metadata: false, column_count: count })
    }
}

/// A Rows result. `content` holds `rows_count` × columns `[bytes]` cells, already encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub metadata: RowsMetadata,
    pub rows_count: u32,
    pub content: Bytes,
}

impl Rows {
    /// The cells, row by row (`None` = null). Errors when `content` does not hold exactly
    /// `rows_count` rows of [`RowsMetadata::columns_per_row`] cells.
    pub fn rows(&self) -> Result<Vec<Vec<Option<Bytes>>>> {
        let mut r = Reader::new(&self.content, "Rows content");
        let cols = self.metadata.columns_per_row();
        check_cells(&r, u64::from(self.rows_count), cols)?;
        let mut rows = Vec::with_capacity(self.rows_count as usize);
        for _ in 0..self.rows_count {
            let mut row = Vec::with_capacity(cols);
            for _ in 0..cols {
                row.push(r.read_bytes()?);
            }
            rows.push(row);
        }
        if r.remaining() != 0 {
            return Err(r.error(format_args!("{} bytes after the last row", r.remaining())));
        }
        Ok(rows)
    }

    fn read(r: &mut Reader<'_>) -> Result<Rows> {
        let metadata = RowsMetadata::read(r)?;
        let rows_count = read_count(r, "rows count")?;
        let cols = metadata.columns_per_row();
        check_cells(r, rows_count as u64, cols)?;
        let start = r.position();
        let cells = rows_count.saturating_mul(cols);
        for _ in 0..cells {
            r.read_bytes_slice()?;
        }
        let content = Bytes::copy_from_slice(r.since(start));
        Ok(Rows { metadata, rows_count: u32::try_from(rows_count).unwrap_or(u32::MAX), content })
    }

    fn write(&self, out: &mut BytesMut) {
        self.metadata.write(out);
        put_int(out, i32::try_from(self.rows_count).unwrap_or(i32::MAX));
        out.put_slice(&self.content);
    }
}

/// Refuses row counts whose cells cannot fit in what is left (each cell is at least 4 bytes),
/// and rows without columns, which would cost memory for nothing on the wire.
fn check_cells(r: &Reader<'_>, rows: u64, cols: usize) -> Result<()> {
    if cols == 0 {
        if rows > 0 {
            return Err(r.error(format_args!("{rows} rows of no columns")));
        }
        return Ok(());
    }
    r.check_count(rows.saturating_mul(cols as u64), 4, "row cells").map(|_| ())
}

/// Builds the `content` of a [`Rows`] cell by cell.
#[derive(Debug, Default)]
pub struct RowsWriter {
    buf: BytesMut,
    rows: u32,
}

impl RowsWriter {
    pub fn new() -> RowsWriter {
        RowsWriter::default()
    }

    /// Appends one cell of the current row (`None` = null).
    pub fn push_cell(&mut self, cell: Option<&[u8]>) {
        put_bytes(&mut self.buf, cell);
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.rows = self.rows.saturating_add(1);
    }

    /// Rows ended so far.
    pub fn rows_count(&self) -> u32 {
        self.rows
    }

    /// Bytes of cells written so far (for bounding a page by size).
    pub fn content_len(&self) -> usize {
        self.buf.len()
    }

    /// The finished result.
    pub fn finish(self, metadata: RowsMetadata) -> Rows {
        Rows { metadata, rows_count: self.rows, content: self.buf.freeze() }
    }
}

/// Metadata of a prepared statement's bind markers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreparedMetadata {
    pub columns: Vec<ColumnSpec>,
    /// For each partition-key column in key order, the marker index supplying it; empty when
    /// some component is not a plain marker.
    pub pk_indexes: Vec<u16>,
}

impl PreparedMetadata {
    fn write(&self, out: &mut BytesMut) {
        let flags = if shares_one_table(&self.columns) { metadata_flags::GLOBAL_TABLES_SPEC } else { 0 };
        put_int(out, flags);
        put_int(out, i32::try_from(self.columns.len()).unwrap_or(i32::MAX));
        put_int(out, i32::try_from(self.pk_indexes.len()).unwrap_or(i32::MAX));
        for i in &self.pk_indexes {
            put_short(out, *i);
        }
        write_specs(&self.columns, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<PreparedMetadata> {
        let flags = r.read_int()?;
        let count = read_count(r, "column count")?;
        let pk_count = read_count(r, "pk count")?;
        let pk_count = r.check_count(pk_count as u64, 2, "pk indexes")?;
        let mut pk_indexes = Vec::with_capacity(pk_count);
        for _ in 0..pk_count {
            pk_indexes.push(r.read_short()?);
        }
        let columns = read_specs(r, count, flags & metadata_flags::GLOBAL_TABLES_SPEC != 0)?;
        Ok(PreparedMetadata { columns, pk_indexes })
    }
}

/// A Prepared result.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub id: Bytes,
    /// The bind markers.
    pub metadata: PreparedMetadata,
    /// The columns an EXECUTE returns (No_metadata with no columns for non-SELECTs).
    pub result_metadata: RowsMetadata,
}

/// A RESULT body.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultBody {
    Void,
    Rows(Rows),
    SetKeyspace(String),
    Prepared(Prepared),
    SchemaChange(SchemaChange),
}

impl ResultBody {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ResultBody> {
        let kind = r.read_int()?;
        Ok(match kind {
            result_kind::VOID => ResultBody::Void,
            result_kind::ROWS => ResultBody::Rows(Rows::read(r)?),
            result_kind::SET_KEYSPACE => ResultBody::SetKeyspace(r.read_string()?),
            result_kind::PREPARED => {
                let id = r.read_short_bytes()?;
                let metadata = PreparedMetadata::read(r)?;
                let result_metadata = RowsMetadata::read(r)?;
                ResultBody::Prepared(Prepared { id, metadata, result_metadata })
            }
            result_kind::SCHEMA_CHANGE => ResultBody::SchemaChange(SchemaChange::read(r)?),
            other => return Err(r.error(format_args!("unknown result kind 0x{other:04X}"))),
        })
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        match self {
            ResultBody::Void => put_int(out, result_kind::VOID),
            ResultBody::Rows(rows) => {
                put_int(out, result_kind::ROWS);
                rows.write(out);
            }
            ResultBody::SetKeyspace(ks) => {
                put_int(out, result_kind::SET_KEYSPACE);
                put_string(out, ks);
            }
            ResultBody::Prepared(p) => {
                put_int(out, result_kind::PREPARED);
                put_short_bytes(out, &p.id);
                p.metadata.write(out);
                p.result_metadata.write(out);
            }
            ResultBody::SchemaChange(sc) => {
                put_int(out, result_kind::SCHEMA_CHANGE);
                sc.write(out);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(b: &[u8]) -> Result<ResultBody> {
        ResultBody::read(&mut Reader::new(b, "RESULT body"))
    }

    fn write(r: &ResultBody) -> BytesMut {
        let mut out = BytesMut::new();
        r.write(&mut out);
        out
    }

    /// Kind Rows, Global_tables_spec ks.t, columns k int and v text, rows (1, 'a') and (2, null).
    const GOLDEN_ROWS: &[u8] = &[
        0, 0, 0, 2, // kind Rows
        0, 0, 0, 1, // flags Global_tables_spec
        0, 0, 0, 2, // columns
        0, 2, b'k', b's', 0, 1, b't', // global spec
        0, 1, b'k', 0, 0x09, // k int
        0, 1, b'v', 0, 0x0D, // v varchar
        0, 0, 0, 2, // rows
        0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, b'a', // row 1
        0, 0, 0, 4, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF, // row 2
    ];

    fn golden_rows() -> Rows {
        let mut w = RowsWriter::new();
        w.push_cell(Some(&1i32.to_be_bytes()));
        w.push_cell(Some(b"a"));
        w.end_row();
        w.push_cell(Some(&2i32.to_be_bytes()));
        w.push_cell(None);
        w.end_row();
        w.finish(RowsMetadata::new(vec![
            ColumnSpec::new("ks", "t", "k", CqlType::Int),
            ColumnSpec::new("ks", "t", "v", CqlType::Text),
        ]))
    }

    #[test]
    fn golden_rows_with_global_table_spec() {
        let rows = golden_rows();
        assert_eq!(rows.rows_count, 2);
        assert_eq!(&write(&ResultBody::Rows(rows.clone()))[..], GOLDEN_ROWS);
        assert_eq!(read(GOLDEN_ROWS).unwrap(), ResultBody::Rows(rows.clone()));
        let cells = rows.rows().unwrap();
        assert_eq!(
            cells,
            vec![
                vec![Some(Bytes::from_static(&[0, 0, 0, 1])), Some(Bytes::from_static(b"a"))],
                vec![Some(Bytes::from_static(&[0, 0, 0, 2])), None],
            ]
        );
    }

    #[test]
    fn columns_from_several_tables_carry_their_own_spec() {
        let rows = RowsWriter::new().finish(RowsMetadata::new(vec![
            ColumnSpec::new("a", "t1", "x", CqlType::Int),
            ColumnSpec::new("b", "t2", "y", CqlType::Int),
        ]));
        let out = write(&ResultBody::Rows(rows.clone()));
        assert_eq!(&out[4..8], &[0, 0, 0, 0]);
        assert_eq!(read(&out).unwrap(), ResultBody::Rows(rows));
    }

    #[test]
    fn no_metadata_keeps_the_count_and_paging_state() {
        let mut w = RowsWriter::new();
        for v in [b"1", b"2", b"3"] {
            w.push_cell(Some(v));
        }
        w.end_row();
        let mut md = RowsMetadata::new(vec![
            ColumnSpec::new("ks", "t", "a", CqlType::Blob),
            ColumnSpec::new("ks", "t", "b", CqlType::Blob),
            ColumnSpec::new("ks", "t", "c", CqlType::Blob),
        ]);
        md.no_metadata = true;
        md.paging_state = Some(Bytes::from_static(b"next"));
        let out = write(&ResultBody::Rows(w.finish(md)));
        assert_eq!(&out[4..12], &[0, 0, 0, 6, 0, 0, 0, 3]);
        let ResultBody::Rows(back) = read(&out).unwrap() else { panic!("not rows") };
        assert!(back.metadata.columns.is_empty());
        assert_eq!(back.metadata.columns_per_row(), 3);
        assert_eq!(back.metadata.paging_state.as_deref(), Some(&b"next"[..]));
        assert_eq!(back.rows().unwrap().len(), 1);
        assert_eq!(read(&write(&ResultBody::Rows(back.clone()))).unwrap(), ResultBody::Rows(back));
    }

    #[test]
    fn metadata_equality_ignores_an_unused_column_count() {
        let specs = vec![ColumnSpec::new("ks", "t", "a", CqlType::Int)];
        let built = RowsMetadata { columns: specs.clone(), ..RowsMetadata::default() };
        assert_eq!(built, RowsMetadata::new(specs));
        assert_ne!(RowsMetadata::without_specs(1), RowsMetadata::without_specs(2));
    }

    #[test]
    fn golden_prepared_with_pk_indexes() {
        let p = Prepared {
            id: Bytes::from_static(&[0xAA, 0xBB]),
            metadata: PreparedMetadata {
                columns: vec![
                    ColumnSpec::new("ks", "t", "b", CqlType::Int),
                    ColumnSpec::new("ks", "t", "a", CqlType::Text),
                ],
                pk_indexes: vec![1, 0],
            },
            result_metadata: RowsMetadata::without_specs(0),
        };
        let want: &[u8] = &[
            0, 0, 0, 4, // kind Prepared
            0, 2, 0xAA, 0xBB, // id
            0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0, 0, // flags, 2 columns, 2 pk: [1, 0]
            0, 2, b'k', b's', 0, 1, b't', // global spec
            0, 1, b'b', 0, 0x09, 0, 1, b'a', 0, 0x0D, // specs
            0, 0, 0, 4, 0, 0, 0, 0, // result metadata: No_metadata, 0 columns
        ];
        assert_eq!(&write(&ResultBody::Prepared(p.clone()))[..], want);
        assert_eq!(read(want).unwrap(), ResultBody::Prepared(p));
    }

    #[test]
    fn malformed_rows_are_rejected() {
        // Declared 2 rows of 2 columns, content cut short.
        assert!(read(&GOLDEN_ROWS[..GOLDEN_ROWS.len() - 4]).is_err());
        // A huge row count with nothing behind it.
        let mut b = GOLDEN_ROWS[..29].to_vec();
        b.extend_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF]);
        assert!(read(&b).unwrap_err().to_string().contains("row cells"));
        // Rows without columns.
        let b = [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF];
        assert!(read(&b).unwrap_err().to_string().contains("no columns"));
        // Negative column count, unknown kind.
        assert!(read(&[0, 0, 0, 2, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(read(&[0, 0, 0, 9]).unwrap_err().to_string().contains("0x0009"));
        // Content that does not match its count.
        let mut rows = golden_rows();
        rows.rows_count = 3;
        assert!(rows.rows().is_err());
        rows.rows_count = 1;
        assert!(rows.rows().unwrap_err().to_string().contains("after the last row"));
    }
}
