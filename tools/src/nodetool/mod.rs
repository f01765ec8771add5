//! nodetool-style commands (`tess [--host ADDR] [--port ADMIN_PORT] status [KEYSPACE]`, and
//! later ring, flush, repair, ...): each fetches JSON from one node's admin HTTP API through
//! `admin::AdminClient` and renders it as nodetool does. Rendering is pure (`status::render`),
//! so it is tested on sample JSON without a node.

pub mod admin;
pub mod status;

pub use admin::{AdminClient, AdminError};

/// `tess status [KEYSPACE]`: the cluster as `host:port`'s node sees it, rendered.
pub fn status(client: &AdminClient, keyspace: Option<&str>) -> Result<String, AdminError> {
    let query: Vec<(&str, &str)> = keyspace.map(|k| ("keyspace", k)).into_iter().collect();
    let report: status::StatusReport = client.get("/v1/status", &query)?;
    Ok(status::render(&report))
}
