//! DESCRIBE, answered by the server as Cassandra 4+ does (cqlsh 6 sends it here): listings as
//! rows of (keyspace_name, type, name), elements with a fourth column, `create_statement`,
//! holding CQL that recreates them.

use crate::error::{QueryError, QueryResult};
use crate::schema::{Keyspace, Schema, Table};
use crate::system::NodeInfo;
use cql::CqlType;
use cql::ast::{Describe, Order};
use cql::protocol::{ColumnSpec, ResultBody, RowsMetadata, RowsWriter};

/// Words that must be quoted when used as identifiers.
const RESERVED: [&str; 60] = [
    "add",
    "allow",
    "alter",
    "and",
    "apply",
    "asc",
    "authorize",
    "batch",
    "begin",
    "by",
    "columnfamily",
    "create",
    "default",
    "delete",
    "desc",
    "describe",
    "drop",
    "entries",
    "execute",
    "from",
    "full",
    "grant",
    "if",
    "in",
    "index",
    "infinity",
    "insert",
    "into",
    "is",
    "keyspace",
    "limit",
    "materialized",
    "mbean",
    "mbeans",
    "modify",
    "nan",
    "norecursive",
    "not",
    "null",
    "of",
    "on",
    "or",
    "order",
    "primary",
    "rename",
    "replace",
    "revoke",
    "schema",
    "select",
    "set",
    "table",
    "to",
    "token",
    "truncate",
    "unlogged",
    "unset",
    "update",
    "use",
    "using",
    "where",
];

/// `name` as CQL text: bare when it can be, else double-quoted.
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn map_literal<'a>(m: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let items: Vec<String> =
        m.into_iter().map(|(k, v)| format!("{}: {}", quote_str(k), quote_str(v))).collect();
    format!("{{{}}}", items.join(", "))
}

/// CREATE KEYSPACE text for `ks`.
pub fn keyspace_cql(ks: &Keyspace) -> String {
    format!(
        "CREATE KEYSPACE {} WITH replication = {}  AND durable_writes = {};",
        quote_ident(&ks.name),
        map_literal(&ks.replication.to_map()),
        ks.durable_writes
    )
}

/// CREATE TABLE text for `t`.
pub fn table_cql(t: &Table) -> String {
    let mut s = format!("CREATE TABLE {}.{} (\n", quote_ident(&t.keyspace), quote_ident(&t.name));
    for c in &t.columns {
        let stat = if c.kind == crate::schema::ColumnKind::Static { " static" } else { "" };
        s.push_str(&format!("    {} {}{},\n", quote_ident(&c.name), c.ty, stat));
    }
    let pk: Vec<String> = t.partition_key().map(|c| quote_ident(&c.name)).collect();
    let ck: Vec<String> = t.clustering().map(|c| quote_ident(&c.name)).collect();
    let pk_text = if pk.len() == 1 { pk[0].clone() } else { format!("({})", pk.join(", ")) };
    if ck.is_empty() {
        s.push_str(&format!("    PRIMARY KEY ({pk_text})\n)"));
    } else {
        s.push_str(&format!("    PRIMARY KEY ({pk_text}, {})\n)", ck.join(", ")));
    }
    let mut opts: Vec<String> = Vec::new();
    if !ck.is_empty() {
        let orders: Vec<String> = t
            .clustering()
            .map(|c| {
                format!("{} {}", quote_ident(&c.name), if c.order == Order::Desc { "DESC" } else { "ASC" })
            })
            .collect();
        opts.push(format!("CLUSTERING ORDER BY ({})", orders.join(", ")));
    }
    let o = &t.options;
    opts.push(format!("bloom_filter_fp_chance = {}", o.bloom_filter_fp_chance));
    opts.push(format!("caching = {}", map_literal(&o.caching)));
    opts.push(format!("comment = {}", quote_str(&o.comment)));
    opts.push(format!("compaction = {}", map_literal(&o.compaction)));
    opts.push(format!("compression = {}", map_literal(&o.compression)));
    opts.push(format!("default_time_to_live = {}", o.default_time_to_live));
    opts.push(format!("gc_grace_seconds = {}", o.gc_grace_seconds));
    opts.push(format!("speculative_retry = {}", quote_str(&o.speculative_retry)));
    s.push_str(" WITH ");
    s.push_str(&opts.join("\n    AND "));
    s.push(';');
    s
}

struct Out {
    w: RowsWriter,
    with_statement: bool,
}

impl Out {
    fn new(with_statement: bool) -> Out {
        Out { w: RowsWriter::new(), with_statement }
    }

    fn row(&mut self, ks: &str, kind: &str, name: &str, stmt: Option<String>) {
        self.w.push_cell(Some(ks.as_bytes()));
        self.w.push_cell(Some(kind.as_bytes()));
        self.w.push_cell(Some(name.as_bytes()));
        if self.with_statement {
            self.w.push_cell(stmt.as_deref().map(str::as_bytes));
        }
        self.w.end_row();
    }

    fn finish(self) -> ResultBody {
        let mut names = vec!["keyspace_name", "type", "name"];
        if self.with_statement {
            names.push("create_statement");
        }
        let columns = names
            .into_iter()
            .map(|n| ColumnSpec {
                keyspace: "system".into(),
                table: "describe".into(),
                name: n.into(),
                ty: CqlType::Text,
            })
            .collect();
        ResultBody::Rows(self.w.finish(RowsMetadata { columns, ..Default::default() }))
    }
}

