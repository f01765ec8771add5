//! The system tables drivers and cqlsh read on connect and for metadata: `system.local`,
//! `system.peers`, `system.peers_v2` and the `system_schema` keyspace. They are virtual: each
//! read builds its rows from the schema and the node's identity, so they can never disagree
//! with what the node actually holds.
//!
//! Column names and types follow Cassandra 4.x (see the reference notes on what the Python and
//! Rust drivers read and type-check). Every table here is also described in
//! `system_schema.tables` and `system_schema.columns`, as cqlsh needs to print their rows.

mod encode;

use crate::schema::{ColumnKind, Replication, Schema};
use bytes::Bytes;
use cql::CqlType;
use encode::{boolean, double, inet, int, map_text, set_text, text, uuid_bytes};
use std::net::IpAddr;

/// What `system.local` says about this node.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub cluster_name: String,
    pub host_id: uuid::Uuid,
    pub dc: String,
    pub rack: String,
    pub listen_address: IpAddr,
    pub listen_port: i32,
    pub rpc_address: IpAddr,
    pub rpc_port: i32,
    /// This node's tokens.
    pub tokens: Vec<i64>,
}

/// The `release_version` reported: the Cassandra release whose behaviour clients should expect.
pub const RELEASE_VERSION: &str = "4.1.0";

/// One column of a virtual table.
#[derive(Debug, Clone)]
pub struct VColumn {
    pub name: &'static str,
    pub ty: CqlType,
    pub kind: ColumnKind,
    pub position: i32,
}

/// A virtual table's definition.
#[derive(Debug, Clone)]
pub struct VTable {
    pub keyspace: &'static str,
    pub name: &'static str,
    pub columns: Vec<VColumn>,
}

fn frozen(t: CqlType) -> CqlType {
    CqlType::Frozen(Box::new(t))
}
fn map_tt() -> CqlType {
    CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Text))
}
fn list_t() -> CqlType {
    CqlType::List(Box::new(CqlType::Text))
}
fn set_t() -> CqlType {
    CqlType::Set(Box::new(CqlType::Text))
}

