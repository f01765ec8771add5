//! Schema changes: CREATE/ALTER/DROP KEYSPACE and TABLE applied to a [`Schema`] copy, with
//! Cassandra's checks and messages. The caller (the query processor) creates or drops the
//! storage tables and persists the result; this file only decides what the new schema is.

use super::{Column, ColumnKind, Keyspace, Replication, SYSTEM_KEYSPACES, Schema, Table, TableOptions};
use crate::error::{QueryError, QueryResult};
use cql::CqlType;
use cql::ast::{AlterTableOp, CreateKeyspace, CreateTable, Literal, Order, Statement, Term};
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

fn check_name(kind: &str, name: &str) -> QueryResult<()> {
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

/// An option value as text: strings, numbers and booleans.
fn option_text(name: &str, t: &Term) -> QueryResult<String> {
    match t {
        Term::Literal(Literal::String(s) | Literal::Integer(s) | Literal::Float(s)) => Ok(s.clone()),
        Term::Literal(Literal::Boolean(b)) => Ok(b.to_string()),
        _ => Err(QueryError::Syntax(format!("invalid value for property '{name}': expected a constant"))),
    }
}

fn option_map(name: &str, t: &Term) -> QueryResult<BTreeMap<String, String>> {
    match t {
        Term::Map(entries) => {
            entries.iter().map(|(k, v)| Ok((option_text(name, k)?, option_text(name, v)?))).collect()
        }
        _ => Err(QueryError::Syntax(format!("invalid value for property '{name}': expected a map"))),
    }
}

fn option_bool(name: &str, t: &Term) -> QueryResult<bool> {
    match option_text(name, t)?.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(QueryError::Syntax(format!("invalid value '{other}' for boolean property '{name}'"))),
    }
}

fn option_int(name: &str, t: &Term) -> QueryResult<i32> {
    let s = option_text(name, t)?;
    s.parse::<i32>()
        .map_err(|_| QueryError::Syntax(format!("invalid value '{s}' for integer property '{name}'")))
}

fn replication(options: &BTreeMap<String, String>) -> QueryResult<Replication> {
    let class = options
        .get("class")
        .ok_or_else(|| QueryError::Config("Missing replication strategy class".into()))?;
    let short = class.rsplit('.').next().unwrap_or(class);
    let factor = |k: &str, v: &str| -> QueryResult<u32> {
        v.parse::<u32>().map_err(|_| {
            QueryError::Config(format!(
                "Replication factor must be a non-negative integer; found {v} for '{k}'"
            ))
        })
    };
    match short {
        "SimpleStrategy" => {
            let mut rf = None;
            for (k, v) in options {
                match k.as_str() {
                    "class" => {}
                    "replication_factor" => rf = Some(factor(k, v)?),
                    other => {
                        return Err(QueryError::Config(format!(
                            "Unrecognized strategy option {{{other}}} passed to SimpleStrategy"
                        )));
                    }
                }
            }
            let replication_factor = rf.ok_or_else(|| {
                QueryError::Config("SimpleStrategy requires a replication_factor strategy option.".into())
            })?;
            Ok(Replication::Simple { replication_factor })
        }
        "NetworkTopologyStrategy" => {
            let mut datacenters = BTreeMap::new();
            for (k, v) in options {
                if k != "class" {
                    if k == "replication_factor" {
                        return Err(QueryError::Config(
                            "replication_factor as a default for every datacenter is not supported; name each datacenter"
                                .into(),
                        ));
                    }
                    datacenters.insert(k.clone(), factor(k, v)?);
                }
            }
            Ok(Replication::NetworkTopology { datacenters })
        }
        "LocalStrategy" => Err(QueryError::Config("LocalStrategy is only for the system keyspaces".into())),
        other => Err(QueryError::Config(format!("Unable to find replication strategy class '{other}'"))),
    }
}

