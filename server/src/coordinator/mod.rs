//! The coordinator (Cassandra's StorageProxy): a statement's mutations and reads sent to the
//! replicas that own them, at the consistency level the client asked for.
//!
//! Writes ([`write`]): every live replica gets the mutation at once (this node's share is
//! applied directly); the client is answered when the level's replicas have acknowledged
//! (WriteTimeout with the counts otherwise). Replicas that are down, or do not answer in
//! time, get a hint, replayed when they come back ([`crate::hints`]).
//!
//! Reads ([`read`]): see there.

pub mod consistency;
mod read;
mod write;

pub use write::WriteGroup;

use crate::cluster::Cluster;
use crate::hints::Hints;
use std::sync::Arc;
use std::time::Duration;

/// How long the coordinator waits, and whether it keeps hints.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub hinted_handoff_enabled: bool,
    /// A node down for longer than this gets no new hints.
    pub max_hint_window: Duration,
}

/// Sends a node's requests to the replicas.
pub struct Coordinator {
    pub engine: Arc<storage::Engine>,
    pub cluster: Arc<Cluster>,
    pub hints: Arc<Hints>,
    pub config: CoordinatorConfig,
    pub stats: Arc<Stats>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Coordinator {
    /// True while this node is the whole ring: everything is read and written in place.
    pub fn alone(&self) -> bool {
        self.cluster.topology().ring.endpoints().len() <= 1
    }

    /// Empties `table` on every other node of the ring; every node must be up (as Cassandra
    /// requires), and each must confirm.
    pub async fn truncate_others(&self, table: storage::TableId) -> crate::error::QueryResult<()> {
        use crate::error::QueryError;
        let topology = self.cluster.topology();
        let others: Vec<&crate::locator::Endpoint> =
            topology.ring.endpoints().iter().filter(|e| e.host_id != topology.local.host_id).collect();
        let down = others.iter().filter(|e| !topology.is_up(e.host_id)).count();
        if down > 0 {
            let all = topology.ring.endpoints().len() as i32;
            return Err(QueryError::Unavailable {
                consistency: cql::Consistency::All,
                required: all,
                alive: all - down as i32,
            });
        }
        let asks = others.into_iter().filter_map(|e| topology.address(e.host_id)).map(|addr| {
            let messaging = self.cluster.messaging.clone();
            let payload = bytes::Bytes::copy_from_slice(&table.0);
            async move { messaging.request(addr, crate::net::Verb::Truncate, payload, TRUNCATE_TIMEOUT).await }
        });
        for r in futures::future::join_all(asks).await {
            r.map_err(|e| QueryError::Truncate(format!("Error during truncate: {e}")))?;
        }
        Ok(())
    }
}

/// How long a TRUNCATE waits for every node (Cassandra's `truncate_request_timeout`).
const TRUNCATE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the coordinator counts, and the read latencies speculative retry is based on.
#[derive(Debug, Default)]
pub struct Stats {
    pub read_repairs: std::sync::atomic::AtomicU64,
    latencies: parking_lot::Mutex<std::collections::HashMap<storage::TableId, Latencies>>,
}

/// Recent read latencies of one table.
#[derive(Debug, Default)]
struct Latencies {
    samples: std::collections::VecDeque<Duration>,
    p99: Option<Duration>,
    since: u32,
}

const LATENCY_SAMPLES: usize = 512;

impl Stats {
    /// Records a read of `table` that took `d`.
    pub fn record_read(&self, table: storage::TableId, d: Duration) {
        let mut all = self.latencies.lock();
        let l = all.entry(table).or_default();
        if l.samples.len() == LATENCY_SAMPLES {
            l.samples.pop_front();
        }
        l.samples.push_back(d);
        l.since += 1;
        if l.since >= 32 || l.p99.is_none() {
            l.since = 0;
            let mut v: Vec<Duration> = l.samples.iter().copied().collect();
            v.sort_unstable();
            l.p99 = v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1))).copied();
        }
    }

    /// The latency percentile `p` (0..100) of recent reads of `table` (the 99th is tracked;
    /// other percentiles are estimated from the samples).
    pub fn read_percentile(&self, table: storage::TableId, p: f64) -> Option<Duration> {
        let all = self.latencies.lock();
        let l = all.get(&table)?;
        if l.samples.len() < 16 {
            return None;
        }
        if (p - 99.0).abs() < f64::EPSILON {
            return l.p99;
        }
        let mut v: Vec<Duration> = l.samples.iter().copied().collect();
        v.sort_unstable();
        v.get(((v.len() as f64 * p / 100.0) as usize).min(v.len() - 1)).copied()
    }
}

/// When a read is backed up by another replica, from a table's `speculative_retry`:
/// `NONE`, `ALWAYS`, `Nms`, `Np` / `NPERCENTILE` of recent reads (too few reads yet: none).
pub fn speculative_delay(option: &str, stats: &Stats, table: storage::TableId) -> Option<Duration> {
    let o = option.trim().to_ascii_lowercase();
    if o == "none" {
        return None;
    }
    if o == "always" {
        return Some(Duration::ZERO);
    }
    if let Some(ms) = o.strip_suffix("ms") {
        return ms.trim().parse::<f64>().ok().map(|v| Duration::from_secs_f64(v.max(0.0) / 1000.0));
    }
    let p = o.strip_suffix("percentile").or_else(|| o.strip_suffix('p'))?;
    let p: f64 = p.trim().parse().ok()?;
    stats.read_percentile(table, p.clamp(0.0, 100.0))
}
