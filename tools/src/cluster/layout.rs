//! What a local cluster looks like, decided before anything starts: which node goes to which
//! dc and rack, its loopback address, its tokens, its `node.yaml`, and `cluster.json`, the
//! description the other `tess cluster` subcommands read back. Pure: no files, no processes.
//!
//! Node i (1-based) listens on 127.0.0.i with the default ports, goes to dc ((i-1) % dcs) + 1,
//! and takes the racks of its dc in turn. The seeds are the first node of each dc.

use super::tokens::{self, MAX_NUM_TOKENS};
use anyhow::{bail, ensure};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The cluster name every node gets.
pub const CLUSTER_NAME: &str = "Tessera Cluster";
/// Internode port (the node's default).
pub const STORAGE_PORT: u16 = 7000;
/// CQL port (the node's default).
pub const NATIVE_TRANSPORT_PORT: u16 = 9042;
/// Admin HTTP port (the node's default).
pub const ADMIN_PORT: u16 = 10000;
/// Nodes that fit on 127.0.0.1 ..= 127.0.0.254.
pub const MAX_NODES: u32 = 254;

/// What `tess cluster up` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSpec {
    pub nodes: u32,
    pub dcs: u32,
    pub racks: u32,
    pub num_tokens: u32,
}

/// One node's place in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// 1-based.
    pub index: u32,
    pub address: Ipv4Addr,
    pub dc: String,
    pub rack: String,
    /// Ascending.
    pub tokens: Vec<i64>,
}

impl NodePlan {
    /// The node's directory under the cluster directory.
    pub fn dir(&self, cluster_dir: &Path) -> PathBuf {
        cluster_dir.join(format!("node{}", self.index))
    }
}

/// Checks the spec; the errors name the option to change.
pub fn validate(spec: &ClusterSpec) -> anyhow::Result<()> {
    ensure!(
        (1..=MAX_NODES).contains(&spec.nodes),
        "--nodes must be between 1 and {MAX_NODES} (127.0.0.1 ..= 127.0.0.{MAX_NODES})"
    );
    ensure!(spec.dcs >= 1, "--dcs must be at least 1");
    ensure!(
        spec.dcs <= spec.nodes,
        "--dcs {} needs at least {} nodes, one per dc (got --nodes {})",
        spec.dcs,
        spec.dcs,
        spec.nodes
    );
    ensure!(spec.racks >= 1, "--racks must be at least 1");
    ensure!(
        (1..=MAX_NUM_TOKENS).contains(&spec.num_tokens),
        "--num-tokens must be between 1 and {MAX_NUM_TOKENS}"
    );
    Ok(())
}

/// Every node's place, in index order.
pub fn plan(spec: &ClusterSpec) -> anyhow::Result<Vec<NodePlan>> {
    validate(spec)?;
    let ClusterSpec { nodes, dcs, racks, num_tokens } = *spec;
    Ok((1..=nodes)
        .map(|index| {
            let d = (index - 1) % dcs; // 0-based dc
            let j = (index - 1) / dcs; // 0-based position within the dc
            let in_dc = nodes / dcs + u32::from(d < nodes % dcs);
            NodePlan {
                index,
                address: Ipv4Addr::new(127, 0, 0, index as u8),
                dc: format!("dc{}", d + 1),
                rack: format!("rack{}", j % racks + 1),
                tokens: tokens::node_tokens(num_tokens, in_dc, j, d, dcs),
            }
        })
        .collect())
}

/// The seeds: the first node of each dc.
pub fn seeds(plan: &[NodePlan]) -> Vec<Ipv4Addr> {
    let mut seen = Vec::new();
    plan.iter()
        .filter(|n| {
            let first = !seen.contains(&n.dc);
            seen.push(n.dc.clone());
            first
        })
        .map(|n| n.address)
        .collect()
}

/// A YAML double-quoted scalar (a JSON string is one).
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The node's `node.yaml`; `data_directory` should be absolute so the file works from anywhere.
pub fn node_yaml(node: &NodePlan, seeds: &[Ipv4Addr], num_tokens: u32, data_directory: &Path) -> String {
    let addr = node.address.to_string();
    let seeds = seeds.iter().map(|s| quoted(&s.to_string())).collect::<Vec<_>>().join(", ");
    format!(
        "# Written by `tess cluster up`: node {index} of a local cluster.\n\
         cluster_name: {cluster}\n\
         data_directory: {data}\n\
         listen_address: {a}\n\
         storage_port: {STORAGE_PORT}\n\
         native_transport_address: {a}\n\
         native_transport_port: {NATIVE_TRANSPORT_PORT}\n\
         admin_address: {a}\n\
         admin_port: {ADMIN_PORT}\n\
         seeds: [{seeds}]\n\
         dc: {dc}\n\
         rack: {rack}\n\
         num_tokens: {num_tokens}\n\
         initial_token: {tokens}\n",
        index = node.index,
        cluster = quoted(CLUSTER_NAME),
        data = quoted(&data_directory.to_string_lossy()),
        a = quoted(&addr),
        dc = quoted(&node.dc),
        rack = quoted(&node.rack),
        tokens = quoted(&tokens::initial_token(&node.tokens)),
    )
}

