//! PREPARE: the statement id and the metadata drivers need — one column spec per bind marker
//! (its column's type, or the implied type of `USING TTL ?`, `LIMIT ?`, `IN ?`, ...), the
//! bind-marker index of each partition-key column (for token-aware routing), and the result
//! columns of a SELECT.

use crate::error::{QueryError, QueryResult};
use crate::schema::{Schema, Table};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{
    Assignment, DeleteTarget, InsertValues, Operator, ParsedStatement, QualifiedName, Relation, RelationLhs,
    Statement, Term, Using,
};
use cql::protocol::{ColumnSpec, PreparedMetadata, RowsMetadata};

/// The id of `query` prepared in keyspace `ks`: stable across restarts and nodes.
pub fn statement_id(ks: Option<&str>, query: &str) -> Bytes {
    let name = format!("{}\u{0}{query}", ks.unwrap_or(""));
    Bytes::copy_from_slice(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).as_bytes())
}

struct Collector<'a> {
    table: Option<&'a Table>,
    keyspace: String,
    table_name: String,
    specs: Vec<Option<ColumnSpec>>,
}

impl Collector<'_> {
    fn put(&mut self, term: &Term, name: &str, ty: CqlType) {
        match term {
            Term::Bind { index, name: marker } => {
                if let Some(slot) = self.specs.get_mut(*index) {
                    *slot = Some(ColumnSpec {
                        keyspace: self.keyspace.clone(),
                        table: self.table_name.clone(),
                        name: marker.clone().unwrap_or_else(|| name.to_string()),
                        ty,
                    });
                }
            }
            Term::List(items) | Term::Set(items) | Term::Tuple(items) => {
                let elem = match ty.unfrozen() {
                    CqlType::List(t) | CqlType::Set(t) => (**t).clone(),
                    t => t.clone(),
                };
                for (i, t) in items.iter().enumerate() {
                    let ety = match ty.unfrozen() {
                        CqlType::Tuple(ts) => ts.get(i).cloned().unwrap_or(CqlType::Blob),
                        _ => elem.clone(),
                    };
                    self.put(t, name, ety);
                }
            }
            Term::Map(entries) => {
                if let CqlType::Map(kt, vt) = ty.unfrozen() {
                    for (k, v) in entries {
                        self.put(k, name, (**kt).clone());
                        self.put(v, name, (**vt).clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn column_type(&self, name: &str) -> Option<CqlType> {
        self.table.and_then(|t| t.column(name)).map(|c| c.ty.clone())
    }

    fn using(&mut self, u: &Using) {
        if let Some(t) = &u.ttl {
            self.put(t, "[ttl]", CqlType::Int);
        }
        if let Some(t) = &u.timestamp {
            self.put(t, "[timestamp]", CqlType::Bigint);
        }
    }

    fn relations(&mut self, rels: &[Relation]) {
        for r in rels {
            match &r.lhs {
                RelationLhs::Column(c) => {
                    let Some(ty) = self.column_type(c) else { continue };
                    match r.op {
                        Operator::In => match &r.rhs {
                            Term::Bind { .. } => {
                                self.put(&r.rhs, &format!("in({c})"), CqlType::List(Box::new(ty)))
                            }
                            Term::List(items) => {
                                for t in items {
                                    self.put(t, c, ty.clone());
                                }
                            }
                            _ => {}
                        },
                        Operator::Contains => {
                            let elem = match ty.unfrozen() {
                                CqlType::List(t) | CqlType::Set(t) | CqlType::Map(_, t) => (**t).clone(),
                                t => t.clone(),
                            };
                            self.put(&r.rhs, c, elem);
                        }
                        Operator::ContainsKey => {
                            let key = match ty.unfrozen() {
                                CqlType::Map(k, _) => (**k).clone(),
                                t => t.clone(),
                            };
                            self.put(&r.rhs, c, key);
                        }
                        _ => self.put(&r.rhs, c, ty),
                    }
                }
                RelationLhs::Token(_) => self.put(&r.rhs, "partition key token", CqlType::Bigint),
                RelationLhs::Tuple(cols) => {
                    let tys: Vec<CqlType> =
                        cols.iter().map(|c| self.column_type(c).unwrap_or(CqlType::Blob)).collect();
                    self.put(&r.rhs, "tuple", CqlType::Tuple(tys));
                }
            }
        }
    }
}

fn resolve<'a>(
    schema: &'a Schema,
    q: &QualifiedName,
    ks: Option<&str>,
) -> QueryResult<(String, Option<&'a Table>)> {
    let keyspace = q.keyspace.clone().or_else(|| ks.map(str::to_string)).ok_or_else(|| {
        QueryError::Invalid(
            "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename".into(),
        )
    })?;
    if crate::system::table(&keyspace, &q.name).is_some() {
        return Ok((keyspace, None));
    }
    if !schema.keyspaces.contains_key(&keyspace) {
        return Err(QueryError::Invalid(format!("Keyspace {keyspace} does not exist")));
    }
    let t = schema
        .table(&keyspace, &q.name)
        .ok_or_else(|| QueryError::Invalid(format!("unconfigured table {}", q.name)))?;
    Ok((keyspace, Some(t.as_ref())))
}

/// Bind-marker and result metadata for a statement prepared in keyspace `ks`.
pub fn metadata(
    schema: &Schema,
    parsed: &ParsedStatement,
    ks: Option<&str>,
) -> QueryResult<(PreparedMetadata, RowsMetadata)> {
    let n = parsed.bind_markers.len();
    let mut c =
        Collector { table: None, keyspace: String::new(), table_name: String::new(), specs: vec![None; n] };
    let mut pk_indexes: Vec<Option<u16>> = Vec::new();
    let mut result = RowsMetadata { no_metadata: true, ..Default::default() };
    fn target<'a>(
        schema: &'a Schema,
        c: &mut Collector<'a>,
        q: &QualifiedName,
        ks: Option<&str>,
    ) -> QueryResult<()> {
        let (keyspace, table) = resolve(schema, q, ks)?;
        c.keyspace = keyspace;
        c.table_name = q.name.clone();
        c.table = table;
        Ok(())
    }
    let pk_of = |table: Option<&Table>, eqs: &[(String, &Term)]| -> Vec<Option<u16>> {
        let Some(t) = table else { return Vec::new() };
        t.partition_key()
            .map(|col| {
                eqs.iter().find(|(n, _)| *n == col.name).and_then(|(_, term)| match term {
                    Term::Bind { index, .. } => u16::try_from(*index).ok(),
                    _ => None,
                })
            })
            .collect()
    };
    let where_eqs = |rels: &[Relation]| -> Vec<(String, Term)> {
        rels.iter()
            .filter(|r| r.op == Operator::Eq)
            .filter_map(|r| match &r.lhs {
                RelationLhs::Column(n) => Some((n.clone(), r.rhs.clone())),
                _ => None,
            })
            .collect()
    };
    match &parsed.statement {
        Statement::Insert(i) => {
            target(schema, &mut c, &i.table, ks)?;
            c.using(&i.using);
            if let InsertValues::Values { columns, values } = &i.values {
                for (col, v) in columns.iter().zip(values) {
                    if let Some(ty) = c.column_type(col) {
                        c.put(v, col, ty);
                    }
                }
                let eqs: Vec<(String, &Term)> = columns.iter().cloned().zip(values.iter()).collect();
                pk_indexes = pk_of(c.table, &eqs);
            } else if let InsertValues::Json { value, .. } = &i.values {
                c.put(value, "[json]", CqlType::Text);
            }
        }
        Statement::Update(u) => {
            target(schema, &mut c, &u.table, ks)?;
            c.using(&u.using);
            for a in &u.assignments {
                match a {
                    Assignment::Set { column, value }
                    | Assignment::Add { column, value }
                    | Assignment::Prepend { column, value }
                    | Assignment::Remove { column, value } => {
                        let ty = c.column_type(column).unwrap_or(CqlType::Blob);
                        let ty = match (a, ty.unfrozen()) {
                            (Assignment::Remove { .. }, CqlType::Map(k, _)) => CqlType::Set(k.clone()),
                            _ => ty,
                        };
                        c.put(value, column, ty);
                    }
                    Assignment::SetElement { column, key, value } => {
                        let (kt, vt) = match c.column_type(column).as_ref().map(CqlType::unfrozen) {
                            Some(CqlType::Map(k, v)) => ((**k).clone(), (**v).clone()),
                            Some(CqlType::List(v)) => (CqlType::Int, (**v).clone()),
                            _ => (CqlType::Blob, CqlType::Blob),
                        };
                        c.put(key, &format!("key({column})"), kt);
                        c.put(value, &format!("value({column})"), vt);
                    }
                }
            }
            c.relations(&u.where_clause);
            let eqs = where_eqs(&u.where_clause);
            let eqs: Vec<(String, &Term)> = eqs.iter().map(|(n, t)| (n.clone(), t)).collect();
            pk_indexes = pk_of(c.table, &eqs);
        }
        Statement::Delete(d) => {
            target(schema, &mut c, &d.table, ks)?;
            c.using(&d.using);
            for t in &d.targets {
                if let DeleteTarget::Element { column, key } = t {
                    let kt = match c.column_type(column).as_ref().map(CqlType::unfrozen) {
                        Some(CqlType::Map(k, _)) | Some(CqlType::Set(k)) => (**k).clone(),
                        _ => CqlType::Int,
                    };
                    c.put(key, &format!("key({column})"), kt);
                }
            }
            c.relations(&d.where_clause);
            let eqs = where_eqs(&d.where_clause);
            let eqs: Vec<(String, &Term)> = eqs.iter().map(|(n, t)| (n.clone(), t)).collect();
            pk_indexes = pk_of(c.table, &eqs);
        }
        Statement::Select(s) => {
            target(schema, &mut c, &s.table, ks)?;
            match c.table {
                Some(t) => {
                    c.relations(&s.where_clause);
                    result =
                        RowsMetadata { columns: super::select::result_columns(t, s)?, ..Default::default() };
                    let eqs = where_eqs(&s.where_clause);
                    let eqs: Vec<(String, &Term)> = eqs.iter().map(|(n, t)| (n.clone(), t)).collect();
                    pk_indexes = pk_of(c.table, &eqs);
                }
                None => {
                    let vt = crate::system::table(&c.keyspace, &s.table.name)
                        .ok_or_else(|| QueryError::Invalid(format!("unconfigured table {}", s.table.name)))?;
                    for r in &s.where_clause {
                        if let RelationLhs::Column(name) = &r.lhs
                            && let Some(col) = vt.columns.iter().find(|x| x.name == name)
                        {
                            let ty = if r.op == Operator::In {
                                CqlType::List(Box::new(col.ty.clone()))
                            } else {
                                col.ty.clone()
                            };
                            c.put(&r.rhs, name, ty);
                        }
                    }
                    result = RowsMetadata {
                        columns: super::system_select::result_columns(&vt, s)?,
                        ..Default::default()
                    };
                }
            }
            if let Some(l) = &s.limit {
                c.put(l, "[limit]", CqlType::Int);
            }
            if let Some(l) = &s.per_partition_limit {
                c.put(l, "[per_partition_limit]", CqlType::Int);
            }
        }
        Statement::Batch(b) => {
            c.using(&b.using);
            for st in &b.statements {
                let inner =
                    ParsedStatement { statement: st.clone(), bind_markers: parsed.bind_markers.clone() };
                let (m, _) = metadata(schema, &inner, ks)?;
                for (i, spec) in m.columns.into_iter().enumerate() {
                    if spec.name != "?"
                        && let Some(slot) = c.specs.get_mut(i).filter(|s| s.is_none())
                    {
                        *slot = Some(spec);
                    }
                }
            }
        }
        _ => {}
    }
    let columns: Vec<ColumnSpec> = c
        .specs
        .into_iter()
        .map(|s| {
            s.unwrap_or(ColumnSpec {
                keyspace: String::new(),
                table: String::new(),
                name: "?".into(),
                ty: CqlType::Blob,
            })
        })
        .collect();
    let pk_indexes: Vec<u16> = if !pk_indexes.is_empty() && pk_indexes.iter().all(Option::is_some) {
        pk_indexes.into_iter().flatten().collect()
    } else {
        Vec::new()
    };
    Ok((PreparedMetadata { columns, pk_indexes }, result))
}

/// A valid serialized value of `ty`: positive, non-empty and one element long, so that it
/// passes every check a real value could pass (a LIMIT, a TTL, a partition key, a list
/// index into [`dry_run_list`]). PREPARE binds these to run a statement's checks without
/// executing it.
pub fn sample_value(ty: &CqlType) -> Bytes {
    fn put(ty: &CqlType, out: &mut Vec<u8>) {
        match ty {
            CqlType::Ascii | CqlType::Text => out.push(b'a'),
            CqlType::Blob | CqlType::Boolean | CqlType::Tinyint | CqlType::Varint => out.push(1),
            CqlType::Smallint => out.extend_from_slice(&1i16.to_be_bytes()),
            CqlType::Int => out.extend_from_slice(&1i32.to_be_bytes()),
            CqlType::Bigint | CqlType::Counter | CqlType::Timestamp | CqlType::Time => {
                out.extend_from_slice(&1i64.to_be_bytes())
            }
            CqlType::Date => out.extend_from_slice(&(1u32 << 31).to_be_bytes()),
            CqlType::Decimal => out.extend_from_slice(&[0, 0, 0, 0, 1]),
            CqlType::Float => out.extend_from_slice(&1f32.to_be_bytes()),
            CqlType::Double => out.extend_from_slice(&1f64.to_be_bytes()),
            // Months, days and nanoseconds, each a zero vint.
            CqlType::Duration => out.extend_from_slice(&[0, 0, 0]),
            CqlType::Inet => out.extend_from_slice(&[127, 0, 0, 1]),
            CqlType::Uuid => out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1]),
            CqlType::Timeuuid => {
                out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0, 0, 0, 0, 1])
            }
            CqlType::List(t) | CqlType::Set(t) => {
                out.extend_from_slice(&1i32.to_be_bytes());
                element(t, out);
            }
            CqlType::Map(k, v) => {
                out.extend_from_slice(&1i32.to_be_bytes());
                element(k, out);
                element(v, out);
            }
            CqlType::Tuple(ts) => ts.iter().for_each(|t| element(t, out)),
            CqlType::Frozen(t) => put(t, out),
        }
    }
    fn element(ty: &CqlType, out: &mut Vec<u8>) {
        let mut e = Vec::new();
        put(ty, &mut e);
        out.extend_from_slice(&(e.len() as i32).to_be_bytes());
        out.extend_from_slice(&e);
    }
    let mut out = Vec::new();
    put(ty, &mut out);
    Bytes::from(out)
}

