//! SELECT over a user table: the WHERE clause becomes partition reads (`=`/`IN` on the whole
//! partition key) or a token-range scan, clustering slices, and row filters (ALLOW FILTERING);
//! live rows are walked in place ([`storage::PartitionData::for_each_live_row`]) and turned
//! into result rows: key columns decoded from the partition and clustering keys, non-frozen
//! collections reassembled from their element cells.
//!
//! Paging state (opaque to clients):
//!
//! | field | encoding |
//! |---|---|
//! | partition key of the last row sent | `u32` BE length + bytes |
//! | its clustering key (empty: the static-only row) | `u32` BE length + bytes |
//! | rows still allowed by LIMIT | `i64` BE (-1: no limit) |
//! | rows of that partition already sent | `u32` BE (for PER PARTITION LIMIT) |

use super::bind::bind_i64;
use super::keys::{Restrictions, split_clustering, split_partition_key};
use crate::error::{QueryError, QueryResult};
use crate::schema::{ColumnKind, Table};
use bytes::{BufMut, Bytes, BytesMut};
use cql::CqlType;
use cql::ast::{Operator, Select, SelectorExpr};
use cql::protocol::{ColumnSpec, QueryParams, Rows, RowsMetadata, RowsWriter};
use std::cmp::Ordering;
use std::sync::Arc;
use storage::{ClusteringRange, DecoratedKey, KeyRange, LiveRow, PartitionData, RowScratch};

/// What one output column shows.
#[derive(Debug, Clone)]
enum Out {
    Column(usize),
    WriteTime(usize),
    Ttl(usize),
    Token,
    /// `count(*)`, or `count(c)`: rows where column `c` is not null.
    Count(Option<usize>),
}

/// A non-frozen collection being gathered: column index, then (path, value) per element.
type PendingCollection = Option<(usize, Vec<(Vec<u8>, Bytes)>)>;

/// One table row's values, indexed like `Table::columns`.
struct RowValues {
    /// False when the row's only live cells belong to dropped columns.
    has_data: bool,
    values: Vec<Option<Bytes>>,
    timestamps: Vec<Option<i64>>,
    ttls: Vec<Option<i32>>,
}

struct Plan {
    outs: Vec<(Out, String, CqlType)>,
    count: bool,
}

fn plan(table: &Table, sel: &Select) -> QueryResult<Plan> {
    let idx = |name: &str| {
        table.columns.iter().position(|c| c.name == name).ok_or_else(|| {
            QueryError::Invalid(format!(
                "Undefined column name {name} in table {}.{}",
                table.keyspace, table.name
            ))
        })
    };
    let mut outs = Vec::new();
    if sel.selectors.is_empty() {
        for (i, c) in table.columns.iter().enumerate() {
            if sel.distinct && !matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Static) {
                continue;
            }
            outs.push((Out::Column(i), c.name.clone(), c.ty.clone()));
        }
    }
    for s in &sel.selectors {
        let (out, name, ty) = match &s.expr {
            SelectorExpr::Column(n) => {
                let i = idx(n)?;
                if sel.distinct
                    && !matches!(table.columns[i].kind, ColumnKind::PartitionKey | ColumnKind::Static)
                {
                    return Err(QueryError::Invalid(format!(
                        "SELECT DISTINCT queries must only request partition key columns and/or static columns (not {n})"
                    )));
                }
                (Out::Column(i), n.clone(), table.columns[i].ty.clone())
            }
            SelectorExpr::WriteTime(n) | SelectorExpr::Ttl(n) => {
                let i = idx(n)?;
                let c = &table.columns[i];
                let wt = matches!(s.expr, SelectorExpr::WriteTime(_));
                let f = if wt { "writetime" } else { "ttl" };
                if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
                    return Err(QueryError::Invalid(format!(
                        "Cannot use selection function {f} on PRIMARY KEY part {n}"
                    )));
                }
                if c.ty.is_multi_cell() {
                    return Err(QueryError::Invalid(format!(
                        "Cannot use selection function {f} on non-frozen collection {n}"
                    )));
                }
                if wt {
                    (Out::WriteTime(i), format!("writetime({n})"), CqlType::Bigint)
                } else {
                    (Out::Ttl(i), format!("ttl({n})"), CqlType::Int)
                }
            }
            SelectorExpr::Token(cols) => {
                let names: Vec<&str> = table.partition_key().map(|c| c.name.as_str()).collect();
                if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                    return Err(QueryError::Invalid(format!(
                        "token() takes the partition key columns in order: token({})",
                        names.join(", ")
                    )));
                }
                (Out::Token, format!("system.token({})", names.join(", ")), CqlType::Bigint)
            }
            SelectorExpr::CountStar => (Out::Count(None), "count".to_string(), CqlType::Bigint),
            SelectorExpr::Function { name, args } if name == "count" => match args.as_slice() {
                [SelectorExpr::Column(n)] => {
                    (Out::Count(Some(idx(n)?)), format!("system.count({n})"), CqlType::Bigint)
                }
                _ => {
                    return Err(QueryError::Invalid(
                        "count() takes *, 1 or one column: count(*), count(1), count(column)".into(),
                    ));
                }
            },
            SelectorExpr::Function { name, .. } => {
                return Err(QueryError::Invalid(format!("Unknown function '{name}' in selection")));
            }
            SelectorExpr::Term(_) => {
                return Err(QueryError::Invalid("constants cannot be selected".into()));
            }
        };
        outs.push((out, s.alias.clone().unwrap_or(name), ty));
    }
    let count = outs.iter().any(|(o, _, _)| matches!(o, Out::Count(_)));
    if count && outs.len() > 1 {
        return Err(QueryError::Invalid("count() cannot be selected together with other columns".into()));
    }
    Ok(Plan { outs, count })
}

