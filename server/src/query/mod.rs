//! The query processor: what a QUERY, PREPARE, EXECUTE or BATCH request does. It parses the
//! statement (or takes it from the prepared-statement cache), checks it against the schema,
//! and runs it: schema changes through [`crate::schema`], system-table reads through
//! [`crate::system`], and data statements against the storage engine.
//!
//! Each connection's state (its current keyspace) is a [`Session`].

mod bind;
mod consistency;
mod describe;
mod json;
mod keys;
mod lwt;
mod migration;
mod prepared;
mod select;
mod system_select;
mod write;

pub use keys::partition_key as partition_key_bytes;
pub use write::server_timestamp;

use crate::coordinator::{Coordinator, WriteGroup};
use crate::error::{QueryError, QueryResult, WriteType};
use crate::schema::{Schema, SchemaStore, Table};
use crate::system::NodeInfo;
use bytes::Bytes;
use cql::Consistency;
use cql::ast::{Batch, BatchKind, InsertValues, ParsedStatement, QualifiedName, Statement, Term, Using};
use cql::protocol::{BatchQuery, BatchRequest, Event, Prepared, QueryParams, Request, ResultBody};
use std::collections::HashMap;
use std::sync::Arc;

/// The CQL language version reported in SUPPORTED and `system.local`.
pub const CQL_VERSION: &str = "3.4.5";

/// One client connection's state.
#[derive(Debug, Default)]
pub struct Session {
    keyspace: parking_lot::Mutex<Option<String>>,
}

impl Session {
    /// The connection's current keyspace (`USE`).
    pub fn keyspace(&self) -> Option<String> {
        self.keyspace.lock().clone()
    }
}

/// A request's result, with the warnings the client is sent beside it (frame flag 0x08).
#[derive(Debug)]
pub struct Reply {
    pub body: ResultBody,
    pub warnings: Vec<String>,
}

impl From<ResultBody> for Reply {
    fn from(body: ResultBody) -> Reply {
        Reply { body, warnings: Vec::new() }
    }
}

/// A prepared statement, kept node-wide under its id.
#[derive(Debug)]
pub struct PreparedStatement {
    pub parsed: ParsedStatement,
    /// The keyspace of the connection that prepared it (for unqualified names).
    pub keyspace: Option<String>,
}

/// Runs statements for every connection of the node.
pub struct QueryProcessor {
    engine: Arc<storage::Engine>,
    schema: Arc<SchemaStore>,
    node: NodeInfo,
    /// The cluster as gossip shows it.
    topology: tokio::sync::watch::Receiver<Arc<crate::cluster::Topology>>,
    coordinator: Arc<Coordinator>,
    prepared: parking_lot::RwLock<HashMap<Bytes, Arc<PreparedStatement>>>,
    /// Held by conditional writes between their read and their write; holds the timestamp of
    /// the last one.
    condition_lock: tokio::sync::Mutex<i64>,
    events: tokio::sync::broadcast::Sender<Event>,
}

fn is_conditional(stmt: &Statement) -> bool {
    match stmt {
        Statement::Insert(i) => i.if_not_exists,
        Statement::Update(u) => u.if_exists,
        Statement::Delete(d) => d.if_exists,
        _ => false,
    }
}

/// How [`QueryProcessor::statement_mutations`] builds a statement's mutations.
#[derive(Debug, Clone, Copy, Default)]
struct How {
    /// The timestamp the whole batch shares.
    batch_ts: Option<i64>,
    /// Whether `IF [NOT] EXISTS` is allowed (outside batches).
    conditional: bool,
    /// Checks only (PREPARE): list operations read a sample list instead of the table.
    dry_run: bool,
}

/// The `USING` clause of an INSERT, UPDATE or DELETE.
fn using_of(stmt: &Statement) -> Option<&Using> {
    match stmt {
        Statement::Insert(i) => Some(&i.using),
        Statement::Update(u) => Some(&u.using),
        Statement::Delete(d) => Some(&d.using),
        _ => None,
    }
}

/// Refuses values that do not match the statement's bind markers, one for one.
fn check_bind_count(markers: usize, params: &QueryParams) -> QueryResult<()> {
    let values = params.values.len();
    if markers != values {
        return Err(QueryError::Invalid(format!(
            "There were {markers} markers(?) in CQL but {values} bound variables"
        )));
    }
    Ok(())
}

