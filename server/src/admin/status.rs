//! The cluster as this node sees it: `/v1/status`, `/v1/info`, `/v1/ring`,
//! `/v1/describering/KS`, `/v1/endpoints/KS/TABLE?key=K`.

use super::{AdminState, ApiError, KeyspaceQuery};
use crate::cluster::Topology;
use crate::locator::ring::width;
use crate::schema::Replication;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

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

/// The replication of keyspace `ks`, or Not Found.
fn replication_of(state: &AdminState, ks: &str) -> Result<Replication, ApiError> {
    if crate::schema::SYSTEM_KEYSPACES.contains(&ks) {
        return Ok(Replication::Local);
    }
    state
        .schema
        .snapshot()
        .keyspaces
        .get(ks)
        .map(|k| k.replication.clone())
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("keyspace '{ks}' does not exist")))
}

fn status_of(t: &Topology, host: Uuid) -> String {
    match t.member(host).map(|m| m.status.as_str()) {
        Some("SHUTDOWN") => "SHUTDOWN".into(),
        _ if host == t.local.host_id || t.member(host).is_some() => "NORMAL".into(),
        _ => "UNKNOWN".into(),
    }
}

/// The status of every node as this node sees it.
pub fn status(state: &AdminState, keyspace: Option<&str>) -> Result<Status, ApiError> {
    let t = state.cluster.topology();
    let replication = keyspace.map(|ks| replication_of(state, ks)).transpose()?;
    let owns = ownership(&t, replication.as_ref());
    let mut nodes = Vec::new();
    for e in t.ring.endpoints() {
        let member = t.member(e.host_id);
        nodes.push(NodeStatus {
            host_id: e.host_id,
            address: e.address.to_string(),
            dc: e.dc.clone(),
            rack: e.rack.clone(),
            up: t.is_up(e.host_id),
            status: status_of(&t, e.host_id),
            load_bytes: member.map_or(0, |m| m.load),
            tokens: t.ring.tokens_of(e.host_id).len() as u32,
            ownership: owns.get(&e.host_id).copied().unwrap_or(0.0),
        });
    }
    nodes.sort_by(|a, b| (&a.dc, &a.address).cmp(&(&b.dc, &b.address)));
    Ok(Status { cluster_name: state.cluster_name.clone(), keyspace: keyspace.map(str::to_string), nodes })
}

pub async fn get_status(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<KeyspaceQuery>,
) -> Result<Json<Status>, ApiError> {
    status(&s, q.keyspace.as_deref()).map(Json)
}

/// `/v1/info`: this node.
pub async fn get_info(State(s): State<Arc<AdminState>>) -> Json<serde_json::Value> {
    let t = s.cluster.topology();
    let me = t.local.clone();
    let member = t.member(me.host_id);
    // This node's load as of now; gossip carries it to the others every ten seconds.
    let engine = s.engine.clone();
    let load = match tokio::task::spawn_blocking(move || crate::node::load_bytes(&engine)).await {
        Ok(load) => load,
        Err(_) => member.map_or(0, |m| m.load),
    };
    let percent_repaired = s.percent_repaired().await;
    Json(serde_json::json!({
        "host_id": me.host_id,
        "address": me.address.to_string(),
        "dc": me.dc,
        "rack": me.rack,
        "gossip_active": true,
        "native_transport_active": !s.drained.load(std::sync::atomic::Ordering::Relaxed),
        "load_bytes": load,
        "generation": member.map_or(0, |m| m.generation / 1_000_000),
        "uptime_seconds": s.started.elapsed().as_secs(),
        "tokens": t.ring.tokens_of(me.host_id).len(),
        "percent_repaired": percent_repaired,
        "release_version": crate::system::RELEASE_VERSION,
        "tessera_version": env!("CARGO_PKG_VERSION"),
        "hints_pending": s.hints.pending().iter().map(|(_, n, _)| n).sum::<u64>(),
    }))
}

/// `/v1/ring`: one entry per token.
pub async fn get_ring(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<KeyspaceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let t = s.cluster.topology();
    let replication = q.keyspace.as_deref().map(|ks| replication_of(&s, ks)).transpose()?;
    let owns = ownership(&t, replication.as_ref());
    let mut nodes = Vec::new();
    for token in t.ring.tokens() {
        let Some(e) = t.ring.walk(token).next() else { continue };
        nodes.push(serde_json::json!({
            "token": token.to_string(),
            "address": e.address.to_string(),
            "dc": e.dc,
            "rack": e.rack,
            "up": t.is_up(e.host_id),
            "status": status_of(&t, e.host_id),
            "load_bytes": t.member(e.host_id).map_or(0, |m| m.load),
            "ownership": owns.get(&e.host_id),
        }));
    }
    Ok(Json(serde_json::json!({ "nodes": nodes })))
}

