//! A running node: opens the storage engine and serves until asked to stop (SIGINT or
//! SIGTERM), then drains — flushes every memtable so that the next start replays nothing.
//!
//! It serves CQL on `native_transport_address:native_transport_port`, talks to the other nodes
//! on `listen_address:storage_port` (internode TCP and gossip UDP), and chooses its tokens on
//! first start ([`choose_tokens`]). The node's identity (host id, tokens) is kept in
//! `node.json` under the data directory.

use crate::cluster::{Cluster, Topology};
use crate::config::Config;
use crate::coordinator::{Coordinator, CoordinatorConfig};
use crate::gossip::{Gossip, GossipConfig};
use crate::locator::{Endpoint, Ring};
use crate::net::Messaging;
use crate::query::QueryProcessor;
use crate::schema::SchemaStore;
use crate::system::NodeInfo;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn join_tokens(tokens: &[i64]) -> String {
    tokens.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// What a node keeps about itself across restarts. `tokens` is empty until the node has
/// chosen them (on its first start).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Identity {
    host_id: uuid::Uuid,
    #[serde(default)]
    tokens: Vec<i64>,
}

const IDENTITY_FILE: &str = "node.json";

fn load_identity(dir: &Path) -> anyhow::Result<Identity> {
    let path = dir.join(IDENTITY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: not a valid node identity file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = Identity { host_id: uuid::Uuid::new_v4(), tokens: Vec::new() };
            save_identity(dir, &id)?;
            Ok(id)
        }
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

fn save_identity(dir: &Path, id: &Identity) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    storage::sstable::write_atomic(&dir.join(IDENTITY_FILE), &serde_json::to_vec_pretty(id)?)?;
    Ok(())
}

/// Bytes of SSTables on disk, over every table.
pub(crate) fn load_bytes(engine: &storage::Engine) -> u64 {
    engine
        .tables()
        .iter()
        .filter_map(|d| engine.sstables(d.id).ok())
        .flat_map(|ss| ss.into_iter().map(|s| s.disk_size()))
        .sum()
}

/// The tokens of a node starting for the first time: `initial_token` if configured, else a
/// share of the ring as gossip shows it once the seeds have answered (or `ring_delay` has
/// passed without them).
async fn choose_tokens(
    config: &Config,
    gossip: &Gossip,
    local: &Endpoint,
    seeds: &[SocketAddr],
) -> anyhow::Result<Vec<i64>> {
    if let Some(t) = config.initial_tokens()? {
        return Ok(t);
    }
    let me = SocketAddr::new(local.address, config.storage_port);
    let others: Vec<SocketAddr> = seeds.iter().copied().filter(|s| *s != me).collect();
    if !others.is_empty() {
        let mut w = gossip.watch();
        let deadline = tokio::time::Instant::now() + RING_DELAY;
        loop {
            let heard = w.borrow().members.values().any(|m| m.host_id != local.host_id && m.is_normal());
            if heard {
                // Give the rest of the ring a round or two to arrive.
                tokio::time::sleep(Duration::from_millis(config.gossip_interval_ms * 3)).await;
                break;
            }
            if tokio::time::timeout_at(deadline, w.changed()).await.is_err() {
                tracing::warn!(seeds = ?others, "no seed answered; choosing tokens alone");
                break;
            }
        }
    }
    let topology = Topology::from_membership(local, &[], gossip.membership());
    let existing: Vec<(Endpoint, Vec<i64>)> = topology
        .ring
        .endpoints()
        .iter()
        .filter(|e| e.host_id != local.host_id)
        .map(|e| (e.clone(), topology.ring.tokens_of(e.host_id)))
        .collect();
    Ok(crate::locator::tokens::allocate(&Ring::new(existing), &local.dc, config.num_tokens))
}

/// Replays hints to their targets while they are up: checks every few seconds, and at once
/// when a node comes up.
async fn deliver_hints(
    cluster: Arc<Cluster>,
    hints: Arc<crate::hints::Hints>,
    metrics: Arc<crate::metrics::Metrics>,
    max_age: Duration,
    timeout: Duration,
) {
    let mut topology = cluster.watch();
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(5), topology.changed()).await;
        let t = topology.borrow_and_update().clone();
        for (target, count, _) in hints.pending() {
            if !t.is_up(target) || target == t.local.host_id {
                continue;
            }
            let Some(addr) = t.address(target) else { continue };
            let messaging = cluster.messaging.clone();
            let r = hints
                .replay(target, max_age, |m, durable| {
                    let payload = crate::replica::encode_mutation(&m, durable);
                    let messaging = messaging.clone();
                    async move {
                        messaging
                            .request(addr, crate::net::Verb::Hint, payload, timeout)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }
                })
                .await;
            match r {
                Ok(s) => {
                    metrics.hints_replayed.inc_by(s.delivered);
                    tracing::info!(%target, pending = count, delivered = s.delivered, expired = s.expired, remaining = s.remaining, "replayed hints")
                }
                Err(e) => tracing::warn!(%target, error = %e, "hint replay failed"),
            }
        }
    }
}

