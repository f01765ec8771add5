//! `POST /v1/repair` (a JSON [`RepairOptions`]) starts a session coordinated by this node and
//! answers its id; `GET /v1/repair/ID` its [`Progress`](super::Progress).

use super::RepairOptions;
use super::session::Session;
use crate::admin::{AdminState, ApiError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;

pub async fn start(
    State(s): State<Arc<AdminState>>,
    Json(options): Json<RepairOptions>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    if options.dc.is_some() && options.local {
        return Err(bad("--dc and --local cannot be given together".into()));
    }
    if options.primary_range && (options.start_token.is_some() || options.end_token.is_some()) {
        return Err(bad("primary range repair cannot be combined with a subrange".into()));
    }
    for t in [&options.start_token, &options.end_token].into_iter().flatten() {
        t.parse::<i64>().map_err(|_| bad(format!("'{t}' is not a token")))?;
    }
    if let Some(ks) = &options.keyspace
        && !s.schema.snapshot().keyspaces.contains_key(ks)
    {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("keyspace '{ks}' does not exist")));
    }
    if !options.full && !options.preview && (options.dc.is_some() || options.local) {
        return Err(bad("incremental repair marks data repaired, so it needs every replica: \
                        use --full with --dc or --local"
            .into()));
    }
    if let Some(dc) = &options.dc
        && !s.cluster.topology().ring.topology().contains_key(dc.as_str())
    {
        return Err(bad(format!("datacenter '{dc}' has no nodes")));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let progress = s.repairs.register(&id);
    let session = Session {
        id: id.clone(),
        options,
        cluster: s.cluster.clone(),
        engine: s.engine.clone(),
        schema: s.schema.clone(),
        metrics: s.metrics.clone(),
        progress,
    };
    tokio::spawn(session.run());
    Ok(Json(serde_json::json!({ "id": id })))
}

pub async fn progress(
    State(s): State<Arc<AdminState>>,
    Path(id): Path<String>,
) -> Result<Json<super::Progress>, ApiError> {
    s.repairs
        .progress(&id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no repair session {id} on this node")))
}
