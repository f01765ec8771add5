//! Membership and failure detection, built on the `chitchat` crate (Scuttlebutt gossip over UDP
//! with a phi-accrual failure detector), on `listen_address:storage_port` — the same port
//! number as internode TCP, as the two protocols do not share a socket.
//!
//! Each node publishes its state as key/values:
//!
//! | key | value |
//! |---|---|
//! | `dc`, `rack` | from the configuration |
//! | `tokens` | comma-separated decimal tokens (absent while the node chooses them) |
//! | `status` | `NORMAL`, or `SHUTDOWN` while a node drains |
//! | `schema` | the schema version (a UUID) |
//! | `load` | bytes of SSTables on disk |
//! | `rpc` | `native_transport_address:native_transport_port` |
//! | `release` | the release version reported to clients |
//!
//! The chitchat node id is the host id; a restart is a new generation of the same node.
//! [`Gossip::watch`] publishes a [`Membership`] snapshot whenever what a node publishes or its
//! liveness changes.

use chitchat::transport::UdpTransport;
use chitchat::{ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use storage::Token;
use tokio::sync::watch;
use uuid::Uuid;

/// What one node publishes, and whether it is alive.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub host_id: Uuid,
    pub generation: u64,
    /// Gossip and internode address.
    pub gossip_addr: SocketAddr,
    pub dc: String,
    pub rack: String,
    /// Empty until the node has chosen them.
    pub tokens: Vec<Token>,
    pub status: String,
    pub schema_version: Option<Uuid>,
    pub load: u64,
    /// CQL address and port.
    pub rpc: Option<SocketAddr>,
    pub release_version: String,
    pub alive: bool,
}

impl Member {
    /// A member in the ring: it has tokens and is not leaving.
    pub fn is_normal(&self) -> bool {
        !self.tokens.is_empty() && self.status != "LEFT"
    }

    /// Alive and serving.
    pub fn is_up(&self) -> bool {
        self.alive && self.status != "SHUTDOWN"
    }
}

/// Every node gossip knows, by host id (self included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Membership {
    pub members: BTreeMap<Uuid, Member>,
}

/// How to gossip.
#[derive(Debug, Clone)]
pub struct GossipConfig {
    pub cluster_name: String,
    pub host_id: Uuid,
    /// Bound and advertised: `listen_address:storage_port`.
    pub listen: SocketAddr,
    /// Seeds' gossip addresses.
    pub seeds: Vec<SocketAddr>,
    pub interval: Duration,
    /// phi above which a node is down (Cassandra's `phi_convict_threshold`).
    pub phi_convict_threshold: f64,
}

/// A running gossiper.
pub struct Gossip {
    handle: ChitchatHandle,
    membership: watch::Receiver<Arc<Membership>>,
    poller: tokio::task::JoinHandle<()>,
}

impl Drop for Gossip {
    fn drop(&mut self) {
        self.poller.abort();
        self.handle.abort();
    }
}

fn parse_member(id: &ChitchatId, state: &NodeState, alive: bool) -> Option<Member> {
    let host_id = Uuid::parse_str(&id.node_id).ok()?;
    let tokens = match state.get("tokens") {
        Some(t) if !t.is_empty() => t.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        _ => Vec::new(),
    };
    Some(Member {
        host_id,
        generation: id.generation_id,
        gossip_addr: id.gossip_advertise_addr,
        dc: state.get("dc").unwrap_or("").to_string(),
        rack: state.get("rack").unwrap_or("").to_string(),
        tokens,
        status: state.get("status").unwrap_or("").to_string(),
        schema_version: state.get("schema").and_then(|s| Uuid::parse_str(s).ok()),
        load: state.get("load").and_then(|l| l.parse().ok()).unwrap_or(0),
        rpc: state.get("rpc").and_then(|r| r.parse().ok()),
        release_version: state.get("release").unwrap_or("").to_string(),
        alive,
    })
}

/// The membership chitchat knows now.
fn build(c: &chitchat::Chitchat) -> Membership {
    let live: std::collections::HashSet<&ChitchatId> = c.live_nodes().collect();
    let mut members: BTreeMap<Uuid, Member> = BTreeMap::new();
    for (id, state) in c.node_states() {
        let Some(m) = parse_member(id, state, live.contains(id)) else { continue };
        // A restart is a newer generation of the same node.
        match members.get(&m.host_id) {
            Some(old) if old.generation > m.generation => {}
            _ => {
                members.insert(m.host_id, m);
            }
        }
    }
    Membership { members }
}

