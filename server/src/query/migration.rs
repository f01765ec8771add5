//! Schema changes and how they reach every node (Cassandra's MigrationManager).
//!
//! A DDL statement changes this node's schema (storage first for a new table, after for a
//! dropped one), then is published: the new schema version goes into gossip and the whole
//! schema is pushed to every live node, waiting a little for them so that clients checking
//! schema agreement see it. A node that was down, or missed a push, notices through gossip
//! that a peer's version differs, pulls that peer's schema and merges it
//! ([`crate::schema::merge`]), pushing its own back if the peer lacks some of it. Every
//! change, local or merged, becomes a SCHEMA_CHANGE event for this node's clients.

use super::QueryProcessor;
use crate::error::{QueryError, QueryResult};
use crate::net::Verb;
use crate::schema::{Schema, SchemaChangeKind, apply_ddl};
use bytes::Bytes;
use cql::ast::Statement;
use cql::protocol::{Event, ResultBody, SchemaChange, SchemaChangeTarget};
use std::time::Duration;

/// How long a DDL statement waits for the other live nodes to take its schema.
const PUSH_WAIT: Duration = Duration::from_secs(5);

/// The event clients get for `change`.
fn event_of(change: &SchemaChangeKind) -> Option<SchemaChange> {
    let table = |t: &crate::schema::Table| SchemaChangeTarget::Table {
        keyspace: t.keyspace.clone(),
        table: t.name.clone(),
    };
    let (kind, target) = match change {
        SchemaChangeKind::None => return None,
        SchemaChangeKind::KeyspaceCreated(k) => ("CREATED", SchemaChangeTarget::Keyspace(k.clone())),
        SchemaChangeKind::KeyspaceUpdated(k) => ("UPDATED", SchemaChangeTarget::Keyspace(k.clone())),
        SchemaChangeKind::KeyspaceDropped(k, _) => ("DROPPED", SchemaChangeTarget::Keyspace(k.clone())),
        SchemaChangeKind::TableCreated(t) => ("CREATED", table(t)),
        SchemaChangeKind::TableUpdated(t) => ("UPDATED", table(t)),
        SchemaChangeKind::TableDropped(t) => ("DROPPED", table(t)),
    };
    Some(SchemaChange { change: kind.into(), target })
}

/// Storage work a change needs before the schema naming it is published.
fn prepare_storage(engine: &storage::Engine, change: &SchemaChangeKind) -> QueryResult<()> {
    let known = |id| engine.tables().iter().any(|d| d.id == id);
    match change {
        SchemaChangeKind::TableCreated(t) | SchemaChangeKind::TableUpdated(t) if known(t.id) => {
            engine.alter_table(t.id, t.storage_options())?
        }
        SchemaChangeKind::TableCreated(t) | SchemaChangeKind::TableUpdated(t) => {
            let mut d = storage::TableDescriptor::new(t.id, &t.keyspace, &t.name);
            d.options = t.storage_options();
            engine.create_table(d)?;
        }
        _ => {}
    }
    Ok(())
}