/// The result columns `sel` returns (for PREPARE).
pub fn result_columns(table: &Table, sel: &Select) -> QueryResult<Vec<ColumnSpec>> {
    Ok(plan(table, sel)?
        .outs
        .into_iter()
        .map(|(_, name, ty)| ColumnSpec {
            keyspace: table.keyspace.clone(),
            table: table.name.clone(),
            name,
            ty,
        })
        .collect())
}

/// Where a page resumes.
#[derive(Debug, Clone, PartialEq)]
struct PagingState {
    partition: Bytes,
    clustering: Bytes,
    remaining: i64,
    in_partition: u32,
}

impl PagingState {
    fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u32(self.partition.len() as u32);
        b.put_slice(&self.partition);
        b.put_u32(self.clustering.len() as u32);
        b.put_slice(&self.clustering);
        b.put_i64(self.remaining);
        b.put_u32(self.in_partition);
        b.freeze()
    }

    fn decode(b: &[u8]) -> QueryResult<PagingState> {
        let bad = || QueryError::Protocol("invalid paging state".into());
        let mut r = b;
        let mut take = |n: usize| -> QueryResult<&[u8]> {
            if r.len() < n {
                return Err(bad());
            }
            let (a, rest) = r.split_at(n);
            r = rest;
            Ok(a)
        };
        let u32_of = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
        let n = u32_of(take(4)?) as usize;
        let partition = Bytes::copy_from_slice(take(n)?);
        let n = u32_of(take(4)?) as usize;
        let clustering = Bytes::copy_from_slice(take(n)?);
        let rem = take(8)?;
        let remaining = i64::from_be_bytes(rem.try_into().map_err(|_| bad())?);
        let in_partition = u32_of(take(4)?);
        Ok(PagingState { partition, clustering, remaining, in_partition })
    }
}

/// Compares two serialized values of `ty` in CQL order.
fn compare(ty: &CqlType, a: &[u8], b: &[u8]) -> QueryResult<Ordering> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    cql::value::encode_comparable(ty, a, false, &mut x)?;
    cql::value::encode_comparable(ty, b, false, &mut y)?;
    Ok(x.cmp(&y))
}

struct Executor<'a> {
    table: &'a Table,
    plan: Plan,
    restrictions: Restrictions,
    reversed: bool,
    limit: i64,
    per_partition_limit: u32,
    page_size: Option<usize>,
    distinct: bool,
    now_secs: i64,
    /// Column index by name bytes.
    writer: RowsWriter,
    emitted: usize,
    counted: i64,
    remaining: i64,
    last: Option<(Bytes, Bytes, u32)>,
    full: bool,
    /// Rows held back for ordering across partitions (`IN` with `ORDER BY`).
    collected: Option<Vec<(Bytes, DecoratedKey, RowValues)>>,
}