/// `/v1/describering/KS`: every range with its replicas.
pub async fn get_describering(
    State(s): State<Arc<AdminState>>,
    Path(ks): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let replication = replication_of(&s, &ks)?;
    if replication == Replication::Local {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("keyspace '{ks}' is local to each node: it has no ring"),
        ));
    }
    let t = s.cluster.topology();
    let ranges: Vec<serde_json::Value> = t
        .ring
        .ranges()
        .into_iter()
        .map(|(start, end)| {
            let replicas = t.replicas(&replication, end);
            let rpc = |e: &crate::locator::Endpoint| {
                t.member(e.host_id).and_then(|m| m.rpc).map_or(e.address.to_string(), |a| a.ip().to_string())
            };
            serde_json::json!({
                "start_token": start.to_string(),
                "end_token": end.to_string(),
                "endpoints": replicas.iter().map(|e| e.address.to_string()).collect::<Vec<_>>(),
                "rpc_endpoints": replicas.iter().map(|e| rpc(e)).collect::<Vec<_>>(),
                "endpoint_details": replicas.iter().map(|e| serde_json::json!({
                    "host": e.address.to_string(), "datacenter": e.dc, "rack": e.rack,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "ranges": ranges })))
}

#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    key: String,
}

/// `/v1/endpoints/KS/TABLE?key=K`: the replicas of a partition key given as text
/// (`a:b` for a composite key, as nodetool takes it).
pub async fn get_endpoints(
    State(s): State<Arc<AdminState>>,
    Path((ks, table)): Path<(String, String)>,
    Query(q): Query<KeyQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let replication = replication_of(&s, &ks)?;
    let schema = s.schema.snapshot();
    let t = schema
        .table(&ks, &table)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("table '{ks}.{table}' does not exist")))?;
    let cols: Vec<&crate::schema::Column> = t.partition_key().collect();
    let parts: Vec<&str> = if cols.len() == 1 { vec![q.key.as_str()] } else { q.key.split(':').collect() };
    if parts.len() != cols.len() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("the partition key of {ks}.{table} has {} components; give them as a:b", cols.len()),
        ));
    }
    let mut values = Vec::new();
    for (c, text) in cols.iter().zip(parts) {
        values.push(bytes::Bytes::from(key_component(&c.ty, text).map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("'{text}' is not a valid {} for column {}: {e}", c.ty, c.name),
            )
        })?));
    }
    let key = crate::query::partition_key_bytes(&values)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let topology = s.cluster.topology();
    let endpoints: Vec<String> = topology
        .replicas(&replication, storage::token_of(&key))
        .iter()
        .map(|e| e.address.to_string())
        .collect();
    Ok(Json(serde_json::json!({ "endpoints": endpoints })))
}

/// A key component written as text, in the column's serialized form.
fn key_component(ty: &cql::CqlType, text: &str) -> Result<Vec<u8>, String> {
    use cql::CqlType as T;
    use cql::ast::{Literal, Term};
    let lit = match ty.unfrozen() {
        T::Ascii | T::Text | T::Inet | T::Timestamp | T::Date | T::Time | T::Duration => {
            Literal::String(text.into())
        }
        T::Tinyint | T::Smallint | T::Int | T::Bigint | T::Varint | T::Counter => {
            Literal::Integer(text.into())
        }
        T::Float | T::Double | T::Decimal => Literal::Float(text.into()),
        T::Boolean => Literal::Boolean(text.eq_ignore_ascii_case("true")),
        T::Uuid | T::Timeuuid => Literal::Uuid(text.into()),
        T::Blob => {
            let hex = text.strip_prefix("0x").unwrap_or(text);
            let bytes: Result<Vec<u8>, _> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
                .collect();
            Literal::Blob(bytes.map_err(|_| "not hexadecimal".to_string())?)
        }
        other => return Err(format!("{other} keys cannot be given as text")),
    };
    let v = cql::value::from_term(&Term::Literal(lit), ty).map_err(|e| e.to_string())?.ok_or("null")?;
    v.to_bytes(ty).map_err(|e| e.to_string())
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