/// A user keyspace, or a system one.
fn keyspace(schema: &Schema, name: &str) -> QueryResult<Keyspace> {
    schema
        .keyspaces
        .get(name)
        .cloned()
        .or_else(|| crate::system::keyspace(name))
        .ok_or_else(|| QueryError::Invalid(format!("'{name}' not found in keyspaces")))
}

fn describe_keyspace(out: &mut Out, ks: &Keyspace, only: bool) {
    out.row(&ks.name, "keyspace", &ks.name, Some(keyspace_cql(ks)));
    if !only {
        for t in ks.tables.values() {
            out.row(&ks.name, "table", &t.name, Some(table_cql(t)));
        }
    }
}

/// Answers `d`; `current` is the session's keyspace.
pub fn describe(
    schema: &Schema,
    d: &Describe,
    current: Option<&str>,
    node: &NodeInfo,
) -> QueryResult<ResultBody> {
    let system_names = ["system", "system_schema"];
    match d {
        Describe::Keyspaces => {
            let mut out = Out::new(false);
            let mut names: Vec<&str> = system_names.to_vec();
            names.extend(schema.keyspaces.keys().map(String::as_str));
            names.sort_unstable();
            for n in names {
                out.row(n, "keyspace", n, None);
            }
            Ok(out.finish())
        }
        Describe::Tables => {
            let mut out = Out::new(false);
            for ks in schema.keyspaces.values().filter(|k| current.is_none_or(|c| c == k.name)) {
                for t in ks.tables.values() {
                    out.row(&ks.name, "table", &t.name, None);
                }
            }
            if let Some(c) = current.filter(|c| system_names.contains(c)) {
                for vt in crate::system::tables().into_iter().filter(|t| t.keyspace == c) {
                    out.row(vt.keyspace, "table", vt.name, None);
                }
            }
            Ok(out.finish())
        }
        Describe::Types | Describe::Functions | Describe::Aggregates => Ok(Out::new(false).finish()),
        Describe::Cluster => {
            let mut w = RowsWriter::new();
            w.push_cell(Some(node.cluster_name.as_bytes()));
            w.push_cell(Some(b"Murmur3Partitioner"));
            w.push_cell(Some(b"SimpleSnitch"));
            w.end_row();
            let columns = ["cluster", "partitioner", "snitch"]
                .into_iter()
                .map(|n| ColumnSpec {
                    keyspace: "system".into(),
                    table: "describe".into(),
                    name: n.into(),
                    ty: CqlType::Text,
                })
                .collect();
            Ok(ResultBody::Rows(w.finish(RowsMetadata { columns, ..Default::default() })))
        }
        Describe::Schema { full } => {
            let mut out = Out::new(true);
            // FULL SCHEMA includes the system keyspaces.
            let system = system_names.iter().filter(|_| *full).filter_map(|n| crate::system::keyspace(n));
            let all: Vec<Keyspace> = system.chain(schema.keyspaces.values().cloned()).collect();
            for ks in &all {
                describe_keyspace(&mut out, ks, false);
            }
            Ok(out.finish())
        }
        Describe::Keyspace { name, only } => {
            let name = name
                .as_deref()
                .or(current)
                .ok_or_else(|| QueryError::Invalid("No keyspace specified and no current keyspace".into()))?;
            let mut out = Out::new(true);
            describe_keyspace(&mut out, &keyspace(schema, name)?, *only);
            Ok(out.finish())
        }
        Describe::Table(q) | Describe::Type(q) => {
            let ks =
                q.keyspace.as_deref().or(current).ok_or_else(|| {
                    QueryError::Invalid("No keyspace specified and no current keyspace".into())
                })?;
            if matches!(d, Describe::Type(_)) {
                return Err(QueryError::Invalid(format!(
                    "User defined type '{}' not found in '{ks}'",
                    q.name
                )));
            }
            let keyspace = keyspace(schema, ks)?;
            let t = keyspace.tables.get(&q.name).ok_or_else(|| {
                QueryError::Invalid(format!("Table '{}' not found in keyspace '{ks}'", q.name))
            })?;
            let mut out = Out::new(true);
            out.row(ks, "table", &t.name, Some(table_cql(t)));
            Ok(out.finish())
        }
        Describe::Name(q) => {
            let mut out = Out::new(true);
            match &q.keyspace {
                None if schema.keyspaces.contains_key(&q.name) || system_names.contains(&q.name.as_str()) => {
                    describe_keyspace(&mut out, &keyspace(schema, &q.name)?, false);
                }
                _ => {
                    let ks =
                        q.keyspace.as_deref().or(current).ok_or_else(|| {
                            QueryError::Invalid(format!("'{}' not found in keyspaces", q.name))
                        })?;
                    let t = schema
                        .table(ks, &q.name)
                        .cloned()
                        .or_else(|| {
                            crate::system::table(ks, &q.name).map(|vt| std::sync::Arc::new(vt.to_table()))
                        })
                        .ok_or_else(|| {
                            QueryError::Invalid(format!("'{}' not found in keyspace '{ks}'", q.name))
                        })?;
                    out.row(ks, "table", &t.name, Some(table_cql(&t)));
                }
            }
            Ok(out.finish())
        }
    }
}
