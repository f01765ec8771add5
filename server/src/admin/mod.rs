//! The admin HTTP API on `admin_address:admin_port` (JSON), used by `tess`, and Prometheus
//! metrics.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /v1/status[?keyspace=KS]` | every node: address, dc, rack, up, status, load, tokens, ownership (effective for `KS`) |
//! | `GET /v1/info` | this node: host id, uptime, load, generation, tokens, percent repaired, hints |
//! | `GET /v1/ring[?keyspace=KS]` | one entry per token with its node |
//! | `GET /v1/describering/KS` | every range with its replicas |
//! | `GET /v1/endpoints/KS/TABLE?key=K` | the replicas of a partition key |
//! | `POST /v1/flush`, `/v1/compact`, `/v1/garbagecollect`, `/v1/cleanup` `[?keyspace=KS[&tables=T1,T2]]` | what was done |
//! | `POST /v1/drain` | flushes everything and stops the node |
//! | `GET /v1/tablestats[?keyspace=KS[&table=T]]`, `GET /v1/netstats` | per-table and node statistics |
//! | `POST /v1/repair`, `GET /v1/repair/ID` | starts a repair session; its progress |
//! | `GET /metrics` | Prometheus text format |
//!
//! Errors are `{"error": "..."}` with a 4xx or 5xx status.

mod operations;
mod stats;
mod status;

pub use status::{NodeStatus, Status, ownership, status};

use crate::cluster::Cluster;
use crate::hints::Hints;
use crate::metrics::Metrics;
use crate::schema::SchemaStore;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// What the handlers use.
pub struct AdminState {
    pub cluster_name: String,
    pub cluster: Arc<Cluster>,
    pub schema: Arc<SchemaStore>,
    pub engine: Arc<storage::Engine>,
    pub metrics: Arc<Metrics>,
    pub hints: Arc<Hints>,
    pub started: Instant,
    /// True once `drain` has run.
    pub drained: AtomicBool,
    /// Asks the node to stop (after a drain).
    pub stop: tokio::sync::watch::Sender<bool>,
    pub repairs: Arc<crate::repair::Repairs>,
}

impl AdminState {
    /// Bytes of repaired SSTables over all SSTables of user tables, in percent (100 with no data).
    pub async fn percent_repaired(&self) -> f64 {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let (mut repaired, mut all) = (0u64, 0u64);
            for d in engine.tables() {
                for s in engine.sstables(d.id).unwrap_or_default() {
                    all += s.disk_size();
                    if s.is_repaired() {
                        repaired += s.disk_size();
                    }
                }
            }
            if all == 0 { 100.0 } else { repaired as f64 * 100.0 / all as f64 }
        })
        .await
        .unwrap_or(0.0)
    }
}

/// An error answer.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<storage::Error> for ApiError {
    fn from(e: storage::Error) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

/// `?keyspace=KS`.
#[derive(Debug, Deserialize)]
pub struct KeyspaceQuery {
    pub keyspace: Option<String>,
}

async fn get_metrics(axum::extract::State(s): axum::extract::State<Arc<AdminState>>) -> Response {
    let hints: u64 = s.hints.pending().iter().map(|(_, n, _)| n).sum();
    s.metrics.hints_pending.set(hints as i64);
    let engine = s.engine.clone();
    let metrics = s.metrics.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for d in engine.tables() {
            let labels = vec![("table".to_string(), format!("{}.{}", d.keyspace, d.name))];
            let n = engine.sstables(d.id).map(|v| v.len()).unwrap_or(0);
            metrics.sstables.get_or_create(&labels).set(n as i64);
            if let Ok(st) = engine.table_stats(d.id) {
                metrics.pending_compactions.get_or_create(&labels).set(st.compactions_pending as i64);
            }
        }
    })
    .await;
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        s.metrics.encode(),
    )
        .into_response()
}

/// Serves the API on `addr`.
pub async fn serve(addr: SocketAddr, state: Arc<AdminState>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let app = Router::new()
        .route("/v1/status", get(status::get_status))
        .route("/v1/info", get(status::get_info))
        .route("/v1/ring", get(status::get_ring))
        .route("/v1/describering/{ks}", get(status::get_describering))
        .route("/v1/endpoints/{ks}/{table}", get(status::get_endpoints))
        .route("/v1/flush", post(operations::flush))
        .route("/v1/compact", post(operations::compact))
        .route("/v1/garbagecollect", post(operations::garbage_collect))
        .route("/v1/cleanup", post(operations::cleanup))
        .route("/v1/drain", post(operations::drain))
        .route("/v1/tablestats", get(stats::tablestats))
        .route("/v1/netstats", get(stats::netstats))
        .route("/v1/repair", post(crate::repair::admin::start))
        .route("/v1/repair/{id}", get(crate::repair::admin::progress))
        .route("/metrics", get(get_metrics))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for the admin API on {addr} (admin_port): {e}"))?;
    tracing::info!(%addr, "admin API listening");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "admin API stopped");
        }
    }))
}
