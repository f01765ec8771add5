//! Conditional writes — `INSERT ... IF NOT EXISTS`, `UPDATE ... IF EXISTS`,
//! `DELETE ... IF EXISTS` — on one node: under the node's condition lock, read the row, decide,
//! and write only when the condition holds. The answer is a Rows result whose first column is
//! `[applied]`; when not applied it also carries the row as it is, as Cassandra's does.
//!
//! Every conditional write of the node takes the same lock, so two of them never interleave
//! between their read and their write. (Across nodes this becomes Paxos.)

use super::select;
use crate::error::{QueryError, QueryResult};
use crate::schema::{ColumnKind, Table};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{InsertValues, Operator, QualifiedName, Relation, RelationLhs, Select, Statement};
use cql::protocol::{ColumnSpec, QueryParams, Rows, RowsMetadata, RowsWriter};
use std::sync::Arc;

/// The row a conditional statement is about, as `SELECT *` with its key.
pub fn condition_select(table: &Table, stmt: &Statement) -> QueryResult<Select> {
    let name = QualifiedName { keyspace: Some(table.keyspace.clone()), name: table.name.clone() };
    let where_clause: Vec<Relation> = match stmt {
        Statement::Insert(i) => {
            let InsertValues::Values { columns, values } = &i.values else {
                return Err(QueryError::Invalid("INSERT JSON ... IF NOT EXISTS is not supported".into()));
            };
            columns
                .iter()
                .zip(values)
                .filter(|(c, _)| {
                    table
                        .column(c)
                        .is_some_and(|c| matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering))
                })
                .map(|(c, v)| Relation {
                    lhs: RelationLhs::Column(c.clone()),
                    op: Operator::Eq,
                    rhs: v.clone(),
                })
                .collect()
        }
        Statement::Update(u) => u.where_clause.clone(),
        Statement::Delete(d) => d.where_clause.clone(),
        _ => return Err(QueryError::Server("not a conditional statement".into())),
    };
    Ok(Select {
        table: name,
        json: false,
        distinct: false,
        selectors: Vec::new(),
        where_clause,
        order_by: Vec::new(),
        per_partition_limit: None,
        limit: None,
        allow_filtering: false,
        consistency: None,
    })
}

/// Reads the current row for a conditional statement.
pub fn current_row(
    engine: &Arc<storage::Engine>,
    table: &Table,
    sel: &Select,
    params: &QueryParams,
) -> QueryResult<Rows> {
    let params = QueryParams { page_size: None, paging_state: None, ..params.clone() };
    single_row(select::select(engine, table, sel, &params)?)
}

/// The condition's row: refuses a condition that matched several rows.
pub fn single_row(rows: Rows) -> QueryResult<Rows> {
    if rows.rows_count > 1 {
        return Err(QueryError::Invalid(
            "a conditional statement must name exactly one row (every primary key column restricted by =)"
                .into(),
        ));
    }
    Ok(rows)
}

/// The `[applied]` result: true alone, or false with the current row.
pub fn applied_result(table: &Table, applied: bool, current: Option<&Rows>) -> QueryResult<Rows> {
    let spec = |name: &str, ty: CqlType| ColumnSpec {
        keyspace: table.keyspace.clone(),
        table: table.name.clone(),
        name: name.to_string(),
        ty,
    };
    let mut columns = vec![spec("[applied]", CqlType::Boolean)];
    let mut w = RowsWriter::new();
    w.push_cell(Some(&[u8::from(applied)]));
    if let Some(rows) = current.filter(|r| !applied && r.rows_count > 0) {
        columns.extend(rows.metadata.columns.iter().cloned());
        let data = rows.rows()?;
        if let Some(first) = data.first() {
            for cell in first {
                w.push_cell(cell.as_ref().map(Bytes::as_ref));
            }
        }
    }
    w.end_row();
    Ok(w.finish(RowsMetadata { columns, ..Default::default() }))
}