fn keyspace_options(
    options: &[(String, Term)],
    current: Option<&Keyspace>,
) -> QueryResult<(Replication, bool)> {
    let mut repl = current.map(|k| k.replication.clone());
    let mut durable = current.is_none_or(|k| k.durable_writes);
    for (name, value) in options {
        match name.as_str() {
            "replication" => repl = Some(replication(&option_map(name, value)?)?),
            "durable_writes" => durable = option_bool(name, value)?,
            other => return Err(QueryError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    let repl = repl.ok_or_else(|| QueryError::Config("Missing mandatory option 'replication'".into()))?;
    Ok((repl, durable))
}

/// Options Cassandra accepts on tables that Tessera keeps no state for.
const IGNORED_TABLE_OPTIONS: [&str; 9] = [
    "crc_check_chance",
    "memtable_flush_period_in_ms",
    "read_repair",
    "additional_write_policy",
    "min_index_interval",
    "max_index_interval",
    "cdc",
    "extensions",
    "memtable",
];

fn table_options(options: &[(String, Term)], mut o: TableOptions) -> QueryResult<TableOptions> {
    for (name, value) in options {
        match name.as_str() {
            "comment" => o.comment = option_text(name, value)?,
            "default_time_to_live" => {
                let v = option_int(name, value)?;
                if !(0..=630_720_000).contains(&v) {
                    return Err(invalid(format!(
                        "default_time_to_live must be between 0 and 630720000 (20 years), got {v}"
                    )));
                }
                o.default_time_to_live = v;
            }
            "gc_grace_seconds" => {
                let v = option_int(name, value)?;
                if v < 0 {
                    return Err(invalid(format!("gc_grace_seconds must be non-negative, got {v}")));
                }
                o.gc_grace_seconds = v;
            }
            "speculative_retry" => o.speculative_retry = option_text(name, value)?,
            "bloom_filter_fp_chance" => {
                let s = option_text(name, value)?;
                let v: f64 =
                    s.parse().map_err(|_| invalid(format!("invalid bloom_filter_fp_chance '{s}'")))?;
                if !(v > 0.0 && v <= 1.0) {
                    return Err(invalid(format!("bloom_filter_fp_chance must be in (0, 1], got {v}")));
                }
                o.bloom_filter_fp_chance = v;
            }
            "compaction" => {
                let m = option_map(name, value)?;
                let class = m.get("class").ok_or_else(|| {
                    QueryError::Config("Missing sub-option 'class' for the 'compaction' option".into())
                })?;
                let short = class.rsplit('.').next().unwrap_or(class);
                if short != "SizeTieredCompactionStrategy" {
                    return Err(QueryError::Config(format!(
                        "compaction class {class} is not supported; use SizeTieredCompactionStrategy"
                    )));
                }
                let mut m = m;
                m.insert(
                    "class".into(),
                    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy".into(),
                );
                m.entry("min_threshold".into()).or_insert_with(|| "4".into());
                m.entry("max_threshold".into()).or_insert_with(|| "32".into());
                o.compaction = m;
            }
            "compression" => o.compression = compression_options(option_map(name, value)?)?,
            "caching" => o.caching = option_map(name, value)?,
            other if IGNORED_TABLE_OPTIONS.contains(&other) => {}
            other => return Err(QueryError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    Ok(o)
}

/// The compressors Cassandra ships, by short name.
const COMPRESSORS: [&str; 5] =
    ["LZ4Compressor", "SnappyCompressor", "DeflateCompressor", "ZstdCompressor", "NoopCompressor"];
const COMPRESSOR_PACKAGE: &str = "org.apache.cassandra.io.compress.";
/// Sub-options a compressor may take besides `class` and `chunk_length_in_kb`.
const COMPRESSION_SUB_OPTIONS: [&str; 5] = [
    "crc_check_chance",
    "min_compress_ratio",
    "lz4_compressor_type",
    "lz4_high_compressor_level",
    "compression_level",
];

/// The `compression` option, checked and normalised as Cassandra does: full class names, the
/// pre-3.0 names `sstable_compression` and `chunk_length_kb`, `enabled: false` (or an empty
/// class) stored as `{'enabled': 'false'}`. SSTables are always LZ4-compressed in chunks of 4
/// to 1024 KiB; other settings are recorded (so a Cassandra schema dump replays) and the
/// client is warned ([`warnings`]).
fn compression_options(m: BTreeMap<String, String>) -> QueryResult<BTreeMap<String, String>> {
    let config = |m: String| QueryError::Config(m);
    let mut out = BTreeMap::new();
    let mut class = None;
    let mut chunk = None;
    let mut enabled = true;
    for (k, v) in &m {
        match k.as_str() {
            "class" | "sstable_compression" => {
                if class.replace(v).is_some() {
                    return Err(config(
                        "The 'sstable_compression' option must not be used if the compression algorithm is already specified by the 'class' option".into(),
                    ));
                }
            }
            "chunk_length_in_kb" | "chunk_length_kb" => {
                if chunk.replace(v).is_some() {
                    return Err(config(
                        "The 'chunk_length_kb' option must not be used if the chunk length is already specified by the 'chunk_length_in_kb' option".into(),
                    ));
                }
            }
            "enabled" => match v.to_ascii_lowercase().as_str() {
                "true" => {}
                "false" => enabled = false,
                _ => return Err(config(format!("Invalid value '{v}' for the compression option 'enabled'"))),
            },
            k if COMPRESSION_SUB_OPTIONS.contains(&k) => {
                out.insert(k.to_string(), v.clone());
            }
            other => return Err(config(format!("Unknown compression options: ({other})"))),
        }
    }
    if !enabled || class.is_some_and(|c| c.is_empty()) {
        return Ok(BTreeMap::from([("enabled".to_string(), "false".to_string())]));
    }
    let class =
        class.ok_or_else(|| config("Missing sub-option 'class' for the 'compression' option.".into()))?;
    let short = class.strip_prefix(COMPRESSOR_PACKAGE).unwrap_or(class);
    if !COMPRESSORS.contains(&short) {
        return Err(config(format!("Could not create Compression for type {class}")));
    }
    out.insert("class".into(), format!("{COMPRESSOR_PACKAGE}{short}"));
    let kb = match chunk {
        None => 64,
        Some(c) => match c.trim().parse::<u32>() {
            Ok(0) => return Err(config("Invalid negative or null chunk_length_in_kb".into())),
            Ok(kb) if kb.is_power_of_two() => kb,
            _ => return Err(config(format!("chunk_length_in_kb must be a power of 2, got '{c}'"))),
        },
    };
    out.insert("chunk_length_in_kb".into(), kb.to_string());
    Ok(out)
}

/// What the node tells the client about a DDL statement that succeeded (sent as protocol
/// warnings): table options it records but does not apply.
pub fn warnings(stmt: &Statement) -> Vec<String> {
    let options = match stmt {
        Statement::CreateTable(c) => &c.options,
        Statement::AlterTable { op: AlterTableOp::With(options), .. } => options,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (name, value) in options.iter().filter(|(n, _)| n == "compression") {
        let Ok(c) = option_map(name, value).and_then(compression_options) else { continue };
        let lz4 = c.get("class").is_some_and(|x| x.ends_with(".LZ4Compressor"));
        let kb: Option<u32> = c.get("chunk_length_in_kb").and_then(|k| k.parse().ok());
        if !lz4 || kb.is_some_and(|k| !(4..=1024).contains(&k)) {
            let c: Vec<String> = c.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
            let c = format!("{{{}}}", c.join(", "));
            out.push(format!(
                "SSTables are always compressed with LZ4Compressor in chunks of 4 to 1024 KiB; compression = {c:?} is recorded but not applied"
            ));
        }
    }
    out
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
            Ok(SchemaChangeKind::KeyspaceUpdated(name.clone()))
        }
        Statement::DropKeyspace { name, if_exists } => {
            check_not_system(name)?;
            match schema.keyspaces.remove(name) {
                Some(ks) => {
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
            Ok(SchemaChangeKind::TableUpdated(t))
        }
        Statement::DropTable { table, if_exists } => {
            let ks = table_keyspace(table)?;
            check_not_system(&ks)?;
            match schema.keyspaces.get_mut(&ks).and_then(|k| k.tables.remove(&table.name)) {
                Some(t) => Ok(SchemaChangeKind::TableDropped(t)),
                None if *if_exists => Ok(SchemaChangeKind::None),
                None => Err(invalid(format!("Table '{ks}.{}' doesn't exist", table.name))),
            }
        }
        _ => Err(QueryError::Server("not a schema statement".into())),
    }
}