impl Executor<'_> {
    /// Whether a row passes the filters.
    fn passes(&self, v: &RowValues) -> QueryResult<bool> {
        for f in &self.restrictions.filters {
            let Some(i) = self.table.columns.iter().position(|c| c.name == f.column) else {
                return Ok(false);
            };
            let ty = &self.table.columns[i].ty;
            let Some(actual) = &v.values[i] else { return Ok(false) };
            let ok = match f.op {
                Operator::Eq | Operator::In => {
                    let mut any = false;
                    for x in &f.values {
                        any |= compare(ty, actual, x)? == Ordering::Equal;
                    }
                    any
                }
                Operator::Neq => compare(ty, actual, &f.values[0])? != Ordering::Equal,
                Operator::Lt => compare(ty, actual, &f.values[0])? == Ordering::Less,
                Operator::Lte => compare(ty, actual, &f.values[0])? != Ordering::Greater,
                Operator::Gt => compare(ty, actual, &f.values[0])? == Ordering::Greater,
                Operator::Gte => compare(ty, actual, &f.values[0])? != Ordering::Less,
                Operator::Contains | Operator::ContainsKey => {
                    let coll = cql::value::CqlValue::deserialize(ty, actual)?;
                    let (elem_ty, items): (&CqlType, Vec<cql::value::CqlValue>) =
                        match (ty.unfrozen(), coll, f.op) {
                            (
                                CqlType::List(t) | CqlType::Set(t),
                                cql::value::CqlValue::List(v) | cql::value::CqlValue::Set(v),
                                Operator::Contains,
                            ) => (t, v),
                            (CqlType::Map(_, t), cql::value::CqlValue::Map(m), Operator::Contains) => {
                                (t, m.into_iter().map(|(_, v)| v).collect())
                            }
                            (CqlType::Map(k, _), cql::value::CqlValue::Map(m), Operator::ContainsKey) => {
                                (k, m.into_iter().map(|(k, _)| k).collect())
                            }
                            _ => {
                                return Err(QueryError::Invalid(format!(
                                    "CONTAINS is only valid on collections (column {})",
                                    f.column
                                )));
                            }
                        };
                    let mut any = false;
                    for it in items {
                        let b = it.to_bytes(elem_ty)?;
                        any |= compare(elem_ty, &b, &f.values[0])? == Ordering::Equal;
                    }
                    any
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn emit(&mut self, key: &DecoratedKey, clustering: &Bytes, v: RowValues) {
        if let Some(c) = &mut self.collected {
            c.push((clustering.clone(), key.clone(), v));
            return;
        }
        self.write_row(key, &v);
    }

    fn write_row(&mut self, key: &DecoratedKey, v: &RowValues) {
        if self.plan.count {
            let counts = match self.plan.outs.first() {
                Some((Out::Count(Some(i)), _, _)) => v.values[*i].is_some(),
                _ => true,
            };
            self.counted += i64::from(counts);
            return;
        }
        for (out, _, _) in &self.plan.outs {
            let cell: Option<Bytes> = match out {
                Out::Column(i) => v.values[*i].clone(),
                Out::WriteTime(i) => v.timestamps[*i].map(|t| Bytes::copy_from_slice(&t.to_be_bytes())),
                Out::Ttl(i) => v.ttls[*i].map(|t| Bytes::copy_from_slice(&t.to_be_bytes())),
                Out::Token => Some(Bytes::copy_from_slice(&key.token.to_be_bytes())),
                Out::Count(_) => None,
            };
            self.writer.push_cell(cell.as_deref());
        }
        self.writer.end_row();
        self.emitted += 1;
    }

    /// Builds the values of one live row.
    fn values(&self, pk: &[Bytes], row: &LiveRow<'_>, statics: Option<&RowValues>) -> QueryResult<RowValues> {
        let n = self.table.columns.len();
        let mut v = RowValues {
            has_data: row.marker.is_some(),
            values: vec![None; n],
            timestamps: vec![None; n],
            ttls: vec![None; n],
        };
        if let Some(s) = statics {
            for (i, c) in self.table.columns.iter().enumerate() {
                if c.kind == ColumnKind::Static {
                    v.values[i] = s.values[i].clone();
                    v.timestamps[i] = s.timestamps[i];
                    v.ttls[i] = s.ttls[i];
                }
            }
        }
        let mut pk_iter = pk.iter();
        let cks = if row.is_static { Vec::new() } else { split_clustering(self.table, row.clustering)? };
        let mut ck_iter = cks.into_iter();
        for (i, c) in self.table.columns.iter().enumerate() {
            match c.kind {
                ColumnKind::PartitionKey => v.values[i] = pk_iter.next().cloned(),
                ColumnKind::Clustering => v.values[i] = ck_iter.next(),
                _ => {}
            }
        }
        // Cells come in (column, path) order: gather each collection's elements.
        let mut pending: PendingCollection = None;
        let flush = |pending: &mut PendingCollection, v: &mut RowValues| -> QueryResult<()> {
            if let Some((i, elems)) = pending.take() {
                v.values[i] = Some(collection_bytes(&self.table.columns[i].ty, &elems)?);
            }
            Ok(())
        };
        for cell in row.cells() {
            if self.table.is_dropped(cell.column, cell.cell.timestamp) {
                continue;
            }
            let Some(i) = self.table.columns.iter().position(|c| c.name.as_bytes() == cell.column) else {
                continue;
            };
            v.has_data = true;
            let c = &self.table.columns[i];
            match cell.path {
                None => {
                    flush(&mut pending, &mut v)?;
                    v.values[i] = Some(Bytes::copy_from_slice(cell.cell.value));
                    v.timestamps[i] = Some(cell.cell.timestamp);
                    v.ttls[i] = (cell.cell.ttl > 0).then(|| {
                        (cell.cell.local_deletion_time - self.now_secs).clamp(0, i64::from(i32::MAX)) as i32
                    });
                }
                Some(path) if c.ty.is_multi_cell() => {
                    if pending.as_ref().is_some_and(|(j, _)| *j != i) {
                        flush(&mut pending, &mut v)?;
                    }
                    let entry = pending.get_or_insert_with(|| (i, Vec::new()));
                    entry.1.push((path.to_vec(), Bytes::copy_from_slice(cell.cell.value)));
                }
                Some(_) => {}
            }
        }
        flush(&mut pending, &mut v)?;
        Ok(v)
    }

    /// Processes one partition; returns false when the page or the limit is full.
    fn partition(
        &mut self,
        key: &DecoratedKey,
        data: &PartitionData,
        resume_after: Option<(&[u8], u32)>,
    ) -> QueryResult<bool> {
        let pk = split_partition_key(self.table, &key.key)?;
        let mut statics: Option<RowValues> = None;
        let mut rows_seen = 0usize;
        let mut in_partition = resume_after.map_or(0, |(_, n)| n);
        let mut scratch = RowScratch::default();
        let mut pending_rows: Vec<(Bytes, RowValues)> = Vec::new();
        let mut error: Option<QueryError> = None;
        let has_clustering = self.table.clustering().next().is_some();
        data.for_each_live_row(self.now_secs, &mut scratch, |row| {
            let r = self.values(&pk, row, statics.as_ref());
            match r {
                Err(e) => {
                    error = Some(e);
                    false
                }
                Ok(v) if row.is_static => {
                    if v.has_data {
                        statics = Some(v);
                    }
                    true
                }
                Ok(v) if !v.has_data => true,
                Ok(v) => {
                    rows_seen += 1;
                    pending_rows.push((Bytes::copy_from_slice(row.clustering), v));
                    true
                }
            }
        })?;
        if let Some(e) = error {
            return Err(e);
        }
        if self.reversed {
            pending_rows.reverse();
        }
        if self.distinct
            || (!has_clustering && pending_rows.is_empty())
            || (rows_seen == 0
                && self.restrictions.clustering_eq.is_empty()
                && self.restrictions.clustering_range.is_none())
        {
            // A partition with only static data shows as one row (DISTINCT: one row each).
            if let Some(s) = statics.take().filter(|_| self.distinct || rows_seen == 0) {
                if resume_after.is_none() && self.passes(&s)? {
                    self.emit(key, &Bytes::new(), s);
                    self.remaining -= 1;
                    self.last = Some((key.key.clone(), Bytes::new(), 1));
                }
                return Ok(self.remaining > 0 && !self.page_full());
            }
            if self.distinct {
                if rows_seen > 0 && resume_after.is_none() {
                    let n = self.table.columns.len();
                    let v = RowValues {
                        has_data: true,
                        values: self
                            .table
                            .columns
                            .iter()
                            .map(|c| {
                                (c.kind == ColumnKind::PartitionKey)
                                    .then(|| pk.get(c.position as usize).cloned())
                                    .flatten()
                            })
                            .collect(),
                        timestamps: vec![None; n],
                        ttls: vec![None; n],
                    };
                    self.emit(key, &Bytes::new(), v);
                    self.remaining -= 1;
                    self.last = Some((key.key.clone(), Bytes::new(), 1));
                }
                return Ok(self.remaining > 0 && !self.page_full());
            }
        }
        for (ck, v) in pending_rows {
            if let Some((after, _)) = resume_after {
                let past = if self.reversed { ck.as_ref() < after } else { ck.as_ref() > after };
                if !past {
                    continue;
                }
            }
            if in_partition >= self.per_partition_limit {
                break;
            }
            if !self.passes(&v)? {
                continue;
            }
            self.emit(key, &ck, v);
            in_partition += 1;
            self.remaining -= 1;
            self.last = Some((key.key.clone(), ck, in_partition));
            if self.remaining <= 0 || self.page_full() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn page_full(&mut self) -> bool {
        if !self.plan.count && self.page_size.is_some_and(|p| self.emitted >= p) {
            self.full = true;
        }
        self.full
    }
}

/// Serializes a non-frozen collection from its element cells (path, value) in path order.
fn collection_bytes(ty: &CqlType, elems: &[(Vec<u8>, Bytes)]) -> QueryResult<Bytes> {
    let mut out = BytesMut::new();
    out.put_i32(elems.len() as i32);
    for (path, value) in elems {
        match ty {
            CqlType::List(_) => {
                out.put_i32(value.len() as i32);
                out.put_slice(value);
            }
            CqlType::Set(et) => {
                let e = cql::value::decode_comparable(et, false, &mut path.as_slice())?;
                out.put_i32(e.len() as i32);
                out.put_slice(&e);
            }
            CqlType::Map(kt, _) => {
                let k = cql::value::decode_comparable(kt, false, &mut path.as_slice())?;
                out.put_i32(k.len() as i32);
                out.put_slice(&k);
                out.put_i32(value.len() as i32);
                out.put_slice(value);
            }
            _ => {}
        }
    }
    Ok(out.freeze())
}

/// The slices for a partition, narrowed to what follows `after` (paging).
fn slices_after(
    slices: &Option<Vec<ClusteringRange>>,
    after: Option<&[u8]>,
    reversed: bool,
) -> Option<Vec<ClusteringRange>> {
    let Some(after) = after.filter(|a| !a.is_empty()) else { return slices.clone() };
    let cut = if reversed {
        ClusteringRange { start: Bytes::new(), end: Some(Bytes::copy_from_slice(after)) }
    } else {
        let mut s = after.to_vec();
        s.push(0);
        ClusteringRange { start: Bytes::from(s), end: None }
    };
    let base = slices.clone().unwrap_or_else(|| vec![ClusteringRange::all()]);
    Some(
        base.into_iter()
            .filter_map(|r| {
                let start = r.start.clone().max(cut.start.clone());
                let end = match (&r.end, &cut.end) {
                    (None, e) | (e, None) => e.clone(),
                    (Some(a), Some(b)) => Some(a.clone().min(b.clone())),
                };
                let x = ClusteringRange { start, end };
                (!x.is_empty()).then_some(x)
            })
            .collect(),
    )
}

/// A SELECT checked against its table, ready to run.
struct Checked {
    restrictions: Restrictions,
    plan: Plan,
    reversed: bool,
    limit: i64,
    per_partition_limit: u32,
}

/// Checks `sel` against `table` with the bound `params` without reading anything: what
/// PREPARE rejects, as Cassandra does, before a statement is ever executed.
pub fn validate(table: &Table, sel: &Select, params: &QueryParams) -> QueryResult<()> {
    check(table, sel, params).map(|_| ())
}

fn check(table: &Table, sel: &Select, params: &QueryParams) -> QueryResult<Checked> {
    if sel.json {
        return Err(QueryError::Invalid("SELECT JSON is not supported yet".into()));
    }
    let restrictions = Restrictions::analyse(table, &sel.where_clause, params)?;
    // Without the whole partition key, clustering restrictions are applied to every partition.
    let clustering_without_partition = restrictions.partition.is_none()
        && (!restrictions.clustering_eq.is_empty() || restrictions.clustering_range.is_some());
    if (!restrictions.filters.is_empty() || clustering_without_partition) && !sel.allow_filtering {
        return Err(QueryError::Invalid(
            "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING".into(),
        ));
    }
    let plan = plan(table, sel)?;
    // A DISTINCT scan over a key range returns partitions: it must name them whole
    // (token() names every key column).
    if sel.distinct && !sel.selectors.is_empty() && restrictions.partition.is_none() && !plan.count {
        let named = |i: usize| {
            plan.outs
                .iter()
                .any(|(o, _, _)| matches!(o, Out::Token) || matches!(o, Out::Column(j) if *j == i))
        };
        let missing: Vec<&str> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.kind == ColumnKind::PartitionKey && !named(*i))
            .map(|(_, c)| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(QueryError::Invalid(format!(
                "SELECT DISTINCT queries must request all the partition key columns (missing {})",
                missing.join(", ")
            )));
        }
    }
    let mut reversed = false;
    if let Some((first, order)) = sel.order_by.first() {
        if restrictions.partition.is_none() {
            return Err(QueryError::Invalid(
                "ORDER BY is only supported when the partition key is restricted by an EQ or an IN.".into(),
            ));
        }
        let cks: Vec<_> = table.clustering().collect();
        for (i, (name, o)) in sel.order_by.iter().enumerate() {
            let c = cks.get(i).filter(|c| &c.name == name).ok_or_else(|| {
                QueryError::Invalid(format!("Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY (got {name})"))
            })?;
            let flip = (c.order != *o) != (cks[0].order != *order);
            if flip {
                return Err(QueryError::Invalid("Unsupported order by relation".into()));
            }
        }
        let _ = first;
        reversed = cks.first().is_some_and(|c| c.order != *order);
    }
    let limit = match &sel.limit {
        Some(t) => match bind_i64(t, "limit", params)? {
            Some(v) if v <= 0 => {
                return Err(QueryError::Invalid(format!("LIMIT must be strictly positive, got {v}")));
            }
            Some(v) => v,
            None => i64::MAX,
        },
        None => i64::MAX,
    };
    let per_partition_limit = match &sel.per_partition_limit {
        Some(t) => match bind_i64(t, "per partition limit", params)? {
            Some(v) if v <= 0 => {
                return Err(QueryError::Invalid(format!(
                    "PER PARTITION LIMIT must be strictly positive, got {v}"
                )));
            }
            Some(v) => v.min(i64::from(u32::MAX)) as u32,
            None => u32::MAX,
        },
        None => u32::MAX,
    };
    // An aggregate over everything counts every row: LIMIT applies to its one result row.
    let (limit, per_partition_limit) =
        if plan.count { (i64::MAX, u32::MAX) } else { (limit, per_partition_limit) };
    Ok(Checked { restrictions, plan, reversed, limit, per_partition_limit })
}

/// What a SELECT reads: named partitions (in token order), or a token range.
#[derive(Debug, Clone)]
pub enum Reads {
    Keys(Vec<DecoratedKey>),
    Range(KeyRange),
}

/// A SELECT being answered: fed partitions in token order by whatever reads them (this node's
/// storage, or the coordinator from the replicas), then finished into a page of rows.
pub struct Run<'a> {
    ex: Executor<'a>,
    state: Option<PagingState>,
    slices: Option<Vec<ClusteringRange>>,
    columns: Vec<ColumnSpec>,
    /// What to read.
    pub reads: Reads,
    more: bool,
}

impl<'a> Run<'a> {
    /// Checks `sel` and plans its reads.
    pub fn new(table: &'a Table, sel: &Select, params: &QueryParams) -> QueryResult<Run<'a>> {
        let Checked { restrictions, plan, reversed, limit, per_partition_limit } = check(table, sel, params)?;
        let state = params.paging_state.as_deref().map(PagingState::decode).transpose()?;
        let page_size =
            if plan.count { None } else { params.page_size.filter(|p| *p > 0).map(|p| p as usize) };
        let columns: Vec<ColumnSpec> = plan
            .outs
            .iter()
            .map(|(_, name, ty)| ColumnSpec {
                keyspace: table.keyspace.clone(),
                table: table.name.clone(),
                name: name.clone(),
                ty: ty.clone(),
            })
            .collect();
        let mut ex = Executor {
            table,
            writer: RowsWriter::new(),
            plan,
            reversed,
            limit,
            per_partition_limit,
            page_size,
            distinct: sel.distinct,
            now_secs: super::bind::now_micros().div_euclid(1_000_000),
            emitted: 0,
            counted: 0,
            remaining: state.as_ref().map_or(limit, |s| s.remaining),
            last: None,
            full: false,
            collected: None,
            restrictions,
        };
        let slices = ex.restrictions.clustering_slices(table)?;
        let reads = if ex.restrictions.partition.is_some() {
            // token() bounds given with the key itself also have to hold.
            let tokens = KeyRange::token_bounds(ex.restrictions.token_lower, ex.restrictions.token_upper);
            let mut keys: Vec<DecoratedKey> = ex
                .restrictions
                .partition_keys()?
                .into_iter()
                .map(DecoratedKey::new)
                .filter(|k| tokens.contains(k))
                .collect();
            keys.sort();
            if keys.len() > 1 && !sel.order_by.is_empty() && !ex.plan.count {
                if params.page_size.is_some_and(|p| p > 0) {
                    return Err(QueryError::Invalid(
                        "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either remove the ORDER BY or the IN and sort client side, or disable paging for this query".into(),
                    ));
                }
                ex.collected = Some(Vec::new());
                ex.remaining = i64::MAX;
            }
            // A later page starts at the partition the last one stopped in.
            if let Some(s) = &state {
                let from = DecoratedKey::new(s.partition.clone());
                keys.retain(|k| *k >= from);
            }
            Reads::Keys(keys)
        } else {
            Reads::Range(match (&state, ex.restrictions.token_lower, ex.restrictions.token_upper) {
                (Some(s), _, upper) => {
                    KeyRange::after_inclusive(DecoratedKey::new(s.partition.clone()), upper)
                }
                (None, lower, upper) => KeyRange::token_bounds(lower, upper),
            })
        };
        Ok(Run { ex, state, slices, columns, reads, more: false })
    }

    /// Where a later page resumes inside `key`: after this clustering, with this many rows of
    /// the partition already sent.
    fn resume(&self, key: &DecoratedKey) -> Option<(&[u8], u32)> {
        match &self.state {
            Some(s) if s.partition == key.key => Some((s.clustering.as_ref(), s.in_partition)),
            _ => None,
        }
    }

    /// The clustering slices to read of `key` (`None`: all of it).
    pub fn slices_for(&self, key: &DecoratedKey) -> Option<Vec<ClusteringRange>> {
        let reversed = matches!(self.reads, Reads::Keys(_)) && self.ex.reversed;
        slices_after(&self.slices, self.resume(key).map(|r| r.0), reversed)
    }

    /// Processes partition `key`; `sliced` when `data` holds only [`Run::slices_for`] of it.
    /// Returns whether more partitions are wanted.
    pub fn feed(&mut self, key: &DecoratedKey, data: PartitionData, sliced: bool) -> QueryResult<bool> {
        let data = if sliced || (self.slices.is_none() && self.resume(key).is_none()) {
            data
        } else {
            let p = data.into_partition()?;
            PartitionData::Decoded(Box::new(match self.slices_for(key) {
                Some(sl) => p.slice(&sl),
                None => p,
            }))
        };
        let resume = match &self.state {
            Some(s) if s.partition == key.key => Some((s.clustering.as_ref(), s.in_partition)),
            _ => None,
        };
        let go_on = self.ex.partition(key, &data, resume)?;
        if !go_on {
            self.more = self.ex.full && self.ex.remaining > 0;
        }
        Ok(go_on)
    }

    /// How many more rows the page can take (a hint for how much to read at once).
    pub fn wanted(&self) -> usize {
        let page = self.ex.page_size.map_or(usize::MAX, |p| p.saturating_sub(self.ex.emitted));
        let limit = usize::try_from(self.ex.remaining).unwrap_or(usize::MAX);
        page.min(limit).max(1)
    }

    /// The page of rows, with a paging state when there is more.
    pub fn finish(self) -> QueryResult<Rows> {
        let Run { mut ex, columns, more, .. } = self;
        if let Some(mut rows) = ex.collected.take() {
            // Clustering keys are stored in declared order; ORDER BY may ask for the reverse.
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            if ex.reversed {
                rows.reverse();
            }
            for (_, key, v) in rows.into_iter().take(usize::try_from(ex.limit).unwrap_or(usize::MAX)) {
                ex.write_row(&key, &v);
            }
        }
        if ex.plan.count {
            let n = ex.counted;
            ex.writer.push_cell(Some(&n.to_be_bytes()));
            ex.writer.end_row();
        }
        let paging_state = if more {
            ex.last.as_ref().map(|(p, c, n)| {
                PagingState {
                    partition: p.clone(),
                    clustering: c.clone(),
                    remaining: ex.remaining,
                    in_partition: *n,
                }
                .encode()
            })
        } else {
            None
        };
        let metadata = RowsMetadata { columns, paging_state, ..Default::default() };
        Ok(ex.writer.finish(metadata))
    }
}

/// Runs `sel` against `table` in this node's storage.
pub fn select(
    engine: &Arc<storage::Engine>,
    table: &Table,
    sel: &Select,
    params: &QueryParams,
) -> QueryResult<Rows> {
    let mut run = Run::new(table, sel, params)?;
    match run.reads.clone() {
        Reads::Keys(keys) => {
            for key in keys {
                let sl = run.slices_for(&key);
                let Some(p) = engine.read(table.id, &key, sl.as_deref())? else { continue };
                if !run.feed(&key, PartitionData::Decoded(Box::new(p)), true)? {
                    break;
                }
            }
        }
        Reads::Range(range) => {
            for item in engine.scan_data(table.id, &range)? {
                let (key, data) = item?;
                if !run.feed(&key, data, false)? {
                    break;
                }
            }
        }
    }
    run.finish()
}

/// Runs `sel` through the coordinator: each partition, or each page of the token range, read
/// from the replicas at `cl`.
pub async fn select_distributed(
    coordinator: &crate::coordinator::Coordinator,
    replication: &crate::schema::Replication,
    table: &Table,
    sel: &Select,
    params: &QueryParams,
    cl: cql::Consistency,
) -> QueryResult<Rows> {
    use futures::StreamExt;
    let mut run = Run::new(table, sel, params)?;
    let speculate =
        crate::coordinator::speculative_delay(&table.options.speculative_retry, &coordinator.stats, table.id);
    match run.reads.clone() {
        Reads::Keys(keys) => {
            let requests: Vec<crate::replica::ReadRequest> = keys
                .iter()
                .map(|k| crate::replica::ReadRequest {
                    table: table.id,
                    key: k.clone(),
                    digest: false,
                    slices: run.slices_for(k),
                })
                .collect();
            // A handful of partitions at once, in key order.
            let results: Vec<QueryResult<Option<storage::Partition>>> = futures::stream::iter(requests)
                .map(|req| coordinator.read_partition(replication, req, cl, speculate))
                .buffered(32)
                .collect()
                .await;
            for (key, r) in keys.iter().zip(results) {
                let Some(p) = r? else { continue };
                if !run.feed(key, PartitionData::Decoded(Box::new(p)), true)? {
                    break;
                }
            }
        }
        Reads::Range(mut range) => loop {
            let fetch = (run.wanted().min(1000) as u32).max(100);
            let page = coordinator.read_range(replication, table.id, &range, fetch, cl).await?;
            let last = page.partitions.last().map(|(k, _)| k.clone());
            let mut stopped = false;
            for (key, p) in page.partitions {
                if !run.feed(&key, PartitionData::Decoded(Box::new(p)), false)? {
                    stopped = true;
                    break;
                }
            }
            match last {
                Some(k) if !stopped && !page.complete => range = KeyRange::after(k, range.end.clone()),
                _ => break,
            }
        },
    }
    run.finish()
}
