//! The admin HTTP API on `admin_address:admin_port` (JSON), used by `tess`.
//!
//! | method and path | answer |
//! |---|---|
//! | `GET /v1/status[?keyspace=KS]` | every node: address, dc, rack, up, status, load, tokens, ownership (effective for `KS`) |
//!
//! Errors are `{"error": "..."}` with a 4xx or 5xx status.

use crate::cluster::{Cluster, Topology};
use crate::locator::ring::width;
use crate::schema::{Replication, SchemaStore};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use uuid::Uuid;

/// What the handlers read.
pub struct AdminState {
    pub cluster_name: String,
    pub cluster: Arc<Cluster>,
    pub schema: Arc<SchemaStore>,
}

/// One node in `/v1/status`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct NodeStatus {
    pub host_id: Uuid,
    pub address: String,
    pub dc: String,
    pub rack: String,
    pub up: bool,
    pub status: String,
    pub load_bytes: u64,
    pub tokens: u32,
    /// Share of the data (0..1): of the keyspace's replicas when one is named, else of the
    /// token ring.
    pub ownership: f64,
}

/// `/v1/status`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub cluster_name: String,
    pub keyspace: Option<String>,
    pub nodes: Vec<NodeStatus>,
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    keyspace: Option<String>,
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

const RING: f64 = 18_446_744_073_709_551_616.0;

/// Each node's share: of the token ring (`None`), or of the replicas of a keyspace.
pub fn ownership(t: &Topology, replication: Option<&Replication>) -> BTreeMap<Uuid, f64> {
    let mut out: BTreeMap<Uuid, f64> = BTreeMap::new();
    for (start, end) in t.ring.ranges() {
        let w = width(start, end) as f64 / RING;
        match replication {
            None => {
                if let Some(owner) = t.ring.walk(end).next() {
                    *out.entry(owner.host_id).or_default() += w;
                }
            }
            Some(r) => {
                for e in t.replicas(r, end) {
                    *out.entry(e.host_id).or_default() += w;
                }
            }
        }
    }
    out
}

/// The status of every node as this node sees it.
pub fn status(state: &AdminState, keyspace: Option<&str>) -> Result<Status, String> {
    let t = state.cluster.topology();
    let replication = match keyspace {
        None => None,
        Some(ks) => Some(
            state
                .schema
                .snapshot()
                .keyspaces
                .get(ks)
                .map(|k| k.replication.clone())
                .ok_or_else(|| format!("keyspace '{ks}' does not exist"))?,
        ),
    };
    let owns = ownership(&t, replication.as_ref());
    let mut nodes = Vec::new();
    for e in t.ring.endpoints() {
        let member = t.member(e.host_id);
        let local = e.host_id == t.local.host_id;
        nodes.push(NodeStatus {
            host_id: e.host_id,
            address: e.address.to_string(),
            dc: e.dc.clone(),
            rack: e.rack.clone(),
            up: t.is_up(e.host_id),
            status: match member.map(|m| m.status.as_str()) {
                Some("SHUTDOWN") => "SHUTDOWN".into(),
                _ if local || member.is_some() => "NORMAL".into(),
                _ => "UNKNOWN".into(),
            },
            load_bytes: member.map_or(0, |m| m.load),
            tokens: t.ring.tokens_of(e.host_id).len() as u32,
            ownership: owns.get(&e.host_id).copied().unwrap_or(0.0),
        });
    }
    nodes.sort_by(|a, b| (&a.dc, &a.address).cmp(&(&b.dc, &b.address)));
    Ok(Status { cluster_name: state.cluster_name.clone(), keyspace: keyspace.map(str::to_string), nodes })
}

async fn get_status(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<Status>, ApiError> {
    status(&s, q.keyspace.as_deref()).map(Json).map_err(|e| ApiError(StatusCode::NOT_FOUND, e))
}

/// Serves the API on `addr` until the task is dropped.
pub async fn serve(addr: SocketAddr, state: Arc<AdminState>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let app = Router::new().route("/v1/status", get(get_status)).with_state(state);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locator::ring::tests::ep;
    use crate::locator::{Endpoint, Ring};

    fn topology(nodes: Vec<(Endpoint, Vec<i64>)>) -> Topology {
        let local = nodes[0].0.clone();
        let mut t = Topology::alone(local, nodes[0].1.clone());
        t.ring = Ring::new(nodes);
        t
    }

    #[test]
    fn raw_and_effective_ownership() {
        let t = topology(vec![
            (ep(1, "dc1", "r"), vec![0, i64::MIN / 2]),
            (ep(2, "dc1", "r"), vec![i64::MAX / 2]),
            (ep(3, "dc1", "r"), vec![i64::MAX]),
        ]);
        let raw = ownership(&t, None);
        assert!((raw.values().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((raw[&ep(1, "dc1", "r").host_id] - 0.5).abs() < 1e-3, "{raw:?}");
        let eff = ownership(&t, Some(&Replication::Simple { replication_factor: 3 }));
        for v in eff.values() {
            assert!((v - 1.0).abs() < 1e-9, "{eff:?}");
        }
        let two = ownership(&t, Some(&Replication::Simple { replication_factor: 2 }));
        assert!((two.values().sum::<f64>() - 2.0).abs() < 1e-9, "{two:?}");
    }
}