/// Query parameters binding [`sample_value`]s to every marker of `metadata`.
pub fn sample_params(metadata: &PreparedMetadata) -> cql::protocol::QueryParams {
    cql::protocol::QueryParams {
        values: metadata.columns.iter().map(|c| cql::protocol::Value::Bytes(sample_value(&c.ty))).collect(),
        ..Default::default()
    }
}

/// The list a dry run reads for list operations by index or value: two elements, so the
/// sample index 1 is in bounds.
pub fn dry_run_list(_key: &Bytes, _row: Option<&Bytes>, _column: &str) -> QueryResult<Vec<(Bytes, Bytes)>> {
    Ok((0u8..2).map(|i| (Bytes::from(vec![i; 16]), sample_value(&CqlType::Int))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_are_valid_for_every_type() {
        let natives = [
            CqlType::Ascii,
            CqlType::Bigint,
            CqlType::Blob,
            CqlType::Boolean,
            CqlType::Counter,
            CqlType::Date,
            CqlType::Decimal,
            CqlType::Double,
            CqlType::Duration,
            CqlType::Float,
            CqlType::Inet,
            CqlType::Int,
            CqlType::Smallint,
            CqlType::Text,
            CqlType::Time,
            CqlType::Timestamp,
            CqlType::Timeuuid,
            CqlType::Tinyint,
            CqlType::Uuid,
            CqlType::Varint,
        ];
        let mut types: Vec<CqlType> = natives.to_vec();
        for t in &natives {
            types.push(CqlType::List(Box::new(t.clone())));
            types.push(CqlType::Frozen(Box::new(CqlType::Set(Box::new(t.clone())))));
            types.push(CqlType::Map(Box::new(t.clone()), Box::new(CqlType::List(Box::new(t.clone())))));
            types.push(CqlType::Tuple(vec![t.clone(), CqlType::Text]));
        }
        for t in types {
            let v = sample_value(&t);
            assert!(cql::value::validate(&t, &v).is_ok(), "sample of {t} is invalid: {v:?}");
            assert!(!v.is_empty(), "sample of {t} is empty");
        }
    }
}
