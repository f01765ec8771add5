//! The node's schema: keyspaces, their replication, and the CQL shape of each table (columns,
//! key layout, options). The storage engine knows a table only by id and storage options; what
//! its bytes mean lives here.
//!
//! Persisted as `schema.json` in the data directory (written to a temporary name, fsynced and
//! renamed). A DDL statement is acknowledged only after that file is in place. The schema
//! version is a name-based UUID of the file's canonical content, so two nodes holding the same
//! schema report the same version.
//!
//! Every keyspace and table carries the time (microseconds) it was last created or altered, and
//! drops leave a timestamp behind, so that schemas changed on different nodes merge into the
//! same result everywhere ([`merge`]; the rules are in `merge.rs`).
//!
//! `system` and `system_schema` are not stored here: [`crate::system`] answers them from this
//! schema and the node's state.

mod ddl;
mod merge;
mod options;

pub use ddl::{SchemaChangeKind, apply_ddl};
pub use merge::{diff, merge};
pub use options::warnings as ddl_warnings;

use crate::error::QueryResult;
use cql::CqlType;
use cql::ast::Order;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use storage::TableId;

/// Keyspaces the node serves itself; users cannot create, alter or drop them.
pub const SYSTEM_KEYSPACES: [&str; 2] = ["system", "system_schema"];

/// Where a column sits in the primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    PartitionKey,
    Clustering,
    Static,
    Regular,
}

impl ColumnKind {
    /// The name `system_schema.columns.kind` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::PartitionKey => "partition_key",
            ColumnKind::Clustering => "clustering",
            ColumnKind::Static => "static",
            ColumnKind::Regular => "regular",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(with = "type_text")]
    pub ty: CqlType,
    pub kind: ColumnKind,
    /// Position within the partition key or the clustering key; -1 otherwise.
    pub position: i32,
    /// Clustering order (ASC for every other kind).
    #[serde(with = "order_text")]
    pub order: Order,
}

impl Column {
    /// `asc`, `desc` or `none`, as `system_schema.columns.clustering_order` shows it.
    pub fn clustering_order(&self) -> &'static str {
        match (self.kind, self.order) {
            (ColumnKind::Clustering, Order::Asc) => "asc",
            (ColumnKind::Clustering, Order::Desc) => "desc",
            _ => "none",
        }
    }
}

/// The CQL-level options of a table (`WITH ...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableOptions {
    pub comment: String,
    pub default_time_to_live: i32,
    pub gc_grace_seconds: i32,
    pub speculative_retry: String,
    pub bloom_filter_fp_chance: f64,
    pub compaction: BTreeMap<String, String>,
    pub compression: BTreeMap<String, String>,
    pub caching: BTreeMap<String, String>,
}

impl Default for TableOptions {
    fn default() -> Self {
        let map = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TableOptions {
            comment: String::new(),
            default_time_to_live: 0,
            gc_grace_seconds: 864_000,
            speculative_retry: "99p".into(),
            bloom_filter_fp_chance: 0.01,
            compaction: map(&[
                ("class", "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"),
                ("max_threshold", "32"),
                ("min_threshold", "4"),
            ]),
            compression: map(&[
                ("chunk_length_in_kb", "64"),
                ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
            ]),
            caching: map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
        }
    }
}

/// A table's CQL definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub keyspace: String,
    pub name: String,
    #[serde(with = "table_id_text")]
    pub id: TableId,
    /// Partition key columns in key order, then clustering columns in key order, then static
    /// columns by name, then regular columns by name (the order `SELECT *` returns them in).
    pub columns: Vec<Column>,
    pub options: TableOptions,
    /// Dropped columns and when (microseconds): their cells written up to then stay hidden,
    /// even if a column of the same name is added again.
    #[serde(default)]
    pub dropped: BTreeMap<String, i64>,
}

impl Table {
    /// True if a cell of `column` written at `timestamp` belongs to a dropped column.
    #[inline]
    pub fn is_dropped(&self, column: &[u8], timestamp: i64) -> bool {
        !self.dropped.is_empty()
            && std::str::from_utf8(column)
                .ok()
                .and_then(|c| self.dropped.get(c))
                .is_some_and(|d| timestamp <= *d)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Partition key columns in key order.
    pub fn partition_key(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::PartitionKey)
    }

