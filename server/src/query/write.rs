//! INSERT, UPDATE and DELETE become [`storage::Mutation`]s, one per partition.
//!
//! | CQL | storage |
//! |---|---|
//! | INSERT | a row marker, plus a cell per column given |
//! | `c = v` | a cell (`null` → a cell tombstone) |
//! | non-frozen collection `c = v` | a collection tombstone at `timestamp - 1`, then one cell per element |
//! | list element | path: 16 bytes, time-ordered (appends after, prepends before every existing element) |
//! | set element / map key | path: the element's (key's) byte-comparable encoding; set cells are empty |
//! | DELETE of a row / range / partition | row tombstone / range tombstone / partition tombstone |
//! | DELETE of `c` / `m[k]` | cell tombstone / collection tombstone / element tombstone |
//!
//! Every cell of a statement gets the same timestamp: `USING TIMESTAMP`, else the client's
//! timestamp from the frame, else the coordinator's clock.

use super::bind::{Bound, bind, bind_i64, now_micros};
use super::keys::{Restrictions, clustering_key};
use crate::error::{QueryError, QueryResult};
use crate::schema::{Column, ColumnKind, Table};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{Assignment, Delete, DeleteTarget, Insert, InsertValues, Term, Update, Using};
use cql::protocol::QueryParams;
use cql::value::CqlValue;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use storage::{Cell, CellKey, DecoratedKey, DeletionTime, Mutation, Partition, RangeTombstone, Row};

/// The write's timestamp and time to live.
#[derive(Debug, Clone, Copy)]
pub struct WriteTime {
    pub timestamp: i64,
    /// 0: no expiry.
    pub ttl: u32,
    pub now_secs: i64,
}

static LAST_MICROS: AtomicI64 = AtomicI64::new(0);

/// A server timestamp, strictly increasing within this process.
pub fn server_timestamp() -> i64 {
    let now = now_micros();
    let mut last = LAST_MICROS.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST_MICROS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(x) => last = x,
        }
    }
}

/// Resolves `USING` against the request and the table defaults.
pub fn write_time(
    using: &Using,
    table: &Table,
    params: &QueryParams,
    batch_ts: Option<i64>,
) -> QueryResult<WriteTime> {
    let timestamp = match &using.timestamp {
        Some(t) => bind_i64(t, "timestamp", params)?.unwrap_or_else(server_timestamp),
        None => batch_ts.or(params.timestamp).unwrap_or_else(server_timestamp),
    };
    if timestamp == i64::MIN {
        return Err(QueryError::Invalid(format!("Invalid timestamp value {timestamp}")));
    }
    let ttl = match &using.ttl {
        Some(t) => match bind_i64(t, "ttl", params)? {
            None => table.options.default_time_to_live as i64,
            Some(v) if v < 0 => {
                return Err(QueryError::Invalid(format!("A TTL must be greater or equal to 0, but was {v}")));
            }
            Some(v) if v > 630_720_000 => {
                return Err(QueryError::Invalid(format!(
                    "ttl is too large. requested ({v}) maximum (630720000)"
                )));
            }
            Some(v) => v,
        },
        None => table.options.default_time_to_live as i64,
    };
    Ok(WriteTime { timestamp, ttl: ttl as u32, now_secs: now_micros().div_euclid(1_000_000) })
}

impl WriteTime {
    fn cell(&self, value: Bytes) -> Cell {
        if self.ttl > 0 {
            Cell::expiring(self.timestamp, self.ttl, self.now_secs, value)
        } else {
            Cell::live(self.timestamp, value)
        }
    }

    fn tombstone(&self) -> Cell {
        Cell::tombstone(self.timestamp, self.now_secs)
    }

    fn deletion(&self) -> DeletionTime {
        DeletionTime::new(self.timestamp, self.now_secs)
    }
}

/// The last list-position slot handed out, in units of 1/1024 µs.
static LIST_CLOCK: AtomicU64 = AtomicU64::new(0);

/// This process's part of every list path, so that two coordinators appending in the same
/// instant never produce the same element path.
fn list_node_id() -> u64 {
    static ID: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *ID.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0)
}

