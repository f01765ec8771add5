//! What a node counts, exposed in Prometheus' text format at the admin API's `/metrics`
//! (with the `prometheus-client` crate), and the per-table read and write figures
//! `tablestats` shows.
//!
//! | metric | labels |
//! |---|---|
//! | `tessera_requests` (counter), `tessera_request_latency_seconds` (histogram) | `kind` (read, write), `consistency`, `table` |
//! | `tessera_request_errors` (counter) | `kind`, `consistency`, `error` (unavailable, write_timeout, read_timeout, invalid, other) |
//! | `tessera_read_repairs`, `tessera_hints_stored`, `tessera_hints_replayed` (counters) | |
//! | `tessera_hints_pending`, `tessera_sstables`, `tessera_pending_compactions` (gauges, read at scrape) | `table` for the last two |
//! | `tessera_repair_sessions` (counter), `tessera_repair_bytes_streamed` (counter) | `state` (completed, failed) for sessions |

use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

type Labels = Vec<(String, String)>;

/// Read or write counts and total latency of one table, for `tablestats`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TableLatency {
    pub reads: u64,
    pub read_nanos: u64,
    pub writes: u64,
    pub write_nanos: u64,
}

/// The node's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
    errors: Family<Labels, Counter>,
    pub read_repairs: Counter,
    pub hints_stored: Counter,
    pub hints_replayed: Counter,
    pub hints_pending: Gauge,
    pub sstables: Family<Labels, Gauge>,
    pub pending_compactions: Family<Labels, Gauge>,
    pub repair_sessions: Family<Labels, Counter>,
    pub repair_bytes_streamed: Counter,
    tables: Mutex<HashMap<String, TableLatency>>,
    /// Messages this node sent and received (internode), for `netstats`.
    pub messages_sent: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_05, 2.0, 20))
        });
        let errors = Family::<Labels, Counter>::default();
        let read_repairs = Counter::default();
        let hints_stored = Counter::default();
        let hints_replayed = Counter::default();
        let hints_pending = Gauge::default();
        let sstables = Family::<Labels, Gauge>::default();
        let pending_compactions = Family::<Labels, Gauge>::default();
        let repair_sessions = Family::<Labels, Counter>::default();
        let repair_bytes_streamed = Counter::default();
        registry.register(
            "requests",
            "Client requests by kind, consistency level and table",
            requests.clone(),
        );
        registry.register(
            "request_latency_seconds",
            "Client request latency by kind, consistency level and table",
            latency.clone(),
        );
        registry.register(
            "request_errors",
            "Failed client requests by kind, consistency level and error",
            errors.clone(),
        );
        registry.register("read_repairs", "Reads that repaired a stale replica", read_repairs.clone());
        registry.register(
            "hints_stored",
            "Hints stored for replicas that missed a write",
            hints_stored.clone(),
        );
        registry.register("hints_replayed", "Hints delivered to their replica", hints_replayed.clone());
        registry.register("hints_pending", "Hints waiting for their replica", hints_pending.clone());
        registry.register("sstables", "SSTables per table", sstables.clone());
        registry.register(
            "pending_compactions",
            "Compactions waiting per table",
            pending_compactions.clone(),
        );
        registry.register("repair_sessions", "Repair sessions by outcome", repair_sessions.clone());
        registry.register(
            "repair_bytes_streamed",
            "Bytes sent to replicas by repair",
            repair_bytes_streamed.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            read_repairs,
            hints_stored,
            hints_replayed,
            hints_pending,
            sstables,
            pending_compactions,
            repair_sessions,
            repair_bytes_streamed,
            tables: Mutex::new(HashMap::new()),
            messages_sent: AtomicU64::new(0),
        }
    }

    /// Records a client request on `table` (`keyspace.table`) at `consistency` that took `took`.
    pub fn request(&self, write: bool, consistency: &str, table: &str, took: Duration) {
        let kind = if write { "write" } else { "read" };
        let labels: Labels = vec![
            ("kind".into(), kind.into()),
            ("consistency".into(), consistency.into()),
            ("table".into(), table.into()),
        ];
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(took.as_secs_f64());
        let mut t = self.tables.lock();
        let e = t.entry(table.to_string()).or_default();
        let nanos = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        if write {
            e.writes += 1;
            e.write_nanos = e.write_nanos.saturating_add(nanos);
        } else {
            e.reads += 1;
            e.read_nanos = e.read_nanos.saturating_add(nanos);
        }
    }

    /// Records a failed client request at `consistency`.
    pub fn error(&self, write: bool, consistency: &str, error: &str) {
        let kind = if write { "write" } else { "read" };
        let labels: Labels = vec![
            ("kind".into(), kind.into()),
            ("consistency".into(), consistency.into()),
            ("error".into(), error.into()),
        ];
        self.errors.get_or_create(&labels).inc();
    }

    /// The read and write figures of `table` (`keyspace.table`).
    pub fn table(&self, table: &str) -> TableLatency {
        self.tables.lock().get(table).copied().unwrap_or_default()
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_show_up_in_the_text_format_and_per_table() {
        let m = Metrics::new();
        m.request(true, "QUORUM", "ks.t", Duration::from_millis(3));
        m.request(false, "ONE", "ks.t", Duration::from_millis(1));
        m.error(false, "LOCAL_QUORUM", "unavailable");
        m.read_repairs.inc();
        let text = m.encode();
        assert!(
            text.contains(r#"tessera_requests_total{kind="write",consistency="QUORUM",table="ks.t"} 1"#),
            "{text}"
        );
        assert!(text.contains("tessera_request_latency_seconds_bucket"), "{text}");
        assert!(
            text.contains(r#"tessera_request_errors_total{kind="read",consistency="LOCAL_QUORUM",error="unavailable"} 1"#),
            "{text}"
        );
        assert!(text.contains("tessera_read_repairs_total 1"), "{text}");
        let t = m.table("ks.t");
        assert_eq!((t.reads, t.writes), (1, 1));
        assert_eq!(t.write_nanos, 3_000_000);
    }
}
