//! nodetool-style commands (`tess [--host ADDR] [--port ADMIN_PORT] <command>`): each fetches
//! JSON from one node's admin HTTP API through `admin::AdminClient` and renders it as nodetool
//! does. Rendering is pure (`<command>::render*`), so it is tested on sample JSON without a
//! node; a field the node leaves out or sends as null prints as `n/a`.
//!
//! | command                               | module         | admin API |
//! |---------------------------------------|----------------|-----------|
//! | `status [KS]`                         | `status`       | `GET /v1/status` |
//! | `info`                                | `info`         | `GET /v1/info` |
//! | `ring [KS]`, `describering KS`, `getendpoints KS TABLE KEY` | `ring` | `GET /v1/ring`, `/v1/describering/KS`, `/v1/endpoints/KS/TABLE` |
//! | `tablestats [KS[.TABLE]]`             | `tablestats`   | `GET /v1/tablestats` |
//! | `netstats`                            | `netstats`     | `GET /v1/netstats` |
//! | `flush`, `compact`, `garbagecollect`, `cleanup`, `drain` | `operations` | `POST /v1/<command>` |
//! | `repair [options] [KS [TABLE...]]`    | `repair`       | `POST /v1/repair`, `GET /v1/repair/ID` |

pub mod admin;
pub mod format;
pub mod info;
pub mod netstats;
pub mod operations;
pub mod repair;
pub mod ring;
pub mod status;
pub mod tablestats;

use admin::path_segment;
pub use admin::{AdminClient, AdminError};
use operations::TableOperation;
use std::time::Duration;

/// How long a client waits for an operation the node runs before answering (a major
/// compaction, a cleanup, a drain).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3600);

/// `tess status [KEYSPACE]`: the cluster as `host:port`'s node sees it, rendered.
pub fn status(client: &AdminClient, keyspace: Option<&str>) -> Result<String, AdminError> {
    let query: Vec<(&str, &str)> = keyspace.map(|k| ("keyspace", k)).into_iter().collect();
    let report: status::StatusReport = client.get("/v1/status", &query)?;
    Ok(status::render(&report))
}

/// `tess info`: the node itself.
pub fn info(client: &AdminClient) -> Result<String, AdminError> {
    Ok(info::render(&client.get("/v1/info", &[])?))
}

/// `tess ring [KEYSPACE]`: every token, per datacenter.
pub fn ring(client: &AdminClient, keyspace: Option<&str>) -> Result<String, AdminError> {
    let query: Vec<(&str, &str)> = keyspace.map(|k| ("keyspace", k)).into_iter().collect();
    Ok(ring::render_ring(&client.get("/v1/ring", &query)?, keyspace))
}

/// `tess describering KEYSPACE`: each token range and its replicas.
pub fn describering(client: &AdminClient, keyspace: &str) -> Result<String, AdminError> {
    let path = format!("/v1/describering/{}", path_segment(keyspace));
    Ok(ring::render_describering(&client.get(&path, &[])?))
}

/// `tess getendpoints KEYSPACE TABLE KEY`: the replicas of the partition `key` (a composite key
/// as `a:b`, as nodetool takes it).
pub fn getendpoints(
    client: &AdminClient,
    keyspace: &str,
    table: &str,
    key: &str,
) -> Result<String, AdminError> {
    let path = format!("/v1/endpoints/{}/{}", path_segment(keyspace), path_segment(table));
    Ok(ring::render_endpoints(&client.get(&path, &[("key", key)])?))
}

/// `tess tablestats [KS[.TABLE]]`; `selection` is already parsed (`tablestats::parse_selection`).
pub fn tablestats(
    client: &AdminClient,
    selection: Option<&(String, Option<String>)>,
) -> Result<String, AdminError> {
    let query = tablestats::query(selection);
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok(tablestats::render(&client.get("/v1/tablestats", &query)?))
}

/// `tess netstats`: the node's network activity.
pub fn netstats(client: &AdminClient) -> Result<String, AdminError> {
    Ok(netstats::render(&client.get("/v1/netstats", &[])?))
}

/// `tess flush|compact|garbagecollect|cleanup [KS [TABLE...]]`: runs the operation and
/// summarises it. `client` should have a long timeout (`OPERATION_TIMEOUT`).
pub fn table_operation(
    client: &AdminClient,
    op: TableOperation,
    keyspace: Option<&str>,
    tables: &[String],
) -> Result<String, AdminError> {
    let query = operations::query(keyspace, tables);
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let report: operations::OperationReport = client.post(op.path(), &query, None)?;
    Ok(operations::render(op, &report, keyspace, tables))
}

/// `tess drain`: the node drains as before a restart (every memtable flushed, so nothing is
/// replayed).
pub fn drain(client: &AdminClient) -> Result<String, AdminError> {
    let _: serde_json::Value = client.post("/v1/drain", &[], None)?;
    Ok(operations::DRAINED.to_string())
}
