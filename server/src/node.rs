//! A running node: opens the storage engine and serves until asked to stop (SIGINT or
//! SIGTERM), then drains — flushes every memtable so that the next start replays nothing.
//!
//! It serves CQL on `native_transport_address:native_transport_port`. Gossip and the admin API
//! join here as they are built. The node's identity (host id, tokens) is created on first start
//! and kept in `node.json` under the data directory.

use crate::config::Config;
use crate::query::QueryProcessor;
use crate::schema::SchemaStore;
use crate::system::NodeInfo;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// What a node keeps about itself across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Identity {
    host_id: uuid::Uuid,
    tokens: Vec<i64>,
}

fn identity(dir: &Path, num_tokens: u32) -> anyhow::Result<Identity> {
    let path = dir.join("node.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a valid node identity file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut tokens: Vec<i64> = (0..num_tokens.max(1))
                .map(|_| {
                    let r = uuid::Uuid::new_v4().as_u128() as u64 as i64;
                    if r == i64::MIN { i64::MAX } else { r }
                })
                .collect();
            tokens.sort_unstable();
            tokens.dedup();
            let id = Identity { host_id: uuid::Uuid::new_v4(), tokens };
            std::fs::create_dir_all(dir)?;
            storage::sstable::write_atomic(&path, &serde_json::to_vec_pretty(&id)?)?;
            Ok(id)
        }
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

/// Makes the storage engine hold exactly the tables the schema names: a table the schema names
/// but storage lacks is created (empty); storage no schema names is reported and left alone.
fn reconcile(engine: &storage::Engine, schema: &crate::schema::Schema) -> anyhow::Result<()> {
    let stored = engine.tables();
    for t in schema.tables() {
        if !stored.iter().any(|d| d.id == t.id) {
            tracing::warn!(table = %format!("{}.{}", t.keyspace, t.name), "table had no storage; creating it empty");
            let mut d = storage::TableDescriptor::new(t.id, &t.keyspace, &t.name);
            d.options = t.storage_options();
            engine.create_table(d)?;
        }
    }
    for d in &stored {
        if !schema.tables().any(|t| t.id == d.id) {
            tracing::warn!(
                table = %format!("{}.{}", d.keyspace, d.name),
                id = ?d.id,
                "storage for a table the schema does not name (left by a DDL interrupted by a crash); not served"
            );
        }
    }
    Ok(())
}

/// Runs a node until a stop signal, then drains it.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Handlers first: a stop signal that arrives while the node starts must still drain it.
    let mut stop = StopSignals::install()?;
    let engine_config = config.engine_config();
    let dir = config.data_directory.clone();
    let engine = tokio::task::spawn_blocking(move || storage::Engine::open(engine_config)).await??;
    let engine = Arc::new(engine);
    let replay = engine.replay_summary();
    tracing::info!(
        data_directory = %dir.display(),
        tables = engine.tables().len(),
        replayed = replay.applied,
        corrupt_entries = replay.log.corrupt.len(),
        "storage engine open"
    );
    let schema = SchemaStore::open(&dir)?;
    reconcile(&engine, &schema.snapshot())?;
    let id = identity(&dir, config.num_tokens)?;
    let rpc_address: IpAddr = config.native_transport_address.parse().map_err(|e| {
        anyhow::anyhow!(
            "native_transport_address '{}' is not an IP address: {e}",
            config.native_transport_address
        )
    })?;
    let listen_address: IpAddr = config.listen_address.parse().map_err(|e| {
        anyhow::anyhow!("listen_address '{}' is not an IP address: {e}", config.listen_address)
    })?;
    let node = NodeInfo {
        cluster_name: config.cluster_name.clone(),
        host_id: id.host_id,
        dc: config.dc.clone(),
        rack: config.rack.clone(),
        listen_address,
        listen_port: i32::from(config.storage_port),
        rpc_address,
        rpc_port: i32::from(config.native_transport_port),
        tokens: id.tokens,
    };
    let processor = Arc::new(QueryProcessor::new(engine.clone(), schema, node));
    let addr = std::net::SocketAddr::new(rpc_address, config.native_transport_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for CQL clients on {addr}: {e}"))?;
    tracing::info!(%addr, "listening for CQL clients");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let transport = tokio::spawn(crate::transport::serve(listener, processor, stop_rx));
    stop.wait().await;
    let _ = stop_tx.send(true);
    let _ = transport.await;
    tracing::info!("stopping: draining memtables");
    let e = engine.clone();
    tokio::task::spawn_blocking(move || e.drain()).await??;
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT and SIGTERM, caught from the start of [`run`].
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
