//! Operations on this node's tables: flush, compact, garbagecollect, cleanup, and drain. Each
//! names its tables as `?keyspace=KS&tables=T1,T2` (no keyspace: every non-system table) and
//! runs on the blocking pool.

use super::{AdminState, ApiError};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use storage::TableId;

#[derive(Debug, Deserialize)]
pub struct TablesQuery {
    keyspace: Option<String>,
    /// Comma-separated table names.
    tables: Option<String>,
}

/// The tables a request names, with their keyspace.
pub fn selected(
    state: &AdminState,
    keyspace: Option<&str>,
    tables: Option<&str>,
) -> Result<Vec<(String, String, TableId)>, ApiError> {
    let schema = state.schema.snapshot();
    let names: Vec<&str> =
        tables.map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect()).unwrap_or_default();
    let mut out = Vec::new();
    match keyspace {
        None => {
            if !names.is_empty() {
                return Err(ApiError(StatusCode::BAD_REQUEST, "tables need a keyspace".into()));
            }
            for t in schema.tables() {
                out.push((t.keyspace.clone(), t.name.clone(), t.id));
            }
        }
        Some(ks) => {
            let k = schema
                .keyspaces
                .get(ks)
                .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("keyspace '{ks}' does not exist")))?;
            if names.is_empty() {
                out.extend(k.tables.values().map(|t| (t.keyspace.clone(), t.name.clone(), t.id)));
            }
            for n in names {
                let t = k.tables.get(n).ok_or_else(|| {
                    ApiError(StatusCode::NOT_FOUND, format!("table '{ks}.{n}' does not exist"))
                })?;
                out.push((t.keyspace.clone(), t.name.clone(), t.id));
            }
        }
    }
    Ok(out)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("task failed: {e}")))?
}

pub async fn flush(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<TablesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tables = selected(&s, q.keyspace.as_deref(), q.tables.as_deref())?;
    let engine = s.engine.clone();
    let n = tables.len();
    blocking(move || {
        for (_, _, id) in tables {
            engine.flush(id)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(serde_json::json!({ "tables": n })))
}

pub async fn compact(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<TablesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    compact_each(&s, &q, |engine, id| Ok(engine.compact(id)?.len())).await
}

/// Rewrites each SSTable alone, dropping what is deleted or shadowed (nodetool garbagecollect).
pub async fn garbage_collect(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<TablesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    compact_each(&s, &q, |engine, id| Ok(engine.garbage_collect(id)?.len())).await
}

/// Flushes each selected table, then runs `f` (a kind of compaction) on it.
async fn compact_each(
    s: &AdminState,
    q: &TablesQuery,
    f: fn(&storage::Engine, storage::TableId) -> Result<usize, storage::Error>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tables = selected(s, q.keyspace.as_deref(), q.tables.as_deref())?;
    let engine = s.engine.clone();
    let n = tables.len();
    let compactions = blocking(move || {
        let mut c = 0usize;
        for (_, _, id) in tables {
            engine.flush(id)?;
            c += f(&engine, id)?;
        }
        Ok(c)
    })
    .await?;
    Ok(Json(serde_json::json!({ "tables": n, "compactions": compactions })))
}

/// Drops the partitions this node no longer replicates (after the ring changed).
pub async fn cleanup(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<TablesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tables = selected(&s, q.keyspace.as_deref(), q.tables.as_deref())?;
    let schema = s.schema.snapshot();
    let topology = s.cluster.topology();
    let me = topology.local.host_id;
    let mut work = Vec::new();
    for (ks, _, id) in tables {
        let Some(k) = schema.keyspaces.get(&ks) else { continue };
        // The ranges this node replicates, split where they wrap.
        let mut owned = Vec::new();
        for (start, end) in topology.ring.ranges() {
            if topology.replicas(&k.replication, end).iter().any(|e| e.host_id == me) {
                owned.extend(crate::repair::split_wrapping(start, end));
            }
        }
        work.push((id, owned));
    }
    let engine = s.engine.clone();
    let n = work.len();
    let dropped = blocking(move || {
        let mut dropped = 0u64;
        for (id, owned) in work {
            engine.flush(id)?;
            dropped += engine.cleanup(id, &owned)?.partitions_dropped;
        }
        Ok(dropped)
    })
    .await?;
    Ok(Json(serde_json::json!({ "tables": n, "partitions_dropped": dropped })))
}

/// Flushes every memtable, then stops the node (as SIGTERM does).
pub async fn drain(State(s): State<Arc<AdminState>>) -> Result<Json<serde_json::Value>, ApiError> {
    s.drained.store(true, Ordering::Relaxed);
    let engine = s.engine.clone();
    blocking(move || engine.flush_all().map_err(ApiError::from)).await?;
    let _ = s.stop.send(true);
    Ok(Json(serde_json::json!({})))
}