impl Gossip {
    /// Starts gossiping with `initial` key/values (see the module docs).
    pub async fn start(config: GossipConfig, initial: Vec<(String, String)>) -> anyhow::Result<Gossip> {
        let generation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let chitchat_id = ChitchatId::new(config.host_id.to_string(), generation, config.listen);
        let failure_detector_config = FailureDetectorConfig {
            phi_threshold: config.phi_convict_threshold,
            initial_interval: config.interval * 2,
            dead_node_grace_period: Duration::from_secs(3 * 24 * 3600),
            ..FailureDetectorConfig::default()
        };
        let cc = ChitchatConfig {
            chitchat_id,
            cluster_id: config.cluster_name.clone(),
            gossip_interval: config.interval,
            listen_addr: config.listen,
            seed_nodes: config.seeds.iter().filter(|s| **s != config.listen).map(|s| s.to_string()).collect(),
            failure_detector_config,
            marked_for_deletion_grace_period: Duration::from_secs(3600),
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: chitchat::ProtocolVersion::V1,
        };
        let handle = chitchat::spawn_chitchat(cc, initial, &UdpTransport)
            .await
            .map_err(|e| anyhow::anyhow!("cannot start gossip on {} (UDP): {e:#}", config.listen))?;
        let first = handle.with_chitchat(|c| build(c)).await;
        let (tx, rx) = watch::channel(Arc::new(first));
        let chitchat = handle.chitchat();
        let poll_every = config.interval.min(Duration::from_millis(500));
        let poller = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(poll_every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let next = build(&*chitchat.lock().await);
                if **tx.borrow() != next {
                    let _ = tx.send(Arc::new(next));
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(Gossip { handle, membership: rx, poller })
    }

    /// The membership as it changes.
    pub fn watch(&self) -> watch::Receiver<Arc<Membership>> {
        self.membership.clone()
    }

    /// The membership now.
    pub fn membership(&self) -> Arc<Membership> {
        self.membership.borrow().clone()
    }

    /// Publishes `key = value` for this node.
    pub async fn set(&self, key: &str, value: impl ToString) {
        let value = value.to_string();
        self.handle.with_chitchat(|c| c.self_node_state().set(key, &value)).await;
    }
}

/// The gossip address of a seed given as `host` or `host:port` (the storage port by default).
pub fn seed_addr(seed: &str, storage_port: u16) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = seed.parse::<SocketAddr>() {
        return Ok(a);
    }
    let ip: IpAddr = seed.parse().map_err(|e| anyhow::anyhow!("seed '{seed}' is not an IP address: {e}"))?;
    Ok(SocketAddr::new(ip, storage_port))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn node(n: u8, seeds: &[SocketAddr], port: u16) -> Gossip {
        let listen = SocketAddr::new(IpAddr::from([127, 0, 0, n]), port);
        Gossip::start(
            GossipConfig {
                cluster_name: "Test Cluster".into(),
                host_id: Uuid::from_bytes([n; 16]),
                listen,
                seeds: seeds.to_vec(),
                interval: Duration::from_millis(100),
                phi_convict_threshold: 8.0,
            },
            vec![("dc".into(), format!("dc{n}")), ("tokens".into(), format!("{n},-{n}"))],
        )
        .await
        .unwrap()
    }

    async fn until(g: &Gossip, what: &str, f: impl Fn(&Membership) -> bool) {
        let mut w = g.watch();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if f(&w.borrow()) {
                return;
            }
            match tokio::time::timeout_at(deadline, w.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!("never saw {what}: {:#?}", w.borrow()),
            }
        }
    }

    fn free_udp_port() -> u16 {
        std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_find_each_other_through_a_seed_and_see_one_go_down() {
        let port = free_udp_port();
        let seed = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
        let a = node(1, &[seed], port).await;
        let b = node(2, &[seed], port).await;
        let c = node(3, &[seed], port).await;
        until(&a, "three live members", |m| m.members.values().filter(|x| x.alive).count() == 3).await;
        let m = c.membership();
        let b_id = Uuid::from_bytes([2; 16]);
        assert_eq!(m.members[&b_id].dc, "dc2");
        assert_eq!(m.members[&b_id].tokens, [2, -2]);
        assert_eq!(m.members[&b_id].gossip_addr, SocketAddr::new(IpAddr::from([127, 0, 0, 2]), port));
        // A published change reaches the others.
        b.set("schema", Uuid::from_bytes([7; 16])).await;
        until(&a, "b's schema version", |m| {
            m.members[&b_id].schema_version == Some(Uuid::from_bytes([7; 16]))
        })
        .await;
        // b stops: the others mark it down.
        drop(b);
        until(&c, "b down", |m| m.members.get(&b_id).is_some_and(|x| !x.alive)).await;
        assert!(a.membership().members[&Uuid::from_bytes([1; 16])].alive, "a node is always alive to itself");
    }

    #[test]
    fn seeds_default_to_the_storage_port() {
        assert_eq!(seed_addr("127.0.0.2", 7000).unwrap(), "127.0.0.2:7000".parse().unwrap());
        assert_eq!(seed_addr("127.0.0.2:7001", 7000).unwrap(), "127.0.0.2:7001".parse().unwrap());
        assert!(seed_addr("not-an-ip", 7000).is_err());
    }
}