    /// Clustering columns in key order.
    pub fn clustering(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::Clustering)
    }

    /// True if the table has a static column.
    pub fn has_static(&self) -> bool {
        self.columns.iter().any(|c| c.kind == ColumnKind::Static)
    }

    /// Sorts columns into the canonical order (see [`Table::columns`]).
    pub fn sort_columns(&mut self) {
        self.columns.sort_by(|a, b| {
            let rank = |c: &Column| match c.kind {
                ColumnKind::PartitionKey => (0, c.position),
                ColumnKind::Clustering => (1, c.position),
                ColumnKind::Static => (2, 0),
                ColumnKind::Regular => (3, 0),
            };
            rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
        });
    }

    /// The storage engine's options for this table.
    pub fn storage_options(&self) -> storage::TableOptions {
        let mut o = storage::TableOptions {
            gc_grace_seconds: self.options.gc_grace_seconds.max(0) as u32,
            bloom_filter_fp_chance: self.options.bloom_filter_fp_chance,
            ..Default::default()
        };
        if let Some(kb) = self.options.compression.get("chunk_length_in_kb").and_then(|v| v.parse().ok()) {
            o.chunk_length_kb = kb;
        }
        let c = &self.options.compaction;
        if let Some(v) = c.get("min_threshold").and_then(|v| v.parse().ok()) {
            o.compaction.min_threshold = v;
        }
        if let Some(v) = c.get("max_threshold").and_then(|v| v.parse().ok()) {
            o.compaction.max_threshold = v;
        }
        if let Some(v) = c.get("only_purge_repaired_tombstones") {
            o.compaction.only_purge_repaired_tombstones = v.eq_ignore_ascii_case("true");
        }
        o
    }
}

/// How a keyspace places replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replication {
    Simple {
        replication_factor: u32,
    },
    NetworkTopology {
        datacenters: BTreeMap<String, u32>,
    },
    /// The system keyspaces: every node holds its own.
    Local,
}

impl Replication {
    /// The `replication` map `system_schema.keyspaces` shows.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        match self {
            Replication::Simple { replication_factor } => {
                m.insert("class".into(), "org.apache.cassandra.locator.SimpleStrategy".into());
                m.insert("replication_factor".into(), replication_factor.to_string());
            }
            Replication::NetworkTopology { datacenters } => {
                m.insert("class".into(), "org.apache.cassandra.locator.NetworkTopologyStrategy".into());
                for (dc, rf) in datacenters {
                    m.insert(dc.clone(), rf.to_string());
                }
            }
            Replication::Local => {
                m.insert("class".into(), "org.apache.cassandra.locator.LocalStrategy".into());
            }
        }
        m
    }

    /// Replicas wanted in datacenter `dc`.
    pub fn factor_in(&self, dc: &str) -> u32 {
        match self {
            Replication::Simple { replication_factor } => *replication_factor,
            Replication::NetworkTopology { datacenters } => datacenters.get(dc).copied().unwrap_or(0),
            Replication::Local => 1,
        }
    }

    /// Replicas wanted in total.
    pub fn total_factor(&self) -> u32 {
        match self {
            Replication::Simple { replication_factor } => *replication_factor,
            Replication::NetworkTopology { datacenters } => datacenters.values().sum(),
            Replication::Local => 1,
        }
    }
}

/// A keyspace and its tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyspace {
    pub name: String,
    pub replication: Replication,
    pub durable_writes: bool,
    pub tables: BTreeMap<String, Arc<Table>>,
}

/// Every user keyspace; see the module docs.
///
/// `updated` and `dropped` are keyed by object: `"ks"` for a keyspace, `"ks.table"` for a
/// table (names cannot contain a dot). They sit beside the definitions rather than inside
/// [`Keyspace`] and [`Table`] so that code building those (the system keyspaces) need not know
/// about them. Both are absent from files written before schemas were merged between nodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub keyspaces: BTreeMap<String, Keyspace>,
    /// When each keyspace and table in `keyspaces` was last created or altered (µs); a missing
    /// entry reads as 0. Creating or altering a table also stamps its keyspace, so a keyspace
    /// is never older than its tables (see `merge.rs`).
    #[serde(default)]
    pub updated: BTreeMap<String, i64>,
    /// When each keyspace and table was last dropped (µs). Kept after a re-create, so that a
    /// node that missed the drop cannot bring the old definition back.
    #[serde(default)]
    pub dropped: BTreeMap<String, i64>,
}

/// The key of table `name` of `keyspace` in [`Schema::updated`] and [`Schema::dropped`].
pub fn table_key(keyspace: &str, name: &str) -> String {
    format!("{keyspace}.{name}")
}

/// The file the schema is kept in, under the data directory.
pub const SCHEMA_FILE: &str = "schema.json";

impl Schema {
    /// Reads the schema from `dir`, or an empty one when the file does not exist yet.
    pub fn load(dir: &Path) -> anyhow::Result<Schema> {
        let path = dir.join(SCHEMA_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: not a valid schema file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Schema::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }

    /// Writes the schema to `dir` durably (temporary file, fsync, rename, directory fsync).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(self)?;
        storage::sstable::write_atomic(&dir.join(SCHEMA_FILE), &bytes)?;
        Ok(())
    }

