//! `/v1/tablestats` (per table: SSTables, space, partitions, tombstones, percent repaired,
//! reads and writes) and `/v1/netstats` (hints, read repairs, repair sessions, messages).

use super::operations::selected;
use super::{AdminState, ApiError};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct TableStatsQuery {
    keyspace: Option<String>,
    table: Option<String>,
}

fn mean_ms(total_nanos: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| total_nanos as f64 / count as f64 / 1e6)
}

pub async fn tablestats(
    State(s): State<Arc<AdminState>>,
    Query(q): Query<TableStatsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tables = selected(&s, q.keyspace.as_deref(), q.table.as_deref())?;
    let engine = s.engine.clone();
    let stats = tokio::task::spawn_blocking(move || {
        tables
            .into_iter()
            .map(|(ks, name, id)| engine.table_stats(id).map(|st| (ks, name, st)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("task failed: {e}")))??;
    let mut by_ks: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut totals: BTreeMap<String, crate::metrics::TableLatency> = BTreeMap::new();
    for (ks, name, st) in stats {
        let lat = s.metrics.table(&format!("{ks}.{name}"));
        let t = totals.entry(ks.clone()).or_default();
        t.reads += lat.reads;
        t.read_nanos += lat.read_nanos;
        t.writes += lat.writes;
        t.write_nanos += lat.write_nanos;
        by_ks.entry(ks).or_default().push(serde_json::json!({
            "name": name,
            "sstable_count": st.sstable_count,
            "space_used_live": st.space_used_live,
            "space_used_total": st.space_used_total,
            "partitions": st.partitions,
            "memtable_bytes": st.memtable_bytes,
            "memtable_partitions": st.memtable_partitions,
            "tombstones": st.tombstones,
            "droppable_tombstones": st.droppable_tombstones,
            "percent_repaired": st.percent_repaired,
            "repaired_bytes": st.repaired_bytes,
            "pending_repair_bytes": st.pending_repair_bytes,
            "compactions_pending": st.compactions_pending,
            "read_count": lat.reads,
            "write_count": lat.writes,
            "read_latency_ms": mean_ms(lat.read_nanos, lat.reads),
            "write_latency_ms": mean_ms(lat.write_nanos, lat.writes),
        }));
    }
    let keyspaces: Vec<serde_json::Value> = by_ks
        .into_iter()
        .map(|(ks, tables)| {
            let t = totals.get(&ks).copied().unwrap_or_default();
            serde_json::json!({
                "name": ks,
                "read_count": t.reads,
                "write_count": t.writes,
                "read_latency_ms": mean_ms(t.read_nanos, t.reads),
                "write_latency_ms": mean_ms(t.write_nanos, t.writes),
                "tables": tables,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "keyspaces": keyspaces })))
}

pub async fn netstats(State(s): State<Arc<AdminState>>) -> Json<serde_json::Value> {
    let m = &s.metrics;
    let pending: u64 = s.hints.pending().iter().map(|(_, n, _)| n).sum();
    let sessions = s.repairs.counts();
    Json(serde_json::json!({
        "mode": if s.drained.load(std::sync::atomic::Ordering::Relaxed) { "DRAINED" } else { "NORMAL" },
        "hints": { "pending": pending, "stored": m.hints_stored.get(), "replayed": m.hints_replayed.get() },
        "read_repairs": m.read_repairs.get(),
        "repair_sessions": { "running": sessions.0, "completed": sessions.1, "failed": sessions.2 },
        "bytes_streamed": m.repair_bytes_streamed.get(),
        "messages": { "sent": m.messages_sent.load(std::sync::atomic::Ordering::Relaxed), "received": null, "dropped": null },
    }))
}