/// Paths for `n` new list elements, in list order: `u64` position then the node id, both
/// big-endian. Positions come from one monotonic clock (microseconds × 1024): appends use
/// `2^63 + slot`, so each append lands after everything before it; prepends use
/// `2^63 - 1 - slot`, so each prepend lands before everything before it; the elements of one
/// statement keep their order either way.
fn list_paths(prepend: bool, n: usize) -> Vec<Bytes> {
    let now = (now_micros().max(0) as u64).saturating_mul(1024);
    let mut last = LIST_CLOCK.load(Ordering::Relaxed);
    let start = loop {
        let start = now.max(last + 1);
        match LIST_CLOCK.compare_exchange_weak(last, start + n as u64, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break start,
            Err(x) => last = x,
        }
    };
    let node = list_node_id();
    (0..n as u64)
        .map(|i| {
            let pos = if prepend {
                ((1u64 << 63) - 1).saturating_sub(start + n as u64 - 1) + i
            } else {
                (1u64 << 63) | (start + i)
            };
            let mut out = Vec::with_capacity(16);
            out.extend_from_slice(&pos.to_be_bytes());
            out.extend_from_slice(&node.to_be_bytes());
            Bytes::from(out)
        })
        .collect()
}

fn elements(ty: &CqlType, value: &[u8]) -> QueryResult<CqlValue> {
    Ok(CqlValue::deserialize(ty, value)?)
}

fn comparable(ty: &CqlType, v: &CqlValue) -> QueryResult<Bytes> {
    let bytes = v.to_bytes(ty)?;
    let mut out = Vec::new();
    cql::value::encode_comparable(ty, &bytes, false, &mut out)?;
    Ok(Bytes::from(out))
}

/// Adds the cells for `value` assigned to collection column `c` (added to what is there
/// unless `replace`).
fn put_collection(
    row: &mut Row,
    c: &Column,
    value: Option<&[u8]>,
    wt: &WriteTime,
    replace: bool,
    prepend: bool,
) -> QueryResult<()> {
    let col = Bytes::from(c.name.clone().into_bytes());
    if replace {
        row.complex_deletions
            .insert(col.clone(), DeletionTime::new(wt.timestamp.saturating_sub(1), wt.now_secs));
    }
    let Some(value) = value else { return Ok(()) };
    match (&c.ty, elements(&c.ty, value)?) {
        (CqlType::List(et), CqlValue::List(items)) => {
            for (path, v) in list_paths(prepend, items.len()).into_iter().zip(&items) {
                row.cells.insert(CellKey::element(col.clone(), path), wt.cell(Bytes::from(v.to_bytes(et)?)));
            }
        }
        (CqlType::Set(et), CqlValue::Set(items) | CqlValue::List(items)) => {
            for v in &items {
                row.cells.insert(CellKey::element(col.clone(), comparable(et, v)?), wt.cell(Bytes::new()));
            }
        }
        (CqlType::Map(kt, vt), CqlValue::Map(entries)) => {
            for (k, v) in &entries {
                row.cells.insert(
                    CellKey::element(col.clone(), comparable(kt, k)?),
                    wt.cell(Bytes::from(v.to_bytes(vt)?)),
                );
            }
        }
        (CqlType::Set(_), CqlValue::Map(m)) if m.is_empty() => {}
        (_, CqlValue::Empty) => {}
        (ty, _) => {
            return Err(QueryError::Invalid(format!("Invalid value for column {} of type {ty}", c.name)));
        }
    }
    Ok(())
}

/// Sets column `c` of `row` to `value`.
fn set_column(row: &mut Row, c: &Column, value: Bound, wt: &WriteTime) -> QueryResult<()> {
    let value = match value {
        Bound::Unset => return Ok(()),
        Bound::Null => None,
        Bound::Value(b) => Some(b),
    };
    if c.ty.is_multi_cell() {
        return put_collection(row, c, value.as_deref(), wt, true, false);
    }
    let key = CellKey::simple(Bytes::from(c.name.clone().into_bytes()));
    let cell = match value {
        Some(v) => wt.cell(v),
        None => wt.tombstone(),
    };
    row.cells.insert(key, cell);
    Ok(())
}

