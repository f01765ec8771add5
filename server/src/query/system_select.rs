//! SELECT over a virtual system table: equality and `IN` filters on any column (drivers filter
//! `system_schema` by `keyspace_name`, `table_name`, ... and `system.local` by `key`), then the
//! selected columns. The tables are small, so the whole result goes out in one page.

use super::bind::{Bound, bind};
use crate::error::{QueryError, QueryResult};
use crate::schema::Schema;
use crate::system::{NodeInfo, VRow, VTable, rows};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{Operator, RelationLhs, Select, SelectorExpr, Term};
use cql::protocol::{ColumnSpec, QueryParams, ResultBody, RowsMetadata, RowsWriter};

/// The serialized value of `term` for a column of type `ty` (null and unset are `None`).
fn term_bytes(term: &Term, ty: &CqlType, params: &QueryParams) -> QueryResult<Option<Bytes>> {
    Ok(match bind(term, ty, params)? {
        Bound::Value(b) => Some(b),
        Bound::Null | Bound::Unset => None,
    })
}

/// (column index, name shown) for each selected column.
fn projection(vt: &VTable, select: &Select) -> QueryResult<Vec<(usize, String)>> {
    let mut projection: Vec<(usize, String)> = Vec::new();
    if select.selectors.is_empty() {
        projection.extend(vt.columns.iter().enumerate().map(|(i, c)| (i, c.name.to_string())));
    } else {
        for s in &select.selectors {
            let SelectorExpr::Column(name) = &s.expr else {
                return Err(QueryError::Invalid(format!(
                    "only plain columns can be selected from {}.{}",
                    vt.keyspace, vt.name
                )));
            };
            let i = vt.columns.iter().position(|c| c.name == name).ok_or_else(|| {
                QueryError::Invalid(format!(
                    "Undefined column name {name} in table {}.{}",
                    vt.keyspace, vt.name
                ))
            })?;
            projection.push((i, s.alias.clone().unwrap_or_else(|| name.clone())));
        }
    }
    Ok(projection)
}

fn specs(vt: &VTable, projection: &[(usize, String)]) -> Vec<ColumnSpec> {
    projection
        .iter()
        .map(|(i, name)| ColumnSpec {
            keyspace: vt.keyspace.to_string(),
            table: vt.name.to_string(),
            name: name.clone(),
            ty: vt.columns[*i].ty.clone(),
        })
        .collect()
}

/// The result columns of `select` (for PREPARE).
pub(crate) fn result_columns(vt: &VTable, select: &Select) -> QueryResult<Vec<ColumnSpec>> {
    Ok(specs(vt, &projection(vt, select)?))
}

/// Runs `select` over the virtual table `vt`.
pub(crate) fn select(
    vt: &VTable,
    select: &Select,
    params: &QueryParams,
    schema: &Schema,
    node: &NodeInfo,
    topology: &crate::cluster::Topology,
) -> QueryResult<ResultBody> {
    // Filters: (column index, accepted values).
    let mut filters: Vec<(usize, Vec<Option<Bytes>>)> = Vec::new();
    for rel in &select.where_clause {
        let RelationLhs::Column(name) = &rel.lhs else {
            return Err(QueryError::Invalid(format!(
                "only column restrictions are supported on {}.{}",
                vt.keyspace, vt.name
            )));
        };
        let i = vt.columns.iter().position(|c| c.name == name).ok_or_else(|| {
            QueryError::Invalid(format!("Undefined column name {name} in table {}.{}", vt.keyspace, vt.name))
        })?;
        let ty = &vt.columns[i].ty;
        let accepted = match (rel.op, &rel.rhs) {
            (Operator::Eq, t) => vec![term_bytes(t, ty, params)?],
            (Operator::In, Term::List(items)) => {
                items.iter().map(|t| term_bytes(t, ty, params)).collect::<QueryResult<Vec<_>>>()?
            }
            (Operator::In, t @ Term::Bind { .. }) => {
                let list_ty = CqlType::List(Box::new(ty.clone()));
                match term_bytes(t, &list_ty, params)? {
                    None => Vec::new(),
                    Some(b) => match cql::value::CqlValue::deserialize(&list_ty, &b)? {
                        cql::value::CqlValue::List(vs) => vs
                            .iter()
                            .map(|v| v.to_bytes(ty).map(|b| Some(Bytes::from(b))))
                            .collect::<cql::Result<Vec<_>>>()?,
                        _ => Vec::new(),
                    },
                }
            }
            (op, _) => {
                return Err(QueryError::Invalid(format!(
                    "operator {op:?} is not supported on {}.{}",
                    vt.keyspace, vt.name
                )));
            }
        };
        filters.push((i, accepted));
    }

    let projection = projection(vt, select)?;
    let metadata = RowsMetadata { columns: specs(vt, &projection), ..Default::default() };
    let keep = |r: &VRow| filters.iter().all(|(i, accepted)| accepted.contains(&r[*i]));
    let mut w = RowsWriter::new();
    for r in rows(vt, schema, node, topology).iter().filter(|r| keep(r)) {
        for (i, _) in &projection {
            w.push_cell(r[*i].as_deref());
        }
        w.end_row();
    }
    Ok(ResultBody::Rows(w.finish(metadata)))
}
