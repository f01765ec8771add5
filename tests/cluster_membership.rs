//! Several real nodes on 127.0.x.y: the Python driver discovers every node, datacenter and
//! rack; `tess status` shows them; a schema change made while a node is down reaches it when
//! it returns.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestCluster;
use std::process::Command;

#[test]
fn the_driver_and_tess_status_see_every_node_and_datacenter() {
    let c =
        TestCluster::start(11, &[("dc1", "rack1"), ("dc1", "rack2"), ("dc2", "rack1"), ("dc2", "rack2")], "");
    c.run("cluster_e2e.py", &["discover", "4", "2"]);
    let s = c.status(3);
    let nodes = s["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4, "{s}");
    assert!(nodes.iter().all(|n| n["up"] == true && n["tokens"] == 16), "{s}");
    let owns: f64 = nodes.iter().map(|n| n["ownership"].as_f64().unwrap()).sum();
    assert!((owns - 1.0).abs() < 1e-6, "ring ownership adds up to {owns}");

    let n = &c.nodes[0];
    let out = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["--host", &n.host, "--port", &n.admin_port.to_string(), "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Datacenter: dc1") && text.contains("Datacenter: dc2"), "{text}");
    assert_eq!(text.matches("UN ").count(), 4, "{text}");
    for node in &c.nodes {
        assert!(text.contains(&node.host), "{text}");
    }
}

#[test]
fn a_schema_change_made_during_an_outage_reaches_the_node_when_it_returns() {
    let mut c = TestCluster::start(17, &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")], "");
    c.run(
        "cluster_e2e.py",
        &[
            "ddl",
            "0",
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        ],
    );
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["ddl", "1", "CREATE TABLE ks.late (k int PRIMARY KEY, v text)"]);
    c.run("cluster_e2e.py", &["write", "0", "QUORUM", "ks.late", "0", "20"]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    c.run("cluster_e2e.py", &["has_table", "2", "ks", "late"]);
    // And it takes writes and serves reads of the table like the others.
    c.run("cluster_e2e.py", &["write", "2", "ALL", "ks.late", "20", "40"]);
    c.run("cluster_e2e.py", &["read", "2", "QUORUM", "ks.late", "0", "40"]);
}