fn table_column<'a>(table: &'a Table, name: &str) -> QueryResult<&'a Column> {
    table.column(name).ok_or_else(|| {
        QueryError::Invalid(format!(
            "Undefined column name {name} in table {}.{}",
            table.keyspace, table.name
        ))
    })
}

/// Reads the live elements `(path, value)` of list column `column` in the row `clustering`
/// (`None`: the static row) of partition `key`, in list order.
pub type ListReader<'a> = &'a dyn Fn(&Bytes, Option<&Bytes>, &str) -> QueryResult<Vec<(Bytes, Bytes)>>;

/// A list operation that needs the list as it is: by index, or removal by value.
#[derive(Debug, Clone)]
enum ListOpKind {
    SetIndex(i64, Option<Bytes>),
    DeleteIndex(i64),
    RemoveValues(Vec<Bytes>),
}

#[derive(Debug, Clone)]
struct ListOp {
    column: String,
    is_static: bool,
    kind: ListOpKind,
}

fn index_of(b: &Bytes) -> QueryResult<i64> {
    let arr: [u8; 4] = b[..].try_into().map_err(|_| QueryError::Invalid("Invalid list index".into()))?;
    Ok(i64::from(i32::from_be_bytes(arr)))
}

/// Applies `ops` to `row` (or `static_row`) of one partition, reading the lists they touch.
fn resolve_list_ops(
    ops: &[ListOp],
    key: &Bytes,
    clustering: Option<&Bytes>,
    row: &mut Row,
    static_row: &mut Row,
    reader: ListReader<'_>,
    wt: &WriteTime,
) -> QueryResult<()> {
    for op in ops {
        let elems = reader(key, if op.is_static { None } else { clustering }, &op.column)?;
        let target = if op.is_static { &mut *static_row } else { &mut *row };
        let col = Bytes::from(op.column.clone().into_bytes());
        let at = |i: i64| -> QueryResult<Bytes> {
            usize::try_from(i).ok().and_then(|i| elems.get(i)).map(|(p, _)| p.clone()).ok_or_else(|| {
                QueryError::Invalid(format!("List index {i} out of bound, list has size {}", elems.len()))
            })
        };
        match &op.kind {
            ListOpKind::SetIndex(i, v) => {
                let cell = match v {
                    Some(v) => wt.cell(v.clone()),
                    None => wt.tombstone(),
                };
                target.cells.insert(CellKey::element(col, at(*i)?), cell);
            }
            ListOpKind::DeleteIndex(i) => {
                target.cells.insert(CellKey::element(col, at(*i)?), wt.tombstone());
            }
            ListOpKind::RemoveValues(values) => {
                for (path, v) in &elems {
                    if values.contains(v) {
                        target.cells.insert(CellKey::element(col.clone(), path.clone()), wt.tombstone());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Groups rows and deletions per partition key.
#[derive(Default)]
pub struct Mutations {
    parts: BTreeMap<Bytes, Partition>,
}

impl Mutations {
    fn partition(&mut self, key: &Bytes) -> &mut Partition {
        self.parts.entry(key.clone()).or_default()
    }

    /// The mutations for table `table`.
    pub fn into_mutations(self, table: &Table) -> Vec<Mutation> {
        self.parts.into_iter().map(|(k, p)| Mutation::new(table.id, DecoratedKey::new(k), p)).collect()
    }

    /// Folds another statement's changes in (batches).
    pub fn merge(&mut self, other: Mutations) {
        for (k, p) in other.parts {
            match self.parts.get_mut(&k) {
                Some(mine) => mine.merge(p),
                None => {
                    self.parts.insert(k, p);
                }
            }
        }
    }
}

fn check_key_complete(table: &Table, r: &Restrictions, what: &str, rows: bool) -> QueryResult<()> {
    if r.partition.is_none() {
        let names: Vec<&str> = table.partition_key().map(|c| c.name.as_str()).collect();
        return Err(QueryError::Invalid(format!(
            "Some partition key parts are missing: {}",
            names.join(", ")
        )));
    }
    if !r.filters.is_empty() || r.token_lower.is_some() || r.token_upper.is_some() {
        return Err(QueryError::Invalid(format!(
            "Only primary key columns restricted by = or IN are allowed in the WHERE clause of {what}"
        )));
    }
    if rows && !r.selects_whole_rows(table) {
        let missing: Vec<&str> =
            table.clustering().skip(r.clustering_eq.len()).map(|c| c.name.as_str()).collect();
        return Err(QueryError::Invalid(format!("Some clustering keys are missing: {}", missing.join(", "))));
    }
    Ok(())
}

/// A statement that changes only static columns names no row: it may not restrict clustering
/// columns.
fn check_static_only(r: &Restrictions, what: &str, only_static: bool) -> QueryResult<()> {
    if only_static && (!r.clustering_eq.is_empty() || r.clustering_range.is_some()) {
        return Err(QueryError::Invalid(format!(
            "Invalid restrictions on clustering columns since the {what} statement modifies only static columns"
        )));
    }
    Ok(())
}

/// The clustering keys of every row an UPDATE or DELETE names.
fn row_keys(table: &Table, r: &Restrictions) -> QueryResult<Vec<Bytes>> {
    let mut combos: Vec<Vec<Bytes>> = vec![Vec::new()];
    for values in &r.clustering_eq {
        combos = combos
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    combos.iter().map(|c| clustering_key(table, c).map(Bytes::from)).collect()
}

/// The changes an INSERT makes.
pub fn insert(
    table: &Table,
    ins: &Insert,
    params: &QueryParams,
    batch_ts: Option<i64>,
) -> QueryResult<Mutations> {
    let json;
    let (columns, values) = match &ins.values {
        InsertValues::Values { columns, values } => (columns, values),
        InsertValues::Json { value, default_unset } => {
            let text = bind(value, &CqlType::Text, params)?.required("JSON value")?;
            let text = std::str::from_utf8(&text)
                .map_err(|_| QueryError::Invalid("JSON value is not UTF-8".into()))?;
            json = super::json::columns_and_terms(table, text, *default_unset)?;
            (&json.0, &json.1)
        }
    };
    if columns.len() != values.len() {
        return Err(QueryError::Invalid(format!(
            "Unmatched column names/values: {} columns, {} values",
            columns.len(),
            values.len()
        )));
    }
    let wt = write_time(&ins.using, table, params, batch_ts)?;
    let mut pk: Vec<Option<Bytes>> = vec![None; table.partition_key().count()];
    let mut ck: Vec<Option<Bytes>> = vec![None; table.clustering().count()];
    let mut row = Row::default();
    let mut static_row = Row::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, term) in columns.iter().zip(values) {
        let c = table_column(table, name)?;
        if seen.contains(&name.as_str()) {
            return Err(QueryError::Invalid(format!("Multiple definitions found for column {name}")));
        }
        seen.push(name);
        let v = bind(term, &c.ty, params)?;
        match c.kind {
            ColumnKind::PartitionKey => {
                pk[c.position as usize] = Some(v.required(&format!("partition key part {name}"))?)
            }
            ColumnKind::Clustering => {
                ck[c.position as usize] = Some(v.required(&format!("clustering column {name}"))?)
            }
            ColumnKind::Static => set_column(&mut static_row, c, v, &wt)?,
            ColumnKind::Regular => set_column(&mut row, c, v, &wt)?,
        }
    }
    let missing = |kind: ColumnKind| -> Vec<String> {
        table
            .columns
            .iter()
            .filter(|c| c.kind == kind && !seen.contains(&c.name.as_str()))
            .map(|c| c.name.clone())
            .collect()
    };
    let pk: Vec<Bytes> = match pk.into_iter().collect::<Option<Vec<_>>>() {
        Some(v) => v,
        None => {
            return Err(QueryError::Invalid(format!(
                "Some partition key parts are missing: {}",
                missing(ColumnKind::PartitionKey).join(", ")
            )));
        }
    };
    let only_static = row.cells.is_empty() && !static_row.cells.is_empty() && ck.iter().all(Option::is_none);
    let mut m = Mutations::default();
    let key = super::keys::partition_key(&pk)?;
    let p = m.partition(&key);
    if !static_row.is_empty() {
        p.static_row = static_row;
    }
    if only_static {
        return Ok(m);
    }
    let ck: Vec<Bytes> = match ck.into_iter().collect::<Option<Vec<_>>>() {
        Some(v) => v,
        None => {
            return Err(QueryError::Invalid(format!(
                "Some clustering keys are missing: {}",
                missing(ColumnKind::Clustering).join(", ")
            )));
        }
    };
    row.marker = Some(wt.cell(Bytes::new()));
    let clustering = Bytes::from(clustering_key(table, &ck)?);
    p.rows.insert(clustering, row);
    Ok(m)
}

/// The changes an UPDATE makes.
pub fn update(
    table: &Table,
    up: &Update,
    params: &QueryParams,
    batch_ts: Option<i64>,
    reader: ListReader<'_>,
) -> QueryResult<Mutations> {
    let wt = write_time(&up.using, table, params, batch_ts)?;
    let r = Restrictions::analyse(table, &up.where_clause, params)?;
    let only_static = up.assignments.iter().all(|a| {
        let name = match a {
            Assignment::Set { column, .. }
            | Assignment::SetElement { column, .. }
            | Assignment::Add { column, .. }
            | Assignment::Prepend { column, .. }
            | Assignment::Remove { column, .. } => column,
        };
        table.column(name).is_some_and(|c| c.kind == ColumnKind::Static)
    });
    check_key_complete(table, &r, "UPDATE", !only_static)?;
    check_static_only(&r, "UPDATE", only_static)?;
    let mut row = Row::default();
    let mut static_row = Row::default();
    let mut list_ops: Vec<ListOp> = Vec::new();
    for a in &up.assignments {
        let name = match a {
            Assignment::Set { column, .. }
            | Assignment::SetElement { column, .. }
            | Assignment::Add { column, .. }
            | Assignment::Prepend { column, .. }
            | Assignment::Remove { column, .. } => column,
        };
        let c = table_column(table, name)?;
        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            return Err(QueryError::Invalid(format!("PRIMARY KEY part {name} found in SET part")));
        }
        let target = if c.kind == ColumnKind::Static { &mut static_row } else { &mut row };
        if let Some(op) = list_op(c, a, params)? {
            list_ops.push(op);
            continue;
        }
        assign(target, c, a, params, &wt)?;
    }
    let clusterings = if only_static { Vec::new() } else { row_keys(table, &r)? };
    build(r.partition_keys()?, &clusterings, &row, &static_row, &list_ops, reader, &wt)
}

/// The list operations of an assignment that need the current list.
fn list_op(c: &Column, a: &Assignment, params: &QueryParams) -> QueryResult<Option<ListOp>> {
    let CqlType::List(et) = &c.ty else { return Ok(None) };
    let kind = match a {
        Assignment::SetElement { key, value, .. } => {
            let i = index_of(&bind(key, &CqlType::Int, params)?.required("list index")?)?;
            let v = match bind(value, et, params)? {
                Bound::Value(v) => Some(v),
                Bound::Null => None,
                Bound::Unset => return Ok(None),
            };
            ListOpKind::SetIndex(i, v)
        }
        Assignment::Remove { value, .. } => {
            let values = match bind(value, &c.ty, params)? {
                Bound::Value(b) => match elements(&c.ty, &b)? {
                    CqlValue::List(items) => items
                        .iter()
                        .map(|v| Ok(Bytes::from(v.to_bytes(et)?)))
                        .collect::<QueryResult<Vec<_>>>()?,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            ListOpKind::RemoveValues(values)
        }
        _ => return Ok(None),
    };
    Ok(Some(ListOp { column: c.name.clone(), is_static: c.kind == ColumnKind::Static, kind }))
}

/// The mutations: `row` in every named row and `static_row` in every partition, with the
/// list operations resolved per row.
fn build(
    keys: Vec<Bytes>,
    clusterings: &[Bytes],
    row: &Row,
    static_row: &Row,
    list_ops: &[ListOp],
    reader: ListReader<'_>,
    wt: &WriteTime,
) -> QueryResult<Mutations> {
    let mut m = Mutations::default();
    for key in keys {
        let mut statics = static_row.clone();
        if clusterings.is_empty() && !list_ops.is_empty() {
            let mut unused = Row::default();
            resolve_list_ops(list_ops, &key, None, &mut unused, &mut statics, reader, wt)?;
        }
        let mut rows = Vec::with_capacity(clusterings.len());
        for ck in clusterings {
            let mut r = row.clone();
            if !list_ops.is_empty() {
                resolve_list_ops(list_ops, &key, Some(ck), &mut r, &mut statics, reader, wt)?;
            }
            rows.push((ck.clone(), r));
        }
        let p = m.partition(&key);
        if !statics.is_empty() {
            p.static_row.merge(statics);
        }
        for (ck, r) in rows {
            p.rows.insert(ck, r);
        }
    }
    Ok(m)
}

/// Why an element operation `op` (such as `c = c - ?`) does not apply to `c`: a frozen
/// collection is one value, anything else is no collection at all.
fn not_elementwise(c: &Column, op: &str, otherwise: &str) -> QueryError {
    let frozen_collection = matches!(&c.ty, CqlType::Frozen(t) if t.is_multi_cell());
    let kind = if frozen_collection { "frozen collection" } else { otherwise };
    QueryError::Invalid(format!("Invalid operation ({op}) for {kind} column {}", c.name))
}

fn assign(
    row: &mut Row,
    c: &Column,
    a: &Assignment,
    params: &QueryParams,
    wt: &WriteTime,
) -> QueryResult<()> {
    let col = Bytes::from(c.name.clone().into_bytes());
    match a {
        Assignment::Set { value, .. } => set_column(row, c, bind(value, &c.ty, params)?, wt),
        Assignment::Add { value, .. } | Assignment::Prepend { value, .. } => {
            if !c.ty.is_multi_cell() {
                let op = format!("{0} = {0} + ?", c.name);
                return Err(not_elementwise(c, &op, "non counter"));
            }
            if matches!(a, Assignment::Prepend { .. }) && !matches!(c.ty, CqlType::List(_)) {
                return Err(QueryError::Invalid(format!(
                    "Invalid operation (prepend) for non-list column {}",
                    c.name
                )));
            }
            let ty = match (&c.ty, value) {
                // `s = s + {}` parses as an empty map.
                (CqlType::Set(_), Term::Map(m)) if m.is_empty() => return Ok(()),
                (t, _) => t,
            };
            match bind(value, ty, params)? {
                Bound::Value(b) => {
                    put_collection(row, c, Some(&b), wt, false, matches!(a, Assignment::Prepend { .. }))
                }
                Bound::Null | Bound::Unset => Ok(()),
            }
        }
        Assignment::Remove { value, .. } => match &c.ty {
            CqlType::Set(et) => {
                if let Bound::Value(b) = bind(value, &c.ty, params)?
                    && let CqlValue::Set(items) | CqlValue::List(items) = elements(&c.ty, &b)?
                {
                    for v in &items {
                        row.cells.insert(CellKey::element(col.clone(), comparable(et, v)?), wt.tombstone());
                    }
                }
                Ok(())
            }
            CqlType::Map(kt, _) => {
                let set_ty = CqlType::Set(kt.clone());
                if let Bound::Value(b) = bind(value, &set_ty, params)?
                    && let CqlValue::Set(items) | CqlValue::List(items) = elements(&set_ty, &b)?
                {
                    for k in &items {
                        row.cells.insert(CellKey::element(col.clone(), comparable(kt, k)?), wt.tombstone());
                    }
                }
                Ok(())
            }
            // Resolved against the current list by `list_op`.
            CqlType::List(_) => Ok(()),
            _ => Err(not_elementwise(c, &format!("{0} = {0} - ?", c.name), "non collection")),
        },
        Assignment::SetElement { key, value, .. } => match &c.ty {
            CqlType::Map(kt, vt) => {
                let k = bind(key, kt, params)?.required("map key")?;
                let path = comparable(kt, &CqlValue::deserialize(kt, &k)?)?;
                let cell = match bind(value, vt, params)? {
                    Bound::Value(v) => wt.cell(v),
                    Bound::Null => wt.tombstone(),
                    Bound::Unset => return Ok(()),
                };
                row.cells.insert(CellKey::element(col, path), cell);
                Ok(())
            }
            // Resolved against the current list by `list_op` (an unset value changes nothing).
            CqlType::List(_) => Ok(()),
            _ => Err(not_elementwise(c, &format!("{}[?] = ?", c.name), "non map")),
        },
    }
}

/// The changes a DELETE makes.
pub fn delete(
    table: &Table,
    del: &Delete,
    params: &QueryParams,
    batch_ts: Option<i64>,
    reader: ListReader<'_>,
) -> QueryResult<Mutations> {
    if del.using.ttl.is_some() {
        return Err(QueryError::Invalid("Cannot provide custom TTL for DELETE statements".into()));
    }
    let wt = write_time(&del.using, table, params, batch_ts)?;
    let r = Restrictions::analyse(table, &del.where_clause, params)?;
    check_key_complete(table, &r, "DELETE", false)?;
    let mut m = Mutations::default();
    let keys = r.partition_keys()?;
    if del.targets.is_empty() {
        let slices = r.clustering_slices(table)?;
        for key in &keys {
            let p = m.partition(key);
            match &slices {
                None => p.deletion = wt.deletion(),
                Some(_) if r.selects_whole_rows(table) => {
                    for ck in row_keys(table, &r)? {
                        p.rows.insert(ck, Row { deletion: wt.deletion(), ..Default::default() });
                    }
                }
                Some(sl) => {
                    for s in sl {
                        p.range_tombstones.push(RangeTombstone { range: s.clone(), deletion: wt.deletion() });
                    }
                }
            }
        }
        return Ok(m);
    }
    // Column deletions: whole rows must be named, unless only static columns are deleted.
    let only_static = del.targets.iter().all(|t| {
        let name = match t {
            DeleteTarget::Column(c) | DeleteTarget::Element { column: c, .. } => c,
        };
        table.column(name).is_some_and(|c| c.kind == ColumnKind::Static)
    });
    check_static_only(&r, "DELETE", only_static)?;
    if !only_static && !r.selects_whole_rows(table) {
        return Err(QueryError::Invalid("Range deletions are not supported for specific columns".into()));
    }
    let mut row = Row::default();
    let mut static_row = Row::default();
    let mut list_ops: Vec<ListOp> = Vec::new();
    for t in &del.targets {
        let name = match t {
            DeleteTarget::Column(c) | DeleteTarget::Element { column: c, .. } => c,
        };
        let c = table_column(table, name)?;
        if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) {
            return Err(QueryError::Invalid(format!(
                "Invalid identifier {name} for deletion (should not be a PRIMARY KEY part)"
            )));
        }
        let target = if c.kind == ColumnKind::Static { &mut static_row } else { &mut row };
        let col = Bytes::from(c.name.clone().into_bytes());
        match t {
            DeleteTarget::Column(_) if c.ty.is_multi_cell() => {
                target.complex_deletions.insert(col, wt.deletion());
            }
            DeleteTarget::Column(_) => {
                target.cells.insert(CellKey::simple(col), wt.tombstone());
            }
            DeleteTarget::Element { key, .. } => match &c.ty {
                CqlType::Map(kt, _) | CqlType::Set(kt) => {
                    let k = bind(key, kt, params)?.required("element")?;
                    let path = comparable(kt, &CqlValue::deserialize(kt, &k)?)?;
                    target.cells.insert(CellKey::element(col, path), wt.tombstone());
                }
                CqlType::List(_) => {
                    let i = index_of(&bind(key, &CqlType::Int, params)?.required("list index")?)?;
                    list_ops.push(ListOp {
                        column: c.name.clone(),
                        is_static: c.kind == ColumnKind::Static,
                        kind: ListOpKind::DeleteIndex(i),
                    });
                }
                _ if matches!(&c.ty, CqlType::Frozen(t) if t.is_multi_cell()) => {
                    return Err(QueryError::Invalid(format!(
                        "Invalid deletion operation for frozen collection column {name}"
                    )));
                }
                _ => {
                    return Err(QueryError::Invalid(format!(
                        "Invalid element deletion for non-collection column {name}"
                    )));
                }
            },
        }
    }
    let clusterings = if only_static { Vec::new() } else { row_keys(table, &r)? };
    build(keys, &clusterings, &row, &static_row, &list_ops, reader, &wt)
}