/// Storage work a change needs once the schema no longer names what it drops.
fn finish_storage(engine: &storage::Engine, change: &SchemaChangeKind) -> QueryResult<()> {
    let known = |id| engine.tables().iter().any(|d| d.id == id);
    match change {
        SchemaChangeKind::TableDropped(t) if known(t.id) => engine.drop_table(t.id)?,
        SchemaChangeKind::KeyspaceDropped(_, tables) => {
            for t in tables.iter().filter(|t| known(t.id)) {
                engine.drop_table(t.id)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl QueryProcessor {
    /// Runs a DDL statement and publishes the new schema.
    pub(super) async fn ddl(&self, current: Option<&str>, stmt: &Statement) -> QueryResult<ResultBody> {
        let engine = &self.engine;
        // DDL touches files (schema.json, table directories) with fsyncs: keep it off the
        // async workers. A crash between storage and schema leaves storage that no schema
        // names, which start-up reports and never serves.
        let change = tokio::task::block_in_place(|| -> QueryResult<SchemaChangeKind> {
            let change = self.schema.update(|s| {
                let change = apply_ddl(s, stmt, current)?;
                prepare_storage(engine, &change)?;
                Ok(change)
            })?;
            finish_storage(engine, &change)?;
            Ok(change)
        })?;
        let Some(event) = event_of(&change) else { return Ok(ResultBody::Void) };
        self.announce(std::slice::from_ref(&change));
        self.publish_schema().await;
        Ok(ResultBody::SchemaChange(event))
    }

    /// Tells this node's clients about `changes`, and forgets prepared statements that may
    /// name what changed (clients re-prepare against the new schema).
    fn announce(&self, changes: &[SchemaChangeKind]) {
        for c in changes {
            let Some(event) = event_of(c) else { continue };
            if event.change != "CREATED" {
                self.prepared.write().clear();
            }
            // Nobody listening is fine.
            let _ = self.events.send(Event::SchemaChange(event));
        }
    }

    /// Gossips this node's schema version and pushes the schema to every live node, waiting
    /// up to [`PUSH_WAIT`] for them.
    pub async fn publish_schema(&self) {
        let schema = self.schema.snapshot();
        let cluster = &self.coordinator.cluster;
        cluster.gossip.set("schema", schema.version()).await;
        let Ok(json) = serde_json::to_vec(&*schema) else { return };
        let payload = Bytes::from(json);
        let topology = cluster.topology();
        let pushes = topology.peers().filter(|m| m.is_up()).map(|m| {
            let (messaging, payload, addr, host) =
                (cluster.messaging.clone(), payload.clone(), m.gossip_addr, m.host_id);
            async move {
                if let Err(e) = messaging.request(addr, Verb::SchemaPush, payload, PUSH_WAIT).await {
                    tracing::debug!(%host, error = %e, "schema push not taken; the node will pull it");
                }
            }
        });
        futures::future::join_all(pushes).await;
    }

    /// Merges a schema from another node into this one's.
    pub async fn merge_schema(&self, remote: &Schema) -> QueryResult<()> {
        let engine = &self.engine;
        let before = self.schema.snapshot().version();
        let changes = tokio::task::block_in_place(|| -> QueryResult<Vec<SchemaChangeKind>> {
            let (_, changes) = self.schema.merge_remote_with(remote, |c| prepare_storage(engine, c))?;
            for c in &changes {
                finish_storage(engine, c)?;
            }
            Ok(changes)
        })?;
        if !changes.is_empty() {
            tracing::info!(changes = changes.len(), "merged schema changes from another node");
            self.announce(&changes);
        }
        let after = self.schema.snapshot().version();
        if after != before {
            self.coordinator.cluster.gossip.set("schema", after).await;
        }
        Ok(())
    }

    /// Turns changes of the ring and of liveness into TOPOLOGY_CHANGE (NEW_NODE,
    /// REMOVED_NODE) and STATUS_CHANGE (UP, DOWN) events for this node's clients, each with
    /// the node's CQL address; runs until the node stops.
    pub async fn announce_topology(self: std::sync::Arc<Self>) {
        let mut topology = self.coordinator.cluster.watch();
        let snapshot = |t: &crate::cluster::Topology| -> std::collections::BTreeMap<uuid::Uuid, (std::net::SocketAddr, bool)> {
            t.peers()
                .filter(|m| m.is_normal())
                .filter_map(|m| m.rpc.map(|rpc| (m.host_id, (rpc, m.is_up()))))
                .collect()
        };
        let mut before = snapshot(&topology.borrow());
        while topology.changed().await.is_ok() {
            let now = snapshot(&topology.borrow_and_update());
            for (host, (rpc, up)) in &now {
                match before.get(host) {
                    None => {
                        let _ = self
                            .events
                            .send(Event::TopologyChange { change: "NEW_NODE".into(), address: *rpc });
                        if *up {
                            let _ =
                                self.events.send(Event::StatusChange { change: "UP".into(), address: *rpc });
                        }
                    }
                    Some((_, was_up)) if was_up != up => {
                        let change = if *up { "UP" } else { "DOWN" };
                        let _ =
                            self.events.send(Event::StatusChange { change: change.into(), address: *rpc });
                    }
                    _ => {}
                }
            }
            for (host, (rpc, _)) in &before {
                if !now.contains_key(host) {
                    let _ = self
                        .events
                        .send(Event::TopologyChange { change: "REMOVED_NODE".into(), address: *rpc });
                }
            }
            before = now;
        }
    }

    /// The schema as JSON, for a peer that pulls it.
    pub fn schema_json(&self) -> QueryResult<Bytes> {
        serde_json::to_vec(&*self.schema.snapshot())
            .map(Bytes::from)
            .map_err(|e| QueryError::Server(format!("cannot encode the schema: {e}")))
    }

    /// Pulls the schema of every live node whose version differs from this node's, merges it,
    /// and pushes back when the peer lacks some of this node's; runs until the node stops.
    pub async fn reconcile_schemas(self: std::sync::Arc<Self>) {
        let cluster = self.coordinator.cluster.clone();
        let mut topology = cluster.watch();
        let mut tried: std::collections::HashMap<uuid::Uuid, (uuid::Uuid, uuid::Uuid, std::time::Instant)> =
            Default::default();
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(2), topology.changed()).await;
            let t = topology.borrow_and_update().clone();
            for m in t.peers().filter(|m| m.is_up()) {
                let Some(theirs) = m.schema_version else { continue };
                let ours = self.schema.snapshot().version();
                if theirs == ours {
                    continue;
                }
                // The same disagreement is looked at again only after a while.
                if let Some((a, b, at)) = tried.get(&m.host_id)
                    && (*a, *b) == (ours, theirs)
                    && at.elapsed() < Duration::from_secs(5)
                {
                    continue;
                }
                tried.insert(m.host_id, (ours, theirs, std::time::Instant::now()));
                let pulled =
                    cluster.messaging.request(m.gossip_addr, Verb::SchemaPull, Bytes::new(), PUSH_WAIT).await;
                let remote: Schema = match pulled
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(host = %m.host_id, error = %e, "cannot pull a schema");
                        continue;
                    }
                };
                let remote_version = remote.version();
                if let Err(e) = self.merge_schema(&remote).await {
                    tracing::warn!(host = %m.host_id, error = %e, "cannot merge another node's schema");
                    continue;
                }
                if self.schema.snapshot().version() != remote_version
                    && let Ok(json) = self.schema_json()
                {
                    let _ = cluster.messaging.request(m.gossip_addr, Verb::SchemaPush, json, PUSH_WAIT).await;
                }
            }
        }
    }
}
