//! Replicas that missed writes catch up: through hints when they return, and through read
//! repair when hints are off.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestCluster;
use std::time::{Duration, Instant};

const SIMPLE3: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}";
const TABLE: &str = "CREATE TABLE ks.t (k int PRIMARY KEY, v text)";

#[test]
fn hints_are_delivered_after_a_node_returns() {
    let mut c = TestCluster::start(15, &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")], "");
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, TABLE]);
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["write", "0", "ONE", "ks.t", "0", "200"]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    // Read through node 2 at ONE: it answers from its own storage (the nearest replica).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = c.python("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "200"]);
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "hints never reached node 2: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn read_repair_heals_a_stale_replica() {
    let mut c = TestCluster::start(
        16,
        &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")],
        "hinted_handoff_enabled: false\n",
    );
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, TABLE]);
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["write", "0", "QUORUM", "ks.t", "0", "50"]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    // Node 2 missed the writes (no hints)...
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "0"]);
    // ...until reads at ALL find its digests differ and repair it.
    c.run("cluster_e2e.py", &["read", "0", "ALL", "ks.t", "0", "50"]);
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "50"]);
}