/// `cluster.json`: the cluster `tess cluster` manages in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterFile {
    pub cluster_name: String,
    pub num_tokens: u32,
    /// The `tessera` binary the nodes run.
    pub bin: PathBuf,
    pub nodes: Vec<NodeEntry>,
}

/// One node in `cluster.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub index: u32,
    pub address: String,
    pub dc: String,
    pub rack: String,
    /// Holds `node.yaml`, `node.log`, `pid` and `data/`.
    pub dir: PathBuf,
    pub storage_port: u16,
    pub native_transport_port: u16,
    pub admin_port: u16,
}

impl NodeEntry {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("node.yaml")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("node.log")
    }
    pub fn pid_path(&self) -> PathBuf {
        self.dir.join("pid")
    }
    /// `node<i>`.
    pub fn name(&self) -> String {
        format!("node{}", self.index)
    }
}

impl ClusterFile {
    /// The description of `plan` laid out under `dir`.
    pub fn new(plan: &[NodePlan], num_tokens: u32, dir: &Path, bin: &Path) -> ClusterFile {
        ClusterFile {
            cluster_name: CLUSTER_NAME.to_string(),
            num_tokens,
            bin: bin.to_path_buf(),
            nodes: plan
                .iter()
                .map(|n| NodeEntry {
                    index: n.index,
                    address: n.address.to_string(),
                    dc: n.dc.clone(),
                    rack: n.rack.clone(),
                    dir: n.dir(dir),
                    storage_port: STORAGE_PORT,
                    native_transport_port: NATIVE_TRANSPORT_PORT,
                    admin_port: ADMIN_PORT,
                })
                .collect(),
        }
    }

    /// Whether `other` lays out the same nodes (the binary may differ).
    pub fn same_nodes(&self, other: &ClusterFile) -> bool {
        self.cluster_name == other.cluster_name
            && self.num_tokens == other.num_tokens
            && self.nodes == other.nodes
    }

    /// Node `index`, or an error listing the ones there are.
    pub fn node(&self, index: u32) -> anyhow::Result<&NodeEntry> {
        match self.nodes.iter().find(|n| n.index == index) {
            Some(n) => Ok(n),
            None => bail!("no node {index} in this cluster: it has nodes 1 to {}", self.nodes.len()),
        }
    }

    /// `3 nodes in 2 dcs (dc1: 2, dc2: 1)`.
    pub fn summary(&self) -> String {
        let mut dcs: Vec<(String, usize)> = Vec::new();
        for n in &self.nodes {
            match dcs.iter_mut().find(|(dc, _)| *dc == n.dc) {
                Some((_, count)) => *count += 1,
                None => dcs.push((n.dc.clone(), 1)),
            }
        }
        let per_dc = dcs.iter().map(|(dc, c)| format!("{dc}: {c}")).collect::<Vec<_>>().join(", ");
        let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
        format!("{} in {} ({per_dc})", plural(self.nodes.len(), "node"), plural(dcs.len(), "dc"))
    }
}

