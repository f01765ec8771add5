//! `tess cluster`: the node.yaml files it writes are valid node configurations, and a real
//! three-node, two-dc cluster goes up, reports its nodes, survives a kill and a restart of one
//! node, stops one node, and comes down leaving nothing behind.
//!
//! The lifecycle test runs real `tessera` processes on 127.0.0.1-3 with the default ports, as
//! `tess cluster up` always does; a guard kills whatever is left if it fails.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tools::cluster::layout::{self, ClusterSpec};

#[test]
fn every_generated_node_yaml_is_a_valid_node_config() {
    for (nodes, dcs, racks, num_tokens) in [(1, 1, 1, 1), (3, 1, 1, 16), (5, 2, 2, 16), (7, 3, 2, 256)] {
        let spec = ClusterSpec { nodes, dcs, racks, num_tokens };
        let plan = layout::plan(&spec).unwrap();
        let seeds = layout::seeds(&plan);
        for node in &plan {
            let data = Path::new("/tmp/cluster").join(format!("node{}", node.index)).join("data");
            let yaml = layout::node_yaml(node, &seeds, num_tokens, &data);
            let c = server::config::Config::from_yaml(&yaml)
                .unwrap_or_else(|e| panic!("node {} of {spec:?}: {e}\n{yaml}", node.index));
            let addr = node.address.to_string();
            assert_eq!(c.listen_address, addr);
            assert_eq!(c.native_transport_address, addr);
            assert_eq!(c.admin_address, addr);
            assert_eq!((c.storage_port, c.native_transport_port, c.admin_port), (7000, 9042, 10000));
            assert_eq!(c.data_directory, data);
            assert_eq!((c.dc.as_str(), c.rack.as_str()), (node.dc.as_str(), node.rack.as_str()));
            assert_eq!(c.seeds, seeds.iter().map(ToString::to_string).collect::<Vec<_>>());
            assert_eq!(c.num_tokens, num_tokens);
            assert_eq!(c.initial_tokens().unwrap(), Some(node.tokens.clone()));
            assert_eq!(c.cluster_name, "Tessera Cluster");
        }
    }
}

/// Kills every node of the cluster in `dir` (by its pid file) when dropped.
struct Guard(PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        for i in 1..=3 {
            if let Ok(pid) = std::fs::read_to_string(self.0.join(format!("node{i}/pid"))) {
                let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
            }
        }
    }
}

fn tess(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tess")).arg("cluster").args(args).arg("--dir").arg(dir).output().unwrap()
}

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `State` column of `tess cluster status`, per node.
fn states(dir: &Path) -> Vec<String> {
    let text = ok(tess(dir, &["status"]), "status");
    text.lines().skip(2).map(|l| l.split_whitespace().last().unwrap().to_string()).collect()
}

#[test]
fn a_local_cluster_goes_up_survives_a_kill_and_comes_down() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let _guard = Guard(dir.clone());
    let tessera = env!("CARGO_BIN_EXE_tessera");

    let up = ok(
        tess(
            &dir,
            &["up", "--nodes", "3", "--dcs", "2", "--bin", tessera, "--set", "hinted_handoff_enabled=false"],
        ),
        "up",
    );
    let yaml = std::fs::read_to_string(dir.join("node1/node.yaml")).unwrap();
    assert!(yaml.ends_with("hinted_handoff_enabled: false\n"), "{yaml}");
    assert!(up.contains("3 nodes in 2 dcs (dc1: 2, dc2: 1) up in"), "{up}");
    let (_, file) = tools::cluster::load(&dir).unwrap();
    let n2 = file.node(2).unwrap();
    assert_eq!((n2.address.as_str(), n2.dc.as_str(), n2.rack.as_str()), ("127.0.0.2", "dc2", "rack1"));
    assert_eq!(states(&dir), ["running", "running", "running"]);

    // A second `up` over a running cluster is refused.
    let again = tess(&dir, &["up", "--nodes", "3", "--bin", tessera]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already running"), "{again:?}");

    ok(tess(&dir, &["kill", "2"]), "kill 2");
    assert_eq!(states(&dir), ["running", "stopped", "running"]);
    let started = ok(tess(&dir, &["start", "node2"]), "start node2");
    assert!(started.contains("node2 is up (127.0.0.2:9042)"), "{started}");
    assert_eq!(states(&dir), ["running", "running", "running"]);
    let log = std::fs::read_to_string(dir.join("node2/node.log")).unwrap();
    assert!(log.contains("--- started again by tess cluster ---"), "{log}");

    ok(tess(&dir, &["stop", "3"]), "stop 3");
    assert_eq!(states(&dir), ["running", "running", "stopped"]);

    let down = ok(tess(&dir, &["down"]), "down");
    assert!(down.contains("removed"), "{down}");
    assert!(!dir.exists());
}