    /// The schema version: a name-based UUID of the canonical content.
    pub fn version(&self) -> uuid::Uuid {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &bytes)
    }

    /// The table `keyspace.name`.
    pub fn table(&self, keyspace: &str, name: &str) -> Option<&Arc<Table>> {
        self.keyspaces.get(keyspace)?.tables.get(name)
    }

    /// Every table, by keyspace then name.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<Table>> {
        self.keyspaces.values().flat_map(|k| k.tables.values())
    }

    /// When keyspace `name` was last created or altered (0: before timestamps were kept).
    pub fn keyspace_updated(&self, name: &str) -> i64 {
        self.updated.get(name).copied().unwrap_or(0)
    }

    /// When table `keyspace.name` was last created or altered (0: before timestamps were kept).
    pub fn table_updated(&self, keyspace: &str, name: &str) -> i64 {
        self.updated.get(&table_key(keyspace, name)).copied().unwrap_or(0)
    }

    /// A timestamp for the next schema change on this node: the server clock, but later than
    /// every change this schema already holds (a Lamport clock), so that a change made after
    /// seeing another node's wins over it even if that node's clock runs ahead.
    pub fn next_timestamp(&self) -> i64 {
        let seen = self.updated.values().chain(self.dropped.values()).copied().max().unwrap_or(0);
        crate::query::server_timestamp().max(seen.saturating_add(1))
    }
}

/// Shared, swappable schema: readers take a snapshot; DDL replaces it whole.
pub struct SchemaStore {
    dir: PathBuf,
    current: parking_lot::RwLock<Arc<Schema>>,
    /// Serialises DDL so that each change starts from the latest schema.
    ddl: parking_lot::Mutex<()>,
}

impl SchemaStore {
    /// Loads the schema kept in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<SchemaStore> {
        let schema = Schema::load(dir)?;
        Ok(SchemaStore {
            dir: dir.to_path_buf(),
            current: parking_lot::RwLock::new(Arc::new(schema)),
            ddl: parking_lot::Mutex::new(()),
        })
    }

    /// The current schema.
    pub fn snapshot(&self) -> Arc<Schema> {
        self.current.read().clone()
    }

    /// Runs `change` on a copy of the schema under the DDL lock; when it returns `Ok`, saves
    /// the new schema (if it differs) and publishes it.
    pub fn update<T>(&self, change: impl FnOnce(&mut Schema) -> QueryResult<T>) -> QueryResult<T> {
        let _guard = self.ddl.lock();
        let current = self.snapshot();
        let mut next = (*current).clone();
        let out = change(&mut next)?;
        if next != *current {
            next.save(&self.dir)?;
            *self.current.write() = Arc::new(next);
        }
        Ok(out)
    }

    /// Merges a schema received from another node into this one ([`merge`]). When the result
    /// differs, it is saved and published, and the changes that turn the old schema into the
    /// new one are returned (storage to create, alter and drop; events for clients).
    pub fn merge_remote(&self, remote: &Schema) -> QueryResult<(Arc<Schema>, Vec<SchemaChangeKind>)> {
        self.merge_remote_with(remote, |_| Ok(()))
    }

    /// [`SchemaStore::merge_remote`], calling `apply` for each change, in order, under the DDL
    /// lock and before the new schema is saved and published: an error from it leaves the
    /// schema as it was. Create and alter storage there, so that a published table always has
    /// storage; drop storage after this returns, as DDL does.
    pub fn merge_remote_with(
        &self,
        remote: &Schema,
        mut apply: impl FnMut(&SchemaChangeKind) -> QueryResult<()>,
    ) -> QueryResult<(Arc<Schema>, Vec<SchemaChangeKind>)> {
        merge::check_remote(remote)?;
        let _guard = self.ddl.lock();
        let current = self.snapshot();
        let next = merge(&current, remote);
        if next == *current {
            return Ok((current, Vec::new()));
        }
        let changes = diff(&current, &next);
        for change in &changes {
            apply(change)?;
        }
        next.save(&self.dir)?;
        let next = Arc::new(next);
        *self.current.write() = next.clone();
        Ok((next, changes))
    }
}

mod type_text {
    use cql::CqlType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &CqlType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CqlType, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<CqlType>().map_err(serde::de::Error::custom)
    }
}

mod order_text {
    use cql::ast::Order;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(o: &Order, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match o {
            Order::Asc => "asc",
            Order::Desc => "desc",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Order, D::Error> {
        match String::deserialize(d)?.as_str() {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            other => Err(serde::de::Error::custom(format!("unknown clustering order '{other}'"))),
        }
    }
}

mod table_id_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use storage::TableId;

    pub fn serialize<S: Serializer>(id: &TableId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&uuid::Uuid::from_bytes(id.0).hyphenated().to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TableId, D::Error> {
        let s = String::deserialize(d)?;
        uuid::Uuid::parse_str(&s)
            .map(|u| TableId(*u.as_bytes()))
            .map_err(|e| serde::de::Error::custom(format!("bad table id '{s}': {e}")))
    }
}