/// Builds a table: `pk` partition key columns, `ck` clustering columns, then regular ones.
fn vt(
    keyspace: &'static str,
    name: &'static str,
    pk: &[(&'static str, CqlType)],
    ck: &[(&'static str, CqlType)],
    regular: &[(&'static str, CqlType)],
) -> VTable {
    let mut columns = Vec::new();
    for (i, (n, t)) in pk.iter().enumerate() {
        columns.push(VColumn { name: n, ty: t.clone(), kind: ColumnKind::PartitionKey, position: i as i32 });
    }
    for (i, (n, t)) in ck.iter().enumerate() {
        columns.push(VColumn { name: n, ty: t.clone(), kind: ColumnKind::Clustering, position: i as i32 });
    }
    let mut reg: Vec<_> = regular.to_vec();
    reg.sort_by_key(|(n, _)| *n);
    for (n, t) in reg {
        columns.push(VColumn { name: n, ty: t, kind: ColumnKind::Regular, position: -1 });
    }
    VTable { keyspace, name, columns }
}

fn table_option_columns() -> Vec<(&'static str, CqlType)> {
    use CqlType::*;
    vec![
        ("additional_write_policy", Text),
        ("bloom_filter_fp_chance", Double),
        ("caching", frozen(map_tt())),
        ("cdc", Boolean),
        ("comment", Text),
        ("compaction", frozen(map_tt())),
        ("compression", frozen(map_tt())),
        ("crc_check_chance", Double),
        ("default_time_to_live", Int),
        ("extensions", frozen(CqlType::Map(Box::new(Text), Box::new(Blob)))),
        ("flags", frozen(set_t())),
        ("gc_grace_seconds", Int),
        ("id", Uuid),
        ("max_index_interval", Int),
        ("memtable_flush_period_in_ms", Int),
        ("min_index_interval", Int),
        ("read_repair", Text),
        ("speculative_retry", Text),
    ]
}

impl VTable {
    /// The table as a schema object (default options), for DESCRIBE.
    pub fn to_table(&self) -> crate::schema::Table {
        crate::schema::Table {
            keyspace: self.keyspace.to_string(),
            name: self.name.to_string(),
            id: storage::TableId::default(),
            columns: self
                .columns
                .iter()
                .map(|c| crate::schema::Column {
                    name: c.name.to_string(),
                    ty: c.ty.clone(),
                    kind: c.kind,
                    position: c.position,
                    order: cql::ast::Order::Asc,
                })
                .collect(),
            options: crate::schema::TableOptions::default(),
            dropped: Default::default(),
        }
    }
}

/// A system keyspace (`system`, `system_schema`) as a schema object, for DESCRIBE.
pub fn keyspace(name: &str) -> Option<crate::schema::Keyspace> {
    let tables: std::collections::BTreeMap<String, std::sync::Arc<crate::schema::Table>> = tables()
        .into_iter()
        .filter(|t| t.keyspace == name)
        .map(|t| (t.name.to_string(), std::sync::Arc::new(t.to_table())))
        .collect();
    (!tables.is_empty()).then(|| crate::schema::Keyspace {
        name: name.to_string(),
        replication: Replication::Local,
        durable_writes: true,
        tables,
    })
}

/// Every virtual table.
pub fn tables() -> Vec<VTable> {
    use CqlType::*;
    let ks = ("keyspace_name", Text);
    let mut view_columns = table_option_columns();
    view_columns.retain(|(n, _)| *n != "flags");
    view_columns.extend([
        ("base_table_id", Uuid),
        ("base_table_name", Text),
        ("include_all_columns", Boolean),
        ("where_clause", Text),
    ]);
    vec![
        vt(
            "system",
            "local",
            &[("key", Text)],
            &[],
            &[
                ("bootstrapped", Text),
                ("broadcast_address", Inet),
                ("broadcast_port", Int),
                ("cluster_name", Text),
                ("cql_version", Text),
                ("data_center", Text),
                ("gossip_generation", Int),
                ("host_id", Uuid),
                ("listen_address", Inet),
                ("listen_port", Int),
                ("native_protocol_version", Text),
                ("partitioner", Text),
                ("rack", Text),
                ("release_version", Text),
                ("rpc_address", Inet),
                ("rpc_port", Int),
                ("schema_version", Uuid),
                ("tokens", set_t()),
                ("tessera_version", Text),
            ],
        ),
        vt(
            "system",
            "peers",
            &[("peer", Inet)],
            &[],
            &[
                ("data_center", Text),
                ("host_id", Uuid),
                ("preferred_ip", Inet),
                ("rack", Text),
                ("release_version", Text),
                ("rpc_address", Inet),
                ("schema_version", Uuid),
                ("tokens", set_t()),
            ],
        ),
        vt(
            "system",
            "peers_v2",
            &[("peer", Inet)],
            &[("peer_port", Int)],
            &[
                ("data_center", Text),
                ("host_id", Uuid),
                ("native_address", Inet),
                ("native_port", Int),
                ("preferred_ip", Inet),
                ("preferred_port", Int),
                ("rack", Text),
                ("release_version", Text),
                ("schema_version", Uuid),
                ("tokens", set_t()),
            ],
        ),
        vt(
            "system_schema",
            "keyspaces",
            std::slice::from_ref(&ks),
            &[],
            &[("durable_writes", Boolean), ("replication", frozen(map_tt()))],
        ),
        vt(
            "system_schema",
            "tables",
            std::slice::from_ref(&ks),
            &[("table_name", Text)],
            &table_option_columns(),
        ),
        vt(
            "system_schema",
            "columns",
            std::slice::from_ref(&ks),
            &[("table_name", Text), ("column_name", Text)],
            &[
                ("clustering_order", Text),
                ("column_name_bytes", Blob),
                ("kind", Text),
                ("position", Int),
                ("type", Text),
            ],
        ),
        vt(
            "system_schema",
            "dropped_columns",
            std::slice::from_ref(&ks),
            &[("table_name", Text), ("column_name", Text)],
            &[("dropped_time", Timestamp), ("kind", Text), ("type", Text)],
        ),
        vt(
            "system_schema",
            "triggers",
            std::slice::from_ref(&ks),
            &[("table_name", Text), ("trigger_name", Text)],
            &[("options", frozen(map_tt()))],
        ),
        vt("system_schema", "views", std::slice::from_ref(&ks), &[("view_name", Text)], &view_columns),
        vt(
            "system_schema",
            "indexes",
            std::slice::from_ref(&ks),
            &[("table_name", Text), ("index_name", Text)],
            &[("kind", Text), ("options", frozen(map_tt()))],
        ),
        vt(
            "system_schema",
            "types",
            std::slice::from_ref(&ks),
            &[("type_name", Text)],
            &[("field_names", frozen(list_t())), ("field_types", frozen(list_t()))],
        ),
        vt(
            "system_schema",
            "functions",
            std::slice::from_ref(&ks),
            &[("function_name", Text), ("argument_types", frozen(list_t()))],
            &[
                ("argument_names", frozen(list_t())),
                ("body", Text),
                ("called_on_null_input", Boolean),
                ("language", Text),
                ("return_type", Text),
            ],
        ),
        vt(
            "system_schema",
            "aggregates",
            &[ks],
            &[("aggregate_name", Text), ("argument_types", frozen(list_t()))],
            &[
                ("final_func", Text),
                ("initcond", Text),
                ("return_type", Text),
                ("state_func", Text),
                ("state_type", Text),
            ],
        ),
    ]
}

/// The virtual table `keyspace.name`.
pub fn table(keyspace: &str, name: &str) -> Option<VTable> {
    tables().into_iter().find(|t| t.keyspace == keyspace && t.name == name)
}

/// A row: one optional serialized value per column of the table, in column order.
pub type VRow = Vec<Option<Bytes>>;

/// A keyspace as `system_schema` lists it: user keyspaces plus the two system ones.
struct KeyspaceRow<'a> {
    name: &'a str,
    replication: Replication,
    durable_writes: bool,
}

fn keyspace_rows(schema: &Schema) -> Vec<KeyspaceRow<'_>> {
    let mut out: Vec<KeyspaceRow<'_>> = ["system", "system_schema"]
        .into_iter()
        .map(|name| KeyspaceRow { name, replication: Replication::Local, durable_writes: true })
        .collect();
    out.extend(schema.keyspaces.values().map(|k| KeyspaceRow {
        name: &k.name,
        replication: k.replication.clone(),
        durable_writes: k.durable_writes,
    }));
    out.sort_by(|a, b| a.name.cmp(b.name));
    out
}

/// Builds a row of `t` from (column, value) pairs; columns not named are null.
fn row(t: &VTable, values: Vec<(&str, Bytes)>) -> VRow {
    let mut r: VRow = vec![None; t.columns.len()];
    for (name, v) in values {
        if let Some(i) = t.columns.iter().position(|c| c.name == name) {
            r[i] = Some(v);
        }
    }
    r
}

/// Every row of the virtual table `t`.
pub fn rows(t: &VTable, schema: &Schema, node: &NodeInfo, topology: &crate::cluster::Topology) -> Vec<VRow> {
    let tokens = || set_text(node.tokens.iter().map(|t| t.to_string()));
    match (t.keyspace, t.name) {
        ("system", "local") => vec![row(
            t,
            vec![
                ("key", text("local")),
                ("bootstrapped", text("COMPLETED")),
                ("broadcast_address", inet(node.listen_address)),
                ("broadcast_port", int(node.listen_port)),
                ("cluster_name", text(&node.cluster_name)),
                ("cql_version", text(crate::query::CQL_VERSION)),
                ("data_center", text(&node.dc)),
                ("gossip_generation", int(0)),
                ("host_id", uuid_bytes(node.host_id)),
                ("listen_address", inet(node.listen_address)),
                ("listen_port", int(node.listen_port)),
                ("native_protocol_version", text("4")),
                ("partitioner", text("org.apache.cassandra.dht.Murmur3Partitioner")),
                ("rack", text(&node.rack)),
                ("release_version", text(RELEASE_VERSION)),
                ("rpc_address", inet(node.rpc_address)),
                ("rpc_port", int(node.rpc_port)),
                ("schema_version", uuid_bytes(schema.version())),
                ("tokens", tokens()),
                ("tessera_version", text(env!("CARGO_PKG_VERSION"))),
            ],
        )],
        ("system", "peers") | ("system", "peers_v2") => {
            let v2 = t.name == "peers_v2";
            topology
                .peers()
                .filter(|m| m.is_normal())
                .map(|m| {
                    let rpc =
                        m.rpc.unwrap_or(std::net::SocketAddr::new(m.gossip_addr.ip(), node.rpc_port as u16));
                    let mut values = vec![
                        ("peer", inet(m.gossip_addr.ip())),
                        ("data_center", text(&m.dc)),
                        ("host_id", uuid_bytes(m.host_id)),
                        ("rack", text(&m.rack)),
                        ("release_version", text(&m.release_version)),
                        ("tokens", set_text(m.tokens.iter().map(|t| t.to_string()))),
                    ];
                    if let Some(v) = m.schema_version {
                        values.push(("schema_version", uuid_bytes(v)));
                    }
                    if v2 {
                        values.push(("peer_port", int(i32::from(m.gossip_addr.port()))));
                        values.push(("native_address", inet(rpc.ip())));
                        values.push(("native_port", int(i32::from(rpc.port()))));
                    } else {
                        values.push(("rpc_address", inet(rpc.ip())));
                    }
                    row(t, values)
                })
                .collect()
        }
        ("system_schema", "keyspaces") => keyspace_rows(schema)
            .into_iter()
            .map(|k| {
                row(
                    t,
                    vec![
                        ("keyspace_name", text(k.name)),
                        ("durable_writes", boolean(k.durable_writes)),
                        ("replication", map_text(k.replication.to_map())),
                    ],
                )
            })
            .collect(),
        ("system_schema", "tables") => {
            let mut out = Vec::new();
            for vt in tables() {
                out.push(table_row(t, vt.keyspace, vt.name, uuid::Uuid::nil(), None));
            }
            for ut in schema.tables() {
                out.push(table_row(
                    t,
                    &ut.keyspace,
                    &ut.name,
                    uuid::Uuid::from_bytes(ut.id.0),
                    Some(&ut.options),
                ));
            }
            out.sort_by(|a, b| (&a[0], &a[1]).cmp(&(&b[0], &b[1])));
            out
        }
        ("system_schema", "columns") => {
            let mut out = Vec::new();
            for vt in tables() {
                for c in &vt.columns {
                    let order = if c.kind == ColumnKind::Clustering { "asc" } else { "none" };
                    out.push(column_row(t, vt.keyspace, vt.name, c.name, &c.ty, c.kind, c.position, order));
                }
            }
            for ut in schema.tables() {
                for c in &ut.columns {
                    out.push(column_row(
                        t,
                        &ut.keyspace,
                        &ut.name,
                        &c.name,
                        &c.ty,
                        c.kind,
                        c.position,
                        c.clustering_order(),
                    ));
                }
            }
            out.sort_by(|a, b| (&a[0], &a[1], &a[2]).cmp(&(&b[0], &b[1], &b[2])));
            out
        }
        _ => Vec::new(),
    }
}

fn table_row(
    t: &VTable,
    keyspace: &str,
    name: &str,
    id: uuid::Uuid,
    options: Option<&crate::schema::TableOptions>,
) -> VRow {
    let defaults = crate::schema::TableOptions::default();
    let o = options.unwrap_or(&defaults);
    row(
        t,
        vec![
            ("keyspace_name", text(keyspace)),
            ("table_name", text(name)),
            ("additional_write_policy", text("99p")),
            ("bloom_filter_fp_chance", double(o.bloom_filter_fp_chance)),
            ("caching", map_text(o.caching.clone())),
            ("cdc", boolean(false)),
            ("comment", text(&o.comment)),
            ("compaction", map_text(o.compaction.clone())),
            ("compression", map_text(o.compression.clone())),
            ("crc_check_chance", double(1.0)),
            ("default_time_to_live", int(o.default_time_to_live)),
            ("extensions", encode::empty_map()),
            ("flags", set_text(["compound".to_string()])),
            ("gc_grace_seconds", int(o.gc_grace_seconds)),
            ("id", uuid_bytes(id)),
            ("max_index_interval", int(2048)),
            ("memtable_flush_period_in_ms", int(0)),
            ("min_index_interval", int(128)),
            ("read_repair", text("BLOCKING")),
            ("speculative_retry", text(&o.speculative_retry)),
        ],
    )
}

#[allow(clippy::too_many_arguments)]
fn column_row(
    t: &VTable,
    keyspace: &str,
    table: &str,
    name: &str,
    ty: &CqlType,
    kind: ColumnKind,
    position: i32,
    clustering_order: &str,
) -> VRow {
    row(
        t,
        vec![
            ("keyspace_name", text(keyspace)),
            ("table_name", text(table)),
            ("column_name", text(name)),
            ("clustering_order", text(clustering_order)),
            ("column_name_bytes", Bytes::copy_from_slice(name.as_bytes())),
            ("kind", text(kind.as_str())),
            ("position", int(position)),
            ("type", text(&ty.to_string())),
        ],
    )
}