/// Named values (flag 0x40) in marker order: each marker takes the value named as its
/// bind variable (`:name`, or the column it is bound to, as PREPARE names it), so a name
/// repeated in the statement is bound once and surplus names are ignored, as in Cassandra.
fn order_named_values(
    schema: &Schema,
    parsed: &ParsedStatement,
    ks: Option<&str>,
    mut params: QueryParams,
) -> QueryResult<QueryParams> {
    let names = params.names.take().unwrap_or_default();
    let (metadata, _) = prepared::metadata(schema, parsed, ks)?;
    let values = metadata
        .columns
        .iter()
        .map(|spec| {
            let j = names.iter().position(|n| *n == spec.name).ok_or_else(|| {
                QueryError::Invalid(format!("No value bound for the variable {}", spec.name))
            })?;
            Ok(params.values.get(j).cloned().unwrap_or(cql::protocol::Value::NotSet))
        })
        .collect::<QueryResult<Vec<_>>>()?;
    params.values = values;
    Ok(params)
}

/// What a BATCH may not say about itself or its statements.
fn check_batch(b: &Batch) -> QueryResult<()> {
    if b.kind == BatchKind::Counter {
        return Err(QueryError::Invalid(
            "Counter batches are not supported: there are no counter columns".into(),
        ));
    }
    if b.using.ttl.is_some() {
        return Err(QueryError::Invalid("Global TTL on the BATCH statement is not supported.".into()));
    }
    for st in &b.statements {
        check_batch_statement(st)?;
        if b.using.timestamp.is_some() && using_of(st).is_some_and(|u| u.timestamp.is_some()) {
            return Err(QueryError::Invalid(
                "Timestamp must be set either on BATCH or individual statements".into(),
            ));
        }
    }
    Ok(())
}

/// What a statement inside a BATCH (CQL or protocol) may not say.
fn check_batch_statement(st: &Statement) -> QueryResult<()> {
    if using_of(st).is_some_and(|u| u.consistency.is_some()) {
        return Err(QueryError::Invalid(
            "USING CONSISTENCY is not allowed on a statement inside a BATCH; give it on the BATCH".into(),
        ));
    }
    Ok(())
}

/// Conditional writes choose their own timestamp.
fn check_conditional(stmt: &Statement) -> QueryResult<()> {
    if using_of(stmt).is_some_and(|u| u.timestamp.is_some()) {
        return Err(QueryError::Invalid("Cannot provide custom timestamp for conditional updates".into()));
    }
    Ok(())
}

fn no_keyspace() -> QueryError {
    QueryError::Invalid(
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename".into(),
    )
}

impl QueryProcessor {
    /// A processor over `engine` with the schema kept in `dir`.
    pub fn new(
        engine: Arc<storage::Engine>,
        schema: Arc<SchemaStore>,
        node: NodeInfo,
        coordinator: Arc<Coordinator>,
    ) -> QueryProcessor {
        QueryProcessor {
            engine,
            schema,
            node,
            topology: coordinator.cluster.watch(),
            coordinator,
            prepared: parking_lot::RwLock::new(HashMap::new()),
            condition_lock: tokio::sync::Mutex::new(0),
            events: tokio::sync::broadcast::channel(256).0,
        }
    }

