//! Deletes and replicas that were down, on real clusters (three nodes, RF 3, hints off):
//! repaired within gc_grace, a delete stays deleted; with gc_grace shorter than the outage,
//! compaction purges the tombstones and repair brings the deleted rows back — the documented
//! hazard — unless the table sets `only_purge_repaired_tombstones`.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestCluster;
use serde_json::json;
use std::time::Duration;

const SIMPLE3: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}";

/// Rows [0, 100) on every replica, deleted while node 2 was down; then node 2 returns with
/// its copies. `purge` flushes and compacts nodes 0 and 1 once gc_grace has passed.
fn deleted_while_down(block: u8, table_options: &str, purge: bool) -> TestCluster {
    let mut c = TestCluster::start(
        block,
        &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")],
        "hinted_handoff_enabled: false\n",
    );
    let table = format!("CREATE TABLE ks.t (k int PRIMARY KEY, v text) WITH {table_options}");
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, &table]);
    c.run("cluster_e2e.py", &["write", "0", "ALL", "ks.t", "0", "100"]);
    for n in &c.nodes {
        n.admin_post("/v1/flush?keyspace=ks", "");
    }
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["delete", "0", "QUORUM", "ks.t", "0", "100"]);
    if purge {
        // gc_grace_seconds is 1: wait it out, then compact the tombstones away.
        std::thread::sleep(Duration::from_millis(2100));
        for n in &c.nodes[..2] {
            n.admin_post("/v1/flush?keyspace=ks", "");
            n.admin_post("/v1/compact?keyspace=ks", "");
        }
    }
    c.nodes[2].start_again();
    c.wait_all_up(0);
    c
}

#[test]
fn a_delete_repaired_within_gc_grace_stays_deleted() {
    let c = deleted_while_down(31, "gc_grace_seconds = 864000", false);
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true }));
    assert_eq!(p["state"], "done", "{p}");
    c.run("cluster_e2e.py", &["absent", "2", "ONE", "ks.t", "0", "100"]);
    c.run("cluster_e2e.py", &["absent", "0", "ALL", "ks.t", "0", "100"]);
}

#[test]
fn purged_tombstones_let_repair_resurrect_deleted_rows() {
    // The hazard gc_grace guards against: the tombstones are gone, node 2 still has the rows.
    let c = deleted_while_down(32, "gc_grace_seconds = 1", true);
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true }));
    assert_eq!(p["state"], "done", "{p}");
    c.run("cluster_e2e.py", &["read", "0", "ALL", "ks.t", "0", "100"]);
}

#[test]
fn only_purge_repaired_tombstones_prevents_the_resurrection() {
    let c = deleted_while_down(
        33,
        "gc_grace_seconds = 1 AND compaction = {'class': 'SizeTieredCompactionStrategy', \
         'only_purge_repaired_tombstones': 'true'}",
        true,
    );
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true }));
    assert_eq!(p["state"], "done", "{p}");
    c.run("cluster_e2e.py", &["absent", "0", "ALL", "ks.t", "0", "100"]);
    c.run("cluster_e2e.py", &["absent", "2", "ONE", "ks.t", "0", "100"]);

    // Once an incremental repair has marked them repaired, compaction purges them everywhere.
    let p = c.repair(0, json!({ "keyspace": "ks" }));
    assert_eq!(p["state"], "done", "{p}");
    for n in &c.nodes {
        n.admin_post("/v1/compact?keyspace=ks", "");
        let s: serde_json::Value =
            serde_json::from_str(&n.admin_get("/v1/tablestats?keyspace=ks&table=t")).unwrap();
        assert_eq!(
            s["keyspaces"][0]["tables"][0]["tombstones"], 0,
            "{} purged its repaired tombstones: {s}",
            n.host
        );
    }
    c.run("cluster_e2e.py", &["absent", "0", "ALL", "ks.t", "0", "100"]);
}
