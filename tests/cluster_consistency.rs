//! Consistency levels on real clusters, with the Python driver: what each level does with
//! 0, 1 and 2 nodes down in a two-datacenter cluster; QUORUM reads see QUORUM writes while
//! any one node is down; a paused (SIGSTOP) replica makes requests time out, not hang.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestCluster;

const NTS: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 2}";
const SIMPLE3: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}";
const TABLE: &str = "CREATE TABLE ks.t (k int PRIMARY KEY, v text)";

#[test]
fn each_level_with_zero_one_and_two_nodes_down_in_two_datacenters() {
    // Two nodes per datacenter and two replicas per datacenter: every node holds everything.
    let mut c =
        TestCluster::start(12, &[("dc1", "rack1"), ("dc1", "rack2"), ("dc2", "rack1"), ("dc2", "rack2")], "");
    c.run("cluster_e2e.py", &["ddl", "0", NTS, TABLE]);
    c.run(
        "cluster_e2e.py",
        &[
            "levels",
            "0",
            "ks.t",
            "ANY=ok/-",
            "ONE=ok/ok",
            "TWO=ok/ok",
            "THREE=ok/ok",
            "QUORUM=ok/ok",
            "ALL=ok/ok",
            "LOCAL_ONE=ok/ok",
            "LOCAL_QUORUM=ok/ok",
            "EACH_QUORUM=ok/ok",
            "SERIAL=-/ok",
        ],
    );
    // One node of dc2 down: 3 of 4 replicas alive.
    c.nodes[3].kill9();
    c.wait_state(0, 3, false);
    c.run(
        "cluster_e2e.py",
        &[
            "levels",
            "0",
            "ks.t",
            "ANY=ok/-",
            "ONE=ok/ok",
            "TWO=ok/ok",
            "THREE=ok/ok",
            "QUORUM=ok/ok",
            "ALL=unavailable/unavailable",
            "LOCAL_ONE=ok/ok",
            "LOCAL_QUORUM=ok/ok",
            "EACH_QUORUM=unavailable/unavailable",
        ],
    );
    // All of dc2 down: the coordinator's datacenter still meets its local levels.
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run(
        "cluster_e2e.py",
        &[
            "levels",
            "0",
            "ks.t",
            "ANY=ok/-",
            "ONE=ok/ok",
            "TWO=ok/ok",
            "THREE=unavailable/unavailable",
            "QUORUM=unavailable/unavailable",
            "ALL=unavailable/unavailable",
            "LOCAL_ONE=ok/ok",
            "LOCAL_QUORUM=ok/ok",
            "EACH_QUORUM=unavailable/unavailable",
        ],
    );
}

#[test]
fn quorum_reads_see_quorum_writes_while_any_one_node_is_down() {
    let mut c = TestCluster::start(13, &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")], "");
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, TABLE]);
    for down in 0..3 {
        let (writer, reader) = ((down + 1) % 3, (down + 2) % 3);
        c.nodes[down].kill9();
        c.wait_state(writer, down, false);
        c.wait_state(reader, down, false);
        let (lo, hi) = ((down * 100).to_string(), (down * 100 + 100).to_string());
        c.run("cluster_e2e.py", &["write", &writer.to_string(), "QUORUM", "ks.t", &lo, &hi]);
        c.run("cluster_e2e.py", &["read", &reader.to_string(), "QUORUM", "ks.t", &lo, &hi]);
        c.nodes[down].start_again();
        c.wait_all_up(writer);
        c.wait_all_up(reader);
    }
    c.run("cluster_e2e.py", &["count", "1", "QUORUM", "ks.t", "300"]);
    // A conditional insert sees what another coordinator wrote.
    c.run("cluster_e2e.py", &["lwt", "0", "ks.t", "1000", "true"]);
    c.run("cluster_e2e.py", &["lwt", "1", "ks.t", "1000", "false"]);
    c.run("cluster_e2e.py", &["lwt", "2", "ks.t", "1000", "false"]);
}

#[test]
fn a_paused_replica_makes_requests_time_out_not_hang() {
    // The failure detector never convicts here, so the paused node stays "up" and gets asked.
    let c = TestCluster::start(
        14,
        &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")],
        "phi_convict_threshold: 100000\nwrite_request_timeout_ms: 1000\nread_request_timeout_ms: 1000\n",
    );
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, TABLE]);
    c.nodes[2].signal("STOP");
    let out = c.python("cluster_e2e.py", &["expect_timeout", "0", "ALL", "ks.t"]);
    c.nodes[2].signal("CONT");
    common::assert_success(&out, "expect_timeout");
    // QUORUM did not need the paused node; once it is back, ALL works again.
    c.run("cluster_e2e.py", &["levels", "0", "ks.t", "QUORUM=ok/ok", "ALL=ok/ok"]);
}
