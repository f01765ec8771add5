//! Schema changes: CREATE/ALTER/DROP KEYSPACE and TABLE applied to a [`Schema`] copy, with
//! Cassandra's checks and messages. The caller (the query processor) creates or drops the
//! storage tables and persists the result; this file only decides what the new schema is.
//!
//! Each change is stamped ([`Schema::next_timestamp`]) in `Schema::updated` (created or
//! altered; a table change stamps its keyspace too) or `Schema::dropped`, for `merge.rs`.

use super::options::{keyspace_options, table_options};
use super::{Column, ColumnKind, Keyspace, SYSTEM_KEYSPACES, Schema, Table, TableOptions, table_key};
use crate::error::{QueryError, QueryResult};
use cql::CqlType;
use cql::ast::{AlterTableOp, CreateKeyspace, CreateTable, Order, Statement};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a DDL statement did, for the Schema_change result and the storage engine.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaChangeKind {
    /// Nothing changed (`IF NOT EXISTS` / `IF EXISTS` on something already there / absent).
    None,
    KeyspaceCreated(String),
    KeyspaceUpdated(String),
    /// The keyspace and the tables it held.
    KeyspaceDropped(String, Vec<Arc<Table>>),
    TableCreated(Arc<Table>),
    TableUpdated(Arc<Table>),
    TableDropped(Arc<Table>),
}

fn invalid(m: impl Into<String>) -> QueryError {
    QueryError::Invalid(m.into())
}

pub(super) fn check_name(kind: &str, name: &str) -> QueryResult<()> {
    if name.is_empty() || name.len() > 48 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(format!(
            "{kind} name must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters (got \"{name}\")"
        )));
    }
    Ok(())
}

fn check_not_system(ks: &str) -> QueryResult<()> {
    if SYSTEM_KEYSPACES.contains(&ks) {
        return Err(QueryError::Unauthorized(format!("{ks} keyspace is not user-modifiable.")));
    }
    Ok(())
}

fn check_type_allowed(column: &str, ty: &CqlType, in_key: bool) -> QueryResult<()> {
    fn contains(ty: &CqlType, pred: &dyn Fn(&CqlType) -> bool) -> bool {
        pred(ty)
            || match ty {
                CqlType::List(t) | CqlType::Set(t) | CqlType::Frozen(t) => contains(t, pred),
                CqlType::Map(k, v) => contains(k, pred) || contains(v, pred),
                CqlType::Tuple(ts) => ts.iter().any(|t| contains(t, pred)),
                _ => false,
            }
    }
    if contains(ty, &|t| matches!(t, CqlType::Counter)) {
        return Err(invalid(format!("counter columns are not supported (column {column})")));
    }
    if in_key && ty.is_multi_cell() {
        return Err(invalid(format!(
            "Invalid non-frozen collection type for PRIMARY KEY component {column}"
        )));
    }
    if in_key && contains(ty, &|t| matches!(t, CqlType::Duration)) {
        return Err(invalid(format!("duration type is not supported for PRIMARY KEY column '{column}'")));
    }
    // Collections inside collections must be frozen.
    let nested_multi = match ty {
        CqlType::List(t) | CqlType::Set(t) => t.is_multi_cell(),
        CqlType::Map(k, v) => k.is_multi_cell() || v.is_multi_cell(),
        _ => false,
    };
    if nested_multi {
        return Err(invalid(format!("Non-frozen collections are not allowed inside collections: {ty}")));
    }
    Ok(())
}