/// How long a new node waits for the seeds before choosing its tokens.
const RING_DELAY: Duration = Duration::from_secs(10);

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
    let schema = Arc::new(SchemaStore::open(&dir)?);
    reconcile(&engine, &schema.snapshot())?;
    let mut id = load_identity(&dir)?;
    let rpc_address: IpAddr = config.native_transport_address.parse().map_err(|e| {
        anyhow::anyhow!(
            "native_transport_address '{}' is not an IP address: {e}",
            config.native_transport_address
        )
    })?;
    let listen_address: IpAddr = config.listen_address.parse().map_err(|e| {
        anyhow::anyhow!("listen_address '{}' is not an IP address: {e}", config.listen_address)
    })?;
    let local = Endpoint {
        host_id: id.host_id,
        address: listen_address,
        dc: config.dc.clone(),
        rack: config.rack.clone(),
    };

    // Internode messaging and gossip share listen_address:storage_port (TCP and UDP).
    let storage_addr = SocketAddr::new(listen_address, config.storage_port);
    let messaging = Arc::new(
        Messaging::bind(
            storage_addr,
            crate::net::Identity { cluster_name: config.cluster_name.clone(), host_id: id.host_id },
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen for other nodes on {storage_addr} (storage_port): {e}")
        })?,
    );
    let seeds = config
        .seeds
        .iter()
        .map(|s| crate::gossip::seed_addr(s, config.storage_port))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut published = vec![
        ("dc".to_string(), config.dc.clone()),
        ("rack".to_string(), config.rack.clone()),
        ("rpc".to_string(), SocketAddr::new(rpc_address, config.native_transport_port).to_string()),
        ("release".to_string(), crate::system::RELEASE_VERSION.to_string()),
        ("schema".to_string(), schema.snapshot().version().to_string()),
        ("load".to_string(), load_bytes(&engine).to_string()),
    ];
    if !id.tokens.is_empty() {
        published.push(("tokens".to_string(), join_tokens(&id.tokens)));
        published.push(("status".to_string(), "NORMAL".to_string()));
    }
    let gossip = Gossip::start(
        GossipConfig {
            cluster_name: config.cluster_name.clone(),
            host_id: id.host_id,
            listen: storage_addr,
            seeds: seeds.clone(),
            interval: Duration::from_millis(config.gossip_interval_ms),
            phi_convict_threshold: config.phi_convict_threshold,
        },
        published,
    )
    .await?;
    if id.tokens.is_empty() {
        id.tokens = choose_tokens(&config, &gossip, &local, &seeds).await?;
        save_identity(&dir, &id)?;
        tracing::info!(tokens = id.tokens.len(), "chose this node's tokens");
        gossip.set("tokens", join_tokens(&id.tokens)).await;
        gossip.set("status", "NORMAL").await;
    } else if let Some(t) = config.initial_tokens()?
        && t != id.tokens
    {
        tracing::warn!("initial_token differs from the tokens this node already owns; keeping its tokens");
    }
    let cluster = Arc::new(Cluster::new(local, id.tokens.clone(), messaging, gossip));
    tracing::info!(%storage_addr, host_id = %id.host_id, dc = %config.dc, rack = %config.rack, "joined the cluster");

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
    let hints = Arc::new(crate::hints::Hints::open(&dir.join("hints"))?);
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let coordinator = Arc::new(Coordinator {
        engine: engine.clone(),
        cluster: cluster.clone(),
        hints: hints.clone(),
        config: CoordinatorConfig {
            read_timeout: Duration::from_millis(config.read_request_timeout_ms),
            write_timeout: Duration::from_millis(config.write_request_timeout_ms),
            hinted_handoff_enabled: config.hinted_handoff_enabled,
            max_hint_window: Duration::from_millis(config.max_hint_window_ms),
        },
        stats: Arc::default(),
        metrics: metrics.clone(),
    });
    let hint_delivery = tokio::spawn(deliver_hints(
        cluster.clone(),
        hints.clone(),
        metrics.clone(),
        Duration::from_millis(config.max_hint_window_ms),
        Duration::from_millis(config.write_request_timeout_ms),
    ));
    let processor = Arc::new(QueryProcessor::new(engine.clone(), schema.clone(), node, coordinator));
    // `tess drain` stops the node as a signal does.
    let (drain_tx, mut drain_rx) = tokio::sync::watch::channel(false);
    let admin_ip: IpAddr = config
        .admin_address
        .parse()
        .map_err(|e| anyhow::anyhow!("admin_address '{}' is not an IP address: {e}", config.admin_address))?;
    let admin = crate::admin::serve(
        SocketAddr::new(admin_ip, config.admin_port),
        Arc::new(crate::admin::AdminState {
            cluster_name: config.cluster_name.clone(),
            cluster: cluster.clone(),
            schema: schema.clone(),
            engine: engine.clone(),
            metrics: metrics.clone(),
            hints: hints.clone(),
            started: std::time::Instant::now(),
            drained: std::sync::atomic::AtomicBool::new(false),
            stop: drain_tx,
            repairs: Arc::default(),
        }),
    )
    .await?;
    cluster.messaging.set_handler(Arc::new(crate::replica::Replica {
        engine: engine.clone(),
        processor: processor.clone(),
    }));
    let schema_sync = tokio::spawn(processor.clone().reconcile_schemas());
    let topology_events = tokio::spawn(processor.clone().announce_topology());
    let addr = std::net::SocketAddr::new(rpc_address, config.native_transport_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for CQL clients on {addr}: {e}"))?;
    tracing::info!(%addr, "listening for CQL clients");
    // Load, as gossip shows it to the others.
    let load_task = {
        let (engine, cluster) = (engine.clone(), cluster.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let e = engine.clone();
                if let Ok(load) = tokio::task::spawn_blocking(move || load_bytes(&e)).await {
                    cluster.gossip.set("load", load).await;
                }
            }
        })
    };
    let repair_janitor = tokio::spawn(crate::repair::local::janitor(engine.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let transport = tokio::spawn(crate::transport::serve(listener, processor, stop_rx));
    tokio::select! {
        _ = stop.wait() => {}
        _ = drain_rx.wait_for(|d| *d) => tracing::info!("drained through the admin API"),
    }
    cluster.gossip.set("status", "SHUTDOWN").await;
    load_task.abort();
    repair_janitor.abort();
    hint_delivery.abort();
    schema_sync.abort();
    topology_events.abort();
    admin.abort();
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