    /// Warnings for a statement that succeeded: table options recorded but not applied, and
    /// datacenters a keyspace names that no node is in (accepted, as Cassandra accepts them).
    fn warnings(&self, stmt: &Statement) -> Vec<String> {
        let mut out = crate::schema::ddl_warnings(stmt);
        let name = match stmt {
            Statement::CreateKeyspace(c) => &c.name,
            Statement::AlterKeyspace { name, .. } => name,
            _ => return out,
        };
        let schema = self.schema.snapshot();
        let Some(crate::schema::Replication::NetworkTopology { datacenters }) =
            schema.keyspaces.get(name).map(|k| &k.replication)
        else {
            return out;
        };
        let topology = self.topology.borrow().clone();
        let known = topology.ring.topology();
        for dc in
            datacenters.keys().filter(|dc| !known.contains_key(dc.as_str()) && *dc != &topology.local.dc)
        {
            out.push(format!(
                "Keyspace {name} names datacenter '{dc}', which has no nodes (known: {}); it gets no replicas until nodes join it",
                known.keys().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        out
    }

    /// The schema store.
    pub fn schema(&self) -> &SchemaStore {
        &self.schema
    }

    /// Answers a QUERY, PREPARE, EXECUTE or BATCH request.
    pub async fn handle(&self, session: &Session, request: Request) -> QueryResult<Reply> {
        match request {
            Request::Query { query, params } => {
                let parsed = cql::parser::parse_statement(&query)?;
                let body = self.execute(session, &parsed, None, params).await?;
                Ok(Reply { body, warnings: self.warnings(&parsed.statement) })
            }
            Request::Prepare { query } => self.prepare(session, &query).map(Reply::from),
            Request::Execute { id, params } => {
                let p = self.prepared.read().get(&id).cloned().ok_or(QueryError::Unprepared(id))?;
                let skip_metadata = params.skip_metadata;
                let mut result = self.execute(session, &p.parsed, p.keyspace.as_deref(), params).await?;
                // The client has the result columns from PREPARE.
                if let ResultBody::Rows(rows) = &mut result
                    && skip_metadata
                {
                    rows.metadata.column_count = rows.metadata.columns.len();
                    rows.metadata.no_metadata = true;
                }
                Ok(Reply { body: result, warnings: self.warnings(&p.parsed.statement) })
            }
            Request::Batch(b) => self.batch(session, b).await.map(Reply::from),
            other => Err(QueryError::Protocol(format!("unexpected request {:#04x}", other.opcode()))),
        }
    }

    fn prepare(&self, session: &Session, query: &str) -> QueryResult<ResultBody> {
        let parsed = cql::parser::parse_statement(query)?;
        let keyspace = session.keyspace();
        let schema = self.schema.snapshot();
        let (metadata, result_metadata) = prepared::metadata(&schema, &parsed, keyspace.as_deref())?;
        self.validate_prepared(&schema, &parsed, keyspace.as_deref(), &metadata)?;
        let id = prepared::statement_id(keyspace.as_deref(), query);
        self.prepared.write().insert(id.clone(), Arc::new(PreparedStatement { parsed, keyspace }));
        Ok(ResultBody::Prepared(Prepared { id, metadata, result_metadata }))
    }

    /// Runs a statement's checks at PREPARE, as Cassandra does, with sample values bound to
    /// its markers, so that a statement that can never execute is refused before it is
    /// cached: unknown columns, missing key parts, restrictions that need ALLOW FILTERING,
    /// ORDER BY on the wrong columns, misplaced USING clauses.
    fn validate_prepared(
        &self,
        schema: &Schema,
        parsed: &ParsedStatement,
        ks: Option<&str>,
        metadata: &cql::protocol::PreparedMetadata,
    ) -> QueryResult<()> {
        let params = prepared::sample_params(metadata);
        let stmt = &parsed.statement;
        match stmt {
            Statement::Select(sel) => {
                let keyspace = sel.table.keyspace.as_deref().or(ks).ok_or_else(no_keyspace)?;
                if crate::system::table(keyspace, &sel.table.name).is_some() {
                    return Ok(());
                }
                let table = self.user_table(schema, &sel.table, ks)?;
                select::validate(&table, sel, &params)
            }
            // The document is only known at EXECUTE.
            Statement::Insert(i)
                if matches!(&i.values, InsertValues::Json { value: Term::Bind { .. }, .. }) =>
            {
                self.user_table(schema, &i.table, ks).map(|_| ())
            }
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                let conditional = is_conditional(stmt);
                if conditional {
                    check_conditional(stmt)?;
                }
                let (table, _, _) = self.statement_mutations(
                    schema,
                    stmt,
                    ks,
                    &params,
                    How { batch_ts: None, conditional, dry_run: true },
                )?;
                if conditional {
                    lwt::condition_select(&table, stmt)?;
                }
                Ok(())
            }
            Statement::Batch(b) => {
                check_batch(b)?;
                for st in &b.statements {
                    self.statement_mutations(
                        schema,
                        st,
                        ks,
                        &params,
                        How { batch_ts: Some(1), conditional: false, dry_run: true },
                    )?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn user_table(
        &self,
        schema: &Schema,
        q: &QualifiedName,
        session_ks: Option<&str>,
    ) -> QueryResult<Arc<Table>> {
        let ks = q.keyspace.as_deref().or(session_ks).ok_or_else(no_keyspace)?;
        if crate::schema::SYSTEM_KEYSPACES.contains(&ks) {
            // System tables are views of the node's state (`crate::system`), not stored data.
            return Err(QueryError::Invalid(match crate::system::table(ks, &q.name) {
                Some(_) => {
                    format!("{ks}.{} is a system table the node computes; it cannot be modified", q.name)
                }
                None => format!("unconfigured table {}", q.name),
            }));
        }
        if !schema.keyspaces.contains_key(ks) {
            return Err(QueryError::Invalid(format!("Keyspace {ks} does not exist")));
        }
        schema
            .table(ks, &q.name)
            .cloned()
            .ok_or_else(|| QueryError::Invalid(format!("unconfigured table {}", q.name)))
    }

    /// Checks that `cl` can be met by the replicas of `keyspace` that are alive, while this
    /// node is alone in its ring.
    fn check_consistency(
        &self,
        schema: &Schema,
        keyspace: &str,
        cl: Consistency,
        write: bool,
    ) -> QueryResult<()> {
        let Some(ks) = schema.keyspaces.get(keyspace) else { return Ok(()) };
        if !self.coordinator.alone() {
            // In a cluster the coordinator checks the live replicas of each token it touches.
            return Ok(());
        }
        consistency::check(&ks.replication, &self.node.dc, cl, write)
    }

    /// Writes tables' mutations through the coordinator at `cl`.
    async fn write(
        &self,
        schema: &Schema,
        per_table: Vec<(Arc<Table>, write::Mutations)>,
        cl: Consistency,
        write_type: WriteType,
    ) -> QueryResult<()> {
        let mut groups = Vec::with_capacity(per_table.len());
        for (t, m) in per_table {
            let ks = schema
                .keyspaces
                .get(&t.keyspace)
                .ok_or_else(|| QueryError::Invalid(format!("Keyspace {} does not exist", t.keyspace)))?;
            groups.push(WriteGroup {
                replication: ks.replication.clone(),
                durable: ks.durable_writes,
                mutations: m.into_mutations(&t),
            });
        }
        self.coordinator.write(groups, cl, write_type).await
    }

    /// Runs a statement, counting data statements in the metrics.
    async fn execute(
        &self,
        session: &Session,
        parsed: &ParsedStatement,
        prepared_ks: Option<&str>,
        params: QueryParams,
    ) -> QueryResult<ResultBody> {
        let started = std::time::Instant::now();
        let cl = params.consistency;
        let r = self.execute_statement(session, parsed, prepared_ks, params).await;
        let session_ks = session.keyspace();
        let ks = prepared_ks.or(session_ks.as_deref());
        let (write, table, using) = match &parsed.statement {
            Statement::Select(s) => (false, &s.table, s.consistency),
            Statement::Insert(i) => (true, &i.table, i.using.consistency),
            Statement::Update(u) => (true, &u.table, u.using.consistency),
            Statement::Delete(d) => (true, &d.table, d.using.consistency),
            Statement::Batch(b) => match b.statements.first().and_then(|st| match st {
                Statement::Insert(i) => Some(&i.table),
                Statement::Update(u) => Some(&u.table),
                Statement::Delete(d) => Some(&d.table),
                _ => None,
            }) {
                Some(t) => (true, t, b.using.consistency),
                None => return r,
            },
            _ => return r,
        };
        let name = format!("{}.{}", table.keyspace.as_deref().or(ks).unwrap_or(""), table.name);
        let metrics = &self.coordinator.metrics;
        let level = using.unwrap_or(cl).name();
        match &r {
            Ok(_) => metrics.request(write, level, &name, started.elapsed()),
            Err(e) => metrics.error(
                write,
                level,
                match e {
                    QueryError::Unavailable { .. } => "unavailable",
                    QueryError::WriteTimeout { .. } => "write_timeout",
                    QueryError::ReadTimeout { .. } => "read_timeout",
                    QueryError::Invalid(_) | QueryError::Syntax(_) => "invalid",
                    _ => "other",
                },
            ),
        }
        r
    }

    async fn execute_statement(
        &self,
        session: &Session,
        parsed: &ParsedStatement,
        prepared_ks: Option<&str>,
        params: QueryParams,
    ) -> QueryResult<ResultBody> {
        let session_ks = session.keyspace();
        // A prepared statement keeps the keyspace it was prepared in.
        let ks_ref = prepared_ks.or(session_ks.as_deref());
        let schema = self.schema.snapshot();
        let params = match params.names {
            Some(_) => order_named_values(&schema, parsed, ks_ref, params)?,
            None => params,
        };
        check_bind_count(parsed.bind_markers.len(), &params)?;
        match &parsed.statement {
            Statement::Use(ks) => {
                if !schema.keyspaces.contains_key(ks)
                    && !crate::schema::SYSTEM_KEYSPACES.contains(&ks.as_str())
                {
                    return Err(QueryError::Invalid(format!("Keyspace '{ks}' does not exist")));
                }
                *session.keyspace.lock() = Some(ks.clone());
                Ok(ResultBody::SetKeyspace(ks.clone()))
            }
            Statement::CreateKeyspace(_)
            | Statement::AlterKeyspace { .. }
            | Statement::DropKeyspace { .. }
            | Statement::CreateTable(_)
            | Statement::AlterTable { .. }
            | Statement::DropTable { .. } => self.ddl(ks_ref, &parsed.statement).await,
            Statement::Select(select) => {
                let ks = select.table.keyspace.as_deref().or(ks_ref).ok_or_else(no_keyspace)?;
                if let Some(vt) = crate::system::table(ks, &select.table.name) {
                    let topology = self.topology.borrow().clone();
                    return system_select::select(&vt, select, &params, &schema, &self.node, &topology);
                }
                let table = self.user_table(&schema, &select.table, ks_ref)?;
                let cl = select.consistency.unwrap_or(params.consistency);
                if !self.coordinator.alone() {
                    let ks = schema.keyspaces.get(&table.keyspace).ok_or_else(|| {
                        QueryError::Invalid(format!("Keyspace {} does not exist", table.keyspace))
                    })?;
                    let rows = select::select_distributed(
                        &self.coordinator,
                        &ks.replication,
                        &table,
                        select,
                        &params,
                        cl,
                    )
                    .await?;
                    return Ok(ResultBody::Rows(rows));
                }
                self.check_consistency(&schema, &table.keyspace, cl, false)?;
                let engine = self.engine.clone();
                let select = select.clone();
                let rows =
                    tokio::task::spawn_blocking(move || select::select(&engine, &table, &select, &params))
                        .await
                        .map_err(|e| QueryError::Server(format!("read task failed: {e}")))??;
                Ok(ResultBody::Rows(rows))
            }
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)
                if is_conditional(&parsed.statement) =>
            {
                self.conditional(&schema, &parsed.statement, ks_ref, &params).await
            }
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                let (table, m, cl) =
                    self.statement_mutations(&schema, &parsed.statement, ks_ref, &params, How::default())?;
                let cl = cl.unwrap_or(params.consistency);
                self.write(&schema, vec![(table, m)], cl, WriteType::Simple).await?;
                Ok(ResultBody::Void)
            }
            Statement::Batch(b) => {
                check_batch(b)?;
                let mut per_table: Vec<(Arc<Table>, write::Mutations)> = Vec::new();
                // One timestamp for every statement of the batch.
                let batch_ts = match &b.using.timestamp {
                    Some(t) => bind::bind_i64(t, "timestamp", &params)?,
                    None => None,
                }
                .or(params.timestamp)
                .or_else(|| Some(write::server_timestamp()));
                for st in &b.statements {
                    let (table, m, _) = self.statement_mutations(
                        &schema,
                        st,
                        ks_ref,
                        &params,
                        How { batch_ts, conditional: false, dry_run: false },
                    )?;
                    self.merge_batch(&mut per_table, table, m);
                }
                let cl = b.using.consistency.unwrap_or(params.consistency);
                let wt =
                    if b.kind == BatchKind::Logged { WriteType::Batch } else { WriteType::UnloggedBatch };
                self.write(&schema, per_table, cl, wt).await?;
                Ok(ResultBody::Void)
            }
            Statement::Truncate(q) => {
                let table = self.user_table(&schema, q, ks_ref)?;
                self.coordinator.truncate_others(table.id).await?;
                let engine = self.engine.clone();
                tokio::task::spawn_blocking(move || engine.truncate(table.id))
                    .await
                    .map_err(|e| QueryError::Server(format!("truncate task failed: {e}")))??;
                Ok(ResultBody::Void)
            }
            Statement::Describe(d) => describe::describe(&schema, d, ks_ref, &self.node),
        }
    }

    fn merge_batch(
        &self,
        per_table: &mut Vec<(Arc<Table>, write::Mutations)>,
        table: Arc<Table>,
        m: write::Mutations,
    ) {
        match per_table.iter_mut().find(|(t, _)| t.id == table.id) {
            Some((_, mine)) => mine.merge(m),
            None => per_table.push((table, m)),
        }
    }

    /// The mutations of one INSERT, UPDATE or DELETE, its table, and its `USING CONSISTENCY`.
    fn statement_mutations(
        &self,
        schema: &Schema,
        stmt: &Statement,
        ks: Option<&str>,
        params: &QueryParams,
        how: How,
    ) -> QueryResult<(Arc<Table>, write::Mutations, Option<Consistency>)> {
        let How { batch_ts, conditional, dry_run } = how;
        match stmt {
            Statement::Insert(i) => {
                if i.if_not_exists && !conditional {
                    return Err(QueryError::Invalid(
                        "Conditional statements (IF NOT EXISTS) are not supported in a BATCH yet".into(),
                    ));
                }
                let t = self.user_table(schema, &i.table, ks)?;
                let m = write::insert(&t, i, params, batch_ts)?;
                Ok((t, m, i.using.consistency))
            }
            Statement::Update(u) => {
                if u.if_exists && !conditional {
                    return Err(QueryError::Invalid(
                        "Conditional statements (IF EXISTS) are not supported in a BATCH yet".into(),
                    ));
                }
                let t = self.user_table(schema, &u.table, ks)?;
                let m = if dry_run {
                    write::update(&t, u, params, batch_ts, &prepared::dry_run_list)?
                } else {
                    write::update(&t, u, params, batch_ts, &self.list_reader(&t))?
                };
                Ok((t, m, u.using.consistency))
            }
            Statement::Delete(d) => {
                if d.if_exists && !conditional {
                    return Err(QueryError::Invalid(
                        "Conditional statements (IF EXISTS) are not supported in a BATCH yet".into(),
                    ));
                }
                let t = self.user_table(schema, &d.table, ks)?;
                let m = if dry_run {
                    write::delete(&t, d, params, batch_ts, &prepared::dry_run_list)?
                } else {
                    write::delete(&t, d, params, batch_ts, &self.list_reader(&t))?
                };
                Ok((t, m, d.using.consistency))
            }
            _ => Err(QueryError::Invalid(
                "Only INSERT, UPDATE and DELETE statements are allowed in a BATCH".into(),
            )),
        }
    }

    /// Reads a list's live elements for list operations by index or value (a read before
    /// the write, as in Cassandra).
    fn list_reader(
        &self,
        table: &Arc<Table>,
    ) -> impl Fn(&Bytes, Option<&Bytes>, &str) -> QueryResult<Vec<(Bytes, Bytes)>> + use<> {
        let engine = self.engine.clone();
        let table = table.clone();
        move |key: &Bytes, clustering: Option<&Bytes>, column: &str| {
            tokio::task::block_in_place(|| {
                let slices = clustering.map(|c| vec![storage::ClusteringRange::prefix(c.clone())]);
                let dk = storage::DecoratedKey::new(key.clone());
                let Some(p) = engine.read(table.id, &dk, slices.as_deref())? else { return Ok(Vec::new()) };
                let now = bind::now_micros().div_euclid(1_000_000);
                let mut out = Vec::new();
                p.for_each_live_row(now, &mut |row| {
                    if row.is_static == clustering.is_none() {
                        for c in row.cells().filter(|c| c.column == column.as_bytes()) {
                            if let Some(path) = c.path {
                                out.push((
                                    Bytes::copy_from_slice(path),
                                    Bytes::copy_from_slice(c.cell.value),
                                ));
                            }
                        }
                    }
                    true
                });
                Ok(out)
            })
        }
    }

    /// `IF NOT EXISTS` / `IF EXISTS`: see [`lwt`].
    async fn conditional(
        &self,
        schema: &Schema,
        stmt: &Statement,
        ks: Option<&str>,
        params: &QueryParams,
    ) -> QueryResult<ResultBody> {
        check_conditional(stmt)?;
        // Validate everything before taking the lock.
        let (table, _, cl) = self.statement_mutations(
            schema,
            stmt,
            ks,
            params,
            How { batch_ts: None, conditional: true, dry_run: false },
        )?;
        let serial = params.serial_consistency.unwrap_or(Consistency::Serial);
        if !matches!(serial, Consistency::Serial | Consistency::LocalSerial) {
            return Err(QueryError::Invalid(format!(
                "Invalid serial consistency {serial}: only SERIAL and LOCAL_SERIAL are serial consistency levels"
            )));
        }
        self.check_consistency(schema, &table.keyspace, serial, false)?;
        let commit = cl.unwrap_or(params.consistency);
        if matches!(commit, Consistency::Serial | Consistency::LocalSerial) {
            return Err(QueryError::Invalid(format!(
                "{commit} is not supported as conditional update commit consistency. Use ANY if you mean \"make sure it is accepted but I don't care how many replicas commit it for non-SERIAL reads\""
            )));
        }
        let sel = lwt::condition_select(&table, stmt)?;
        let mut last = self.condition_lock.lock().await;
        // Conditional writes are ordered by the lock: each gets a timestamp above the last one,
        // whatever the clients' clocks say.
        let ts = write::server_timestamp().max(*last + 1);
        *last = ts;
        let (_, m, _) = self.statement_mutations(
            schema,
            stmt,
            ks,
            params,
            How { batch_ts: Some(ts), conditional: true, dry_run: false },
        )?;
        let current = if self.coordinator.alone() {
            let (engine, t, p) = (self.engine.clone(), table.clone(), params.clone());
            tokio::task::spawn_blocking(move || lwt::current_row(&engine, &t, &sel, &p))
                .await
                .map_err(|e| QueryError::Server(format!("read task failed: {e}")))??
        } else {
            // The condition is read from a quorum of replicas (at the serial level's quorum:
            // SERIAL is QUORUM, LOCAL_SERIAL LOCAL_QUORUM) and reconciled.
            let ks = schema
                .keyspaces
                .get(&table.keyspace)
                .ok_or_else(|| QueryError::Invalid(format!("Keyspace {} does not exist", table.keyspace)))?;
            let p = QueryParams { page_size: None, paging_state: None, ..params.clone() };
            let rows =
                select::select_distributed(&self.coordinator, &ks.replication, &table, &sel, &p, serial)
                    .await?;
            lwt::single_row(rows)?
        };
        let exists = current.rows_count > 0;
        let apply = match stmt {
            Statement::Insert(_) => !exists,
            _ => exists,
        };
        if apply {
            self.write(schema, vec![(table.clone(), m)], commit, WriteType::Cas).await?;
        }
        Ok(ResultBody::Rows(lwt::applied_result(&table, apply, Some(&current))?))
    }

    async fn batch(&self, session: &Session, req: BatchRequest) -> QueryResult<ResultBody> {
        if req.kind == cql::protocol::batch_kind::COUNTER {
            return Err(QueryError::Invalid(
                "Counter batches are not supported: there are no counter columns".into(),
            ));
        }
        let session_ks = session.keyspace();
        let schema = self.schema.snapshot();
        let mut per_table: Vec<(Arc<Table>, write::Mutations)> = Vec::new();
        // One timestamp for every statement of the batch.
        let batch_ts = Some(req.timestamp.unwrap_or_else(write::server_timestamp));
        for st in &req.statements {
            let (parsed, prepared_ks) = match &st.query {
                BatchQuery::Text(q) => (Arc::new(cql::parser::parse_statement(q)?), None),
                BatchQuery::Prepared(id) => {
                    let p = self
                        .prepared
                        .read()
                        .get(id)
                        .cloned()
                        .ok_or_else(|| QueryError::Unprepared(id.clone()))?;
                    (Arc::new(p.parsed.clone()), p.keyspace.clone())
                }
            };
            let params = QueryParams {
                consistency: req.consistency,
                values: st.values.clone(),
                timestamp: req.timestamp,
                ..Default::default()
            };
            check_bind_count(parsed.bind_markers.len(), &params)?;
            check_batch_statement(&parsed.statement)?;
            let ks = prepared_ks.as_deref().or(session_ks.as_deref());
            let (table, m, _) = self.statement_mutations(
                &schema,
                &parsed.statement,
                ks,
                &params,
                How { batch_ts, conditional: false, dry_run: false },
            )?;
            self.merge_batch(&mut per_table, table, m);
        }
        let wt = if req.kind == cql::protocol::batch_kind::LOGGED {
            WriteType::Batch
        } else {
            WriteType::UnloggedBatch
        };
        self.write(&schema, per_table, req.consistency, wt).await?;
        Ok(ResultBody::Void)
    }

    /// Server events (schema, topology and status changes) for connections that REGISTERed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}