/// Reads `node` or `node<i>` as a node index (a value parser for the command line).
pub fn parse_node_index(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("node").unwrap_or(s);
    match digits.parse::<u32>() {
        Ok(i) if i >= 1 => Ok(i),
        _ => Err(format!("'{s}' is not a node: give its index (1, 2, ...) or name (node1, node2, ...)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(nodes: u32, dcs: u32, racks: u32) -> ClusterSpec {
        ClusterSpec { nodes, dcs, racks, num_tokens: 16 }
    }

    fn places(plan: &[NodePlan]) -> Vec<(u32, String, String, String)> {
        plan.iter().map(|n| (n.index, n.address.to_string(), n.dc.clone(), n.rack.clone())).collect()
    }

    #[test]
    fn nodes_go_round_robin_to_dcs_then_to_racks_within_their_dc() {
        let p = plan(&spec(5, 2, 2)).unwrap();
        let s = |i: u32, dc: &str, rack: &str| (i, format!("127.0.0.{i}"), dc.to_string(), rack.to_string());
        assert_eq!(
            places(&p),
            vec![
                s(1, "dc1", "rack1"),
                s(2, "dc2", "rack1"),
                s(3, "dc1", "rack2"),
                s(4, "dc2", "rack2"),
                s(5, "dc1", "rack1"),
            ]
        );
        assert_eq!(seeds(&p), vec![Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)]);
        let one = plan(&spec(3, 1, 1)).unwrap();
        assert!(one.iter().all(|n| n.dc == "dc1" && n.rack == "rack1"));
        assert_eq!(seeds(&one), vec![Ipv4Addr::new(127, 0, 0, 1)]);
    }

    #[test]
    fn each_node_gets_its_dc_share_of_the_tokens() {
        let p = plan(&spec(5, 2, 1)).unwrap();
        // dc1 holds nodes 1, 3, 5 (j = 0, 1, 2 of 3); dc2 holds 2, 4 (j = 0, 1 of 2).
        assert_eq!(p[0].tokens, tokens::node_tokens(16, 3, 0, 0, 2));
        assert_eq!(p[4].tokens, tokens::node_tokens(16, 3, 2, 0, 2));
        assert_eq!(p[3].tokens, tokens::node_tokens(16, 2, 1, 1, 2));
        assert!(p.iter().all(|n| n.tokens.len() == 16));
    }

    #[test]
    fn bad_specs_name_the_option() {
        for (s, needle) in [
            (spec(0, 1, 1), "--nodes"),
            (spec(255, 1, 1), "--nodes"),
            (spec(2, 3, 1), "--dcs 3 needs at least 3 nodes"),
            (spec(2, 0, 1), "--dcs"),
            (spec(2, 1, 0), "--racks"),
            (ClusterSpec { num_tokens: 0, ..spec(1, 1, 1) }, "--num-tokens"),
            (ClusterSpec { num_tokens: 1537, ..spec(1, 1, 1) }, "--num-tokens"),
        ] {
            let e = plan(&s).unwrap_err().to_string();
            assert!(e.contains(needle), "{s:?}: {e}");
        }
        assert!(plan(&spec(254, 254, 3)).is_ok());
    }

    #[test]
    fn node_yaml_sets_every_key_the_node_needs() {
        let p = plan(&spec(3, 2, 1)).unwrap();
        let yaml = node_yaml(&p[2], &seeds(&p), 16, Path::new("/tmp/my cluster/node3/data"));
        let v: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(v["cluster_name"], "Tessera Cluster");
        assert_eq!(v["data_directory"], "/tmp/my cluster/node3/data");
        for key in ["listen_address", "native_transport_address", "admin_address"] {
            assert_eq!(v[key], "127.0.0.3", "{key}");
        }
        assert_eq!(v["storage_port"], 7000);
        assert_eq!(v["native_transport_port"], 9042);
        assert_eq!(v["admin_port"], 10000);
        assert_eq!(v["seeds"], serde_json::json!(["127.0.0.1", "127.0.0.2"]));
        assert_eq!(v["dc"], "dc1");
        assert_eq!(v["rack"], "rack1");
        assert_eq!(v["num_tokens"], 16);
        let tokens: Vec<i64> =
            v["initial_token"].as_str().unwrap().split(',').map(|t| t.parse().unwrap()).collect();
        assert_eq!(tokens, p[2].tokens);
        // One token stays a string, not a YAML integer.
        let single = plan(&ClusterSpec { num_tokens: 1, ..spec(1, 1, 1) }).unwrap();
        let v: serde_json::Value =
            serde_norway::from_str(&node_yaml(&single[0], &seeds(&single), 1, Path::new("/d"))).unwrap();
        assert_eq!(v["initial_token"], "0");
    }

    #[test]
    fn cluster_file_round_trips_and_finds_nodes() {
        let p = plan(&spec(3, 2, 1)).unwrap();
        let f = ClusterFile::new(&p, 16, Path::new("/c"), Path::new("/bin/tessera"));
        let back: ClusterFile = serde_json::from_str(&serde_json::to_string_pretty(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        let n2 = f.node(2).unwrap();
        assert_eq!(
            (n2.address.as_str(), n2.dc.as_str(), n2.dir.as_path()),
            ("127.0.0.2", "dc2", Path::new("/c/node2"))
        );
        assert_eq!(n2.config_path(), Path::new("/c/node2/node.yaml"));
        assert!(f.node(4).unwrap_err().to_string().contains("nodes 1 to 3"));
        assert_eq!(f.summary(), "3 nodes in 2 dcs (dc1: 2, dc2: 1)");
        let other = ClusterFile::new(&plan(&spec(3, 1, 1)).unwrap(), 16, Path::new("/c"), Path::new("/x"));
        assert!(!f.same_nodes(&other));
        assert!(f.same_nodes(&ClusterFile { bin: PathBuf::from("/y"), ..f.clone() }));
    }

    #[test]
    fn node_arguments_are_indexes_or_names() {
        assert_eq!(parse_node_index("2"), Ok(2));
        assert_eq!(parse_node_index("node12"), Ok(12));
        for bad in ["0", "node", "n1", "-1", "two"] {
            assert!(parse_node_index(bad).is_err(), "{bad}");
        }
    }
}
