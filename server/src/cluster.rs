//! The node's view of the cluster: gossip's [`Membership`] turned into the token ring and
//! liveness ([`Topology`], an immutable snapshot replaced on every change), plus the
//! internode [`Messaging`] service. The coordinator, the system tables and the client events
//! read it; nothing here decides what to do with data.

use crate::gossip::{Gossip, Member, Membership};
use crate::locator::{Endpoint, Ring, replicas};
use crate::net::Messaging;
use crate::schema::Replication;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::Token;
use tokio::sync::watch;
use uuid::Uuid;

/// The cluster as this node sees it at one moment.
#[derive(Debug, Clone)]
pub struct Topology {
    /// This node.
    pub local: Endpoint,
    /// Every node with tokens (self included).
    pub ring: Ring,
    pub membership: Arc<Membership>,
    /// When each node that is down now was first seen down by this node.
    pub down_since: BTreeMap<Uuid, Instant>,
}

impl Topology {
    /// A topology of this node alone, before gossip has anything to say.
    pub fn alone(local: Endpoint, tokens: Vec<Token>) -> Topology {
        let ring = Ring::new([(local.clone(), tokens)]);
        Topology { local, ring, membership: Arc::new(Membership::default()), down_since: BTreeMap::new() }
    }

    /// Builds the topology from gossip. This node is always in the ring (with `tokens`) and
    /// alive to itself; another node is in the ring once it has published tokens.
    pub fn from_membership(local: &Endpoint, tokens: &[Token], membership: Arc<Membership>) -> Topology {
        let mut nodes: Vec<(Endpoint, Vec<Token>)> = vec![(local.clone(), tokens.to_vec())];
        for m in membership.members.values() {
            if m.host_id == local.host_id || !m.is_normal() {
                continue;
            }
            nodes.push((endpoint_of(m), m.tokens.clone()));
        }
        Topology { local: local.clone(), ring: Ring::new(nodes), membership, down_since: BTreeMap::new() }
    }

    /// How long `host` has been down (zero when up or unknown).
    pub fn down_for(&self, host: Uuid) -> Duration {
        self.down_since.get(&host).map_or(Duration::ZERO, Instant::elapsed)
    }

    /// The gossip state of `host`.
    pub fn member(&self, host: Uuid) -> Option<&Member> {
        self.membership.members.get(&host)
    }

    /// Whether `host` is up: this node always; another while gossip says it is alive and not
    /// shutting down.
    pub fn is_up(&self, host: Uuid) -> bool {
        host == self.local.host_id || self.member(host).is_some_and(Member::is_up)
    }

    /// The replicas of `token` for a keyspace replicated as `r`, in ring order (this node alone
    /// for the system keyspaces).
    pub fn replicas(&self, r: &Replication, token: Token) -> Vec<&Endpoint> {
        match r {
            Replication::Local => vec![&self.local],
            r => replicas(&self.ring, r, token),
        }
    }

    /// The internode address of `host`.
    pub fn address(&self, host: Uuid) -> Option<SocketAddr> {
        if host == self.local.host_id {
            return None;
        }
        self.member(host).map(|m| m.gossip_addr)
    }

    /// Other nodes gossip knows, with their state.
    pub fn peers(&self) -> impl Iterator<Item = &Member> {
        self.membership.members.values().filter(move |m| m.host_id != self.local.host_id)
    }
}

/// A ring endpoint for a gossip member.
pub fn endpoint_of(m: &Member) -> Endpoint {
    Endpoint { host_id: m.host_id, address: m.gossip_addr.ip(), dc: m.dc.clone(), rack: m.rack.clone() }
}

/// Gossip, messaging and the topology they make.
pub struct Cluster {
    pub local: Endpoint,
    pub messaging: Arc<Messaging>,
    pub gossip: Gossip,
    topology: watch::Receiver<Arc<Topology>>,
    updater: tokio::task::JoinHandle<()>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.updater.abort();
    }
}

impl Cluster {
    /// Follows `gossip` to keep the topology current; this node owns `tokens`.
    pub fn new(local: Endpoint, tokens: Vec<Token>, messaging: Arc<Messaging>, gossip: Gossip) -> Cluster {
        let mut members = gossip.watch();
        let first = Topology::from_membership(&local, &tokens, members.borrow().clone());
        let (tx, rx) = watch::channel(Arc::new(first));
        let me = local.clone();
        let updater = tokio::spawn(async move {
            let mut down_since: BTreeMap<Uuid, Instant> = BTreeMap::new();
            while members.changed().await.is_ok() {
                let m = members.borrow_and_update().clone();
                let mut next = Topology::from_membership(&me, &tokens, m);
                down_since.retain(|h, _| next.member(*h).is_some_and(|x| !x.is_up()));
                for x in next.peers() {
                    if !x.is_up() {
                        down_since.entry(x.host_id).or_insert_with(Instant::now);
                    }
                }
                next.down_since = down_since.clone();
                if tx.send(Arc::new(next)).is_err() {
                    return;
                }
            }
        });
        Cluster { local, messaging, gossip, topology: rx, updater }
    }

    /// The topology now.
    pub fn topology(&self) -> Arc<Topology> {
        self.topology.borrow().clone()
    }

    /// The topology as it changes.
    pub fn watch(&self) -> watch::Receiver<Arc<Topology>> {
        self.topology.clone()
    }
}