fn create_table(schema: &Schema, keyspace: &str, c: &CreateTable) -> QueryResult<Table> {
    check_name("Table", &c.name.name)?;
    if !schema.keyspaces.contains_key(keyspace) {
        return Err(invalid(format!("Keyspace '{keyspace}' doesn't exist")));
    }
    let mut columns: Vec<Column> = Vec::new();
    for d in &c.columns {
        if columns.iter().any(|x| x.name == d.name) {
            return Err(invalid(format!(
                "Duplicate column '{}' declaration for table {}",
                d.name, c.name.name
            )));
        }
        columns.push(Column {
            name: d.name.clone(),
            ty: d.ty.clone(),
            kind: if d.is_static { ColumnKind::Static } else { ColumnKind::Regular },
            position: -1,
            order: Order::Asc,
        });
    }
    if c.partition_key.is_empty() {
        return Err(invalid(format!(
            "No PRIMARY KEY specified for table '{}' (exactly one required)",
            c.name.name
        )));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (kind, names) in
        [(ColumnKind::PartitionKey, &c.partition_key), (ColumnKind::Clustering, &c.clustering)]
    {
        for (i, n) in names.iter().enumerate() {
            if seen.contains(&n.as_str()) {
                return Err(invalid(format!("Column '{n}' appears more than once in the PRIMARY KEY")));
            }
            seen.push(n);
            let col = columns
                .iter_mut()
                .find(|x| &x.name == n)
                .ok_or_else(|| invalid(format!("Unknown definition {n} referenced in PRIMARY KEY")))?;
            if col.kind == ColumnKind::Static {
                return Err(invalid(format!("Static column {n} cannot be part of the PRIMARY KEY")));
            }
            col.kind = kind;
            col.position = i as i32;
        }
    }
    if c.clustering.is_empty() && columns.iter().any(|x| x.kind == ColumnKind::Static) {
        return Err(invalid(
            "Static columns are only useful (and thus allowed) if the table has at least one clustering column",
        ));
    }
    for col in &columns {
        check_type_allowed(
            &col.name,
            &col.ty,
            matches!(col.kind, ColumnKind::PartitionKey | ColumnKind::Clustering),
        )?;
    }
    // CLUSTERING ORDER BY must name the clustering columns in key order (a prefix is allowed).
    for (i, (n, order)) in c.clustering_order.iter().enumerate() {
        match c.clustering.get(i) {
            Some(expected) if expected == n => {}
            Some(_) | None if !c.clustering.contains(n) => {
                return Err(invalid(format!(
                    "Only clustering key columns can be defined in CLUSTERING ORDER directive: {n}"
                )));
            }
            _ => {
                return Err(invalid(
                    "The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns",
                ));
            }
        }
        if let Some(col) = columns.iter_mut().find(|x| &x.name == n) {
            col.order = *order;
        }
    }
    let mut t = Table {
        keyspace: keyspace.to_string(),
        name: c.name.name.clone(),
        id: storage::TableId(*uuid::Uuid::new_v4().as_bytes()),
        columns,
        options: table_options(&c.options, TableOptions::default())?,
        dropped: BTreeMap::new(),
    };
    t.sort_columns();
    Ok(t)
}

fn alter_table(t: &Table, op: &AlterTableOp) -> QueryResult<Table> {
    let mut t = t.clone();
    match op {
        AlterTableOp::Add(defs) => {
            for d in defs {
                if t.column(&d.name).is_some() {
                    return Err(invalid(format!("Column with name '{}' already exists", d.name)));
                }
                if d.is_static && t.clustering().next().is_none() {
                    return Err(invalid(format!(
                        "Static columns are not allowed in COMPACT STORAGE tables or tables without clustering columns ({})",
                        d.name
                    )));
                }
                check_type_allowed(&d.name, &d.ty, false)?;
                t.columns.push(Column {
                    name: d.name.clone(),
                    ty: d.ty.clone(),
                    kind: if d.is_static { ColumnKind::Static } else { ColumnKind::Regular },
                    position: -1,
                    order: Order::Asc,
                });
            }
        }
        AlterTableOp::Drop(names) => {
            for n in names {
                match t.column(n) {
                    None => return Err(invalid(format!("Column {n} was not found in table {}", t.name))),
                    Some(c) if matches!(c.kind, ColumnKind::PartitionKey | ColumnKind::Clustering) => {
                        return Err(invalid(format!("Cannot drop PRIMARY KEY column {n}")));
                    }
                    Some(_) => {
                        t.columns.retain(|c| &c.name != n);
                        t.dropped.insert(n.clone(), crate::query::server_timestamp());
                    }
                }
            }
        }
        AlterTableOp::With(options) => t.options = table_options(options, t.options.clone())?,
        AlterTableOp::Rename(_) => {
            return Err(QueryError::Syntax(
                "ALTER TABLE ... RENAME is not supported (clustering column data is stored under its name)"
                    .into(),
            ));
        }
    }
    t.sort_columns();
    Ok(t)
}

/// Records that table `t` was created or altered at `at`; so was its keyspace.
fn stamp_table(schema: &mut Schema, t: &Table, at: i64) {
    schema.updated.insert(table_key(&t.keyspace, &t.name), at);
    schema.updated.insert(t.keyspace.clone(), at);
}

/// Records that keyspace `name` was dropped at `at`. Its tables' entries go: the keyspace's
/// drop timestamp covers them.
fn stamp_keyspace_drop(schema: &mut Schema, name: &str, at: i64) {
    let prefix = table_key(name, "");
    schema.updated.retain(|k, _| k != name && !k.starts_with(&prefix));
    schema.dropped.retain(|k, _| !k.starts_with(&prefix));
    schema.dropped.insert(name.to_string(), at);
}

/// Applies a DDL statement to `schema`. `keyspace` is the session's current keyspace, used
/// for unqualified table names.
pub fn apply_ddl(
    schema: &mut Schema,
    stmt: &Statement,
    keyspace: Option<&str>,
) -> QueryResult<SchemaChangeKind> {
    let table_keyspace = |q: &cql::ast::QualifiedName| -> QueryResult<String> {
        q.keyspace.clone().or_else(|| keyspace.map(str::to_string)).ok_or_else(|| {
            invalid(
                "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
            )
        })
    };
    let at = schema.next_timestamp();
    match stmt {
        Statement::CreateKeyspace(CreateKeyspace { name, if_not_exists, options }) => {
            check_name("Keyspace", name)?;
            if SYSTEM_KEYSPACES.contains(&name.as_str()) || schema.keyspaces.contains_key(name) {
                if *if_not_exists {
                    return Ok(SchemaChangeKind::None);
                }
                return Err(QueryError::AlreadyExists {
                    keyspace: name.clone(),
                    table: String::new(),
                    message: format!("Keyspace '{name}' already exists"),
                });
            }
            let (replication, durable_writes) = keyspace_options(options, None)?;
            schema.keyspaces.insert(
                name.clone(),
                Keyspace { name: name.clone(), replication, durable_writes, tables: BTreeMap::new() },
            );
            schema.updated.insert(name.clone(), at);
            Ok(SchemaChangeKind::KeyspaceCreated(name.clone()))
        }
        Statement::AlterKeyspace { name, options } => {
            check_not_system(name)?;
            let ks = schema
                .keyspaces
                .get_mut(name)
                .ok_or_else(|| QueryError::Invalid(format!("Keyspace '{name}' doesn't exist")))?;
            let (replication, durable_writes) = keyspace_options(options, Some(ks))?;
            ks.replication = replication;
            ks.durable_writes = durable_writes;
            schema.updated.insert(name.clone(), at);
            Ok(SchemaChangeKind::KeyspaceUpdated(name.clone()))
        }
        Statement::DropKeyspace { name, if_exists } => {
            check_not_system(name)?;
            match schema.keyspaces.remove(name) {
                Some(ks) => {
                    stamp_keyspace_drop(schema, name, at);
                    Ok(SchemaChangeKind::KeyspaceDropped(name.clone(), ks.tables.into_values().collect()))
                }
                None if *if_exists => Ok(SchemaChangeKind::None),
                None => Err(QueryError::Invalid(format!("Keyspace '{name}' doesn't exist"))),
            }
        }
        Statement::CreateTable(c) => {
            let ks = table_keyspace(&c.name)?;
            check_not_system(&ks)?;
            if schema.table(&ks, &c.name.name).is_some() {
                if c.if_not_exists {
                    return Ok(SchemaChangeKind::None);
                }
                return Err(QueryError::AlreadyExists {
                    keyspace: ks.clone(),
                    table: c.name.name.clone(),
                    message: format!("Table '{ks}.{}' already exists", c.name.name),
                });
            }
            let t = Arc::new(create_table(schema, &ks, c)?);
            if let Some(k) = schema.keyspaces.get_mut(&ks) {
                k.tables.insert(t.name.clone(), t.clone());
            }
            stamp_table(schema, &t, at);
            Ok(SchemaChangeKind::TableCreated(t))
        }
        Statement::AlterTable { table, op } => {
            let ks = table_keyspace(table)?;
            check_not_system(&ks)?;
            let current = schema
                .table(&ks, &table.name)
                .ok_or_else(|| invalid(format!("Table '{ks}.{}' doesn't exist", table.name)))?;
            let t = Arc::new(alter_table(current, op)?);
            if let Some(k) = schema.keyspaces.get_mut(&ks) {
                k.tables.insert(t.name.clone(), t.clone());
            }
            stamp_table(schema, &t, at);
            Ok(SchemaChangeKind::TableUpdated(t))
        }
        Statement::DropTable { table, if_exists } => {
            let ks = table_keyspace(table)?;
            check_not_system(&ks)?;
            match schema.keyspaces.get_mut(&ks).and_then(|k| k.tables.remove(&table.name)) {
                Some(t) => {
                    let key = table_key(&ks, &t.name);
                    schema.updated.remove(&key);
                    schema.dropped.insert(key, at);
                    Ok(SchemaChangeKind::TableDropped(t))
                }
                None if *if_exists => Ok(SchemaChangeKind::None),
                None => Err(invalid(format!("Table '{ks}.{}' doesn't exist", table.name))),
            }
        }
        _ => Err(QueryError::Server("not a schema statement".into())),
    }
}
